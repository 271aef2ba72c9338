"""Terraform written as HCL (a directory of ``.tf``/``.tf.json`` files) -> a latsim scenario.

``latsim import terraform DIR`` reads the configuration itself, without ``terraform init``, a
provider, AWS credentials or the network. The HCL is evaluated by ``tfparse`` (Cloud Custodian's
offline evaluator, built on Aqua Security's Terraform scanner; ``pip install 'latsim[terraform]'``):
variables with defaults, ``terraform.tfvars``, ``*.auto.tfvars`` (and ``.json``), ``-var-file`` and
``-var`` in Terraform's order, locals, ``count``/``for_each`` (``count.index``, ``each.key``,
``each.value``), ``dynamic`` blocks (those inside nested blocks are rewritten as ``for``
expressions by ``hcl_dynamic``, which the evaluator does not expand), the built-in functions (``jsonencode``, ``merge``, ``lookup``,
``format``, ``cidrsubnet``, ``toset``, ``concat``, ...), references between resources, and modules
from local ``source`` paths and from ``.terraform/modules/modules.json`` after ``terraform init``.

The evaluated resources are put in the shape of ``terraform show -json`` state and mapped by the
same code as a state or a plan (``terraform.py``); every object keeps its ``file:line``.

What Terraform would ask AWS for is answered offline where latsim can know it, and said so:
``data.aws_caller_identity`` (the account: ``--param AWS::AccountId``, else the provider's
``assume_role`` account, else 111111111111), ``aws_region``, ``aws_partition``,
``aws_availability_zones`` (the region's a, b, c), ``aws_ec2_managed_prefix_list`` of Lattice, and
``aws_iam_policy_document`` (rendered to the policy JSON). ``--param data.TYPE.NAME.ATTR=VALUE``
gives (or overrides) any data source's answer. Any other data source's answer is unknown: each
resource that uses one gets a located warning naming it, and an identifier that comes from it
becomes a named placeholder (a VPC named after the data source, for example) that an overlay
fills in. So does a root variable without a value (what ``terraform plan`` would ask for).

The input is copied (only Terraform's own files) into a scratch directory that is removed
afterwards, so the answers can be added without touching the user's files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from latsim.errors import Location, Problem, ScenarioError, UsageError
from latsim.importers.common import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, ImportResult, arn_account

TF_SUFFIXES = (".tf", ".tf.json")
VAR_SUFFIXES = (".tfvars", ".tfvars.json")
MAX_DIRS = 200
MAX_FILE_BYTES = 5_000_000
ANSWERS_FILE = "zz_latsim_answers.tf"
CLI_VARS_FILE = "zz_latsim_cli.tfvars"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SKIP = {"locals", "module", "output", "provider", "variable", "terraform"}
ANSWERED = ("aws_caller_identity", "aws_region", "aws_partition", "aws_availability_zones",
            "aws_ec2_managed_prefix_list", "aws_iam_policy_document")
"""Data sources whose answer latsim gives offline; every other data source is unknown."""


def is_terraform_dir(path: str | Path) -> bool:
    """A directory holding ``.tf``/``.tf.json`` files, or one such file (its directory is read)."""
    p = Path(path)
    if p.is_dir():
        return any(f.name.endswith(TF_SUFFIXES) for f in p.iterdir() if f.is_file())
    return p.name.endswith(TF_SUFFIXES)


# --- copying the configuration ------------------------------------------------------------------

_SOURCE = re.compile(r'\bsource\s*[=:]\s*"((?:\.\.?/|\.\.?$)[^"]*)"')


def _module_dirs(root: Path, problems: list[Problem]) -> list[Path]:
    """The root and every directory a local ``source`` or ``modules.json`` leads to."""
    seen: list[Path] = []
    todo = [root.resolve()]
    manifest = root / ".terraform" / "modules" / "modules.json"
    if manifest.is_file():
        try:
            mods = json.loads(manifest.read_text(encoding="utf-8")).get("Modules", [])
            for m in mods if isinstance(mods, list) else []:
                if isinstance(m, dict) and isinstance(m.get("Dir"), str):
                    d = (root / m["Dir"]).resolve()
                    if d.is_dir():
                        todo.append(d)
        except (OSError, ValueError, AttributeError):
            problems.append(Problem("not a valid modules.json (from terraform init); modules from a registry "
                                    "are not read", Location(str(manifest)), severity="warning",
                                    code="terraform-modules"))
    while todo:
        d = todo.pop(0)
        if d in seen:
            continue
        if len(seen) >= MAX_DIRS:
            problems.append(Problem(f"more than {MAX_DIRS} module directories; the rest are not read",
                                    Location(str(d)), severity="warning", code="terraform-modules"))
            break
        seen.append(d)
        for f in sorted(d.iterdir()):
            if f.is_file() and f.name.endswith(TF_SUFFIXES) and f.stat().st_size <= MAX_FILE_BYTES:
                try:
                    text = f.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                for m in _SOURCE.finditer(text):
                    target = (d / m.group(1)).resolve()
                    if target.is_dir():
                        todo.append(target)
    return seen


def _copy(dirs: list[Path], scratch: Path) -> tuple[Path, Path]:
    """Copy Terraform's files of ``dirs`` under ``scratch`` keeping their layout; -> (base, new root)."""
    base = Path(os.path.commonpath([str(d) for d in dirs]))
    for d in dirs:
        dest = scratch / d.relative_to(base)
        dest.mkdir(parents=True, exist_ok=True)
        for f in d.iterdir():
            if f.is_file() and f.name.endswith(TF_SUFFIXES + VAR_SUFFIXES) and f.stat().st_size <= MAX_FILE_BYTES \
                    and f.name not in (ANSWERS_FILE, CLI_VARS_FILE):
                shutil.copyfile(f, dest / f.name)
                if f.name.endswith(".tf"):
                    _rename_ids(dest / f.name)
        manifest = d / ".terraform" / "modules" / "modules.json"
        if manifest.is_file():
            (dest / ".terraform" / "modules").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(manifest, dest / ".terraform" / "modules" / "modules.json")
    return base, scratch / dirs[0].relative_to(base)


_ID_ATTR = re.compile(r"(?m)^(\s+)id(\s*=)(?!=)")
ID_ALIAS = "latsim_id"


def _rename_ids(f: Path) -> None:
    """The evaluator writes its own ``id`` over a block's ``id = …`` (a target's, a data source's):
    in the scratch copy the attribute is renamed, and renamed back when the values are read. Nested
    ``dynamic`` blocks, which it does not expand, become ``for`` expressions (``hcl_dynamic``)."""
    from latsim.importers.hcl_dynamic import rewrite_nested_dynamics
    text = f.read_text(encoding="utf-8", errors="replace")
    new = _ID_ATTR.sub(rf"\1{ID_ALIAS}\2", rewrite_nested_dynamics(text)[0])
    if new != text:
        f.write_text(new, encoding="utf-8")


# --- running the evaluator --------------------------------------------------------------------------

_DIAG = re.compile(r"(?P<file>[^\s:][^:]*?):(?P<line>\d+),(?P<col>\d+)(?:-\d+(?:,\d+)?)?: (?P<msg>.*)")


def _evaluate(root: Path, var_files: list[str], strict: bool) -> dict[str, Any]:
    try:
        import tfparse
    except ImportError as exc:  # the optional extra latsim[terraform]
        raise UsageError(f"reading Terraform HCL needs tfparse: pip install 'latsim[terraform]' ({exc})") from None
    result: dict[str, Any] = tfparse.load_from_path(str(root), stop_on_hcl_error=strict, vars_paths=var_files)
    return result


def _syntax_problems(root: Path, orig: Path, var_files: list[str], base: Path, orig_base: Path,
                     renamed: Mapping[str, str]) -> list[Problem]:
    """Every file's first HCL error, located in the user's file (tfparse stops at the first);
    ``renamed``: scratch file name in ``root`` -> what the user calls it (``--var-file F``, ``--var``)."""
    import tfparse
    problems: list[Problem] = []
    try:
        _evaluate(root, var_files, strict=True)
        return problems
    except tfparse.ParseError as exc:
        first = str(exc)
    files = sorted(f for f in root.rglob("*") if f.is_file() and (f.name.endswith(TF_SUFFIXES) or
                                                                   (f.parent == root and f.name in var_files)))
    for f in files:
        with tempfile.TemporaryDirectory(prefix="latsim-hcl-") as one:
            is_vars = f.name.endswith(VAR_SUFFIXES)
            target = Path(one) / (("vars" + (".tfvars.json" if f.name.endswith(".json") else ".tfvars"))
                                  if is_vars else f.name)
            shutil.copyfile(f, target)
            if is_vars:
                (Path(one) / "main.tf").write_text("", encoding="utf-8")
            try:
                _evaluate(Path(one), [target.name] if is_vars else [], strict=True)
            except tfparse.ParseError as exc:
                shown = renamed.get(f.name) if f.parent == root else None
                orig_file = shown or str(orig_base / f.relative_to(base))
                problems.append(_diag(str(exc), orig_file))
    if not problems:
        problems.append(_diag(first, None, orig))
    return problems


def _diag(message: str, file: str | None, root: Path | None = None) -> Problem:
    text = message.removeprefix("unable to create TerraformConverter: ")
    text = re.sub(r", and \d+ other diagnostic\(s\)$", "", text)
    m = _DIAG.search(text)
    if m is None:
        return Problem(f"Terraform: {text}", Location(file or (str(root) if root else None)), code="syntax")
    where = file or str((root or Path(".")) / m.group("file"))
    msg = m.group("msg").strip().rstrip(".")
    if where == "--var":  # the generated file holds one --var per line
        return Problem(msg, Location(None, None, None, f"--var #{m.group('line')}"),
                       allowed="NAME=VALUE; a list or map as an HCL expression, e.g. 'x={a = 1}'", code="syntax")
    return Problem(msg, Location(where, int(m.group("line")), int(m.group("col"))), code="syntax")


# --- offline answers of data sources --------------------------------------------------------------

def _meta(item: Mapping[str, Any]) -> dict[str, Any]:
    m = item.get("__tfmeta")
    return m if isinstance(m, dict) else {}


def _hcl(value: Any) -> str:
    """A JSON-compatible value written as an HCL expression."""
    return json.dumps(value)


def _region(raw: dict[str, Any], params: Mapping[str, str]) -> str:
    if params.get("AWS::Region"):
        return params["AWS::Region"]
    for p in raw.get("provider", []) or []:
        if isinstance(p, dict) and not p.get("alias") and isinstance(p.get("region"), str) and p["region"]:
            return str(p["region"])
    return DEFAULT_REGION


def _provider_accounts(raw: dict[str, Any], params: Mapping[str, str]) -> dict[str, str]:
    """provider alias ('' = the default) -> account (assume_role's, allowed_account_ids', else the default)."""
    default = params.get("AWS::AccountId") or DEFAULT_ACCOUNT_ID
    out: dict[str, str] = {}
    for p in raw.get("provider", []) or []:
        if not isinstance(p, dict) or _meta(p).get("label") not in (None, "aws"):
            continue
        alias = str(p.get("alias") or "")
        acct = None
        role = p.get("assume_role")
        for r in role if isinstance(role, list) else [role]:
            if isinstance(r, dict):
                acct = acct or arn_account(r.get("role_arn"))
        allowed = p.get("allowed_account_ids")
        if acct is None and isinstance(allowed, list) and allowed and re.fullmatch(r"\d{12}", str(allowed[0])):
            acct = str(allowed[0])
        out[alias] = params.get(f"{alias}/AWS::AccountId") or acct or default
    out.setdefault("", default)
    return out


def _provider_alias(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("__attribute__"), str):
        text = value["__attribute__"]
    elif isinstance(value, str):
        text = value
    else:
        return None
    head, _, alias = text.partition(".")
    return alias if head == "aws" else None


def _is_lattice_pl(item: Mapping[str, Any]) -> bool:
    from latsim.importers.common import is_lattice_prefix_list
    names: list[Any] = [item.get("name")]
    filters = item.get("filter")
    for f in filters if isinstance(filters, list) else [filters]:
        if isinstance(f, dict) and f.get("name") == "prefix-list-name" and isinstance(f.get("values"), list):
            names += f["values"]
    return any(isinstance(n, str) and is_lattice_prefix_list(n) for n in names)


def policy_document(item: Mapping[str, Any]) -> dict[str, Any]:
    """An ``aws_iam_policy_document`` data block (as evaluated) -> the policy JSON it renders."""
    def one(v: Any) -> Any:
        vals = [x for x in (v if isinstance(v, list) else [v]) if x is not None]
        return vals[0] if len(vals) == 1 else vals

    def blocks(v: Any) -> list[dict[str, Any]]:
        return [x for x in (v if isinstance(v, list) else [v]) if isinstance(x, dict)]

    def principals(v: Any) -> Any:
        out: dict[str, Any] = {}
        for p in blocks(v):
            typ, ids = str(p.get("type") or "AWS"), p.get("identifiers")
            if typ == "*" and ids in (["*"], "*"):
                return "*"
            prev = out.get(typ, [])
            out[typ] = one((prev if isinstance(prev, list) else [prev]) +
                           (ids if isinstance(ids, list) else [ids]))
        return out

    statements = []
    for st in blocks(item.get("statement")):
        out: dict[str, Any] = {}
        if st.get("sid"):
            out["Sid"] = st["sid"]
        out["Effect"] = st.get("effect") or "Allow"
        for key, name in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
            if st.get(key) is not None:
                out[name] = principals(st[key])
        for key, name in (("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource"),
                          ("not_resources", "NotResource")):
            if st.get(key) is not None:
                out[name] = one(st[key])
        cond: dict[str, dict[str, Any]] = {}
        for c in blocks(st.get("condition")):
            if isinstance(c.get("test"), str) and isinstance(c.get("variable"), str):
                cond.setdefault(c["test"], {})[c["variable"]] = one(c.get("values"))
        if cond:
            out["Condition"] = cond
        statements.append(out)
    doc: dict[str, Any] = {"Version": item.get("version") or "2012-10-17", "Statement": statements}
    return doc


def _answers(raw: dict[str, Any], params: Mapping[str, str], region: str, accounts: dict[str, str],
             with_policies: bool, blank: list[tuple[str, int, int]]) -> dict[str, list[str]]:
    """-> relative directory -> HCL blocks that give the data sources latsim can answer; the
    declarations they replace are appended to ``blank`` (file, first line, last line)."""
    out: dict[str, list[str]] = {}
    zones = ["a", "b", "c"]
    from latsim.importers.common import az_id
    given = _data_params(params)
    for typ in sorted(raw):
        if (typ == "aws_iam_policy_document") != with_policies or not isinstance(raw[typ], list):
            continue
        seen: set[tuple[str, str]] = set()
        for item in raw.get(typ, []) or []:
            if not isinstance(item, dict):
                continue
            meta = _meta(item)
            if meta.get("type") != "data" or str(meta.get("filename", "")).endswith(ANSWERS_FILE):
                continue
            path = str(meta.get("path", ""))
            extra = given.get(path) or given.get("data." + path.rsplit("data.", 1)[-1]) or {}
            if typ not in ANSWERED and not extra:
                continue
            name = str(meta.get("path", "")).rsplit(".", 1)[-1].split("[", 1)[0]
            fname = str(meta.get("filename", ""))
            folder = os.path.dirname(fname)
            if (folder, name) in seen or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name) \
                    or "[" in str(meta.get("path", "")).rsplit("data.", 1)[-1] or not fname.endswith(".tf") \
                    or not isinstance(meta.get("line_start"), int) or not isinstance(meta.get("line_end"), int):
                continue  # count/for_each data sources and JSON files keep the evaluator's view
            seen.add((folder, name))
            acct = accounts.get(_provider_alias(item.get("provider")) or "", accounts[""])
            attrs: dict[str, Any]
            if typ == "aws_caller_identity":
                attrs = {"account_id": acct, "arn": f"arn:aws:iam::{acct}:root", "user_id": acct}
            elif typ == "aws_region":
                attrs = {"name": region, "region": region, "endpoint": f"ec2.{region}.amazonaws.com",
                         "description": region}
            elif typ == "aws_partition":
                attrs = {"partition": "aws", "dns_suffix": "amazonaws.com", "reverse_dns_prefix": "com.amazonaws"}
            elif typ == "aws_availability_zones":
                names = [f"{region}{z}" for z in zones]
                attrs = {"names": names, "zone_ids": [az_id(n) for n in names]}
            elif typ == "aws_ec2_managed_prefix_list" and _is_lattice_pl(item):
                pl = f"com.amazonaws.{region}.vpc-lattice"
                attrs = {"name": pl, "arn": f"arn:aws:ec2:{region}:aws:prefix-list/{pl}"}
            elif typ != "aws_iam_policy_document":
                attrs = {}
            else:
                docs = {json.dumps(policy_document(i), sort_keys=True)
                        for i in raw.get(typ, []) if isinstance(i, dict) and _meta(i).get("path") == meta.get("path")}
                if len(docs) != 1:
                    continue  # differs between the instances of a module: resolved per instance instead
                rendered = json.dumps(policy_document(item))
                attrs = {"json": rendered, "minified_json": rendered}
            attrs.update(extra)
            if not attrs:
                continue
            body = "\n".join(f"  {ID_ALIAS if k == 'id' else k} = {_hcl(v)}" for k, v in attrs.items())
            alias = _provider_alias(item.get("provider"))
            if alias:  # the answer stays with its provider (its account)
                body += f"\n  provider = aws.{alias}"
            out.setdefault(folder, []).append(f'data "{typ}" "{name}" {{\n{body}\n}}\n')
            blank.append((fname, meta["line_start"], meta["line_end"]))
    return out


def _data_params(params: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """``--param data.TYPE.NAME.ATTR=VALUE`` -> {"data.TYPE.NAME": {ATTR: VALUE}} (a JSON list or map
    is read as one)."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        m = re.fullmatch(r"((?:module\.[^.]+\.)*data\.[A-Za-z0-9_]+\.[A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)", key)
        if not m:
            continue
        parsed: Any = value
        if value[:1] in "[{":
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = value
        out.setdefault(m.group(1), {})[m.group(2)] = parsed
    return out


def _write_answers(root: Path, answers: dict[str, list[str]], blank: list[tuple[str, int, int]]) -> None:
    """Replace the declared data blocks by their answers (in the scratch copy: the declaration's
    lines are blanked, so every other line keeps its number, and the answer goes to a file of its own)."""
    for fname, start, end in blank:
        f = root / fname
        lines = f.read_text(encoding="utf-8", errors="replace").split("\n")
        for i in range(start - 1, min(end, len(lines))):
            lines[i] = ""
        f.write_text("\n".join(lines), encoding="utf-8")
    for folder, blocks in answers.items():
        target = root / folder / ANSWERS_FILE
        old = target.read_text(encoding="utf-8") if target.is_file() else \
            "# written by latsim: answers Terraform would read from AWS\n"
        target.write_text(old + "".join(blocks), encoding="utf-8")


# --- into the shape of a state ------------------------------------------------------------------------

class _Converter:
    """tfparse's output -> ``terraform show -json`` state values, with deterministic identifiers."""

    def __init__(self, raw: dict[str, Any], orig_root: Path, accounts: dict[str, str],
                 module_providers: dict[str, str]) -> None:
        self.raw = raw
        self.orig_root = orig_root
        self.accounts = accounts
        self.module_providers = module_providers
        self.tokens: dict[str, str] = {}      # evaluator uuid -> tf:<address>
        self.policies: dict[str, str] = {}    # uuid of a policy document -> its JSON
        self.unknown: dict[str, str] = {}     # uuid of an unanswered data source -> its address
        self.locs: dict[str, Location] = {}
        self.account_of: dict[str, str] = {}
        self.items: dict[str, tuple[str, dict[str, Any]]] = {}
        self.unset_vars: dict[str, list[str]] = {}

    def run(self) -> dict[str, Any]:
        for typ, items in sorted(self.raw.items()):
            if typ in _SKIP or not isinstance(items, list):
                continue
            for item in items:
                if not isinstance(item, dict):
                    continue
                meta = _meta(item)
                address = meta.get("path")
                if not isinstance(address, str) or meta.get("type") not in ("resource", "data"):
                    continue
                uid = item.get("id")
                if isinstance(uid, str) and _UUID.match(uid):
                    self.tokens[uid] = f"tf:{address}"
                    if typ == "aws_iam_policy_document":
                        self.policies[uid] = json.dumps(policy_document(item))
                    elif meta.get("type") == "data" and typ not in ANSWERED \
                            and not str(meta.get("filename", "")).endswith(ANSWERS_FILE):
                        self.unknown[uid] = address
                fname = str(meta.get("filename", ""))
                if address in self.items:
                    self.items[address][1].update({k: v for k, v in item.items() if v is not None})
                    continue
                self.items[address] = (typ, dict(item))
                line = meta.get("line_start")
                self.locs[address] = Location(str(self.orig_root / fname) if fname else str(self.orig_root),
                                              line if isinstance(line, int) else None, None, address)
        resources = []
        for address, (typ, item) in self.items.items():
            meta = _meta(item)
            mode = "data" if meta.get("type") == "data" else "managed"
            from latsim.importers.terraform import split_resource_address
            _, _, _, name, index = split_resource_address(address)
            self._refs = [r for r in meta.get("references", []) or [] if isinstance(r, dict)]
            self._current = address
            values = {("id" if k == ID_ALIAS else k): self._clean(v, k) for k, v in item.items()
                      if k not in ("__tfmeta", "id", "count", "for_each", "provider", "depends_on", "lifecycle")}
            resources.append({"address": address, "mode": mode, "type": typ, "name": name,
                              **({"index": index} if index is not None and not isinstance(index, tuple) else {}),
                              "values": values})
            self.account_of[address] = self._account(address, item)
        return {"format_version": "1.0", "values": {"root_module": {"resources": resources}}}

    def _account(self, address: str, item: dict[str, Any]) -> str:
        alias = _provider_alias(item.get("provider"))
        if alias is None:
            # a module's resources use the provider its call passes (providers = { aws = aws.x })
            mods = re.findall(r'module\.([A-Za-z0-9_-]+)', address)
            for i in range(len(mods), 0, -1):
                key = ".".join(mods[:i])
                if key in self.module_providers:
                    alias = self.module_providers[key]
                    break
        return self.accounts.get(alias or "", self.accounts[""])

    def _clean(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict) and isinstance(value.get("__attribute__"), str):
            return self._attribute_ref(value["__attribute__"])
        if isinstance(value, dict):
            inner = {("id" if k == ID_ALIAS else k): self._clean(v, k) for k, v in value.items()
                     if k not in ("__tfmeta",) and not (k == "id" and isinstance(v, str) and _UUID.match(v))}
            return [inner] if "__tfmeta" in value else inner
        if isinstance(value, list):
            out: list[Any] = []
            for v in value:
                c = self._clean(v, key)
                # a block written several times is a list of blocks, each already wrapped as [block]
                out.extend(c if isinstance(v, dict) and "__tfmeta" in v else [c])
            return out
        if isinstance(value, str) and _UUID.match(value):
            if value in self.policies and key in ("policy", "json"):
                return self.policies[value]
            return self.tokens.get(value, value)
        return value


    _refs: list[dict[str, Any]] = []
    _current = ""

    def unset_variable_problems(self) -> list[Problem]:
        """A variable without a value (no default, tfvars or --var) is what ``terraform plan`` would ask
        for: a warning at its declaration naming where it is used and the ``--var`` that gives it."""
        out = []
        decls = {str(_meta(v).get("label")): _meta(v) for v in self.raw.get("variable", []) or []
                 if isinstance(v, dict) and not str(_meta(v).get("path", "")).startswith("module.")}
        for name, users in sorted(self.unset_vars.items()):
            meta = decls.get(name, {})
            fname, line = meta.get("filename"), meta.get("line_start")
            loc = Location(str(self.orig_root / fname) if isinstance(fname, str) else str(self.orig_root),
                           line if isinstance(line, int) else None, None, f"variable.{name}")
            used = ", ".join(sorted(set(users))[:3]) + (" …" if len(set(users)) > 3 else "")
            out.append(Problem(f"variable {name} has no value (no default, tfvars or --var), as terraform plan would "
                               f"ask: where it is used ({used}) latsim puts the placeholder 'tf:var.{name}'",
                               loc, hint=f"pass --var {name}=VALUE", severity="warning", code="terraform-variable"))
        return out

    def _attribute_ref(self, text: str) -> str:
        """An attribute the evaluator could not compute (``aws_x.y.listener_id``): the resource it
        belongs to, found among the item's references; else a named placeholder ``tf:<address>``."""
        parts = text.split(".")
        if parts and parts[0] == "data":
            typ, name = (parts[1], parts[2]) if len(parts) > 2 else ("", "")
        else:
            typ, name = (parts[0], parts[1]) if len(parts) > 1 else ("", "")
        for r in self._refs:
            if r.get("label") == typ and str(r.get("name", "")).split("[", 1)[0] == name.split("[", 1)[0] \
                    and r.get("id") in self.tokens:
                return self.tokens[str(r["id"])]
        address = ".".join(parts[:3] if parts[:1] == ["data"] else parts[:2])
        if parts[0] == "var" and len(parts) > 1 and not self._current.startswith("module."):
            self.unset_vars.setdefault(parts[1], []).append(self._current)
        return f"tf:{address}"


_DYNAMIC = re.compile(r'^\s*dynamic\s+"([A-Za-z0-9_-]+)"\s*\{')


def _nested_dynamic_blocks(items: Mapping[str, tuple[str, dict[str, Any]]], work: Path,
                           orig_root: Path) -> list[Problem]:
    """``dynamic`` blocks inside a nested block (``action { dynamic "forward" {…} }``): the evaluator
    expands dynamic blocks only at the top of a resource, so what these generate is missing; say so."""
    out: list[Problem] = []
    seen: set[tuple[str, int]] = set()
    texts: dict[str, list[str]] = {}
    for address, (_typ, item) in items.items():
        meta = _meta(item)
        fname, start, end = meta.get("filename"), meta.get("line_start"), meta.get("line_end")
        if not (isinstance(fname, str) and isinstance(start, int) and isinstance(end, int)):
            continue
        if fname not in texts:
            try:
                texts[fname] = (work / fname).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                texts[fname] = []
        depth = 0
        for n in range(start, min(end, len(texts[fname])) + 1):
            m = _DYNAMIC.match(texts[fname][n - 1])
            line = re.sub(r'"(?:[^"\\]|\\.)*"', '""', texts[fname][n - 1]).split("#", 1)[0]
            if m and depth >= 2 and (fname, n) not in seen:
                seen.add((fname, n))
                out.append(Problem(f"dynamic block '{m.group(1)}' inside a nested block is not expanded by latsim's "
                                   f"HCL evaluator: what it generates is missing from {address.split('[')[0]} "
                                   "and its instances", Location(str(orig_root / fname), n, None, address),
                                   hint="write the block out, or add what it makes with an overlay",
                                   severity="warning", code="terraform-dynamic"))
            depth += line.count("{") - line.count("}")
    return out


def _missing_modules(raw: dict[str, Any], work: Path, orig_root: Path) -> list[Problem]:
    """Module calls whose code is not here (a registry or git source without ``terraform init``, a
    local path that does not exist): a located warning each, never a silent gap."""
    manifest = work / ".terraform" / "modules" / "modules.json"
    keys: set[str] = set()
    try:
        mods = json.loads(manifest.read_text(encoding="utf-8")).get("Modules", []) if manifest.is_file() else []
        keys = {str(m.get("Key")) for m in mods if isinstance(m, dict)}
    except (OSError, ValueError, AttributeError):
        pass
    out: list[Problem] = []
    seen: set[str] = set()
    for item in raw.get("module", []) or []:
        if not isinstance(item, dict):
            continue
        meta = _meta(item)
        source, address, fname = item.get("source"), meta.get("path"), str(meta.get("filename", ""))
        if not isinstance(source, str) or not isinstance(address, str):
            continue
        key = ".".join(re.findall(r"module\.([A-Za-z0-9_-]+)", address))
        if key in seen:
            continue
        seen.add(key)
        local = source.startswith(("./", "../")) or source in (".", "..")
        if local and (work / os.path.dirname(fname) / source).is_dir():
            continue
        if not local and key in keys:
            continue
        why = "its directory does not exist" if local else \
            "it is not downloaded (latsim reads modules that 'terraform init' recorded in .terraform/modules)"
        line = meta.get("line_start")
        out.append(Problem(f"module {key} (source {source!r}) is not read: {why}; the resources it declares are "
                           "missing", Location(str(orig_root / fname), line if isinstance(line, int) else None, None,
                                               f"module.{key}"),
                           hint="run 'terraform init' (no credentials needed for public modules), or add what it "
                                "makes with an overlay", severity="warning", code="terraform-module"))
    return out


def _module_providers(raw: dict[str, Any], root: Path) -> dict[str, str]:
    """'module path' ('a.b') -> the provider alias its call passes as ``aws`` (read from the text:
    the evaluator leaves provider references out)."""
    out: dict[str, str] = {}
    for item in raw.get("module", []) or []:
        if not isinstance(item, dict):
            continue
        meta = _meta(item)
        fname, start, end = meta.get("filename"), meta.get("line_start"), meta.get("line_end")
        address = meta.get("path")
        if not (isinstance(fname, str) and isinstance(start, int) and isinstance(end, int) and isinstance(address, str)):
            continue
        try:
            lines = (root / fname).read_text(encoding="utf-8", errors="replace").splitlines()[start - 1:end]
        except OSError:
            continue
        m = re.search(r"providers\s*=\s*\{([^}]*)\}", "\n".join(lines))
        if m:
            pm = re.search(r'"?aws"?\s*[=:]\s*"?aws\.([A-Za-z0-9_-]+)', m.group(1))
            if pm:
                key = ".".join(re.findall(r'module\.([A-Za-z0-9_-]+)', address))
                out[key] = pm.group(1)
    return out


# --- the import ----------------------------------------------------------------------------------

def _cli_vars(values: Iterable[str]) -> str:
    """``-var NAME=VALUE`` as Terraform reads it, written as a .tfvars file: a list or map is an HCL
    expression (``[..]``, ``{..}``), a number or bool stays one, anything else is a string."""
    lines: list[str] = []
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
            raise UsageError(f"--var {v!r}: expected NAME=VALUE")
        if "\n" in val:
            raise UsageError(f"--var {key}: the value must be on one line")
        raw = val.strip()
        expr = raw if raw[:1] in "[{" or re.fullmatch(r"-?\d+(\.\d+)?|true|false|null", raw) else json.dumps(val)
        lines.append(f"{key} = {expr}\n")
    return "".join(lines)


def import_terraform_hcl(path: str | Path, *, variables: Iterable[str] = (), var_files: Iterable[str] = (),
                         params: Mapping[str, str] | None = None) -> ImportResult:
    """Import a Terraform configuration written in HCL (a directory, or a file of it).

    ``variables``: ``NAME=VALUE`` as ``terraform -var``; ``var_files``: as ``-var-file``;
    ``params``: ``AWS::AccountId``, ``AWS::Region`` (and ``ALIAS/AWS::AccountId`` for a provider alias).
    """
    from latsim.importers.terraform import import_terraform_doc
    params = dict(params or {})
    p = Path(path)
    root = p if p.is_dir() else p.parent
    if not root.is_dir():
        raise ScenarioError([Problem("no such directory", Location(str(path)), code="io")])
    tf_files = sorted(f.name for f in root.iterdir() if f.is_file() and f.name.endswith(TF_SUFFIXES))
    if not tf_files:
        raise ScenarioError([Problem("no Terraform files (.tf, .tf.json) here", Location(str(root)),
                                     hint="give the root module's directory, or 'terraform show -json' output",
                                     code="terraform-shape")])
    problems: list[Problem] = []
    cli = _cli_vars(variables)
    user_var_files = [Path(f) for f in var_files]
    for f in user_var_files:
        if not f.is_file():
            raise UsageError(f"--var-file {f}: no such file")
    dirs = _module_dirs(root, problems)
    with tempfile.TemporaryDirectory(prefix="latsim-tf-") as scratch:
        base, work = _copy(dirs, Path(scratch))
        # Terraform's order: terraform.tfvars, *.auto.tfvars (by name), then -var-file and -var in order
        auto = [n for n in ("terraform.tfvars", "terraform.tfvars.json") if (work / n).is_file()]
        auto += sorted(f.name for f in work.iterdir() if f.name.endswith((".auto.tfvars", ".auto.tfvars.json")))
        files = list(auto)
        renamed: dict[str, str] = {}
        for i, f in enumerate(user_var_files):
            name = f"zz_latsim_var_file_{i}" + (".tfvars.json" if f.name.endswith(".json") else ".tfvars")
            shutil.copyfile(f, work / name)
            files.append(name)
            renamed[name] = str(f)
        if cli:
            (work / CLI_VARS_FILE).write_text(cli, encoding="utf-8")
            files.append(CLI_VARS_FILE)
            renamed[CLI_VARS_FILE] = "--var"
        syntax = _syntax_problems(work, root, files, Path(scratch), base, renamed)
        if syntax:
            raise ScenarioError(problems + syntax)
        raw = _evaluate(work, files, strict=False)
        region = _region(raw, params)
        accounts = _provider_accounts(raw, params)
        # two rounds of answers: the plain data sources first, then the policy documents that use them
        data_locs = {str(_meta(i).get("path")): Location(str(root.resolve() / str(_meta(i).get("filename", ""))),
                                                            _meta(i).get("line_start"), None, str(_meta(i).get("path")))
                     for items in raw.values() if isinstance(items, list) for i in items
                     if isinstance(i, dict) and _meta(i).get("type") == "data"}
        for with_policies in (False, True):
            blank: list[tuple[str, int, int]] = []
            answers = _answers(raw, params, region, accounts, with_policies, blank)
            if not answers:
                continue
            _write_answers(work, answers, blank)
            raw = _evaluate(work, files, strict=False)
        problems += [Problem(p.message, _user_loc(p.location, root), hint=p.hint, severity=p.severity, code=p.code)
                     for p in _missing_modules(raw, work, root.resolve())]
        conv = _Converter(raw, root.resolve(), accounts, _module_providers(raw, work))
        doc = conv.run()
        conv.locs.update({a: loc for a, loc in data_locs.items() if a in conv.locs})  # not the answers file
        problems += [Problem(p.message, _user_loc(p.location, root), hint=p.hint, severity=p.severity, code=p.code)
                     for p in _nested_dynamic_blocks(conv.items, work, root.resolve()) +
                     conv.unset_variable_problems()]
    locs = {a: _user_loc(loc, root) for a, loc in conv.locs.items()}
    for address, (_typ, item) in conv.items.items():
        used = sorted({conv.unknown[r["id"]] for r in _meta(item).get("references", []) or []
                       if isinstance(r, dict) and r.get("id") in conv.unknown})
        for data in used:
            problems.append(Problem(f"{address} uses {data}, which Terraform reads from AWS and latsim cannot: "
                                    "the values that come from it are unknown", locs.get(address, Location()),
                                    hint=f"'{_placeholder_name(data)}' stands for it where it names an object; "
                                         f"give its answer with --param {data.split('[')[0]}.ATTRIBUTE=VALUE, "
                                         "or add that object with an overlay",
                                    severity="warning", code="data-source"))
    label = str(root) if root.name else str(root.resolve())  # '.' names no scenario
    return import_terraform_doc(doc, None, label, locations=locs, accounts=conv.account_of, region=region,
                                extra=problems, kind="configuration")


def _placeholder_name(address: str) -> str:
    from latsim.importers.common import _key_name
    return _key_name(address)


def _user_loc(loc: Location, root: Path) -> Location:
    """Show files relative to where the user pointed (as they wrote them)."""
    if loc.file is None:
        return loc
    try:
        rel = os.path.relpath(loc.file, os.getcwd())
    except ValueError:
        rel = loc.file
    return Location(rel if not rel.startswith("..") else loc.file, loc.line, loc.column, loc.path, loc.keys)


__all__ = ["import_terraform_hcl", "is_terraform_dir", "policy_document"]
