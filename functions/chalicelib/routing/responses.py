"""What a JSON route answers, declared on the route: the model of its success body, its
success statuses and the refusals it may give beyond those every route of its kind has.

The OpenAPI document is built from these declarations (``infra/deploy/openapi.py``),
and every answer goes through its model before it leaves (``conform``), so the document
cannot promise a shape the route does not give: an answer that does not fit is a server
error of ours (``ResponseShapeError``, a 500 in the log with the field), never a body
the client's generated code chokes on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice import Response
from pydantic import BaseModel, ValidationError

OK = (200,)
CREATED = (201,)
CREATED_OR_REPLAYED = (201, 200)  # 201 the first time, 200 a replay of the same key


class ResponseShapeError(Exception):
    """A route's answer does not fit its declared model (a bug of ours: a 500)."""


@dataclass(frozen=True)
class Answers:
    model: type[BaseModel] | None
    success: tuple[int, ...] = OK
    # refusals this route gives beyond its kind's (body: 400, ids in the path: 404, ...)
    errors: tuple[int, ...] = ()


def conform(view: Callable[..., Any], model: type[BaseModel] | None) -> Callable[..., Any]:
    """Wrap a view so that its success body is its model's serialisation."""
    if model is None:
        return view

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        answer = view(*args, **kwargs)
        if isinstance(answer, Response):
            if 200 <= answer.status_code < 300 and isinstance(answer.body, dict):
                answer.body = _shaped(model, answer.body, view)
            return answer
        return _shaped(model, answer, view)

    return wrapped


def _shaped(model: type[BaseModel], body: Any, view: Callable[..., Any]) -> Any:
    try:
        # exclude_unset: the keys the route gave, checked; no nulls added for optional ones
        return model.model_validate(body).model_dump(mode="json", exclude_unset=True)
    except ValidationError as exc:
        raise ResponseShapeError(
            f"{view.__name__} answered a body that is not a {model.__name__}: {exc}"
        ) from exc
