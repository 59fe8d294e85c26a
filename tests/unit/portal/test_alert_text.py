"""Alerts in words (web/alert_text.py): every topic in every language reads as text with
names and formatted amounts, never as subject references or field names."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.pipeline.alert_subjects import AlertSubject, parse_subject
from chalicelib.pipeline.alerts import MAX_SMS_CHARS, TOPICS, AlertReading, plain_message
from chalicelib.web.alert_text import alert_message, render_alert
from chalicelib.web.i18n import LANGUAGES, Translator

AT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
FLAT = AlertSubject(
    "unit", "ldn-flat-1", "ldn-flat-1", "Flat 1", "ldn-1", "Thames House", None,
    "Europe/London", "GBP",
)  # fmt: skip
GATEWAY = AlertSubject(
    "gateway", "gw-ldn-1", None, None, "ldn-1", "Thames House", "gw-ldn-1", "Europe/London", "GBP"
)
# A payload per topic as its producer writes it (pipeline/*.py).
PAYLOADS: dict[str, dict[str, Any]] = {
    "low_credit": {"balance_minor": 692, "threshold_minor": 1000, "currency": "GBP"},
    "disconnected": {"reason": "credit_exhausted"},
    "restored": {"reason": "credit_ok"},
    "manual_disconnect": {"reason": "Rewiring the flat", "power": "off"},
    "manual_restore": {"reason": "Doctor's visit", "power": "on", "until_topup": True},
    "manual_auto": {"reason": "Paid in cash", "power": "on", "mode": "auto"},
    "meter_offline": {"cycles_without_reading": 10},
    "gateway_offline": {"why": "no telemetry", "last_cycle": AT.isoformat()},
    "reading_backwards": {"reading_kwh": "12.500"},
    "readings_held": {"meter": "m1", "reason": "spike", "held_in_a_row": "2"},
    "reverse_energy": {"watts": "-120"},
    "relay_unconfirmed": {"command": "c1", "tries": 5, "error": "no confirmation"},
    "balance_mismatch": {"stored_minor": 500, "derived_minor": 450, "currency": "GBP"},
    "bill_held": {"period": "2026-10-01", "reason": "register_reset", "detail": "x"},
    "energy_loss": {"day": "2026-11-19", "main_kwh": "40.000", "units_kwh": "30.000",
                    "loss_kwh": "10.000"},
}  # fmt: skip
RAW = re.compile(r"_minor|\b(unit|meter|gateway|account|property):|\{|\}|alert_")


def reading(topic: str, language: str, subject: AlertSubject = FLAT) -> AlertReading:
    return AlertReading(
        topic, PAYLOADS[topic], subject, AT, "tenant", "Thames Lettings", language, None
    )


def test_every_topic_has_a_payload_here() -> None:
    assert set(PAYLOADS) == TOPICS


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_topic_reads_as_words_in_every_language(topic: str, language: str) -> None:
    message = render_alert(reading(topic, language))
    for part in (message.title, message.body, message.next_step, message.sms):
        assert part and not RAW.search(part), (topic, language, part)
    assert len(message.sms) <= MAX_SMS_CHARS
    assert message.sms.startswith("Thames Lettings")


def test_low_credit_names_the_unit_and_formats_the_money() -> None:
    message = alert_message(Translator("en"), reading("low_credit", "en"))
    assert message.body == "The credit for Flat 1, Thames House is £6.92, below £10.00."
    assert message.next_step == "Top up soon to keep the power on."
    assert (
        message.sms
        == "Thames Lettings: credit for Flat 1 is £6.92. Top up soon to keep the power on."
    )


def test_the_chinese_message_is_in_chinese_with_its_energy_unit() -> None:
    message = render_alert(reading("energy_loss", "zh_TW"))
    assert message.title == "有電能去向不明" and "10.000 度" in message.body


def test_a_gateway_is_named_with_its_property() -> None:
    message = render_alert(reading("gateway_offline", "en", GATEWAY))
    assert message.body.startswith("gateway gw-ldn-1 at Thames House went offline at ")


def test_a_manual_restore_says_until_when() -> None:
    assert "until the next top-up" in render_alert(reading("manual_restore", "en")).body


def test_without_a_catalogue_the_title_alone_is_sent() -> None:
    message = plain_message(reading("low_credit", "en"))
    assert message.body == "Your electricity credit is low." and "_minor" not in message.sms


def test_a_subject_reference_drops_its_qualifier() -> None:
    assert parse_subject("unit:ldn-flat-1:1000") == ("unit", "ldn-flat-1")
