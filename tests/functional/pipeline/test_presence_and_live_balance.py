"""What staff and tenants see between settlements (docs/metering-data.md): whether each
meter answers, the balance with the energy used since the last charge, and a receipt's
balance right after its top-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.auth.principal import Principal, Role
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container

from .rig import FLAT_TWD, T0, Bus, MeterSpec, event, make_bus, minutes

pytestmark = pytest.mark.functional


def one_meter(pipeline: Container) -> Bus:
    return make_bus(pipeline.ledger, [MeterSpec("m-p", "u-p", FLAT_TWD)])


def timed_out(bus: Bus, seq: int, in_a_row: int) -> dict[str, object]:
    row = {"i": "m-p", "dt": 100, "er": "crc", "dg": [0, in_a_row, 0, None, in_a_row]}
    return event(bus, seq, T0 + minutes(seq), {}, extra_meters=[row])


def admin(bus: Bus) -> Principal:
    return Principal(bus.company_id, "admin", "a@example.com", Role.COMPANY_ADMIN)


def test_a_meter_goes_offline_after_three_failures_and_back_at_its_first_answer(
    pipeline: Container,
) -> None:
    # GIVEN a meter that answers
    bus = one_meter(pipeline)
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-p": "100.100"}))
    meter = pipeline.catalogue.get_meter(bus.company_id, "m-p")
    assert meter.online and meter.last_error is None
    first_change = meter.presence_at
    # WHEN it fails two cycles in a row THEN it is still online (no write either)
    for seq, count in ((2, 1), (3, 2)):
        handlers.ingest_telemetry(timed_out(bus, seq, count))
    assert pipeline.catalogue.get_meter(bus.company_id, "m-p").presence_at == first_change
    # WHEN it fails a third time THEN it is offline with its last error, since that cycle
    handlers.ingest_telemetry(timed_out(bus, 4, 3))
    meter = pipeline.catalogue.get_meter(bus.company_id, "m-p")
    assert (meter.online, meter.last_error) == (False, "crc")
    assert meter.presence_at == T0 + minutes(4)
    # AND a fourth failure writes nothing more
    handlers.ingest_telemetry(timed_out(bus, 5, 4))
    assert pipeline.catalogue.get_meter(bus.company_id, "m-p").presence_at == T0 + minutes(4)
    # WHEN it answers again THEN it is online, the error gone
    handlers.ingest_telemetry(event(bus, 6, T0 + minutes(6), {"m-p": "100.200"}))
    meter = pipeline.catalogue.get_meter(bus.company_id, "m-p")
    assert (meter.online, meter.last_error) == (True, None)
    # AND the unit page says so
    detail = pipeline.views.unit_detail(admin(bus), "u-p", T0 + minutes(7), with_usage=False)
    assert detail.meter is not None and detail.meter.online


def test_the_balance_shown_includes_the_energy_used_since_the_last_charge(
    pipeline: Container,
) -> None:
    # GIVEN a prepaid meter (10,000 TWD cents of credit, 5 TWD a kWh) settled hourly,
    # which used 1.5 kWh within the hour: nothing charged yet
    bus = one_meter(pipeline)
    for seq, (minute, value) in enumerate(((1, "100.000"), (20, "100.500"), (40, "101.500")), 1):
        handlers.ingest_telemetry(event(bus, seq, T0 + minutes(minute), {"m-p": value}))
    account = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-p"])
    settled = int(account.balance_minor)
    # WHEN staff open the unit, and the dashboard
    detail = pipeline.views.unit_detail(admin(bus), "u-p", T0 + minutes(41), with_usage=False)
    board = pipeline.views.dashboard(admin(bus), now=T0 + minutes(41))
    # THEN both show the settled balance less the energy since the cursor, priced
    assert detail.live is not None
    used = detail.live.unsettled_kwh
    assert detail.live.balance_minor == settled - int(used * 500)
    assert detail.live.as_of == T0 + minutes(40) + timedelta(milliseconds=100)
    (row,) = [r for r in board.rows if r.unit.unit_id == "u-p"]
    assert row.live == detail.live
    # AND what the live balance shows is what the next settlement charges
    pipeline.settings_rollout.settle_unit(bus.company_id, "u-p", T0 + minutes(45))
    after = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-p"])
    assert int(after.balance_minor) == detail.live.balance_minor


def test_a_receipt_shows_the_balance_right_after_its_top_up(pipeline: Container) -> None:
    # GIVEN a top-up of 500 TWD cents, then 0.2 kWh used and charged (100)
    bus = one_meter(pipeline)
    handlers.ingest_telemetry(event(bus, 1, T0 + minutes(1), {"m-p": "100.000"}))
    receipt = pipeline.credit.top_up(
        admin(bus),
        pipeline.catalogue.get_unit(bus.company_id, "u-p"),
        500,
        "receipt-test-key-0001",
        datetime(2026, 11, 20, 1, 2, tzinfo=UTC),
    )
    right_after = receipt.balance_minor
    handlers.ingest_telemetry(event(bus, 2, T0 + minutes(2), {"m-p": "100.200"}))
    pipeline.settings_rollout.settle_unit(bus.company_id, "u-p", T0 + minutes(3))
    # WHEN the receipt is opened later
    _, _, balance_after = pipeline.views.entry_of_unit(admin(bus), "u-p", receipt.entry.entry_id)
    # THEN it shows the balance right after the top-up, not today's
    now = pipeline.ledger.get_account(bus.company_id, bus.accounts["u-p"]).balance_minor
    assert balance_after == right_after
    assert int(now) == right_after - 100
