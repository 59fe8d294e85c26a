"""Meter profiles written from a datasheet alone (no code, no shipped file): the gateway's
conformance tests load them as configuration, the cloud's tests store and deploy them."""

from __future__ import annotations

from typing import Any

# A meter described only by its datasheet: a relay behind an unlock key derived from the
# serial number (read before writing), unlocked with FC16 and then switched with FC06.
ACME_DATASHEET: dict[str, Any] = {
    "model": "ACME KM-1 (datasheet only)",
    "version": 3,
    "source": "ACME KM-1 Modbus manual rev B, tables 4 and 7",
    "function_codes": [3, 6, 16],
    "max_read_registers": 20,
    "turnaround_ms": 15,
    "rating": {"max_current_a": "60", "nominal_voltage_v": "230"},
    "readable_spans": [
        {"function_code": 3, "first": 0x0000, "last": 0x0013},
        {"function_code": 3, "first": 0x0100, "last": 0x0103},
    ],
    "registers": {
        "import_kwh": {"address": 0x0000, "function_code": 3, "data_type": "bcd32",
                       "scale": "0.01", "unit": "kWh"},
        "v": {"address": 0x0004, "function_code": 3, "data_type": "u16", "scale": "0.1",
              "unit": "V"},
        "w": {"address": 0x0006, "function_code": 3, "data_type": "s32", "unit": "W",
              "word_order": "little"},
    },
    "extra_registers": {
        "serial_number": {"address": 0x0100, "function_code": 3, "data_type": "u32"},
    },
    "relay": {
        "read_before_write": ["serial_number"],
        "turn_on": [
            {"function_code": 16, "address": 0x0102, "values": ["lo16(serial_number) ^ 0xA55A"]},
            {"function_code": 6, "address": 0x0103, "values": ["0x00FF"]},
        ],
        "turn_off": [
            {"function_code": 16, "address": 0x0102, "values": ["lo16(serial_number) ^ 0xA55A"]},
            {"function_code": 6, "address": 0x0103, "values": ["0x0000"]},
        ],
        "readback": {"function_code": 3, "address": 0x0103, "on_value": 0x00FF, "off_value": 0},
        "refused_exception": 3,
    },
}  # fmt: skip
