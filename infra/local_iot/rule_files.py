"""Load and validate ``iot_rules/*.json``: the one source of Powerlet's AWS IoT topic rules.

Each file holds the Properties of a CloudFormation ``AWS::IoT::TopicRule``:
``RuleName`` plus ``TopicRulePayload`` (``Sql``, ``AwsIotSqlVersion``,
``Actions``, ``ErrorAction``, ``RuleDisabled``). References to other stack
resources are CloudFormation intrinsics: the Lambda action is
``{"Fn::GetAtt": ["<Chalice function's logical id>", "Arn"]}`` (Chalice names
the resource of ``@app.lambda_function(name="ingest_telemetry")``
``IngestTelemetry``) and the error action's queue is ``{"Ref": "<queue logical id>"}``.
The local emulation resolves those ids itself; the infrastructure template keeps them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import RuleFileError, SqlSyntaxError
from .iot_sql import Query, parse

MAX_RULE_FILES = 50
MAX_RULE_FILE_BYTES = 64 * 1024
SQL_VERSION = "2016-03-23"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GetAtt(_Strict):
    fn_get_att: tuple[Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,255}$")], Literal["Arn"]] = (
        Field(alias="Fn::GetAtt")
    )

    @property
    def logical_id(self) -> str:
        return self.fn_get_att[0]


class Ref(_Strict):
    ref: str = Field(alias="Ref", pattern=r"^[A-Za-z0-9]{1,255}$")


class LambdaTarget(_Strict):
    function_arn: GetAtt = Field(alias="FunctionArn")


class LambdaAction(_Strict):
    lambda_: LambdaTarget = Field(alias="Lambda")


class SqsTarget(_Strict):
    queue_url: Ref = Field(alias="QueueUrl")
    role_arn: GetAtt = Field(alias="RoleArn")
    use_base64: bool = Field(alias="UseBase64", default=False)


class SqsAction(_Strict):
    sqs: SqsTarget = Field(alias="Sqs")


class TopicRulePayload(_Strict):
    description: str | None = Field(alias="Description", default=None, max_length=1000)
    sql: str = Field(alias="Sql", min_length=1, max_length=4096)
    aws_iot_sql_version: Literal["2016-03-23"] = Field(alias="AwsIotSqlVersion")
    rule_disabled: bool = Field(alias="RuleDisabled")
    actions: list[LambdaAction] = Field(alias="Actions", min_length=1, max_length=10)
    error_action: SqsAction = Field(alias="ErrorAction")

    @field_validator("sql")
    @classmethod
    def _sql_in_subset(cls, sql: str) -> str:
        try:
            parse(sql)
        except SqlSyntaxError as exc:
            raise ValueError(str(exc)) from exc
        return sql


class RuleFile(_Strict):
    rule_name: str = Field(alias="RuleName", pattern=r"^[a-zA-Z0-9_]{1,128}$")
    topic_rule_payload: TopicRulePayload = Field(alias="TopicRulePayload")


class LoadedRule:
    """A validated rule file with its compiled SQL."""

    def __init__(self, path: Path, spec: RuleFile) -> None:
        self.path = path
        self.spec = spec
        self.query: Query = parse(spec.topic_rule_payload.sql)

    @property
    def name(self) -> str:
        return self.spec.rule_name

    @property
    def enabled(self) -> bool:
        return not self.spec.topic_rule_payload.rule_disabled

    @property
    def function_logical_ids(self) -> list[str]:
        return [a.lambda_.function_arn.logical_id for a in self.spec.topic_rule_payload.actions]

    @property
    def error_queue_logical_id(self) -> str:
        return self.spec.topic_rule_payload.error_action.sqs.queue_url.ref


def load_rule_file(path: Path) -> LoadedRule:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RuleFileError(f"{path}: cannot read: {exc}") from exc
    if len(raw) > MAX_RULE_FILE_BYTES:
        raise RuleFileError(f"{path}: larger than {MAX_RULE_FILE_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RuleFileError(f"{path}: not valid JSON: {exc}") from exc
    try:
        spec = RuleFile.model_validate(data)
    except ValidationError as exc:
        raise RuleFileError(f"{path}: {_describe(exc)}") from exc
    if spec.rule_name != path.stem:
        raise RuleFileError(f"{path}: RuleName {spec.rule_name!r} must equal the file name")
    return LoadedRule(path, spec)


def load_rule_files(directory: Path) -> list[LoadedRule]:
    """Every ``*.json`` directly in ``directory`` (schemas live in a subfolder), by name."""
    paths = sorted(p for p in directory.glob("*.json") if p.is_file())
    if not paths:
        raise RuleFileError(f"{directory}: no rule files (*.json)")
    if len(paths) > MAX_RULE_FILES:
        raise RuleFileError(f"{directory}: more than {MAX_RULE_FILES} rule files")
    return [load_rule_file(p) for p in paths]


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(document)"
        problems.append(f"{field}: {error['msg']}")
    return "; ".join(problems)
