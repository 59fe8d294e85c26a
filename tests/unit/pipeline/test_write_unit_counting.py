"""The bench's write-unit arithmetic follows DynamoDB's published rules."""

from __future__ import annotations

from bench.support.dynamo_meter import item_size, read_units, write_units


def test_item_size_counts_names_and_values() -> None:
    # GIVEN an item of a string, a number, a binary and a map
    item = {
        "pk": {"S": "CO#a"},
        "n": {"N": "1234"},
        "b": {"B": b"\x00" * 10},
        "m": {"M": {"k": {"S": "vv"}}},
    }
    # THEN its size is names + values (numbers ~1 byte per 2 digits + 1, maps 3 + contents)
    assert item_size(item) == (2 + 4) + (1 + 4) + (1 + 10) + (1 + 3 + 1 + 2)


def test_write_units_round_up_per_kb_double_in_transactions_and_add_indexes() -> None:
    small = {"pk": {"S": "x" * 100}}
    big = {"pk": {"S": "x" * 1500}, "gsi1pk": {"S": "i"}}
    assert write_units(small) == 1
    assert write_units(small, transactional=True) == 2
    assert write_units(big) == 2 + 2  # 2 KB item, and once more for the index
    assert read_units([big], consistent=False) == 0.5
