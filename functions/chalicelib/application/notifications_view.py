"""The notifications page: the company's outbox, newest first, one bounded page, each
alert placed in its property (so a manager sees only their properties' alerts)."""

from __future__ import annotations

from dataclasses import dataclass

from ..auth.principal import Principal, Role
from ..data.catalogue import Catalogue
from ..data.models import Notification
from ..data.notifications import NotificationStore

NOTIFICATION_PAGE = 25
MAX_NOTIFICATION_PAGE = 50


@dataclass(frozen=True)
class NotificationView:
    item: Notification
    subject_kind: str  # unit | meter | gateway | account
    subject_id: str
    unit_id: str | None
    property_id: str | None
    time_zone: str
    audience: str
    details: tuple[tuple[str, str], ...]
    delivered: int
    failed: int


@dataclass(frozen=True)
class NotificationsPage:
    items: list[NotificationView]
    next_cursor: str | None


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
        views = self._place(p.company_id, items)
        if p.role is not Role.COMPANY_ADMIN:
            views = [v for v in views if v.property_id and p.may_see_property(v.property_id)]
        return NotificationsPage(views, next_cursor)

    def _place(self, company_id: str, items: list[Notification]) -> list[NotificationView]:
        """Units, meters and gateways named by a page of alerts: one BatchGet each, at most."""
        subjects = [_subject(n.subject_ref) for n in items]
        meters = self._catalogue.get_meters(company_id, {i for k, i in subjects if k == "meter"})
        unit_ids = {i for k, i in subjects if k == "unit"} | {
            str(m.unit_id) for m in meters.values() if m.unit_id
        }
        units = self._catalogue.get_units_lenient(company_id, unit_ids)
        gateway_ids = {i for k, i in subjects if k == "gateway"} | {
            str(m.gateway_id) for m in meters.values()
        }
        gateways = self._catalogue.get_gateways(company_id, gateway_ids)
        zones = {x.property_id: x.time_zone for x in self._catalogue.list_properties(company_id)}
        out = []
        for item, (kind, ident) in zip(items, subjects, strict=True):
            unit_id = property_id = None
            if kind == "unit" and ident in units:
                unit_id, property_id = ident, units[ident].property_id
            elif kind == "meter" and ident in meters:
                meter = meters[ident]
                unit_id = str(meter.unit_id) if meter.unit_id else None
                owner = units.get(unit_id or "") or gateways.get(str(meter.gateway_id))
                property_id = owner.property_id if owner is not None else None
            elif kind == "gateway" and ident in gateways:
                property_id = gateways[ident].property_id
            payload = dict(item.payload or {})
            delivery = dict(item.delivery or {})
            out.append(
                NotificationView(
                    item=item,
                    subject_kind=kind,
                    subject_id=ident,
                    unit_id=unit_id,
                    property_id=str(property_id) if property_id else None,
                    time_zone=zones.get(str(property_id), "UTC"),
                    audience=str(payload.pop("audience", "staff")),
                    details=tuple(sorted((str(k), str(v)) for k, v in payload.items()))[:20],
                    delivered=sum(1 for v in delivery.values() if v == "sent"),
                    failed=sum(1 for v in delivery.values() if str(v).startswith("failed")),
                )
            )
        return out


def _subject(ref: str) -> tuple[str, str]:
    kind, _, rest = str(ref).partition(":")
    return kind, rest.split(":", 1)[0]
