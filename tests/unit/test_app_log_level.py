"""The app's logger logs at INFO in a function: importing the Chalice app (which shares
the logger's name) must not raise it to ERROR, which would drop every INFO line (ingest's
outcome line, the routes' refusals)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_PROBE = """
import logging
from chalicelib import observability
import app
from chalicelib.lambdas import ingest_telemetry
print(logging.getLogger(observability.SERVICE).getEffectiveLevel())
"""


def _level_after_import(*pre: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(REPO / "functions")}
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(pre) + _PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_importing_the_app_leaves_the_logger_at_info() -> None:
    # GIVEN a fresh interpreter as Lambda starts one (one sys.stdout throughout)
    # WHEN the logger, the Chalice app and an entry are imported
    # THEN the logger still passes INFO lines
    assert _level_after_import() == 20


def test_the_probe_sees_a_logger_raised_to_error() -> None:
    # GIVEN stdout replaced between the logger's import and the app's (as a capture does)
    pre = "import io, sys\nfrom chalicelib import observability\nsys.stdout = io.StringIO()"
    # WHEN the app is imported THEN Chalice raises the shared logger to ERROR, which is
    # what the first test would see if the function's logger and app ever disagreed
    probe = pre + "\nimport app\nimport logging\nsys.stdout = sys.__stdout__\n"
    assert _level_after_import(probe) == 40
