"""`make bench`: run every benchmark script in bench/, each in its own process.

Each script writes its own JSON under bench/results/; this runner adds
bench/results/summary.json (which ran, how long, exit code) and fails if any
benchmark failed or missed a target it checks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
# The soak has its own target (`make soak`): it runs for a long time.
SKIP = {"run_all.py", "__init__.py", "soak.py"}


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
    (RESULTS / "summary.json").write_text(json.dumps({"runs": summary}, indent=2) + "\n")
    print(f">> {len(scripts) - failed} benchmarks passed, {failed} failed; JSON in {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
