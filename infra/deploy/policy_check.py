"""A small evaluator of AWS IoT policies, for checking the gateway policy offline.

It resolves the template's intrinsic functions for one account and region,
substitutes the policy variables of the connecting thing and client
(``iot:Connection.Thing.ThingName``, ``iot:ClientId``; any other is refused), and matches
resources the way AWS IoT does: ``*`` matches any characters and ``?`` one;
MQTT wildcards (``+``, ``#``) in a requested topic filter are plain characters,
so a gateway asking for ``$aws/things/+/...`` gets no other gateway's shadows.
Explicit Deny wins over Allow; no matching Allow denies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

THING_NAME_KEY = "iot:Connection.Thing.ThingName"
CLIENT_ID_KEY = "iot:ClientId"
KNOWN_VARIABLES = frozenset({THING_NAME_KEY, CLIENT_ID_KEY})
THING_VARIABLE = "${" + THING_NAME_KEY + "}"
# IoT policy variables in a resource or action: ${name}.
_VARIABLE = re.compile(r"\$\{([^}]+)\}")
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


def _pattern(resource: str, variables: dict[str, str]) -> re.Pattern[str] | None:
    """The resource as a regex; None when it holds a variable this connection leaves
    unresolved (a thing variable without an attached thing): such a resource matches nothing."""
    out = []
    for index, part in enumerate(_VARIABLE.split(resource)):
        if index % 2:  # a policy variable's name
            if part not in KNOWN_VARIABLES:
                raise ValueError(f"the evaluator does not know policy variable ${{{part}}}")
            if part not in variables:
                return None
            # A substituted value is literal: its own characters are never wildcards.
            out.append(re.escape(variables[part]))
        else:
            out.append(
                "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in part)
            )
    return re.compile("".join(out), re.DOTALL)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _patterns(value: Any, variables: dict[str, str]) -> tuple[re.Pattern[str], ...]:
    return tuple(p for p in (_pattern(v, variables) for v in _as_list(value)) if p is not None)


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


@dataclass(frozen=True)
class _Statement:
    deny: bool
    actions: tuple[re.Pattern[str], ...]
    resources: tuple[re.Pattern[str], ...]

    def matches(self, action: str, resource: str) -> bool:
        return any(a.fullmatch(action) for a in self.actions) and any(
            r.fullmatch(resource) for r in self.resources
        )


class BoundPolicy:
    """A policy with the policy variables of one connection bound and its patterns compiled:
    built once per MQTT connection, asked once per packet (the local broker's gate)."""

    def __init__(
        self,
        policy: dict[str, Any],
        thing_name: str | None,
        client_id: str | None = None,
        attached: bool = True,
        mqtt: bool = True,
    ) -> None:
        client = client_id or thing_name or ""
        variables = {CLIENT_ID_KEY: client}
        # AWS resolves thing variables only over MQTT, for a client id equal to the thing
        # name (thing-policy-variables.html): not for "<thing>#2", not over HTTPS.
        if thing_name is not None and attached and mqtt and client == thing_name:
            variables[THING_NAME_KEY] = thing_name
        self._statements = tuple(
            _Statement(
                deny=statement["Effect"] == "Deny",
                actions=_patterns(statement["Action"], variables),
                resources=_patterns(statement["Resource"], variables),
            )
            for statement in policy["Statement"]
            # A statement whose condition fails is as if absent, for Allow and Deny alike.
            if _conditions_hold(statement.get("Condition"), attached)
        )

    def allows(self, action: str, resource: str) -> bool:
        """Explicit Deny wins; otherwise one matching Allow is needed."""
        allowed = False
        for statement in self._statements:
            if statement.matches(action, resource):
                if statement.deny:
                    return False
                allowed = True
        return allowed


def is_allowed(
    policy: dict[str, Any],
    thing_name: str,
    action: str,
    resource: str,
    attached: bool = True,
    client_id: str | None = None,
    mqtt: bool = True,
) -> bool:
    """Would AWS IoT let the thing ``thing_name`` (connected as ``client_id``, by default its
    own name; ``mqtt=False``: an HTTPS call) do ``action`` on ``resource``?"""
    return BoundPolicy(policy, thing_name, client_id, attached, mqtt).allows(action, resource)
