"""``ingest_telemetry``'s Handler in AWS. An IoT rule delivers each gateway's telemetry message."""

from ..wiring import handlers
from . import on_event

handler = on_event(handlers.ingest_telemetry)
