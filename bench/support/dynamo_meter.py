"""Count DynamoDB requests, write units and read units from the actual requests.

Lives in ``bench/support/`` so ``run_all.py`` does not run it as a benchmark.
Every botocore client in the process is wrapped, PynamoDB's included, and the lean client
of ingest's steady path (``chalicelib.data.wire``, whose binary values travel as base64:
they are counted decoded, as DynamoDB counts them). Sizes follow DynamoDB's published rules:

- item size = sum over attributes of name bytes + value bytes (strings UTF-8,
  numbers ~ 1 byte per 2 digits + 1, maps/lists 3 bytes + their elements);
- write: 1 WRU per started KB of the item (after the write; updates are
  measured by reading the item back outside the count), transactional writes
  x2, and each global index holding the item one more write of its size;
- read: 1 RRU per started 4 KB for a strongly consistent read, half for an
  eventually consistent one; a Query or BatchGet sums the items returned.
"""

from __future__ import annotations

import base64
import math
import time
from collections import Counter
from typing import Any

import botocore.client

from chalicelib.data.wire import DynamoWire

_GSI_KEYS = ("gsi1pk", "gsi2pk")
_KEYS_ONLY_GSI_KEYS = ("duepk",)  # the due index projects keys only: 1 WRU an entry


def attribute_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return len(str(inner).lstrip("-").replace(".", "")) // 2 + 2
    if kind == "B":
        return len(inner)
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in inner)
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(len(n) // 2 + 2 for n in inner)
    return 0


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(item: dict[str, Any], transactional: bool = False) -> float:
    size = item_size(item)
    base = max(1, math.ceil(size / 1024))
    indexes = sum(1 for key in _GSI_KEYS if key in item)
    keys_only = sum(1 for key in _KEYS_ONLY_GSI_KEYS if key in item)
    return base * (2 if transactional else 1) + indexes * base + keys_only


def read_units(items: list[dict[str, Any]], consistent: bool) -> float:
    total = sum(item_size(i) for i in items)
    units = max(1, math.ceil(total / 4096))
    return units if consistent else units / 2


class DynamoMeter:
    """Wraps every botocore client; ``counting`` switches the count on and off."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.other_requests: Counter[str] = Counter()
        self.wru = 0.0
        self.rru = 0.0
        self.bytes_written = 0
        self.counting = False
        # this thread's CPU spent counting (sizes, read-backs): a bench takes it off the
        # CPU it measures, which is the code under test's
        self.cpu_s = 0.0
        self._original = botocore.client.BaseClient._make_api_call
        self._original_wire = DynamoWire.call

    def install(self) -> None:
        meter = self
        original = self._original

        def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
            response = original(client, operation, params)
            if meter.counting:
                c0 = time.thread_time()
                service = client.meta.service_model.service_name
                if service == "dynamodb":
                    meter.requests[operation] += 1
                    meter._account(client, operation, params, response)
                else:
                    meter.other_requests[f"{service}.{operation}"] += 1
                meter.cpu_s += time.thread_time() - c0
            return response

        botocore.client.BaseClient._make_api_call = counted
        original_wire = self._original_wire

        def counted_wire(wire: DynamoWire, operation: str, params: Any) -> dict[str, Any]:
            response = original_wire(wire, operation, params)
            if meter.counting:
                c0 = time.thread_time()
                meter.requests[operation] += 1
                meter._account(wire, operation, _decoded(params), _decoded(response))
                meter.cpu_s += time.thread_time() - c0
            return response

        DynamoWire.call = counted_wire  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        botocore.client.BaseClient._make_api_call = self._original
        DynamoWire.call = self._original_wire  # type: ignore[method-assign]

    def reset(self) -> None:
        self.requests.clear()
        self.other_requests.clear()
        self.wru = self.rru = 0.0
        self.bytes_written = 0

    # --- accounting ---

    def _read_back(self, client: Any, table: str, key: dict[str, Any]) -> dict[str, Any]:
        request = {"TableName": table, "Key": key}
        if isinstance(client, DynamoWire):
            response = _decoded(self._original_wire(client, "GetItem", request))
        else:
            response = self._original(client, "GetItem", request)
        return dict(response.get("Item") or key)

    def _write(self, item: dict[str, Any], transactional: bool) -> None:
        self.wru += write_units(item, transactional)
        self.bytes_written += item_size(item)

    def _account(
        self, client: Any, operation: str, params: dict[str, Any], response: dict[str, Any]
    ) -> None:
        if operation == "PutItem":
            self._write(params["Item"], False)
        elif operation == "UpdateItem":
            self._write(self._read_back(client, params["TableName"], params["Key"]), False)
        elif operation == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for request in requests:
                    if "PutRequest" in request:
                        self._write(request["PutRequest"]["Item"], False)
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                if "Put" in entry:
                    self._write(entry["Put"]["Item"], True)
                elif "Update" in entry:
                    update = entry["Update"]
                    self._write(self._read_back(client, update["TableName"], update["Key"]), True)
        elif operation == "GetItem":
            item = response.get("Item")
            self.rru += read_units([item] if item else [], bool(params.get("ConsistentRead")))
        elif operation == "Query":
            self.rru += read_units(response.get("Items", []), bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table, found in response.get("Responses", {}).items():
                consistent = bool(params["RequestItems"][table].get("ConsistentRead"))
                for item in found:
                    self.rru += read_units([item], consistent)


def _decoded(message: Any) -> Any:
    """A wire request or answer with its items' binary values as bytes (botocore's form)."""
    if isinstance(message, dict):
        if set(message) == {"B"} and isinstance(message["B"], str):
            return {"B": base64.b64decode(message["B"])}
        return {k: _decoded(v) for k, v in message.items()}
    if isinstance(message, list):
        return [_decoded(v) for v in message]
    return message
