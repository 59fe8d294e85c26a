"""The notifications pages and the dashboard's open alerts.

Staff read the company's outbox, newest first, one bounded page, each alert placed in
its property (so a manager sees only their properties' alerts), and the open
conditions grouped by topic and counted. A tenant reads their own alerts (gsi1) and
chooses how they reach them. Staff acknowledge or resolve an open condition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..auth.principal import Principal, Role
from ..branding.schema import LOCALES
from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..data.models import Notification, OpenAlert
from ..data.notifications import NOTICE, NotificationStore
from ..pipeline.alert_subjects import AlertSubject, name_subjects
from ..pipeline.alerts import CHANNELS, alert_path
from .errors import InvalidAlertActionError, InvalidAlertChannelsError

NOTIFICATION_PAGE = 25
MAX_NOTIFICATION_PAGE = 50
GROUP_SHOWN = 5  # subjects named per group on the dashboard; the count covers all
ALERT_ACTIONS = ("acknowledge", "resolve")


@dataclass(frozen=True)
class NotificationView:
    item: Notification
    subject: AlertSubject
    audience: str
    payload: dict[str, Any]
    delivered: int
    failed: int
    status: str  # open | acknowledged | resolved | notice

    @property
    def subject_kind(self) -> str:
        return self.subject.kind

    @property
    def subject_id(self) -> str:
        return self.subject.ident

    @property
    def unit_id(self) -> str | None:
        return self.subject.unit_id

    @property
    def property_id(self) -> str | None:
        return self.subject.property_id

    @property
    def time_zone(self) -> str:
        return self.subject.time_zone

    @property
    def path(self) -> str:
        return alert_path(self.audience, self.subject)

    @property
    def details(self) -> tuple[tuple[str, str], ...]:
        """The raw facts, for the JSON API (machines); pages show the words."""
        return tuple(sorted((str(k), str(v)) for k, v in self.payload.items()))[:20]


@dataclass(frozen=True)
class NotificationsPage:
    items: list[NotificationView]
    next_cursor: str | None


@dataclass(frozen=True)
class OpenAlertView:
    alert_id: str
    topic: str
    subject: AlertSubject
    status: str  # open | acknowledged
    audience: str  # tenant: theirs to act on (a top-up), staff see and count it
    opened_at: datetime
    last_at: datetime
    occurrences: int


@dataclass(frozen=True)
class AlertGroup:
    topic: str
    open: int
    acknowledged: int
    shown: list[OpenAlertView] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.open + self.acknowledged


@dataclass(frozen=True)
class NotificationQueries:
    _catalogue: Catalogue
    _store: NotificationStore

    def page(
        self, p: Principal, cursor: str | None = None, page_size: int = NOTIFICATION_PAGE
    ) -> NotificationsPage:
        """The company's outbox, newest first (pattern 23), one page.

        A manager or landlord sees the alerts of their properties' units, meters
        and gateways only; what cannot be placed in a property (an account's
        balance check) is for company admins. A filtered page may come out short;
        the cursor goes on from the last item read, like the dashboard's.
        """
        items, next_cursor = self._store.page(
            p.company_id, cursor, max(1, min(int(page_size), MAX_NOTIFICATION_PAGE))
        )
        views = [v for v in self._place(p.company_id, items) if _sees(p, v.subject)]
        return NotificationsPage(views, next_cursor)

    def tenant_page(
        self, p: Principal, cursor: str | None = None, page_size: int = NOTIFICATION_PAGE
    ) -> NotificationsPage:
        """The signed-in tenant's own alerts, newest first (pattern 23b)."""
        items, next_cursor = self._store.tenant_page(
            p.company_id,
            p.user_sub,
            cursor,
            max(1, min(int(page_size), MAX_NOTIFICATION_PAGE)),
        )
        return NotificationsPage(self._place(p.company_id, items), next_cursor)

    def open_groups(self, p: Principal) -> list[AlertGroup]:
        """The open conditions the caller may see, grouped by topic and counted; the
        oldest few of each named (one Query, then the subjects' BatchGets)."""
        pointers = self._store.open_alerts(p.company_id)
        subjects = name_subjects(self._catalogue, p.company_id, {a.subject_ref for a in pointers})
        groups: dict[str, list[OpenAlertView]] = {}
        for a in sorted(pointers, key=lambda a: a.opened_at):
            subject = subjects[a.subject_ref]
            if not _sees(p, subject):
                continue
            groups.setdefault(str(a.topic), []).append(_open_view(a, subject))
        return [
            AlertGroup(
                topic,
                sum(v.status != "acknowledged" for v in views),
                sum(v.status == "acknowledged" for v in views),
                views[:GROUP_SHOWN],
            )
            for topic, views in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))
        ]

    def act(self, p: Principal, alert_id: str, action: str, now: datetime) -> OpenAlertView:
        """Acknowledge (someone is on it) or resolve (it is dealt with) an open condition
        the caller may see; another company's, an unplaceable one for a manager, or
        one already closed is not found."""
        pointer = self._store.get_open(p.company_id, alert_id)  # a malformed id: not found
        if pointer is None or pointer.audience == "tenant":
            raise NotFoundError("alert not found")
        subject = name_subjects(self._catalogue, p.company_id, [pointer.subject_ref])[
            pointer.subject_ref
        ]
        if not _sees(p, subject):
            raise NotFoundError("alert not found")
        if action not in ALERT_ACTIONS:
            raise InvalidAlertActionError("action must be 'acknowledge' or 'resolve'")
        who = p.email or p.user_sub
        if action == "acknowledge":
            self._store.acknowledge(pointer, who, now)
        else:
            self._store.resolve(pointer, now, who)
        return _open_view(pointer, subject)

    def _place(self, company_id: str, items: Iterable[Notification]) -> list[NotificationView]:
        items = list(items)
        subjects = name_subjects(self._catalogue, company_id, {n.subject_ref for n in items})
        out = []
        for item in items:
            payload = dict(item.payload or {})
            delivery = dict(item.delivery or {})
            audience = str(item.audience or payload.get("audience", "staff"))
            payload.pop("audience", None)
            out.append(
                NotificationView(
                    item=item,
                    subject=subjects[item.subject_ref],
                    audience=audience,
                    payload=payload,
                    delivered=sum(1 for v in delivery.values() if v == "sent"),
                    failed=sum(1 for v in delivery.values() if str(v).startswith("failed")),
                    status=str(item.status or NOTICE),
                )
            )
        return out


@dataclass(frozen=True)
class AlertChannels:
    """How a tenant's alerts reach them: e-mail and/or SMS (the page always lists them)."""

    email: bool
    sms: bool
    phone: str | None
    language: str | None


@dataclass(frozen=True)
class TenantAlertSettings:
    _catalogue: Catalogue

    def channels(self, p: Principal) -> AlertChannels:
        member = self._catalogue.get_membership(p.company_id, p.user_sub)
        chosen = set(member.alert_channels) if member.alert_channels is not None else set(CHANNELS)
        return AlertChannels(
            "email" in chosen, "sms" in chosen, member.phone, str(member.locale or "") or None
        )

    def choose(self, p: Principal, form: Mapping[str, str]) -> AlertChannels:
        """The channels form: a box per channel, ticked (``yes``) or absent."""
        if form.get("form") != "channels":
            raise InvalidAlertChannelsError("not the channels form")
        email, sms = form.get("email") == "yes", form.get("sms") == "yes"
        chosen = {c for c, on in (("email", email), ("sms", sms)) if on}
        language = form.get("language") or None
        if language is not None and language not in LOCALES:
            raise InvalidAlertChannelsError(f"language must be one of {', '.join(LOCALES)}")
        self._catalogue.set_alert_channels(p.company_id, p.user_sub, chosen, language)
        return self.channels(p)


def _open_view(a: OpenAlert, subject: AlertSubject) -> OpenAlertView:
    return OpenAlertView(
        str(a.alert_id),
        str(a.topic),
        subject,
        str(a.status),
        str(a.audience),
        a.opened_at,
        a.last_at,
        int(a.occurrences or 1),
    )


def _sees(p: Principal, subject: AlertSubject) -> bool:
    """Admins see everything; others what their properties place (docs/security.md)."""
    if p.role is Role.COMPANY_ADMIN:
        return True
    return bool(subject.property_id) and p.may_see_property(str(subject.property_id))
