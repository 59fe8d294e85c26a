"""Alerts: an outbox item the portal lists, delivered by e-mail (SES) and SMS (SNS).

The outbox item's key is (event time, alert id) where both come from the event
that raised it, so a replayed event rewrites nothing and sends nothing twice.
"Once per crossing" is the caller's business (state flags, cursor-based
settlement); this module makes a repeat of the *same* event harmless.

A condition (credit low, a gateway offline) stays open until it clears: the code
that sees it clear calls ``Notifier.resolve(company, topic, subject, at)`` (presence
when a gateway connects, a top-up for the thresholds below the new balance); a notice
(power restored) clears the cut it ends. While open it is counted, not sent again.
What people read is rendered per reader's language by the injected renderer
(``web/alert_text.py``); subject references never reach a reader.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..data.notifications import CLEARED, NewAlert, NotificationStore
from ..observability import logger
from .alert_subjects import AlertSubject, name_subject

if TYPE_CHECKING:
    from ..data.models import Membership, Notification

TOPICS = frozenset(
    {
        "low_credit",
        "disconnected",
        "restored",
        "manual_disconnect",
        "manual_restore",
        "manual_auto",
        "meter_offline",
        "gateway_offline",
        "reading_backwards",
        "readings_held",
        "reverse_energy",
        "relay_unconfirmed",
        "balance_mismatch",
        "bill_held",
        "energy_loss",
    }
)
TITLES = {
    "low_credit": "Your electricity credit is low",
    "disconnected": "Electricity disconnected",
    "restored": "Electricity restored",
    "manual_disconnect": "Electricity disconnected by your landlord",
    "manual_restore": "Electricity restored by your landlord",
    "manual_auto": "Your credit decides your electricity again",
    "meter_offline": "A meter stopped answering",
    "gateway_offline": "A gateway went offline",
    "reading_backwards": "A meter reading went backwards",
    "readings_held": "Meter readings are held for review",
    "reverse_energy": "A meter shows reverse energy",
    "relay_unconfirmed": "A relay command was not confirmed",
    "balance_mismatch": "An account balance does not match its ledger",
    "bill_held": "A postpaid bill is held for review",
    "energy_loss": "The main meter shows more energy than the unit meters",
}
# Conditions stay open until they clear (or a person resolves them); notices are events.
NOTICES = frozenset({"restored", "manual_restore", "manual_auto"})
CONDITIONS = TOPICS - NOTICES
# A notice that clears conditions of the same subject: the power back on ends a cut.
CLEARS: dict[str, tuple[str, ...]] = {
    "restored": ("disconnected", "manual_disconnect"),
    "manual_restore": ("disconnected", "manual_disconnect"),
    "manual_auto": ("manual_disconnect",),
}
STAFF_ROLES = frozenset({"company_admin"})
CHANNELS = ("email", "sms")
MAX_RECIPIENTS = 20
MAX_SMS_CHARS = 160
# SNS shows this as the sender where the destination country allows alphanumeric ids.
SMS_SENDER_ID_ATTRIBUTE = "AWS.SNS.SMS.SenderID"


@dataclass(frozen=True)
class Alert:
    company_id: str
    topic: str
    subject_ref: str  # unit:<id>, meter:<id>, gateway:<id>, account:<id>
    at: datetime  # the time of the event that raised it (keeps replays idempotent)
    audience: Literal["tenant", "staff"]
    tenant_sub: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def alert_id(self) -> str:
        return alert_id(self.topic, self.subject_ref)


def alert_id(topic: str, subject_ref: str) -> str:
    """The id of a condition: the same topic about the same subject is the same alert."""
    digest = hashlib.sha256(f"{topic}|{subject_ref}".encode()).hexdigest()
    return f"{topic}-{digest[:16]}"


@dataclass(frozen=True)
class BrandReach:
    """How a company's alerts reach people: the brand's language (a reader's own comes
    first) and the portal's address on the brand's verified domain, if it has one."""

    language: str = "en"
    portal_url: str | None = None


@dataclass(frozen=True)
class AlertReading:
    """Everything the words of one alert are made from, for one reader."""

    topic: str
    payload: dict[str, Any]
    subject: AlertSubject
    at: datetime
    audience: str
    brand: str
    language: str
    link: str | None  # absolute in a message, a portal path on a page


@dataclass(frozen=True)
class AlertMessage:
    title: str
    body: str  # what happened, in words, with names and formatted amounts
    next_step: str  # what to do about it
    sms: str  # the short form (at most MAX_SMS_CHARS)
    link: str | None = None


AlertRenderer = Callable[[AlertReading], AlertMessage]


def alert_path(audience: str, subject: AlertSubject) -> str:
    """Where a reader acts on an alert: a tenant's notifications, else the unit's page."""
    if audience == "tenant":
        return "/tenant/notifications"
    if subject.unit_id:
        return f"/portal/units/{subject.unit_id}"
    return "/portal/notifications"


def plain_message(reading: AlertReading) -> AlertMessage:
    """Words without a catalogue (a Notifier built without a renderer): the title only."""
    title = TITLES[reading.topic]
    return AlertMessage(title, title + ".", "", f"{reading.brand}: {title}"[:MAX_SMS_CHARS])


class Notifier:
    def __init__(
        self,
        catalogue: Catalogue,
        ses_client: Any,
        sns_client: Any,
        sender_email: str,
        sender_for: Callable[[str], tuple[str, str]] | None = None,
        sms_sender_for: Callable[[str], str | None] | None = None,
        outbox: NotificationStore | None = None,
        render: AlertRenderer | None = None,
        reach_for: Callable[[str], BrandReach] | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._outbox = outbox or NotificationStore()  # stateless, like the catalogue
        self._ses = ses_client
        self._sns = sns_client
        self._sender = sender_email
        # White-label seam: company id -> (brand name, sender address); see docs/brands.md.
        self._sender_for = sender_for
        # company id -> the brand's SMS sender id (None: the carrier's default sender)
        self._sms_sender_for = sms_sender_for
        # The words: the portal's catalogues (web/alert_text.py), injected by the root.
        self._render = render or plain_message
        self._reach_for = reach_for

    def notify(self, alert: Alert) -> Notification | None:
        """Record and deliver; None if this exact alert was already recorded, or its
        condition is open already (counted on the open item, not sent again)."""
        if alert.topic not in TOPICS:
            raise ValueError(f"unknown alert topic {alert.topic!r}")
        item = self._outbox.record(
            NewAlert(
                alert.company_id,
                alert.alert_id(),
                alert.at,
                alert.topic,
                alert.subject_ref,
                alert.audience,
                alert.tenant_sub,
                {**alert.payload, "audience": alert.audience},
                alert.topic in CONDITIONS,
            )
        )
        for cleared in CLEARS.get(alert.topic, ()):
            self.resolve(alert.company_id, cleared, alert.subject_ref, alert.at)
        if item is None:
            return None
        delivery = self._deliver(alert)
        if delivery:
            self._outbox.set_delivery(item, delivery)
        return item

    def resolve(
        self, company_id: str, topic: str, subject_ref: str, at: datetime, by: str = CLEARED
    ) -> bool:
        """The condition cleared (the gateway is back, the credit is topped up): close
        its open alert, if there is one. One GetItem when there is none."""
        pointer = self._outbox.get_open(company_id, alert_id(topic, subject_ref))
        return pointer is not None and self._outbox.resolve(pointer, at, by)

    def resolve_any(self, company_id: str, conditions: list[tuple[str, str]], at: datetime) -> int:
        """Close whichever of these (topic, subject) conditions are open: one BatchGetItem
        when none is (a top-up clearing the low-credit thresholds below its balance)."""
        wanted = {alert_id(topic, subject): (topic, subject) for topic, subject in conditions}
        found = self._outbox.open_among(company_id, wanted)
        return sum(self._outbox.resolve(pointer, at) for pointer in found)

    def outbox(self, company_id: str, limit: int = 50) -> list[Notification]:
        return self._outbox.newest(company_id, limit)

    # --- delivery ---

    def _recipients(self, alert: Alert) -> list[Membership]:
        if alert.audience == "tenant":
            if not alert.tenant_sub:
                return []
            try:
                return [self._catalogue.get_membership(alert.company_id, alert.tenant_sub)]
            except NotFoundError:
                return []
        staff = [m for m in self._catalogue.list_members(alert.company_id) if m.role in STAFF_ROLES]
        return staff[:MAX_RECIPIENTS]

    def _deliver(self, alert: Alert) -> dict[str, str]:
        recipients = self._recipients(alert)
        if not recipients:
            return {}
        sender = self._sender
        if self._sender_for is not None:
            brand, sender = self._sender_for(alert.company_id)
        else:
            try:
                brand = self._catalogue.get_company(alert.company_id).name
            except NotFoundError:
                brand = "Powerlet"
        reach = self._reach_for(alert.company_id) if self._reach_for else BrandReach()
        subject = name_subject(self._catalogue, alert.company_id, alert.subject_ref)
        link = (
            reach.portal_url.rstrip("/") + alert_path(alert.audience, subject)
            if reach.portal_url
            else None
        )
        messages: dict[str, AlertMessage] = {}  # one rendering per language
        delivery: dict[str, str] = {}
        sms_sender: list[str | None] = []  # looked up once, and only if someone gets an SMS
        for member in recipients:
            language = str(member.locale or reach.language)
            if language not in messages:
                messages[language] = self._render(
                    AlertReading(
                        alert.topic,
                        dict(alert.payload),
                        subject,
                        alert.at,
                        alert.audience,
                        brand,
                        language,
                        link,
                    )
                )
            message = messages[language]
            channels = _channels(member, alert.audience)
            if "email" in channels:
                delivery[f"email:{member.email}"] = self._email(
                    member.email, brand, message, sender
                )
            if "sms" in channels and member.phone:
                if not sms_sender:
                    sms_sender.append(self._sms_sender(alert.company_id))
                delivery[f"sms:{member.phone}"] = self._sms(
                    member.phone, message.sms[:MAX_SMS_CHARS], sms_sender[0]
                )
        return delivery

    def _email(self, to: str, brand: str, message: AlertMessage, sender: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError  # see _sms

        parts = [message.body, message.next_step, message.link or "", brand]
        try:
            self._ses.send_email(
                Source=f"{brand} <{sender}>",
                Destination={"ToAddresses": [to]},
                Message={
                    "Subject": {"Data": f"[{brand}] {message.title}"},
                    "Body": {"Text": {"Data": "\n\n".join(p for p in parts if p)}},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            logger.warning("e-mail to %s failed: %s", to, exc)
            return f"failed: {type(exc).__name__}"
        return "sent"

    def _sms_sender(self, company_id: str) -> str | None:
        if self._sms_sender_for is None:
            return None
        return self._sms_sender_for(company_id)

    def _sms(self, phone: str, text: str, sender_id: str | None = None) -> str:
        # botocore's errors imported when an alert is sent, not with ingest (issue 19:
        # its steady path is to need no botocore at all).
        from botocore.exceptions import BotoCoreError, ClientError

        attributes: dict[str, Any] = {}
        if sender_id:
            attributes[SMS_SENDER_ID_ATTRIBUTE] = {"DataType": "String", "StringValue": sender_id}
        try:
            if attributes:
                self._sns.publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)
            else:
                self._sns.publish(PhoneNumber=phone, Message=text)
        except (ClientError, BotoCoreError) as exc:
            logger.warning("SMS to %s failed: %s", phone, exc)
            return f"failed: {type(exc).__name__}"
        return "sent"


def _channels(member: Membership, audience: str) -> frozenset[str]:
    """A tenant's chosen channels (both until they choose); staff get both."""
    chosen = member.alert_channels if audience == "tenant" else None
    return frozenset(CHANNELS) if chosen is None else frozenset(chosen) & frozenset(CHANNELS)
