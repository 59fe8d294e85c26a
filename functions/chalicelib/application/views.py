"""Read models of the portal pages and the JSON API, each a bounded number of
DynamoDB requests whatever the size of the company (see docs/portal.md):

- dashboard: properties (1 Query), one page of units of one property (1 Query
  on gsi1), their accounts, meters and gateways (1 BatchGetItem each), the
  newest alerts (1 Query);
- unit page: unit, property, meter, account, tenancy (GetItems), a ledger page
  (gsi2), the latest relay commands, a week of 15-minute usage of its gateway, the
  gateway's control state for the power mode (GetItem; and who set an override).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ..auth.principal import Principal, Role
from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..data.ledger_store import LedgerStore
from ..data.models import (
    Account,
    Bill,
    Gateway,
    LedgerEntryItem,
    Membership,
    Meter,
    Notification,
    Property,
    RelayCommand,
    Tenancy,
    Unit,
)
from ..data.notifications import NotificationStore
from ..data.relay_log import RelayLog
from ..data.telemetry_store import TelemetryStore
from ..data.tenancies import TenancyStore
from ..domain.calendar import zone
from ..domain.cycles import BillingCycle
from ..domain.tenancy_window import OPEN, TenancyWindow
from ..pipeline.context import cycle_of_unit
from .errors import ReceiptTooOldError
from .estimate import HORIZON_DAYS, days_left
from .latest_reading import LatestReadings, StoredReading
from .live_balance import LiveBalance, live_balance
from .open_bucket import OpenBuckets
from .power_mode import PowerMode, power_mode
from .scope import UnitScope
from .tenancy_usage import TenancyBuckets, window_of_tenancy

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_QUERY_CHARS = 64
LEDGER_PAGE = 20
MAX_ENTRIES_AFTER = 2_000  # a receipt's balance-after walks back at most this many
ALERTS_SHOWN = 5
RELAY_HISTORY = 5
LABELLED_TENANCIES = 3  # a week of usage and five commands rarely span more
USAGE_DAYS = 7


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    account: Account | None
    meter: Meter | None
    gateway: Gateway | None
    bill: Bill | None = None  # postpaid: the bill of the last completed month, if issued
    live: LiveBalance | None = None  # prepaid: the balance with the unsettled energy priced


@dataclass(frozen=True)
class Dashboard:
    properties: list[Property]
    selected: Property | None
    rows: list[UnitRow]
    next_cursor: str | None
    alerts: list[Notification]


@dataclass(frozen=True)
class UsageDay:
    day: datetime  # local midnight, tz-aware
    energy_kwh: Decimal
    # staff, on a changeover day: each tenancy's share, (tenancy id, kWh), newest first
    tenancies: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True)
class TenancyPart:
    """One of the unit's tenancies and its window, to label what belongs to it."""

    tenancy_id: str
    window: TenancyWindow


@dataclass(frozen=True)
class UnitDetail:
    unit: Unit
    premises: Property
    meter: Meter | None
    account: Account | None
    tenancy: Tenancy | None
    entries: list[LedgerEntryItem]
    commands: list[RelayCommand]
    usage: list[UsageDay]
    days_left: int | None
    # The newest stored reading: the gateway's latest cycles, else the Meter item.
    latest: StoredReading | None = None
    live: LiveBalance | None = None  # the balance with the unsettled energy priced
    extras: dict[str, Any] = field(default_factory=dict)
    # automatic, off by hand, on by hand until ...
    mode: PowerMode = field(default_factory=lambda: PowerMode("auto"))
    tenant: Membership | None = None  # the tenancy's tenant, for staff
    history: list[TenancyPart] = field(default_factory=list)  # staff: the unit's latest

    def tenancy_at(self, at: datetime) -> str | None:
        """Staff: the tenancy whose window holds ``at`` (None: the unit was vacant)."""
        return next((t.tenancy_id for t in self.history if t.window.holds(at)), None)

    @property
    def days_left_beyond(self) -> bool:
        """The estimate reaches past the horizon: "more than 90 days", not a number."""
        return self.days_left is not None and self.days_left > HORIZON_DAYS

    @property
    def horizon_days(self) -> int:
        return HORIZON_DAYS

    @property
    def power_state(self) -> str:
        """The state asked for: a pending command's, else the meter's confirmed one."""
        if self.commands and self.commands[0].outcome == "pending":
            return str(self.commands[0].power)
        return str(self.unit.power)

    @property
    def power_pending(self) -> bool:
        return bool(self.commands) and self.commands[0].outcome == "pending"

    @property
    def power_reason(self) -> str:
        """Why the power is as it is: the latest command's reason, else the unit's."""
        if self.commands:
            return str(self.commands[0].reason)
        return str(self.unit.power_reason or ("credit_ok" if self.unit.power == "on" else ""))

    @property
    def power_note(self) -> str | None:
        return getattr(self.commands[0], "note", None) if self.commands else None


@dataclass(frozen=True)
class PortalViews:
    _catalogue: Catalogue
    _ledger: LedgerStore
    _notifications: NotificationStore
    _telemetry: TelemetryStore
    _relay_log: RelayLog
    _scope: UnitScope
    _latest: LatestReadings
    _tenancies: TenancyStore | None = None  # None: staff see no tenancy labels

    def dashboard(
        self,
        p: Principal,
        property_id: str | None = None,
        search: str = "",
        power: str | None = None,
        cursor: str | None = None,
        page_size: int = PAGE_SIZE,
        now: datetime | None = None,
    ) -> Dashboard:
        props = [
            x
            for x in self._catalogue.list_properties(p.company_id)
            if p.may_see_property(x.property_id)
        ]
        selected = next((x for x in props if x.property_id == property_id), None)
        if property_id and selected is None:
            raise NotFoundError("property not found")
        selected = selected or (props[0] if props else None)
        rows: list[UnitRow] = []
        next_cursor = None
        if selected is not None:
            units, next_cursor = self._catalogue.units_page(
                p.company_id,
                selected.property_id,
                search=search.strip()[:MAX_QUERY_CHARS],
                power=power,
                cursor=cursor,
                limit=min(page_size, MAX_PAGE_SIZE),
            )
            today = (now or datetime.now(UTC)).astimezone(zone(selected.time_zone)).date()
            rows = self._rows(p.company_id, units, today, selected.time_zone, selected)
        alerts = self._notifications.newest(p.company_id, ALERTS_SHOWN)
        if p.role is not Role.COMPANY_ADMIN:
            visible = {f"unit:{r.unit.unit_id}" for r in rows}
            alerts = [a for a in alerts if a.subject_ref in visible]
        return Dashboard(props, selected, rows, next_cursor, alerts)

    def _rows(
        self,
        company_id: str,
        units: list[Unit],
        today: date,
        time_zone: str,
        premises: Property,
    ) -> list[UnitRow]:
        """One page of units with their accounts, postpaid bills of each unit's last
        completed billing period (its own cycle; the key is known, so they come in the same
        batch), meters and gateways: 3 BatchGetItems; and the live balances: one Query of
        latest cycles per gateway on the page."""
        accounts, bills = self._ledger.accounts_and_bills(
            company_id,
            {u.account_id for u in units if u.account_id},
            {
                u.account_id: last_completed_period(cycle_of_unit(u, premises), today)
                for u in units
                if u.account_id and u.billing_mode == "postpaid"
            },
        )
        meters = self._catalogue.get_meters(company_id, {u.meter_id for u in units if u.meter_id})
        gateways = self._catalogue.get_gateways(company_id, {m.gateway_id for m in meters.values()})
        latest = self._latest_of(company_id, units, meters, accounts)
        tenancies = self._catalogue.get_tenancies(
            company_id,
            [u.tenancy_id for u in units if u.tenancy_id and u.account_id in accounts and
             accounts[u.account_id].settled_at is None],
        )  # fmt: skip
        rows = []
        for u in units:
            meter = meters.get(u.meter_id or "")
            account = accounts.get(u.account_id or "")
            live = None
            if account is not None:
                tenancy = tenancies.get(u.tenancy_id or "")
                live = live_balance(
                    account,
                    u,
                    tenancy,
                    time_zone,
                    latest.get(u.meter_id or ""),
                    cycle_of_unit(u, premises),
                )
            rows.append(
                UnitRow(
                    unit=u,
                    account=account,
                    meter=meter,
                    gateway=gateways.get(meter.gateway_id) if meter else None,
                    bill=bills.get(u.account_id or ""),
                    live=live,
                )
            )
        return rows

    def _latest_of(
        self,
        company_id: str,
        units: list[Unit],
        meters: dict[str, Meter],
        accounts: dict[str, Account],
    ) -> dict[str, StoredReading]:
        """Newest readings of the prepaid meters with an account, by gateway."""
        by_gateway: dict[str, list[Meter]] = {}
        for u in units:
            meter = meters.get(u.meter_id or "")
            if meter is not None and u.billing_mode == "prepaid" and u.account_id in accounts:
                by_gateway.setdefault(str(meter.gateway_id), []).append(meter)
        latest: dict[str, StoredReading] = {}
        for gateway_id, on_bus in by_gateway.items():
            latest |= self._latest.of_gateway(company_id, gateway_id, on_bus)
        return latest

    def unit_detail(
        self, p: Principal, unit_id: str, now: datetime | None = None, with_usage: bool = True
    ) -> UnitDetail:
        """``with_usage=False``: the caller draws its own chart (application/consumption.py)."""
        now = now or datetime.now(UTC)
        unit = self._scope.visible_unit(p, unit_id)
        prop = self._catalogue.get_property(p.company_id, unit.property_id)
        meter = (
            _maybe(lambda: self._catalogue.get_meter(p.company_id, unit.meter_id or ""))
            if unit.meter_id
            else None
        )
        tenancy = (
            _maybe(lambda: self._catalogue.get_tenancy(p.company_id, unit.tenancy_id or ""))
            if unit.tenancy_id
            else None
        )
        account = entries = None
        if unit.account_id:
            account = _maybe(lambda: self._ledger.get_account(p.company_id, unit.account_id or ""))
            entries = list(self._ledger.entries(p.company_id, unit.account_id, limit=LEDGER_PAGE))
        commands: list[RelayCommand] = []
        usage: list[UsageDay] = []
        latest = None
        # A tenant sees their own tenancy only: nothing before its start instant (the
        # previous tenant's commands and their notes, their part of the changeover day)
        # nor after its end. Staff see the whole history, each part labelled.
        window = (
            window_of_tenancy(tenancy, str(prop.time_zone))
            if p.role is Role.TENANT and tenancy is not None
            else OPEN
        )
        history: list[TenancyPart] = []
        mode = PowerMode("auto")
        if meter is not None:
            state = self._telemetry.get_state(p.company_id, meter.gateway_id)
            mode = power_mode(state.meter(meter.meter_id), now)
            if mode.by:  # who, by the address people know them by (one GetItem)
                who = _maybe(lambda: self._catalogue.get_membership(p.company_id, mode.by or ""))
                mode = replace(mode, by=str(who.email) if who else None)
            latest = self._latest.of(p.company_id, meter)
            commands = self._relay_log.history(p.company_id, meter.meter_id, RELAY_HISTORY)
            commands = [c for c in commands if window.holds(c.issued_at)]
            history = self._history(p, unit, tenancy, str(prop.time_zone), commands, now)
            if with_usage:
                usage = self.daily_usage(p.company_id, meter, prop.time_zone, now, window, history)
        estimate = None
        live = None
        if account is not None:
            live = live_balance(
                account, unit, tenancy, str(prop.time_zone), latest, cycle_of_unit(unit, prop)
            )
        if account is not None and entries is not None:
            estimate = days_left(
                live.balance_minor if live else int(account.balance_minor),
                [(e.entry_kind, int(e.amount_minor), e.occurred_at) for e in entries],
                now,
            )
        return UnitDetail(
            unit,
            prop,
            meter,
            account,
            tenancy,
            entries or [],
            commands,
            usage,
            estimate,
            latest,
            live,
            mode=mode,
            tenant=self._tenant_of(p, tenancy),
            history=history,
        )

    def _history(
        self,
        p: Principal,
        unit: Unit,
        tenancy: Tenancy | None,
        time_zone: str,
        commands: list[RelayCommand],
        now: datetime,
    ) -> list[TenancyPart]:
        """Staff: the unit's latest tenancies with their windows, to label what each
        command and each changeover day belongs to. The current tenancy alone when it
        holds every command and began before the week of usage; else one Query on gsi1.
        A tenant: none (they see their own tenancy only)."""
        if p.role is Role.TENANT or self._tenancies is None:
            return []
        if tenancy is not None:
            current = TenancyPart(str(tenancy.tenancy_id), window_of_tenancy(tenancy, time_zone))
            start = current.window.start
            if (
                all(current.window.holds(c.issued_at) for c in commands)
                and start is not None
                and start < now - timedelta(days=USAGE_DAYS + 1)
            ):
                return [current]
        elif not commands:
            return []
        return [
            TenancyPart(str(t.tenancy_id), window_of_tenancy(t, time_zone))
            for t in self._tenancies.of_unit(p.company_id, unit.unit_id, LABELLED_TENANCIES)
        ]

    def _tenant_of(self, p: Principal, tenancy: Tenancy | None) -> Membership | None:
        """Staff see a tenancy by its tenant (name, else e-mail), not by its id: one
        GetItem of the tenant's membership. A tenant knows who they are."""
        if tenancy is None or p.role is Role.TENANT:
            return None
        return _maybe(lambda: self._catalogue.get_membership(p.company_id, tenancy.tenant_sub))

    def daily_usage(
        self,
        company_id: str,
        meter: Meter,
        time_zone: str,
        now: datetime,
        window: TenancyWindow = OPEN,
        history: Sequence[TenancyPart] = (),
    ) -> list[UsageDay]:
        """Energy per local day over the last week, from the gateway's 15-minute buckets;
        ``window``: only the tenancy's share (a tenant's), the changeover's bucket split
        at the reading (application/tenancy_usage.py). ``history`` (staff): each day a
        tenancy starts or ends on also carries every tenancy's share of it."""
        zone = ZoneInfo(time_zone)
        today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        first = today - timedelta(days=USAGE_DAYS - 1)
        if window.start is not None:
            first = max(first, _day_of(window.start, zone))
        if window.end is not None:
            today = min(today, _day_of(window.end, zone))
        days = (today - first).days + 1
        buckets: list[tuple[datetime, Decimal]] = []
        for bucket in self._telemetry.usage_between(
            company_id, meter.gateway_id, first.astimezone(UTC), now.astimezone(UTC)
        ):
            energy = (bucket.energy or {}).get(meter.meter_id)
            if energy is not None:
                buckets.append((bucket.bucket_start, Decimal(str(energy))))
        # the bucket still open: the chart reaches the latest reading (open_bucket.py)
        found = OpenBuckets(self._telemetry).of(company_id, meter.gateway_id, meter.meter_id)
        written = {start for start, _ in buckets}
        if found is not None and found.start not in written and found.start >= first:
            buckets.append((found.start, found.energy_kwh))
        if not buckets:
            return []
        clipper = TenancyBuckets(self._telemetry)
        args = (company_id, str(meter.gateway_id), str(meter.meter_id))
        totals = _per_day(clipper.clip(*args, buckets, window), zone, first, days)
        if not totals:
            return []
        shares: dict[datetime, list[tuple[str, Decimal]]] = {}
        for part in history:
            edges = {_day_of(e, zone) for e in (part.window.start, part.window.end) if e}
            if not edges & totals.keys():
                continue
            clipped = clipper.clip(*args, _on_days(buckets, zone, edges), part.window)
            for day, energy in _per_day(clipped, zone, first, days).items():
                if day in edges:
                    shares.setdefault(day, []).append((part.tenancy_id, energy))
        return [
            UsageDay(day, kwh.quantize(Decimal("0.001")), tuple(shares.get(day, ())))
            for day, kwh in sorted(totals.items())
        ]

    def tenant_units(self, p: Principal) -> list[Unit]:
        """The caller's current tenancies' units (gsi2, then one BatchGet)."""
        tenancies = [
            t
            for t in self._catalogue.list_tenancies_of_tenant(p.company_id, p.user_sub)
            if not t.ends_on
        ]
        mine = {t.tenancy_id for t in tenancies}
        units = self._catalogue.get_units(p.company_id, [t.unit_id for t in tenancies])
        return sorted((u for u in units.values() if u.tenancy_id in mine), key=lambda u: u.unit_id)

    def entry_of_unit(
        self, p: Principal, unit_id: str, entry_id: str
    ) -> tuple[Unit, LedgerEntryItem, int]:
        """The entry and the account's balance right after it (the stored balance less
        every entry after it: a receipt shows what that top-up made the balance)."""
        unit = self._scope.visible_unit(p, unit_id)
        if not unit.account_id:
            raise NotFoundError("entry not found")
        entry = self._ledger.get_entry(p.company_id, unit.account_id, entry_id)
        account = self._ledger.get_account(p.company_id, unit.account_id)
        later = self._ledger.entries_since(
            p.company_id, unit.account_id, entry.occurred_at, MAX_ENTRIES_AFTER + 1
        )
        after = [e for e in later if (e.gsi2sk or "") > (entry.gsi2sk or "")]
        if len(later) > MAX_ENTRIES_AFTER:
            raise ReceiptTooOldError("too many entries since this one to show its balance")
        return unit, entry, int(account.balance_minor) - sum(int(e.amount_minor) for e in after)


def _day_of(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)


def _per_day(
    buckets: Iterable[tuple[datetime, Decimal]], zone: ZoneInfo, first: datetime, days: int
) -> dict[datetime, Decimal]:
    """Each of ``days`` local days from ``first`` with its buckets' energy."""
    totals = {first + timedelta(days=i): Decimal("0.000") for i in range(max(days, 0))}
    for start, energy in buckets:
        day = _day_of(start, zone)
        if day in totals:
            totals[day] += energy
    return totals


def _on_days(
    buckets: Iterable[tuple[datetime, Decimal]], zone: ZoneInfo, days: set[datetime]
) -> list[tuple[datetime, Decimal]]:
    return [(start, energy) for start, energy in buckets if _day_of(start, zone) in days]


def _maybe(fetch: Any) -> Any:
    try:
        return fetch()
    except NotFoundError:
        return None


def last_completed_period(cycle: BillingCycle, today: date) -> str:
    """The first day of the unit's billing period before the one holding ``today`` (the
    key of its bill)."""
    return cycle.cycle_of(cycle.cycle_of(today).start - timedelta(days=1)).start.isoformat()
