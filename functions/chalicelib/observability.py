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

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter
from aws_lambda_powertools.shared.functions import powertools_dev_is_set

if TYPE_CHECKING:
    from aws_lambda_powertools.logging.types import LogRecord

SERVICE = "powerlet"
NAMESPACE = "Powerlet"

# No line names its thread or process (Powertools' keys: level, location, message,
# timestamp, service, correlation id, and the call's own), so a record need not look them
# up: one line per message is ingest's steady cost (issue 19; the logging HOWTO's
# "Optimization": https://docs.python.org/3/howto/logging.html#optimization).
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False


# The line's JSON as Powertools' own serializer writes it (json.dumps, compact, non-ASCII
# as is, str() for what JSON has no type for): the fallback for what orjson refuses.
_stdlib_dumps = partial(json.dumps, default=str, separators=(",", ":"), ensure_ascii=False)
# datetime and dataclasses go to ``default`` (str), as json.dumps sends them; orjson would
# write them its own way (ISO with a "T", a dict).
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps_line(log: LogRecord) -> str:
    """A log line's JSON: orjson (~1 us for ingest's line against ~10 us for json.dumps,
    issue 19), the same text as ``json.dumps`` for what a line holds (str, int, bool,
    None, Decimal and datetime through ``str``). What orjson refuses and json.dumps
    writes (an int beyond 64 bits, a key that is not a string, a lone surrogate) goes to
    json.dumps. Two spellings differ, not the values: a small float (``1e-05`` is
    ``0.00001``), and NaN or Infinity, which json.dumps writes as no JSON reader takes
    and orjson as ``null``."""
    try:
        return orjson.dumps(log, default=str, option=_ORJSON_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _stdlib_dumps(log)


_RESERVED = frozenset(RESERVED_LOG_ATTRS)


class LineFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, the same line for less CPU (one line per telemetry
    message is ingest's steady cost, issue 19):

    - the keys a call adds are told from the record's own by a set (Powertools looks each
      up in a tuple of 24 names: ~40 % of its formatting);
    - the timestamp's text up to the second is made once a second (``time.strftime``
      every line otherwise);
    - a line with no exception is not given four exception keys only to strip them.

    ``tests/unit/test_log_line_format.py`` holds every line to the stock formatter's."""

    # (the second, the text before its milliseconds, the zone): one tuple, read and
    # replaced whole, so a thread never pairs one second with another's text
    _stamp: tuple[int, str, str] = (-1, "", "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if self.datefmt or datefmt or self.use_rfc3339_iso8601 or self.use_datetime_directive:
            return super().formatTime(record, datefmt)
        stamp = self._stamp
        second = int(record.created)
        if stamp[0] != second:
            # the default format, "%Y-%m-%d %H:%M:%S,%F%z", either side of its milliseconds
            at = self.converter(record.created)
            stamp = (second, time.strftime("%Y-%m-%d %H:%M:%S,", at), time.strftime("%z", at))
            self._stamp = stamp
        _, before, zone = stamp
        return f"{before}{int(record.msecs):03d}{zone}"

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info:  # the traceback's keys: Powertools' own way
            return super().format(record)
        # LambdaPowertoolsFormatter.format without an exception: the exception keys a
        # call gave are kept, the stack trace is none, the X-Ray id is this invocation's;
        # then every key whose value is None is left out.
        log = self._extract_log_keys(log_record=record)
        log["message"] = self._extract_log_message(log_record=record)
        if self.serialize_stacktrace:
            log["stack_trace"] = None
        log["xray_trace_id"] = self._get_latest_trace_id()
        return self.serialize(log={k: v for k, v in log.items() if v is not None})

    def _extract_log_keys(self, log_record: logging.LogRecord) -> dict[str, Any]:
        # LambdaPowertoolsFormatter._extract_log_keys, with a set for the reserved names
        record_dict = log_record.__dict__.copy()
        record_dict["asctime"] = self.formatTime(record=log_record)
        reserved = _RESERVED
        formatted_log: dict[str, Any] = {}
        for keys in (self.log_format, self.thread_safe_get_current_keys()):
            for key, value in keys.items():
                if value and key in reserved:
                    if not isinstance(value, str):
                        # Powertools' own refusal, in its words
                        return super()._extract_log_keys(log_record)
                    formatted_log[key] = value % record_dict
                else:
                    formatted_log[key] = value
        for key, value in record_dict.items():
            if key not in reserved:
                formatted_log[key] = value
        return formatted_log


# POWERTOOLS_DEV (``sam local``): Powertools' own indented lines, for a person to read.
logger = Logger(
    service=SERVICE,
    logger_formatter=LineFormatter(json_serializer=None if powertools_dev_is_set() else dumps_line),
)
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
