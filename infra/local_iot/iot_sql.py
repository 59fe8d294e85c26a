"""The subset of AWS IoT SQL (version 2016-03-23) that Powerlet's rules use.

Supported, with AWS semantics: ``SELECT *``, ``SELECT *, expr AS name``,
``encode(*, 'base64')``, ``topic()`` / ``topic(n)`` (1-based), ``clientid()``,
``timestamp()`` (ms), dotted payload fields (``a.b``), string/number/boolean
literals, ``FROM '<topic filter>'`` and an optional ``WHERE`` of comparisons
(``= <> != < <= > >=``) joined by ``AND`` / ``OR``. Anything else is refused
with an UnsupportedSqlError when the rule is loaded, not when a message arrives.

Undefined values (a missing field, ``topic(9)`` on a short topic) are left out
of the result, and a comparison with an undefined or differently typed side is
false, as in AWS.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import SqlEvaluationError, SqlSyntaxError, UnsupportedSqlError
from .topic_filter import matches, topic_segment, validate_filter

MAX_SQL_CHARS = 4096  # AWS's limit on a rule's SQL statement

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><>|!=|<=|>=|=|<|>)
      | (?P<punct>[(),*])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"SELECT", "FROM", "WHERE", "AS", "AND", "OR", "TRUE", "FALSE"}
_UNSUPPORTED_KEYWORDS = {"NOT", "CASE", "IN", "IS", "LIKE", "BETWEEN", "NULL"}
_FUNCTIONS = {"encode", "topic", "clientid", "timestamp"}


class _Undefined:
    def __repr__(self) -> str:
        return "Undefined"


UNDEFINED: Any = _Undefined()


@dataclass(frozen=True)
class MessageContext:
    """What the rules engine knows about one MQTT message besides its payload."""

    topic: str
    payload: bytes
    client_id: str | None
    timestamp_ms: int


@dataclass(frozen=True)
class RawPayload:
    """The result of ``SELECT *`` on a payload that is not JSON: the bytes as they came."""

    data: bytes


# --- expression tree -------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]  # expressions, or the string "*" for encode(*, ...)


@dataclass(frozen=True)
class Comparison:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class BoolOp:
    op: str  # "AND" | "OR"
    left: Any
    right: Any


@dataclass(frozen=True)
class SelectItem:
    expr: Any  # None means '*'
    alias: str | None


@dataclass(frozen=True)
class Query:
    sql: str
    items: tuple[SelectItem, ...]
    topic_filter: str
    where: Any

    def applies_to(self, topic: str) -> bool:
        return matches(self.topic_filter, topic)

    def evaluate(self, message: MessageContext) -> dict[str, Any] | list[Any] | RawPayload | None:
        """The rule's outgoing payload, or None when WHERE filters the message out."""
        document = _parse_payload(message.payload)
        if self.where is not None and _eval(self.where, document, message) is not True:
            return None
        return _project(self.items, document, message)


def parse(sql: str) -> Query:
    """Compile rule SQL; raises SqlSyntaxError / UnsupportedSqlError naming the problem."""
    if len(sql) > MAX_SQL_CHARS:
        raise SqlSyntaxError(f"SQL longer than {MAX_SQL_CHARS} characters")
    return _Parser(sql).query()


# --- parser ----------------------------------------------------------------------------


class _Parser:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.tokens = _tokenize(sql)
        self.pos = 0

    def query(self) -> Query:
        self._keyword("SELECT")
        items = [self._select_item()]
        while self._accept_punct(","):
            items.append(self._select_item())
        self._keyword("FROM")
        kind, text = self._next("a quoted topic filter after FROM")
        if kind != "string":
            raise SqlSyntaxError(f"FROM needs a quoted topic filter, got {text!r}")
        try:
            topic_filter = validate_filter(_unquote(text))
        except Exception as exc:
            raise SqlSyntaxError(f"bad topic filter in FROM: {exc}") from exc
        where = None
        if self._peek_keyword("WHERE"):
            self.pos += 1
            where = self._or()
        if self.pos != len(self.tokens):
            raise SqlSyntaxError(f"unexpected {self.tokens[self.pos][1]!r} after the statement")
        return Query(self.sql, tuple(items), topic_filter, where)

    def _select_item(self) -> SelectItem:
        if self._accept_punct("*"):
            return SelectItem(None, None)
        expr = self._operand()
        alias = None
        if self._peek_keyword("AS"):
            self.pos += 1
            kind, text = self._next("a name after AS")
            if kind != "name" or "." in text or text.upper() in _KEYWORDS:
                raise SqlSyntaxError(f"AS needs a plain name, got {text!r}")
            alias = text
        elif isinstance(expr, Call):
            raise UnsupportedSqlError(f"give {expr.name}() a name with AS")
        elif not isinstance(expr, Field):
            raise UnsupportedSqlError("give a literal in SELECT a name with AS")
        return SelectItem(expr, alias)

    def _or(self) -> Any:
        node = self._and()
        while self._peek_keyword("OR"):
            self.pos += 1
            node = BoolOp("OR", node, self._and())
        return node

    def _and(self) -> Any:
        node: Any = self._comparison()
        while self._peek_keyword("AND"):
            self.pos += 1
            node = BoolOp("AND", node, self._comparison())
        return node

    def _comparison(self) -> Comparison:
        left = self._operand()
        kind, text = self._next("a comparison operator")
        if kind != "op":
            raise UnsupportedSqlError(f"WHERE supports only simple comparisons, got {text!r}")
        return Comparison(text, left, self._operand())

    def _operand(self) -> Any:
        kind, text = self._next("an expression")
        if kind == "string":
            return Literal(_unquote(text))
        if kind == "number":
            return Literal(float(text) if "." in text else int(text))
        if kind == "punct" and text == "(":
            raise UnsupportedSqlError("parentheses are outside the supported SQL subset")
        if kind != "name":
            raise SqlSyntaxError(f"expected an expression, got {text!r}")
        upper = text.upper()
        if upper in {"TRUE", "FALSE"}:
            return Literal(upper == "TRUE")
        if upper in _UNSUPPORTED_KEYWORDS:
            raise UnsupportedSqlError(f"{upper} is outside the supported SQL subset")
        if upper in _KEYWORDS:
            raise SqlSyntaxError(f"unexpected keyword {upper}")
        if self._accept_punct("("):
            return self._call(text)
        return Field(tuple(text.split(".")))

    def _call(self, name: str) -> Call:
        if name not in _FUNCTIONS:
            raise UnsupportedSqlError(f"function {name}() is outside the supported SQL subset")
        args: list[Any] = []
        if not self._accept_punct(")"):
            while True:
                if self._accept_punct("*"):
                    args.append("*")
                else:
                    args.append(self._operand())
                if self._accept_punct(")"):
                    break
                if not self._accept_punct(","):
                    raise SqlSyntaxError(f"expected ',' or ')' in {name}()")
        return _checked_call(Call(name, tuple(args)))

    def _next(self, wanted: str) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise SqlSyntaxError(f"statement ends where {wanted} was expected")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _keyword(self, word: str) -> None:
        kind, text = self._next(word)
        if kind != "name" or text.upper() != word:
            raise SqlSyntaxError(f"expected {word}, got {text!r}")

    def _peek_keyword(self, word: str) -> bool:
        if self.pos >= len(self.tokens):
            return False
        kind, text = self.tokens[self.pos]
        return kind == "name" and text.upper() == word

    def _accept_punct(self, char: str) -> bool:
        if self.pos < len(self.tokens) and self.tokens[self.pos] == ("punct", char):
            self.pos += 1
            return True
        return False


def _checked_call(call: Call) -> Call:
    arity = {"clientid": (0,), "timestamp": (0,), "topic": (0, 1), "encode": (2,)}[call.name]
    if len(call.args) not in arity:
        raise SqlSyntaxError(f"{call.name}() takes {' or '.join(map(str, arity))} arguments")
    if call.name == "topic" and call.args:
        arg = call.args[0]
        if not (isinstance(arg, Literal) and isinstance(arg.value, int) and arg.value >= 1):
            raise UnsupportedSqlError("topic(n) needs a literal integer n >= 1")
    if call.name == "encode":
        source, codec = call.args
        if source != "*":
            raise UnsupportedSqlError("encode() is supported on * (the whole payload) only")
        if not (isinstance(codec, Literal) and codec.value == "base64"):
            raise UnsupportedSqlError("encode() supports the 'base64' encoding only")
    return call


def _tokenize(sql: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = sql.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise SqlSyntaxError(
                f"cannot read the SQL at character {pos}: {text[pos : pos + 20]!r}"
            )
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'")


# --- evaluation ------------------------------------------------------------------------


_NOT_JSON = object()


def _parse_payload(payload: bytes) -> Any:
    if not payload:
        return {}  # AWS: an empty payload behaves as an empty object
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _NOT_JSON


def _project(items: tuple[SelectItem, ...], document: Any, message: MessageContext) -> Any:
    if len(items) == 1 and items[0].expr is None:
        return RawPayload(message.payload) if document is _NOT_JSON else document
    result: dict[str, Any] = {}
    for item in items:
        if item.expr is None:
            if document is _NOT_JSON:
                raise SqlEvaluationError(
                    "SELECT * combined with other items needs a JSON payload; use encode(*, 'base64')"
                )
            if not isinstance(document, dict):
                raise SqlEvaluationError("SELECT * combined with other items needs a JSON object")
            result.update(document)
            continue
        value = _eval(item.expr, document, message)
        if value is UNDEFINED:
            continue
        name = item.alias or item.expr.path[-1]
        result[name] = value
    return result


def _eval(node: Any, document: Any, message: MessageContext) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Field):
        return _field(document, node.path)
    if isinstance(node, Call):
        return _call(node, message)
    if isinstance(node, BoolOp):
        left = _eval(node.left, document, message) is True
        if node.op == "AND":
            return left and _eval(node.right, document, message) is True
        return left or _eval(node.right, document, message) is True
    if isinstance(node, Comparison):
        return _compare(
            node.op, _eval(node.left, document, message), _eval(node.right, document, message)
        )
    raise SqlEvaluationError(f"cannot evaluate {node!r}")


def _field(document: Any, path: tuple[str, ...]) -> Any:
    value = document
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return UNDEFINED
        value = value[key]
    return value


def _call(call: Call, message: MessageContext) -> Any:
    if call.name == "timestamp":
        return message.timestamp_ms
    if call.name == "clientid":
        return message.client_id if message.client_id is not None else UNDEFINED
    if call.name == "topic":
        if not call.args:
            return message.topic
        segment = topic_segment(message.topic, call.args[0].value)
        return UNDEFINED if segment is None else segment
    return base64.b64encode(message.payload).decode("ascii")  # encode(*, 'base64')


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _compare(op: str, left: Any, right: Any) -> bool:
    kind = _kind(left)
    if kind is None or kind != _kind(right):
        return False  # undefined, null, objects or mixed types: AWS yields Undefined -> false
    if op == "=":
        return bool(left == right)
    if op in {"<>", "!="}:
        return bool(left != right)
    if kind == "bool":
        return False
    return bool(
        {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    )
