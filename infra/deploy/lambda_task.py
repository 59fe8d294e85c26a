"""Run handlers from an unzipped deployment package the way Lambda runs them.

As a script (``python -I -S -B lambda_task.py <task dir>``, standard library only) it is the
container: only the task directory and the standard library are importable, as on the
python3.11 runtime; it imports each handler by the name the template gives it, calls it
with the event, and prints one JSON line: the answers, the CPU each call took (the first
includes the cold import, also given apart), any module imported from outside the package
or not from its byte-code, and every module the container imported. As a module,
``run_in_task`` starts that container from a test or a bench.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TIMEOUT_S = 180


class _Context:
    function_name = "lambda-task"
    aws_request_id = "req-1"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:lambda-task"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _container(task: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
    sys.path.insert(0, task)
    answers, cpu_ms, import_cpu_ms = [], [], []
    for call in calls:
        started = time.process_time()
        module_name, attribute = call["handler"].rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), attribute)
        imported = time.process_time()
        answers.append(handler(call["event"], _Context()))
        cpu_ms.append(round((time.process_time() - started) * 1000, 1))
        import_cpu_ms.append(round((imported - started) * 1000, 1))
    this = str(Path(__file__).resolve())  # this script, as __main__ (and __mp_main__)
    files = {
        name: str(m.__file__)
        for name, m in list(sys.modules.items())
        if getattr(m, "__file__", None) and str(Path(str(m.__file__)).resolve()) != this
    }
    cached = {name: str(getattr(sys.modules[name], "__cached__", None) or "") for name in files}
    outside = sorted(n for n, f in files.items() if not f.startswith((task, sys.base_prefix)))
    ours = task + "/chalicelib"
    uncompiled = sorted(
        n for n, f in files.items() if f.startswith(ours) and not cached[n].startswith(task)
    )
    return {
        "answers": answers,
        "cpu_ms": cpu_ms,
        "import_cpu_ms": import_cpu_ms,
        "outside": outside,
        "uncompiled": uncompiled,
        "modules": sorted(sys.modules),
    }


def run_in_task(
    task: Path,
    env: dict[str, str],
    calls: list[dict[str, Any]],
    python_flags: Sequence[str] = (),
) -> dict[str, Any]:
    """Call handlers from the unzipped package ``task`` in a fresh interpreter whose
    environment is only ``env`` (plus PATH and HOME). ``python_flags`` go to that
    interpreter (``-X importtime``: its report is the answer's ``stderr``)."""
    clean_env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **env}
    done = subprocess.run(  # noqa: S603 - this interpreter and this file
        # -B: /var/task is read-only on Lambda, so a container never leaves byte-code for
        # the next one (without it the first container here would compile for the rest).
        [sys.executable, "-I", "-S", "-B", *python_flags, str(Path(__file__).resolve()), str(task)],
        input=json.dumps(calls),
        env=clean_env,
        cwd=task,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the package's handlers failed:\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "stderr": done.stderr}


if __name__ == "__main__":
    result = _container(sys.argv[1], json.loads(sys.stdin.read()))
    print(json.dumps(result, default=str))
