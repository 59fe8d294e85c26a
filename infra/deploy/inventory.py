"""What the code declares, read from the code itself: functions, rules, environment.

The template is generated from this inventory, and the tests compare the
packaged template with it, so a new ``@app.lambda_function``, rule file or
``ENV_*`` constant cannot be forgotten by the stack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .errors import InventoryError

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO / "functions"
RULES_DIR = REPO / "iot_rules"
CHALICELIB_DIR = FUNCTIONS_DIR / "chalicelib"
# Each event and scheduled function's own Lambda entry: the template's Handler, so a
# container imports its function's path and not the whole app (issue 19).
ENTRIES_DIR = CHALICELIB_DIR / "lambdas"
ENTRY_PACKAGE = "chalicelib.lambdas"

API_HANDLER = "api_handler"
# Chalice spells the API handler's logical id this way, not "ApiHandler".
API_HANDLER_LOGICAL_ID = "APIHandler"
MAX_RULE_FILE_BYTES = 64 * 1024
_ENV_CONSTANT = re.compile(r'^(ENV_[A-Z0-9_]+)\s*=\s*"([A-Z][A-Z0-9_]*)"', re.MULTILINE)

FunctionKind = Literal["api", "authorizer", "event", "schedule"]


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function as Chalice will package it."""

    name: str
    logical_id: str
    kind: FunctionKind
    schedule: str | None = None


@dataclass(frozen=True)
class RuleSpec:
    """One ``iot_rules/*.json`` file: CloudFormation TopicRule properties."""

    file: str
    rule_name: str
    properties: dict[str, Any]

    @property
    def logical_id(self) -> str:
        return "IotRule" + _camel(self.rule_name)

    @property
    def target_logical_ids(self) -> list[str]:
        """The functions the rule's actions invoke (``Fn::GetAtt`` on a logical id)."""
        targets = []
        for action in self.properties["TopicRulePayload"]["Actions"]:
            arn = action.get("Lambda", {}).get("FunctionArn")
            if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                targets.append(str(arn["Fn::GetAtt"][0]))
        return targets


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-]", name) if part)


def logical_id_for(function_name: str) -> str:
    """The logical id Chalice gives a function (checked after packaging)."""
    if function_name == API_HANDLER:
        return API_HANDLER_LOGICAL_ID
    from chalice.utils import to_cfn_resource_name

    return str(to_cfn_resource_name(function_name))


def entry_handler(spec: FunctionSpec, entries_dir: Path = ENTRIES_DIR) -> str | None:
    """The deployed Handler of an event or scheduled function: its own module in
    ``chalicelib/lambdas``, which must exist (without one the function would import the
    whole app on each cold start). ``None`` for the API and the authorizers: Chalice's."""
    if spec.kind not in {"event", "schedule"}:
        return None
    if not (entries_dir / f"{spec.name}.py").is_file():
        raise InventoryError(
            f"{spec.name} has no Lambda entry: add chalicelib/lambdas/{spec.name}.py "
            "(see that package's docstring)"
        )
    return f"{ENTRY_PACKAGE}.{spec.name}.handler"


def app_functions(app: Any | None = None) -> list[FunctionSpec]:
    """Every function the Chalice app registers, in a stable order."""
    if app is None:
        from app import app as chalice_app

        app = chalice_app
    specs: list[FunctionSpec] = []
    if app.routes:
        specs.append(FunctionSpec(API_HANDLER, API_HANDLER_LOGICAL_ID, "api"))
    for auth in app.builtin_auth_handlers:
        specs.append(FunctionSpec(auth.name, logical_id_for(auth.name), "authorizer"))
    for fn in app.pure_lambda_functions:
        specs.append(FunctionSpec(fn.name, logical_id_for(fn.name), "event"))
    for source in app.event_sources:
        expression = getattr(source, "schedule_expression", None)
        if expression is None:
            raise InventoryError(
                f"event source {source.name!r} is not a schedule; teach deploy.inventory about it"
            )
        schedule = expression if isinstance(expression, str) else expression.to_string()
        specs.append(FunctionSpec(source.name, logical_id_for(source.name), "schedule", schedule))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise InventoryError(f"two functions share a name: {sorted(names)}")
    return specs


def load_rules(rules_dir: Path = RULES_DIR) -> list[RuleSpec]:
    rules = []
    for path in sorted(rules_dir.glob("*.json")):
        if path.stat().st_size > MAX_RULE_FILE_BYTES:
            raise InventoryError(f"{path.name} is over {MAX_RULE_FILE_BYTES} bytes")
        try:
            body = json.loads(path.read_text())
            rule = RuleSpec(path.name, str(body["RuleName"]), dict(body))
            payload = rule.properties["TopicRulePayload"]
            payload["Sql"], payload["Actions"], payload["ErrorAction"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InventoryError(f"{path.name} is not a TopicRule properties file: {exc}") from exc
        if path.stem != rule.rule_name:
            raise InventoryError(f"{path.name} names rule {rule.rule_name!r}; file and rule differ")
        rules.append(rule)
    return rules


def env_constants(source_dir: Path = CHALICELIB_DIR) -> dict[str, str]:
    """Every ``ENV_X = "NAME"`` constant in the function code: the variables it reads."""
    found: dict[str, str] = {}
    for path in sorted(source_dir.rglob("*.py")):
        for _const, name in _ENV_CONSTANT.findall(path.read_text()):
            found[name] = str(path.relative_to(source_dir))
    return found
