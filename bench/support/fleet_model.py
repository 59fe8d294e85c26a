"""The fleet the fleet bench runs: its buses, their catalogue and the state a running
fleet has them in (``bench/fleet_ingest.py``; brought up by ``fleet_bring_up.py``)."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.pipeline_ingest import tariff_of
from bench.support.telemetry_events import cycle_payload, raw_event
from chalicelib.data import builders
from chalicelib.data.bus_item import CatalogueParts
from chalicelib.data.control_state import BusControlState, MeterControlState
from chalicelib.data.models import Company, Gateway, Meter, Property, Tenancy, Unit
from chalicelib.pipeline.senders import thing_name_for

METERS = 32
T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
SETTLEMENT_PERIOD = timedelta(hours=6)


class CountingShadows:
    """The ``iot-data`` client (injectable): counts desired-state writes. Shadows are
    priced per operation, not stored in DynamoDB, so the stand-in adds nothing here."""

    def __init__(self) -> None:
        self.updates = 0

    def update_thing_shadow(self, **_: Any) -> dict[str, Any]:
        self.updates += 1
        return {}


class Bus:
    def __init__(self, index: int, gateways: int) -> None:
        self.company = f"fl{index:05d}-{secrets.token_hex(2)}"
        self.gateway = "gw1"
        self.thing = thing_name_for(self.company, self.gateway)
        self.meters = [f"m{n:02d}" for n in range(METERS)]
        self.spool = secrets.token_hex(8)
        self.seq = 0
        self.registers_wh = {m: 1_000_000 for m in self.meters}
        # spread over a settlement period: a cross-section of a long run
        self.clock = T0 + SETTLEMENT_PERIOD * index / gateways + timedelta(milliseconds=index)
        self.rng = random.Random(index)

    def message(self, step: timedelta) -> dict[str, Any]:
        self.seq += 1
        self.clock += step
        rows: list[dict[str, Any]] = []
        for m in self.meters:
            step_wh = self.rng.choice((0, 1, 2, 5, 8, 13, 21)) * int(step.total_seconds()) // 60
            self.registers_wh[m] += step_wh
            watts = step_wh * 3600 // max(1, int(step.total_seconds()))
            rows.append(
                {
                    "i": m,
                    "dt": 30 * len(rows),
                    "ie": f"{self.registers_wh[m] // 1000}.{self.registers_wh[m] % 1000:03d}",
                    "xe": "0.000",
                    "v": 229.8,
                    "w": watts,
                    "pf": 0.98,
                    "r": 1,
                    "dg": [0, 0, 0, 28, 0],
                }
            )
        payload = cycle_payload(self.thing, self.spool, self.seq, self.clock, rows, 1100)
        return raw_event(payload, self.thing, self.clock + timedelta(seconds=2))


def catalogue_items(bus: Bus, online: bool = False) -> list[Any]:
    """The bus's catalogue and accounts (balance and cursor as a running fleet has them).
    ``online``: its meters as a first message leaves them (answering)."""
    opened = datetime(2026, 11, 1, tzinfo=UTC)
    co = bus.company
    items: list[Any] = [
        builders.company(co, "Fleet Co", opened, low_credit_thresholds_minor=[50000, 10000]),
        builders.taipei_property(
            co,
            emergency_credit_minor=0,
        ),
        builders.gateway(co, bus.gateway, bus.thing, property_id="p1"),
    ]
    cursor_at = bus.clock - timedelta(seconds=30)
    for n, meter_id in enumerate(bus.meters):
        unit_id, account_id, tenancy_id = f"u{n:02d}", f"a{n:02d}", f"t{n:02d}"
        meter = builders.meter(co, meter_id, bus.gateway, n + 1, unit_id=unit_id, profile="dds238")
        meter.online = online
        items += [
            meter,
            builders.tenancy(
                co,
                tenancy_id,
                unit_id,
                f"sub{n:02d}",
                "2026-11-01",
                account_id=account_id,
                opening_kwh="1000.000",
            ),
            builders.unit(
                co,
                unit_id,
                "p1",
                name=unit_id,
                unit_type="flat",
                billing_mode="prepaid",
                tariff=tariff_of(n),
                meter_id=meter_id,
                account_id=account_id,
                tenancy_id=tenancy_id,
            ),
            running_account(co, account_id, opened, cursor_at),
        ]
    return items


def seeded_state(bus: Bus) -> BusControlState:
    """The control state a running fleet has before the bench: each meter's cursor and
    balance (the accounts'), no desired relay state yet."""
    cursor_at = bus.clock - timedelta(seconds=30)
    return BusControlState(
        bus.company,
        bus.gateway,
        meters={
            m: MeterControlState(
                account_id=f"a{n:02d}",
                balance_minor=5_000_000,
                settled_kwh=Decimal("1000.000"),
                settled_at=cursor_at,
            )
            for n, m in enumerate(bus.meters)
        },
    )


def parts_as_read(items: list[Any]) -> CatalogueParts:
    by_kind: dict[type, list[Any]] = {}
    for item in items:
        by_kind.setdefault(type(item), []).append(item)
    (company,), (premises,), (gateway,) = by_kind[Company], by_kind[Property], by_kind[Gateway]
    return CatalogueParts(
        gateway=gateway,
        premises=premises,
        company=company,
        meters=sorted(by_kind[Meter], key=lambda m: int(m.bus_address)),
        units={str(u.unit_id): u for u in by_kind[Unit]},
        tenancies={str(t.tenancy_id): t for t in by_kind[Tenancy]},
    )


def running_account(co: str, account_id: str, opened: datetime, cursor_at: datetime) -> Any:
    """An account as a running fleet has it: credit on it and settled up to a minute ago
    (no ledger entries behind the balance: ingest never sums them)."""
    account = builders.account(
        co, account_id, "TWD", opened, settled_kwh="1000.000", settled_at=cursor_at
    )
    account.balance_minor = 5_000_000
    return account
