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
