"""Items as DynamoDB JSON, and back, without building a PynamoDB model's item.

``RowCodec``: the kinds ingest's steady path reads and writes (data/rows.py,
``WIRE_ROWS``), encoded and decoded here from the rows' declarations, with no PynamoDB
import: a cold container's steady message loads neither PynamoDB's models nor botocore
(issue 19). Each attribute type is written byte for byte as PynamoDB's ``Attribute``
writes it and read as it reads it (tests/unit/data/test_wire_codec.py checks every
declared kind in both directions against PynamoDB).

``ItemCodec``: a model class's own attributes, for the paths that hold models (the
settlement's accounts and ledger entries); PynamoDB is imported when one is made.
Either skips the model machinery around the attributes: ``Model.__init__`` filling every
default and ``from_raw_data``'s walk of the class, ~50-100 us an item.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from ..rows import ItemRow

if TYPE_CHECKING:
    from pynamodb.attributes import Attribute

    from ..models import PowerletItem

# DynamoDB's type tags (pynamodb.constants' values, without importing PynamoDB)
STRING, NUMBER, BINARY, BOOLEAN, STRING_SET, NUMBER_SET = "S", "N", "B", "BOOL", "SS", "NS"
_PLAIN = frozenset({STRING, NUMBER, BOOLEAN, STRING_SET, NUMBER_SET})
_M = TypeVar("_M", bound="PowerletItem")
_R = TypeVar("_R", bound=ItemRow)
Raw = dict[str, dict[str, Any]]  # an item in DynamoDB JSON: {stored name: {type: value}}


class Codec(Protocol):
    """What ``Updates`` asks of a codec (either kind)."""

    kind: str
    kind_name: str

    def stored_name(self, name: str) -> str: ...

    def value(self, name: str, value: Any) -> dict[str, Any] | None: ...


class _Wire:
    """One attribute type: its tag, and the value as PynamoDB serialises and reads it
    (``encode`` answers None where PynamoDB stores nothing)."""

    def __init__(
        self, tag: str, encode: Callable[[Any], Any], decode: Callable[[Any], Any]
    ) -> None:
        self.tag, self.encode, self.decode = tag, encode, decode


# PynamoDB's UTCDateTimeAttribute format (pynamodb.constants.DATETIME_FORMAT)
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+0000"


def _datetime_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime(_DATETIME_FORMAT).zfill(31)


def _datetime_of(text: str) -> datetime:
    return datetime.strptime(text, _DATETIME_FORMAT).replace(tzinfo=UTC)


def _compressed(value: Any) -> str:
    """CompressedJSONAttribute's bytes (models.py), in base64 as the wire carries them."""
    packed = zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 9)
    return base64.b64encode(packed).decode()


# By a row's declared type (its annotation, less ``| None``): UnicodeAttribute,
# NumberAttribute, BooleanAttribute, UTCDateTimeAttribute, UnicodeSetAttribute,
# JSONAttribute; a compressed document is declared ``Any`` and named in ``COMPRESSED``.
_WIRES = {
    "str": _Wire(STRING, str, str),
    "int": _Wire(NUMBER, json.dumps, json.loads),
    "bool": _Wire(BOOLEAN, bool, bool),
    "datetime": _Wire(STRING, _datetime_text, _datetime_of),
    "set[str]": _Wire(STRING_SET, lambda v: list(v) or None, set),
    "Any": _Wire(STRING, json.dumps, lambda v: json.loads(v, strict=False)),
}
_COMPRESSED = _Wire(BINARY, _compressed, lambda v: json.loads(zlib.decompress(base64.b64decode(v))))


class _ItemWriter:
    """What both codecs write an item with: its kind, then each attribute given that
    PynamoDB would store (``value``), under its stored name."""

    kind: str
    kind_name: str

    def stored_name(self, name: str) -> str:
        raise NotImplementedError

    def value(self, name: str, value: Any) -> dict[str, Any] | None:
        raise NotImplementedError

    def item(self, values: Mapping[str, Any]) -> Raw:
        """A whole item (with its ``kind``) from attribute values by name, as ``save`` writes it."""
        raw: Raw = {self.kind_name: {STRING: self.kind}}
        for name, value in values.items():
            encoded = self.value(name, value)
            if encoded is not None:
                raw[self.stored_name(name)] = encoded
        return raw


class RowCodec(_ItemWriter, Generic[_R]):
    """One row class's attributes (data/rows.py), by name and by stored name; ``kind``
    is written with every item, as PynamoDB's discriminator."""

    kind_name = "kind"

    def __init__(self, cls: type[_R]) -> None:
        self.cls = cls
        self.kind: str = cls.KIND
        self._by_name: dict[str, tuple[str, _Wire]] = {}
        self._by_stored: dict[str, tuple[str, _Wire]] = {}
        for name, declared in cls.FIELDS.items():
            base = declared.removesuffix(" | None")
            wire = _COMPRESSED if name in cls.COMPRESSED else _WIRES.get(base)
            if wire is None:
                raise TypeError(f"{cls.__name__}.{name}: {declared} is not supported")
            stored = cls.STORED.get(name, name)
            self._by_name[name] = (stored, wire)
            self._by_stored[stored] = (name, wire)

    def stored_name(self, name: str) -> str:
        if name == "kind":
            return self.kind_name
        return self._by_name[name][0]

    def value(self, name: str, value: Any) -> dict[str, Any] | None:
        """An attribute's value in DynamoDB JSON (None: PynamoDB would not store it).
        ``kind``: the row's kind, whatever is given (a model class, as PynamoDB takes)."""
        if name == "kind":
            return {STRING: self.kind}
        if value is None:
            return None
        wire = self._by_name[name][1]
        encoded = wire.encode(value)
        return None if encoded is None else {wire.tag: encoded}

    def decode(self, raw: Mapping[str, Mapping[str, Any]]) -> _R:
        """The item's row, holding what PynamoDB would read (attributes it does not know
        are ignored)."""
        values: dict[str, Any] = {}
        by_stored = self._by_stored
        for stored, typed in raw.items():
            found = by_stored.get(stored)
            if found is None:
                continue
            name, wire = found
            ((_, value),) = typed.items()
            values[name] = wire.decode(value)
        return self.cls(values)


class ItemCodec(_ItemWriter, Generic[_M]):
    """One model class's attributes, by name and by stored name (PynamoDB's own
    ``Attribute`` (de)serialises each value; an item read back is its model's instance)."""

    def __init__(self, cls: type[_M]) -> None:
        self.cls = cls
        self._by_name: dict[str, Attribute[Any]] = {}
        self._by_stored: dict[str, tuple[str, Attribute[Any]]] = {}
        for name, attribute in cls.get_attributes().items():
            if attribute.attr_type not in _PLAIN and attribute.attr_type != BINARY:
                raise TypeError(f"{cls.__name__}.{name}: {attribute.attr_type} is not supported")
            self._by_name[name] = attribute
            self._by_stored[attribute.attr_name] = (name, attribute)
        discriminator = cls._get_discriminator_attribute()
        if discriminator is None:
            raise TypeError(f"{cls.__name__} has no discriminator")
        self.kind: str = discriminator.serialize(cls)
        self.kind_name = discriminator.attr_name

    def stored_name(self, name: str) -> str:
        return self._by_name[name].attr_name

    def value(self, name: str, value: Any) -> dict[str, Any] | None:
        """An attribute's value in DynamoDB JSON (None: PynamoDB would not store it)."""
        if value is None:
            return None
        attribute = self._by_name[name]
        serialized = attribute.serialize(value)
        if serialized is None:  # an empty set
            return None
        if attribute.attr_type == BINARY:
            serialized = base64.b64encode(serialized).decode()
        return {attribute.attr_type: serialized}

    def decode(self, raw: Mapping[str, Mapping[str, Any]]) -> _M:
        """The item as PynamoDB would read it (attributes it does not know are ignored)."""
        values: dict[str, Any] = {}
        for stored, typed in raw.items():
            found = self._by_stored.get(stored)
            if found is None or stored == self.kind_name:
                continue
            name, attribute = found
            ((kind, wire),) = typed.items()
            if kind == BINARY:
                wire = base64.b64decode(wire)
            values[name] = attribute.deserialize(wire)
        item = self.cls.__new__(self.cls)
        item.attribute_values = values
        item._set_discriminator()
        return item


def item_key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    """An item's key in DynamoDB JSON (the table's keys are strings: models.py)."""
    return {"pk": {STRING: pk}, "sk": {STRING: sk}}


def between_query(
    table: str,
    pk: str,
    low_sk: str,
    high_sk: str,
    *,
    forward: bool,
    limit: int,
    consistent: bool = False,
) -> dict[str, Any]:
    """A Query of one partition's sort keys from ``low_sk`` to ``high_sk`` (inclusive, as
    the models' ``between``), ``limit`` items a page."""
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :lo AND :hi",
        "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk"},
        "ExpressionAttributeValues": {
            ":pk": {STRING: pk},
            ":lo": {STRING: low_sk},
            ":hi": {STRING: high_sk},
        },
        "ScanIndexForward": forward,
        "Limit": limit,
    }
    if consistent:
        request["ConsistentRead"] = True
    return request


def kind_of(raw: Mapping[str, Mapping[str, Any]], kind_name: str = "kind") -> str | None:
    typed = raw.get(kind_name)
    return None if typed is None else typed.get(STRING)


class Updates:
    """An UpdateItem's SET and ADD clauses and its condition, every name and value behind a
    placeholder (``ttl``, ``version`` and others are DynamoDB reserved words)."""

    def __init__(self, codec: Codec) -> None:
        self._codec = codec
        self._set: list[str] = []
        self._add: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}

    def set(self, name: str, value: Any) -> Updates:
        self._set.append(f"{self._name(name)} = {self._value(name, value)}")
        return self

    def set_all(self, values: Iterable[tuple[str, Any]]) -> Updates:
        for name, value in values:
            self.set(name, value)
        return self

    def add(self, name: str, n: int) -> Updates:
        """ADD ``n`` to a number attribute (created at ``n``): commutes with other ADDs."""
        self._add.append(f"{self._name(name)} {self._value(name, n)}")
        return self

    def exists_not(self, name: str) -> str:
        return f"attribute_not_exists({self._name(name)})"

    def exists(self, name: str) -> str:
        return f"attribute_exists({self._name(name)})"

    def equals(self, name: str, value: Any) -> str:
        return f"{self._name(name)} = {self._value(name, value)}"

    def expression(self) -> str:
        clauses = [f"SET {', '.join(self._set)}"] if self._set else []
        if self._add:
            clauses.append(f"ADD {', '.join(self._add)}")
        return " ".join(clauses)

    def request(self, table: str, key: Raw, condition: str | None = None) -> dict[str, Any]:
        """The UpdateItem request (ReturnValues NONE: the answer is empty, no read unit)."""
        request: dict[str, Any] = {
            "TableName": table,
            "Key": key,
            "UpdateExpression": self.expression(),
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": self.values,
        }
        if condition is not None:
            request["ConditionExpression"] = condition
        return request

    def _name(self, name: str) -> str:
        stored = self._codec.stored_name(name)
        for placeholder, known in self.names.items():
            if known == stored:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = stored
        return placeholder

    def _value(self, name: str, value: Any) -> str:
        encoded = self._codec.value(name, value)
        if encoded is None:
            raise ValueError(f"{name}: no value to store (PynamoDB would drop the attribute)")
        token = f":v{len(self.values)}"
        self.values[token] = encoded
        return token
