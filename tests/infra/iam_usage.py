"""Which Lambda function made each AWS call, across the tiers: least privilege measured.

Every botocore call is attributed to the function whose handler is on the Python stack
when it is made: the Chalice app's own entry points (route views -> ``api_handler``,
authorizers, ``@app.lambda_function``s, schedules), the ``wiring.handlers`` functions
those call (tests call them directly), and the seams where the local stand-ins run one
function on behalf of another (``LOCAL_INVOCATIONS``). Calls made outside any function
(fixtures seeding the table, the stand-ins themselves) are not attributed: no role
makes them in AWS.

Each new (function, IAM action, resource) triple is appended at once to
``<dir>/<pid>.jsonl``: the end-to-end tier runs the functions in child processes
(``chalice local``, ``local_iot``) that the supervisor stops with a signal, so nothing
is left to write at exit. The children install the same recorder through
``iam_site/sitecustomize.py`` when ``USAGE_DIR_ENV`` names the directory.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import json
import os
import sys
import textwrap
import threading
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import botocore.client
import pytest

from tests.infra.aws_calls import iam_requests, wire_client_class

USAGE_DIR_ENV = "POWERLET_TEST_IAM_USAGE_DIR"
SITE_DIR = Path(__file__).resolve().parent / "iam_site"
REPO = Path(__file__).resolve().parents[2]
# A caller may point a session elsewhere (two sessions at once must not share one).
USAGE_DIR = Path(os.environ.get(USAGE_DIR_ENV) or REPO / ".local" / "iam-usage")
USAGE_FILE = USAGE_DIR.with_name(USAGE_DIR.name + ".json")
# The last whole run's copy: a later partial run (one test file) overwrites USAGE_FILE but
# not this, so bench/deploy_report.py can report from `make test` without a second run.
COMPLETE_USAGE_FILE = USAGE_DIR.with_name(USAGE_DIR.name + "-complete.json")


def _code_of(obj: Any) -> CodeType:
    while hasattr(obj, "func"):  # Chalice's wrappers (authorizers, event sources)
        obj = obj.func
    while hasattr(obj, "__wrapped__"):
        obj = obj.__wrapped__
    code: CodeType = obj.__code__
    return code


def _resolve(handler_string: str) -> Any:
    module_name, _, attribute = handler_string.rpartition(".")
    __import__(module_name)
    return getattr(sys.modules[module_name], attribute)


def entry_points(app: Any) -> dict[CodeType, str]:
    """Code object -> the Chalice function name the template gives the function."""
    from chalicelib.wiring import handlers

    codes: dict[CodeType, str] = {}
    for methods in app.routes.values():
        for entry in methods.values():
            codes[_code_of(entry.view_function)] = "api_handler"
    for auth in app.builtin_auth_handlers:
        codes[_code_of(_resolve(auth.handler_string))] = auth.name
    registered = [(fn.name, fn.func) for fn in app.pure_lambda_functions]
    registered += [(src.name, _resolve(src.handler_string)) for src in app.event_sources]
    for name, func in registered:
        code = _code_of(func)
        codes[code] = name
        # The wiring.handlers function the registered one delegates to (tests call it directly).
        for called in code.co_names:
            target = getattr(handlers, called, None)
            if callable(target) and getattr(target, "__module__", "") == handlers.__name__:
                codes[_code_of(target)] = name
    # The use case each handler calls (``container().presence.sweep()``), and the methods of
    # its class that one reaches through ``self``: tests call these directly (with a clock),
    # and in AWS only that function runs them. A method two functions reach is left out.
    reached: dict[CodeType, set[str]] = {}
    for handler_name in dir(handlers):
        handler = getattr(handlers, handler_name)
        name = codes.get(getattr(handler, "__code__", None))  # type: ignore[arg-type]
        if name is None or getattr(handler, "__module__", "") != handlers.__name__:
            continue
        for code in _use_case_codes(handler):
            reached.setdefault(code, set()).add(name)
    for code, names in reached.items():
        if len(names) == 1 and code not in codes:
            codes[code] = names.pop()
    return codes


def _container_names() -> dict[str, Any]:
    """The container's module namespace with the classes it imports where it builds them
    (lazily, for the cold start): its annotations name them, and they resolve here."""
    from chalicelib.wiring import container

    names = dict(vars(container))
    for node in ast.walk(ast.parse(inspect.getsource(container))):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = importlib.import_module(
                "." * node.level + node.module, package=container.__package__
            )
            names.update({a.asname or a.name: getattr(module, a.name) for a in node.names})
    return names


def _use_case_codes(handler: Any) -> set[CodeType]:
    from chalicelib.wiring.container import Container

    names = _container_names()
    found: set[CodeType] = set()
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(handler)))):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)):
            continue
        root = node.value.value
        if not (isinstance(root, ast.Call) and getattr(root.func, "id", None) == "container"):
            continue
        built = Container.__dict__.get(node.value.attr)
        if not isinstance(built, functools.cached_property):
            continue
        use_case = typing.get_type_hints(built.func, globalns=names)["return"]
        pending, seen = [node.attr], set()
        while pending:
            method = getattr(use_case, pending.pop(), None)
            if not inspect.isfunction(method) or method.__code__ in seen:
                continue
            seen.add(method.__code__)
            pending += [
                n
                for n in method.__code__.co_names
                if inspect.isfunction(getattr(use_case, n, None))
            ]
        found |= seen
    return found


def running_function(frame: FrameType | None, codes: dict[CodeType, str]) -> str | None:
    """The innermost function entry point on the stack (a local invocation nests in its caller)."""
    while frame is not None:
        name = codes.get(frame.f_code)
        if name is not None:
            return name
        frame = frame.f_back
    return None


class UsageRecorder:
    """Patches botocore's entry point and the lean DynamoDB client's (ingest's steady
    path, chalicelib/data/wire); writes each new triple to this process's file."""

    def __init__(self, out_dir: Path, load_app: Callable[[], Any | None]) -> None:
        self._out = out_dir / f"{os.getpid()}.jsonl"
        self._load_app = load_app
        self._codes: dict[CodeType, str] | None = None
        self._seen: set[tuple[str, str, str, str]] = set()
        self._lock = threading.Lock()
        self._original: Any = None
        self._wire: Any = None
        self._original_wire: Any = None

    def install(self) -> None:
        original = botocore.client.BaseClient._make_api_call
        self._original = original
        recorder = self

        def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            recorder.note(service, client.meta.region_name, operation, params, sys._getframe(1))
            return original(client, operation, params)

        botocore.client.BaseClient._make_api_call = call  # type: ignore[method-assign]
        self._wire = wire_client_class()
        if self._wire is not None:
            original_wire = self._original_wire = self._wire.call

            def wire_call(wire: Any, operation: str, params: dict[str, Any]) -> Any:
                recorder.note("dynamodb", wire.region, operation, params, sys._getframe(1))
                return original_wire(wire, operation, params)

            self._wire.call = wire_call

    def uninstall(self) -> None:
        if self._original is not None:
            botocore.client.BaseClient._make_api_call = self._original  # type: ignore[method-assign]
            self._original = None
        if self._original_wire is not None:
            self._wire.call = self._original_wire
            self._original_wire = None

    def _entry_points(self) -> dict[CodeType, str] | None:
        if self._codes is None:
            app = self._load_app()
            if app is None:
                return None  # not a process that runs the functions (yet)
            self._codes = entry_points(app)
        return self._codes

    def note(
        self,
        service: str,
        region: str,
        operation: str,
        params: dict[str, Any],
        frame: FrameType,
    ) -> None:
        codes = self._entry_points()
        if not codes:
            return
        function = running_function(frame, codes)
        if function is None:
            return
        # The test running (a child inherits the one that started it): the tier is its folder.
        where = os.environ.get("PYTEST_CURRENT_TEST") or " ".join(sys.argv[:3])
        tier = tier_of_test(where)
        for action, resource in iam_requests(service, operation, params, region):
            key = (tier, function, action, resource)
            with self._lock:
                if key in self._seen:
                    continue
                self._seen.add(key)
                line = {"tier": tier, "function": function, "action": action, "resource": resource}
                with self._out.open("a") as out:
                    out.write(json.dumps({**line, "first_seen_in": where}) + "\n")


def tier_of_test(nodeid: str) -> str:
    """``tests/<tier>/...`` -> ``<tier>``; anything else (a tool's own run) -> ``other``."""
    parts = nodeid.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else "other"


def loaded_app() -> Any | None:
    """The Chalice app, if this process has imported it (the functions' processes have;
    ``chalice local`` turns its class into a subclass of its own)."""
    from chalice import Chalice

    module = sys.modules.get("app")
    app = getattr(module, "app", None)
    return app if isinstance(app, Chalice) else None


def imported_app() -> Any:
    from app import app

    return app


def read_usage(out_dir: Path) -> list[dict[str, str]]:
    """The union of every process's records, one per (tier, function, action, resource)."""
    union: dict[tuple[str, str, str, str], dict[str, str]] = {}
    for path in sorted(out_dir.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                use = json.loads(line)
                use.setdefault("tier", tier_of_test(use.get("first_seen_in", "")))
                key = (use["tier"], use["function"], use["action"], use["resource"])
                union.setdefault(key, use)
    return [union[key] for key in sorted(union)]


def child_pythonpath(existing: str | None) -> str:
    parts: Iterable[str] = [str(SITE_DIR), *([existing] if existing else [])]
    return os.pathsep.join(parts)


class TierCoverage:
    """Whether every test of the measured tiers was collected, kept and run this session.

    "Granted but never used" is only meaningful over the whole measurement: a run of
    ``tests/functional -k ingest`` exercises a fraction of the API's grants. So the
    never-used check applies only when every ``test_*.py`` file of each measured tier
    was collected, none of their tests was deselected, and each of them ran. A grant
    that is not granted, by contrast, is wrong whatever ran.
    """

    def __init__(self, tests_root: Path, tiers: tuple[str, ...]) -> None:
        self.tests_root = tests_root
        self.tiers = tiers
        self.collected: dict[str, set[str]] = {tier: set() for tier in tiers}
        self.deselected: dict[str, int] = dict.fromkeys(tiers, 0)
        self.ran: set[str] = set()
        self.missing_files: dict[str, set[str]] = {tier: set() for tier in tiers}

    def tier_of(self, path: Path) -> str | None:
        try:
            first = path.resolve().relative_to(self.tests_root).parts[0]
        except ValueError:
            return None
        return first if first in self.tiers else None

    def on_collected(self, items: Iterable[Any]) -> None:
        files: dict[str, set[Path]] = {tier: set() for tier in self.tiers}
        for item in items:
            tier = self.tier_of(Path(str(item.path)))
            if tier is not None:
                self.collected[tier].add(item.nodeid)
                files[tier].add(Path(str(item.path)).resolve())
        for tier in self.tiers:
            on_disk = set((self.tests_root / tier).rglob("test_*.py"))
            self.missing_files[tier] = {str(p) for p in on_disk - files[tier]}

    def on_deselected(self, items: Iterable[Any]) -> None:
        for item in items:
            tier = self.tier_of(Path(str(item.path)))
            if tier is not None:
                self.deselected[tier] += 1

    def on_report(self, nodeid: str) -> None:
        self.ran.add(nodeid)

    def incomplete_because(self, running: str | None = None) -> list[str]:
        """Empty when the whole measurement ran (but ``running``, the test asking); else why not."""
        reasons = []
        for tier in self.tiers:
            if self.missing_files[tier]:
                reasons.append(f"{tier}: {len(self.missing_files[tier])} test files not collected")
            if self.deselected[tier]:
                reasons.append(f"{tier}: {self.deselected[tier]} tests deselected")
            not_run = self.collected[tier] - self.ran - {running}
            if not_run:
                reasons.append(f"{tier}: {len(not_run)} tests did not run")
            if not self.collected[tier]:
                reasons.append(f"{tier}: not collected")
        return reasons


# The session's TierCoverage in ``config.stash`` (set by tests/conftest.py).
coverage_key = pytest.StashKey[TierCoverage]()
