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
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(observability.logger.registered_formatter)
    observability.logger.addHandler(handler)
    try:
        yield buffer
    finally:
        observability.logger.removeHandler(handler)
