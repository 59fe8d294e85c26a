"""A fresh bus per test: its own company, property, gateway, meters, tenants and
accounts, so tests never share a settlement cursor or a control state."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from chalicelib.data import builders
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.ledger_store import LedgerStore
from chalicelib.domain import EntryKind, LedgerEntry, Money
from chalicelib.pipeline.senders import thing_name_for
from local_aws import tariff_documents as td

FLAT_TWD = td.flat("flat-5", "5.00")
TIERED_TWD = td.tiered_all_year("tiered-tw", [("2", "1.68"), (None, "3.33")])
TOU_TWD = td.tou_every_day("tou-tw", [("00:00", "12:00", "off"), ("12:00", "24:00", "peak")])
T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in Taipei, a Friday
OPENING_KWH = "100.000"


@dataclass
class MeterSpec:
    meter_id: str
    unit_id: str
    tariff: dict[str, Any]
    mode: str = "prepaid"
    tenant: bool = True
    credit_minor: int = 10_000
    never_disconnect: bool = False


@dataclass
class Bus:
    company_id: str
    property_id: str
    gateway_id: str
    thing_name: str
    meters: list[MeterSpec]
    tenant_subs: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    spool_id: str = field(default_factory=lambda: secrets.token_hex(8))

    def meter(self, unit_id: str) -> MeterSpec:
        return next(m for m in self.meters if m.unit_id == unit_id)


def _currency(document: dict[str, Any]) -> str:
    """A tariff's currency, or a timeline's (every version shares it)."""
    if "versions" in document:
        return str(document["versions"][0]["tariff"]["currency"])
    return str(document["currency"])


def make_bus(
    ledger: LedgerStore,
    meters: list[MeterSpec],
    *,
    thresholds: list[int] | None = None,
    emergency_minor: int = 0,
    friendly: dict[str, Any] | None = None,
    phone: str | None = None,
) -> Bus:
    tag = uuid.uuid4().hex[:8]
    co, prop, gw = f"co-{tag}", f"p-{tag}", f"gw-{tag}"
    thing = thing_name_for(co, gw)
    bus = Bus(co, prop, gw, thing, meters)
    opened = datetime(2026, 11, 1, tzinfo=UTC)
    items: list[Any] = [
        builders.company(co, f"Brand {tag}", opened, low_credit_thresholds_minor=thresholds or []),
        builders.property_(
            co,
            prop,
            name="P",
            address="A",
            city="Taipei",
            country="TW",
            time_zone="Asia/Taipei",
            currency="TWD",
            friendly_hours=friendly,
            emergency_credit_minor=emergency_minor,
        ),
        builders.gateway(co, gw, thing, property_id=prop),
        builders.membership(co, f"admin-{tag}", f"admin-{tag}@example.com", "company_admin"),
    ]
    for address, spec in enumerate(meters, start=1):
        items.append(
            builders.meter(co, spec.meter_id, gw, address, unit_id=spec.unit_id, profile="dds238")
        )
        unit_attrs: dict[str, Any] = {
            "name": spec.unit_id,
            "unit_type": "flat",
            "billing_mode": spec.mode,
            "tariff": spec.tariff,
            "meter_id": spec.meter_id,
        }
        if spec.tenant:
            sub = f"tenant-{spec.unit_id}-{tag}"
            tenancy_id, account_id = f"t-{spec.unit_id}", f"a-{spec.unit_id}-{tag}"
            ledger.open_account(co, account_id, _currency(spec.tariff), opened)
            items.append(
                builders.tenancy(
                    co,
                    tenancy_id,
                    spec.unit_id,
                    sub,
                    "2026-11-01",
                    account_id=account_id,
                    opening_kwh=OPENING_KWH,
                    never_disconnect=spec.never_disconnect,
                )
            )
            items.append(builders.membership(co, sub, f"{sub}@example.com", "tenant", phone=phone))
            unit_attrs.update(account_id=account_id, tenancy_id=tenancy_id)
            bus.tenant_subs[spec.unit_id] = sub
            bus.accounts[spec.unit_id] = account_id
            if spec.credit_minor:
                ledger.append(
                    co,
                    LedgerEntry(
                        f"open-{account_id}",
                        account_id,
                        EntryKind.TOP_UP,
                        Money(spec.credit_minor, _currency(spec.tariff)),
                        opened,
                        memo="opening",
                    ),
                )
        items.append(builders.unit(co, spec.unit_id, prop, **unit_attrs))
    Catalogue.save_all(items)
    boto3.client("iot").create_thing(thingName=thing)
    return bus


def event(
    bus: Bus,
    seq: int,
    at: datetime,
    readings: dict[str, str | None],
    *,
    watts: dict[str, int] | None = None,
    serials: dict[str, str] | None = None,
    thing: str | None = None,
    spool_id: str | None = None,
    extra_meters: list[dict[str, Any]] | None = None,
    pv: dict[str, str] | None = None,
    dg: dict[str, list[int | None]] | None = None,
) -> dict[str, Any]:
    """The ingest rule's event for one cycle; a None reading is a meter that timed out."""
    rows: list[dict[str, Any]] = []
    for meter_id, value in readings.items():
        if value is None:
            rows.append({"i": meter_id, "dt": 100, "er": "timeout", "dg": [1, 0, 0, None, 1]})
        else:
            row: dict[str, Any] = {"i": meter_id, "dt": 100, "ie": value, "xe": "0.000", "r": 1}
            if watts and meter_id in watts:
                row["w"] = watts[meter_id]
            if serials and meter_id in serials:
                row["sn"] = serials[meter_id]
            if dg and meter_id in dg:
                row["dg"] = dg[meter_id]
            rows.append(row)
    rows.extend(extra_meters or [])
    payload = {
        "v": 1,
        "g": bus.thing_name,
        "sid": spool_id or bus.spool_id,
        "s": seq,
        "t": int(at.timestamp() * 1000),
        "d": 400,
        "sp": {"n": 0, "th": 0, "dr": 0},
        "m": rows,
    }
    if pv is not None:
        payload["pv"] = pv
    return raw_event(json.dumps(payload).encode(), thing or bus.thing_name, at)


def raw_event(payload: bytes, thing: str, at: datetime) -> dict[str, Any]:
    return {
        "raw": base64.b64encode(payload).decode(),
        "thing_name": thing,
        "client_id": thing,
        "received_at_ms": int((at + timedelta(seconds=1)).timestamp() * 1000),
    }


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def desired(bus: Bus, meter_id: str) -> dict[str, Any]:
    """The desired state the cloud wrote in the meter's shadow."""
    from chalicelib.pipeline.shadows import shadow_name

    response = boto3.client("iot-data").get_thing_shadow(
        thingName=bus.thing_name, shadowName=shadow_name(meter_id)
    )
    return dict(json.loads(response["payload"].read())["state"]["desired"])
