"""The hand-written telemetry check and the JSON Schema (the contract) agree.

GIVEN documents generated near the schema's edges (every field drawn from valid and
invalid values) and a corpus of known-bad ones, WHEN both judge them, THEN they accept
and refuse the same documents, and the hand-written refusal names a field the schema's
validator also names."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from chalicelib.pipeline import telemetry_check
from chalicelib.pipeline.telemetry_check import _meter, _meter_ok, check_telemetry, plainly_valid

SCHEMA = Path(__file__).resolve().parents[3] / "iot_rules" / "schemas" / "telemetry.v1.json"
CONTRACT = Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))

_MISSING = object()

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([Decimal("1.0"), Decimal("0.5"), Decimal("-1.5"), float("nan")]),
    st.text(max_size=3),
    st.just([]),
    st.just({}),
)
# Values at the edges of each field's rule, valid and not (pattern, range, type).
EDGES: dict[str, st.SearchStrategy[Any]] = {
    "kwh": st.sampled_from(["1.5", "12.345\n", "1234567890.000", "-1.000", "1.0000", ""]),
    "counter": st.sampled_from([0, -1, Decimal("2.0"), 10**12]),
    "id": st.sampled_from(["", "x" * 17, "x" * 18, "a b", "é", "m1\n"]),
    "dt": st.sampled_from([0, -1, 3_600_000, 3_600_001]),
    # floats too: orjson's reading of a fraction (telemetry.py ``_plain``)
    "number": st.sampled_from(
        [-1, Decimal("-1.00"), Decimal("1.01"), 0, Decimal("60.5"), 1.0, -1.0, 0.5, -0.0, 1e300]
    ),
    "text": st.sampled_from(["", "x" * 32, "x" * 33, "g" * 128, "g" * 129, "0123456789ABCDEF"]),
    "relay": st.sampled_from([0, 1, Decimal("1.0"), Decimal("0.0"), 2, True, False]),
    "dg": st.lists(st.one_of(st.integers(-1, 3), st.none()), min_size=3, max_size=8),
    "pv_key": st.one_of(st.from_regex(r"\A[a-z0-9_]{1,32}\Z"), st.text(max_size=3)),
}


@st.composite
def valid_meter(draw: st.DrawFn) -> dict[str, Any]:
    meter: dict[str, Any] = {
        "i": draw(st.from_regex(r"\A[A-Za-z0-9_-]{1,17}\Z")),
        "dt": draw(st.integers(0, 3_600_000)),
    }
    if draw(st.booleans()):
        meter["er"] = draw(st.text(min_size=1, max_size=32))
    else:
        meter["ie"] = draw(st.from_regex(r"\A[0-9]{1,9}\.[0-9]{3}\Z"))
        meter["w"] = draw(st.integers(-5000, 5000))
        meter["pf"] = draw(st.decimals(-1, 1, places=3))
        meter["r"] = draw(st.sampled_from([0, 1]))
    if draw(st.booleans()):
        meter["dg"] = draw(
            st.lists(st.integers(0, 10), min_size=5, max_size=7).map(
                lambda c: [*c[:3], None, *c[4:]]
            )
        )
    return meter


@st.composite
def valid_document(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = {
        "v": 1,
        "g": draw(st.text(min_size=1, max_size=20)),
        "sid": draw(st.from_regex(r"\A[0-9a-f]{16}\Z")),
        "s": draw(st.integers(1, 10**9)),
        "t": draw(st.integers(0, 2 * 10**12)),
        "d": draw(st.integers(0, 10**5)),
        "sp": {"n": 0, "th": draw(st.integers(0, 9)), "dr": 0},
        "m": draw(st.lists(valid_meter(), min_size=1, max_size=3)),
    }
    if draw(st.booleans()):
        document["pv"] = {"sdm120": "3.0123abcd"}
    return document


def _slots(document: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """Every place a value sits, with the kind of edge values it gets."""
    kinds = {"v": "relay", "g": "text", "sid": "text", "s": "counter", "t": "counter"}
    slots: list[tuple[tuple[Any, ...], str]] = [((k,), kinds.get(k, "counter")) for k in document]
    if isinstance(document.get("sp"), dict):
        slots += [(("sp", k), "counter") for k in document["sp"]]
    meter_kinds = {"i": "id", "dt": "dt", "er": "text", "ie": "kwh", "xe": "kwh", "te": "kwh"}
    meter_kinds |= {"w": "number", "v": "number", "pf": "number", "hz": "number"}
    meter_kinds |= {"r": "relay", "lc": "relay", "sn": "id", "dg": "dg"}
    listed = document.get("m")
    for index, meter in enumerate(listed if isinstance(listed, list) else []):
        if not isinstance(meter, dict):
            continue
        slots += [(("m", index, k), meter_kinds[k]) for k in ("hz", "ie", "lc", "sn", "te")]
        slots += [(("m", index, k), meter_kinds.get(k, "number")) for k in meter]
        if isinstance(meter.get("dg"), list):
            slots += [(("m", index, "dg", j), "counter") for j in range(len(meter["dg"]))]
    if isinstance(document.get("pv"), dict):
        slots += [(("pv", "sdm120"), "text"), (("pv",), "pv")]
    return slots


@st.composite
def documents(draw: st.DrawFn) -> Any:
    """A valid document with zero to two of its values moved to an edge, deleted, or
    added where no key is allowed."""
    document = draw(valid_document())
    for _ in range(draw(st.integers(0, 2))):
        path, kind = draw(st.sampled_from(_slots(document)))
        holder: Any = document
        for key in path[:-1]:
            holder = holder[key]
        action = draw(st.sampled_from(["edge", "edge", "junk", "delete", "extra"]))
        if action == "delete" and isinstance(holder, dict):
            holder.pop(path[-1], None)
        elif action == "extra" and isinstance(holder, dict):
            holder["zz"] = 1
        elif kind == "pv":
            holder[path[-1]] = {draw(EDGES["pv_key"]): "1.00000000"}
        elif isinstance(holder, (dict, list)):
            value = draw(EDGES[kind] if action == "edge" else junk)
            holder[path[-1]] = value
    return document


def _paths(document: Any) -> set[str]:
    return {"/".join(str(p) for p in e.absolute_path) for e in CONTRACT.iter_errors(document)}


def _agree(document: Any) -> None:
    problem = check_telemetry(document)
    contract_paths = _paths(document)
    assert (problem is None) == (not contract_paths), (document, problem, contract_paths)
    if problem is not None:
        # the field named is one the contract names too (or the object holding it)
        assert any(p == problem.path or p.startswith(problem.path) for p in contract_paths), (
            problem,
            contract_paths,
        )


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_the_check_and_the_schema_agree_on_generated_documents(document: Any) -> None:
    _agree(document)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_a_plainly_valid_document_is_valid_to_both(document: Any) -> None:
    # GIVEN a document near the schema's edges WHEN the whole-document predicate (the
    # orjson way's, telemetry.py) accepts it THEN the check and the contract accept it
    if plainly_valid(document):
        assert check_telemetry(document) is None and not _paths(document), document


def _valid() -> dict[str, Any]:
    return {
        "v": 1,
        "g": "pl-co_gw",
        "sid": "0123456789abcdef",
        "s": 1,
        "t": 0,
        "d": 0,
        "sp": {"n": 0, "th": 0, "dr": 0},
        "m": [{"i": "m1", "dt": 0, "ie": "1.000", "dg": [0, 0, 0, None, 0, 0, 0]}],
        "pv": {"sdm120": "3.0123abcd"},
    }


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    document = _valid()
    holder: Any = document
    for key in path[:-1]:
        holder = holder[key]
    if value is _MISSING:
        del holder[path[-1]]
    else:
        holder[path[-1]] = value
    return document


BAD = [
    (("v",), 2, "v"),
    (("v",), True, "v"),
    (("g",), "", "g"),
    (("sid",), "0123456789ABCDEF", "sid"),
    (("s",), 0, "s"),
    (("s",), Decimal("5.0"), "s"),
    (("t",), -1, "t"),
    (("sp",), _MISSING, ""),
    (("sp", "dr"), _MISSING, "sp"),
    (("sp", "extra"), 1, "sp"),
    (("m",), [{"i": "m1", "dt": 0}] * 248, "m"),
    (("m", 0, "ie"), "1.5", "m/0/ie"),
    (("m", 0, "ie"), 1.5, "m/0/ie"),
    (("m", 0, "dt"), 3_600_001, "m/0/dt"),
    (("m", 0, "er"), "timeout", "m/0"),
    (("m", 0, "r"), 2, "m/0/r"),
    (("m", 0, "r"), False, "m/0/r"),
    (("m", 0, "pf"), Decimal("1.01"), "m/0/pf"),
    (("m", 0, "hz"), -1, "m/0/hz"),
    (("m", 0, "lc"), 0, "m/0/lc"),
    (("m", 0, "sn"), "a b", "m/0/sn"),
    (("m", 0, "i"), "x" * 18, "m/0/i"),
    (("m", 0, "dg"), [0, 0, 0, None], "m/0/dg"),
    (("m", 0, "dg"), [0, 0, 0, -1, 0], "m/0/dg/3"),
    (("m", 0, "dg"), [0, None, 0, 0, 0], "m/0/dg/1"),
    (("m", 0, "zz"), 1, "m/0"),
    (("pv",), {"Bad": "3.0123abcd"}, "pv"),
    (("pv",), {"ok": "3.0123ABCD"}, "pv/ok"),
    (("pv",), {f"p{i}": "1.00000000" for i in range(65)}, "pv"),
    (("extra",), 1, ""),
]


@pytest.mark.parametrize(("path", "value", "named"), BAD)
def test_a_corpus_of_bad_documents_is_refused_by_both_naming_the_field(
    path: tuple[Any, ...], value: Any, named: str
) -> None:
    document = _with(path, value)
    _agree(document)
    problem = check_telemetry(document)
    assert problem is not None and problem.path == named, problem


def test_a_valid_document_is_accepted_by_both() -> None:
    _agree(_valid())
    assert check_telemetry(_valid()) is None
    assert plainly_valid(_valid())


# --- the fast predicate: never more lenient than the detailed check, and taken ---


def _detailed_accepts(meter: Any) -> bool:
    try:
        _meter("m/0", meter)
    except Exception:
        return False
    return True


@st.composite
def edged_meters(draw: st.DrawFn) -> Any:
    """A valid meter with zero to two of its values moved to an edge, junk, deleted or
    an extra key added (as ``documents`` does for whole messages)."""
    document = {"m": [draw(valid_meter())]}
    for _ in range(draw(st.integers(0, 2))):
        slots = [s for s in _slots(document) if len(s[0]) > 2]  # inside the meter
        if not slots:
            break
        path, kind = draw(st.sampled_from(slots))
        holder: Any = document
        for key in path[:-1]:
            holder = holder[key]
        action = draw(st.sampled_from(["edge", "edge", "junk", "delete", "extra"]))
        if action == "delete" and isinstance(holder, dict):
            holder.pop(path[-1], None)
        elif action == "extra" and isinstance(holder, dict):
            holder["zz"] = 1
        elif isinstance(holder, (dict, list)):
            holder[path[-1]] = draw(EDGES[kind] if action == "edge" else junk)
    return document["m"][0]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edged_meters())
def test_the_fast_predicate_accepts_only_what_the_detailed_check_accepts(meter: Any) -> None:
    # GIVEN a meter near the schema's edges WHEN the fast predicate accepts it
    # THEN the detailed check (which the schema agrees with) accepts it too
    if _meter_ok(meter):
        assert _detailed_accepts(meter), meter


@settings(max_examples=300, deadline=None)
@given(valid_meter())
def test_the_fast_predicate_accepts_every_valid_meter_a_gateway_sends(
    meter: dict[str, Any],
) -> None:
    # GIVEN a valid meter of the shapes a gateway sends (exact int and Decimal numbers)
    # THEN the fast predicate alone accepts it: the detailed check is for faults
    assert _meter_ok(meter), meter


def test_a_32_meter_message_never_reaches_the_detailed_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a gateway's message of 32 meters with every field a gateway sends
    meter = {
        "i": "m01",
        "dt": 30,
        "ie": "1000.001",
        "xe": "0.000",
        "v": Decimal("229.8"),
        "a": Decimal("1.25"),
        "w": 287,
        "pf": Decimal("0.98"),
        "hz": Decimal("50.01"),
        "r": 1,
        "lc": 1,
        "sn": "SN-0001",
        "dg": [0, 0, 0, 28, 0, 0, 0],
    }
    document = {**_valid(), "m": [{**meter, "i": f"m{n:02d}"} for n in range(32)]}
    calls: list[str] = []
    monkeypatch.setattr(telemetry_check, "_meter", lambda path, meter: calls.append(path))
    # WHEN checked THEN it is valid without one detailed (per-field) meter check
    assert check_telemetry(document) is None
    assert calls == []
