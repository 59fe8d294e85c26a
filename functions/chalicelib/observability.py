"""Structured logs and metrics (Powertools), one logger and one metrics object for the app.

Service name and log level come from Powertools' own environment variables
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL``). Metrics are emitted in
CloudWatch's embedded metric format (a log line, no client call from a handler) and
flushed once at the end of every invocation by the app's middleware (``flush``).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

SERVICE = "powerlet"
NAMESPACE = "Powerlet"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def flush() -> None:
    """Publish what this invocation measured; nothing (and no warning) if it measured
    nothing, which is most invocations."""
    if metrics.metric_set:
        metrics.flush_metrics()
