"""docs/api.md shows every route of the JSON API with an example request and answer, and
the examples are true: each request body is one its route takes, each answer one its
route's model gives (the same models the OpenAPI document is built from)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app import app
from chalicelib.routing.access import REQUEST_BODIES, RESPONSES
from chalicelib.web.pages import PAGE_ROUTES

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
TEXT = DOC.read_text(encoding="utf-8")
HEADING = re.compile(r"^### `([A-Z]+) (/\S*)`$", re.M)
REQUEST = re.compile(r"```http\n(.*?)\n```", re.S)
ANSWER = re.compile(r"^(\d{3}):\n\n```json\n(.*?)\n```", re.S | re.M)
API_ROUTES = sorted(
    (method, path)
    for path, methods in app.routes.items()
    for method in methods
    if (method, path) not in PAGE_ROUTES
)


def sections() -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    marks = list(HEADING.finditer(TEXT))
    for mark, after in zip(marks, [*marks[1:], None], strict=True):
        end = after.start() if after else len(TEXT)
        body = TEXT[mark.end() : end].split("\n## ")[0]
        key = (mark.group(1), mark.group(2))
        assert key not in found, f"{key} documented twice"
        found[key] = body
    return found


SECTIONS = sections()


def test_every_route_is_documented_and_nothing_else() -> None:
    assert sorted(SECTIONS) == API_ROUTES


@pytest.mark.parametrize(("method", "path"), API_ROUTES, ids=" ".join)
def test_the_example_request_and_answer_are_the_routes_own(method: str, path: str) -> None:
    section = SECTIONS.get((method, path))
    assert section is not None, f"docs/api.md has no section for {method} {path}"
    # the request: its line names the route, its body (if it takes one) is valid
    request = REQUEST.search(section)
    assert request, f"{method} {path}: no ```http example request"
    head, _, body = request.group(1).partition("\n\n")
    verb, target = head.splitlines()[0].split(" ", 1)
    pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/?]+", re.escape(path)) + r"(\?.*)?$"
    assert verb == method and re.match(pattern, target), head
    model = REQUEST_BODIES.get((method, path))
    if model is not None:
        model.model_validate(json.loads(body))
    # the answer: a success status of the route, and a body its model gives
    answer = ANSWER.search(section)
    assert answer, f"{method} {path}: no example answer (a status line, then ```json)"
    answers = RESPONSES[(method, path)]
    assert int(answer.group(1)) in answers.success
    assert answers.model is not None
    answers.model.model_validate(json.loads(answer.group(2)))
