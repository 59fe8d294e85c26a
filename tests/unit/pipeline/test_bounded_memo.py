"""The per-container memo ingest keeps between messages (pipeline/memo.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.pipeline import context, settle_due, settler, telemetry, telemetry_check
from chalicelib.pipeline.memo import BoundedMemo


def test_a_miss_past_the_cap_empties_the_memo_then_keeps_the_new_key() -> None:
    # GIVEN a memo of two entries, full
    memo: BoundedMemo[str, int] = BoundedMemo(2)
    memo.remember("a", 1)
    memo.remember("b", 2)
    # WHEN a third key is remembered
    assert memo.remember("c", 3) == 3
    # THEN only the new key is left
    assert dict(memo) == {"c": 3}


def test_remembering_a_key_it_holds_when_full_keeps_the_others() -> None:
    memo: BoundedMemo[str, int] = BoundedMemo(2)
    memo.remember("a", 1)
    memo.remember("b", 2)
    memo.remember("a", 10)
    assert dict(memo) == {"a": 10, "b": 2}


@given(st.integers(min_value=1, max_value=8), st.lists(st.integers(0, 20), max_size=60))
def test_it_never_holds_more_than_its_cap_and_always_holds_the_last_key(
    cap: int, keys: list[int]
) -> None:
    memo: BoundedMemo[int, int] = BoundedMemo(cap)
    for key in keys:
        found = memo.get(key)
        value = found if found is not None else memo.remember(key, key * 2)
        assert value == key * 2
        assert len(memo) <= cap
        assert memo[key] == key * 2


def test_a_memo_of_no_entries_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one entry"):
        BoundedMemo(0)


def test_ingest_memos_are_bounded_at_their_caps() -> None:
    # The memos ingest keeps per container are all bounded (a container lives for
    # hours and would otherwise grow with every bus and cursor it meets).
    memos = [
        (settler._CURSORS, settler.MAX_CACHED_CURSORS),
        (settler._TEXTS, settler.MAX_CACHED_CURSORS),
        (settler._INSTANTS, settler.MAX_CACHED_CURSORS),
        (settler._UNMARKED, settler.MAX_CACHED_CURSORS),
        (context._TIMELINES, context.MAX_CACHED_TIMELINES),
        (context._CYCLES, context.MAX_CACHED_TIMELINES),
        (settle_due._DIGESTS, settle_due.MAX_CACHED_DIGESTS),
        (telemetry._OFFSETS, telemetry._MAX_OFFSETS),
        (telemetry._EXPORTS, 4096),
        (telemetry_check._SHAPES, 256),
    ]
    for memo, cap in memos:
        assert isinstance(memo, BoundedMemo)
        assert memo.cap == cap
