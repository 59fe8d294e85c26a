"""Sign-in, sessions, CSRF and throttling through the real app and the stand-in's Cognito."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from chalicelib.data import builders
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack
from tests.functional.security.accounts import PASSWORD, new_login

from .browser_client import Browser, text

pytestmark = pytest.mark.functional


def test_staff_sign_in_opens_a_session_in_a_hardened_cookie(browser: Browser) -> None:
    # GIVEN the staff sign-in screen
    token = browser.csrf_of("/signin")
    # WHEN the landlord signs in with the right password
    response = browser.post(
        "/signin", {"email": "landlord@formosa.example", "password": DEMO_PASSWORD}, csrf=token
    )
    # THEN they land on the dashboard with an HttpOnly, Secure, SameSite=Lax session cookie
    assert response.status_code == 303
    assert response.headers["location"] == "/portal"
    cookie = next(c for c in _set_cookies(response) if c.startswith("pl_session="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    page = browser.get("/portal")
    assert page.status_code == 200
    assert "Da&#39;an Residence" in text(page) or "Da'an Residence" in text(page)
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_wrong_password_and_unknown_user_get_the_same_answer(browser: Browser) -> None:
    wrong = browser.sign_in("manager@formosa.example", "Not-the-password-1")
    unknown = browser.sign_in(f"nobody-{uuid.uuid4().hex[:8]}@formosa.example", "Whatever-123")
    assert wrong.status_code == unknown.status_code == 401
    assert "Incorrect e-mail or password." in text(wrong)
    assert "Incorrect e-mail or password." in text(unknown)
    assert "pl_session" not in browser.cookies


def test_tenant_cannot_use_the_staff_screen_and_vice_versa(browser: Browser) -> None:
    staff_screen = browser.sign_in("tenant@formosa.example", DEMO_PASSWORD, "/signin")
    assert staff_screen.status_code == 403
    assert "tenant sign-in" in text(staff_screen)
    tenant_screen = browser.sign_in("admin@formosa.example", DEMO_PASSWORD, "/tenant/signin")
    assert tenant_screen.status_code == 403
    ok = browser.sign_in("tenant@formosa.example", DEMO_PASSWORD, "/tenant/signin")
    assert ok.status_code == 303 and ok.headers["location"] == "/tenant"


def test_a_form_without_the_csrf_token_is_refused(browser: Browser) -> None:
    browser.csrf_of("/signin")  # the double-submit cookie is set...
    response = browser.post(  # ...but the form does not carry it
        "/signin", {"email": "landlord@formosa.example", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 403
    assert "pl_session" not in browser.cookies


def test_a_signed_in_form_needs_the_session_csrf_token_not_the_pre_sign_in_one(
    browser: Browser,
) -> None:
    pre = browser.csrf_of("/signin")
    browser.sign_in("landlord@formosa.example", DEMO_PASSWORD)
    response = browser.post("/signout", {}, csrf=pre)
    assert response.status_code == 403
    assert browser.get("/portal").status_code == 200  # still signed in


def test_sign_out_ends_the_session_server_side(browser: Browser) -> None:
    browser.sign_in("landlord@formosa.example", DEMO_PASSWORD)
    stolen = browser.cookies["pl_session"]
    csrf = browser.csrf_of("/portal")
    assert browser.post("/signout", {}, csrf=csrf).status_code == 303
    # THEN even a copy of the old cookie no longer opens a page
    browser.cookies["pl_session"] = stolen
    response = browser.get("/portal")
    assert response.status_code == 303 and response.headers["location"] == "/signin"


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    browser: Browser, standin: LocalStack, services: Any
) -> None:
    # GIVEN an account of its own (so no other test is locked out)
    email = new_login(standin, "tenant")
    for _ in range(5):
        assert browser.sign_in(email, "Wrong-password-9", "/tenant/signin").status_code == 401
    # WHEN the right password comes after five failures
    response = browser.sign_in(email, PASSWORD, "/tenant/signin")
    # THEN the screen refuses without asking Cognito, and says when to retry
    assert response.status_code == 429
    assert "Try again in" in text(response)


def test_first_sign_in_with_a_temporary_password_sets_a_new_one(
    browser: Browser, standin: LocalStack, services: Any
) -> None:
    assert standin.resources is not None
    email = f"new-{uuid.uuid4().hex[:8]}@formosa.example"
    cognito = boto3.client("cognito-idp")
    created = cognito.admin_create_user(
        UserPoolId=standin.resources.user_pool_id,
        Username=email,
        TemporaryPassword="Temporary-pass-1",
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "custom:company_id", "Value": "formosa"},
        ],
    )
    sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    builders.membership("formosa", sub, email, "landlord", property_ids={"tpe-daan"}).save()
    # WHEN the user signs in with the temporary password
    challenge = browser.sign_in(email, "Temporary-pass-1")
    # THEN they are asked for a new password, and a weak one is refused
    assert challenge.status_code == 200 and 'name="challenge"' in text(challenge)
    fields = _hidden_fields(text(challenge))
    weak = browser.post("/signin/new-password", {**fields, "new_password": "short"})
    assert weak.status_code == 400
    fields = _hidden_fields(text(weak))
    done = browser.post("/signin/new-password", {**fields, "new_password": "Chosen-password-7"})
    assert done.status_code == 303 and done.headers["location"] == "/portal"
    # AND the new password is the one that works from now on
    other = Browser(browser.client)
    assert other.sign_in(email, "Chosen-password-7").status_code == 303


def test_forgotten_password_resets_with_the_code_cognito_sent(
    browser: Browser, standin: LocalStack, services: Any
) -> None:
    email = new_login(standin, "landlord")
    codes: list[str] = []
    # The stand-in hands the code back in a header instead of e-mailing it.
    services.cognito_client.meta.events.register(
        "after-call.cognito-idp.ForgotPassword",
        lambda http_response, **_: codes.append(
            http_response.headers.get("x-moto-forgot-password-confirmation-code", "")
        ),
    )
    csrf = browser.csrf_of("/password/forgot")
    sent = browser.post("/password/forgot", {"email": email}, csrf=csrf)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/password/reset")
    assert codes and codes[-1].startswith("moto-confirmation-code:")
    csrf = browser.csrf_of(sent.headers["location"])
    wrong = browser.post(
        "/password/reset",
        {"email": email, "code": "moto-confirmation-code:000000", "new_password": "Reset-pass-55"},
        csrf=csrf,
    )
    assert wrong.status_code == 400 and "wrong or has expired" in text(wrong)
    right = browser.post(
        "/password/reset",
        {"email": email, "code": codes[-1], "new_password": "Reset-pass-55"},
        csrf=csrf,
    )
    assert right.status_code == 303 and right.headers["location"] == "/signin?reset=1"
    assert Browser(browser.client).sign_in(email, "Reset-pass-55").status_code == 303


def test_forgot_password_for_an_unknown_address_looks_the_same(browser: Browser) -> None:
    csrf = browser.csrf_of("/password/forgot")
    sent = browser.post("/password/forgot", {"email": "nobody@nowhere.example"}, csrf=csrf)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/password/reset")


def test_language_follows_the_cookie_and_accept_language(browser: Browser) -> None:
    page = browser.get("/signin", headers={"Accept-Language": "zh-TW,zh;q=0.9"})
    assert "房東與管理人員登入" in text(page) and 'lang="zh-Hant-TW"' in text(page)
    switched = browser.get("/lang/en?next=/signin")
    assert switched.status_code == 303 and switched.headers["location"] == "/signin"
    page = browser.get("/signin", headers={"Accept-Language": "zh-TW"})
    assert "Sign in: landlords and staff" in text(page)
    evil = browser.get("/lang/en?next=//evil.example/")
    assert evil.headers["location"] == "/"


def _set_cookies(response: Any) -> list[str]:
    raw = response.headers.get("set-cookie")
    return raw if isinstance(raw, list) else [raw]


def _hidden_fields(html: str) -> dict[str, str]:
    import re

    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', html))
