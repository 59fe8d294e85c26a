"""Least privilege measured: the AWS calls each function made, evaluated against its role.

The tests record every (function, IAM action, resource) the functions perform across
the functional and end-to-end tiers (``tests/infra/iam_usage.py``). Here each one is
evaluated against the function's role policy from the packaged template with moto's
IAM policy evaluator (``moto.iam.access_control.IAMPolicy``, the one the moto server
uses when it enforces IAM), after the template's intrinsic functions are resolved for
the account and region the calls were made in. Two findings:

- a call the role does not grant (it would be AccessDenied in AWS);
- a grant no call used (``Sid`` x action x resource), unless AWS itself uses it on the
  function's behalf (``permissions.UNMEASURED_GRANTS``, each with its reason).

Resources the stack creates (the table, queue, bucket, pool, bill function) are taken by
type: the code reaches exactly one of each through its settings, and the stand-ins name
them differently per tier. Resources named at run time (things, certificates, sender
identities) are evaluated under their real names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import InventoryError
from .inventory import FunctionSpec
from .permissions import UNMEASURED_GRANTS
from .policy_check import Account, resolve

STACK_TABLE = "powerlet-stack-table"
STACK_BUCKET = "powerlet-stack-brand-assets"
STACK_QUEUE = "powerlet-stack-dead-letters"
STACK_POOL = "stack-user-pool"
STACK_BILL_FUNCTION = "powerlet-stack-bill_property"
# What moto's evaluator matches correctly; anything else is refused, never guessed.
_UNSUPPORTED_ELEMENTS = ("NotAction", "NotResource", "NotPrincipal", "Condition")


@dataclass(frozen=True, order=True)
class Use:
    function: str
    action: str
    resource: str


@dataclass(frozen=True, order=True)
class Grant:
    function: str
    sid: str
    action: str
    resource: str


@dataclass
class Measurement:
    not_granted: list[Use] = field(default_factory=list)
    never_used: list[Grant] = field(default_factory=list)
    unmeasured: list[tuple[Grant, str]] = field(default_factory=list)
    used: dict[str, set[str]] = field(default_factory=dict)
    granted: dict[str, set[str]] = field(default_factory=dict)


def stack_refs(account: Account) -> dict[str, str]:
    """The template's references, resolved to the canonical names of ``canonical``."""
    p, r, a = account.partition, account.region, account.account_id
    return {
        "PowerletTable": STACK_TABLE,
        "PowerletTable.Arn": f"arn:{p}:dynamodb:{r}:{a}:table/{STACK_TABLE}",
        "BrandAssetsBucket": STACK_BUCKET,
        "BrandAssetsBucket.Arn": f"arn:{p}:s3:::{STACK_BUCKET}",
        "DeadLetterQueue.Arn": f"arn:{p}:sqs:{r}:{a}:{STACK_QUEUE}",
        "UserPool": STACK_POOL,
        "UserPool.Arn": f"arn:{p}:cognito-idp:{r}:{a}:userpool/{STACK_POOL}",
        "BillProperty.Arn": f"arn:{p}:lambda:{r}:{a}:function:{STACK_BILL_FUNCTION}",
    }


_STACK_RESOURCES = [
    (re.compile(r"^(arn:[^:]+:dynamodb:[^:]*:[^:]*:table/)[^/]+"), rf"\g<1>{STACK_TABLE}"),
    (re.compile(r"^(arn:[^:]+:s3:::)[^/]+"), rf"\g<1>{STACK_BUCKET}"),
    (re.compile(r"^(arn:[^:]+:sqs:[^:]*:[^:]*:).+$"), rf"\g<1>{STACK_QUEUE}"),
    (re.compile(r"^(arn:[^:]+:cognito-idp:[^:]*:[^:]*:userpool/).+$"), rf"\g<1>{STACK_POOL}"),
    # A function is named powerlet-<stage>-<name> (deploy/permissions.py): keep the name,
    # canonical the stage (two functions are invoked: bill_property, reconcile_company).
    (
        re.compile(r"^(arn:[^:]+:lambda:[^:]*:[^:]*:function:)powerlet-[a-z0-9-]+?-([a-z0-9_]+)$"),
        r"\g<1>powerlet-stack-\g<2>",
    ),
    # Each gateway's own IoT policy is named after the stage (application/gateway_policy.py):
    # the tiers' stand-ins and the packaged template name different stages.
    (
        re.compile(r"^(arn:[^:]+:iot:[^:]*:[^:]*:policy/powerlet-)[^-]+(-gw-)"),
        r"\g<1>stack\g<2>",
    ),
]
_ARN_REGION = re.compile(r"^arn:([^:]+):[^:]+:([^:]*):([^:]*):")


def canonical(resource: str) -> str:
    for pattern, replacement in _STACK_RESOURCES:
        if pattern.match(resource):
            return pattern.sub(replacement, resource, count=1)
    return resource


def _account_of(resources: Iterable[str], default: Account) -> Account:
    for resource in resources:
        match = _ARN_REGION.match(resource)
        if match and match.group(2) and match.group(3):
            return Account(match.group(1), match.group(2), match.group(3))
    return default


def function_policies(
    resources: dict[str, Any], functions: list[FunctionSpec], account: Account
) -> dict[str, dict[str, Any]]:
    """Each function's role policy from the template, resolved for ``account``."""
    policies = {}
    for spec in functions:
        role = resources.get(f"{spec.logical_id}Role")
        if role is None:
            raise InventoryError(f"{spec.name} has no role {spec.logical_id}Role in the template")
        statements: list[dict[str, Any]] = []
        for policy in role["Properties"].get("Policies", []):
            statements += resolve(policy["PolicyDocument"], account, stack_refs(account))[
                "Statement"
            ]
        if role["Properties"].get("ManagedPolicyArns"):
            raise InventoryError(
                f"{spec.name}'s role has managed policies: they cannot be measured"
            )
        for statement in statements:
            resource = statement.get("Resource")
            if isinstance(resource, str):
                statement["Resource"] = canonical(resource)
            elif isinstance(resource, list):
                statement["Resource"] = [
                    canonical(r) if isinstance(r, str) else r for r in resource
                ]
            refused = [e for e in _UNSUPPORTED_ELEMENTS if e in statement]
            if refused:
                raise InventoryError(
                    f"{spec.name}'s statement {statement.get('Sid')!r} uses {refused}, "
                    "which the evaluator (moto's IAMPolicy) does not judge correctly"
                )
        policies[spec.name] = {"Version": "2012-10-17", "Statement": statements}
    return policies


def _permitted(policy: dict[str, Any], action: str, resource: str) -> bool:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    result = IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)
    return bool(result == PermissionResult.PERMITTED)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants_of(function: str, policy: dict[str, Any]) -> list[Grant]:
    return [
        Grant(function, statement.get("Sid", "?"), action, resource)
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    ]


def measure(
    resources: dict[str, Any],
    functions: list[FunctionSpec],
    uses: Iterable[Use],
    unused_against: Iterable[Use] | None = None,
) -> Measurement:
    """Evaluate every use against its function's role; with ``unused_against``, every grant
    against those uses (meaningful only for the uses of a whole measurement)."""
    uses = sorted({Use(u.function, u.action, canonical(u.resource)) for u in uses})
    check_unused = unused_against is not None
    measured = sorted(
        {Use(u.function, u.action, canonical(u.resource)) for u in unused_against or []}
    )
    account = _account_of((u.resource for u in uses), Account())
    policies = function_policies(resources, functions, account)
    out = Measurement()
    for use in uses:
        policy = policies.get(use.function)
        if policy is None:
            raise InventoryError(f"calls were attributed to unknown function {use.function!r}")
        out.used.setdefault(use.function, set()).add(use.action)
        if not _permitted(policy, use.action, use.resource):
            out.not_granted.append(use)
    for function, policy in policies.items():
        mine = [u for u in measured if u.function == function]
        for grant in grants_of(function, policy):
            out.granted.setdefault(function, set()).add(grant.action)
            if not check_unused:
                continue
            alone = {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": grant.action, "Resource": grant.resource}
                ],
            }
            if any(
                u.action == grant.action and _permitted(alone, u.action, u.resource) for u in mine
            ):
                continue
            reason = UNMEASURED_GRANTS.get(grant.sid)
            if reason is not None:
                out.unmeasured.append((grant, reason))
            else:
                out.never_used.append(grant)
    return out


def explain(measurement: Measurement) -> str:
    lines = []
    for use in measurement.not_granted:
        lines.append(f"NOT GRANTED: {use.function} calls {use.action} on {use.resource}")
    for grant in measurement.never_used:
        lines.append(
            f"NEVER USED: {grant.function} is granted {grant.action} on {grant.resource} "
            f"({grant.sid}); drop it or list it in permissions.UNMEASURED_GRANTS with a reason"
        )
    return "\n".join(lines)
