"""The event entry points the app registers (IoT rules, schedules, async fan-out): parse,
call the pipeline through the container, return a summary."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from ..application.invitation_messages import custom_message
from ..observability import logger
from ..pipeline.billing_run import utc
from .container import container


def ingest_telemetry(event: Any) -> dict[str, Any]:
    return asdict(container().ingest.handle(event))


def relay_confirmation(event: Any) -> dict[str, Any]:
    return asdict(container().confirmations.handle(event))


def gateway_presence(event: Any) -> dict[str, Any]:
    return asdict(container().presence.handle(event))


def provisioning_hook(event: Any) -> dict[str, Any]:
    return container().provisioning_hook.handle(event, datetime.now(UTC))


def bill_property(event: dict[str, Any]) -> dict[str, Any]:
    now = utc(event["now"]) if event.get("now") else datetime.now(UTC)
    result = container().billing.bill_property(event["company_id"], event["property_id"], now)
    return asdict(result)


def postpaid_bills() -> dict[str, Any]:
    return {"jobs": container().billing.fan_out()}


def reconcile() -> dict[str, Any]:
    checked, mismatches = container().reconciliation.run()
    if mismatches:
        logger.error("reconciliation: accounts differ from their ledger", count=len(mismatches))
    return {"checked": checked, "mismatches": [asdict(m) for m in mismatches]}


def offline_sweep() -> dict[str, Any]:
    return container().presence.sweep()


def relay_retry_sweep() -> dict[str, Any]:
    return container().confirmations.sweep()


def cognito_custom_message(event: dict[str, Any]) -> dict[str, Any]:
    """The user pool's Custom Message trigger: Cognito's e-mails in the company's brand."""
    store = container().brand_store
    return custom_message(event, store.get, store.verified_domains)
