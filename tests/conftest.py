"""Session-wide guards that apply to every tier."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.client
import pytest
from hypothesis import settings

from local_aws.dynamodb_guard import MAINTENANCE_FLAG

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
