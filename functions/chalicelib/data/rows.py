"""The items ingest's steady path holds, as plain rows: no PynamoDB, no botocore.

Ingest's steady path reads its bus context from the bus item (data/bus_item.py) and the
newest cycle beside it, and writes a cycle (and at a bucket's close the bucket and the
month's counter). Those items used to be PynamoDB ``Model`` instances, which put ``pynamodb.models`` and with it
botocore and urllib3 (~45 % of the entry's import) on every cold container's first
message, only to hold values (issue 19). A row holds the same values the same way
(``attribute_values``, by python name: what ``Model`` holds after a read) and reads and
writes them by attribute as a model does (an absent attribute reads None; assigning
stores the value as given), so the code that reads a context's items reads either.

Each kind's attributes are declared once, here, as annotations (with the stored names
that differ and the compressed documents: the lean client's codec, data/wire/codec.py,
encodes from them); data/models.py stays the source of truth for what is stored, and a
unit test fails when a model's attribute is added, renamed, retyped or stored under
another name and its row is not (tests/unit/data/test_rows.py).
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Any, ClassVar, TypeVar


class _Field:
    """One declared attribute: reads ``attribute_values[name]`` (None when absent) and
    writes it, as a PynamoDB attribute does on an item."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: Row | None, owner: type) -> Any:
        if instance is None:
            return self
        return instance.attribute_values.get(self.name)

    def __set__(self, instance: Row, value: Any) -> None:
        instance.attribute_values[self.name] = value


class Row:
    """An item's values by python name; ``FIELDS``: the declared names and their types
    (the annotations' text), the base's plumbing first. Only the base has slots: a
    subclass's would make mypy refuse the assignments its descriptors take. Equal and
    hashed by identity, as a model is (compare ``attribute_values`` for the values)."""

    __slots__ = ("attribute_values",)
    FIELDS: ClassVar[dict[str, str]] = {}
    KIND: ClassVar[str] = ""  # the stored discriminator of the model it stands for
    # where the stored name is not the python name (short names keep items small)
    STORED: ClassVar[dict[str, str]] = {}
    # the documents stored as zlib-compressed JSON (``CompressedJSONAttribute``)
    COMPRESSED: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.attribute_values: dict[str, Any] = {} if values is None else values

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = {
            name: str(kind)
            for name, kind in inspect.get_annotations(cls).items()
            if not str(kind).startswith("ClassVar")
        }
        for name in own:
            setattr(cls, name, _Field(name))
        cls.FIELDS = {**cls.FIELDS, **own}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.attribute_values!r})"


class ItemRow(Row):
    """The keys and index attributes every item of the table has (``PowerletItem``)."""

    pk: str
    sk: str
    gsi1pk: str | None
    gsi1sk: str | None
    gsi2pk: str | None
    gsi2sk: str | None
    duepk: str | None
    duesk: str | None


class CompanyRow(ItemRow):
    KIND = "Company"
    company_id: str
    name: str
    reseller_id: str | None
    status: str
    low_credit_thresholds_minor: list[int] | None
    settings_version: int
    created_at: datetime


class PropertyRow(ItemRow):
    KIND = "Property"
    company_id: str
    property_id: str
    name: str
    address: str
    city: str
    country: str
    time_zone: str
    currency: str
    locale: str
    landlord_subs: set[str] | None
    friendly_hours: Any
    billing_cycle: Any
    emergency_credit_minor: int
    low_credit_thresholds_minor: list[int] | None
    settings_version: int
    main_meter_id: str | None
    main_meter_loss_percent: str | None
    utility_tariff: Any


class UnitRow(ItemRow):
    KIND = "Unit"
    company_id: str
    unit_id: str
    property_id: str
    name: str
    unit_type: str
    billing_mode: str
    tariff: Any
    billing_cycle: Any
    meter_id: str | None
    account_id: str | None
    tenancy_id: str | None
    power: str
    power_reason: str | None
    low_credit_thresholds_minor: list[int] | None
    settings_version: int
    max_current_a: int | None


class GatewayRow(ItemRow):
    KIND = "Gateway"
    company_id: str
    gateway_id: str
    thing_name: str
    property_id: str
    serial: Any
    online: bool
    last_seen_at: datetime | None
    last_seq: int
    provisioning_token_sha256: str | None
    provisioned_at: datetime | None
    certificate_id: str | None
    main_meter_id: str | None
    main_meter_loss_percent: str | None
    profiles: Any


class MeterRow(ItemRow):
    KIND = "Meter"
    company_id: str
    meter_id: str
    gateway_id: str
    unit_id: str | None
    profile: str
    bus_address: int
    relay: Any
    last_kwh: str | None
    last_read_at: datetime | None
    online: bool
    anchors: Any
    last_error: str | None
    presence_at: datetime | None
    serial: str | None
    serial_proposal: Any
    profile_versions: Any
    profile_versions_at: datetime | None


class TenancyRow(ItemRow):
    KIND = "Tenancy"
    company_id: str
    tenancy_id: str
    unit_id: str
    tenant_sub: str
    account_id: str
    starts_on: str
    ends_on: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    opening_kwh: str
    closing_kwh: str | None
    never_disconnect: bool
    opening_credit_minor: int | None
    move_out: Any


# --- the bus's telemetry partition, read and written by ingest through the lean client ---


class GatewayCycleRow(ItemRow):
    """One telemetry message (``GatewayCycle``)."""

    KIND = "Cycle"
    STORED: ClassVar[dict[str, str]] = {
        "gateway_id": "g",
        "spool_id": "sid",
        "seq": "s",
        "cycle_at_ms": "t",
        "received_at_ms": "rx",
        "rows": "m",
        "expires_at": "ttl",
    }
    COMPRESSED = frozenset({"rows"})
    gateway_id: str
    spool_id: str
    seq: int
    cycle_at_ms: int
    received_at_ms: int
    rows: Any
    expires_at: int | None


class GatewayUsageRow(ItemRow):
    """A gateway's 15-minute bucket (``GatewayUsage``)."""

    KIND = "U15G"
    STORED: ClassVar[dict[str, str]] = {
        "gateway_id": "g",
        "bucket_start": "b",
        "energy": "e",
        "messages": "n",
        "health": "h",
    }
    COMPRESSED = frozenset({"health"})
    gateway_id: str
    bucket_start: datetime
    energy: Any
    messages: int | None
    health: Any


class GatewayStateRow(ItemRow):
    """The bus item (``GatewayState``)."""

    KIND = "GwState"
    STORED: ClassVar[dict[str, str]] = {
        "context": "ctx",
        "context_version": "ctxv",
        "context_built": "ctxb",
        "context_at_ms": "ctxat",
        "open_conditions": "oc",
    }
    COMPRESSED = frozenset({"meters", "context"})
    company_id: str | None
    gateway_id: str | None
    version: int
    meters: Any
    flags: Any
    updated_at: datetime | None
    context: Any
    context_version: int | None
    context_built: int | None
    context_at_ms: int | None
    open_conditions: set[str] | None


class UsageMonthRow(ItemRow):
    """A company's month of usage counters (``UsageMonth``)."""

    KIND = "UsageMonth"
    company_id: str
    month: str
    meters_delta: int
    messages: int
    top_ups: int


_R = TypeVar("_R", bound=Row)

# The kinds a bus context holds (data/bus_item.py packs and unpacks them).
CONTEXT_ROWS: tuple[type[ItemRow], ...] = (
    CompanyRow,
    PropertyRow,
    UnitRow,
    GatewayRow,
    MeterRow,
    TenancyRow,
)
# The kinds ingest's lean client encodes and decodes (data/wire/codec.py, ``RowCodec``).
WIRE_ROWS: tuple[type[ItemRow], ...] = (
    GatewayCycleRow,
    GatewayUsageRow,
    GatewayStateRow,
    UsageMonthRow,
)


def row_of(cls: type[_R], item: Any) -> _R:
    """An item read by PynamoDB (anything holding ``attribute_values``) as a row of
    ``cls``: its values, less the model class PynamoDB keeps under ``kind``. A copy:
    what ingest writes to its context's rows leaves the catalogue's model as read."""
    values = item.attribute_values
    return cls({name: value for name, value in values.items() if name != "kind"})
