"""Move-in and move-out through the real app (pages and JSON) against the stand-in.

The module brings its own property, gateway and units (``zz-moves``, ``mv-*``) so no
other test's demo data changes; the demo's units are only used by the access cases.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.exceptions import ClientError
from chalice.test import Client

from chalicelib.application import move_out as moves_out
from chalicelib.data.control_state import MeterControlState
from chalicelib.data.errors import CursorMovedError
from chalicelib.data.keys import tenancies_of_unit_gsi1pk
from chalicelib.data.models import LedgerEntryItem, Tenancy
from chalicelib.data.settlement_store import Cursor
from chalicelib.domain import EntryKind, LedgerEntry, Money, Reading, kwh, parse_tariff
from chalicelib.pipeline.charging import component_key, local_day, month_of
from local_aws.demo_data import DEMO_PASSWORD, TARIFF_TW_FLAT, TARIFF_UK_FLAT
from local_aws.stack import LocalStack

from .api_client import bearer, post_json
from .browser_client import Browser, text
from .houses import vacant_rooms

pytestmark = pytest.mark.functional

CO = "formosa"
PROP = "zz-moves"
GATEWAY = "gw-zz-moves"
UNITS = (
    "mv-page",
    "mv-api",
    "mv-src",
    "mv-dst",
    "mv-low",
    "mv-resume",
    "mv-race",
    "mv-next",
    "mv-gbp",
    "mv-ctx",
)
OPENING = "1000.000"
PRICE_MINOR_PER_KWH = 500  # TARIFF_TW_FLAT: 5.00 TWD per kWh
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def units(services: Any) -> dict[str, str]:
    items = vacant_rooms(
        CO,
        PROP,
        GATEWAY,
        UNITS,
        name="Move test house",
        address="1 Test Road",
        opening_kwh=OPENING,
        tariffs={"mv-gbp": TARIFF_UK_FLAT},
    )
    services.catalogue.save_all(items)
    return {u: u for u in UNITS}


@pytest.fixture(scope="module")
def admin(standin: LocalStack, services: Any) -> dict[str, str]:
    return bearer(standin, "admin@formosa.example")


def _today() -> str:
    return datetime.now(ZoneInfo("Asia/Taipei")).date().isoformat()


def _move_in(
    client: Client, auth: dict[str, str], unit: str, email: str, credit: int, **extra: Any
) -> Any:
    body = {
        "idempotency_key": extra.pop("key", secrets.token_urlsafe(18)),
        "starts_on": _today(),
        "tenant_email": email,
        "tenant_name": "Test Tenant",
        "locale": "en",
        "opening_credit_minor": credit,
        **extra,
    }
    return post_json(client, f"/v1/units/{unit}/move-in", auth, body)


def _tenancies(unit: str) -> list[Tenancy]:
    return [
        t for t in Tenancy.gsi1.query(tenancies_of_unit_gsi1pk(CO, unit)) if isinstance(t, Tenancy)
    ]


def _balance(services: Any, account_id: str) -> int:
    derived = services.ledger.derive_balance(CO, account_id)
    assert derived.consistent, derived
    return derived.stored_minor


def _entries(account_id: str) -> list[LedgerEntryItem]:
    from chalicelib.data import keys

    return list(
        LedgerEntryItem.query(
            keys.account_pk(CO, account_id),
            LedgerEntryItem.sk.startswith(keys.LEDGER_ENTRY_PREFIX),
            consistent_read=True,
        )
    )


def _tenant_browser(client: Client, services: Any, email: str) -> Browser:
    """The invitation's temporary password goes by e-mail; the test sets one instead."""
    cognito = boto3.client("cognito-idp")
    pool = services.settings.user_pool_id
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=email, Password=DEMO_PASSWORD, Permanent=True
    )
    tenant = Browser(client)
    assert tenant.sign_in(email, DEMO_PASSWORD, "/tenant/signin").status_code == 303
    return tenant


def test_page_journey_move_in_tenant_sees_unit_then_move_out_with_refund(
    client: Client, units: dict[str, str], services: Any
) -> None:
    staff = Browser(client)
    assert staff.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    assert 'id="move-in-link"' in text(staff.get("/portal/units/mv-page"))
    # GIVEN the move-in form of a vacant unit, the latest reading as the default opening
    form = text(staff.get("/portal/units/mv-page/move-in"))
    assert 'value="1000.000"' in form
    fields = {
        "csrf_token": CSRF.search(form).group(1),  # type: ignore[union-attr]
        "idempotency_key": KEY.search(form).group(1),  # type: ignore[union-attr]
        "tenant_email": "mover.page@formosa.example",
        "tenant_name": "Page Mover",
        "locale": "zh_TW",
        "starts_on": _today(),
        "opening_kwh": "1000.000",
        "opening_credit": "300",
    }
    # WHEN it is submitted twice (a double click)
    first = staff.post("/portal/units/mv-page/move-in", fields)
    second = staff.post("/portal/units/mv-page/move-in", fields)
    # THEN one tenancy, one opening credit, and both land on its statement
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(_tenancies("mv-page")) == 1
    unit = services.catalogue.get_unit(CO, "mv-page")
    tenancy = services.catalogue.get_tenancy(CO, unit.tenancy_id)
    account = services.ledger.get_account(CO, unit.account_id)
    assert (account.settled_kwh, tenancy.opening_kwh) == (OPENING, OPENING)
    assert _balance(services, unit.account_id) == 30000
    member = services.catalogue.get_membership(CO, tenancy.tenant_sub)
    assert (member.role, member.email, member.locale) == ("tenant", fields["tenant_email"], "zh_TW")
    attrs = _cognito_attrs(services, fields["tenant_email"])
    assert (attrs["custom:company_id"], attrs["custom:role"]) == (CO, "tenant")
    statement = text(staff.get(first.headers["location"]))
    assert fields["tenant_email"] in statement and 'id="done"' in statement

    # AND the tenant signs in and sees the unit
    tenant = _tenant_browser(client, services, fields["tenant_email"])
    assert "Room mv-page" in text(tenant.get("/tenant"))

    # WHEN the landlord moves the tenant out: the first submit shows the settlement
    out_form = text(staff.get("/portal/units/mv-page/move-out"))
    out = {
        "csrf_token": CSRF.search(out_form).group(1),  # type: ignore[union-attr]
        "tenancy_id": tenancy.tenancy_id,
        "ends_on": _today(),
        "final_kwh": "1012.000",
        "disposition": "refund",
    }
    preview = staff.post("/portal/units/mv-page/move-out", out)
    assert preview.status_code == 200 and 'id="move-out-confirm"' in text(preview)
    assert (
        services.catalogue.get_unit(CO, "mv-page").tenancy_id == tenancy.tenancy_id
    )  # nothing yet
    done = staff.post("/portal/units/mv-page/move-out", {**out, "confirm": "yes"})
    assert done.status_code == 303
    page = text(staff.get(done.headers["location"]))
    # THEN 12 kWh at 5.00 = 60.00 charged, 240.00 refunded, balance 0
    assert 'id="final-energy">12.000 kWh' in page
    assert "NT$60.00" in page and 'id="refund">NT$240.00' in page
    assert _balance(services, unit.account_id) == 0
    assert services.catalogue.get_unit(CO, "mv-page").tenancy_id is None
    assert "Room mv-page" not in text(tenant.get("/tenant"))
    assert (
        tenant.get("/tenant/units/mv-page/receipts/opening:" + tenancy.tenancy_id).status_code
        == 404
    )


def _cognito_attrs(services: Any, email: str) -> dict[str, str]:
    user = boto3.client("cognito-idp").admin_get_user(
        UserPoolId=services.settings.user_pool_id, Username=email
    )
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def test_api_move_in_double_submit_is_one_tenancy_and_occupied_unit_is_refused(
    client: Client, units: dict[str, str], admin: dict[str, str], services: Any
) -> None:
    key = secrets.token_urlsafe(18)
    email = "mover.api@formosa.example"
    first = _move_in(client, admin, "mv-api", email, 10000, key=key)
    again = _move_in(client, admin, "mv-api", email, 10000, key=key)
    assert (first.status_code, again.status_code) == (201, 200), first.body
    a, b = json.loads(first.body), json.loads(again.body)
    assert a["tenancy_id"] == b["tenancy_id"] and b["replayed"] is True
    assert a["tenant"]["invited"] is True and a["opening_kwh"] == OPENING
    assert len(_tenancies("mv-api")) == 1
    assert [e.entry_id for e in _entries(a["account_id"])] == [f"opening:{a['tenancy_id']}"]
    assert _balance(services, a["account_id"]) == 10000
    # the same key with other figures is a conflict, not a second tenancy
    other = _move_in(client, admin, "mv-api", email, 999, key=key)
    assert other.status_code == 409
    # another move-in (a new form) on the occupied unit is refused, clearly
    occupied = _move_in(client, admin, "mv-api", "someone.else@formosa.example", 0)
    assert occupied.status_code == 409 and "occupied" in json.loads(occupied.body)["detail"]
    assert len(_tenancies("mv-api")) == 1
    with pytest.raises(ClientError):  # no login was left behind for the refused move-in
        _cognito_attrs(services, "someone.else@formosa.example")


def test_move_in_checks_the_opening_reading_and_the_tenant_login(
    client: Client, units: dict[str, str], admin: dict[str, str]
) -> None:
    below = _move_in(client, admin, "mv-low", "low@formosa.example", 0, opening_kwh="999.999")
    far = _move_in(client, admin, "mv-low", "low@formosa.example", 0, opening_kwh="1100.001")
    assert (below.status_code, far.status_code) == (422, 422)
    assert "below the latest reading" in json.loads(below.body)["detail"]
    # a staff login or another company's login never becomes this tenant
    for email in ("landlord@formosa.example", "admin@thames.example"):
        refused = _move_in(client, admin, "mv-low", email, 0)
        assert refused.status_code == 409, refused.body
    assert _tenancies("mv-low") == []
    extra = _move_in(client, admin, "mv-low", "low@formosa.example", 0, company_id="thames")
    assert extra.status_code == 400  # unknown fields are refused


def test_move_out_refund_zeroes_the_ledger_and_a_retry_changes_nothing(
    client: Client, units: dict[str, str], admin: dict[str, str], services: Any
) -> None:
    moved = json.loads(_move_in(client, admin, "mv-low", "low@formosa.example", 20000).body)
    account = moved["account_id"]
    body = {
        "tenancy_id": moved["tenancy_id"],
        "ends_on": _today(),
        "final_kwh": "999.000",
        "disposition": "refund",
    }
    # a final reading below what the account is charged up to is refused; nothing changes
    below = post_json(client, "/v1/units/mv-low/move-out", admin, body)
    assert below.status_code == 422 and "below" in json.loads(below.body)["detail"]
    assert services.catalogue.get_tenancy(CO, moved["tenancy_id"]).move_out is None
    # a dry run shows the figures and writes nothing
    body["final_kwh"] = "1007.500"
    dry = json.loads(
        post_json(client, "/v1/units/mv-low/move-out", admin, {**body, "dry_run": True}).body
    )
    assert dry["dry_run"] is True and dry["move_out"]["final_energy_kwh"] == "7.500"
    assert services.catalogue.get_tenancy(CO, moved["tenancy_id"]).move_out is None
    # (an ingest whose catalogue was loaded now keeps naming this tenancy for a while)
    stale_bus = services.buses.load(CO, GATEWAY)
    # WHEN the move-out is done
    done = post_json(client, "/v1/units/mv-low/move-out", admin, body)
    assert done.status_code == 201, done.body
    doc = json.loads(done.body)["move_out"]
    charge = 7500 * PRICE_MINOR_PER_KWH // 1000  # 7.5 kWh at 5.00
    kinds = {e["kind"]: e["amount"]["amount_minor"] for e in doc["entries"]}
    # THEN the refund equals the credit left after the final charge, and the balance is 0
    assert kinds == {"consumption_charge": -charge, "refund": -(20000 - charge)}
    assert doc["balance_before"]["amount_minor"] == 20000
    assert doc["readings"]["from_kwh"] == OPENING and doc["readings"]["final_kwh"] == "1007.500"
    assert doc["tariff"]["tariff_id"] == TARIFF_TW_FLAT["tariff_id"]
    assert _balance(services, account) == 0
    refund = services.ledger.get_entry(CO, account, f"settle:{moved['tenancy_id']}:refund")
    assert int(refund.amount_minor) == -(20000 - charge)
    account_item = services.ledger.get_account(CO, account)
    assert (account_item.settled_kwh, account_item.balance_minor) == ("1007.500", 0)
    # AND a retry (same request, or with the default reading) changes nothing
    count = len(_entries(account))
    for retry in (body, {**body, "final_kwh": None}):
        again = post_json(client, "/v1/units/mv-low/move-out", admin, retry)
        assert again.status_code == 200 and json.loads(again.body)["replayed"] is True
    assert len(_entries(account)) == count and _balance(services, account) == 0
    # AND a later reading is never settled into the closed account, not even by that
    # stale ingest: the account refuses it, and the ingest stops trying
    later = account_item.settled_at + timedelta(hours=7)
    with pytest.raises(CursorMovedError):
        services.settlements.settle(
            CO, account, account_item.settled_at, Cursor("1010.000", later, None), None
        )
    ctx = stale_bus.meters["m-mv-low"]
    assert ctx.account_id == account  # the stale view
    state = services.settler.ensure_cursor(stale_bus, ctx, MeterControlState())
    assert not services.settler.due(stale_bus, ctx, state, Reading(later, kwh("1010.000")))
    assert len(_entries(account)) == count and _balance(services, account) == 0
    # other figures for the same tenancy are refused
    other = post_json(client, "/v1/units/mv-low/move-out", admin, {**body, "final_kwh": "1008.000"})
    assert other.status_code == 409
    tenancy = services.catalogue.get_tenancy(CO, moved["tenancy_id"])
    assert (tenancy.ends_on, tenancy.closing_kwh) == (_today(), "1007.500")
    assert services.catalogue.get_unit(CO, "mv-low").tenancy_id is None


def test_transfer_moves_exactly_the_remaining_credit_and_the_tenant_login_is_reused(
    client: Client, units: dict[str, str], admin: dict[str, str], services: Any
) -> None:
    email = "mover.transfer@formosa.example"
    src = json.loads(_move_in(client, admin, "mv-src", email, 15000).body)
    dst = json.loads(_move_in(client, admin, "mv-dst", "dst@formosa.example", 5000).body)
    assert src["tenant"]["invited"] is True
    body = {
        "tenancy_id": src["tenancy_id"],
        "ends_on": _today(),
        "final_kwh": "1002.000",
        "disposition": "transfer",
        "transfer_to_unit_id": "mv-gbp",
    }
    # another currency, this unit itself, a vacant unit, another company's unit: refused
    for target in ("mv-gbp", "mv-src", "mv-next", "ldn-flat-1", "no-such-unit"):
        refused = post_json(
            client, "/v1/units/mv-src/move-out", admin, {**body, "transfer_to_unit_id": target}
        )
        assert refused.status_code == 422, (target, refused.body)
    done = post_json(
        client, "/v1/units/mv-src/move-out", admin, {**body, "transfer_to_unit_id": "mv-dst"}
    )
    assert done.status_code == 201, done.body
    remaining = 15000 - 2 * PRICE_MINOR_PER_KWH
    assert _balance(services, src["account_id"]) == 0
    assert _balance(services, dst["account_id"]) == 5000 + remaining
    moved_in = services.ledger.get_entry(
        CO, dst["account_id"], f"settle:{src['tenancy_id']}:transfer_in"
    )
    assert int(moved_in.amount_minor) == remaining
    # the same tenant moving into another unit keeps their login and membership, once
    # staff confirm it is the same person (an existing login is never linked silently)
    unconfirmed = _move_in(client, admin, "mv-next", email, 0)
    assert unconfirmed.status_code == 409 and "confirm" in json.loads(unconfirmed.body)["detail"]
    again = json.loads(_move_in(client, admin, "mv-next", email, 0, link_existing_login=True).body)
    assert again["tenant"]["invited"] is False
    assert again["tenant"]["user_sub"] == src["tenant"]["user_sub"]


def test_an_interrupted_move_out_resumes_without_paying_twice(
    client: Client, units: dict[str, str], admin: dict[str, str], services: Any, monkeypatch: Any
) -> None:
    moved = json.loads(_move_in(client, admin, "mv-resume", "resume@formosa.example", 8000).body)
    body = {"tenancy_id": moved["tenancy_id"], "ends_on": _today(), "disposition": "refund"}
    # GIVEN the refund append fails after the charge was posted and the tenancy closed
    real_append = services.ledger.append

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("lost connection")

    monkeypatch.setattr(services.ledger, "append", failing)
    failed = post_json(client, "/v1/units/mv-resume/move-out", admin, body)
    assert failed.status_code == 500
    monkeypatch.setattr(services.ledger, "append", real_append)
    plan = services.catalogue.get_tenancy(CO, moved["tenancy_id"]).move_out
    assert plan["stage"] == "closed"
    assert _balance(services, moved["account_id"]) == 8000  # 0 kWh used: no charge
    # WHEN the landlord submits again THEN it completes, refunding once
    done = post_json(client, "/v1/units/mv-resume/move-out", admin, body)
    assert done.status_code == 201, done.body
    assert _balance(services, moved["account_id"]) == 0
    again = post_json(client, "/v1/units/mv-resume/move-out", admin, body)
    assert again.status_code == 200 and _balance(services, moved["account_id"]) == 0
    statement = client.http.get(
        f"/v1/units/mv-resume/tenancies/{moved['tenancy_id']}/statement", headers=admin
    )
    assert json.loads(statement.body)["move_out"]["stage"] == "done"
    assert moves_out.STAGES[-1] == "done"


def test_readings_settled_while_planning_make_the_move_out_plan_again(
    client: Client, units: dict[str, str], admin: dict[str, str], services: Any, monkeypatch: Any
) -> None:
    moved = json.loads(_move_in(client, admin, "mv-race", "race@formosa.example", 9000).body)
    account = moved["account_id"]
    tariff = parse_tariff(TARIFF_TW_FLAT)
    real_plan = moves_out.MoveOuts.make_plan
    raced: list[int] = []

    def plan_then_ingest_settles(*args: Any, **kwargs: Any) -> Any:
        plan = real_plan(*args, **kwargs)
        if not raced:  # GIVEN ingest charges 4 kWh right after the first plan read the cursor
            raced.append(1)
            at = datetime.now(UTC).replace(microsecond=0)
            day = local_day(at, "Asia/Taipei")
            usage = {"key": component_key(tariff, month_of(day), day), "kwh": "4.000"}
            charge = LedgerEntry(
                "cons:race", account, EntryKind.CONSUMPTION_CHARGE, Money(-2000, "TWD"), at
            )
            expected = services.ledger.get_account(CO, account).settled_at
            services.settlements.settle(
                CO, account, expected, Cursor("1004.000", at, usage), charge
            )
        return plan

    monkeypatch.setattr(moves_out.MoveOuts, "make_plan", plan_then_ingest_settles)
    body = {
        "tenancy_id": moved["tenancy_id"],
        "ends_on": _today(),
        "final_kwh": "1010.000",
        "disposition": "refund",
    }
    done = post_json(client, "/v1/units/mv-race/move-out", admin, body)
    # THEN the move-out charges only the 6 kWh after ingest's cursor and refunds the rest
    assert done.status_code == 201, done.body
    doc = json.loads(done.body)["move_out"]
    assert doc["readings"]["from_kwh"] == "1004.000" and doc["final_energy_kwh"] == "6.000"
    kinds = {e["kind"]: e["amount"]["amount_minor"] for e in doc["entries"]}
    assert kinds == {"consumption_charge": -3000, "refund": -(9000 - 2000 - 3000)}
    assert _balance(services, account) == 0


def test_pages_refuse_clearly_and_speak_chinese(
    client: Client, units: dict[str, str], admin: dict[str, str]
) -> None:
    _move_in(client, admin, "mv-dst", "dst@formosa.example", 0)  # occupied (or already)
    staff = Browser(client)
    assert staff.sign_in("admin@formosa.example", DEMO_PASSWORD).status_code == 303
    staff.get("/lang/zh_TW?next=/portal")
    form = text(staff.get("/portal/units/mv-gbp/move-in"))
    assert "遷入並邀請房客" in form and 'lang="zh-Hant-TW"' in form
    assert "此單位已有房客" in text(staff.get("/portal/units/mv-dst/move-in"))
    # a submit on the occupied unit with a valid form answers 409 with the reason
    fields = {
        "csrf_token": CSRF.search(form).group(1),  # type: ignore[union-attr]
        "idempotency_key": secrets.token_urlsafe(18),
        "tenant_email": "late@formosa.example",
        "tenant_name": "Late",
        "starts_on": _today(),
    }
    refused = staff.post("/portal/units/mv-dst/move-in", fields)
    assert refused.status_code == 409 and "此單位已有房客" in text(refused)
    # a form with a bad e-mail is 400 and names the field
    bad = staff.post("/portal/units/mv-gbp/move-in", {**fields, "tenant_email": "nope"})
    assert bad.status_code == 400 and "電子郵件" in text(bad)


def test_move_in_and_move_out_make_ingest_rebuild_the_bus_context(
    client: Client, units: dict[str, str], admin: dict[str, str], services: Any
) -> None:
    """Ingest reads the bus's stored context (one item per message); a move-in or
    move-out must mark it stale at once, not leave the old tenancy in force for the
    context's hour."""
    from chalicelib.data.bus_item import BusItems

    items = BusItems()
    before = items.read(CO, GATEWAY).context_version
    moved = json.loads(_move_in(client, admin, "mv-ctx", "ctx@formosa.example", 1000).body)
    after_in = items.read(CO, GATEWAY).context_version
    assert after_in > before
    body = {
        "tenancy_id": moved["tenancy_id"],
        "ends_on": _today(),
        "final_kwh": "1000.000",
        "disposition": "refund",
    }
    done = post_json(client, "/v1/units/mv-ctx/move-out", admin, body)
    assert done.status_code == 201, done.body
    assert items.read(CO, GATEWAY).context_version > after_in
