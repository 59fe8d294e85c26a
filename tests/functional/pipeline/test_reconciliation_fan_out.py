"""Reconciliation as deployed: one asynchronous job per company, each a bounded batch of
its accounts that hands the rest on to a fresh invocation of itself (issue 19).

As in ``test_billing_fan_out.py``, the invocations go through a real botocore Lambda
client, so the calls the roles must grant (``lambda:InvokeFunction`` on
reconcile_company, by reconcile_balances and by reconcile_company itself) are made and
measured; the client's ``before-call`` event answers the way Lambda accepts an async one."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import boto3
import pytest

from chalicelib.data import keys
from chalicelib.data.models import Account
from chalicelib.pipeline import reconciliation
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container, using

from .rig import FLAT_TWD, MeterSpec, make_bus

pytestmark = pytest.mark.functional

RECONCILE_FUNCTION = "powerlet-local-reconcile_company"


class _Accepted:
    status_code = 202


def _invoking(pipeline: Container) -> tuple[Container, list[dict[str, Any]]]:
    invoked: list[dict[str, Any]] = []
    client = boto3.client("lambda", region_name=pipeline.settings.region)

    def accept(params: dict[str, Any], **_: Any) -> tuple[_Accepted, dict[str, Any]]:
        invoked.append(json.loads(params["body"]))
        assert params["url_path"] == f"/2015-03-31/functions/{RECONCILE_FUNCTION}/invocations"
        assert params["headers"]["X-Amz-Invocation-Type"] == "Event"
        return _Accepted(), {"StatusCode": 202}

    client.meta.events.register("before-call.lambda.Invoke", accept)
    settings = replace(pipeline.settings, reconcile_company_function=RECONCILE_FUNCTION)
    return Container(settings, clients={"lambda": client}), invoked


def test_the_schedule_hands_each_company_to_its_own_job(pipeline: Container) -> None:
    # GIVEN a company with accounts, and the schedule configured with its function
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)])
    fan_out, invoked = _invoking(pipeline)
    # WHEN the daily schedule runs
    with using(fan_out):
        result = handlers.reconcile()
    # THEN each company is one job (no account was read here), this one among them
    assert result["jobs"] == len(invoked) > 0
    assert all(set(job) == {"company_id", "day"} for job in invoked)
    assert bus.company_id in {job["company_id"] for job in invoked}


def test_a_company_job_checks_a_bounded_batch_and_hands_on_the_rest(
    pipeline: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a company of three accounts, one of them tampered with, and batches of two
    bus = make_bus(
        pipeline.ledger,
        [
            MeterSpec("m-a", "u-a", FLAT_TWD),
            MeterSpec("m-b", "u-b", FLAT_TWD),
            MeterSpec("m-c", "u-c", FLAT_TWD),
        ],
    )
    Account(keys.account_pk(bus.company_id, bus.accounts["u-c"]), keys.ACCOUNT_SK).update(
        actions=[Account.balance_minor.add(1)]
    )
    monkeypatch.setattr(reconciliation, "MAX_ACCOUNTS_PER_RUN", 2)
    jobs, invoked = _invoking(pipeline)
    # WHEN the company's job runs, then the job it handed on
    with using(jobs):
        first = handlers.reconcile_company({"company_id": bus.company_id, "day": "2026-12-01"})
        assert [job.get("cursor") is not None for job in invoked] == [True]
        second = handlers.reconcile_company(invoked[0])
    # THEN the first checked two accounts and handed the third on; the second checked it
    # and handed nothing on; the tampered one was found once
    assert (first["checked"], second["checked"]) == (2, 1)
    assert second["next_cursor"] is None and len(invoked) == 1
    found = [m["account_id"] for m in first["mismatches"] + second["mismatches"]]
    assert found == [bus.accounts["u-c"]]


def test_a_company_job_refuses_a_malformed_event() -> None:
    with pytest.raises(ValueError, match="company_id and day"):
        handlers.reconcile_company({"company_id": "co-1"})
