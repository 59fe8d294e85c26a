"""Failures of the review of held readings and of meter exchanges, one class per failure
mode (mapped to HTTP answers in routing/errors.py, to messages on the readings page)."""

from __future__ import annotations

from .errors import PortalError


class ReadingReviewError(PortalError):
    """Base of every failure of a decision or an exchange."""


class AlreadyDecidedError(ReadingReviewError):
    """The held reading was decided already, perhaps by someone else a moment ago."""


class BelowLastGoodReadingError(ReadingReviewError):
    """Accepting a reading below the last good one: a reset or a swap, which needs a meter
    exchange so that energy across it is neither charged twice nor lost."""


class EstimateOutOfRangeError(ReadingReviewError):
    """An estimate below the last good reading or above what the meter can pass since it."""


class UnplaceableReadingError(ReadingReviewError):
    """Accepting or estimating a reading whose time is not when it was read (held for its
    clock): it can only be rejected."""


class ExchangeTimeError(ReadingReviewError):
    """An exchange time in the future or before the current tenancy began."""


class ExchangeExistsError(ReadingReviewError):
    """An exchange at this very time is already recorded (a repeated submit)."""


class ReviewNeedsMeterError(ReadingReviewError):
    """The unit has no meter (or its meter is on no gateway): nothing to decide or swap."""


class MeterChangedMeanwhileError(ReadingReviewError):
    """The meter's list of vouched readings changed under this action: try again."""


class CorrectionRefusedError(ReadingReviewError):
    """Any other refusal of the pipeline's corrections, with its reason."""
