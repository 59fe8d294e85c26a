"""Alerts in words: title, what happened, what to do next and the SMS short form, from
the portal's catalogues (``alert_<topic>_title|body|next|sms``) in the reader's language.

The same function writes the e-mail and SMS a person receives (the root injects it
into the pipeline's ``Notifier``) and the alert on the notifications pages, so what a
tenant reads on their phone and on the page is the same text. Amounts are formatted
in their currency with Babel, energy in the language's unit, times on the property's
clock; subjects by name. Every placeholder of every topic is filled for every topic
(``str.format`` ignores the ones a message does not use), so a translator may use any.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ..application.notifications_view import NotificationView
from ..pipeline.alert_subjects import AlertSubject
from ..pipeline.alerts import MAX_SMS_CHARS, AlertMessage, AlertReading
from .i18n import Translator

PARTS = ("title", "body", "next", "sms")


def render_alert(reading: AlertReading) -> AlertMessage:
    """The injected renderer: one reader's language."""
    return alert_message(Translator(reading.language), reading)


def alert_message(tr: Translator, reading: AlertReading) -> AlertMessage:
    values = alert_values(tr, reading)
    text = {part: tr.t(f"alert_{reading.topic}_{part}", **values) for part in PARTS}
    return AlertMessage(
        title=text["title"],
        body=text["body"],
        next_step=text["next"],
        sms=text["sms"][:MAX_SMS_CHARS],
        link=reading.link,
    )


def alert_values(tr: Translator, reading: AlertReading) -> dict[str, str]:
    """Every placeholder the alert messages may use, in this reader's formats."""
    p, subject = reading.payload, reading.subject
    currency = str(p.get("currency") or subject.currency or "")
    values = {
        "brand": reading.brand,
        "where": where(tr, subject),
        "unit": subject.unit_name or where(tr, subject),
        "property": subject.property_name or "",
        "gateway": subject.gateway_id or subject.ident,
        "when": tr.datetime(reading.at, subject.time_zone),
        "balance": _money(tr, p.get("balance_minor"), currency),
        "threshold": _money(tr, p.get("threshold_minor"), currency),
        "stored": _money(tr, p.get("stored_minor"), currency),
        "derived": _money(tr, p.get("derived_minor"), currency),
        "why": _label(tr, "reason", p.get("reason")),
        "note": str(p.get("reason") or ""),
        "until": _until(tr, p, subject),
        "cycles": _number(tr, p.get("cycles_without_reading")),
        "tries": _number(tr, p.get("tries")),
        "watts": _number(tr, p.get("watts")),
        "reading": _kwh(tr, p.get("reading_kwh")),
        "hold": _label(tr, "alert_hold", p.get("reason")),
        "bill_reason": _label(tr, "alert_bill_reason", p.get("reason")),
        "period": _day(tr, p.get("period"), subject),
        "day": _day(tr, p.get("day"), subject),
        "main": _kwh(tr, p.get("main_kwh")),
        "units": _kwh(tr, p.get("units_kwh")),
        "loss": _kwh(tr, p.get("loss_kwh")),
    }
    return values


def where(tr: Translator, subject: AlertSubject) -> str:
    """The subject named as a person knows it."""
    if subject.unit_name:
        if subject.property_name:
            return tr.t("alert_where_unit", unit=subject.unit_name, property=subject.property_name)
        return subject.unit_name
    if subject.kind in ("meter", "gateway") and subject.property_name:
        key = f"alert_where_{subject.kind}"
        name = subject.gateway_id or subject.ident if subject.kind == "gateway" else subject.ident
        return tr.t(key, name=name, property=subject.property_name)
    if subject.kind == "property" and subject.property_name:
        return subject.property_name
    if subject.kind in KINDS:
        return tr.t(f"alert_where_unknown_{subject.kind}", name=subject.ident)
    return tr.t("alert_where")


KINDS = ("unit", "meter", "gateway", "account", "property")


def _label(tr: Translator, prefix: str, code: Any) -> str:
    """A stored code's words, or the prefix's general words for a code without any."""
    if code:
        key = f"{prefix}_{code}"
        text = tr.t(key)
        if text != key:
            return text
    return tr.t(f"{prefix}_other") if prefix != "reason" else ""


def _money(tr: Translator, amount: Any, currency: str) -> str:
    if isinstance(amount, bool) or not isinstance(amount, int):
        return ""
    return tr.money(amount, currency) if currency else tr.number(amount)


def _number(tr: Translator, value: Any) -> str:
    try:
        return tr.number(Decimal(str(value))) if value not in (None, "") else ""
    except InvalidOperation:
        return ""


def _kwh(tr: Translator, value: Any) -> str:
    try:
        return tr.kwh(str(value)) if value not in (None, "") else ""
    except InvalidOperation:
        return ""


def _day(tr: Translator, value: Any, subject: AlertSubject) -> str:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return ""
    return tr.date(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), "UTC")


def _until(tr: Translator, p: dict[str, Any], subject: AlertSubject) -> str:
    """When a manual 'on' ends: at a time, or at the next top-up."""
    if p.get("until_topup"):
        return tr.t("alert_until_topup")
    until = p.get("until")
    if isinstance(until, str):
        try:
            return tr.t(
                "alert_until_time",
                when=tr.datetime(datetime.fromisoformat(until), subject.time_zone),
            )
        except ValueError:
            return ""
    return ""


def page_messages(
    tr: Translator, views: Iterable[NotificationView], brand: str
) -> dict[str, AlertMessage]:
    """The words of a page of alerts, by outbox key; ``link`` is the app path to act on."""
    return {
        str(v.item.sk): alert_message(
            tr,
            AlertReading(
                str(v.item.topic),
                v.payload,
                v.subject,
                v.item.created_at,
                v.audience,
                brand,
                tr.language,
                v.path,
            ),
        )
        for v in views
    }
