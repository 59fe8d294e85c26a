"""Make moto's DynamoDB cost what DynamoDB's does: the items touched, not the table.

Two places where moto 5's cost grows with the whole table, so that over a simulated
month the stand-in, not the code under test, set the soak's pace (docs/reliability.md):

**Query.** moto 5's ``Table.query`` starts from ``all_items()``, which lists and *sorts every
item of the table*, then keeps the partition it wants. Over a simulated month (one
cycle and four usage items per gateway-hour, ledger entries, readings) a single
Query costs tens of milliseconds and grows with the table, so the soak's stand-in,
not the code under test, set its pace (docs/reliability.md).

The patch changes only where the candidates come from, never which items match:
a Query on the table itself takes its candidates from its own partition (moto keeps
``items[hash_key][range_key]``), and a Query on an index takes them unsorted (moto
sorts the index's candidates itself afterwards). Scans and everything else still see
``all_items()`` as moto wrote it.

**TransactWriteItems.** moto deep-copies every table a transaction names, before it
starts, to roll back if it is cancelled: the whole table, for a two-item ledger
append. The patch copies the items the transaction names instead and puts exactly
those back on a cancellation (a transaction writes nothing else, and the stand-in
serialises DynamoDB requests, so nobody else wrote in between).

``tests/infra/test_moto_speedups.py`` checks both answer exactly as moto does.
"""

from __future__ import annotations

import copy
import inspect
import threading
from collections.abc import Callable
from typing import Any

_HINT = threading.local()
_PARTITION = "partition"
_UNSORTED = "unsorted"


def speed_up_moto() -> Callable[[], None]:
    """Patch moto's DynamoDB (once); returns the undo, for tests that compare."""
    undo_queries = _index_table_queries()
    undo_transactions = _snapshot_transaction_items()

    def undo() -> None:
        undo_queries()
        undo_transactions()

    return undo


def _index_table_queries() -> Callable[[], None]:
    from moto.dynamodb.comparisons import get_comparison_func
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_powerlet_indexed", False):
        return lambda: None
    original_query = Table.query
    original_all_items = Table.all_items
    signature = inspect.signature(original_query)

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # moto passes index_name by position or by keyword, depending on the caller
        bound = signature.bind(self, hash_key, *args, **kwargs)
        args_ = bound.arguments
        indexed = bool(args_.get("index_name"))
        _HINT.mode = _UNSORTED if indexed else _PARTITION
        _HINT.hash_key = hash_key
        _HINT.range_test = None
        conditions = args_.get("range_key_conditions")
        on_sort_key = not conditions or conditions[-1][0] == self.range_key_attr
        if not indexed and args_.get("range_comparison") and on_sort_key:
            # moto's own comparison, applied before its per-item size bookkeeping
            # instead of after it: the items it drops could never have matched
            test = get_comparison_func(args_["range_comparison"])
            values = [obj.cast_value for obj in args_["range_objs"]]
            _HINT.range_test = lambda item: test(item.range_key.cast_value, *values)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _HINT.mode = None

    def all_items(self: Any) -> list[Any]:
        mode = getattr(_HINT, "mode", None)
        if mode is None or not self.range_key_attr:
            return original_all_items(self)
        _HINT.mode = None  # one use per query: nested calls see moto's own behaviour
        if mode == _PARTITION:
            partition = self.items.get(_HINT.hash_key, {}).values()
            range_test = _HINT.range_test
            if range_test is None:
                return list(partition)
            return [item for item in partition if range_test(item)]
        return [item for partition in self.items.values() for item in partition.values()]

    def undo() -> None:
        Table.query = original_query  # type: ignore[method-assign]
        Table.all_items = original_all_items  # type: ignore[method-assign]

    query._powerlet_indexed = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    return undo


def _snapshot_transaction_items() -> Callable[[], None]:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend.transact_write_items, "_powerlet_snapshot", False):
        return lambda: None
    original_transact = DynamoDBBackend.transact_write_items
    had_deepcopy = "__deepcopy__" in Table.__dict__

    def table_deepcopy(self: Any, memo: dict[int, Any]) -> Any:
        if getattr(_HINT, "sharing", False):
            return self  # moto's whole-table backup: the item snapshot below replaces it
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            setattr(clone, name, copy.deepcopy(value, memo))
        return clone

    def touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[Any]:
        snapshot = []
        for entry in transact_items:
            try:
                _, op = next(iter(entry.items()))
                table = backend.tables[op["TableName"]]
                key = op.get("Key") or op["Item"]
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            except (KeyError, StopIteration, AttributeError, TypeError):
                continue  # moto refuses it itself, before writing anything
            partition = table.items.get(hash_key)
            current = None
            if partition is not None:
                current = partition.get(range_key) if range_key is not None else partition
            snapshot.append((table, hash_key, range_key, copy.deepcopy(current)))
        return snapshot

    def restore(snapshot: list[Any]) -> None:
        for table, hash_key, range_key, item in reversed(snapshot):
            if range_key is None:
                if item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
            elif item is None:
                table.items.get(hash_key, {}).pop(range_key, None)
            else:
                table.items[hash_key][range_key] = item

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshot = touched(self, transact_items)
        _HINT.sharing = True
        try:
            original_transact(self, transact_items)
        except BaseException:
            restore(snapshot)
            raise
        finally:
            _HINT.sharing = False

    def undo() -> None:
        DynamoDBBackend.transact_write_items = original_transact  # type: ignore[method-assign]
        if not had_deepcopy:
            del Table.__deepcopy__  # type: ignore[attr-defined]

    transact_write_items._powerlet_snapshot = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.__deepcopy__ = table_deepcopy  # type: ignore[attr-defined]
    return undo
