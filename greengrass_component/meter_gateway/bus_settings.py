"""Serial/TCP and polling settings of the Modbus bus (built from the recipe by config.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

STANDARD_BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


class BusSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    transport: Literal["rtu", "tcp"] = "rtu"
    # RTU
    port: str = Field(default="/dev/ttyUSB0", min_length=1, max_length=256)
    baudrate: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8
    # TCP (Modbus TCP gateways, the simulator)
    host: str = Field(default="127.0.0.1", min_length=1, max_length=253)
    tcp_port: int = Field(default=502, ge=1, le=65535)
    # Per transaction: time-out, then up to `retries` more attempts after backoff_ms * 2^n.
    timeout_ms: int = Field(default=300, ge=10, le=10_000)
    retries: int = Field(default=2, ge=0, le=5)
    backoff_ms: int = Field(default=50, ge=0, le=5_000)
    # Silence between talking to one slave and the next (some meters need it).
    inter_frame_delay_ms: int = Field(default=0, ge=0, le=1_000)
    # Consecutive failed polls after which a meter is reported offline and only probed.
    offline_after_failures: int = Field(default=3, ge=1, le=100)
    # Which cost the read planner minimises: "rtu" (bytes on a serial line: gaps cost),
    # "tcp" (round trips: the largest allowed blocks), "auto" = the transport's own. A TCP
    # link to an RS-485 converter carries a serial bus behind it: set "rtu" there.
    read_cost: Literal["auto", "rtu", "tcp"] = "auto"

    def resolved_read_cost(self) -> Literal["rtu", "tcp"]:
        if self.read_cost != "auto":
            return self.read_cost
        return "tcp" if self.transport == "tcp" else "rtu"
