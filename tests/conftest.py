"""Session-wide guards that apply to every tier."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.client
import pytest
from hypothesis import settings

from local_aws.dynamodb_guard import MAINTENANCE_FLAG
from tests.infra.iam_usage import (
    COMPLETE_USAGE_FILE,
    USAGE_DIR,
    USAGE_DIR_ENV,
    USAGE_FILE,
    TierCoverage,
    UsageRecorder,
    child_pythonpath,
    coverage_key,
    imported_app,
    read_usage,
)

# Property tests check behaviour, not speed (that is `make bench`): on a loaded 2-core CI
# machine Hypothesis' default 200 ms deadline per example fails correct code at random.
settings.register_profile("powerlet", deadline=None, print_blob=True)
settings.load_profile("powerlet")


@pytest.fixture(autouse=True, scope="session")
def no_scan_in_process() -> Iterator[None]:
    """Fail any test whose code issues a DynamoDB Scan from this process.

    The stand-in refuses Scans from every process too (see
    ``local_aws.dynamodb_guard``); this hook also covers in-process mocks. A
    maintenance tool marks its client with ``allow_maintenance_scans``, which
    flags the client for this hook and adds the header the stand-in honours.
    """
    original = botocore.client.BaseClient._make_api_call

    def guarded(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if operation_name == "Scan" and not _is_maintenance(self):
            raise AssertionError(
                f"DynamoDB Scan issued outside a maintenance tool: {api_params.get('TableName')}"
            )
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = guarded  # type: ignore[method-assign]
    yield
    botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


def _is_maintenance(client: Any) -> bool:
    return bool(getattr(client.meta, MAINTENANCE_FLAG, False))


# --- least privilege measured (tests/infra/iam_usage.py, deploy.least_privilege) ---

# The tiers whose runs measure what each function calls (the functions run there for real).
MEASURED_TIERS = ("functional", "e2e", "infra")
# Runs last, after every tier it evaluates (moved there at collection).
LEAST_PRIVILEGE_TEST = "test_least_privilege.py::test_every_call_is_granted_and_every_grant_used"


class LeastPrivilegeMeasurement:
    """Records every function's AWS calls for the session and tracks whether the measured
    tiers ran whole (see ``TierCoverage``)."""

    def __init__(self, coverage: TierCoverage) -> None:
        self.coverage = coverage
        self.recorder = UsageRecorder(USAGE_DIR, imported_app)

    def start(self, is_worker: bool) -> None:
        if not is_worker:  # the xdist controller or a plain run starts afresh
            shutil.rmtree(USAGE_DIR, ignore_errors=True)
        USAGE_DIR.mkdir(parents=True, exist_ok=True)
        # The end-to-end tier's functions run in child processes: they record through
        # iam_site/sitecustomize.py, which this puts on their import path.
        os.environ[USAGE_DIR_ENV] = str(USAGE_DIR)
        os.environ["PYTHONPATH"] = child_pythonpath(os.environ.get("PYTHONPATH"))
        self.recorder.install()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        last = [item for item in items if item.nodeid.endswith(LEAST_PRIVILEGE_TEST)]
        for item in last:
            items.remove(item)
            items.append(item)
        self.coverage.on_collected(items)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.coverage.on_deselected(items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.coverage.on_report(report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The union of what every process recorded, for ``bench/deploy_report.py``."""
        self.recorder.uninstall()
        if hasattr(session.config, "workerinput"):
            return
        reasons = self.coverage.incomplete_because()
        text = (
            json.dumps(
                {
                    "complete": not reasons,
                    "incomplete_because": reasons,
                    "tiers": list(MEASURED_TIERS),
                    "uses": read_usage(USAGE_DIR),
                },
                indent=1,
            )
            + "\n"
        )
        USAGE_FILE.write_text(text)
        if not reasons:
            COMPLETE_USAGE_FILE.write_text(text)


def pytest_configure(config: pytest.Config) -> None:
    coverage = TierCoverage(Path(__file__).resolve().parent, MEASURED_TIERS)
    config.stash[coverage_key] = coverage
    plugin = LeastPrivilegeMeasurement(coverage)
    plugin.start(is_worker=hasattr(config, "workerinput"))
    config.pluginmanager.register(plugin, "least-privilege-measurement")
