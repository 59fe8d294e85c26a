"""`make bench`: run every benchmark script in bench/, each in its own process.

Each script writes its own JSON under bench/results/; this runner adds
bench/results/summary.json (which ran, how long, exit code), then rewrites
docs/performance.md and the figures other pages quote from that JSON
(bench/report.py), and fails if any benchmark failed or missed a target it checks,
or if the pages cannot be written.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from bench.report import write_pages  # noqa: E402
from bench.reports import ReportError  # noqa: E402

# The soak has its own target (`make soak`): it runs for a long time. report.py is
# not a benchmark: it writes the pages from the results, after the benchmarks.
SKIP = {"run_all.py", "__init__.py", "soak.py", "report.py"}


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    scripts = sorted(p for p in HERE.glob("*.py") if p.name not in SKIP)
    summary = []
    failed = 0
    for index, script in enumerate(scripts, 1):
        print(f">> [{index}/{len(scripts)}] {script.name}", flush=True)
        started = time.monotonic()
        proc = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False)
        elapsed = round(time.monotonic() - started, 1)
        summary.append({"script": script.name, "exit_code": proc.returncode, "wall_s": elapsed})
        failed += proc.returncode != 0
        print(f"   {script.name}: exit {proc.returncode} in {elapsed} s", flush=True)
    if (RESULTS / "fleet_ingest.json").exists() and (RESULTS / "pipeline_ingest.json").exists():
        # the fleet bench runs before the one-gateway bench: its JSON takes the new figures
        subprocess.run(
            [sys.executable, str(HERE / "fleet_ingest.py"), "--refresh-one-gateway"],
            cwd=HERE.parent,
            check=False,
        )
    (RESULTS / "summary.json").write_text(json.dumps({"runs": summary}, indent=2) + "\n")
    print(f">> {len(scripts) - failed} benchmarks passed, {failed} failed; JSON in {RESULTS}")
    try:
        changed = write_pages(RESULTS)
    except ReportError as exc:
        print(f">> the pages could not be written from the results: {exc}", flush=True)
        return 1
    print(f">> pages rewritten from the results: {', '.join(changed) or 'none changed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
