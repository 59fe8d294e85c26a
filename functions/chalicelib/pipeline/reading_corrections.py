"""What a person does about held readings, made effective on the money and the relay.

- **Meter exchange**: the old meter's final reading and the new meter's opening, at one
  instant (a changed serial's proposal is answered by it: the new serial is adopted). The energy up to the old meter's final reading is charged (once: the
  settlement's entry id is the cursor and the reading it charges up to), then the
  account's cursor moves to the new register's opening in the same settlement, so the
  energy across the swap is charged on one side only, whatever the two registers say
  (``domain/consumption.py``, ``new_register``). Validation checks later readings against
  the new register's opening (``Meter.anchors``).
- **Accept** a held reading (a real surge the meter did pass) or **replace** it with an
  estimate: the reading (or the estimate) becomes a reading validation starts from, and a
  prepaid account is settled up to it at once.
- **Reject**: it stays out of every charge; only the decision is recorded.

Every decision keeps the original reading (the held item is updated, never deleted) and
goes to the audit trail. A prepaid account's control step runs again after a settlement,
so a relay that a missing charge held on (or an overcharge held off) is put right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..data.audit import AuditLog, audit_event
from ..data.catalogue import Catalogue
from ..data.control_state import MeterControlState
from ..data.held_readings import HELD, MAX_HELD_READ, HeldReadings
from ..data.meter_serials import MeterSerials
from ..data.telemetry_store import TelemetryStore
from ..domain import Reading, format_kwh, kwh
from ..domain.metering import HoldReason
from ..observability import logger
from .contention import MeterChange, update_meter_state
from .context import BusContext, BusDirectory, MeterContext
from .control import Controller
from .errors import (
    ReadingAlreadyDecidedError,
    ReadingBelowAnchorError,
    ReadingCorrectionError,
)
from .settler import Settler
from .unsettled import unsettled_readings

MAX_STATE_ATTEMPTS = 6
# Held readings an exchange resolves: 50 pages of 200, a week of one-minute polling.
MAX_RELEASE_PAGES = 50
KEY_RESOLUTION = timedelta(milliseconds=1)  # held readings are keyed by the millisecond


@dataclass(frozen=True)
class Corrected:
    settled: bool  # a prepaid account was charged up to the corrected reading
    released: int  # held readings this decision resolved


class ReadingCorrections:
    def __init__(
        self,
        catalogue: Catalogue,
        buses: BusDirectory,
        telemetry: TelemetryStore,
        held: HeldReadings,
        settler: Settler,
        controller: Controller,
        audit: AuditLog | None = None,
        serials: MeterSerials | None = None,
    ) -> None:
        self._serials = serials or MeterSerials()
        self._catalogue = catalogue
        self._buses = buses
        self._telemetry = telemetry
        self._held = held
        self._settler = settler
        self._controller = controller
        self._audit = audit or AuditLog()

    def exchange(
        self,
        company_id: str,
        unit_id: str,
        at: datetime,
        old_final_kwh: Decimal,
        new_opening_kwh: Decimal,
        actor: str,
        note: str,
        now: datetime,
    ) -> Corrected:
        bus, meter_ctx = self._buses.fresh_for_unit(company_id, unit_id)
        if at > now:
            raise ReadingCorrectionError("a meter exchange is recorded when it happened, not ahead")
        old_final = Reading(at, kwh(old_final_kwh))
        opening = Reading(at, kwh(new_opening_kwh), new_register=True)
        meter_id = meter_ctx.meter.meter_id
        self._catalogue.add_meter_anchor(
            company_id,
            meter_id,
            {
                "at": at.isoformat(),
                "kwh": format_kwh(opening.cumulative_kwh),
                "kind": "exchange",
                "old_final_kwh": format_kwh(old_final.cumulative_kwh),
                "by": actor,
                "note": note,
                "recorded_at": now.isoformat(),
            },
            # a pending proposal (a changed serial) is what this exchange answers
            adopt_serial=True,
        )
        released = self._release_after(company_id, meter_id, at, actor, now, "meter exchange")
        settled = self._settle_through(bus, meter_ctx, [old_final, opening], now, "meter exchange")
        self._record(
            company_id,
            actor,
            "meter_exchange",
            unit_id,
            now,
            {
                "meter": meter_id,
                "at": at.isoformat(),
                "old_final_kwh": format_kwh(old_final.cumulative_kwh),
                "new_opening_kwh": format_kwh(opening.cumulative_kwh),
                "note": note,
            },
        )
        self._buses.forget()  # this container validates with the new register at once
        return Corrected(settled, released)

    def same_meter(
        self, company_id: str, unit_id: str, actor: str, note: str, now: datetime
    ) -> Corrected:
        """Staff say a changed serial's proposal was no exchange (a misread serial, or one
        that now reads another way): the serial read is kept as the meter's, and the
        readings held only for it are rejected, so the chain goes on from the last good
        reading and the next good one charges everything since, once."""
        _, meter_ctx = self._buses.fresh_for_unit(company_id, unit_id)
        meter_id = meter_ctx.meter.meter_id
        proposal = self._serials.fresh(company_id, meter_id).serial_proposal
        if not proposal:
            raise ReadingCorrectionError("no meter exchange is proposed for this unit")
        if not self._serials.same_meter(company_id, meter_id, proposal):
            raise ReadingAlreadyDecidedError("someone answered this proposal meanwhile")
        since = datetime.fromisoformat(str(proposal["first_new"]["at"]))
        released = self._release_after(
            company_id, meter_id, since, actor, now, note, "rejected", HoldReason.SERIAL_CHANGED
        )
        self._record(
            company_id,
            actor,
            "serial_same_meter",
            unit_id,
            now,
            {
                "meter": meter_id,
                "old_serial": str(proposal["old_serial"]),
                "new_serial": str(proposal["new_serial"]),
                "note": note,
            },
        )
        self._buses.forget()
        return Corrected(False, released)

    def decide(
        self,
        company_id: str,
        unit_id: str,
        read_at: datetime,
        decision: str,
        actor: str,
        note: str,
        now: datetime,
        estimate_kwh: Decimal | None = None,
    ) -> Corrected:
        """``accept`` | ``reject`` | ``estimate`` one held reading of the unit's meter."""
        bus, meter_ctx = self._buses.fresh_for_unit(company_id, unit_id)
        meter_id = meter_ctx.meter.meter_id
        item = self._held.get(company_id, meter_id, read_at)
        if item.status != HELD:
            raise ReadingAlreadyDecidedError(f"this reading was already {item.status}")
        value = kwh(str(item.reading_kwh))
        if decision == "estimate":
            if estimate_kwh is None:
                raise ReadingCorrectionError("an estimate needs its kWh")
            value = kwh(estimate_kwh)
        elif decision not in {"accept", "reject"}:
            raise ReadingCorrectionError("decide accept, reject or estimate")
        if decision != "reject" and str(item.reason) == HoldReason.SERIAL_CHANGED:
            # another meter's register: charging it on this chain would charge the
            # difference between two meters
            raise ReadingCorrectionError(
                "a reading of a changed serial can only be rejected: record the meter "
                "exchange, and the new meter's readings are charged from its opening"
            )
        anchor_kwh = kwh(str(item.anchor_kwh)) if item.anchor_kwh is not None else None
        if decision != "reject" and anchor_kwh is not None and value < anchor_kwh:
            raise ReadingBelowAnchorError(
                f"{format_kwh(value)} kWh is below the last good reading "
                f"{format_kwh(anchor_kwh)} kWh: record a meter exchange (or reset) instead"
            )
        status = {"accept": "accepted", "reject": "rejected", "estimate": "replaced"}[decision]
        replacement = format_kwh(value) if decision == "estimate" else None
        if not self._held.decide(item, status, actor, now, note, replacement):
            raise ReadingAlreadyDecidedError("someone decided this reading meanwhile")
        settled = False
        if decision != "reject":
            self._catalogue.add_meter_anchor(
                company_id,
                meter_id,
                {
                    "at": read_at.isoformat(),
                    "kwh": format_kwh(value),
                    "kind": "accepted" if decision == "accept" else "estimate",
                    "by": actor,
                    "note": note,
                    "recorded_at": now.isoformat(),
                },
            )
            why = "reading accepted" if decision == "accept" else "estimated reading"
            settled = self._settle_through(bus, meter_ctx, [Reading(read_at, value)], now, why)
            self._buses.forget()
        self._record(
            company_id,
            actor,
            f"reading_{status}",
            unit_id,
            now,
            {
                "meter": meter_id,
                "read_at": read_at.isoformat(),
                "reading_kwh": str(item.reading_kwh),
                "reason": str(item.reason),
                "replacement_kwh": replacement,
                "note": note,
            },
        )
        return Corrected(settled, 1)

    # --- shared ---

    def _settle_through(
        self,
        bus: BusContext,
        meter_ctx: MeterContext,
        last: list[Reading],
        now: datetime,
        correction: str,
    ) -> bool:
        """A prepaid account charged up to ``last`` (the good readings before it first),
        its state's snapshot and control step brought up to date."""
        if not meter_ctx.prepaid or meter_ctx.tariff is None:
            return False
        until = last[0].at

        def change(mstate: MeterControlState) -> MeterChange[bool] | None:
            mstate = self._settler.refresh(bus, meter_ctx, mstate)
            if mstate.settled_at is None or mstate.settled_at > until:
                return None  # already charged past it: nothing of this reading is owed
            since = unsettled_readings(
                self._telemetry, bus, meter_ctx, mstate.settled_at, now, upto=until
            )
            before = [r for r in since if r.at < until]
            mstate, settled = self._settler.settle(
                bus, meter_ctx, mstate, [*before, *last], correction
            )
            if settled is None:
                return None
            control = self._controller.plan(bus, meter_ctx, mstate, now)
            return MeterChange(
                control.state, True, control.effects, settlement_alerts=settled.alerts
            )

        done: bool | None = update_meter_state(
            self._telemetry,
            bus,
            meter_ctx.meter.meter_id,
            now,
            change,
            MAX_STATE_ATTEMPTS,
            self._controller.perform,
        )
        return bool(done)

    def _release_after(
        self,
        company_id: str,
        meter_id: str,
        at: datetime,
        actor: str,
        now: datetime,
        why: str,
        status: str = "accepted",
        only: str | None = None,
    ) -> int:
        """Held readings of the new register (after the exchange) are resolved by it: every
        one, page by page (days of hourly readings are more than a page), newest first."""
        released = 0
        before: datetime | None = None
        for _ in range(MAX_RELEASE_PAGES):
            items = self._held.of_meter(company_id, meter_id, MAX_HELD_READ, before)
            for item in items:
                if item.read_at < at:
                    return released
                if item.status == HELD and (only is None or str(item.reason) == only):
                    released += self._held.decide(item, status, actor, now, why)
            if len(items) < MAX_HELD_READ:
                return released
            before = items[-1].read_at - KEY_RESOLUTION  # the page's oldest is done
        # The exchange is recorded and will be settled: the oldest stay listed as held,
        # for staff to reject (they never charge either way).
        logger.warning(
            "meter %s: exchange at %s released its newest %d held readings, older ones left",
            meter_id,
            at.isoformat(),
            released,
        )
        return released

    def _record(
        self,
        company_id: str,
        actor: str,
        action: str,
        unit_id: str,
        now: datetime,
        detail: dict[str, Any],
    ) -> None:
        event_id = f"{action}-{int(now.timestamp() * 1000)}"
        self._audit.record(
            audit_event(company_id, event_id, actor, action, f"unit:{unit_id}", detail, now)
        )
