"""The idempotency records of reseller creates: Powertools Idempotency through the real
persistence layer (``data/reseller_idempotency.py``), against the stand-in's DynamoDB."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from chalicelib.data import keys
from chalicelib.data.reseller_idempotency import (
    ANSWER_ATTR,
    LEASE_ATTR,
    REQUEST_HASH_ATTR,
    STATUS_ATTR,
    WITHHELD,
    ResellerIdempotency,
)
from chalicelib.wiring.container import Container

pytestmark = pytest.mark.functional

TTL_S = 90 * 86_400
REQUEST_A = {"method": "POST", "path": "/v1/reseller/companies", "body": {"company_id": "a"}}
REQUEST_B = {"method": "POST", "path": "/v1/reseller/companies", "body": {"company_id": "b"}}


class Killed(BaseException):
    """What a Lambda time-out looks like to the record: the create never returns
    and nothing runs after it (Powertools cleans up after an ``Exception`` only)."""


def _store(services: Container, **kw: Any) -> ResellerIdempotency:
    settings = services.settings
    return ResellerIdempotency(settings.table_name, settings.region, TTL_S, **kw)


def _records(services: Container, reseller_id: str) -> list[dict[str, Any]]:
    """The reseller's idempotency partition, as DynamoDB holds it (a Query, never a Scan)."""
    client = boto3.client("dynamodb", region_name=services.settings.region)
    answer = client.query(
        TableName=services.settings.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.idempotency_pk(reseller_id)}},
        ConsistentRead=True,
    )
    return list(answer["Items"])


def _counting(calls: list[str], body: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    def create() -> dict[str, Any]:
        calls.append("ran")
        return body

    return create


def test_a_create_runs_once_and_a_replay_gets_the_stored_answer(services: Container) -> None:
    store, reseller, key, calls = _store(services), f"rs-{uuid.uuid4().hex[:8]}", "k-1", []
    first_body = {"gateway_id": "gw-1", "private_key": "-----BEGIN KEY-----"}
    # GIVEN a create that answered once (the first caller sees the secret)
    first = store.run(
        reseller, key, REQUEST_A, _counting(calls, first_body), withheld=("private_key",)
    )
    assert (first.body, first.replayed) == (first_body, False)
    # WHEN the same request comes again
    replay = store.run(reseller, key, REQUEST_A, _counting(calls, {}), withheld=("private_key",))
    # THEN it did not run again and got the stored answer, the secret withheld
    assert calls == ["ran"]
    assert replay.replayed
    assert replay.body == {"gateway_id": "gw-1", "private_key": WITHHELD}
    # AND the record sits in the reseller's partition under Powertools' names, with a TTL
    (item,) = _records(services, reseller)
    assert item["pk"] == {"S": f"RS#{reseller}#IDEM"}
    key_sha256 = hashlib.sha256(json.dumps(key).encode()).hexdigest()
    assert item["sk"] == {"S": f"{keys.IDEMPOTENCY_SK_PREFIX}#{key_sha256}"}
    assert set(item) == {"pk", "sk", "ttl", STATUS_ATTR, ANSWER_ATTR, REQUEST_HASH_ATTR, LEASE_ATTR}
    assert item[STATUS_ATTR] == {"S": "COMPLETED"}
    assert json.loads(item[ANSWER_ATTR]["S"])["private_key"] == WITHHELD
    assert abs(int(item["ttl"]["N"]) - (int(time.time()) + TTL_S)) < 60


def test_a_claim_is_exclusive_while_its_create_runs(services: Container) -> None:
    store, reseller, key = _store(services), f"rs-{uuid.uuid4().hex[:8]}", "k-running"
    seen: list[type[BaseException]] = []

    def create() -> dict[str, Any]:
        # WHEN a retry (same request) and a clash (another body) arrive meanwhile
        for request in (REQUEST_A, REQUEST_B):
            with pytest.raises(BaseException) as caught:
                store.run(reseller, key, request, _counting([], {}))
            seen.append(caught.type)
        return {"ok": True}

    # GIVEN a create that is still running
    assert store.run(reseller, key, REQUEST_A, create).body == {"ok": True}
    # THEN the retry is told it is in progress, the clash that its body differs
    assert seen == [IdempotencyAlreadyInProgressError, IdempotencyValidationError]


def test_the_same_key_with_another_request_is_refused(services: Container) -> None:
    store, reseller, key, calls = _store(services), f"rs-{uuid.uuid4().hex[:8]}", "k-x", []
    store.run(reseller, key, REQUEST_A, _counting(calls, {"company_id": "a"}))
    # WHEN the key comes back with another body, or the same body on another route
    other_route = {**REQUEST_A, "path": "/v1/reseller/keys"}
    for request in (REQUEST_B, other_route):
        with pytest.raises(IdempotencyValidationError):
            store.run(reseller, key, request, _counting(calls, {"company_id": "b"}))
    # THEN nothing else ran; key order in the body does not make another request
    reordered = {"body": REQUEST_A["body"], "path": REQUEST_A["path"], "method": "POST"}
    assert store.run(reseller, key, reordered, _counting(calls, {})).replayed
    assert calls == ["ran"]


def test_a_failed_create_leaves_no_record_and_can_be_retried(services: Container) -> None:
    store, reseller, key = _store(services), f"rs-{uuid.uuid4().hex[:8]}", "k-fail"

    def failing() -> dict[str, Any]:
        raise ValueError("the domain belongs to another company")

    # GIVEN a create that failed
    with pytest.raises(ValueError):
        store.run(reseller, key, REQUEST_A, failing)
    # THEN Powertools deleted its claim
    assert _records(services, reseller) == []
    # AND a retry, even with a corrected body, runs
    retry = store.run(reseller, key, REQUEST_B, _counting([], {"company_id": "b"}))
    assert (retry.body, retry.replayed) == ({"company_id": "b"}, False)


def test_another_resellers_same_key_is_independent(services: Container) -> None:
    store, key = _store(services), "k-shared"
    mine, theirs = f"rs-{uuid.uuid4().hex[:8]}", f"rs-{uuid.uuid4().hex[:8]}"
    store.run(mine, key, REQUEST_A, _counting([], {"company_id": "a"}))
    # WHEN another reseller uses the same key, with another body
    other = store.run(theirs, key, REQUEST_B, _counting([], {"company_id": "b"}))
    # THEN it runs its own create: no mismatch, no replay of the first reseller's answer
    assert (other.body, other.replayed) == ({"company_id": "b"}, False)
    assert len(_records(services, mine)) == len(_records(services, theirs)) == 1


def test_an_abandoned_claim_holds_only_for_its_lease(services: Container) -> None:
    store, reseller, key = _store(services, lease_s=1), f"rs-{uuid.uuid4().hex[:8]}", "k-killed"

    def killed() -> dict[str, Any]:
        raise Killed

    # GIVEN a create killed mid-way (its claim stays in progress, with a lease)
    with pytest.raises(Killed):
        store.run(reseller, key, REQUEST_A, killed)
    (item,) = _records(services, reseller)
    assert item[STATUS_ATTR] == {"S": "INPROGRESS"}
    # WHEN the client retries at once THEN the claim still holds
    with pytest.raises(IdempotencyAlreadyInProgressError):
        store.run(reseller, key, REQUEST_A, _counting([], {}))
    # WHEN it retries after the lease THEN the retry takes the claim over and runs
    time.sleep(1.2)
    retried = store.run(reseller, key, REQUEST_A, _counting([], {"ok": True}))
    assert (retried.body, retried.replayed) == ({"ok": True}, False)


def test_an_expired_record_no_longer_replays(services: Container) -> None:
    store, reseller, key, calls = _store(services), f"rs-{uuid.uuid4().hex[:8]}", "k-old", []
    store.run(reseller, key, REQUEST_A, _counting(calls, {"n": 1}))
    # GIVEN the record's TTL has passed (DynamoDB deletes it up to days later)
    (item,) = _records(services, reseller)
    boto3.client("dynamodb", region_name=services.settings.region).update_item(
        TableName=services.settings.table_name,
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="SET #ttl = :past",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    # WHEN the key comes again THEN the create runs again, as if the key were new
    again = store.run(reseller, key, REQUEST_B, _counting(calls, {"n": 2}))
    assert (again.body, again.replayed, calls) == ({"n": 2}, False, ["ran", "ran"])


def test_the_boto3_session_is_injected(services: Container) -> None:
    # GIVEN a session of the caller's with a hook on every DynamoDB call
    session = boto3.session.Session(region_name=services.settings.region)
    operations: list[str] = []
    session.events.register(
        "before-call.dynamodb", lambda model, **_: operations.append(model.name)
    )
    store = _store(services, boto3_session=session)
    # WHEN a create runs and is replayed
    reseller = f"rs-{uuid.uuid4().hex[:8]}"
    store.run(reseller, "k-inj", REQUEST_A, _counting([], {"ok": True}))
    store.run(reseller, "k-inj", REQUEST_A, _counting([], {}))
    # THEN every call went through that session's clients: a claim, the answer, and
    # a replay answered from the failed claim itself (no second read)
    assert operations == ["PutItem", "UpdateItem", "PutItem"]
