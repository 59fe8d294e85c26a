"""Loaded by every Python child of a test session (this folder is put on PYTHONPATH):
when the session asks for it, record which function makes which AWS call here too."""

import os
import sys

if os.environ.get("POWERLET_TEST_IAM_USAGE_DIR"):
    from pathlib import Path

    _repo = str(Path(__file__).resolve().parents[3])
    if _repo not in sys.path:
        sys.path.append(_repo)
    from tests.infra.iam_usage import UsageRecorder, loaded_app

    UsageRecorder(Path(os.environ["POWERLET_TEST_IAM_USAGE_DIR"]), loaded_app).install()
