"""The read rule as a predicate: what a live request may be.

Example::

    guard = ReadOnlyGuard(Catalogue.builtin())
    guard.check(request)      # raises ReadOnlyViolation for create_contact
"""

from __future__ import annotations

import httpx

from refold_contract._core import endpoint as ep
from refold_contract.access import access_of
from refold_contract.catalogue import Catalogue
from refold_contract.errors import ReadOnlyViolation

__all__ = ["ReadOnlyGuard"]


class ReadOnlyGuard:
    """The read-only rule as a predicate: what the gateway forwards, and nothing else.

    A request may go live only when it places strictly as one of the three operations
    (:func:`refold_contract.live.gateway.place`) and, for execute, the action is known to read.

    Example::

        ReadOnlyGuard(catalogue).allows("POST", "/api/v2/integration-schema/hubspot/actions/"
                                        "get_contact/execute")        # True
    """

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def is_read(self, slug: str, action_id: str) -> bool:
        """True when the catalogue (or, failing it, the name) says the action only reads."""
        return access_of(self.catalogue, slug, action_id) == "read"

    def allows(self, method: str, path: str) -> bool:
        """True when a request with this method and path may be sent live."""
        from refold_contract._core.endpoint import Placed, place

        placed = place(method, path)
        if not isinstance(placed, Placed):
            return False
        if placed.operation != "execute":
            return True
        assert placed.action_id is not None
        return self.is_read(placed.slug, placed.action_id)

    def check(self, request: httpx.Request) -> None:
        """Raise :class:`ReadOnlyViolation` unless ``request`` may be sent live."""
        path = request.url.raw_path.decode("ascii", "replace")
        if self.allows(request.method, path):
            return
        placed = ep.match(request.method, request.url.path)
        slug = placed[1] if placed else None
        action_id = placed[2] if placed else None
        raise ReadOnlyViolation(slug=slug, action_id=action_id, method=request.method, path=path)
