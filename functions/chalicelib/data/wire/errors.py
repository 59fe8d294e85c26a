"""Failures of the DynamoDB wire client, one class per failure mode.

Each carries the operation and, when DynamoDB answered, its error type (the
``__type`` after ``#``) and message, so a log line says what AWS said.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConditionFailedError, DataError

# An item in DynamoDB JSON, as an answer holds it: {stored name: {type: value}}.
AnswerItem = dict[str, dict[str, Any]]


class WireError(DataError):
    """Base of the wire client's failures."""

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        status: int | None = None,
        aws_type: str | None = None,
        aws_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.status = status
        self.aws_type = aws_type
        self.aws_message = aws_message


class MissingCredentialsError(WireError):
    """No credentials to sign with (nothing was sent)."""


class ConditionalCheckFailedError(WireError, ConditionFailedError):
    """The write's condition was false: DynamoDB's ConditionalCheckFailedException (a
    ConditionFailedError, the data layer's name for it)."""


class AccessRefusedError(WireError):
    """DynamoDB refused who we are or what we may do: an unknown key, a signature that
    does not match (a wrong secret, a skewed clock), an expired token, or an action the
    role is not granted. Never retried: the same request meets the same answer."""


class ThrottledError(WireError):
    """Still throttled (throughput or request-rate limits) after every retry."""


class ServiceUnavailableError(WireError):
    """DynamoDB answered 5xx (or a reply that failed its checksum) on every attempt."""


class ConnectionFailedError(WireError):
    """No answer: the connection failed or timed out on every attempt."""


class UntrustedEndpointError(WireError):
    """The endpoint's TLS certificate failed verification (an unknown authority, another
    host's name, expired). Never retried: the same certificate meets the same check."""


class RequestRefusedError(WireError):
    """Any other 4xx (a malformed request, a missing table): a bug or a wrong setting,
    never retried."""


@dataclass(frozen=True)
class CancellationReason:
    """One item's part in a cancelled transaction (DynamoDB's ``CancellationReason``):
    ``code`` None when the item was not a reason (the wire's ``"None"``), else e.g.
    ``ConditionalCheckFailed`` or ``TransactionConflict``; ``item`` the item as it stood,
    when that item asked ``ReturnValuesOnConditionCheckFailure: ALL_OLD``, failed its
    condition and existed."""

    code: str | None
    message: str | None = None
    item: AnswerItem | None = None


class TransactionCanceledError(RequestRefusedError):
    """DynamoDB cancelled a transaction (``TransactionCanceledException``): ``reasons``
    holds one ``CancellationReason`` per item, in the request's order (empty when the
    answer had none), so a caller knows which item's condition failed without reading
    the items again. A RequestRefusedError, as every cancellation was before."""

    def __init__(
        self, message: str, *, reasons: tuple[CancellationReason, ...] = (), **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.reasons = reasons


def cancellation_reasons(body: Mapping[str, Any]) -> tuple[CancellationReason, ...]:
    """The ``CancellationReasons`` of an error body (AWS API reference, "CancellationReason":
    Code, Message, Item); empty when the list is missing or not a list of objects."""
    found = body.get("CancellationReasons")
    if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
        return ()
    reasons = []
    for raw in found:
        code, message, item = raw.get("Code"), raw.get("Message"), raw.get("Item")
        reasons.append(
            CancellationReason(
                None if code in (None, "None") else str(code),
                None if message is None else str(message),
                item if isinstance(item, dict) else None,
            )
        )
    return tuple(reasons)


class UnreadableAnswerError(WireError):
    """Base of the answers the client's HTTP layer (transport.py) will not read."""


class MalformedAnswerError(UnreadableAnswerError):
    """Not HTTP/1.x as RFC 9112 writes it: a garbage status line, a header line without
    a colon or folded, a bad Content-Length or chunk size. Not retried: the far end is
    not DynamoDB (a wrong endpoint, a port that speaks something else)."""


class OversizedHeadersError(UnreadableAnswerError):
    """An answer's header section over 64 KiB or 100 lines (http.client's limits).
    Not retried."""


class UnframedAnswerError(UnreadableAnswerError):
    """An answer whose body has neither a Content-Length nor chunked transfer coding
    (or another transfer coding): its end cannot be told from a dropped connection.
    Not retried."""


class TruncatedAnswerError(UnreadableAnswerError):
    """The connection ended before the answer did. Retried as a dropped connection is;
    raised when every attempt met it."""
