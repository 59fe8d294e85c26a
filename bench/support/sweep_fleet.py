"""A fleet for the sweeps: idle gateways in bulk, a few that changed, and the reads the
old full-walk sweeps made per gateway (so the bench and the scaling test measure both in
the same run).

Idle gateways are what a fleet mostly is: connected, sending telemetry, nothing pending.
Each has its Gateway item, a control state of a 32-meter bus (~7 KB: ``docs/pipeline.md``
measured 8-11 KB) and its latest cycle, written in bulk with BatchWriteItem (one cycle,
not the ten the old sweep read: seeding stays quick, and the old walk's figures are a
floor).
Changed gateways are built through the product's own writers: a connection that never
sends telemetry (Presence.handle), a meter ingest found silent (Catalogue), a relay
command nobody confirms (RelayLog with its deadline, and the control state's pending).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.data import builders, keys
from chalicelib.data.control_state import MeterControlState, PendingCommand, encode_meters
from chalicelib.data.models import GatewayCycle, GatewayState, PowerletItem
from chalicelib.pipeline.confirmation import CONFIRM_TIMEOUT, MAX_TRIES
from chalicelib.wiring.container import Container

IDLE_COMPANY = "sweep-idle"
GATEWAYS_PER_COMPANY = 100  # a fleet is many companies: no one catalogue partition huge
METERS_PER_BUS = 32
IDLE_CYCLES = 1
LEGACY_CYCLES = 10  # the old offline sweep read a gateway's latest ten


@dataclass(frozen=True)
class ChangedFleet:
    company_id: str
    silent_gateways: list[str]  # connected, never sent telemetry
    silent_meters: list[str]  # ingest found them silent
    unconfirmed: list[str]  # gateways with a relay command nobody confirmed


def _state_meters(at: datetime) -> dict[str, Any]:
    """A steady 32-meter bus's control state as ingest stores it (``encode_meters``)."""
    return encode_meters(
        {
            f"m{n:02d}": MeterControlState(
                account_id=f"acct-{n:04d}-steady-tenant",
                balance_minor=123_456,
                settled_kwh=Decimal("1234.567"),
                settled_at=at - timedelta(hours=3),
                power="on",
                reason="credit_ok",
                command_id=f"c1790000000000-{n:06d}",
                cutoff_kwh=Decimal("1300.000"),
                schedule_tag="a1b2c3d4",
            )
            for n in range(METERS_PER_BUS)
        }
    )


def seed_idle(
    services: Container, first: int, count: int, at: datetime, *, with_data: bool = True
) -> None:
    """Idle gateways ``first`` .. ``first + count - 1``, a hundred to a company, in bulk;
    ``with_data=False``: the Gateway items only (what a walk lists; no reads to size)."""
    meters = _state_meters(at)
    rows = [[f"m{n:02d}", 100, "1234.567", "0.000", 120, 1, None] for n in range(METERS_PER_BUS)]
    with PowerletItem.batch_write() as batch:
        for n in range(first, first + count):
            co = f"{IDLE_COMPANY}-{n // GATEWAYS_PER_COMPANY:04d}"
            if n % GATEWAYS_PER_COMPANY == 0 or n == first:
                batch.save(builders.company(co, "Idle fleet", at))
            gw = f"gw{n:05d}"
            batch.save(builders.gateway(co, gw, f"pl-{co}_{gw}", property_id="p1", online=True))
            if not with_data:
                continue
            state = GatewayState(
                keys.gateway_data_pk(co, gw),
                keys.GATEWAY_STATE_SK,
                company_id=co,
                gateway_id=gw,
                version=7,
                meters=meters,
                flags=[],
            )
            batch.save(state)
            for k in range(IDLE_CYCLES):
                cycle_at = at - timedelta(minutes=k)
                batch.save(
                    GatewayCycle(
                        keys.gateway_data_pk(co, gw),
                        keys.cycle_sk(cycle_at, "spool", 10_000 - k),
                        gateway_id=gw,
                        spool_id="spool",
                        seq=10_000 - k,
                        cycle_at_ms=int(cycle_at.timestamp() * 1000),
                        received_at_ms=int(cycle_at.timestamp() * 1000) + 500,
                        rows=rows,
                    )
                )


def seed_changed(services: Container, tag: str, at: datetime, count: int) -> ChangedFleet:
    """``count`` changes of each kind, all due at ``at`` + 11 minutes."""
    co = f"sweep-changed-{tag}"
    items: list[Any] = [
        builders.company(co, "Changed", at),
        builders.taipei_property(
            co,
            emergency_credit_minor=0,
        ),
    ]
    fleet = ChangedFleet(co, [], [], [])
    for n in range(count):
        silent, busy = f"quiet{n:03d}", f"busy{n:03d}"
        items.append(builders.gateway(co, silent, f"pl-{co}_{silent}", property_id="p1"))
        items.append(builders.gateway(co, busy, f"pl-{co}_{busy}", property_id="p1"))
        items.append(builders.meter(co, f"mq{n:03d}", busy, 1, profile="dds238", online=True))
        fleet.silent_gateways.append(silent)
        fleet.silent_meters.append(f"mq{n:03d}")
        fleet.unconfirmed.append(busy)
    with PowerletItem.batch_write() as batch:
        for item in items:
            batch.save(item)
    for n, silent in enumerate(fleet.silent_gateways):
        services.presence.handle(
            {
                "clientId": f"pl-{co}_{silent}",
                "timestamp": int(at.timestamp() * 1000) + n,
                "eventType": "connected",
            }
        )
    for meter_id in fleet.silent_meters:
        services.catalogue.set_meter_presence(co, meter_id, False, "timeout", at)
    for n, busy in enumerate(fleet.unconfirmed):
        meter_id, command_id = f"mq{n:03d}", f"c{int(at.timestamp() * 1000)}-{n:06d}"
        services.relay_log.record(
            co,
            meter_id,
            command_id,
            "off",
            "credit_exhausted",
            "policy",
            None,
            at,
            confirm_by=(busy, at + CONFIRM_TIMEOUT),
        )
        state = services.telemetry.get_state(co, busy)
        pending = PendingCommand(command_id, at, at, MAX_TRIES)
        mstate = MeterControlState(power="off", reason="credit_exhausted", pending=pending)
        services.telemetry.save_state(state.with_meters({meter_id: mstate}), at)
    return fleet


def legacy_offline_walk(services: Container) -> int:
    """The reads the old offline sweep made on every gateway of every company (it wrote
    only on a change): companies, gateways, each one's latest ten cycles, its control
    state (consistent) and, while alive, its meters. Returns the gateways visited."""
    visited = 0
    for company in services.catalogue.list_companies():
        for gateway in services.catalogue.list_gateways(company.company_id):
            co, gw = company.company_id, gateway.gateway_id
            services.telemetry.latest_cycles(co, gw, limit=LEGACY_CYCLES)
            services.telemetry.get_state(co, gw)
            services.catalogue.list_meters_of_gateway(co, gw)
            visited += 1
    return visited


def legacy_retry_walk(services: Container) -> int:
    """The reads the old relay-retry sweep made: every gateway's control state."""
    visited = 0
    for company in services.catalogue.list_companies():
        for gateway in services.catalogue.list_gateways(company.company_id):
            services.telemetry.get_state(company.company_id, gateway.gateway_id)
            visited += 1
    return visited
