"""Find the Chalice ``@app.lambda_function`` handlers that rules invoke, and call them.

A rule's Lambda action names the function by its CloudFormation logical id
(``IngestTelemetry``); Chalice derives that id from the function name
(``ingest_telemetry``) with ``to_cfn_resource_name``, so the same rule file
works with ``chalice package`` and here.
"""

from __future__ import annotations

import importlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from chalice.utils import to_cfn_resource_name

from .errors import HandlerNotFoundError

DEFAULT_TIMEOUT_MS = 60_000
DEFAULT_MEMORY_MB = 256


@dataclass
class LambdaContext:
    """The attributes of AWS's Lambda context object that handlers commonly read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = DEFAULT_MEMORY_MB
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        elapsed_ms = int((time.monotonic() - self._started) * 1000)
        return max(0, self.timeout_ms - elapsed_ms)


@dataclass(frozen=True)
class Handler:
    name: str  # the Chalice function name, e.g. ingest_telemetry
    function: Any  # chalice.app.LambdaFunction: called as Lambda would, (event, context)
    function_arn: str


class HandlerRegistry:
    def __init__(self, app: Any, arn_prefix: str) -> None:
        self._by_logical_id: dict[str, Handler] = {}
        for function in getattr(app, "pure_lambda_functions", []):
            self._by_logical_id[to_cfn_resource_name(function.name)] = Handler(
                function.name, function, f"{arn_prefix}{function.name}"
            )
        self._arn_prefix = arn_prefix

    def resolve(self, logical_id: str) -> Handler:
        handler = self._by_logical_id.get(logical_id)
        if handler is None:
            known = ", ".join(sorted(self._by_logical_id)) or "none"
            raise HandlerNotFoundError(
                f"the app registers no @app.lambda_function whose logical id is {logical_id!r} "
                f"(registered: {known})"
            )
        return handler

    def arn_for(self, logical_id: str) -> str:
        handler = self._by_logical_id.get(logical_id)
        return handler.function_arn if handler else f"{self._arn_prefix}{logical_id}"

    @property
    def names(self) -> list[str]:
        return sorted(h.name for h in self._by_logical_id.values())


def import_app(module_name: str, attribute: str = "app") -> Any:
    """Import the Chalice app the way Lambda does: ``app.app`` from ``functions/``."""
    module = importlib.import_module(module_name)
    return getattr(module, attribute)
