"""The alert pages in a browser's terms: a tenant reads their own alerts in words and
chooses channels; staff see open alerts grouped and counted, and acknowledge one."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.pipeline.alerts import Alert
from chalicelib.web.cookies import SESSION_COOKIE
from chalicelib.wiring.container import Container
from tests.functional.pipeline.rig import FLAT_TWD, T0, Bus, MeterSpec, make_bus

from .browser_client import Browser

pytestmark = pytest.mark.functional

RAW = re.compile(r"_minor|\b(unit|meter|gateway|account):[a-z]")


def signed_in(client: Client, services: Container, bus: Bus, sub: str, audience: str) -> Browser:
    session_id = secrets.token_urlsafe(32)
    services.web_sessions.create(
        session_id,
        company_id=bus.company_id,
        user_sub=sub,
        email=f"{sub}@example.com",
        audience=audience,
        csrf_token=secrets.token_urlsafe(32),
        now=datetime.now(UTC),
        lifetime_s=600,
    )
    browser = Browser(client)
    browser.cookies[SESSION_COOKIE] = session_id
    return browser


def page_text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.body.decode())


def test_a_tenant_reads_their_alerts_in_words_and_chooses_channels(
    client: Client, services: Container
) -> None:
    bus = make_bus(services.ledger, [MeterSpec("m-n", "u-n", FLAT_TWD)])
    sub = bus.tenant_subs["u-n"]
    services.notifier.notify(
        Alert(
            bus.company_id,
            "low_credit",
            "unit:u-n:5000",
            T0,
            "tenant",
            sub,
            {"balance_minor": 4_250, "threshold_minor": 5_000, "currency": "TWD"},
        )
    )
    tenant = signed_in(client, services, bus, sub, "tenant")
    # WHEN the tenant opens their notifications page
    html = page_text(tenant.get("/tenant/notifications"))
    # THEN the alert reads as words, with the unit's name and money in its currency
    assert "Your electricity credit is low" in html
    assert "The credit for u-n, P is" in html and "42.50" in html and "50.00" in html
    assert "Top up soon to keep the power on." in html
    assert not RAW.search(html)
    # WHEN they untick e-mail and save
    csrf = tenant.csrf_of("/tenant/notifications")
    saved = tenant.post(
        "/tenant/notifications", {"form": "channels", "sms": "yes", "language": "en"}, csrf=csrf
    )
    assert saved.status_code == 303
    # THEN the page says so and the box stays unticked
    html = page_text(tenant.get(saved.headers["location"]))
    assert "Saved: your alerts reach you as chosen." in html
    assert 'id="ch-email" name="email" type="checkbox" value="yes">' in html
    # AND another tenant of the company sees none of it
    other = make_bus(services.ledger, [MeterSpec("m-o", "u-o", FLAT_TWD)])
    stranger = signed_in(client, services, other, other.tenant_subs["u-o"], "tenant")
    assert "Your electricity credit is low" not in page_text(stranger.get("/tenant/notifications"))


def test_staff_see_open_alerts_grouped_and_acknowledge_one(
    client: Client, services: Container
) -> None:
    bus = make_bus(services.ledger, [MeterSpec("m-s", "u-s", FLAT_TWD)])
    first = Alert(bus.company_id, "meter_offline", "meter:m-s", T0, "staff", None, {})
    services.notifier.notify(first)
    services.notifier.notify(
        Alert(bus.company_id, "gateway_offline", f"gateway:{bus.gateway_id}", T0, "staff")
    )
    admin = signed_in(client, services, bus, f"admin-{bus.company_id[3:]}", "staff")
    # WHEN staff open the dashboard THEN the open alerts are grouped by topic and counted
    html = page_text(admin.get("/portal"))
    assert 'id="open-alert-count">2<' in html
    assert "A meter stopped answering" in html and "1 open, 0 acknowledged" in html
    assert f"gateway {bus.gateway_id} at P" in html
    # WHEN they acknowledge the meter's
    csrf = admin.csrf_of("/portal")
    done = admin.post(
        f"/portal/alerts/{first.alert_id()}",
        {"action": "acknowledge", "back": "dashboard"},
        csrf=csrf,
    )
    assert done.status_code == 303
    # THEN the dashboard counts it as acknowledged, and says who on the notifications page
    html = page_text(admin.get(done.headers["location"]))
    assert "0 open, 1 acknowledged" in html
    listed = page_text(admin.get("/portal/notifications"))
    assert f"acknowledged by admin-{bus.company_id[3:]}@example.com" in listed
    # AND an unknown action is refused, nothing changes
    bad = admin.post(f"/portal/alerts/{first.alert_id()}", {"action": "delete"}, csrf=csrf)
    assert bad.status_code == 400
