"""A building's main meter against the sum of its unit meters, per local day (pure).

Everything the unit meters register passed the main meter first, so over a day the
main meter's energy is the units' sum plus what nobody is billed for: the common parts
if they have no meter, cable losses (well under 1 % inside a building), the meters'
own tolerances (class 1: +-1 % each), and what matters: a bypass, theft, a unit meter
that stopped counting. A loss above the property's percentage (default 5 %) is worth a
person's look; below ``MIN_LOSS_KWH`` a percentage of a nearly idle building is noise.

A unit meter with no energy for the day (it never answered, or every reading was held)
counts as zero and is named: its tenant's use then shows as loss, which is what a
failed submeter looks like, and the alert says which meter to look at first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .energy import kwh

DEFAULT_ALERT_PERCENT = Decimal("5.0")
MIN_ALERT_PERCENT = Decimal("0.5")
MAX_ALERT_PERCENT = Decimal(50)
MIN_LOSS_KWH = Decimal("1.000")
PERCENT_SCALE = Decimal("0.1")


class InvalidAlertPercentError(ValueError):
    """A loss percentage outside 0.5 to 50 or not a decimal number."""


class BalanceStatus(StrEnum):
    OK = "ok"
    LOSS = "loss"  # more went in than the units registered, beyond the allowance
    EXCESS = "excess"  # the units registered more than the main meter: wiring or a meter
    NO_MAIN = "no_main"  # the main meter has no energy for the day: nothing to compare


@dataclass(frozen=True)
class DayBalance:
    day: date
    main_kwh: Decimal | None
    units_kwh: Decimal
    missing: tuple[str, ...]  # unit meters with no energy for the day (counted as zero)
    loss_kwh: Decimal | None  # main - units; negative: the units registered more
    loss_percent: Decimal | None  # of the main meter's energy, one decimal
    status: BalanceStatus


def alert_percent(text: str | Decimal | None) -> Decimal:
    """The property's setting (None: the default), checked: 0.5 to 50 %."""
    if text is None:
        return DEFAULT_ALERT_PERCENT
    if isinstance(text, float):
        raise InvalidAlertPercentError("a percentage is a decimal string, not a float")
    try:
        value = Decimal(str(text).strip())
    except ArithmeticError as exc:
        raise InvalidAlertPercentError(f"{str(text)[:20]!r} is not a number") from exc
    if not value.is_finite() or not MIN_ALERT_PERCENT <= value <= MAX_ALERT_PERCENT:
        raise InvalidAlertPercentError(
            f"the loss alert is between {MIN_ALERT_PERCENT} and {MAX_ALERT_PERCENT} %"
        )
    return value.quantize(PERCENT_SCALE)


def balance(
    day: date,
    main_kwh: Decimal | None,
    units: Mapping[str, Decimal],
    missing: Sequence[str],
    percent: Decimal,
    min_loss_kwh: Decimal = MIN_LOSS_KWH,
) -> DayBalance:
    """The day's comparison; ``units`` holds the unit meters with energy that day."""
    units_kwh = kwh(sum(units.values(), Decimal(0)))
    gone = tuple(sorted(set(missing) - set(units)))
    if main_kwh is None:
        return DayBalance(day, None, units_kwh, gone, None, None, BalanceStatus.NO_MAIN)
    main = kwh(main_kwh)
    loss = main - units_kwh
    share = (loss * 100 / main).quantize(PERCENT_SCALE) if main > 0 else None
    if loss > 0 and loss >= min_loss_kwh and (share is None or share > percent):
        status = BalanceStatus.LOSS
    elif loss < 0 and -loss >= min_loss_kwh and (share is None or -share > percent):
        status = BalanceStatus.EXCESS
    else:
        status = BalanceStatus.OK
    return DayBalance(day, main, units_kwh, gone, loss, share, status)
