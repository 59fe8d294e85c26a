"""Why a page cannot be written from the bench results: one class per failure mode."""

from __future__ import annotations


class ReportError(Exception):
    """A page of docs/ cannot be written from bench/results/*.json."""


class MissingResultsError(ReportError):
    """A results file is missing, unreadable or not JSON."""


class MissingFigureError(ReportError):
    """A results file lacks a field a page quotes (or holds null there)."""


class FigureTypeError(ReportError):
    """A field holds another kind of value than the page needs (text for a number...)."""


class RegionError(ReportError):
    """A page lacks the markers of a generated region, or has them twice."""
