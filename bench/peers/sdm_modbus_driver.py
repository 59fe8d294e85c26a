"""Runs the sdm_modbus peer itself (its own venv) against the simulator for N cycles.

Invoked by bench/gateway_bus.py as ``<peer venv python> sdm_modbus_driver.py``; uses
only sdm_modbus's public API: one SDM120 object per address sharing one connection,
``read_all()`` per meter per cycle (its documented way of reading a meter).
"""

from __future__ import annotations

import argparse
import json
import time

import sdm_modbus


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--addresses", required=True, help="comma-separated unit ids")
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    units = [int(a) for a in args.addresses.split(",")]
    first = sdm_modbus.SDM120(host="127.0.0.1", port=args.port, unit=units[0], timeout=1, retries=1)
    meters = [first] + [sdm_modbus.SDM120(parent=first, unit=u) for u in units[1:]]
    sample = {}
    started = time.monotonic()
    for _ in range(args.cycles):
        for meter in meters:
            sample = meter.read_all()
    print(
        json.dumps(
            {
                "cycles": args.cycles,
                "wall_s": time.monotonic() - started,
                "last_sample_keys": sorted(sample),
                "last_voltage": sample.get("voltage"),
            }
        )
    )


if __name__ == "__main__":
    main()
