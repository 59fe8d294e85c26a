"""The reseller's company list comes in pages with an opaque cursor that can
only ever walk the caller's own companies."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from chalice.test import Client

from chalicelib.data import builders

from .conftest import ResellerApi, new_reseller

pytestmark = pytest.mark.functional

COMPANIES = 7


@pytest.fixture(scope="module")
def two_resellers(client: Client) -> tuple[ResellerApi, ResellerApi]:
    now = datetime.now(UTC)
    for n in range(COMPANIES):
        builders.company(f"pg-own-{n}", f"Own {n}", now, reseller_id="rs-paging").save()
    for n in range(2):
        builders.company(f"pg-foreign-{n}", "Foreign", now, reseller_id="rs-paging-other").save()
    own = ResellerApi(client, new_reseller("rs-paging"))
    other = ResellerApi(client, new_reseller("rs-paging-other"))
    return own, other


def _page(api: ResellerApi, query: str) -> tuple[int, dict[str, object]]:
    response = api.call("GET", f"/v1/reseller/companies{query}")
    return response.status_code, json.loads(response.body)


def test_pages_walk_every_company_once(two_resellers: tuple[ResellerApi, ResellerApi]) -> None:
    own, _ = two_resellers
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = "?limit=3" + (f"&cursor={quote(cursor)}" if cursor else "")
        status, body = _page(own, query)
        assert status == 200, body
        companies = body["companies"]
        assert isinstance(companies, list) and len(companies) <= 3
        seen += [c["company_id"] for c in companies]
        pages += 1
        cursor = body["next_cursor"]  # type: ignore[assignment]
        if cursor is None:
            break
    assert sorted(seen) == [f"pg-own-{n}" for n in range(COMPANIES)]
    assert pages == 3  # 3 + 3 + 1


def test_the_default_page_has_everything_and_no_cursor(
    two_resellers: tuple[ResellerApi, ResellerApi],
) -> None:
    own, _ = two_resellers
    status, body = _page(own, "")
    assert status == 200 and len(body["companies"]) == COMPANIES  # type: ignore[arg-type]
    assert body["next_cursor"] is None


@pytest.mark.parametrize("limit", ["0", "201", "-1", "abc", "1.5"])
def test_a_limit_outside_1_to_200_is_refused(
    two_resellers: tuple[ResellerApi, ResellerApi], limit: str
) -> None:
    own, _ = two_resellers
    status, _ = _page(own, f"?limit={limit}")
    assert status == 400


def _cursor_of(api: ResellerApi) -> str:
    status, body = _page(api, "?limit=1")
    assert status == 200 and body["next_cursor"]
    return str(body["next_cursor"])


def _tamper(cursor: str, **changes: str) -> str:
    key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for name, value in changes.items():
        key[name] = {"S": value}
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def test_tampered_cursors_are_refused(two_resellers: tuple[ResellerApi, ResellerApi]) -> None:
    own, _ = two_resellers
    cursor = _cursor_of(own)
    bad = [
        "not-base64!!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        cursor[:-4],
        # the other reseller's partition
        _tamper(cursor, gsi1pk="RS#rs-paging-other#COMPANIES"),
        # a position inside another partition
        _tamper(cursor, pk="CO#pg-foreign-0", gsi1sk="CO#pg-foreign-0#X"),
        _tamper(cursor, sk="BRAND"),
        "x" * 2000,
    ]
    for value in bad:
        status, body = _page(own, f"?cursor={quote(value)}")
        assert status == 400, (value, body)


def test_another_resellers_cursor_never_reaches_its_companies(
    two_resellers: tuple[ResellerApi, ResellerApi],
) -> None:
    own, other = two_resellers
    # GIVEN a cursor issued to the other reseller
    foreign_cursor = _cursor_of(ResellerApi(other.client, other.key))
    # WHEN our reseller presents it THEN it is refused, and nothing foreign is listed
    status, body = _page(own, f"?cursor={quote(foreign_cursor)}")
    assert status == 400
    assert "pg-foreign" not in json.dumps(body)
