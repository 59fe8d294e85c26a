"""A small evaluator of AWS IoT policies, for checking the gateway policy offline.

It resolves the template's intrinsic functions for one account and region,
substitutes the thing policy variables of the connecting thing, and matches
resources the way AWS IoT does: ``*`` matches any characters and ``?`` one;
MQTT wildcards (``+``, ``#``) in a requested topic filter are plain characters,
so a gateway asking for ``$aws/things/+/...`` gets no other gateway's shadows.
Explicit Deny wins over Allow; no matching Allow denies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

THING_VARIABLE = "${iot:Connection.Thing.ThingName}"
_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]+)\}")


@dataclass(frozen=True)
class Account:
    partition: str = "aws"
    region: str = "ap-northeast-1"
    account_id: str = "123456789012"

    @property
    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Partition": self.partition,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
        }

    def iot_arn(self, suffix: str) -> str:
        return f"arn:{self.partition}:iot:{self.region}:{self.account_id}:{suffix}"


def resolve(value: Any, account: Account, refs: dict[str, str] | None = None) -> Any:
    """Resolve Ref, Fn::Join, Fn::Sub and Fn::GetAtt (to ``refs`` or a made-up ARN)."""
    refs = {**account.pseudo, **(refs or {})}
    if isinstance(value, list):
        return [resolve(v, account, refs) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return refs.get(value["Ref"], f"<{value['Ref']}>")
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        return refs.get(f"{logical_id}.{attribute}", f"<{logical_id}.{attribute}>")
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(p, account, refs)) for p in parts)
    if set(value) == {"Fn::Sub"}:
        text = value["Fn::Sub"]

        def substitute(match: re.Match[str]) -> str:
            if match.group(1):
                return "${" + match.group(2) + "}"
            name = match.group(2)
            return refs.get(name, f"<{name}>")

        return _SUB_VARIABLE.sub(substitute, text)
    return {k: resolve(v, account, refs) for k, v in value.items()}


def _pattern(resource: str, thing_name: str) -> re.Pattern[str]:
    parts = resource.split(THING_VARIABLE)
    out = []
    for index, part in enumerate(parts):
        out.append("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in part))
        if index < len(parts) - 1:
            # A substituted value is literal: its own characters are never wildcards.
            out.append(re.escape(thing_name))
    return re.compile("".join(out), re.DOTALL)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _conditions_hold(condition: dict[str, Any] | None, attached: bool) -> bool:
    if not condition:
        return True
    for operator, tests in condition.items():
        for key, expected in tests.items():
            if operator == "Bool" and key == "iot:Connection.Thing.IsAttached":
                if (str(expected).lower() == "true") != attached:
                    return False
            else:
                raise ValueError(f"the evaluator does not know condition {operator} {key}")
    return True


def _matches(statement: dict[str, Any], action: str, resource: str, thing: str) -> bool:
    actions = _as_list(statement["Action"])
    if not any(_pattern(a, thing).fullmatch(action) for a in actions):
        return False
    return any(_pattern(r, thing).fullmatch(resource) for r in _as_list(statement["Resource"]))


def is_allowed(
    policy: dict[str, Any], thing_name: str, action: str, resource: str, attached: bool = True
) -> bool:
    """Would AWS IoT let the thing ``thing_name`` (its client id) do ``action`` on ``resource``?"""
    allowed = False
    for statement in policy["Statement"]:
        if not _matches(statement, action, resource, thing_name):
            continue
        if not _conditions_hold(statement.get("Condition"), attached):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed
