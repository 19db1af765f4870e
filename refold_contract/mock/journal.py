"""The journal: every request a mock answered, recorded in one place, bounded if asked.

A :class:`Call` keeps what a test asserts on (operation, ids, params, status, the reply bytes),
never a header and never a whole ``httpx.Response``. The journal indexes calls by action, so
``assert_called`` looks only at that action's calls.

Example::

    journal = Journal(maxlen=10_000)          # the server keeps the last 10,000
    journal.record(Call("execute", "POST", path, "hubspot", "get_contact", {}, "u1", 200))
    journal.for_action("hubspot", "get_contact")
"""

from __future__ import annotations

import collections
import dataclasses
import json
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["Call", "Journal"]


@dataclasses.dataclass(slots=True)
class Call:
    """One request the mock answered, as the journal keeps it. Headers are never kept.

    Example::

        call = refold_mock.calls[-1]
        call.slug, call.action_id, call.params, call.status, call.reply
    """

    operation: str
    method: str
    path: str
    slug: str | None
    action_id: str | None
    params: Any
    linked_account_id: str | None
    status: int | None
    body: bytes | None = dataclasses.field(default=None, repr=False, compare=False)
    content_type: str | None = dataclasses.field(default=None, repr=False, compare=False)
    note: str | None = None

    @property
    def reply(self) -> Any:
        """The reply body: parsed JSON, the text of a non-JSON reply, or ``None`` (timeout)."""
        if self.body is None:
            return None
        if (self.content_type or "").startswith("application/json"):
            try:
                return json.loads(self.body)
            except ValueError:
                pass
        return self.body.decode("utf-8", "replace")[:200]

    def to_json(self) -> dict[str, Any]:
        """The call as a JSON-ready dict (the server's ``GET /__refold/calls``)."""
        return {
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "slug": self.slug,
            "action_id": self.action_id,
            "params": self.params,
            "linked_account_id": self.linked_account_id,
            "status": self.status,
            "note": self.note,
            "reply": self.reply,
        }


class Journal:
    """The calls of one mock, oldest first; the oldest are dropped past ``maxlen``.

    Example::

        journal.calls()[-1].status
    """

    def __init__(self, *, maxlen: int | None = None) -> None:
        self.maxlen = maxlen
        self._calls: collections.deque[Call] = collections.deque(maxlen=maxlen)
        self._by_action: dict[tuple[str | None, str | None], collections.deque[Call]] = {}
        self._unplaced: list[str] = []
        self._lock = threading.Lock()

    def record(self, call: Call, *, unplaced: bool = False) -> None:
        """Add one call (and note it as unplaced, for the teardown check)."""
        with self._lock:
            if self.maxlen is not None and len(self._calls) == self.maxlen:
                old = self._calls[0]
                index = self._by_action.get((old.slug, old.action_id))
                if index and index[0] is old:
                    index.popleft()
            self._calls.append(call)
            self._by_action.setdefault((call.slug, call.action_id), collections.deque()).append(
                call
            )
            if unplaced and len(self._unplaced) < 100:
                self._unplaced.append(f"{call.method} {call.path}")

    def calls(self) -> list[Call]:
        """A copy of the calls, oldest first."""
        with self._lock:
            return list(self._calls)

    def for_action(self, slug: str, action_id: str | None) -> list[Call]:
        """The calls of one action (``action_id=None``: of the app's list operation)."""
        with self._lock:
            return list(self._by_action.get((slug, action_id), ()))

    def for_app(self, slug: str) -> list[Call]:
        """Every call of one app, oldest first."""
        with self._lock:
            return [c for c in self._calls if c.slug == slug]

    def unplaced(self) -> list[str]:
        """``METHOD path`` of each request that was none of the three operations."""
        with self._lock:
            return list(self._unplaced)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._calls.clear()
            self._by_action.clear()
            self._unplaced.clear()

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls())

    def text(self, limit: int = 20) -> str:
        """The last calls as lines, for failure messages."""
        calls = self.calls()
        if not calls:
            return "The mock received no request."
        lines = [f"The mock received {len(calls)} request(s):"]
        for c in calls[-limit:]:
            what = f"{c.slug}/{c.action_id}" if c.action_id else (c.slug or c.path)
            params = repr(c.params)
            if len(params) > 200:
                params = params[:197] + "..."
            lines.append(f"  {c.method} {what} params={params} -> {c.status}")
        return "\n".join(lines)
