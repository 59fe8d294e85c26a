"""docs/*.md against the code they describe: module paths, the data model's items, the
stack's function count. Each test names the page and what to change."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import Counter
from pathlib import Path

from chalicelib import data as data_package
from chalicelib.data.models import PowerletItem
from deploy.inventory import app_functions, load_rules

REPO = Path(__file__).resolve().parents[2]
CHECKED_PAGES = sorted((REPO / "docs").glob("*.md"))
# Where a path written in a page may start: from the repository, or from one of the
# source roots the pages shorten it to (`chalicelib/...`, `pipeline/gaps.py`,
# `meter_gateway/bus.py`, `local_aws/...`, `transport/base.py`).
PATH_ROOTS = (
    "",
    "functions/",
    "functions/chalicelib/",
    "greengrass_component/",
    "greengrass_component/meter_gateway/",
    "infra/",
)
# A backticked .py path with at least one folder in it.
MODULE_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)+[\w.-]+\.py)\b")
# Item models still in the code but dead (nothing reads or writes them outside the naive
# baseline of bench/pipeline_ingest.py) and being removed: the data model no longer lists
# them. Drop a name here when its class goes.
# Items of the table that no PynamoDB model writes, with the module that does.
NOT_PYNAMODB_ITEMS = {"Idempotency": "chalicelib.data.reseller_idempotency"}
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}


def _backticked(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def test_every_module_path_in_the_docs_exists() -> None:
    # GIVEN every `folder/module.py` a page names in backticks
    missing = []
    for page in CHECKED_PAGES:
        for span in _backticked(page.read_text()):
            for path in MODULE_PATH.findall(span):
                # THEN it is a file of the repository, from the root or a source root
                if not any((REPO / root / path).is_file() for root in PATH_ROOTS):
                    missing.append(f"docs/{page.name}: {path}")
    assert not missing, "module paths that do not exist:\n" + "\n".join(sorted(set(missing)))


def _item_models() -> dict[str, type[PowerletItem]]:
    """Every PynamoDB item class of the table, by discriminator (stores define some)."""
    for module in pkgutil.iter_modules(data_package.__path__):
        importlib.import_module(f"{data_package.__name__}.{module.name}")
    registry = PowerletItem._get_discriminator_attribute()._class_map  # type: ignore[union-attr]
    return {
        str(kind): cls
        for cls, kind in registry.items()
        if cls.__module__.startswith("chalicelib.")  # not a model a test defined
    }


def _item_rows() -> list[str]:
    text = (REPO / "docs" / "data-model.md").read_text()
    table = text.split("## Items and keys", 1)[1].split("\n\n", 2)[1]
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    return [row.split("|")[1].strip() for row in rows[1:]]  # past the header


def test_the_data_model_lists_every_item_model_and_no_other() -> None:
    # GIVEN the item classes in the code and the rows of docs/data-model.md's items table
    models = _item_models()
    rows = set(_item_rows())
    # THEN each model has a row (named by class or discriminator) ...
    unlisted = sorted(
        f"{cls.__name__} (kind {kind!r})"
        for kind, cls in models.items()
        if kind not in rows and cls.__name__ not in rows
    )
    assert not unlisted, f"docs/data-model.md lists no row for {unlisted}"
    # ... and each row is a model, or an item another library writes from a module of ours
    names = set(models) | {cls.__name__ for cls in models.values()} | set(NOT_PYNAMODB_ITEMS)
    assert not sorted(rows - names), f"docs/data-model.md rows without a model: {rows - names}"
    assert set(NOT_PYNAMODB_ITEMS) <= rows, (
        f"docs/data-model.md lists no row for {NOT_PYNAMODB_ITEMS}"
    )
    for module in NOT_PYNAMODB_ITEMS.values():
        importlib.import_module(module)


def test_deploy_counts_the_functions_the_app_defines() -> None:
    # GIVEN the functions the stack is built from (the app itself) and the rule files
    specs = app_functions()
    kinds = Counter(spec.kind for spec in specs)
    rule_targets = {
        action["Lambda"]["FunctionArn"]["Fn::GetAtt"][0]
        for rule in load_rules()
        for action in rule.properties["TopicRulePayload"]["Actions"]
        if "Lambda" in action
    }
    rule_invoked = [s for s in specs if s.kind == "event" and s.logical_id in rule_targets]
    # WHEN docs/deploy.md's "Functions" line is read
    text = (REPO / "docs" / "deploy.md").read_text()
    match = re.search(r"\*\*Functions\*\* \((\d+) today\): (.*?)\. Each has", text, re.DOTALL)
    assert match, "docs/deploy.md has no '**Functions** (N today): ...' line"
    total, breakdown = int(match.group(1)), " ".join(match.group(2).split())

    def stated(what: str) -> int:
        found = re.search(rf"\b(\w+) {what}", breakdown)
        assert found, f"docs/deploy.md does not say how many {what}"
        return WORDS.get(found.group(1), 0) or int(found.group(1))

    # THEN the total and every part match the app
    assert total == len(specs), f"docs/deploy.md says {total} functions, the app has {len(specs)}"
    assert "the API handler" in breakdown and kinds["api"] == 1
    assert stated("authorizers") == kinds["authorizer"]
    assert stated("schedules") == kinds["schedule"]
    assert stated("rule-invoked handlers") == len(rule_invoked)
    named = set(re.findall(r"`(\w+)`", breakdown))
    other_events = {s.name for s in specs if s.kind == "event"} - {s.name for s in rule_invoked}
    assert named == other_events, (
        f"docs/deploy.md names {named}; the other functions are {other_events}"
    )
