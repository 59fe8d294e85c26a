"""Account changes made in Cognito outside the portal end the user's sessions (issue 16:
"sessions outlive the account"). Each call is made on the stand-in's pool as the
console or the user's own app would; the stand-in records the CloudTrail event AWS would
send, and the test plays EventBridge, handing it to ``cognito_account_changes``. From the
next request the old portal session and the old ID token are refused."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from chalice.test import Client

from app import app
from chalicelib.application import session_revocation
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack
from tests.functional.portal.api_client import tokens
from tests.functional.portal.browser_client import Browser

from .accounts import PASSWORD, bearer_of, new_login

pytestmark = pytest.mark.functional

NEW_PASSWORD = "Another-password-3!"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        yield c


def _access_token(standin: LocalStack, email: str) -> str:
    return str(tokens(standin, email, PASSWORD)["AccessToken"])


Change = Callable[[LocalStack, str, str], Any]


def _admin(call: str, **extra: Any) -> Change:
    def change(standin: LocalStack, email: str, _access: str) -> Any:
        assert standin.resources is not None
        method = getattr(boto3.client("cognito-idp"), call)
        return method(UserPoolId=standin.resources.user_pool_id, Username=email, **extra)

    return change


def _change_password(_standin: LocalStack, _email: str, access: str) -> Any:
    return boto3.client("cognito-idp").change_password(
        PreviousPassword=PASSWORD, ProposedPassword=NEW_PASSWORD, AccessToken=access
    )


def _global_sign_out(_standin: LocalStack, _email: str, access: str) -> Any:
    return boto3.client("cognito-idp").global_sign_out(AccessToken=access)


CHANGES: dict[str, Change] = {
    "AdminDisableUser": _admin("admin_disable_user"),
    "AdminSetUserPassword": _admin(
        "admin_set_user_password", Password=NEW_PASSWORD, Permanent=True
    ),
    "AdminResetUserPassword": _admin("admin_reset_user_password"),
    "AdminUserGlobalSignOut": _admin("admin_user_global_sign_out"),
    "AdminDeleteUser": _admin("admin_delete_user"),
    "ChangePassword": _change_password,
    "GlobalSignOut": _global_sign_out,
}


def _signed_in(client: Client, email: str) -> Browser:
    browser = Browser(client)
    assert browser.sign_in(email, PASSWORD).status_code == 303
    assert browser.get("/portal").status_code == 200
    return browser


def _play_eventbridge(client: Client, standin: LocalStack, after: int) -> list[dict[str, Any]]:
    """Hand every event recorded since ``after`` to the function the rule targets."""
    events, _ = standin.cloudtrail_events(after)
    for event in events:
        answer = client.lambda_.invoke("cognito_account_changes", event)
        assert answer.payload is not None and "call" in answer.payload, answer.payload
    return events


@pytest.mark.parametrize("call", sorted(CHANGES))
def test_a_change_made_in_cognito_ends_the_portal_session_and_the_token(
    call: str, client: Client, standin: LocalStack
) -> None:
    # GIVEN a user signed in to the portal and holding an ID token for the API
    email = new_login(standin)
    browser, token = _signed_in(client, email), bearer_of(standin, email)
    access = _access_token(standin, email)
    assert client.http.get("/v1/me", headers=token).status_code == 200
    _, mark = standin.cloudtrail_events()
    # WHEN the account is changed in Cognito, not through the portal
    CHANGES[call](standin, email, access)
    # AND CloudTrail's event reaches the function through EventBridge
    delivered = _play_eventbridge(client, standin, mark)
    assert [e["detail"]["eventName"] for e in delivered] == [call]
    # THEN the next portal request goes to the sign-in screen
    page = browser.get("/portal")
    assert page.status_code == 303 and page.headers["location"] == "/signin"
    # AND the next API request with the old token is a 401 problem document
    refused = client.http.get("/v1/me", headers=token)
    assert refused.status_code == 401
    assert {k.lower(): v for k, v in refused.headers.items()}["content-type"] == PROBLEM
    assert "session ended" in refused.json_body["detail"]


def test_a_late_or_repeated_event_never_ends_a_session_opened_after_the_change(
    client: Client, standin: LocalStack
) -> None:
    # GIVEN a user whose password an administrator changed a moment ago
    email = new_login(standin)
    old = _signed_in(client, email)
    _, mark = standin.cloudtrail_events()
    CHANGES["AdminSetUserPassword"](standin, email, "")
    # AND who signed in with the new password before CloudTrail's event arrived
    time.sleep(1.05 - time.time() % 1)  # the change's second is refused whole (fail closed)
    fresh = Browser(client)
    assert fresh.sign_in(email, NEW_PASSWORD).status_code == 303
    # WHEN the event arrives, and arrives again (EventBridge delivers at least once)
    _play_eventbridge(client, standin, mark)
    _play_eventbridge(client, standin, mark)
    # THEN the session from before the change is over, the one after it is not
    assert old.get("/portal").headers.get("location") == "/signin"
    assert fresh.get("/portal").status_code == 200


def test_events_that_change_nothing_are_ignored(client: Client, standin: LocalStack) -> None:
    email = new_login(standin)
    browser = _signed_in(client, email)
    _, mark = standin.cloudtrail_events()
    CHANGES["AdminDisableUser"](standin, email, "")
    (event,) = standin.cloudtrail_events(mark)[0]
    failed = {**event, "detail": {**event["detail"], "errorCode": "NotAuthorizedException"}}
    other_pool = {
        **event,
        "detail": {
            **event["detail"],
            "requestParameters": {"userPoolId": "us-east-1_other", "username": email},
        },
    }
    for ignored in (failed, other_pool):
        assert client.lambda_.invoke("cognito_account_changes", ignored).payload["companies"] == []
    assert browser.get("/portal").status_code == 200


def test_the_second_line_a_disabled_login_ends_within_the_recheck_interval_without_the_event(
    client: Client, standin: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CloudTrail's events take minutes: a portal session asks Cognito itself every
    ``ACCOUNT_RECHECK_S`` whether its login was deleted, disabled or reset."""
    disabled, fine = new_login(standin), new_login(standin)
    session, other = _signed_in(client, disabled), _signed_in(client, fine)
    # WHEN the login is disabled in Cognito and the event has not arrived
    CHANGES["AdminDisableUser"](standin, disabled, "")
    # THEN inside the interval the session still works (the documented window)
    assert session.get("/portal").status_code == 200
    # AND once the interval is over the next request asks Cognito and ends it
    monkeypatch.setattr(session_revocation, "ACCOUNT_RECHECK_S", 0)
    page = session.get("/portal")
    assert page.status_code == 303 and page.headers["location"] == "/signin"
    # while a login in good standing is asked and stays signed in
    assert other.get("/portal").status_code == 200
    assert other.get("/portal").status_code == 200
