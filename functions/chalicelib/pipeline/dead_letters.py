"""The dead-letter queue: every refused event with the reason, never a crash."""

from __future__ import annotations

import json
from typing import Any

from ..observability import logger

MAX_BODY_BYTES = 250_000  # SQS allows 256 KiB; keep room for the envelope


class DeadLetters:
    def __init__(self, sqs_client: Any, queue_url: str | None) -> None:
        self._sqs = sqs_client
        self._queue_url = queue_url

    def send(self, reason: str, source: str, event: Any) -> None:
        body = json.dumps({"reason": reason, "source": source, "event": event}, default=str)
        if len(body.encode()) > MAX_BODY_BYTES:
            # An oversized event is itself the reason; keep its head for diagnosis.
            clipped = json.dumps(event, default=str)[:2000]
            body = json.dumps(
                {"reason": reason, "source": source, "event": None, "event_head": clipped}
            )
        if not self._queue_url:
            logger.error("dead letter (no queue configured): %s", body[:2000])
            return
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=body)
