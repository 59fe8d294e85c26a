"""The reseller API offers the gateway's meter models by name and registers only those:
a meter's own relay (plain or keyed) is paired by default, a relay module only where
named, and a meter of the building (no unit) bills nobody."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.domain.meter_models import meter_names
from chalicelib.wiring.container import Container

from .conftest import ResellerApi
from .test_reseller_api import FLAT, company_body, gateway_body

pytestmark = pytest.mark.functional

CO = "volt-lettings"


def _meter(meter_id: str, profile: str, address: int, **extra: Any) -> dict[str, Any]:
    unit = {
        "unit_id": f"u-{meter_id}",
        "name": meter_id,
        "unit_type": "shop",
        "billing_mode": "postpaid",
        "tariff": FLAT,
    }
    return {"meter_id": meter_id, "profile": profile, "bus_address": address, "unit": unit} | extra


@pytest.fixture(scope="module")
def company(reseller_api: ResellerApi) -> str:
    created = reseller_api.call("POST", "/v1/reseller/companies", company_body(CO), "co-volt")
    assert created.status_code == 201, created.body
    gw = reseller_api.call(
        "POST", f"/v1/reseller/companies/{CO}/gateways", gateway_body(), "gw-volt"
    )
    assert gw.status_code == 201, gw.body
    return CO


def test_the_models_are_listed_by_name(reseller_api: ResellerApi) -> None:
    listed = json.loads(reseller_api.call("GET", "/v1/reseller/meter-models").body)["models"]
    by_name = {m["name"]: m for m in listed}
    assert {n for n, m in by_name.items() if m["kind"] == "meter"} == set(meter_names())
    assert by_name["dtsu666"]["phases"] == 3 and by_name["fineco_em737"]["relay"] == "own_keyed"


def test_meters_of_the_library_register_with_their_relays(
    reseller_api: ResellerApi, company: str, services: Container
) -> None:
    path = f"/v1/reseller/companies/{company}/gateways/gw-1/meters"
    # WHEN a keyed-relay meter, a three-phase meter on a relay-module channel and the
    # building's own meter (no unit) are registered
    body = {
        "meters": [
            _meter("v-em115", "fineco_em115", 1),
            _meter("v-dtsu", "dtsu666", 2, relay={"address": 100, "profile": "relay_module"}),
            {"meter_id": "v-main", "profile": "sdm630", "bus_address": 3, "unit": None},
        ]
    }
    answer = reseller_api.call("POST", path, body, "m-volt")
    assert answer.status_code == 201, answer.body
    # THEN the deployment pairs the keyed meter with its own relay, the other with the
    # module's channel, and leaves the building's meter unswitched
    rows = {
        r["meter_id"]: r for r in json.loads(answer.body)["deployment"]["configuration"]["meters"]
    }
    assert rows["v-em115"]["relay"] == {"address": 1, "profile": "fineco_em115", "channel": 0}
    assert rows["v-dtsu"]["relay"] == {"address": 100, "profile": "relay_module", "channel": 0}
    assert "relay" not in rows["v-main"]
    main = services.catalogue.get_meter(company, "v-main")
    assert main.unit_id is None and main.profile == "sdm630"


@pytest.mark.parametrize(
    ("meter", "says"),
    [
        (_meter("v-x1", "sdm999", 10), "is not a meter model; one of: dds238"),
        (_meter("v-x2", "relay_module", 11), "is not a meter model"),
        (
            _meter("v-x3", "sdm120", 12, relay={"address": 12, "profile": "sdm120"}),
            "cannot switch a relay",
        ),
    ],
)
def test_a_name_outside_the_library_is_refused_naming_the_choices(
    reseller_api: ResellerApi, company: str, meter: dict[str, Any], says: str
) -> None:
    path = f"/v1/reseller/companies/{company}/gateways/gw-1/meters"
    answer = reseller_api.call("POST", path, {"meters": [meter]}, f"bad-{meter['meter_id']}")
    assert answer.status_code == 400, answer.body
    assert says in answer.body.decode()
