"""Which shadow `documents` events the relay-confirmation handler acts on."""

from __future__ import annotations

from typing import Any

from chalicelib.pipeline.confirmation import RelayConfirmations


class RecordingDeadLetters:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, reason: str, source: str, event: Any) -> None:
        self.sent.append(reason)


class Unused:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} must not be reached for this event")


def handler(dead: RecordingDeadLetters) -> RelayConfirmations:
    u: Any = Unused()
    return RelayConfirmations(u, u, u, u, u, u, dead)  # type: ignore[arg-type]


def documents(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "previous": None,
        "current": {"state": state, "version": 1},
        "timestamp": 1795832665,
        "thing_name": "pl-co-gw1",
        "shadow_name": "meter-m1",
        "received_at_ms": 1795832665000,
    }


def test_the_clouds_own_desired_write_is_ignored_not_dead_lettered() -> None:
    # GIVEN the documents event of a desired-only write (the device has not reported yet)
    dead = RecordingDeadLetters()
    event = documents({"desired": {"power": "off", "reason": "vacant", "cmd": "c1"}})
    # WHEN the handler sees it
    result = handler(dead).handle(event)
    # THEN there is nothing to confirm and nothing in the dead-letter queue
    assert result.status == "ignored"
    assert dead.sent == []


def test_a_documents_event_without_state_is_dead_lettered() -> None:
    dead = RecordingDeadLetters()
    event = documents({})
    event["current"] = "garbage"
    assert handler(dead).handle(event).status == "dead_letter"
    assert dead.sent == ["documents event has no current.state"]


def test_a_reported_state_that_is_not_an_object_is_dead_lettered() -> None:
    dead = RecordingDeadLetters()
    assert handler(dead).handle(documents({"reported": "on"})).status == "dead_letter"
    assert dead.sent == ["current.state.reported is not an object"]
