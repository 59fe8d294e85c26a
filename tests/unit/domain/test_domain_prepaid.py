import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import (
    BillingPeriod,
    FriendlyHours,
    InvalidPolicyInputError,
    Money,
    Reading,
    TariffPosition,
    charge_for_increment,
    decide_power,
    low_credit_alerts,
    offline_cutoff_kwh,
)
from chalicelib.domain.prepaid import largest_within
from chalicelib.domain.pricing import pricing_segments, segment_for_day, segment_gross_minor
from tests.unit.domain.samples import TAIPEI, flat_tariff, taipower_like_tiered, tou_tariff

D = Decimal
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "iot_rules/schemas/meter_shadow.v1.json").read_text()
)
JULY = BillingPeriod(date(2026, 7, 1), date(2026, 8, 1))
MON_NOON = datetime(2026, 7, 6, 4, 0, tzinfo=UTC)  # Mon 12:00 Taipei
MON_NIGHT = datetime(2026, 7, 6, 15, 0, tzinfo=UTC)  # Mon 23:00 Taipei
NIGHTS = FriendlyHours.build(TAIPEI, weekly=[(d, "22:00", "24:00") for d in range(7)])
LATEST = Reading(MON_NOON, D("1500"))


def twd(minor):
    return Money(minor, "TWD")


def decide(balance, allowance=0, *, tariff=None, now=MON_NOON, **kw):
    position = TariffPosition(tariff or flat_tariff(), JULY, date(2026, 7, 6), D("0"))
    args = dict(
        balance=twd(balance),
        allowance=twd(allowance),
        position=position,
        latest=LATEST,
        friendly=NIGHTS,
        never_disconnect=False,
        manual=None,
        now=now,
    )
    args.update(kw)
    return decide_power(**args)


@pytest.mark.parametrize(
    ("kwargs", "power", "reason", "has_cutoff"),
    [
        ({"balance": 10000}, "on", "credit_ok", True),
        ({"balance": 0}, "off", "credit_exhausted", True),
        ({"balance": -50, "allowance": 100}, "on", "emergency_credit", True),
        ({"balance": -100, "allowance": 100}, "off", "credit_exhausted", True),
        ({"balance": -100, "allowance": 100, "now": MON_NIGHT}, "on", "friendly_hours", True),
        ({"balance": -500, "never_disconnect": True}, "on", "never_disconnect", False),
        ({"balance": 10000, "manual": "off"}, "off", "manual_off", False),
        ({"balance": -500, "manual": "on"}, "on", "manual_on", False),
        ({"balance": -500, "manual": "off", "never_disconnect": True}, "off", "manual_off", False),
        ({"balance": -500, "postpaid": True}, "on", "postpaid", False),
        ({"balance": 500, "vacant": True}, "off", "vacant", False),
    ],
)
def test_power_decision_matrix(kwargs, power, reason, has_cutoff):
    decision = decide(**kwargs)
    assert (decision.power, decision.reason) == (power, reason)
    assert (decision.cutoff_kwh is not None) is has_cutoff


def test_flat_cutoff_is_exact():
    # GIVEN 100.00 TWD + 20.00 allowance at 5.50/kWh: 120/5.5 = 21.8181.. kWh
    decision = decide(10000, 2000)
    # THEN 21.818 kWh costs 119.999 -> 120.00 (half-up) and 21.819 costs 120.0045 -> 120.00,
    # 21.820 costs 120.01: the largest affordable reading is 1500 + 21.819
    assert decision.cutoff_kwh == D("1521.819")


def test_tiered_cutoff_walks_the_tiers_from_current_usage():
    # GIVEN 110 kWh used this July, 500.00 TWD left: 10 kWh at 1.68 = 16.80, then 2.45/kWh
    position = TariffPosition(taipower_like_tiered(), JULY, date(2026, 7, 10), D("110"))
    cutoff = offline_cutoff_kwh(twd(50000), twd(0), position, LATEST)
    # (500 - 16.80) / 2.45 = 197.2244.. kWh, but the second tier is rounded once at the
    # cumulative level: 197.226 * 2.45 = 483.2037 -> 483.20 fits, 197.227 -> 483.21 does not
    assert cutoff == D("1500") + D("10") + D("197.226")
    assert decide(-1, 0).cutoff_kwh == D("1500.000")  # already below: cut at once


def test_shadow_desired_validates_against_the_contract():
    for kwargs in ({"balance": 10000}, {"balance": 1, "manual": "on"}):
        desired = decide(**kwargs).to_shadow_desired("cmd-1", NIGHTS)
        jsonschema.validate(desired, {**SCHEMA, "$ref": "#/$defs/desired"})
    # 100.00 / 5.50: 18.182 kWh costs 100.001 -> 100.00, 18.183 costs 100.0065 -> 100.01
    assert decide(10000).to_shadow_desired("c", NIGHTS)["cutoff"]["kwh"] == "1518.182"


def test_policy_inputs_are_checked():
    with pytest.raises(InvalidPolicyInputError):
        decide(100, -1)
    with pytest.raises(InvalidPolicyInputError):
        decide(100, manual="maybe")
    with pytest.raises(InvalidPolicyInputError):
        offline_cutoff_kwh(
            Money(1, "USD"), twd(0), TariffPosition(flat_tariff(), JULY, date(2026, 7, 6)), LATEST
        )


def test_low_credit_alerts_fire_once_per_downward_crossing():
    thresholds = [twd(10000), twd(5000), twd(0)]
    assert low_credit_alerts(twd(12000), twd(4000), thresholds) == [twd(10000), twd(5000)]
    assert low_credit_alerts(twd(4000), twd(3000), thresholds) == []
    assert low_credit_alerts(twd(3000), twd(6000), thresholds) == []  # going up: nothing
    assert low_credit_alerts(twd(6000), twd(5000), thresholds) == [twd(5000)]
    assert low_credit_alerts(twd(1), twd(-5), thresholds) == [twd(0)]


balances = st.integers(min_value=-20000, max_value=2_000_000)
allowances = st.integers(min_value=0, max_value=50000)
tax_rates = st.sampled_from(["0", "0.05", "0.0825"])


@given(
    balance=balances,
    allowance=allowances,
    usage=st.decimals(0, 2000, places=3),
    tax=tax_rates,
    tiered=st.booleans(),
    day=st.integers(1, 31),
)
def test_cutoff_never_lets_balance_below_minus_allowance_and_is_exact(
    balance, allowance, usage, tax, tiered, day
):
    # GIVEN a flat or tiered tariff, any balance, allowance and usage so far this period
    tariff = taipower_like_tiered(tax_rate=tax) if tiered else flat_tariff(tax_rate=tax)
    position = TariffPosition(tariff, JULY, date(2026, 7, day), usage)
    cutoff = offline_cutoff_kwh(twd(balance), twd(allowance), position, LATEST)
    used = cutoff - LATEST.cumulative_kwh
    assert used >= 0
    charge = charge_for_increment(tariff, JULY, usage, usage + used).amount_minor
    # THEN consuming up to the cutoff keeps balance >= -allowance (when it started there)
    if balance >= -allowance:
        assert balance - charge >= -allowance
        # AND one more Wh would take it below: the cutoff is the largest such reading
        over = charge_for_increment(tariff, JULY, usage, usage + used + D("0.001")).amount_minor
        assert balance - over < -allowance
    else:
        assert used == 0


@given(
    balance=st.integers(min_value=0, max_value=500_000),
    allowance=allowances,
    peak_share=st.integers(0, 1000),
    peak_used=st.decimals(0, 500, places=3),
    off_used=st.decimals(0, 500, places=3),
    tax=tax_rates,
)
def test_tou_cutoff_is_conservative_for_any_band_mix(
    balance, allowance, peak_share, peak_used, off_used, tax
):
    # GIVEN a TOU tariff and the energy up to the cutoff split between bands in any way
    tariff = tou_tariff(tax_rate=tax)
    position = TariffPosition(tariff, JULY, date(2026, 7, 6), D(0), band="peak")
    cutoff = offline_cutoff_kwh(twd(balance), twd(allowance), position, LATEST)
    used = cutoff - LATEST.cumulative_kwh
    peak = (used * peak_share / 1000).quantize(D("0.001"))
    off = used - peak
    charge = (
        charge_for_increment(tariff, JULY, peak_used, peak_used + peak, band="peak").amount_minor
        + charge_for_increment(tariff, JULY, off_used, off_used + off, band="off_peak").amount_minor
    )
    # THEN the balance never goes below -allowance
    assert balance - charge >= -allowance


def test_a_manual_on_with_an_end_carries_the_automatic_cutoff_until_then() -> None:
    from datetime import timedelta

    end = MON_NOON + timedelta(hours=2)
    # GIVEN no credit left (the policy alone would cut), switched on by hand until `end`
    before = decide(0, manual="on", manual_until=end)
    # THEN it is on by hand, with its end and the cutoff the policy would give
    assert (before.power, before.reason, before.until) == ("on", "manual_on", end)
    assert before.cutoff_kwh == decide(0).cutoff_kwh
    desired = before.to_shadow_desired("c", NIGHTS)
    assert desired["until"] == int(end.timestamp())
    jsonschema.validate(desired, {**SCHEMA, "$ref": "#/$defs/desired"})
    # WHEN the end has come THEN the credit decides again: off
    after = decide(0, manual="on", manual_until=end, now=end)
    assert (after.power, after.reason, after.until) == ("off", "credit_exhausted", None)
    # AND an 'on' without an end (as stored before ends existed) stays on, never cut locally
    assert decide(0, manual="on").cutoff_kwh is None
    # AND an end must carry its time zone
    with pytest.raises(InvalidPolicyInputError):
        decide(0, manual="on", manual_until=datetime(2026, 7, 6, 14, 0))


def _halving(charge, budget, cap):
    """The plain halving search the cutoff used before ``largest_within``."""
    low, high = 0, max(cap, 0)
    while low < high:
        middle = (low + high + 1) // 2
        if charge(middle) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


@given(
    steps=st.lists(st.integers(0, 50), min_size=1, max_size=40),
    width=st.integers(1, 5000),
    budget=st.integers(0, 3000),
    cap=st.integers(-5, 200_000),
)
def test_largest_within_finds_what_halving_finds(steps, width, budget, cap):
    # GIVEN any charge that never falls (a staircase of rises, 0 at 0)
    def charge(x):
        return sum(steps[: min(len(steps), x // width + 1)]) - steps[0]

    # THEN the interpolating search answers exactly as halving
    assert largest_within(charge, budget, cap) == _halving(charge, budget, cap)


def test_the_cutoff_prices_a_tiered_tariff_a_few_times_not_once_per_halving() -> None:
    # GIVEN a tiered tariff and a balance far from exhausted
    tariff = taipower_like_tiered(tax_rate="0.05")
    segment = segment_for_day(pricing_segments(tariff, JULY), date(2026, 7, 6))
    priced = []

    def charge(x):
        priced.append(x)
        return segment_gross_minor(segment, D(x) / 1000, "TWD", D("0.05"))

    # WHEN the largest affordable energy is searched over the whole register
    found = largest_within(charge, 1_234_567, 10**9)
    searched = len(priced)
    halved = _halving(charge, 1_234_567, 10**9)
    # THEN it is halving's answer, found in a third of halving's pricings or fewer
    assert found == halved
    assert searched * 3 <= len(priced) - searched
