"""Write failed deliveries to the dead-letter SQS queue, in the shapes AWS itself writes.

Two AWS paths end there, and each keeps its AWS message shape so that the cloud
code reading the queue sees locally what it will see in AWS:

- a rule action that cannot deliver (no such function, a payload Lambda cannot
  take) -> the rule's ``ErrorAction``: ``{"ruleName", "topic", "clientId",
  "base64OriginalPayload", "failures": [...]}``;
- a handler that raises on every attempt -> the function's asynchronous
  on-failure destination: ``{"requestContext", "requestPayload",
  "responseContext", "responsePayload"}``.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .errors import DeadLetterError

log = logging.getLogger(__name__)

MAX_SQS_BODY_BYTES = 256 * 1024
MAX_ERROR_MESSAGE_CHARS = 1_000


class DeadLetters:
    def __init__(self, sqs_client: Any, queue_urls: dict[str, str]) -> None:
        self._sqs = sqs_client
        self._queue_urls = queue_urls  # logical id (rule's ErrorAction Ref) -> queue URL

    def rule_action_failed(
        self,
        *,
        queue_logical_id: str,
        rule_name: str,
        topic: str,
        client_id: str | None,
        payload: bytes,
        failed_resource: str,
        error_message: str,
    ) -> None:
        body = {
            "ruleName": rule_name,
            "topic": topic,
            "cloudwatchTraceId": str(uuid.uuid4()),
            "clientId": client_id or "",
            "base64OriginalPayload": base64.b64encode(payload).decode("ascii"),
            "failures": [
                {
                    "failedAction": "LambdaAction",
                    "failedResource": failed_resource,
                    "errorMessage": error_message[:MAX_ERROR_MESSAGE_CHARS],
                }
            ],
        }
        self._send(queue_logical_id, body)

    def invocation_failed(
        self,
        *,
        queue_logical_id: str,
        function_arn: str,
        request_id: str,
        attempts: int,
        event: Any,
        error: BaseException,
    ) -> None:
        body = {
            "version": "1.0",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "requestContext": {
                "requestId": request_id,
                "functionArn": f"{function_arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {
                "errorMessage": str(error)[:MAX_ERROR_MESSAGE_CHARS],
                "errorType": type(error).__name__,
            },
        }
        self._send(queue_logical_id, body)

    def _send(self, queue_logical_id: str, body: dict[str, Any]) -> None:
        url = self._queue_urls.get(queue_logical_id)
        if url is None:
            raise DeadLetterError(f"no queue for the logical id {queue_logical_id!r}")
        text = json.dumps(body, separators=(",", ":"), default=str)
        if len(text.encode()) > MAX_SQS_BODY_BYTES:
            raise DeadLetterError(f"dead letter of {len(text)} bytes exceeds the SQS limit")
        try:
            self._sqs.send_message(QueueUrl=url, MessageBody=text)
        except (BotoCoreError, ClientError) as exc:
            raise DeadLetterError(f"could not write to {url}: {exc}") from exc
