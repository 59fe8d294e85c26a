"""AWS IoT Device Shadow semantics for classic and named shadows, kept in memory.

This store is the single source of truth for shadows in the local stack: the
``iot-data`` HTTP API (what the cloud's boto3 client calls) and the MQTT shadow
topics (what the gateway uses) both go through it, so each sees the other's
writes at once. Rules followed (AWS IoT developer guide, "Device Shadow service
documents"): partial updates merge; ``null`` deletes a key or a whole section;
every accepted update increments ``version``; ``metadata`` mirrors the state with
per-leaf ``timestamp`` (epoch seconds); a request ``version`` that is not the
current one is rejected with 409; ``clientToken`` is echoed; the delta is every
desired key whose value differs from (or is missing in) reported; after a delete
the next shadow of that name continues the old version numbering.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import ShadowRequestError

MAX_DOCUMENT_BYTES = 8 * 1024  # AWS: state document limit
MAX_DEPTH = 6  # AWS: levels of nesting in desired / reported
MAX_CLIENT_TOKEN_BYTES = 64
MAX_SHADOWS = 100_000  # a local store, not a database: refuse runaway growth
SECTIONS = ("desired", "reported")

ShadowKey = tuple[str, str]  # (thing name, shadow name; "" = the classic shadow)


@dataclass
class _Shadow:
    state: dict[str, dict[str, Any]]
    metadata: dict[str, dict[str, Any]]
    version: int

    def document(self) -> dict[str, Any]:
        return {
            "state": _copy(self.state),
            "metadata": _copy(self.metadata),
            "version": self.version,
        }


@dataclass(frozen=True)
class UpdateOutcome:
    accepted: dict[str, Any]
    delta: dict[str, Any] | None
    documents: dict[str, Any]


class ShadowStore:
    """Not thread-safe on its own: ShadowService serialises calls (and their publishes)."""

    def __init__(self) -> None:
        self._shadows: dict[ShadowKey, _Shadow] = {}
        self._deleted_versions: dict[ShadowKey, int] = {}

    def update(self, key: ShadowKey, payload: bytes, now_s: int) -> UpdateOutcome:
        request = _parse_request(payload)
        token = _client_token(request)
        state = request.get("state")
        if not isinstance(state, dict):
            raise ShadowRequestError(400, "Missing required node: state")
        for section, value in state.items():
            if section not in SECTIONS:
                raise ShadowRequestError(400, f"State contains an invalid node: '{section}'")
            if value is not None and not isinstance(value, dict):
                raise ShadowRequestError(400, f"Invalid JSON: {section} must be an object or null")
            if _depth(value) > MAX_DEPTH:
                raise ShadowRequestError(
                    400, f"JSON contains too many levels of nesting; maximum is {MAX_DEPTH}"
                )
        shadow = self._shadows.get(key)
        expected = request.get("version")
        if expected is not None:
            if not isinstance(expected, int) or isinstance(expected, bool):
                raise ShadowRequestError(400, "Invalid version: must be an integer")
            current_version = shadow.version if shadow else self._deleted_versions.get(key, 0)
            if expected != current_version:
                raise ShadowRequestError(409, "Version conflict")
        if shadow is None and len(self._shadows) >= MAX_SHADOWS:
            raise ShadowRequestError(400, f"more than {MAX_SHADOWS} shadows in the local store")

        previous = shadow.document() if shadow else None
        if shadow is None:
            shadow = _Shadow({}, {}, self._deleted_versions.pop(key, 0))
        new_state = _copy(shadow.state)
        new_metadata = _copy(shadow.metadata)
        request_metadata: dict[str, Any] = {}
        for section, value in state.items():
            request_metadata[section] = _metadata_for(value, now_s)
            if value is None:
                new_state.pop(section, None)
                new_metadata.pop(section, None)
                continue
            merged_state, merged_meta = _merge(
                new_state.get(section, {}), new_metadata.get(section, {}), value, now_s
            )
            _set_or_drop(new_state, section, merged_state)
            _set_or_drop(new_metadata, section, merged_meta)
        if len(json.dumps(new_state, separators=(",", ":")).encode()) > MAX_DOCUMENT_BYTES:
            raise ShadowRequestError(413, "The payload exceeds the maximum size allowed")

        shadow.state, shadow.metadata = new_state, new_metadata
        shadow.version += 1
        self._shadows[key] = shadow

        accepted = _with_token(
            {
                "state": state,
                "metadata": request_metadata,
                "version": shadow.version,
                "timestamp": now_s,
            },
            token,
        )
        delta_state = _delta(new_state.get("desired", {}), new_state.get("reported", {}))
        delta = None
        if delta_state:
            delta = _with_token(
                {
                    "version": shadow.version,
                    "timestamp": now_s,
                    "state": delta_state,
                    "metadata": _pick(new_metadata.get("desired", {}), delta_state),
                },
                token,
            )
        documents = _with_token(
            {"previous": previous, "current": shadow.document(), "timestamp": now_s}, token
        )
        return UpdateOutcome(accepted, delta, documents)

    def get(self, key: ShadowKey, now_s: int, client_token: str | None = None) -> dict[str, Any]:
        shadow = self._require(key)
        document = shadow.document()
        delta = _delta(shadow.state.get("desired", {}), shadow.state.get("reported", {}))
        if delta:
            document["state"]["delta"] = delta
        document["timestamp"] = now_s
        return _with_token(document, client_token)

    def delete(self, key: ShadowKey, payload: bytes, now_s: int) -> dict[str, Any]:
        request = _parse_request(payload) if payload.strip() else {}
        token = _client_token(request)
        shadow = self._require(key)
        expected = request.get("version")
        if expected is not None and expected != shadow.version:
            raise ShadowRequestError(409, "Version conflict")
        del self._shadows[key]
        self._deleted_versions[key] = shadow.version
        return _with_token({"version": shadow.version, "timestamp": now_s}, token)

    def named_shadows(self, thing_name: str) -> list[str]:
        return sorted(name for thing, name in self._shadows if thing == thing_name and name)

    def _require(self, key: ShadowKey) -> _Shadow:
        shadow = self._shadows.get(key)
        if shadow is None:
            label = f"'{key[1]}'" if key[1] else "classic shadow"
            raise ShadowRequestError(404, f"No shadow exists with name: {label}")
        return shadow


def parse_get_or_delete_token(payload: bytes) -> str | None:
    """MQTT get requests may carry ``{"clientToken": ...}``; anything else is ignored."""
    if not payload.strip():
        return None
    return _client_token(_parse_request(payload))


def _parse_request(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_DOCUMENT_BYTES:
        raise ShadowRequestError(413, "The payload exceeds the maximum size allowed")
    try:
        request = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ShadowRequestError(400, "Payload contains invalid json") from exc
    if not isinstance(request, dict):
        raise ShadowRequestError(400, "Payload contains invalid json")
    return request


def _client_token(request: dict[str, Any]) -> str | None:
    token = request.get("clientToken")
    if token is None:
        return None
    if not isinstance(token, str) or len(token.encode()) > MAX_CLIENT_TOKEN_BYTES:
        raise ShadowRequestError(
            400, f"clientToken must be a string of at most {MAX_CLIENT_TOKEN_BYTES} bytes"
        )
    return token


def _with_token(message: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token is not None:
        message["clientToken"] = token
    return message


def _merge(
    state: dict[str, Any], metadata: dict[str, Any], patch: dict[str, Any], now_s: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    state, metadata = dict(state), dict(metadata)
    for key, value in patch.items():
        if value is None:
            state.pop(key, None)
            metadata.pop(key, None)
        elif isinstance(value, dict) and isinstance(state.get(key), dict):
            sub_state, sub_meta = _merge(state[key], metadata.get(key, {}), value, now_s)
            _set_or_drop(state, key, sub_state)
            _set_or_drop(metadata, key, sub_meta)
        elif isinstance(value, dict):
            sub_state, sub_meta = _merge({}, {}, value, now_s)
            _set_or_drop(state, key, sub_state)
            _set_or_drop(metadata, key, sub_meta)
        else:
            state[key] = _copy(value)
            metadata[key] = _metadata_for(value, now_s)
    return state, metadata


def _metadata_for(value: Any, now_s: int) -> Any:
    if isinstance(value, dict):
        return {key: _metadata_for(sub, now_s) for key, sub in value.items()}
    if isinstance(value, list):
        return [{"timestamp": now_s} for _ in value]
    return {"timestamp": now_s}


def _delta(desired: dict[str, Any], reported: dict[str, Any]) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    for key, wanted in desired.items():
        if key not in reported:
            delta[key] = _copy(wanted)
        elif isinstance(wanted, dict) and isinstance(reported[key], dict):
            sub = _delta(wanted, reported[key])
            if sub:
                delta[key] = sub
        elif not _same(wanted, reported[key]):
            delta[key] = _copy(wanted)
    return delta


def _pick(metadata: dict[str, Any], shape: dict[str, Any]) -> dict[str, Any]:
    picked: dict[str, Any] = {}
    for key, value in shape.items():
        if key not in metadata:
            continue
        if isinstance(value, dict) and isinstance(metadata[key], dict):
            picked[key] = _pick(metadata[key], value)
        else:
            picked[key] = _copy(metadata[key])
    return picked


def _same(left: Any, right: Any) -> bool:
    # JSON values: true is not 1, and 1 is not "1"
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _set_or_drop(target: dict[str, Any], key: str, value: dict[str, Any]) -> None:
    # AWS removes objects that an update leaves empty
    if value:
        target[key] = value
    else:
        target.pop(key, None)


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))
