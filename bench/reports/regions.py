"""Generated regions inside hand-written pages.

A page keeps its prose and marks where figures go:

    <!-- bench/report.py: begin NAME -->
    ...written by bench/report.py, replaced on every run...
    <!-- bench/report.py: end NAME -->

Everything outside the markers is the author's and is left exactly as it is.
"""

from __future__ import annotations

import re

from .errors import RegionError

BEGIN = "<!-- bench/report.py: begin {name} (generated from bench/results; do not edit) -->"
END = "<!-- bench/report.py: end {name} -->"
_REGION = re.compile(
    r"(?P<begin><!-- bench/report\.py: begin (?P<name>[\w-]+)\b[^>]*-->\n)"
    r"(?P<body>.*?)"
    r"(?P<end><!-- bench/report\.py: end (?P=name) -->)",
    re.DOTALL,
)


def region_names(page: str) -> list[str]:
    return [m.group("name") for m in _REGION.finditer(page)]


def fill_region(page: str, name: str, body: str, page_label: str) -> str:
    """``page`` with region ``name`` holding ``body`` (the markers are rewritten too)."""
    found = [m for m in _REGION.finditer(page) if m.group("name") == name]
    if len(found) != 1:
        where = "has no" if not found else f"has {len(found)} copies of the"
        raise RegionError(
            f"{page_label} {where} generated region {name!r}: it needs the lines\n"
            f"  {BEGIN.format(name=name)}\n  {END.format(name=name)}"
        )
    match = found[0]
    text = body if body.endswith("\n") else body + "\n"
    replacement = f"{BEGIN.format(name=name)}\n{text}{END.format(name=name)}"
    return page[: match.start()] + replacement + page[match.end() :]
