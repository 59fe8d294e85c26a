"""Retry waits of contended writes: random, growing, bounded."""

from __future__ import annotations

from chalicelib.data.backoff import BASE_WAIT_S, MAX_WAIT_S, backoff


def test_waits_grow_with_the_attempt_and_stay_bounded() -> None:
    for attempt in range(12):
        waits: list[float] = []
        for _ in range(200):
            backoff(attempt, sleep=waits.append)
        cap = min(MAX_WAIT_S, BASE_WAIT_S * 2**attempt)
        assert all(0 <= w <= cap for w in waits)
        assert max(waits) > cap / 2  # spread over the range, not a fixed pause
