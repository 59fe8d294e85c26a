"""Sessions and tokens bound to the account's state (issue 16: "sessions outlive the
account"). A sign-out everywhere, a password reset or a removed membership ends every
portal session and every bearer token of the user on their very next request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.data.member_access import MemberAccess
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack
from tests.functional.portal.browser_client import Browser

from .accounts import PASSWORD, bearer_of, new_login

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        yield c


def _signed_in(client: Client, email: str) -> Browser:
    browser = Browser(client)
    assert browser.sign_in(email, PASSWORD).status_code == 303
    assert browser.get("/portal").status_code == 200
    return browser


def _next_second() -> None:
    """Cognito's ``auth_time`` has whole seconds: a token authenticated in the second of
    a revocation is refused (fail closed), so a fresh sign-in waits for the next one."""
    time.sleep(1.05 - time.time() % 1)


def _refused_to_sign_in(response: Any) -> bool:
    return bool(response.status_code == 303 and response.headers["location"] == "/signin")


def test_sign_out_everywhere_ends_every_session_and_token(
    client: Client, standin: LocalStack
) -> None:
    # GIVEN a user signed in on two devices and holding an API token
    email = new_login(standin)
    laptop, phone = _signed_in(client, email), _signed_in(client, email)
    token = bearer_of(standin, email)
    assert client.http.get("/v1/me", headers=token).status_code == 200
    # WHEN they sign out everywhere from the laptop
    csrf = laptop.csrf_of("/portal")
    assert _refused_to_sign_in(laptop.post("/signout/everywhere", {}, csrf=csrf))
    # THEN the phone's session ends on its next request
    assert _refused_to_sign_in(phone.get("/portal"))
    # AND so does the bearer token, with a clear 401
    refused = client.http.get("/v1/me", headers=token)
    assert refused.status_code == 401
    assert "session ended" in refused.json_body["detail"]
    # AND the user can sign in again (new sessions and tokens are valid)
    _next_second()
    assert _signed_in(client, email).get("/portal").status_code == 200
    assert client.http.get("/v1/me", headers=bearer_of(standin, email)).status_code == 200


def test_a_password_reset_ends_the_sessions_and_tokens_of_the_old_password(
    client: Client, standin: LocalStack, services: Container
) -> None:
    # GIVEN a user (or whoever stole their password) signed in with a token
    email = new_login(standin)
    old_session, token = _signed_in(client, email), bearer_of(standin, email)
    codes: list[str] = []
    services.cognito_client.meta.events.register(
        "after-call.cognito-idp.ForgotPassword",
        lambda http_response, **_: codes.append(
            http_response.headers.get("x-moto-forgot-password-confirmation-code", "")
        ),
    )
    # WHEN the owner resets the password through the forgotten-password screens
    resetter = Browser(client)
    sent = resetter.post(
        "/password/forgot", {"email": email}, csrf=resetter.csrf_of("/password/forgot")
    )
    csrf = resetter.csrf_of(sent.headers["location"])
    done = resetter.post(
        "/password/reset",
        {"email": email, "code": codes[-1], "new_password": "Fresh-password-2!"},
        csrf=csrf,
    )
    assert done.status_code == 303
    # THEN the old session and the old token are refused from the next request
    assert _refused_to_sign_in(old_session.get("/portal"))
    assert client.http.get("/v1/me", headers=token).status_code == 401


def test_removing_the_membership_ends_sessions_and_tokens(
    client: Client, standin: LocalStack, services: Container
) -> None:
    email = new_login(standin)
    browser, token = _signed_in(client, email), bearer_of(standin, email)
    me = client.http.get("/v1/me", headers=token).json_body
    # WHEN the company removes the user's membership
    services.catalogue.get_membership("formosa", me["user_sub"]).delete()
    # THEN neither the session nor the token reaches the company any more
    assert browser.get("/portal").status_code == 403
    assert client.http.get("/v1/me", headers=token).status_code == 403


def test_the_epoch_costs_no_extra_request(
    client: Client, standin: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The epoch rides on the membership item every request reads anyway."""
    from collections import Counter

    import botocore.client

    email = new_login(standin)
    token = bearer_of(standin, email)
    calls: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls[operation_name] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    assert client.http.get("/v1/me", headers=token).status_code == 200
    assert calls["BatchGetItem"] == 1 and calls["GetItem"] <= 1, calls


def test_end_sessions_needs_a_membership(services: Container) -> None:
    from chalicelib.data.errors import NotFoundError

    with pytest.raises(NotFoundError):
        MemberAccess().end_sessions("formosa", "no-such-user", 1)
