"""Move-in: a vacant unit gets a tenancy, an account and a tenant login, all or nothing.

Safe to retry: the tenancy and account ids are derived from the form's idempotency key
(rendered into the form, like a top-up's), and one ``TransactWriteItems`` puts the
tenancy and the account on condition that they do not exist and points the unit at
them on condition that the unit has no tenancy. A double submit therefore creates one
tenancy; the second answers with the first's result. Another move-in on an occupied
unit is refused. The opening credit is a ledger entry whose id is derived from the
tenancy, so a retry credits once.

The opening reading is what the tenant starts paying from: it defaults to the meter's
latest stored reading, may not be below it (the tenant would pay for energy used
before the tenancy) and may be above it by at most ``MAX_OPENING_AHEAD_KWH`` (the meter
may have run since its last report; more is taken for a typing error, which would give
the tenant free energy until the meter caught up).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ..auth.principal import Principal
from ..data import builders
from ..data.bus_item import BusItems
from ..data.catalogue import Catalogue
from ..data.errors import ConditionFailedError, LedgerEntryConflictError, NotFoundError
from ..data.ledger_store import LedgerStore
from ..data.models import Membership, Property, Tenancy, Unit
from ..data.tenancies import TenancyStore
from ..domain import EntryKind, LedgerEntry, Money, format_kwh, kwh
from ..domain.calendar import zone
from ..domain.tariff_versions import parse_timeline
from .latest_reading import LatestReadings, StoredReading
from .move_errors import (
    MoveDateError,
    MoveInKeyReusedError,
    MoveNeedsMeterError,
    OpeningReadingError,
    UnitOccupiedError,
)
from .move_requests import MoveInRequest
from .scope import UnitScope
from .tenant_logins import TENANT_ROLE, TenantLogins

MAX_OPENING_AHEAD_KWH = Decimal("100.000")
MAX_BACKDATE_DAYS = 31  # a move-in is recorded on the day or soon after, never ahead
OPENING_CREDIT_PREFIX = "opening:"


@dataclass(frozen=True)
class MoveInResult:
    tenancy: Tenancy
    applied: bool  # False: a replay of an earlier move-in with the same key
    tenant_email: str
    tenant_invited: bool
    opening_credit_entry_id: str | None
    balance_minor: int
    currency: str


def move_in_ids(unit_id: str, idempotency_key: str) -> tuple[str, str]:
    """(tenancy id, account id) for a move-in request: the same key gives the same ids."""
    digest = hashlib.sha256(f"{unit_id}\n{idempotency_key}".encode()).hexdigest()[:24]
    return f"ten-{digest}", f"acc-{digest}"


@dataclass(frozen=True)
class MoveIns:
    _catalogue: Catalogue
    _ledger: LedgerStore
    _tenancies: TenancyStore
    _scope: UnitScope
    _latest: LatestReadings
    _logins: TenantLogins
    _buses: BusItems

    def form(self, p: Principal, unit_id: str) -> tuple[Unit, Property, StoredReading | None]:
        """What the move-in form shows: the unit, its property and the default opening
        reading (the meter's latest stored one, or the previous tenancy's closing one,
        ``after_move_out``)."""
        unit = self._scope.visible_unit(p, unit_id)
        premises = self._catalogue.get_property(p.company_id, unit.property_id)
        latest = None
        if unit.meter_id:
            meter = self._catalogue.get_meter(p.company_id, unit.meter_id)
            previous = self._tenancies.latest_of_unit(p.company_id, unit.unit_id)
            latest = after_move_out(self._latest.of(p.company_id, meter), previous)
        return unit, premises, latest

    def move_in(
        self, p: Principal, unit_id: str, req: MoveInRequest, now: datetime
    ) -> MoveInResult:
        unit = self._scope.visible_unit(p, unit_id)
        tenancy_id, account_id = move_in_ids(unit.unit_id, req.idempotency_key)
        if unit.tenancy_id == tenancy_id:
            return self._replay(p, unit, req)
        if unit.tenancy_id:
            raise UnitOccupiedError(f"unit {unit.unit_id} is occupied: move the tenant out first")
        if not unit.meter_id:
            raise MoveNeedsMeterError(f"unit {unit.unit_id} has no meter")
        premises = self._catalogue.get_property(p.company_id, unit.property_id)
        meter = self._catalogue.get_meter(p.company_id, unit.meter_id)
        currency = parse_timeline(unit.tariff).currency
        previous = self._check_start(
            p.company_id, unit.unit_id, req.starts_on, now, premises.time_zone
        )
        latest = after_move_out(self._latest.of(p.company_id, meter), previous)
        opening = opening_reading(req.opening_kwh, latest)
        read_at = latest.at if req.opening_kwh is None and latest is not None else now
        starts_at = start_instant(req.starts_on, read_at, premises.time_zone, previous)

        logins = self._logins
        login = logins.find_or_invite(
            p.company_id,
            req.tenant_email,
            req.tenant_name,
            req.locale,
            link_existing=req.link_existing_login,
        )
        at = _to_ms(now)
        tenancy = builders.tenancy(
            p.company_id,
            tenancy_id,
            unit.unit_id,
            login.user_sub,
            req.starts_on.isoformat(),
            account_id=account_id,
            opening_kwh=opening,
            never_disconnect=req.never_disconnect,
            opening_credit_minor=req.opening_credit_minor,
            starts_at=starts_at,
        )
        # The settlement cursor starts at the opening reading: the tenant pays from there.
        account = builders.account(
            p.company_id, account_id, currency, at, settled_kwh=opening, settled_at=at
        )
        try:
            self._tenancies.open(
                p.company_id,
                unit.unit_id,
                tenancy,
                account,
                self._membership(p, login.user_sub, req),
            )
        except ConditionFailedError as exc:
            fresh = self._catalogue.get_unit(p.company_id, unit.unit_id)
            if fresh.tenancy_id == tenancy_id:  # a concurrent submit of the same form won
                return self._replay(p, fresh, req)
            if login.invited:
                logins.withdraw(req.tenant_email)
            if fresh.tenancy_id:
                raise UnitOccupiedError(f"unit {unit.unit_id} is occupied") from exc
            # the tenancy exists but is not the unit's: this key opened a tenancy since ended
            raise MoveInKeyReusedError("this move-in form was already used") from exc
        except Exception:
            if login.invited:
                logins.withdraw(req.tenant_email)
            raise
        # ingest reads the bus's stored context: from now on it must charge this tenancy
        self._buses.bump(p.company_id, meter.gateway_id)
        entry_id = self._opening_credit(p, tenancy, account.created_at, currency)
        return MoveInResult(
            tenancy,
            True,
            req.tenant_email,
            login.invited,
            entry_id,
            self._ledger.balance_minor(p.company_id, account_id),
            currency,
        )

    def _check_start(
        self, company_id: str, unit_id: str, starts_on: date, now: datetime, time_zone: str
    ) -> Tenancy | None:
        """The unit's previous tenancy, once the start date is checked against it."""
        today = now.astimezone(zone(time_zone)).date()
        if starts_on > today:
            raise MoveDateError("a move-in is recorded on the day or after it, not ahead")
        if starts_on < today - timedelta(days=MAX_BACKDATE_DAYS):
            raise MoveDateError(f"a move-in may be back-dated by at most {MAX_BACKDATE_DAYS} days")
        previous = self._tenancies.latest_of_unit(company_id, unit_id)
        if previous is not None and previous.ends_on and starts_on.isoformat() < previous.ends_on:
            raise MoveDateError(f"the previous tenancy ended on {previous.ends_on}")
        return previous

    def _membership(self, p: Principal, user_sub: str, req: MoveInRequest) -> Membership | None:
        """A first membership for a new tenant; None for a tenant moving between units
        (they keep theirs)."""
        try:
            self._catalogue.get_membership(p.company_id, user_sub)
            return None
        except NotFoundError:
            return builders.membership(
                p.company_id,
                user_sub,
                req.tenant_email,
                TENANT_ROLE,
                display_name=req.tenant_name,
                locale=req.locale,
            )

    def _opening_credit(
        self, p: Principal, tenancy: Tenancy, at: datetime, currency: str
    ) -> str | None:
        amount = int(tenancy.opening_credit_minor or 0)
        if amount <= 0:
            return None
        entry_id = OPENING_CREDIT_PREFIX + tenancy.tenancy_id
        entry = LedgerEntry(
            entry_id,
            tenancy.account_id,
            EntryKind.TOP_UP,
            Money(amount, currency),
            at,  # the account's creation time: a retry builds the identical entry
            memo="opening credit",
            refs={"tenancy_id": tenancy.tenancy_id, "actor": p.email or p.user_sub},
        )
        try:
            self._ledger.append(p.company_id, entry)
        except LedgerEntryConflictError as exc:
            raise MoveInKeyReusedError(
                "the opening credit was recorded with other figures"
            ) from exc
        return entry_id

    def _replay(self, p: Principal, unit: Unit, req: MoveInRequest) -> MoveInResult:
        """The same form again: answer with the tenancy it created, if the figures agree."""
        tenancy = self._catalogue.get_tenancy(p.company_id, str(unit.tenancy_id))
        member = self._catalogue.get_membership(p.company_id, tenancy.tenant_sub)
        same = (
            tenancy.starts_on == req.starts_on.isoformat()
            and member.email == req.tenant_email
            and int(tenancy.opening_credit_minor or 0) == req.opening_credit_minor
            and bool(tenancy.never_disconnect) == req.never_disconnect
            and (req.opening_kwh is None or kwh(req.opening_kwh) == kwh(tenancy.opening_kwh))
        )
        if not same:
            raise MoveInKeyReusedError("this move-in form was already used with other figures")
        account = self._ledger.get_account(p.company_id, tenancy.account_id)
        # finish what a failed first attempt may have left undone (the credit is idempotent)
        entry_id = self._opening_credit(p, tenancy, account.created_at, str(account.currency))
        balance = self._ledger.balance_minor(p.company_id, tenancy.account_id)
        return MoveInResult(
            tenancy, False, req.tenant_email, False, entry_id, balance, str(account.currency)
        )


def after_move_out(latest: StoredReading | None, previous: Tenancy | None) -> StoredReading | None:
    """The reading a move-in starts from: the latest stored one, unless the previous
    tenancy ended later on a reading typed above it (the meter had run since its last
    report). Starting below that would charge the difference to both tenants."""
    if previous is None or previous.ends_at is None or previous.closing_kwh is None:
        return latest
    closing = StoredReading(format_kwh(kwh(previous.closing_kwh)), previous.ends_at, "move-out")
    if latest is None:
        return closing
    stale = latest.at is None or latest.at <= previous.ends_at
    return closing if stale and kwh(closing.cumulative_kwh) > kwh(latest.cumulative_kwh) else latest


def start_instant(
    starts_on: date, read_at: datetime | None, time_zone: str, previous: Tenancy | None
) -> datetime | None:
    """When the tenancy starts (domain/tenancy_window.py): the opening reading's
    timestamp (the stored reading it defaults to, or now for a typed one) when that is
    on the start day, never before the previous tenancy's end; None (the start of the
    day, as for tenancies stored before instants) for a back-dated move-in."""
    if read_at is None or read_at.astimezone(zone(time_zone)).date() != starts_on:
        return None
    at = _to_ms(read_at)
    if previous is not None and previous.ends_at is not None:
        at = max(at, _to_ms(previous.ends_at))
    return at


def _to_ms(at: datetime) -> datetime:
    """UTC, whole milliseconds: how UTCDateTimeAttribute round-trips, so a replay's
    tenancy compares equal to the one stored."""
    return at.astimezone(UTC).replace(microsecond=at.microsecond // 1000 * 1000)


def opening_reading(typed: str | None, latest: StoredReading | None) -> str:
    if typed is None:
        if latest is None:
            raise OpeningReadingError("the meter has no stored reading: type the opening reading")
        return format_kwh(kwh(latest.cumulative_kwh))
    value = kwh(typed)
    if latest is not None:
        stored = kwh(latest.cumulative_kwh)
        if value < stored:
            raise OpeningReadingError(
                f"opening reading {format_kwh(value)} is below the latest reading "
                f"{format_kwh(stored)}: the tenant would pay for energy used before moving in"
            )
        if value - stored > MAX_OPENING_AHEAD_KWH:
            raise OpeningReadingError(
                f"opening reading {format_kwh(value)} is more than {MAX_OPENING_AHEAD_KWH} kWh "
                f"above the latest reading {format_kwh(stored)}"
            )
    return format_kwh(value)
