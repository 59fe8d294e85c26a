"""The packaged stack carries what operating it needs: alarms on throttles, duration, API
5XX, DynamoDB throttling, IoT rule failures and SES bounces; API stage throttling and
tracing; reserved concurrency for ingest; active tracing on every function."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deploy.inventory import app_functions, load_rules, logical_id_for
from deploy.operations import (
    API_BURST_LIMIT,
    API_RATE_LIMIT_PER_S,
    API_STAGE,
    WAF_REQUESTS_PER_5_MIN_PER_IP,
)

ALARM = "AWS::CloudWatch::Alarm"
REPO = Path(__file__).resolve().parents[2]


def _alarms(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == ALARM}


def _watches(alarm: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
    return alarm["Namespace"], alarm["MetricName"], dims


def test_every_function_is_traced_and_alarmed_on_throttles_and_duration(
    resources: dict[str, Any],
) -> None:
    watched = {
        (namespace, metric, str(dims))
        for namespace, metric, dims in map(_watches, _alarms(resources).values())
    }
    for spec in app_functions():
        function = resources[spec.logical_id]["Properties"]
        assert function["Tracing"] == "Active", spec.name
        role = resources[f"{spec.logical_id}Role"]["Properties"]
        statements = role["Policies"][0]["PolicyDocument"]["Statement"]
        tracing = [st for st in statements if st.get("Sid") == "Tracing"]
        assert tracing and set(tracing[0]["Action"]) == {
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
        }
        assert "ManagedPolicyArns" not in role  # everything a role holds is measured
        for metric in ("Errors", "Throttles", "Duration"):
            dims = str({"FunctionName": {"Ref": spec.logical_id}})
            assert ("AWS/Lambda", metric, dims) in watched, (spec.name, metric)
        duration = resources[f"{spec.logical_id}DurationAlarm"]["Properties"]
        assert duration["Threshold"] < function["Timeout"] * 1000


def test_ingest_has_reserved_concurrency_unless_the_account_is_too_small(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    ingest = resources[logical_id_for("ingest_telemetry")]["Properties"]
    assert ingest["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "HasIngestReservation",
            {"Ref": "IngestReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert template["Parameters"]["IngestReservedConcurrency"]["Default"] > 0
    # and only ingest: the portal is not given a share it may not need
    others = [s for s in app_functions() if s.name != "ingest_telemetry"]
    assert not any(
        "ReservedConcurrentExecutions" in resources[s.logical_id]["Properties"] for s in others
    )


def test_the_api_stage_is_throttled_traced_and_alarmed_on_5xx(resources: dict[str, Any]) -> None:
    api = resources["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api"  # Chalice's API, merged into
    (setting,) = api["Properties"]["MethodSettings"]
    assert setting["ThrottlingRateLimit"] == API_RATE_LIMIT_PER_S
    assert setting["ThrottlingBurstLimit"] == API_BURST_LIMIT
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
    assert api["Properties"]["TracingEnabled"] is True
    watched = [_watches(a) for a in _alarms(resources).values()]
    assert ("AWS/ApiGateway", "5XXError", {"ApiName": api["Properties"]["Name"]}) in watched


def test_table_throttling_rule_failures_and_bounces_are_alarmed(resources: dict[str, Any]) -> None:
    watched = [_watches(a) for a in _alarms(resources).values()]
    table = {"TableName": {"Ref": "PowerletTable"}}
    assert ("AWS/DynamoDB", "ReadThrottleEvents", table) in watched
    assert ("AWS/DynamoDB", "WriteThrottleEvents", table) in watched
    assert ("AWS/SES", "Reputation.BounceRate", {}) in watched
    for rule in load_rules():
        name = resources[rule.logical_id]["Properties"]["RuleName"]
        assert ("AWS/IoT", "ParseError", {"RuleName": name}) in watched
        for action in rule.properties["TopicRulePayload"]["Actions"]:
            for kind in action:
                dims = {"RuleName": name, "ActionType": kind}
                assert ("AWS/IoT", "Failure", dims) in watched, (rule.rule_name, kind)


def test_every_alarm_notifies_the_alarm_topic(resources: dict[str, Any]) -> None:
    alarms = _alarms(resources)
    assert len(alarms) > 40
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms.values())
    assert all(
        "docs/runbook.md" in a["AlarmDescription"]
        for a in alarms.values()
        if "Throttl" in a["MetricName"]
    )


def test_a_waf_rate_rule_guards_the_api_stage(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    acl = resources["ApiWebAcl"]["Properties"]
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    (rule,) = acl["Rules"]
    assert rule["Action"] == {"Block": {}}
    rate = rule["Statement"]["RateBasedStatement"]
    assert rate == {"Limit": WAF_REQUESTS_PER_5_MIN_PER_IP, "AggregateKeyType": "IP"}
    association = resources["ApiWebAclAssociation"]
    # on the stage Chalice's API deploys to, once that stage exists
    assert association["Properties"]["ResourceArn"]["Fn::Sub"].endswith(
        "/restapis/${RestAPI}/stages/api"
    )
    assert association["DependsOn"] == ["RestAPIapiStage"]
    assert "RestAPIapiStage" not in resources  # made by the SAM transform, not by us


def test_the_stage_named_by_the_waf_and_the_local_server_is_chalices() -> None:
    config = json.loads((REPO / "functions" / ".chalice" / "config.json").read_text())
    stages = {s.get("api_gateway_stage", "api") for s in config["stages"].values()}
    assert stages == {API_STAGE}
