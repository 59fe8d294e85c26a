"""Rule routing without a broker: what reaches a handler and what reaches the error action."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from chalice import Chalice

from local_iot.dead_letters import DeadLetters
from local_iot.handlers import HandlerRegistry
from local_iot.router import RouterLimits, RuleRouter
from local_iot.rule_files import load_rule_file, load_rule_files

RULES_DIR = Path(__file__).resolve().parents[2] / "iot_rules"
ARN_PREFIX = "arn:aws:lambda:ap-northeast-1:123456789012:function:powerlet-t-"


class FakeSqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        self.sent.append({"url": QueueUrl, "body": json.loads(MessageBody)})


def router_for(app: Chalice, rules=None) -> tuple[RuleRouter, FakeSqs]:
    sqs = FakeSqs()
    router = RuleRouter(
        rules or load_rule_files(RULES_DIR),
        HandlerRegistry(app, ARN_PREFIX),
        DeadLetters(sqs, {"DeadLetterQueue": "http://sqs/dlq"}),
        ledger=None,
        limits=RouterLimits(workers=2, retry_attempts=0, retry_delay_ms=0),
        clock_ms=lambda: 42,
    )
    router.start()
    return router, sqs


def test_a_rule_whose_function_the_app_lacks_goes_to_the_error_action() -> None:
    # GIVEN an app without ingest_telemetry (the handler is not written yet)
    router, sqs = router_for(Chalice(app_name="empty"))
    try:
        # WHEN telemetry arrives
        router.on_message("powerlet/gw/gw-1/telemetry", b'{"v":1}', retained=False)
        assert router.wait_idle(5)
    finally:
        router.stop()
    # THEN the rule's error action gets AWS's error-action message with the original payload
    [letter] = sqs.sent
    body = letter["body"]
    assert letter["url"] == "http://sqs/dlq"
    assert body["ruleName"] == "ingest_telemetry"
    assert body["topic"] == "powerlet/gw/gw-1/telemetry"
    assert base64.b64decode(body["base64OriginalPayload"]) == b'{"v":1}'
    [failure] = body["failures"]
    assert failure["failedAction"] == "LambdaAction"
    assert failure["failedResource"] == ARN_PREFIX + "IngestTelemetry"
    assert "IngestTelemetry" in failure["errorMessage"]


def test_select_star_alone_on_binary_cannot_feed_a_lambda(tmp_path: Path) -> None:
    # GIVEN a rule that passes the payload through unencoded
    document = json.loads((RULES_DIR / "gateway_presence.json").read_text())
    document["RuleName"] = "raw"
    document["TopicRulePayload"]["Sql"] = "SELECT * FROM 'raw/+'"
    (tmp_path / "raw.json").write_text(json.dumps(document))
    calls: list[Any] = []
    app = Chalice(app_name="t")
    app.lambda_function(name="gateway_presence")(lambda event, context: calls.append(event))
    router, sqs = router_for(app, [load_rule_file(tmp_path / "raw.json")])
    try:
        # WHEN a JSON and a binary message arrive
        router.on_message("raw/1", b'{"a": 1}', retained=False)
        router.on_message("raw/2", b"\xff\xfe", retained=False)
        assert router.wait_idle(5)
    finally:
        router.stop()
    # THEN the JSON one is invoked and the binary one goes to the error action
    assert calls == [{"a": 1}]
    [letter] = sqs.sent
    assert "binary" in letter["body"]["failures"][0]["errorMessage"]


def test_retained_replays_and_unmatched_topics_are_not_routed() -> None:
    calls: list[Any] = []
    app = Chalice(app_name="t")
    app.lambda_function(name="ingest_telemetry")(lambda event, context: calls.append(event))
    router, sqs = router_for(app)
    try:
        router.on_message("powerlet/gw/g/telemetry", b"{}", retained=True)
        router.on_message("powerlet/other", b"{}", retained=False)
        router.on_message("powerlet/gw/g/telemetry", b"{}", retained=False)
        assert router.wait_idle(5)
    finally:
        router.stop()
    assert calls == [
        {"raw": "e30=", "thing_name": "g", "received_at_ms": 42}  # no publisher known: no client_id
    ]
    assert sqs.sent == []
