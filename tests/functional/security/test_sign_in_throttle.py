"""The sign-in throttle holds under parallel attempts, and cannot be sidestepped.

Issue 16 found twelve parallel wrong passwords all reaching Cognito against a limit of
five (the check read the count, the failure was added later). The throttle now reserves
each attempt with one conditional write before Cognito is asked."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from chalice.test import Client

from app import app
from chalicelib.application.sign_in_throttle import SignInThrottle, is_username
from chalicelib.auth.errors import SignInThrottledError
from chalicelib.data.throttle import SignInThrottleStore
from chalicelib.data.trusted_devices import TrustedDevices
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack
from tests.functional.portal.browser_client import Browser

from .accounts import PASSWORD, new_login

pytestmark = pytest.mark.functional

LIMIT = 5
PARALLEL = 12


def _throttle() -> SignInThrottle:
    return SignInThrottle(SignInThrottleStore(900), max_per_account=LIMIT, max_per_client=50)


def _attempt(throttle: SignInThrottle, email: str, client: str, now: datetime) -> bool:
    try:
        throttle.reserve(email, client, now)
    except SignInThrottledError:
        return False
    return True


def test_parallel_attempts_never_exceed_the_limit(services: Container) -> None:
    # GIVEN an account nobody has tried yet, and twelve attempts at once from twelve clients
    throttle, email, now = (
        _throttle(),
        f"race-{uuid.uuid4().hex[:8]}@example.com",
        datetime.now(UTC),
    )
    clients = [f"203.0.113.{n}" for n in range(PARALLEL)]
    # WHEN they race
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        admitted = list(pool.map(lambda c: _attempt(throttle, email, c, now), clients))
    # THEN exactly the limit reached the point of asking Cognito
    assert sum(admitted) == LIMIT
    # and the clients the account refused kept their budget (a refused attempt never ran)
    refused_client = clients[admitted.index(False)]
    other = f"other-{uuid.uuid4().hex[:8]}@example.com"
    assert _attempt(throttle, other, refused_client, now)


def test_a_success_clears_the_account_and_returns_the_clients_attempt(
    services: Container,
) -> None:
    throttle, now = _throttle(), datetime.now(UTC)
    email, client = f"ok-{uuid.uuid4().hex[:8]}@example.com", f"198.51.100.{uuid.uuid4().int % 250}"
    for _ in range(LIMIT - 1):
        assert _attempt(throttle, email, client, now)
    # WHEN the right password comes within the limit
    assert _attempt(throttle, email, client, now)
    throttle.succeeded(email, client, now)
    # THEN the account has its whole budget again
    assert all(_attempt(throttle, email, client, now) for _ in range(LIMIT))
    assert not _attempt(throttle, email, client, now)


def test_the_account_is_the_normalised_address() -> None:
    # Cognito also accepts the sub as a username: the screens refuse anything else,
    # so a second spelling of the same person cannot open a fresh counter.
    assert is_username("Admin@Formosa.example")
    assert not is_username("3f1c9a2e-5b7d-4e8a-9c0b-1d2e3f4a5b6c")
    assert not is_username("")
    assert not is_username("a@b@c")


# --- the owner, the building, the canonical user (issue 16's remaining throttle findings) ---


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        yield c


def test_the_owner_is_not_locked_out_by_someone_elses_failures(
    client: Client, standin: LocalStack
) -> None:
    # GIVEN the owner has signed in on their own browser before
    email = new_login(standin)
    owner = Browser(client)
    assert owner.sign_in(email, PASSWORD).status_code == 303
    owner.post("/signout", {}, csrf=owner.csrf_of("/portal"))
    # WHEN someone else spends the account's whole budget on wrong passwords
    attacker = Browser(client)
    for _ in range(5):
        assert attacker.sign_in(email, "Wrong-password-9!").status_code == 401
    assert attacker.sign_in(email, PASSWORD).status_code == 429  # locked out: the attacker
    # THEN the owner still signs in on their own browser
    assert owner.sign_in(email, PASSWORD).status_code == 303


def test_a_busy_address_cannot_lock_out_the_browsers_that_signed_in_before(
    services: Container,
) -> None:
    """A building behind one NAT address: the address's limit is soft."""
    devices = TrustedDevices(3600)
    throttle = SignInThrottle(SignInThrottleStore(900), 5, max_per_client=3, devices=devices)
    now, building = datetime.now(UTC), f"192.0.2.{uuid.uuid4().int % 250}"
    resident = f"sub:{uuid.uuid4()}"
    # GIVEN a resident's browser signed in once
    throttle.reserve(resident, building, now)
    cookie = throttle.succeeded(resident, building, now)
    assert cookie is not None
    # WHEN someone in the building spends the address's budget on other accounts
    for n in range(3):
        assert _attempt(throttle, f"sub:victim-{n}-{uuid.uuid4()}", building, now)
    assert not _attempt(throttle, f"sub:{uuid.uuid4()}", building, now)  # new browsers wait
    # THEN the resident's browser is still admitted (its own budget), and only for them
    assert throttle.reserve(resident, building, now, device=cookie) is True
    assert not devices.trusts(cookie, f"sub:{uuid.uuid4()}", now)


def test_every_spelling_of_an_account_shares_one_budget(
    standin: LocalStack, services: Container
) -> None:
    email = new_login(standin)
    spellings = {services.sign_in.account_of(e) for e in (email, email.upper(), f" {email} ")}
    assert len(spellings) == 1 and next(iter(spellings)).startswith("sub:")
    assert services.sign_in.account_of("nobody@nowhere.example") == "email:nobody@nowhere.example"
