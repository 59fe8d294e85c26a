"""Request bodies of the reseller API (validated; unknown fields refused)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from ...branding.schema import BrandConfig, Email, PlainText
from ...data.keys import check_meter_id
from ...domain.meter_models import (
    MeterModel,
    UnknownMeterModelError,
    meter_model,
    meter_models,
    meter_names,
    relay_model,
    relay_names,
)

CompanyId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$")]
ObjectId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$")]
MAX_METERS_PER_BUS = 32  # the telemetry size budget (docs/iot-contracts.md)


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ListCompaniesQuery(_Body):
    """``GET /v1/reseller/companies?limit=&cursor=``."""

    limit: int = Field(default=50, ge=1, le=200, description="companies per page, 1-200")
    cursor: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="next_cursor of the previous page (opaque)",
    )


class IssueKeyRequest(_Body):
    label: PlainText = Field(min_length=1, max_length=100)  # what the key is for


class AdminInvite(_Body):
    email: Email
    display_name: PlainText | None = Field(default=None, max_length=60)


class CreateCompanyRequest(_Body):
    company_id: CompanyId
    name: PlainText = Field(min_length=1, max_length=100)
    brand: BrandConfig
    admin: AdminInvite
    low_credit_thresholds_minor: list[Annotated[int, Field(ge=0, le=10**9)]] = Field(
        default_factory=list, max_length=5
    )


class PropertyRequest(_Body):
    property_id: ObjectId
    name: PlainText = Field(min_length=1, max_length=100)
    address: PlainText = Field(min_length=1, max_length=200)
    city: PlainText = Field(min_length=1, max_length=80)
    country: str = Field(pattern=r"^[A-Z]{2}$")


def _host(value: str) -> str:
    """A hostname (RFC 1123 labels) or an IPv4/IPv6 address, as the gateway connects to it."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    name = value.rstrip(".").lower()
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise ValueError(f"{value!r} is neither a hostname nor an IP address")
    return name


_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
Host = Annotated[str, Field(min_length=1, max_length=253), AfterValidator(_host)]
RTU_FIELDS = ("port", "baudrate", "parity", "stopbits", "bytesize")
TCP_FIELDS = ("host", "tcp_port")


class BusSettings(_Body):
    """The link side of the component's ``bus`` configuration: a serial port (``rtu``)
    or a Modbus TCP gateway on the building's network (``tcp``: ``host`` and
    ``tcp_port``). The component's own ``bus`` settings, greengrass_component/
    meter_gateway/bus_settings.py, take the same names."""

    transport: Literal["rtu", "tcp"] = "rtu"
    port: str = Field(default="/dev/ttyUSB0", pattern=r"^/dev/[A-Za-z0-9_/-]{1,40}$")
    baudrate: Literal[2400, 4800, 9600, 19200, 38400] = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8
    host: Host | None = Field(default=None, description="tcp: hostname or IP address")
    tcp_port: int = Field(default=502, ge=1, le=65535, description="tcp: Modbus TCP port")
    # What the read planner saves: "tcp" round trips, or "rtu" bytes on the line. A
    # TCP-to-RS-485 converter has a serial bus behind it: "rtu" there.
    read_cost: Literal["auto", "rtu", "tcp"] = "auto"

    @model_validator(mode="after")
    def _one_link(self) -> BusSettings:
        given = self.model_fields_set
        if self.transport == "tcp":
            if self.host is None:
                raise ValueError("transport tcp needs host (the Modbus TCP gateway)")
            serial = sorted(given & set(RTU_FIELDS))
            if serial:
                raise ValueError(f"transport tcp takes no serial settings: {serial}")
        elif given & set(TCP_FIELDS):
            raise ValueError("host and tcp_port are for transport tcp")
        return self

    def component_bus(self) -> dict[str, Any]:
        """The keys of the component's ``bus`` this link sets."""
        link = TCP_FIELDS if self.transport == "tcp" else RTU_FIELDS
        values = self.model_dump(mode="json")
        return (
            {"transport": self.transport}
            | {name: values[name] for name in link}
            | ({"read_cost": self.read_cost} if self.read_cost != "auto" else {})
        )


class RegisterGatewayRequest(_Body):
    gateway_id: ObjectId
    property: PropertyRequest
    bus: BusSettings = Field(default_factory=BusSettings)
    # "certificate": the answer carries the gateway's certificate and key; "fleet": a
    # one-time token for the device's fleet-provisioning claim (docs/deploy.md).
    provisioning: Literal["certificate", "fleet"] = "certificate"


def _checked(lookup: Callable[[str], MeterModel]) -> Callable[[str], str]:
    """A pydantic check of a model name: a shipped model is checked by the catalogue's
    ``lookup`` (a relay module is no meter); any other well-formed name may be one of the
    company's own profiles, which the use case resolves (UnknownMeterProfileError)."""

    def check(value: str) -> str:
        if value not in meter_models() and PROFILE_NAME.match(value):
            return value
        try:
            return lookup(value).name
        except UnknownMeterModelError as exc:
            raise ValueError(str(exc)) from exc

    return check


PROFILE_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_OWN = " or one of the company's own profiles (PUT .../meter-profiles/{name})"
# The catalogue's names (domain/meter_models.py) or a company's own profile's.
MeterModelName = Annotated[
    str,
    Field(
        max_length=32,
        pattern=PROFILE_NAME.pattern,
        description="a meter model: " + ", ".join(meter_names()) + _OWN,
    ),
    AfterValidator(_checked(meter_model)),
]
RelayModelName = Annotated[
    str,
    Field(
        max_length=32,
        pattern=PROFILE_NAME.pattern,
        description="what switches: " + ", ".join(relay_names()) + _OWN,
    ),
    AfterValidator(_checked(relay_model)),
]


class RelaySettings(_Body):
    """What switches the meter: its own relay (``profile`` = the meter's) or a channel of
    a relay module on the bus."""

    address: int = Field(ge=1, le=247)
    profile: RelayModelName
    channel: int = Field(default=0, ge=0, le=31)


class UnitRequest(_Body):
    unit_id: ObjectId
    name: PlainText = Field(min_length=1, max_length=100)
    unit_type: Literal["flat", "room", "shop", "office"]
    billing_mode: Literal["prepaid", "postpaid"]
    tariff: dict[str, Any]


def prepaid_unswitchable(meter: MeterRequest, model: MeterModel) -> str | None:
    """Why a prepaid unit cannot be on this meter (nothing switches it), or None."""
    unit = meter.unit
    if unit and unit.billing_mode == "prepaid" and not model.has_own_relay and not meter.relay:
        return (
            f"unit {unit.unit_id} is prepaid but a {meter.profile} meter has no relay "
            f"of its own: give the meter a relay (a channel of one of {relay_names()}) "
            "or bill the unit postpaid"
        )
    return None


class MeterRequest(_Body):
    """A meter on the bus. ``unit`` null: a meter of the building itself (its main meter,
    or the common parts), which bills nobody and is never switched."""

    meter_id: str
    profile: MeterModelName
    bus_address: int = Field(ge=1, le=247)
    relay: RelaySettings | None = None
    unit: UnitRequest | None

    @model_validator(mode="after")
    def _prepaid_can_be_switched(self) -> MeterRequest:
        # Prepaid credit ends in a disconnection; a meter nothing can switch would let
        # the unit run on without credit. The catalogue says which models have a relay.
        # A company's own profile is known to the use case only (prepaid_unswitchable there).
        if self.profile in meter_models():
            problem = prepaid_unswitchable(self, meter_model(self.profile))
            if problem:
                raise ValueError(problem)
        return self

    @field_validator("meter_id")
    @classmethod
    def _meter_id(cls, value: str) -> str:
        try:
            return check_meter_id(value)
        except ValueError as exc:
            raise ValueError("meter_id is 1-17 of A-Z a-z 0-9 _ -") from exc


class ChangeMeterRequest(_Body):
    """A meter's model changed (an exchange for another model) or its relay pairing.
    ``relay`` left out: kept, or for a meter that switched itself, the new model's own
    relay; ``relay: null``: none."""

    profile: MeterModelName | None = None
    relay: RelaySettings | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> ChangeMeterRequest:
        if not self.model_fields_set:
            raise ValueError("give profile, relay or both")
        if "profile" in self.model_fields_set and self.profile is None:
            raise ValueError("profile: a meter always has a model")
        return self


class MeterProfileDocument(BaseModel):
    """A meter profile in the gateway's format (docs/meters.md): checked against the
    gateway's own schema by the use case, which names the first bad field."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=80)
    version: int = Field(default=1, ge=1, le=999_999)


class RegisterMetersRequest(_Body):
    meters: list[MeterRequest] = Field(min_length=1, max_length=MAX_METERS_PER_BUS)
