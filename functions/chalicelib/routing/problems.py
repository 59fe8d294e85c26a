"""Refusals of the JSON API as RFC 9457 problem details (``application/problem+json``).

One document shape for every refusal the app itself makes: ``type`` (one per kind of
refusal, documented in docs/api.md), ``title`` (the same for every problem of that
type), ``status``, ``detail`` (this occurrence, in words), ``instance`` (the request
path) and ``errors``: one entry per invalid field, with its path and a human message
(never pydantic's raw text with its documentation URL).

API Gateway's own refusals (the authorizers' 401 and 403, its throttle, an unknown
route) are made in the same shape by the stack's gateway responses
(``infra/deploy/gateway_responses.py``) and by the local server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:powerlet:problem:"
MAX_FIELD_ERRORS = 20  # a body can be wrong in many places; the first twenty say enough

# status -> (type name, title). One type per status: the status already says what
# kind of refusal it is, ``detail`` and ``errors`` say what was wrong.
PROBLEM_TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid-request", "The request is invalid"),
    401: ("unauthenticated", "Sign in again"),  # a revoked session (SessionRevokedError)
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "The route does not take this method"),
    409: ("conflict", "Conflicts with the current state"),
    413: ("too-large", "The request body is too large"),
    415: ("unsupported-media-type", "The body is not a supported type"),
    422: ("refused", "The request is valid but the rules refuse it"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal", "Something failed on our side"),
    503: ("unavailable", "A service this request needs is unavailable; try again later"),
    # API Gateway's own, when the function did not answer in time (infra/deploy/gateway_responses.py)
    504: ("timeout", "The request took too long; try again later"),
}


class FieldProblem(BaseModel):
    """One invalid field of the request."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(
        description="dotted path of the field (``meters[0].profile``), or the query parameter"
    )
    pointer: str = Field(description="the same path as a JSON Pointer (RFC 6901)")
    message: str = Field(description="what is wrong, in words")


class Problem(BaseModel):
    """An RFC 9457 problem details document."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description=f"{TYPE_PREFIX}<name>; the names are listed in docs/api.md")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str | None = Field(default=None, description="the path of the request")
    errors: list[FieldProblem] = Field(
        default_factory=list, description="one entry per invalid field (400 only)"
    )


def problem(
    status: int,
    detail: str,
    instance: str | None = None,
    errors: Sequence[FieldProblem] = (),
) -> dict[str, Any]:
    name, title = PROBLEM_TYPES[status]
    return Problem(
        type=TYPE_PREFIX + name,
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        errors=list(errors),
    ).model_dump(mode="json")


def field_problems(exc: ValidationError) -> list[FieldProblem]:
    """pydantic's errors as field paths and messages (no input echoed, no URL)."""
    found = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = [part for part in error["loc"] if part != "__root__"]
        found.append(
            FieldProblem(
                field=dotted(loc) or "(body)",
                pointer="/" + "/".join(str(part) for part in loc),
                message=_human(error["msg"]),
            )
        )
    return found[:MAX_FIELD_ERRORS]


def one_field(field: str, message: str) -> FieldProblem:
    """A failure the domain found in one field (``friendly_hours.weekly.2``)."""
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in field.split(".")]
    return FieldProblem(
        field=dotted(parts), pointer="/" + "/".join(str(p) for p in parts), message=message
    )


def summary(errors: Sequence[FieldProblem]) -> str:
    """``detail`` of a validation failure: every field and its message, in one line."""
    return "; ".join(f"{e.field}: {e.message}" for e in errors) or "the request is invalid"


def dotted(loc: Sequence[str | int]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _human(message: str) -> str:
    # pydantic prefixes a validator's own ValueError text; the text is the message
    return message.removeprefix("Value error, ")
