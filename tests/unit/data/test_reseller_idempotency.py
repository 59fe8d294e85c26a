"""How the reseller creates' idempotency sits on the table: Powertools' settings, checked
without a network (the behaviour: tests/functional/white_label/test_idempotency_store.py)."""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import data as data_package
from chalicelib.data import keys
from chalicelib.data.binding import bind_models
from chalicelib.data.models import TTL_ATTRIBUTE, PowerletItem
from chalicelib.data.reseller_idempotency import (
    IN_PROGRESS_LEASE_S,
    RECORD_ATTRIBUTES,
    WITHHELD,
    ResellerIdempotency,
    _WithheldSecrets,
)
from chalicelib.wiring.container import Container
from chalicelib.wiring.settings import DEFAULT_REGION, Settings


def _model_attribute_names() -> set[str]:
    """Every attribute name (as stored) of every PynamoDB item class of the table."""
    for module in pkgutil.iter_modules(data_package.__path__):
        importlib.import_module(f"{data_package.__name__}.{module.name}")
    names: set[str] = set()
    pending: list[type[Any]] = [PowerletItem]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        names |= {attribute.attr_name for attribute in model.get_attributes().values()}
    return names


def test_powertools_attributes_cannot_collide_with_the_models() -> None:
    # GIVEN the names Powertools writes besides the table's keys and TTL
    # THEN no PynamoDB model stores anything under them
    assert not set(RECORD_ATTRIBUTES) & _model_attribute_names()
    # AND the keys and TTL are the table's own
    assert {"pk", "sk", TTL_ATTRIBUTE} <= _model_attribute_names()


@pytest.fixture
def container() -> Iterator[Container]:
    """A container for a table in a region (no AWS call is made); the models' binding
    is put back afterwards."""
    meta = PowerletItem.Meta
    region = getattr(meta, "region", None) or DEFAULT_REGION
    saved = Settings(table_name=meta.table_name, region=region)
    yield Container(Settings(table_name="powerlet-unit", region="eu-west-2"))
    bind_models(saved)


def test_the_container_builds_it_from_its_settings(container: Container) -> None:
    # GIVEN the container's idempotency store
    store = container.idempotency
    # WHEN a reseller's persistence layer is asked for
    layer = store.layer_for("rs-acme")
    # THEN it is on the models' table and region, in the reseller's partition, keyed pk/sk
    assert layer.table_name == "powerlet-unit" == PowerletItem.Meta.table_name
    assert layer.client.meta.region_name == "eu-west-2"
    assert (layer.key_attr, layer.sort_key_attr) == ("pk", "sk")
    assert layer.static_pk_value == keys.idempotency_pk("rs-acme")
    assert layer.expiry_attr == TTL_ATTRIBUTE
    # AND configured once, with the reseller settings' TTL and a sha256 request check
    assert layer.expires_after_seconds == 90 * 86_400
    assert layer.payload_validation_enabled and layer.hash_function is hashlib.sha256
    assert layer.function_name == keys.IDEMPOTENCY_SK_PREFIX
    # AND each reseller has its layer (and client), reused while the container is warm
    assert store.layer_for("rs-acme") is layer
    assert store.layer_for("rs-other").client is not layer.client


def test_a_claim_holds_for_the_lease_without_a_lambda_context() -> None:
    store = ResellerIdempotency("t", "eu-west-2", 86_400)
    context = store._config.lambda_context
    assert context is not None
    assert context.get_remaining_time_in_millis() == IN_PROGRESS_LEASE_S * 1000


def test_the_stored_answer_withholds_the_secrets() -> None:
    serializer = _WithheldSecrets(frozenset({"private_key"}))
    answer = {"gateway_id": "gw-1", "private_key": "-----BEGIN"}
    stored = serializer.to_dict(answer)
    assert stored == {"gateway_id": "gw-1", "private_key": WITHHELD}
    assert answer["private_key"] == "-----BEGIN"  # the first caller's answer is untouched
    assert serializer.from_dict(stored) == stored
