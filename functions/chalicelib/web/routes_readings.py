"""The readings page of a unit: its held readings with their evidence in words, one form
per waiting reading (accept, reject, replace with an estimate, each with a reason), the
meter-exchange form and the exchange history. Same use case as the JSON API
(``application/reading_review.py``); the forms become the same request models.
POST, then redirect back to the page (post/redirect/get); a refusal shows the page again
with the message beside the form it came from and what was typed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from ..application import reading_errors as errors
from ..application.reading_requests import (
    MeterExchangeRequest,
    ReadingDecisionRequest,
    SameMeterRequest,
    reading_time,
)
from ..domain.calendar import zone
from ..routing.access import STAFF
from ..routing.dependencies import deps
from .errors import InvalidFormError
from .pages import PageContext, page
from .reading_words import evidence, when

bp = Blueprint(__name__)

READINGS_PAGE = "/portal/units/{unit_id}/readings"
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"  # the value of an <input type="datetime-local">
DONE = {"accepted", "rejected", "replaced", "exchange", "same_meter"}

# Which message a refusal shows (the use case's own text follows it), and its status.
_MESSAGES: tuple[tuple[type[Exception], str, int], ...] = (
    (errors.AlreadyDecidedError, "review_err_decided", 409),
    (errors.ExchangeExistsError, "review_err_exchange_exists", 409),
    (errors.MeterChangedMeanwhileError, "review_err_busy", 409),
    (errors.ExchangeTimeError, "review_err_exchange_time", 400),
    (errors.BelowLastGoodReadingError, "review_err_below", 422),
    (errors.EstimateOutOfRangeError, "review_err_estimate", 422),
    (errors.UnplaceableReadingError, "review_err_clock", 422),
    (errors.ReviewNeedsMeterError, "review_err_no_meter", 422),
)


@page(bp, READINGS_PAGE, STAFF, methods=("GET", "POST"))
def readings(ctx: PageContext, unit_id: str) -> Response:
    if ctx.request.method == "GET":
        return _show(ctx, unit_id)
    assert ctx.principal is not None
    review = deps().reading_review
    premises = review.premises(ctx.principal, unit_id)  # 404 before the form is looked at
    form, action = ctx.form, ctx.form.get("action")
    if action == "decide":
        target = f"decide-{form.get('read_ms', '')}"
        read_at = reading_time(form.get("read_ms", ""))  # no such reading: 404
    elif action == "exchange":
        # the proposal's pre-filled form posts the same action; a refusal shows beside it
        target = "proposal" if form.get("proposal") else "exchange"
    elif action == "same_meter":
        target = "proposal"
    else:
        raise InvalidFormError("unknown action")
    try:
        if action == "decide":
            done = review.decide(ctx.principal, unit_id, read_at, _decision(form), ctx.now)
            status = done.entry.status
        elif action == "same_meter":
            note = SameMeterRequest.model_validate({"note": form.get("note", "")}).note
            review.same_meter(ctx.principal, unit_id, note, ctx.now)
            status = "same_meter"
        else:
            request = _exchange(form, premises.time_zone)
            review.exchange(ctx.principal, unit_id, request, ctx.now)
            status = "exchange"
    except (ValidationError, errors.ReadingReviewError) as exc:
        code, message = _refusal(ctx, exc)
        return _show(ctx, unit_id, code, {"form": target, "message": message})
    return ctx.redirect(READINGS_PAGE.format(unit_id=unit_id), done=status)


def _decision(form: dict[str, str]) -> ReadingDecisionRequest:
    decision = form.get("decision", "")
    # One form has every button: a typed estimate counts only for "replace".
    estimate = form.get("estimate_kwh", "").strip() if decision == "estimate" else ""
    return ReadingDecisionRequest.model_validate(
        {"decision": decision, "note": form.get("note", ""), "estimate_kwh": estimate or None}
    )


def _exchange(form: dict[str, str], tz: str) -> MeterExchangeRequest:
    return MeterExchangeRequest.model_validate(
        {
            "at": _on_the_property_clock(form.get("at", ""), tz),
            "old_final_kwh": form.get("old_final_kwh", "").strip(),
            "new_opening_kwh": form.get("new_opening_kwh", "").strip(),
            "note": form.get("note", ""),
        }
    )


def _on_the_property_clock(text: str, tz: str) -> datetime | str:
    """A datetime-local value is the property's wall clock; what cannot be read is handed
    on as typed, so the request model refuses it by the field's name."""
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    return local if local.tzinfo is not None else local.replace(tzinfo=zone(tz))


def _refusal(ctx: PageContext, exc: Exception) -> tuple[int, str]:
    if isinstance(exc, ValidationError):
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        names = ", ".join(ctx.tr.t("field_" + f) for f in fields)
        return 400, ctx.tr.t("move_err_form", fields=names)
    key, status = next(
        ((k, s) for cls, k, s in _MESSAGES if isinstance(exc, cls)), ("review_err_refused", 422)
    )
    return status, f"{ctx.tr.t(key)} ({exc})"


def _show(
    ctx: PageContext, unit_id: str, status: int = 200, error: dict[str, str] | None = None
) -> Response:
    assert ctx.principal is not None
    r = deps().reading_review.review(ctx.principal, unit_id)
    tz = r.premises.time_zone
    local = zone(tz)
    done = ctx.query.get("done")
    forms = {"exchange", "proposal", *(f"decide-{e.reading_ms}" for e in r.held)}
    if error and error["form"] not in forms:  # a reading no longer listed: say it on top
        error = {**error, "form": "page"}
    context: dict[str, Any] = {
        "r": r,
        "tz": tz,
        "words": {e.reading_ms: evidence(ctx.tr, e, tz) for e in r.held},
        # a neighbour's time: only hours and minutes on the held reading's own day
        "clock": lambda at, beside: when(ctx.tr, at, beside, tz),
        "now_local": ctx.now.astimezone(local).strftime(LOCAL_MINUTE),
        "start_local": r.tenancy_start.astimezone(local).strftime(LOCAL_MINUTE)
        if r.tenancy_start
        else "",
        "done": done if done in DONE else None,
        "error": error or {},
        "form": ctx.form if ctx.request.method == "POST" else {},
    }
    return ctx.render("unit_readings.html", status=status, **context)
