"""What people see, on the demo with its past (``local_aws.demo_history``): a landlord,
a property manager, a tenant and the admin of a company a reseller onboarded walk their
pages in English and Traditional Chinese, at phone and desktop size. Every page fails
the test on:

- a raw key shown to a person (``_minor``, ``unit:``, ``gateway:``, ``topup:``);
- text wider than its box (``scrollWidth > clientWidth`` on headings, buttons and
  table cells) or a page wider than the screen;
- a consumption chart of a seeded tenancy without a bar for each day of this week so
  far (the demo has weeks of readings; the Taipei and Kaohsiung units are charted).

Screenshots: tests/artifacts/screenshots/seen-*.png. The stand-in is seeded once for
the module (its past costs the seed's time once) and served under the stage path
(``/api``): the walk only reads, and every link's and redirect's behaviour under both
mounts is the other browser tests' business, so walking the root too would double the
tier's time (~3 min) for nothing they do not already check.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from playwright.sync_api import Page, expect

from local_aws.demo_data import DEMO_PASSWORD
from local_aws.demo_history import LIVE_FROM, seed_history
from local_aws.seed import seed_demo
from local_aws.stack import LocalStack
from tests.browser.conftest import ARTIFACTS, MOUNTS, Portal, served

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}
LANGUAGES = {"en": "en-GB", "zh_TW": "zh-TW"}
RAW_KEYS = ("_minor", "unit:", "gateway:", "topup:")
HISTORY_DAYS = 14
MAKE_RUN_TIME_SCALE = 30.0  # the units' wider supply, as make run seeds them
ONBOARDED = "acme-homes"
ONBOARDED_ADMIN = f"admin@{ONBOARDED}.example"

# Everything a person reads that must fit its box; and the page itself.
LAYOUT_CHECK = """() => {
  const out = [];
  for (const el of document.querySelectorAll('h1, h2, h3, button, th, td, .button')) {
    if (el.getClientRects().length === 0) continue;
    if (el.closest('.visually-hidden')) continue;  // for screen readers: 1 px on purpose
    if (el.scrollWidth > el.clientWidth + 1) {
      out.push(`${el.tagName.toLowerCase()} "${el.innerText.trim().slice(0, 60)}" ` +
               `${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  const page = document.documentElement;
  if (page.scrollWidth > window.innerWidth + 1) {
    out.push(`page ${page.scrollWidth} > ${window.innerWidth}`);
  }
  return out;
}"""
# A word broken across lines inside a heading ("sign-" / "in"): each word's rects.
WORD_BREAK_CHECK = """() => {
  const out = [];
  for (const h of document.querySelectorAll('h1, h2, h3, button')) {
    const walker = document.createTreeWalker(h, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent;
      const re = /[A-Za-z][A-Za-z'-]*[A-Za-z]/g;
      let m;
      while ((m = re.exec(text)) !== null) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) out.push(`"${m[0]}" breaks across lines in ${h.tagName}`);
      }
    }
  }
  return out;
}"""
CHART_BARS = """() => [...document.querySelectorAll('svg.chart rect.bar')]
  .filter(r => parseFloat(r.getAttribute('height')) > 0).length"""


@dataclass(frozen=True)
class Walk:
    who: str
    screen: str  # the sign-in page
    email: str
    pages: tuple[str, ...]
    charted: tuple[str, ...] = ()  # pages of a seeded tenancy: their chart has bars


WALKS = (
    Walk(
        "landlord",
        "/signin",
        "landlord@formosa.example",
        ("/portal", "/portal/units/tpe-2f", "/portal/properties/tpe-daan/energy"),
        ("/portal/units/tpe-2f",),
    ),
    Walk(
        "manager",
        "/signin",
        "manager@formosa.example",
        ("/portal", "/portal/units/khh-shop-1", "/portal/units/khh-shop-1/bills"),
        ("/portal/units/khh-shop-1",),
    ),
    Walk("tenant", "/tenant/signin", "tenant@formosa.example", ("/tenant",), ("/tenant",)),
    Walk("onboarded", "/signin", ONBOARDED_ADMIN, ("/portal", "/portal/units/flat-1a")),
)


@pytest.fixture(scope="module")
def with_past() -> Iterator[LocalStack]:
    """The demo with its past, and a company a reseller onboarded through the API."""
    ARTIFACTS.mkdir(exist_ok=True)
    saved = dict(os.environ)
    stack = LocalStack()
    resources = stack.start(log_path=ARTIFACTS / "browser-aws-standin.log")
    try:
        info = seed_demo(resources, time_scale=MAKE_RUN_TIME_SCALE)
        # Two weeks of the past (make run seeds all since the tenancies opened): the
        # charts, the bill and the held reading are there, at half the seeding time.
        past = seed_history(resources, days=HISTORY_DAYS)
        # the one misread is held, everything else continues the record (a misread the
        # wider supply let through would hold every later reading as backwards)
        assert past.held == 1 and past.stored == past.messages > 60, past
        assert past.top_ups >= 2, past
        stack.onboarding_key = info["reseller_api_key"]  # type: ignore[attr-defined]
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def seen(with_past: LocalStack) -> Iterator[Portal]:
    with served(with_past, MOUNTS["stage"]) as portal:
        assert with_past.resources is not None
        key = with_past.onboarding_key  # type: ignore[attr-defined]
        _onboard(portal, key, with_past.resources.user_pool_id)
        yield portal


def _onboard(portal: Portal, key: str, pool_id: str) -> None:
    """The reseller's program onboards a company with a gateway and a unit; its admin
    is given the demo password, as the invitation's first sign-in would set one."""

    def call(path: str, body: dict[str, Any], idem: str) -> None:
        request = urllib.request.Request(
            f"{portal.origin}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Idempotency-Key": idem,
            },
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status in (200, 201), answer.read()

    brand = {
        "slug": ONBOARDED,
        "display_name": "Acme Homes",
        "colours": {"primary": "#8a3b00", "primary_text": "#ffffff"},
        "custom_domains": [],
        "support_email": f"help@{ONBOARDED}.example",
        "email_sender_name": "Acme Homes",
        "email_sender_address": f"no-reply@{ONBOARDED}.example",
        "sms_sender_id": "Acme",
        "default_locale": "en",
        "currency": "TWD",
        "time_zone": "Asia/Taipei",
        "legal_footer": "Acme Homes Ltd",
    }
    company = {
        "company_id": ONBOARDED,
        "name": "Acme Homes",
        "brand": brand,
        "admin": {"email": ONBOARDED_ADMIN},
    }
    call("/v1/reseller/companies", company, "seen-company-0001")
    tariff = {"kind": "flat", "tariff_id": "acme-flat", "currency": "TWD", "price_per_kwh": "5.00"}
    gateway = {
        "gateway_id": "gw-1",
        "property": {
            "property_id": "p-main",
            "name": "Main Street 5",
            "address": "5 Main Street",
            "city": "Taipei",
            "country": "TW",
        },
        "bus": {"port": "/dev/ttyUSB0", "baudrate": 9600},
    }
    call(f"/v1/reseller/companies/{ONBOARDED}/gateways", gateway, "seen-gateway-0001")
    meters = {
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
                    "tariff": tariff,
                },
            }
        ]
    }
    call(f"/v1/reseller/companies/{ONBOARDED}/gateways/gw-1/meters", meters, "seen-meters-0001")
    boto3.client("cognito-idp").admin_set_user_password(
        UserPoolId=pool_id, Username=ONBOARDED_ADMIN, Password=DEMO_PASSWORD, Permanent=True
    )


def _problems(page: Page, path: str, charted: bool) -> list[str]:
    found: list[str] = []
    text = page.locator("body").inner_text()
    found += [f"raw key {key!r} shown" for key in RAW_KEYS if key in text]
    found += page.evaluate(LAYOUT_CHECK)
    found += page.evaluate(WORD_BREAK_CHECK)
    if charted:
        # this week's chart (the default): a bar for every day of it so far, Monday first;
        # the demo's past reaches a few minutes ago (LIVE_FROM), so a day counts once it
        # has had that much history
        now = datetime.now(ZoneInfo("Asia/Taipei"))
        monday = now.date() - timedelta(days=now.weekday())
        seen_until = (now - LIVE_FROM - timedelta(minutes=1)).date()
        elapsed = max(0, (seen_until - monday).days + 1)
        bars = page.evaluate(CHART_BARS)
        if bars < elapsed:
            found.append(f"the week's chart has {bars} bars for {elapsed} days of history")
    return [f"{path}: {p}" for p in found]


@pytest.mark.parametrize("walk", WALKS, ids=[w.who for w in WALKS])
def test_every_page_reads_as_words_fits_the_screen_and_has_its_history(
    seen: Portal, chromium: Any, walk: Walk
) -> None:
    # Screenshots once (under the stage, the deployed URL's shape); checks under both.
    folder = ARTIFACTS / "screenshots" if seen.mount else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    errors: list[str] = []
    for language, locale in LANGUAGES.items():
        context = chromium.new_context(viewport=SIZES["phone"], locale=locale)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{seen.url}/lang/{language}?next={walk.screen}")
        shots = folder / f"seen-{walk.who}-{language}" if folder is not None else None
        problems += _look(page, f"{walk.screen} ({language})", False, shots)
        page.locator("input[type=email]").fill(walk.email)
        page.locator("input[type=password]").fill(DEMO_PASSWORD)
        page.locator("form button[type=submit]").first.click()
        expect(page).not_to_have_url(f"{seen.url}{walk.screen}")
        for path in walk.pages:
            page.goto(f"{seen.url}{path}")
            assert page.locator("h1").count() >= 1, f"{path} has no heading"
            where = f"{path} ({language}, {walk.who})"
            name = path.strip("/").replace("/", "-")
            shot = folder / f"seen-{walk.who}-{language}-{name}" if folder is not None else None
            problems += _look(page, where, path in walk.charted, shot)
        context.close()
    assert not errors, errors
    assert not problems, "\n".join(problems)


def _look(page: Page, where: str, charted: bool, shot: Path | None) -> list[str]:
    """The page at each size: what is wrong with it, and its screenshot."""
    found: list[str] = []
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        found += [f"{p} at {size}" for p in _problems(page, where, charted)]
        if shot is not None:
            page.screenshot(path=f"{shot}-{size}.png", full_page=True)
    page.set_viewport_size(SIZES["phone"])
    return found
