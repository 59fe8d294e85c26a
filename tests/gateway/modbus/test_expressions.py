"""Profile expressions: a fixed, safe grammar evaluated exactly, never by eval."""

from __future__ import annotations

from decimal import Decimal

import pytest

from meter_gateway.errors import ExpressionError
from meter_gateway.expressions import evaluate, parse_expression


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("(v_l1 + v_l2 + v_l3) / 3", {"v_l1": 229, "v_l2": 230, "v_l3": 231}, Decimal(230)),
        ("((serial >> 24) + (serial >> 8)) & 0x1234", {"serial": 0x01ABCDEF}, Decimal(0x0204)),
        ("lo16(serial) ^ 0xA55A", {"serial": 0x12345678}, Decimal(0x5678 ^ 0xA55A)),
        ("hi16(serial) | 1 << 15", {"serial": 0x12345678}, Decimal(0x1234 | 0x8000)),
        ("bcd(raw) * 0.01", {"raw": 0x12345678}, Decimal("123456.78")),
        ("to_bcd(1234)", {}, Decimal(0x1234)),
        ("swap16(0x1234)", {}, Decimal(0x3412)),
        ("max(a, 0) - min(a, 0) + abs(-2) + trunc(2.7)", {"a": -5}, Decimal(9)),
        ("~0 & 0xFF", {}, Decimal(0xFF)),
        ("7 // 2 + 7 % 2", {}, Decimal(4)),
        ("0.1 + 0.2", {}, Decimal("0.3")),  # exact, not binary floating point
        ("channel * 2 + 0x100", {"channel": 3}, Decimal(0x106)),
    ],
)
def test_expressions_evaluate_exactly(text, variables, expected):
    assert evaluate(text, variables) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os').system('true')", "is not allowed"),
        ("open('x')", "unknown function open()"),
        ("a.b", "Attribute is not allowed"),
        ("a[0]", "Subscript is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("2 ** 1000", "BinOp"),
        ("'text'", "Constant is not allowed"),
        ("a if b else c", "IfExp is not allowed"),
        ("max(1)", "takes 2"),
        ("1 +", "not an expression"),
        ("x" * 201, "longer than 200"),
        ("+".join(["1"] * 40), "more than 64 terms"),
    ],
)
def test_anything_outside_the_grammar_is_refused_when_parsed(text, fragment):
    with pytest.raises(ExpressionError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_expression(text)


@pytest.mark.parametrize(
    ("text", "variables", "fragment"),
    [
        ("1 << 64", {}, "shift by 64"),
        ("x / 0", {"x": 1}, "DivisionByZero|InvalidOperation"),
        ("(1 << 63) * (1 << 63)", {}, "out of range"),
        ("1.5 & 1", {}, "whole number"),
        ("missing + 1", {}, "no value for 'missing'"),
        ("bcd(0x1A)", {}, "not a decimal digit"),
    ],
)
def test_bad_values_fail_with_a_reason_not_a_crash(text, variables, fragment):
    with pytest.raises(ExpressionError, match=fragment):
        evaluate(text, variables)
