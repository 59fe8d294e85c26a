"""Which pages of docs/ are written from the bench results, and how.

docs/performance.md is written whole. The other pages are hand-written and hold
generated regions (``regions.py``) where they quote the results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import gateway_figures, performance_page, pipeline_figures, soak_figures
from .errors import RegionError
from .formatting import reflow
from .regions import fill_region, region_names
from .results import BenchResults

Renderer = Callable[[BenchResults], str]


@dataclass(frozen=True)
class Page:
    path: str  # relative to the repository
    whole: Renderer | None = None
    regions: Mapping[str, Renderer] = field(default_factory=dict)


PAGES: tuple[Page, ...] = (
    Page("docs/performance.md", whole=performance_page.render),
    Page(
        "docs/reliability.md",
        regions={
            "soak-run": soak_figures.reliability_run,
            "soak-figures": soak_figures.reliability_month,
        },
    ),
    Page("docs/pipeline.md", regions={"pipeline-performance": pipeline_figures.pipeline_region}),
    Page("docs/gateway-modbus.md", regions={"gateway-bus": gateway_figures.modbus_region}),
    Page("docs/gateway.md", regions={"gateway-component": gateway_figures.component_region}),
)


def render_pages(
    results: BenchResults, repo: Path, pages: tuple[Page, ...] = PAGES
) -> dict[str, str]:
    """Each page's text as the results give it (nothing is written)."""
    rendered: dict[str, str] = {}
    for page in pages:
        if page.whole is not None:
            rendered[page.path] = reflow(page.whole(results))
            continue
        path = repo / page.path
        if not path.is_file():
            raise RegionError(f"{page.path} is missing; it should hold {sorted(page.regions)}")
        text = path.read_text(encoding="utf-8")
        unknown = sorted(set(region_names(text)) - set(page.regions))
        if unknown:
            raise RegionError(
                f"{page.path} has generated regions nothing writes: {unknown} "
                "(add them to bench/reports/pages.py or remove the markers)"
            )
        for name, render in page.regions.items():
            text = fill_region(text, name, reflow(render(results)), page.path)
        rendered[page.path] = text
    return rendered
