"""What a cold ingest container imports before its first message does anything.

Issue 19's cold start: the pricing modules (the pydantic tariff models, the cycle and
bill calculators) are imported by the code that prices, when it first runs (a settlement,
a power decision, a context's tariffs), not by ingest's entry or by building ingest in
the container. An eager import of any of them in a module on that path fails here; what
the first message itself loads is checked on the built zip (tests/infra/test_packaged_zip.py).
What a cold start spends beyond its imports is checked here too: the collector's thresholds
around the first invocation, and no tokenizer work when pydantic builds the tariff models.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import chalicelib

FUNCTIONS_DIR = Path(chalicelib.__file__).parents[1]

# Imported where they are used, never with ingest (docs/deploy.md, "Cold start").
PRICING = (
    "chalicelib.domain.tariffs",
    "chalicelib.domain.tariff_versions",
    "chalicelib.domain.pricing",
    "chalicelib.domain.cycle_pricing",
    "chalicelib.domain.prepaid",
    "chalicelib.domain.prepaid_cycle",
    "chalicelib.domain.tou",
    "chalicelib.domain.billing",
    "chalicelib.domain.true_up",
    "chalicelib.domain.settlement",
    "chalicelib.domain.estimation",
    "chalicelib.pipeline.charging",
)
# The API's and the pages' path (the zip test checks these too, after two messages).
WEB = ("chalice", "jinja2", "babel", "jsonschema", "boto3", "aws_xray_sdk")
WEB_OF_OURS = ("chalicelib.api", "chalicelib.web", "chalicelib.application")

BUILD_INGEST = """
import json, sys
from chalicelib.lambdas import ingest_telemetry
from chalicelib.wiring.container import Container
from chalicelib.wiring.settings import Settings
Container(Settings(table_name="powerlet-cold", region="ap-northeast-1")).ingest
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={
            "PYTHONPATH": str(FUNCTIONS_DIR),
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
        },
        timeout=120,
    )
    modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return modules


def test_building_ingest_in_a_cold_container_imports_no_pricing_module() -> None:
    # GIVEN a fresh interpreter  WHEN it imports ingest's Lambda entry and builds ingest
    # with every collaborator, as the first message does before it reads anything
    loaded = loaded_by(BUILD_INGEST)
    # THEN it got that far (ingest and its collaborators are imported)
    assert {"chalicelib.pipeline.ingest", "chalicelib.pipeline.settler"} <= set(loaded)
    # and no tariff model, pricing or bill module was imported
    assert [m for m in loaded if m in PRICING] == []
    # and nothing of the API's or the pages' path
    assert [m for m in loaded if m.split(".")[0] in WEB] == []
    assert [m for m in loaded if m.startswith(WEB_OF_OURS)] == []


# The tariff models built as the first message builds them (a context's tariffs, pricing).
BUILD_TARIFF_MODELS = """
import json, tokenize
import chalicelib.domain.tariff_versions, chalicelib.domain.cycle_pricing
import chalicelib.pipeline.charging
print(json.dumps(tokenize._compile.cache_info().currsize))
"""

# pydantic's plugin registry (private: None until it scanned the distributions' entry points).
PLUGIN_SCAN = """
import json
from chalicelib.lambdas import ingest_telemetry
import chalicelib.domain.tariff_versions
from pydantic.plugin import _loader
print(json.dumps(_loader._plugins is None))
"""

COLLECTOR_AROUND_THE_FIRST_INVOCATION = """
import gc, json
from chalicelib import lambdas
from chalicelib.lambdas import ingest_telemetry
cold = gc.get_threshold()
handler = lambdas.on_event(lambda event: event, trace_aws_calls=False)
handler({}, None)
print(json.dumps([cold, gc.get_threshold(), gc.get_freeze_count()]))
"""


def answer_of(code: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(FUNCTIONS_DIR)},
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_tariff_models_compile_no_tokenizer_pattern() -> None:
    # GIVEN a fresh interpreter  WHEN it builds the tariff models and the pricing modules
    compiled = answer_of(BUILD_TARIFF_MODELS)
    # THEN pydantic never parsed a builtin's signature from its text (a builtin default
    # factory such as ``list``): the tokenizer compiled none of its patterns (~13 ms)
    assert compiled == 0


def test_a_cold_entry_collects_lazily_until_its_first_invocation_then_freezes() -> None:
    # GIVEN a fresh interpreter that imports a function's Lambda entry
    # WHEN the entry's first invocation has run
    cold, warm, frozen = answer_of(COLLECTOR_AROUND_THE_FIRST_INVOCATION)
    # THEN the cold start ran at the raised young threshold, the defaults are back
    # after it, and what the cold start made is frozen out of later collections
    assert cold == [100_000, 50, 100]
    assert warm == [700, 10, 10]
    assert frozen > 10_000


def test_the_entry_spares_pydantic_its_plugin_scan() -> None:
    # GIVEN a fresh interpreter that imports ingest's entry  WHEN the tariff models are built
    # THEN pydantic did not scan the package's distributions for plugins
    assert answer_of(PLUGIN_SCAN) is True
