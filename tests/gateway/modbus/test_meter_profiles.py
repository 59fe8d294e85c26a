"""Meter profiles are data: the shipped ones load, a bad one fails naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from meter_gateway.errors import ProfileError, ProfileNotFoundError
from meter_gateway.profiles import PROFILES_DIR, available_profiles, load_profile, load_profile_file


def test_the_shipped_profiles_load() -> None:
    # GIVEN the profiles shipped with the component
    # WHEN each is loaded
    names = available_profiles()
    # THEN the three required models are there with their datasheet maps
    assert {"sdm120", "dds238", "relay_module"} <= set(names)
    sdm = load_profile("sdm120")
    assert sdm.registers["import_kwh"].address == 0x0048
    assert sdm.registers["total_kwh"].address == 0x0156
    assert {s.function_code for s in sdm.registers.values()} == {4}
    assert sdm.relay is None
    dds = load_profile("dds238")
    assert dds.relay is not None and dds.relay.readback is not None
    assert dds.relay.readback.address == 0x001A
    assert [s.function_code for s in dds.relay.turn_off] == [16]
    assert dds.registers["w"].data_type == "s16"
    module = load_profile("relay_module")
    assert module.relay is not None and module.relay.is_coil


def _write_variant(
    tmp_path: Path, base: str, edit: dict[str, object], path: tuple[str, ...]
) -> Path:
    document = yaml.safe_load((PROFILES_DIR / f"{base}.yaml").read_text())
    target = document
    for part in path[:-1]:
        target = target[part]
    if edit.get("delete"):
        del target[path[-1]]
    else:
        target[path[-1]] = edit["value"]
    out = tmp_path / f"{base}.yaml"
    out.write_text(yaml.safe_dump(document))
    return out


@pytest.mark.parametrize(
    ("path", "edit", "field"),
    [
        (("registers", "v", "data_type"), {"value": "float128"}, "registers.v.data_type"),
        (("registers", "v", "function_code"), {"value": 6}, "registers.v.function_code"),
        (("registers", "a", "scale"), {"value": "-1"}, "registers.a.scale"),
        (("registers", "import_kwh", "address"), {"value": 70000}, "registers.import_kwh.address"),
        (("registers", "v", "colour"), {"value": "red"}, "registers.v.colour"),
        (
            ("registers", "watts"),
            {
                "value": {
                    "address": 1,
                    "function_code": 4,
                    "data_type": "u16",
                    "scale": "1",
                    "unit": "W",
                }
            },
            "registers.watts",
        ),
        (("max_read_registers",), {"value": 126}, "max_read_registers"),
        (("turnaround_ms",), {"delete": True}, "turnaround_ms"),
        (("relay", "kind"), {"value": "fc06"}, "relay.kind"),
        (("relay", "readback", "on_value"), {"value": 0}, "relay.readback"),
    ],
)
def test_a_bad_profile_fails_at_load_naming_file_and_field(
    tmp_path: Path, path: tuple[str, ...], edit: dict[str, object], field: str
) -> None:
    # GIVEN a copy of the DDS238 profile with one field broken
    broken = _write_variant(tmp_path, "dds238", edit, path)
    # WHEN it is loaded
    with pytest.raises(ProfileError) as caught:
        load_profile_file(broken)
    # THEN the message names the file and the field
    message = str(caught.value)
    assert str(broken) in message
    assert f"field {field}" in message


def test_a_register_outside_the_readable_spans_is_refused(tmp_path: Path) -> None:
    broken = _write_variant(tmp_path, "dds238", {"value": 0x0100}, ("registers", "hz", "address"))
    with pytest.raises(
        ProfileError, match=r"registers\.hz: 0x0100 .* outside every readable_spans"
    ):
        load_profile_file(broken)


def test_the_profile_name_must_equal_the_file_stem(tmp_path: Path) -> None:
    renamed = tmp_path / "other.yaml"
    renamed.write_text((PROFILES_DIR / "sdm120.yaml").read_text())
    with pytest.raises(ProfileError, match=r"other\.yaml: field name"):
        load_profile_file(renamed)


def test_not_yaml_and_missing_files_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "junk.yaml"
    bad.write_text("registers: [unclosed")
    with pytest.raises(ProfileError, match=r"junk\.yaml: not valid YAML"):
        load_profile_file(bad)
    with pytest.raises(ProfileNotFoundError, match="nope"):
        load_profile("nope", tmp_path)
    with pytest.raises(ProfileNotFoundError):
        load_profile("../etc/passwd")


def test_adding_a_model_is_adding_a_file(tmp_path: Path) -> None:
    # GIVEN a new meter model described only by a file
    (tmp_path / "orno_we514.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "orno_we514",
                "model": "ORNO WE-514",
                "max_read_registers": 60,
                "turnaround_ms": 15,
                "readable_spans": [{"function_code": 3, "first": 0x100, "last": 0x1FF}],
                "registers": {
                    "v": {
                        "address": 0x131,
                        "function_code": 3,
                        "data_type": "u16",
                        "scale": "0.01",
                        "unit": "V",
                    },
                    "import_kwh": {
                        "address": 0x160,
                        "function_code": 3,
                        "data_type": "u32",
                        "scale": "0.01",
                        "unit": "kWh",
                    },
                },
            }
        )
    )
    # WHEN it is loaded from that directory
    profile = load_profile("orno_we514", tmp_path)
    # THEN it is a profile like the shipped ones
    assert profile.registers["import_kwh"].register_count == 2
    assert available_profiles(tmp_path) == ["orno_we514"]


@pytest.mark.parametrize(
    ("path", "edit", "message"),
    [
        (("function_codes",), {"value": [3]}, r"function_codes: the profile uses FC \[16\]"),
        (
            ("relay", "turn_on", 0, "values"),
            {"value": ["serial_number ^ 1"]},
            r"relay.turn_on.0.values: \['serial_number'\] are neither",
        ),
        (
            ("relay", "turn_on", 0, "values"),
            {"value": ["eval('1')"]},
            r"field relay.turn_on.0.values.0: .*unknown function eval\(\)",
        ),
        (("registers", "v"), {"value": {"expr": "nope * 2"}}, r"registers.v.expr: 'nope' is not"),
        (
            ("registers", "v"),
            {"value": {"expr": "a", "address": 1, "function_code": 3, "data_type": "u16"}},
            "a computed value",
        ),
    ],
)
def test_relays_expressions_and_function_codes_are_checked_at_load(
    tmp_path: Path, path: tuple[object, ...], edit: dict[str, object], message: str
) -> None:
    broken = _write_variant(tmp_path, "dds238", edit, path)  # type: ignore[arg-type]
    with pytest.raises(ProfileError, match=message):
        load_profile_file(broken)
