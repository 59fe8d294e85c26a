"""A brand's own screens: the language a new visitor sees (the brand's
``default_locale``) and the forgotten-password screens under ``/b/<slug>/``."""

from __future__ import annotations

import pytest
from chalice.test import Client

from chalicelib.wiring.container import Container
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack
from tests.functional.portal.browser_client import Browser, text
from tests.functional.security.accounts import new_login

from .conftest import browser_on

pytestmark = pytest.mark.functional

ZH = 'lang="zh-Hant-TW"'
EN = 'lang="en"'


# --- language: cookie > brand default (before sign-in, company screens) > Accept-Language ---


def test_a_zh_tw_brand_opens_in_chinese_for_a_new_visitor(client: Client) -> None:
    # GIVEN Formosa (default_locale zh_TW) and a visitor whose browser asks for English
    page = client.http.get(
        "/signin", headers={"Host": "formosa.localhost", "Accept-Language": "en-GB,en;q=0.9"}
    )
    # THEN the brand's language wins over the browser's
    assert ZH in text(page) and "房東與管理人員登入" in text(page)
    # AND the Chinese screen still names only the brand, never the platform
    assert "Formosa Homes" in text(page) and "powerlet" not in text(page).lower()
    # AND under the /b/<slug>/ prefix too
    assert ZH in text(client.http.get("/b/formosa/signin"))


def test_the_language_cookie_beats_the_brand_default(client: Client) -> None:
    page = client.http.get("/signin", headers={"Host": "formosa.localhost", "Cookie": "pl_lang=en"})
    assert EN in text(page) and "Sign in: landlords and staff" in text(page)


def test_an_english_brand_and_the_platform_keep_following_the_browser(client: Client) -> None:
    thames = client.http.get("/signin", headers={"Host": "thames.localhost"})
    assert EN in text(thames)
    # the platform default has no company: Accept-Language still decides
    platform = client.http.get("/signin", headers={"Accept-Language": "zh-TW"})
    assert ZH in text(platform)
    assert EN in text(client.http.get("/signin"))


def test_signing_in_on_the_brand_screen_keeps_its_language(client: Client) -> None:
    # GIVEN a Formosa admin with no language cookie, on Formosa's domain
    browser = browser_on(client, "formosa.localhost")
    response = browser.sign_in("admin@formosa.example", DEMO_PASSWORD)
    # WHEN they sign in THEN the brand's language is kept as their choice
    assert response.status_code == 303
    assert browser.cookies.get("pl_lang") == "zh_TW"
    assert ZH in text(browser.get("/portal"))


# --- forgotten password under /b/<slug>/ ---


def test_the_branded_sign_in_screen_links_to_branded_reset_screens(client: Client) -> None:
    html = text(client.http.get("/b/formosa/signin"))
    assert 'href="/b/formosa/password/forgot"' in html
    forgot = client.http.get("/b/formosa/password/forgot")
    page = text(forgot)
    assert forgot.status_code == 200
    assert "Formosa Homes" in page and 'href="/brand/formosa/theme.css?v=' in page
    assert 'action="/b/formosa/password/forgot"' in page
    reset = text(client.http.get("/b/formosa/password/reset"))
    assert "Formosa Homes" in reset and 'action="/b/formosa/password/reset"' in reset


def test_an_unknown_slug_has_no_reset_screens(client: Client) -> None:
    assert client.http.get("/b/nobody-here/password/forgot").status_code == 404
    assert client.http.get("/b/powerlet/password/reset").status_code == 404


def test_a_password_reset_under_the_prefix_stays_in_the_brand(
    client: Client, standin: LocalStack, services: Container
) -> None:
    email = new_login(standin)
    codes: list[str] = []
    services.cognito_client.meta.events.register(
        "after-call.cognito-idp.ForgotPassword",
        lambda http_response, **_: codes.append(
            http_response.headers.get("x-moto-forgot-password-confirmation-code", "")
        ),
    )
    browser = Browser(client)
    # WHEN the code is asked for on the branded screen
    csrf = browser.csrf_of("/b/formosa/password/forgot")
    sent = browser.post("/b/formosa/password/forgot", {"email": email}, csrf=csrf)
    # THEN the reset screen is the brand's too
    assert sent.status_code == 303
    assert sent.headers["location"].startswith("/b/formosa/password/reset?")
    assert codes and codes[-1]
    form = browser.get(sent.headers["location"])
    assert "Formosa Homes" in text(form)
    csrf = browser.csrf_of(sent.headers["location"])
    wrong = browser.post(
        "/b/formosa/password/reset",
        {"email": email, "code": "moto-confirmation-code:000000", "new_password": "Reset-pass-55"},
        csrf=csrf,
    )
    assert wrong.status_code == 400 and "Formosa Homes" in text(wrong)
    done = browser.post(
        "/b/formosa/password/reset",
        {"email": email, "code": codes[-1], "new_password": "Reset-pass-55"},
        csrf=csrf,
    )
    # AND the new password leads back to the brand's sign-in screen, where it works
    assert done.status_code == 303 and done.headers["location"] == "/b/formosa/signin?reset=1"
    signed_in = browser.sign_in(email, "Reset-pass-55", screen="/b/formosa/signin")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/portal"
