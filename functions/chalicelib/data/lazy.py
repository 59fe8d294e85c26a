"""Modules of PynamoDB's paths, imported when first used rather than when named.

The data stores that ingest builds at start (the catalogue, the ledger, the settlement
store, notifications, held readings, deadlines...) write through PynamoDB when they
settle, edit or alert, which a steady message does not. Their modules name PynamoDB's
models, exceptions and transactions through a stand-in made here, so importing a store
loads neither PynamoDB nor botocore; the first attribute read of one (a model class, an
exception in an ``except`` that is reached) imports the real module (issue 19).

A stand-in of our own, not ``importlib.util.LazyLoader``: on Python 3.11 (the Lambda
runtime's) LazyLoader is not thread-safe (python/cpython#114763, fixed in later Pythons), and the
tools that run ingest on threads (the demo's history, the benches) would race on a first
use. Here the first use is an ordinary import, under the import system's own lock, and
the stand-in is never put in ``sys.modules``: what is imported is what ran.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any


class _OnFirstUse(ModuleType):
    """Stands for the module of its name until an attribute of it is read."""

    def __getattr__(self, attr: str) -> Any:
        real = self.__dict__.get("_real")
        if real is None:
            real = self.__dict__["_real"] = importlib.import_module(self.__name__)
        return getattr(real, attr)


def lazy_module(name: str) -> ModuleType:
    """``name`` itself if it is imported already, else a stand-in that imports it on its
    first attribute read. A wrong name fails here, at once (its parent packages are
    imported to find it: PynamoDB's ``__init__`` is light)."""
    found = sys.modules.get(name)
    if found is not None:
        return found
    if importlib.util.find_spec(name) is None:
        raise ModuleNotFoundError(f"no module named {name!r}", name=name)
    return _OnFirstUse(name)


def loaded(name: str) -> bool:
    """Whether ``name`` has been imported (a stand-in never is)."""
    return name in sys.modules
