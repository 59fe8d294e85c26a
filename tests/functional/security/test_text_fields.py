"""Typed text follows the brand text's character rules everywhere (issue 16: relay reasons
and top-up notes accepted NUL, newlines and bidi overrides). Every body here is refused,
so nothing changes on the demo unit."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from chalice.test import Client

from app import app
from chalicelib.branding.schema import BrandConfig
from chalicelib.domain.text_rules import has_refused_characters
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack
from tests.functional.portal.api_client import bearer, post_json

pytestmark = pytest.mark.functional

UNIT = "tpe-2f"
HOSTILE = {
    "nul": "late\x00payment",
    "newline": "late\npayment",
    "carriage_return": "late\rpayment",
    "line_separator": "late\u2028payment",
    "bidi_override": "refund \u202e001 DWT",
    "bidi_isolate": "refund \u2067001\u2069",
    "right_to_left_mark": "refund\u200f 100",
    "c1_control": "late\x85payment",
}


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        yield c


@pytest.fixture(scope="module")
def admin(standin: LocalStack, services: Container) -> dict[str, str]:
    return bearer(standin, "admin@formosa.example")


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_relay_reason_with_hidden_characters_is_refused(
    client: Client, admin: dict[str, str], text: str
) -> None:
    answer = post_json(client, f"/v1/units/{UNIT}/relay", admin, {"power": "off", "reason": text})
    assert answer.status_code in {400, 422}, answer.body


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_top_up_note_with_hidden_characters_is_refused(
    client: Client, admin: dict[str, str], text: str
) -> None:
    body = {"amount_minor": 100, "idempotency_key": secrets.token_urlsafe(18), "note": text}
    answer = post_json(client, f"/v1/units/{UNIT}/top-ups", admin, body)
    assert answer.status_code in {400, 422}, answer.body


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_brand_text_and_typed_text_refuse_the_same_characters(text: str) -> None:
    assert has_refused_characters(text)
    with pytest.raises(ValueError):
        BrandConfig(
            slug="same-rules",
            display_name=text,
            support_email="help@rules.example",
            email_sender_name="Rules",
            email_sender_address="no-reply@rules.example",
            sms_sender_id="Rules",
        )
