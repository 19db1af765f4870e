"""The journal: every request a mock answered, recorded in one place, bounded if asked.

A :class:`Call` keeps what a test asserts on (operation, ids, params, status, the reply bytes),
never a header and never a whole ``httpx.Response``. The journal indexes calls by action, so
``assert_called`` looks only at that action's calls. :meth:`Journal.log` is the one place a
call is built (and its params and body cut to ``max_body``); the queries a test asserts with
(:meth:`Journal.assert_called`, :meth:`Journal.last_call`, ...) read it.

Example::

    journal = Journal(maxlen=10_000)          # the server keeps the last 10,000
    journal.log("execute", "POST", path, "hubspot", "get_contact", {}, "u1", answer, None)
    journal.assert_called("hubspot", "get_contact", times=1)
"""

from __future__ import annotations

import collections
import dataclasses
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from refold_contract._core.json import dumps_standard
from refold_contract.mock.emulator import Answer

__all__ = ["SECRET_HEADERS", "Call", "Journal", "includes", "kept_headers"]


@dataclasses.dataclass(slots=True)
class Call:
    """One request the mock answered, as the journal keeps it. ``headers`` are the request's,
    names lower-cased, with the credentials (``x-api-key``, ``authorization``, cookies)
    replaced by ``<redacted>``.

    Example::

        call = refold_mock.calls[-1]
        call.slug, call.action_id, call.params, call.status, call.reply
        call.headers["content-type"]      # "application/json"
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
    headers: dict[str, str] = dataclasses.field(default_factory=dict, compare=False)

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
            "headers": self.headers,
            "reply": self.reply,
        }


#: Request headers whose values the journal never keeps.
SECRET_HEADERS = frozenset({"x-api-key", "authorization", "cookie", "proxy-authorization"})


def kept_headers(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """Request headers as the journal keeps them: lower-cased names, credentials redacted.

    Example::

        kept_headers([(b"X-Api-Key", b"tk_1"), (b"Accept", b"*/*")])
        # {"x-api-key": "<redacted>", "accept": "*/*"}
    """
    out: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        out[key] = "<redacted>" if key in SECRET_HEADERS else value.decode("latin-1")
    return out


class Journal:
    """The calls of one mock, oldest first; the oldest are dropped past ``maxlen``.

    Example::

        journal.calls()[-1].status
    """

    def __init__(self, *, maxlen: int | None = None, max_body: int | None = None) -> None:
        self.maxlen = maxlen
        #: Params and reply bodies longer than this many characters (bytes) are cut.
        self.max_body = max_body
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

    def log(
        self,
        operation: str,
        method: str,
        path: str,
        slug: str | None,
        action_id: str | None,
        params: Any,
        linked: str | None,
        answer: Answer | None,
        note: str | None,
        *,
        unplaced: bool = False,
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:
        """Build and :meth:`record` the call for one request and its answer (``None``: none).

        Example::

            journal.log("unplaced", "GET", "/x", None, None, None, None, answer, "not placed",
                        unplaced=True)
        """
        limit = self.max_body
        if limit is not None and params is not None:
            text = dumps_standard(params, ensure_ascii=False)
            if len(text) > limit:
                params = {"<truncated>": f"{len(text):,} bytes", "head": text[:1024]}
        body = None if answer is None or answer.timeout else answer.body
        if body is not None and limit is not None and len(body) > limit:
            body = body[:limit]
        self.record(
            Call(
                operation=operation,
                method=method,
                path=path,
                slug=slug,
                action_id=action_id,
                params=params,
                linked_account_id=linked,
                status=None if answer is None or answer.timeout else answer.status,
                body=body,
                content_type=None if answer is None else answer.content_type,
                note=note,
                headers=kept_headers(headers),
            ),
            unplaced=unplaced,
        )

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

    # ------------------------------------------------------------------ queries for tests

    def calls_for(
        self, slug: str, action_id: str | None = None, *, params: Mapping[str, Any] | None = None
    ) -> list[Call]:
        """The calls of one app (and action, and body, compared with ``==``).

        Example::

            journal.calls_for("hubspot", "create_contact", params={"email": ANY})
        """
        found = self.for_app(slug) if action_id is None else self.for_action(slug, action_id)
        if params is None:
            return found
        wanted = dict(params)
        return [c for c in found if c.params == wanted]

    def executes(self, slug: str, action_id: str) -> list[Call]:
        """The executes of one action, oldest first."""
        return [c for c in self.for_action(slug, action_id) if c.operation == "execute"]

    def last_call(self, slug: str, action_id: str) -> Call:
        """The most recent execute of ``slug/action_id``; ``AssertionError`` if there is none.

        Example::

            journal.last_call("hubspot", "get_contact").params
        """
        __tracebackhide__ = True
        found = self.executes(slug, action_id)
        if not found:
            raise AssertionError(
                f"expected {slug}/{action_id} to have been executed; it was not.\n{self.text()}"
            )
        return found[-1]

    def assert_called(
        self,
        slug: str,
        action_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        params_include: Mapping[str, Any] | None = None,
        times: int | None = None,
    ) -> None:
        """Fail unless the action was executed (with these params, this many times).

        Example::

            journal.assert_called("hubspot", "get_contact", params_include={"limit": "1"})
        """
        __tracebackhide__ = True
        found = self.executes(slug, action_id)
        wanted = ""
        if params is not None:
            expected = dict(params)
            found = [c for c in found if c.params == expected]
            wanted = f" with params {expected!r}"
        if params_include is not None:
            part = dict(params_include)
            found = [c for c in found if includes(c.params, part)]
            wanted += f" with params including {part!r}"
        if (times is None and not found) or (times is not None and len(found) != times):
            count = "at least once" if times is None else f"{times} time(s)"
            raise AssertionError(
                f"expected {slug}/{action_id}{wanted} to be executed {count}, "
                f"it was executed {len(found)} time(s).\n{self.text()}"
            )

    def assert_not_called(self, slug: str, action_id: str | None = None) -> None:
        """Fail if the action (or any action of the app) was called.

        Example::

            journal.assert_not_called("hubspot", "delete_contact")
        """
        __tracebackhide__ = True
        found = self.calls_for(slug, action_id)
        if found:
            what = f"{slug}/{action_id}" if action_id else slug
            raise AssertionError(f"expected no call to {what}, found {len(found)}.\n{self.text()}")


def includes(params: Any, part: Mapping[str, Any]) -> bool:
    """True when ``params`` is a dict holding every key of ``part`` with an equal value.

    >>> includes({"a": 1, "b": 2}, {"a": 1})
    True
    """
    return isinstance(params, dict) and all(k in params and params[k] == v for k, v in part.items())
