"""The deployable stack in figures: its resources, and per function the IAM actions its
code used against those its role grants (least privilege measured).

Run: ``uv run --frozen python bench/deploy_report.py [--usage FILE]``
-> ``bench/results/deploy.json``.

The uses come from a whole run of the measured tiers (functional, end to end, infra):
``tests/conftest.py`` writes ``.local/iam-usage.json`` after every session and, after a
whole one (``make test``), also ``.local/iam-usage-complete.json``, which a later partial
run leaves alone. So after ``make test`` this script needs no run of its own: it reads the
complete file (or ``--usage``). Only when there is none does it run those tiers itself
(about ten minutes on a quiet machine) into a directory of its own. The template is packaged afresh (``deploy.packaging``)
and each use is evaluated against it by ``deploy.least_privilege``. Exits 1 on any call
not granted or any grant never used that is not listed with its reason.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for extra in ("functions", "greengrass_component", "infra", "."):
    sys.path.insert(0, str(REPO / extra))

from deploy.inventory import app_functions  # noqa: E402
from deploy.least_privilege import Use, explain, measure  # noqa: E402
from deploy.packaging import package  # noqa: E402

RESULTS = REPO / "bench" / "results"
STAGE = "bench"
DEFAULT_USAGE = REPO / ".local" / "iam-usage-complete.json"
MEASURED = ["tests/functional", "tests/e2e", "tests/infra"]


def _measure_afresh(work: Path) -> dict[str, Any]:
    usage_dir = work / "iam-usage"
    env = {
        **os.environ,
        "POWERLET_TEST_IAM_USAGE_DIR": str(usage_dir),
        "PYTHONPATH": os.pathsep.join(
            str(REPO / d) for d in ("functions", "greengrass_component", "infra", ".")
        ),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=300"]
    print(f">> measuring: {' '.join(MEASURED)} (about ten minutes)", flush=True)
    subprocess.run([*command, *MEASURED], cwd=REPO, env=env, check=True)
    return dict(json.loads(usage_dir.with_name("iam-usage.json").read_text()))


def _load_usage(path: Path, work: Path) -> tuple[dict[str, Any], str]:
    if path.exists():
        usage = dict(json.loads(path.read_text()))
        if usage.get("complete"):
            return usage, str(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
        print(f">> {path} is from a partial run: {usage.get('incomplete_because')}", flush=True)
    return _measure_afresh(work), "measured by this script"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--usage", type=Path, default=DEFAULT_USAGE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="powerlet-deploy-report-") as tmp:
        work = Path(tmp)
        usage, source = _load_usage(args.usage, work)
        stack = package(STAGE, build_root=work / "build")
        resources: dict[str, Any] = dict(stack.template()["Resources"])
    functions = app_functions()
    uses = [Use(u["function"], u["action"], u["resource"]) for u in usage["uses"]]
    measured = [
        Use(u["function"], u["action"], u["resource"])
        for u in usage["uses"]
        if u.get("tier") in usage["tiers"]
    ]
    found = measure(resources, functions, uses, unused_against=measured)
    per_function = {}
    for spec in functions:
        name = spec.name
        per_function[name] = {
            "actions_used": sorted(found.used.get(name, set())),
            "actions_granted": sorted(found.granted.get(name, set())),
            "not_granted": sorted(
                f"{u.action} on {u.resource}" for u in found.not_granted if u.function == name
            ),
            "granted_never_used": sorted(
                f"{g.action} on {g.resource}" for g in found.never_used if g.function == name
            ),
            "granted_unmeasured": sorted(
                f"{g.action} ({g.sid}): {reason}"
                for g, reason in found.unmeasured
                if g.function == name
            ),
        }
    report = {
        "stage": STAGE,
        "resources": len(resources),
        "resources_by_type": dict(sorted(Counter(r["Type"] for r in resources.values()).items())),
        "measurement": {
            "source": source,
            "tiers": usage["tiers"],
            "distinct_uses": len(uses),
            **({"note": usage["note"]} if usage.get("note") else {}),
            "evaluator": "moto.iam.access_control.IAMPolicy on the packaged template's roles",
        },
        "totals": {
            "functions": len(functions),
            "not_granted": len(found.not_granted),
            "granted_never_used": len(found.never_used),
            "granted_unmeasured": len(found.unmeasured),
        },
        "functions": per_function,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "deploy.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["totals"]), flush=True)
    if found.not_granted or found.never_used:
        print(explain(found), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
