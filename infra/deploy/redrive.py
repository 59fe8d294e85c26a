"""``python -m deploy redrive``: send the stage's dead letters back to the function they
were meant for, once the cause is fixed (a gateway registered, a bug deployed away).

The queue holds three shapes (docs/runbook.md, "Dead letters"):

- ingest's own refusals: ``{"reason", "source": "ingest_telemetry", "event"}``;
- the IoT rules' error action: ``{"ruleName", "topic", "clientId",
  "base64OriginalPayload", "failures"}`` (the rule could not invoke its function): the
  ingest rule's event is rebuilt as its SQL builds it, with the time SQS received the
  letter as the arrival time;
- Lambda's on-failure destination of an asynchronous invocation:
  ``{"requestContext": {"functionArn"}, "requestPayload"}``.

Each letter is invoked synchronously; a letter whose invocation succeeds is deleted (if
the function refuses it again, it writes a new letter with the new reason). A letter of
no known shape, or whose invocation fails, stays in the queue. ``--dry-run`` only says
what it would do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .permissions import function_name_in_aws

INGEST = "ingest_telemetry"
RECEIVE_BATCH = 10  # SQS's maximum per receive
VISIBILITY_S = 120  # long enough for one synchronous ingest
MAX_LETTERS = 10_000

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]  # function name, event -> answer


@dataclass(frozen=True)
class Target:
    function: str
    event: dict[str, Any]


@dataclass
class RedriveReport:
    redriven: list[str] = field(default_factory=list)  # message ids
    kept: list[tuple[str, str]] = field(default_factory=list)  # (message id, why)

    def lines(self) -> list[str]:
        out = [f"re-driven: {len(self.redriven)}", f"kept: {len(self.kept)}"]
        out.extend(f"  {mid}: {why}" for mid, why in self.kept)
        return out


def target_of(stage: str, body: dict[str, Any], sent_ms: int) -> Target | None:
    """Where a letter goes back to, with what event; None for an unknown shape."""
    if body.get("source") == INGEST and isinstance(body.get("event"), dict):
        return Target(function_name_in_aws(stage, INGEST), body["event"])
    rule = str(body.get("ruleName", ""))
    if rule.endswith(f"_{INGEST}") and body.get("base64OriginalPayload"):
        topic = str(body.get("topic", "")).split("/")
        event = {
            "raw": body["base64OriginalPayload"],
            "thing_name": topic[2] if len(topic) > 2 else "",
            "client_id": body.get("clientId"),
            "received_at_ms": sent_ms,
        }
        return Target(function_name_in_aws(stage, INGEST), event)
    context = body.get("requestContext")
    if isinstance(context, dict) and context.get("functionArn") and "requestPayload" in body:
        function = str(context["functionArn"]).split(":")[6]  # arn:aws:lambda:r:a:function:NAME
        payload = body["requestPayload"]
        return Target(function, payload) if isinstance(payload, dict) else None
    return None


class Redriver:
    def __init__(self, sqs: Any, queue_url: str, invoke: Invoke, stage: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._invoke = invoke
        self._stage = stage
        self._kept: list[dict[str, Any]] = []

    def run(self, limit: int, dry_run: bool = False) -> RedriveReport:
        if not 0 < limit <= MAX_LETTERS:
            raise ValueError(f"limit must be 1..{MAX_LETTERS}, not {limit}")
        report = RedriveReport()
        # kept letters stay hidden until the end, so one run never reads one twice
        self._kept = []
        seen: set[str] = set()
        while len(seen) < limit:
            batch = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=min(RECEIVE_BATCH, limit - len(seen)),
                VisibilityTimeout=VISIBILITY_S,
                AttributeNames=["SentTimestamp"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            fresh = [m for m in batch if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                self._one(message, report, dry_run)
        for message in self._kept:
            self._release(message)
        return report

    def _one(self, message: dict[str, Any], report: RedriveReport, dry_run: bool) -> None:
        mid = message["MessageId"]
        try:
            body = json.loads(message["Body"])
        except json.JSONDecodeError:
            body = None
        sent_ms = int(message.get("Attributes", {}).get("SentTimestamp", "0"))
        target = target_of(self._stage, body, sent_ms) if isinstance(body, dict) else None
        if target is None:
            self._keep(message, report, "not a known dead-letter shape")
            return
        if dry_run:
            self._keep(message, report, f"would re-drive to {target.function}")
            return
        answer = self._invoke(target.function, target.event)
        if answer.get("FunctionError"):
            self._keep(message, report, f"{target.function} failed: {answer.get('Payload')}")
            return
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        report.redriven.append(mid)

    def _keep(self, message: dict[str, Any], report: RedriveReport, why: str) -> None:
        report.kept.append((message["MessageId"], why))
        self._kept.append(message)

    def _release(self, message: dict[str, Any]) -> None:
        """Visible again at once: a kept letter is not hidden from the next reader."""
        self._sqs.change_message_visibility(
            QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )


def lambda_invoker(lambda_client: Any) -> Invoke:
    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        answer = lambda_client.invoke(
            FunctionName=function,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        payload = answer["Payload"].read().decode()
        return {"FunctionError": answer.get("FunctionError"), "Payload": payload[:500]}

    return invoke


def queue_name(stage: str) -> str:
    return f"powerlet-{stage}-dead-letters"
