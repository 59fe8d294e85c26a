"""The event pipeline: a reading becomes money, and the decision goes back to the relay.

Where things happen:

- a reading enters: ``ingest.py`` (parse ``telemetry.py``, its sender ``senders.py``, store,
  ``buckets.py``)
- money changes: ``settler.py`` (priced by ``charging.py``) and ``meter_control.py`` (top-up)
- a relay is switched: ``control.py`` (policy -> ``shadows.py``), confirmed in ``confirmation.py``
- the bus's control state (``data/control_state.py``) changes: ``contention.py`` (plan,
  commit, then perform the plan's ``effects.py`` once)
- people are told: ``alerts.py``
- schedules: ``billing_run.py``, ``reconciliation.py``, ``presence.py`` (offline sweep),
  ``confirmation.py`` (retry sweep)
"""

from .errors import (
    ControlContentionError,
    ForeignSenderError,
    InvalidShadowEventError,
    InvalidTelemetryError,
    InvalidTopUpError,
    ManualReasonRequiredError,
    MissingClientIdError,
    NoAccountError,
    NoMeterError,
    PipelineError,
    ReadingAlreadyDecidedError,
    ReadingBelowAnchorError,
    ReadingCorrectionError,
    UnknownGatewayError,
)

__all__ = [
    "ControlContentionError",
    "ForeignSenderError",
    "InvalidShadowEventError",
    "InvalidTelemetryError",
    "InvalidTopUpError",
    "ManualReasonRequiredError",
    "MissingClientIdError",
    "NoAccountError",
    "NoMeterError",
    "PipelineError",
    "ReadingAlreadyDecidedError",
    "ReadingBelowAnchorError",
    "ReadingCorrectionError",
    "UnknownGatewayError",
]
