"""Amounts typed on the pages in a currency where CLDR and ISO 4217 disagree (IDR: 0
digits in CLDR, 2 in ISO and the ledger), through the real app against the stand-in.

The module brings its own property (``zz-money``) and units so no other test's data
changes."""

from __future__ import annotations

import html
import re
import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from chalice.test import Client

from chalicelib.data import builders
from chalicelib.pipeline.senders import thing_name_for
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.seed import ensure_thing

from .browser_client import Browser, text

pytestmark = pytest.mark.functional

CO = "formosa"
PROP = "zz-money"
GATEWAY = "gw-zz-money"
THING = thing_name_for(CO, GATEWAY)  # as registration names it: the roles cover pl-* only
IDR_UNIT = "mn-idr"
NO_CURRENCY_UNIT = "mn-no-currency"
TARIFF_IDR_FLAT = {
    "kind": "flat",
    "tariff_id": "id-flat-1500",
    "currency": "IDR",
    "price_per_kwh": "1500",
}
# A stored tariff without its currency (written before currencies were checked): the
# old code read its amounts as TWD.
TARIFF_WITHOUT_CURRENCY = {"kind": "flat", "tariff_id": "legacy-flat", "price_per_kwh": "5.00"}
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
BALANCE = re.compile(r'id="balance">([^<]+)<')


@pytest.fixture(scope="module")
def units(services: Any) -> None:
    now = datetime.now(UTC)
    ensure_thing(boto3.client("iot"), THING)  # the relay decision goes to its shadow
    items: list[Any] = [
        builders.property_(
            CO,
            PROP,
            name="Rupiah house",
            address="1 Jalan Test",
            city="Jakarta",
            country="ID",
            time_zone="Asia/Jakarta",
            currency="IDR",
        ),
        builders.gateway(CO, GATEWAY, THING, property_id=PROP),
    ]
    items.append(
        builders.meter(
            CO,
            f"m-{IDR_UNIT}",
            GATEWAY,
            1,
            unit_id=IDR_UNIT,
            profile="dds238",
            last_kwh="10.000",
            last_read_at=now,
        )
    )
    common = {"unit_type": "room", "billing_mode": "prepaid"}
    items.append(
        builders.unit(
            CO,
            IDR_UNIT,
            PROP,
            name="Room IDR",
            tariff=TARIFF_IDR_FLAT,
            meter_id=f"m-{IDR_UNIT}",
            **common,
        )
    )
    # occupied (an account, so the page offers the form) but its tariff lost its currency
    services.ledger.open_account(CO, "acc-mn-legacy", "TWD", now)
    items.append(
        builders.unit(
            CO,
            NO_CURRENCY_UNIT,
            PROP,
            name="Room legacy",
            tariff=TARIFF_WITHOUT_CURRENCY,
            account_id="acc-mn-legacy",
            tenancy_id="ten-mn-legacy",
            **common,
        )
    )
    services.catalogue.save_all(items)


@pytest.fixture
def staff(client: Client, units: None) -> Browser:
    browser = Browser(client)
    assert browser.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    return browser


def _balance_minor(services: Any, unit_id: str) -> int:
    unit = services.catalogue.get_unit(CO, unit_id)
    derived = services.ledger.derive_balance(CO, unit.account_id)
    assert derived.consistent, derived
    return int(derived.stored_minor)


def _shown_balance(page: str) -> str:
    found = BALANCE.search(page)
    assert found, "no balance on the page"
    return html.unescape(found.group(1)).replace("\xa0", " ")


def _top_up(staff: Browser, unit_id: str, amount: str) -> Any:
    csrf = staff.csrf_of(f"/portal/units/{unit_id}")
    # the form's key when the page offers the form (a unit with a tenancy), else a new one
    key = KEY.search(text(staff.last))
    form = {"amount": amount, "idempotency_key": key.group(1) if key else secrets.token_urlsafe(18)}
    return staff.post(f"/portal/units/{unit_id}/top-up", form, csrf=csrf)


def test_idr_amounts_are_stored_as_typed_and_shown_with_the_domains_decimals(
    staff: Browser, services: Any
) -> None:
    # GIVEN a vacant IDR unit moved in with an opening credit typed as 1,000 rupiah
    form = text(staff.get(f"/portal/units/{IDR_UNIT}/move-in"))
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()
    fields = {
        "idempotency_key": KEY.search(form).group(1),  # type: ignore[union-attr]
        "tenant_email": "rupiah.mover@formosa.example",
        "tenant_name": "Rupiah Mover",
        "locale": "en",
        "starts_on": today,
        "opening_kwh": "10.000",
        "opening_credit": "1,000",
    }
    moved = staff.post(
        f"/portal/units/{IDR_UNIT}/move-in", fields, csrf=staff.csrf_of(f"/portal/units/{IDR_UNIT}")
    )
    assert moved.status_code == 303, text(moved)
    assert _balance_minor(services, IDR_UNIT) == 100_000  # 1,000.00 IDR in hundredths
    # WHEN the landlord adds 100000 rupiah of credit
    done = _top_up(staff, IDR_UNIT, "100000")
    # THEN exactly what was typed is stored: 10,000,000 hundredths (CLDR's 0 digits would
    # have stored 100,000, a hundred times too little)
    assert done.status_code == 303, text(done)
    assert _balance_minor(services, IDR_UNIT) == 100_000 + 10_000_000
    # AND the receipt and the unit page show the domain's two decimals
    receipt = text(staff.get(done.headers["location"]))
    assert re.search(r'id="receipt-amount">IDR\s?100,000\.00<', receipt), receipt
    assert _shown_balance(text(staff.get(f"/portal/units/{IDR_UNIT}"))).endswith("101,000.00")


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("1e3", "exponent"),
        ("1_000", "'_'"),
        ("1,0,0", "groups of three"),
        (".5", "before the"),
        ("１００", "0-9"),
        ("100.001", "at most 2 decimals"),
    ],
)
def test_a_malformed_top_up_is_refused_with_its_reason_and_credits_nothing(
    staff: Browser, services: Any, amount: str, reason: str
) -> None:
    if services.catalogue.get_unit(CO, IDR_UNIT).account_id is None:
        pytest.skip("needs the tenancy of the first test")
    before = _balance_minor(services, IDR_UNIT)
    refused = _top_up(staff, IDR_UNIT, amount)
    assert refused.status_code == 400
    assert reason in html.unescape(text(refused))
    assert _balance_minor(services, IDR_UNIT) == before


def test_a_unit_without_a_currency_takes_no_money_in_a_guessed_one(
    staff: Browser, services: Any
) -> None:
    # GIVEN a unit whose stored tariff has no currency
    # WHEN credit is added THEN it is refused as such, never read as TWD
    refused = _top_up(staff, NO_CURRENCY_UNIT, "100")
    assert refused.status_code == 422
    assert "no supported currency" in html.unescape(text(refused))
    assert _balance_minor(services, NO_CURRENCY_UNIT) == 0
