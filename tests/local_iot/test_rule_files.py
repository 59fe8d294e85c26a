"""The rule files in iot_rules/ validate, say what the contract says, and bad ones are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local_iot.errors import RuleFileError
from local_iot.rule_files import load_rule_file, load_rule_files

RULES_DIR = Path(__file__).resolve().parents[2] / "iot_rules"
CONTRACT = (Path(__file__).resolve().parents[2] / "docs" / "iot-contracts.md").read_text()


def test_every_rule_file_validates_and_names_its_handler_and_dead_letter_queue() -> None:
    # GIVEN the repository's rule files WHEN they are loaded
    rules = {rule.name: rule for rule in load_rule_files(RULES_DIR)}
    # THEN there is one per handler, each invoking the Chalice function of its name
    assert set(rules) == {"ingest_telemetry", "relay_confirmation", "gateway_presence"}
    assert rules["ingest_telemetry"].function_logical_ids == ["IngestTelemetry"]
    assert rules["relay_confirmation"].function_logical_ids == ["RelayConfirmation"]
    assert rules["gateway_presence"].function_logical_ids == ["GatewayPresence"]
    for rule in rules.values():
        assert rule.enabled
        assert rule.error_queue_logical_id == "DeadLetterQueue"
        assert rule.spec.topic_rule_payload.aws_iot_sql_version == "2016-03-23"
        # AND the SQL is word for word the one in docs/iot-contracts.md
        assert f"`{rule.spec.topic_rule_payload.sql}`" in CONTRACT


def test_the_gateway_comes_from_topic_and_client_id_never_the_payload() -> None:
    ingest = load_rule_file(RULES_DIR / "ingest_telemetry.json")
    sql = ingest.spec.topic_rule_payload.sql
    assert "topic(3) AS thing_name" in sql and "clientid() AS client_id" in sql
    assert "encode(*, 'base64') AS raw" in sql


def _write(tmp_path: Path, name: str, document: object) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document))
    return path


def _valid(name: str = "r") -> dict:
    return json.loads((RULES_DIR / "gateway_presence.json").read_text()) | {"RuleName": name}


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d["TopicRulePayload"].pop("ErrorAction"), "TopicRulePayload.ErrorAction"),
        (
            lambda d: d["TopicRulePayload"].__setitem__("AwsIotSqlVersion", "2015-10-08"),
            "TopicRulePayload.AwsIotSqlVersion",
        ),
        (
            lambda d: d["TopicRulePayload"].__setitem__("Sql", "SELECT lower(x) AS y FROM 'a'"),
            "TopicRulePayload.Sql.*lower",
        ),
        (
            lambda d: d["TopicRulePayload"]["Actions"][0]["Lambda"].__setitem__(
                "FunctionArn", "arn:aws:lambda:x"
            ),
            "FunctionArn",
        ),
        (lambda d: d["TopicRulePayload"].__setitem__("Actions", []), "TopicRulePayload.Actions"),
        (lambda d: d["TopicRulePayload"].__setitem__("Extra", 1), "TopicRulePayload.Extra"),
    ],
)
def test_a_bad_rule_file_is_refused_naming_file_and_field(
    tmp_path: Path, mutate, words: str
) -> None:
    document = _valid()
    mutate(document)
    path = _write(tmp_path, "r", document)
    with pytest.raises(RuleFileError, match=words) as caught:
        load_rule_file(path)
    assert str(path) in str(caught.value)


def test_rule_name_must_be_the_file_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "other", _valid("r"))
    with pytest.raises(RuleFileError, match="must equal the file name"):
        load_rule_file(path)


def test_a_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{nope")
    with pytest.raises(RuleFileError, match=r"broken\.json: not valid JSON"):
        load_rule_file(path)


def test_a_directory_without_rules_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="no rule files"):
        load_rule_files(tmp_path)
