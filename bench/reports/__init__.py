"""Pages of docs/ written from bench/results/*.json; ``python bench/report.py`` runs it."""

from .errors import (
    FigureTypeError,
    MissingFigureError,
    MissingResultsError,
    RegionError,
    ReportError,
)
from .pages import PAGES, Page, render_pages
from .results import BenchResults, Figures

__all__ = [
    "PAGES",
    "BenchResults",
    "FigureTypeError",
    "Figures",
    "MissingFigureError",
    "MissingResultsError",
    "Page",
    "RegionError",
    "ReportError",
    "render_pages",
]
