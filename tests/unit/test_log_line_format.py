"""The app's log formatter writes the line Powertools' own formatter writes.

``observability.LineFormatter`` (a set for the reserved names, the timestamp's text made
once a second, the exception-free line without its exception keys) and ``dumps_line``
(orjson) exist only for CPU (issue 19). GIVEN records with any keys a call may add,
WHEN both formatters write them, THEN the lines are the same text (the same JSON values
where a float is written: orjson spells 1e-05 as 0.00001)."""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import observability
from chalicelib.observability import LineFormatter, dumps_line

KEYS = {"service": "powerlet", "sampling_rate": None}
# what a record already holds (logging refuses an extra key that clashes with them)
_RECORD_KEYS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # beyond 64 bits too: orjson refuses, json.dumps writes it
    st.floats(allow_nan=False, allow_infinity=False),  # those: the test below
    st.text(),  # lone surrogates too
    st.decimals(allow_nan=False),
    st.datetimes(timezones=st.just(UTC)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
extra_keys = st.one_of(
    st.sampled_from(
        ["outcome", "gateway", "exception", "exception_name", "stack_trace", "xray_trace_id"]
    ),
    st.sampled_from(RESERVED_LOG_ATTRS),  # ignored, as by Powertools
    st.text(min_size=1, max_size=6),
)


def _pair(**context: Any) -> tuple[LineFormatter, LambdaPowertoolsFormatter]:
    ours = LineFormatter(json_serializer=dumps_line)
    stock = LambdaPowertoolsFormatter()
    for formatter in (ours, stock):
        formatter.append_keys(**KEYS, **context)
    return ours, stock


def _record(message: Any, args: tuple[Any, ...], extra: dict[str, Any], created: float) -> Any:
    record = logging.LogRecord("powerlet", logging.INFO, "ingest.py", 186, message, args, None)
    record.funcName = "_report"
    record.created, record.msecs = created, math.floor((created % 1) * 1000) + 0.0
    record.__dict__.update({k: v for k, v in extra.items() if k not in _RECORD_KEYS})
    return record


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return isinstance(value, list) and any(_has_float(v) for v in value)


def _same_line(ours: str, stock: str, extra: dict[str, Any]) -> None:
    if _has_float(extra):
        assert json.loads(ours) == json.loads(stock)
    else:
        assert ours == stock


@settings(max_examples=300, deadline=None)
@given(
    extra=st.dictionaries(extra_keys, values, max_size=6),
    message=st.one_of(st.text(max_size=8), st.just('{"a": 1}'), st.just("not json {")),
    args=st.sampled_from([(), ("gw-1",)]),
    created=st.floats(1.6e9, 2.2e9),
    correlation=st.one_of(st.none(), st.text(max_size=8)),
)
def test_a_line_is_the_stock_formatters_line(
    extra: dict[str, Any], message: str, args: tuple[Any, ...], created: float, correlation: Any
) -> None:
    # GIVEN both formatters with the logger's keys and a call's correlation id
    ours, stock = _pair(correlation_id=correlation)
    text = message + (" %s" if args else "")
    # WHEN each writes the same record, twice in its second (the cached timestamp), then
    # in the next second and an hour on
    for at in (created, math.floor(created) + 0.999, created + 1, created + 3600.25):
        record = _record(text, args, extra, at)
        # THEN the lines agree (or both refuse a message its arguments do not fit)
        try:
            expected = stock.format(record)
        except (TypeError, ValueError) as refused:
            with pytest.raises(type(refused)):
                ours.format(record)
            continue
        _same_line(ours.format(record), expected, extra)


def test_the_ingest_line_is_the_stock_line() -> None:
    # GIVEN ingest's line for a steady message, with the correlation id set
    ours, stock = _pair(correlation_id="pl-gw1/99d9bdfa3e515e63/2")
    extra = {
        "outcome": "stored",
        "gateway": "gw1",
        "cycle_at": "2026-11-20T01:35:36.039000+00:00",
        "accepted": 32,
        "held": 0,
        "deferred": False,
        "charged_minor": 0,
    }
    record = _record("%s", ("telemetry gw1 stored: 32 readings",), extra, 1_796_614_326.689)
    # THEN the text is the same, and names every key, in order
    line = ours.format(record)
    assert line == stock.format(record)
    assert list(json.loads(line)) == [
        "level",
        "location",
        "message",
        "timestamp",
        "service",
        "correlation_id",
        *extra,
    ]


def test_a_line_with_an_exception_is_the_stock_line() -> None:
    ours, stock = _pair()
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed %s", ("x",), {"gateway": "gw1"}, 1_796_614_326.5)
        record.exc_info = __import__("sys").exc_info()
    line = ours.format(record)
    assert line == stock.format(record)
    assert json.loads(line)["exception_name"] == "ValueError"


@pytest.mark.parametrize(
    "log",
    [
        {"big": 2**70, "n": -(2**64)},  # orjson refuses beyond 64 bits
        {1: "a key that is not a string"},
        {"at": datetime(2026, 12, 7, 3, 0, tzinfo=UTC), "kwh": Decimal("1.500")},
        {"surrogate": "\ud800"},
        {"text": 'é \u2028 \x1f \\ "'},
    ],
)
def test_dumps_line_writes_what_json_dumps_writes(log: dict[Any, Any]) -> None:
    stock = LambdaPowertoolsFormatter().json_serializer
    assert dumps_line(log) == stock(log)


def test_a_float_that_is_no_number_is_written_as_json_null() -> None:
    # The one difference: json.dumps writes NaN and Infinity, which no JSON reader (nor
    # CloudWatch Logs Insights) takes; orjson writes null, and the line stays JSON.
    line = dumps_line({"ratio": math.nan, "rate": math.inf, "n": 1})
    assert json.loads(line) == {"ratio": None, "rate": None, "n": 1}


def test_the_app_logger_uses_the_line_formatter() -> None:
    formatter = observability.logger.registered_formatter
    assert isinstance(formatter, LineFormatter)
    assert formatter.json_serializer is dumps_line
