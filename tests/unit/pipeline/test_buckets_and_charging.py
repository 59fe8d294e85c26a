"""15-minute buckets and settlement plans (pure): exact sums, telescoping charges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import BillingPeriod, Reading, charge_for_increment, kwh, parse_tariff
from chalicelib.pipeline.buckets import BUCKET, bucket_energy, bucket_start
from chalicelib.pipeline.charging import month_of, plan_settlement

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
TIERED = parse_tariff(
    {
        "kind": "tiered",
        "tariff_id": "t",
        "currency": "TWD",
        "tax_rate": "0.05",
        "seasons": [
            {
                "name": "all",
                "start": "01-01",
                "end": "12-31",
                "tiers": [
                    {"upto_kwh": "3", "price_per_kwh": "1.68"},
                    {"upto_kwh": None, "price_per_kwh": "3.33"},
                ],
            }
        ],
    }
)
TOU = parse_tariff(
    {
        "kind": "tou",
        "tariff_id": "u",
        "currency": "TWD",
        "bands": [
            {"name": "peak", "price_per_kwh": "6.20"},
            {"name": "off", "price_per_kwh": "2.10"},
        ],
        "windows": [
            {
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"],
                "start": "00:00",
                "end": "10:00",
                "band": "off",
            },
            {
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"],
                "start": "10:00",
                "end": "24:00",
                "band": "peak",
            },
        ],
    }
)


def series(steps_wh: list[int], start: datetime = T0) -> list[Reading]:
    value, out = Decimal("50.000"), []
    for n, step in enumerate(steps_wh):
        value += Decimal(step) / 1000
        out.append(Reading(start + timedelta(minutes=n + 1), value))
    return out


def test_bucket_start_floors_to_quarter_hours() -> None:
    assert bucket_start(datetime(2026, 1, 1, 10, 44, 59, tzinfo=UTC)).minute == 30


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40), min_size=2, max_size=120))
def test_buckets_sum_to_the_register_advance(steps: list[int]) -> None:
    # GIVEN a meter's readings over some hours WHEN bucketed
    readings = series(steps)
    starts = {bucket_start(r.at) for r in readings}
    total = sum((kwh(bucket_energy({"m": readings}, b).get("m", "0")) for b in starts), Decimal(0))
    # THEN the buckets add up to last minus first reading, exactly
    assert total == readings[-1].cumulative_kwh - readings[0].cumulative_kwh


def test_a_backwards_reading_never_makes_a_negative_bucket() -> None:
    readings = [
        Reading(T0 + timedelta(minutes=1), "10.000"),
        Reading(T0 + timedelta(minutes=2), "4.000"),
        Reading(T0 + timedelta(minutes=3), "4.500"),
    ]
    assert bucket_energy({"m": readings}, T0) == {"m": "0.500"}
    assert bucket_energy({"m": readings}, T0 + BUCKET) == {}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=30),
    st.integers(min_value=1, max_value=8),
)
def test_settling_in_any_chunks_gives_the_one_shot_tiered_charge(
    steps: list[int], every: int
) -> None:
    # GIVEN readings settled every `every` readings (the cursor carries the tier position)
    readings = series(steps)
    cursor, usage, charged = Reading(T0, "50.000"), None, 0
    for i in range(0, len(readings), every):
        plan = plan_settlement(TIERED, "Asia/Taipei", cursor, usage, readings[i : i + every])
        charged += plan.charge.amount_minor
        cursor, usage = plan.end, plan.usage
    # THEN the sum equals one charge for the whole usage (rounding telescopes)
    used = readings[-1].cumulative_kwh - Decimal("50.000")
    once = charge_for_increment(TIERED, month_of(T0.date()), Decimal(0), used, on_day=T0.date())
    assert charged == once.amount_minor


def test_tou_settlement_attributes_energy_to_bands_by_time() -> None:
    # GIVEN 1 kWh used evenly from 09:30 to 10:30 Taipei time (01:30-02:30 UTC)
    start = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    readings = [
        Reading(start + timedelta(minutes=30 * k), Decimal("50.000") + Decimal(k) / 2)
        for k in range(3)
    ]
    plan = plan_settlement(TOU, "Asia/Taipei", readings[0], None, readings[1:])
    # THEN half is off-peak, half peak, priced per band
    # (the position holds the cycle's energy per component: version/span/season/band)
    assert plan.usage["cycle"] == "2026-11-01"
    by_band = {key.rsplit("/", 1)[1]: v for key, v in plan.usage["use"].items()}
    assert by_band == {"peak": "0.500", "off": "0.500"}
    assert plan.charge.amount_minor == 310 + 105
    assert month_of(start.date()) == BillingPeriod(
        start.date().replace(day=1), start.date().replace(month=12, day=1)
    )


def test_out_of_order_readings_do_not_move_the_cursor_back() -> None:
    cursor = Reading(T0, "50.000")
    plan = plan_settlement(
        TIERED, "Asia/Taipei", cursor, None, [Reading(T0 - timedelta(minutes=1), "49.000")]
    )
    assert plan.end == cursor and plan.charge.amount_minor == 0
