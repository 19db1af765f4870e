"""Per-test scripting: stubs, faults and sequences, and which of them answered.

A stub names an operation, an app, an action (``"*"`` for any) and optionally one body; it
answers with a :class:`Reply`, or only delays the normal answer. When several match, the most
recently added one answers, so a test can override a default set in a fixture; the older ones
it shadows do not count as unused. A sequence is one stub holding its replies in order.

Example::

    script = Script()
    script.add(Stub("execute", "hubspot", "get_contact", None, None,
                    [Reply.success({"results": []})], origin="stub"))
    script.take("execute", "hubspot", "get_contact", '{"limit":"1"}', data=True)
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from typing import Any, Literal

from refold_contract._core import endpoint as ep

__all__ = ["Reply", "Script", "Stub"]

ReplyKind = Literal["success", "error", "timeout", "malformed"]


@dataclasses.dataclass(frozen=True)
class Reply:
    """One scripted answer for :meth:`RefoldMock.sequence` (or a stub).

    Example::

        mock.sequence("hubspot", "get_contact", [
            Reply.error(429, retry_after=1),
            Reply.success({"results": [], "paging": {}}),
        ])
    """

    kind: ReplyKind
    status: int = 200
    data: Any = None
    node_status: str = ep.NODE_STATUS_SUCCESS
    http_status: int | None = 200
    message: str | None = None
    error_code: str | None = None
    retry_after: float | None = None

    @classmethod
    def success(
        cls, data: Any, *, node_status: str = ep.NODE_STATUS_SUCCESS, http_status: int = 200
    ) -> Reply:
        """HTTP 200 with ``{"node_status", "http_status", "data"}``.

        Example::

            Reply.success({"results": [], "paging": {}})
        """
        return cls("success", data=data, node_status=node_status, http_status=http_status)

    @classmethod
    def app_error(cls, http_status: int, data: Any, *, node_status: str = "Errored") -> Reply:
        """A failure inside the connected app: HTTP 200, ``node_status`` ``Errored``.

        Example::

            Reply.app_error(404, {"ok": False, "error": "channel_not_found"})
        """
        return cls("success", data=data, node_status=node_status, http_status=http_status)

    @classmethod
    def error(
        cls,
        status: int,
        *,
        message: str | None = None,
        error_code: str | None = None,
        retry_after: float | None = None,
    ) -> Reply:
        """Refold's own error envelope with this HTTP status.

        Example::

            Reply.error(429, retry_after=1)
        """
        return cls(
            "error", status=status, message=message, error_code=error_code, retry_after=retry_after
        )

    @classmethod
    def timeout(cls) -> Reply:
        """No reply: the client sees ``httpx.ReadTimeout``.

        Example::

            Reply.timeout()
        """
        return cls("timeout")

    @classmethod
    def malformed(cls) -> Reply:
        """An HTML 502 page, as a gateway in front of Refold sends.

        Example::

            Reply.malformed()
        """
        return cls("malformed", status=502)

    @property
    def is_data(self) -> bool:
        """True for a reply that passes Refold's own validation first (success, app error)."""
        return self.kind == "success"


@dataclasses.dataclass
class Stub:
    """One registered stub: what it matches, what it answers, how often it answered.

    ``replies`` empty means "answer normally" (a delay-only stub). A sequence holds several
    replies, given out one per call.
    """

    operation: str
    slug: str
    action_id: str
    params_key: str | None
    params: Any
    replies: list[Reply]
    origin: str
    delay: float = 0.0
    times: int | None = None
    used: int = 0
    shadowed: bool = False
    _queue: collections.deque[Reply] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._queue = collections.deque(self.replies)

    @property
    def is_sequence(self) -> bool:
        return self.origin == "sequence"

    @property
    def is_data(self) -> bool:
        """True when this stub's next answer comes after Refold's validation (success data,
        app errors); for a sequence, that depends on its next reply."""
        if self.is_sequence:
            return bool(self._queue) and self._queue[0].is_data
        return bool(self.replies) and self.replies[0].is_data

    @property
    def exhausted(self) -> bool:
        if self.is_sequence:
            return not self._queue
        return self.times is not None and self.used >= self.times

    def matches(self, operation: str, slug: str, action_id: str | None, key: str | None) -> bool:
        if self.exhausted:
            return False
        if self.operation != "*" and self.operation != operation:
            return False
        if self.slug != "*" and self.slug != slug:
            return False
        if operation != "list_actions" and self.action_id not in ("*", action_id):
            return False
        return self.params_key is None or self.params_key == key

    def next_reply(self) -> Reply | None:
        """The reply for this call (and count the use)."""
        self.used += 1
        if self.is_sequence:
            return self._queue.popleft()
        return self.replies[0] if self.replies else None

    def describe(self) -> str:
        what = f"{self.origin}({self.slug!r}, {self.action_id!r}"
        if self.params is not None:
            what += f", params={self.params!r}"
        return what + ")"


class Script:
    """The stubs of one mock: added in order, taken most-recent-first, checked at the end.

    Example::

        script.unused()        # ["stub('hubspot', 'get_contact')"]
    """

    def __init__(self) -> None:
        self._stubs: list[Stub] = []
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._stubs)

    def __len__(self) -> int:
        return len(self._stubs)

    def add(self, stub: Stub) -> None:
        """Register a stub; it takes precedence over every earlier one it overlaps."""
        with self._lock:
            self._stubs.append(stub)

    def take(
        self,
        operation: str,
        slug: str,
        action_id: str | None,
        key: str | None,
        *,
        data: bool,
    ) -> tuple[Stub, Reply | None] | None:
        """The most recent stub of this kind matching the request, and its reply; ``None`` if
        none matches. Older matching stubs are marked shadowed."""
        if not self._stubs:
            return None
        with self._lock:
            chosen: Stub | None = None
            for stub in reversed(self._stubs):
                if stub.is_data != data or not stub.matches(operation, slug, action_id, key):
                    continue
                if chosen is None:
                    chosen = stub
                else:
                    stub.shadowed = True
            if chosen is None:
                return None
            return chosen, chosen.next_reply()

    def mark(self) -> int:
        """A point to :meth:`release` back to."""
        with self._lock:
            return len(self._stubs)

    def release(self, mark: int) -> list[str]:
        """Remove the stubs added since ``mark``; return those of them never used."""
        with self._lock:
            added, self._stubs[mark:] = self._stubs[mark:], []
        return _unused(added)

    def unused(self) -> list[str]:
        """Descriptions of stubs that never answered and were never shadowed by a newer one,
        repeated descriptions collapsed into one line with a count."""
        with self._lock:
            stubs = list(self._stubs)
        return _unused(stubs)

    def clear(self) -> None:
        """Forget every stub."""
        with self._lock:
            self._stubs.clear()


def _unused(stubs: list[Stub]) -> list[str]:
    """The stubs never used nor shadowed, described; repeats collapse into one line with a count."""
    lines = [s.describe() for s in stubs if s.used == 0 and not s.shadowed]
    counts = collections.Counter(lines)
    return [f"{line} x{n}" if n > 1 else line for line, n in counts.items()]
