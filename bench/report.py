"""Write docs/performance.md, and the figures quoted in other pages, from bench/results/*.json.

Run: ``python bench/report.py``          rewrite the pages from the committed JSON
     ``python bench/report.py --check``  change nothing; exit 1 if a page is stale

``make bench`` (bench/run_all.py) and ``make soak`` (bench/soak.py) run it at the end;
``tests/unit/test_performance_doc.py`` fails when a committed page differs from what the
JSON gives. The prose is in ``bench/reports/``; which pages and regions, in
``bench/reports/pages.py``. A missing results file or field stops it with a message that
names the file and the field.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.reports import BenchResults, ReportError, render_pages  # noqa: E402

RESULTS = REPO / "bench" / "results"


def stale_pages(results_dir: Path = RESULTS, repo: Path = REPO) -> list[str]:
    """The pages whose committed text differs from what the results give."""
    rendered = render_pages(BenchResults(results_dir), repo)
    return [
        page
        for page, text in rendered.items()
        if not (repo / page).is_file() or (repo / page).read_text(encoding="utf-8") != text
    ]


def write_pages(results_dir: Path = RESULTS, repo: Path = REPO) -> list[str]:
    """Rewrite every page from the results; returns the pages that changed."""
    rendered = render_pages(BenchResults(results_dir), repo)
    changed = []
    for page, text in rendered.items():
        path = repo / page
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(page)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a page is stale")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the JSON directory")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_pages(args.results)
            for page in stale:
                print(f"{page} is stale: run `python bench/report.py`", file=sys.stderr)
            return 1 if stale else 0
        changed = write_pages(args.results)
    except ReportError as exc:
        print(f"bench/report.py: {exc}", file=sys.stderr)
        return 2
    print(f">> pages from bench/results: {', '.join(changed) if changed else 'all up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
