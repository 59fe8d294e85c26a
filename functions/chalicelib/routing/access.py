"""Who may call which route, declared next to the route and kept in one registry.

``ROUTE_ACCESS`` maps ``(METHOD, path)`` to the roles allowed (or ``PUBLIC``).
A test enumerates every route of the app and fails if one is missing here or
has no access test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from chalice import Blueprint
from pydantic import BaseModel

from ..auth.principal import Principal, Role
from .authorizer import token_authorizer
from .dependencies import deps
from .errors import map_errors
from .responses import OK, Answers, conform

PUBLIC: frozenset[Role] = frozenset()
ANY_SIGNED_IN = frozenset(Role) - {Role.RESELLER}  # users of a company, not API keys
STAFF = frozenset({Role.COMPANY_ADMIN, Role.PROPERTY_MANAGER, Role.LANDLORD})
# What spans every property of the company (its thresholds): a manager or a landlord is
# delegated some properties only.
COMPANY_ADMINS = frozenset({Role.COMPANY_ADMIN})

ROUTE_ACCESS: dict[tuple[str, str], frozenset[Role]] = {}
# The JSON body a route takes, and the creates that honour an Idempotency-Key header,
# declared on the route so the OpenAPI document is built from the same declaration.
REQUEST_BODIES: dict[tuple[str, str], type[BaseModel]] = {}
IDEMPOTENT_CREATES: set[tuple[str, str]] = set()
# The query parameters a route reads (a model of str fields), for the OpenAPI document.
QUERY_MODELS: dict[tuple[str, str], type[BaseModel]] = {}
# What each route answers (responses.py): its success model and statuses, its refusals.
RESPONSES: dict[tuple[str, str], Answers] = {}

_F = TypeVar("_F", bound=Callable[..., Any])


def declare(
    path: str,
    methods: tuple[str, ...],
    roles: frozenset[Role],
    body: type[BaseModel] | None = None,
    idempotent: bool = False,
    query: type[BaseModel] | None = None,
    answers: Answers | None = None,
) -> None:
    """Record who may call a route, what body it takes and whether it is an idempotent
    create, and what it answers."""
    for method in methods:
        ROUTE_ACCESS[(method, path)] = roles
        RESPONSES[(method, path)] = answers or Answers(None)
        if query is not None:
            QUERY_MODELS[(method, path)] = query
        if body is not None:
            REQUEST_BODIES[(method, path)] = body
        if idempotent:
            IDEMPOTENT_CREATES.add((method, path))


def route(
    bp: Blueprint,
    path: str,
    roles: frozenset[Role],
    methods: tuple[str, ...] = ("GET",),
    body: type[BaseModel] | None = None,
    idempotent: bool = False,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    success: tuple[int, ...] = OK,
    errors: tuple[int, ...] = (),
    **kw: Any,
) -> Callable[[_F], _F]:
    """Register a route, the roles allowed to call it, its JSON body and its answers, in
    one declaration."""

    def register(func: _F) -> _F:
        answers = Answers(response, success, errors)
        declare(path, methods, roles, body, idempotent, query, answers)
        if roles is not PUBLIC:
            kw["authorizer"] = token_authorizer
        bp.route(path, methods=list(methods), **kw)(map_errors(conform(func, response), bp))
        return func

    return register


def current_principal(bp: Blueprint, allowed: frozenset[Role]) -> Principal:
    """The verified caller with its role from the membership record (read on every
    request, with the company's status and the user's session epoch: a suspension, a
    password change or a sign-out everywhere ends the token's access at once, whatever
    API Gateway cached of the authorizer's answer)."""
    ctx = bp.current_request.context.get("authorizer") or {}
    return deps().principals.load(
        str(ctx.get("company_id") or ""),
        str(ctx.get("user_sub") or ""),
        str(ctx.get("email", "")),
        allowed,
        issued_at_ms=_int(ctx.get("auth_time")) * 1000,
    )


def _int(value: object) -> int:
    """API Gateway hands the authorizer's context values back as strings."""
    try:
        return int(str(value))
    except ValueError:
        return 0
