"""The bus item, read once per telemetry message with the newest cycle beside it.

Ingest needs, per message: the bus's catalogue context (who is on the bus, their
tariffs), the control state, and the newest stored cycle (the anchor of validation,
and whether this message closes a bucket). All three come from one consistent Query
of the gateway's partition, descending from the bus item's sort key (``CYC~STATE``
sorts after every ``CYC#...`` key) with a limit of 2: the bus item and the newest
cycle, 1 request, read units by the two items' summed size (docs/pipeline.md).

The context is the catalogue items as stored (their DynamoDB form, zlib JSON), with
the ``ctxv`` it was built at (``ctxb``). A catalogue edit bumps ``ctxv`` (``bump``);
ingest, finding ``ctxb != ctxv``, rebuilds the context from the catalogue and stores it
on condition that ``ctxv`` did not move meanwhile. The control state is written by
``TelemetryStore.save_state`` with UpdateItem, so neither write erases the other.

``read`` and ``store_context`` are on every message's path, so they go through the lean
DynamoDB client (``data/wire``: ~1 ms a request instead of ~3 through botocore and
PynamoDB), encoding and decoding the items from their rows' declarations (data/rows.py,
``RowCodec``: as the models' attributes do, without importing PynamoDB); the context's
catalogue items are rows too. The bus item's other writes (bump, marks) stay on
PynamoDB, imported when they run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from . import keys
from .binding import shared_wire
from .control_state import BusControlState, ms, stored_meters
from .deadlines import SILENCE_DEADLINE, deadline_attributes
from .rows import (
    CompanyRow,
    GatewayCycleRow,
    GatewayRow,
    GatewayStateRow,
    ItemRow,
    MeterRow,
    PropertyRow,
    TenancyRow,
    UnitRow,
)
from .wire import ConditionalCheckFailedError, DynamoWire
from .wire.codec import Raw, RowCodec, Updates, between_query, item_key, kind_of

if TYPE_CHECKING:
    from .models import GatewayState

_R = TypeVar("_R", bound=ItemRow)


@dataclass(frozen=True)
class CatalogueParts:
    """What a bus context is built from (pipeline/context.py assembles it): plain rows
    (data/rows.py), decoded from the bus item or copied from the catalogue's models."""

    gateway: GatewayRow
    premises: PropertyRow
    company: CompanyRow
    meters: list[MeterRow]
    units: dict[str, UnitRow]
    tenancies: dict[str, TenancyRow]
    # unit id -> digest of its tariff document, as packed: assembling a context from the
    # bus item then finds the parsed tariff without serialising the document again
    tariff_digests: dict[str, str] = field(default_factory=dict)


def tariff_digest(document: Any) -> str:
    """A digest of a tariff document's canonical JSON (settle_due.py keys marks on it)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class BusRead:
    state: BusControlState
    # the stored context, its company and tenancies decoded when asked for (None:
    # never built, or of another pack version or shape)
    stored: StoredParts | None = None
    context_version: int = 0  # ctxv: bumped by every catalogue edit of the bus
    context_built: int = -1  # ctxb: the ctxv the stored context was built at
    context_at_ms: int = 0
    latest_cycle: GatewayCycleRow | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    open_conditions: frozenset[str] = frozenset()  # marks (pipeline/open_conditions.py)

    @property
    def context(self) -> CatalogueParts | None:
        """The stored context's every part (None: none stored, or unreadable)."""
        if self.stored is None:
            return None
        try:
            return self.stored.whole()
        except UNREADABLE:
            return None

    @property
    def context_current(self) -> bool:
        return self.stored is not None and self.context_built == self.context_version


# What unpacking a pack of another version or shape raises (the context is rebuilt).
UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, IndexError, zlib.error)


def pack(parts: CatalogueParts, steady: dict[str, Any] | None = None) -> dict[str, Any]:
    """The items' attribute values as JSON (PynamoDB's own python values), a table per
    kind: unpacking them costs ~1 us an item instead of ~50 us through ``from_raw_data``
    (a bus context is ~100 items, unpacked on most messages: issue 19).

    A table is ``{"c": names, "t": {name: tag}, "r": rows}``: the attribute names once,
    not once per item, so the JSON parsed on every message is about half as long; a
    unit's tariff document is kept once per distinct document (``docs``, by digest) and
    the unit's row holds its digest.

    What a steady message does not read (the company, the tenancies) is packed apart,
    compressed on its own (``cold``), and decoded only when asked for (``StoredParts``);
    ``steady``: the per-meter record a steady message reads instead (pipeline/context.py,
    ``steady_record``), None when the caller has none (the message then assembles)."""
    docs: dict[str, Any] = {}
    digest_of: dict[int, str] = {}  # by the id of each unit's document
    for unit in parts.units.values():
        document = unit.attribute_values.get("tariff")
        if document:
            digest = digest_of[id(document)] = tariff_digest(document)
            docs.setdefault(digest, document)
    cold = {"company": _table([parts.company]), "tenancies": _table(parts.tenancies.values())}
    return {
        "v": PACK_VERSION,
        "gateway": _table([parts.gateway]),
        "property": _table([parts.premises]),
        "meters": _table(parts.meters),
        "units": _table(parts.units.values(), digest_of),
        "docs": docs,
        "steady": steady,
        "cold": _squeeze(cold),
    }


def unpack(packed: dict[str, Any]) -> CatalogueParts:
    """The parts ``pack`` packed. Raises ValueError (or KeyError, TypeError...) for a
    pack of another version or shape: the caller rebuilds it from the catalogue."""
    return StoredParts(packed).whole()


class StoredParts:
    """A packed context as read: the items a steady message reads (gateway, property,
    meters, units) unpacked now, the company and tenancies when first asked for
    (``whole``), and the steady record as packed. Raises as ``unpack`` for a pack of
    another version or shape; ``whole`` raises so for an unreadable ``cold``."""

    def __init__(self, packed: dict[str, Any]) -> None:
        if packed.get("v") != PACK_VERSION:
            raise ValueError(f"context packed as {packed.get('v')!r}, not {PACK_VERSION}")
        docs: dict[str, Any] = packed["docs"]
        self.tariff_digests: dict[str, str] = {}
        units = _rows(UnitRow, packed["units"], docs, self.tariff_digests)
        self.units = {str(u.attribute_values["unit_id"]): u for u in units}
        (self.gateway,) = _rows(GatewayRow, packed["gateway"])
        (self.premises,) = _rows(PropertyRow, packed["property"])
        self.meters = _rows(MeterRow, packed["meters"])
        steady = packed["steady"]
        self.steady: dict[str, Any] | None = steady if isinstance(steady, dict) else None
        cold = packed["cold"]
        if not isinstance(cold, str):
            raise TypeError(f"cold parts packed as {type(cold).__name__}")
        self._cold = cold
        self._whole: CatalogueParts | None = None

    def whole(self) -> CatalogueParts:
        """Every part, the ones unpacked already being the same objects (ingest writes
        presence and profiles to its meters and compares them afterwards)."""
        if self._whole is None:
            cold = _unsqueeze(self._cold)
            (company,) = _rows(CompanyRow, cold["company"])
            tenancies = _rows(TenancyRow, cold["tenancies"])
            self._whole = CatalogueParts(
                gateway=self.gateway,
                premises=self.premises,
                company=company,
                meters=self.meters,
                units=self.units,
                tenancies={str(t.attribute_values["tenancy_id"]): t for t in tenancies},
                tariff_digests=self.tariff_digests,
            )
        return self._whole


def _squeeze(value: Any) -> str:
    """JSON, compressed and in base64: a part of the pack decoded only when needed."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return base64.b64encode(zlib.compress(text.encode())).decode()


def _unsqueeze(text: str) -> Any:
    return json.loads(zlib.decompress(base64.b64decode(text, validate=True)))


# 4: the company and tenancies apart (``cold``) and the steady record (3: tables,
# tariff documents once; 2: an object per item; an item of an older version is rebuilt
# from the catalogue)
PACK_VERSION = 4
_DATETIME, _SET = "t", "s"


def _table(items: Iterable[ItemRow], digest_of: dict[int, str] | None = None) -> dict[str, Any]:
    """The items' values as rows under one list of names; datetimes and sets (not JSON)
    tagged by name. A value an item lacks (or holds as null: PynamoDB answers None for
    both) is None in its row, and its name is listed in ``n``, the names to drop when
    None. ``digest_of``: a tariff document's digest by the document's id (units),
    written in its place."""
    items = list(items)
    names = sorted(
        {n for item in items for n, v in item.attribute_values.items() if v is not None} - {"kind"}
    )
    tags: dict[str, str] = {}
    gaps: set[str] = set()
    rows = []
    for item in items:
        values = item.attribute_values
        row = []
        for name in names:
            value = values.get(name)
            if isinstance(value, datetime):
                value, tags[name] = value.isoformat(), _DATETIME
            elif isinstance(value, (set, frozenset)):
                value, tags[name] = sorted(value), _SET
            elif digest_of is not None and name == "tariff" and value:
                value = digest_of[id(value)]
            elif value is None:
                gaps.add(name)
            row.append(value)
        rows.append(row)
    return {"c": names, "t": tags, "n": sorted(gaps), "r": rows}


def _rows(
    cls: type[_R],
    table: dict[str, Any],
    docs: dict[str, Any] | None = None,
    digests: dict[str, str] | None = None,
) -> list[_R]:
    """The rows of a table, holding the values PynamoDB held when they were packed (its
    models are not built, nor imported: data/rows.py). ``docs``: the
    tariff documents by digest, put in place of the digests in the rows (units);
    ``digests``: filled with each such row's digest by its ``unit_id``."""
    names: list[str] = table["c"]
    rows: list[list[Any]] = table["r"]
    width = len(names)
    if any(len(row) != width for row in rows):
        raise ValueError(f"a {cls.__name__} row not of {width} values")
    tagged = [(names.index(name), tag) for name, tag in table["t"].items()]
    tariff = names.index("tariff") if docs is not None and "tariff" in names else None
    if tagged or tariff is not None:
        rows = [list(row) for row in rows]  # the packed dict is left as it was
        unit_id = names.index("unit_id") if digests is not None else None
        for row in rows:
            for index, tag in tagged:
                value = row[index]
                if value is not None:
                    row[index] = datetime.fromisoformat(value) if tag == _DATETIME else set(value)
            if tariff is not None and isinstance(digest := row[tariff], str):
                assert docs is not None
                row[tariff] = docs[digest]  # one document object for the units sharing it
                if unit_id is not None:
                    assert digests is not None
                    digests[str(row[unit_id])] = digest
    # C-level loops: a context is ~70 rows, unpacked on most messages (issue 19, CPU)
    values = list(map(dict, map(zip, repeat(names), rows)))
    gaps: list[str] = table["n"]
    if gaps:
        for found in values:
            for name in gaps:
                if found[name] is None:
                    del found[name]
    items = list(map(object.__new__, repeat(cls, len(values))))
    for item, found in zip(items, values, strict=True):
        item.attribute_values = found
    return items


def state_of(
    company_id: str, gateway_id: str, item: GatewayState | GatewayStateRow | None
) -> BusControlState:
    if item is None or not item.version:
        return BusControlState(company_id, gateway_id)
    return BusControlState(
        company_id,
        gateway_id,
        version=int(item.version or 0),
        meters=stored_meters(item.meters),  # decoded meter by meter, when asked for
        flags=frozenset(str(f) for f in item.flags or ()),
    )


def bus_read(
    company_id: str,
    gateway_id: str,
    state_item: GatewayStateRow | None,
    latest: GatewayCycleRow | None,
) -> BusRead:
    """What ingest knows of a bus from its bus item and newest cycle (either may be absent)."""
    state = state_of(company_id, gateway_id, state_item)
    if state_item is None:
        return BusRead(state, latest_cycle=latest)
    stored = None
    if state_item.context:
        try:
            stored = StoredParts(state_item.context)
        except UNREADABLE:
            stored = None  # an item of an older shape: rebuilt from the catalogue
    return BusRead(
        state,
        stored,
        int(state_item.context_version or 0),
        -1 if state_item.context_built is None else int(state_item.context_built),
        int(state_item.context_at_ms or 0),
        latest,
        open_conditions=frozenset(state_item.open_conditions or ()),
    )


def raw_bus_read(
    company_id: str, gateway_id: str, raw: Raw, latest: GatewayCycleRow | None
) -> BusRead:
    """``bus_read`` of the bus item as the wire answers it (DynamoDB JSON), without a
    ``GatewayState``: only the attributes ingest reads are decoded, each as its model
    attribute would (``STATE_CODEC.decode``: the numbers through ``json.loads``, the
    binaries base64, zlib and JSON), ~5x cheaper (issue 19, CPU; a test compares the
    two on every shape of item)."""
    version = _number(raw.get(_VERSION))
    state = BusControlState(company_id, gateway_id)
    if version:
        flags = raw.get(_FLAGS)
        state = BusControlState(
            company_id,
            gateway_id,
            version=version,
            meters=stored_meters(_binary_json(raw.get(_METERS))),
            flags=frozenset(str(f) for f in (json.loads(flags["S"]) if flags else None) or ()),
        )
    stored = None
    context = _binary_json(raw.get(_CONTEXT))
    if context:
        try:
            stored = StoredParts(context)
        except UNREADABLE:
            stored = None  # an item of an older shape: rebuilt from the catalogue
    built = raw.get(_BUILT)
    marks = raw.get(_OPEN)
    return BusRead(
        state,
        stored,
        _number(raw.get(_CONTEXT_VERSION)),
        -1 if built is None else _number(built),
        _number(raw.get(_CONTEXT_AT)),
        latest,
        open_conditions=frozenset(marks["SS"]) if marks else frozenset(),
    )


def _number(typed: Mapping[str, Any] | None) -> int:
    """A number attribute as ``int(json.loads(text))`` (NumberAttribute's reading), 0
    when absent; an integer's text without the JSON parser."""
    if typed is None:
        return 0
    text = typed["N"]
    return int(text) if text.isdigit() else int(json.loads(text))


def _binary_json(typed: Mapping[str, Any] | None) -> Any:
    """A CompressedJSONAttribute's value (None when absent)."""
    if typed is None:
        return None
    return _json(zlib.decompress(base64.b64decode(typed["B"])))


def _json(text: bytes) -> Any:
    """``json.loads`` of what our own encoders wrote, through orjson: the state's and the
    context's ~30 KB of JSON are parsed on every message, ~2x faster (issue 19, CPU;
    ~1 ms more on a cold start). What orjson refuses and ``json`` reads (NaN, Infinity,
    a lone surrogate) goes to ``json``; the one value they read differently, an integer
    beyond 64 bits (a float to orjson), is none the item holds (unix ms, minor units)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def silence_values(company_id: str, gateway_id: str, by: datetime | None) -> list[tuple[str, Any]]:
    """The values that move the bus's silence deadline to ``by`` (none when ``by`` is
    None): ingest adds them to the bus-item writes it makes anyway, so hearing a gateway
    costs no request of its own (docs/pipeline.md, "Presence and deadlines")."""
    if by is None:
        return []
    return list(deadline_attributes(SILENCE_DEADLINE, by, company_id, gateway_id).items())


def bus_key(company_id: str, gateway_id: str) -> dict[str, dict[str, str]]:
    """The bus item's key in DynamoDB JSON."""
    return item_key(keys.gateway_data_pk(company_id, gateway_id), keys.GATEWAY_STATE_SK)


STATE_CODEC = RowCodec(GatewayStateRow)
# the stored names of the bus item's attributes raw_bus_read decodes
_VERSION, _FLAGS, _METERS, _CONTEXT, _CONTEXT_VERSION, _BUILT, _CONTEXT_AT, _OPEN = (
    STATE_CODEC.stored_name(name)
    for name in (
        "version",
        "flags",
        "meters",
        "context",
        "context_version",
        "context_built",
        "context_at_ms",
        "open_conditions",
    )
)
CYCLE_CODEC = RowCodec(GatewayCycleRow)


class BusItems:
    """The bus item's reads and writes. ``read`` and ``store_context`` are on ingest's
    steady path and go through the lean client (``table``, data/wire: the container's;
    by default the process's, at the models' table); the rest through PynamoDB."""

    def __init__(self, table: DynamoWire | None = None) -> None:
        self._given = table

    @property
    def _table(self) -> DynamoWire:
        return self._given or shared_wire()

    def read(self, company_id: str, gateway_id: str) -> BusRead:
        """The bus item and the newest cycle: one consistent Query (limit 2)."""
        answer = self._table.query(
            between_query(
                self._table.table,
                keys.gateway_data_pk(company_id, gateway_id),
                keys.CYCLE_PREFIX,
                keys.GATEWAY_STATE_SK,
                forward=False,
                limit=2,
                consistent=True,
            )
        )
        state_raw: Raw | None = None
        latest: GatewayCycleRow | None = None
        for raw in answer.get("Items", ()):
            kind = kind_of(raw)
            if kind == STATE_CODEC.kind:
                state_raw = raw
            elif kind == CYCLE_CODEC.kind:
                latest = CYCLE_CODEC.decode(raw)
                break
        if state_raw is None:
            return bus_read(company_id, gateway_id, None, latest)
        return raw_bus_read(company_id, gateway_id, state_raw, latest)

    def store_context(
        self,
        company_id: str,
        gateway_id: str,
        parts: CatalogueParts,
        built: int,
        at: datetime,
        silence_by: datetime | None = None,
        steady: dict[str, Any] | None = None,
    ) -> bool:
        """Store the context built at version ``built``, unless an edit bumped it
        meanwhile (False: the next message builds it again). ``silence_by``: the
        gateway's telemetry is heard, so its silence deadline moves there, in this write
        (``silence_values``). ``steady``: the record a steady message reads (``pack``)."""
        updates = Updates(STATE_CODEC).set_all(
            [
                ("kind", GatewayStateRow.KIND),
                ("context", pack(parts, steady)),
                ("context_built", built),
                ("context_at_ms", ms(at)),
                *silence_values(company_id, gateway_id, silence_by),
            ]
        )
        condition = (
            updates.exists_not("context_version")
            if built == 0
            else updates.equals("context_version", built)
        )
        try:
            self._table.update_item(
                updates.request(self._table.table, bus_key(company_id, gateway_id), condition)
            )
        except ConditionalCheckFailedError:
            return False
        return True

    def bump(self, company_id: str, gateway_id: str) -> None:
        """A catalogue edit of the bus: the stored context is stale from now."""
        from .models import GatewayState

        self._ref(company_id, gateway_id).update(
            actions=[GatewayState.kind.set(GatewayState), GatewayState.context_version.add(1)]
        )

    def mark_open(self, company_id: str, gateway_id: str, mark: str) -> None:
        """A condition the bus's telemetry will clear was raised (an ADD: commutes with
        every other write of the item)."""
        from .models import GatewayState

        self._ref(company_id, gateway_id).update(
            actions=[
                GatewayState.kind.set(GatewayState),
                GatewayState.open_conditions.add({mark}),
            ]
        )

    def clear_open(self, company_id: str, gateway_id: str, marks: Iterable[str]) -> None:
        """Those conditions were resolved: their marks go (a DELETE of set elements)."""
        from .models import GatewayState

        self._ref(company_id, gateway_id).update(
            actions=[
                GatewayState.kind.set(GatewayState),
                GatewayState.open_conditions.delete(set(marks)),
            ]
        )

    @staticmethod
    def _ref(company_id: str, gateway_id: str) -> GatewayState:
        """The bus item as PynamoDB's (its writes other than ingest's: edits, marks)."""
        from .models import GatewayState

        return GatewayState(keys.gateway_data_pk(company_id, gateway_id), keys.GATEWAY_STATE_SK)
