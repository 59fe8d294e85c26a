"""The soak: a simulated month of a portfolio, with faults, and nothing lost.

Run: ``uv run --frozen python bench/soak.py [--days 30 --meters 200 --gateways 10 --seed 8]``
-> ``bench/results/soak.json``; exit 1 if any figure fails. See docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for extra in ("functions", "infra", "."):
    sys.path.insert(0, str(REPO / extra))

from bench.report import write_pages  # noqa: E402
from bench.reports import ReportError  # noqa: E402
from bench.soak_sim.run import SoakParams, run_soak  # noqa: E402

OUT = REPO / "bench" / "results" / "soak.json"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--meters", type=int, default=200)
    parser.add_argument("--gateways", type=int, default=10)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--cycle-min", type=int, default=60)
    parser.add_argument("--reorder-rate", type=float, default=0.1)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    params = SoakParams(
        args.days, args.meters, args.gateways, args.seed, args.cycle_min, args.reorder_rate
    )
    report = run_soak(params)
    report["run_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, sort_keys=True, default=str) + "\n")
    print(
        f">> {'PASS' if report['passed'] else 'FAIL'}: {len(report['failures'])} failures, "
        f"{report['wall_s']} s, peak {report['peak_rss_mb_this_process']} MB (stand-in "
        f"{report.get('peak_rss_mb_standin')} MB) -> {args.out}"
    )
    for failure in report["failures"][:30]:
        print("   -", failure)
    if args.out.resolve() == OUT.resolve():
        # The committed report: the pages that quote it follow (docs/reliability.md and
        # docs/performance.md, through bench/report.py).
        try:
            changed = write_pages(OUT.parent)
        except ReportError as exc:
            print(f">> the pages could not be written from the results: {exc}")
            return 1
        print(f">> pages rewritten from the results: {', '.join(changed) or 'none changed'}")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
