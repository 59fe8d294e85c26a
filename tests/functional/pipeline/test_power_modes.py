"""Power control has three modes (docs/pipeline.md, "Power modes"): automatic (the credit
decides), off by hand, on by hand *until* a time or the next top-up. Each is stored
with who, why and until when; "on until" returns to automatic by itself, in the cloud
at the first cycle after its end and on the gateway (the end rides in the shadow)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.application.power_mode import PowerMode
from chalicelib.auth.principal import Principal, Role
from chalicelib.pipeline.errors import InvalidManualEndError
from chalicelib.pipeline.meter_control import ON_UNTIL_TOPUP_BACKSTOP
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, Bus, MeterSpec, desired, event, make_bus, minutes

pytestmark = pytest.mark.functional


def cut_off_bus(pipeline: Container) -> Bus:
    """A meter whose 1 TWD of credit (0.200 kWh at 5 TWD) ran out: off, credit exhausted."""
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD, credit_minor=100)])
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-a": "100.000"}))
    handlers.ingest_telemetry(event(bus, 2, T0 + minutes(2), {"m-a": "100.300"}))
    assert (desired(bus, "m-a")["power"], desired(bus, "m-a")["reason"]) == (
        "off",
        "credit_exhausted",
    )
    return bus


def admin_sub(bus: Bus) -> str:
    return f"admin-{bus.company_id.removeprefix('co-')}"


def mode_of(pipeline: Container, bus: Bus, now_minutes: int) -> PowerMode:
    staff = Principal(bus.company_id, admin_sub(bus), "a@example.com", Role.COMPANY_ADMIN)
    return pipeline.views.unit_detail(staff, "u-a", T0 + minutes(now_minutes), False).mode


def test_on_until_a_time_returns_to_automatic_at_its_end(pipeline: Container) -> None:
    bus = cut_off_bus(pipeline)
    end = T0 + timedelta(hours=2, minutes=30)
    # WHEN the landlord switches it on until 2.5 hours from T0
    result = pipeline.meter_control.set_manual(
        bus.company_id, "u-a", "on", "Doctor's visit", admin_sub(bus), T0 + minutes(3), until=end
    )
    # THEN the shadow says on by hand, with its end and the automatic cutoff behind it
    on = desired(bus, "m-a")
    assert (on["power"], on["reason"], on["until"]) == ("on", "manual_on", int(end.timestamp()))
    assert on["cutoff"] is not None and on["cmd"] == result.command_id
    # AND who, why and until when are stored and shown
    mode = mode_of(pipeline, bus, 4)
    assert (mode.mode, mode.note, mode.until, mode.until_topup) == (
        "on",
        "Doctor's visit",
        end,
        False,
    )
    assert mode.by == f"admin-{bus.company_id.removeprefix('co-')}@example.com"
    # WHEN cycles arrive before the end (one settles the hour) THEN the power stays on,
    # whatever the credit
    handlers.ingest_telemetry(event(bus, 3, T0 + minutes(30), {"m-a": "100.500"}))
    handlers.ingest_telemetry(event(bus, 4, T0 + minutes(130), {"m-a": "100.550"}))
    assert (desired(bus, "m-a")["power"], desired(bus, "m-a")["cmd"]) == ("on", on["cmd"])
    # WHEN the first cycle after the end arrives, within the same settlement hour (so
    # nothing but the end itself asks for a decision)
    handlers.ingest_telemetry(event(bus, 5, end + minutes(1), {"m-a": "100.600"}))
    # THEN the credit decides again: off, no end in the shadow, the override gone
    after = desired(bus, "m-a")
    assert (after["power"], after["reason"], "until" in after) == ("off", "credit_exhausted", False)
    assert mode_of(pipeline, bus, 152) == PowerMode("auto")
    # AND the command says the policy ended it
    command = pipeline.relay_log.history(bus.company_id, "m-a")[0]
    assert (command.actor, command.note, command.reason) == (
        "policy",
        "manual on ended",
        "credit_exhausted",
    )


def test_on_until_the_next_top_up_ends_at_the_top_up(pipeline: Container) -> None:
    bus = cut_off_bus(pipeline)
    at = T0 + minutes(3)
    pipeline.meter_control.set_manual(
        bus.company_id, "u-a", "on", "Pays tomorrow", admin_sub(bus), at, until_topup=True
    )
    # THEN it is on until the top-up, with a backstop the gateway honours offline
    on = desired(bus, "m-a")
    assert (on["power"], on["reason"]) == ("on", "manual_on")
    assert on["until"] == int((at + ON_UNTIL_TOPUP_BACKSTOP).timestamp())
    assert mode_of(pipeline, bus, 4).until_topup
    # WHEN the tenant's credit is topped up THEN the credit decides again (on, credit ok)
    pipeline.meter_control.top_up(bus.company_id, "u-a", 10_000, "k" * 16, "staff", at + minutes(5))
    after = desired(bus, "m-a")
    assert (after["power"], after["reason"], "until" in after) == ("on", "credit_ok", False)
    assert mode_of(pipeline, bus, 9) == PowerMode("auto")


def test_off_by_hand_and_back_to_automatic_record_who_and_why(pipeline: Container) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)])
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-a": "100.000"}))
    pipeline.meter_control.set_manual(
        bus.company_id, "u-a", "off", "Rewiring", admin_sub(bus), T0 + minutes(2)
    )
    mode = mode_of(pipeline, bus, 3)
    assert (mode.mode, mode.note, mode.at, mode.until) == ("off", "Rewiring", T0 + minutes(2), None)
    back = pipeline.meter_control.set_manual(
        bus.company_id, "u-a", None, "Done", admin_sub(bus), T0 + minutes(4)
    )
    assert (back.power, back.reason) == ("on", "credit_ok")
    assert mode_of(pipeline, bus, 5) == PowerMode("auto")


@pytest.mark.parametrize(
    ("power", "until_h", "topup", "why"),
    [
        ("on", None, False, "needs an end"),
        ("on", -1, False, "after now"),
        ("on", 24 * 32, False, "within 31 days"),
        ("on", 2, True, "not both"),
        ("off", 2, False, "only a manual 'on'"),
        (None, None, True, "only a manual 'on'"),
    ],
)
def test_an_on_without_a_proper_end_is_refused(
    pipeline: Container, power: str | None, until_h: int | None, topup: bool, why: str
) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)])
    until = None if until_h is None else T0 + timedelta(hours=until_h)
    with pytest.raises(InvalidManualEndError, match=why):
        pipeline.meter_control.set_manual(
            bus.company_id,
            "u-a",
            power,
            "x",
            "s",
            T0,
            until=until,
            until_topup=topup,  # type: ignore[arg-type]
        )
