"""The template and the code agree: every function, rule, table and environment
variable the code uses is in the stack, and nothing in the stack is unused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chalice import Chalice

from chalicelib.data.reseller_idempotency import IN_PROGRESS_LEASE_S
from deploy.errors import InventoryError
from deploy.inventory import FunctionSpec, app_functions, entry_handler, env_constants, load_rules
from deploy.packaging import PackagedStack
from deploy.permissions import (
    ENV_DEFAULTED,
    ENV_FOR_LIBRARIES,
    ENV_FROM_RUNTIME,
    ENV_FROM_STACK,
    FUNCTION_CAPABILITIES,
    UNSCOPED_ACTIONS,
    capabilities_of,
    check_classified,
    environment_of,
)
from deploy.standin import references_of
from deploy.template import merge_template, rule_name_in_aws
from tests.infra.conftest import STAGE

FUNCTION = "AWS::Serverless::Function"
# Resources nothing else needs to name: they act by themselves or on what they name.
LEAF_TYPES = {
    "AWS::CloudWatch::Alarm",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::Permission",
    "AWS::IoT::TopicRule",
    "AWS::Cognito::UserPoolGroup",
    "AWS::S3::BucketPolicy",
    "AWS::SES::EmailIdentity",
    "AWS::SNS::Subscription",
    "AWS::WAFv2::WebACLAssociation",
    # Named by the function's fixed name, not by a reference.
    "AWS::Logs::LogGroup",
}


def _functions(resources: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == FUNCTION}


def test_every_app_function_is_a_template_function_and_nothing_else_is(
    resources: dict[str, Any],
) -> None:
    # GIVEN the app's routes, authorizers, lambda functions and schedules
    specs = app_functions()
    # THEN the template has exactly these functions, with the handler Chalice names
    assert {s.logical_id for s in specs} == set(_functions(resources))
    assert {s.name for s in specs} == set(FUNCTION_CAPABILITIES)
    for spec in specs:
        props = resources[spec.logical_id]["Properties"]
        assert props["FunctionName"] == f"powerlet-{STAGE}-{spec.name}"
        if spec.kind == "schedule":
            (event,) = props["Events"].values()
            assert event["Properties"]["Schedule"] == spec.schedule


def test_event_and_scheduled_functions_run_their_own_entry_not_the_app(
    resources: dict[str, Any],
) -> None:
    # GIVEN the packaged template's functions
    handlers = {
        spec.name: resources[spec.logical_id]["Properties"]["Handler"] for spec in app_functions()
    }
    # THEN each event and scheduled function runs its module in chalicelib/lambdas (a cold
    # start imports that function's path), and only the API is the Chalice app
    assert handlers["ingest_telemetry"] == "chalicelib.lambdas.ingest_telemetry.handler"
    assert handlers["offline_sweep"] == "chalicelib.lambdas.offline_sweep.handler"
    assert handlers["api_handler"] == "app.app"
    assert sorted(n for n, h in handlers.items() if h.startswith("app.")) == ["api_handler"]


def test_a_new_event_function_without_its_own_entry_fails_the_build(tmp_path: Path) -> None:
    # GIVEN a new event function and the entries folder without a module for it
    spec = FunctionSpec("brand_new_job", "BrandNewJob", "event")
    # WHEN its handler is looked up  THEN the build refuses, naming the module to add
    with pytest.raises(InventoryError, match=r"chalicelib/lambdas/brand_new_job\.py"):
        entry_handler(spec, tmp_path)
    # and once the module exists, the function runs it
    (tmp_path / "brand_new_job.py").write_text("handler = print\n")
    assert entry_handler(spec, tmp_path) == "chalicelib.lambdas.brand_new_job.handler"


def test_every_function_has_its_own_role(resources: dict[str, Any]) -> None:
    # GIVEN the functions  WHEN their roles are read
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in _functions(resources).values()]
    # THEN no two share a role, each role is used, and Chalice's shared role is gone
    assert len(set(roles)) == len(roles)
    all_roles = {k for k, v in resources.items() if v["Type"] == "AWS::IAM::Role"}
    lambda_roles = {
        k
        for k in all_roles
        if "lambda.amazonaws.com"
        in json.dumps(resources[k]["Properties"]["AssumeRolePolicyDocument"])
    }
    assert lambda_roles == set(roles)
    assert "DefaultRole" not in resources


def _statements(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for logical_id, res in resources.items():
        if res["Type"] == "AWS::IAM::Role":
            for policy in res["Properties"].get("Policies", []):
                out += [(logical_id, s) for s in policy["PolicyDocument"]["Statement"]]
    return out


def test_no_wildcard_resource_where_a_name_or_pattern_is_known(resources: dict[str, Any]) -> None:
    # GIVEN every statement of every role in the stack
    for role, statement in _statements(resources):
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        # THEN no action is a wildcard, no role may Scan
        assert all("*" not in a for a in actions), (role, actions)
        assert "dynamodb:Scan" not in actions
        # and "*" is a resource only for actions IAM accepts on nothing narrower
        if statement["Resource"] == "*" or "*" in statement["Resource"]:
            assert set(actions) <= set(UNSCOPED_ACTIONS), (role, actions)


def test_a_function_may_only_do_what_its_capabilities_say(resources: dict[str, Any]) -> None:
    # GIVEN the token authorizer (no AWS call) and ingest (table, queue, shadows, mail)
    auth = resources["TokenAuthorizerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    auth_actions = {a for s in auth["Statement"] for a in s["Action"]}
    # THEN the authorizer may only write its own logs (and the Lambda service its traces)
    assert auth_actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    log_arn = auth["Statement"][0]["Resource"]["Fn::Sub"]
    assert log_arn.endswith(f":log-group:/aws/lambda/powerlet-{STAGE}-token_authorizer:*")
    # and the billing fan-out reads the table but cannot write it
    fan_out = resources["PostpaidBillsRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    fan_actions = {a for s in fan_out["Statement"] for a in s["Action"]}
    assert "dynamodb:Query" in fan_actions and "lambda:InvokeFunction" in fan_actions
    assert not fan_actions & {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}


def test_every_rule_file_is_a_rule_wired_to_its_function(
    resources: dict[str, Any], packaged: PackagedStack
) -> None:
    rules = load_rules()
    template_rules = {k for k, v in resources.items() if v["Type"] == "AWS::IoT::TopicRule"}
    # GIVEN the files in iot_rules/  THEN each is one rule, and no rule comes from elsewhere
    assert template_rules == {r.logical_id for r in rules}
    for rule in rules:
        props = resources[rule.logical_id]["Properties"]
        assert props["RuleName"] == rule_name_in_aws(STAGE, rule)
        assert props["TopicRulePayload"] == rule.properties["TopicRulePayload"]
        error = props["TopicRulePayload"]["ErrorAction"]["Sqs"]
        assert error["QueueUrl"] == {"Ref": "DeadLetterQueue"}
        assert resources[error["RoleArn"]["Fn::GetAtt"][0]]["Type"] == "AWS::IAM::Role"
        for target in rule.target_logical_ids:
            # the target is a packaged function IoT may invoke, for this rule only
            assert resources[target]["Type"] == FUNCTION
            permission = resources[f"{target}{rule.logical_id}Permission"]["Properties"]
            assert permission["Principal"] == "iot.amazonaws.com"
            assert permission["SourceArn"]["Fn::Sub"].endswith(":rule/" + props["RuleName"])
            # and its failures (3 attempts) land in the dead-letter queue
            config = resources[f"{target}EventInvokeConfig"]["Properties"]
            destination = config["DestinationConfig"]["OnFailure"]["Destination"]
            assert destination == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
            assert config["MaximumRetryAttempts"] == 2


def test_the_table_is_the_one_the_models_define(resources: dict[str, Any]) -> None:
    from chalicelib.data.models import PowerletItem

    schema = PowerletItem._get_schema()
    props = resources["PowerletTable"]["Properties"]
    # GIVEN the PynamoDB model  THEN keys, the indexes and TTL are the template's
    assert props["KeySchema"] == schema["key_schema"]
    indexes = {i["IndexName"]: i for i in props["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"gsi1", "gsi2", "due"}
    # the deadlines index holds keys only: an entry costs one write unit (data/deadlines.py)
    assert indexes["due"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    # and the only table the functions are told about
    tables = {k for k, v in resources.items() if v["Type"] == "AWS::DynamoDB::Table"}
    assert tables == {"PowerletTable"}


def test_function_environments_are_exactly_what_the_code_reads(resources: dict[str, Any]) -> None:
    read_by_code = set(env_constants())
    # GIVEN every ENV_* constant in chalicelib  THEN each is classified
    check_classified(read_by_code)
    set_somewhere: set[str] = set()
    for spec in app_functions():
        env = resources[spec.logical_id]["Properties"]["Environment"]["Variables"]
        # THEN a function is given only variables the code (or a library) reads
        assert set(env) <= read_by_code | ENV_FOR_LIBRARIES, (spec.name, set(env) - read_by_code)
        assert not set(env) & (ENV_FROM_RUNTIME | ENV_DEFAULTED)
        set_somewhere |= set(env)
        # and nothing but what the stack decides for it (no value left from a Chalice stage)
        assert env == environment_of(spec.name, STAGE), spec.name
        # and every variable its capabilities need
        for name, capability in ENV_FROM_STACK.items():
            if capability is None or capability in capabilities_of(spec.name):
                assert name in env, (spec.name, name)
    # THEN every stack-provided variable reaches at least one function
    assert set(ENV_FROM_STACK) <= set_somewhere


def test_nothing_in_the_template_is_unused(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    referenced: set[str] = set()
    for resource in resources.values():
        referenced |= references_of(resource)
    for output in template.get("Outputs", {}).values():
        referenced |= references_of(output)
    # Chalice's function events name their API and schedule inside the function.
    unreferenced = {
        k for k, v in resources.items() if k not in referenced and v["Type"] not in LEAF_TYPES
    }
    # GIVEN every resource  THEN each is named by another resource or an output,
    # or is a leaf that acts on what it names
    assert unreferenced == set(), unreferenced
    # and every parameter is used (a condition that decides what is made uses it too)
    for condition in template.get("Conditions", {}).values():
        referenced |= references_of(condition)
    params = set(template.get("Parameters", {}))
    assert params <= referenced, params - referenced


def test_a_new_function_without_permissions_fails_the_build() -> None:
    # GIVEN an app with one more lambda function than the permissions table knows
    app = Chalice(app_name="probe")

    @app.lambda_function(name="brand_new_job")
    def brand_new_job(event: Any, context: Any) -> None:
        return None

    specs = app_functions(app)
    # WHEN its template is generated  THEN the build refuses, naming the function
    with pytest.raises(InventoryError, match="brand_new_job"):
        merge_template(STAGE, specs, [], {})


def test_a_new_environment_variable_must_be_classified(tmp_path: Path) -> None:
    # GIVEN code that reads a variable nobody has placed in the stack
    (tmp_path / "feature.py").write_text('ENV_SHINY = "POWERLET_SHINY_NEW_THING"\n')
    found = env_constants(tmp_path)
    assert found == {"POWERLET_SHINY_NEW_THING": "feature.py"}
    # WHEN checked  THEN the build refuses
    with pytest.raises(InventoryError, match="POWERLET_SHINY_NEW_THING"):
        check_classified(set(found))


def test_production_keeps_its_data(resources: dict[str, Any]) -> None:
    from deploy.inventory import app_functions as specs

    # GIVEN the production template (generated without Chalice: only our half)
    prod = merge_template("prod", specs(), load_rules(), {})["Resources"]
    # THEN the table, pool and bucket survive a stack deletion, and the table is protected
    for logical_id in ("PowerletTable", "UserPool", "BrandAssetsBucket"):
        assert prod[logical_id]["DeletionPolicy"] == "Retain"
    assert prod["PowerletTable"]["Properties"]["DeletionProtectionEnabled"] is True
    assert prod["UserPool"]["Properties"]["DeletionProtection"] == "ACTIVE"
    # while a development stage does not
    assert resources["PowerletTable"]["Properties"]["DeletionProtectionEnabled"] is False


def test_an_idempotency_claim_outlives_the_api_function(resources: dict[str, Any]) -> None:
    """A claim's lease must not end while the create that holds it may still run."""
    assert resources["APIHandler"]["Properties"]["Timeout"] < IN_PROGRESS_LEASE_S
