"""Terraform ``terraform show -json`` output -> a latsim scenario (``latsim import terraform``).

(A directory of ``.tf`` files is read by ``terraform_hcl``, which evaluates the HCL offline and hands
the resources to ``import_terraform_doc`` below in the shape of a state.)

Two shapes are read:

* a **state** (``terraform show -json`` after apply): ``values.root_module`` and its
  ``child_modules``, where every id and ARN is known;
* a **plan** (``terraform show -json plan.out``): ``planned_values`` holds what will exist; ids and
  ARNs not known before apply are missing there, so references between resources are resolved
  through ``configuration`` -- each attribute's ``expressions…references`` (``aws_vpc.web.id``,
  ``module.net.vpc_id``, ``var.x``, ``aws_x.this[each.key]``) -- into the resource instance they
  name. Inside ``for_each``/``count`` resources and modules a reference without an index picks the
  instance with the same key as the referring one (``aws_x.this[each.key]``), else the only one.
  Data sources read during the plan (``prior_state``) are included.

Mapped: every ``aws_vpclattice_*`` resource that shapes traffic (service network, service, listener,
listener rule, target group, target-group attachment, VPC and service associations, auth policy,
access-log subscription), ``aws_vpc`` (+ ``aws_vpc_ipv4_cidr_block_association``), ``aws_subnet``,
``aws_security_group`` (+ ``aws_security_group_rule``, ``aws_vpc_security_group_ingress_rule`` /
``egress_rule``; Terraform drops AWS's default egress rule, so egress is what is declared),
``data.aws_ec2_managed_prefix_list`` (the ``…vpc-lattice`` list becomes ``vpc-lattice``),
``aws_lambda_function``/``_alias``, ``aws_instance``, ``aws_lb``, ``aws_autoscaling_group`` with a
``vpc-lattice`` traffic source (N = desired_capacity, else min_size, instance targets),
``aws_vpc_endpoint`` of type ServiceNetwork, and ``aws_ram_resource_share`` with its
``aws_ram_principal_association``/``aws_ram_resource_association`` (-> ``shared_with``). Resource
gateways, resource configurations and their associations, and resource policies are warned about
as not simulated; so is every other resource type.

Accounts come from ARNs and ``owner_id``; resources whose account is not known yet (plan) take the
account their provider's other resources have, else the account of the provider's ``assume_role``
role, else ``111111111111``. The region is the provider's ``region``, else the one in the ARNs, else
``us-east-1``. Everything that latsim does not simulate is listed as a located warning; nothing is
executed or fetched. The import is returned unvalidated so that an overlay can complete it;
``ImportResult.scenario(overlay)`` and ``to_yaml(overlay)`` validate and point problems back at the
resource in the JSON file.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from latsim.errors import Location, Problem, ScenarioError
from latsim.importers.common import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    ImportResult,
    ScenarioBuilder,
    arn_account,
    arn_region,
    as_bool,
    as_int,
    as_list,
    is_lattice_prefix_list,
    lambda_function_name,
    seconds,
    strings,
)

Keys = tuple[str | int, ...]

NOT_SIMULATED = {
    "aws_vpclattice_resource_policy": "resource policies are not simulated",
    "aws_vpclattice_resource_gateway": "resource gateways (VPC resources) are not simulated",
    "aws_vpclattice_resource_configuration": "resource configurations (VPC resources) are not simulated",
    "aws_vpclattice_service_network_resource_association": "resource associations (VPC resources) are not simulated",
    "aws_vpclattice_domain_verification": "domain verification is not simulated",
    "aws_ram_sharing_with_organization": "organization-wide RAM sharing is assumed enabled",
}


# --- reading ------------------------------------------------------------------------------------

class TextIndex:
    """Line/column of things in the JSON text, found by scanning it once (``terraform show -json``
    output can be large; a positional parser would be slow): resource addresses, and keys."""

    _ADDRESS = re.compile(r'"address"\s*:\s*"((?:[^"\\]|\\.)*)"')

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines = [0]
        for m in re.finditer("\n", text):
            self._lines.append(m.end())
        self.addresses: dict[str, tuple[int, int]] = {}
        for m in self._ADDRESS.finditer(text):
            try:
                address = json.loads(f'"{m.group(1)}"')
            except ValueError:
                continue
            self.addresses.setdefault(address, self.line_col(m.start()))

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._lines, offset)
        return line, offset - self._lines[line - 1] + 1

    def key(self, keys: Keys) -> tuple[int, int] | None:
        """Where the object at ``keys`` is, following its named keys up to the first list index."""
        offset, found = 0, None
        for k in keys:
            if not isinstance(k, str):
                break
            m = re.compile(re.escape(json.dumps(k)) + r"\s*:").search(self.text, offset)
            if m is None:
                break
            offset, found = m.end(), m.start()
        return self.line_col(found) if found is not None else None


def _load(path: str) -> tuple[Any, TextIndex]:
    """-> (document, text index). Not JSON: a located ScenarioError."""
    from latsim.scenario import read_text
    from latsim.source import load_json
    text = read_text(path)
    try:
        doc = load_json(text, path)
    except ScenarioError as exc:
        raise ScenarioError([dataclasses.replace(p, hint="give the output of 'terraform show -json' (state or plan)")
                             if p.code == "syntax" else p for p in exc.all_problems]) from None
    return doc, TextIndex(text)


# --- addresses and references -------------------------------------------------------------------

_SEGMENT = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)(?:\[("(?:[^"\\]|\\.)*"|\d+|[^\]]*)\])?')


def parse_address(text: str) -> list[tuple[str, Any]]:
    """'module.a["x"].aws_b.c[0].id' -> [('module', None), ('a', 'x'), ('aws_b', None), ('c', 0), ('id', None)]."""
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        m = _SEGMENT.match(text, pos)
        if not m:
            break
        raw = m.group(2)
        key: Any = None
        if raw is not None:
            if raw.startswith('"'):
                try:
                    key = json.loads(raw)
                except ValueError:
                    key = raw.strip('"')
            elif raw.isdigit():
                key = int(raw)
            else:
                key = ("expr", raw)  # e.g. each.key: resolved from the context
        out.append((m.group(1), key))
        pos = m.end()
        if pos < len(text) and text[pos] == ".":
            pos += 1
        else:
            break
    return out


def _fmt_key(key: Any) -> str:
    return f"[{json.dumps(key)}]" if isinstance(key, str) else f"[{key}]"


ModulePath = tuple[tuple[str, Any], ...]


def module_address(path: ModulePath) -> str:
    return ".".join(f"module.{n}{_fmt_key(k) if k is not None else ''}" for n, k in path)


def split_resource_address(address: str) -> tuple[ModulePath, str, str, str, Any]:
    """-> (module path, mode, type, name, index)."""
    segs = parse_address(address)
    path: list[tuple[str, Any]] = []
    i = 0
    while i + 1 < len(segs) and segs[i][0] == "module":
        path.append((segs[i + 1][0], segs[i + 1][1]))
        i += 2
    mode = "managed"
    if i < len(segs) and segs[i][0] == "data":
        mode = "data"
        i += 1
    typ = segs[i][0] if i < len(segs) else ""
    name, index = (segs[i + 1][0], segs[i + 1][1]) if i + 1 < len(segs) else ("", None)
    return tuple(path), mode, typ, name, index


# --- resource instances -------------------------------------------------------------------------

@dataclass
class Instance:
    """One resource instance (``module.x["k"].aws_y.z[0]``) with its values and configuration."""

    address: str
    module: ModulePath
    mode: str
    type: str
    name: str
    index: Any
    values: dict[str, Any]
    loc: Location
    config: dict[str, Any] | None = None
    provider_key: str = "aws"
    account: str = DEFAULT_ACCOUNT_ID

    @property
    def token(self) -> str:
        return f"tf:{self.address}"

    @property
    def label(self) -> str:
        """A readable name when the resource has none: the for_each key, else the resource name."""
        if isinstance(self.index, str):
            return self.index
        if isinstance(self.index, int):
            return f"{self.name}-{self.index}"
        if self.name in ("this", "main", "default") and self.module:
            key = self.module[-1][1]
            return str(key) if key is not None else self.module[-1][0]
        return self.name

    def v(self, *path: str | int) -> Any:
        return dig(self.values, path)


def dig(node: Any, path: Iterable[str | int]) -> Any:
    for p in path:
        if isinstance(node, dict) and isinstance(p, str):
            node = node.get(p)
        elif isinstance(node, list) and isinstance(p, int):
            node = node[p] if 0 <= p < len(node) else None
        else:
            return None
    return node


def _dig_expr(node: Any, path: Iterable[str | int]) -> Any:
    """Like ``dig`` over a configuration's ``expressions`` (nested blocks are lists of blocks;
    a block written once stands for every index)."""
    for p in path:
        if isinstance(node, dict) and isinstance(p, str):
            node = node.get(p)
        elif isinstance(node, list) and isinstance(p, int):
            node = node[p] if p < len(node) else (node[0] if node else None)
        elif isinstance(node, dict) and isinstance(p, int):
            continue
        else:
            return None
    return node


class _Reader:
    """Walks the document: instances, configuration, references."""

    def __init__(self, doc: dict[str, Any], pos: TextIndex, path: str, b: ScenarioBuilder) -> None:
        self.doc = doc
        self.pos = pos
        self.file = path
        self.b = b
        self.plan = "planned_values" in doc
        self.instances: list[Instance] = []
        self.addresses: set[str] = set()
        self.by_name: dict[tuple[str, str, str, str], dict[Any, Instance]] = {}
        self.module_keys: dict[tuple[str, str], list[Any]] = {}
        self.root_vars = {k: (v.get("value") if isinstance(v, dict) else None)
                          for k, v in (doc.get("variables") or {}).items()} if isinstance(doc.get("variables"),
                                                                                        dict) else {}

    def loc(self, keys: Keys, path: str, address: str | None = None) -> Location:
        """The location of a resource (by its address) or of a key path."""
        where = (self.pos.addresses.get(address) if address else None) or self.pos.key(keys)
        line, column = where if where is not None else (None, None)
        return Location(self.file, line, column, path)

    # -- instances ----------------------------------------------------------------------------------
    def collect(self) -> None:
        if self.plan:
            self._walk_module(dig(self.doc, ("planned_values", "root_module")), ("planned_values", "root_module"))
            prior = dig(self.doc, ("prior_state", "values", "root_module"))
            self._walk_module(prior, ("prior_state", "values", "root_module"), only_data=True)
        else:
            self._walk_module(dig(self.doc, ("values", "root_module")), ("values", "root_module"))

    def _walk_module(self, mod: Any, keys: Keys, only_data: bool = False) -> None:
        if mod is None:
            return
        if not isinstance(mod, dict):
            self.b.error("a module must be a JSON object with 'resources' and 'child_modules'",
                         self.loc(keys, ".".join(map(str, keys))), code="terraform-shape")
            return
        resources = mod.get("resources", [])
        if not isinstance(resources, list):
            self.b.error("'resources' must be a list", self.loc(keys + ("resources",), "resources"),
                         code="terraform-shape")
            resources = []
        for i, res in enumerate(resources):
            rkeys = keys + ("resources", i)
            if not isinstance(res, dict) or not isinstance(res.get("address"), str) \
                    or not isinstance(res.get("type"), str):
                address = res.get("address") if isinstance(res, dict) and isinstance(res.get("address"), str) else None
                self.b.error("a resource needs 'address', 'type' and 'values'",
                             self.loc(rkeys + ("resources",), address or f"resources[{i}]", address),
                             code="terraform-shape")
                continue
            mode = "data" if res.get("mode") == "data" else "managed"
            if only_data and mode != "data":
                continue
            if res["address"] in self.addresses:
                continue
            self.addresses.add(res["address"])
            module, _, _, name, index = split_resource_address(res["address"])
            values = res.get("values")
            if not isinstance(values, dict):
                if values is not None:
                    self.b.error("'values' must be an object",
                                 self.loc(rkeys + ("values",), res["address"], res["address"]), code="terraform-shape")
                values = {}
            rindex = res.get("index", index)
            if not isinstance(rindex, (str, int, type(None))) or isinstance(rindex, bool):
                self.b.error("'index' must be a number or a string",
                             self.loc(rkeys + ("index",), res["address"], res["address"]), code="terraform-shape")
                continue
            inst = Instance(res["address"], module, mode, res["type"], str(res.get("name") or name), rindex,
                            values, self.loc(rkeys, res["address"], res["address"]))
            self.instances.append(inst)
            key = (module_address(module), mode, inst.type, inst.name)
            self.by_name.setdefault(key, {})[inst.index] = inst
        children = mod.get("child_modules", [])
        if not isinstance(children, list):
            self.b.error("'child_modules' must be a list", self.loc(keys + ("child_modules",), "child_modules"),
                         code="terraform-shape")
            return
        for j, child in enumerate(children):
            if isinstance(child, dict) and isinstance(child.get("address"), str):
                segs = parse_address(child["address"])
                path = tuple((segs[k + 1][0], segs[k + 1][1]) for k in range(0, len(segs) - 1, 2))
                if path:
                    parent = module_address(path[:-1])
                    self.module_keys.setdefault((parent, path[-1][0]), []).append(path[-1][1])
            self._walk_module(child, keys + ("child_modules", j), only_data)

    # -- configuration -----------------------------------------------------------------------------
    def module_config(self, path: ModulePath) -> dict[str, Any] | None:
        node = dig(self.doc, ("configuration", "root_module"))
        for name, _ in path:
            node = dig(node, ("module_calls", name, "module"))
        return node if isinstance(node, dict) else None

    def attach_config(self) -> None:
        for inst in self.instances:
            mod = self.module_config(inst.module)
            if mod is None:
                continue
            want = f"{'data.' if inst.mode == 'data' else ''}{inst.type}.{inst.name}"
            for res in as_list(mod.get("resources")):
                if isinstance(res, dict) and res.get("address") == want:
                    inst.config = res
                    inst.provider_key = str(res.get("provider_config_key") or "aws")
                    break

    # -- references -----------------------------------------------------------------------------
    def ident(self, inst: Instance, *path: str | int) -> str | None:
        """The identifier an attribute holds: its value when known, else the instance its
        configuration references (as ``tf:<address>``)."""
        value = inst.v(*path)
        if isinstance(value, str) and value:
            return value
        found = self.refs(inst, path)
        return found[0] if found else None

    def idents(self, inst: Instance, *path: str | int) -> list[str]:
        value = inst.v(*path)
        if isinstance(value, list) and all(isinstance(x, str) for x in value):
            return list(value)
        return self.refs(inst, path)

    def refs(self, inst: Instance, path: Iterable[str | int]) -> list[str]:
        if inst.config is None:
            return []
        expr = _dig_expr(inst.config.get("expressions"), path)
        if not isinstance(expr, dict):
            return []
        if isinstance(expr.get("constant_value"), (str, list)):
            c = expr["constant_value"]
            return [c] if isinstance(c, str) else [x for x in c if isinstance(x, str)]
        return self.resolve(as_list(expr.get("references")), inst.module, inst.index)

    def resolve(self, refs: Iterable[Any], scope: ModulePath, ctx: Any, depth: int = 0) -> list[str]:
        """References in module ``scope`` -> identifiers (``tf:<address>`` or literal values)."""
        out: list[str] = []
        if depth > 16:
            return out
        for ref in refs:
            if not isinstance(ref, str):
                continue
            for found in self._resolve_one(ref, scope, ctx, depth):
                if found not in out:
                    out.append(found)
        # 'aws_x.a.id' and 'aws_x.a' both name the same instance; keep each once
        return out

    def _resolve_one(self, ref: str, scope: ModulePath, ctx: Any, depth: int) -> list[str]:
        segs = parse_address(ref)
        if not segs:
            return []
        head = segs[0][0]
        if head in ("each", "count", "local", "path", "terraform", "self"):
            return []
        if head == "var" and len(segs) >= 2:
            return self._var(segs[1][0], scope, depth)
        if head == "module" and len(segs) >= 3:
            child, key = segs[1]
            keys = self.module_keys.get((module_address(scope), child), [None])
            pick = self._pick(keys, key, ctx)
            if pick is _AMBIGUOUS:
                return []
            inner = scope + ((child, pick),)
            mod = self.module_config(inner)
            expr = dig(mod, ("outputs", segs[2][0], "expression")) if mod else None
            if not isinstance(expr, dict):
                return []
            if isinstance(expr.get("constant_value"), str):
                return [expr["constant_value"]]
            return self.resolve(as_list(expr.get("references")), inner, pick, depth + 1)
        mode = "managed"
        if head == "data":
            mode, segs = "data", segs[1:]
        if len(segs) < 2:
            return []
        typ, (name, key) = segs[0][0], segs[1]
        table = self.by_name.get((module_address(scope), mode, typ, name))
        if not table:
            return []
        pick = self._pick(list(table), key, ctx)
        if pick is _AMBIGUOUS or pick not in table:
            return []
        return [table[pick].token]

    def _pick(self, keys: list[Any], key: Any, ctx: Any) -> Any:
        if key is not None and not isinstance(key, tuple):
            return key
        if ctx is not None and ctx in keys:
            return ctx
        if len(keys) == 1:
            return keys[0]
        return _AMBIGUOUS

    def _var(self, name: str, scope: ModulePath, depth: int) -> list[str]:
        if not scope:
            value = self.root_vars.get(name)
            if isinstance(value, str):
                return [value]
            if isinstance(value, list):
                return [x for x in value if isinstance(x, str)]
            return []
        parent = scope[:-1]
        call = dig(self.module_config(parent), ("module_calls", scope[-1][0]))
        expr = dig(call, ("expressions", name))
        if not isinstance(expr, dict):
            return []
        c = expr.get("constant_value")
        if isinstance(c, str):
            return [c]
        if isinstance(c, list):
            return [x for x in c if isinstance(x, str)]
        return self.resolve(as_list(expr.get("references")), parent, scope[-1][1], depth + 1)

    # -- accounts and region ------------------------------------------------------------------------
    def provider_expr(self, key: str, *path: str | int) -> Any:
        cfg = dig(self.doc, ("configuration", "provider_config"))
        if not isinstance(cfg, dict):
            return None
        node = cfg.get(key) or cfg.get(key.rsplit(":", 1)[-1])
        return _dig_expr(dig(node, ("expressions",)), path)

    def region(self) -> str:
        r = self.provider_expr("aws", "region")
        if isinstance(r, dict) and isinstance(r.get("constant_value"), str):
            return r["constant_value"]
        regions = Counter(arn_region(i.values.get("arn")) for i in self.instances if arn_region(i.values.get("arn")))
        for reg, _ in regions.most_common(1):
            if reg:
                return reg
        return DEFAULT_REGION

    def assign_accounts(self) -> None:
        by_provider: dict[str, Counter[str]] = {}
        for inst in self.instances:
            acct = _own_account(inst)
            if acct:
                by_provider.setdefault(inst.provider_key, Counter())[acct] += 1
        for inst in self.instances:
            acct = _own_account(inst)
            if acct is None:
                counts = by_provider.get(inst.provider_key)
                acct = counts.most_common(1)[0][0] if counts else self._provider_account(inst.provider_key)
            inst.account = acct

    def _provider_account(self, key: str) -> str:
        role = self.provider_expr(key, "assume_role", 0, "role_arn")
        if isinstance(role, dict) and arn_account(role.get("constant_value")):
            return str(arn_account(role["constant_value"]))
        allowed = self.provider_expr(key, "allowed_account_ids")
        if isinstance(allowed, dict) and isinstance(allowed.get("constant_value"), list) and allowed["constant_value"]:
            first = str(allowed["constant_value"][0])
            if re.fullmatch(r"\d{12}", first):
                return first
        return DEFAULT_ACCOUNT_ID


class _Ambiguous:
    pass


_AMBIGUOUS: Any = _Ambiguous()


def _own_account(inst: Instance) -> str | None:
    for key in ("arn", "owner_id", "account_id"):
        value = inst.values.get(key)
        if key == "arn":
            acct = arn_account(value)
            if acct:
                return acct
        elif isinstance(value, str) and re.fullmatch(r"\d{12}", value):
            return value
    return None


# --- mapping ----------------------------------------------------------------------------------------

def _first(value: Any) -> dict[str, Any]:
    """A nested block (a list of one object in Terraform's JSON) -> the object, or {}."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _tags(inst: Instance) -> dict[str, str]:
    tags = inst.values.get("tags")
    return {str(k): str(v) for k, v in tags.items() if isinstance(v, (str, int, float))} if isinstance(tags, dict) \
        else {}


def _action(r: _Reader, inst: Instance, path: tuple[str | int, ...]) -> dict[str, Any]:
    block = _first(inst.v(*path))
    fixed = _first(block.get("fixed_response"))
    if fixed and as_int(fixed.get("status_code")) is not None:
        return {"fixed_response": as_int(fixed["status_code"])}
    forward = _first(block.get("forward"))
    groups = forward.get("target_groups")
    out = []
    if isinstance(groups, list):
        for i, g in enumerate(groups):
            ident = r.ident(inst, *path, 0, "forward", 0, "target_groups", i, "target_group_identifier")
            weight = as_int(g.get("weight")) if isinstance(g, dict) else None
            out.append((ident, weight))
    elif inst.config is not None:  # the whole block is unknown: count the configured entries
        cfg = _dig_expr(inst.config.get("expressions"), (*path, 0, "forward", 0, "target_groups"))
        for i, g in enumerate(cfg if isinstance(cfg, list) else []):
            ident = r.ident(inst, *path, 0, "forward", 0, "target_groups", i, "target_group_identifier")
            w = dig(g, ("weight", "constant_value"))
            out.append((ident, as_int(w)))
    return {"forward": out} if out else {}


def _match(inst: Instance) -> dict[str, Any]:
    hm = _first(_first(inst.v("match")).get("http_match"))
    out: dict[str, Any] = {}
    if _str(hm.get("method")):
        out["method"] = hm["method"]
    pm = _first(hm.get("path_match"))
    m = _first(pm.get("match"))
    path = {k: m[k] for k in ("exact", "prefix") if _str(m.get(k))}
    if path:
        if as_bool(pm.get("case_sensitive")) is not None:
            path["case_sensitive"] = as_bool(pm["case_sensitive"])
        out["path"] = path
    headers = []
    for h in as_list(hm.get("header_matches")):
        if not isinstance(h, dict) or not _str(h.get("name")):
            continue
        hmatch = _first(h.get("match"))
        item: dict[str, Any] = {"name": h["name"]}
        for k in ("exact", "prefix", "contains"):
            if _str(hmatch.get(k)):
                item[k] = hmatch[k]
        if as_bool(h.get("case_sensitive")) is not None:
            item["case_sensitive"] = as_bool(h["case_sensitive"])
        headers.append(item)
    if headers:
        out["headers"] = headers
    return out


def _health_check(block: dict[str, Any]) -> dict[str, Any]:
    if not block:
        return {}
    matcher = _first(block.get("matcher"))
    out = {
        "enabled": as_bool(block.get("enabled")),
        "protocol": _str(block.get("protocol")),
        "protocol_version": _str(block.get("protocol_version")),
        "port": as_int(block.get("port")) or None,
        "path": _str(block.get("path")),
        "interval": seconds(block.get("health_check_interval_seconds")),
        "timeout": seconds(block.get("health_check_timeout_seconds")),
        "healthy_threshold": as_int(block.get("healthy_threshold_count")) or None,
        "unhealthy_threshold": as_int(block.get("unhealthy_threshold_count")) or None,
        "matcher": _str(matcher.get("value")),
    }
    return {k: v for k, v in out.items() if v is not None}


def _sg_inline(r: _Reader, inst: Instance, direction: str) -> None:
    b = r.b
    rules = inst.v(direction)
    if not isinstance(rules, list):
        return
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        loc = Location(inst.loc.file, inst.loc.line, inst.loc.column, f"{inst.address}.{direction}[{i}]")
        common = {"protocol": rule.get("protocol", "-1"), "from_port": rule.get("from_port"),
                  "to_port": rule.get("to_port"), "description": _str(rule.get("description"))}
        for cidr in strings(rule.get("cidr_blocks")) + strings(rule.get("ipv6_cidr_blocks")):
            b.sg_rule(inst.token, direction, loc=loc, cidr=cidr, **common)
        for pl in strings(rule.get("prefix_list_ids")):
            b.sg_rule(inst.token, direction, loc=loc, prefix_list=pl, **common)
        sgs = strings(rule.get("security_groups")) or r.refs(inst, (direction, i, "security_groups"))
        for sg in sgs:
            b.sg_rule(inst.token, direction, loc=loc, peer_sg=sg, **common)
        if rule.get("self"):
            b.sg_rule(inst.token, direction, loc=loc, self_ref=True, **common)


def _map(r: _Reader, inst: Instance) -> None:
    b = r.b
    t = inst.type
    v = inst.v
    loc = inst.loc
    idents = [x for x in (_str(v("id")), _str(v("arn")), inst.token) if x]
    if t in ("aws_vpc",):
        b.vpc(inst.token, loc=loc, account=inst.account, id=_str(v("id")),
              cidrs=[c for c in [_str(v("cidr_block"))] if c], tags=_tags(inst), idents=idents)
    elif t == "aws_vpc_ipv4_cidr_block_association":
        vpc, cidr = r.ident(inst, "vpc_id"), _str(v("cidr_block"))
        if vpc and cidr:
            b.vpc_cidr(vpc, cidr, loc=loc)
    elif t == "aws_subnet":
        b.subnet(inst.token, loc=loc, vpc=r.ident(inst, "vpc_id"), id=_str(v("id")), cidr=_str(v("cidr_block")),
                 az=_str(v("availability_zone_id")) or _str(v("availability_zone")), idents=idents)
    elif t == "aws_security_group":
        b.security_group(inst.token, loc=loc, vpc=r.ident(inst, "vpc_id"), name=_str(v("name")), id=_str(v("id")),
                         description=_str(v("description")), default_egress=inst.mode == "data",
                         idents=idents + [x for x in [_str(v("name"))] if x])
        _sg_inline(r, inst, "ingress")
        _sg_inline(r, inst, "egress")
    elif t == "aws_security_group_rule":
        sg = r.ident(inst, "security_group_id")
        direction = "ingress" if v("type") == "ingress" else "egress"
        common = {"protocol": v("protocol") or "-1", "from_port": v("from_port"), "to_port": v("to_port"),
                  "description": _str(v("description"))}
        if sg is None:
            b.warn("security-group rule: its group is unknown", loc, code="unresolved-reference")
            return
        for cidr in strings(v("cidr_blocks")) + strings(v("ipv6_cidr_blocks")):
            b.sg_rule(sg, direction, loc=loc, cidr=cidr, **common)
        for pl in strings(v("prefix_list_ids")) or r.refs(inst, ("prefix_list_ids",)):
            b.sg_rule(sg, direction, loc=loc, prefix_list=pl, **common)
        peer = r.ident(inst, "source_security_group_id")
        if peer:
            b.sg_rule(sg, direction, loc=loc, peer_sg=peer, **common)
        if v("self"):
            b.sg_rule(sg, direction, loc=loc, self_ref=True, **common)
    elif t in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        sg = r.ident(inst, "security_group_id")
        if sg is None:
            b.warn("security-group rule: its group is unknown", loc, code="unresolved-reference")
            return
        b.sg_rule(sg, "ingress" if t.endswith("ingress_rule") else "egress", loc=loc,
                  protocol=v("ip_protocol") or "-1", from_port=v("from_port"), to_port=v("to_port"),
                  cidr=_str(v("cidr_ipv4")) or _str(v("cidr_ipv6")), peer_sg=r.ident(inst, "referenced_security_group_id"),
                  prefix_list=r.ident(inst, "prefix_list_id"), description=_str(v("description")))
    elif t == "aws_ec2_managed_prefix_list":
        if is_lattice_prefix_list(str(v("name"))):
            b.lattice_prefix_lists.update(x for x in (_str(v("id")), inst.token) if x)
    elif t == "aws_lambda_function":
        name = _str(v("function_name")) or inst.label
        b.function(inst.token, loc=loc, name=name, arn=_str(v("arn")),
                   idents=idents + [x for x in [_str(v("qualified_arn"))] if x])
    elif t == "aws_lambda_alias":
        fn = _str(v("function_name"))
        if fn:
            b.function(inst.token, loc=loc, name=lambda_function_name(fn), arn=_str(v("arn")), idents=idents)
    elif t == "aws_instance":
        b.instance(inst.token, loc=loc, id=_str(v("id")) or f"i-{inst.label}", subnet=r.ident(inst, "subnet_id"),
                   az=_str(v("availability_zone")), ip=_str(v("private_ip")),
                   security_groups=r.idents(inst, "vpc_security_group_ids") + strings(v("security_groups")),
                   idents=idents)
    elif t == "aws_launch_template":
        pass  # read through the auto-scaling groups that use it
    elif t == "aws_autoscaling_group":
        _map_asg(r, inst)
    elif t == "aws_autoscaling_traffic_source_attachment":
        pass  # read with its auto-scaling group
    elif t in ("aws_lb", "aws_alb"):
        if (v("load_balancer_type") or "application") != "application":
            b.warn(f"a {v('load_balancer_type')} load balancer cannot be a Lattice ALB target", loc, code="lb-type")
        b.load_balancer(inst.token, loc=loc, name=_str(v("name")) or inst.label, arn=_str(v("arn")),
                        subnets=r.idents(inst, "subnets"), security_groups=r.idents(inst, "security_groups"),
                        idents=idents)
    elif t == "aws_vpc_endpoint":
        if v("vpc_endpoint_type") == "ServiceNetwork":
            b.service_network_endpoint(r.ident(inst, "vpc_id"), r.ident(inst, "service_network_arn"), loc=loc)
        else:
            b.warn(f"{v('vpc_endpoint_type') or 'this'} VPC endpoint is not simulated", loc,
                   code="unmapped-resource")
    elif t == "aws_ram_resource_share":
        b.resource_share(inst.token, loc=loc, name=_str(v("name")), idents=idents)
    elif t == "aws_ram_principal_association":
        principal = _str(v("principal"))
        if principal:
            b.share_principal(r.ident(inst, "resource_share_arn"), principal, loc=loc)
    elif t == "aws_ram_resource_association":
        res = r.ident(inst, "resource_arn")
        if res:
            b.share_resource(r.ident(inst, "resource_share_arn"), res, loc=loc)
    elif t.startswith("aws_vpclattice_"):
        _map_lattice(r, inst, idents)
    elif t in NOT_SIMULATED:
        b.warn(NOT_SIMULATED[t], loc, code="not-simulated", severity="info")
    elif inst.mode == "data":
        pass  # data sources only feed the resources above
    else:
        b.warn(f"{t} is not simulated; ignored", loc, code="unmapped-resource")


def _map_asg(r: _Reader, inst: Instance) -> None:
    """N instance targets (N = desired_capacity, else min_size) in the group's vpc-lattice traffic sources."""
    b, v = r.b, inst.v
    count = as_int(v("desired_capacity"))
    if count is None:
        count = as_int(v("min_size"))
    if count is None:
        b.warn("the group size (desired_capacity or min_size) is unknown; no instances", inst.loc, code="asg-size")
        return
    tgs = []
    for i, src in enumerate(as_list(v("traffic_source"))):
        if isinstance(src, dict) and src.get("type") == "vpc-lattice":
            tg = r.ident(inst, "traffic_source", i, "identifier")
            if tg:
                tgs.append(tg)
    names = {x for x in (_str(v("name")), _str(v("id")), inst.token) if x}
    for att in r.instances:
        if att.type != "aws_autoscaling_traffic_source_attachment":
            continue
        if (r.ident(att, "autoscaling_group_name") or "") not in names:
            continue
        src = _first(att.v("traffic_source"))
        if src.get("type", "vpc-lattice") == "vpc-lattice":
            tg = r.ident(att, "traffic_source", 0, "identifier")
            if tg:
                tgs.append(tg)
    if not tgs:
        b.warn("the group has no vpc-lattice traffic source; its instances serve no Lattice target group",
               inst.loc, code="asg-traffic-source", severity="info")
    sgs: list[str] = []
    lt_ident = r.ident(inst, "launch_template", 0, "id") or r.ident(inst, "launch_template", 0, "name")
    for lt in r.instances:
        if lt.type == "aws_launch_template" and lt_ident in (_str(lt.v("id")), _str(lt.v("name")), lt.token):
            sgs = r.idents(lt, "vpc_security_group_ids")
            for j, nic in enumerate(as_list(lt.v("network_interfaces"))):
                if isinstance(nic, dict):
                    sgs += r.idents(lt, "network_interfaces", j, "security_groups")
    b.auto_scaling_group(inst.token, loc=inst.loc, count=count, subnets=r.idents(inst, "vpc_zone_identifier"),
                         azs=strings(v("availability_zones")), security_groups=sgs, target_groups=tgs)


def _map_lattice(r: _Reader, inst: Instance, idents: list[str]) -> None:
    b = r.b
    t = inst.type.removeprefix("aws_vpclattice_")
    v = inst.v
    loc = inst.loc
    if t == "service_network":
        b.service_network(inst.token, loc=loc, account=inst.account, name=_str(v("name")) or inst.label,
                          id=_str(v("id")), auth_type=_str(v("auth_type")), tags=_tags(inst), idents=idents)
    elif t == "service":
        b.service(inst.token, loc=loc, account=inst.account, name=_str(v("name")) or inst.label, id=_str(v("id")),
                  custom_domain=_str(v("custom_domain_name")), certificate_arn=_str(v("certificate_arn")),
                  auth_type=_str(v("auth_type")), tags=_tags(inst), idents=idents)
    elif t == "listener":
        service = r.ident(inst, "service_identifier") or r.ident(inst, "service_arn")
        if service is None:
            b.warn("the listener's service is unknown", loc, code="unresolved-reference")
        b.listener(inst.token, loc=loc, service=service, name=_str(v("name")) or inst.label,
                   protocol=_str(v("protocol")), port=as_int(v("port")),
                   default_action=_action(r, inst, ("default_action",)),
                   idents=idents + [x for x in [_str(v("listener_id"))] if x])
    elif t == "listener_rule":
        listener = r.ident(inst, "listener_identifier")
        b.rule(inst.token, loc=loc, listener=listener, name=_str(v("name")) or inst.label,
               priority=as_int(v("priority")), match=_match(inst), action=_action(r, inst, ("action",)),
               idents=idents + [x for x in [_str(v("rule_id"))] if x])
    elif t == "target_group":
        cfg = _first(v("config"))
        typ = (_str(v("type")) or "INSTANCE").upper()
        vpc = r.ident(inst, "config", 0, "vpc_identifier")
        b.target_group(inst.token, loc=loc, account=inst.account, name=_str(v("name")) or inst.label,
                       id=_str(v("id")), type=typ, vpc=vpc, protocol=_str(cfg.get("protocol")),
                       protocol_version=_str(cfg.get("protocol_version")), port=as_int(cfg.get("port")) or None,
                       ip_address_type=_str(cfg.get("ip_address_type")),
                       health_check=_health_check(_first(cfg.get("health_check"))), tags=_tags(inst), idents=idents)
    elif t == "target_group_attachment":
        tg = r.ident(inst, "target_group_identifier")
        target = r.ident(inst, "target", 0, "id")
        if tg is None or target is None:
            b.warn("the target group or the target is unknown", loc, code="unresolved-reference")
            return
        b.target(tg, target, loc=loc, port=as_int(_first(v("target")).get("port")) or None)
    elif t == "service_network_vpc_association":
        b.vpc_association(r.ident(inst, "service_network_identifier"), r.ident(inst, "vpc_identifier"), loc=loc,
                          security_groups=r.idents(inst, "security_group_ids"))
    elif t == "service_network_service_association":
        b.service_association(r.ident(inst, "service_network_identifier"), r.ident(inst, "service_identifier"),
                              loc=loc)
    elif t == "auth_policy":
        policy = v("policy")
        b.auth_policy(r.ident(inst, "resource_identifier"), policy if isinstance(policy, (str, dict)) else None,
                      loc=loc)
    elif t == "access_log_subscription":
        b.access_log(r.ident(inst, "resource_identifier"), loc=loc)
    elif inst.type in NOT_SIMULATED:
        b.warn(NOT_SIMULATED[inst.type], loc, code="not-simulated")
    else:
        b.warn(f"{inst.type} is not simulated; ignored", loc, code="unmapped-resource")


def _order(instances: list[Instance]) -> Iterator[Instance]:
    """Prefix lists first (rules need to know which one is Lattice's), then source order."""
    yield from (i for i in instances if i.type == "aws_ec2_managed_prefix_list")
    yield from (i for i in instances if i.type != "aws_ec2_managed_prefix_list")


def import_terraform(path: str) -> ImportResult:
    """Import ``terraform show -json`` output (a state or a plan) as a scenario.

    Raises ScenarioError (located) when the file is not JSON or not of that shape; resources and
    values latsim does not simulate are warnings on the result. A directory (or a ``.tf`` file) is
    read as HCL by ``terraform_hcl.import_terraform_hcl``.
    """
    doc, pos = _load(path)
    if not isinstance(doc, dict) or not ("values" in doc or "planned_values" in doc):
        hint = "give the output of 'terraform show -json' (state) or 'terraform show -json PLANFILE' (plan)"
        if isinstance(doc, dict) and "resources" in doc and "version" in doc:
            hint = "this is a raw state file (terraform.tfstate): run 'terraform show -json' on it"
        raise ScenarioError([Problem("not Terraform JSON output: expected 'values' (state) or 'planned_values' "
                                     "(plan)", Location(path, 1, 1), hint=hint, code="terraform-shape")])
    return import_terraform_doc(doc, pos, path)


def import_terraform_doc(doc: dict[str, Any], pos: TextIndex | None, path: str, *,
                         locations: dict[str, Location] | None = None, accounts: dict[str, str] | None = None,
                         region: str | None = None, extra: Iterable[Problem] = (),
                         kind: str | None = None) -> ImportResult:
    """Map a state- or plan-shaped document. ``locations``/``accounts`` (by resource address) and
    ``region`` override what the document says (the HCL reader knows them better); ``extra``
    problems are reported with the import's own."""
    b = ScenarioBuilder(name="terraform", region=DEFAULT_REGION)
    for p in extra:
        b.warn(p.message, p.location, code=p.code or "terraform", hint=p.hint, severity=p.severity)
    r = _Reader(doc, pos or TextIndex(""), path, b)
    for key in ("values", "planned_values"):
        if key in doc and doc[key] is not None and not isinstance(doc[key], dict):
            b.error(f"'{key}' must be an object", r.loc((key,), key), code="terraform-shape")
    r.collect()
    r.attach_config()
    r.assign_accounts()
    for inst in r.instances:
        if locations and inst.address in locations:
            inst.loc = locations[inst.address]
        if accounts and inst.address in accounts:
            inst.account = accounts[inst.address]
    b.region = region or r.region()
    for inst in _order(r.instances):
        try:
            _map(r, inst)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            # a value of an unexpected shape deep inside one resource: report it there, go on
            b.error(f"{inst.type} has values of an unexpected shape ({type(exc).__name__}: {exc})", inst.loc,
                    code="terraform-shape")
    kind = kind or ("plan" if r.plan else "state")
    stem = re.sub(r"[^A-Za-z0-9-]+", "-", path.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]).strip("-") \
        or "terraform"
    b.name = stem
    b.description = f"Imported from a Terraform {kind} ({path})"
    version = doc.get("terraform_version")
    return b.result(f"Terraform {kind} {path}" + (f" (Terraform {version})" if isinstance(version, str) else ""))


__all__ = ["import_terraform", "import_terraform_doc", "parse_address", "split_resource_address"]
