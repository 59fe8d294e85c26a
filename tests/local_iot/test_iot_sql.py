"""The IoT SQL subset against AWS's documented semantics (SQL version 2016-03-23)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local_iot.errors import SqlEvaluationError, SqlSyntaxError, UnsupportedSqlError
from local_iot.iot_sql import MessageContext, RawPayload, parse
from local_iot.topic_filter import matches, topic_segment


def message(topic: str, payload: bytes, client_id: str | None = "gw-1") -> MessageContext:
    return MessageContext(topic, payload, client_id, timestamp_ms=1_700_000_000_123)


def test_topic_n_is_one_based_and_undefined_past_the_end() -> None:
    # GIVEN a rule reading the first, third and ninth topic levels
    query = parse(
        "SELECT topic(1) AS a, topic(3) AS c, topic(9) AS z, topic() AS t FROM 'p/gw/+/x'"
    )
    # WHEN a message arrives on a four-level topic
    out = query.evaluate(message("p/gw/gw-7/x", b"{}"))
    # THEN levels count from 1, and an undefined one is left out of the result
    assert out == {"a": "p", "c": "gw-7", "t": "p/gw/gw-7/x"}


def test_topic_zero_is_refused_when_the_rule_is_loaded() -> None:
    with pytest.raises(UnsupportedSqlError, match="n >= 1"):
        parse("SELECT topic(0) AS a FROM 'x'")


def test_select_star_on_a_json_object_is_the_object() -> None:
    out = parse("SELECT * FROM 'a/+'").evaluate(message("a/b", b'{"k": 1, "n": {"m": true}}'))
    assert out == {"k": 1, "n": {"m": True}}


def test_select_star_alone_on_a_binary_payload_passes_the_bytes_through() -> None:
    # AWS: "SELECT * FROM 'topic/subtopic'" works with a binary payload
    out = parse("SELECT * FROM 'a/+'").evaluate(message("a/b", b"\xff\x00not json"))
    assert out == RawPayload(b"\xff\x00not json")


def test_select_star_with_added_items_on_a_binary_payload_fails_the_rule() -> None:
    query = parse("SELECT *, timestamp() AS t FROM 'a/+'")
    with pytest.raises(SqlEvaluationError, match="JSON payload"):
        query.evaluate(message("a/b", b"\xff\xfe"))


def test_select_star_with_added_items_merges_and_the_alias_wins() -> None:
    query = parse("SELECT *, topic(2) AS thing_name, timestamp() AS received_at_ms FROM 'a/+'")
    out = query.evaluate(message("a/gw-2", b'{"thing_name": "spoofed", "v": 1}'))
    assert out == {"thing_name": "gw-2", "v": 1, "received_at_ms": 1_700_000_000_123}


def test_empty_payload_behaves_as_an_empty_object() -> None:
    out = parse("SELECT *, clientid() AS c FROM 'a'").evaluate(message("a", b""))
    assert out == {"c": "gw-1"}


def test_clientid_is_undefined_when_the_publisher_is_unknown() -> None:
    out = parse("SELECT clientid() AS c, topic(1) AS t FROM 'a'").evaluate(
        message("a", b"{}", None)
    )
    assert out == {"t": "a"}


@given(st.binary(max_size=2048))
def test_encode_base64_returns_exactly_the_payload_bytes(payload: bytes) -> None:
    # GIVEN any payload at all, JSON or not
    query = parse("SELECT encode(*, 'base64') AS raw FROM 'powerlet/gw/+/telemetry'")
    # WHEN the ingest rule's encoding is applied
    out = query.evaluate(message("powerlet/gw/g/telemetry", payload))
    # THEN decoding gives back the same bytes
    assert isinstance(out, dict)
    assert base64.b64decode(out["raw"]) == payload


@pytest.mark.parametrize(
    ("where", "payload", "selected"),
    [
        ("v = 1", {"v": 1}, True),
        ("v = 1", {"v": 2}, False),
        ("v <> 1", {"v": 2}, True),
        ("v != 1", {"v": 1}, False),
        ("v > 1.5", {"v": 2}, True),
        ("v <= 2", {"v": 2}, True),
        ("s = 'it''s'", {"s": "it's"}, True),
        ("s < 'b'", {"s": "a"}, True),
        ("a.b = true", {"a": {"b": True}}, True),
        ("v = 1", {}, False),  # undefined compares false
        ("v = '1'", {"v": 1}, False),  # mixed types compare false
        ("v = 1 AND w = 2", {"v": 1, "w": 3}, False),
        ("v = 1 OR w = 2", {"v": 0, "w": 2}, True),
        ("v = 9 OR v = 1 AND w = 2", {"v": 1, "w": 2}, True),  # AND binds tighter
        ("topic(2) = 'b'", {}, True),
    ],
)
def test_where_comparisons(where: str, payload: dict, selected: bool) -> None:
    query = parse(f"SELECT * FROM 'a/+' WHERE {where}")
    out = query.evaluate(message("a/b", json.dumps(payload).encode()))
    assert (out is not None) is selected


def test_where_on_a_binary_payload_filters_it_out() -> None:
    query = parse("SELECT * FROM 'a' WHERE device_type = 'thermostat'")
    assert query.evaluate(message("a", b"\x00\x01")) is None


def test_a_field_without_alias_is_named_by_its_last_level() -> None:
    out = parse("SELECT a.b FROM 'x'").evaluate(message("x", b'{"a": {"b": 5}}'))
    assert out == {"b": 5}


@pytest.mark.parametrize(
    ("sql", "error", "words"),
    [
        ("SELECT upper(x) AS y FROM 'a'", UnsupportedSqlError, "upper"),
        ("SELECT topic(3) FROM 'a'", UnsupportedSqlError, "AS"),
        ("SELECT encode(x, 'base64') AS y FROM 'a'", UnsupportedSqlError, "on \\*"),
        ("SELECT encode(*, 'hex') AS y FROM 'a'", UnsupportedSqlError, "base64"),
        ("SELECT * FROM 'a' WHERE NOT v = 1", UnsupportedSqlError, "NOT"),
        ("SELECT * FROM 'a' WHERE (v = 1)", UnsupportedSqlError, "parentheses"),
        ("SELECT * FROM 'a' WHERE v IN (1)", UnsupportedSqlError, "comparisons"),
        ("SELECT * FROM a", SqlSyntaxError, "quoted topic filter"),
        ("SELECT * FROM 'a/#/b'", SqlSyntaxError, "'#'"),
        ("SELECT * FROM 'a/b+'", SqlSyntaxError, "'\\+'"),
        ("SELECT * FROM 'a' garbage", SqlSyntaxError, "garbage"),
        ("SELECT *", SqlSyntaxError, "FROM"),
        ("SELECT * FROM 'a' WHERE v ~ 1", SqlSyntaxError, "cannot read"),
    ],
)
def test_unsupported_or_broken_sql_is_refused_with_a_reason(
    sql: str, error: type, words: str
) -> None:
    with pytest.raises(error, match=words):
        parse(sql)


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("powerlet/gw/+/telemetry", "powerlet/gw/g1/telemetry", True),
        ("powerlet/gw/+/telemetry", "powerlet/gw/g1/x/telemetry", False),
        ("a/#", "a", True),  # '#' also matches the parent level
        ("a/#", "a/b/c", True),
        ("#", "$aws/events/presence/connected/x", False),  # wildcards never match '$' topics
        ("+/events/presence/+/+", "$aws/events/presence/connected/x", False),
        ("$aws/events/presence/+/+", "$aws/events/presence/connected/x", True),
        ("$aws/events/presence/+/+", "$aws/events/presence/connected", False),
    ],
)
def test_topic_filter_matching(topic_filter: str, topic: str, expected: bool) -> None:
    assert matches(topic_filter, topic) is expected


@given(st.lists(st.text(alphabet="abc-_019", min_size=1, max_size=5), min_size=1, max_size=7))
def test_topic_segment_agrees_with_split(levels: list[str]) -> None:
    topic = "/".join(levels)
    assert [topic_segment(topic, n) for n in range(1, len(levels) + 1)] == levels
    assert topic_segment(topic, len(levels) + 1) is None
