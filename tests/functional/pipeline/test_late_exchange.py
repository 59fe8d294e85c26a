"""A meter exchange recorded days after the swap (the soak found both: docs/reliability.md).

The landlord records an exchange when they have been to the meter: a weekend or three
days later is ordinary. The old side is still charged reading by reading up to its final
reading, and every reading of the new register held meanwhile is resolved by it.

Settlement here is every 6 hours (the default), so the account's cursor is hours behind
the last reading before the swap. Time-of-use: off-peak until 12:00, peak after (Taipei);
2.10 and 6.20 TWD a kWh.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.data.held_readings import HELD
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container, using
from chalicelib.wiring.settings import Settings

from .rig import T0, TOU_TWD, Bus, MeterSpec, event, make_bus

pytestmark = pytest.mark.functional

HOUR = timedelta(hours=1)
CREDIT = 10_000_000
# 09:00-12:00 off-peak 3 kWh (630), 12:00-13:30 peak 5 + 2.5 kWh (4,650), read by read
OLD_SIDE_MINOR = 630 + 4_650


@pytest.fixture()
def six_hourly(settings: Settings, demo: dict[str, object]) -> Iterator[Container]:
    with using(Container(settings)) as svc:
        yield svc


def swapped_meter(svc: Container, held_hours: int) -> Bus:
    """Hourly readings from 09:00 (T0) to 13:00, the meter swapped for a new one at 13:30
    (final 110.500), then ``held_hours`` readings of the new register, all held."""
    bus = make_bus(svc.ledger, [MeterSpec("m-v", "u-v", TOU_TWD, credit_minor=CREDIT)])
    old = ["100.000", "101.000", "102.000", "103.000", "108.000"]
    new = [f"{0.5 + n:.3f}" for n in range(held_hours)]
    for n, value in enumerate(old + new):
        handlers.ingest_telemetry(event(bus, n + 1, T0 + n * HOUR, {"m-v": value}))
    return bus


@pytest.mark.parametrize("days_later", [1, 3])
def test_an_exchange_recorded_days_later_charges_the_old_side_reading_by_reading(
    six_hourly: Container, days_later: int
) -> None:
    # GIVEN a time-of-use meter swapped at 13:30, its new register held since
    swap = T0 + 4.5 * HOUR
    bus = swapped_meter(six_hourly, 24 * days_later)
    # WHEN the exchange is recorded a day, or three days, later
    done = six_hourly.corrections.exchange(
        bus.company_id, "u-v", swap, Decimal("110.500"), Decimal("0.000"), "user:s", "swap",
        swap + days_later * 24 * HOUR,
    )  # fmt: skip
    # THEN the old side is priced band by band from every reading before the swap (three
    # days later, the readings before it had fallen out of the two-day look-back from now:
    # 09:00-13:30 was one interval split by time, 3,640 instead of 5,280)
    account = six_hourly.ledger.get_account(bus.company_id, bus.accounts["u-v"])
    assert CREDIT - int(account.balance_minor) == OLD_SIDE_MINOR
    assert (account.settled_kwh, account.settled_at) == ("0.000", swap)
    # AND every reading of the new register held meanwhile is resolved, not only the newest
    # page of them (72 after three days; 50 were before)
    assert done.settled and done.released == 24 * days_later
    items = six_hourly.held_readings.of_meter(bus.company_id, "m-v", 200)
    assert len(items) == 24 * days_later
    assert not [i for i in items if i.status == HELD]
