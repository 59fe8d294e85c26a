"""Staff review held readings and record meter exchanges (docs/metering-data.md, "Review"
and "Meter exchange"; docs/portal.md, "Held readings"): the JSON API and the readings
page through the real app, on readings ingested through the real handler.

Every test has a site of its own in the demo company (so the demo admin signs in), never
a demo unit other tests rely on: one DDS238 (65 A x 230 V: at most 0.331 kWh in a
minute), a prepaid tenancy opened at 100.000 kWh with 100 TWD of credit, 5 TWD a kWh.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from chalice.test import Client

from chalicelib.application.reading_requests import ReadingDecisionRequest
from chalicelib.auth.principal import Principal, Role
from chalicelib.data import builders
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.errors import NotFoundError
from chalicelib.domain import EntryKind, LedgerEntry, Money
from chalicelib.pipeline.senders import thing_name_for
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container
from local_aws import tariff_documents as td
from local_aws.demo_data import DEMO_PASSWORD
from local_aws.stack import LocalStack
from tests.functional.pipeline.rig import Bus, event

from .api_client import bearer, post_json
from .browser_client import Browser, text

pytestmark = pytest.mark.functional

CO = "formosa"
CREDIT_MINOR = 10_000
PRICE_MINOR_PER_KWH = 500
READ_DELAY = timedelta(milliseconds=100)  # the rig reads each meter 100 ms into its cycle
ZONE = ZoneInfo("Asia/Taipei")


class Site:
    """A property with one gateway, one metered prepaid unit and its tenancy."""

    def __init__(self, services: Container) -> None:
        tag = uuid.uuid4().hex[:8]
        self.property_id, self.gateway_id = f"rv-{tag}", f"gw-rv-{tag}"
        self.meter_id, self.unit_id = f"mrv{tag}", f"rv-u-{tag}"
        self.account_id = f"a-rv-{tag}"
        self.services = services
        thing = thing_name_for(CO, self.gateway_id)
        # Two hours ago on a whole minute: late enough that an exchange can be recorded now.
        self.t0 = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
        # Opened just before the first reading: one billing cycle, so the flat price makes
        # the charge exactly the cursor's energy (a gap over a cycle boundary is split and
        # each cycle rounds on its own, docs/tariffs.md "Gap rule").
        opened = self.t0 - timedelta(minutes=1)
        services.ledger.open_account(CO, self.account_id, "TWD", opened)
        services.ledger.append(
            CO,
            LedgerEntry(
                f"open-{self.account_id}",
                self.account_id,
                EntryKind.TOP_UP,
                Money(CREDIT_MINOR, "TWD"),
                opened,
            ),
        )
        Catalogue.save_all(
            [
                builders.property_(
                    CO,
                    self.property_id,
                    name="Review House",
                    address="2 Test Road",
                    city="Taipei",
                    country="TW",
                    time_zone="Asia/Taipei",
                    currency="TWD",
                ),
                builders.gateway(CO, self.gateway_id, thing, property_id=self.property_id),
                builders.meter(
                    CO, self.meter_id, self.gateway_id, 1, unit_id=self.unit_id, profile="dds238"
                ),
                builders.tenancy(
                    CO,
                    f"t-{tag}",
                    self.unit_id,
                    f"tenant-rv-{tag}",
                    opened.astimezone(ZONE).date().isoformat(),
                    account_id=self.account_id,
                    opening_kwh="100.000",
                ),
                builders.unit(
                    CO,
                    self.unit_id,
                    self.property_id,
                    name="Room R",
                    unit_type="room",
                    billing_mode="prepaid",
                    tariff=td.flat("rv-flat-5", "5.00"),
                    meter_id=self.meter_id,
                    account_id=self.account_id,
                    tenancy_id=f"t-{tag}",
                ),
            ]
        )
        boto3.client("iot").create_thing(thingName=thing)
        self.bus = Bus(CO, self.property_id, self.gateway_id, thing, [])
        self.seq = 0
        services.buses.forget()

    def at(self, minute: int) -> datetime:
        return self.t0 + timedelta(minutes=minute)

    def read_ms(self, minute: int) -> int:
        return int((self.at(minute) + READ_DELAY).timestamp() * 1000)

    def feed(self, readings: list[tuple[int, str]]) -> None:
        for minute, value in readings:
            handlers.ingest_telemetry(self.event(minute, value))

    def event(self, minute: int, value: str) -> dict[str, Any]:
        """The next cycle of the bus: sequence numbers without gaps, as a spool sends them
        (a recent gap would hold settlement back for the missing cycle, pipeline/gaps.py)."""
        self.seq += 1
        return event(self.bus, self.seq, self.at(minute), {self.meter_id: value})

    def account(self) -> Any:
        return self.services.ledger.get_account(CO, self.account_id)

    def charged_as_the_cursor_says(self) -> bool:
        """A flat price: whatever the settlements, the charge is the cursor's energy."""
        account = self.account()
        energy = Decimal(str(account.settled_kwh)) - Decimal("100.000")
        return CREDIT_MINOR - int(account.balance_minor) == energy * PRICE_MINOR_PER_KWH

    @property
    def api(self) -> str:
        return f"/v1/units/{self.unit_id}"

    @property
    def page(self) -> str:
        return f"/portal/units/{self.unit_id}/readings"


@pytest.fixture
def site(services: Container) -> Site:
    return Site(services)


@pytest.fixture(scope="module")
def admin(standin: LocalStack, services: Container) -> dict[str, str]:
    return bearer(standin, "admin@formosa.example")


@pytest.fixture
def staff(client: Client) -> Browser:
    browser = Browser(client)
    assert browser.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    return browser


def _held(client: Client, site: Site, admin: dict[str, str]) -> dict[str, Any]:
    response = client.http.get(f"{site.api}/held-readings", headers=admin)
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def _decide(client: Client, site: Site, admin: dict[str, str], minute: int, **body: Any) -> Any:
    path = f"{site.api}/held-readings/{site.read_ms(minute)}/decision"
    return post_json(client, path, admin, body)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


# --- listing ---


def test_the_list_shows_each_held_reading_with_its_evidence_and_the_readings_around_it(
    client: Client, site: Site, admin: dict[str, str]
) -> None:
    # GIVEN a misread zero between two good readings, then a +50 kWh glitch and a good one
    site.feed([(1, "100.100"), (2, "0.000"), (3, "100.300"), (4, "150.300"), (5, "100.400")])
    # WHEN staff list the unit's held readings
    doc = _held(client, site, admin)
    # THEN both are there, newest first, with the evidence validation kept
    assert (doc["meter_id"], doc["pending"], doc["pending_more"]) == (site.meter_id, 2, False)
    spike, zero = doc["held"]
    assert (spike["reason"], spike["reading_kwh"], spike["status"]) == ("spike", "150.300", "held")
    assert spike["evidence"] | {"anchor_at": None} == {
        "anchor_kwh": "100.300",
        "anchor_at": None,
        "energy_kwh": "50.000",
        "limit_kwh": "0.331",
        "watts": None,
        "drawn_kwh": None,
        "serial": None,
        "known_serial": None,
    }
    assert spike["reading_ms"] == site.read_ms(4) and spike["decision"] is None
    assert (zero["reason"], zero["reading_kwh"], zero["evidence"]["anchor_kwh"]) == (
        "backwards",
        "0.000",
        "100.100",
    )
    # AND the good readings just before and after each, from the bus's cycles
    assert zero["around"]["before"]["kwh"] == "100.100"
    assert zero["around"]["after"]["kwh"] == "100.300"
    assert zero["around"]["after"]["at"] == (site.at(3) + READ_DELAY).isoformat()
    assert spike["around"]["before"]["kwh"] == "100.300"
    assert spike["around"]["after"]["kwh"] == "100.400"
    # AND the latest reading and no exchange yet (nor one proposed)
    assert doc["latest_reading"]["kwh"] == "100.400"
    assert doc["exchanges"] == [] and doc["exchange_proposal"] is None
    opened_on = (site.t0 - timedelta(minutes=1)).astimezone(ZONE).date()
    midnight = datetime.combine(opened_on, datetime.min.time(), ZONE).astimezone(UTC)
    assert doc["tenancy_start"] == midnight.isoformat()  # midnight in Taipei


def test_the_page_says_the_evidence_in_words_and_the_unit_page_counts_the_held(
    site: Site, staff: Browser
) -> None:
    site.feed([(1, "100.100"), (2, "0.000"), (3, "100.300"), (4, "150.300")])
    local = (site.at(1) + READ_DELAY).astimezone(ZONE)
    # WHEN staff open the readings page
    page = text(staff.get(site.page))
    # THEN each held reading says why in words, on the property's clock
    assert f"Held: 0.000 kWh is below the last good reading 100.100 kWh ({local:%H:%M})." in page
    assert "Held: +50.000 kWh in 1 minute; this meter can pass at most 0.331 kWh." in page
    assert "2 readings held" in page
    # AND one form per reading (a reading below the last good one cannot be accepted)
    assert page.count('name="action" value="decide"') == 2
    assert page.count('name="decision" value="accept"') == 1
    assert 'id="exchange-form"' in page and 'id="no-exchanges"' in page
    # AND the unit page links to it with the count
    unit = text(staff.get(f"/portal/units/{site.unit_id}"))
    link = re.search(r'<a href="[^"]+/readings" id="readings-link">(.*?)</a>', unit)
    assert link and "2 readings held" in link.group(1)


def test_the_page_in_chinese(site: Site, staff: Browser) -> None:
    site.feed([(1, "100.100"), (2, "150.100")])
    staff.cookies["pl_lang"] = "zh_TW"
    page = text(staff.get(site.page))
    assert "暫扣：1 分鐘內增加 50.000 度；此電表最多只能通過 0.331 度。" in page
    assert "登記電表更換" in page


# --- decisions ---


def test_accepting_a_surge_charges_up_to_it_at_once(
    client: Client, site: Site, admin: dict[str, str]
) -> None:
    # GIVEN 0.700 kWh in one minute: more than the meter can pass, so held
    site.feed([(1, "100.100"), (2, "100.800")])
    # WHEN staff accept it as real
    response = _decide(client, site, admin, 2, decision="accept", note="oven and heater test")
    # THEN it is accepted, by this user, and the account is charged up to it now
    assert response.status_code == 200, response.body
    done = json.loads(response.body)
    assert done["settled"] is True
    reading = done["reading"]
    assert (reading["status"], reading["decision"]["note"]) == ("accepted", "oven and heater test")
    assert reading["decision"]["by"].startswith("user:")
    assert site.account().settled_kwh == "100.800" and site.charged_as_the_cursor_says()
    # AND a second decision on it is refused
    again = _decide(client, site, admin, 2, decision="reject", note="changed my mind")
    assert again.status_code == 409, again.body
    assert "already accepted" in json.loads(again.body)["detail"]
    assert _held(client, site, admin)["pending"] == 0


def test_rejecting_keeps_the_reading_out_of_every_charge(
    client: Client, site: Site, admin: dict[str, str]
) -> None:
    site.feed([(1, "100.100"), (2, "0.000")])
    before = site.account()
    response = _decide(client, site, admin, 2, decision="reject", note="bus glitch")
    assert response.status_code == 200, response.body
    done = json.loads(response.body)
    assert (done["reading"]["status"], done["settled"]) == ("rejected", False)
    after = site.account()
    assert (after.balance_minor, after.settled_kwh) == (before.balance_minor, before.settled_kwh)


def test_a_reading_below_the_last_good_one_cannot_be_accepted(
    client: Client, site: Site, admin: dict[str, str]
) -> None:
    site.feed([(1, "100.100"), (2, "0.000")])
    response = _decide(client, site, admin, 2, decision="accept", note="looks fine")
    assert response.status_code == 422, response.body
    assert "meter exchange" in json.loads(response.body)["detail"]
    assert _held(client, site, admin)["held"][0]["status"] == "held"


def test_a_reading_held_for_its_clock_can_only_be_rejected(
    client: Client, site: Site, admin: dict[str, str]
) -> None:
    # GIVEN a cycle stamped an hour ahead of when it arrived
    site.feed([(1, "100.100")])
    ahead = site.event(62, "100.200")
    ahead["received_at_ms"] = int(site.at(2).timestamp() * 1000)
    handlers.ingest_telemetry(ahead)
    assert _held(client, site, admin)["held"][0]["reason"] == "clock"
    refused = _decide(client, site, admin, 62, decision="accept", note="ok")
    assert refused.status_code == 422 and "clock" in json.loads(refused.body)["detail"]
    assert _decide(client, site, admin, 62, decision="reject", note="clock").status_code == 200


def test_an_estimate_from_the_page_replaces_the_reading_and_is_charged(
    site: Site, staff: Browser
) -> None:
    # GIVEN a held +50 kWh glitch
    site.feed([(1, "100.100"), (2, "150.100")])
    page = text(staff.get(site.page))
    form = {"action": "decide", "read_ms": str(site.read_ms(2)), "note": "usual use"}
    # WHEN the estimate is missing, out of reach, or fine
    missing = staff.post(site.page, {**form, "decision": "estimate"}, csrf=_csrf(page))
    too_high = staff.post(
        site.page, {**form, "decision": "estimate", "estimate_kwh": "101.000"}, csrf=_csrf(page)
    )
    done = staff.post(
        site.page, {**form, "decision": "estimate", "estimate_kwh": "100.200"}, csrf=_csrf(page)
    )
    # THEN the first two are refused beside the reading's form, keeping what was typed
    assert missing.status_code == 400 and "Please check: estimate" in text(missing)
    assert too_high.status_code == 422
    refused = text(too_high)
    assert "Check the estimate." in refused and "at most 100.431 kWh" in refused
    assert f'id="decide-{site.read_ms(2)}-error"' in refused and 'value="101.000"' in refused
    # AND the last is done: back to the page, which says so, and the account is charged
    assert done.status_code == 303
    assert done.headers["location"] == f"{site.page}?done=replaced"
    shown = text(staff.get(done.headers["location"]))
    assert "Reading replaced by the estimate" in shown and "Replaced by an estimate" in shown
    assert site.account().settled_kwh == "100.200" and site.charged_as_the_cursor_says()
    # AND the page refuses a second decision with 409
    again = staff.post(site.page, {**form, "decision": "reject"}, csrf=_csrf(shown))
    assert again.status_code == 409 and "This reading was already decided." in text(again)


# --- meter exchange ---


def test_a_meter_exchange_resolves_the_new_registers_readings_and_charges_once(
    client: Client, site: Site, admin: dict[str, str]
) -> None:
    # GIVEN the meter used 0.4 kWh, then was replaced by one starting at 0.000
    site.feed([(10, "100.100"), (20, "100.300"), (40, "100.500")])
    site.feed([(50, "0.010"), (60, "0.110")])
    assert _held(client, site, admin)["pending"] == 2
    swap = site.at(45).astimezone(ZONE).isoformat()
    body = {"at": swap, "old_final_kwh": "100.500", "new_opening_kwh": "0", "note": "swap"}
    # WHEN staff record the exchange
    response = post_json(client, f"{site.api}/meter-exchanges", admin, body)
    # THEN it is recorded, resolves both held readings and charged the old side
    assert response.status_code == 201, response.body
    done = json.loads(response.body)
    assert (done["released"], done["settled"]) == (2, True)
    assert done["exchange"] | {"by": None, "recorded_at": None} == {
        "at": site.at(45).isoformat(),
        "old_final_kwh": "100.500",
        "new_opening_kwh": "0.000",
        "by": None,
        "note": "swap",
        "recorded_at": None,
    }
    doc = _held(client, site, admin)
    assert doc["pending"] == 0 and {h["status"] for h in doc["held"]} == {"accepted"}
    assert [x["old_final_kwh"] for x in doc["exchanges"]] == ["100.500"]
    # AND the next reading charges from the new register: 0.5 + 0.2 kWh in all
    site.feed([(70, "0.200")])
    site.services.settings_rollout.settle_unit(CO, site.unit_id, datetime.now(UTC))
    assert site.account().settled_kwh == "0.200"
    assert CREDIT_MINOR - int(site.account().balance_minor) == 350
    # AND the same exchange again is refused: nothing is charged twice
    again = post_json(client, f"{site.api}/meter-exchanges", admin, body)
    assert again.status_code == 409, again.body


def test_the_exchange_form_on_the_page(site: Site, staff: Browser) -> None:
    site.feed([(10, "100.100"), (20, "0.050")])
    page = text(staff.get(site.page))
    local = site.at(15).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")
    form = {"action": "exchange", "at": local, "old_final_kwh": "100.100"}
    form |= {"new_opening_kwh": "0.000", "note": "meter replaced"}
    future = (datetime.now(UTC) + timedelta(hours=1)).astimezone(ZONE)
    ahead = staff.post(site.page, {**form, "at": f"{future:%Y-%m-%dT%H:%M}"}, csrf=_csrf(page))
    assert ahead.status_code == 400 and "Check the exchange time" in text(ahead)
    assert 'id="exchange-error"' in text(ahead)
    done = staff.post(site.page, form, csrf=_csrf(page))
    assert done.status_code == 303, text(done)
    shown = text(staff.get(done.headers["location"]))
    assert "Meter exchange recorded." in shown and "meter replaced" in shown
    assert 'id="exchanges"' in shown and "No reading of this meter is held." not in shown


def _proposal_form(page: str) -> dict[str, str]:
    """The fields of the proposal's form as the page pre-fills them (what one click sends)."""
    found = re.search(r'<form[^>]*id="proposal-form">(.*?)</form>', page, re.S)
    assert found, "no proposal form on the page"
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', found.group(1)))
    fields.pop("csrf_token", None)
    return fields


def _feed_serials(site: Site, cycles: list[tuple[int, str, str | None]]) -> None:
    """Cycles of (minute, register, the serial read in that cycle or None)."""
    for minute, value, serial in cycles:
        site.seq += 1
        serials = {site.meter_id: serial} if serial else None
        handlers.ingest_telemetry(
            event(site.bus, site.seq, site.at(minute), {site.meter_id: value}, serials=serials)
        )


def test_a_proposal_answered_same_meter_on_the_page_keeps_the_chain(
    site: Site, staff: Browser
) -> None:
    # GIVEN a serial that reads another way on the same meter
    _feed_serials(site, [(1, "100.100", "11112222"), (2, "100.200", "22221111")])
    page = text(staff.get(site.page))
    assert 'id="same-meter-form"' in page
    # WHEN staff answer "same meter" without a reason THEN they are told, beside the proposal
    refused = staff.post(site.page, {"action": "same_meter", "note": ""}, csrf=_csrf(page))
    assert refused.status_code == 400 and 'id="proposal-error"' in text(refused)
    # WHEN they give one
    done = staff.post(site.page, {"action": "same_meter", "note": "misread"}, csrf=_csrf(page))
    assert done.status_code == 303, text(done)
    shown = text(staff.get(done.headers["location"]))
    # THEN the proposal is gone, the serial read kept, and the held reading rejected
    assert "Kept as the same meter" in shown and "Proposed meter exchange" not in shown
    assert site.services.catalogue.get_meter(CO, site.meter_id).serial == "22221111"
    site.feed([(3, "100.300")])
    site.services.settings_rollout.settle_unit(CO, site.unit_id, datetime.now(UTC))
    assert CREDIT_MINOR - int(site.account().balance_minor) == 150  # 0.3 kWh, once


def test_a_changed_serial_proposes_an_exchange_that_one_click_records(
    client: Client, site: Site, staff: Browser, admin: dict[str, str]
) -> None:
    # GIVEN the gateway read serial 11112222, then 33334444 on a meter reading 0.050
    _feed_serials(site, [(1, "100.100", "11112222"), (2, "100.200", None)])
    _feed_serials(site, [(3, "0.050", "33334444"), (4, "0.150", None)])
    # WHEN staff open the readings page
    page = text(staff.get(site.page))
    # THEN it proposes the exchange with the serials and both readings, pre-filled
    assert "Proposed meter exchange" in page
    assert "33334444" in page and "11112222" in page
    form = _proposal_form(page)
    assert form == {
        "action": "exchange",
        "proposal": "1",
        "at": (site.at(3) + READ_DELAY).isoformat(timespec="milliseconds"),
        "old_final_kwh": "100.200",
        "new_opening_kwh": "0.050",
        "note": "Serial 11112222 replaced by 33334444 (reported by the gateway)",
    }
    # AND the new serial's readings can only be rejected there
    assert "another meter is fitted" in page
    # AND the API says the same, with the evidence on each held reading
    doc = _held(client, site, admin)
    assert doc["exchange_proposal"]["new_serial"] == "33334444"
    assert doc["exchange_proposal"]["at"] == form["at"]
    assert doc["held"][0]["evidence"]["serial"] == "33334444"
    assert doc["held"][0]["evidence"]["known_serial"] == "11112222"
    # WHEN staff record it as proposed, in one click
    done = staff.post(site.page, form, csrf=_csrf(page))
    assert done.status_code == 303, text(done)
    shown = text(staff.get(done.headers["location"]))
    # THEN the exchange is recorded, the proposal gone, and the new meter is charged from
    # its opening: 0.2 kWh of the old meter, then 0.1 kWh of the new one
    assert "Meter exchange recorded." in shown and "Proposed meter exchange" not in shown
    meter = site.services.catalogue.get_meter(CO, site.meter_id)
    assert (meter.serial, meter.serial_proposal) == ("33334444", None)
    site.feed([(6, "0.150")])
    site.services.settings_rollout.settle_unit(CO, site.unit_id, datetime.now(UTC))
    assert CREDIT_MINOR - int(site.account().balance_minor) == 150


# --- refusals ---


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"decision": "maybe", "note": ""}, ["decision", "note"]),
        ({"decision": "estimate", "note": "x"}, ["estimate_kwh"]),
        ({"decision": "reject", "note": "x", "estimate_kwh": "1.000"}, ["estimate_kwh"]),
        ({"decision": "estimate", "note": "x", "estimate_kwh": 100.2}, ["estimate_kwh"]),
        ({"decision": "estimate", "note": "x", "estimate_kwh": "100.2001"}, ["estimate_kwh"]),
        ({"decision": "reject", "note": "line\nbreak"}, ["note"]),
        ({"decision": "reject", "note": "n" * 201}, ["note"]),
        ({"decision": "reject", "note": "x", "by": "someone"}, ["by"]),
    ],
)
def test_a_bad_decision_is_refused_naming_the_field(
    client: Client, site: Site, admin: dict[str, str], body: dict[str, Any], fields: list[str]
) -> None:
    site.feed([(1, "100.100"), (2, "150.100")])
    response = _decide(client, site, admin, 2, **body)
    assert response.status_code == 400, response.body
    named = {e["field"] for e in json.loads(response.body)["errors"]}
    assert set(fields) <= named, named
    assert _held(client, site, admin)["held"][0]["status"] == "held"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"at": "2026-11-20T10:00:00"}, "at"),  # no UTC offset
        ({"at": 1_790_000_000}, "at"),  # a number is not a time
        ({"at": "2026-10-31T23:59:00+08:00"}, "at"),  # before the tenancy began
        ({"at": "2099-01-01T00:00:00+00:00"}, "at"),  # ahead
        ({"old_final_kwh": "-1"}, "old_final_kwh"),
        ({"new_opening_kwh": 0}, "new_opening_kwh"),
        ({"note": " "}, "note"),
    ],
)
def test_a_bad_exchange_is_refused_naming_the_field(
    client: Client, site: Site, admin: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    body = {"at": site.at(5).isoformat(), "old_final_kwh": "100.100", "new_opening_kwh": "0"}
    body |= {"note": "swap"} | changes
    response = post_json(client, f"{site.api}/meter-exchanges", admin, body)
    assert response.status_code == 400, response.body
    message = json.loads(response.body)["detail"]
    assert re.search(rf"^{field}\b", message, re.M), message
    assert _held(client, site, admin)["exchanges"] == []


def test_unknown_or_malformed_reading_times_answer_404(
    client: Client, site: Site, admin: dict[str, str]
) -> None:
    site.feed([(1, "100.100")])
    for reading_ms in (str(site.read_ms(1)), "abc", "1", "99999999999999"):
        path = f"{site.api}/held-readings/{reading_ms}/decision"
        response = post_json(client, path, admin, {"decision": "reject", "note": "x"})
        assert response.status_code == 404, (reading_ms, response.body)


def test_tenants_are_told_the_unit_is_not_there_by_the_use_case_too(
    site: Site, services: Container
) -> None:
    # Routes refuse tenants by role (403); the use case itself answers "not found", so a
    # route that forgot its roles still could not show or change anything.
    site.feed([(1, "100.100"), (2, "0.000")])
    tenant = Principal(CO, "tenant-x", "t@example.com", Role.TENANT)
    other = Principal("thames", "admin-x", "a@example.com", Role.COMPANY_ADMIN)
    for who in (tenant, other):
        with pytest.raises(NotFoundError):
            services.reading_review.review(who, site.unit_id)
        with pytest.raises(NotFoundError):
            services.reading_review.decide(
                who,
                site.unit_id,
                site.at(2) + READ_DELAY,
                ReadingDecisionRequest(decision="reject", note="x"),
                datetime.now(UTC),
            )
