"""Per-test scripting: stubs, faults and sequences, and which of them answered.

A stub names an operation, an app, an action (``"*"`` for any) and optionally one body; it
answers with a :class:`Reply`, or only delays the normal answer. When several match, the most
recently added one answers, so a test can override a default set in a fixture; the older ones
it shadows do not count as unused. A sequence is one stub holding its replies in order.
:meth:`Script.register` checks a stub before it is kept; :meth:`Script.reply` is the script as
a reply source, consulted after Refold's own validation as the sandbox is.

Example::

    script = Script()
    script.add(Stub("execute", "hubspot", "get_contact", None, None,
                    [Reply.success({"results": []})], origin="stub"))
    script.take("execute", "hubspot", "get_contact", '{"limit":"1"}', data=True)
"""

from __future__ import annotations

import collections
import dataclasses
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from refold_contract._core import endpoint as ep
from refold_contract._core.json import canonical_json
from refold_contract.catalogue import Action, Catalogue
from refold_contract.mock.emulator import (
    DEFAULT_MESSAGES,
    GATEWAY_PAGE,
    Answer,
    Emulator,
    ParsedBody,
    dumps,
)

__all__ = ["OPERATIONS", "Reply", "Script", "Stub", "fault", "in_turn", "render"]

#: What a stub's ``operation`` may name.
OPERATIONS = ("execute", "schema", "list_actions", "*")

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
    def limited(self) -> bool:
        """True for a stub that answers a set number of times (``times=``, a sequence)."""
        return self.times is not None or self.is_sequence

    @property
    def answers(self) -> bool:
        """True for a stub that gives a reply (data, an error, a timeout), False for a
        delay-only stub, which only slows down whatever answers."""
        return bool(self._queue) if self.is_sequence else bool(self.replies)

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


def fault(
    status: int,
    *,
    message: str | None = None,
    error_code: str | None = None,
    retry_after: float | None = None,
) -> Reply:
    """:meth:`Reply.error`, for ``RefoldMock.fail``: ``ValueError`` unless the status is an HTTP
    error status (400 to 599).

    Example::

        fault(503, message="maintenance")
    """
    __tracebackhide__ = True
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        raise ValueError(f"fail() takes an HTTP error status from 400 to 599, got {status!r}")
    return Reply.error(status, message=message, error_code=error_code, retry_after=retry_after)


def in_turn(replies: Sequence[Reply | Any]) -> list[Reply]:
    """The replies of ``RefoldMock.sequence``: a plain value is the data of a success reply;
    ``ValueError`` for none.

    Example::

        in_turn([Reply.error(429), {"results": []}])
    """
    __tracebackhide__ = True
    if not replies:
        raise ValueError("sequence() needs at least one reply")
    return [r if isinstance(r, Reply) else Reply.success(r) for r in replies]


def render(reply: Reply) -> Answer:
    """The :class:`Answer` a scripted reply sends.

    Example::

        render(Reply.error(429, retry_after=1)).retry_after     # "1"
    """
    if reply.kind == "success":
        body = {
            ep.KEY_NODE_STATUS: reply.node_status,
            ep.KEY_HTTP_STATUS: reply.http_status,
            ep.KEY_DATA: reply.data,
        }
        return Answer(200, dumps(body))
    if reply.kind == "malformed":
        return Answer(502, GATEWAY_PAGE, content_type="text/html")
    if reply.kind == "timeout":
        return Answer(0, b"", timeout=True)
    status = reply.status
    retry_after = None
    if reply.retry_after is not None:
        retry = reply.retry_after
        retry_after = str(int(retry) if retry == int(retry) else retry)
    return Emulator.error(
        status,
        reply.message or DEFAULT_MESSAGES.get(status, f"HTTP {status}"),
        reply.error_code if reply.error_code is not None else "SERVER_ERROR",
        retry_after=retry_after,
    )


class Script:
    """The stubs of one mock: added in order, taken most-recent-first, checked at the end.

    ``catalogue``, when given, refuses an execute stub for an action it does not hold.

    Example::

        script.unused()        # ["stub('hubspot', 'get_contact')"]
    """

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self.catalogue = catalogue
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

    def register(
        self,
        origin: str,
        slug: str,
        action_id: str,
        replies: Sequence[Reply],
        *,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
        delay: float = 0.0,
        operation: str = "execute",
    ) -> None:
        """Check a stub as ``origin`` (``"stub"``, ``"fail"``, ...) was asked for, then :meth:`add`
        it; ``ValueError``, ``TypeError`` or ``ActionNotInCatalogue`` say what is wrong.

        Example::

            script.register("stub", "hubspot", "get_contact", [Reply.success({})], times=1)
        """
        __tracebackhide__ = True
        if times is not None and (
            not isinstance(times, int) or isinstance(times, bool) or times < 1
        ):
            raise ValueError(f"times must be a whole number of at least 1, got {times!r}")
        for reply in replies:
            if reply.kind == "success" and not callable(reply.data):
                try:
                    json.dumps(reply.data, allow_nan=False)
                except (TypeError, ValueError) as exc:
                    raise TypeError(
                        f"{origin}({slug!r}, {action_id!r}): data is not JSON: {exc}; convert "
                        "it first (datetimes with .isoformat())"
                    ) from None
        if operation not in OPERATIONS:
            raise ValueError(
                f"operation must be execute, schema, list_actions or '*', got {operation!r}"
            )
        catalogue = self.catalogue
        if (
            catalogue is not None
            and slug != "*"
            and action_id != "*"
            and operation == "execute"
            and catalogue.find(slug, action_id) is None
        ):
            catalogue.get(slug, action_id)  # raises ActionNotInCatalogue with suggestions
        self.add(
            Stub(
                operation=operation,
                slug=slug,
                action_id=action_id,
                params_key=None if params is None else canonical_json(dict(params)),
                params=None if params is None else dict(params),
                replies=list(replies),
                origin=origin,
                delay=delay,
                times=times,
            )
        )

    def reply(
        self, action: Action, parsed: ParsedBody, linked: str | None
    ) -> tuple[Answer, str | None] | None:
        """The script as a reply source: the newest data stub (a success or an app error) for
        this valid execute, rendered and delayed as the stub asks; ``None`` if none matches.

        Example::

            answer, note = script.reply(action, parse_body(b"{}", Limits()), "user_1")
        """
        taken = self.take("execute", action.slug, action.action_id, parsed.key, data=True)
        if taken is None:
            return None
        stub, reply = taken
        assert reply is not None
        if reply.kind == "success" and callable(reply.data):
            # data=function: the reply built from this request's params (respx's side_effect)
            data = reply.data(dict(parsed.params or {}))
            try:
                json.dumps(data, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{stub.describe()}: the data function returned what is not JSON: {exc}"
                ) from None
            reply = dataclasses.replace(reply, data=data)
        answer = render(reply)
        answer.delay = stub.delay
        return answer, None

    def take(
        self,
        operation: str,
        slug: str,
        action_id: str | None,
        key: str | None,
        *,
        data: bool,
    ) -> tuple[Stub, Reply | None] | None:
        """The stub that answers this request, and its reply; ``None`` if none does.

        One precedence over every kind of stub: a stub limited by ``times=`` (or a sequence)
        that is still available comes first, then the most recent. ``data=False`` is asked
        before Refold's validation: it returns the fault (an error, a timeout) that comes first,
        or, when a data stub comes first or no stub answers, the newest delay-only stub (which
        slows down whatever answers). ``data=True`` is asked after validation and returns the
        data stub that comes first. Unlimited stubs behind the one chosen are marked shadowed:
        they are not reported as unused.
        """
        if not self._stubs:
            return None
        with self._lock:
            matching = [
                stub for stub in reversed(self._stubs)
                if stub.matches(operation, slug, action_id, key)
            ]  # fmt: skip
            if not matching:
                return None
            # Stable: the limited ones first, each group most recent first.
            matching.sort(key=lambda stub: not stub.limited)
            answering = [stub for stub in matching if stub.answers]
            if data:
                answering = [stub for stub in answering if stub.is_data]
            chosen = answering[0] if answering else None
            for stub in answering[1:]:  # overridden by the chosen one
                if not stub.limited:
                    stub.shadowed = True
            if chosen is not None and chosen.is_data == data:
                return chosen, chosen.next_reply()
            if data:
                return None
            delays = [stub for stub in matching if not stub.answers]
            if not delays:
                return None
            return delays[0], delays[0].next_reply()

    def mark(self) -> int:
        """A point to :meth:`release` back to."""
        with self._lock:
            return len(self._stubs)

    def release(self, mark: int, received: Received | None = None) -> list[str]:
        """Remove the stubs added since ``mark``; return those of them never used."""
        with self._lock:
            added, self._stubs[mark:] = self._stubs[mark:], []
        return _unused(added, received)

    def unused(self, received: Received | None = None) -> list[str]:
        """Descriptions of stubs that never answered and were never shadowed by a newer one,
        repeated descriptions collapsed into one line with a count; ``received``, when given,
        adds what the stub's action did receive (a stub whose ``params=`` missed by a key).

        Example::

            script.unused()   # ["stub('hubspot', 'get_contact', params={'id': '1'})"]
        """
        with self._lock:
            stubs = list(self._stubs)
        return _unused(stubs, received)

    def clear(self) -> None:
        """Forget every stub."""
        with self._lock:
            self._stubs.clear()


#: What an action received, for a stub: a phrase such as "hubspot/get_contact received 2
#: call(s), with params {...}, {...}".
Received = Callable[[Stub], str]


def _unused(stubs: list[Stub], received: Received | None = None) -> list[str]:
    """The stubs never used nor shadowed, described; repeats collapse into one line with a count."""
    lines = [
        s.describe() + (f": {received(s)}" if received is not None else "")
        for s in stubs
        if s.used == 0 and not s.shadowed
    ]
    counts = collections.Counter(lines)
    return [f"{line} x{n}" if n > 1 else line for line, n in counts.items()]
