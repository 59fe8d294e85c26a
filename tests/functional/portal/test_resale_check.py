"""The resale check page: the landlord enters the utility tariff they pay (a template) and
sees, per unit and per period, what the tenant was charged against what the same energy
costs at it, priced on the same readings, with a warning where the market caps resale.
A bad template is refused naming the field, nothing stored. (Access: access_cases/cycles.py.)
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from chalice.test import Client

from chalicelib.data import builders, keys
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.models import Bill, Property
from chalicelib.domain import EntryKind, LedgerEntry, Money
from chalicelib.wiring.container import Container
from local_aws import tariff_documents as td
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack

from .api_client import bearer
from .browser_client import Browser, text

pytestmark = pytest.mark.functional

CO, TZ = "formosa", "Asia/Taipei"


def _local(day: str, hour: int = 0) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=ZoneInfo(TZ))


@pytest.fixture(scope="module")
def prop(services: Container) -> str:
    """A Taipei property: a postpaid unit billed for November 2025 (330 kWh, NT$1,650 at a
    flat NT$5), and a prepaid unit charged this period NT$150 for 100 kWh."""
    tag = uuid.uuid4().hex[:6]
    prop_id = f"resale-{tag}"
    post_account, pre_account = f"a-rs-post-{tag}", f"a-rs-pre-{tag}"
    services.ledger.open_account(CO, post_account, "TWD", _local("2025-10-01"))
    now = datetime.now(UTC).astimezone(ZoneInfo(TZ))
    services.ledger.open_account(CO, pre_account, "TWD", now - timedelta(minutes=10))
    Catalogue.save_all(
        [
            builders.property_(
                CO,
                prop_id,
                name="Resale House",
                address="5 Test Road",
                city="Taipei",
                country="TW",
                time_zone=TZ,
                currency="TWD",
            ),
            builders.unit(
                CO,
                f"rs-post-{tag}",
                prop_id,
                name="A postpaid",
                unit_type="room",
                billing_mode="postpaid",
                tariff=td.flat("rs-flat-5", "5.00"),
                account_id=post_account,
            ),
            builders.unit(
                CO,
                f"rs-pre-{tag}",
                prop_id,
                name="B prepaid",
                unit_type="room",
                billing_mode="prepaid",
                tariff=td.flat("rs-flat-1-5", "1.50"),
                account_id=pre_account,
            ),
        ]
    )
    Bill(
        keys.account_pk(CO, post_account),
        keys.bill_sk("2025-11-01"),
        company_id=CO,
        account_id=post_account,
        period_start="2025-11-01",
        period_end="2025-12-01",
        total_minor=165000,
        currency="TWD",
        lines=[],
        opening_kwh="1000.000",
        opening_at=_local("2025-11-01").astimezone(UTC),
        closing_kwh="1330.000",
        closing_at=_local("2025-12-01").astimezone(UTC),
        energy_kwh="330.000",
    ).save()
    start, end = now - timedelta(minutes=5), now - timedelta(minutes=1)
    ms = lambda at: int(at.timestamp() * 1000)  # noqa: E731
    services.ledger.append(
        CO,
        LedgerEntry(
            f"cons:m-rs:{ms(start)}:{ms(end)}",
            pre_account,
            EntryKind.CONSUMPTION_CHARGE,
            Money(-15000, "TWD"),
            end,
            refs={"from_kwh": "50.000", "to_kwh": "150.000"},
        ),
    )
    return prop_id


@pytest.fixture(scope="module")
def admin(standin: LocalStack) -> dict[str, str]:
    return bearer(standin, "admin@formosa.example")


@pytest.fixture
def staff(client: Client) -> Browser:
    browser = Browser(client)
    assert browser.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    return browser


def _utility(prop_id: str) -> object:
    return Property.get(keys.company_pk(CO), keys.property_sk(prop_id)).utility_tariff


def test_the_landlord_enters_the_utility_tariff_and_sees_each_period_against_it(
    staff: Browser, prop: str, admin: dict[str, str]
) -> None:
    path = f"/portal/properties/{prop}/resale"
    page = text(staff.get(path))
    assert 'id="resale-empty"' in page and "Ministry" not in page
    assert "Taiwan: since 15 July 2024" in page  # the TW rule is stated
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    csrf = staff.csrf_of(path)
    # WHEN a tariff in another currency or an unknown one is chosen: refused, field named
    for bad in ("gb-ofgem-price-cap-electricity", "no-such-tariff"):
        refused = staff.post(path, {"version": version.group(1), "template_id": bad}, csrf)
        assert refused.status_code == 400, bad
        assert 'id="template_id-error"' in text(refused)
        assert _utility(prop) is None
    # WHEN Taipower's residential tariff is chosen
    saved = staff.post(
        path, {"version": version.group(1), "template_id": "tw-taipower-residential-tiered"}, csrf
    )
    assert saved.status_code == 303
    assert _utility(prop) == {"template_id": "tw-taipower-residential-tiered"}
    page = text(staff.get(path))
    rows = re.findall(r"<tr( class=\"warn\")?>\s*<td>([^<]*)</td>(.*?)</tr>", page, re.S)
    by_unit = {name: (bool(warn), cells) for warn, name, cells in rows}
    # THEN November 2025's bill (330 kWh, NT$1,650) is set against Taipower's NT$688 for the
    # same readings (120 x 1.78 + 210 x 2.26, whole dollars), over the TW cap
    warned, cells = by_unit["A postpaid"]
    assert warned and "1,650.00" in cells and "688.00" in cells and "962.00" in cells
    assert "Above the resale cap" in cells
    # AND the prepaid unit's charges this period (100 kWh, NT$150) are within it: the same
    # 100 kWh from its first charged day cost at least NT$178 at Taipower's first tier (1.78;
    # more once the tier bound, scaled to the days left in the period, is under 100 kWh)
    warned, cells = by_unit["B prepaid"]
    assert not warned and "150.00" in cells and "Within the cap" in cells
    assert 'id="resale-warnings"' in page
    # AND the JSON route answers the same figures
    response = staff.client.http.get(f"/v1/properties/{prop}/resale-check", headers=admin)
    assert response.status_code == 200, response.body
    answer = json.loads(response.body)
    assert answer["cap"]["market"] == "TW" and answer["warnings"] == 1
    post = next(r for r in answer["rows"] if r["unit_name"] == "A postpaid")
    assert post["at_utility_tariff"] == {"amount_minor": 68800, "currency": "TWD"}
    assert post["over_cap"] is True and post["markup_percent"] == "139.8"
    pre = next(r for r in answer["rows"] if r["unit_name"] == "B prepaid")
    assert pre["charged"]["amount_minor"] == 15000 and pre["energy_kwh"] == "100.000"
    assert pre["at_utility_tariff"]["amount_minor"] >= 17800 and pre["over_cap"] is False


def test_the_page_in_traditional_chinese_counts_in_du(staff: Browser, prop: str) -> None:
    staff.client.http.get("/lang?set=zh-TW")
    page = text(
        staff.get(f"/portal/properties/{prop}/resale", headers={"Accept-Language": "zh-TW"})
    )
    assert "轉售電價檢查" in page
