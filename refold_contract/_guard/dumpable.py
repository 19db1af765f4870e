"""A process that holds the working credentials makes itself undumpable (Linux).

``prctl(PR_SET_DUMPABLE, 0)`` stops another process of the same user from reading this one's
memory and environment (``/proc/<pid>/mem``, ``/proc/<pid>/environ``), attaching a debugger to
it, or finding the key in a core dump: its ``/proc/<pid>`` files then belong to root. Root
(``CAP_SYS_PTRACE``) still can. A program it starts with ``exec`` is dumpable again, so test
processes and xdist workers are unaffected.

Best effort: elsewhere than Linux, or where ``prctl`` is missing, nothing changes and the
functions return ``None``.

Example::

    before = set_dumpable(False)     # True: it was dumpable
    ...                              # hold the key
    if before:
        set_dumpable(True)           # the key is gone: debuggers may attach again
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any, Final

__all__ = ["is_dumpable", "set_dumpable"]

_PR_GET_DUMPABLE: Final = 3
_PR_SET_DUMPABLE: Final = 4


def _prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        return None


def is_dumpable() -> bool | None:
    """True when this process is dumpable; ``None`` where that cannot be known (not Linux).

    Example::

        is_dumpable()      # True in an ordinary process
    """
    prctl = _prctl()
    if prctl is None:
        return None
    state = prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0)
    return None if state < 0 else state == 1


def set_dumpable(dumpable: bool) -> bool | None:
    """Make this process dumpable or not; return what it was (``None``: nothing changed).

    Example::

        set_dumpable(False)      # True: it was; /proc/<pid>/mem is now root's alone
    """
    before = is_dumpable()
    prctl = _prctl()
    if before is None or prctl is None:
        return None
    if prctl(_PR_SET_DUMPABLE, 1 if dumpable else 0, 0, 0, 0) != 0:  # pragma: no cover
        return None
    return before
