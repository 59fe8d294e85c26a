"""The idempotency records of reseller creates: Powertools Idempotency on the app's table.

A create runs once per (reseller, ``Idempotency-Key``). Powertools' DynamoDB
persistence layer does the work: a conditional PutItem claims the key (no record,
or the old one expired, or its in-progress lease ran out), with
``ReturnValuesOnConditionCheckFailure`` so a replay needs no second read; an
UpdateItem stores the answer; a DeleteItem releases the key when the create
raises, so a retry runs. This module only decides how the records sit in the
single table and what they hold (docs/data-model.md, docs/brands.md):

- ``pk`` is ``RS#<reseller>#IDEM`` (``keys.idempotency_pk``, Powertools'
  ``static_pk_value``) and ``sk`` is ``IDEM#<sha256 of the client's key>``: the
  reseller is part of every key, so one reseller never meets another's record.
- A claim holds for a fixed lease (``IN_PROGRESS_LEASE_S``), as Chalice routes
  give Powertools no Lambda context to time it by.
- The request fingerprint (method, concrete path, JSON body) is hashed with
  sha256 into ``idem_request_sha256``: the same key with another request raises
  Powertools' ``IdempotencyValidationError``.
- The stored answer has its secrets withheld (``_WithheldSecrets``); a replay
  comes back through the response hook, marked as one.
- Records expire on the table's TTL attribute ``ttl``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.idempotency.serialization.base import (
    BaseIdempotencySerializer,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import keys
from .models import TTL_ATTRIBUTE

# Powertools' own attributes, named so that no PynamoDB model of the table uses them
# (tests/unit/data/test_reseller_idempotency.py checks): neither kind of item can be
# read as the other.
STATUS_ATTR = "idem_status"
ANSWER_ATTR = "idem_answer"
REQUEST_HASH_ATTR = "idem_request_sha256"
LEASE_ATTR = "idem_lease_until_ms"
RECORD_ATTRIBUTES = (STATUS_ATTR, ANSWER_ATTR, REQUEST_HASH_ATTR, LEASE_ATTR)

# Without a Lambda context Powertools writes no in-progress expiry, and a Chalice
# route does not hand it one: a create killed by the function's time-out would hold
# its key until the record's TTL (90 days). So every claim gets a fixed lease instead,
# longer than the API function's time-out (28 s; tests/infra checks), so it never
# ends while the first attempt can still be running, and short enough that a retry
# after a time-out runs within a minute.
IN_PROGRESS_LEASE_S = 60
# Each reseller's layer has its own DynamoDB client (see ``_new_layer``); a warm
# container keeps this many (about 0.25 MB each).
MAX_CACHED_RESELLERS = 32
WITHHELD = "withheld: shown once"

_KEY_FIELD = "idempotency_key"
_REQUEST_FIELD = "request"


@dataclass(frozen=True)
class IdempotentAnswer:
    """The create's answer; ``replayed`` when it was read back from the table
    (its secrets then withheld)."""

    body: dict[str, Any]
    replayed: bool


@dataclass(frozen=True)
class _Replay:
    body: dict[str, Any]


class _InProgressLease(LambdaContext):
    """The one thing Powertools asks of a Lambda context: the time the claim may hold."""

    def __init__(self, lease_s: int) -> None:
        self._lease_ms = lease_s * 1000

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return self._lease_ms


class _WithheldSecrets(BaseIdempotencySerializer):
    """What is stored: the answer with its secrets replaced, so the first caller
    is the only one who ever sees them. A replay reads back what was stored."""

    def __init__(self, withheld: frozenset[str]) -> None:
        self._withheld = withheld

    def to_dict(self, data: Any) -> dict[str, Any]:
        return {k: (WITHHELD if k in self._withheld else v) for k, v in data.items()}

    def from_dict(self, data: dict[str, Any]) -> Any:
        return data


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> _Replay:
    """Powertools calls this only for an answer read back from the table."""
    return _Replay(dict(response or {}))


class ResellerIdempotency:
    """Runs a reseller's create once per idempotency key and replays its answer."""

    def __init__(
        self,
        table_name: str,
        region: str,
        ttl_s: int,
        *,
        boto3_session: boto3.session.Session | None = None,
        lease_s: int = IN_PROGRESS_LEASE_S,
    ) -> None:
        self._table_name = table_name
        self._session = boto3_session or boto3.session.Session(region_name=region)
        self._session_lock = threading.Lock()
        self._config = IdempotencyConfig(
            event_key_jmespath=_KEY_FIELD,
            payload_validation_jmespath=_REQUEST_FIELD,
            raise_on_no_idempotency_key=True,
            expires_after_seconds=ttl_s,
            hash_function="sha256",
            lambda_context=_InProgressLease(lease_s),
            response_hook=_mark_replayed,
        )
        self.layer_for = lru_cache(maxsize=MAX_CACHED_RESELLERS)(self._new_layer)

    def _new_layer(self, reseller_id: str) -> DynamoDBPersistenceLayer:
        # A layer per reseller, because the partition (``static_pk_value``) is fixed
        # per layer. Each gets a client of its own: Powertools registers a User-Agent
        # hook on the client it is given, once per layer, so layers sharing a client
        # would pile hooks onto it.
        with self._session_lock:  # a boto3 session is not thread-safe
            client = self._session.client("dynamodb")
        layer = DynamoDBPersistenceLayer(
            table_name=self._table_name,
            key_attr="pk",
            sort_key_attr="sk",
            static_pk_value=keys.idempotency_pk(reseller_id),
            expiry_attr=TTL_ATTRIBUTE,
            in_progress_expiry_attr=LEASE_ATTR,
            status_attr=STATUS_ATTR,
            data_attr=ANSWER_ATTR,
            validation_key_attr=REQUEST_HASH_ATTR,
            boto3_client=client,
        )
        # Powertools configures a layer on its first use and never again; doing it
        # here, before any request shares the layer, leaves no half-configured moment.
        layer.configure(self._config, key_prefix=keys.IDEMPOTENCY_SK_PREFIX)
        return layer

    def run(
        self,
        reseller_id: str,
        idempotency_key: str,
        request: Mapping[str, Any],
        create: Callable[[], dict[str, Any]],
        withheld: Iterable[str] = (),
    ) -> IdempotentAnswer:
        """Run ``create`` once for this key; a replay gets the stored answer.

        ``request`` is the fingerprint (JSON-serialisable) that must match on a
        replay. Raises Powertools' ``IdempotencyValidationError`` (same key, other
        request) and ``IdempotencyAlreadyInProgressError`` (the first still runs).
        """

        @idempotent_function(
            data_keyword_argument="claim",
            persistence_store=self.layer_for(reseller_id),
            config=self._config,
            output_serializer=_WithheldSecrets(frozenset(withheld)),
            key_prefix=keys.IDEMPOTENCY_SK_PREFIX,
        )
        def create_once(claim: dict[str, Any]) -> dict[str, Any]:
            return create()

        result = create_once(claim={_KEY_FIELD: idempotency_key, _REQUEST_FIELD: dict(request)})
        if isinstance(result, _Replay):
            return IdempotentAnswer(result.body, replayed=True)
        return IdempotentAnswer(result, replayed=False)
