"""A reseller's program onboarding a building through the Powerlet reseller API.

It creates a company (brand and first admin), registers the building's gateway (here a
Modbus TCP gateway on the building's network), registers the meters with the units they
bill, and fetches what to deploy to the gateway. Every create carries an
Idempotency-Key, so the whole run can be repeated after a failure: what was done answers
the first result again, and only what was not done is done.

    python docs/examples/reseller_client.py http://127.0.0.1:8000 plr_<key id>_<secret>

(``make run`` prints a reseller key of the demo.) Needs ``requests``. Refusals arrive as
RFC 9457 problem details, raised here as ``ApiProblem`` with the field errors. The test
suite runs this file against a live local API (tests/functional/white_label/
test_reseller_client_example.py).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

import requests

TIMEOUT_S = 30
MAX_ATTEMPTS = 4  # 429 and 503 are worth retrying; nothing else is


@dataclass
class ApiProblem(Exception):
    """A refusal of the API: an RFC 9457 problem document."""

    status: int
    type: str
    title: str
    detail: str
    errors: list[dict[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        fields = "; ".join(f"{e['field']}: {e['message']}" for e in self.errors)
        return f"{self.status} {self.title}: {fields or self.detail}"


class ResellerClient:
    def __init__(self, base_url: str, api_key: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"

    # --- the calls ---

    def create_company(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        return self._send("POST", "/v1/reseller/companies", body, key)

    def company(self, company_id: str) -> dict[str, Any]:
        return self._send("GET", f"/v1/reseller/companies/{company_id}")

    def companies(self) -> list[dict[str, Any]]:
        """Every company of the reseller, following the cursor page by page."""
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = "?limit=200" + (f"&cursor={cursor}" if cursor else "")
            page = self._send("GET", f"/v1/reseller/companies{query}")
            found += page["companies"]
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    def register_gateway(self, company_id: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        return self._send("POST", f"/v1/reseller/companies/{company_id}/gateways", body, key)

    def register_meters(
        self, company_id: str, gateway_id: str, meters: list[dict[str, Any]], key: str
    ) -> dict[str, Any]:
        path = f"/v1/reseller/companies/{company_id}/gateways/{gateway_id}/meters"
        return self._send("POST", path, {"meters": meters}, key)

    def deployment(self, company_id: str, gateway_id: str) -> dict[str, Any]:
        path = f"/v1/reseller/companies/{company_id}/gateways/{gateway_id}/deployment"
        return self._send("GET", path)

    def usage(self, company_id: str, month: str) -> dict[str, Any]:
        return self._send("GET", f"/v1/reseller/companies/{company_id}/usage/{month}")

    # --- the transport ---

    def _send(
        self, method: str, path: str, body: Any = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        for attempt in range(1, MAX_ATTEMPTS + 1):
            answer = self.session.request(
                method, self.base_url + path, json=body, headers=headers, timeout=TIMEOUT_S
            )
            if answer.status_code in (429, 503) and attempt < MAX_ATTEMPTS:
                time.sleep(min(int(answer.headers.get("Retry-After", "1")), 60))
                continue
            break
        if answer.status_code >= 400:
            raise _problem(answer)
        result: dict[str, Any] = answer.json()
        return result


def _problem(answer: requests.Response) -> ApiProblem:
    if answer.headers.get("Content-Type", "").startswith("application/problem+json"):
        doc = answer.json()
        return ApiProblem(
            doc["status"], doc["type"], doc["title"], doc["detail"], doc.get("errors", [])
        )
    # API Gateway's own refusals (no or a refused key) are not problem documents
    return ApiProblem(answer.status_code, "about:blank", answer.reason, answer.text)


# --- one building, end to end ---

TARIFF = {"kind": "flat", "tariff_id": "standard", "currency": "TWD", "price_per_kwh": "5.20"}


def onboard_building(client: ResellerClient, company_id: str) -> dict[str, Any]:
    """Create the company, its gateway and two metered units; the gateway's deployment."""
    client.create_company(
        {
            "company_id": company_id,
            "name": "Harbour Lettings",
            "brand": {
                "slug": company_id,
                "display_name": "Harbour Lettings",
                "colours": {"primary": "#0b4f6c", "primary_text": "#ffffff"},
                "support_email": f"help@{company_id}.example",
                "email_sender_name": "Harbour Lettings",
                "email_sender_address": f"no-reply@{company_id}.example",
                "sms_sender_id": "Harbour",
                "default_locale": "en",
                "currency": "TWD",
                "time_zone": "Asia/Taipei",
                "legal_footer": "Harbour Lettings Ltd",
            },
            "admin": {"email": f"admin@{company_id}.example", "display_name": "Mei Lin"},
        },
        key=f"{company_id}:company",
    )
    gateway = client.register_gateway(
        company_id,
        {
            "gateway_id": "gw-1",
            "property": {
                "property_id": "harbour-house",
                "name": "Harbour House",
                "address": "12 Harbour Road",
                "city": "Keelung",
                "country": "TW",
            },
            # the meters' RS-485 bus sits behind a Modbus TCP gateway on the building's LAN
            "bus": {"transport": "tcp", "host": "192.168.10.20", "tcp_port": 502},
        },
        key=f"{company_id}:gw-1",
    )
    unit = {"unit_type": "flat", "tariff": TARIFF}
    client.register_meters(
        company_id,
        "gw-1",
        [
            {  # a DDS238 switches itself: a prepaid unit may use it alone
                "meter_id": "hh-1a",
                "profile": "dds238",
                "bus_address": 1,
                "unit": {"unit_id": "flat-1a", "name": "Flat 1A", "billing_mode": "prepaid"} | unit,
            },
            {  # an SDM120 has no relay: prepaid needs a relay module channel beside it
                "meter_id": "hh-1b",
                "profile": "sdm120",
                "bus_address": 2,
                "relay": {"address": 90, "profile": "relay_module", "channel": 0},
                "unit": {"unit_id": "flat-1b", "name": "Flat 1B", "billing_mode": "prepaid"} | unit,
            },
        ],
        key=f"{company_id}:meters-1",
    )
    return {
        "gateway": {k: gateway[k] for k in ("gateway_id", "thing_name")},
        "deployment": client.deployment(company_id, "gw-1"),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    client = ResellerClient(argv[0], argv[1])
    try:
        done = onboard_building(client, "harbour-lettings")
    except ApiProblem as problem:
        print(f"refused: {problem}", file=sys.stderr)
        return 1
    bus = done["deployment"]["configuration"]["bus"]
    print(f"gateway {done['gateway']['thing_name']}: bus {bus}")
    for row in done["deployment"]["configuration"]["meters"]:
        print(f"  meter {row['meter_id']} at address {row['address']} ({row['profile']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
