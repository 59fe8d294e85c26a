"""Looking at the running system from outside: the simulator's control socket (ground truth
for relays and energy), the ledger, the shadows, the API. Every wait is a bounded poll."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import boto3

from chalicelib.data.binding import new_connection
from chalicelib.data.ledger_store import LedgerStore
from chalicelib.data.telemetry_store import TelemetryStore
from chalicelib.domain import EntryKind
from chalicelib.wiring.settings import Settings
from local_run.system import LocalSystem
from meter_gateway.simulator.control import send_command

from .portfolio import ADMIN_EMAIL, COMPANY, PASSWORD, UnitSpec, thing_of

T = TypeVar("T")
POLL_S = 0.1


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float) -> T:
    """Poll until ``probe`` returns something truthy; fail naming ``what`` after the bound."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(POLL_S)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s (last seen: {last!r})")


API_TIMEOUT_S = 45.0


class Probe:
    def __init__(self, system: LocalSystem) -> None:
        self.system = system
        settings = Settings.from_env(system.stack.env())
        self.ledger = LedgerStore(new_connection(settings))
        self.telemetry = TelemetryStore()
        self.dead_letter_queue_url = str(settings.dead_letter_queue_url)
        self.sqs = boto3.client("sqs")
        self.iot_data = boto3.client(
            "iot-data", endpoint_url=system.cloud_env["AWS_ENDPOINT_URL_IOT_DATA_PLANE"]
        )
        self._token: str | None = None

    # --- the simulator (ground truth) ---

    def meter(self, spec: UnitSpec) -> dict[str, Any]:
        gw = self.system.gateway(spec.gateway_id)
        answer = asyncio.run(send_command("127.0.0.1", gw.control_port, {"cmd": "snapshot"}))
        assert answer["ok"], answer
        snapshot: dict[str, Any] = answer["snapshot"]  # type: ignore[assignment]
        meter: dict[str, Any] = snapshot["meters"][str(spec.address)]
        return {**meter, "now_s": snapshot["now_s"]}

    def relay_on(self, spec: UnitSpec) -> bool:
        return bool(self.meter(spec)["relay_on"])

    def frozen_kwh(self, spec: UnitSpec) -> float:
        """The simulator's energy once the relay is open (it no longer moves)."""
        first = self.meter(spec)
        assert not first["relay_on"], f"{spec.unit_id}: relay still closed"
        again = self.meter(spec)
        assert again["import_kwh"] == first["import_kwh"], "energy moved with the relay open"
        return float(first["import_kwh"])

    # --- the cloud's records ---

    def account(self, spec: UnitSpec) -> Any:
        return self.ledger.get_account(COMPANY, spec.account_id)

    def entries(self, spec: UnitSpec) -> list[Any]:
        return list(self.ledger.entries(COMPANY, spec.account_id, newest_first=False, limit=1000))

    def consumption_minor(self, spec: UnitSpec) -> int:
        return -sum(
            int(e.amount_minor)
            for e in self.entries(spec)
            if e.entry_kind == EntryKind.CONSUMPTION_CHARGE.value
        )

    def credits_minor(self, spec: UnitSpec) -> int:
        return sum(
            int(e.amount_minor)
            for e in self.entries(spec)
            if e.entry_kind == EntryKind.TOP_UP.value
        )

    def settled_kwh(self, spec: UnitSpec) -> Decimal | None:
        settled = self.account(spec).settled_kwh
        return None if settled is None else Decimal(str(settled))

    def desired(self, spec: UnitSpec) -> dict[str, Any]:
        return dict(self.shadow(spec).get("state", {}).get("desired") or {})

    def reported(self, spec: UnitSpec) -> dict[str, Any]:
        return dict(self.shadow(spec).get("state", {}).get("reported") or {})

    def shadow(self, spec: UnitSpec) -> dict[str, Any]:
        try:
            doc = self.iot_data.get_thing_shadow(
                thingName=thing_of(spec.gateway_id), shadowName=f"meter-{spec.meter_id}"
            )
        except self.iot_data.exceptions.ResourceNotFoundException:
            return {}
        return dict(json.loads(doc["payload"].read()))

    def cycles(self, gateway_id: str) -> list[Any]:
        return list(self.telemetry.cycles_before(COMPANY, gateway_id, _far_future(), limit=2000))[
            ::-1
        ]

    def latest_reading(self, spec: UnitSpec) -> Decimal | None:
        for cycle in self.cycles(spec.gateway_id)[::-1]:
            for row in cycle.rows:
                if row[0] == spec.meter_id and row[2] is not None:
                    return Decimal(str(row[2]))
        return None

    # --- the API, as a landlord's portal calls it ---

    def top_up(self, spec: UnitSpec, amount_minor: int, key: str) -> dict[str, Any]:
        body = json.dumps({"amount_minor": amount_minor, "idempotency_key": key}).encode()
        request = urllib.request.Request(
            f"{self.system.api_url}/v1/units/{spec.unit_id}/top-ups",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"},
        )
        # The first API request builds chalice local's container (imports, clients): on a
        # loaded 2-core machine that alone took over 10 s.
        with urllib.request.urlopen(request, timeout=API_TIMEOUT_S) as resp:
            assert resp.status == 201, resp.status
            return dict(json.load(resp))

    def warm_up(self) -> None:
        """One authenticated request, so the first top-up of a test does not also pay for
        building chalice local's container (seconds on a loaded machine, while the
        simulated household spends the credit the test computed for a few seconds)."""
        request = urllib.request.Request(
            f"{self.system.api_url}/v1/me", headers={"Authorization": f"Bearer {self.token()}"}
        )
        with urllib.request.urlopen(request, timeout=API_TIMEOUT_S) as resp:
            assert resp.status == 200, resp.status

    def token(self) -> str:
        if self._token is None:
            env = self.system.cloud_env
            result = boto3.client("cognito-idp").admin_initiate_auth(
                UserPoolId=env["POWERLET_USER_POOL_ID"],
                ClientId=env["POWERLET_USER_POOL_CLIENT_ID"],
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": ADMIN_EMAIL, "PASSWORD": PASSWORD},
            )
            self._token = str(result["AuthenticationResult"]["IdToken"])
        return self._token

    def dead_letters(self, max_messages: int = 500) -> list[dict[str, Any]]:
        """Drain what is in the dead-letter queue now (bounded)."""
        out: list[dict[str, Any]] = []
        while len(out) < max_messages:
            got = self.sqs.receive_message(
                QueueUrl=self.dead_letter_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not got:
                return out
            for message in got:
                out.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return out


def _far_future() -> Any:
    from datetime import UTC, datetime

    return datetime(9999, 1, 1, tzinfo=UTC)
