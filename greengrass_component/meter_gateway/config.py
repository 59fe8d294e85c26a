"""The gateway configuration: one typed object, read once at start.

The same shape is the recipe's ComponentConfiguration (Greengrass) and the JSON file given
to `python -m meter_gateway --config file.json` (local stack), so one validator serves both.
`bus` is `meter_gateway.bus_settings.BusSettings` itself, validated in place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from meter_gateway.bus_settings import BusSettings
from meter_gateway.errors import ConfigError, ProfileError
from meter_gateway.profiles import ProfileLibrary

# The id travels in every telemetry message: its length is part of the 5 KB budget.
from meter_gateway.telemetry import METER_ID_PATTERN

if TYPE_CHECKING:
    from meter_gateway.bus import MeterConfig

# Greengrass sets this for every component process; the local stack passes thing_name instead.
THING_NAME_ENV = "AWS_IOT_THING_NAME"
MAX_METERS = 247
MAX_CONFIG_FILE_BYTES = 1_000_000


class _Strict(BaseModel):
    # Unknown keys are typos: refuse them instead of silently running with a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class RelayLinkConfig(_Strict):
    address: int = Field(ge=1, le=247)
    profile: str = Field(min_length=1, max_length=64)
    channel: int = Field(default=0, ge=0, le=255)


class MeterEntry(_Strict):
    meter_id: str = Field(pattern=METER_ID_PATTERN)
    address: int = Field(ge=1, le=247)
    profile: str = Field(min_length=1, max_length=64)
    relay: RelayLinkConfig | None = None


class SpoolConfig(_Strict):
    path: str = Field(default="spool.sqlite3", min_length=1, max_length=1024)
    # About 23 days of 10 s cycles before thinning starts; 64 MiB fits any SD card.
    max_cycles: int = Field(default=200_000, ge=10, le=10_000_000)
    max_bytes: int = Field(default=64 * 1024 * 1024, ge=64 * 1024, le=4 * 1024**3)
    # How many cycles may be in flight (published, PUBACK not yet seen) during a replay.
    publish_window: int = Field(default=8, ge=1, le=100)


class TopicsConfig(_Strict):
    # `{thing}` is replaced by the thing name; the IoT rule routes this topic to ingest.
    telemetry: str = Field(default="powerlet/gw/{thing}/telemetry", min_length=1, max_length=256)


class MqttConfig(_Strict):
    host: str = Field(default="127.0.0.1", min_length=1, max_length=253)
    port: int = Field(default=1883, ge=1, le=65535)
    # tls=True: AWS IoT Core with the device certificate; tls=False: a local broker only.
    tls: bool = False
    ca_path: str | None = None
    cert_path: str | None = None
    key_path: str | None = None
    # No client id setting: it is always the thing name, the only sender ingest accepts.
    keep_alive_s: int = Field(default=60, ge=5, le=1200)
    min_reconnect_delay_ms: int = Field(default=500, ge=50, le=60_000)
    max_reconnect_delay_ms: int = Field(default=30_000, ge=100, le=600_000)

    @model_validator(mode="after")
    def _tls_needs_files(self) -> MqttConfig:
        if self.tls and not (self.cert_path and self.key_path):
            raise ValueError("tls=true needs cert_path and key_path (the device certificate)")
        return self


class CloudConfig(_Strict):
    transport: Literal["ipc", "mqtt"] = "ipc"
    mqtt: MqttConfig = MqttConfig()
    publish_timeout_ms: int = Field(default=10_000, ge=100, le=120_000)
    shadow_timeout_ms: int = Field(default=10_000, ge=100, le=120_000)
    # The cloud is "unreachable" for local enforcement after this long without a link.
    offline_after_ms: int = Field(default=60_000, ge=0, le=86_400_000)


class GatewayConfig(_Strict):
    thing_name: str | None = Field(default=None, min_length=1, max_length=128)
    poll_interval_ms: int = Field(default=10_000, ge=200, le=3_600_000)
    state_dir: str = Field(default="state", min_length=1, max_length=1024)
    bus: BusSettings = BusSettings()
    meters: tuple[MeterEntry, ...] = Field(default=(), max_length=MAX_METERS)
    # Meter profiles sent with the deployment, merged over the shipped library (same shape
    # as profiles/*.yaml; a configured name replaces a shipped one): a new meter model is
    # a configuration change, not a component build.
    profiles: dict[str, dict[str, Any]] = Field(default_factory=dict, max_length=64)
    spool: SpoolConfig = SpoolConfig()
    topics: TopicsConfig = TopicsConfig()
    cloud: CloudConfig = CloudConfig()

    @model_validator(mode="after")
    def _unique_meters(self) -> GatewayConfig:
        ids = [m.meter_id for m in self.meters]
        if len(set(ids)) != len(ids):
            raise ValueError("meters: meter_id values must be unique")
        addresses = [m.address for m in self.meters]
        if len(set(addresses)) != len(addresses):
            raise ValueError("meters: two meters share one bus address")
        try:
            library = self.profile_library()
        except ProfileError as exc:
            raise ValueError(str(exc)) from exc
        known = set(library.names())
        for index, meter in enumerate(self.meters):
            if meter.profile not in known:
                raise ValueError(f"meters.{index}.profile: no profile {meter.profile!r}")
            if meter.relay is not None and meter.relay.profile not in known:
                raise ValueError(
                    f"meters.{index}.relay.profile: no profile {meter.relay.profile!r}"
                )
        return self

    def profile_library(self) -> ProfileLibrary:
        """Shipped profiles with the configured ones merged over them (validated)."""
        return ProfileLibrary.from_config(self.profiles)

    def profile_names(self) -> list[str]:
        names = [m.profile for m in self.meters]
        names += [m.relay.profile for m in self.meters if m.relay is not None]
        return sorted(set(names))

    def resolved_thing_name(self) -> str:
        name = self.thing_name or os.environ.get(THING_NAME_ENV)
        if not name:
            raise ConfigError(f"thing_name: not set in the configuration nor in ${THING_NAME_ENV}")
        return name

    def telemetry_topic(self) -> str:
        return self.topics.telemetry.replace("{thing}", self.resolved_thing_name())

    def meter_configs(self) -> list[MeterConfig]:
        from meter_gateway.bus import MeterConfig, RelayLink

        return [
            MeterConfig(
                meter_id=m.meter_id,
                address=m.address,
                profile=m.profile,
                relay=None
                if m.relay is None
                else RelayLink(
                    address=m.relay.address, profile=m.relay.profile, channel=m.relay.channel
                ),
            )
            for m in self.meters
        ]


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{field}: {err['msg']}")
    return "; ".join(parts)


def parse_config(raw: Any, source: str = "configuration") -> GatewayConfig:
    """Validate a decoded configuration; ConfigError names every bad field."""
    try:
        return GatewayConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid gateway configuration: {_describe(exc)}") from exc


def load_config(path: str | Path) -> GatewayConfig:
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_CONFIG_FILE_BYTES:
            raise ConfigError(
                f"{file}: configuration file is {size} bytes, limit {MAX_CONFIG_FILE_BYTES}"
            )
        raw = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read configuration: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{file}: not valid JSON: {exc}") from exc
    return parse_config(raw, source=str(file))
