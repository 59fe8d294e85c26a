"""Access cases of routes, one module per feature, merged by ``test_api_access``.

Each module here defines ``CASES: dict[(method, route), (concrete path, {caller: status})]``
with the callers of ``common``; a route may appear in one module only.
"""

from __future__ import annotations

import importlib
import pkgutil

from .common import Cases


def feature_cases() -> Cases:
    merged: Cases = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "common":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        cases: Cases = module.CASES
        clash = set(merged) & set(cases)
        assert not clash, f"{info.name} repeats access cases of {sorted(clash)}"
        merged.update(cases)
    return merged
