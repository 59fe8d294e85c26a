"""What running the stage needs beyond each function's error alarm: alarms on throttling,
duration, API 5XX, DynamoDB throttling, IoT rule failures and SES bounces; API stage
throttling and a WAF rate rule; reserved concurrency for ingest; X-Ray tracing. ``docs/runbook.md`` says what
to do when each alarm fires.

Merged into the template by ``template.merge_template``; the properties given for
Chalice's own resources (``RestAPI`` and the functions) are deep-merged into them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .inventory import FunctionSpec, RuleSpec, logical_id_for

ALARM_PERIOD_S = 300
# API Gateway stage throttling (token bucket per stage, all methods): far above a
# portfolio's normal load (docs/performance.md), low enough that one client's loop
# cannot spend the account's Lambda concurrency ("Throttle API requests", API Gateway).
API_RATE_LIMIT_PER_S = 50
API_BURST_LIMIT = 100
# Ingest keeps this much concurrency for itself whatever the portal does, and never
# takes more (its DynamoDB writes stay bounded). Lambda refuses a reservation that
# leaves under 100 unreserved, so a new account (limit 10) deploys with 0 = none.
INGEST_RESERVED_DEFAULT = 20
DURATION_ALARM_SHARE = 0.8  # of the function's timeout
SES_BOUNCE_RATE_ALARM = 0.05  # SES reviews an account at 5 %, pauses sending at 10 %
# WAF rate rule: requests per client address per 5 minutes before it is blocked for a
# while. A whole office behind one NAT address stays far below; a script does not.
WAF_REQUESTS_PER_5_MIN_PER_IP = 3000
API_STAGE = "api"  # functions/.chalice/config.json api_gateway_stage
INGEST = logical_id_for("ingest_telemetry")


def _alarm(name: str, description: str, metric: dict[str, Any], threshold: float) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": name,
            "AlarmDescription": f"{description} (docs/runbook.md)",
            **metric,
            "Period": ALARM_PERIOD_S,
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
        },
    }


def _metric(namespace: str, name: str, statistic: str, **dimensions: Any) -> dict[str, Any]:
    metric: dict[str, Any] = {"Namespace": namespace, "MetricName": name, "Statistic": statistic}
    if dimensions:
        metric["Dimensions"] = [{"Name": k, "Value": v} for k, v in dimensions.items()]
    return metric


def function_operations(
    stage: str, spec: FunctionSpec, function_name: str, timeout_s: int
) -> dict[str, Any]:
    lid = spec.logical_id
    ref = {"Ref": lid}
    overrides: dict[str, Any] = {"Tracing": "Active"}
    if lid == INGEST:
        overrides["ReservedConcurrentExecutions"] = {
            "Fn::If": [
                "HasIngestReservation",
                {"Ref": "IngestReservedConcurrency"},
                {"Ref": "AWS::NoValue"},
            ]
        }
    return {
        lid: {"Properties": overrides},
        # Active tracing: the Lambda service writes the segments with the role's rights,
        # granted inline in every role (deploy.permissions, "Tracing").
        f"{lid}ThrottlesAlarm": _alarm(
            f"{function_name}-throttles",
            f"{spec.name} was throttled: invocations refused for lack of concurrency",
            _metric("AWS/Lambda", "Throttles", "Sum", FunctionName=ref),
            1,
        ),
        f"{lid}DurationAlarm": _alarm(
            f"{function_name}-duration",
            f"{spec.name} ran close to its {timeout_s} s timeout",
            _metric("AWS/Lambda", "Duration", "Maximum", FunctionName=ref),
            round(timeout_s * 1000 * DURATION_ALARM_SHARE),
        ),
    }


def api_operations(stage: str) -> dict[str, Any]:
    api_name = f"powerlet-{stage}"
    return {
        # Chalice's API (AWS::Serverless::Api): named, so its metrics can be found;
        # throttled and traced at the stage.
        "RestAPI": {
            "Properties": {
                "Name": api_name,
                "TracingEnabled": True,
                "MethodSettings": [
                    {
                        "ResourcePath": "/*",
                        "HttpMethod": "*",
                        "ThrottlingRateLimit": API_RATE_LIMIT_PER_S,
                        "ThrottlingBurstLimit": API_BURST_LIMIT,
                        # no per-method detailed metrics (billed per metric): the
                        # API-wide 5XXError the alarm reads needs none
                    }
                ],
            }
        },
        "Api5xxAlarm": _alarm(
            f"powerlet-{stage}-api-5xx",
            "The API answered 5XX (a function failed or timed out)",
            _metric("AWS/ApiGateway", "5XXError", "Sum", ApiName=api_name),
            5,
        ),
    }


def _visibility(metric: str) -> dict[str, Any]:
    return {
        "SampledRequestsEnabled": True,
        "CloudWatchMetricsEnabled": True,
        "MetricName": metric,
    }


def waf_operations(stage: str) -> dict[str, Any]:
    """A regional web ACL on the API stage with one rate-based rule per client address
    ("Rate-based rule statement", AWS WAF developer guide): the stage throttle protects
    the account as a whole, this one keeps a single address from using all of it."""
    return {
        "ApiWebAcl": {
            "Type": "AWS::WAFv2::WebACL",
            "Properties": {
                "Name": f"powerlet-{stage}-api",
                "Scope": "REGIONAL",
                "DefaultAction": {"Allow": {}},
                "VisibilityConfig": _visibility(f"powerlet-{stage}-api"),
                "Rules": [
                    {
                        "Name": "rate-per-address",
                        "Priority": 0,
                        "Action": {"Block": {}},
                        "Statement": {
                            "RateBasedStatement": {
                                "Limit": WAF_REQUESTS_PER_5_MIN_PER_IP,
                                "AggregateKeyType": "IP",
                            }
                        },
                        "VisibilityConfig": _visibility(f"powerlet-{stage}-api-rate"),
                    }
                ],
            },
        },
        "ApiWebAclAssociation": {
            "Type": "AWS::WAFv2::WebACLAssociation",
            # SAM names the stage it makes <api><StageName>Stage; the stage must exist
            "DependsOn": [f"RestAPI{API_STAGE}Stage"],
            "Properties": {
                "ResourceArn": {
                    "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/"
                    "${RestAPI}/stages/" + API_STAGE
                },
                "WebACLArn": {"Fn::GetAtt": ["ApiWebAcl", "Arn"]},
            },
        },
    }


def table_operations(stage: str) -> dict[str, Any]:
    table = {"Ref": "PowerletTable"}
    return {
        f"Table{kind}ThrottleAlarm": _alarm(
            f"powerlet-{stage}-table-{kind.lower()}-throttles",
            f"DynamoDB throttled {kind.lower()}s of the table",
            _metric("AWS/DynamoDB", f"{kind}ThrottleEvents", "Sum", TableName=table),
            1,
        )
        for kind in ("Read", "Write")
    }


def _action_types(rule: RuleSpec) -> list[str]:
    actions = rule.properties["TopicRulePayload"].get("Actions", [])
    return sorted({kind for action in actions for kind in action})


RuleNameOf = Callable[[str, RuleSpec], str]


def rule_operations(stage: str, rules: list[RuleSpec], rule_name_of: RuleNameOf) -> dict[str, Any]:
    """Per rule: its actions failing (IoT ``Failure``, by action type) and its SQL failing
    to parse a message (``ParseError``)."""
    resources: dict[str, Any] = {}
    for rule in rules:
        name = rule_name_of(stage, rule)
        for action in _action_types(rule):
            resources[f"{rule.logical_id}{action}FailureAlarm"] = _alarm(
                f"{name}-{action.lower()}-failures",
                f"IoT rule {rule.rule_name} could not run its {action} action",
                _metric("AWS/IoT", "Failure", "Sum", RuleName=name, ActionType=action),
                1,
            )
        resources[f"{rule.logical_id}ParseErrorAlarm"] = _alarm(
            f"{name}-parse-errors",
            f"IoT rule {rule.rule_name} could not parse a message",
            _metric("AWS/IoT", "ParseError", "Sum", RuleName=name),
            1,
        )
    return resources


def mail_operations(stage: str) -> dict[str, Any]:
    return {
        "SesBounceRateAlarm": _alarm(
            f"powerlet-{stage}-ses-bounce-rate",
            "SES bounce rate is high: SES reviews the account at 5 % and pauses at 10 %",
            _metric("AWS/SES", "Reputation.BounceRate", "Maximum"),
            SES_BOUNCE_RATE_ALARM,
        )
    }


def operations_parameters() -> dict[str, Any]:
    return {
        "Parameters": {
            "IngestReservedConcurrency": {
                "Type": "Number",
                "Default": INGEST_RESERVED_DEFAULT,
                "MinValue": 0,
                "Description": "Concurrency reserved for (and capping) telemetry ingest; "
                "0 for none (an account whose limit is under 100 + this).",
            }
        },
        "Conditions": {
            "HasIngestReservation": {
                "Fn::Not": [{"Fn::Equals": [{"Ref": "IngestReservedConcurrency"}, "0"]}]
            }
        },
    }


def merge(into: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``extra`` into ``into`` (dicts merged key by key, anything else replaced)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into


def operations(
    stage: str,
    functions: list[FunctionSpec],
    rules: list[RuleSpec],
    names: Callable[[str, str], str],
    timeouts: Callable[[FunctionSpec], int],
    rule_name_of: RuleNameOf,
) -> dict[str, Any]:
    """Every resource and override of this module for the stage."""
    resources: dict[str, Any] = {}
    for spec in functions:
        merge(
            resources,
            function_operations(stage, spec, names(stage, spec.name), timeouts(spec)),
        )
    merge(resources, api_operations(stage))
    merge(resources, waf_operations(stage))
    merge(resources, table_operations(stage))
    merge(resources, rule_operations(stage, rules, rule_name_of))
    merge(resources, mail_operations(stage))
    return resources
