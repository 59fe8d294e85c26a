"""Alerts: an outbox item the portal lists, delivered by e-mail (SES) and SMS (SNS).

The outbox item's key is (event time, alert id) where both come from the event
that raised it, so a replayed event rewrites nothing and sends nothing twice.
"Once per crossing" is the caller's business (state flags, cursor-based
settlement); this module makes a repeat of the *same* event harmless.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..data.models import Membership, Notification
from ..data.notifications import NotificationStore
from ..observability import logger

TOPICS = frozenset(
    {
        "low_credit",
        "disconnected",
        "restored",
        "manual_disconnect",
        "manual_restore",
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
STAFF_ROLES = frozenset({"company_admin"})
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
        digest = hashlib.sha256(f"{self.topic}|{self.subject_ref}".encode()).hexdigest()
        return f"{self.topic}-{digest[:16]}"


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

    def notify(self, alert: Alert) -> Notification | None:
        """Record and deliver; None if this exact alert was already recorded."""
        if alert.topic not in TOPICS:
            raise ValueError(f"unknown alert topic {alert.topic!r}")
        item = self._outbox.record(
            alert.company_id,
            alert.alert_id(),
            alert.at,
            alert.topic,
            alert.subject_ref,
            {**alert.payload, "audience": alert.audience},
        )
        if item is None:
            return None
        delivery = self._deliver(alert)
        if delivery:
            self._outbox.set_delivery(item, delivery)
        return item

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
        sender = self._sender
        if self._sender_for is not None:
            brand, sender = self._sender_for(alert.company_id)
        else:
            try:
                brand = self._catalogue.get_company(alert.company_id).name
            except NotFoundError:
                brand = "Powerlet"
        title = TITLES[alert.topic]
        body = _body(alert)
        delivery: dict[str, str] = {}
        sms_sender: list[str | None] = []  # looked up once, and only if someone gets an SMS
        for member in self._recipients(alert):
            delivery[f"email:{member.email}"] = self._email(
                member.email, brand, title, body, sender
            )
            if member.phone:
                text = f"{brand}: {title}. {body}"[:MAX_SMS_CHARS]
                if not sms_sender:
                    sms_sender.append(self._sms_sender(alert.company_id))
                delivery[f"sms:{member.phone}"] = self._sms(member.phone, text, sms_sender[0])
        return delivery

    def _email(self, to: str, brand: str, title: str, body: str, sender: str) -> str:
        try:
            self._ses.send_email(
                Source=f"{brand} <{sender}>",
                Destination={"ToAddresses": [to]},
                Message={
                    "Subject": {"Data": f"[{brand}] {title}"},
                    "Body": {"Text": {"Data": f"{body}\n\n{brand}"}},
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


def _body(alert: Alert) -> str:
    details = ", ".join(f"{k}: {v}" for k, v in sorted(alert.payload.items()))
    return f"{TITLES[alert.topic]} ({alert.subject_ref}). {details}".strip()
