"""The Device Shadow service: one store, reached over MQTT (devices) and HTTP (cloud).

MQTT requests on ``$aws/things/<thing>/shadow[/name/<name>]/(update|get|delete)``
are answered on ``.../accepted`` or ``.../rejected``; an accepted update also
publishes ``update/delta`` (when desired differs from reported) and
``update/documents`` (previous and current). Requests from the HTTP API publish
the same messages, so a cloud update reaches the device at once.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ShadowRequestError
from .shadow_document import ShadowKey, ShadowStore, parse_get_or_delete_token

REQUEST_FILTERS = (
    "$aws/things/+/shadow/update",
    "$aws/things/+/shadow/get",
    "$aws/things/+/shadow/delete",
    "$aws/things/+/shadow/name/+/update",
    "$aws/things/+/shadow/name/+/get",
    "$aws/things/+/shadow/name/+/delete",
)
_REQUEST_TOPIC = re.compile(
    r"^\$aws/things/(?P<thing>[^/]+)/shadow(?:/name/(?P<name>[^/]+))?/(?P<op>update|get|delete)$"
)
_NAME = re.compile(r"^[a-zA-Z0-9:_-]{1,128}$")  # AWS: thing and shadow names


@dataclass(frozen=True)
class ShadowRequest:
    key: ShadowKey
    operation: str


def parse_request_topic(topic: str) -> ShadowRequest | None:
    match = _REQUEST_TOPIC.match(topic)
    if not match:
        return None
    return ShadowRequest((match["thing"], match["name"] or ""), match["op"])


def topic_prefix(key: ShadowKey) -> str:
    thing, name = key
    return f"$aws/things/{thing}/shadow/name/{name}" if name else f"$aws/things/{thing}/shadow"


def validate_key(key: ShadowKey) -> None:
    thing, name = key
    if not _NAME.match(thing):
        raise ShadowRequestError(400, f"Invalid thing name: {thing!r}")
    if name and not _NAME.match(name):
        raise ShadowRequestError(400, f"Invalid shadow name: {name!r}")


class ShadowService:
    def __init__(
        self,
        publish: Callable[[str, bytes], None],
        clock_s: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self.store = ShadowStore()
        self._publish = publish
        self._clock_s = clock_s
        # One lock around change + publish keeps each shadow's messages in version order.
        self._lock = threading.Lock()

    # --- the cloud's side (HTTP API) and the device's side (MQTT) share these -----------

    def update(self, key: ShadowKey, payload: bytes) -> dict[str, Any]:
        validate_key(key)
        prefix = topic_prefix(key)
        with self._lock:
            outcome = self.store.update(key, payload, self._clock_s())
            self._send(f"{prefix}/update/accepted", outcome.accepted)
            if outcome.delta is not None:
                self._send(f"{prefix}/update/delta", outcome.delta)
            self._send(f"{prefix}/update/documents", outcome.documents)
        return outcome.accepted

    def get(self, key: ShadowKey, client_token: str | None = None) -> dict[str, Any]:
        validate_key(key)
        with self._lock:
            return self.store.get(key, self._clock_s(), client_token)

    def delete(self, key: ShadowKey, payload: bytes = b"") -> dict[str, Any]:
        validate_key(key)
        with self._lock:
            answer = self.store.delete(key, payload, self._clock_s())
            self._send(f"{topic_prefix(key)}/delete/accepted", answer)
        return answer

    def named_shadows(self, thing_name: str) -> list[str]:
        with self._lock:
            return self.store.named_shadows(thing_name)

    # --- MQTT requests -------------------------------------------------------------------

    def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        request = parse_request_topic(topic)
        if request is None or retained:
            return
        prefix = topic_prefix(request.key)
        token = _token_or_none(payload)
        try:
            if request.operation == "update":
                self.update(request.key, payload)  # publishes accepted itself
            elif request.operation == "get":
                answer = self.get(request.key, parse_get_or_delete_token(payload))
                self._send(f"{prefix}/get/accepted", answer)
            else:
                self.delete(request.key, payload)
        except ShadowRequestError as exc:
            rejected: dict[str, Any] = {
                "code": exc.code,
                "message": exc.message,
                "timestamp": self._clock_s(),
            }
            if token is not None:
                rejected["clientToken"] = token
            self._send(f"{prefix}/{request.operation}/rejected", rejected)

    def _send(self, topic: str, message: dict[str, Any]) -> None:
        self._publish(topic, json.dumps(message, separators=(",", ":")).encode())


def _token_or_none(payload: bytes) -> str | None:
    try:
        token = json.loads(payload).get("clientToken")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None
    return token if isinstance(token, str) else None
