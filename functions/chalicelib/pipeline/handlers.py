"""Thin entry points the Chalice app registers: parse, call the pipeline, return a summary."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from ..api.services import services
from .billing_run import utc

LOG = logging.getLogger(__name__)


def ingest_telemetry(event: Any) -> dict[str, Any]:
    return asdict(services().ingest.handle(event))


def relay_confirmation(event: Any) -> dict[str, Any]:
    return asdict(services().confirmations.handle(event))


def gateway_presence(event: Any) -> dict[str, Any]:
    return asdict(services().presence.handle(event))


def bill_property(event: dict[str, Any]) -> dict[str, Any]:
    now = utc(event["now"]) if event.get("now") else datetime.now(UTC)
    result = services().billing.bill_property(event["company_id"], event["property_id"], now)
    return asdict(result)


def postpaid_bills() -> dict[str, Any]:
    return {"jobs": services().billing.fan_out()}


def reconcile() -> dict[str, Any]:
    checked, mismatches = services().reconciliation.run()
    if mismatches:
        LOG.error("reconciliation: %d accounts differ from their ledger", len(mismatches))
    return {"checked": checked, "mismatches": [asdict(m) for m in mismatches]}


def offline_sweep() -> dict[str, Any]:
    return services().presence.sweep()


def relay_retry_sweep() -> dict[str, Any]:
    return services().confirmations.sweep()
