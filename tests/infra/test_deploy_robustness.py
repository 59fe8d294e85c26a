"""``make deploy`` is idempotent and recovers: CloudFormation played by botocore's Stubber
(moto cannot roll a create back or fail a change set for being empty), SES by the Stubber,
S3, STS, DynamoDB, Cognito and CloudWatch Logs by moto."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from deploy.__main__ import DEFAULT_REGION
from deploy.aws_deploy import artifact_bucket_name, deploy
from deploy.errors import LeftoverResourceError, SenderNotVerifiedError, StackStateError
from deploy.iot_policy import COMPONENT_NAME
from deploy.packaging import PackagedStack

pytestmark = pytest.mark.usefixtures("in_process_aws")

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-central-1"
ACCOUNT = "123456789012"  # moto's
NAME = "powerlet-prod"
SENDER = "alerts@powerlet-ops.example"
NOW = datetime(2026, 12, 6, tzinfo=UTC)
NO_CHANGES = (
    "The submitted information didn't contain changes. "
    "Submit different information to create a change set."
)


@dataclass
class Rig:
    cfn: Any
    ses: Any
    cfn_stub: Stubber
    ses_stub: Stubber
    session: Any
    stack: PackagedStack
    said: list[str]

    def deploy(self) -> dict[str, str]:
        return deploy(
            self.stack,
            REGION,
            {"SenderEmail": SENDER},
            self.session,
            progress=self.said.append,
            wait_delay_s=0,
        )


class _Session:
    """A boto3 session whose CloudFormation and SES are stubbed; the rest is moto."""

    def __init__(self, stubbed: dict[str, Any]) -> None:
        self._stubbed = stubbed

    def client(self, service: str) -> Any:
        return self._stubbed.get(service) or boto3.client(service, region_name=REGION)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    template = tmp_path / "sam.json"
    template.write_text(json.dumps({"Resources": {}}))
    code = tmp_path / "deployment.zip"
    code.write_bytes(b"code")
    artifact = tmp_path / "1.0.1" / "greengrass_component.zip"
    artifact.parent.mkdir()
    artifact.write_bytes(b"component")
    stack = PackagedStack("prod", template, code, artifact, {"ComponentVersion": "1.0.1"}, [], [])
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name=REGION)
        ses = boto3.client("sesv2", region_name=REGION)
        with Stubber(cfn) as cfn_stub, Stubber(ses) as ses_stub:
            session = _Session({"cloudformation": cfn, "sesv2": ses})
            yield Rig(cfn, ses, cfn_stub, ses_stub, session, stack, [])
            cfn_stub.assert_no_pending_responses()
            ses_stub.assert_no_pending_responses()


def _sender_verified(rig: Rig) -> None:
    rig.ses_stub.add_response(
        "get_email_identity",
        {"VerifiedForSendingStatus": True},
        {"EmailIdentity": SENDER},
    )


def _stack(rig: Rig, status: str, outputs: list[dict[str, str]] | None = None) -> None:
    described = {"StackName": NAME, "CreationTime": NOW, "StackStatus": status}
    if outputs is not None:
        described["Outputs"] = outputs
    rig.cfn_stub.add_response("describe_stacks", {"Stacks": [described]}, {"StackName": NAME})


def _no_stack(rig: Rig) -> None:
    rig.cfn_stub.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {NAME} does not exist",
    )


def _change_set(rig: Rig, kind: str, status: str, reason: str = "") -> None:
    rig.cfn_stub.add_response(
        "create_change_set",
        {"Id": "arn:cs", "StackId": "arn:stack"},
        {
            "StackName": NAME,
            "ChangeSetName": ANY,
            "ChangeSetType": kind,
            "TemplateURL": ANY,
            "Capabilities": ANY,
            "Parameters": ANY,
        },
    )
    rig.cfn_stub.add_response(
        "describe_change_set", {"Status": status, "StatusReason": reason}, None
    )


def test_an_unchanged_stack_deploys_as_a_no_op(rig: Rig) -> None:
    # GIVEN a deployed stack and a verified sender
    _sender_verified(rig)
    _stack(rig, "UPDATE_COMPLETE")
    # WHEN the change set turns out empty
    _change_set(rig, "UPDATE", "FAILED", NO_CHANGES)
    rig.cfn_stub.add_response(
        "describe_change_set", {"Status": "FAILED", "StatusReason": NO_CHANGES}
    )
    rig.cfn_stub.add_response("delete_change_set", {})
    _stack(rig, "UPDATE_COMPLETE", [{"OutputKey": "TableName", "OutputValue": NAME}])
    # THEN the deploy succeeds, executes nothing, deletes the empty change set, gives outputs
    assert rig.deploy() == {"TableName": NAME}
    assert f"{NAME}: no changes: nothing to deploy" in rig.said


def test_a_failed_change_set_is_an_error_with_its_reason(rig: Rig) -> None:
    _sender_verified(rig)
    _stack(rig, "UPDATE_COMPLETE")
    _change_set(rig, "UPDATE", "FAILED", "Template format error: bad")
    rig.cfn_stub.add_response(
        "describe_change_set", {"Status": "FAILED", "StatusReason": "Template format error: bad"}
    )
    with pytest.raises(Exception, match="Template format error: bad"):
        rig.deploy()


def _rolled_back_create(rig: Rig, leftovers: list[tuple[str, str, str]]) -> None:
    _sender_verified(rig)
    _stack(rig, "ROLLBACK_COMPLETE")
    event = {"StackId": "arn:stack", "EventId": "e", "StackName": NAME, "Timestamp": NOW}
    rig.cfn_stub.add_response(
        "describe_stack_events",
        {
            "StackEvents": [
                {
                    **event,
                    "LogicalResourceId": "SenderIdentity",
                    "ResourceStatus": "CREATE_FAILED",
                    "ResourceStatusReason": "Email address is not verified",
                }
            ]
        },
    )
    rig.cfn_stub.add_response(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                {
                    "LogicalResourceId": logical,
                    "PhysicalResourceId": physical,
                    "ResourceType": kind,
                    "LastUpdatedTimestamp": NOW,
                    "ResourceStatus": "DELETE_SKIPPED",
                }
                for logical, kind, physical in leftovers
            ]
        },
    )


def _table(name: str) -> Any:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        DeletionProtectionEnabled=True,
    )
    return ddb


def test_a_rolled_back_first_create_is_deleted_cleared_and_created_again(rig: Rig) -> None:
    # GIVEN the first create rolled back and kept its (empty, protected) table and a log group
    ddb = _table(NAME)
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/lambda/powerlet-prod-ingest")
    _rolled_back_create(
        rig,
        [
            ("PowerletTable", "AWS::DynamoDB::Table", NAME),
            ("IngestLogGroup", "AWS::Logs::LogGroup", "/aws/lambda/powerlet-prod-ingest"),
        ],
    )
    rig.cfn_stub.add_response("delete_stack", {}, {"StackName": NAME})
    _no_stack(rig)  # the delete waiter: gone
    # WHEN deployed again THEN the stack is created (not updated) and executed
    _change_set(rig, "CREATE", "CREATE_COMPLETE")
    rig.cfn_stub.add_response("execute_change_set", {})
    _stack(rig, "CREATE_COMPLETE")
    _stack(rig, "CREATE_COMPLETE", [])
    assert rig.deploy() == {}
    # AND the leftovers are gone, and the reason of the failure was shown
    assert NAME not in ddb.list_tables()["TableNames"]
    assert not logs.describe_log_groups()["logGroups"]
    assert any("Email address is not verified" in line for line in rig.said), rig.said


def test_a_leftover_holding_data_stops_the_deploy_before_anything_is_deleted(rig: Rig) -> None:
    # GIVEN the retained table of the failed create holds an item
    ddb = _table(NAME)
    ddb.put_item(TableName=NAME, Item={"pk": {"S": "COMPANY#c1"}})
    _rolled_back_create(rig, [("PowerletTable", "AWS::DynamoDB::Table", NAME)])
    # WHEN deployed THEN refused, naming the table; the stack is not deleted (no stub for it)
    with pytest.raises(LeftoverResourceError, match=f"{NAME} \\(AWS::DynamoDB::Table holds data"):
        rig.deploy()
    assert NAME in ddb.list_tables()["TableNames"]


@pytest.mark.parametrize("status", ["UPDATE_IN_PROGRESS", "ROLLBACK_FAILED", "DELETE_FAILED"])
def test_a_busy_or_broken_stack_is_refused_before_any_upload(rig: Rig, status: str) -> None:
    _sender_verified(rig)
    _stack(rig, status)
    with pytest.raises(StackStateError, match=status):
        rig.deploy()
    assert not boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]


def test_an_unverified_sender_stops_the_deploy_first(rig: Rig) -> None:
    # GIVEN neither the address nor its domain is verified in SES
    for identity in (SENDER, SENDER.split("@")[1]):
        rig.ses_stub.add_client_error(
            "get_email_identity",
            service_error_code="NotFoundException",
            expected_params={"EmailIdentity": identity},
        )
    # THEN refused with the command that verifies it; CloudFormation is never asked
    with pytest.raises(SenderNotVerifiedError, match="aws sesv2 create-email-identity"):
        rig.deploy()


def test_a_sender_of_a_verified_domain_is_accepted(rig: Rig) -> None:
    rig.ses_stub.add_client_error("get_email_identity", service_error_code="NotFoundException")
    rig.ses_stub.add_response(
        "get_email_identity",
        {"VerifiedForSendingStatus": True},
        {"EmailIdentity": "powerlet-ops.example"},
    )
    _stack(rig, "UPDATE_COMPLETE")
    _change_set(rig, "UPDATE", "FAILED", "No updates are to be performed.")
    rig.cfn_stub.add_response(
        "describe_change_set",
        {"Status": "FAILED", "StatusReason": "No updates are to be performed."},
    )
    rig.cfn_stub.add_response("delete_change_set", {})
    _stack(rig, "UPDATE_COMPLETE", [])
    assert rig.deploy() == {}
    assert "sender alerts@powerlet-ops.example: verified in SES (powerlet-ops.example)" in rig.said


def test_the_cli_requires_a_sender_address() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy", "deploy", "--stage", "prod"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": f"{REPO / 'infra'}:{REPO / 'functions'}:{REPO}", "PATH": "/usr/bin"},
    )
    assert result.returncode == 2
    assert "--sender-email" in result.stderr


def test_gdk_config_agrees_with_make_deploy() -> None:
    config = json.loads((REPO / "greengrass_component" / "gdk-config.json").read_text())
    ((name, settings),) = config["component"].items()
    # the same component, published to the bucket make deploy uses for the dev stage
    assert name == COMPONENT_NAME
    publish = settings["publish"]
    makefile = (REPO / "Makefile").read_text()
    assert re.search(rf"^REGION \?= {publish['region']}$", makefile, re.MULTILINE)
    assert publish["region"] == DEFAULT_REGION
    gdk_bucket = f"{publish['bucket']}-{publish['region']}-{ACCOUNT}"  # GDK's naming
    assert gdk_bucket == artifact_bucket_name("dev", ACCOUNT, DEFAULT_REGION)
    # and gdk's zip leaves out what build.py leaves out
    excludes = settings["build"]["options"]["excludes"]
    assert {"**/__pycache__/**", "**/*.pyc", "meter_gateway/simulator/**"} <= set(excludes)


def test_no_command_is_referenced_that_does_not_exist() -> None:
    texts = [
        p.read_text()
        for p in [REPO / "Makefile", *REPO.glob("docs/*.md"), *REPO.glob("infra/deploy/*.py")]
    ]
    commands = set(re.findall(r"python -m deploy (\w+)", "\n".join(texts)))
    assert commands <= {"package", "deploy", "redrive"}, commands
