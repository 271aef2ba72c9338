"""``Fn::ForEach`` (the ``AWS::LanguageExtensions`` transform) expanded as CloudFormation does.

``Fn::ForEach::<LoopName>: [Identifier, Collection, {OutputKey: OutputValue}]`` may stand in
``Resources``, ``Outputs``, ``Conditions`` and in any mapping inside a resource (its properties).
For each value of the collection (a list of strings, or anything that evaluates to one: ``!Ref``
of a ``List<…>``/``CommaDelimitedList`` parameter, ``!FindInMap``, ``!Split``, ...), the output is
copied with ``${Identifier}`` replaced by the value and ``&{Identifier}`` by the value with every
non-alphanumeric character removed (in keys and strings), and ``{Ref: Identifier}`` by the value.
Loops nest. Two expansions that produce the same key are an error, as in CloudFormation.

cfn-lint ships this transform too, but for linting: where a collection cannot be resolved it
invents random names and it does not see ``--param`` values, so latsim does the expansion itself.
Expanded items keep the source position of the loop's output template.
"""

from __future__ import annotations

import re
from typing import Any

from latsim.importers.cfn_intrinsics import UNRESOLVED, Keys, Stack

FOREACH = re.compile(r"^Fn::ForEach::[A-Za-z0-9]+$")
MAX_EXPANDED = 5000
"""Items one template may expand to (a loop over a huge list is refused, not simulated)."""


def uses_language_extensions(template: dict[str, Any]) -> bool:
    t = template.get("Transform")
    names = t if isinstance(t, list) else [t]
    return "AWS::LanguageExtensions" in names


def has_foreach(node: Any, depth: int = 0) -> bool:
    if depth > 60:
        return False
    if isinstance(node, dict):
        return any((isinstance(k, str) and k.startswith("Fn::ForEach")) or has_foreach(v, depth + 1)
                   for k, v in node.items())
    if isinstance(node, list):
        return any(has_foreach(v, depth + 1) for v in node)
    return False


def expand_template(st: Stack) -> None:
    """Expand every ``Fn::ForEach`` of the stack's template in place (sections and positions)."""
    if not has_foreach(st.t):
        return
    if not uses_language_extensions(st.t):
        st.warn(("Transform",), "Fn::ForEach needs 'Transform: AWS::LanguageExtensions' (CloudFormation rejects "
                "the template without it); latsim expands it anyway", "transform")
    budget = [MAX_EXPANDED]
    for section in ("Conditions", "Resources", "Outputs"):
        body = st.t.get(section)
        if isinstance(body, dict):
            st.t[section] = _expand_mapping(st, body, (section,), {}, budget, 0)
    st.conditions = st.t["Conditions"] if isinstance(st.t.get("Conditions"), dict) else st.conditions
    st.resources = st.t["Resources"] if isinstance(st.t.get("Resources"), dict) else st.resources
    st.outputs = st.t["Outputs"] if isinstance(st.t.get("Outputs"), dict) else st.outputs


def _alnum(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "", value)


def _subst_text(text: str, env: dict[str, str]) -> str:
    for ident, value in env.items():
        text = text.replace("${" + ident + "}", value).replace("&{" + ident + "}", _alnum(value))
    return text


def _subst(node: Any, env: dict[str, str]) -> Any:
    if not env:
        return node
    if isinstance(node, dict):
        if len(node) == 1 and "Ref" in node and isinstance(node["Ref"], str) and node["Ref"] in env:
            return env[node["Ref"]]
        out = {(_subst_text(k, env) if isinstance(k, str) and not FOREACH.match(k) else k): _subst(v, env)
               for k, v in node.items()}
        ref = out.get("Ref") if len(out) == 1 else None
        if isinstance(ref, dict) and list(ref) == ["Fn::Sub"] and isinstance(ref["Fn::Sub"], str) \
                and "${" not in ref["Fn::Sub"]:
            return {"Ref": ref["Fn::Sub"]}  # !Ref {Fn::Sub: 'Subnet${Az}'}: the language extensions allow it
        return out
    if isinstance(node, list):
        return [_subst(v, env) for v in node]
    if isinstance(node, str):
        return _subst_text(node, env)
    return node


def _copy_positions(st: Stack, src: Keys, dst: Keys) -> None:
    n = len(src)
    for keys, where in list(st.pos.items()):
        if keys[:n] == src:
            st.pos.setdefault(dst + keys[n:], where)


def _collection(st: Stack, raw: Any, keys: Keys, env: dict[str, str]) -> list[str] | None:
    value = st.ev(_subst(raw, env), keys)
    if value is UNRESOLVED:
        return None
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                              for v in value):
        st.warn(keys, "the Fn::ForEach collection must be a list of strings", "foreach")
        return None
    return [str(v) for v in value]


def _expand_mapping(st: Stack, body: dict[str, Any], keys: Keys, env: dict[str, str], budget: list[int],
                    depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in body.items():
        if isinstance(k, str) and FOREACH.match(k):
            fkeys = keys + (k,)
            if depth > 10:
                st.warn(fkeys, "Fn::ForEach nested more than 10 deep is not expanded", "foreach")
                continue
            if not (isinstance(v, list) and len(v) == 3 and isinstance(v[0], str) and isinstance(v[2], dict)):
                st.error(fkeys, "Fn::ForEach takes [Identifier, Collection, {OutputKey: OutputValue}]", "foreach")
                continue
            ident, raw, template = v
            values = _collection(st, raw, fkeys + (1,), env)
            if values is None:
                st.warn(fkeys, f"Fn::ForEach {k.split('::')[-1]}: its collection is unknown; the items it would "
                        "create are missing", "foreach", hint="pass the collection's parameter with --param")
                continue
            for value in values:
                inner_env = {**env, ident: value}
                for tkey, tval in template.items():
                    if tval is None:
                        continue  # an empty key beside a nested loop (AWS's own templates have them)
                    if isinstance(tkey, str) and FOREACH.match(tkey):
                        nested = _expand_mapping(st, {tkey: tval}, fkeys + (2,), inner_env, budget, depth + 1)
                        produced = list(nested.items())
                        for nk, _ in produced:
                            _copy_positions(st, fkeys + (2, nk), keys + (nk,))
                    else:
                        produced = [(_subst_text(tkey, inner_env),
                                     _expand_value(st, _subst(tval, inner_env), fkeys + (2, tkey), inner_env,
                                                   budget, depth + 1))]
                        _copy_positions(st, fkeys + (2, tkey), keys + (produced[0][0],))
                    for nk, nv in produced:
                        budget[0] -= 1
                        if budget[0] < 0:
                            st.error(fkeys, f"Fn::ForEach expands to more than {MAX_EXPANDED} items", "foreach")
                            return out
                        if nk in out or nk in body:
                            st.error(fkeys, f"Fn::ForEach produces '{nk}' twice (CloudFormation rejects "
                                     "duplicate keys)", "foreach")
                            continue
                        out[nk] = nv
        else:
            out[k] = _expand_value(st, v, keys + (k,), env, budget, depth)
    return out


def _expand_value(st: Stack, value: Any, keys: Keys, env: dict[str, str], budget: list[int], depth: int) -> Any:
    if isinstance(value, dict):
        return _expand_mapping(st, value, keys, env, budget, depth) if has_foreach(value) else value
    if isinstance(value, list) and has_foreach(value):
        return [_expand_value(st, v, keys + (i,), env, budget, depth) for i, v in enumerate(value)]
    return value


__all__ = ["expand_template", "has_foreach", "uses_language_extensions"]
