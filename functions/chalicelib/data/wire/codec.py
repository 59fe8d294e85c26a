"""PynamoDB models' items as DynamoDB JSON, and back, without building a model's item.

Each attribute is (de)serialised by the model's own ``Attribute`` (so a stored value is
byte for byte what ``Model.save`` writes: names, types, compression, date format); only
the model machinery around it is skipped: ``Model.__init__`` filling every default and
``from_raw_data``'s walk of the class, ~50-100 us an item. An item read back is an
instance of its class holding exactly the values PynamoDB would have given it
(tests/unit/data/test_wire_codec.py checks both directions against PynamoDB).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from pynamodb.attributes import Attribute
from pynamodb.constants import BINARY, BOOLEAN, NUMBER, NUMBER_SET, STRING, STRING_SET

from ..models import PowerletItem

_M = TypeVar("_M", bound=PowerletItem)
_PLAIN = frozenset({STRING, NUMBER, BOOLEAN, STRING_SET, NUMBER_SET})
Raw = dict[str, dict[str, Any]]  # an item in DynamoDB JSON: {stored name: {type: value}}


class ItemCodec(Generic[_M]):
    """One model class's attributes, by name and by stored name."""

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

    def item(self, values: Mapping[str, Any]) -> Raw:
        """A whole item (with its ``kind``) from attribute values by name, as ``save`` writes it."""
        raw: Raw = {self.kind_name: {STRING: self.kind}}
        for name, value in values.items():
            encoded = self.value(name, value)
            if encoded is not None:
                raw[self.stored_name(name)] = encoded
        return raw

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

    def __init__(self, codec: ItemCodec[Any]) -> None:
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
