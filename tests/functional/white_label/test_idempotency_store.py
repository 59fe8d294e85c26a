"""The idempotency records of reseller creates, against the stand-in's DynamoDB."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.data.reseller_store import IN_PROGRESS_LEASE_S, IdempotencyStore
from chalicelib.wiring.container import Container

pytestmark = pytest.mark.functional

T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def test_a_claim_is_exclusive_until_it_is_answered_or_abandoned(services: Container) -> None:
    store = IdempotencyStore(ttl_s=90 * 86_400)
    key = uuid.uuid4().hex
    # GIVEN a first request that claimed the key
    assert store.claim("rs-idem", key, "hash-a", T0) is None
    # WHEN a retry arrives while it still runs THEN it sees the claim in progress
    running = store.claim("rs-idem", key, "hash-a", T0 + timedelta(seconds=20))
    assert running is not None and running.status == "in_progress"
    # WHEN another body arrives with the key, even late, THEN it sees the other request
    late_other = store.claim("rs-idem", key, "hash-b", T0 + timedelta(hours=1))
    assert late_other is not None and late_other.request_sha256 == "hash-a"
    # WHEN the same request retries after the lease THEN it takes the claim over, once
    after = T0 + timedelta(seconds=IN_PROGRESS_LEASE_S + 1)
    assert store.claim("rs-idem", key, "hash-a", after) is None
    assert store.claim("rs-idem", key, "hash-a", after) is not None
    # WHEN it is answered THEN every later claim gets the stored answer, with a TTL
    store.complete("rs-idem", key, 201, {"ok": True})
    done = store.claim("rs-idem", key, "hash-a", after + timedelta(days=1))
    assert done is not None and (done.status, done.response) == ("done", {"ok": True})
    assert done.expires_at == int(after.timestamp()) + 90 * 86_400


def test_a_released_claim_can_be_claimed_again(services: Container) -> None:
    store = IdempotencyStore(ttl_s=86_400)
    key = uuid.uuid4().hex
    assert store.claim("rs-idem", key, "hash-a", T0) is None
    store.release("rs-idem", key)
    assert store.claim("rs-idem", key, "hash-b", T0) is None
    # an answered record is never released by a late failure of a duplicate
    store.complete("rs-idem", key, 201, {"ok": True})
    store.release("rs-idem", key)
    kept = store.claim("rs-idem", key, "hash-b", T0)
    assert kept is not None and kept.status == "done"
