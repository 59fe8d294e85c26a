"""Writers of a gateway's state: a plan's effects performed once, after its write won."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from chalicelib.data.control_state import BusControlState, MeterControlState
from chalicelib.data.errors import StaleStateError
from chalicelib.pipeline import contention
from chalicelib.pipeline.alerts import Alert
from chalicelib.pipeline.contention import Planned, update_bus_state
from chalicelib.pipeline.effects import Effect, Notify
from chalicelib.pipeline.errors import ControlContentionError

# --- commit, then act ---


class MemoryStates:
    """A versioned state item in memory; ``rivals`` writes land just before ours."""

    def __init__(self, rivals: int = 0) -> None:
        self.state = BusControlState("co", "gw")
        self.rivals = rivals
        self.writes = 0

    def get_state(self, company_id: str, gateway_id: str) -> BusControlState:
        return self.state

    def save_state(
        self, state: BusControlState, at: datetime, silence_by: datetime | None = None
    ) -> BusControlState:
        if self.rivals:
            self.rivals -= 1
            self.state = replace(self.state, version=self.state.version + 1)
        if state.version != self.state.version:
            raise StaleStateError("lost")
        self.writes += 1
        self.state = replace(state, version=state.version + 1)
        return self.state


def alert(topic: str, minute: int) -> Alert:
    return Alert("co", topic, "unit:u1", datetime(2026, 1, 1, 0, minute, tzinfo=UTC), "tenant")


def run(
    states: MemoryStates, plan: Callable[[BusControlState], Planned[str]], attempts: int = 4
) -> tuple[str, list[list[Effect]]]:
    performed: list[list[Effect]] = []
    answer = update_bus_state(
        cast(Any, states),
        "co",
        "gw",
        datetime(2026, 1, 1, tzinfo=UTC),
        plan,
        attempts,
        lambda effects: performed.append(list(effects)),
    )
    return answer, performed


def test_effects_of_a_plan_that_lost_are_never_performed(monkeypatch: Any) -> None:
    monkeypatch.setattr(contention, "backoff", lambda attempt: None)
    # GIVEN a state that two rivals write before us, and a plan that numbers its attempts
    states = MemoryStates(rivals=2)
    read_versions: list[int] = []

    def plan(read: BusControlState) -> Planned[str]:
        read_versions.append(read.version)
        n = len(read_versions)
        changed = read.with_meters({"m1": MeterControlState(command_id=f"c{n}")})
        return Planned(changed, f"answer {n}", (Notify(alert("restored", n)),))

    # WHEN it runs
    answer, performed = run(states, plan)
    # THEN each attempt planned against a fresh read, and only the third one acted, once
    assert read_versions == [0, 1, 2]
    assert answer == "answer 3"
    assert performed == [[Notify(alert("restored", 3))]]
    assert states.writes == 1 and states.state.meter("m1").command_id == "c3"


def test_settlement_alerts_stand_even_when_a_later_attempt_settles_nothing(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(contention, "backoff", lambda attempt: None)
    # GIVEN a first attempt that settled (its alerts are in the ledger's wake), lost, and
    # a second that replays the same settlement, and a third that finds nothing to settle
    states = MemoryStates(rivals=2)
    settled = (alert("low_credit", 1),)
    alerts_by_attempt = [settled, settled, ()]

    def plan(read: BusControlState) -> Planned[str]:
        alerts = alerts_by_attempt.pop(0)
        changed = read.with_meters({"m1": MeterControlState(balance_minor=-len(alerts))})
        return Planned(changed, "ok", (), alerts)

    # WHEN it runs THEN the settlement's alert is sent once, after the winning write
    _, performed = run(states, plan)
    assert performed == [[Notify(alert("low_credit", 1))]]


def test_when_attempts_run_out_only_settlement_alerts_are_sent(monkeypatch: Any) -> None:
    monkeypatch.setattr(contention, "backoff", lambda attempt: None)
    states = MemoryStates(rivals=3)

    def plan(read: BusControlState) -> Planned[str]:
        changed = read.with_meters({"m1": MeterControlState(power="off")})
        effects = (Notify(alert("disconnected", 2)),)
        return Planned(changed, "ok", effects, (alert("low_credit", 1),))

    performed: list[list[Effect]] = []
    with pytest.raises(ControlContentionError):
        update_bus_state(
            cast(Any, states),
            "co",
            "gw",
            datetime(2026, 1, 1, tzinfo=UTC),
            plan,
            3,
            lambda effects: performed.append(list(effects)),
        )
    assert performed == [[Notify(alert("low_credit", 1))]]
    assert states.writes == 0


def test_a_plan_that_changes_nothing_writes_nothing() -> None:
    states = MemoryStates(rivals=5)  # a write would lose: there must be none
    answer, performed = run(states, lambda read: Planned(read, "same"))
    assert (answer, performed, states.writes) == ("same", [[]], 0)
