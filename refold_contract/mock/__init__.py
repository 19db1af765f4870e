"""RefoldMock: answers Refold's actions API from the catalogue, exactly as Refold does.

:class:`RefoldMock` is the one public face over four parts, each in its own module:

- :mod:`~refold_contract.mock.emulator`: the pure Refold behaviour (authentication, the three
  operations, validation, replay of the catalogue's examples);
- :mod:`~refold_contract.mock.scripting`: per-test stubs, faults and sequences;
- :mod:`~refold_contract.mock.journal`: the calls answered;
- :mod:`~refold_contract.mock.routing`: the respx wiring, and the link to the read-only gateway
  in a live test.

:meth:`RefoldMock.handle` is a pure function from ``httpx.Request`` to ``httpx.Response``. The
respx routes (``refold_mock`` fixture) and the standalone server both answer through it, so they
cannot disagree.

Example::

    with RefoldMock() as mock:                 # patches httpx through respx
        mock.stub("hubspot", "get_contact", data={"results": [], "paging": {}})
        httpx.post("https://app.refold.ai/api/v2/integration-schema/hubspot/actions/"
                   "get_contact/execute", json={}, headers={"x-api-key": "tk_test",
                   "linked_account_id": "user_1"})
        mock.assert_called("hubspot", "get_contact", times=1)
"""

from __future__ import annotations

import collections
import contextlib
import json
import math
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from refold_contract._core import endpoint as ep
from refold_contract._core.json import Redactor, canonical_json, dumps_standard
from refold_contract._core.pacing import TokenBucket
from refold_contract.catalogue import Catalogue
from refold_contract.config import Limits
from refold_contract.errors import ConfigurationError, UnmatchedRequest, UnusedStub
from refold_contract.mock.emulator import (
    DEFAULT_MESSAGES,
    GATEWAY_PAGE,
    Answer,
    Emulator,
    ParsedBody,
    dumps,
    parse_body,
)
from refold_contract.mock.journal import Call, Journal
from refold_contract.mock.routing import (
    IN_ASYNC,
    LiveLink,
    SharedRouter,
    build_router,
    to_response,
)
from refold_contract.mock.scripting import Reply, Script, Stub

if TYPE_CHECKING:
    import respx

    from refold_contract.consumer import ReadRecorder
    from refold_contract.sandbox import Sandbox, Store

__all__ = [
    "TRACK_EXTENSION",
    "Answer",
    "Call",
    "LiveLink",
    "RefoldMock",
    "Reply",
    "UnmatchedRequest",
    "UnusedStub",
]


_UNUSED_HINT = "remove them, or mark the test @pytest.mark.refold(assert_all_called=False)"
_CUSTOM_HINT = (
    "if it is your own action, put <slug>/<action_id>.json in a catalogue folder and pass it "
    "with --refold-fixtures DIR (or the refold_fixtures ini key)"
)
#: The extension marking a mock reply whose reads a consumer contract records.
TRACK_EXTENSION = "refold_contract.track"
# What a long-running server remembers per client-chosen name: misses for teardown hints, and
# rate-limit buckets per linked account (the journal has its own bound).
_MAX_MISSES = 100
_MAX_BUCKETS = 4096
_REPLY_HEADERS = frozenset({"content-type", ep.HEADER_RETRY_AFTER, ep.HEADER_REQUEST_ID})
_CREDENTIAL_HEADERS = {
    ep.HEADER_API_KEY.encode(): 0,
    ep.HEADER_LINKED_ACCOUNT.encode(): 1,
    ep.HEADER_AUTHORIZATION.encode(): 2,
}


def _credentials(raw: Sequence[tuple[bytes, bytes]]) -> tuple[str | None, str | None, str]:
    """``(x-api-key, linked_account_id, authorization)`` in one pass over the raw headers."""
    found: list[str | None] = [None, None, ""]
    for name, value in raw:
        slot = _CREDENTIAL_HEADERS.get(name.lower())
        if slot is not None:
            found[slot] = value.decode("latin-1")
    return found[0], found[1], found[2] or ""


class RefoldMock:
    """A stand-in for Refold's actions API, answering from a catalogue.

    Checks authentication as Refold does (``x-api-key`` + ``linked_account_id``, or a bearer
    session token), validates bodies against the action's parameter schema (``strict=True`` adds
    type and unknown-key checks), and answers with the example whose params match the request,
    else the action's first successful example, else a generic success. Every error is Refold's
    envelope with a ``request_id``.

    ``api_keys``, ``session_tokens`` and ``linked_accounts``, when given, are the only ones
    accepted. ``aliases`` are more base URLs answered the same way. ``limits`` bounds request
    bodies (400 past the depth, 413 past the size); ``journal_size`` keeps only the last calls.
    ``rate_limit=True`` enforces Refold's own limit (20 requests a second, bursts of 5, per
    linked account) with 429 and ``Retry-After``; ``clock`` times it.
    Use it through the ``refold_mock`` fixture, as a context manager (respx), or behind
    ``refold-contract serve``.

    Example::

        mock = RefoldMock(strict=True, linked_accounts={"user_1"})
        response = mock.handle(httpx.Request("GET", mock.base_url +
                               "/api/v2/integration-schema/hubspot/actions",
                               headers={"x-api-key": "tk_1", "linked_account_id": "user_1"}))
        response.json()[0]["action_id"]
    """

    def __init__(
        self,
        catalogue: Catalogue | None = None,
        *,
        base_url: str = ep.DEFAULT_BASE_URL,
        aliases: Sequence[str] = (),
        strict: bool = False,
        api_keys: Collection[str] | None = None,
        session_tokens: Collection[str] | None = None,
        linked_accounts: Collection[str] | None = None,
        assert_all_called: bool = True,
        live: LiveLink | None = None,
        limits: Limits | None = None,
        journal_size: int | None = None,
        max_journal_body: int | None = None,
        rate_limit: bool = False,
        clock: Callable[[], float] = time.monotonic,
        consumer: ReadRecorder | None = None,
        stateful: bool = False,
        store: Store | None = None,
    ) -> None:
        self.catalogue = catalogue if catalogue is not None else Catalogue.builtin()
        self.emulator = Emulator(
            self.catalogue,
            strict=strict,
            api_keys=api_keys,
            session_tokens=session_tokens,
            linked_accounts=linked_accounts,
        )
        self.live = live
        self.base_url = base_url.rstrip("/")
        bases = dict.fromkeys([self.base_url, *(a.rstrip("/") for a in aliases)])
        # Longest first: a base with a path prefix must win over its own host's root.
        self.bases: tuple[str, ...] = tuple(sorted(bases, key=len, reverse=True))
        self._prefixes = [(urlsplit(b), b) for b in self.bases]
        self.assert_all_called = assert_all_called
        self.limits = limits or Limits()
        self.max_journal_body = max_journal_body
        self.journal = Journal(maxlen=journal_size)
        self.script = Script()
        self._router: respx.MockRouter | None = None
        self._slot: SharedRouter | None = None
        self._elsewhere_messages: list[str] = []
        self._misses: dict[tuple[str, str | None], None] = {}
        self._disconnected: dict[str, frozenset[str] | None] = {}
        self.rate_limit = rate_limit
        self._clock = clock
        self.consumer = consumer
        self.sandbox: Sandbox | None = None
        if stateful or store is not None:
            from refold_contract.sandbox import Sandbox, Store

            # One store per mock, so one per test under the fixture: fresh every time.
            self.sandbox = Sandbox(self.catalogue, store or Store(self.catalogue))
        self._buckets: dict[str, TokenBucket] = {}

    # ------------------------------------------------------------------ settings

    @property
    def strict(self) -> bool:
        """Type checks and unknown keys refused, besides Refold's own presence check."""
        return self.emulator.strict

    @strict.setter
    def strict(self, value: bool) -> None:
        self.emulator.strict = value

    @property
    def api_keys(self) -> frozenset[str] | None:
        """The only API keys accepted, or ``None`` for any."""
        return self.emulator.api_keys

    @api_keys.setter
    def api_keys(self, value: Collection[str] | None) -> None:
        self.emulator.api_keys = frozenset(value) if value is not None else None

    @property
    def session_tokens(self) -> frozenset[str] | None:
        """The only session tokens accepted, or ``None`` for any."""
        return self.emulator.session_tokens

    @session_tokens.setter
    def session_tokens(self, value: Collection[str] | None) -> None:
        self.emulator.session_tokens = frozenset(value) if value is not None else None

    @property
    def linked_accounts(self) -> frozenset[str] | None:
        """The only linked accounts known, or ``None`` for any."""
        return self.emulator.linked_accounts

    @linked_accounts.setter
    def linked_accounts(self, value: Collection[str] | None) -> None:
        self.emulator.linked_accounts = frozenset(value) if value is not None else None

    @property
    def is_live(self) -> bool:
        """True in a live test: requests go to the real API through the read-only gateway.

        Example::

            if not refold_mock.is_live:
                refold_mock.stub("hubspot", "get_contact", data={"results": []})
        """
        return self.live is not None

    # ------------------------------------------------------------------ the pure function

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as Refold would. A scripted timeout raises ``httpx.ReadTimeout``.

        Example::

            mock.handle(httpx.Request("POST", url, json={"limit": "1"}, headers=headers))
        """
        answer = self.dispatch(request)
        if answer.timeout:
            raise _scripted_timeout(request)
        response = to_response(answer)
        response.read()
        return response

    def dispatch(self, request: httpx.Request) -> Answer:
        """Like :meth:`handle`, but reports delays and timeouts instead of acting on them.

        The respx wiring and the server use this to sleep the right way for their context.

        Example::

            answer = mock.dispatch(request)
            answer.status, answer.delay, answer.timeout
        """
        path = self.relative_path(request.url)
        return self.answer(request.method, path, request.headers.raw, request.content)

    def relative_path(self, url: httpx.URL) -> str:
        """The path of ``url`` below whichever base URL it falls under (the path itself when
        it falls under none)."""
        path = url.path
        for parts, _ in self._prefixes:
            prefix = parts.path
            if (
                prefix
                and path.startswith(prefix)
                and (len(path) == len(prefix) or path[len(prefix)] == "/")
                and url.host == (parts.hostname or "")
            ):
                return path[len(prefix) :] or "/"
        return path

    def answer(
        self,
        method: str,
        path: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
    ) -> Answer:
        """The core: one request (method, path below the base URL, raw headers, body) to one
        :class:`Answer`, recorded in the journal."""
        placed = ep.match(method, path)
        if placed is None:
            return self._unplaced(method, path, headers)
        operation, slug, action_id = placed
        api_key, linked, authorization = _credentials(headers)
        params: Any = None
        note: str | None = None
        stub: Stub | None = None
        reply: Reply | None = None
        refused = self.emulator.authenticate(api_key, linked, authorization)
        if refused is None and self.rate_limit:
            refused = self._throttle(linked or authorization or api_key or "")
        if refused is not None:
            answer = refused
        else:
            parsed = parse_body(body, self.limits) if operation == "execute" else None
            if parsed is not None:
                params = parsed.params
            key = parsed.key if parsed is not None else None
            taken = self.script.take(operation, slug, action_id, key, data=False)
            if taken is not None:
                stub, reply = taken
            if reply is not None:
                answer = self._render(reply)
            elif operation == "list_actions":
                answer = self.emulator.list_actions(slug)
                if answer.status == 404:
                    self._miss(slug, None)
            elif operation == "schema":
                assert action_id is not None
                answer = self.emulator.schema(slug, action_id)
                if answer.status == 404:
                    self._miss(slug, action_id)
            else:
                assert action_id is not None
                assert parsed is not None
                answer, note, data_stub = self._execute(slug, action_id, parsed, linked)
                stub = stub or data_stub
        if stub is not None:
            answer.delay = stub.delay
            if reply is not None and not reply.is_data:
                note = f"scripted by {stub.origin}"
        if answer.timeout:
            note = "timed out (scripted)"
        elif (
            self.consumer is not None
            and operation == "execute"
            and answer.status == 200
            and action_id is not None
            and answer.content_type.startswith("application/json")
        ):
            self.consumer.record_call(slug, action_id, params)
            answer.track = (slug, action_id)
        self._record(operation, method, path, slug, action_id, params, linked, answer, note)
        return answer

    def _throttle(self, who: str) -> Answer | None:
        """Refold's own limit, 20 requests a second with bursts of 5, per linked account."""
        bucket = self._buckets.get(who)
        if bucket is None:
            # Bounded, so a client inventing accounts cannot grow a long-running server; the
            # oldest account forgotten gets a fresh bucket if it comes back.
            if len(self._buckets) >= _MAX_BUCKETS:
                del self._buckets[next(iter(self._buckets))]
            bucket = self._buckets[who] = TokenBucket(clock=self._clock)
        wait = bucket.try_take()
        if wait <= 0:
            return None
        return Emulator.error(429, "Too Many Requests", retry_after=str(max(1, math.ceil(wait))))

    def _miss(self, slug: str, action_id: str | None) -> None:
        """Remember an unknown app or action for :meth:`misses`, up to :data:`_MAX_MISSES`."""
        if len(self._misses) < _MAX_MISSES:
            self._misses[(slug, action_id)] = None

    def _unplaced(self, method: str, path: str, headers: Sequence[tuple[bytes, bytes]]) -> Answer:
        """Refold's 404 for a path that is none of the three operations, journaled as such."""
        answer = Emulator.unplaced(method, path)
        _, linked, _ = _credentials(headers)
        self._record("unplaced", method, path, None, None, None, linked, answer,
                     "not one of the three actions operations", unplaced=True)  # fmt: skip
        return answer

    def _execute(
        self, slug: str, action_id: str, parsed: ParsedBody, linked: str | None
    ) -> tuple[Answer, str | None, Stub | None]:
        action = self.catalogue.find(slug, action_id)
        if action is None:
            self._miss(slug, action_id)
            return Emulator.action_not_found(slug, action_id), "action not in the catalogue", None
        if slug in self._disconnected:
            accounts = self._disconnected[slug]
            if accounts is None or (linked or "") in accounts:
                return (
                    Emulator.disconnected(slug, linked or ""),
                    "app disconnected (scripted)",
                    None,
                )
        refused = self.emulator.validate(action, parsed)
        if refused is not None:
            return refused, None, None
        assert parsed.key is not None
        taken = self.script.take("execute", slug, action_id, parsed.key, data=True)
        if taken is not None:
            stub, reply = taken
            assert reply is not None
            return self._render(reply), None, stub
        if self.sandbox is not None:
            # State plugs in where stubs do: a stub still wins; an action without a state
            # block is replayed as before.
            kept = self.sandbox.answer(action, parsed.params, linked, key=parsed.key)
            if kept is not None:
                return Answer(200, kept.body()), kept.note or None, None
        answer, note = self.emulator.replay(action, parsed.key)
        return answer, note, None

    @staticmethod
    def _render(reply: Reply) -> Answer:
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

    def _record(
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
    ) -> None:
        if self.max_journal_body is not None and params is not None:
            text = dumps_standard(params, ensure_ascii=False)
            if len(text) > self.max_journal_body:
                params = {"<truncated>": f"{len(text):,} bytes", "head": text[:1024]}
        body = None if answer is None or answer.timeout else answer.body
        if (
            body is not None
            and self.max_journal_body is not None
            and len(body) > self.max_journal_body
        ):
            body = body[: self.max_journal_body]
        self.journal.record(
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
            ),
            unplaced=unplaced,
        )

    # ------------------------------------------------------------------ per-test control

    def _add(
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
        __tracebackhide__ = True
        if times is not None and (
            not isinstance(times, int) or isinstance(times, bool) or times < 1
        ):
            raise ValueError(f"times must be a whole number of at least 1, got {times!r}")
        for reply in replies:
            if reply.kind == "success":
                try:
                    json.dumps(reply.data, allow_nan=False)
                except (TypeError, ValueError) as exc:
                    raise TypeError(
                        f"{origin}({slug!r}, {action_id!r}): data is not JSON: {exc}; convert "
                        "it first (datetimes with .isoformat())"
                    ) from None
        if operation not in ("execute", "schema", "list_actions", "*"):
            raise ValueError(
                f"operation must be execute, schema, list_actions or '*', got {operation!r}"
            )
        if (
            slug != "*"
            and action_id != "*"
            and operation == "execute"
            and self.catalogue.find(slug, action_id) is None
        ):
            self.catalogue.get(slug, action_id)  # raises ActionNotInCatalogue with suggestions
        self.script.add(
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

    def stub(
        self,
        slug: str,
        action_id: str,
        data: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        node_status: str = ep.NODE_STATUS_SUCCESS,
        http_status: int = 200,
        times: int | None = None,
    ) -> None:
        """Answer ``execute`` of an action with this ``data`` (after Refold's own validation).

        ``params`` narrows it to one body; ``times`` limits how often it answers. The most
        recent matching stub answers, so a test can override a default set in a fixture.

        Example::

            refold_mock.stub("hubspot", "get_contact", data={"results": [], "paging": {}})
        """
        __tracebackhide__ = True
        reply = Reply.success(data, node_status=node_status, http_status=http_status)
        self._add("stub", slug, action_id, [reply], params=params, times=times)

    def fail(
        self,
        slug: str,
        action_id: str,
        status: int,
        *,
        message: str | None = None,
        error_code: str | None = None,
        retry_after: float | None = None,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
        operation: str = "execute",
    ) -> None:
        """Answer with Refold's error envelope (a Refold-side failure: 401, 429, 500, ...).

        Example::

            refold_mock.fail("hubspot", "get_contact", 429, retry_after=1, times=1)
        """
        __tracebackhide__ = True
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ValueError(f"fail() takes an HTTP error status from 400 to 599, got {status!r}")
        reply = Reply.error(status, message=message, error_code=error_code, retry_after=retry_after)
        self._add("fail", slug, action_id, [reply], params=params, times=times, operation=operation)

    def app_error(
        self,
        slug: str,
        action_id: str,
        http_status: int,
        data: Any,
        *,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
    ) -> None:
        """A failure inside the connected app: HTTP 200, ``node_status`` ``Errored``.

        Example::

            refold_mock.app_error("hubspot", "get_contact", 401, {"message": "token expired"})
        """
        __tracebackhide__ = True
        reply = Reply.app_error(http_status, data)
        self._add("app_error", slug, action_id, [reply], params=params, times=times)

    def delay(
        self,
        slug: str,
        action_id: str,
        seconds: float,
        *,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
        operation: str = "execute",
    ) -> None:
        """Answer normally, ``seconds`` late (``asyncio.sleep`` for async clients).

        Example::

            refold_mock.delay("slack", "list_channels", 0.2)
        """
        __tracebackhide__ = True
        self._add("delay", slug, action_id, [], params=params, times=times, delay=seconds,
                  operation=operation)  # fmt: skip

    def timeout(
        self,
        slug: str,
        action_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
        operation: str = "execute",
    ) -> None:
        """Never answer: the client sees ``httpx.ReadTimeout``.

        Example::

            refold_mock.timeout("hubspot", "get_contact", times=1)
        """
        __tracebackhide__ = True
        self._add("timeout", slug, action_id, [Reply.timeout()], params=params, times=times,
                  operation=operation)  # fmt: skip

    def malformed(
        self,
        slug: str,
        action_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
        operation: str = "execute",
    ) -> None:
        """Answer with an HTML 502 page, as a gateway in front of Refold does.

        Example::

            refold_mock.malformed("hubspot", "get_contact", times=1)
        """
        __tracebackhide__ = True
        self._add("malformed", slug, action_id, [Reply.malformed()], params=params, times=times,
                  operation=operation)  # fmt: skip

    def sequence(
        self,
        slug: str,
        action_id: str,
        replies: Sequence[Reply | Mapping[str, Any] | Any],
        *,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Answer successive calls with these replies, one each, then normally again.

        A plain value is the ``data`` of a success reply; use :class:`Reply` for errors,
        timeouts and app failures.

        Example::

            refold_mock.sequence("hubspot", "get_contact", [
                {"results": [{"id": "1"}], "paging": {"next": {"after": "2"}}},
                {"results": [{"id": "2"}], "paging": {}},
            ])
        """
        __tracebackhide__ = True
        if not replies:
            raise ValueError("sequence() needs at least one reply")
        items = [r if isinstance(r, Reply) else Reply.success(r) for r in replies]
        self._add("sequence", slug, action_id, items, params=params)

    @property
    def is_stateful(self) -> bool:
        """True when records persist across calls (the sandbox).

        Example::

            if refold_mock.is_stateful:
                refold_mock.seed("hubspot", "contacts", [{"email": "ada@example.com"}])
        """
        return self.sandbox is not None

    def _require_sandbox(self, what: str) -> Sandbox:
        __tracebackhide__ = True
        if self.sandbox is None:
            raise ConfigurationError(
                f"refold_mock.{what}() needs stateful mode: this mock replays the catalogue's "
                "examples and keeps no records",
                hint="mark the test @pytest.mark.refold(stateful=True), set refold_stateful = "
                "true in your pytest ini, or pass RefoldMock(stateful=True)",
            )
        return self.sandbox

    def seed(
        self,
        slug: str,
        object_type: str,
        records: Sequence[Mapping[str, Any]],
        *,
        linked_account_id: str | None = None,
        replace: bool = False,
    ) -> list[str]:
        """Add records to the sandbox, in the app's own field names; returns their ids.

        A record without an id gets one in the app's style. ``replace=True`` drops the records
        already there (the catalogue's own, to start with). Stateful mode only.

        Example::

            refold_mock.seed("hubspot", "contacts", [{"email": "ada@example.com"}])
        """
        __tracebackhide__ = True
        return self._require_sandbox("seed").seed(
            slug, object_type, records, linked_account_id=linked_account_id, replace=replace
        )

    def records(
        self, slug: str, object_type: str, *, linked_account_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The records the sandbox holds now for one app's object type (copies).

        Example::

            [c["email"] for c in refold_mock.records("hubspot", "contacts")]
        """
        __tracebackhide__ = True
        return self._require_sandbox("records").records(
            slug, object_type, linked_account_id=linked_account_id
        )

    def disconnect(self, slug: str, *, linked_account_id: str | None = None) -> None:
        """The linked account has no connection for ``slug``: every execute of the app fails.

        The reply is what Refold sends (the message observed live): HTTP 200, ``node_status``
        ``Errored``, ``data.message`` "Application Authentication not found for
        linked_account_id X and app Y". The status and the envelope around the message are an
        assumption (no Refold page shows them); the list and schema operations keep working,
        as they were seen to. ``linked_account_id`` limits it to one account.

        Example::

            refold_mock.disconnect("zendesk")
            with pytest.raises(ActionFailed, match="Application Authentication not found"):
                refold_client.execute("zendesk", "get_ticket_by_id", {"ticket_id": "1"})
        """
        if not self.catalogue.has_app(slug):
            self.catalogue.get(slug, "*")  # raises ActionNotInCatalogue with suggestions
        if linked_account_id is None:
            self._disconnected[slug] = None
        else:
            current = self._disconnected.get(slug, frozenset())
            if current is not None:
                self._disconnected[slug] = current | {linked_account_id}

    def reconnect(self, slug: str) -> None:
        """Undo :meth:`disconnect`.

        Example::

            refold_mock.reconnect("zendesk")
        """
        self._disconnected.pop(slug, None)

    # ------------------------------------------------------------------ the journal

    @property
    def calls(self) -> list[Call]:
        """Every request answered, oldest first.

        Example::

            [c.action_id for c in refold_mock.calls]
        """
        return self.journal.calls()

    def calls_for(
        self, slug: str, action_id: str | None = None, *, params: Mapping[str, Any] | None = None
    ) -> list[Call]:
        """The calls of one app (and action, and body; compared with ``==``, so matchers such
        as ``unittest.mock.ANY`` work).

        Example::

            refold_mock.calls_for("hubspot", "create_contact")[0].params["email"]
        """
        found = (
            self.journal.for_app(slug)
            if action_id is None
            else self.journal.for_action(slug, action_id)
        )
        if params is None:
            return found
        wanted = dict(params)
        return [c for c in found if c.params == wanted]

    def last_call(self, slug: str, action_id: str) -> Call:
        """The most recent execute of ``slug/action_id``; ``AssertionError`` if there is none.

        Example::

            assert refold_mock.last_call("hubspot", "get_contact").params == {"limit": "10"}
        """
        __tracebackhide__ = True
        found = [c for c in self.journal.for_action(slug, action_id) if c.operation == "execute"]
        if not found:
            raise AssertionError(
                f"expected {slug}/{action_id} to have been executed; it was not.\n"
                f"{self.journal.text()}"
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

        ``params`` must equal the body, ``params_include`` only be part of it; values are
        compared with ``==``, so ``unittest.mock.ANY`` and other matchers work.

        Example::

            refold_mock.assert_called("hubspot", "create_contact",
                                      params={"email": "ada@example.com"}, times=1)
            refold_mock.assert_called("hubspot", "get_contact", params_include={"after": ANY})
        """
        __tracebackhide__ = True
        found = [c for c in self.journal.for_action(slug, action_id) if c.operation == "execute"]
        wanted = ""
        if params is not None:
            expected = dict(params)
            found = [c for c in found if c.params == expected]
            wanted = f" with params {expected!r}"
        if params_include is not None:
            part = dict(params_include)
            found = [c for c in found if _includes(c.params, part)]
            wanted += f" with params including {part!r}"
        if (times is None and not found) or (times is not None and len(found) != times):
            count = "at least once" if times is None else f"{times} time(s)"
            raise AssertionError(
                f"expected {slug}/{action_id}{wanted} to be executed {count}, "
                f"it was executed {len(found)} time(s).\n{self.journal.text()}"
            )

    def assert_not_called(self, slug: str, action_id: str | None = None) -> None:
        """Fail if the action (or any action of the app) was called.

        Example::

            refold_mock.assert_not_called("hubspot", "delete_contact")
        """
        __tracebackhide__ = True
        found = self.calls_for(slug, action_id)
        if found:
            what = f"{slug}/{action_id}" if action_id else slug
            raise AssertionError(
                f"expected no call to {what}, found {len(found)}.\n{self.journal.text()}"
            )

    def reset(self) -> None:
        """Forget every call and every stub (between hypothesis examples, say).

        Example::

            refold_mock.reset()
        """
        self.journal.clear()
        self.script.clear()
        self._misses.clear()
        self._disconnected.clear()
        self._buckets.clear()
        if self.sandbox is not None:
            self.sandbox.store.reset()
        self._elsewhere_messages.clear()

    # ------------------------------------------------------------------ teardown checks

    def served(self) -> str:
        """A short description of what the mock answers, for failure messages."""
        apps = ", ".join(
            f"{slug} ({len(self.catalogue.actions(slug))})" for slug in self.catalogue.apps()
        )
        return (
            f"{self.base_url}{ep.API_PREFIX}/{{slug}}/actions (GET), .../actions/{{action_id}} "
            f"(GET) and .../actions/{{action_id}}/execute (POST), for apps: {apps or 'none'}"
        )

    def unplaced_message(self) -> str | None:
        """The failure text for requests the mock could not place, or ``None``."""
        unplaced = [u for u in self.journal.unplaced() if u.split(" ", 1)[1].startswith("/")]
        if not unplaced:
            return None
        counts = collections.Counter(unplaced)
        listing = "\n".join(f"  {u}" + (f" (x{n})" if n > 1 else "") for u, n in counts.items())
        return (
            f"refold_mock could not place {len(unplaced)} request(s) under {self.base_url}:\n"
            f"{listing}\nIt serves {self.served()}.\nTo answer another URL, add your own respx "
            "route (respx_mock.get(url).respond(...)) or check the path your code builds."
        )

    def misses(self) -> list[str]:
        """What the test asked for that the catalogue lacks, each with what was probably meant.

        The mock's replies keep Refold's exact text; this is for people. The ``refold_mock``
        fixture shows these as warnings at teardown.

        Example::

            refold_mock.misses()   # ["hubspott/get_contact: no app 'hubspott' ... hubspot?"]
        """
        out = []
        for slug, action_id in self._misses:
            if not self.catalogue.has_app(slug):
                close = self.catalogue.suggest_app(slug)
                what = f"{slug}/{action_id}" if action_id else f"{slug} (list actions)"
                hint = f"did you mean {' or '.join(close)}?" if close else _CUSTOM_HINT
                out.append(f"{what}: no app {slug!r} in the catalogue; {hint}")
                continue
            assert action_id is not None
            close = self.catalogue.suggest(slug, action_id)
            hint = f"did you mean {' or '.join(close)}?" if close else _CUSTOM_HINT
            out.append(f"{slug}/{action_id}: not in the catalogue; {hint}")
        return out

    @contextlib.contextmanager
    def scope(self) -> Iterator[RefoldMock]:
        """Stubs and faults set inside belong to the block: removed at its end, and checked.

        For one hypothesis example (or any part of a test) that scripts its own replies:
        every example's stubs answer for that example only, and a stub it never used fails
        that example (unless ``assert_all_called`` is off). The journal is kept.

        Example::

            @given(contacts=st.lists(contact(), max_size=5))
            def test_sync(refold_mock, refold_client, contacts):
                with refold_mock.scope():
                    refold_mock.stub("hubspot", "get_contact", data={"results": contacts})
                    assert sync(refold_client) == len(contacts)
        """
        __tracebackhide__ = True
        mark = self.script.mark()
        failed = False
        try:
            yield self
        except BaseException:
            failed = True
            raise
        finally:
            unused = self.script.release(mark)
            if unused and self.assert_all_called and not failed:
                raise _unused_stubs(unused, " set in this scope")

    def unused_stubs(self) -> list[str]:
        """Descriptions of stubs never used (and not overridden by a newer one)."""
        return self.script.unused()

    def verify(self) -> None:
        """Raise if a request could not be placed, or (``assert_all_called``) a stub went unused.

        The ``refold_mock`` fixture calls this at teardown.
        """
        if self._elsewhere_messages:
            raise UnmatchedRequest("\n".join(dict.fromkeys(self._elsewhere_messages)))
        message = self.unplaced_message()
        if message:
            raise UnmatchedRequest(message)
        unused = self.unused_stubs()
        if unused and self.assert_all_called:
            raise _unused_stubs(unused)

    # ------------------------------------------------------------------ respx wiring

    def _respx_side_effect(self, request: httpx.Request) -> Any:
        if self.live is not None:
            return self._live(request, self.live)
        answer = self.dispatch(request)
        if (
            answer.status == 404
            and ep.match(request.method, self.relative_path(request.url)) is None
        ):
            raise UnmatchedRequest(self.unplaced_message() or "unplaced request")
        if answer.delay:
            if IN_ASYNC.get():
                return _later(self, answer, request)
            time.sleep(answer.delay)
        if answer.timeout:
            raise _scripted_timeout(request)
        return self._tracked(answer)

    def _tracked(self, answer: Answer) -> httpx.Response:
        response = to_response(answer)
        if answer.track is not None and self.consumer is not None:
            # respx rebuilds the response on its way to the caller; its extensions survive, and
            # the consumer-contract hook on httpx.Response.json reads this mark.
            response.extensions[TRACK_EXTENSION] = answer.track
        return response

    def _live(self, request: httpx.Request, link: LiveLink) -> Any:
        """A live test: forward to the read-only gateway and journal the reply."""
        path = self.relative_path(request.url)
        placed = ep.match(request.method, path)
        if placed is None:
            self._unplaced(request.method, path, request.headers.raw)
            raise UnmatchedRequest(self.unplaced_message() or "unplaced request")
        _, linked, _ = _credentials(request.headers.raw)
        content = request.content
        operation, slug, action_id = placed
        params = parse_body(content, self.limits).params if operation == "execute" else None
        headers = [("accept", "application/json")]
        if content:
            headers.append(
                ("content-type", request.headers.get("content-type", "application/json"))
            )
        if linked:
            headers.append((ep.HEADER_LINKED_ACCOUNT, linked))
        query = request.url.query.decode("latin-1")
        target = path + (f"?{query}" if query else "")

        def done(reply: tuple[int, list[tuple[str, str]], bytes]) -> httpx.Response:
            status, reply_headers, body = reply
            content_type = next(
                (v for k, v in reply_headers if k.lower() == "content-type"), ep.JSON_CONTENT_TYPE
            )
            refused = status == 403 and _error_code(body) == ep.READ_ONLY_VIOLATION
            note = "refused by the read-only gateway" if refused else "live"
            answer = Answer(status, body, content_type)
            # The journal of a live test names the linked account by a placeholder: it is a
            # customer's, and a journal ends up in assertion messages.
            self._record(operation, request.method, path, slug, action_id,
                         Redactor((), linked_account_id=linked).value(params) if linked else params,
                         Redactor.LINKED_ACCOUNT if linked else None, answer, note)  # fmt: skip
            # A refusal is the gateway's 403, as any client gets it (RefoldClient raises
            # ReadOnlyViolation for it); the test fails for it at teardown either way.
            kept = [(k, v) for k, v in reply_headers if k.lower() in _REPLY_HEADERS]
            return httpx.Response(status, headers=kept, content=body)

        def gone(exc: OSError) -> httpx.ConnectError:
            return httpx.ConnectError(
                f"the read-only gateway ({link.url}) is not answering: {exc}; nothing was sent "
                "to Refold directly",
                request=request,
            )

        if IN_ASYNC.get():

            async def forward() -> httpx.Response:
                try:
                    reply = await link.asend(request.method, target, headers, content)
                except OSError as exc:
                    raise gone(exc) from None
                return done(reply)

            return forward()
        try:
            reply = link.send(request.method, target, headers, content)
        except OSError as exc:
            raise gone(exc) from None
        return done(reply)

    def _elsewhere(self, request: httpx.Request) -> str:
        """The message for a Refold path sent to a host the mock does not answer for."""
        url = request.url
        where = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"
        message = (
            f"refold_mock answers Refold's API at {self.base_url}, but this request went to "
            f"{where}: {request.method} {url.path}. Point your client at refold_mock.base_url, "
            "or tell the mock the URL your code uses: --refold-base-url URL (or REFOLD_BASE_URL, "
            "or the refold_base_url ini key)."
        )
        self.journal.record(
            Call("unplaced", request.method, f"{where}{url.path}", None, None, None, None, None,
                 note="another host"),
            unplaced=True,
        )  # fmt: skip
        self._elsewhere_messages.append(message)
        return message

    def router(self) -> respx.MockRouter:
        """A respx router whose routes answer through :meth:`handle`.

        One route per operation, plus one catching anything else under each base URL; the cost
        of a request does not grow with the catalogue. Requests to other hosts are left to other
        routers, and fail as respx's ``assert_all_mocked`` does when none answers.

        Example::

            with mock.router():
                my_code_that_uses_httpx()
        """
        if self._router is None:
            self._router = build_router(self.bases, self._respx_side_effect, self._elsewhere)
        return self._router

    def start(self) -> RefoldMock:
        """Start patching httpx through respx; :meth:`stop` undoes it."""
        if self._slot is None and self._router is None:
            self._slot = SharedRouter.lend(self.bases, self)
            if self._slot is not None:
                return self
        self.router().start()
        return self

    def stop(self) -> None:
        """Stop patching httpx."""
        if self._slot is not None:
            self._slot.give_back(self)
            self._slot = None
        if self._router is not None:
            self._router.stop(quiet=True)

    def __enter__(self) -> RefoldMock:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"<RefoldMock {self.base_url} {len(self.catalogue)} actions, "
            f"{len(self.journal)} call(s), {len(self.script)} stub(s)"
            f"{' strict' if self.strict else ''}{' live' if self.live else ''}"
            f"{' stateful' if self.sandbox is not None else ''}>"
        )


async def _later(mock: RefoldMock, answer: Answer, request: httpx.Request) -> httpx.Response:
    import asyncio

    await asyncio.sleep(answer.delay)
    if answer.timeout:
        raise _scripted_timeout(request)
    return mock._tracked(answer)


def _unused_stubs(unused: list[str], where: str = "") -> UnusedStub:
    listing = "\n".join(f"  {u}" for u in unused)
    return UnusedStub(
        f"refold_mock: {len(unused)} stub(s){where} never used:\n{listing}", hint=_UNUSED_HINT
    )


def _scripted_timeout(request: httpx.Request) -> httpx.ReadTimeout:
    return httpx.ReadTimeout("refold_mock: scripted timeout", request=request)


def _includes(params: Any, part: Mapping[str, Any]) -> bool:
    return isinstance(params, dict) and all(k in params and params[k] == v for k, v in part.items())


def _error_code(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if isinstance(value, dict):
        code = value.get(ep.KEY_ERROR_CODE) or value.get(ep.KEY_ERROR_CODE_ALT)
        return code if isinstance(code, str) else None
    return None
