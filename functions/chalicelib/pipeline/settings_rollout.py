"""Make a settings change take effect on the meters: settle, re-decide, push the shadow.

The settings editor (``portal/settings_edit.py``) calls this after it stored a
change:

- before a unit's tariff changes, ``settle_unit`` charges the consumption since
  the account's cursor up to the newest stored reading at the tariff stored
  now, so the old price covers exactly the energy used under it;
- after a change, ``reapply_unit`` / ``reapply_property`` re-run the control
  step (``Controller.apply``) for the meters concerned with a fresh catalogue,
  which writes the shadow when power, reason, cutoff or the friendly-hours
  schedule sent with the cutoff changed (``fh`` in the control state): a new
  emergency allowance or price moves the cutoff, an edited calendar changes the
  schedule the gateway must honour the next time it cuts power offline.

Meters the control step never wrote (no command in the gateway's control
state) are left alone: the first telemetry cycle writes their shadow with the
settings of that moment. The gateway's control state is versioned; a
concurrent ingest makes us re-read and re-apply (bounded), as for a top-up, and
the shadows are written once the re-decided state is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..data.catalogue import Catalogue
from ..data.control_state import BusControlState, MeterControlState
from ..data.telemetry_store import TelemetryStore
from .alerts import Alert
from .contention import MeterChange, Planned, update_bus_state, update_meter_state
from .context import BusContext, BusDirectory, MeterContext
from .control import Controller
from .effects import Effect
from .errors import NoMeterError
from .settler import Settler
from .unsettled import unsettled_readings

MAX_STATE_ATTEMPTS = 6
# A property's gateways come from the company's gateway list (data-model pattern 33).
MAX_GATEWAYS_PER_PROPERTY = 300


@dataclass(frozen=True)
class Rollout:
    gateways: int  # gateways of the property visited
    meters: int  # meters re-decided
    shadows_written: int
    # The gateways' control state kept changing under us: the change is stored, and the
    # next telemetry cycle applies it (the control step compares cutoff and calendar).
    deferred: bool = False


class SettingsRollout:
    def __init__(
        self,
        catalogue: Catalogue,
        buses: BusDirectory,
        telemetry: TelemetryStore,
        settler: Settler,
        controller: Controller,
    ) -> None:
        self._catalogue = catalogue
        self._buses = buses
        self._telemetry = telemetry
        self._settler = settler
        self._controller = controller

    # --- a unit's tariff ---

    def settle_unit(self, company_id: str, unit_id: str, now: datetime) -> bool:
        """Charge the prepaid unit's unsettled readings at its current tariff. True if a
        settlement ran (False: not prepaid, no meter, nothing unsettled)."""
        located = self._locate_unit(company_id, unit_id)
        if located is None:
            return False
        bus, meter_ctx = located
        if not meter_ctx.prepaid or meter_ctx.tariff is None:
            return False

        def change(mstate: MeterControlState) -> MeterChange[bool] | None:
            mstate = self._settler.refresh(bus, meter_ctx, mstate)
            mstate, alerts = self._settle_unsettled(bus, meter_ctx, mstate, now)
            if alerts is None:
                return None  # nothing settled, nothing to write
            return MeterChange(mstate, True, settlement_alerts=alerts)

        settled: bool | None = update_meter_state(
            self._telemetry,
            bus,
            meter_ctx.meter.meter_id,
            now,
            change,
            MAX_STATE_ATTEMPTS,
            self._controller.perform,
        )
        return bool(settled)

    def company_changed(self, company_id: str) -> int:
        """A company-wide setting changed (its low-credit thresholds, which every bus's
        context holds): every gateway's stored context is stale from now, so ingest
        rebuilds it on the bus's next message instead of within the hour
        (``CONTEXT_MAX_AGE_S``). The gateways visited."""
        gateways = 0
        for gateway in self._catalogue.list_gateways(company_id):
            self._buses.changed(company_id, gateway.gateway_id)
            gateways += 1
        return gateways

    def reapply_unit(self, company_id: str, unit_id: str, now: datetime, actor: str) -> Rollout:
        located = self._locate_unit(company_id, unit_id)
        if located is None:
            return Rollout(0, 0, 0)
        bus, meter_ctx = located
        meters, written = self._reapply_gateway(bus, {meter_ctx.meter.meter_id}, now, actor)
        return Rollout(1, meters, written)

    # --- a property's calendar, allowance and thresholds ---

    def reapply_property(
        self, company_id: str, property_id: str, now: datetime, actor: str
    ) -> Rollout:
        self._buses.forget()  # fresh catalogue: the change was just stored
        gateways = meters = written = 0
        for gateway in self._catalogue.list_gateways(company_id):
            if gateway.property_id != property_id:
                continue
            gateways += 1
            if gateways > MAX_GATEWAYS_PER_PROPERTY:
                break
            self._buses.changed(company_id, gateway.gateway_id)  # ingest's stored context
            bus = self._buses.load(company_id, gateway.gateway_id, gateway)
            m, w = self._reapply_gateway(bus, None, now, actor)
            meters, written = meters + m, written + w
        return Rollout(gateways, meters, written)

    # --- shared ---

    def _locate_unit(self, company_id: str, unit_id: str) -> tuple[BusContext, MeterContext] | None:
        try:
            return self._buses.fresh_for_unit(company_id, unit_id)
        except NoMeterError:
            return None  # nothing to settle or re-decide

    def _reapply_gateway(
        self,
        bus: BusContext,
        only: set[str] | None,
        now: datetime,
        actor: str,
    ) -> tuple[int, int]:
        """Re-decide the gateway's meters (all, or ``only``); (meters, shadows written)."""

        def plan(read: BusControlState) -> Planned[tuple[int, int]]:
            meters: dict[str, MeterControlState] = {}
            effects: list[Effect] = []
            written = 0
            for meter_id, meter_ctx in bus.meters.items():
                mstate = read.meter(meter_id)
                if (only is not None and meter_id not in only) or not mstate.has_desired:
                    continue
                if meter_ctx.prepaid:
                    mstate = self._settler.refresh(bus, meter_ctx, mstate)
                control = self._controller.plan(
                    bus, meter_ctx, mstate, now, actor=actor, note="settings changed"
                )
                written += int(control.outcome.changed)
                meters[meter_id] = control.state
                effects += control.effects
            if not meters:
                return Planned(None, (0, 0))
            return Planned(read.with_meters(meters), (len(meters), written), tuple(effects))

        return update_bus_state(
            self._telemetry,
            bus.company_id,
            bus.gateway.gateway_id,
            now,
            plan,
            MAX_STATE_ATTEMPTS,
            self._controller.perform,
        )

    def _settle_unsettled(
        self, bus: BusContext, meter_ctx: MeterContext, mstate: MeterControlState, now: datetime
    ) -> tuple[MeterControlState, tuple[Alert, ...] | None]:
        """The state after charging the unsettled readings, and the settlement's alerts
        (None: no settlement ran)."""
        if meter_ctx.tariff is None or mstate.settled_at is None:
            return mstate, None
        readings = unsettled_readings(self._telemetry, bus, meter_ctx, mstate.settled_at, now)
        if not readings:
            return mstate, None
        mstate, settled = self._settler.settle(bus, meter_ctx, mstate, readings)
        return mstate, None if settled is None else settled.alerts
