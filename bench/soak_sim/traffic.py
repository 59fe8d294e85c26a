"""What the cloud receives: each gateway's cycles, and every fault at the message level.

Time is simulated: a delivery carries the instant the IoT rule would have received it,
and the pipeline takes its "now" from there. Faults, per gateway:

- broker down for 30 minutes, several times: the spool delivers the backlog, in order,
  when the link returns;
- every message delivered twice, one in five three times, later and interleaved;
- one in ten messages overtaken by the next one (reordered);
- malformed (not JSON, schema violations) and oversized payloads;
- a message claiming another gateway's meters, and a real cycle carrying one such row;
- a meter silent for a day;
- the field's reading faults (``field_faults.py``): misreads in single cycles, meters
  swapped or reset (their new register is reported from the change on);
- clock skew: gateway 1 stamps its cycles 97 s fast;
- SIGKILL mid-cycle: gateway 2 (or the last) dies two thirds of the way through while
  reading its bus. What the cloud sees is what the component's spool does
  (greengrass_component/meter_gateway/spool.py): the cycle being read dies with the
  process (its reads never happened, it took no sequence number), the previous cycle,
  spooled but its acknowledgement lost with the process, is sent again after the
  restart, and the numbering goes on from where the spool was.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bench.support.telemetry_events import cycle_payload, raw_event

from .field_faults import FieldFaults, Misread
from .load_model import as_kwh
from .portfolio import SimGateway

OUTAGE = timedelta(minutes=30)
SKEW = timedelta(seconds=97)
READ_DT_MS = 100
OVERSIZE_BYTES = 70_000
RESTART = timedelta(seconds=90)  # Greengrass restarts a component that died


@dataclass(order=True)
class Delivery:
    at: datetime
    order: int
    kind: str = field(compare=False)  # cycle | duplicate | bad:<why> | foreign
    gateway: int = field(compare=False)
    event: dict[str, Any] = field(compare=False, repr=False)


@dataclass
class Produced:
    """What the meters really showed, as reported (time of the read, register in Wh)."""

    readings: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)
    # the readings reported wrong (``readings`` has the wrong register), by read time
    misreads: dict[str, dict[datetime, Misread]] = field(default_factory=dict)
    # a changed meter's readings: when their cycle was first sent (held until the
    # exchange is recorded), by read time
    first_sent: dict[str, dict[datetime, datetime]] = field(default_factory=dict)
    timeouts: dict[str, int] = field(default_factory=dict)
    last_stamp: dict[int, datetime] = field(default_factory=dict)
    killed_cycles: dict[int, datetime] = field(default_factory=dict)  # gateway -> cycle time


def silent_window(gw: SimGateway, start: datetime, days: int) -> tuple[datetime, datetime] | None:
    """The first meter of gateway 0 stops answering for the second day of the run."""
    if gw.index != 0 or days < 2:
        return None
    return start + timedelta(days=1), start + timedelta(days=2)


def killed_cycle(gw: SimGateway, gateways: int, count: int) -> int | None:
    """The cycle during which the gateway process is SIGKILLed, if this is that gateway."""
    if count < 3 or gw.index != min(2, gateways - 1):
        return None
    return count * 2 // 3


def outages(rng: random.Random, start: datetime, days: int) -> list[datetime]:
    count = max(2, days // 5)
    span_min = days * 24 * 60 - 60
    picks = sorted({rng.randrange(30, span_min) for _ in range(count)})
    return [start + timedelta(minutes=m) for m in picks]


def gateway_traffic(
    gw: SimGateway,
    registers: dict[str, list[int]],
    start: datetime,
    step: timedelta,
    days: int,
    plan: list[SimGateway],
    seed: int,
    produced: Produced,
    counter: list[int],
    reorder_rate: float = 0.1,
    faults: FieldFaults | None = None,
) -> list[Delivery]:
    rng = random.Random(f"{seed}:traffic:{gw.index}")
    spool_id = f"{seed:08x}{gw.index:08x}"[-16:]
    skew = SKEW if gw.index == 1 else timedelta(0)
    silent = silent_window(gw, start, days)
    downs = outages(rng, start, days)
    count = len(next(iter(registers.values())))
    out: list[Delivery] = []
    faults = faults or FieldFaults()

    def add(at: datetime, kind: str, event: dict[str, Any]) -> None:
        counter[0] += 1
        out.append(Delivery(at, counter[0], kind, gw.index, event))

    foreign_gw = plan[(gw.index + 1) % len(plan)]
    foreign_id = foreign_gw.meters[0].meter_id
    foreign_row = {"i": foreign_id, "dt": 0, "ie": "999999.999", "xe": "0.000", "r": 1}
    carry_foreign_at = count // 3 if len(plan) > 1 else -1
    killed = killed_cycle(gw, len(plan), count)
    seq_lost = 0  # the killed cycle took no sequence number
    last_sent: tuple[datetime, bytes] | None = None
    for k in range(count):
        real = start + k * step
        stamp = real + skew
        if k == killed and last_sent is not None:
            produced.killed_cycles[gw.index] = real
            seq_lost = 1
            again = max(real + RESTART, last_sent[0] + timedelta(seconds=1))
            add(again, "duplicate", raw_event(last_sent[1], gw.thing_name, again))
            continue
        rows: list[dict[str, Any]] = []
        read_at = stamp + timedelta(milliseconds=READ_DT_MS)
        for m in gw.meters:
            if silent and m is gw.meters[0] and silent[0] <= real < silent[1]:
                rows.append({"i": m.meter_id, "dt": 1500, "er": "timeout"})
                produced.timeouts[m.meter_id] = produced.timeouts.get(m.meter_id, 0) + 1
                continue
            wh = registers[m.meter_id][k]
            misread = faults.misread(m.meter_id, k)
            if misread is not None:
                wh = misread.reported_wh
                produced.misreads.setdefault(m.meter_id, {})[read_at] = misread
            rows.append(
                {"i": m.meter_id, "dt": READ_DT_MS, "ie": str(as_kwh(wh)), "xe": "0.000", "r": 1}
            )
            produced.readings.setdefault(m.meter_id, []).append((read_at, wh))
        if k == carry_foreign_at:
            rows.append(foreign_row)
        payload = cycle_payload(gw.thing_name, spool_id, k + 1 - seq_lost, stamp, rows)
        sent = real + timedelta(seconds=1)
        for down in downs:
            if down <= sent < down + OUTAGE:
                # The spool keeps order: the backlog goes out in sequence when the link is back.
                sent = down + OUTAGE + timedelta(milliseconds=50 * k % 1000 + k % 7)
        if k + 1 < count and rng.random() < reorder_rate:
            sent = sent + step + timedelta(seconds=30)  # overtaken by the next cycle
        add(sent, "cycle", raw_event(payload, gw.thing_name, sent))
        for m in gw.meters:
            if m.meter_id in faults.changes:
                produced.first_sent.setdefault(m.meter_id, {})[read_at] = sent
        last_sent = (sent, payload)
        copies = 2 if rng.random() < 0.2 else 1
        for c in range(copies):
            again = sent + rng.randrange(0, 3) * step + timedelta(seconds=5 + c)
            add(again, "duplicate", raw_event(payload, gw.thing_name, again))
        produced.last_stamp[gw.index] = stamp
    # Bad input, at a few instants through the run.
    for n, k in enumerate(sorted(rng.sample(range(count), min(count, 5)))):
        at = start + k * step + timedelta(seconds=20 + n)
        seq = 1_000_000 + n
        rogue = [{"i": foreign_id, "dt": 0, "ie": "999999.999", "xe": "0.000", "r": 1}]
        bad: dict[str, bytes] = {
            "bad:not_json": b"\x00\xffnot json{",
            "bad:schema": cycle_payload(
                gw.thing_name, spool_id, seq, at, [{"i": "x", "ie": "abc"}]
            ),
            "bad:oversized": cycle_payload(
                gw.thing_name,
                spool_id,
                seq,
                at,
                [{"i": "pad", "dt": 0, "er": "x" * OVERSIZE_BYTES}],
            ),
            "bad:thing_mismatch": cycle_payload("powerlet-elsewhere", spool_id, seq, at, []),
            "foreign": cycle_payload(gw.thing_name, "f" * 16, seq, at, rogue),
        }
        kind = list(bad)[n % len(bad)]
        add(at, kind, raw_event(bad[kind], gw.thing_name, at))
    return out
