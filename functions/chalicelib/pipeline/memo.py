"""A bounded per-container memo: what ingest keeps between messages a container serves.

A Lambda container lives for hours and meets a bus's meters again within a settlement
period, so a few facts worked out from stored text (a cursor's instant, a kWh text, a
tariff timeline, a due mark's digest) are worth keeping (issue 19, CPU). The memo is a
plain ``dict`` so a hit costs one C-level ``get``; a miss goes through ``remember``,
which empties the memo when it is full instead of tracking recency: the keys are cheap
to work out again and an LRU's bookkeeping on every hit costs more than the rare refill.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedMemo(dict[K, V]):
    """A ``dict`` of at most ``cap`` entries, emptied when a new key would exceed it."""

    __slots__ = ("cap",)

    def __init__(self, cap: int) -> None:
        if cap < 1:
            raise ValueError(f"a memo holds at least one entry, not {cap}")
        super().__init__()
        self.cap = cap

    def remember(self, key: K, value: V) -> V:
        """Keep ``value`` for ``key`` (emptying the memo first when it is full); returns
        ``value`` so a miss reads ``found = memo.remember(key, make())``."""
        if len(self) >= self.cap and key not in self:
            self.clear()
        self[key] = value
        return value
