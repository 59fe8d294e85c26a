"""The balance a tenant has now: the settled balance minus the priced energy used since
the account's cursor, up to the meter's newest good reading (within one poll cycle).

Prepaid consumption reaches the ledger only at settlement (hourly, on a threshold, on a
top-up), so the stored balance alone lags a day's use behind. Pricing the unsettled
energy when a page is read costs no write: the reading is already stored, the tariff
position is on the account. The prepaid policy itself never waits for a page: a
settlement is due as soon as the unsettled charge would cross a threshold, zero or the
emergency allowance (``pipeline/settler.py`` ``due``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ..data.models import Account, Tenancy, Unit
from ..domain import Reading, kwh
from ..domain.calendar import local_midnight
from ..domain.cycles import MONTHLY, BillingCycle
from ..domain.energy import ZERO_KWH
from ..domain.tariff_versions import parse_timeline
from ..pipeline.charging import plan_settlement
from .latest_reading import StoredReading


@dataclass(frozen=True)
class LiveBalance:
    balance_minor: int  # settled minus the priced unsettled energy
    unsettled_kwh: Decimal
    unsettled_minor: int
    as_of: datetime | None  # the reading it is priced to (None: nothing unsettled read)


def live_balance(
    account: Account,
    unit: Unit,
    tenancy: Tenancy | None,
    time_zone: str,
    latest: StoredReading | None,
    cycle: BillingCycle = MONTHLY,
) -> LiveBalance:
    settled = int(account.balance_minor)
    cursor = _cursor(account, tenancy, time_zone)
    nothing = LiveBalance(settled, ZERO_KWH, 0, None)
    if unit.billing_mode != "prepaid" or cursor is None or latest is None or latest.at is None:
        return nothing
    reading = Reading(latest.at, kwh(latest.cumulative_kwh))
    if reading.at <= cursor.at or reading.cumulative_kwh <= cursor.cumulative_kwh:
        return nothing
    move_in = date.fromisoformat(tenancy.starts_on) if tenancy else None
    plan = plan_settlement(
        parse_timeline(unit.tariff),
        time_zone,
        cursor,
        account.usage,
        [reading],
        cycle=cycle,
        move_in=move_in,
    )
    charge = plan.charge.amount_minor
    return LiveBalance(settled - charge, plan.energy_kwh, charge, reading.at)


def _cursor(account: Account, tenancy: Tenancy | None, time_zone: str) -> Reading | None:
    if account.settled_at is not None and account.settled_kwh is not None:
        return Reading(account.settled_at, kwh(str(account.settled_kwh)))
    if tenancy is None or account.closed_at is not None:
        return None
    start = local_midnight(date.fromisoformat(tenancy.starts_on), time_zone)
    return Reading(start, kwh(str(tenancy.opening_kwh)))
