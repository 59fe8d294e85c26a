"""Prepaid control end to end against the stand-in: shadows, commands, top-up, manual."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib import observability
from chalicelib.data.models import Unit
from chalicelib.pipeline import ManualReasonRequiredError
from chalicelib.pipeline.shadows import shadow_name
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack

from .rig import FLAT_TWD, T0, TOU_TWD, Bus, MeterSpec, desired, event, make_bus, minutes

pytestmark = pytest.mark.functional


def topics(pipeline: Container, bus: Bus) -> list[str]:
    return sorted(n.topic for n in pipeline.notifier.outbox(bus.company_id, limit=100))


def small_credit_bus(pipeline: Container, **kwargs: Any) -> Bus:
    # 100 minor = 1 TWD buys 0.200 kWh at 5 TWD/kWh
    return make_bus(
        pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD, credit_minor=100)], **kwargs
    )


def test_shadow_is_written_only_when_desired_state_or_cutoff_changes(pipeline: Container) -> None:
    # GIVEN a prepaid meter with 1 TWD of credit and thresholds at 0.80 and 0.50 TWD
    bus = small_credit_bus(pipeline, thresholds=[80, 50])
    shadows = pipeline.shadows
    # WHEN the first cycle arrives THEN power on with the exact cutoff is written once
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-a": "100.000"}))
    assert shadows.writes == 1
    first = desired(bus, "m-a")
    assert (first["power"], first["reason"], first["cutoff"]["kwh"]) == (
        "on",
        "credit_ok",
        "100.200",
    )
    # WHEN readings advance without crossing anything THEN nothing is written
    for seq, value in ((2, "100.050"), (3, "100.100")):
        handlers.ingest_telemetry(event(bus, seq, T0 + minutes(seq), {"m-a": value}))
    assert shadows.writes == 1
    # WHEN the credit runs out THEN the relay is told to open, once
    handlers.ingest_telemetry(event(bus, 4, T0 + minutes(4), {"m-a": "100.250"}))
    handlers.ingest_telemetry(event(bus, 5, T0 + minutes(5), {"m-a": "100.260"}))
    assert shadows.writes == 2
    off = desired(bus, "m-a")
    assert (off["power"], off["reason"], off["cutoff"]["kwh"]) == (
        "off",
        "credit_exhausted",
        "100.250",
    )
    assert off["cmd"] != first["cmd"]
    # AND each low-credit threshold fired once, the tenant was told of the disconnection
    assert topics(pipeline, bus) == ["disconnected", "low_credit", "low_credit"]
    # AND every command is recorded with who and why
    history = pipeline.relay_log.history(bus.company_id, "m-a")
    assert [(c.power, c.reason, c.actor) for c in history] == [
        ("off", "credit_exhausted", "policy"),
        ("on", "credit_ok", "policy"),
    ]


def test_top_up_restores_power_and_is_idempotent_by_client_key(
    pipeline: Container, standin: LocalStack
) -> None:
    # GIVEN a meter disconnected for lack of credit
    bus = small_credit_bus(pipeline)
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-a": "100.000"}))
    handlers.ingest_telemetry(event(bus, 2, T0 + minutes(2), {"m-a": "100.300"}))
    assert desired(bus, "m-a")["power"] == "off"
    # WHEN the landlord tops up 10 TWD, and the request is retried with the same key
    first = pipeline.meter_control.top_up(bus.company_id, "u-a", 1000, "req-1", "landlord-1")
    retry = pipeline.meter_control.top_up(bus.company_id, "u-a", 1000, "req-1", "landlord-1")
    # THEN the credit is applied once and the relay is told to close with a new cutoff
    assert first.applied and not retry.applied
    assert first.balance_minor == retry.balance_minor == 100 - 150 + 1000
    now = desired(bus, "m-a")
    assert (now["power"], now["reason"], now["cutoff"]["kwh"]) == (
        "on",
        "credit_ok",
        "102.200",
    )  # 9.50 TWD buys 1.900 kWh
    assert first.command_id and retry.command_id is None
    history = pipeline.relay_log.history(bus.company_id, "m-a")
    assert (history[0].actor, history[0].note) == ("top-up", "topup:req-1 by landlord-1")
    # AND the same key with another amount is refused
    with pytest.raises(ValueError, match="another amount"):
        pipeline.meter_control.top_up(bus.company_id, "u-a", 999, "req-1", "landlord-1")
    # AND the tenant was told power is back, by e-mail through the stand-in
    assert "restored" in topics(pipeline, bus)
    sent = standin.sent_messages()["emails"]
    tenant_email = f"{bus.tenant_subs['u-a']}@example.com"
    mine = [m for m in sent if tenant_email in m["to"]]
    assert any("Your electricity is back on" in (m["subject"] or "") for m in mine)
    assert not any("unit:" in str(m["body"]) for m in mine)  # in words, not references


def test_manual_disconnect_records_who_and_why_and_tells_the_tenant(
    pipeline: Container, standin: LocalStack
) -> None:
    # GIVEN a meter with plenty of credit and a tenant with a phone number
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)], phone="+886912345678")
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-a": "100.000"}))
    # WHEN a landlord disconnects without a reason THEN it is refused
    with pytest.raises(ManualReasonRequiredError):
        pipeline.meter_control.set_manual(bus.company_id, "u-a", "off", "  ", "landlord-7")
    # WHEN the landlord disconnects with a reason
    result = pipeline.meter_control.set_manual(
        bus.company_id, "u-a", "off", "wiring inspection", "landlord-7"
    )
    # THEN the shadow says off, manual, with no offline cutoff
    shadow = desired(bus, "m-a")
    assert (shadow["power"], shadow["reason"], shadow.get("cutoff")) == ("off", "manual_off", None)
    assert result.command_id == shadow["cmd"]
    # AND the command records who and why
    command = pipeline.relay_log.history(bus.company_id, "m-a")[0]
    assert (command.actor, command.note, command.outcome) == (
        "user:landlord-7",
        "wiring inspection",
        "pending",
    )
    # AND the tenant is told by e-mail and SMS, with the reason
    outbox = pipeline.notifier.outbox(bus.company_id)
    notice = next(n for n in outbox if n.topic == "manual_disconnect")
    assert notice.payload["reason"] == "wiring inspection"
    assert set(notice.delivery.values()) == {"sent"} and len(notice.delivery) == 2
    sms = standin.sent_messages()["sms"]
    assert any(m["phone"] == "+886912345678" and "landlord" in m["message"] for m in sms)
    # WHEN the landlord hands control back to the policy THEN power comes back on credit
    back = pipeline.meter_control.set_manual(bus.company_id, "u-a", None, "done", "landlord-7")
    assert (back.power, back.reason) == ("on", "credit_ok")


def test_relay_confirmation_and_retry_sweep(pipeline: Container) -> None:
    # GIVEN a disconnection command waiting for the gateway
    bus = small_credit_bus(pipeline)
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-a": "100.000"}))
    handlers.ingest_telemetry(event(bus, 2, T0 + minutes(2), {"m-a": "100.300"}))
    off = desired(bus, "m-a")
    confirm = {
        "thing_name": bus.thing_name,
        "shadow_name": shadow_name("m-a"),
        "received_at_ms": int((T0 + minutes(3)).timestamp() * 1000),
        "current": {
            "state": {
                "desired": off,
                "reported": {"power": "off", "cmd": off["cmd"], "source": "cloud", "at": 1},
            }
        },
    }
    # WHEN the gateway reports the state with that command id
    observability.metrics.clear_metrics()
    confirmed = handlers.relay_confirmation(confirm)
    assert confirmed["status"] == "confirmed"
    # THEN how long the relay took is measured (command issued -> reported), as EMF
    assert 0 < confirmed["latency_ms"] <= 60_000
    latency = observability.metrics.metric_set["RelayConfirmLatency"]
    assert (latency["Unit"], latency["Value"]) == ("Milliseconds", [confirmed["latency_ms"]])
    observability.metrics.clear_metrics()
    # THEN the command is confirmed and the unit shows the confirmed state; a repeat is ignored
    command = pipeline.relay_log.history(bus.company_id, "m-a")[0]
    assert (command.command_id, command.outcome) == (off["cmd"], "confirmed")
    assert Unit.get(f"CO#{bus.company_id}", "UNIT#u-a").power == "off"
    assert handlers.relay_confirmation(confirm)["status"] == "ignored"
    # GIVEN a top-up command nobody confirms
    issued = T0 + minutes(10)
    pipeline.meter_control.top_up(bus.company_id, "u-a", 1000, "req-x", "landlord", now=issued)
    # WHEN the retry sweep runs past the timeout three times (it reads only the commands
    # whose deadline passed, so it runs over the whole stand-in)
    sweeps = [
        pipeline.confirmations.sweep(now=issued + timedelta(minutes=2 * k)) for k in (1, 2, 3)
    ]
    # THEN it is retried twice, then raised as an alert and marked unconfirmed
    mine = pipeline.relay_log.history(bus.company_id, "m-a")[0]
    assert (mine.outcome, int(mine.attempts)) == ("unconfirmed", 3)
    # (each run also sweeps what other tests left due in the shared stand-in)
    assert sweeps[1]["retried"] >= 1 and sweeps[2]["unconfirmed"] >= 1
    assert "relay_unconfirmed" in topics(pipeline, bus)


def test_friendly_hours_hold_then_disconnect_and_never_disconnect_stays_on(
    pipeline: Container,
) -> None:
    # GIVEN a friendly window Friday 09:00-09:05 Taipei (T0 is Friday 09:00 there), and two
    # meters with 1 TWD of credit, one of them on a never-disconnect tenancy
    bus = make_bus(
        pipeline.ledger,
        [
            MeterSpec("m-a", "u-a", FLAT_TWD, credit_minor=100),
            MeterSpec("m-n", "u-n", FLAT_TWD, credit_minor=100, never_disconnect=True),
        ],
        friendly={"tz": "Asia/Taipei", "weekly": [[4, "09:00", "09:05"]], "holidays": []},
    )
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-a": "100.000", "m-n": "100.000"}))
    # WHEN the credit runs out inside the friendly window
    handlers.ingest_telemetry(event(bus, 2, T0 + minutes(2), {"m-a": "100.300", "m-n": "100.300"}))
    # THEN power stays on, for a stated reason; never-disconnect has no cutoff at all
    held, never = desired(bus, "m-a"), desired(bus, "m-n")
    assert (held["power"], held["reason"]) == ("on", "friendly_hours")
    assert (never["power"], never["reason"], never.get("cutoff")) == (
        "on",
        "never_disconnect",
        None,
    )
    # WHEN the window ends
    handlers.ingest_telemetry(event(bus, 3, T0 + minutes(6), {"m-a": "100.310", "m-n": "100.310"}))
    # THEN the exhausted meter is disconnected, the never-disconnect one is not
    assert (desired(bus, "m-a")["power"], desired(bus, "m-a")["reason"]) == (
        "off",
        "credit_exhausted",
    )
    assert desired(bus, "m-n")["power"] == "on"
    assert pipeline.ledger.balance_minor(bus.company_id, bus.accounts["u-n"]) == 100 - 150


def test_time_of_use_settlement_splits_energy_over_bands(pipeline: Container) -> None:
    # GIVEN a TOU meter (off-peak before 12:00 Taipei = 04:00 UTC, peak after), hourly settling
    bus = make_bus(pipeline.ledger, [MeterSpec("m-t", "u-t", TOU_TWD)])
    start = T0.replace(hour=3, minute=30)
    # WHEN it uses 50 Wh every 5 minutes from 03:30 to 05:00 UTC
    for k in range(19):
        value = f"{100 + 0.05 * k:.3f}"
        handlers.ingest_telemetry(event(bus, k + 1, start + minutes(5 * k), {"m-t": value}))
    # THEN 0.300 kWh were charged off-peak and 0.600 kWh at peak, to the minor unit
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-t"])
    # (the account's position in its cycle: energy per component, version/span/season/band)
    by_band = {key.rsplit("/", 1)[1]: kwh for key, kwh in account.usage["use"].items()}
    assert by_band == {"peak": "0.600", "off": "0.300"}
    assert int(account.balance_minor) == 10_000 - (63 + 372)
