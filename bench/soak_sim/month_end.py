"""The month-end bill job in the soak: one run dies after its first bill, then it runs again.

The job is the container's ``BillingRun`` except for its settlement store, wrapped so that
the first bill transaction commits and the process then "dies" (an exception, as a Lambda
timeout or crash would end it). The job is then run for every property, twice: the bill
it made must not be made or charged again, and every other bill must be made once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import BillingPeriod
from chalicelib.domain.calendar import local_midnight
from chalicelib.pipeline.bill_periods import BILL_GRACE
from chalicelib.pipeline.billing_run import BillingRun
from chalicelib.pipeline.charging import local_day, month_of
from chalicelib.wiring.container import Container

from .portfolio import START, TENANCY_DAY, TZ, SimGateway, SimMeter


class BillJobDiedError(Exception):
    """The simulated death of the bill job, right after a committed transaction."""


class _DiesAfterFirstBill:
    def __init__(self, store: Any) -> None:
        self._store = store
        self.died = False

    def settle_bill(self, *args: Any, **kwargs: Any) -> bool:
        written = bool(self._store.settle_bill(*args, **kwargs))
        if not self.died:
            self.died = True
            raise BillJobDiedError("the bill job died after its first transaction")
        return written


def _crashing_run(svc: Container) -> tuple[BillingRun, _DiesAfterFirstBill]:
    store = _DiesAfterFirstBill(svc.settlements)
    run = BillingRun(
        svc.catalogue,
        svc.buses,
        svc.telemetry,
        svc.ledger,
        store,  # type: ignore[arg-type]
        lambda job: None,
        svc.bill_store,
        svc.notifier,
    )
    return run, store


def bill_the_month(
    svc: Container, plan: list[SimGateway], days: int
) -> tuple[datetime | None, int]:
    """When the run covers its whole first month, the bill job runs once it is due: a run
    that dies after its first bill, then every property twice (a re-run must be a no-op).
    Returns when the job ran (each unit is billed for its cycles due by then: the month,
    the two months ending with it, the anchored cycle ending mid-run) and the number of
    bill-job crashes."""
    month_end = local_midnight(month_of(local_day(START, TZ)).end, TZ)
    if START + timedelta(days=days) < month_end:
        return None, 0
    at = month_end + BILL_GRACE + timedelta(hours=1)
    crashes = 0
    crashing, store = _crashing_run(svc)
    for gw in plan:
        try:
            crashing.bill_property(gw.company_id, gw.property_id, at)
        except BillJobDiedError:
            crashes += 1
        if store.died:
            break
    for _ in range(2):
        for gw in plan:
            svc.billing.bill_property(gw.company_id, gw.property_id, at)
    return at, crashes


def billed_period(m: SimMeter, billed_at: datetime | None) -> BillingPeriod | None:
    """The unit's first cycle, if the bill job that ran at ``billed_at`` billed it."""
    if billed_at is None:
        return None
    period = m.billing_cycle.cycle_of(TENANCY_DAY)
    return period if local_midnight(period.end, TZ) + BILL_GRACE <= billed_at else None
