"""Structured logs, metrics and traces (Powertools): one logger, one metrics object and
one tracer per container.

Service name and log level come from Powertools' own environment variables
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL``). Metrics are emitted in
CloudWatch's embedded metric format (a log line, no client call from a handler) and
flushed once at the end of every invocation by the app's middleware (``flush``).

The tracer patches botocore (so every DynamoDB, IoT, SES and SQS call is a subsegment of
the function's X-Ray trace; the functions trace actively, ``deploy/operations.py``). It
switches itself off outside Lambda (tests, ``chalice local``), where no daemon listens.
It is made by ``trace_aws_calls``, which the app and every function's entry call except
ingest's: importing the X-Ray SDK is about 250 ms of CPU, the largest part of a cold
ingest once the app is not imported, and ingest keeps Lambda's own segments of each
traced invocation (docs/deploy.md, "Cold start").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "powerlet"
NAMESPACE = "Powerlet"

# No line names its thread or process (Powertools' keys: level, location, message,
# timestamp, service, correlation id, and the call's own), so a record need not look them
# up: one line per message is ingest's steady cost (issue 19; the logging HOWTO's
# "Optimization": https://docs.python.org/3/howto/logging.html#optimization).
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
_tracer: Tracer | None = None


def trace_aws_calls() -> Tracer:
    """The container's tracer, made (and botocore patched) on the first call."""
    global _tracer
    if _tracer is None:
        _tracer = Tracer(service=SERVICE)
    return _tracer


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
