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

import gc

# A cold start allocates a few hundred thousand objects (the imports, then what the first
# invocation imports and builds), and the collector, at its default thresholds, walks the
# growing heap again and again while they are made: about a tenth of a cold ingest's CPU
# (docs/deploy.md, "Cold start"). Nothing made then is garbage, so the young generation's
# threshold is raised until the first invocation has run; then the survivors are frozen
# (``gc.freeze``: later collections never walk them) and the defaults come back. Before
# the other imports: it must hold while they run.
COLD_START_THRESHOLDS = (100_000, 50, 100)
_warm_thresholds = gc.get_threshold()
gc.set_threshold(*COLD_START_THRESHOLDS)

import os  # noqa: E402 - after the collector's setting

# pydantic looks for plugins (an entry-point scan of every distribution in the package)
# when it builds its first validator; the functions use none, and its documented switch
# skips the scan (https://docs.pydantic.dev/latest/concepts/plugins/). Set unless the
# environment says otherwise.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from .. import observability  # noqa: E402

Handler = Callable[[dict[str, Any], Any], Any]


def end_cold_start() -> None:
    """The container is warm: freeze what the cold start made and restore the collector's
    thresholds (idempotent; the first invocation of any entry calls it)."""
    if gc.get_threshold() == COLD_START_THRESHOLDS:
        gc.freeze()
        gc.set_threshold(*_warm_thresholds)


def on_event(run: Callable[[dict[str, Any]], Any], *, trace_aws_calls: bool = True) -> Handler:
    """A Lambda handler for ``run(event)``, with what the app's ``publish_metrics``
    middleware does around each registered function: a clean log context in, the
    invocation's metrics out. ``trace_aws_calls``: each AWS call an X-Ray subsegment
    (``observability.trace_aws_calls``), as the app does."""
    if trace_aws_calls:
        observability.trace_aws_calls()

    def handler(event: dict[str, Any], context: Any) -> Any:
        try:
            with observability.invocation():
                return run(event)
        finally:
            end_cold_start()

    return handler


def on_schedule(run: Callable[[], Any]) -> Handler:
    """A scheduled function's handler: EventBridge's event carries nothing it reads."""
    return on_event(lambda event: run())
