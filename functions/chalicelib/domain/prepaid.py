"""Prepaid policy: the power state with its reason, the offline cutoff, low-credit alerts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from chalicelib.domain.calendar import FriendlyHours
from chalicelib.domain.consumption import Reading
from chalicelib.domain.energy import MAX_KWH, format_kwh, from_milli, kwh, to_milli
from chalicelib.domain.errors import InvalidPolicyInputError
from chalicelib.domain.money import Money, currency_exponent
from chalicelib.domain.periods import BillingPeriod
from chalicelib.domain.pricing import pricing_segments, segment_for_day, segment_gross_minor
from chalicelib.domain.tariffs import FlatTariff, TieredTariff, TouTariff

PowerState = Literal["on", "off"]
ManualOverride = Literal["on", "off"] | None
REASONS = frozenset(
    {
        "credit_ok",
        "credit_exhausted",
        "emergency_credit",
        "friendly_hours",
        "never_disconnect",
        "manual_off",
        "manual_on",
        "postpaid",
        "vacant",
    }
)
MAX_THRESHOLDS = 16


@dataclass(frozen=True)
class PowerDecision:
    """What the meter's relay should be, why, and where the gateway cuts if offline."""

    power: PowerState
    reason: str
    cutoff_kwh: Decimal | None
    # A manual 'on' that ends: until then the gateway keeps power on whatever the cutoff
    # says; from then on it enforces the cutoff (the automatic policy's) by itself.
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise InvalidPolicyInputError(f"unknown reason {self.reason!r}")
        if self.until is not None and self.reason != "manual_on":
            raise InvalidPolicyInputError("only a manual 'on' has an end")

    def to_shadow_desired(self, cmd: str, friendly: FriendlyHours) -> dict[str, object]:
        """The `desired` object of meter_shadow.v1.json."""
        cutoff: dict[str, object] | None = None
        if self.cutoff_kwh is not None:
            cutoff = {"kwh": format_kwh(self.cutoff_kwh), "friendly": friendly.to_shadow()}
        desired: dict[str, object] = {
            "power": self.power,
            "reason": self.reason,
            "cmd": cmd,
            "cutoff": cutoff,
        }
        if self.until is not None:
            desired["until"] = int(self.until.timestamp())
        return desired


@dataclass(frozen=True)
class TariffPosition:
    """Where the account stands in its tariff.

    `on_day` is today's date in the property's zone; `segment_usage_kwh` is the cumulative usage
    so far within the pricing segment containing it (flat and tiered). For time-of-use it is the
    usage so far in `band` (the cutoff itself does not depend on the band mix).
    """

    tariff: FlatTariff | TieredTariff | TouTariff
    period: BillingPeriod
    on_day: date
    segment_usage_kwh: Decimal = Decimal(0)
    band: str | None = None


def offline_cutoff_kwh(
    balance: Money, allowance: Money, position: TariffPosition, latest: Reading
) -> Decimal:
    """The largest cumulative reading whose charge keeps balance >= -allowance.

    Flat and tiered: exact. The charge is monotone in the energy, so a binary search on whole
    Wh over the real (taxed, rounded, tier-walking) charge finds the exact largest reading.
    Time-of-use: conservative, see `_tou_safe_wh`.
    """
    tariff = position.tariff
    if balance.currency != tariff.currency or allowance.currency != tariff.currency:
        raise InvalidPolicyInputError("balance, allowance and tariff must share a currency")
    budget_minor = balance.amount_minor + allowance.amount_minor
    headroom_wh = to_milli(MAX_KWH) - to_milli(latest.cumulative_kwh)
    if budget_minor < 0 or headroom_wh <= 0:
        return latest.cumulative_kwh
    if isinstance(tariff, TouTariff):
        safe_wh = min(headroom_wh, _tou_safe_wh(tariff, budget_minor))
        return from_milli(to_milli(latest.cumulative_kwh) + safe_wh)
    segment = segment_for_day(pricing_segments(tariff, position.period), position.on_day)
    usage_wh = to_milli(position.segment_usage_kwh)
    currency, rate = tariff.currency, tariff.tax_rate
    spent_minor = segment_gross_minor(segment, from_milli(usage_wh), currency, rate)

    def charge(extra_wh: int) -> int:
        after = from_milli(usage_wh + extra_wh)
        return segment_gross_minor(segment, after, currency, rate) - spent_minor

    cap = min(headroom_wh, to_milli(MAX_KWH) - usage_wh)
    extra_wh = largest_within(charge, budget_minor, cap)
    return from_milli(to_milli(latest.cumulative_kwh) + extra_wh)


def largest_within(charge: Callable[[int], int], budget: int, cap: int) -> int:
    """The largest ``x`` in ``[0, cap]`` with ``charge(x) <= budget``, for a charge that
    never falls as ``x`` rises and is 0 at 0 (0 if ``cap`` < 0).

    Exact, like a halving search, in fewer pricings: the charge is nearly linear in the
    energy, so each step guesses where it reaches the budget, and halves instead after a
    guess that did not halve the interval (then never worse than about twice halving's
    count). A settlement plans the cutoff for each meter it settles: halving priced ~35
    times a meter (a third of a settling message's CPU, issue 19); this ~8."""
    if cap <= 0:
        return 0
    c_hi = charge(cap)
    if c_hi <= budget:
        return cap
    lo, c_lo, hi = 0, 0, cap  # invariant: charge(lo) <= budget < charge(hi)
    bisect = False
    while hi - lo > 1:
        if bisect or c_hi == c_lo:
            guess = (lo + hi) // 2
        else:
            # where the line through (lo, c_lo) and (hi, c_hi) passes budget + 1/2: the
            # answer lies just below, between the last x at the budget and the first past it
            guess = lo + (2 * (budget - c_lo) + 1) * (hi - lo) // (2 * (c_hi - c_lo))
        guess = min(max(guess, lo + 1), hi - 1)
        width = hi - lo
        c_guess = charge(guess)
        if c_guess <= budget:
            lo, c_lo = guess, c_guess
        else:
            hi, c_hi = guess, c_guess
        bisect = hi - lo > width // 2
    return lo


def _tou_safe_wh(tariff: TouTariff, budget_minor: int) -> int:
    """Energy that can never cost more than the budget, whatever the band mix.

    Per band, gross(u + x) - gross(u) <= (x*p*10^e + 1)(1 + r) + 1, because a half-up rounding
    moves a value by at most 1/2 each side. Summed over n bands with p the highest price:
    charge <= x*p*10^e*(1 + r) + n*(2 + r). Solve for the largest whole Wh x.
    """
    price = Fraction(tariff.max_price_per_kwh())
    rate = Fraction(tariff.tax_rate)
    slack = len(tariff.bands) * (2 + rate)
    spendable = Fraction(budget_minor) - slack
    if spendable <= 0:
        return 0
    if price == 0:
        return to_milli(MAX_KWH)
    per_wh = price * 10 ** currency_exponent(tariff.currency) * (1 + rate) / 1000
    return int(spendable / per_wh)


def decide_power(
    *,
    balance: Money,
    allowance: Money,
    position: TariffPosition,
    latest: Reading,
    friendly: FriendlyHours,
    never_disconnect: bool,
    manual: ManualOverride,
    now: datetime,
    postpaid: bool = False,
    vacant: bool = False,
    manual_until: datetime | None = None,
) -> PowerDecision:
    """Manual override > vacant > postpaid > never-disconnect > credit (with friendly hours).

    A manual 'on' with an end (``manual_until``) is automatic again from that instant;
    until then it carries the automatic cutoff and its end, so a gateway that loses
    the cloud returns to automatic control by itself at the same instant."""
    if allowance.is_negative():
        raise InvalidPolicyInputError("emergency allowance must not be negative")
    if now.utcoffset() is None:
        raise InvalidPolicyInputError("now must be timezone-aware")
    if manual_until is not None and manual_until.utcoffset() is None:
        raise InvalidPolicyInputError("manual_until must be timezone-aware")
    if manual == "off":
        return PowerDecision("off", "manual_off", None)
    if manual == "on" and manual_until is None:
        return PowerDecision("on", "manual_on", None)  # until someone changes it (legacy)
    if manual == "on" and manual_until is not None and now < manual_until:
        after = decide_power(
            balance=balance,
            allowance=allowance,
            position=position,
            latest=latest,
            friendly=friendly,
            never_disconnect=never_disconnect,
            manual=None,
            now=now,
            postpaid=postpaid,
            vacant=vacant,
        )
        return PowerDecision("on", "manual_on", after.cutoff_kwh, manual_until)
    if manual not in ("on", None):
        raise InvalidPolicyInputError(f"manual override must be None, 'on' or 'off': {manual!r}")
    if vacant:
        return PowerDecision("off", "vacant", None)
    if postpaid:
        return PowerDecision("on", "postpaid", None)
    if never_disconnect:
        return PowerDecision("on", "never_disconnect", None)
    cutoff = offline_cutoff_kwh(balance, allowance, position, latest)
    if balance <= -allowance:
        if friendly.is_friendly(now):
            return PowerDecision("on", "friendly_hours", cutoff)
        return PowerDecision("off", "credit_exhausted", cutoff)
    if balance.is_negative():
        return PowerDecision("on", "emergency_credit", cutoff)
    return PowerDecision("on", "credit_ok", cutoff)


def low_credit_alerts(
    previous_balance: Money, new_balance: Money, thresholds: Sequence[Money]
) -> list[Money]:
    """Thresholds crossed downwards: previous > t >= new. Highest first; each fires once per
    crossing because the next evaluation starts from a balance already at or below it."""
    if len(thresholds) > MAX_THRESHOLDS:
        raise InvalidPolicyInputError(f"more than {MAX_THRESHOLDS} low-credit thresholds")
    crossed = {t for t in thresholds if previous_balance > t >= new_balance}
    return sorted(crossed, key=lambda t: t.amount_minor, reverse=True)


def cutoff_for_shadow(cutoff_kwh: Decimal) -> str:
    return format_kwh(kwh(cutoff_kwh))
