"""TOTP (an authenticator app) at sign-in: optional for staff, required for company admins
(issue 16: "no MFA"). The stand-in checks codes as Cognito does."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator

import pytest
from chalice.test import Client
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from app import app
from chalicelib.routing.web_settings import WebSettings
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack
from tests.functional.portal.browser_client import Browser, text

from .accounts import PASSWORD, new_login

pytestmark = pytest.mark.functional

HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        yield c


def _code(secret: str) -> str:
    if time.time() % 30 > 27:  # not at the edge of a 30-second step
        time.sleep(4)
    padded = secret + "=" * (-len(secret) % 8)
    key = base64.b32decode(padded, casefold=True)
    return TOTP(key, 6, SHA1(), 30, enforce_key_length=False).generate(time.time()).decode()


def _fields(response: object) -> dict[str, str]:
    return dict(HIDDEN.findall(text(response)))


def _sign_in(browser: Browser, email: str, **extra: str) -> object:
    csrf = browser.csrf_of("/signin")
    return browser.post("/signin", {"email": email, "password": PASSWORD, **extra}, csrf=csrf)


def test_staff_may_set_up_an_authenticator_and_then_need_its_code(
    client: Client, standin: LocalStack
) -> None:
    email = new_login(standin, "landlord")
    browser = Browser(client)
    # WHEN a landlord asks for two-step sign-in
    setup = _sign_in(browser, email, setup_mfa="yes")
    # THEN they get the authenticator's setup key, and no session yet
    assert setup.status_code == 200 and 'id="totp-secret"' in text(setup)
    assert "pl_session" not in browser.cookies
    fields = _fields(setup)
    wrong = browser.post("/signin/mfa-setup", {**fields, "code": "000000"})
    assert wrong.status_code == 400
    done = browser.post("/signin/mfa-setup", {**_fields(wrong), "code": _code(fields["secret"])})
    assert done.status_code == 303 and done.headers["location"] == "/signin?mfa=1"
    # AND from then on the password alone opens nothing: a code is asked for
    challenge = _sign_in(Browser(client), email)
    assert challenge.status_code == 200 and 'name="code"' in text(challenge)
    second = Browser(client)
    asked = _sign_in(second, email)
    refused = second.post("/signin/mfa", {**_fields(asked), "code": "123456"})
    assert refused.status_code == 401 and "pl_session" not in second.cookies
    signed_in = second.post("/signin/mfa", {**_fields(refused), "code": _code(fields["secret"])})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/portal"
    assert second.get("/portal").status_code == 200


def test_a_company_admin_gets_no_session_without_an_authenticator(
    client: Client, standin: LocalStack, services: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the rule of every deployed stage (the local demo's logins have no authenticator)
    monkeypatch.setattr(WebSettings, "admins_need_mfa", property(lambda _: True))
    email = new_login(standin, "company_admin")
    browser = Browser(client)
    setup = _sign_in(browser, email)
    assert setup.status_code == 200 and "Company administrators sign in with" in text(setup)
    assert "pl_session" not in browser.cookies
    assert browser.get("/portal").status_code == 303  # still signed out
    # a landlord is not asked
    assert _sign_in(Browser(client), new_login(standin, "landlord")).status_code == 303
