"""The Lambda entry of each event function: the ``Handler`` the deployed template names.

The Chalice app (``functions/app.py``) registers these functions too, for ``chalice
local``, the tests and packaging; but ``app.py`` imports every route, page and template,
so a function whose Handler were ``app.<name>`` would import the whole portal on each
cold start (about two seconds of CPU for ingest, issue 19). Each module here imports its
own function's path and nothing else; the template points the function at it
(``deploy/template.py``), and an import-linter contract keeps ingest's free of the web
edges (``pyproject.toml``). What each one runs is ``wiring.handlers``, as the app does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import observability

Handler = Callable[[dict[str, Any], Any], Any]


def on_event(run: Callable[[dict[str, Any]], Any], *, trace_aws_calls: bool = True) -> Handler:
    """A Lambda handler for ``run(event)``, with what the app's ``publish_metrics``
    middleware does around each registered function: a clean log context in, the
    invocation's metrics out. ``trace_aws_calls``: each AWS call an X-Ray subsegment
    (``observability.trace_aws_calls``), as the app does."""
    if trace_aws_calls:
        observability.trace_aws_calls()

    def handler(event: dict[str, Any], context: Any) -> Any:
        with observability.invocation():
            return run(event)

    return handler


def on_schedule(run: Callable[[], Any]) -> Handler:
    """A scheduled function's handler: EventBridge's event carries nothing it reads."""
    return on_event(lambda event: run())
