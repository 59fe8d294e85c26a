"""The template's non-SAM part, created by moto's CloudFormation in the AWS stand-in,
and the code working against what it created."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib.data.binding import bind_models
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.reseller_idempotency import ResellerIdempotency
from chalicelib.pipeline.dead_letters import DeadLetters
from chalicelib.wiring.settings import Settings
from local_aws.resources import ProvisionedStack
from local_aws.seed import seed_demo
from local_aws.stack import LocalStack
from tests.infra.aws_calls import recorded_actions
from tests.infra.conftest import STAGE

pytestmark = pytest.mark.functional

# What moto 5.2's CloudFormation cannot create (docs/deploy.md lists the same):
# SAM functions and API, and these types; what depends on them is cut too.
NOT_IN_MOTO = {
    "AWS::Serverless::Function",
    "AWS::Serverless::Api",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::IoT::TopicRule",
    "AWS::IoT::ThingGroup",
    "AWS::IoT::ProvisioningTemplate",
    "AWS::GreengrassV2::ComponentVersion",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::CloudWatch::Alarm",
    "AWS::WAFv2::WebACL",
    "AWS::WAFv2::WebACLAssociation",
    "AWS::SNS::Subscription",
    "AWS::S3::BucketPolicy",
    "AWS::CloudTrail::Trail",
}


def test_only_what_moto_lacks_is_cut(
    created: tuple[LocalStack, dict[str, str], dict[str, str]], resources: dict[str, Any]
) -> None:
    _standin, _outputs, cut = created
    # GIVEN the cut list  THEN every resource cut for its own type is of a type moto lacks
    own_type_cuts = {
        resources[k]["Type"] for k, why in cut.items() if not why.startswith("depends")
    }
    assert own_type_cuts == NOT_IN_MOTO
    # and the core data resources were not cut
    for logical_id in ("PowerletTable", "DeadLetterQueue", "BrandAssetsBucket", "GatewayPolicy"):
        assert logical_id not in cut


def test_the_stand_in_created_the_table_queue_bucket_and_gateway_policy(
    created: tuple[LocalStack, dict[str, str], dict[str, str]], resources: dict[str, Any]
) -> None:
    standin, outputs, _cut = created
    region = standin.region
    # THEN the table has the model's keys and both indexes
    table = boto3.client("dynamodb", region_name=region).describe_table(
        TableName=outputs["TableName"]
    )["Table"]
    assert table["TableName"] == f"powerlet-{STAGE}"
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"gsi1", "gsi2", "due"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # the dead-letter queue is the one the functions are pointed at
    assert outputs["DeadLetterQueueUrl"].endswith(f"/powerlet-{STAGE}-dead-letters")
    # the bucket exists, encrypted
    s3 = boto3.client("s3", region_name=region)
    encryption = s3.get_bucket_encryption(Bucket=outputs["BrandAssetsBucketName"])
    rule = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # the shared gateway policy holds the token exchange and names no thing
    iot = boto3.client("iot", region_name=region)
    policy = iot.get_policy(policyName=f"powerlet-{STAGE}-gateway")
    assert "iot:AssumeRoleWithCertificate" in policy["policyDocument"]
    assert "${" not in policy["policyDocument"] and "$aws/things" not in policy["policyDocument"]
    # and one role per function that moto could create, with its own inline policy
    iam = boto3.client("iam", region_name=region)
    role_names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert any("IngestTelemetryRole" in name for name in role_names)


@pytest.fixture(scope="module")
def seeded(created: tuple[LocalStack, dict[str, str], dict[str, str]]) -> Settings:
    """The demo portfolio in the stack's table (the pool is the stand-in's own: moto's
    CloudFormation cannot create Cognito pools). Returns the functions' settings."""
    standin, outputs, _cut = created
    assert standin.resources is not None
    provisioned = ProvisionedStack(
        region=standin.region,
        table_name=outputs["TableName"],
        user_pool_id=standin.resources.user_pool_id,
        user_pool_client_id=standin.resources.user_pool_client_id,
        assets_bucket=outputs["BrandAssetsBucketName"],
        dead_letter_queue_url=outputs["DeadLetterQueueUrl"],
    )
    settings = Settings(
        stage=STAGE,
        table_name=outputs["TableName"],
        region=standin.region,
        dead_letter_queue_url=outputs["DeadLetterQueueUrl"],
        assets_bucket=outputs["BrandAssetsBucketName"],
        user_pool_id=provisioned.user_pool_id,
        user_pool_client_id=provisioned.user_pool_client_id,
        bill_property_function=f"powerlet-{STAGE}-bill_property",
        reconcile_company_function=f"powerlet-{STAGE}-reconcile_company",
    )
    bind_models(settings)
    seed_demo(provisioned)
    return settings


def test_the_code_runs_against_what_the_stack_created(
    created: tuple[LocalStack, dict[str, str], dict[str, str]], seeded: Settings
) -> None:
    standin, outputs, _cut = created
    # GIVEN the demo portfolio in the stack's table
    # WHEN the catalogue lists companies through gsi2, and ingest's dead-letter path writes
    companies = {c.company_id for c in Catalogue().list_companies()}
    sqs = boto3.client("sqs", region_name=standin.region)
    DeadLetters(sqs, outputs["DeadLetterQueueUrl"]).send("probe", "test", {"x": 1})
    message = sqs.receive_message(QueueUrl=outputs["DeadLetterQueueUrl"], WaitTimeSeconds=1)
    # THEN both work against the stack's own resources
    assert {"formosa", "thames"} <= companies
    body = json.loads(message["Messages"][0]["Body"])
    assert body == {"reason": "probe", "source": "test", "event": {"x": 1}}


class _InvokeRecorder:
    """Stands in for the Lambda client (the function it would invoke is SAM-only)."""

    def __init__(self, actions: set[str]) -> None:
        self.actions = actions
        self.jobs: list[bytes] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.actions.add("lambda:InvokeFunction")
        self.jobs.append(kwargs["Payload"])
        return {"StatusCode": 202}


def _allowed(resources: dict[str, Any], logical_id: str) -> set[str]:
    document = resources[f"{logical_id}Role"]["Properties"]["Policies"][0]["PolicyDocument"]
    return {action for statement in document["Statement"] for action in statement["Action"]}


def _ingest_a_bus(settings: Settings) -> Callable[[], None]:
    """Two cycles of a prepaid meter that uses more than its credit: settlement,
    ledger, alerts and a cut through its shadow. The bus is built before recording."""
    from chalicelib.data.binding import new_connection
    from chalicelib.data.ledger_store import LedgerStore
    from chalicelib.wiring import handlers
    from tests.functional.pipeline import rig

    bus = rig.make_bus(
        LedgerStore(new_connection(settings)),
        [rig.MeterSpec("m1", "u1", rig.FLAT_TWD, credit_minor=1_000)],
        thresholds=[500],
    )
    start = datetime.now(UTC) - timedelta(hours=1)

    def run() -> None:
        handlers.ingest_telemetry(rig.event(bus, 1, start, {"m1": rig.OPENING_KWH}))
        later = start + timedelta(minutes=30)
        handlers.ingest_telemetry(rig.event(bus, 2, later, {"m1": "400.000"}))

    return run


def _presence_event(thing: str) -> dict[str, Any]:
    stamp_ms = int(datetime.now(UTC).timestamp() * 1000)
    return {
        "clientId": thing,
        "timestamp": stamp_ms,
        "eventType": "disconnected",
        "sessionIdentifier": "s-1",
        "principalIdentifier": "cert",
        "disconnectReason": "CONNECTION_LOST",
        "received_at_ms": stamp_ms,
    }


@pytest.mark.parametrize(
    ("function_name", "logical_id"),
    [
        ("gateway_presence", "GatewayPresence"),
        ("ingest_telemetry", "IngestTelemetry"),
        ("ingest_telemetry_of_a_bus", "IngestTelemetry"),
        ("offline_sweep", "OfflineSweep"),
        ("relay_retry_sweep", "RelayRetrySweep"),
        ("reconcile_balances", "ReconcileBalances"),
        ("reconcile_company", "ReconcileCompany"),
        ("postpaid_bills", "PostpaidBills"),
        ("bill_property", "BillProperty"),
    ],
)
def test_a_handler_calls_only_what_its_role_allows(
    seeded: Settings, resources: dict[str, Any], function_name: str, logical_id: str
) -> None:
    from chalicelib.wiring import container as services_module
    from chalicelib.wiring import handlers
    from local_aws import demo_data

    gateway = demo_data.GATEWAYS[0]
    events: dict[str, Callable[[], Any]] = {
        "gateway_presence": lambda: handlers.gateway_presence(
            _presence_event(gateway["thing_name"])
        ),
        # not JSON at all: the dead-letter path, with its reason
        "ingest_telemetry": lambda: handlers.ingest_telemetry(
            {
                "raw": base64.b64encode(b"not json").decode(),
                "thing_name": gateway["thing_name"],
                "client_id": gateway["thing_name"],
                "received_at_ms": 0,
            }
        ),
        "ingest_telemetry_of_a_bus": _ingest_a_bus(seeded)
        if function_name == "ingest_telemetry_of_a_bus"
        else lambda: None,
        "offline_sweep": handlers.offline_sweep,
        "relay_retry_sweep": handlers.relay_retry_sweep,
        "reconcile_balances": handlers.reconcile,
        "reconcile_company": lambda: handlers.reconcile_company(
            {"company_id": gateway["company_id"], "day": "2026-12-01"}
        ),
        "postpaid_bills": handlers.postpaid_bills,
        "bill_property": lambda: handlers.bill_property(
            {"company_id": gateway["company_id"], "property_id": gateway["property_id"]}
        ),
    }
    with recorded_actions() as actions:
        # GIVEN the function's services wired to the stack's resources
        invoker = _InvokeRecorder(actions)
        with services_module.using(services_module.Container(seeded, clients={"lambda": invoker})):
            # WHEN its handler runs on a real event against the stand-in
            events[function_name]()
    # THEN every AWS action it took is one its own role grants
    assert actions, "the handler made no AWS call at all: the event did not reach it"
    assert actions <= _allowed(resources, logical_id), actions - _allowed(resources, logical_id)


def test_reseller_idempotency_calls_only_what_the_api_role_allows(
    seeded: Settings, resources: dict[str, Any]
) -> None:
    store = ResellerIdempotency(seeded.table_name, seeded.region, 86_400)
    request = {"method": "POST", "path": "/v1/reseller/companies", "body": {"n": 1}}

    def failing() -> dict[str, Any]:
        raise ValueError("the create failed")

    with recorded_actions() as actions:
        # WHEN Powertools claims, answers, replays and releases against the stack's table
        store.run("rs-infra", "k-1", request, lambda: {"ok": True})
        assert store.run("rs-infra", "k-1", request, lambda: {}).replayed
        with pytest.raises(ValueError):
            store.run("rs-infra", "k-2", request, failing)
    # THEN every call it made is one the API handler's role grants
    assert actions == {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    assert actions <= _allowed(resources, "APIHandler")
