"""Failures of the event pipeline, one class per failure mode."""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every pipeline failure."""


class InvalidTelemetryError(PipelineError):
    """A telemetry event that cannot be used; ``reason`` goes to the dead letter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MissingClientIdError(InvalidTelemetryError):
    """The rule gave no MQTT client id (clientid() undefined, or "n/a": not sent over MQTT)."""


class ForeignSenderError(InvalidTelemetryError):
    """The MQTT client that published is not the gateway whose topic it published on."""


class UnknownGatewayError(PipelineError):
    """The topic names a thing that is not a registered gateway."""


class InvalidShadowEventError(PipelineError):
    """A shadow documents event without the fields the confirmation needs."""


class InvalidManualEndError(PipelineError):
    """A manual 'on' without an end, an end in the past or too far ahead, or an end
    given to an 'off' or to automatic control."""


class ManualReasonRequiredError(PipelineError, ValueError):
    """A manual disconnect or restore without a reason."""


class NoMeterError(PipelineError):
    """The unit has no meter (or its meter is on no gateway)."""


class NoAccountError(PipelineError):
    """The unit has no current tenancy account to credit."""


class InvalidTopUpError(PipelineError, ValueError):
    """A top-up amount or client key that cannot be used."""


class ControlContentionError(PipelineError):
    """A gateway's control state kept changing under concurrent writers."""


class ReadingCorrectionError(PipelineError, ValueError):
    """A held reading's decision or a meter exchange that cannot be applied as asked."""


class ReadingAlreadyDecidedError(ReadingCorrectionError):
    """The held reading was decided already (or by someone else meanwhile): a decision is
    made once."""


class ReadingBelowAnchorError(ReadingCorrectionError):
    """Accepting (or estimating) a value below the last good reading: a reset or a swap,
    which only a meter exchange can record without charging energy twice or losing it."""


class BillHeldError(PipelineError):
    """A unit's next bill cannot be made safely now. It waits (later periods wait behind
    it, so bills stay in order); ``reason`` is returned and logged, and staff are told
    when ``tell_staff``."""

    reason = "held"
    tell_staff = True


class NoTariffError(BillHeldError):
    """The unit has no current tenancy or tariff to bill."""

    reason = "no_tenancy_or_tariff"
    tell_staff = False


class RegisterResetError(BillHeldError):
    """The 15-minute buckets hold more energy than the register rose over the period: a
    reset or a replaced meter. Billing the closing alone would drop the energy before it."""

    reason = "register_reset"


class RegisterBackwardsError(BillHeldError):
    """The register at the period end is below a real reading before it: a reset or a
    replaced meter the closing cannot be computed across."""

    reason = "register_backwards"


class ReadingsUnderReviewError(BillHeldError):
    """Readings validation held sit between the last real reading and the period end,
    and no valid reading after the end shows the register carried on: a reset or swap
    staff have not decided yet. The bill waits for the review (accept, reject, estimate
    or record the exchange) rather than estimate across it."""

    reason = "readings_under_review"


class ExchangeInEstimateError(BillHeldError):
    """A meter exchange was recorded inside a stretch the last bill estimated: how much
    of the old register that bill over- or under-charged is a person's call."""

    reason = "exchange_in_estimate"


class EstimateLimitError(BillHeldError):
    """The period end has no reading and the periods before it were already estimated
    ``MAX_ESTIMATES_IN_A_ROW`` times: the bill waits for a real reading."""

    reason = "estimates_in_a_row"


class BillCursorBehindError(BillHeldError):
    """The account's cursor is not at its last bill's closing reading: a bill issued before
    bills were atomic and never charged. A human charges or voids it before billing goes on."""

    reason = "cursor_not_at_last_bill"


class BillConflictError(BillHeldError):
    """The ledger refused the bill's entries: an entry id already used for other content,
    a charge without its bill, or an account in another currency. Nothing was written."""

    reason = "ledger_conflict"


class InvalidProvisioningClaimError(PipelineError):
    """A fleet-provisioning claim lacks or misshapes its parameters (the hook refuses it)."""
