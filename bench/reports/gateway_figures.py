"""The gateway's figures: gateway_bus.json (the Modbus poller) and gateway_component.json
(the whole component process), for docs/performance.md, docs/gateway-modbus.md and
docs/gateway.md."""

from __future__ import annotations

from .errors import MissingFigureError
from .formatting import count, dec, fraction, met, seconds_from_ms
from .results import BenchResults, Figures

BUS = "gateway_bus.json"
COMPONENT = "gateway_component.json"


def _bus_line(bus: Figures) -> str:
    """'32 meters (16 SDM120 on 2 relay modules, 16 DDS238), 9600 baud 8N1'."""
    return (
        f"{count(bus.number('bus', 'meters'))} meters ({count(bus.number('bus', 'sdm120'))} SDM120 "
        f"on {count(bus.number('bus', 'relay_modules'))} relay modules, "
        f"{count(bus.number('bus', 'dds238'))} DDS238), {dec(bus.number('bus', 'baud'), grouped=False)} baud "
        f"{bus.text('bus', 'framing')}"
    )


def _ms(bus: Figures, *path: str) -> str:
    return f"{dec(bus.number(*path))} ms"


def _peer_version(bus: Figures, peer: str) -> str:
    return f"{peer} {bus.text('peers', peer, 'versions', peer)}"


def _not_run(bus: Figures, peer: str) -> str | None:
    if bus.flag("peers", peer, "ran"):
        return None
    return f"| {peer}: not run ({bus.text('peers', peer, 'why_not')}) | | | |"


def _limit(bus: Figures, name: str) -> str:
    value = bus.number("limits", name)
    return dec(value, 1) if name == "ours_vs_optimal_whole_bus_at_most" else fraction(value)


def performance_bus_section(results: BenchResults) -> str:
    bus = results[BUS]
    rows = [
        f"| ours | {count(bus.number('ours', 'whole_bus', 'transactions_per_cycle'))} | "
        f"{_ms(bus, 'ours', 'whole_bus', 'bus_ms_per_cycle')} | |",
        f"| optimal plan (brute force) | "
        f"{count(bus.number('optimal', 'whole_bus_transactions_per_cycle'))} | "
        f"{_ms(bus, 'optimal', 'whole_bus_ms_per_cycle')} | "
        f"{dec(bus.number('ratios', 'ours_vs_optimal_whole_bus'), 2)} "
        f"(target <= {_limit(bus, 'ours_vs_optimal_whole_bus_at_most')}) |",
        f"| mbmd's one value per request (reproduced) | "
        f"{count(bus.number('peers', 'mbmd', 'whole_bus', 'transactions_per_cycle'))} | "
        f"{_ms(bus, 'peers', 'mbmd', 'whole_bus', 'bus_ms_per_cycle')} | "
        f"{dec(bus.number('ratios', 'ours_vs_mbmd_whole_bus'), 3)} "
        f"(target <= {_limit(bus, 'ours_vs_mbmd_whole_bus_at_most')}) |",
    ]
    rows.append(
        _not_run(bus, "sdm_modbus")
        or f"| {_peer_version(bus, 'sdm_modbus')} (run itself, SDM120 only) | "
        f"{count(bus.number('peers', 'sdm_modbus', 'sdm120', 'transactions_per_cycle'))} | "
        f"{_ms(bus, 'peers', 'sdm_modbus', 'sdm120', 'bus_ms_per_cycle')} | "
        f"{dec(bus.number('ratios', 'ours_vs_sdm_modbus_sdm120'), 2)} |"
    )
    rows.append(
        _not_run(bus, "modbus4mqtt")
        or f"| {_peer_version(bus, 'modbus4mqtt')} (run itself, per SDM120 / DDS238) | "
        f"{count(bus.number('peers', 'modbus4mqtt', 'sdm120', 'transactions_per_cycle'))} / "
        f"{count(bus.number('peers', 'modbus4mqtt', 'dds238', 'transactions_per_cycle'))} per meter | "
        f"{dec(bus.number('peers', 'modbus4mqtt', 'sdm120', 'bus_ms_per_cycle'))} / "
        f"{_ms(bus, 'peers', 'modbus4mqtt', 'dds238', 'bus_ms_per_cycle')} | "
        f"{dec(bus.number('ratios', 'ours_vs_modbus4mqtt_sdm120'), 2)} / "
        f"{dec(bus.number('ratios', 'ours_vs_modbus4mqtt_dds238'), 2)} |"
    )
    table = "\n".join(rows)
    return f"""## Gateway bus (`bench/gateway_bus.py` -> `gateway_bus.json`)

See `docs/gateway-modbus.md` ("Performance") for the method and peers.
{_bus_line(bus)}, {count(bus.number("ours", "cycles"))} cycles:

| | transactions / cycle | modelled bus time / cycle | ours / theirs |
|---|---:|---:|---:|
{table}

Poller CPU {dec(bus.number("ours", "cpu_ms_per_cycle", "mean"), 1)} ms per cycle, peak RSS \
{dec(bus.number("ours", "peak_rss_mb_poller_process"), 1)} MB (target < \
{count(bus.number("limits", "peak_rss_mb_below"))} MB).
"""


def modbus_region(results: BenchResults) -> str:
    """docs/gateway-modbus.md, region ``gateway-bus``: the table and the targets."""
    bus = results[BUS]
    rows = [
        f"| **ours** (whole bus incl. "
        f"{count(bus.number('ours', 'relay_modules', 'transactions_per_cycle'))} relay-module reads) | "
        f"{count(bus.number('ours', 'whole_bus', 'transactions_per_cycle'))} | "
        f"{_ms(bus, 'ours', 'whole_bus', 'bus_ms_per_cycle')} | 1 |",
        f"| best plan (brute force per profile) | "
        f"{count(bus.number('optimal', 'whole_bus_transactions_per_cycle'))} | "
        f"{_ms(bus, 'optimal', 'whole_bus_ms_per_cycle')} | "
        f"ours = {dec(bus.number('ratios', 'ours_vs_optimal_whole_bus'), 2)} x optimal |",
        f"| mbmd strategy, one value per request (reproduced) | "
        f"{count(bus.number('peers', 'mbmd', 'whole_bus', 'transactions_per_cycle'))} | "
        f"{_ms(bus, 'peers', 'mbmd', 'whole_bus', 'bus_ms_per_cycle')} | "
        f"ours = {dec(bus.number('ratios', 'ours_vs_mbmd_whole_bus'), 3)} x |",
    ]
    rows.append(
        _not_run(bus, "sdm_modbus")
        or f"| {_peer_version(bus, 'sdm_modbus')}, the peer itself "
        f"({count(bus.number('bus', 'sdm120'))} SDM120 only) | "
        f"{count(bus.number('peers', 'sdm_modbus', 'sdm120', 'transactions_per_cycle'))} | "
        f"{_ms(bus, 'peers', 'sdm_modbus', 'sdm120', 'bus_ms_per_cycle')} | "
        f"ours (SDM120 part, {_ms(bus, 'ours', 'sdm120', 'bus_ms_per_cycle')}) = "
        f"{dec(bus.number('ratios', 'ours_vs_sdm_modbus_sdm120'), 2)} x |"
    )
    rows.append(
        _not_run(bus, "modbus4mqtt")
        or f"| {_peer_version(bus, 'modbus4mqtt')}, the peer itself, per SDM120 / DDS238 | "
        f"{count(bus.number('peers', 'modbus4mqtt', 'sdm120', 'transactions_per_cycle'))} / "
        f"{count(bus.number('peers', 'modbus4mqtt', 'dds238', 'transactions_per_cycle'))} | "
        f"{dec(bus.number('peers', 'modbus4mqtt', 'sdm120', 'bus_ms_per_cycle'))} / "
        f"{_ms(bus, 'peers', 'modbus4mqtt', 'dds238', 'bus_ms_per_cycle')} | "
        f"ours = {dec(bus.number('ratios', 'ours_vs_modbus4mqtt_sdm120'), 2)} x / "
        f"{dec(bus.number('ratios', 'ours_vs_modbus4mqtt_dds238'), 2)} x |"
    )
    table = "\n".join(rows)
    per_meter = ("ours", "transactions_per_meter_per_cycle")
    rss = dec(bus.number("ours", "peak_rss_mb_poller_process"), 1)
    return f"""| | transactions / cycle | modelled bus time / cycle | vs ours |
|---|---:|---:|---:|
{table}

Per meter per cycle we send {count(bus.number(*per_meter, "sdm120"))} transactions to an SDM120 \
(+ {fraction(bus.number(*per_meter, "relay_module_share_per_sdm120"))} of a relay-module read)
and {count(bus.number(*per_meter, "dds238"))} to a DDS238 (relay read-back included); \
{dec(bus.number(*per_meter, "whole_bus_per_meter"), 2)} per meter over the whole bus.
CPU time per cycle of the poller: {dec(bus.number("ours", "cpu_ms_per_cycle", "mean"), 1)} ms mean, \
{dec(bus.number("ours", "cpu_ms_per_cycle", "max"), 1)} ms max \
({count(bus.number("bus", "meters"))} meters, TCP loopback, {count(bus.number("ours", "cycles"))} cycles;
figures of the run that wrote the JSON, they vary between runs).
Peak RSS of the poller process: {rss} MB.

Targets: bus time within {_limit(bus, "ours_vs_optimal_whole_bus_at_most")} x the optimal plan: \
**{met(bus.flag("targets", "bus_time_within_1_1x_optimal"))} \
({dec(bus.number("ratios", "ours_vs_optimal_whole_bus"), 2)})**; at most \
{_limit(bus, "ours_vs_mbmd_whole_bus_at_most")} of the
per-value reader: **{met(bus.flag("targets", "bus_time_at_most_one_third_of_per_value_reader"))} \
({dec(bus.number("ratios", "ours_vs_mbmd_whole_bus"), 3)} whole bus; \
{dec(bus.number("ratios", "ours_vs_mbmd_sdm120"), 3)} for SDM120 alone, \
{dec(bus.number("ratios", "ours_vs_mbmd_dds238"), 3)} for DDS238)**;
peak RSS under {count(bus.number("limits", "peak_rss_mb_below"))} MB: \
**{met(bus.flag("targets", "peak_rss_under_60_mb"))} ({rss} MB)**.

{_mixed_bus(bus)}"""


def _mixed_row(bus: Figures, label: str, *path: str) -> str:
    return (
        f"| {label} | {count(bus.number('mixed_bus', *path, 'transactions_per_cycle'))} | "
        f"{_ms(bus, 'mixed_bus', *path, 'bus_ms_per_cycle')} |"
    )


def _mixed_bus(bus: Figures) -> str:
    """The mixed bus: single- and three-phase meters of eight models (gateway_mixed_bus.py)."""
    three = ("mixed_bus", "ours_rtu_plans", "three_phase")
    single = ("mixed_bus", "ours_rtu_plans", "single_phase")
    return f"""Mixed bus: {count(bus.number("mixed_bus", "meters"))} meters of eight models \
(8 SDM120, 4 SDM230, 4 DDSU666, 4 SDM630, 4 DTSU666 on \
{count(bus.number("mixed_bus", "relay_modules"))} relay modules; 4 DDS238, 2 Fineco EM115, \
2 Fineco EM737 with their own relays), modelled at 9600 baud 8N1:

| mixed bus | transactions / cycle | modelled bus time / cycle |
|---|---:|---:|
{_mixed_row(bus, "**ours, serial-line (RTU) plans**", "ours_rtu_plans", "whole_bus")}
{_mixed_row(bus, "of which single-phase meters", "ours_rtu_plans", "single_phase")}
{_mixed_row(bus, "of which three-phase meters", "ours_rtu_plans", "three_phase")}
| best plan (brute force per profile) | \
{count(bus.number("mixed_bus", "optimal_rtu", "whole_bus_transactions_per_cycle"))} | \
{_ms(bus, "mixed_bus", "optimal_rtu", "whole_bus_ms_per_cycle")} |
{_mixed_row(bus, "one value per request (mbmd's strategy, same values)", "per_value_reader", "whole_bus")}
{_mixed_row(bus, "ours, TCP plans (largest allowed blocks)", "ours_tcp_plans", "whole_bus")}

Ours = {dec(bus.number("mixed_bus", "ratios", "ours_rtu_vs_optimal"), 2)} x the optimal plan and \
{dec(bus.number("mixed_bus", "ratios", "ours_rtu_vs_per_value_reader"), 2)} x the per-value reader; \
the three-phase meters take {_ms(bus, *three, "bus_ms_per_cycle")} of it, the single-phase \
{_ms(bus, *single, "bus_ms_per_cycle")}. On a TCP link the TCP plans send fewer requests \
(a request is a round trip there); their bytes, modelled on RS-485 above, are what a serial \
bus would pay for them.
"""


def _telemetry_range(component: Figures) -> str:
    size = ("component", "telemetry_bytes")
    return (
        f"{dec(component.number(*size, 'min'))} to {dec(component.number(*size, 'max'))} B "
        f"(mean {dec(component.number(*size, 'mean'))})"
    )


def _worst_case(component: Figures) -> tuple[str, str]:
    """The largest worst-case message and what the encoder left out to fit it."""
    cases = component.mapping("telemetry_worst_case")
    sizes = {name: component.number("telemetry_worst_case", name, "bytes") for name in cases}
    if not sizes:
        raise MissingFigureError(f"{component.label}: telemetry_worst_case holds no case")
    largest = max(sizes, key=lambda name: sizes[name])
    with_dg = component.number("telemetry_worst_case", largest, "meters_with_dg")
    meters = component.number("setup", "meters")
    if with_dg == 0:
        dg = "`dg` left out to fit"
    elif with_dg == meters:
        dg = "`dg` on every meter"
    else:
        dg = f"`dg` on {count(with_dg)} of {count(meters)} meters"
    return dec(sizes[largest]), dg


def performance_component_section(results: BenchResults) -> str:
    component = results[COMPONENT]
    bus = results[BUS]
    c = ("component",)
    failed = component.number(*c, "failed_readings")
    read = "all read" if failed == 0 else f"{count(failed)} readings failed"
    worst_bytes, dg = _worst_case(component)
    budget = component.number("targets", "telemetry_bytes_max")
    cycles = component.number(*c, "cycles_measured")
    tick = component.number(*c, "cpu_clock_tick_ms")
    return f"""## Gateway component (`bench/gateway_component.py` -> `gateway_component.json`)

The whole component process (`python -m meter_gateway`: service, poller, SQLite spool with
fsync, MQTT 5 transport, shadow sync) polling the same {count(component.number("setup", "meters"))} \
simulated meters over Modbus TCP
every {count(component.number("setup", "poll_interval_ms"))} ms and publishing to a local \
mosquitto; the script plays the cloud (named
shadows) and receives the telemetry. Meter ids at the \
{count(component.number(*c, "meter_id_chars"))}-character cap. {count(cycles)} measured cycles.

| | measured | target |
|---|---:|---:|
| telemetry per cycle, real messages ({count(component.number("setup", "meters"))} meters, \
{read}, relay states, `dg`) | {_telemetry_range(component)} | <= {dec(budget)} B |
| telemetry worst case (real encoder: every field at its widest, the longest thing name AWS \
allows, all relays cut locally) | {worst_bytes} B ({dg}) | <= {dec(budget)} B |
| CPU time per cycle, component process (utime + stime) | \
{dec(component.number(*c, "cpu_ms_per_cycle"), 1)} ms | |
| peak RSS of the component process (VmHWM) | {dec(component.number(*c, "peak_rss_mb"), 1)} MB | \
< {count(component.number("targets", "peak_rss_mb_below"))} MB |

The worst case is a guarantee, not a sample: meter ids are capped at \
{count(component.number(*c, "meter_id_chars"))} characters and
every other field has a bounded width except the diagnostics counters, which the encoder
leaves out of as few meters as needed (rotating) when a cycle would exceed {dec(budget / 1024)} KB \
(see
`docs/gateway.md`, "Size"). A real cycle took {dec(component.number(*c, "cycle_duration_ms_mean"))} \
ms of wall time on average (TCP loopback;
on RS-485 at {dec(bus.number("bus", "baud"), grouped=False)} baud the bus itself takes \
~{seconds_from_ms(bus.number("ours", "whole_bus", "bus_ms_per_cycle"))} s, see above). CPU \
figures come from
{dec(tick)} ms clock ticks summed over {count(cycles)} cycles (about +-{dec(tick / cycles, 2)} ms \
per cycle) and vary between runs.
"""


def component_region(results: BenchResults) -> str:
    """docs/gateway.md, region ``gateway-component``: the measured bullets."""
    component = results[COMPONENT]
    c = ("component",)
    meters = count(component.number("setup", "meters"))
    worst_bytes, dg = _worst_case(component)
    return f"""- telemetry, {meters} meters: real cycles {_telemetry_range(component)}, \
{count(component.number(*c, "meter_id_chars"))}-character ids; worst case {worst_bytes} B ({dg});
- component process, {meters} meters: {dec(component.number(*c, "cpu_ms_per_cycle"), 1)} ms CPU \
per cycle, peak RSS {dec(component.number(*c, "peak_rss_mb"), 1)} MB (target < \
{count(component.number("targets", "peak_rss_mb_below"))} MB);
"""
