"""When a prepaid meter's next settlement is due, worked out once per cursor.

Ingest asks for every meter of every message whether a settlement is due
(``Settler.due``): a later settlement period than the cursor, a reading below the
cursor, or a charge that would take the balance across a low-credit threshold, zero or
the emergency allowance. The last one priced the cursor-to-reading energy with
``plan_settlement`` for each meter of each message (~0.6 ms each, x32: issue 19).

Inside the cursor's settlement period the charge is a function of the reading's kWh
alone whenever the energy after the cursor can fall in only one priced component (flat
and tiered tariffs: a period lies within one local day, so one season, tariff version,
cycle and fixed-charge day; time-of-use: when the rest of the period lies in one band).
It never falls as the kWh rise (``domain/prepaid_cycle.py``). So the smallest register
reading that would cross the nearest level below the balance is exact, and is found
once, when the cursor or the balance moves, by searching ``plan_settlement`` itself
(no second pricing rule). The mark keeps it with a digest of everything it was
worked out from (balance, cursor, tariff position, the meter's tariff, cycle,
tenancy and levels); a mark whose digest differs is not used.

When the charge could depend on the reading's time (a time-of-use period that crosses a
band edge) the mark holds only until the first band edge after the cursor (``until``):
up to it the energy after the cursor lies in the cursor's band, whose price per kWh is
fixed, so the charge is again a function of the kWh alone. A reading at or past the edge
is priced as before (the cursor has not moved, so neither has the mark). No mark is kept
when no reading fits between the cursor and the edge.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING

from ..data.control_state import DueMark, MeterControlState, ms
from ..domain import Reading
from ..domain.calendar import zone
from ..domain.energy import from_milli, to_milli
from .context import BusContext, MeterContext, digest_basis
from .memo import BoundedMemo

# Pricing (the tariff models) is imported when a mark is worked out, not with ingest.
if TYPE_CHECKING:
    from ..domain.prepaid_cycle import EnergyQuote, Tenure

DAY_S = 86_400
# Where the search stops: a reading this far above the cursor within one period is
# priced as before (no meter passes 10 MWh in a settlement period).
SEARCH_CAP_KWH = 10_000
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class PeriodBounds:
    start: datetime
    end: datetime


def period_bounds(at: datetime, period_h: float, tz: str) -> PeriodBounds:
    """The settlement block holding ``at`` (``settler.period_index``'s blocks)."""
    period_s = max(1, round(period_h * 3600))
    local = at.astimezone(zone(tz))
    wall = local.replace(tzinfo=UTC)
    start_wall = datetime.fromtimestamp(
        int(wall.timestamp() // period_s) * period_s, tz=UTC
    ).replace(tzinfo=None)
    end_wall = start_wall + timedelta(seconds=period_s)
    tzinfo = zone(tz)
    return PeriodBounds(
        start_wall.replace(tzinfo=tzinfo).astimezone(UTC),
        end_wall.replace(tzinfo=tzinfo).astimezone(UTC),
    )


def meter_digest(bus: BusContext, meter_ctx: MeterContext, period_h: float) -> str:
    """What a mark depends on outside the account: cached on the loaded meter context.
    A context built from the steady record brings its basis (``_due_basis``, worked out
    by ``digest_basis`` when the context was stored): nothing is assembled for it."""
    found = meter_ctx.__dict__
    cached: str | None = found.get("_due_digest")
    if cached is not None:
        return cached
    key: tuple[object, ...]
    basis: str | None = found.get("_due_basis")
    if basis is not None:
        key = (basis, period_h)
    else:
        # A fleet assembles a fresh context for most messages: the digest of the same
        # inputs is kept per container (a dict lookup, not a repr, a join and a hash).
        tenancy = meter_ctx.tenancy
        currency = meter_ctx.tariff.currency if meter_ctx.tariff else ""
        key = (
            meter_ctx.tariff_digest,  # of the tariff document (context.py)
            meter_ctx.cycle,
            tenancy.attribute_values.get("starts_on") if tenancy else "",
            meter_ctx.account_id or "",
            bus.levels_minor(currency, meter_ctx.unit) if currency else (),
            bus.tz,
            period_h,
        )
    digest = _DIGESTS.get(key)
    if digest is None:
        text = basis if basis is not None else digest_basis(bus, meter_ctx)
        digest = _DIGESTS.remember(key, _digest(f"{text}|{period_h}"))
    object.__setattr__(meter_ctx, "_due_digest", digest)
    return digest


MAX_CACHED_DIGESTS = 65_536  # ~32 meters x 2,000 buses a container sees in an hour
_DIGESTS: BoundedMemo[tuple[object, ...], str] = BoundedMemo(MAX_CACHED_DIGESTS)


def mark_basis(
    bus: BusContext, meter_ctx: MeterContext, state: MeterControlState, period_h: float
) -> str:
    """What a mark was worked out from: the meter's context (digest) and the account's
    balance and cursor (the tariff position moves only with the cursor)."""
    assert state.settled_at is not None
    context = meter_digest(bus, meter_ctx, period_h)
    # Kept on the (frozen) state with the context it was made for: ingest asks twice per
    # meter and message (Settler.with_due_mark, Settler.due); the rest of the basis is
    # the state's own fields, which never change.
    memo: tuple[str, str] | None = state.__dict__.get("_basis")
    if memo is not None and memo[0] == context:
        return memo[1]
    basis = f"{context}:{state.balance_minor}:{ms(state.settled_at)}:{state.settled_kwh}"
    object.__setattr__(state, "_basis", (context, basis))
    return basis


def work_out_mark(
    bus: BusContext,
    meter_ctx: MeterContext,
    state: MeterControlState,
    period_h: float,
    *,
    settled: bool = False,
) -> DueMark | None:
    """The mark for this cursor and balance, or None when the charge inside the cursor's
    period could depend on the reading's time (then nothing is precomputed). ``settled``:
    the state's cursor and position are a settlement's of this meter context, just made
    (``Settler.settle_all``): what it charged the cycle is what no energy after the cursor
    charges it again, unless a day begins at the cursor, so that is not priced."""
    period = _cursor_period(bus, state, period_h)
    if period is None:
        return None  # a period may hold two local days: time matters
    cursor, bounds = period
    probe = cursor.at + _MS
    basis = mark_basis(bus, meter_ctx, state, period_h)
    if probe >= bounds.end:
        return DueMark(None, basis)  # no reading can follow the cursor in its period
    # A time-of-use period that crosses a band edge: the mark holds up to the first edge
    # after the cursor (inside one band the price per kWh is fixed); the first reading at
    # or past it replaces it with the period's bound (``work_out_bound``).
    until = _one_component_until(bus, meter_ctx, cursor.at, bounds.end)
    # stored in unix ms: an edge found at a DST offset change (to the second, domain/tou.py)
    # is cut down to the ms, short of the edge, never past it
    until -= timedelta(microseconds=until.microsecond % 1000)
    if until <= probe:
        # no reading after the cursor fits before the edge: the period's bound instead
        return work_out_bound(bus, meter_ctx, state, period_h)
    valid = None if until >= bounds.end else until
    need = _need(bus, meter_ctx, state)
    if need is None:
        return DueMark(None, basis, until=valid)  # no level under the balance
    quote = _quote(bus, meter_ctx, state, cursor.at, probe)
    if quote is not None and len(quote.keys) != 1:
        quote = None  # a bound, not the charge: not for an exact mark
    start = to_milli(cursor.cumulative_kwh)
    charge: Callable[[int], int]
    known: int | None = None  # the charge of no energy, when the settlement priced it
    if quote is None:  # the energy could land in two cycles (or components): priced in full

        def charge(milli: int) -> int:
            return _charge(bus, meter_ctx, cursor, state, Reading(probe, from_milli(milli)))

        slope = Fraction(0)
    else:
        charge, slope = _quoted(quote, start), quote.slope_minor_per_kwh / 1000
        if settled and quote.at_position:
            known = 0
    found = _first_crossing(charge, start, need, slope, known)
    if found is None:  # beyond the search: priced
        return DueMark(from_milli(start + SEARCH_CAP_KWH * 1000), basis, exact=False, until=valid)
    return DueMark(from_milli(found), basis, until=valid)


def work_out_bound(
    bus: BusContext, meter_ctx: MeterContext, state: MeterControlState, period_h: float
) -> DueMark | None:
    """A mark for every reading of the cursor's period, past its band edges too (None:
    none can be made): the smallest kWh whose energy, put whole into each priced
    component the rest of the period meets, would cross a level. No split of the energy
    over those components charges more (a cycle's total never falls as a component's
    energy rises), so a reading below it is not due; at or above it the reading is priced
    (``exact`` False). Worked out once, when a reading passes the edge a time-of-use mark
    held until (``Settler.with_due_mark``), instead of pricing every reading to the
    period's end (issue 19, CPU)."""
    period = _cursor_period(bus, state, period_h)
    if period is None:
        return None  # a period may hold two local days: time matters
    cursor, bounds = period
    basis = mark_basis(bus, meter_ctx, state, period_h)
    last = bounds.end - _MS  # the last reading the period holds
    if last <= cursor.at:
        return DueMark(None, basis)  # no reading can follow the cursor in its period
    need = _need(bus, meter_ctx, state)
    if need is None:
        return DueMark(None, basis)  # no level under the balance
    quote = _quote(bus, meter_ctx, state, cursor.at, last)
    if quote is None:
        return None  # the energy could land in two cycles: priced in full
    start = to_milli(cursor.cumulative_kwh)
    slope = quote.slope_minor_per_kwh / 1000
    found = _first_crossing(_quoted(quote, start), start, need, slope)
    if found is None:
        return DueMark(from_milli(start + SEARCH_CAP_KWH * 1000), basis, exact=False)
    # crossed by the fixed charges alone (no energy): every later reading is due
    return DueMark(from_milli(found), basis, exact=found == start)


def _cursor_period(
    bus: BusContext, state: MeterControlState, period_h: float
) -> tuple[Reading, PeriodBounds] | None:
    """The cursor and its settlement period; None when a period may hold two local days
    (a period that does not divide the day: a reading's charge may depend on its time)."""
    assert state.settled_at is not None
    if DAY_S % max(1, round(period_h * 3600)):
        return None
    cursor = Reading(state.settled_at, state.settled_kwh)
    return cursor, period_bounds(cursor.at, period_h, bus.tz)


def _need(bus: BusContext, meter_ctx: MeterContext, state: MeterControlState) -> int | None:
    """The charge that takes the balance to the nearest level below it (None: none)."""
    assert meter_ctx.tariff is not None
    levels = _levels_minor(bus, meter_ctx, meter_ctx.tariff.currency)
    below = [level for level in levels if level < state.balance_minor]
    return state.balance_minor - max(below) if below else None


def _quoted(quote: EnergyQuote, start: int) -> Callable[[int], int]:
    def charge(milli: int) -> int:
        return quote.charge_minor(milli - start)

    return charge


# Guesses along the component's price before the search brackets from the cap
GUESSES = 3


def _first_crossing(
    charge: Callable[[int], int],
    start: int,
    need: int,
    slope: Fraction,
    at_start: int | None = None,
) -> int | None:
    """The smallest register reading (Wh) from ``start`` whose ``charge`` (never falling as
    the reading rises) meets ``need``; None when none does within the search cap.
    ``slope``: minor units a Wh near ``start`` (0: unknown); ``at_start``: the charge at
    ``start`` when already known."""
    lo, c_lo = start, charge(start) if at_start is None else at_start
    if c_lo >= need:
        return start  # the fixed charges alone cross it
    cap = start + SEARCH_CAP_KWH * 1000
    hi: int | None = None
    c_hi = 0
    # Along the component's own price per kWh (the settlement's, from its plan): the
    # charge is nearly linear in kWh, so aiming at need - 1/2 from the nearest side (as
    # the interpolation below does) mostly finds the first reading that meets the need
    # and the last that does not in two pricings (not ~6 from the cap).
    half = Fraction(1, 2)
    for _ in range(GUESSES if slope > 0 else 0):
        if hi is None:
            guess = min(lo + max(1, math.ceil((need - half - c_lo) / slope)), cap)
        elif hi - lo > 1:
            guess = min(max(hi - math.ceil((c_hi - need + half) / slope), lo + 1), hi - 1)
        else:
            break
        c_guess = charge(guess)
        if c_guess >= need:
            hi, c_hi = guess, c_guess
        elif guess == cap:
            return None
        else:
            lo, c_lo = guess, c_guess
    if hi is None:
        # Most accounts are far from their next level: one pricing at the cap says so.
        hi, c_hi = cap, charge(cap)
        if c_hi < need:
            return None
    # lo never crosses, hi does: interpolate (the charge is nearly linear in kWh), with a
    # halving step whenever interpolation gained little, down to the milli-kWh.
    bisect = False
    while hi - lo > 1:
        if bisect or c_hi == c_lo:
            guess = (lo + hi) // 2
        else:
            # where the line through (lo, c_lo) and (hi, c_hi) passes need - 1/2: between
            # the last reading short of the need and the first that meets it (aiming at
            # the need itself lands on the first, and the next step then gains little)
            guess = lo + (2 * (need - c_lo) - 1) * (hi - lo) // (2 * (c_hi - c_lo))
        guess = min(max(guess, lo + 1), hi - 1)
        width = hi - lo
        c_guess = charge(guess)
        if c_guess >= need:
            hi, c_hi = guess, c_guess
        else:
            lo, c_lo = guess, c_guess
        bisect = hi - lo > width // 2
    return hi


def _levels_minor(bus: BusContext, meter_ctx: MeterContext, currency: str) -> tuple[int, ...]:
    return bus.levels_minor(currency, meter_ctx.unit)


def _tenure(bus: BusContext, meter_ctx: MeterContext) -> Tenure:
    from ..domain.prepaid_cycle import Tenure
    from ..domain.tariff_versions import as_timeline

    assert meter_ctx.tariff is not None
    tenancy = meter_ctx.tenancy
    return Tenure(
        as_timeline(meter_ctx.timeline or meter_ctx.tariff),
        meter_ctx.cycle,
        bus.tz,
        move_in=date.fromisoformat(tenancy.starts_on) if tenancy else None,
    )


def _quote(
    bus: BusContext,
    meter_ctx: MeterContext,
    state: MeterControlState,
    start: datetime,
    end: datetime,
) -> EnergyQuote | None:
    """``plan_settlement``'s charge for a reading in (``start``, ``end``] from the state's
    position, as a function of its energy (``EnergyQuote``): the cycles, plans and
    components worked out once for the search, not once per pricing."""
    from ..domain.prepaid_cycle import CyclePosition, EnergyQuote

    position = CyclePosition.from_document(state.tariff_position)
    return EnergyQuote.of(_tenure(bus, meter_ctx), position, start, end)


def _charge(
    bus: BusContext,
    meter_ctx: MeterContext,
    cursor: Reading,
    state: MeterControlState,
    reading: Reading,
) -> int:
    from .charging import plan_settlement  # the tariff models, when a mark is worked out

    assert meter_ctx.tariff is not None
    tenancy = meter_ctx.tenancy
    plan = plan_settlement(
        meter_ctx.timeline or meter_ctx.tariff,
        bus.tz,
        cursor,
        state.tariff_position,
        [reading],
        cycle=meter_ctx.cycle,
        move_in=date.fromisoformat(tenancy.starts_on) if tenancy else None,
    )
    return plan.charge.amount_minor


def _one_component_until(
    bus: BusContext, meter_ctx: MeterContext, start: datetime, end: datetime
) -> datetime:
    """The end of the part of [``start``, ``end``) (one period) whose energy lands in the
    component ``start`` is in: ``end`` unless a time-of-use band edge comes first."""
    from ..domain.cycle_pricing import interval_pieces
    from ..domain.tariff_versions import as_timeline
    from ..domain.tariffs import TouTariff

    tenure = _tenure(bus, meter_ctx)
    if not any(isinstance(v.tariff, TouTariff) for v in as_timeline(tenure.tariff).versions):
        return end
    day = (end - _MS).astimezone(zone(bus.tz)).date()
    plan = tenure.plan(meter_ctx.cycle.cycle_of(day))
    pieces = interval_pieces(plan, start, end)
    # in time order; consecutive pieces of one key (a DST offset change, two windows of
    # one band) are one component
    until = start
    for key, duration in pieces:
        if key != pieces[0][0]:
            return until
        until += duration
    return end


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


__all__ = ["PeriodBounds", "mark_basis", "period_bounds", "work_out_bound", "work_out_mark"]
