"""A bus's control state as typed records, and their compact form in the state item.

The state of every meter of a gateway lives in one ``GatewayState`` item
(``meters``: meter id -> object) that is read on every telemetry cycle, so each
meter's object keeps the short keys it has always had. The records below give
those keys names; ``encode_meter``/``decode_meter`` are the only code that knows
the short keys, and read every item written before the records existed.

=====  ===================  ===========================================================
key    field                meaning
=====  ===================  ===========================================================
acc    account_id           the account the snapshot below belongs to
bal    balance_minor        its balance when last read or settled (minor units)
sk     settled_kwh          its settlement cursor: the settled register reading ...
sa     settled_at           ... and its time (unix ms)
use    tariff_position      ... and the position in the tariff (the account's ``usage``)
new    never_settled        the cursor is the tenancy's opening reading, not a settlement
x      closed               a move-out closed the account: nothing more is settled into it
pw     power                the desired state last written to the meter's shadow ...
rs     reason               ... why ...
cmd    command_id           ... the command it carried ...
cut    cutoff_kwh           ... the offline cutoff (None: the gateway never cuts locally) ...
fh     schedule_tag         ... and a digest of the friendly-hours schedule sent with it
man    manual               a manual override (``on``/``off``), absent if none ...
mut    manual_until         ... a manual ``on``'s end (unix ms): automatic again from then ...
mtu    manual_until_topup   ... or it ends at the next top-up (``mut`` is then its backstop) ...
mby    manual_by            ... who set it (``user:<sub>``) ...
mwhy   manual_note          ... why (their words) ...
mat    manual_at            ... and when (unix ms)
pend   pending              the command awaiting confirmation {cmd, at, iss, tries},
                            or ``at`` alone (below)
fl     flags                active alert flags (``rev``), so an alert fires once per crossing
local  local_cutoff_at      the gateway's ``at`` of the last offline cutoff it reported
due    due                  the reading at which the next threshold settlement is due, and
                            what it was worked out from (pipeline/settle_due.py); a basis
                            ``<basis>@<unix ms>``: it holds until that band edge (ToU)
=====  ===================  ===========================================================

Keys are written only when they hold something: a null and an absent key read the
same (the field's default), so ``use``, ``rs``, ``cut`` and ``fh`` are left out when
they have no value. ``pend`` is the send time alone (unix ms) in its common case, the
meter's own command (``cmd``) issued and sent at that time and tried once; any other
pending command is the object. The state is read on every message and its size is
billed on every read and write (issue 19: ~30 % fewer JSON values per meter). Items
written before (``cut``/``fh``/``use`` as null, ``pend`` always the object) read as
they always did (tests/unit/data/test_control_state.py keeps such an item); written
back they take the short form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ..domain.energy import ZERO_KWH, format_kwh, kwh
from ..domain.errors import DomainError
from .errors import InvalidControlStateError

if TYPE_CHECKING:  # a Literal alias: domain.prepaid imports the tariff models
    from ..domain.prepaid import PowerState

# The account's ``usage`` attribute as pipeline/charging.py writes it ({"key", "kwh"} or
# {"key", "bands"}); the control state holds a copy and never looks inside.
TariffUsage = Mapping[str, Any]
_POWERS = ("on", "off")


def ms(at: datetime) -> int:
    """Unix milliseconds, the precision the state item and the entry ids use."""
    return int(at.timestamp() * 1000)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Between a stored due mark's basis and its ``until`` (a basis holds no "@")
UNTIL_MARK = "@"
_ONE_MS = timedelta(milliseconds=1)


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)  # tz positional: ~1/3 faster


@dataclass(frozen=True)
class PendingCommand:
    """A relay command written to the shadow and not yet confirmed by the gateway."""

    command_id: str  # cmd
    issued_at: datetime  # iss: with the id, the key of its RelayCommand item
    sent_at: datetime  # at: the last time the desired state was written (retry clock)
    tries: int = 1  # tries: writes so far (the retry sweep gives up after a limit)


@dataclass(frozen=True)
class DueMark:
    """The smallest register reading, inside the cursor's settlement period, whose charge
    would take the balance across a level (None: no reading can), and the basis it was
    worked out from; ``exact`` False: at or above it the reading is priced to decide.
    ``until``: the mark speaks only of readings before it (a time-of-use band edge inside
    the period, pipeline/settle_due.py); None: of the whole period."""

    due_kwh: Decimal | None
    basis: str
    exact: bool = True
    until: datetime | None = None


@dataclass(frozen=True)
class MeterControlState:
    """One meter's entry in its gateway's control state (short keys: module docstring)."""

    account_id: str | None = None
    balance_minor: int = 0
    settled_kwh: Decimal = ZERO_KWH
    settled_at: datetime | None = None  # None: no cursor read yet
    tariff_position: TariffUsage | None = None
    never_settled: bool = False
    closed: bool = False
    power: PowerState | None = None
    reason: str | None = None
    command_id: str | None = None
    cutoff_kwh: Decimal | None = None
    schedule_tag: str | None = None
    manual: PowerState | None = None
    manual_until: datetime | None = None
    manual_until_topup: bool = False
    manual_by: str | None = None
    manual_note: str | None = None
    manual_at: datetime | None = None
    pending: PendingCommand | None = None
    flags: frozenset[str] = frozenset()
    local_cutoff_at: int | None = None
    due: DueMark | None = None

    @property
    def has_cursor(self) -> bool:
        return self.settled_at is not None

    def manual_expired(self, now: datetime) -> bool:
        """A manual 'on' whose end has come: the policy decides again."""
        return self.manual == "on" and self.manual_until is not None and self.manual_until <= now

    def automatic(self) -> MeterControlState:
        """No manual override any more (its who, why and until go with it)."""
        return replace(
            self,
            manual=None,
            manual_until=None,
            manual_until_topup=False,
            manual_by=None,
            manual_note=None,
            manual_at=None,
        )

    @property
    def has_desired(self) -> bool:
        """A desired state (and so a command) was written to the shadow."""
        return self.command_id is not None


@dataclass(frozen=True)
class BusControlState:
    """A gateway's control state as read, with the version its write is conditioned on."""

    company_id: str
    gateway_id: str
    version: int = 0  # 0: no item yet
    meters: Mapping[str, MeterControlState] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()  # the bus's own alert flags (offline sweep)

    def meter(self, meter_id: str) -> MeterControlState:
        return self.meters.get(meter_id, MeterControlState())

    def with_meters(self, changed: Mapping[str, MeterControlState]) -> BusControlState:
        return replace(self, meters={**self.meters, **changed})


# --- the compact form ---


def encode_meter(state: MeterControlState) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if state.account_id is not None:
        out["acc"] = state.account_id
        out["bal"] = state.balance_minor
    if state.settled_at is not None:
        out["sk"] = format_kwh(state.settled_kwh)
        out["sa"] = ms(state.settled_at)
        if state.tariff_position is not None:
            out["use"] = dict(state.tariff_position)
    if state.never_settled:
        out["new"] = 1
    if state.closed:
        out["x"] = 1
    if state.power is not None:
        out["pw"] = state.power
        if state.reason is not None:
            out["rs"] = state.reason
        if state.cutoff_kwh is not None:
            out["cut"] = format_kwh(state.cutoff_kwh)
        if state.schedule_tag is not None:
            out["fh"] = state.schedule_tag
    if state.command_id is not None:
        out["cmd"] = state.command_id
    if state.manual is not None:
        out["man"] = state.manual
    if state.manual_until is not None:
        out["mut"] = ms(state.manual_until)
    if state.manual_until_topup:
        out["mtu"] = 1
    if state.manual_by is not None:
        out["mby"] = state.manual_by
    if state.manual_note is not None:
        out["mwhy"] = state.manual_note
    if state.manual_at is not None:
        out["mat"] = ms(state.manual_at)
    pending = state.pending
    if pending is not None:
        sent = ms(pending.sent_at)
        if (
            pending.command_id == state.command_id
            and ms(pending.issued_at) == sent
            and pending.tries == 1
        ):
            out["pend"] = sent  # the common case: the meter's own command, sent once
        else:
            out["pend"] = {
                "cmd": pending.command_id,
                "at": sent,
                "iss": ms(pending.issued_at),
                "tries": pending.tries,
            }
    if state.flags:
        out["fl"] = sorted(state.flags)
    if state.local_cutoff_at is not None:
        out["local"] = state.local_cutoff_at
    if state.due is not None:
        due_kwh = None if state.due.due_kwh is None else format_kwh(state.due.due_kwh)
        basis = state.due.basis
        if state.due.until is not None:
            # "<basis>@<unix ms>", exact (``ms`` goes through a float): code from before
            # ``until`` reads a basis it never wrote, so a stale mark (worked out again)
            basis = f"{basis}{UNTIL_MARK}{(state.due.until - _EPOCH) // _ONE_MS}"
        out["due"] = [due_kwh, basis, int(state.due.exact)]
    return out


def decode_meter(raw: Mapping[str, Any]) -> MeterControlState:
    """The record of a meter's stored object; keys no longer written are ignored."""
    return _decode_one(raw, {})


def _decode(raw: Mapping[str, Any], times: dict[int, datetime]) -> MeterControlState:
    # One pass over the keys present, straight into the record's fields: a state of 32
    # meters is decoded on every message, and the keyword construction of a frozen
    # dataclass (22 fields, each set through object.__setattr__) with a helper call per
    # key cost ~25 us a meter (issue 19, CPU). The checks are decode_meter's as before.
    # ``times``: the datetimes of the unix ms met so far in this state (a command's
    # issue and send times are one instant, and often the same for the bus's meters).
    values = dict(_DEFAULTS)
    for key, value in raw.items():
        reader = _READERS.get(key)
        if reader is None or (value is None and key != "bal"):
            continue  # a key no longer written, or a null: the field's default
        name, read = reader
        values[name] = read(value, times)
    pending = values["pending"]  # read last: its compact form is the meter's own command
    if pending is not None:
        values["pending"] = _pending(pending, times, values["command_id"]) if pending else None
    return _record(MeterControlState, values)


def _record(cls: type[_R], values: dict[str, Any]) -> _R:
    """A frozen record from its complete field values, without its ``__init__`` (the
    values are the ones ``__init__`` would store: no defaults, no post-init)."""
    record = object.__new__(cls)
    record.__dict__.update(values)
    return record


_R = TypeVar("_R")
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(MeterControlState)}
_Times = dict[int, datetime]
# compact key -> (field, how its stored value is read) (module docstring)
_READERS: dict[str, tuple[str, Callable[[Any, _Times], Any]]] = {
    "acc": ("account_id", lambda v, _: str(v)),
    "bal": ("balance_minor", lambda v, _: _integer(v)),
    "sk": ("settled_kwh", lambda v, _: _stored_kwh(v)),
    "sa": ("settled_at", lambda v, t: _time(v, t)),
    "use": ("tariff_position", lambda v, _: _usage(v)),
    "new": ("never_settled", lambda v, _: bool(v)),
    "x": ("closed", lambda v, _: bool(v)),
    "pw": ("power", lambda v, _: _power(v)),
    "rs": ("reason", lambda v, _: str(v)),
    "cmd": ("command_id", lambda v, _: str(v)),
    "cut": ("cutoff_kwh", lambda v, _: _stored_kwh(v)),
    "fh": ("schedule_tag", lambda v, _: str(v)),
    "man": ("manual", lambda v, _: _power(v)),
    "mut": ("manual_until", lambda v, t: _time(v, t)),
    "mtu": ("manual_until_topup", lambda v, _: bool(v)),
    "mby": ("manual_by", lambda v, _: str(v)),
    "mwhy": ("manual_note", lambda v, _: str(v)),
    "mat": ("manual_at", lambda v, t: _time(v, t)),
    "pend": ("pending", lambda v, _: v),  # resolved after the other keys (_decode)
    "fl": ("flags", lambda v, _: frozenset(str(f) for f in v or ())),
    "local": ("local_cutoff_at", lambda v, _: local_cutoff_stamp(v)),
    "due": ("due", lambda v, _: _due(v)),
}
# every field has a plain default (a null stored is that default; a null balance is corrupt)
assert {name for name, _ in _READERS.values()} == set(_DEFAULTS)
assert MISSING not in _DEFAULTS.values()


def encode_meters(meters: Mapping[str, MeterControlState]) -> dict[str, dict[str, Any]]:
    return {meter_id: encode_meter(state) for meter_id, state in meters.items()}


def decode_meters(raw: Mapping[str, Any] | None) -> dict[str, MeterControlState]:
    times: dict[int, datetime] = {}
    return {str(meter_id): _decode_one(value, times) for meter_id, value in (raw or {}).items()}


class StoredMeters(Mapping[str, MeterControlState]):
    """A state item's meters, each decoded when first asked for (``decode_meter``; an
    unreadable one raises InvalidControlStateError then). Ingest asks only for the
    meters whose message is not the steady case, which it tells from the stored form
    itself (``stored``): the steady message of a 32-meter bus decodes none (issue 19)."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = {str(meter_id): value for meter_id, value in raw.items()}
        self._decoded: dict[str, MeterControlState] = {}
        self._times: dict[int, datetime] = {}

    def __getitem__(self, meter_id: str) -> MeterControlState:
        found = self._decoded.get(meter_id)
        if found is None:
            found = self._decoded[meter_id] = _decode_one(self._raw[meter_id], self._times)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, meter_id: object) -> bool:
        return meter_id in self._raw

    def stored(self, meter_id: str) -> Mapping[str, Any] | None:
        """The meter's object as stored (short keys), None if it has none; read only."""
        return self._raw.get(meter_id)

    def __repr__(self) -> str:
        return f"StoredMeters({dict(self)!r})"


def stored_meters(raw: Mapping[str, Any] | None) -> StoredMeters:
    return StoredMeters(raw or {})


def _decode_one(raw: Mapping[str, Any], times: dict[int, datetime]) -> MeterControlState:
    try:
        return _decode(raw, times)
    except (KeyError, TypeError, ValueError, DomainError) as exc:
        raise InvalidControlStateError(f"unreadable meter control state {dict(raw)!r}") from exc


def _time(value: Any, times: dict[int, datetime]) -> datetime:
    found = times.get(value) if type(value) is int else None  # a bool is no time
    if found is None:
        found = times[value] = from_ms(_integer(value))
    return found


def _pending(raw: Any, times: dict[int, datetime], command_id: str | None) -> PendingCommand:
    if type(raw) is int:  # the compact form (encode_meter): the meter's own command
        if command_id is None:
            raise ValueError("a pending command's time without a command")
        at = _time(raw, times)
        return _record(
            PendingCommand, {"command_id": command_id, "issued_at": at, "sent_at": at, "tries": 1}
        )
    return _record(
        PendingCommand,
        {
            "command_id": str(raw["cmd"]),
            "issued_at": _time(raw["iss"], times),
            "sent_at": _time(raw["at"], times),
            "tries": _integer(raw.get("tries", 1)),
        },
    )


def _due(raw: Any) -> DueMark | None:
    if not raw:
        return None
    # [kWh, basis, exact]; a basis "<basis>@<unix ms>" holds until then (a band edge)
    due_kwh, stored, exact = raw
    due = None if due_kwh is None else _stored_kwh(due_kwh)
    basis, bounded, until_ms = str(stored).partition(UNTIL_MARK)
    until = from_ms(int(until_ms)) if bounded else None
    return _record(DueMark, {"due_kwh": due, "basis": basis, "exact": bool(exact), "until": until})


# What format_kwh writes: at most 9 integer digits, exactly 3 decimals.
KWH_TEXT = _KWH_TEXT = re.compile(r"-?[0-9]{1,9}\.[0-9]{3}")
# ... and of those, the ones that are the text of the Decimal they parse to (no leading
# zero): what ``str(Decimal(text))`` gives back unchanged (pipeline/settler.py compares
# a mark's basis with the stored text itself).
CANONICAL_KWH_TEXT = re.compile(r"-?(?:0|[1-9][0-9]{0,8})\.[0-9]{3}")


def _stored_kwh(value: Any) -> Decimal:
    """A kWh as ``encode_meter`` wrote it, parsed as is (already 3 decimals, in range);
    any other form goes through ``kwh``'s checks. A state holds ~100 of them and is
    decoded on every message (issue 19, CPU)."""
    if isinstance(value, str) and _KWH_TEXT.fullmatch(value):
        return Decimal(value)
    return kwh(value)


def _integer(value: Any) -> int:
    # JSON integers only: a float or a bool here is a corrupt item, not a number to round.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _power(value: Any) -> PowerState | None:
    if value is None:
        return None
    if value not in _POWERS:
        raise ValueError(f"power must be 'on' or 'off', not {value!r}")
    return cast("PowerState", value)


def _usage(value: Any) -> TariffUsage | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"tariff position must be an object, not {value!r}")
    return dict(value)


def local_cutoff_stamp(value: Any) -> int | None:
    """A local cutoff's ``at`` as the gateway reports it (its clock's whole seconds);
    anything else names no cutoff."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
