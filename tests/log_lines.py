"""The app logger's JSON lines, captured (its own stdout handler was bound before any
capture began, so pytest's capsys does not see them)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from chalicelib import observability


@contextmanager
def app_log_lines() -> Iterator[io.StringIO]:
    """The lines at INFO, as a function logs them. The level is set here because the
    Chalice app shares the logger's name ("powerlet") and, on import, sets it to ERROR
    unless it finds a handler on the very ``sys.stdout`` it sees; Powertools bound its
    handler to the stdout of its own import, which under pytest's capture is another
    object whenever ``app`` is first imported later (so it depended on test order). In a
    function both see the same stdout: tests/unit/test_app_log_level.py."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(observability.logger.registered_formatter)
    level = observability.logger.log_level
    observability.logger.setLevel(logging.INFO)
    observability.logger.addHandler(handler)
    try:
        yield buffer
    finally:
        observability.logger.removeHandler(handler)
        observability.logger.setLevel(level)
