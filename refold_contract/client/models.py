"""The values the clients hand out and take: action entries, results, the retry policy.

Example::

    result = client.execute("hubspot", "get_contact", {"limit": "1"})
    result.ok, result.data["results"][0]["properties"]["email"]
    RefoldClient(retry=RetryPolicy(retries=5, max_time=60.0))
"""

from __future__ import annotations

import dataclasses
import email.utils
import random
import time
from typing import Any

import httpx

from refold_contract._core import endpoint as ep
from refold_contract.errors import ActionFailed

__all__ = ["ActionInfo", "ActionResult", "RetryPolicy", "parse_retry_after"]


@dataclasses.dataclass(frozen=True)
class ActionInfo:
    """One entry of the list-actions operation.

    Example::

        [a.action_id for a in client.list_actions("hubspot")]
    """

    action_id: str
    name: str
    description: str = ""
    tag: str | None = None


@dataclasses.dataclass(frozen=True)
class ActionResult:
    """The reply of an executed action.

    ``data`` is the connected app's native reply; ``http_status`` the app's own status when
    Refold sent one; ``response`` the underlying ``httpx.Response``.

    Example::

        result = client.execute("hubspot", "get_contact", {"limit": "1"})
        result.ok, result.node_status, result.data["paging"]
    """

    slug: str
    action_id: str
    node_status: str
    data: Any
    http_status: int | None
    response: httpx.Response = dataclasses.field(repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when ``node_status`` is ``Success``."""
        return self.node_status == ep.NODE_STATUS_SUCCESS

    def raise_for_status(self) -> ActionResult:
        """Raise :class:`ActionFailed` unless the action succeeded; return self otherwise."""
        if not self.ok:
            raise ActionFailed(
                slug=self.slug,
                action_id=self.action_id,
                node_status=self.node_status,
                http_status=self.http_status,
                data=self.data,
            )
        return self

    def json(self) -> dict[str, Any]:
        """The reply envelope as Refold sent it."""
        body = self.response.json()
        return body if isinstance(body, dict) else {}


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How reads are retried: exponential backoff with jitter, bounded by attempts and time.

    Only reads are retried (list, schema, and execute of a read action); writes never are,
    because the execute endpoint has no idempotency key.

    Example::

        RefoldClient(retry=RetryPolicy(retries=5, max_time=60.0))
    """

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_time: float = 30.0
    jitter: float = 0.5

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        base: float = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        wait = base * (1 - self.jitter * rng.random())
        return max(wait, retry_after) if retry_after is not None else wait


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date; ``None`` if unusable.

    >>> parse_retry_after("2")
    2.0
    >>> parse_retry_after("soon") is None
    True
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds)
