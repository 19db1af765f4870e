"""Live mode's parts that do not hold credentials: the read rule as a predicate
(:mod:`~refold_contract.live.guard`), drift comparison (:mod:`~refold_contract.live.drift`),
scrubbing and the recorder (:mod:`~refold_contract.live.recorder`). The read-only gateway
(:mod:`refold_contract.live.gateway`) uses them; it is the only place credentials are.

:class:`ReadOnlyGuard` says whether a request may go live: only the list and schema operations
and execute of actions known to be reads, placed strictly. Everything else (writes, unknown
actions, ``httprequest``, any other path) is refused with
:class:`~refold_contract.errors.ReadOnlyViolation`.

Example::

    guard = ReadOnlyGuard(Catalogue.builtin())
    guard.check(request)      # raises ReadOnlyViolation for create_contact
"""

from __future__ import annotations

from refold_contract._core.files import contained_path, write_json_atomically
from refold_contract._core.pacing import TokenBucket
from refold_contract.live.drift import (
    Drift,
    listing_drift,
    reply_drift,
    schema_drift,
    shape_diff,
)
from refold_contract.live.guard import ReadOnlyGuard
from refold_contract.live.recorder import Recorder, scrub

__all__ = [
    "Drift",
    "ReadOnlyGuard",
    "Recorder",
    "TokenBucket",
    "contained_path",
    "listing_drift",
    "reply_drift",
    "schema_drift",
    "scrub",
    "shape_diff",
    "write_json_atomically",
]
