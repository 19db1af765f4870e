"""Timing helpers the benchmarks share: one clock, one pairing rule, one free port.

from _timing import paired_ratio
paired_ratio(ours, theirs, rounds=25)   # median of time(ours) / time(theirs)
"""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Callable


def timed(fn: Callable[[], None]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def paired_ratio(a: Callable[[], None], b: Callable[[], None], rounds: int) -> float:
    """Median over rounds of time(a) / time(b), alternating which runs first.

    Pairing each a with the b run right beside it cancels most of this machine's drift;
    the median drops the rounds a neighbour's burst of work spoiled.
    """
    ratios = []
    for i in range(rounds):
        if i % 2:
            ta, tb = timed(a), timed(b)
        else:
            tb, ta = timed(b), timed(a)
        ratios.append(ta / tb)
    return statistics.median(ratios)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
