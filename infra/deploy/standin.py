"""The part of the packaged template the AWS stand-in (moto) can create.

moto's CloudFormation has no SAM transform, so the functions (and what points
at them: rules, permissions, alarms, invoke configs) are cut away together with
anything that references a cut resource, and the rest is created for real.
"""

from __future__ import annotations

import json
from typing import Any

_INTRINSIC_KEYS = ("Ref", "Fn::GetAtt")


def _references(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item)
    elif isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else str(target).split(".")[0])
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            for token in text.split("${")[1:]:
                name = token.split("}")[0]
                if not name.startswith("!"):
                    found.add(name.split(".")[0])
        for item in value.values():
            found |= _references(item)
    return found


def references_of(resource: dict[str, Any]) -> set[str]:
    deps = resource.get("DependsOn", [])
    return _references(resource) | set(deps if isinstance(deps, list) else [deps])


def for_standin(
    template: dict[str, Any], supported_types: set[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The template minus what moto cannot create, and everything that depends on it.

    Returns the reduced template and, for each cut resource, why it was cut.
    """
    resources = json.loads(json.dumps(template["Resources"]))
    cut: dict[str, str] = {}
    for logical_id, resource in list(resources.items()):
        kind = resource["Type"]
        if kind.startswith("AWS::Serverless::"):
            cut[logical_id] = f"{kind}: SAM transform (moto has none)"
        elif kind not in supported_types:
            cut[logical_id] = f"{kind}: not in moto's CloudFormation"
        if logical_id in cut:
            del resources[logical_id]
    changed = True
    while changed:
        changed = False
        for logical_id, resource in list(resources.items()):
            missing = references_of(resource) & set(cut)
            if missing:
                cut[logical_id] = "depends on " + ", ".join(sorted(missing))
                del resources[logical_id]
                changed = True
    kept_refs = set(resources) | set(template.get("Parameters", {}))
    outputs = {
        name: out
        for name, out in template.get("Outputs", {}).items()
        if _references(out) <= kept_refs | {"AWS::Region", "AWS::AccountId", "AWS::Partition"}
    }
    rest = {k: v for k, v in template.items() if k not in {"Transform", "Resources", "Outputs"}}
    return {**rest, "Resources": resources, "Outputs": outputs}, cut


def moto_supported_types() -> set[str]:
    from moto.cloudformation.parsing import get_model_map

    return set(get_model_map())
