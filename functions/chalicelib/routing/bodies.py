"""The one reader of JSON request bodies: bounded in size and nesting before it parses.

``json.loads`` recurses once per level, so a body of fifty thousand ``[`` raises
RecursionError (a 500) before any model sees it; and no request of this API needs more
than a few kilobytes. The limits are checked on the raw bytes, strings skipped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chalice.app import Request

MAX_JSON_BYTES = 256 * 1024  # the largest real body (a tariff with seasons) is ~10 KB
MAX_JSON_DEPTH = 32  # the deepest real body (tariff -> seasons -> bands) nests 6
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


class BodyTooLargeError(Exception):
    """A request body beyond ``MAX_JSON_BYTES``."""


class MalformedJsonError(Exception):
    """A request body that is not JSON this API reads: invalid, not UTF-8, or too deep."""


def json_body(request: Request) -> Any:
    """The request's JSON body, or None when it has none."""
    body = request.raw_body or b""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not raw.strip():
        return None
    if len(raw) > MAX_JSON_BYTES:
        raise BodyTooLargeError(f"the body is {len(raw)} bytes; at most {MAX_JSON_BYTES}")
    depth = deepest = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub(b'""', raw)):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    if deepest > MAX_JSON_DEPTH:
        raise MalformedJsonError(f"the body nests {deepest} deep; at most {MAX_JSON_DEPTH}")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise MalformedJsonError(f"the body is not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise MalformedJsonError(f"the body is not JSON: {exc.msg} at {exc.pos}") from exc
    except ValueError as exc:  # e.g. an integer beyond the interpreter's 4,300 digits
        raise MalformedJsonError(f"the body holds a value JSON cannot carry here: {exc}") from exc
