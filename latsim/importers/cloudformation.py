"""CloudFormation templates -> a latsim scenario (``latsim import cloudformation``).

Reads one or more templates (YAML with short tags, or JSON), evaluates the intrinsic functions
a template can be resolved with offline -- ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``,
``Fn::Select``, ``Fn::Split``, ``Fn::If`` with ``Conditions``, ``Fn::Equals``/``And``/``Or``/``Not``,
``Fn::FindInMap``, ``Fn::GetAZs``, ``Fn::Base64``, ``Fn::Cidr``, ``Fn::ImportValue`` across the given
stacks, ``Fn::Length`` and ``Fn::ToJsonString`` -- and maps the resources that shape Lattice traffic
onto the model through ``common.ScenarioBuilder``. Anything else is a located warning.

Mapped: every ``AWS::VpcLattice::*`` type that shapes traffic (ServiceNetwork, Service, Listener, Rule,
TargetGroup with its Targets, ServiceNetworkVpcAssociation, ServiceNetworkServiceAssociation,
AuthPolicy, AccessLogSubscription), ``AWS::EC2::VPC`` (+ ``VPCCidrBlock``), ``Subnet``,
``SecurityGroup`` (+ ``SecurityGroupIngress``/``Egress``), ``Instance``, ``VPCEndpoint`` of type
ServiceNetwork, ``AWS::Lambda::Function``/``Alias`` (and ``AWS::Serverless::Function``),
``AWS::AutoScaling::AutoScalingGroup`` with a ``vpc-lattice`` traffic source (N = DesiredCapacity,
else MinSize, instance targets with the security groups of its launch template),
``AWS::ElasticLoadBalancingV2::LoadBalancer`` (ALB targets) and ``AWS::RAM::ResourceShare``
(-> the service network's ``shared_with``). ResourceGateway, ResourceConfiguration,
ServiceNetworkResourceAssociation, ResourcePolicy and DomainVerification are warned about as not
simulated; so is every other type.

Conventions (a template names no account, no region, and AWS invents physical ids at deploy time):

* The stack name is the file name without its extension (``network.yaml`` -> ``network``).
* Parameters: ``params={"Env": "prod"}`` sets ``Env`` in every stack that declares it;
  ``{"payments/Env": "prod"}`` only in stack ``payments``. Declared ``Default`` values apply otherwise.
* ``AWS::AccountId`` is ``111111111111`` unless ``AWS::AccountId`` (or ``<stack>/AWS::AccountId``) is
  given; ``AWS::Region`` is ``us-east-1`` unless given (one region per scenario).
* Physical ids (``vpc-…``, ``svc-…``, ARNs) are derived from stack name and logical id, so the same
  templates always give the same scenario, and ARNs written into auth policies with ``!Sub
  "${Service.Arn}/*"`` match the ids latsim uses.
* AZ names map to AZ ids by ``common.az_id`` (``us-east-1a`` -> ``use1-az1``); ``!GetAZs`` returns
  the region's ``a``, ``b`` and ``c``.
* A security-group rule's ``SourcePrefixListId`` is the Lattice prefix list (``vpc-lattice``) when
  it is ``com.amazonaws.<region>.vpc-lattice`` or the value of a parameter, or of a mapping, whose
  name contains "Lattice" (``!Ref LatticePrefixListId``); other prefix lists are kept with a note
  (the model treats every prefix list as Lattice's).
* ``Fn::ImportValue`` resolves exports of all given stacks, whatever their account.
* Conditions that cannot be evaluated count as false (with a note).
* The import is returned unvalidated, so that an overlay can complete it (an outside VPC, clients);
  ``ImportResult.scenario(overlay)`` and ``to_yaml(overlay)`` validate and point problems back at
  the template line.

Templates are read by ``latsim.source`` (JSON by the standard library, YAML by libyaml with YAML 1.1
scalars as CloudFormation reads them, short-form tags, size and depth bounds). A key written twice in a mapping keeps the last value,
as CloudFormation does, with a located warning. Nothing from a template is executed or fetched:

* Transforms: ``AWS::LanguageExtensions`` is expanded (``Fn::ForEach`` by ``cfn_foreach``,
  ``Fn::Length``, ``Fn::ToJsonString``); any other transform (SAM, macros) is reported, not run.
* Custom resources are not run: each is a located warning naming what it is given, and each
  ``!GetAtt`` of one is unknown unless ``--param [STACK/]Logical.Attr=VALUE`` gives it. One that
  looks up the Lattice prefix list (a property, its logical id or the attribute says so) yields
  ``com.amazonaws.<region>.vpc-lattice``.
* SSM: a parameter of type ``AWS::SSM::Parameter::Value<…>`` and a ``{{resolve:ssm:/path}}``
  dynamic reference are unknown (``--param STACK/Name=VALUE`` or ``--param STACK//path=VALUE``),
  except a path that names the Lattice prefix list.
* A parameter of type ``AWS::EC2::<Thing>::Id`` without a value stands for itself (its name), so an
  outside VPC becomes a placeholder that an overlay completes.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from latsim.errors import Location, Problem, ScenarioError, suggest
from latsim.importers.cfn_foreach import expand_template
from latsim.importers.common import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    ImportResult,
    ScenarioBuilder,
    as_bool,
    as_int,
    as_list,
    generated_id,
    is_lattice_prefix_list,
    lambda_function_name,
    seconds,
)
from latsim.importers.common import az_id as az_rule
from latsim.model.base import stable_hex
from latsim.source import Positions as SourcePositions
from latsim.source import load_json, parse_json, parse_yaml

Keys = tuple[str | int, ...]

PSEUDO_PARAMETERS = ("AWS::AccountId", "AWS::Region", "AWS::StackName", "AWS::StackId", "AWS::Partition",
                     "AWS::URLSuffix", "AWS::NoValue", "AWS::NotificationARNs")
NOT_SIMULATED = {
    "AWS::VpcLattice::ResourceGateway": "resource gateways (VPC resources) are not simulated",
    "AWS::VpcLattice::ResourceConfiguration": "resource configurations (VPC resources) are not simulated",
    "AWS::VpcLattice::ServiceNetworkResourceAssociation": "resource associations (VPC resources) are not simulated",
    "AWS::VpcLattice::ResourcePolicy": "resource policies (RAM-style sharing policies) are not simulated",
    "AWS::VpcLattice::DomainVerification": "domain verification is not simulated",
}


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


# --- reading templates ------------------------------------------------------------------------

Positions = dict[Keys, tuple[int, int]]


def read_template(text: str, filename: str, notes: list[Problem] | None = None) -> tuple[Any, Positions]:
    """Template text -> (plain data with ``Fn::``/``Ref`` keys, positions of every key).

    Read by ``latsim.source``: JSON by the standard library, YAML by libyaml with YAML 1.1 scalars
    (CloudFormation's), short-form tags (``!Ref``, ``!GetAtt a.b``, ``!Sub``...) turned into their
    long form. A key written twice in one mapping: CloudFormation keeps the last one (its parsers do
    not reject duplicates), so latsim does too and adds a located warning to ``notes``; without
    ``notes`` it stays an error."""
    dups: list[Problem] = []

    def duplicate(key: str, where: Location, last: tuple[int, int]) -> None:
        dups.append(Problem(f"key '{key}' is written again at line {last[0]}; CloudFormation keeps the last one, "
                            "and so does latsim", where, severity="warning", code="duplicate-key"))
    is_json = text.lstrip()[:1] in ("{", "[")
    try:
        parsed = parse_json(text, filename) if is_json else None
        data, found = parsed or parse_yaml(text, filename, yaml11=True, local_tag=_long_form, tagged=_short_value,
                                           on_duplicate=duplicate if notes is not None else None)
    except ScenarioError as exc:
        if is_json:  # a JSON template that is not YAML either: the JSON reader's message says more
            _json_error(text, filename)
        raise ScenarioError([dataclasses.replace(p, message=_template_message(p.message))
                             for p in exc.all_problems]) from None
    if notes is not None:
        notes.extend(dups)
    return data, _positions(data, found)


def _json_error(text: str, filename: str) -> None:
    """Raise the standard library's located JSON error, if it has one."""
    try:
        load_json(text, filename)
    except ScenarioError as exc:
        if all(p.code == "syntax" for p in exc.all_problems):
            raise ScenarioError([dataclasses.replace(p, message=_template_message(p.message))
                                 for p in exc.all_problems]) from None


def _long_form(tag: str) -> str | None:
    """``!Ref`` -> ``Ref``, ``!Sub`` -> ``Fn::Sub``; a bare ``!`` is no function (a located error)."""
    if not tag:
        return None
    return tag if tag in ("Ref", "Condition") else f"Fn::{tag}"


def _short_value(tag: str, value: Any) -> Any:
    return value.split(".", 1) if tag == "GetAtt" and isinstance(value, str) else value


def _template_message(message: str) -> str:
    for old, new in (("syntax error: ", "cannot read the template: "), ("not valid JSON: ", "cannot read the template: "),
                     ("cannot read the document", "cannot read the template"), ("the document ", "the template ")):
        if message.startswith(old):
            return new + message[len(old):]
    return message


def _positions(data: Any, found: SourcePositions) -> Positions:
    """The reader's positions as one table by key path: a key's own position, else its value's, else
    (a ``!GetAtt a.b`` split in two) its parent's."""
    keys, values = found.key, found.value
    pos: Positions = {(): found.root or (1, 1)}
    stack: list[tuple[Any, Keys]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            here = path + (k,)
            pos[here] = keys.get(here) or values.get(here) or pos[path]
            stack.append((v, here))
    return pos


# --- stacks and intrinsic functions -------------------------------------------------------------

class Stack:
    """One template with its parameters, account and region; evaluates intrinsic functions."""

    def __init__(self, imp: _Importer, name: str, file: str, template: dict[str, Any], pos: Positions,
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
            if _names_lattice_prefix_list(path) or _names_lattice_prefix_list(name):
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
            value = _attribute(self, logical, attr, keys)
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
    return _canon(a) == _canon(b)


def _canon(v: Any) -> Any:
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
        if isinstance(node, dict) and str(_canon(n)) in node:
            node = node[str(_canon(n))]
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


# --- attributes (what Ref and Fn::GetAtt return) ----------------------------------------------------

def _hexid(s: Stack, logical: str, n: int = 17) -> str:
    return stable_hex("cfn", s.name, logical, length=n)


def _physical_name(s: Stack, logical: str, limit: int = 64) -> str:
    """CloudFormation's generated name: ``<stack>-<logical>-<RANDOM>``."""
    return f"{s.name}-{logical}-{_hexid(s, logical, 12).upper()}"[:limit]


def _lattice_arn(s: Stack, kind: str, rid: str) -> str:
    return s.arn("vpc-lattice", f"{kind}/{rid}")


def _service_arn_of(s: Stack, ident: Any) -> str:
    if isinstance(ident, str) and ident.startswith("arn:"):
        return ident
    if isinstance(ident, str) and ident.startswith("svc-"):
        return _lattice_arn(s, "service", ident)
    return _lattice_arn(s, "service", "svc-unknown")


def _attribute(s: Stack, logical: str, attr: str, keys: Keys) -> Any:
    res = s.resources[logical]
    typ = str(res.get("Type", "")) if isinstance(res, dict) else ""
    if _is_custom(typ):
        return _custom_attribute(s, logical, attr, res, keys)
    table = _ATTRIBUTES.get(typ)
    values: dict[str, Any] = table(s, logical) if table else _generic_attributes(s, logical, typ)
    if attr not in values:
        if attr == "Ref":
            return _physical_name(s, logical)
        return s.warn(keys, f"attribute {attr} of {logical} ({typ}) is not known to latsim", "unknown-attribute",
                      hint=suggest(attr, [k for k in values if k != "Ref"]))
    value = values[attr]
    return value() if callable(value) else value


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
    if m.group(1) == "ssm" and _names_lattice_prefix_list(path):
        s.warn(keys, f"{{{{resolve:ssm:{path}}}}} is taken as the VPC Lattice managed prefix list",
               "lattice-prefix-list", severity="info")
        return value.replace(m.group(0), f"com.amazonaws.{s.region}.vpc-lattice")
    return s.warn(keys, f"dynamic reference {m.group(0)} is resolved by CloudFormation at deploy time; latsim does "
                  "not read SSM or Secrets Manager: the value is unknown", "ssm-parameter",
                  hint=f"give it with --param {s.name}/{path}=VALUE")


def _is_custom(typ: str) -> bool:
    return typ.startswith("Custom::") or typ == "AWS::CloudFormation::CustomResource"


def _names_lattice_prefix_list(text: Any) -> bool:
    """A name, SSM path or logical id that denotes VPC Lattice's managed prefix list."""
    t = str(text).lower()
    return is_lattice_prefix_list(str(text)) or ("vpc-lattice" in t and "prefix" in t) or \
        ("lattice" in t and "prefixlist" in t.replace("-", "").replace("_", ""))


def _custom_attribute(s: Stack, logical: str, attr: str, res: dict[str, Any], keys: Keys) -> Any:
    """What a custom resource returns is known only when its Lambda runs: ``--param
    [STACK/]Logical.Attr=VALUE`` gives it; a lookup of the Lattice prefix list is recognised; else a
    named placeholder (``Logical.Attr``) with a located warning."""
    given = s.overrides.get(f"{logical}.{attr}")
    if given is not None:
        return given
    props = res.get("Properties")
    strings_in = [str(v) for v in (props.values() if isinstance(props, dict) else []) if isinstance(v, (str, int))]
    if attr in ("Ref", "Arn") and not any(_names_lattice_prefix_list(x) for x in strings_in + [logical]):
        return _generic_attributes(s, logical, str(res.get("Type")))[attr]
    if any(_names_lattice_prefix_list(x) for x in strings_in + [logical, f"{logical}{attr}"]):
        s.warn(("Resources", logical), f"custom resource {logical} looks up the VPC Lattice managed prefix list; "
               f"latsim takes {logical}.{attr} as that list", "lattice-prefix-list", severity="info")
        return f"com.amazonaws.{s.region}.vpc-lattice"
    s.warn(keys, f"{logical}.{attr} comes from custom resource {logical}, which runs at deploy time and latsim does "
           f"not run: the value is unknown", "custom-resource",
           hint=f"give it with --param {s.name}/{logical}.{attr}=VALUE")
    return UNRESOLVED


def _generic_attributes(s: Stack, logical: str, typ: str) -> dict[str, Any]:
    service = typ.split("::")[1].lower() if typ.count("::") == 2 else "unknown"
    return {"Ref": _physical_name(s, logical), "Arn": s.arn(service, _physical_name(s, logical))}


def _a_vpc(s: Stack, lg: str) -> dict[str, Any]:
    vid = generated_id("vpc", s.name, lg)
    return {"Ref": vid, "VpcId": vid, "CidrBlock": lambda: s.prop(lg, "CidrBlock"),
            "DefaultSecurityGroup": generated_id("sg", s.name, lg, "default"), "CidrBlockAssociations": [],
            "Ipv6CidrBlocks": [], "DefaultNetworkAcl": f"acl-{_hexid(s, lg)}"}


def _a_subnet(s: Stack, lg: str) -> dict[str, Any]:
    sid = generated_id("subnet", s.name, lg)

    def az_id() -> Any:
        given = s.prop(lg, "AvailabilityZoneId")
        if given is not None:
            return given
        az = s.prop(lg, "AvailabilityZone")
        return az_rule(az) if isinstance(az, str) and az_rule(az) else UNRESOLVED
    return {"Ref": sid, "SubnetId": sid, "VpcId": lambda: s.prop(lg, "VpcId"),
            "CidrBlock": lambda: s.prop(lg, "CidrBlock"), "AvailabilityZone": lambda: s.prop(lg, "AvailabilityZone"),
            "AvailabilityZoneId": az_id, "Ipv6CidrBlocks": []}


def _a_sg(s: Stack, lg: str) -> dict[str, Any]:
    gid = generated_id("sg", s.name, lg)
    return {"Ref": gid, "GroupId": gid, "VpcId": lambda: s.prop(lg, "VpcId")}


def _a_instance(s: Stack, lg: str) -> dict[str, Any]:
    iid = f"i-{_hexid(s, lg)}"

    def ip() -> Any:
        given = s.prop(lg, "PrivateIpAddress")
        if isinstance(given, str):
            return given
        cidr = s.imp.subnet_cidr(s.prop(lg, "SubnetId"))
        if cidr is None:
            return UNRESOLVED
        net = ipaddress.ip_network(cidr, strict=False)
        return str(net[4 + int(_hexid(s, lg, 8), 16) % max(1, net.num_addresses - 5)])
    return {"Ref": iid, "InstanceId": iid, "PrivateIp": ip, "AvailabilityZone": lambda: s.prop(lg, "AvailabilityZone"),
            "PrivateDnsName": f"ip-{_hexid(s, lg, 8)}.ec2.internal"}


def _a_lambda(s: Stack, lg: str) -> dict[str, Any]:
    def name() -> Any:
        given = s.prop(lg, "FunctionName")
        return given if given is not None else _physical_name(s, lg)

    def arn() -> Any:
        n = name()
        return s.arn("lambda", f"function:{n}") if isinstance(n, str) else UNRESOLVED
    return {"Ref": name, "Arn": arn}


def _a_lambda_alias(s: Stack, lg: str) -> dict[str, Any]:
    def arn() -> Any:
        fn, alias = s.prop(lg, "FunctionName"), s.prop(lg, "Name")
        if not isinstance(fn, str) or not isinstance(alias, str):
            return UNRESOLVED
        base = fn if fn.startswith("arn:") else s.arn("lambda", f"function:{fn}")
        return f"{base}:{alias}"
    return {"Ref": arn, "AliasArn": arn}


def _a_lambda_version(s: Stack, lg: str) -> dict[str, Any]:
    def arn() -> Any:
        fn = s.prop(lg, "FunctionName")
        if not isinstance(fn, str):
            return UNRESOLVED
        return (fn if fn.startswith("arn:") else s.arn("lambda", f"function:{fn}")) + ":1"
    return {"Ref": arn, "FunctionArn": arn, "Version": "1"}


def _a_lb(s: Stack, lg: str) -> dict[str, Any]:
    def name() -> Any:
        given = s.prop(lg, "Name")
        return given if given is not None else f"{s.name}-{lg}"[:32].rstrip("-")

    def arn() -> Any:
        n = name()
        return s.arn("elasticloadbalancing", f"loadbalancer/app/{n}/{_hexid(s, lg, 16)}") if isinstance(n, str) \
            else UNRESOLVED
    return {"Ref": arn, "LoadBalancerArn": arn, "LoadBalancerName": name,
            "LoadBalancerFullName": lambda: f"app/{name()}/{_hexid(s, lg, 16)}",
            "DNSName": lambda: f"internal-{name()}-{_hexid(s, lg, 10)}.{s.region}.elb.amazonaws.com",
            "SecurityGroups": lambda: as_list(s.prop(lg, "SecurityGroups")),
            "CanonicalHostedZoneID": "Z35SXDOTRQ7X7K"}


def _a_named(prop: str) -> Callable[[Stack, str], dict[str, Any]]:
    def table(s: Stack, lg: str) -> dict[str, Any]:
        def name() -> Any:
            given = s.prop(lg, prop)
            return given if given is not None else _physical_name(s, lg)
        return {"Ref": name}
    return table


def _a_launch_template(s: Stack, lg: str) -> dict[str, Any]:
    lt = f"lt-{_hexid(s, lg)}"
    return {"Ref": lt, "LaunchTemplateId": lt, "LatestVersionNumber": "1", "DefaultVersionNumber": "1"}


def _a_role(s: Stack, lg: str) -> dict[str, Any]:
    def name() -> Any:
        given = s.prop(lg, "RoleName")
        return given if given is not None else _physical_name(s, lg)

    def arn() -> Any:
        path = s.prop(lg, "Path") or "/"
        n = name()
        return s.arn("iam", f"role{path}{n}", region=False) if isinstance(n, str) and isinstance(path, str) \
            else UNRESOLVED
    return {"Ref": name, "Arn": arn, "RoleId": f"AROA{_hexid(s, lg, 17).upper()}"}


def _a_ram_share(s: Stack, lg: str) -> dict[str, Any]:
    h = _hexid(s, lg, 32)
    arn = s.arn("ram", f"resource-share/{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}")
    return {"Ref": arn, "Arn": arn}


def _a_lattice(kind: str, prefix: str, extra: Callable[[Stack, str, str, str], dict[str, Any]] | None = None
               ) -> Callable[[Stack, str], dict[str, Any]]:
    def table(s: Stack, lg: str) -> dict[str, Any]:
        rid = generated_id(prefix, s.name, lg)
        arn = _lattice_arn(s, kind, rid)
        out: dict[str, Any] = {"Ref": arn, "Arn": arn, "Id": rid, "Status": "ACTIVE",
                               "CreatedAt": "2026-01-01T00:00:00Z", "LastUpdatedAt": "2026-01-01T00:00:00Z"}
        if extra:
            out.update(extra(s, lg, rid, arn))
        return out
    return table


def _x_named(s: Stack, lg: str, rid: str, arn: str) -> dict[str, Any]:
    return {"Name": lambda: s.prop(lg, "Name") or _physical_name(s, lg, 40).lower()}


def _x_service(s: Stack, lg: str, rid: str, arn: str) -> dict[str, Any]:
    def dns() -> Any:
        name = s.prop(lg, "Name") or _physical_name(s, lg, 40).lower()
        part = stable_hex("partition", s.region, s.account, length=7)
        return f"{name}-{rid[4:]}.{part}.vpc-lattice-svcs.{s.region}.on.aws"
    return {"Name": lambda: s.prop(lg, "Name") or _physical_name(s, lg, 40).lower(), "DnsEntry.DomainName": dns,
            "DnsEntry.HostedZoneId": f"Z{_hexid(s, lg, 13).upper()}"}


def _x_listener(s: Stack, lg: str, rid: str, arn: str) -> dict[str, Any]:
    listener_id = f"listener-{_hexid(s, lg)}"

    def svc_arn() -> str:
        return _service_arn_of(s, s.prop(lg, "ServiceIdentifier"))

    def my_arn() -> str:
        return f"{svc_arn()}/listener/{listener_id}"
    return {"Ref": my_arn, "Arn": my_arn, "Id": listener_id, "ServiceArn": svc_arn,
            "ServiceId": lambda: svc_arn().rsplit("/", 1)[-1]}


def _x_rule(s: Stack, lg: str, rid: str, arn: str) -> dict[str, Any]:
    rule_id = f"rule-{_hexid(s, lg)}"

    def my_arn() -> str:
        lst = s.prop(lg, "ListenerIdentifier")
        base = lst if isinstance(lst, str) and lst.startswith("arn:") else \
            f"{_service_arn_of(s, s.prop(lg, 'ServiceIdentifier'))}/listener/{lst}"
        return f"{base}/rule/{rule_id}"
    return {"Ref": my_arn, "Arn": my_arn, "Id": rule_id}


def _x_policy(s: Stack, lg: str, rid: str, arn: str) -> dict[str, Any]:
    return {"Ref": lambda: s.prop(lg, "ResourceIdentifier") or s.prop(lg, "ResourceArn"), "State": "Active"}


_ATTRIBUTES: dict[str, Callable[[Stack, str], dict[str, Any]]] = {
    "AWS::EC2::VPC": _a_vpc,
    "AWS::EC2::Subnet": _a_subnet,
    "AWS::EC2::SecurityGroup": _a_sg,
    "AWS::EC2::Instance": _a_instance,
    "AWS::EC2::LaunchTemplate": _a_launch_template,
    "AWS::Lambda::Function": _a_lambda,
    "AWS::Serverless::Function": _a_lambda,
    "AWS::Lambda::Alias": _a_lambda_alias,
    "AWS::Lambda::Version": _a_lambda_version,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _a_lb,
    "AWS::AutoScaling::AutoScalingGroup": _a_named("AutoScalingGroupName"),
    "AWS::IAM::Role": _a_role,
    "AWS::RAM::ResourceShare": _a_ram_share,
    "AWS::VpcLattice::ServiceNetwork": _a_lattice("servicenetwork", "sn", _x_named),
    "AWS::VpcLattice::Service": _a_lattice("service", "svc", _x_service),
    "AWS::VpcLattice::Listener": _a_lattice("listener", "listener", _x_listener),
    "AWS::VpcLattice::Rule": _a_lattice("rule", "rule", _x_rule),
    "AWS::VpcLattice::TargetGroup": _a_lattice("targetgroup", "tg", _x_named),
    "AWS::VpcLattice::ServiceNetworkVpcAssociation": _a_lattice("servicenetworkvpcassociation", "snva"),
    "AWS::VpcLattice::ServiceNetworkServiceAssociation": _a_lattice("servicenetworkserviceassociation", "snsa"),
    "AWS::VpcLattice::ServiceNetworkResourceAssociation": _a_lattice("servicenetworkresourceassociation", "snra"),
    "AWS::VpcLattice::AccessLogSubscription": _a_lattice("accesslogsubscription", "als"),
    "AWS::VpcLattice::ResourceGateway": _a_lattice("resourcegateway", "rgw"),
    "AWS::VpcLattice::ResourceConfiguration": _a_lattice("resourceconfiguration", "rcfg"),
    "AWS::VpcLattice::AuthPolicy": _a_lattice("authpolicy", "ap", _x_policy),
    "AWS::VpcLattice::ResourcePolicy": _a_lattice("resourcepolicy", "rp", _x_policy),
    "AWS::EC2::VPCEndpoint": lambda s, lg: {"Ref": f"vpce-{_hexid(s, lg)}", "Id": f"vpce-{_hexid(s, lg)}"},
}


# --- resources -> builder ---------------------------------------------------------------------------

class _Resource:
    """A resource being mapped: its stack, logical id, location and evaluated-on-demand properties."""

    def __init__(self, s: Stack, logical: str, body: dict[str, Any]) -> None:
        self.s = s
        self.logical = logical
        self.type = str(body.get("Type"))
        props = body.get("Properties")
        self.props: dict[str, Any] = props if isinstance(props, dict) else {}
        self.keys: Keys = ("Resources", logical)
        self.key = f"{s.name}/{logical}"
        self.loc = s.loc(self.keys)

    def pkeys(self, *names: str | int) -> Keys:
        return self.keys + ("Properties",) + tuple(names)

    def get(self, name: str) -> Any:
        """The evaluated property (None when absent, UNRESOLVED when it cannot be evaluated)."""
        if name not in self.props:
            return None
        v = self.s.ev(self.props[name], self.pkeys(name))
        return None if v is NO_VALUE else v

    def text(self, name: str) -> str | None:
        v = self.get(name)
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (str, int, float)):
            return str(v)
        if v is not None and v is not UNRESOLVED:
            self.s.warn(self.pkeys(name), f"{name} must be a string", "property-shape")
        return None

    def strs(self, name: str) -> list[str]:
        v = self.get(name)
        if v is None or v is UNRESOLVED:
            return []
        if isinstance(v, str):
            return [v]
        if not isinstance(v, list):
            self.s.warn(self.pkeys(name), f"{name} must be a list", "property-shape")
            return []
        return [str(x) for x in v if isinstance(x, (str, int)) and not isinstance(x, bool)]

    def require(self, name: str, what: str) -> str | None:
        v = self.text(name)
        if v is None:
            self.s.warn(self.pkeys(name) if name in self.props else self.keys,
                        f"{self.type}: {name} is {'unknown' if name in self.props else 'missing'}; "
                        f"the {what} cannot be placed", "property-missing")
        return v

    def loc_of(self, *names: str | int) -> Location:
        return self.s.loc(self.pkeys(*names))


def _tags(value: Any) -> dict[str, str]:
    pairs: list[tuple[Any, Any]] = []
    if isinstance(value, list):
        pairs = [(t.get("Key"), t.get("Value")) for t in value if isinstance(t, dict)]
    elif isinstance(value, dict):
        pairs = list(value.items())
    return {str(k): _canon(v) for k, v in pairs if isinstance(k, str) and isinstance(v, (str, int, float))}


def _action(r: _Resource, value: Any, keys: Keys) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        if value is not None and value is not UNRESOLVED:
            r.s.warn(keys, "an action is a mapping with Forward or FixedResponse", "property-shape")
        return None
    fixed = value.get("FixedResponse")
    if isinstance(fixed, dict):
        code = as_int(fixed.get("StatusCode"))
        if code is None:
            r.s.warn(keys + ("FixedResponse",), "FixedResponse needs a numeric StatusCode", "property-shape")
            return None
        return {"fixed_response": code}
    fwd = value.get("Forward")
    groups = fwd.get("TargetGroups") if isinstance(fwd, dict) else None
    if not isinstance(groups, list):
        r.s.warn(keys, "an action needs Forward.TargetGroups or FixedResponse.StatusCode", "property-shape")
        return None
    out = []
    for i, g in enumerate(groups):
        if not isinstance(g, dict) or not isinstance(g.get("TargetGroupIdentifier"), str):
            r.s.warn(keys + ("Forward", "TargetGroups", i), "target group identifier unknown; entry dropped",
                     "unresolved-reference")
            continue
        weight = as_int(g.get("Weight")) if g.get("Weight") is not None else None
        out.append((g["TargetGroupIdentifier"], weight))
    return {"forward": out}


def _match(r: _Resource, value: Any, keys: Keys) -> dict[str, Any]:
    hm = value.get("HttpMatch") if isinstance(value, dict) else None
    if not isinstance(hm, dict):
        r.s.warn(keys, "a rule Match needs an HttpMatch", "property-shape")
        return {}
    out: dict[str, Any] = {}
    if isinstance(hm.get("Method"), str):
        out["method"] = hm["Method"]
    pm = hm.get("PathMatch")
    if isinstance(pm, dict) and isinstance(pm.get("Match"), dict):
        m = pm["Match"]
        path = {k.lower(): m[k] for k in ("Exact", "Prefix") if isinstance(m.get(k), str)}
        cs = as_bool(pm.get("CaseSensitive"))
        if cs is not None:
            path["case_sensitive"] = cs
        out["path"] = path
    headers = []
    for i, h in enumerate(as_list(hm.get("HeaderMatches"))):
        if not isinstance(h, dict) or not isinstance(h.get("Name"), str) or not isinstance(h.get("Match"), dict):
            r.s.warn(keys + ("HttpMatch", "HeaderMatches", i), "a header match needs Name and Match", "property-shape")
            continue
        item: dict[str, Any] = {"name": h["Name"]}
        for k in ("Exact", "Prefix", "Contains"):
            if isinstance(h["Match"].get(k), str):
                item[k.lower()] = h["Match"][k]
        cs = as_bool(h.get("CaseSensitive"))
        if cs is not None:
            item["case_sensitive"] = cs
        headers.append(item)
    if headers:
        out["headers"] = headers
    return out


def _health_check(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    matcher = value.get("Matcher")
    out = {
        "enabled": as_bool(value.get("Enabled")),
        "protocol": value.get("Protocol") if isinstance(value.get("Protocol"), str) else None,
        "protocol_version": value.get("ProtocolVersion") if isinstance(value.get("ProtocolVersion"), str) else None,
        "port": as_int(value.get("Port")) or None,
        "path": value.get("Path") if isinstance(value.get("Path"), str) else None,
        "interval": seconds(value.get("HealthCheckIntervalSeconds")),
        "timeout": seconds(value.get("HealthCheckTimeoutSeconds")),
        "healthy_threshold": as_int(value.get("HealthyThresholdCount")) or None,
        "unhealthy_threshold": as_int(value.get("UnhealthyThresholdCount")) or None,
        "matcher": str(matcher["HttpCode"]) if isinstance(matcher, dict) and matcher.get("HttpCode") else None,
    }
    return {k: v for k, v in out.items() if v is not None}


def _sg_rules(r: _Resource, b: ScenarioBuilder, sg: str, direction: str, rules: Any, keys: Keys) -> None:
    if rules is None or rules is UNRESOLVED:
        return
    if not isinstance(rules, list):
        r.s.warn(keys, "security-group rules must be a list", "property-shape")
        return
    for i, rule in enumerate(rules):
        if isinstance(rule, dict):
            _sg_rule(r, b, sg, direction, rule, keys + (i,))


def _sg_rule(r: _Resource, b: ScenarioBuilder, sg: str, direction: str, rule: dict[str, Any], keys: Keys) -> None:
    if not known(rule):
        r.s.warn(keys, f"{direction} rule has unresolved values; dropped", "unresolved-reference")
        return
    src = "Source" if direction == "ingress" else "Destination"
    peer_sg = rule.get(f"{src}SecurityGroupId") or rule.get(f"{src}SecurityGroupName")
    prefix_list = rule.get(f"{src}PrefixListId")
    if isinstance(prefix_list, str) and prefix_list in r.s.imp.lattice_prefix_lists(r.s):
        b.lattice_prefix_lists.add(prefix_list)
    cidr = rule.get("CidrIp") or rule.get("CidrIpv6")
    b.sg_rule(sg, direction, loc=r.s.loc(keys), protocol=rule.get("IpProtocol", "-1"),
              from_port=rule.get("FromPort"), to_port=rule.get("ToPort"),
              cidr=cidr if isinstance(cidr, str) else None,
              peer_sg=peer_sg if isinstance(peer_sg, str) else None,
              prefix_list=prefix_list if isinstance(prefix_list, str) else None,
              description=rule.get("Description") if isinstance(rule.get("Description"), str) else None)


def _map_resource(r: _Resource, b: ScenarioBuilder) -> None:
    s = r.s
    t = r.type
    loc = r.loc
    acct = s.account
    if t == "AWS::EC2::VPC":
        cidr = r.text("CidrBlock")
        if cidr is None and "Ipv4IpamPoolId" in r.props:
            s.warn(r.pkeys("Ipv4IpamPoolId"), "IPAM-allocated CIDRs are not known offline", "vpc-cidr")
        b.vpc(r.key, loc=loc, account=acct, id=s.attribute(r.logical, "Ref", r.keys), cidrs=[cidr] if cidr else [],
              tags=_tags(r.get("Tags")))
    elif t == "AWS::EC2::VPCCidrBlock":
        cidr, vpc = r.text("CidrBlock"), r.text("VpcId")
        if cidr and vpc:
            b.vpc_cidr(vpc, cidr, loc=loc)
    elif t == "AWS::EC2::Subnet":
        az = r.text("AvailabilityZoneId") or r.text("AvailabilityZone")
        b.subnet(r.key, loc=loc, vpc=r.text("VpcId"), id=s.attribute(r.logical, "Ref", r.keys),
                 cidr=r.text("CidrBlock"), az=az)
    elif t == "AWS::EC2::SecurityGroup":
        gid = s.attribute(r.logical, "Ref", r.keys)
        name = r.text("GroupName")
        b.security_group(r.key, loc=loc, vpc=r.text("VpcId"), name=name, id=gid,
                         description=r.text("GroupDescription"), default_egress="SecurityGroupEgress" not in r.props,
                         idents=[name])
        _sg_rules(r, b, r.key, "ingress", r.get("SecurityGroupIngress"), r.pkeys("SecurityGroupIngress"))
        _sg_rules(r, b, r.key, "egress", r.get("SecurityGroupEgress"), r.pkeys("SecurityGroupEgress"))
    elif t in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
        direction = "ingress" if t.endswith("Ingress") else "egress"
        group = r.text("GroupId") or r.text("GroupName")
        props = r.s.ev(r.props, r.pkeys())
        if group and isinstance(props, dict):
            _sg_rule(r, b, group, direction, props, r.pkeys())
        elif group is None:
            r.require("GroupId", "rule")
    elif t in ("AWS::Lambda::Function", "AWS::Serverless::Function"):
        name, arn = s.attribute(r.logical, "Ref", r.keys), s.attribute(r.logical, "Arn", r.keys)
        if isinstance(name, str):
            b.function(r.key, loc=loc, name=name, arn=arn if isinstance(arn, str) else None)
    elif t == "AWS::Lambda::Alias":
        fn, arn = r.text("FunctionName"), s.attribute(r.logical, "Ref", r.keys)
        if fn:
            b.function(r.key, loc=loc, name=lambda_function_name(fn), arn=arn if isinstance(arn, str) else None)
    elif t == "AWS::EC2::Instance":
        _map_instance(r, b)
    elif t == "AWS::AutoScaling::AutoScalingGroup":
        _map_asg(r, b)
    elif t == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        kind = (r.text("Type") or "application").lower()
        if kind != "application":
            s.warn(r.pkeys("Type"), f"a {kind} load balancer cannot be a Lattice ALB target", "lb-type")
        if (r.text("Scheme") or "internet-facing") != "internal":
            s.warn(r.keys, "Lattice ALB targets must be internal load balancers (Scheme: internal)", "lb-scheme",
                   severity="info")
        subnets = r.strs("Subnets")
        for m in as_list(r.get("SubnetMappings")):
            if isinstance(m, dict) and isinstance(m.get("SubnetId"), str):
                subnets.append(m["SubnetId"])
        name, arn = s.attribute(r.logical, "LoadBalancerName", r.keys), s.attribute(r.logical, "Ref", r.keys)
        if isinstance(name, str):
            b.load_balancer(r.key, loc=loc, name=name, arn=arn if isinstance(arn, str) else None, subnets=subnets,
                            security_groups=r.strs("SecurityGroups"))
    elif t == "AWS::EC2::VPCEndpoint":
        kind = r.text("VpcEndpointType") or "Gateway"
        if kind == "ServiceNetwork":
            b.service_network_endpoint(r.text("VpcId"), r.text("ServiceNetworkArn"), loc=loc)
        else:
            s.warn(r.keys, f"{kind} VPC endpoints are not simulated", "unmapped-resource")
    elif t == "AWS::RAM::ResourceShare":
        b.resource_share(r.key, loc=loc, name=r.text("Name"), idents=[s.attribute(r.logical, "Ref", r.keys)])
        for i, res in enumerate(as_list(r.get("ResourceArns"))):
            if isinstance(res, str):
                b.share_resource(r.key, res, loc=r.loc_of("ResourceArns", i))
        for i, p in enumerate(as_list(r.get("Principals"))):
            if isinstance(p, (str, int)):
                b.share_principal(r.key, str(p), loc=r.loc_of("Principals", i))
    elif t.startswith("AWS::VpcLattice::"):
        _map_lattice(r, b)
    elif t == "AWS::EC2::LaunchTemplate":
        pass  # read through the auto-scaling groups that use it
    elif _is_custom(t):
        props = sorted(k for k in r.props if k != "ServiceToken")
        if any(_names_lattice_prefix_list(x) for x in [r.logical] + [str(s.ev(v, r.pkeys(k)))
                                                                      for k, v in r.props.items()]):
            return  # a lookup of the Lattice prefix list: its value is recognised where it is used
        s.warn(r.keys, f"custom resource {r.logical} ({t}) runs a Lambda function at deploy time, which latsim "
               "does not run: whatever it creates or registers is missing" +
               (f" (it is given {', '.join(props)})" if props else ""), "custom-resource",
               hint="add what it makes with an overlay (e.g. target_groups: [{name: …, targets: […]}]); "
                    f"--param {s.name}/{r.logical}.ATTR=VALUE gives a value it returns")
    else:
        s.warn(r.keys, f"{t} is not simulated; ignored", "unmapped-resource")


def _map_instance(r: _Resource, b: ScenarioBuilder) -> None:
    s = r.s
    subnet = r.text("SubnetId")
    sgs = r.strs("SecurityGroupIds") + r.strs("SecurityGroups")
    nics = r.get("NetworkInterfaces")
    if isinstance(nics, list) and nics and isinstance(nics[0], dict):
        subnet = subnet or (nics[0].get("SubnetId") if isinstance(nics[0].get("SubnetId"), str) else None)
        sgs += [g for g in as_list(nics[0].get("GroupSet")) if isinstance(g, str)]
    ip = s.attribute(r.logical, "PrivateIp", r.keys)
    b.instance(r.key, loc=r.loc, id=s.attribute(r.logical, "Ref", r.keys), subnet=subnet,
               az=r.text("AvailabilityZone"), ip=ip if isinstance(ip, str) else None, security_groups=sgs)


def _map_asg(r: _Resource, b: ScenarioBuilder) -> None:
    s = r.s
    count = as_int(r.get("DesiredCapacity"))
    if count is None:
        count = as_int(r.get("MinSize"))
    if count is None:
        s.warn(r.keys, "the group size (DesiredCapacity or MinSize) is unknown; no instances", "asg-size")
        return
    tgs = []
    for i, src in enumerate(as_list(r.get("TrafficSources"))):
        if isinstance(src, dict) and str(src.get("Type", "")).lower() == "vpc-lattice":
            if isinstance(src.get("Identifier"), str):
                tgs.append(src["Identifier"])
            else:
                s.warn(r.pkeys("TrafficSources", i), "traffic source identifier unknown", "unresolved-reference")
    if not tgs:
        s.warn(r.keys, "the group has no vpc-lattice traffic source; its instances serve no "
               "Lattice target group", "asg-traffic-source", severity="info")
    sgs: list[str] = []
    lt = r.get("LaunchTemplate")
    if isinstance(lt, dict):
        sgs = s.imp.launch_template_sgs(lt.get("LaunchTemplateId") or lt.get("LaunchTemplateName"))
    b.auto_scaling_group(r.key, loc=r.loc, count=count, subnets=r.strs("VPCZoneIdentifier"),
                         azs=r.strs("AvailabilityZones"), security_groups=sgs, target_groups=tgs)


def _map_lattice(r: _Resource, b: ScenarioBuilder) -> None:
    s = r.s
    t = r.type.removeprefix("AWS::VpcLattice::")
    loc = r.loc
    arn = s.attribute(r.logical, "Ref", r.keys)
    rid = s.attribute(r.logical, "Id", r.keys) if t not in ("AuthPolicy", "ResourcePolicy") else None
    idents = [x for x in (arn, rid) if isinstance(x, str)]
    if t == "ServiceNetwork":
        b.service_network(r.key, loc=loc, account=s.account, name=r.text("Name"), id=rid, auth_type=r.text("AuthType"),
                          tags=_tags(r.get("Tags")), idents=idents)
    elif t == "Service":
        b.service(r.key, loc=loc, account=s.account, name=r.text("Name"), id=rid,
                  custom_domain=r.text("CustomDomainName"), certificate_arn=r.text("CertificateArn"),
                  auth_type=r.text("AuthType"), tags=_tags(r.get("Tags")), idents=idents)
    elif t == "Listener":
        action = _action(r, r.get("DefaultAction"), r.pkeys("DefaultAction"))
        b.listener(r.key, loc=loc, service=r.require("ServiceIdentifier", "listener"), name=r.text("Name"),
                   protocol=r.text("Protocol"), port=as_int(r.get("Port")), default_action=action or {},
                   idents=idents)
    elif t == "Rule":
        if not known(r.get("Match")):
            s.warn(r.pkeys("Match"), "the rule's match has unresolved values; rule not imported (a partial match "
                   "would catch more requests than the template intends)", "unresolved-reference")
            return
        action = _action(r, r.get("Action"), r.pkeys("Action"))
        b.rule(r.key, loc=loc, listener=r.require("ListenerIdentifier", "rule"), name=r.text("Name"),
               priority=as_int(r.get("Priority")), match=_match(r, r.get("Match"), r.pkeys("Match")),
               action=action or {}, idents=idents)
    elif t == "TargetGroup":
        cfg = r.get("Config")
        cfg = cfg if isinstance(cfg, dict) else {}
        typ = (r.text("Type") or "INSTANCE").upper()
        b.target_group(r.key, loc=loc, account=s.account, name=r.text("Name"), id=rid, type=typ,
                       vpc=cfg.get("VpcIdentifier") if isinstance(cfg.get("VpcIdentifier"), str) else None,
                       protocol=cfg.get("Protocol") if isinstance(cfg.get("Protocol"), str) else None,
                       protocol_version=cfg.get("ProtocolVersion") if isinstance(cfg.get("ProtocolVersion"), str)
                       else None, port=as_int(cfg.get("Port")) or None,
                       ip_address_type=cfg.get("IpAddressType") if isinstance(cfg.get("IpAddressType"), str) else None,
                       health_check=_health_check(cfg.get("HealthCheck")), tags=_tags(r.get("Tags")), idents=idents)
        if typ != "LAMBDA" and "VpcIdentifier" not in cfg:
            s.warn(r.pkeys("Config"), f"target group {r.logical} has no Config.VpcIdentifier", "tg-vpc")
        for i, tgt in enumerate(as_list(r.get("Targets"))):
            if isinstance(tgt, dict) and isinstance(tgt.get("Id"), (str, int)):
                b.target(r.key, str(tgt["Id"]), loc=r.loc_of("Targets", i), port=as_int(tgt.get("Port")) or None)
            else:
                s.warn(r.pkeys("Targets", i), "target Id unknown; target dropped", "unresolved-reference")
    elif t == "ServiceNetworkVpcAssociation":
        b.vpc_association(r.require("ServiceNetworkIdentifier", "association"),
                          r.require("VpcIdentifier", "association"), loc=loc,
                          security_groups=r.strs("SecurityGroupIds"))
    elif t == "ServiceNetworkServiceAssociation":
        b.service_association(r.require("ServiceNetworkIdentifier", "association"),
                              r.require("ServiceIdentifier", "association"), loc=loc)
    elif t == "AuthPolicy":
        policy = r.get("Policy")
        if not known(policy):
            s.warn(r.pkeys("Policy"), "the policy has unresolved values; not imported", "unresolved-reference")
        elif policy is None:
            s.warn(r.keys, "AuthPolicy without Policy", "property-missing")
        else:
            b.auth_policy(r.require("ResourceIdentifier", "policy"), policy, loc=loc)
    elif t == "AccessLogSubscription":
        b.access_log(r.require("ResourceIdentifier", "subscription"), loc=loc)
    elif r.type in NOT_SIMULATED:
        s.warn(r.keys, f"{r.type}: {NOT_SIMULATED[r.type]}", "not-simulated")
    else:
        s.warn(r.keys, f"{r.type} is not simulated; ignored", "unmapped-resource")


# --- the importer -----------------------------------------------------------------------------------

class _Importer:
    def __init__(self, region: str) -> None:
        self.region = region
        self.b = ScenarioBuilder(name="imported", region=region)
        self.stacks: list[Stack] = []
        self._exports: dict[str, tuple[Stack, str]] | None = None
        self._building_exports = False
        self._lattice_pl: dict[str, set[str]] = {}

    def import_value(self, name: str, s: Stack, keys: Keys) -> Any:
        if self._building_exports:
            return s.warn(keys, "Fn::ImportValue cannot be used in an export name", "intrinsic-shape")
        if self._exports is None:
            self._building_exports = True
            try:
                self._exports = self._collect_exports()
            finally:
                self._building_exports = False
        found = self._exports.get(name)
        if found is None:
            return s.warn(keys, f"Fn::ImportValue: no given stack exports '{name}'", "unknown-export",
                          hint=suggest(name, list(self._exports)) or "import the stack that exports it too")
        stack, key = found
        return stack.ev(stack.outputs[key].get("Value"), ("Outputs", key, "Value"))

    def _collect_exports(self) -> dict[str, tuple[Stack, str]]:
        out: dict[str, tuple[Stack, str]] = {}
        for st in self.stacks:
            for key, output in st.outputs.items():
                if not isinstance(output, dict) or not isinstance(output.get("Export"), dict):
                    continue
                if "Condition" in output and not st.condition(output["Condition"], ("Outputs", key, "Condition")):
                    continue
                name = st.string(output["Export"].get("Name"), ("Outputs", key, "Export", "Name"), "export name")
                if not isinstance(name, str):
                    continue
                if name in out:
                    st.warn(("Outputs", key, "Export", "Name"), f"export '{name}' is also exported by stack "
                            f"{out[name][0].name}; the first one wins", "duplicate-export")
                    continue
                out[name] = (st, key)
        return out

    def subnet_cidr(self, subnet_id: Any) -> str | None:
        for st in self.stacks:
            for lg, res in st.resources.items():
                if isinstance(res, dict) and res.get("Type") == "AWS::EC2::Subnet" \
                        and generated_id("subnet", st.name, lg) == subnet_id:
                    cidr = st.prop(lg, "CidrBlock")
                    return cidr if isinstance(cidr, str) else None
        return None

    def launch_template_sgs(self, ident: Any) -> list[str]:
        for st in self.stacks:
            for lg, res in st.resources.items():
                if not (isinstance(res, dict) and res.get("Type") == "AWS::EC2::LaunchTemplate"):
                    continue
                if ident not in (f"lt-{_hexid(st, lg)}", st.prop(lg, "LaunchTemplateName")):
                    continue
                data = st.prop(lg, "LaunchTemplateData")
                if not isinstance(data, dict):
                    return []
                sgs = [g for g in as_list(data.get("SecurityGroupIds")) if isinstance(g, str)]
                for nic in as_list(data.get("NetworkInterfaces")):
                    if isinstance(nic, dict):
                        sgs += [g for g in as_list(nic.get("Groups")) if isinstance(g, str)]
                return sgs
        return []

    def lattice_prefix_lists(self, s: Stack) -> set[str]:
        """Prefix-list ids that a parameter or mapping named like 'Lattice' holds (documented rule)."""
        if s.name in self._lattice_pl:
            return self._lattice_pl[s.name]
        found: set[str] = set()
        for name in s.parameters:
            if "lattice" in name.lower():
                v = s.parameter(name, ("Parameters", name))
                for x in v if isinstance(v, list) else [v]:
                    if isinstance(x, str) and x.startswith("pl-"):
                        found.add(x)

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for v in node.values():
                    walk(v)
            elif isinstance(node, str) and node.startswith("pl-"):
                found.add(node)
        for name, mapping in s.mappings.items():
            if "lattice" in name.lower():
                walk(mapping)
        self._lattice_pl[s.name] = found
        return found


def _split_params(params: Mapping[str, str] | None) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    shared: dict[str, str] = {}
    per_stack: dict[str, dict[str, str]] = {}
    for k, v in (params or {}).items():
        key = str(k).strip()
        if "/" in key:
            stack, _, name = key.partition("/")
            per_stack.setdefault(stack, {})[name] = str(v)
        else:
            shared[key] = str(v)
    return shared, per_stack


def _param_location(key: str) -> Location:
    return Location(None, None, None, f"--param {key}")


def import_cloudformation(paths: list[str], params: dict[str, str] | None = None, *,
                          lint: bool = False) -> ImportResult:
    """Import CloudFormation templates (YAML or JSON) as one scenario.

    ``params`` sets template parameters and the pseudo parameters ``AWS::AccountId`` and
    ``AWS::Region``; a key ``<stack>/<Name>`` applies to one stack only (the stack name is the
    file name without extension). ``lint=True`` adds cfn-lint's findings as notes.
    Raises ScenarioError (every problem located as file:line:col) for templates that cannot be
    read or are invalid; everything that is valid but not simulated becomes a warning.
    """
    from latsim.scenario import read_text
    if not paths:
        raise ScenarioError([Problem("no template given", code="usage")])
    shared, per_stack = _split_params(params)
    region = shared.get("AWS::Region", DEFAULT_REGION)
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise ScenarioError([Problem(f"'{region}' is not an AWS region", _param_location("AWS::Region"),
                                     allowed="e.g. us-east-1", code="param")])
    imp = _Importer(region)
    problems: list[Problem] = []
    loaded: list[tuple[str, str, Any, Positions, str]] = []
    names: set[str] = set()
    for path in paths:
        try:
            text = read_text(path)
            data, pos = read_template(text, str(path), notes=problems)
        except ScenarioError as exc:
            problems.extend(exc.all_problems)
            continue
        if not isinstance(data, dict):
            problems.append(Problem("a CloudFormation template is a mapping with a Resources section",
                                    Location(str(path), 1, 1), code="template-shape"))
            continue
        stem = re.sub(r"[^A-Za-z0-9-]+", "-", Path(path).stem).strip("-") or "stack"
        name, n = stem, 1
        while name in names:
            n += 1
            name = f"{stem}-{n}"
        names.add(name)
        loaded.append((name, str(path), data, pos, text))
    for stack, values in per_stack.items():
        if stack not in names:
            problems.append(Problem(f"--param for unknown stack '{stack}'",
                                    _param_location(f"{stack}/{next(iter(values))}"),
                                    hint=suggest(stack, names) or f"stacks: {', '.join(sorted(names))}",
                                    severity="warning", code="param"))
    for name, file, data, pos, _ in loaded:
        overrides = {**shared, **per_stack.get(name, {})}
        account = overrides.get("AWS::AccountId", DEFAULT_ACCOUNT_ID)
        if not re.fullmatch(r"\d{12}", account):
            problems.append(Problem(f"AWS::AccountId '{account}' is not a 12-digit account id",
                                    _param_location(f"{name}/AWS::AccountId"), code="param"))
            account = DEFAULT_ACCOUNT_ID
        if overrides.get("AWS::Region", region) != region:
            problems.append(Problem(f"stack {name} is given region {overrides['AWS::Region']}; latsim simulates one "
                                    f"region and uses {region}", _param_location(f"{name}/AWS::Region"),
                                    severity="warning", code="param"))
        st = Stack(imp, name, file, data, pos, account, overrides)
        imp.stacks.append(st)
        imp.b.account(account)  # unnamed, as from every source: a stack is not its account
        expand_template(st)
        _check_shape(st)
    declared = {p for st in imp.stacks for p in st.parameters} | set(PSEUDO_PARAMETERS)
    for key in shared:
        if key not in declared:
            problems.append(Problem(f"parameter '{key}' is not declared by any template", _param_location(key),
                                    hint=suggest(key, declared), severity="warning", code="param"))
    for st in imp.stacks:
        for key in per_stack.get(st.name, {}):
            if key not in st.parameters and key not in PSEUDO_PARAMETERS:
                problems.append(Problem(f"parameter '{key}' is not declared by stack {st.name}",
                                        _param_location(f"{st.name}/{key}"), hint=suggest(key, list(st.parameters)),
                                        severity="warning", code="param"))
    for st in imp.stacks:
        transforms = st.t.get("Transform")
        others = [x for x in (transforms if isinstance(transforms, list) else [transforms])
                  if x is not None and x != "AWS::LanguageExtensions"]
        if others:
            st.warn(("Transform",), f"transform{'s' if len(others) > 1 else ''} {', '.join(map(str, others))} "
                    "not expanded (latsim expands only AWS::LanguageExtensions: Fn::ForEach, Fn::Length, "
                    "Fn::ToJsonString): resources they would create are missing; AWS::Serverless::Function is "
                    "read as a Lambda function", "transform")
        for logical, body in st.resources.items():
            if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
                continue
            if not st.resource_exists(logical):
                continue
            try:
                _map_resource(_Resource(st, logical, body), imp.b)
            except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
                # a property of an unexpected shape deep inside one resource: report it there, go on
                st.error(("Resources", logical), f"{body['Type']} has properties of an unexpected shape "
                         f"({type(exc).__name__}: {exc})", "template-shape")
    if lint:
        for _, file, _, _, text in loaded:
            problems.extend(lint_template(text, file, region))
    imp.b.problems[:0] = problems
    first = imp.stacks[0].name if imp.stacks else "imported"
    imp.b.name = first if len(imp.stacks) <= 1 else f"{first}-and-{len(imp.stacks) - 1}-more"
    files = ", ".join(str(p) for p in paths)
    imp.b.description = f"Imported from CloudFormation: {files}"
    given = ", ".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
    source = f"CloudFormation templates {files}" + (f" with parameters {given}" if given else "")
    return imp.b.result(source, [str(p) for p in paths])


def _check_shape(st: Stack) -> None:
    t = st.t
    if "Resources" not in t:
        st.error((), "the template has no Resources section", "template-shape")
    elif not isinstance(t["Resources"], dict):
        st.error(("Resources",), "Resources must be a mapping of logical ids to resources", "template-shape")
    for section in ("Parameters", "Mappings", "Conditions", "Outputs"):
        if section in t and not isinstance(t[section], dict):
            st.error((section,), f"{section} must be a mapping", "template-shape")
    for logical, body in st.resources.items():
        keys: Keys = ("Resources", logical)
        if not re.fullmatch(r"[A-Za-z0-9]+", logical):
            st.error(keys, f"logical id '{logical}' must be alphanumeric", "template-shape")
        if not isinstance(body, dict):
            st.error(keys, f"resource {logical} must be a mapping with a Type", "template-shape")
        elif not isinstance(body.get("Type"), str):
            st.error(keys, f"resource {logical} has no Type", "template-shape")
        elif "Properties" in body and not isinstance(body["Properties"], dict):
            st.error(keys + ("Properties",), f"Properties of {logical} must be a mapping", "template-shape")


def lint_template(text: str, filename: str, region: str = DEFAULT_REGION) -> list[Problem]:
    """cfn-lint's findings for one template, as notes (errors become warnings: the import goes on)."""
    try:
        from cfnlint.api import lint
    except ImportError:
        return [Problem("cfn-lint is not installed (pip install 'latsim[cfn]'); --lint skipped", Location(filename),
                        severity="warning", code="lint")]
    out = []
    for m in lint(text, regions=[region]):
        rule = getattr(getattr(m, "rule", None), "id", "") or ""
        severity = "warning" if rule.startswith(("E", "W")) else "info"
        out.append(Problem(f"cfn-lint {rule}: {m.message}", Location(filename, m.linenumber, m.columnnumber),
                           severity=severity, code=f"cfn-lint:{rule}"))
    return out


__all__ = ["import_cloudformation", "lint_template", "read_template"]
