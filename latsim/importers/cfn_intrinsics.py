"""CloudFormation stacks and their intrinsic functions: ``Stack`` holds one template with its
parameters, account and region and evaluates ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``,
``Fn::Select``, ``Fn::Split``, ``Fn::If`` with ``Conditions``, ``Fn::Equals``/``And``/``Or``/``Not``,
``Fn::FindInMap``, ``Fn::GetAZs``, ``Fn::Base64``, ``Fn::Cidr``, ``Fn::ImportValue``, ``Fn::Length``,
``Fn::ToJsonString`` and ``{{resolve:...}}`` dynamic references, offline. A value that cannot be known
is ``UNRESOLVED`` (with a located warning); ``AWS::NoValue`` is ``NO_VALUE``.

What ``Ref`` and ``Fn::GetAtt`` of a resource return comes from ``cfn_attributes`` through
``Stacks.attribute``; the resource mapping is ``cloudformation``.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from latsim.errors import Location, suggest
from latsim.importers.cfn_template import Keys, Positions
from latsim.importers.common import ScenarioBuilder, as_bool, as_int, is_lattice_prefix_list
from latsim.model.base import stable_hex

PSEUDO_PARAMETERS = ("AWS::AccountId", "AWS::Region", "AWS::StackName", "AWS::StackId", "AWS::Partition",
                     "AWS::URLSuffix", "AWS::NoValue", "AWS::NotificationARNs")


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


UNRESOLVED: Any = _Sentinel("<unresolved>")
NO_VALUE: Any = _Sentinel("<AWS::NoValue>")


def known(value: Any) -> bool:
    """True if nothing inside ``value`` is unresolved."""
    if value is UNRESOLVED:
        return False
    if isinstance(value, dict):
        return all(known(v) for v in value.values())
    if isinstance(value, list):
        return all(known(v) for v in value)
    return True


class Stacks(Protocol):
    """What a stack needs from the import it is part of (``cloudformation._Importer``): the builder
    its problems go to, the region, the other stacks' exports, and the attribute tables of
    ``cfn_attributes`` (given, not imported, so that this module stays below them)."""

    region: str
    b: ScenarioBuilder

    def import_value(self, name: str, s: Stack, keys: Keys) -> Any: ...

    def subnet_cidr(self, subnet_id: Any) -> str | None: ...

    def launch_template_sgs(self, ident: Any) -> list[str]: ...

    def lattice_prefix_lists(self, s: Stack) -> set[str]: ...

    def attribute(self, s: Stack, logical: str, attr: str, keys: Keys) -> Any: ...


class Stack:
    """One template with its parameters, account and region; evaluates intrinsic functions."""

    def __init__(self, imp: Stacks, name: str, file: str, template: dict[str, Any], pos: Positions,
                 account: str, overrides: Mapping[str, str]) -> None:
        self.imp = imp
        self.name = name
        self.file = file
        self.t = template
        self.pos = pos
        self.account = account
        self.region = imp.region
        self.partition = "aws-us-gov" if self.region.startswith("us-gov-") else (
            "aws-cn" if self.region.startswith("cn-") else "aws")
        self.overrides = dict(overrides)
        self.parameters: dict[str, Any] = _section(template, "Parameters")
        self.mappings: dict[str, Any] = _section(template, "Mappings")
        self.conditions: dict[str, Any] = _section(template, "Conditions")
        self.resources: dict[str, Any] = _section(template, "Resources")
        self.outputs: dict[str, Any] = _section(template, "Outputs")
        self._params: dict[str, Any] = {}
        self._conds: dict[str, bool] = {}
        self._busy: set[tuple[str, str]] = set()
        self._attrs: dict[tuple[str, str], Any] = {}

    # -- locations and problems ------------------------------------------------------------------
    def loc(self, keys: Keys) -> Location:
        probe = tuple(keys)
        while probe and probe not in self.pos:
            probe = probe[:-1]
        line, col = self.pos.get(probe, (None, None)) if probe else (None, None)
        return Location(self.file, line, col, ".".join(str(k) for k in keys))

    def warn(self, keys: Keys, message: str, code: str, *, hint: str | None = None,
             severity: str = "warning") -> Any:
        self.imp.b.warn(message, self.loc(keys), code=code, hint=hint, severity=severity)
        return UNRESOLVED

    def error(self, keys: Keys, message: str, code: str, *, hint: str | None = None) -> Any:
        self.imp.b.error(message, self.loc(keys), code=code, hint=hint)
        return UNRESOLVED

    # -- evaluation ----------------------------------------------------------------------------------
    def ev(self, value: Any, keys: Keys) -> Any:
        """Evaluate every intrinsic function in ``value``; AWS::NoValue entries disappear."""
        if isinstance(value, str) and "{{resolve:" in value:
            return _dynamic_reference(self, value, keys)
        if isinstance(value, dict):
            if len(value) == 1:
                (fn, arg), = value.items()
                if fn == "Ref" or fn.startswith("Fn::"):
                    return self.fn(fn, arg, keys + (fn,))
            out: dict[str, Any] = {}
            for k, v in value.items():
                r = self.ev(v, keys + (k,))
                if r is not NO_VALUE:
                    out[k] = r
            return out
        if isinstance(value, list):
            items = []
            for i, v in enumerate(value):
                r = self.ev(v, keys + (i,))
                if r is not NO_VALUE:
                    items.append(r)
            return items
        return value

    def fn(self, fn: str, arg: Any, keys: Keys) -> Any:
        handler = _FUNCTIONS.get(fn)
        if handler is not None:
            return handler(self, arg, keys)
        if fn == "Fn::Transform" or fn.startswith("Fn::ForEach"):
            return self.warn(keys, f"{fn} (a template transform) is not expanded here by latsim "
                             "(Fn::ForEach is expanded in Resources, Outputs, Conditions and mappings)",
                             "unsupported-intrinsic",
                             hint="deploy-time macros are never run; expand the template first (aws cloudformation "
                                  "package / sam build)")
        known_fns = list(_FUNCTIONS) + ["Fn::Transform"]
        return self.warn(keys, f"unsupported intrinsic function '{fn}'", "unsupported-intrinsic",
                         hint=suggest(fn, known_fns))

    def string(self, value: Any, keys: Keys, what: str) -> Any:
        v = self.ev(value, keys)
        if v is UNRESOLVED or v is NO_VALUE:
            return v
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (str, int, float)):
            return str(v)
        return self.warn(keys, f"{what} must be a string, got {type(v).__name__}", "intrinsic-shape")

    # -- Ref -------------------------------------------------------------------------------------------
    def ref(self, name: Any, keys: Keys) -> Any:
        if not isinstance(name, str):
            return self.warn(keys, f"Ref needs a name, got {type(name).__name__}", "intrinsic-shape")
        if name in PSEUDO_PARAMETERS:
            return self.pseudo(name, keys)
        if name in self.parameters:
            return self.parameter(name, keys)
        if name in self.resources:
            if not self.resource_exists(name):
                return self.warn(keys, f"Ref {name}: the resource is not created (its condition is false)",
                                 "conditional-ref")
            return self.attribute(name, "Ref", keys)
        hint = suggest(name, list(self.parameters) + list(self.resources) + list(PSEUDO_PARAMETERS))
        return self.error(keys, f"unresolved reference '{name}': no parameter or resource of that name", "dangling-ref",
                          hint=hint)

    def pseudo(self, name: str, keys: Keys) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name == "AWS::NotificationARNs":
            return []
        return {"AWS::AccountId": self.account, "AWS::Region": self.region, "AWS::StackName": self.name,
                "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/{self.name}/"
                                f"{stable_hex('stack', self.name, length=8)}-0000-0000-0000-000000000000",
                "AWS::Partition": self.partition,
                "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"}[name]

    def parameter(self, name: str, keys: Keys) -> Any:
        if name in self._params:
            return self._params[name]
        decl = self.parameters.get(name)
        pkeys: Keys = ("Parameters", name)
        if not isinstance(decl, dict):
            self._params[name] = self.error(pkeys, f"parameter {name} must be a mapping (Type, Default, ...)",
                                            "template-shape")
            return self._params[name]
        typ = str(decl.get("Type", "String"))
        if name in self.overrides:
            raw: Any = self.overrides[name]
        elif typ.startswith("AWS::SSM::Parameter::Value"):
            path = str(decl.get("Default", ""))
            if names_lattice_prefix_list(path) or names_lattice_prefix_list(name):
                self._params[name] = f"com.amazonaws.{self.region}.vpc-lattice"
                self.warn(pkeys, f"parameter {name} (SSM {path or 'parameter'}) is taken as the VPC Lattice managed "
                          "prefix list", "lattice-prefix-list", severity="info",
                          hint=f"--param {self.name}/{name}=pl-… gives its id")
                return self._params[name]
            self._params[name] = self.warn(
                pkeys, f"parameter {name} names an SSM parameter ({path or 'no default path'}), which latsim does not "
                "read: what uses it is unknown", "ssm-parameter",
                hint=f"pass its value: --param {self.name}/{name}=VALUE")
            return self._params[name]
        elif "Default" in decl:
            raw = decl["Default"]
        elif re.fullmatch(r"AWS::EC2::[A-Za-z]+::Id", typ):
            # an id of something outside the templates (a VPC, a subnet): a named placeholder that an
            # overlay (or --param) completes, so what refers to it is kept
            self.warn(pkeys, f"parameter {name} ({typ}) has no Default and no value was given; latsim uses "
                      f"'{name}' as a placeholder id", "parameter-value",
                      hint=f"pass --param {self.name}/{name}=VALUE, or complete the placeholder with an overlay")
            self._params[name] = name
            return name
        else:
            self._params[name] = self.warn(pkeys, f"parameter {name} has no Default and no value was given",
                                           "parameter-value", hint=f"pass --param {self.name}/{name}=VALUE (for "
                                           "an identifier: an id, an ARN, or the name of an object imported "
                                           "alongside)")
            return self._params[name]
        if isinstance(raw, list):
            value: Any = [str(x) for x in raw]
        elif typ.startswith("List<") or typ == "CommaDelimitedList" or "<List<" in typ:
            value = [x.strip() for x in str(raw).split(",")] if str(raw) else []
        else:
            value = str(raw).lower() if isinstance(raw, bool) else str(raw)
        allowed = decl.get("AllowedValues")
        if isinstance(allowed, list) and isinstance(value, str) and value not in [str(a) for a in allowed]:
            self.warn(pkeys, f"parameter {name} = '{value}' is not one of its AllowedValues", "parameter-value",
                      hint=suggest(value, [str(a) for a in allowed]))
        self._params[name] = value
        return value

    # -- conditions -------------------------------------------------------------------------------------
    def condition(self, name: Any, keys: Keys) -> bool:
        if not isinstance(name, str):
            self.warn(keys, "a condition name must be a string", "intrinsic-shape")
            return False
        if name in self._conds:
            return self._conds[name]
        if name not in self.conditions:
            self.error(keys, f"unknown condition '{name}'", "dangling-ref", hint=suggest(name, list(self.conditions)))
            return False
        self._conds[name] = False  # breaks cycles
        self._conds[name] = self.truth(self.conditions[name], ("Conditions", name))
        return self._conds[name]

    def truth(self, expr: Any, keys: Keys) -> bool:
        if isinstance(expr, dict) and len(expr) == 1 and "Condition" in expr:
            return self.condition(expr["Condition"], keys + ("Condition",))
        v = self.ev(expr, keys)
        b = as_bool(v) if not isinstance(v, bool) else v
        if b is None:
            if v is not UNRESOLVED:
                self.warn(keys, "a condition must evaluate to true or false", "intrinsic-shape")
            self.warn(keys, "condition could not be evaluated; latsim takes it as false", "condition",
                      severity="info")
            return False
        return b

    def resource_exists(self, logical: str) -> bool:
        res = self.resources.get(logical)
        if not isinstance(res, dict) or "Condition" not in res:
            return True
        return self.condition(res["Condition"], ("Resources", logical, "Condition"))

    # -- resources' attributes ----------------------------------------------------------------------------
    def prop(self, logical: str, name: str) -> Any:
        res = self.resources.get(logical)
        props = res.get("Properties") if isinstance(res, dict) else None
        if not isinstance(props, dict) or name not in props:
            return None
        return self.ev(props[name], ("Resources", logical, "Properties", name))

    def attribute(self, logical: str, attr: str, keys: Keys) -> Any:
        key = (logical, attr)
        if key in self._attrs:
            return self._attrs[key]
        if key in self._busy:
            return self.warn(keys, f"circular reference through {logical}.{attr}", "circular-ref")
        self._busy.add(key)
        try:
            value = self.imp.attribute(self, logical, attr, keys)
        finally:
            self._busy.discard(key)
        self._attrs[key] = value
        return value

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account if account else ''}:{resource}")


def _section(template: dict[str, Any], name: str) -> dict[str, Any]:
    value = template.get(name)
    return value if isinstance(value, dict) else {}


# --- the intrinsic functions ------------------------------------------------------------------------

def _fn_ref(s: Stack, arg: Any, keys: Keys) -> Any:
    return s.ref(arg, keys)


def _fn_getatt(s: Stack, arg: Any, keys: Keys) -> Any:
    if isinstance(arg, str) and "." in arg:
        arg = arg.split(".", 1)
    if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
        return s.warn(keys, "Fn::GetAtt needs [LogicalId, Attribute] or 'LogicalId.Attribute'", "intrinsic-shape")
    logical = arg[0]
    attr = s.ev(arg[1], keys + (1,))
    if not isinstance(attr, str):
        return UNRESOLVED if attr is UNRESOLVED else s.warn(keys, "Fn::GetAtt attribute must be a string",
                                                             "intrinsic-shape")
    if logical not in s.resources:
        return s.error(keys, f"Fn::GetAtt: no resource named '{logical}'", "dangling-ref",
                       hint=suggest(logical, list(s.resources)))
    if not s.resource_exists(logical):
        return s.warn(keys, f"Fn::GetAtt {logical}: the resource is not created (its condition is false)",
                      "conditional-ref")
    return s.attribute(logical, attr, keys)


_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


def _fn_sub(s: Stack, arg: Any, keys: Keys) -> Any:
    variables: dict[str, Any] = {}
    if isinstance(arg, str):
        text = arg
    elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
        text = arg[0]
        variables = {k: s.ev(v, keys + (1, k)) for k, v in arg[1].items()}
    else:
        return s.warn(keys, "Fn::Sub needs a string or [string, {Var: value}]", "intrinsic-shape")
    failed = False

    def repl(m: re.Match[str]) -> str:
        nonlocal failed
        inner = m.group(1)
        if inner.startswith("!"):
            return "${" + inner[1:] + "}"
        name = inner.strip()
        if name in variables:
            value = variables[name]
        elif "." in name and not name.startswith("AWS::"):
            value = _fn_getatt(s, name.split(".", 1), keys)
        else:
            value = s.ref(name, keys)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
        if value is not UNRESOLVED:
            s.warn(keys, f"Fn::Sub: ${{{name}}} is not a string", "intrinsic-shape")
        failed = True
        return ""
    out = _SUB_VAR.sub(repl, text)
    return UNRESOLVED if failed else out


def _fn_join(s: Stack, arg: Any, keys: Keys) -> Any:
    if not (isinstance(arg, list) and len(arg) == 2):
        return s.warn(keys, "Fn::Join needs [delimiter, [values]]", "intrinsic-shape")
    delim = s.ev(arg[0], keys + (0,))
    items = s.ev(arg[1], keys + (1,))
    if not isinstance(delim, str) or not isinstance(items, list):
        if delim is UNRESOLVED or items is UNRESOLVED:
            return UNRESOLVED
        return s.warn(keys, "Fn::Join needs [delimiter, [values]]", "intrinsic-shape")
    parts = []
    for item in items:
        if item is UNRESOLVED:
            return UNRESOLVED
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            return s.warn(keys, "Fn::Join values must be strings", "intrinsic-shape")
        parts.append(str(item))
    return delim.join(parts)


def _fn_select(s: Stack, arg: Any, keys: Keys) -> Any:
    if not (isinstance(arg, list) and len(arg) == 2):
        return s.warn(keys, "Fn::Select needs [index, [values]]", "intrinsic-shape")
    index = as_int(s.ev(arg[0], keys + (0,)))
    items = s.ev(arg[1], keys + (1,))
    if items is UNRESOLVED:
        return UNRESOLVED
    if index is None or not isinstance(items, list):
        return s.warn(keys, "Fn::Select needs a numeric index and a list", "intrinsic-shape")
    if not 0 <= index < len(items):
        return s.warn(keys, f"Fn::Select index {index} is out of range (the list has {len(items)} items)",
                      "intrinsic-shape")
    return items[index]


def _fn_split(s: Stack, arg: Any, keys: Keys) -> Any:
    if not (isinstance(arg, list) and len(arg) == 2):
        return s.warn(keys, "Fn::Split needs [delimiter, string]", "intrinsic-shape")
    delim, text = s.ev(arg[0], keys + (0,)), s.ev(arg[1], keys + (1,))
    if text is UNRESOLVED or delim is UNRESOLVED:
        return UNRESOLVED
    if not isinstance(delim, str) or not delim or not isinstance(text, str):
        return s.warn(keys, "Fn::Split needs a non-empty delimiter and a string", "intrinsic-shape")
    return text.split(delim)


def _fn_if(s: Stack, arg: Any, keys: Keys) -> Any:
    if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
        return s.warn(keys, "Fn::If needs [condition name, value if true, value if false]", "intrinsic-shape")
    if s.condition(arg[0], keys + (0,)):
        return s.ev(arg[1], keys + (1,))
    return s.ev(arg[2], keys + (2,))


def _fn_equals(s: Stack, arg: Any, keys: Keys) -> Any:
    if not (isinstance(arg, list) and len(arg) == 2):
        return s.warn(keys, "Fn::Equals needs [value, value]", "intrinsic-shape")
    a, b = s.ev(arg[0], keys + (0,)), s.ev(arg[1], keys + (1,))
    if a is UNRESOLVED or b is UNRESOLVED:
        return UNRESOLVED
    return canon(a) == canon(b)


def canon(v: Any) -> Any:
    """A scalar as CloudFormation compares and looks it up: booleans and numbers as their text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return v


def _logic(name: str) -> Callable[[Stack, Any, Keys], Any]:
    def run(s: Stack, arg: Any, keys: Keys) -> Any:
        if not isinstance(arg, list) or not arg or (name == "Fn::Not" and len(arg) != 1):
            return s.warn(keys, f"{name} needs a list of conditions", "intrinsic-shape")
        values = [s.truth(x, keys + (i,)) for i, x in enumerate(arg)]
        if name == "Fn::And":
            return all(values)
        if name == "Fn::Or":
            return any(values)
        return not values[0]
    return run


def _fn_findinmap(s: Stack, arg: Any, keys: Keys) -> Any:
    if not (isinstance(arg, list) and len(arg) in (3, 4)):
        return s.warn(keys, "Fn::FindInMap needs [MapName, TopLevelKey, SecondLevelKey]", "intrinsic-shape")
    names = [s.ev(x, keys + (i,)) for i, x in enumerate(arg[:3])]
    default = None
    if len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
        default = s.ev(arg[3]["DefaultValue"], keys + (3, "DefaultValue"))
    if any(n is UNRESOLVED for n in names):
        return UNRESOLVED
    node: Any = s.mappings
    for n in names:
        if isinstance(node, dict) and str(canon(n)) in node:
            node = node[str(canon(n))]
        else:
            if default is not None:
                return default
            choices = list(node) if isinstance(node, dict) else []
            return s.warn(keys, f"Fn::FindInMap: no entry '{n}' in the mapping", "dangling-ref",
                          hint=suggest(str(n), choices))
    return s.ev(node, keys)


def _fn_getazs(s: Stack, arg: Any, keys: Keys) -> Any:
    region = s.ev(arg, keys)
    if region is UNRESOLVED:
        return UNRESOLVED
    region = region or s.region
    return [f"{region}{letter}" for letter in "abc"]


def _fn_base64(s: Stack, arg: Any, keys: Keys) -> Any:
    text = s.string(arg, keys, "Fn::Base64 input")
    return base64.b64encode(text.encode()).decode() if isinstance(text, str) else text


def _fn_cidr(s: Stack, arg: Any, keys: Keys) -> Any:
    if not (isinstance(arg, list) and len(arg) == 3):
        return s.warn(keys, "Fn::Cidr needs [ipBlock, count, cidrBits]", "intrinsic-shape")
    block, count, bits = (s.ev(x, keys + (i,)) for i, x in enumerate(arg))
    if UNRESOLVED in (block, count, bits):
        return UNRESOLVED
    n, b = as_int(count), as_int(bits)
    try:
        net = ipaddress.ip_network(str(block), strict=False)
        if n is None or b is None or not (1 <= n <= 256):
            raise ValueError("count must be 1-256 and cidrBits a number")
        subnets = net.subnets(new_prefix=net.max_prefixlen - b)
        out = []
        for sub in subnets:
            out.append(str(sub))
            if len(out) == n:
                break
        return out
    except ValueError as exc:
        return s.warn(keys, f"Fn::Cidr: {exc}", "intrinsic-shape")


def _fn_importvalue(s: Stack, arg: Any, keys: Keys) -> Any:
    name = s.string(arg, keys, "Fn::ImportValue name")
    if not isinstance(name, str):
        return name
    return s.imp.import_value(name, s, keys)


def _fn_length(s: Stack, arg: Any, keys: Keys) -> Any:
    v = s.ev(arg, keys)
    if v is UNRESOLVED:
        return UNRESOLVED
    return len(v) if isinstance(v, list) else s.warn(keys, "Fn::Length needs a list", "intrinsic-shape")


def _fn_tojson(s: Stack, arg: Any, keys: Keys) -> Any:
    v = s.ev(arg, keys)
    return json.dumps(v, separators=(",", ":")) if known(v) else UNRESOLVED


_FUNCTIONS: dict[str, Callable[[Stack, Any, Keys], Any]] = {
    "Ref": _fn_ref, "Fn::GetAtt": _fn_getatt, "Fn::Sub": _fn_sub, "Fn::Join": _fn_join, "Fn::Select": _fn_select,
    "Fn::Split": _fn_split, "Fn::If": _fn_if, "Fn::Equals": _fn_equals, "Fn::And": _logic("Fn::And"),
    "Fn::Or": _logic("Fn::Or"), "Fn::Not": _logic("Fn::Not"), "Fn::FindInMap": _fn_findinmap,
    "Fn::GetAZs": _fn_getazs, "Fn::Base64": _fn_base64, "Fn::Cidr": _fn_cidr, "Fn::ImportValue": _fn_importvalue,
    "Fn::Length": _fn_length, "Fn::ToJsonString": _fn_tojson,
}


_DYNAMIC = re.compile(r"\{\{resolve:(ssm|ssm-secure|secretsmanager):([^}]*)\}\}")


def _dynamic_reference(s: Stack, value: str, keys: Keys) -> Any:
    """``{{resolve:ssm:/path}}``: the Lattice prefix list when the path names it, a --param value
    (``--param STACK//path=VALUE``), else unknown with a located warning."""
    m = _DYNAMIC.search(value)
    if m is None:
        return value
    path = m.group(2).split(":")[0]
    given = s.overrides.get(path)
    if given is not None:
        return value.replace(m.group(0), given)
    if m.group(1) == "ssm" and names_lattice_prefix_list(path):
        s.warn(keys, f"{{{{resolve:ssm:{path}}}}} is taken as the VPC Lattice managed prefix list",
               "lattice-prefix-list", severity="info")
        return value.replace(m.group(0), f"com.amazonaws.{s.region}.vpc-lattice")
    return s.warn(keys, f"dynamic reference {m.group(0)} is resolved by CloudFormation at deploy time; latsim does "
                  "not read SSM or Secrets Manager: the value is unknown", "ssm-parameter",
                  hint=f"give it with --param {s.name}/{path}=VALUE")


def names_lattice_prefix_list(text: Any) -> bool:
    """A name, SSM path or logical id that denotes VPC Lattice's managed prefix list."""
    t = str(text).lower()
    return is_lattice_prefix_list(str(text)) or ("vpc-lattice" in t and "prefix" in t) or \
        ("lattice" in t and "prefixlist" in t.replace("-", "").replace("_", ""))
