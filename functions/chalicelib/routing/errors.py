"""Map domain, data and auth failures to HTTP answers, in one place.

Objects of other companies, tenants or properties answer 404, never 403, so a
caller cannot learn that an id exists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from ..application.errors import (
    IdempotencyKeyReusedError,
    InvalidAlertActionError,
    InvalidAlertChannelsError,
    InvalidCursorError,
    InvalidRelayRequestError,
    InvalidTopUpError,
)
from ..application.move_errors import MoveError as MoveRequestError
from ..application.move_errors import (
    MoveInKeyReusedError,
    MoveNeedsMeterError,
    MoveOutConflictError,
    MoveOutContendedError,
    TenancyNotCurrentError,
    TenantLoginConflictError,
    UnitOccupiedError,
)
from ..application.reading_errors import (
    AlreadyDecidedError,
    ExchangeExistsError,
    ExchangeTimeError,
    MeterChangedMeanwhileError,
    ReadingReviewError,
)
from ..application.reseller.errors import (
    AdminExistsError,
    CompanyExistsError,
    CompanySuspendedError,
    GatewayExistsError,
    IdempotencyInProgressError,
    IdempotencyKeyMismatchError,
    IdempotencyKeyMissingError,
    InvalidMeterProfileError,
    InvalidMeterRequestError,
    InvalidTariffError,
    InvalidUsageMonthError,
    MeterConflictError,
    MeterProfileConflictError,
    NoResellerKeyError,
    RateLimitedError,
    TariffCurrencyError,
    ThingNameTakenError,
    UnknownMeterProfileError,
)
from ..application.settings_errors import InvalidSettingsError
from ..application.statement_errors import (
    InvalidMonthError,
    MonthOutOfRangeError,
    StatementBusyError,
    StatementTooLargeError,
)
from ..auth.errors import (
    CompanySuspendedAccessError,
    ForbiddenError,
    NoMembershipError,
    SessionRevokedError,
)
from ..branding.errors import (
    DnsLookupError,
    DomainClaimExpiredError,
    DomainNotVerifiedError,
    DomainTakenError,
    InvalidBrandError,
    LogoNotFoundError,
    LogoRejectedError,
    LogoTooLargeError,
)
from ..data.errors import (
    CurrencyMismatchError,
    InvalidIdentifierError,
    LedgerEntryConflictError,
    NotFoundError,
)
from ..data.settings_store import SettingsVersionConflictError
from ..domain.errors import DomainError
from ..domain.usage_periods import InvalidChartPeriodError
from ..observability import logger
from ..pipeline.errors import ControlContentionError
from .bodies import BodyTooLargeError, MalformedJsonError
from .problems import PROBLEM_JSON, PROBLEM_TYPES, field_problems, one_field, problem, summary

_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (NotFoundError, 404),
    (InvalidIdentifierError, 404),
    (NoMembershipError, 403),
    (SessionRevokedError, 401),
    (CompanySuspendedAccessError, 403),
    (ForbiddenError, 403),
    (LedgerEntryConflictError, 409),
    (CurrencyMismatchError, 422),
    (ValidationError, 400),
    (MalformedJsonError, 400),
    (BodyTooLargeError, 413),
    (InvalidChartPeriodError, 400),
    (DomainError, 422),
    (IdempotencyKeyReusedError, 409),
    (InvalidTopUpError, 422),
    (InvalidRelayRequestError, 422),
    (InvalidAlertActionError, 400),
    (InvalidAlertChannelsError, 400),
    (InvalidCursorError, 400),
    (InvalidMonthError, 400),
    (MonthOutOfRangeError, 400),
    (StatementTooLargeError, 422),
    (StatementBusyError, 409),
    # move-in and move-out (portal/move_in.py, portal/move_out.py)
    (UnitOccupiedError, 409),
    (TenancyNotCurrentError, 409),
    (MoveInKeyReusedError, 409),
    (MoveOutConflictError, 409),
    (MoveOutContendedError, 409),
    (TenantLoginConflictError, 409),
    (MoveNeedsMeterError, 422),
    (MoveRequestError, 422),  # readings, dates, transfer target
    # held readings and meter exchanges (application/reading_review.py)
    (AlreadyDecidedError, 409),
    (ExchangeExistsError, 409),
    (MeterChangedMeanwhileError, 409),
    (ExchangeTimeError, 400),
    (ReadingReviewError, 422),  # below the last good one, estimates
    # settings editors
    (SettingsVersionConflictError, 409),
    (InvalidSettingsError, 400),
    (ControlContentionError, 409),
    # brands and the reseller API
    (InvalidBrandError, 400),
    (DomainTakenError, 409),
    (DomainNotVerifiedError, 409),
    (DomainClaimExpiredError, 409),
    (DnsLookupError, 503),
    (LogoTooLargeError, 413),
    (LogoRejectedError, 415),
    (LogoNotFoundError, 404),
    (NoResellerKeyError, 403),
    (RateLimitedError, 429),
    (IdempotencyKeyMissingError, 400),
    (IdempotencyKeyMismatchError, 422),
    (IdempotencyInProgressError, 409),
    (CompanyExistsError, 409),
    (AdminExistsError, 409),
    (GatewayExistsError, 409),
    (ThingNameTakenError, 409),
    (MeterConflictError, 409),
    (InvalidMeterRequestError, 400),
    (InvalidTariffError, 400),
    (InvalidUsageMonthError, 400),
    (TariffCurrencyError, 422),
    (InvalidMeterProfileError, 400),
    (MeterProfileConflictError, 409),
    (UnknownMeterProfileError, 400),  # as an unknown shipped name
    (CompanySuspendedError, 409),
)


def error_response(exc: Exception, instance: str | None = None) -> Response | None:
    """The problem details document for a known failure, or None (an unknown one)."""
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return Response(
                body=_problem(exc, status, instance),
                status_code=status,
                headers=_headers(exc),
            )
    return None


def _problem(exc: Exception, status: int, instance: str | None) -> dict[str, Any]:
    if status == 404:  # the same words whatever was missing: no probing by message
        return problem(404, "not found", instance)
    if isinstance(exc, ValidationError):
        errors = field_problems(exc)
        return problem(status, summary(errors), instance, errors)
    if isinstance(exc, InvalidSettingsError):
        return problem(status, str(exc), instance, [one_field(exc.field, exc.message)])
    return problem(status, str(exc), instance)


def framework_problem(response: Response, instance: str | None) -> Response:
    """Chalice's own refusals, made before any view runs (405 for a method the route does
    not take, 415 for a body type it does not take, 500 for a view that raised), in the
    one refusal shape of the API instead of chalice's ``{"Code", "Message"}``."""
    body = response.body
    if (
        response.status_code in PROBLEM_TYPES
        and isinstance(body, dict)
        and set(body) == {"Code", "Message"}
    ):
        response.body = problem(response.status_code, str(body["Message"]), instance)
        response.headers["Content-Type"] = PROBLEM_JSON
    return response


def _headers(exc: Exception) -> dict[str, str | list[str]]:
    headers: dict[str, str | list[str]] = {"Content-Type": PROBLEM_JSON}
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after_s)
    return headers


def map_errors(view: Callable[..., Any], bp: Blueprint | None = None) -> Callable[..., Any]:
    """Wrap a view: translate known failures; let unknown ones surface as 500.

    (Chalice turns a view's exception into a 500 before any middleware sees
    it, so the mapping has to sit on the view itself; ``access.route`` applies
    it to every route. ``bp`` gives the request, whose path is the problem's
    ``instance``.)
    """

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except Exception as exc:
            response = error_response(exc, _path(bp))
            if response is None:
                logger.exception("unhandled error in %s", view.__name__)
                raise
            logger.info(
                "request refused",
                extra={
                    "view": view.__name__,
                    "status": response.status_code,
                    "error": type(exc).__name__,
                },
            )
            return response

    return wrapped


def _path(bp: Blueprint | None) -> str | None:
    request = bp.current_request if bp is not None else None
    if request is None:
        return None
    # the path as called (API Gateway's requestContext.path), not the route's template
    return str(request.context.get("path") or request.path)
