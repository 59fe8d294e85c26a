"""Structured logs, metrics and traces (Powertools): one logger, one metrics object and
one tracer for the app.

Service name and log level come from Powertools' own environment variables
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL``). Metrics are emitted in
CloudWatch's embedded metric format (a log line, no client call from a handler) and
flushed once at the end of every invocation by the app's middleware (``flush``).

The tracer patches botocore (so every DynamoDB, IoT, SES and SQS call is a subsegment of
the function's X-Ray trace; the functions trace actively, ``deploy/operations.py``). It
switches itself off outside Lambda (tests, ``chalice local``), where no daemon listens.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "powerlet"
NAMESPACE = "Powerlet"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


def begin() -> None:
    """A new invocation: nothing of the previous one's correlation id is carried over
    (a container serves one invocation after another)."""
    logger.set_correlation_id(None)


def flush() -> None:
    """Publish what this invocation measured; nothing (and no warning) if it measured
    nothing, which is most invocations."""
    if metrics.metric_set:
        metrics.flush_metrics()


@contextmanager
def invocation() -> Iterator[None]:
    """One invocation: ``begin``, then ``flush`` however it ends (the app's middleware
    and each function's Lambda entry, ``chalicelib/lambdas``)."""
    begin()
    try:
        yield
    finally:
        flush()
