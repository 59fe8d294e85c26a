"""A same-day changeover (issue 16, "a same-day changeover shows the energy to both"):
tenant A moves out on the reading of 11:03, tenant B moves in on it. B sees none of
A's morning (usage, relay commands, notes), A's share ends at the reading, staff see
both labelled, and every kWh is charged to exactly one of them.

The moves go through the use cases with the readings' times as "now" (the readings are
sent through ingest with past timestamps, and an account's settlement cursor starts at
its move-in); the views are read through the real app (pages and /v1) at the real
time. The property's zone is chosen so that the whole story happened earlier today.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from chalice.test import Client

from app import app
from chalicelib.application.move_requests import MoveInRequest, MoveOutRequest
from chalicelib.application.tenancy_usage import window_of_tenancy
from chalicelib.auth.principal import Principal, Role
from chalicelib.data import builders
from chalicelib.data.models import Tenancy
from chalicelib.data.relay_log import RelayLog
from chalicelib.domain.usage_periods import PeriodKind
from chalicelib.pipeline.senders import thing_name_for
from chalicelib.web.i18n import Translator
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container
from local_aws.demo_data import DEMO_PASSWORD, TARIFF_TW_FLAT
from local_aws.stack import LocalStack
from tests.functional.pipeline.rig import Bus, MeterSpec, event
from tests.functional.portal.api_client import bearer
from tests.functional.portal.browser_client import Browser, text

pytestmark = pytest.mark.functional

CO = "formosa"
PROP = "zz-changeover"
GATEWAY = "gw-zz-changeover"
UNIT = "chg-1"
METER = "m-chg-1"
PRICE_MINOR_PER_KWH = 500  # TARIFF_TW_FLAT
ADMIN = Principal(CO, "chg-admin", "admin@formosa.example", Role.COMPANY_ADMIN)
# (minutes after the story's start, cumulative kWh): A's morning, the changeover reading,
# B's afternoon. The bucket of minutes 60-75 holds both: 0.4 kWh A's, 0.9 kWh B's.
# A reading in every bucket: ingest prices a bucket from the one before it only.
A_READINGS = (
    (1, "1000.000"),
    (20, "1001.000"),
    (40, "1002.000"),
    (50, "1002.100"),
    (61, "1002.200"),
)
CHANGEOVER = (63, "1002.500")
B_READINGS = (
    (68, "1003.000"),
    (72, "1003.400"),
    (80, "1004.000"),
    (100, "1005.000"),
    (110, "1005.500"),
)
LAST = (125, "1006.000")  # in the bucket still open when the views are read
A_KWH, B_KWH, METER_DELTA = Decimal("2.500"), Decimal("3.500"), Decimal("6.000")
READ_DELAY = timedelta(milliseconds=100)  # the rig's rows are read 100 ms into the cycle


def _zone_at_two_pm(now: datetime) -> str:
    """A fixed-offset zone where it is 14:xx now: the story (the last 3 hours) is today."""
    hours = 14 - now.hour
    return "Etc/GMT" if hours == 0 else f"Etc/GMT{-hours:+d}"


@dataclass(frozen=True)
class Story:
    zone: str
    start: datetime
    tenancy_a: Tenancy
    tenancy_b: Tenancy
    email_a: str
    email_b: str

    def at(self, minutes: int) -> datetime:
        return self.start + timedelta(minutes=minutes)

    def read_at(self, minutes: int) -> datetime:
        return self.at(minutes) + READ_DELAY

    @property
    def today(self) -> date:
        return datetime.now(ZoneInfo(self.zone)).date()


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        yield c


@pytest.fixture(scope="module")
def story(services: Container) -> Story:
    now = datetime.now(UTC)
    zone = _zone_at_two_pm(now)
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    start -= timedelta(hours=3)
    thing = thing_name_for(CO, GATEWAY)
    services.catalogue.save_all(
        [
            builders.property_(
                CO,
                PROP,
                name="Changeover house",
                address="2 Test Road",
                city="Taipei",
                country="TW",
                time_zone=zone,
                currency="TWD",
            ),
            builders.gateway(CO, GATEWAY, thing, property_id=PROP),
            builders.meter(CO, METER, GATEWAY, 1, unit_id=UNIT, profile="dds238"),
            builders.unit(
                CO,
                UNIT,
                PROP,
                name="Room changeover",
                unit_type="room",
                billing_mode="prepaid",
                tariff=TARIFF_TW_FLAT,
                meter_id=METER,
            ),
        ]
    )
    boto3.client("iot").create_thing(thingName=thing)
    bus = Bus(CO, PROP, GATEWAY, thing, [MeterSpec(METER, UNIT, TARIFF_TW_FLAT)])
    seq = iter(range(1, 100))

    def read(*readings: tuple[int, str]) -> None:
        for minutes, value in readings:
            at = start + timedelta(minutes=minutes)
            handlers.ingest_telemetry(event(bus, next(seq), at, {METER: value}))

    def at(minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    suffix = secrets.token_hex(3)
    email_a, email_b = f"chg-a-{suffix}@formosa.example", f"chg-b-{suffix}@formosa.example"
    read(A_READINGS[0])
    a = _move_in(services, email_a, at(2))
    read(*A_READINGS[1:], CHANGEOVER)
    # staff switch the power off in A's morning with a note only staff and A should read
    log = RelayLog()
    log.record(CO, METER, "c-a", "off", "manual", "user:staff", "A owes rent", at(30))
    services.move_outs.move_out(
        ADMIN,
        UNIT,
        MoveOutRequest(tenancy_id=a.tenancy_id, ends_on=at(64).astimezone(ZoneInfo(zone)).date(),
                       disposition="refund"),
        at(64),
    )  # fmt: skip
    b = _move_in(services, email_b, at(65))
    log.record(CO, METER, "c-b", "on", "manual", "user:staff", "B welcome", at(90))
    read(*B_READINGS, LAST)
    return Story(
        zone,
        start,
        services.catalogue.get_tenancy(CO, a.tenancy_id),
        services.catalogue.get_tenancy(CO, b.tenancy_id),
        email_a,
        email_b,
    )


def _move_in(services: Container, email: str, now: datetime, unit: str = UNIT) -> Tenancy:
    zone = services.catalogue.get_property(CO, PROP).time_zone
    done = services.move_ins.move_in(
        ADMIN,
        unit,
        MoveInRequest(
            idempotency_key=secrets.token_urlsafe(18),
            starts_on=now.astimezone(ZoneInfo(zone)).date(),
            tenant_email=email,
            tenant_name="Changeover Tenant",
            opening_credit_minor=100_000,  # no credit cut to muddle the commands
        ),
        now,
    )
    boto3.client("cognito-idp").admin_set_user_password(
        UserPoolId=services.settings.user_pool_id,
        Username=email,
        Password=DEMO_PASSWORD,
        Permanent=True,
    )
    return done.tenancy


def _today(overview: dict[str, Any], today: date) -> dict[str, Any]:
    return next(d for d in overview["usage_by_day"] if d["day"] == today.isoformat())


def test_the_tenancies_end_and_start_at_the_changeover_reading(story: Story) -> None:
    # GIVEN A moved out and B moved in on the reading of minute 63
    changeover = story.read_at(CHANGEOVER[0])
    # THEN A's tenancy ends at that reading and B's starts there, not at midnight
    assert story.tenancy_a.starts_at == story.read_at(1)
    assert story.tenancy_a.ends_at == changeover
    assert story.tenancy_b.starts_at == changeover
    assert story.tenancy_a.closing_kwh == story.tenancy_b.opening_kwh == CHANGEOVER[1]


def test_the_new_tenant_sees_none_of_the_morning_through_the_api(
    client: Client, standin: LocalStack, story: Story
) -> None:
    # WHEN tenant B reads the unit's overview and today's chart
    auth = bearer(standin, story.email_b)
    overview = json.loads(client.http.get(f"/v1/units/{UNIT}/overview", headers=auth).body)
    chart = json.loads(
        client.http.get(f"/v1/units/{UNIT}/consumption?period=day", headers=auth).body
    )
    # THEN only B's energy: the changeover's bucket split at the reading
    assert Decimal(_today(overview, story.today)["energy_kwh"]) == B_KWH
    assert Decimal(chart["current"]["total_kwh"]) == B_KWH
    assert sum(Decimal(b["energy_kwh"]) for b in chart["bars"]) == B_KWH
    # and only the commands of B's tenancy, without A's note
    commands = [c["command_id"] for c in overview["relay_commands"]]
    assert "c-b" in commands and "c-a" not in commands
    assert all(c["issued_at"] > story.tenancy_b.starts_at.isoformat()
               for c in overview["relay_commands"])  # fmt: skip
    assert "A owes rent" not in json.dumps(overview)
    assert _today(overview, story.today)["tenancies"] == []  # no labels for a tenant


def test_the_new_tenant_sees_none_of_the_morning_on_the_portal(
    client: Client, story: Story
) -> None:
    tenant = Browser(client)
    assert tenant.sign_in(story.email_b, DEMO_PASSWORD, "/tenant/signin").status_code == 303
    page = text(tenant.get("/tenant?period=day"))
    total = re.search(r'class="chart-total">([^<]*)<', page)
    assert total is not None
    assert "3.500" in total.group(1), total.group(1)
    assert "A owes rent" not in page
    assert "B welcome" in page


def test_the_old_tenant_sees_nothing_after_the_reading(
    client: Client, standin: LocalStack, services: Container, story: Story
) -> None:
    # GIVEN tenant A, whose tenancy ended at the changeover reading
    auth = bearer(standin, story.email_a)
    # THEN the unit is no longer theirs, on the API and the portal
    assert client.http.get(f"/v1/units/{UNIT}/overview", headers=auth).status_code == 404
    assert client.http.get(f"/v1/units/{UNIT}/consumption", headers=auth).status_code == 404
    tenant = Browser(client)
    assert tenant.sign_in(story.email_a, DEMO_PASSWORD, "/tenant/signin").status_code == 303
    assert "B welcome" not in text(tenant.get("/tenant"))
    # and A's tenancy, as the views clip it, holds A's energy only: up to the reading
    a = Principal(CO, story.tenancy_a.tenant_sub, story.email_a, Role.TENANT)
    unit = services.catalogue.get_unit(CO, UNIT)
    prop = services.catalogue.get_property(CO, PROP)
    meter = services.catalogue.get_meter(CO, METER)
    now = datetime.now(UTC)
    chart = services.consumption.of(
        a, unit, prop, meter, story.tenancy_a, PeriodKind.DAY, story.today, now
    )
    assert chart.current.total_kwh == A_KWH
    days = services.views.daily_usage(
        CO, meter, story.zone, now, window_of_tenancy(story.tenancy_a, story.zone)
    )
    assert sum(d.energy_kwh for d in days) == A_KWH


def test_staff_see_both_tenancies_each_labelled(
    client: Client, standin: LocalStack, story: Story
) -> None:
    auth = bearer(standin, "admin@formosa.example")
    overview = json.loads(client.http.get(f"/v1/units/{UNIT}/overview", headers=auth).body)
    a, b = story.tenancy_a.tenancy_id, story.tenancy_b.tenancy_id
    # every command, each with the tenancy it was issued in
    labels = {c["command_id"]: c["tenancy_id"] for c in overview["relay_commands"]}
    assert (labels["c-a"], labels["c-b"]) == (a, b), overview["relay_commands"]
    # the whole day, and each tenancy's share of it
    day = _today(overview, story.today)
    assert Decimal(day["energy_kwh"]) == METER_DELTA
    assert {t["tenancy_id"]: Decimal(t["energy_kwh"]) for t in day["tenancies"]} == {
        a: A_KWH,
        b: B_KWH,
    }


def test_every_kwh_of_the_changeover_day_is_charged_to_exactly_one_tenancy(
    services: Container, story: Story
) -> None:
    # GIVEN A's charges, all posted by ingest and the move-out's final charge
    charged = {t.tenancy_id: _charged(services, t) for t in (story.tenancy_a, story.tenancy_b)}
    # and B's energy not yet settled, priced as B's move-out would (a dry run: no write)
    plan = services.move_outs.move_out(
        ADMIN,
        UNIT,
        MoveOutRequest(tenancy_id=story.tenancy_b.tenancy_id, ends_on=story.today,
                       disposition="refund", dry_run=True),
        datetime.now(UTC),
    ).plan  # fmt: skip
    charged[story.tenancy_b.tenancy_id] += -sum(
        e["amount_minor"] for e in plan["entries"] if e["kind"] == "consumption_charge"
    )
    # THEN A pays up to the changeover reading, B from it, and together the meter's advance
    assert _account(services, story.tenancy_a).settled_kwh == story.tenancy_b.opening_kwh
    assert charged == {
        story.tenancy_a.tenancy_id: int(A_KWH * PRICE_MINOR_PER_KWH),
        story.tenancy_b.tenancy_id: int(B_KWH * PRICE_MINOR_PER_KWH),
    }
    assert sum(charged.values()) == int(METER_DELTA * PRICE_MINOR_PER_KWH)


def _account(services: Container, tenancy: Tenancy) -> Any:
    return services.ledger.get_account(CO, tenancy.account_id)


def _charged(services: Container, tenancy: Tenancy) -> int:
    entries = services.ledger.all_entries(CO, tenancy.account_id, 1000)
    return -sum(int(e.amount_minor) for e in entries if e.entry_kind == "consumption_charge")


def test_a_typed_final_reading_is_where_the_next_tenancy_starts(
    services: Container, story: Story
) -> None:
    # GIVEN a unit whose meter last reported 500.000 kWh ten minutes ago, and tenant A
    now = datetime.now(UTC).replace(microsecond=0)
    services.catalogue.save_all(
        [
            builders.meter(CO, "m-chg-2", GATEWAY, 2, unit_id="chg-2", profile="dds238",
                           last_kwh="500.000", last_read_at=now - timedelta(minutes=10)),
            builders.unit(CO, "chg-2", PROP, name="Room typed", unit_type="room",
                          billing_mode="prepaid", tariff=TARIFF_TW_FLAT, meter_id="m-chg-2"),
        ]
    )  # fmt: skip
    a = _move_in(services, f"chg-c-{secrets.token_hex(3)}@formosa.example", now, "chg-2")
    # WHEN A moves out on a reading staff type, above the last report (the meter ran on)
    services.move_outs.move_out(
        ADMIN,
        "chg-2",
        MoveOutRequest(tenancy_id=a.tenancy_id, ends_on=story.today, disposition="refund",
                       final_kwh="500.800"),
        now + timedelta(minutes=1),
    )  # fmt: skip
    # and B moves in on the default opening reading
    b = _move_in(
        services,
        f"chg-d-{secrets.token_hex(3)}@formosa.example",
        now + timedelta(minutes=2),
        "chg-2",
    )
    # THEN B starts where A ended, on A's typed reading, not on the older report below it
    ended = services.catalogue.get_tenancy(CO, a.tenancy_id)
    assert ended.ends_at == now + timedelta(minutes=1)
    assert (b.opening_kwh, b.starts_at) == ("500.800", ended.ends_at)


# --- the tenancy statement page shows where each tenancy starts and ends ---


def _statement_page(client: Client, tenancy_id: str, language: str = "en") -> str:
    staff = Browser(client)
    assert staff.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    staff.cookies["pl_lang"] = language
    page = staff.get(f"/portal/units/{UNIT}/tenancies/{tenancy_id}")
    assert page.status_code == 200, text(page)[:1000]
    return text(page)


def _dd(page: str, dd_id: str) -> str:
    found = re.search(rf'<dd id="{dd_id}">([^<]*)</dd>', page)
    assert found, page[:3000]
    return found.group(1)


@pytest.mark.parametrize("language", ["en", "zh_TW"])
def test_each_statement_of_the_changeover_shows_its_time_on_the_propertys_clock(
    client: Client, story: Story, language: str
) -> None:
    # GIVEN A moved out and B moved in on the same reading, on a day in the property's zone
    tr = Translator(language)
    moment = lambda at: tr.t(  # noqa: E731
        "tenancy_moment", day=tr.date(at, story.zone), time=tr.time(at, story.zone)
    )
    changeover = moment(story.read_at(CHANGEOVER[0]))
    # WHEN staff open each tenancy's statement page
    a = _statement_page(client, story.tenancy_a.tenancy_id, language)
    b = _statement_page(client, story.tenancy_b.tenancy_id, language)
    # THEN A's runs from its move-in reading's time to the changeover's, B's from there,
    # each in the property's time (not UTC, not the server's), in the reader's language
    assert _dd(a, "starts") == moment(story.read_at(1))
    assert _dd(a, "ends-on") == changeover
    assert _dd(b, "starts") == changeover
    local = story.read_at(CHANGEOVER[0]).astimezone(ZoneInfo(story.zone))
    assert f"{local:%H:%M}" in changeover and story.zone != "Etc/GMT"  # the zone moved it
    assert tr.t("tenancy_span", start=moment(story.read_at(1)), end=changeover) in a


def test_a_tenancy_stored_with_dates_only_shows_its_dates_as_before(
    client: Client, services: Container, story: Story
) -> None:
    # GIVEN a tenancy stored before instants: its days only, no starts_at / ends_at
    tag = secrets.token_hex(3)
    account = f"a-chg-dates-{tag}"
    services.ledger.open_account(CO, account, "TWD", datetime(2026, 1, 1, tzinfo=UTC))
    services.catalogue.save_all(
        [builders.tenancy(CO, f"t-chg-dates-{tag}", UNIT, f"sub-{tag}", "2026-01-05",
                          account_id=account, opening_kwh="10.000", ends_on="2026-02-01",
                          closing_kwh="90.000")]
    )  # fmt: skip
    # WHEN staff open its statement THEN it shows the two days, and no time
    page = _statement_page(client, f"t-chg-dates-{tag}")
    assert (_dd(page, "starts"), _dd(page, "ends-on")) == ("2026-01-05", "2026-02-01")
    assert "2026-01-05 to 2026-02-01" in page


def test_the_new_tenant_sees_the_time_their_tenancy_began_on_their_statement(
    client: Client, story: Story
) -> None:
    # GIVEN tenant B, whose tenancy began at the changeover reading, reading zh-TW
    tenant = Browser(client)
    assert tenant.sign_in(story.email_b, DEMO_PASSWORD, "/tenant/signin").status_code == 303
    tenant.cookies["pl_lang"] = "zh_TW"
    # WHEN B opens the statement of their account
    page = tenant.get(f"/tenant/units/{UNIT}/statement")
    assert page.status_code == 200, text(page)[:1000]
    # THEN it says the tenancy began at the reading's time on the property's clock
    zh = Translator("zh_TW")
    at = story.read_at(CHANGEOVER[0])
    began = zh.t("tenancy_moment", day=zh.date(at, story.zone), time=zh.time(at, story.zone))
    found = re.search(r'id="statement-tenancy">([^<]*)<', text(page))
    assert found and zh.t("tenancy_from", start=began) in found.group(1), text(page)[:3000]
