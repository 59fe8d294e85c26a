"""The demo's postpaid bill, made by the real billing run (not typed in).

The shop of ``demo_data.DEMO_BILL`` gets a tenancy and an account from the
first day of October, the meter's last reading of the month is stored as a
telemetry cycle of its gateway (the shape ingest stores), and then
``BillingRun.bill_property`` bills the property as the monthly schedule would.
Idempotent like the rest of the seed: a second run finds the bill and stops.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from chalicelib.data import builders
from chalicelib.data.catalogue import Catalogue
from chalicelib.pipeline.telemetry import MeterRow
from chalicelib.wiring.container import Container
from chalicelib.wiring.settings import Settings

from . import demo_data as demo

DEMO_SPOOL = "demo-seed"


def seed_demo_bill(settings: Settings, subs: dict[str, str]) -> bool:
    """True if the bill was made now, False if it already existed."""
    spec = demo.DEMO_BILL
    company_id, unit_id = spec["company_id"], spec["unit_id"]
    svc = Container(settings)
    prop = svc.catalogue.get_property(company_id, spec["property_id"])
    unit = svc.catalogue.get_unit(company_id, unit_id)
    meter = svc.catalogue.get_meter(company_id, str(unit.meter_id))
    tenancy_id = f"t-{unit_id}-{spec['starts_on']}"
    account_id = f"a-{tenancy_id}"
    opened = datetime.combine(
        date.fromisoformat(spec["starts_on"]), time(0), ZoneInfo(prop.time_zone)
    )
    svc.ledger.open_account(company_id, account_id, unit.tariff["currency"], opened)
    tenancy = builders.tenancy(
        company_id,
        tenancy_id,
        unit_id,
        subs[spec["tenant"]],
        spec["starts_on"],
        account_id=account_id,
        opening_kwh=spec["opening_kwh"],
    )
    unit.account_id, unit.tenancy_id = account_id, tenancy_id
    Catalogue.save_all([tenancy, unit])
    closing_at = datetime.fromisoformat(spec["closing_at"])
    row = MeterRow(
        meter.meter_id, closing_at, Decimal(demo.OPENING_KWH[unit_id]), None, None, 1, None, 0
    )
    svc.telemetry.put_cycle(
        company_id,
        meter.gateway_id,
        DEMO_SPOOL,
        1,
        closing_at,
        closing_at,
        [row.compact(closing_at)],
    )
    billed = svc.billing.bill_property(
        company_id, spec["property_id"], datetime.fromisoformat(spec["billed_at"])
    )
    return unit_id in billed.billed
