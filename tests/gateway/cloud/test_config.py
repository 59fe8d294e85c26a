"""The configuration: one typed object; a bad one fails with the field named."""

from __future__ import annotations

import json
import logging

import pytest

from meter_gateway.__main__ import configure_logging, main
from meter_gateway.config import load_config, parse_config
from meter_gateway.errors import ConfigError

GOOD = {
    "thing_name": "gw-1",
    "bus": {"transport": "tcp", "host": "127.0.0.1", "tcp_port": 5020},
    "meters": [
        {"meter_id": "flat-1", "address": 1, "profile": "dds238",
         "relay": {"address": 1, "profile": "dds238"}},
        {"meter_id": "shop-2", "address": 2, "profile": "sdm120",
         "relay": {"address": 101, "profile": "relay_module", "channel": 3}},
    ],
    "cloud": {"transport": "mqtt", "mqtt": {"host": "127.0.0.1", "port": 1883}},
}  # fmt: skip


def test_a_good_configuration_builds_the_bus_interface_types():
    config = parse_config(GOOD)
    meters = config.meter_configs()
    assert meters[1].relay.address == 101 and meters[1].relay.channel == 3
    assert config.bus.tcp_port == 5020
    assert config.telemetry_topic() == "powerlet/gw/gw-1/telemetry"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"poll_interval_ms": 10}, "poll_interval_ms"),
        ({"bus": {"parity": "X"}}, "bus.parity"),
        ({"meters": [{"meter_id": "bad id!", "address": 1, "profile": "x"}]}, "meters.0.meter_id"),
        ({"meters": [{"meter_id": "a", "address": 300, "profile": "x"}]}, "meters.0.address"),
        ({"spool": {"max_cycles": 0}}, "spool.max_cycles"),
        ({"cloud": {"mqtt": {"tls": True}}}, "cloud.mqtt"),
        # The client id is the thing name: ingest refuses telemetry from any other client.
        ({"cloud": {"mqtt": {"client_id": "someone-else"}}}, "cloud.mqtt.client_id"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_field_is_named_in_the_error(patch, field):
    with pytest.raises(ConfigError, match=rf"(^|; |: ){field}"):
        parse_config({**GOOD, **patch})


def test_two_meters_on_one_address_are_refused():
    meters = [
        {"meter_id": "a", "address": 1, "profile": "dds238"},
        {"meter_id": "b", "address": 1, "profile": "dds238"},
    ]
    with pytest.raises(ConfigError, match="share one bus address"):
        parse_config({**GOOD, "meters": meters})


def test_the_thing_name_may_come_from_greengrass(monkeypatch):
    config = parse_config({k: v for k, v in GOOD.items() if k != "thing_name"})
    monkeypatch.setenv("AWS_IOT_THING_NAME", "gg-core-7")
    assert config.resolved_thing_name() == "gg-core-7"
    monkeypatch.delenv("AWS_IOT_THING_NAME")
    with pytest.raises(ConfigError, match="thing_name"):
        config.resolved_thing_name()


def test_a_file_that_is_not_json_is_named(tmp_path):
    path = tmp_path / "gw.json"
    path.write_text("{")
    with pytest.raises(ConfigError, match=r"gw\.json: not valid JSON"):
        load_config(path)


def test_the_command_exits_2_with_the_field_on_stderr(tmp_path, capsys):
    path = tmp_path / "gw.json"
    path.write_text(json.dumps({**GOOD, "bus": {"timeout_ms": -1}}))
    assert main(["--config", str(path)]) == 2
    assert "bus.timeout_ms" in capsys.readouterr().err


@pytest.fixture
def restore_logging():
    names = ["", "pymodbus", "meter_gateway"]
    saved = {n: logging.getLogger(n).level for n in names}
    handlers = list(logging.getLogger().handlers)
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger().handlers[:] = handlers


@pytest.mark.parametrize(
    ("level", "pymodbus_errors_shown"), [("INFO", False), ("WARNING", False), ("DEBUG", True)]
)
def test_pymodbus_time_out_errors_are_quiet_but_ours_are_not(
    restore_logging, level, pymodbus_errors_shown
):
    # GIVEN the command's logging set-up at a level
    configure_logging(level)
    # THEN pymodbus's per-time-out ERROR lines are shown only when debugging the bus
    assert logging.getLogger("pymodbus.logging").isEnabledFor(logging.ERROR) is (
        pymodbus_errors_shown
    )
    assert not logging.getLogger("pymodbus.logging").isEnabledFor(logging.INFO)
    # AND the gateway's own warnings (a meter going silent) are always shown
    assert logging.getLogger("meter_gateway.service").isEnabledFor(logging.WARNING)
