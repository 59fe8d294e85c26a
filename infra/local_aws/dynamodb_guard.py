"""What the stand-in adds in front of moto's DynamoDB: the no-Scan guard,
request serialisation, and optional transaction-conflict injection.

- **No Scan.** The product promises that no request or event path scans a
  table. Guarding at the stand-in catches a Scan from any process (the API under
  ``chalice local``, an event handler, a test). Maintenance tools mark their
  requests with ``MAINTENANCE_HEADER``. Refused Scans are counted and served at
  ``/_powerlet/scans`` so a test session can assert the count stayed at zero.
- **Serialisation.** moto's DynamoDB backend is not thread-safe: concurrent
  ``TransactWriteItems`` fail inside moto with "dictionary changed size during
  iteration". Real DynamoDB isolates transactions; serialising requests here
  gives the same isolation (never weaker).
- **Conflicts.** Real DynamoDB cancels a transaction that overlaps another on
  the same item (``TransactionConflict``). Serialisation hides that, so with
  ``conflict_rate`` > 0 the guard cancels that share of transactions the way
  DynamoDB does, and the callers' retry paths are exercised for real.
"""

from __future__ import annotations

import io
import json
import random
import threading
from collections.abc import Callable, Iterable
from typing import Any

from .sent_messages import SENT_PATH, serve_sent

MAINTENANCE_HEADER = "X-Powerlet-Maintenance"
MAINTENANCE_FLAG = "powerlet_maintenance"
COUNTER_PATH = "/_powerlet/scans"
_DYNAMODB_TARGET = "DynamoDB_20120810."

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class DynamoGuard:
    def __init__(self, app: WsgiApp, conflict_rate: float = 0.0, seed: int | None = None) -> None:
        self._app = app
        self._serial = threading.Lock()
        self._stats = threading.Lock()
        self._conflict_rate = conflict_rate
        self._random = random.Random(seed)
        self.refused: list[str] = []
        self.conflicts_injected = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == COUNTER_PATH:
            return self._serve_counter(start_response)
        if environ.get("PATH_INFO") == SENT_PATH:
            return serve_sent(start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(_DYNAMODB_TARGET):
            return self._app(environ, start_response)
        operation = target[len(_DYNAMODB_TARGET) :]
        if operation == "Scan" and not environ.get(_wsgi_header(MAINTENANCE_HEADER)):
            with self._stats:
                self.refused.append(environ.get("HTTP_USER_AGENT", "?")[:120])
            return _error(
                start_response,
                "ValidationException",
                "Scan refused by the Powerlet no-Scan guard: request and event paths must use "
                "keys or indexes (see docs/data-model.md)",
            )
        if operation == "TransactWriteItems" and self._conflict_rate > 0:
            body = read_body(environ)
            with self._stats:
                inject = self._random.random() < self._conflict_rate
                if inject:
                    self.conflicts_injected += 1
            if inject:
                items = json.loads(body or b"{}").get("TransactItems", [])
                reasons = [{"Code": "TransactionConflict"} for _ in items]
                return _error(
                    start_response,
                    "TransactionCanceledException",
                    "Transaction cancelled, please refer cancellation reasons for specific "
                    "reasons [" + ", ".join("TransactionConflict" for _ in items) + "]",
                    CancellationReasons=reasons,
                )
        with self._serial:
            # Drain the body inside the lock: moto reads it lazily.
            return list(self._app(environ, start_response))

    def _serve_counter(self, start_response: Callable[..., Any]) -> list[bytes]:
        with self._stats:
            body = json.dumps(
                {
                    "refused": len(self.refused),
                    "callers": self.refused,
                    "conflicts_injected": self.conflicts_injected,
                }
            ).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]


def _wsgi_header(name: str) -> str:
    return "HTTP_" + name.upper().replace("-", "_")


def read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _error(
    start_response: Callable[..., Any], code: str, message: str, **extra: Any
) -> list[bytes]:
    body = json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **extra}
    ).encode()
    start_response(
        "400 Bad Request",
        [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))],
    )
    return [body]


def allow_maintenance_scans(client: Any) -> None:
    """Mark every Scan of this botocore client as a maintenance request."""

    def _add_header(request: Any, **_: Any) -> None:
        request.headers[MAINTENANCE_HEADER] = "1"

    client.meta.events.register("before-sign.dynamodb.Scan", _add_header)
    setattr(client.meta, MAINTENANCE_FLAG, True)
