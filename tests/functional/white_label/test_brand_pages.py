"""Sign-in screens and portal pages render in the brand of the request's host,
slug or signed-in company; unknown hosts get the platform default; e-mails go
out under the company's sender."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from chalice.test import Client

from chalicelib.pipeline.alerts import Alert
from chalicelib.wiring.container import Container
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack
from tests.functional.portal.browser_client import text

from .conftest import browser_on

pytestmark = pytest.mark.functional

FORMOSA = ("formosa.localhost", "Formosa Homes", "thames")
THAMES = ("portal.thames-lettings.example", "Thames Lettings", "formosa")


@pytest.mark.parametrize("screen", ["/signin", "/tenant/signin"])
@pytest.mark.parametrize(("host", "name", "other"), [FORMOSA, THAMES])
def test_each_custom_domain_shows_only_its_own_brand(
    client: Client, screen: str, host: str, name: str, other: str
) -> None:
    # GIVEN two companies branded on their own domains
    # WHEN a sign-in screen is fetched on one company's domain
    response = client.http.get(screen, headers={"Host": host})
    html = text(response).lower()
    # THEN it carries that brand's name, theme and footer
    assert response.status_code == 200
    assert name.lower() in html
    slug = name.split()[0].lower()
    assert f'href="/brand/{slug}/theme.css?v=' in html
    # AND nothing of the other brand, nor of the platform, anywhere in the HTML
    assert other not in html
    assert "powerlet" not in html


def test_the_two_sign_in_screens_differ(client: Client) -> None:
    formosa = text(client.http.get("/signin", headers={"Host": "formosa.localhost"}))
    thames = text(client.http.get("/signin", headers={"Host": "thames.localhost"}))
    assert _without_tokens(formosa) != _without_tokens(thames)


@pytest.mark.parametrize(
    "host",
    [
        "unknown.example",
        "formosa.localhost.evil.example",
        "evil.example@formosa.localhost",
        "formosa.localhost/evil",
        "[::1]:8000",
        "127.0.0.1:8000",
        "",
        "x" * 300,
    ],
)
def test_an_unknown_or_malformed_host_gets_the_platform_default(client: Client, host: str) -> None:
    response = client.http.get("/signin", headers={"Host": host} if host else {})
    html = text(response).lower()
    assert response.status_code == 200
    assert "powerlet" in html
    assert "formosa" not in html and "thames" not in html


def test_host_matching_ignores_case_and_port(client: Client) -> None:
    html = text(client.http.get("/signin", headers={"Host": "FORMOSA.localhost:8000"}))
    assert "Formosa Homes" in html


def test_slug_prefix_is_the_fallback_and_keeps_the_prefix_in_links(client: Client) -> None:
    # GIVEN no custom domain WHEN the /b/<slug>/ screen is fetched
    html = text(client.http.get("/b/thames/signin", headers={"Host": "127.0.0.1:8000"}))
    # THEN it is the brand's, and its form and links stay under the prefix
    assert "Thames Lettings" in html and "formosa" not in html.lower()
    assert 'action="/b/thames/signin"' in html
    assert 'href="/b/thames/tenant/signin"' in html


def test_a_custom_domain_wins_over_the_slug(client: Client) -> None:
    html = text(client.http.get("/b/thames/signin", headers={"Host": "formosa.localhost"}))
    assert "Formosa Homes" in html and "thames" not in html.lower().replace("/b/thames", "")


@pytest.mark.parametrize("slug", ["nosuch", "powerlet", "Formosa", "a" * 40, "-x-"])
def test_an_unknown_or_reserved_slug_is_not_found(client: Client, slug: str) -> None:
    response = client.http.get(f"/b/{slug}/signin")
    html = text(response).lower()
    assert response.status_code == 404
    assert "formosa homes" not in html and "thames" not in html


def test_theme_is_only_custom_properties_and_is_cacheable(client: Client) -> None:
    response = client.http.get("/brand/formosa/theme.css")
    css = text(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert response.headers["Content-Type"].startswith("text/css")
    assert css.startswith(":root {\n") and css.endswith("\n}\n")
    body = css.removeprefix(":root {\n").removesuffix("}\n").splitlines()
    assert body and all(re.fullmatch(r"  --[a-z-]+: #[0-9a-f]{6};", line) for line in body)
    assert "--primary: #0f5132;" in css
    assert client.http.get("/brand/nosuch/theme.css").status_code == 404


def test_signed_in_pages_show_the_users_company_brand(client: Client) -> None:
    # GIVEN the Formosa admin signed in on Formosa's domain
    browser = browser_on(client, "portal.formosa-homes.example")
    response = browser.sign_in("admin@formosa.example", DEMO_PASSWORD)
    assert response.status_code == 303, text(response)
    # WHEN the dashboard is shown THEN it is in Formosa's brand, with its footer
    html = text(browser.get("/portal"))
    assert "Formosa Homes" in html and "Formosa Homes Co., Ltd. · Taipei" in html
    assert "thames" not in html.lower() and "powerlet" not in html.lower()


def test_a_companys_domain_admits_only_its_own_users(client: Client) -> None:
    # GIVEN Formosa's domain WHEN Thames's admin signs in there
    browser = browser_on(client, "formosa.localhost")
    response = browser.sign_in("admin@thames.example", DEMO_PASSWORD)
    # THEN no session is opened, and the answer shows no other brand (only the
    # address the user typed is echoed back)
    assert response.status_code == 403
    assert "pl_session" not in browser.cookies
    html = text(response).replace("admin@thames.example", "")
    assert "Formosa Homes" in html and "thames" not in html.lower()


def test_alert_e_mails_go_out_under_the_company_brand(
    services: Container, standin: LocalStack
) -> None:
    # GIVEN Formosa's brand with its own sender
    alert = Alert(
        company_id="formosa",
        topic="gateway_offline",
        subject_ref=f"gateway:brand-test-{uuid.uuid4().hex[:8]}",
        at=datetime.now(UTC),
        audience="staff",
    )
    # WHEN an alert is delivered to the company's admins
    item = services.notifier.notify(alert)
    # THEN the e-mail's sender and subject are the brand's, never the platform's
    assert item is not None and item.delivery["email:admin@formosa.example"] == "sent"
    emails: list[dict[str, str]] = standin.sent_messages()["emails"]  # type: ignore[assignment]
    gateway_id = alert.subject_ref.removeprefix("gateway:")
    sent = [m for m in emails if gateway_id in (m["body"] or "")]
    assert sent and sent[0]["source"] == "Formosa Homes <no-reply@formosa-homes.example>"
    # AND in the brand's language (zh_TW; the admin chose none), in words, not references
    assert sent[0]["subject"] == "[Formosa Homes] 閘道器已離線"
    assert f"閘道器 {gateway_id}" in sent[0]["body"] and "gateway:" not in sent[0]["body"]


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def test_the_cognito_invitation_trigger_brands_the_message(client: Client) -> None:
    # GIVEN the user pool's Custom Message trigger, deployed as a Lambda function
    event = {
        "triggerSource": "CustomMessage_AdminCreateUser",
        "request": {
            "userAttributes": {"custom:company_id": "thames", "custom:role": "company_admin"},
            "codeParameter": "{####}",
            "usernameParameter": "{username}",
        },
        "response": {},
    }
    # WHEN Cognito invokes it for an invitation to a Thames user
    result = client.lambda_.invoke("cognito_custom_message", event).payload
    # THEN subject and body are Thames's, with Cognito's placeholders kept
    assert result["response"]["emailSubject"] == "Your Thames Lettings account"
    message = result["response"]["emailMessage"]
    assert "{####}" in message and "https://portal.thames-lettings.example/signin" in message
    assert "formosa" not in message.lower() and "powerlet" not in message.lower()
