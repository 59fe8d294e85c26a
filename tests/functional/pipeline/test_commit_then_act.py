"""Writers of a bus's control state commit first, then act once: a plan whose conditional
write lost the race does nothing outside the state, and when the attempts run out the
message is stored, control is deferred, and the next message catches up."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib import observability
from chalicelib.data.deadlines import Deadlines, Due
from chalicelib.data.models import RelayCommand
from chalicelib.data.relay_log import RelayLog
from chalicelib.data.telemetry_store import TelemetryStore
from chalicelib.pipeline.alerts import Alert
from chalicelib.pipeline.confirmation import RelayConfirmations
from chalicelib.pipeline.control import Controller
from chalicelib.pipeline.ingest import MAX_STATE_ATTEMPTS, Ingest
from chalicelib.pipeline.meter_control import MeterControlService
from chalicelib.pipeline.settler import Settler
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, Bus, MeterSpec, event, make_bus, minutes

pytestmark = pytest.mark.functional


class LosingTelemetry:
    """The real store, but the next ``losses`` state writes lose a genuine race: another
    writer stores the bus's state first, so the conditional write meets a new version."""

    def __init__(self, real: TelemetryStore) -> None:
        self._real = real
        self.losses = 0
        self.lost = 0

    def save_state(self, state: Any, at: datetime, silence_by: datetime | None = None) -> Any:
        if self.losses:
            self.losses -= 1
            self.lost += 1
            rival = self._real.get_state(state.company_id, state.gateway_id)
            self._real.save_state(rival, at)
        return self._real.save_state(state, at, silence_by)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class Shadows:
    def __init__(self) -> None:
        self.desired: list[tuple[str, dict[str, Any]]] = []

    def write_desired(self, thing_name: str, meter_id: str, desired: dict[str, Any]) -> None:
        self.desired.append((meter_id, desired))


class Relays(RelayLog):
    """The real relay log (its records carry the confirmation deadlines the sweep reads),
    counting what it was asked to record."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str, str, str]] = []
        self.resolved: list[tuple[str, str]] = []

    def record(
        self,
        company_id: str,
        meter_id: str,
        command_id: str,
        power: str,
        reason: str,
        actor: str,
        note: str | None,
        at: datetime,
        outcome: str = "pending",
        confirm_by: tuple[str, datetime] | None = None,
    ) -> RelayCommand:
        self.records.append((meter_id, command_id, power, reason))
        return super().record(
            company_id,
            meter_id,
            command_id,
            power,
            reason,
            actor,
            note,
            at,
            outcome=outcome,
            confirm_by=confirm_by,
        )

    def resolve(
        self,
        company_id: str,
        meter_id: str,
        command_id: str,
        issued_at: datetime,
        outcome: str,
        at: datetime,
        attempts: int | None = None,
    ) -> None:
        self.resolved.append((command_id, outcome))
        super().resolve(company_id, meter_id, command_id, issued_at, outcome, at, attempts)


class CompanyDeadlines(Deadlines):
    """The due index seen by one company's sweeps: other tests' deadlines in the shared
    stand-in fall due at the same times, and would be swept (and lose races) with ours."""

    def __init__(self) -> None:
        self.company_id: str | None = None

    def due(self, kind: str, now: datetime, limit: int = 500) -> list[Due]:
        return [d for d in super().due(kind, now, limit) if d.company_id == self.company_id]


class Notices:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def notify(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def resolve_any(self, company_id: str, conditions: list[tuple[str, str]], at: Any) -> int:
        return 0  # a top-up clears low-credit alerts: none were raised here

    def topics(self) -> Counter[str]:
        return Counter(a.topic for a in self.alerts)


class Rig:
    """The pipeline's writers wired to the real stores, with counting fakes for the
    shadow, the relay log and the notifier, and a state store that can lose races."""

    def __init__(self, pipeline: Container) -> None:
        self.telemetry = LosingTelemetry(pipeline.telemetry)
        self.shadows, self.relays, self.notices = Shadows(), Relays(), Notices()
        shadows: Any = self.shadows
        relays: Any = self.relays
        notices: Any = self.notices
        telemetry: Any = self.telemetry
        settler = Settler(pipeline.ledger, pipeline.settlements, 1)
        controller = Controller(shadows, relays, notices)
        self.ingest = Ingest(pipeline.buses, telemetry, settler, controller, pipeline.dead_letters)
        self.meter_control = MeterControlService(
            pipeline.catalogue,
            pipeline.buses,
            telemetry,
            pipeline.ledger,
            settler,
            controller,
            notices,
        )
        self.deadlines = CompanyDeadlines()
        self.confirmations = RelayConfirmations(
            pipeline.catalogue,
            pipeline.buses,
            telemetry,
            relays,
            shadows,
            notices,
            pipeline.dead_letters,
            deadlines=self.deadlines,
        )

    def forget_effects(self) -> None:
        self.shadows.desired.clear()
        self.relays.records.clear()
        self.relays.resolved.clear()
        self.notices.alerts.clear()


def consumption(pipeline: Container, bus: Bus) -> list[int]:
    entries = pipeline.ledger.entries(bus.company_id, bus.accounts["u-a"], limit=100)
    return [int(e.amount_minor) for e in entries if e.entry_id.startswith("cons:")]


def running_out(pipeline: Container) -> tuple[Bus, Rig]:
    """1 TWD of credit at 5 TWD/kWh (0.200 kWh), thresholds at 0.80 and 0.50 TWD, power on."""
    bus = make_bus(
        pipeline.ledger,
        [MeterSpec("m-a", "u-a", FLAT_TWD, credit_minor=100)],
        thresholds=[80, 50],
    )
    rig = Rig(pipeline)
    rig.deadlines.company_id = bus.company_id
    first = rig.ingest.handle(event(bus, 1, T0 + minutes(1), {"m-a": "100.000"}))
    assert first.commands and rig.shadows.desired[-1][1]["power"] == "on"
    rig.forget_effects()
    return bus, rig


def test_an_ingest_that_loses_twice_then_wins_acts_once(pipeline: Container) -> None:
    # GIVEN a meter about to run out of credit
    bus, rig = running_out(pipeline)
    # WHEN the message that runs it out (with reverse energy) loses the state write twice
    rig.telemetry.losses = 2
    result = rig.ingest.handle(
        event(bus, 2, T0 + minutes(2), {"m-a": "100.250"}, watts={"m-a": -40})
    )
    # THEN the relay command is recorded once, its shadow written once, each alert sent once
    assert rig.telemetry.lost == 2
    ((meter, command_id, power, reason),) = rig.relays.records
    assert (meter, power, reason) == ("m-a", "off", "credit_exhausted")
    ((meter, desired),) = rig.shadows.desired
    assert (meter, desired["power"], desired["cmd"]) == ("m-a", "off", command_id)
    assert rig.notices.topics() == {"low_credit": 2, "disconnected": 1, "reverse_energy": 1}
    # AND the result is the winning attempt's only
    assert (result.status, result.settled, result.commands) == ("stored", ["m-a"], [command_id])
    assert not result.deferred
    # AND the state stored knows the command the gateway was sent, and the energy was
    # charged once (0.250 kWh at 5 TWD)
    stored = pipeline.telemetry.get_state(bus.company_id, bus.gateway_id).meter("m-a")
    assert stored.pending is not None and stored.pending.command_id == command_id
    assert (stored.command_id, stored.flags) == (command_id, frozenset({"rev"}))
    assert consumption(pipeline, bus) == [-125]


def test_when_attempts_run_out_control_is_deferred_and_the_next_message_applies_it(
    pipeline: Container, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a meter about to run out of credit
    bus, rig = running_out(pipeline)
    capsys.readouterr()
    # WHEN every attempt of the message that runs it out loses the state write
    rig.telemetry.losses = MAX_STATE_ATTEMPTS
    cycle_at = T0 + minutes(2)
    with caplog.at_level(logging.WARNING, logger=observability.SERVICE):
        result = rig.ingest.handle(event(bus, 2, cycle_at, {"m-a": "100.250"}))
    observability.flush()  # what the app's middleware does at the end of the invocation
    # THEN nothing was sent to the relay, and the message is stored with control deferred
    assert rig.telemetry.lost == MAX_STATE_ATTEMPTS
    assert rig.shadows.desired == [] and rig.relays.records == []
    assert (result.status, result.commands, result.settled) == ("stored", [], [])
    assert result.deferred
    # AND a warning names the gateway and the cycle
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert bus.gateway_id in warning.getMessage()
    assert cycle_at.isoformat() in warning.getMessage()
    # AND one IngestStateContention count is emitted (CloudWatch embedded metric format)
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert [m.get("IngestStateContention") for m in emitted] == [[1.0]]
    # AND the settlement, a transaction of its own, stands once with its low-credit alerts
    assert consumption(pipeline, bus) == [-125]
    assert rig.notices.topics() == {"low_credit": 2}
    # WHEN the bus's next message arrives (no contention)
    rig.forget_effects()
    later = rig.ingest.handle(event(bus, 3, T0 + minutes(3), {"m-a": "100.260"}))
    # THEN it applies the control that was deferred: the relay is told to open, once
    ((meter, command_id, power, reason),) = rig.relays.records
    assert (meter, power, reason) == ("m-a", "off", "credit_exhausted")
    assert later.commands == [command_id] and not later.deferred
    ((meter, desired),) = rig.shadows.desired
    assert (desired["power"], desired["cmd"]) == ("off", command_id)
    assert rig.notices.topics() == {"disconnected": 1}
    # AND nothing was charged twice, and the state caught up with the account
    assert consumption(pipeline, bus) == [-125]
    stored = pipeline.telemetry.get_state(bus.company_id, bus.gateway_id).meter("m-a")
    assert (stored.power, stored.balance_minor, stored.command_id) == ("off", -25, command_id)


def test_a_top_up_that_loses_twice_then_wins_acts_once(pipeline: Container) -> None:
    # GIVEN a meter disconnected for lack of credit
    bus, rig = running_out(pipeline)
    rig.ingest.handle(event(bus, 2, T0 + minutes(2), {"m-a": "100.300"}))
    rig.forget_effects()
    # WHEN a top-up's state write loses twice
    rig.telemetry.losses = 2
    paid = rig.meter_control.top_up(
        bus.company_id, "u-a", 1000, "req-race", "landlord", now=T0 + minutes(3)
    )
    # THEN the credit is in once, and the restore is recorded, written and announced once
    assert rig.telemetry.lost == 2
    assert (paid.applied, paid.balance_minor, paid.power) == (True, 100 - 150 + 1000, "on")
    ((_, command_id, power, _),) = rig.relays.records
    assert (command_id, power) == (paid.command_id, "on")
    ((_, desired),) = rig.shadows.desired
    assert desired["cmd"] == paid.command_id
    assert rig.notices.topics() == {"restored": 1}
    stored = pipeline.telemetry.get_state(bus.company_id, bus.gateway_id).meter("m-a")
    assert stored.pending is not None and stored.pending.command_id == paid.command_id


def test_a_retry_sweep_that_loses_does_nothing_and_the_next_one_acts_once(
    pipeline: Container,
) -> None:
    # GIVEN a disconnection command nobody confirmed for two minutes
    bus, rig = running_out(pipeline)
    rig.ingest.handle(event(bus, 2, T0 + minutes(2), {"m-a": "100.300"}))
    ((_, command_id, _, _),) = rig.relays.records
    rig.forget_effects()
    sweep_at = T0 + minutes(2) + timedelta(seconds=121)
    # WHEN the sweep's state write loses
    rig.telemetry.losses = 1
    lost = rig.confirmations.sweep(sweep_at)
    # THEN the shadow is not rewritten (the state would not know it was)
    assert (lost["retried"], lost["unconfirmed"]) == (0, 0) and rig.shadows.desired == []
    # WHEN the next sweep runs THEN the command is retried once, and the state counts it
    won = rig.confirmations.sweep(sweep_at + minutes(1))
    assert (won["due"], won["retried"], won["unconfirmed"]) == (1, 1, 0)
    ((_, desired),) = rig.shadows.desired
    assert desired["cmd"] == command_id
    stored = pipeline.telemetry.get_state(bus.company_id, bus.gateway_id).meter("m-a")
    assert stored.pending is not None and stored.pending.tries == 2


def test_a_confirmation_that_loses_twice_then_wins_resolves_once(pipeline: Container) -> None:
    # GIVEN a disconnection command waiting for the gateway
    bus, rig = running_out(pipeline)
    rig.ingest.handle(event(bus, 2, T0 + minutes(2), {"m-a": "100.300"}))
    ((_, desired),) = rig.shadows.desired
    rig.forget_effects()
    # WHEN the gateway's report arrives and its state write loses twice
    rig.telemetry.losses = 2
    answer = rig.confirmations.handle(
        {
            "thing_name": bus.thing_name,
            "shadow_name": "meter-m-a",
            "received_at_ms": int((T0 + minutes(3)).timestamp() * 1000),
            "current": {
                "state": {
                    "desired": desired,
                    "reported": {"power": "off", "cmd": desired["cmd"], "source": "cloud"},
                }
            },
        }
    )
    # THEN the command is resolved once, and the state no longer waits for it
    assert rig.telemetry.lost == 2
    assert (answer.status, answer.command_id) == ("confirmed", desired["cmd"])
    assert rig.relays.resolved == [(desired["cmd"], "confirmed")]
    stored = pipeline.telemetry.get_state(bus.company_id, bus.gateway_id).meter("m-a")
    assert stored.pending is None
