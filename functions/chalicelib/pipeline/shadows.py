"""The meter's named shadow, written through boto3's ``iot-data`` client exactly as in AWS."""

from __future__ import annotations

import json
from typing import Any


def shadow_name(meter_id: str) -> str:
    return f"meter-{meter_id}"


def meter_of_shadow(name: str) -> str | None:
    return name[len("meter-") :] if name.startswith("meter-") and len(name) > 6 else None


class ShadowWriter:
    def __init__(self, iot_data_client: Any) -> None:
        self._client = iot_data_client
        self.writes = 0  # counted for the bench and the "only on change" test

    def write_desired(self, thing_name: str, meter_id: str, desired: dict[str, Any]) -> None:
        # A null cutoff deletes the field in the shadow (AWS merge semantics);
        # the gateway reads an absent cutoff as "never cut locally".
        payload = json.dumps({"state": {"desired": desired}}, separators=(",", ":"))
        self._client.update_thing_shadow(
            thingName=thing_name, shadowName=shadow_name(meter_id), payload=payload.encode()
        )
        self.writes += 1

    def read(self, thing_name: str, meter_id: str) -> dict[str, Any]:
        response = self._client.get_thing_shadow(
            thingName=thing_name, shadowName=shadow_name(meter_id)
        )
        return dict(json.loads(response["payload"].read()))
