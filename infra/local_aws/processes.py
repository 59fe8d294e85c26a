"""Child processes that cannot outlive the process that started them."""

from __future__ import annotations

import ctypes
import signal

_PR_SET_PDEATHSIG = 1
# Resolved once in the parent: between fork and exec the child must not load
# libraries or take locks another thread might have held at fork time.
_PRCTL = ctypes.CDLL("libc.so.6", use_errno=True).prctl


def die_with_parent() -> None:
    """``preexec_fn`` for ``subprocess.Popen``: the kernel sends SIGTERM to the
    child when its parent dies, even by SIGKILL, so a killed ``make run`` or
    test session leaves no stand-in, API or broker behind (Linux only)."""
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)
