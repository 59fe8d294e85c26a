"""Map domain, data and auth failures to HTTP answers, in one place.

Objects of other companies, tenants or properties answer 404, never 403, so a
caller cannot learn that an id exists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import Response
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
    MeterConflictError,
    NoResellerKeyError,
    RateLimitedError,
    ThingNameTakenError,
)
from ..application.settings_errors import InvalidSettingsError
from ..application.statement_errors import (
    InvalidMonthError,
    MonthOutOfRangeError,
    StatementBusyError,
    StatementTooLargeError,
)
from ..auth.errors import CompanySuspendedAccessError, ForbiddenError, NoMembershipError
from ..branding.errors import (
    DnsLookupError,
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

_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (NotFoundError, 404, "NotFound"),
    (InvalidIdentifierError, 404, "NotFound"),
    (NoMembershipError, 403, "Forbidden"),
    (CompanySuspendedAccessError, 403, "Forbidden"),
    (ForbiddenError, 403, "Forbidden"),
    (LedgerEntryConflictError, 409, "Conflict"),
    (CurrencyMismatchError, 422, "UnprocessableEntity"),
    (ValidationError, 400, "BadRequest"),
    (MalformedJsonError, 400, "BadRequest"),
    (BodyTooLargeError, 413, "PayloadTooLarge"),
    (InvalidChartPeriodError, 400, "BadRequest"),
    (DomainError, 422, "UnprocessableEntity"),
    (IdempotencyKeyReusedError, 409, "Conflict"),
    (InvalidTopUpError, 422, "UnprocessableEntity"),
    (InvalidRelayRequestError, 422, "UnprocessableEntity"),
    (InvalidAlertActionError, 400, "BadRequest"),
    (InvalidAlertChannelsError, 400, "BadRequest"),
    (InvalidCursorError, 400, "BadRequest"),
    (InvalidMonthError, 400, "BadRequest"),
    (MonthOutOfRangeError, 400, "BadRequest"),
    (StatementTooLargeError, 422, "UnprocessableEntity"),
    (StatementBusyError, 409, "Conflict"),
    # move-in and move-out (portal/move_in.py, portal/move_out.py)
    (UnitOccupiedError, 409, "Conflict"),
    (TenancyNotCurrentError, 409, "Conflict"),
    (MoveInKeyReusedError, 409, "Conflict"),
    (MoveOutConflictError, 409, "Conflict"),
    (MoveOutContendedError, 409, "Conflict"),
    (TenantLoginConflictError, 409, "Conflict"),
    (MoveNeedsMeterError, 422, "UnprocessableEntity"),
    (MoveRequestError, 422, "UnprocessableEntity"),  # readings, dates, transfer target
    # held readings and meter exchanges (application/reading_review.py)
    (AlreadyDecidedError, 409, "Conflict"),
    (ExchangeExistsError, 409, "Conflict"),
    (MeterChangedMeanwhileError, 409, "Conflict"),
    (ExchangeTimeError, 400, "BadRequest"),
    (ReadingReviewError, 422, "UnprocessableEntity"),  # below the last good one, estimates
    # settings editors
    (SettingsVersionConflictError, 409, "Conflict"),
    (InvalidSettingsError, 400, "BadRequest"),
    (ControlContentionError, 409, "Conflict"),
    # brands and the reseller API
    (InvalidBrandError, 400, "BadRequest"),
    (DomainTakenError, 409, "Conflict"),
    (DomainNotVerifiedError, 409, "Conflict"),
    (DnsLookupError, 503, "ServiceUnavailable"),
    (LogoTooLargeError, 413, "PayloadTooLarge"),
    (LogoRejectedError, 415, "UnsupportedMediaType"),
    (LogoNotFoundError, 404, "NotFound"),
    (NoResellerKeyError, 403, "Forbidden"),
    (RateLimitedError, 429, "TooManyRequests"),
    (IdempotencyKeyMissingError, 400, "BadRequest"),
    (IdempotencyKeyMismatchError, 422, "UnprocessableEntity"),
    (IdempotencyInProgressError, 409, "Conflict"),
    (CompanyExistsError, 409, "Conflict"),
    (AdminExistsError, 409, "Conflict"),
    (GatewayExistsError, 409, "Conflict"),
    (ThingNameTakenError, 409, "Conflict"),
    (MeterConflictError, 409, "Conflict"),
    (CompanySuspendedError, 409, "Conflict"),
)


def error_response(exc: Exception) -> Response | None:
    for cls, status, code in _STATUS:
        if isinstance(exc, cls):
            message = "not found" if status == 404 else str(exc)
            headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
            if isinstance(exc, RateLimitedError):
                headers["Retry-After"] = str(exc.retry_after_s)
            return Response(
                body={"Code": code, "Message": message}, status_code=status, headers=headers
            )
    return None


def map_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a view: translate known failures; let unknown ones surface as 500.

    (Chalice turns a view's exception into a 500 before any middleware sees
    it, so the mapping has to sit on the view itself; ``access.route`` applies
    it to every route.)
    """

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except Exception as exc:
            response = error_response(exc)
            if response is None:
                logger.exception("unhandled error in %s", view.__name__)
                raise
            if response.status_code >= 400:
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
