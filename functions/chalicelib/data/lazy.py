"""Modules of PynamoDB's paths, loaded when first used rather than when imported.

The data stores that ingest builds at start (the catalogue, the ledger, the settlement
store, notifications, held readings, deadlines...) write through PynamoDB when they
settle, edit or alert, which a steady message does not. Their modules name PynamoDB's
models, exceptions and transactions through a module loaded here lazily
(``importlib.util.LazyLoader``: https://docs.python.org/3/library/importlib.html#importlib.util.LazyLoader),
so importing a store loads neither PynamoDB nor botocore; the first attribute read of
one (a model class, an exception in an ``except`` that is reached) loads it (issue 19).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """``name``, imported now if it is already, else executed on its first attribute
    read. Its parent packages are imported now (PynamoDB's ``__init__`` is light)."""
    found = sys.modules.get(name)
    if found is not None:
        return found
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"no module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def loaded(name: str) -> bool:
    """Whether ``name`` has been executed (not merely registered by ``lazy_module``)."""
    module = sys.modules.get(name)
    # a lazy module is of LazyLoader's own subclass until it is executed (``type``
    # reads no attribute of it, so asking does not execute it)
    return module is not None and type(module) is ModuleType
