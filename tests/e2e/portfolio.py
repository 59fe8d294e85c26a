"""The end-to-end tier's own portfolio: small, deterministic, built to run out of credit fast.

One company; a property where friendly hours never apply and one where they
always do; four buses, each simulated faster than real time:

- ``gw-plain``: ``u-run`` (little credit: runs out, gets topped up) and ``u-never``
  (little credit, a never-disconnect tenancy);
- ``gw-kind``: ``u-kind`` on the always-friendly property (an SDM120 on a relay module);
- ``gw-cut``: ``u-cut``, whose gateway reaches the broker through a link a test can cut;
- ``gw-replay``: ``u-r1`` and ``u-r2`` with plenty of credit, whose telemetry a test replays.

Every price is 5.00 TWD per kWh and every DDS238 counts 0.01 kWh, so a
settled increment is exactly 5 minor units per register step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import boto3

from chalicelib.data import builders
from chalicelib.data.binding import new_connection
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.ledger_store import LedgerStore
from chalicelib.domain import EntryKind, LedgerEntry, Money
from chalicelib.pipeline.senders import thing_name_for
from chalicelib.wiring.settings import Settings
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.resources import ProvisionedStack
from local_aws.seed import ensure_thing, ensure_user, simulated_max_current
from local_aws.stack import free_port
from local_run.gateways import LocalGateway, load_buses
from local_run.system import Seeded

COMPANY = "co-e2e"
PLAIN, KIND = "p-plain", "p-kind"
ADMIN_EMAIL = "admin@e2e.example"
PASSWORD = DEMO_PASSWORD
PRICE_MINOR_PER_KWH = 500
FLAT = {"kind": "flat", "tariff_id": "flat-5", "currency": "TWD", "price_per_kwh": "5.00"}
OPENED = datetime(2026, 11, 1, tzinfo=UTC)
TENANCY_STARTS_ON = datetime.now(ZoneInfo("Asia/Taipei")).date().isoformat()
POLL_INTERVAL_MS = 1_000
OFFLINE_AFTER_MS = 1_000
ALWAYS = {"tz": "Asia/Taipei", "weekly": [[d, "00:00", "24:00"] for d in range(7)], "holidays": []}


@dataclass(frozen=True)
class UnitSpec:
    unit_id: str
    gateway_id: str
    address: int  # the high-demand addresses of simulator seed 1 (5, 6, 8: ~2 kW peak)
    credit_minor: int
    opening_kwh: str
    profile: str = "dds238"
    never_disconnect: bool = False

    @property
    def meter_id(self) -> str:
        return f"m-{self.unit_id}"

    @property
    def account_id(self) -> str:
        return f"a-{self.unit_id}"


UNITS = (
    UnitSpec("u-run", "gw-plain", 5, 300, "100.00"),
    UnitSpec("u-never", "gw-plain", 6, 300, "200.00", never_disconnect=True),
    UnitSpec("u-kind", "gw-kind", 1, 300, "300.00", profile="sdm120"),
    UnitSpec("u-cut", "gw-cut", 8, 300, "400.00"),
    UnitSpec("u-r1", "gw-replay", 5, 10_000_000, "500.00"),
    UnitSpec("u-r2", "gw-replay", 6, 10_000_000, "600.00"),
)
PROPERTY_OF = {"gw-plain": PLAIN, "gw-kind": KIND, "gw-cut": PLAIN, "gw-replay": PLAIN}
# Simulated seconds per wall second: an hour of a household in a second.
TIME_SCALE = {"gw-plain": 3600.0, "gw-kind": 3600.0, "gw-cut": 600.0, "gw-replay": 600.0}


def unit(unit_id: str) -> UnitSpec:
    return next(u for u in UNITS if u.unit_id == unit_id)


def thing_of(gateway_id: str) -> str:
    return thing_name_for(COMPANY, gateway_id)


def seed_portfolio(stack: ProvisionedStack, mqtt_ports: dict[str, int]) -> Seeded:
    """Write the portfolio; ``mqtt_ports`` sends a gateway through another port (a link)."""
    settings = Settings(table_name=stack.table_name, region=stack.region)
    session = boto3.Session(region_name=stack.region)
    cognito = session.client("cognito-idp")
    ledger = LedgerStore(new_connection(settings))
    items: list[Any] = [
        builders.company(COMPANY, "E2E Lettings", OPENED, low_credit_thresholds_minor=[]),
    ]
    for property_id, friendly in ((PLAIN, None), (KIND, ALWAYS)):
        items.append(
            builders.property_(
                COMPANY,
                property_id,
                name=property_id,
                address="1 Test Road",
                city="Taipei",
                country="TW",
                time_zone="Asia/Taipei",
                currency="TWD",
                friendly_hours=friendly,
                emergency_credit_minor=0,
            )
        )
    for gateway_id, property_id in PROPERTY_OF.items():
        items.append(
            builders.gateway(COMPANY, gateway_id, thing_of(gateway_id), property_id=property_id)
        )
        ensure_thing(session.client("iot"), thing_of(gateway_id))
    admin_sub = ensure_user(cognito, stack.user_pool_id, ADMIN_EMAIL, COMPANY, "company_admin")
    items.append(builders.membership(COMPANY, admin_sub, ADMIN_EMAIL, "company_admin"))
    for spec in UNITS:
        relay = (
            {"address": 100, "profile": "relay_module", "channel": 0}
            if spec.profile == "sdm120"
            else {"address": spec.address, "profile": "dds238", "channel": 0}
        )
        items.append(
            builders.meter(
                COMPANY,
                spec.meter_id,
                spec.gateway_id,
                spec.address,
                unit_id=spec.unit_id,
                profile=spec.profile,
                relay=relay,
                last_kwh=spec.opening_kwh,
                last_read_at=OPENED,
            )
        )
        tenant_sub = f"tenant-{spec.unit_id}"
        tenancy_id = f"t-{spec.unit_id}"
        ledger.open_account(COMPANY, spec.account_id, "TWD", OPENED)
        ledger.append(
            COMPANY,
            LedgerEntry(
                f"open-{spec.account_id}",
                spec.account_id,
                EntryKind.TOP_UP,
                Money(spec.credit_minor, "TWD"),
                OPENED,
                memo="opening credit",
            ),
        )
        items.append(
            builders.tenancy(
                COMPANY,
                tenancy_id,
                spec.unit_id,
                tenant_sub,
                # Today: the simulator starts at the opening reading now, so every kWh of the
                # run falls in this billing cycle (a tenancy opened last month would share
                # the gap's energy between two cycles, each rounded on its own).
                TENANCY_STARTS_ON,
                account_id=spec.account_id,
                opening_kwh=spec.opening_kwh,
                never_disconnect=spec.never_disconnect,
            )
        )
        items.append(
            builders.membership(COMPANY, tenant_sub, f"{tenant_sub}@e2e.example", "tenant")
        )
        items.append(
            builders.unit(
                COMPANY,
                spec.unit_id,
                PROPERTY_OF[spec.gateway_id],
                name=spec.unit_id,
                unit_type="flat",
                billing_mode="prepaid",
                tariff=FLAT,
                meter_id=spec.meter_id,
                account_id=spec.account_id,
                tenancy_id=tenancy_id,
                max_current_a=simulated_max_current(TIME_SCALE[spec.gateway_id]),
            )
        )
    Catalogue.save_all(items)
    gateways = [
        LocalGateway(
            gateway,
            meters,
            modbus_port=free_port(),
            control_port=free_port(),
            poll_interval_ms=POLL_INTERVAL_MS,
            offline_after_ms=OFFLINE_AFTER_MS,
            time_scale=TIME_SCALE[gateway.gateway_id],
            mqtt_port=mqtt_ports.get(gateway.gateway_id),
        )
        for gateway, meters in load_buses((COMPANY, g) for g in PROPERTY_OF)
    ]
    return Seeded({"admin": ADMIN_EMAIL, "password": PASSWORD}, gateways)


def register_kwh(value: float) -> Decimal:
    """What a DDS238 shows for a simulated energy: completed 0.01 kWh steps, computed as
    the simulator encodes its register (``meters.encode_value``)."""
    return (Decimal(math.floor(value / 0.01 + 1e-9)) / 100).quantize(Decimal("0.001"))
