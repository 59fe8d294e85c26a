"""The reseller API end to end: onboarding, idempotency, keys, limits, logos,
suspension, usage; and that one reseller never reaches another's companies."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.api.reseller_access import request_fingerprint
from chalicelib.application.reseller.config import ResellerSettings
from chalicelib.auth.principal import Principal, Role
from chalicelib.data import keys
from chalicelib.data.models import Reseller
from chalicelib.data.usage_store import month_of
from chalicelib.wiring.container import Container, container
from local_aws.stack import LocalStack
from tests.functional.portal.browser_client import text

from .conftest import (
    ONBOARDING_RESELLER,
    ResellerApi,
    browser_on,
    new_reseller,
    publish_and_verify,
)
from .images import SVG, png

pytestmark = pytest.mark.functional

ADMIN_PASSWORD = "Acme-admin-2026"
# what Chromium sends for an <img>: API Gateway returns binary bodies only to a matching Accept
IMG_ACCEPT = {"Accept": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"}
FLAT = {"kind": "flat", "tariff_id": "acme-flat", "currency": "TWD", "price_per_kwh": "5.00"}


def brand(slug: str, name: str, domains: list[str]) -> dict[str, Any]:
    return {
        "slug": slug,
        "display_name": name,
        "colours": {"primary": "#8a3b00", "primary_text": "#ffffff"},
        "custom_domains": domains,
        "support_email": f"help@{slug}.example",
        "email_sender_name": name,
        "email_sender_address": f"no-reply@{slug}.example",
        "sms_sender_id": "Acme",
        "default_locale": "en",
        "currency": "TWD",
        "time_zone": "Asia/Taipei",
        "legal_footer": f"{name} Ltd",
    }


def company_body(company_id: str, domains: list[str] | None = None) -> dict[str, Any]:
    return {
        "company_id": company_id,
        "name": company_id.replace("-", " ").title(),
        "brand": brand(company_id, company_id.replace("-", " ").title(), domains or []),
        "admin": {"email": f"admin@{company_id}.example"},
    }


def gateway_body(gateway_id: str = "gw-1") -> dict[str, Any]:
    return {
        "gateway_id": gateway_id,
        "property": {
            "property_id": "p-main",
            "name": "Main Street 5",
            "address": "5 Main Street",
            "city": "Taipei",
            "country": "TW",
        },
        "bus": {"port": "/dev/ttyUSB0", "baudrate": 9600},
    }


def meters_body() -> dict[str, Any]:
    return {
        "meters": [
            {
                "meter_id": "acme-m1",
                "profile": "dds238",
                "bus_address": 1,
                "unit": {
                    "unit_id": "flat-1a",
                    "name": "Flat 1A",
                    "unit_type": "flat",
                    "billing_mode": "prepaid",
                    "tariff": FLAT,
                },
            },
            {
                "meter_id": "acme-m2",
                "profile": "sdm120",
                "bus_address": 2,
                "relay": {"address": 100, "profile": "relay_module", "channel": 1},
                "unit": {
                    "unit_id": "shop-1",
                    "name": "Corner Shop",
                    "unit_type": "shop",
                    "billing_mode": "postpaid",
                    "tariff": FLAT,
                },
            },
        ]
    }


def body(response: Any) -> Any:
    return json.loads(response.body)


def test_end_to_end_onboarding(
    client: Client, reseller_api: ResellerApi, standin: LocalStack, services: Container
) -> None:
    api = reseller_api
    co = "acme-rentals"
    domain = "portal.acme-rentals.example"
    # GIVEN a reseller WHEN it creates a company with a brand and a first admin
    created = api.call("POST", "/v1/reseller/companies", company_body(co, [domain]), "create-acme")
    assert created.status_code == 201, created.body
    assert body(created)["admin"]["invited"] is True
    # AND its domain waits for the DNS challenge: no sign-in URL on it yet
    assert body(created)["domains"][0]["status"] == "pending"
    assert f"https://{domain}/signin" not in body(created)["sign_in_urls"]
    publish_and_verify(api, co)
    fetched = body(api.call("GET", f"/v1/reseller/companies/{co}"))
    assert f"https://{domain}/signin" in fetched["sign_in_urls"]
    # THEN Cognito holds an invited admin of that company, waiting for a new password
    assert standin.resources is not None
    cognito = boto3.client("cognito-idp")
    user = cognito.admin_get_user(
        UserPoolId=standin.resources.user_pool_id, Username=f"admin@{co}.example"
    )
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD" and attrs["custom:company_id"] == co

    # WHEN it registers a gateway
    gw = api.call("POST", f"/v1/reseller/companies/{co}/gateways", gateway_body(), "gw-acme")
    assert gw.status_code == 201, gw.body
    gateway = body(gw)
    # THEN the gateway is an IoT thing in the company's group with its own active certificate
    assert gateway["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" in gateway["private_key"]
    iot = boto3.client("iot")
    principals = iot.list_thing_principals(thingName=gateway["thing_name"])["principals"]
    assert principals == [gateway["certificate_arn"]]
    group = iot.list_things_in_thing_group(thingGroupName=gateway["thing_group"])["things"]
    assert gateway["thing_name"] in group
    policies = iot.list_attached_policies(target=gateway["certificate_arn"])["policies"]
    assert sorted(p["policyName"] for p in policies) == sorted(gateway["policies"])
    # ... the shared gateway policy and its own, which names its thing and no other
    own = iot.get_policy(policyName=gateway["policy"])["policyDocument"]
    assert gateway["policy"].endswith(gateway["thing_name"]) and "${" not in own
    assert f"client/{gateway['thing_name']}" in own
    assert gateway["deployment"]["configuration"]["bus"]["baudrate"] == 9600

    # WHEN it registers two meters on the gateway's bus
    meters = api.call(
        "POST", f"/v1/reseller/companies/{co}/gateways/gw-1/meters", meters_body(), "m-acme"
    )
    assert meters.status_code == 201, meters.body
    # THEN the deployment settings list them in bus order, with their relays
    rows = body(meters)["deployment"]["configuration"]["meters"]
    assert rows == [
        {
            "meter_id": "acme-m1",
            "address": 1,
            "profile": "dds238",
            "relay": {"address": 1, "profile": "dds238", "channel": 0},
        },
        {
            "meter_id": "acme-m2",
            "address": 2,
            "profile": "sdm120",
            "relay": {"address": 100, "profile": "relay_module", "channel": 1},
        },
    ]
    # ... and ShadowManager's sync of exactly their shadows
    sync = body(meters)["deployment"]["shadow_manager"]["configuration"]["synchronize"]
    assert sync["coreThing"]["namedShadows"] == ["meter-acme-m1", "meter-acme-m2"]
    again = api.call("GET", f"/v1/reseller/companies/{co}/gateways/gw-1/deployment")
    assert body(again) == body(meters)["deployment"]
    # AND the month's usage counts two active meters
    month = body(created)["created_at"][:7]
    usage = body(api.call("GET", f"/v1/reseller/companies/{co}/usage/{month}"))
    assert usage == {
        "company_id": co,
        "month": month,
        "active_meters": 2,
        "messages": 0,
        "top_ups": 0,
    }

    # WHEN the new admin (having followed the invitation) signs in on the company's domain
    cognito.admin_set_user_password(
        UserPoolId=standin.resources.user_pool_id,
        Username=f"admin@{co}.example",
        Password=ADMIN_PASSWORD,
        Permanent=True,
    )
    browser = browser_on(client, domain)
    signed_in = browser.sign_in(f"admin@{co}.example", ADMIN_PASSWORD)
    assert signed_in.status_code == 303, text(signed_in)
    # THEN the dashboard, in the company's brand, shows the property and both units
    html = text(browser.get("/portal"))
    assert "Acme Rentals" in html and "Main Street 5" in html
    assert "Flat 1A" in html and "Corner Shop" in html
    assert "formosa" not in html.lower() and "powerlet" not in html.lower()


def test_a_replayed_create_answers_the_first_result_and_withholds_secrets(
    reseller_api: ResellerApi,
) -> None:
    co = f"replay-{uuid.uuid4().hex[:6]}"
    first = reseller_api.call("POST", "/v1/reseller/companies", company_body(co), "k-" + co)
    # WHEN the very same request is sent again (a client retry)
    replay = reseller_api.call("POST", "/v1/reseller/companies", company_body(co), "k-" + co)
    # THEN the answer is the first one, marked as a replay, and nothing was created twice
    assert (first.status_code, replay.status_code) == (201, 201)
    assert body(replay) == body(first)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    listed = body(reseller_api.call("GET", "/v1/reseller/companies"))["companies"]
    assert [c["company_id"] for c in listed].count(co) == 1
    # AND a replayed gateway registration keeps the private key back (shown once)
    gw_path = f"/v1/reseller/companies/{co}/gateways"
    first_gw = reseller_api.call("POST", gw_path, gateway_body(), "gw-" + co)
    replay_gw = reseller_api.call("POST", gw_path, gateway_body(), "gw-" + co)
    assert "PRIVATE KEY" in body(first_gw)["private_key"]
    assert body(replay_gw)["private_key"] == "withheld: shown once"
    assert body(replay_gw)["certificate_arn"] == body(first_gw)["certificate_arn"]


def test_the_same_idempotency_key_with_another_body_is_refused(reseller_api: ResellerApi) -> None:
    co = f"clash-{uuid.uuid4().hex[:6]}"
    first = reseller_api.call("POST", "/v1/reseller/companies", company_body(co), "k-" + co)
    assert first.status_code == 201
    # WHEN the key is reused for another company
    other = company_body(co + "-b")
    refused = reseller_api.call("POST", "/v1/reseller/companies", other, "k-" + co)
    # THEN it is refused and the other company does not exist
    assert refused.status_code == 422
    assert "Idempotency-Key" in body(refused)["detail"]
    got = reseller_api.call("GET", f"/v1/reseller/companies/{co}-b")
    assert got.status_code == 404
    # AND a create without any key is refused too
    missing = reseller_api.call("POST", "/v1/reseller/companies", company_body(co + "-c"))
    assert missing.status_code == 400


def test_a_failed_create_releases_its_idempotency_key(reseller_api: ResellerApi) -> None:
    # GIVEN a create that fails because the slug belongs to Thames (a domain another
    # company holds no longer fails a create: docs/brands.md, "Against squatting")
    co = f"taken-{uuid.uuid4().hex[:6]}"
    first = company_body(co)
    first["brand"]["slug"] = "thames"
    taken = reseller_api.call("POST", "/v1/reseller/companies", first, "k-" + co)
    assert taken.status_code == 409
    # WHEN the client retries with the same key and a corrected body
    retry = reseller_api.call("POST", "/v1/reseller/companies", company_body(co), "k-" + co)
    # THEN the create runs (nothing was created the first time, so the key was
    # released), and the same admin e-mail is accepted: the first invitation
    # was withdrawn when the company could not be written
    assert retry.status_code == 201, retry.body
    assert body(retry)["admin"]["email"] == f"admin@{co}.example"


def test_a_retry_while_the_first_create_runs_answers_409(
    reseller_api: ResellerApi, services: Container
) -> None:
    co = f"busy-{uuid.uuid4().hex[:6]}"
    path, payload = "/v1/reseller/companies", company_body(co)
    answers = []

    def still_running() -> dict[str, Any]:
        # WHEN the client retries the very same request meanwhile
        answers.append(reseller_api.call("POST", path, payload, "k-" + co))
        return {"company_id": co}

    # GIVEN the first request with the key is still running (its claim is held)
    fingerprint = request_fingerprint("POST", path, json.dumps(payload))
    services.idempotency.run(ONBOARDING_RESELLER, "k-" + co, fingerprint, still_running)
    # THEN the retry is told to come back later, and ran nothing
    assert answers[0].status_code == 409, answers[0].body
    assert "still running" in body(answers[0])["detail"]
    assert reseller_api.call("GET", f"{path}/{co}").status_code == 404


def test_revoking_a_key_takes_effect_on_the_next_request(client: Client) -> None:
    # GIVEN a reseller key that works
    api = ResellerApi(client, new_reseller(f"rs-rev-{uuid.uuid4().hex[:6]}"))
    assert api.call("GET", "/v1/reseller/companies").status_code == 200
    key_id = api.key.split("_")[1]
    # WHEN it is revoked (by the reseller itself)
    assert api.call("DELETE", f"/v1/reseller/keys/{key_id}").status_code == 200
    # THEN the very next request with it is refused
    assert api.call("GET", "/v1/reseller/companies").status_code == 403
    # AND a key that is only similar (same id, other secret) never worked
    forged = ResellerApi(client, f"plr_{key_id}_{'x' * 43}")
    assert forged.call("GET", "/v1/reseller/companies").status_code == 403


def test_a_key_over_its_rate_gets_429_with_retry_after(client: Client, services: Container) -> None:
    api = ResellerApi(client, new_reseller(f"rs-rate-{uuid.uuid4().hex[:6]}"))
    saved = services.reseller_settings
    services.__dict__["reseller_settings"] = ResellerSettings(rate_per_minute=3)
    try:
        statuses = [api.call("GET", "/v1/reseller/companies").status_code for _ in range(5)]
        last = api.call("GET", "/v1/reseller/companies")
    finally:
        services.__dict__["reseller_settings"] = saved
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    assert 0 < int(last.headers["Retry-After"]) <= 60


def test_resellers_never_see_each_others_companies(
    client: Client, reseller_api: ResellerApi
) -> None:
    co = f"mine-{uuid.uuid4().hex[:6]}"
    assert (
        reseller_api.call("POST", "/v1/reseller/companies", company_body(co), co).status_code == 201
    )
    other = ResellerApi(client, new_reseller(f"rs-other-{uuid.uuid4().hex[:6]}"))
    listed = body(other.call("GET", "/v1/reseller/companies"))["companies"]
    assert listed == []
    for method, path, payload in [
        ("GET", f"/v1/reseller/companies/{co}", None),
        ("PUT", f"/v1/reseller/companies/{co}/brand", brand(co, "Hijacked", [])),
        ("POST", f"/v1/reseller/companies/{co}/gateways", gateway_body()),
        ("POST", f"/v1/reseller/companies/{co}/gateways/gw-1/meters", meters_body()),
        ("GET", f"/v1/reseller/companies/{co}/gateways/gw-1/deployment", None),
        ("GET", f"/v1/reseller/companies/{co}/usage/2026-11", None),
        ("POST", f"/v1/reseller/companies/{co}/suspend", None),
        ("POST", f"/v1/reseller/companies/{co}/resume", None),
    ]:
        answer = other.call(method, path, payload, idempotency_key=uuid.uuid4().hex)
        assert answer.status_code == 404, (method, path, answer.body)
    # AND its own view of the company is unchanged
    mine = body(reseller_api.call("GET", f"/v1/reseller/companies/{co}"))
    assert mine["status"] == "active" and mine["brand"]["display_name"] != "Hijacked"


def test_logo_upload_is_sniffed_limited_and_served_with_cache_headers(
    client: Client, reseller_api: ResellerApi
) -> None:
    co = f"logo-{uuid.uuid4().hex[:6]}"
    reseller_api.call("POST", "/v1/reseller/companies", company_body(co), co)
    path = f"/v1/reseller/companies/{co}/brand/logo"
    # WHEN a PNG is uploaded declared as JPEG THEN it is stored as what it is
    image = png()
    up = reseller_api.call("PUT", path, raw=image, content_type="image/jpeg")
    assert up.status_code == 200, up.body
    assert body(up)["content_type"] == "image/png"
    # AND the brand's pages show it from a versioned, long-cached URL
    page = text(client.http.get(f"/b/{co}/signin"))
    assert f'src="/brand/{co}/logo?v=' in page
    served = client.http.get(f"/brand/{co}/logo", headers=IMG_ACCEPT)
    assert served.status_code == 200 and served.body == image
    assert served.headers["Content-Type"] == "image/png"
    assert "immutable" in served.headers["Cache-Control"]
    # WHEN an SVG (script risk), a text file or an oversized file is uploaded THEN refused
    assert reseller_api.call("PUT", path, raw=SVG, content_type="image/png").status_code == 415
    assert reseller_api.call("PUT", path, raw=b"hello" * 20).status_code == 415
    big = image + b"\x00" * (256 * 1024)
    assert reseller_api.call("PUT", path, raw=big, content_type="image/png").status_code == 413
    # AND the stored logo is still the first one
    assert client.http.get(f"/brand/{co}/logo", headers=IMG_ACCEPT).body == image


def test_suspension_stops_sign_in_and_changes_until_resumed(
    client: Client, reseller_api: ResellerApi, standin: LocalStack
) -> None:
    co = f"susp-{uuid.uuid4().hex[:6]}"
    reseller_api.call("POST", "/v1/reseller/companies", company_body(co), co)
    assert standin.resources is not None
    boto3.client("cognito-idp").admin_set_user_password(
        UserPoolId=standin.resources.user_pool_id,
        Username=f"admin@{co}.example",
        Password=ADMIN_PASSWORD,
        Permanent=True,
    )
    # WHEN the company is suspended
    suspended = reseller_api.call("POST", f"/v1/reseller/companies/{co}/suspend")
    assert body(suspended)["status"] == "suspended"
    # THEN its admin cannot sign in and its gateways cannot be registered
    browser = browser_on(client, "127.0.0.1")
    assert (
        browser.sign_in(f"admin@{co}.example", ADMIN_PASSWORD, f"/b/{co}/signin").status_code == 403
    )
    gw = reseller_api.call("POST", f"/v1/reseller/companies/{co}/gateways", gateway_body(), co)
    assert gw.status_code == 409
    # WHEN it is resumed THEN both work again
    reseller_api.call("POST", f"/v1/reseller/companies/{co}/resume")
    assert (
        browser.sign_in(f"admin@{co}.example", ADMIN_PASSWORD, f"/b/{co}/signin").status_code == 303
    )
    gw = reseller_api.call(
        "POST", f"/v1/reseller/companies/{co}/gateways", gateway_body(), co + "2"
    )
    assert gw.status_code == 201


def test_brand_update_moves_the_domain(client: Client, reseller_api: ResellerApi) -> None:
    co = f"move-{uuid.uuid4().hex[:6]}"
    old, new = f"{co}.old.example", f"{co}.new.example"
    reseller_api.call("POST", "/v1/reseller/companies", company_body(co, [old]), co)
    publish_and_verify(reseller_api, co)
    assert "Ltd" in text(client.http.get("/signin", headers={"Host": old}))
    # WHEN the brand moves to another domain with another name
    updated = reseller_api.call(
        "PUT", f"/v1/reseller/companies/{co}/brand", brand(co, "Moved Homes", [new])
    )
    assert updated.status_code == 200, updated.body
    publish_and_verify(reseller_api, co)
    # THEN the new domain shows the new name and the old one is nobody's
    assert "Moved Homes" in text(client.http.get("/signin", headers={"Host": new}))
    assert "Powerlet" in text(client.http.get("/signin", headers={"Host": old}))
    # WHEN the slug changes THEN the old prefix is nobody's and the new one is the brand's
    renamed = brand(co + "-x", "Moved Homes", [new])
    assert (
        reseller_api.call("PUT", f"/v1/reseller/companies/{co}/brand", renamed).status_code == 200
    )
    assert client.http.get(f"/b/{co}/signin").status_code == 404
    assert "Moved Homes" in text(client.http.get(f"/b/{co}-x/signin"))
    # AND a brand with unreadable colours is refused
    bad = renamed | {"colours": {"primary": "#ffff00"}}
    refused = reseller_api.call("PUT", f"/v1/reseller/companies/{co}/brand", bad)
    assert refused.status_code == 400 and "contrast" in body(refused)["detail"]


def test_a_reseller_rotates_its_key_and_the_new_one_is_shown_once(client: Client) -> None:
    api = ResellerApi(client, new_reseller(f"rs-rot-{uuid.uuid4().hex[:6]}"))
    # WHEN the reseller issues a second key
    issued = api.call("POST", "/v1/reseller/keys", {"label": "ci"}, "rotate-1")
    replay = api.call("POST", "/v1/reseller/keys", {"label": "ci"}, "rotate-1")
    # THEN it works at once, and a replay names the same key without its secret
    assert issued.status_code == 201
    new_key = body(issued)["api_key"]
    assert new_key.startswith(f"plr_{body(issued)['key_id']}_")
    assert body(replay)["key_id"] == body(issued)["key_id"]
    assert body(replay)["api_key"] == "withheld: shown once"
    assert ResellerApi(client, new_key).call("GET", "/v1/reseller/companies").status_code == 200
    # AND the old key can then be revoked with the new one
    old_id = api.key.split("_")[1]
    rotated = ResellerApi(client, new_key)
    assert rotated.call("DELETE", f"/v1/reseller/keys/{old_id}").status_code == 200
    assert api.call("GET", "/v1/reseller/companies").status_code == 403


def test_top_ups_are_counted_once_for_the_usage_report(services: Container) -> None:
    # GIVEN a unit with a tenancy (demo data; a unit no other test checks the
    # balance of) and this month's top-up count
    unit = services.catalogue.get_unit("thames", "ldn-flat-1")
    admin = Principal("thames", "usage-test", "admin@thames.example", Role.COMPANY_ADMIN)
    now = datetime.now(UTC)
    before = services.usage_counters.report("thames", month_of(now)).top_ups
    # WHEN a top-up is made, then replayed with the same key
    key = uuid.uuid4().hex
    assert container().credit.top_up(admin, unit, 500, key, now).applied
    assert not container().credit.top_up(admin, unit, 500, key, now).applied
    # THEN the month counts one top-up more
    assert services.usage_counters.report("thames", month_of(now)).top_ups == before + 1


def test_a_suspended_reseller_is_refused_at_once(client: Client) -> None:
    reseller_id = f"rs-susp-{uuid.uuid4().hex[:6]}"
    api = ResellerApi(client, new_reseller(reseller_id))
    assert api.call("GET", "/v1/reseller/companies").status_code == 200
    # WHEN the platform suspends the reseller
    Reseller(keys.reseller_pk(reseller_id), keys.RESELLER_SK).update(
        actions=[Reseller.status.set("suspended")]
    )
    # THEN its keys stop working on the next request
    assert api.call("GET", "/v1/reseller/companies").status_code == 403
