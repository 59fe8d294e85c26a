"""Alerts people read: the staff's notifications page (with acknowledge and resolve), the
tenant's own notifications page with the channels they choose."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from ..application.errors import InvalidAlertActionError, InvalidAlertChannelsError
from ..application.notifications_view import NotificationsPage
from ..auth.principal import Role
from ..routing.access import STAFF
from ..routing.dependencies import deps
from .alert_text import page_messages
from .pages import PageContext, page

bp = Blueprint(__name__)

TENANT = frozenset({Role.TENANT})
DONE = ("acknowledge", "resolve", "channels")


@page(bp, "/portal/notifications", STAFF)
def staff_notifications(ctx: PageContext) -> Response:
    assert ctx.principal is not None
    cursor = ctx.query.get("cursor") or None
    found = deps().notifications.page(ctx.principal, cursor)
    return _render(ctx, "notifications.html", found, cursor, "/portal/notifications")


@page(bp, "/portal/alerts/{alert_id}", STAFF, methods=("POST",))
def act_on_alert(ctx: PageContext, alert_id: str) -> Response:
    """Acknowledge (someone is on it) or resolve (dealt with) an open condition."""
    assert ctx.principal is not None
    action = ctx.form.get("action", "")
    try:
        deps().notifications.act(ctx.principal, alert_id, action, ctx.now)
    except InvalidAlertActionError:
        return _bad_request(ctx)
    back = "/portal" if ctx.form.get("back") == "dashboard" else "/portal/notifications"
    return ctx.redirect(back, done=action)


@page(bp, "/tenant/notifications", TENANT, methods=("GET", "POST"), audience="tenant")
def tenant_notifications(ctx: PageContext) -> Response:
    """The tenant's own alerts; the form chooses e-mail and SMS."""
    assert ctx.principal is not None
    if ctx.request.method == "POST":
        try:
            deps().alert_settings.choose(ctx.principal, ctx.form)
        except InvalidAlertChannelsError:
            return _bad_request(ctx)
        return ctx.redirect("/tenant/notifications", done="channels")
    cursor = ctx.query.get("cursor") or None
    found = deps().notifications.tenant_page(ctx.principal, cursor)
    return _render(
        ctx,
        "tenant_notifications.html",
        found,
        cursor,
        "/tenant/notifications",
        channels=deps().alert_settings.channels(ctx.principal),
    )


def _render(
    ctx: PageContext,
    template: str,
    found: NotificationsPage,
    cursor: str | None,
    here: str,
    **extra: Any,
) -> Response:
    done = ctx.query.get("done", "")
    return ctx.render(
        template,
        page=found,
        words=page_messages(ctx.tr, found.items, ctx.brand.config.display_name),
        cursor=cursor or "",
        here=here,
        done=done if done in DONE else "",
        **extra,
    )


def _bad_request(ctx: PageContext) -> Response:
    return ctx.render("error.html", status=400, title=ctx.tr.t("bad_request"), text="")
