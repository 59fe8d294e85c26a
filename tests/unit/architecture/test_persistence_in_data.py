"""No DynamoDB access outside the data layer.

import-linter keeps ``pynamodb`` out of every other layer's imports (pyproject.toml);
this test closes the other door: a model class imported from ``data/models.py`` and
queried, fetched or given a condition or update action directly (``Unit.query(...)``,
``Unit.power.set(...)``) by a module above the data layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import chalicelib

ROOT = Path(chalicelib.__file__).parent
MODEL_CALLS = {
    "query",
    "scan",
    "get",
    "batch_get",
    "batch_write",
    "count",
    "exists",
    "gsi1",
    "gsi2",
}
ATTRIBUTE_OPS = {
    "set", "add", "remove", "delete", "does_not_exist", "exists", "startswith", "contains",
    "between", "is_in",
}  # fmt: skip


def _model_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("data.models"):
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    models = _model_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        base = node.value
        if isinstance(base, ast.Name) and base.id in models and node.attr in MODEL_CALLS:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {base.id}.{node.attr}")
        if (
            isinstance(base, ast.Attribute)
            and isinstance(base.value, ast.Name)
            and base.value.id in models
            and node.attr in ATTRIBUTE_OPS
        ):
            found.append(
                f"{path.relative_to(ROOT)}:{node.lineno} {base.value.id}.{base.attr}.{node.attr}"
            )
    return found


def test_no_module_above_the_data_layer_touches_a_model_directly() -> None:
    offenders = [
        offence
        for path in sorted(ROOT.rglob("*.py"))
        if (ROOT / "data") not in path.parents
        for offence in _offences(path)
    ]
    assert not offenders, "DynamoDB access outside chalicelib/data: " + ", ".join(offenders)


def test_the_check_sees_a_direct_query(tmp_path: Path) -> None:
    # GIVEN a use case that queries a model itself
    sample = ROOT / "application" / "_probe_for_test.py"
    sample.write_text(
        "from ..data.models import Unit\n\n\ndef f():\n"
        "    return Unit.query('x', Unit.power.startswith('o'))\n"
    )
    try:
        # THEN both the query and the condition are found
        assert [o.split(" ")[1] for o in _offences(sample)] == [
            "Unit.query",
            "Unit.power.startswith",
        ]
    finally:
        sample.unlink()
