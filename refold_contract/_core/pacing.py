"""Pacing: a token bucket, as Refold's own rate limit (20 requests a second, bursts of 5) works.

Example::

    bucket = TokenBucket(rate=20, burst=5)
    time.sleep(bucket.take())          # wait for a slot (the gateway, the live commands)
    bucket.try_take()                  # or refuse: 0.0 if allowed, else the wait (the mock)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["REFOLD_BURST", "REFOLD_RATE", "TokenBucket"]

#: Refold's own rate limit (its overview pages): requests a second, and the burst allowed.
#: Written here once; :mod:`refold_contract.config` re-exports them beside the other constants.
REFOLD_RATE = 20.0
REFOLD_BURST = 5


class TokenBucket:
    """Requests per second with bursts: how long to wait before sending, or whether to refuse.

    ``clock`` is injectable so tests need not wait.

    Example::

        bucket = TokenBucket(rate=20, burst=5)
        time.sleep(bucket.take())
    """

    def __init__(
        self,
        rate: float = REFOLD_RATE,
        burst: int = REFOLD_BURST,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def take(self) -> float:
        """Reserve one request; returns the seconds to wait before sending it."""
        with self._lock:
            self._refill()
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def try_take(self) -> float:
        """Take a token if one is free and return 0.0; else take nothing and return the wait."""
        with self._lock:
            self._refill()
            if self._tokens >= 1 - 1e-9:  # float sums of small steps fall just short
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate
