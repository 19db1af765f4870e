"""The read rule as a predicate: what a live request may be.

Example::

    guard = ReadOnlyGuard(Catalogue.builtin())
    guard.check(request)      # raises ReadOnlyViolation for create_contact
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from refold_contract._core import endpoint as ep
from refold_contract.access import access_of, live_refusal, read_conditions
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

    def is_read(self, slug: str, action_id: str, params: Mapping[str, Any] | None = None) -> bool:
        """True when the catalogue has the action and makes it a read (with ``params``)."""
        return access_of(self.catalogue, slug, action_id, params) == "read"

    def allows(self, method: str, path: str, params: Mapping[str, Any] | None = None) -> bool:
        """True when a request with this method, path (and parameters) may be sent live."""
        from refold_contract._core.endpoint import Placed, place

        placed = place(method, path)
        if not isinstance(placed, Placed):
            return False
        if placed.operation != "execute":
            return True
        assert placed.action_id is not None
        return self.is_read(placed.slug, placed.action_id, params)

    def check(self, request: httpx.Request) -> None:
        """Raise :class:`ReadOnlyViolation` unless ``request`` may be sent live."""
        path = request.url.raw_path.decode("ascii", "replace")
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            body = None
        params = body if isinstance(body, dict) else None
        if self.allows(request.method, path, params):
            return
        placed = ep.match(request.method, request.url.path)
        slug = placed[1] if placed else None
        action_id = placed[2] if placed else None
        known = self.catalogue.find(slug, action_id) if slug and action_id else None
        reason = (
            live_refusal(self.catalogue, slug, action_id, params) if slug and action_id else None
        )
        raise ReadOnlyViolation(
            slug=slug,
            action_id=action_id,
            method=request.method,
            path=path,
            reason=reason,
            known=known is not None,
            conditions=read_conditions(known.read_when, params) if known else "",
        )
