"""Failed reseller API key checks are rate limited per source address (issue 16: "reseller
key guessing is not throttled")."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from chalice.local import LambdaEventConverter
from chalice.test import Client

from app import app
from chalicelib.data import builders
from chalicelib.data.reseller_store import ApiKeyStore
from chalicelib.wiring.container import Container

pytestmark = pytest.mark.functional

PATH = "/v1/reseller/companies"


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        yield c


def _from(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)


def _get(client: Client, key: str) -> int:
    answer = client.http.get(PATH, headers={"Authorization": f"Bearer {key}"})
    return int(answer.status_code)


def test_a_source_guessing_keys_is_stopped_and_others_are_not(
    client: Client, services: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = services.reseller_settings.failed_key_checks_per_source
    reseller = f"rs-guess-{uuid.uuid4().hex[:6]}"
    builders.reseller(reseller, "Guess Resale").save()
    real = ApiKeyStore().issue(reseller, datetime.now(UTC)).secret
    key_id = real.split("_")[1]
    # GIVEN a source guessing the secret of a real key id
    _from(monkeypatch, f"198.51.100.{uuid.uuid4().int % 250}")
    guesses = [_get(client, f"plr_{key_id}_{secrets.token_urlsafe(24)}") for _ in range(limit)]
    # THEN each guess within the budget is refused as a bad key
    assert set(guesses) == {403}
    # AND past the budget the source is answered 429, with when to come back
    guess = f"plr_{key_id}_{secrets.token_urlsafe(24)}"
    answer = client.http.get(PATH, headers={"Authorization": f"Bearer {guess}"})
    assert answer.status_code == 429
    assert 0 < int(answer.headers["Retry-After"]) <= services.reseller_settings.failed_key_window_s
    # AND the real key works, from another address and from this one (valid keys cost
    # nothing and are never counted)
    assert _get(client, real) == 200
    _from(monkeypatch, f"203.0.113.{uuid.uuid4().int % 250}")
    assert _get(client, real) == 200
    assert _get(client, guess) == 403
    # AND what is not a key at all (a user's token) costs no read and is not counted
    _from(monkeypatch, f"192.0.2.{uuid.uuid4().int % 250}")
    assert {_get(client, "not-a-key") for _ in range(limit + 1)} == {403}
