"""docs/performance.md, and the figures other pages quote, are written from bench/results/*.json.

`bench/report.py` writes them (`make bench` and `make soak` run it). A committed page that
differs from what the committed JSON gives fails here, and so does a generator that would
write a page with a gap: a missing results file or field stops it with a message naming both.
"""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bench import report, run_all
from bench.reports import (
    PAGES,
    BenchResults,
    FigureTypeError,
    MissingFigureError,
    MissingResultsError,
    RegionError,
    render_pages,
)

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"


@pytest.fixture
def results_copy(tmp_path: Path) -> Path:
    """A scratch copy of the committed results, to break on purpose."""
    copy = tmp_path / "results"
    shutil.copytree(RESULTS, copy)
    return copy


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A scratch repository holding only the pages that have generated regions."""
    root = tmp_path / "repo"
    for page in PAGES:
        target = root / page.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / page.path, target)
    return root


def _edit(results: Path, filename: str, change: Any) -> None:
    path = results / filename
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2) + "\n")


def test_every_generated_page_matches_the_committed_results() -> None:
    # GIVEN the committed JSON  WHEN the pages are written from it
    rendered = render_pages(BenchResults(RESULTS), REPO)
    # THEN each committed page is exactly that, so no figure has drifted from its run
    stale = {
        page: "".join(
            difflib.unified_diff(
                (REPO / page).read_text().splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"{page} (committed)",
                f"{page} (from bench/results)",
                n=1,
            )
        )
        for page, text in rendered.items()
        if (REPO / page).read_text() != text
    }
    assert not stale, (
        "pages differ from bench/results/*.json; run `python bench/report.py` and commit:\n"
        + "\n".join(diff[:3000] for diff in stale.values())
    )


def test_the_pages_cover_performance_and_the_soak_figures() -> None:
    # GIVEN the pages the generator owns
    owned = {page.path: page for page in PAGES}
    # THEN performance.md is written whole and reliability.md's soak tables are generated
    assert owned["docs/performance.md"].whole is not None
    assert set(owned["docs/reliability.md"].regions) == {"soak-run", "soak-figures"}


def test_a_figure_on_the_page_follows_its_json(results_copy: Path, repo_copy: Path) -> None:
    # GIVEN results where a few figures changed
    def pipeline(data: dict[str, Any]) -> None:
        data["ours"]["wru_per_reading"] = 0.0987

    def soak(data: dict[str, Any]) -> None:
        data["deliveries"] = 12345
        data["summary"]["policy_disconnects"] = 77

    _edit(results_copy, "pipeline_ingest.json", pipeline)
    _edit(results_copy, "soak.json", soak)
    # WHEN the pages are written from them
    pages = render_pages(BenchResults(results_copy), repo_copy)
    # THEN the pages show the new figures, in the generated page and in the regions
    assert "**0.0987**" in pages["docs/performance.md"]
    assert "**0.0987** (target <= 0.3)" in pages["docs/pipeline.md"]
    assert "12,345 deliveries" in pages["docs/performance.md"]
    assert "| policy disconnects | 77;" in pages["docs/reliability.md"]
    # AND the prose around a region is the author's, untouched
    committed = (REPO / "docs/reliability.md").read_text()
    assert pages["docs/reliability.md"].split("## Figures")[0] == committed.split("## Figures")[0]


def test_a_missing_results_file_is_named(results_copy: Path) -> None:
    # GIVEN results without the portal bench's file
    (results_copy / "portal_pages.json").unlink()
    # WHEN the pages are written THEN it stops, naming the file and how to get it back
    with pytest.raises(MissingResultsError, match=r"bench/results/portal_pages\.json is missing"):
        render_pages(BenchResults(results_copy), REPO)


def test_a_results_file_that_is_not_json_is_named(results_copy: Path) -> None:
    (results_copy / "ledger_append.json").write_text("{ not json")
    with pytest.raises(MissingResultsError, match=r"ledger_append\.json cannot be read as JSON"):
        render_pages(BenchResults(results_copy), REPO)


def test_a_missing_field_is_named_with_its_file_and_path(results_copy: Path) -> None:
    # GIVEN a pipeline result without its write units per reading
    _edit(results_copy, "pipeline_ingest.json", lambda d: d["ours"].pop("wru_per_reading"))
    # WHEN the pages are written THEN the error names the file and the whole field path
    with pytest.raises(MissingFigureError) as failure:
        render_pages(BenchResults(results_copy), REPO)
    message = str(failure.value)
    assert "bench/results/pipeline_ingest.json has no field ours.wru_per_reading" in message
    assert "make bench" in message


def test_a_missing_nested_field_names_the_first_missing_step(results_copy: Path) -> None:
    _edit(results_copy, "gateway_bus.json", lambda d: d.pop("limits"))
    with pytest.raises(MissingFigureError, match=r"gateway_bus\.json has no field limits "):
        render_pages(BenchResults(results_copy), REPO)


def test_a_soak_field_missing_fails_too(results_copy: Path) -> None:
    _edit(results_copy, "soak.json", lambda d: d["summary"].pop("readings_stored"))
    with pytest.raises(
        MissingFigureError, match=r"soak\.json has no field summary\.readings_stored"
    ):
        render_pages(BenchResults(results_copy), REPO)


def test_a_null_or_mistyped_figure_is_refused(results_copy: Path) -> None:
    _edit(results_copy, "ledger_append.json", lambda d: d["ours"].update(wcu_per_append=None))
    with pytest.raises(MissingFigureError, match=r"ours\.wcu_per_append is null"):
        render_pages(BenchResults(results_copy), REPO)
    _edit(results_copy, "ledger_append.json", lambda d: d["ours"].update(wcu_per_append="four"))
    with pytest.raises(FigureTypeError, match=r"ours\.wcu_per_append is 'four', not a number"):
        render_pages(BenchResults(results_copy), REPO)


def test_a_page_without_its_region_markers_is_refused(repo_copy: Path) -> None:
    # GIVEN reliability.md with its soak-figures markers removed
    page = repo_copy / "docs" / "reliability.md"
    text = page.read_text()
    page.write_text(
        "\n".join(line for line in text.splitlines() if "soak-figures" not in line) + "\n"
    )
    # WHEN the pages are written THEN it stops, naming the page, the region and the markers
    with pytest.raises(
        RegionError, match=r"docs/reliability\.md has no generated region 'soak-figures'"
    ):
        render_pages(BenchResults(RESULTS), repo_copy)


def test_a_region_nothing_writes_is_refused(repo_copy: Path) -> None:
    page = repo_copy / "docs" / "gateway.md"
    page.write_text(
        page.read_text()
        + "\n<!-- bench/report.py: begin forgotten -->\nold\n<!-- bench/report.py: end forgotten -->\n"
    )
    with pytest.raises(RegionError, match="regions nothing writes: \\['forgotten'\\]"):
        render_pages(BenchResults(RESULTS), repo_copy)


def test_the_command_checks_and_fails_loudly(
    results_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the committed state THEN --check passes
    assert report.main(["--check"]) == 0
    # GIVEN a results directory missing a file THEN the command exits non-zero with the reason
    (results_copy / "soak.json").unlink()
    assert report.main(["--check", "--results", str(results_copy)]) == 2
    assert "soak.json is missing" in capsys.readouterr().err


def test_make_bench_writes_the_pages_after_the_benchmarks() -> None:
    # GIVEN the bench runner THEN it does not run the generator as a benchmark, and calls it
    assert "report.py" in run_all.SKIP
    assert run_all.write_pages is report.write_pages
