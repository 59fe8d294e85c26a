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


# A meter model the component was not built with, as the deployment sends it.
ACME = {
    "model": "ACME EM-1",
    "version": 4,
    "max_read_registers": 40,
    "turnaround_ms": 20,
    "rating": {"max_current_a": "60", "nominal_voltage_v": "230"},
    "readable_spans": [{"function_code": 3, "first": 0, "last": 31}],
    "registers": {
        "import_kwh": {"address": 0, "function_code": 3, "data_type": "u32", "scale": "0.01",
                       "unit": "kWh"},
    },
}  # fmt: skip


def test_profiles_in_the_configuration_extend_and_replace_the_shipped_ones():
    # GIVEN a deployment that sends a new model and a corrected SDM120
    from meter_gateway.profiles import load_profile

    sdm = load_profile("sdm120").model_dump(mode="json")
    sdm["version"] = 9
    config = parse_config(
        {
            **GOOD,
            "meters": [
                *GOOD["meters"],
                {"meter_id": "acme-3", "address": 3, "profile": "acme_em1"},
            ],
            "profiles": {"acme_em1": ACME, "sdm120": sdm},
        }
    )
    # WHEN the library is built THEN the new model is there, the configured SDM120 wins,
    # and the shipped ones are still available
    library = config.profile_library()
    assert library.get("acme_em1").model == "ACME EM-1"
    assert library.get("sdm120").version == 9
    assert library.get("dds238").version == load_profile("dds238").version
    # AND each profile in use has a version for telemetry: "<version>.<content hash>"
    versions = library.versions(config.profile_names())
    assert versions["acme_em1"].startswith("4.") and versions["sdm120"].startswith("9.")
    assert set(versions) == {"acme_em1", "dds238", "relay_module", "sdm120"}


@pytest.mark.parametrize(
    ("profiles", "meters", "message"),
    [
        ({"acme_em1": {**ACME, "max_read_registers": 500}}, [], "profiles.acme_em1: field max_read_registers"),
        ({"acme_em1": {**ACME, "registers": {"v": {"expr": "__import__('os')"}}}}, [], "profiles.acme_em1: field registers.v.expr"),
        ({}, [{"meter_id": "x", "address": 9, "profile": "acme_em1"}], "meters.2.profile: no profile 'acme_em1'"),
    ],
)  # fmt: skip
def test_a_bad_configured_profile_or_an_unknown_one_is_refused_naming_it(profiles, meters, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_config({**GOOD, "meters": [*GOOD["meters"], *meters], "profiles": profiles})
