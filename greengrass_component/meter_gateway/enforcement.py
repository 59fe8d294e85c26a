"""Local enforcement of the offline cutoff: the shadow's desired state, parsed and judged.

The cloud's account policy decides power; this module only covers the case the cloud cannot:
the link is down and the tenant keeps consuming. A manual 'on' that ends (`until`, unix
seconds) is honoured the same way: on until then, the cutoff enforced from then on, so
"on until" returns to automatic control at its end even with the cloud out of reach. The shadow's `cutoff.kwh` is the cumulative
import reading at which credit runs out; `cutoff.friendly` is when an automatic cut must not
happen (weekly windows in the property's time zone, plus whole dated holidays).

Failing safe means keeping power on: a schedule that cannot be evaluated (unknown time zone)
never leads to a cut, because cutting a tenant inside friendly hours is the worse mistake.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from meter_gateway.errors import ShadowDocumentError, StateStoreError

KWH_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,3})?$"
HHMM_PATTERN = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
MINUTES_PER_DAY = 24 * 60


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Weekday = Annotated[int, Field(ge=0, le=6)]
HourMinute = Annotated[str, Field(pattern=HHMM_PATTERN)]


class FriendlyDoc(_Doc):
    tz: str = Field(min_length=1, max_length=64)
    weekly: tuple[tuple[Weekday, HourMinute, HourMinute], ...] = Field(default=(), max_length=64)
    holidays: tuple[dt.date, ...] = Field(default=(), max_length=400)


class CutoffDoc(_Doc):
    kwh: str = Field(pattern=KWH_PATTERN)
    friendly: FriendlyDoc


class DesiredDoc(_Doc):
    """`state.desired` of a meter shadow (iot_rules/schemas/meter_shadow.v1.json)."""

    power: Literal["on", "off"]
    reason: str = Field(min_length=1, max_length=64)
    cmd: str = Field(min_length=1, max_length=64)
    cutoff: CutoffDoc | None = None
    # A manual 'on' with an end (unix seconds): before it the relay stays on whatever the
    # cutoff says; from it on the cutoff is enforced like any automatic state's.
    until: int | None = Field(default=None, ge=0, le=2**32)


def parse_desired(raw: Any) -> DesiredDoc:
    try:
        return DesiredDoc.model_validate(raw)
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()
        )
        raise ShadowDocumentError(f"desired state rejected: {fields}") from exc


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True)
class FriendlySchedule:
    tz: ZoneInfo | None  # None: the zone is unknown on this device
    weekly: tuple[tuple[int, int, int], ...]  # (weekday 0=Mon, start minute, end minute)
    holidays: frozenset[dt.date]

    @classmethod
    def from_doc(cls, doc: FriendlyDoc) -> FriendlySchedule:
        try:
            tz: ZoneInfo | None = ZoneInfo(doc.tz)
        except (ZoneInfoNotFoundError, ValueError):
            tz = None
        weekly = tuple((day, _minutes(start), _minutes(end)) for day, start, end in doc.weekly)
        return cls(tz=tz, weekly=weekly, holidays=frozenset(doc.holidays))

    def is_friendly(self, at_utc: dt.datetime) -> bool:
        """True when an automatic cut must not happen at this instant."""
        if self.tz is None:
            return True
        local = at_utc.astimezone(self.tz)
        if local.date() in self.holidays:
            return True
        minute = local.hour * 60 + local.minute
        weekday = local.weekday()
        for day, start, end in self.weekly:
            if day == weekday and start <= minute < min(end, MINUTES_PER_DAY):
                return True
        return False


@dataclass(frozen=True)
class Cutoff:
    kwh: Decimal
    friendly: FriendlySchedule

    @classmethod
    def from_doc(cls, doc: CutoffDoc) -> Cutoff:
        return cls(kwh=Decimal(doc.kwh), friendly=FriendlySchedule.from_doc(doc.friendly))


@dataclass(frozen=True)
class CutDecision:
    cut: bool
    why: str  # "below_cutoff", "friendly_hours", "credit_exhausted_offline", "no_cutoff", ...


def judge(
    desired: DesiredDoc | None, import_kwh: Decimal | None, at_utc: dt.datetime
) -> CutDecision:
    """Should the gateway open this relay by itself, the cloud being unreachable?"""
    if desired is None or desired.cutoff is None:
        return CutDecision(False, "no_cutoff")
    if desired.power == "off":
        return CutDecision(False, "already_off")
    if desired.until is not None and at_utc.timestamp() < desired.until:
        return CutDecision(False, "manual_on_until")
    if import_kwh is None:
        return CutDecision(False, "no_reading")
    cutoff = Cutoff.from_doc(desired.cutoff)
    if import_kwh < cutoff.kwh:
        return CutDecision(False, "below_cutoff")
    if cutoff.friendly.is_friendly(at_utc):
        return CutDecision(False, "friendly_hours")
    return CutDecision(True, "credit_exhausted_offline")


# --- what must survive a restart while offline ---------------------------------------------

STATE_FORMAT = 1
MAX_STATE_FILE_BYTES = 4 * 1024 * 1024


@dataclass
class MeterRelayState:
    """Per meter: the last desired state seen, what was applied, and the report still owed."""

    desired: dict[str, Any] | None = None
    version: int | None = None  # shadow version of `desired`; older deltas are ignored
    applied_cmd: str | None = None
    # Set when the gateway opened the relay itself; holds until the cloud sends a new
    # cmd or a new cutoff (a top-up raises the cutoff without changing the command).
    local_cut_cmd: str | None = None
    local_cut_cutoff_kwh: str | None = None
    pending_report: dict[str, Any] | None = None


class RelayStateStore:
    """A JSON file replaced atomically (write, fsync, rename, fsync dir) on every change."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.meters: dict[str, MeterRelayState] = {}

    def load(self) -> None:
        if not self.path.exists():
            return
        try:
            if self.path.stat().st_size > MAX_STATE_FILE_BYTES:
                raise StateStoreError(f"{self.path}: larger than {MAX_STATE_FILE_BYTES} bytes")
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if raw.get("format") != STATE_FORMAT:
                raise StateStoreError(f"{self.path}: unknown format {raw.get('format')!r}")
            self.meters = {
                meter_id: MeterRelayState(**fields) for meter_id, fields in raw["meters"].items()
            }
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise StateStoreError(f"{self.path}: cannot read relay state: {exc}") from exc

    def get(self, meter_id: str) -> MeterRelayState:
        return self.meters.setdefault(meter_id, MeterRelayState())

    def save(self) -> None:
        body = {
            "format": STATE_FORMAT,
            "meters": {meter_id: asdict(state) for meter_id, state in self.meters.items()},
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as file:
                json.dump(body, file, separators=(",", ":"))
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise StateStoreError(f"{self.path}: cannot write relay state: {exc}") from exc
