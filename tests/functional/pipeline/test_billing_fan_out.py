"""The postpaid fan-out as deployed: one asynchronous Lambda invocation per property.

Elsewhere the tests run without a bill_property function to invoke, and the fan-out
bills each property in process; here it invokes through a real botocore Lambda client,
so the call its role must grant (``lambda:InvokeFunction`` on bill_property) is made
and measured (docs/deploy.md, IAM). moto's stand-in runs no Lambda: the client's own
``before-call`` event answers each invocation the way Lambda accepts an async one (202).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import boto3
import pytest

from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container, using
from chalicelib.wiring.settings import Settings

pytestmark = pytest.mark.functional

BILL_FUNCTION = "powerlet-local-bill_property"


class _Accepted:
    status_code = 202


def test_the_fan_out_invokes_bill_property_once_per_property(
    settings: Settings, demo: dict[str, object]
) -> None:
    # GIVEN the fan-out configured with its bill_property function
    invoked: list[dict[str, Any]] = []
    client = boto3.client("lambda", region_name=settings.region)

    def accept(params: dict[str, Any], **_: Any) -> tuple[_Accepted, dict[str, Any]]:
        invoked.append(params)
        return _Accepted(), {"StatusCode": 202}

    client.meta.events.register("before-call.lambda.Invoke", accept)
    fan_out = Container(
        replace(settings, bill_property_function=BILL_FUNCTION),
        clients={"lambda": client},
    )
    # WHEN the daily schedule runs
    with using(fan_out):
        result = handlers.postpaid_bills()
    # THEN each property became one asynchronous invocation of bill_property, and nothing
    # was billed in this function
    assert result["jobs"] == len(invoked) > 0
    assert {call["url_path"] for call in invoked} == {
        f"/2015-03-31/functions/{BILL_FUNCTION}/invocations"
    }
    assert {call["headers"]["X-Amz-Invocation-Type"] for call in invoked} == {"Event"}
    jobs = [json.loads(call["body"]) for call in invoked]
    assert all(set(job) == {"company_id", "property_id", "now"} for job in jobs)
    assert len({(j["company_id"], j["property_id"]) for j in jobs}) == len(jobs)
