"""Which of the gateway's profile versions belong to a meter, and when they change."""

from __future__ import annotations

from typing import Any

from chalicelib.data.models import Company, Gateway, Meter, Property
from chalicelib.pipeline.context import BusContext, MeterContext
from chalicelib.pipeline.meter_profiles import profile_changes, versions_of

PV = {"sdm120": "1.aaaaaaaa", "relay_module": "3.bbbbbbbb", "dds238": "2.cccccccc"}


def _meter(meter_id: str, profile: str, relay: dict[str, Any] | None = None, **kw: Any) -> Meter:
    return Meter(
        "pk", "sk", meter_id=meter_id, profile=profile, relay=relay, gateway_id="g",
        company_id="c", bus_address=1, **kw,
    )  # fmt: skip


def _bus(*meters: Meter) -> BusContext:
    return BusContext(
        Gateway("pk", "sk", gateway_id="g", company_id="c"),
        Property("pk", "sk"),
        Company("pk", "sk"),
        {m.meter_id: MeterContext(m, None, None, None) for m in meters},
    )


def test_a_meter_is_read_with_its_profile_and_switched_with_its_relay_profile() -> None:
    paired = _meter("m", "sdm120", {"address": 9, "profile": "relay_module", "channel": 2})
    assert versions_of(paired, PV) == {"relay_module": "3.bbbbbbbb", "sdm120": "1.aaaaaaaa"}
    assert versions_of(_meter("n", "dds238"), PV) == {"dds238": "2.cccccccc"}
    # a profile the gateway does not report is left out, not guessed
    assert versions_of(_meter("o", "sdm630"), PV) == {}


def test_only_a_change_is_a_change() -> None:
    steady = _meter("a", "sdm120", profile_versions={"sdm120": "1.aaaaaaaa"})
    new = _meter("b", "dds238")
    moved = _meter("c", "dds238", profile_versions={"dds238": "1.dddddddd"})
    changes = profile_changes(_bus(steady, new, moved), PV)
    assert [(c.meter_id, c.before, c.after) for c in changes] == [
        ("b", {}, {"dds238": "2.cccccccc"}),
        ("c", {"dds238": "1.dddddddd"}, {"dds238": "2.cccccccc"}),
    ]
    # a message without pv changes nothing
    assert profile_changes(_bus(steady, new, moved), {}) == []
