"""``ingest_telemetry``'s Handler in AWS. An IoT rule delivers each gateway's telemetry message."""

from ..wiring import handlers
from . import on_event

# No X-Ray SDK: its import would be most of a cold start (observability.py); Lambda's
# active tracing still records each traced invocation.
handler = on_event(handlers.ingest_telemetry, trace_aws_calls=False)
