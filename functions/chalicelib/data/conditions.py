"""Reading DynamoDB's answers to conditional writes, in one place.

A conditional put/update/delete that fails raises PynamoDB's ``PutError`` /
``UpdateError`` / ``DeleteError`` with ``ConditionalCheckFailedException``; a
``TransactWriteItems`` that is cancelled carries one reason per item, in the order
the items were added (``None`` for an item that was fine).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_module

if TYPE_CHECKING:
    from pynamodb import exceptions as pynamo_errors
else:  # loaded when first used: data/lazy.py
    pynamo_errors = lazy_module("pynamodb.exceptions")


CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"
# Whole-request codes worth a retry with back-off (not an answer about our data).
RETRYABLE_CODES = frozenset({"TransactionInProgressException", "ThrottlingException"})


def conditional_check_failed(exc: pynamo_errors.PynamoDBException) -> bool:
    """A single-item write refused by its condition."""
    return exc.cause_response_code == CONDITION_FAILED + "Exception"


def cancellation_reasons(exc: pynamo_errors.TransactWriteError) -> list[str | None]:
    """Per item of a cancelled transaction: its failure code, or None."""
    return [r.code if r else None for r in (getattr(exc, "cancellation_reasons", None) or [])]


def failed_at(exc: pynamo_errors.TransactWriteError, index: int) -> bool:
    """Whether the transaction's item number ``index`` failed its condition."""
    reasons = cancellation_reasons(exc)
    return index < len(reasons) and reasons[index] == CONDITION_FAILED


def retryable(exc: pynamo_errors.TransactWriteError) -> bool:
    """Contention rather than a refusal: worth another attempt after a wait."""
    return (
        TRANSACTION_CONFLICT in cancellation_reasons(exc)
        or exc.cause_response_code in RETRYABLE_CODES
    )
