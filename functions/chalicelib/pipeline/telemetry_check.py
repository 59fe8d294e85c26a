"""The telemetry.v1 schema as hand-written checks (pure: no AWS, no jsonschema).

``iot_rules/schemas/telemetry.v1.json`` stays the contract; this module is the same
rules written out, because ``jsonschema`` walking the schema (with its ``$ref``
lookups) cost ~34 ms of ingest's ~50 ms per message and its import ~150 ms of a cold
start (issue 19). ``tests/unit/pipeline/test_telemetry_check_agrees.py`` proves the two
accept and refuse the same documents (hypothesis-generated and a corpus of bad ones).

Semantics follow the jsonschema implementation the contract was checked with, so the
agreement is exact: ``pattern`` is ``re.search`` (``$`` also matches before a final
newline), ``integer`` is a Python ``int`` that is not a ``bool`` (a JSON ``5.0`` parses
to ``Decimal`` and is not an integer), ``enum``/``const`` compare numbers by value
(``1.0`` equals ``1``) but never a boolean to a number.

The first problem found is reported as ``SchemaProblem(path, message)``: ``path`` is the
JSON path of the field (``m/3/ie``), so the dead letter names the field.

Each meter is first judged by ``_meter_ok``, a flat predicate on the exact types
``json.loads`` produces (no helper call, no path built): ~32 of them a message, it is
most of the check's cost. It only ever says yes to a meter the detailed check below
also accepts; a meter it doubts (a fault, or a rarity such as ``"r": 1.0``) goes to the
detailed check, which decides and names the field. So the refusals and their messages
are the detailed check's alone, and a good message costs a few microseconds a meter
(~420 -> ~60 us for 32 meters; ``tests/unit/pipeline/test_telemetry_check_agrees.py``
also proves the predicate never accepts what the detailed check refuses).

``plainly_valid`` is the same flat judgement for a whole document as orjson reads it
(``telemetry._plain``: floats for fractions, floats for integers past 64 bits), saying
yes only where that reading keeps the exact values; otherwise the exact way decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .memo import BoundedMemo

_KWH = re.compile(r"^[0-9]{1,9}\.[0-9]{3}$")
_METER_ID = re.compile(r"^[A-Za-z0-9_-]{1,17}$")
_SERIAL = re.compile(r"^[0-9A-Za-z._-]{1,20}$")
_SPOOL_ID = re.compile(r"^[0-9a-f]{16}$")
_PROFILE_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_PROFILE_VERSION = re.compile(r"^[0-9]{1,6}\.[0-9a-f]{8}$")

_ROOT_REQUIRED = ("v", "g", "sid", "s", "t", "d", "sp", "m")
_ROOT_KEYS = frozenset((*_ROOT_REQUIRED, "pv"))
_SPOOL_KEYS = ("n", "th", "dr")
_METER_KEYS = frozenset(
    ("i", "dt", "er", "ie", "xe", "te", "v", "a", "w", "pf", "hz", "r", "lc", "sn", "dg")
)
_METER_REQUIRED = frozenset(("i", "dt"))
MAX_READ_OFFSET_MS = 3_600_000
MAX_METERS = 247
MAX_PROFILES = 64


@dataclass(frozen=True)
class SchemaProblem:
    path: str  # "" for the document itself
    message: str

    def __str__(self) -> str:
        return f"at {self.path or '(root)'}: {self.message}"


class _Refused(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(path, message)
        self.problem = SchemaProblem(path, message)


def check_telemetry(document: Any) -> SchemaProblem | None:
    """None when ``document`` (parsed with ``parse_float=Decimal``) is valid telemetry.v1."""
    try:
        _root(document)
    except _Refused as refused:
        return refused.problem
    return None


# --- JSON types, as the contract's validator sees them ---


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _refuse_type(path: str, value: Any, expected: str) -> _Refused:
    return _Refused(path, f"{_type_name(value)} {_short(value)} is not of type '{expected}'")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _integer(path: str, value: Any, minimum: int | None = 0, maximum: int | None = None) -> None:
    if not _is_integer(value):
        raise _refuse_type(path, value, "integer")
    if minimum is not None and value < minimum:
        raise _Refused(path, f"{value} is less than the minimum of {minimum}")
    if maximum is not None and value > maximum:
        raise _Refused(path, f"{value} is greater than the maximum of {maximum}")


def _number(path: str, value: Any) -> None:
    if not _is_number(value):
        raise _refuse_type(path, value, "number")


def _string(
    path: str, value: Any, pattern: re.Pattern[str] | None = None, max_length: int | None = None
) -> None:
    if not isinstance(value, str):
        raise _refuse_type(path, value, "string")
    if pattern is not None and not pattern.search(value):
        raise _Refused(path, f"{_short(value)} does not match '{pattern.pattern}'")
    if max_length is not None and len(value) > max_length:
        raise _Refused(path, f"{_short(value)} is longer than {max_length} characters")
    if max_length is not None and not value:
        raise _Refused(path, "'' should be non-empty")


def _equals_number(value: Any, allowed: tuple[int, ...]) -> bool:
    return _is_number(value) and any(value == a for a in allowed)


def _object(path: str, value: Any, required: tuple[str, ...], allowed: frozenset[str]) -> None:
    if not isinstance(value, Mapping):
        raise _refuse_type(path, value, "object")
    for key in required:
        if key not in value:
            raise _Refused(path, f"{key!r} is a required property")
    extra = sorted(str(k) for k in value if k not in allowed)
    if extra:
        names = ", ".join(repr(k) for k in extra)
        raise _Refused(path, f"additional properties are not allowed ({names} unexpected)")


def _join(path: str, key: str | int) -> str:
    return f"{path}/{key}" if path else str(key)


# --- the schema ---


def _root(doc: Any) -> None:
    _object("", doc, _ROOT_REQUIRED, _ROOT_KEYS)
    if not _equals_number(doc["v"], (1,)):
        raise _Refused("v", f"1 was expected, not {_short(doc['v'])}")
    _string("g", doc["g"], max_length=128)
    _string("sid", doc["sid"], _SPOOL_ID)
    _integer("s", doc["s"], minimum=1)
    _integer("t", doc["t"])
    _integer("d", doc["d"])
    spool = doc["sp"]
    _object("sp", spool, _SPOOL_KEYS, frozenset(_SPOOL_KEYS))
    for key in _SPOOL_KEYS:
        _integer(_join("sp", key), spool[key])
    meters = doc["m"]
    if not isinstance(meters, list):
        raise _refuse_type("m", meters, "array")
    if len(meters) > MAX_METERS:
        raise _Refused("m", f"has {len(meters)} meters, more than {MAX_METERS}")
    for index, meter in enumerate(meters):
        if not _meter_ok(meter):
            _meter(f"m/{index}", meter)
    if "pv" in doc:
        _profiles(doc["pv"])


def _meter(path: str, meter: Any) -> None:
    _object(path, meter, ("i", "dt"), _METER_KEYS)
    _string(_join(path, "i"), meter["i"], _METER_ID)
    _integer(_join(path, "dt"), meter["dt"], minimum=0, maximum=MAX_READ_OFFSET_MS)
    if "er" in meter:
        _string(_join(path, "er"), meter["er"], max_length=32)
    for key in ("ie", "xe", "te"):
        if key in meter:
            _string(_join(path, key), meter[key], _KWH)
    for key in ("v", "a", "w"):
        if key in meter:
            _number(_join(path, key), meter[key])
    if "pf" in meter:
        pf = meter["pf"]
        _number(_join(path, "pf"), pf)
        if pf < -1 or pf > 1:
            raise _Refused(_join(path, "pf"), f"{pf} is outside -1..1")
    if "hz" in meter:
        _number(_join(path, "hz"), meter["hz"])
        if meter["hz"] < 0:
            raise _Refused(_join(path, "hz"), f"{meter['hz']} is less than the minimum of 0")
    if "r" in meter and not _equals_number(meter["r"], (0, 1)):
        raise _Refused(_join(path, "r"), f"{_short(meter['r'])} is not one of [0, 1]")
    if "lc" in meter and not _equals_number(meter["lc"], (1,)):
        raise _Refused(_join(path, "lc"), f"1 was expected, not {_short(meter['lc'])}")
    if "sn" in meter:
        _string(_join(path, "sn"), meter["sn"], _SERIAL)
    if "dg" in meter:
        _diagnostics(_join(path, "dg"), meter["dg"])
    if "er" in meter and "ie" in meter:
        raise _Refused(path, "a meter with an error ('er') must not carry a reading ('ie')")


def _diagnostics(path: str, counters: Any) -> None:
    if not isinstance(counters, list):
        raise _refuse_type(path, counters, "array")
    if not 5 <= len(counters) <= 7:
        raise _Refused(path, f"has {len(counters)} counters, not 5 to 7")
    for index, value in enumerate(counters):
        where = _join(path, index)
        if index == 3 and value is None:  # the last latency: null when unknown
            continue
        _integer(where, value)


def _profiles(profiles: Any) -> None:
    if not isinstance(profiles, Mapping):
        raise _refuse_type("pv", profiles, "object")
    if len(profiles) > MAX_PROFILES:
        raise _Refused("pv", f"has {len(profiles)} profiles, more than {MAX_PROFILES}")
    for name, version in profiles.items():
        if not _PROFILE_NAME.search(name):
            raise _Refused("pv", f"profile name {_short(name)} does not match")
        _string(_join("pv", name), version, _PROFILE_VERSION)


# --- the common case, fast ---

_ABSENT: Any = object()
# What json.loads(parse_float=Decimal) gives; orjson (``plainly_valid``) gives a float for
# a number with a fraction, which is taken only where its rounding cannot change the
# answer (below).
_NUMBER_TYPES = frozenset((int, Decimal))
_ANY_NUMBER_TYPES = frozenset((int, Decimal, float))
_kwh_search = _KWH.search
_meter_id_search = _METER_ID.search


# The key sets (in their order) of meters found to have only the schema's keys and its
# required ones: a gateway sends every meter with the same few, and a tuple looked up
# is ~4x cheaper than the two set comparisons. Bounded: what a container has seen.
_SHAPES: BoundedMemo[tuple[Any, ...], bool] = BoundedMemo(256)


def _meter_ok(meter: Any) -> bool:
    """True only for a meter ``_meter`` accepts; False: let ``_meter`` decide and say why.

    Exact types (``type(x) is int`` excludes ``bool``); every test is written out in the
    order of a gateway's keys, because a helper call per field was the check's cost."""
    if type(meter) is not dict:
        return False
    keys = meter.keys()
    shape = tuple(meter)
    if shape not in _SHAPES:
        if not (keys <= _METER_KEYS and keys >= _METER_REQUIRED):
            return False
        _SHAPES.remember(shape, True)
    value = meter["i"]
    if type(value) is not str or _meter_id_search(value) is None:
        return False
    value = meter["dt"]
    if type(value) is not int or not 0 <= value <= MAX_READ_OFFSET_MS:
        return False
    get = meter.get
    value = get("ie", _ABSENT)
    if value is not _ABSENT and (
        type(value) is not str or _kwh_search(value) is None or "er" in keys
    ):
        return False
    for key in ("xe", "te"):
        value = get(key, _ABSENT)
        if value is not _ABSENT and (type(value) is not str or _kwh_search(value) is None):
            return False
    # Only checked, never kept (telemetry.py): a float is as good as the exact number.
    for key in ("v", "a"):
        value = get(key, _ABSENT)
        if value is not _ABSENT and type(value) not in _ANY_NUMBER_TYPES:
            return False
    # Kept as a Decimal: never a float (its text is gone).
    value = get("w", _ABSENT)
    if value is not _ABSENT and type(value) not in _NUMBER_TYPES:
        return False
    # A float is rounded: one at a bound may stand for a number just beyond it, so a
    # float must be strictly inside (rounding is monotonic and the bounds are exact).
    value = get("pf", _ABSENT)
    if value is not _ABSENT and (
        not -1 < value < 1
        if type(value) is float
        else type(value) not in _NUMBER_TYPES or not -1 <= value <= 1
    ):
        return False
    value = get("hz", _ABSENT)
    if value is not _ABSENT and (
        not value > 0 if type(value) is float else type(value) not in _NUMBER_TYPES or value < 0
    ):
        return False
    value = get("r", _ABSENT)
    if value is not _ABSENT and (type(value) is not int or (value != 0 and value != 1)):
        return False
    value = get("lc", _ABSENT)
    if value is not _ABSENT and (type(value) is not int or value != 1):
        return False
    value = get("er", _ABSENT)
    if value is not _ABSENT and (type(value) is not str or not 0 < len(value) <= 32):
        return False
    value = get("sn", _ABSENT)
    if value is not _ABSENT and (type(value) is not str or _SERIAL.search(value) is None):
        return False
    value = get("dg", _ABSENT)
    if value is not _ABSENT:
        if type(value) is not list or not 5 <= len(value) <= 7:
            return False
        for counter in value:
            if type(counter) is not int or counter < 0:
                # the last latency (3) may be null
                for index, counter in enumerate(value):
                    if (type(counter) is not int or counter < 0) and (
                        counter is not None or index != 3
                    ):
                        return False
                break
    return True


_ROOT_REQUIRED_KEYS = frozenset(_ROOT_REQUIRED)
_SPOOL_KEY_SET = frozenset(_SPOOL_KEYS)
_spool_id_search = _SPOOL_ID.search


def plainly_valid(document: Any) -> bool:
    """True only for a document ``check_telemetry`` accepts *and* that json.loads with
    ``parse_float=Decimal`` reads as the same values wherever a value is kept. For
    orjson's document (telemetry.py): every integer must be an ``int`` (orjson reads one
    beyond 64 bits as a float), a float only where ``_meter_ok`` takes it. False: the
    document goes the exact way (json.loads, ``check_telemetry``), which decides and
    says why. ``tests/unit/pipeline/test_telemetry_fast_parse.py`` proves it."""
    if type(document) is not dict:
        return False
    keys = document.keys()
    if not (keys <= _ROOT_KEYS and keys >= _ROOT_REQUIRED_KEYS):
        return False
    value = document["v"]
    if type(value) is not int or value != 1:
        return False
    value = document["g"]
    if type(value) is not str or not 0 < len(value) <= 128:
        return False
    value = document["sid"]
    if type(value) is not str or _spool_id_search(value) is None:
        return False
    value = document["s"]
    if type(value) is not int or value < 1:
        return False
    for key in ("t", "d"):
        value = document[key]
        if type(value) is not int or value < 0:
            return False
    spool = document["sp"]
    if type(spool) is not dict or spool.keys() != _SPOOL_KEY_SET:
        return False
    for value in spool.values():
        if type(value) is not int or value < 0:
            return False
    meters = document["m"]
    if type(meters) is not list or len(meters) > MAX_METERS:
        return False
    for meter in meters:
        if not _meter_ok(meter):
            return False
    profiles = document.get("pv", _ABSENT)
    if profiles is not _ABSENT:
        if type(profiles) is not dict or len(profiles) > MAX_PROFILES:
            return False
        for name, version in profiles.items():
            if (
                type(name) is not str
                or _PROFILE_NAME.search(name) is None
                or type(version) is not str
                or _PROFILE_VERSION.search(version) is None
            ):
                return False
    return True
