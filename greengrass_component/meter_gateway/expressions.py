"""A small, safe expression language for profiles: values computed from registers.

A profile may say that a value is computed from other registers (a three-phase meter's
average voltage, a relay key derived from the serial number). Such a formula is data, so
it is parsed here into a tiny tree and evaluated by walking it; nothing is ever handed to
``eval``. Allowed: integer and decimal constants, names of registers (or ``channel``),
``+ - * / // %``, the bitwise ``& | ^ << >> ~``, parentheses, and the functions in
``FUNCTIONS``. Everything else is refused when the profile loads, naming what was found.

Arithmetic is exact (``Decimal``); bitwise operators need whole numbers. Every result is
bounded (``MAX_MAGNITUDE``) and a shift is at most 63 bits, so a profile cannot make the
gateway build huge numbers.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation
from functools import lru_cache

from meter_gateway.errors import ExpressionError

__all__ = ["FUNCTIONS", "Expression", "evaluate", "parse_expression"]

MAX_EXPRESSION_CHARS = 200
MAX_NODES = 64
MAX_SHIFT_BITS = 63
MAX_MAGNITUDE = Decimal(2) ** 64


def _whole(value: Decimal, what: str) -> int:
    if value != value.to_integral_value():
        raise ExpressionError(f"{what} needs a whole number, got {value}")
    return int(value)


def _bcd_decode(value: Decimal) -> Decimal:
    raw, digits, scale = _whole(value, "bcd()"), 0, 1
    while raw:
        nibble = raw & 0xF
        if nibble > 9:
            raise ExpressionError(f"bcd(): nibble 0x{nibble:X} is not a decimal digit")
        digits += nibble * scale
        scale *= 10
        raw >>= 4
    return Decimal(digits)


def _bcd_encode(value: Decimal) -> Decimal:
    number, raw, shift = _whole(value, "to_bcd()"), 0, 0
    if number < 0:
        raise ExpressionError("to_bcd(): negative numbers have no BCD form")
    for digit in reversed(str(number)):
        raw |= int(digit) << shift
        shift += 4
    return Decimal(raw)


def _swap16(value: Decimal) -> Decimal:
    word = _whole(value, "swap16()") & 0xFFFF
    return Decimal(((word & 0xFF) << 8) | (word >> 8))


# name -> (number of arguments, implementation); a fixed set, chosen for datasheets.
FUNCTIONS: dict[str, tuple[int, Callable[..., Decimal]]] = {
    "abs": (1, lambda x: abs(x)),
    "min": (2, lambda x, y: min(x, y)),
    "max": (2, lambda x, y: max(x, y)),
    "trunc": (1, lambda x: Decimal(int(x))),
    "lo16": (1, lambda x: Decimal(_whole(x, "lo16()") & 0xFFFF)),
    "hi16": (1, lambda x: Decimal((_whole(x, "hi16()") >> 16) & 0xFFFF)),
    "swap16": (1, _swap16),
    "bcd": (1, _bcd_decode),
    "to_bcd": (1, _bcd_encode),
}

_BINARY = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}


@dataclass(frozen=True)
class Node:
    kind: str  # "const", "name", "op", "unary", "call"
    value: Decimal | None = None
    name: str = ""
    args: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Expression:
    text: str
    root: Node
    names: frozenset[str]


def _convert(node: ast.AST, count: list[int]) -> Node:
    count[0] += 1
    if count[0] > MAX_NODES:
        raise ExpressionError(f"more than {MAX_NODES} terms")
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        # Decimal(str()) keeps "0.1" as written rather than its binary neighbour.
        return Node("const", value=Decimal(str(node.value)))
    if isinstance(node, ast.Name):
        return Node("name", name=node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return Node(
            "op",
            name=_BINARY[type(node.op)],
            args=(_convert(node.left, count), _convert(node.right, count)),
        )
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return Node("unary", name=_UNARY[type(node.op)], args=(_convert(node.operand, count),))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        spec = FUNCTIONS.get(node.func.id)
        if spec is None:
            raise ExpressionError(
                f"unknown function {node.func.id}(); allowed: {', '.join(sorted(FUNCTIONS))}"
            )
        if len(node.args) != spec[0]:
            raise ExpressionError(f"{node.func.id}() takes {spec[0]} argument(s)")
        return Node("call", name=node.func.id, args=tuple(_convert(a, count) for a in node.args))
    raise ExpressionError(f"{type(node).__name__} is not allowed in a profile expression")


def _names(node: Node) -> set[str]:
    found = {node.name} if node.kind == "name" else set()
    for arg in node.args:
        found |= _names(arg)
    return found


@lru_cache(maxsize=512)
def parse_expression(text: str) -> Expression:
    """Parse and check ``text``; ExpressionError says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("an expression must be a non-empty string")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not an expression: {exc.msg}") from exc
    root = _convert(tree.body, [0])
    return Expression(text, root, frozenset(_names(root)))


def _bounded(value: Decimal) -> Decimal:
    if not value.is_finite() or abs(value) >= MAX_MAGNITUDE:
        raise ExpressionError(f"result {value} is out of range")
    return value


def _apply(op: str, left: Decimal, right: Decimal) -> Decimal:
    try:
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if op == "/":
            return left / right
        if op == "//":
            return Decimal(int(left // right))
        if op == "%":
            return left % right
    except (DivisionByZero, InvalidOperation, ZeroDivisionError) as exc:
        raise ExpressionError(f"{left} {op} {right}: {type(exc).__name__}") from exc
    a, b = _whole(left, op), _whole(right, op)
    if op in ("<<", ">>"):
        if not 0 <= b <= MAX_SHIFT_BITS:
            raise ExpressionError(f"shift by {b} bits (0..{MAX_SHIFT_BITS})")
        return Decimal(a << b if op == "<<" else a >> b)
    return Decimal(a & b if op == "&" else a | b if op == "|" else a ^ b)


def _eval(node: Node, variables: Mapping[str, Decimal]) -> Decimal:
    if node.kind == "const":
        assert node.value is not None
        return node.value
    if node.kind == "name":
        if node.name not in variables:
            raise ExpressionError(f"no value for {node.name!r}")
        return Decimal(variables[node.name])
    values = [_eval(arg, variables) for arg in node.args]
    if node.kind == "unary":
        if node.name == "~":
            return _bounded(Decimal(~_whole(values[0], "~")))
        return _bounded(-values[0] if node.name == "-" else values[0])
    if node.kind == "call":
        return _bounded(FUNCTIONS[node.name][1](*values))
    return _bounded(_apply(node.name, values[0], values[1]))


def evaluate(expression: str | Expression, variables: Mapping[str, Decimal | int]) -> Decimal:
    """The value of ``expression`` with ``variables`` (names of registers, ``channel``)."""
    parsed = parse_expression(expression) if isinstance(expression, str) else expression
    return _eval(parsed.root, {k: Decimal(v) for k, v in variables.items()})
