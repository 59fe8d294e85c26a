"""Seed a portfolio: companies, one property per gateway, meters of both profiles, tenancies.

Every meter has a tariff (flat, tiered, time-of-use, or a tiered timeline whose prices change
in the middle of the run), a billing cycle (the calendar month, two months, or anchored on a
day of the month), a billing mode (about one in four is postpaid) and a deterministic load; some tenancies are never-disconnect; every other
property has friendly hours with holidays; a few prepaid accounts start short of credit so
the policy really disconnects and restores during the run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3

from chalicelib.data import builders
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.ledger_store import LedgerStore
from chalicelib.domain import EntryKind, FriendlyHours, LedgerEntry, Money
from chalicelib.domain.cycles import BillingCycle, parse_cycle
from chalicelib.domain.tariff_versions import TariffTimeline, parse_timeline
from chalicelib.pipeline.senders import thing_name_for
from local_aws import tariff_documents as td

from .load_model import LoadModel

TZ = "Asia/Taipei"
UTC_OFFSET_H = 8
# Local midnight of the 1st: tenancies start that day and the cursor opens there.
START = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
TENANCY_START = "2026-11-01"
TENANCY_DAY = date(2026, 11, 1)
OPENED = datetime(2026, 10, 25, tzinfo=UTC)
HOLIDAYS = (date(2026, 11, 2), date(2026, 11, 11), date(2026, 11, 25))
MAX_METERS_PER_GATEWAY = 32

FLAT = td.flat("flat-5", "5.00")
TIERED = td.tiered_all_year("tiered-tw", [("120", "1.68"), ("330", "2.45"), (None, "3.70")])
TOU = td.tou_every_day(
    "tou-tw", [("00:00", "09:00", "off"), ("09:00", "21:00", "peak"), ("21:00", "24:00", "off")]
)
TARIFFS: tuple[dict[str, Any], ...] = (FLAT, TIERED, TOU)
TIERED_RAISED = td.tiered_all_year("tiered-tw", [("120", "1.78"), ("330", "2.55"), (None, "3.80")])


def versioned(change: date) -> dict[str, Any]:
    """The tiered tariff, repriced on ``change`` (a table change mid-cycle, as Taipower's)."""
    return {
        "versions": [
            {"effective_from": "2026-01-01", "tariff": TIERED},
            {"effective_from": change.isoformat(), "tariff": TIERED_RAISED},
        ]
    }


def cycles_for(days: int) -> tuple[dict[str, int] | None, ...]:
    """The calendar month; two months, starting in even months (Taipower bills half its
    customers so: the cycle holding November ends on 1 December, as the month does); and
    a meter-reading day inside the run, so prepaid tiers restart there and the anchored
    cycle that ends on it is billed."""
    return (None, {"months": 2, "anchor_month": 2}, {"anchor_day": max(2, min(28, days // 2))})


def version_change(days: int) -> date:
    """The day the versioned tariff's new prices take effect: the middle of the run."""
    return TENANCY_DAY + timedelta(days=max(1, days // 2))


@dataclass
class SimMeter:
    meter_id: str
    unit_id: str
    profile: str
    tariff: dict[str, Any]  # a tariff or a timeline document
    mode: str  # prepaid | postpaid
    never_disconnect: bool
    credit_minor: int
    model: LoadModel
    cycle: dict[str, int] | None = None  # the unit's billing cycle (None: the calendar month)
    account_id: str = ""

    @property
    def timeline(self) -> TariffTimeline:
        return parse_timeline(self.tariff)

    @property
    def billing_cycle(self) -> BillingCycle:
        return parse_cycle(self.cycle)

    @property
    def tariff_kind(self) -> str:
        """The kind of the newest version (what the reports group accounts by)."""
        return self.timeline.latest.tariff.kind


@dataclass
class SimGateway:
    index: int
    company_id: str
    property_id: str
    gateway_id: str
    thing_name: str
    friendly: FriendlyHours
    emergency_minor: int
    meters: list[SimMeter] = field(default_factory=list)


def meter_id_for(gateway: int, address: int) -> tuple[str, str]:
    """Both profiles' id styles, within the 17-character cap."""
    if address % 2:
        return f"DDS{gateway:02d}{address:04d}", "dds238"
    return f"sdm120-g{gateway}-a{address}", "sdm120"


def plan_portfolio(meters: int, gateways: int, seed: int, days: int = 30) -> list[SimGateway]:
    if meters < gateways or meters > gateways * MAX_METERS_PER_GATEWAY:
        raise ValueError(f"{meters} meters do not fit {gateways} gateways of 1..32")
    rng = random.Random(seed)
    tariffs = (*TARIFFS, versioned(version_change(days)))
    cycles = cycles_for(days)
    plan: list[SimGateway] = []
    companies = max(1, gateways // 5)
    for g in range(gateways):
        co = f"soak-co{g % companies}"
        weekly = [(6, "00:00", "23:59"), (5, "18:00", "23:59")] if g % 2 == 0 else []
        friendly = FriendlyHours.build(TZ, weekly, HOLIDAYS if g % 2 == 0 else ())
        gw = SimGateway(
            g,
            co,
            f"p-g{g}",
            f"gw-{g}",
            thing_name_for(co, f"gw-{g}"),
            friendly,
            5_000 * (g % 3 == 1),
        )
        count = meters // gateways + (1 if g < meters % gateways else 0)
        for address in range(1, count + 1):
            meter_id, profile = meter_id_for(g, address)
            tariff = tariffs[(g + address) % len(tariffs)]
            # Postpaid units are every fourth address: address // 4 walks them over the cycles.
            cycle = cycles[(g + address // 4) % len(cycles)]
            mode = "postpaid" if address % 4 == 0 else "prepaid"
            base_w = rng.randrange(80, 600)
            model = LoadModel(meter_id, seed, rng.randrange(0, 5_000_000), base_w, base_w)
            # A month costs roughly (base + evening/4) x 720 h; start some accounts short.
            month_minor = int((base_w * 1.5) * 720 / 1000 * 4 * 100)
            credit = rng.choice((month_minor // 60, month_minor // 3, month_minor * 2))
            gw.meters.append(
                SimMeter(
                    meter_id,
                    f"u-{g}-{address}",
                    profile,
                    tariff,
                    mode,
                    never_disconnect=address % 7 == 3,
                    credit_minor=credit,
                    model=model,
                    cycle=cycle,
                )
            )
        plan.append(gw)
    return plan


def seed_portfolio(
    ledger: LedgerStore, plan: list[SimGateway], opening_kwh: dict[str, str]
) -> None:
    items: list[Any] = []
    for co in sorted({g.company_id for g in plan}):
        items.append(
            builders.company(co, f"Soak {co}", OPENED, low_credit_thresholds_minor=[5_000])
        )
        items.append(
            builders.membership(co, f"admin-{co}", f"admin-{co}@example.com", "company_admin")
        )
    for gw in plan:
        items.append(
            builders.property_(
                gw.company_id,
                gw.property_id,
                name=f"Soak {gw.index}",
                address="A",
                city="Taipei",
                country="TW",
                time_zone=TZ,
                currency="TWD",
                friendly_hours=gw.friendly.to_shadow(),
                emergency_credit_minor=gw.emergency_minor,
            )
        )
        items.append(
            builders.gateway(
                gw.company_id, gw.gateway_id, gw.thing_name, property_id=gw.property_id
            )
        )
        for address, m in enumerate(gw.meters, start=1):
            items.append(
                builders.meter(
                    gw.company_id,
                    m.meter_id,
                    gw.gateway_id,
                    address,
                    unit_id=m.unit_id,
                    profile=m.profile,
                )
            )
            sub = f"tenant-{m.unit_id}"
            m.account_id = f"a-{m.unit_id}"
            ledger.open_account(gw.company_id, m.account_id, "TWD", OPENED)
            items.append(
                builders.tenancy(
                    gw.company_id,
                    f"t-{m.unit_id}",
                    m.unit_id,
                    sub,
                    TENANCY_START,
                    account_id=m.account_id,
                    opening_kwh=opening_kwh[m.meter_id],
                    never_disconnect=m.never_disconnect,
                )
            )
            items.append(builders.membership(gw.company_id, sub, f"{sub}@example.com", "tenant"))
            ledger.append(
                gw.company_id,
                LedgerEntry(
                    f"open-{m.account_id}",
                    m.account_id,
                    EntryKind.TOP_UP,
                    Money(m.credit_minor, "TWD"),
                    OPENED + timedelta(hours=1),
                    memo="opening",
                ),
            )
            items.append(
                builders.unit(
                    gw.company_id,
                    m.unit_id,
                    gw.property_id,
                    name=m.unit_id,
                    unit_type="flat",
                    billing_mode=m.mode,
                    tariff=m.tariff,
                    billing_cycle=m.cycle,
                    meter_id=m.meter_id,
                    account_id=m.account_id,
                    tenancy_id=f"t-{m.unit_id}",
                )
            )
    Catalogue.save_all(items)
    iot = boto3.client("iot")
    for gw in plan:
        iot.create_thing(thingName=gw.thing_name)
