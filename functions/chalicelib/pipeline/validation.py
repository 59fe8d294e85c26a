"""Validation at ingest, before money: every reading of a message is checked against its
meter's last good reading (``domain/metering.py``) and a failing one is held.

Where the last good reading (the *anchor*) comes from, cheapest first:

1. the meter's row in the bus's previous cycle, which ingest reads anyway;
2. when that row is missing, errored or held: the newest usable row in the last
   ``LOOKBACK_CYCLES`` cycles (one Query for the whole message), and the anchor the
   meter's newest held reading was checked against (one Query for the meter);
3. a reading a person vouched for, or the opening of a new register after a meter
   exchange (``Meter.anchors``, in the bus context already);
4. the account's settlement cursor (one GetItem), so that a meter silent or held for
   longer than the look-back still cannot hand over a misread as a base.

The newest of these before the reading wins. A good message costs no extra request; a
held reading costs its ``HeldReading`` item (written once the cycle is stored) and, when
its run of held readings reaches ``HELD_RUN_ALERT``, one alert to staff with the evidence.

A *frozen* register is judged from the cycles alone: each row carries on the energy the
meter's power readings say passed while its register stood still (``still_wh``, from the
previous cycle's row, which is read anyway). A *serial number* is checked by
``serial_watch.py``; a changed one holds the reading and proposes a meter exchange, whose
alert replaces the run's.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from ..data import keys
from ..data.errors import NotFoundError
from ..data.held_readings import HeldReadings
from ..data.ledger_store import LedgerStore
from ..data.rows import GatewayCycleRow as GatewayCycle  # a stored cycle, as read
from ..data.telemetry_store import TelemetryStore
from ..domain import Reading, format_kwh
from ..domain.calendar import local_midnight
from ..domain.energy import KWH_QUANTUM, MAX_KWH, ZERO_KWH, kwh
from ..domain.meter_models import configured_models
from ..domain.metering import (
    FUTURE_TOLERANCE,
    HELD_RUN_ALERT,
    HoldReason,
    PowerSample,
    Rating,
    Verdict,
    rating_of,
    still_energy_kwh,
    validate,
)
from .alerts import Alert
from .context import BusContext, MeterContext
from .serial_watch import Proposal, SerialCheck, SerialWatch, in_doubt, proposal_of
from .telemetry import MeterRow, Telemetry, rows_of

if TYPE_CHECKING:
    from ..data.models import HeldReading

LOOKBACK_CYCLES = 60


@dataclass(frozen=True)
class Checked:
    rows: list[MeterRow]  # every row; a held one carries its reason
    held: list[HeldReading]  # to write once the cycle is stored (not for a duplicate)
    alerts: list[Alert]  # runs that just reached HELD_RUN_ALERT
    proposals: list[Proposal] = field(default_factory=list)  # exchanges a new serial asks for


class ReadingValidator:
    def __init__(
        self,
        telemetry: TelemetryStore,
        held: HeldReadings,
        ledger: LedgerStore | None = None,
        serials: SerialWatch | None = None,
    ) -> None:
        self._telemetry = telemetry
        self._held = held
        self._ledger = ledger
        self._serials = serials or SerialWatch()

    def check(
        self,
        bus: BusContext,
        message: Telemetry,
        rows: list[MeterRow],
        previous: list[GatewayCycle],
    ) -> Checked:
        # ~32 rows a message on ingest's path (issue 19, CPU): per row, only the objects
        # the checks need (two readings), no descriptor reads of the items, and a row is
        # copied only when what validation adds to it changes.
        before = _rows_by_meter(previous)
        meters = bus.meters
        received_at = message.received_at
        looked_back: dict[str, Reading] | None = None
        checked: list[MeterRow] = []
        held: list[HeldReading] = []
        alerts: list[Alert] = []
        proposals: list[Proposal] = []
        latest_ok = received_at + FUTURE_TOLERANCE
        for row in rows:
            if row.import_kwh is None or row.error:
                checked.append(row)  # nothing read: nothing to hold
                continue
            meter_ctx = meters[row.meter_id]
            prior = before.get(row.meter_id)
            if prior is not None and _plainly_good(bus, meter_ctx, prior, row, latest_ok):
                checked.append(row)  # what the full path below would say, cheaply
                continue
            reading = Reading(row.read_at, row.import_kwh)
            still = _still(prior, row)
            still_wh = int(still * 1000) or None
            if still_wh != row.still_wh:
                row = replace(row, still_wh=still_wh)
            candidates: list[Reading] = []
            newest_hold: HeldReading | None = None
            if prior is not None and prior.usable and prior.import_kwh is not None:
                candidates.append(Reading(prior.read_at, prior.import_kwh))
            else:
                if looked_back is None:
                    looked_back = self._look_back(bus, message)
                if row.meter_id in looked_back:
                    candidates.append(looked_back[row.meter_id])
                newest_hold = self._held.newest(bus.company_id, row.meter_id)
                if newest_hold is not None and newest_hold.anchor_at is not None:
                    candidates.append(
                        Reading(newest_hold.anchor_at, Decimal(str(newest_hold.anchor_kwh)))
                    )
            vouched = meter_ctx.meter.attribute_values.get("anchors")
            if vouched:
                candidates += _vouched(vouched)
            anchor = _newest_before(candidates, reading.at)
            if anchor is None:
                anchor = self._cursor(bus, meter_ctx, reading.at)
            verdict = validate(reading, anchor, _rating(bus, meter_ctx), received_at, still)
            serial = self._serials.check(bus, meter_ctx, row, prior)
            if serial.hold:
                # another meter's register: not comparable with this chain at all
                verdict = replace(verdict, reason=HoldReason.SERIAL_CHANGED)
                if serial.propose:
                    proposals.append(
                        proposal_of(meter_ctx, serial, row, verdict.anchor, received_at)
                    )
            if verdict.reason is None:
                checked.append(row)
                continue
            checked.append(replace(row, quarantine=verdict.reason.value))
            continued = prior is not None and prior.quarantine is not None
            run = 1 + (int(newest_hold.run) if continued and newest_hold is not None else 0)
            held.append(_held_item(bus, row, verdict, run, serial))
            # a new serial's proposal tells staff itself, at once
            if run == HELD_RUN_ALERT and verdict.reason is not HoldReason.SERIAL_CHANGED:
                alerts.append(_run_alert(bus, meter_ctx, row, verdict, run))
        return Checked(checked, held, alerts, proposals)

    def record(self, bus: BusContext, checked: Checked) -> list[Alert]:
        """Once the cycle is stored: the held readings' items, and the exchange proposals
        (each once, with its alert)."""
        if checked.held:
            self._held.hold(checked.held)
        alerts = []
        for proposal in checked.proposals:
            alert = self._serials.propose(bus, proposal)
            if alert is not None:
                alerts.append(alert)
        return alerts

    def _look_back(self, bus: BusContext, message: Telemetry) -> dict[str, Reading]:
        """The newest usable reading of every meter in the look-back window."""
        cycles = self._telemetry.cycles_before(
            bus.company_id, bus.gateway.gateway_id, message.cycle_at, LOOKBACK_CYCLES
        )
        found: dict[str, Reading] = {}
        for cycle in cycles:  # newest first
            for row in rows_of(cycle):
                if row.usable and row.meter_id not in found and row.import_kwh is not None:
                    found[row.meter_id] = Reading(row.read_at, row.import_kwh)
        return found

    def _cursor(self, bus: BusContext, meter_ctx: MeterContext, at: datetime) -> Reading | None:
        """The account's settlement cursor (a reading already charged to), or the tenancy's
        opening reading while nothing has been settled."""
        account_id = meter_ctx.account_id
        if not account_id or self._ledger is None:
            return None
        try:
            account = self._ledger.get_account(bus.company_id, account_id)
        except NotFoundError:
            return None
        if account.settled_at is None or account.settled_kwh is None:
            tenancy = meter_ctx.tenancy
            if tenancy is None:
                return None
            # never settled: the tenancy's opening reading is what the tenant pays from
            start = local_midnight(date.fromisoformat(tenancy.starts_on), bus.tz)
            cursor = Reading(start, Decimal(str(tenancy.opening_kwh)))
        else:
            cursor = Reading(account.settled_at, Decimal(str(account.settled_kwh)))
        return cursor if cursor.at <= at else None


def _rows_by_meter(cycles: Iterable[GatewayCycle]) -> dict[str, MeterRow]:
    found: dict[str, MeterRow] = {}
    for cycle in cycles:
        for row in rows_of(cycle):
            found.setdefault(row.meter_id, row)
    return found


def _vouched(anchors: list[Any]) -> list[Reading]:
    """Readings a person vouched for or a new register's opening (``Meter.anchors``, as
    stored: read from the item's values, since a container's copy follows the stored
    meter, serial_watch.py)."""
    return [
        Reading(datetime.fromisoformat(str(anchor["at"])), Decimal(str(anchor["kwh"])))
        for anchor in anchors
    ]


def _newest_before(candidates: list[Reading], at: datetime) -> Reading | None:
    """The latest candidate not after ``at`` (the first of equals)."""
    newest: Reading | None = None
    for candidate in candidates:
        if candidate.at <= at and (newest is None or candidate.at > newest.at):
            newest = candidate
    return newest


def _rating(bus: BusContext, meter_ctx: MeterContext) -> Rating:
    """The meter's rating, kept on its context (a catalogue edit builds a new one): a
    gateway without configured profiles (most) rates its meters from the shipped
    catalogue, once per container per (profile, unit override); configured profiles are
    models built from their summaries."""
    cached: Rating | None = meter_ctx.__dict__.get("_rating")
    if cached is None:
        unit = meter_ctx.unit
        override = None if unit is None else unit.attribute_values.get("max_current_a")
        profile = str(meter_ctx.meter.attribute_values.get("profile"))
        configured = bus.gateway.attribute_values.get("profiles")
        if not configured:
            cached = _shipped_rating(profile, None if override is None else str(override))
        else:
            cached = rating_of(
                profile,
                None if override is None else Decimal(str(override)),
                configured_models(configured),
            )
        object.__setattr__(meter_ctx, "_rating", cached)
    return cached


@functools.lru_cache(maxsize=256)
def _shipped_rating(profile: str, override: str | None) -> Rating:
    return rating_of(profile, None if override is None else Decimal(override))


_NOTHING_STILL = Decimal(0)


def _plainly_good(
    bus: BusContext, meter_ctx: MeterContext, prior: MeterRow, row: MeterRow, latest_ok: datetime
) -> bool:
    """True only when ``check``'s full path would pass ``row`` unchanged: the previous
    cycle's row of the meter is usable and before it (so it is the anchor, and nothing
    is looked up), no reading is vouched for, the serial gives no doubt, the time is not
    ahead, and the register moved forward within the rating (or stood still with no
    energy to account for). Anything else, False: the full path decides. Most rows of a
    steady message: no Reading, Verdict or row copy made for it (issue 19, CPU).
    ``tests/unit/pipeline/test_validation_fast_path.py`` proves it agrees."""
    if prior.quarantine is not None or prior.error or row.still_wh is not None:
        return False
    at, before_at = row.read_at, prior.read_at
    if not before_at < at <= latest_ok:
        return False
    value, before_value = row.import_kwh, prior.import_kwh
    if (
        value is None
        or before_value is None
        or not value.is_finite()
        or not before_value.is_finite()
        or not ZERO_KWH <= before_value <= MAX_KWH
        or not ZERO_KWH <= value <= MAX_KWH
    ):
        return False
    meter = meter_ctx.meter.attribute_values
    if meter.get("anchors") or in_doubt(meter, row, prior):
        return False
    # as validate(): both readings to the Wh, then their difference
    energy = kwh(
        value.quantize(KWH_QUANTUM, ROUND_HALF_EVEN)
        - before_value.quantize(KWH_QUANTUM, ROUND_HALF_EVEN)
    )
    if energy < 0 or energy > _rating(bus, meter_ctx).max_energy_kwh(at - before_at):
        return False
    # a register that moved has no still energy (_still); one that stood still must
    # show none either, or the frozen check has something to weigh
    return energy > 0 or _still(prior, row) == 0


def _still(prior: MeterRow | None, row: MeterRow) -> Decimal:
    """The energy passed while the register stood still, carried on from the previous
    cycle's row of the meter (held or not: its power is real either way)."""
    if prior is None or prior.import_kwh is None or prior.error or row.import_kwh is None:
        return _NOTHING_STILL
    if prior.watts is None or row.watts is None or prior.import_kwh != row.import_kwh:
        # still_energy_kwh's own first answers, without building its two samples: the
        # register moved (most rows), or a power is missing
        return _NOTHING_STILL
    before = PowerSample(prior.read_at, prior.import_kwh, prior.watts)
    carried = Decimal(prior.still_wh or 0) / 1000
    return still_energy_kwh(before, carried, PowerSample(row.read_at, row.import_kwh, row.watts))


def _held_item(
    bus: BusContext, row: MeterRow, verdict: Verdict, run: int, serial: SerialCheck
) -> HeldReading:
    from ..data.models import HeldReading  # a held reading only: not a steady message

    anchor = verdict.anchor
    return HeldReading(
        keys.meter_data_pk(bus.company_id, row.meter_id),
        keys.held_reading_sk(row.read_at),
        company_id=bus.company_id,
        meter_id=row.meter_id,
        gateway_id=bus.gateway.gateway_id,
        read_at=row.read_at,
        reading_kwh=format_kwh(row.import_kwh) if row.import_kwh is not None else "0.000",
        reason=str(verdict.reason),
        anchor_kwh=format_kwh(anchor.cumulative_kwh) if anchor else None,
        anchor_at=anchor.at if anchor else None,
        energy_kwh=None if verdict.energy_kwh is None else format_kwh(verdict.energy_kwh),
        limit_kwh=None if verdict.limit_kwh is None else format_kwh(verdict.limit_kwh),
        watts=None if row.watts is None else str(row.watts),
        run=run,
        drawn_kwh=None if verdict.drawn_kwh is None else format_kwh(verdict.drawn_kwh),
        serial=serial.seen,
        known_serial=serial.known,
    )


def _run_alert(
    bus: BusContext, meter_ctx: MeterContext, row: MeterRow, verdict: Verdict, run: int
) -> Alert:
    """One alert per run: a reset, a swapped meter, a stuck glitch; the evidence with it."""
    anchor = verdict.anchor
    subject = f"unit:{meter_ctx.unit.unit_id}" if meter_ctx.unit else f"meter:{row.meter_id}"
    return Alert(
        bus.company_id,
        "readings_held",
        subject,
        row.read_at,
        "staff",
        None,
        {
            "meter": row.meter_id,
            "reason": str(verdict.reason),
            "held_in_a_row": str(run),
            "last_good_kwh": format_kwh(anchor.cumulative_kwh) if anchor else "",
            "last_good_at": anchor.at.isoformat() if anchor else "",
            "latest_kwh": format_kwh(row.import_kwh) if row.import_kwh is not None else "",
        },
    )
