"""data/lazy.py: a module named lazily is imported at its first attribute read, once,
whichever threads read it first together (importlib.util.LazyLoader, on Python 3.11,
let a second thread see the module before its body had run: python/cpython#114763)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.data.lazy import lazy_module, loaded

NAME = "powerlet_lazy_probe"


@pytest.fixture
def slow_module(tmp_path: Path) -> Iterator[Path]:
    # a module whose body takes a while, and counts how often it ran
    (tmp_path / f"{NAME}.py").write_text(
        "import time\nimport builtins\n"
        "builtins.powerlet_lazy_runs = getattr(builtins, 'powerlet_lazy_runs', 0) + 1\n"
        "time.sleep(0.2)\nANSWER = 42\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(NAME, None)
        import builtins

        builtins.__dict__.pop("powerlet_lazy_runs", None)


def test_naming_a_module_imports_nothing_until_an_attribute_is_read(slow_module: Path) -> None:
    module = lazy_module(NAME)
    assert not loaded(NAME)
    assert module.ANSWER == 42
    assert loaded(NAME)
    # a module imported already is given as it is
    assert lazy_module(NAME) is sys.modules[NAME]


def test_threads_reading_it_first_together_all_see_the_whole_module_run_once(
    slow_module: Path,
) -> None:
    import builtins

    module = lazy_module(NAME)
    seen: list[object] = []
    start = threading.Barrier(8)

    def read() -> None:
        start.wait()
        try:
            seen.append(module.ANSWER)
        except AttributeError as exc:  # what LazyLoader gave a second thread
            seen.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [42] * 8
    assert builtins.powerlet_lazy_runs == 1  # type: ignore[attr-defined]


def test_a_wrong_name_fails_when_named() -> None:
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        lazy_module("powerlet_no_such_module")
