"""The real Chalice app registers a handler for every rule's Lambda action."""

from __future__ import annotations

from pathlib import Path

from local_iot.handlers import HandlerRegistry, import_app
from local_iot.rule_files import load_rule_files

RULES_DIR = Path(__file__).resolve().parents[2] / "iot_rules"


def test_every_rule_action_resolves_to_a_function_of_functions_app() -> None:
    # GIVEN functions/app.py as Lambda imports it
    registry = HandlerRegistry(import_app("app"), "arn:aws:lambda:r:1:function:powerlet-local-")
    # WHEN each rule's Lambda action is resolved THEN a @app.lambda_function of that name exists
    for rule in load_rule_files(RULES_DIR):
        for logical_id in rule.function_logical_ids:
            assert registry.resolve(logical_id).name == rule.name
