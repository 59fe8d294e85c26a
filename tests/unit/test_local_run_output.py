"""What `make run` tells a person: the simulated buses with their ports and units, and a
local IoT log that is about our system, not about botocore's credentials."""

from __future__ import annotations

import logging
import os

import pytest

from chalicelib.data import builders
from chalicelib.observability import logger
from local_iot.__main__ import LIBRARY_LOGGERS, quiet_libraries, readable_app_log
from local_run.gateways import LocalGateway, bus_lines


def test_the_banner_lists_each_bus_with_its_ports_and_what_each_meter_measures() -> None:
    gateway = builders.gateway("formosa", "gw-tpe-1", "pl-formosa_gw-tpe-1", property_id="tpe-daan")
    meters = (
        builders.meter(
            "formosa",
            "m-tpe-2f",
            "gw-tpe-1",
            1,
            unit_id="tpe-2f",
            profile="sdm120",
            relay={"address": 100, "profile": "relay_module", "channel": 0},
        ),
        builders.meter("formosa", "m-tpe-main", "gw-tpe-1", 90, profile="sdm630"),
        builders.meter(
            "formosa", "m-tpe-3f-a", "gw-tpe-1", 2, unit_id="tpe-3f-a", profile="dds238"
        ),
    )
    lines = bus_lines([LocalGateway(gateway, meters, 5020, 5120)])
    assert lines[0] == (
        "gw-tpe-1 (tpe-daan): Modbus TCP 127.0.0.1:5020, simulator control 127.0.0.1:5120"
    )
    # in address order, each with its model and the unit (by name) it measures
    assert [line.split()[1] for line in lines[1:]] == ["1", "2", "90"]
    assert "sdm120   2F flat (tpe-2f), relay module 100 channel 0" in lines[1]
    assert "dds238   3F room A (tpe-3f-a)" in lines[2]
    assert lines[3].endswith("sdm630   the building's main meter")


def test_library_chatter_is_off_unless_verbose() -> None:
    saved = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    try:
        quiet_libraries(verbose=False)
        assert all(logging.getLogger(n).level == logging.WARNING for n in LIBRARY_LOGGERS)
        assert not logging.getLogger("botocore.credentials").isEnabledFor(logging.INFO)
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)
        quiet_libraries(verbose=True)
        assert all(logging.getLogger(n).level == logging.NOTSET for n in LIBRARY_LOGGERS)
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def test_the_app_log_reads_as_sentences_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the handlers' Powertools logger, which writes JSON for CloudWatch
    handler = logger.registered_handler
    saved = handler.formatter
    # (set, then deleted: monkeypatch restores a variable only if it existed when it first
    # touched it, and readable_app_log sets this one: it leaked and silenced every EMF line
    # of the tests after this one)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    try:
        # WHEN the local IoT makes it readable
        readable_app_log()
        record = logging.LogRecord("powerlet", logging.INFO, "x", 1, "telemetry gw-1 ...", (), None)
        # THEN a line is the time, the level and the sentence, and EMF lines are off
        line = handler.format(record)
        assert line.endswith(" app INFO telemetry gw-1 ...") and "{" not in line
        # AND the logger still works as Powertools (ingest sets a correlation id per message)
        logger.set_correlation_id("pl-a_gw-1/0123456789abcdef/7")
        logger.info("telemetry gw-1 stored", outcome="stored")
        logger.set_correlation_id(None)
        assert os.environ["POWERTOOLS_METRICS_DISABLED"] == "true"
    finally:
        handler.setFormatter(saved)
