"""RefoldMock: answers Refold's actions API from the catalogue, exactly as Refold does.

:class:`RefoldMock` is the one public face; the work is done by collaborators, one concern each
(as respx splits ``Router``, which resolves and records, from ``MockRouter``, which patches):

- :mod:`~refold_contract.mock.emulator`: the pure Refold behaviour (authentication, the three
  operations, validation, replay of the catalogue's examples);
- :mod:`~refold_contract.mock.dispatch`: one request to one answer, recorded (placement, faults,
  pacing, the reply sources, live forwarding);
- :mod:`~refold_contract.mock.scripting`: per-test stubs, faults and sequences;
- :mod:`~refold_contract.mock.sandboxing`: stateful mode (seed, records, reset);
- :mod:`~refold_contract.mock.journal`: the calls answered, and the queries tests assert with;
- :mod:`~refold_contract.mock.checks`: the teardown checks and their messages;
- :mod:`~refold_contract.mock.routing`: the respx wiring, and the link to the read-only gateway
  in a live test.

:meth:`RefoldMock.handle` is a pure function from ``httpx.Request`` to ``httpx.Response``. The
respx routes (``refold_mock`` fixture) and the standalone server both answer through
:meth:`RefoldMock.answer`, so they cannot disagree.

Example::

    with RefoldMock() as mock:                 # patches httpx through respx
        mock.stub("hubspot", "get_contact", data={"results": [], "paging": {}})
        httpx.post("https://app.refold.ai/api/v2/integration-schema/hubspot/actions/"
                   "get_contact/execute", json={}, headers={"x-api-key": "tk_test",
                   "linked_account_id": "user_1"})
        mock.assert_called("hubspot", "get_contact", times=1)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import httpx

from refold_contract._core import endpoint as ep
from refold_contract.catalogue import Catalogue
from refold_contract.config import Limits
from refold_contract.errors import UnmatchedRequest, UnusedStub
from refold_contract.mock.checks import (
    Checks,
    unmatched_option,
    unmatched_policy,
    unused_stubs_error,
)
from refold_contract.mock.dispatch import Dispatcher, Throttle
from refold_contract.mock.emulator import Answer, Emulator
from refold_contract.mock.journal import Call, Journal
from refold_contract.mock.routing import (
    TRACK_EXTENSION,
    LiveLink,
    Wiring,
    scripted_timeout,
    to_response,
)
from refold_contract.mock.sandboxing import Stateful
from refold_contract.mock.scripting import Reply, Script, fault, in_turn

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

T = TypeVar("T")
Names = frozenset[str] | None


def _frozen(value: Collection[str] | None) -> frozenset[str] | None:
    return frozenset(value) if value is not None else None


class _Forwarded(Generic[T]):
    """A setting of the mock that lives on the collaborator reading it (``owner``), so setting
    it on the mock takes effect there; ``convert`` shapes a value set."""

    def __init__(
        self, owner: str, doc: str, *, name: str = "", convert: Callable[[Any], T] | None = None
    ) -> None:
        self.owner, self.name, self.convert, self.__doc__ = owner, name, convert, doc

    def __set_name__(self, cls: type, name: str) -> None:
        self.name = self.name or name

    @overload
    def __get__(self, obj: None, cls: type) -> _Forwarded[T]: ...
    @overload
    def __get__(self, obj: object, cls: type) -> T: ...
    def __get__(self, obj: object, cls: type) -> Any:
        return self if obj is None else getattr(getattr(obj, self.owner), self.name)

    def __set__(self, obj: object, value: Any) -> None:
        value = self.convert(value) if self.convert is not None else value
        setattr(getattr(obj, self.owner), self.name, value)


class RefoldMock:
    """A stand-in for Refold's actions API, answering from a catalogue.

    Checks authentication as Refold does (``x-api-key`` + ``linked_account_id``, or a bearer
    session token), validates bodies against the action's parameter schema (``strict=True`` adds
    type and unknown-key checks), and answers with the example whose params match the request,
    else what the action's state block computes (a sandbox per mock), else the first successful
    example, named. Every error is Refold's envelope with a ``request_id``.

    ``api_keys``, ``session_tokens`` and ``linked_accounts``, when given, are the only ones
    accepted. ``aliases`` are more base URLs answered the same way. ``limits`` bounds request
    bodies (400 past the depth, 413 past the size); ``journal_size`` keeps only the last calls.
    ``rate_limit=True`` enforces Refold's own limit (20 requests a second, bursts of 5, per
    linked account) with 429 and ``Retry-After``; ``clock`` times it. ``search_lag`` (calls or
    seconds, :class:`~refold_contract.sandbox.SearchLag`) and ``short_pages`` (Slack) make the
    sandbox as slow and as terse as the apps. Use it through the ``refold_mock`` fixture, as a
    context manager (respx), or behind ``refold-contract serve``.

    Example::

        mock = RefoldMock(strict=True, linked_accounts={"user_1"})
        mock.handle(httpx.Request("GET", mock.base_url + path, headers=headers)).json()
    """

    def __init__(
        self, catalogue: Catalogue | None = None, *, base_url: str = ep.DEFAULT_BASE_URL,
        aliases: Sequence[str] = (), strict: bool = False,
        api_keys: Collection[str] | None = None, session_tokens: Collection[str] | None = None,
        linked_accounts: Collection[str] | None = None, assert_all_called: bool = True,
        live: LiveLink | None = None, limits: Limits | None = None,
        journal_size: int | None = None, max_journal_body: int | None = None,
        rate_limit: bool = False, clock: Callable[[], float] = time.monotonic,
        consumer: ReadRecorder | None = None, stateful: bool = False, store: Store | None = None,
        unmatched: str | None = None, search_lag: object = None, short_pages: bool = False,
    ) -> None:  # fmt: skip
        self.unmatched = unmatched_option(unmatched)  # see checks.unmatched_policy
        self.catalogue = catalogue if catalogue is not None else Catalogue.builtin()
        self.emulator = Emulator(self.catalogue, strict=strict, api_keys=api_keys,
                                 session_tokens=session_tokens,
                                 linked_accounts=linked_accounts)  # fmt: skip
        self.base_url = base_url.rstrip("/")
        bases = dict.fromkeys([self.base_url, *(a.rstrip("/") for a in aliases)])
        # Longest first: a base with a path prefix must win over its own host's root.
        self.bases: tuple[str, ...] = tuple(sorted(bases, key=len, reverse=True))
        self.assert_all_called = assert_all_called
        self.journal = Journal(maxlen=journal_size, max_body=max_journal_body)
        self.script = Script(self.catalogue)
        self.checks = Checks(self.catalogue, self.journal, self.script, self.base_url)
        self.stateful = Stateful.open(self.catalogue, stateful=stateful, store=store,
                                      default_account=min(linked_accounts or [""]),
                                      search_lag=search_lag, short_pages=short_pages)  # fmt: skip
        self.dispatcher = Dispatcher(
            self.catalogue, self.emulator, self.script, self.journal, self.checks,
            bases=self.bases, limits=limits, rate_limit=rate_limit, throttle=Throttle(clock),
            consumer=consumer, stateful=self.stateful,
        )  # fmt: skip
        self._buckets = self.dispatcher.throttle.buckets
        self.wiring = Wiring(self.dispatch, self.dispatcher, self.checks, bases=self.bases,
                             live=live)  # fmt: skip

    strict = _Forwarded[bool]("emulator", "Type checks and unknown keys refused, too.")
    api_keys = _Forwarded[Names]("emulator", "API keys accepted (None: any).", convert=_frozen)
    session_tokens = _Forwarded[Names](
        "emulator", "Session tokens accepted (None: any).", convert=_frozen
    )
    linked_accounts = _Forwarded[Names](
        "emulator", "Linked accounts known (None: any).", convert=_frozen
    )
    live = _Forwarded["LiveLink | None"]("wiring", "The read-only gateway of a live test.")
    limits = _Forwarded[Limits]("dispatcher", "Bounds on request bodies (depth, size).")
    rate_limit = _Forwarded[bool]("dispatcher", "Refold's 20 a second, bursts of 5, enforced.")
    consumer: _Forwarded[ReadRecorder | None] = _Forwarded("dispatcher", "Records the reads.")
    sandbox: _Forwarded[Sandbox | None] = _Forwarded("stateful", "Stateful mode's records.")
    max_journal_body = _Forwarded["int | None"]("journal", "Cut bodies there.", name="max_body")

    @property
    def is_live(self) -> bool:
        """True in a live test: requests go to the real API through the read-only gateway.
        Example: ``if not refold_mock.is_live: refold_mock.stub("hubspot", "get_contact")``"""
        return self.live is not None

    @property
    def is_stateful(self) -> bool:
        """True when records persist across calls (the sandbox).
        Example: ``if refold_mock.is_stateful: refold_mock.seed("hubspot", "contacts", [])``"""
        return self.sandbox is not None

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as Refold would. A scripted timeout raises ``httpx.ReadTimeout``.

        Example: ``mock.handle(httpx.Request("POST", url, json={"limit": "1"}, headers=headers))``
        """
        answer = self.dispatch(request)
        if answer.timeout:
            raise scripted_timeout(request)
        response = to_response(answer)
        response.read()
        return response

    def dispatch(self, request: httpx.Request) -> Answer:
        """Like :meth:`handle`, but reports delays and timeouts instead of acting on them.

        Example: ``answer = mock.dispatch(request); answer.status, answer.delay``
        """
        path = self.dispatcher.relative_path(request.url)
        return self.answer(request.method, path, request.headers.raw, request.content)

    def relative_path(self, url: httpx.URL) -> str:
        """The path of ``url`` below whichever base URL it falls under (else the path itself)."""
        return self.dispatcher.relative_path(url)

    def answer(
        self, method: str, path: str, headers: Sequence[tuple[bytes, bytes]], body: bytes
    ) -> Answer:
        """The core: one request (method, path below the base URL, raw headers, body) to one
        :class:`Answer`, recorded in the journal. The respx routes and the server call this.

        Example: ``mock.answer("GET", "/api/v2/integration-schema/slack/actions", raw, b"")``
        """
        return self.dispatcher.answer(method, path, headers, body)

    def stub(
        self, slug: str, action_id: str, data: Any = None, *,
        params: Mapping[str, Any] | None = None, node_status: str = ep.NODE_STATUS_SUCCESS,
        http_status: int = 200, times: int | None = None,
    ) -> None:  # fmt: skip
        """Answer ``execute`` of an action with this ``data`` (after Refold's own validation).

        ``data`` may be a function of the request's params that returns it. ``params`` narrows
        it to one body; ``times`` limits how often it answers (such a stub comes first).

        Example: ``refold_mock.stub("hubspot", "get_contact", data={"results": [], "paging": {}})``
        """
        __tracebackhide__ = True
        reply = Reply.success(data, node_status=node_status, http_status=http_status)
        self.script.register("stub", slug, action_id, [reply], params=params, times=times)

    def fail(
        self, slug: str, action_id: str, status: int, *, message: str | None = None,
        error_code: str | None = None, retry_after: float | None = None,
        params: Mapping[str, Any] | None = None, times: int | None = None,
        operation: str = "execute",
    ) -> None:  # fmt: skip
        """Answer with Refold's error envelope (a Refold-side failure: 401, 429, 500, ...).

        Example: ``refold_mock.fail("hubspot", "get_contact", 429, retry_after=1, times=1)``
        """
        __tracebackhide__ = True
        reply = fault(status, message=message, error_code=error_code, retry_after=retry_after)
        self.script.register("fail", slug, action_id, [reply], params=params, times=times,
                             operation=operation)  # fmt: skip

    def app_error(
        self, slug: str, action_id: str, http_status: int, data: Any, *,
        params: Mapping[str, Any] | None = None, times: int | None = None,
    ) -> None:  # fmt: skip
        """A failure inside the connected app: HTTP 200, ``node_status`` ``Errored``.

        Example: ``refold_mock.app_error("hubspot", "get_contact", 401, {"message": "expired"})``
        """
        __tracebackhide__ = True
        reply = Reply.app_error(http_status, data)
        self.script.register("app_error", slug, action_id, [reply], params=params, times=times)

    def delay(
        self, slug: str, action_id: str, seconds: float, *,
        params: Mapping[str, Any] | None = None, times: int | None = None,
        operation: str = "execute",
    ) -> None:  # fmt: skip
        """Answer normally, ``seconds`` late (``asyncio.sleep`` for async clients).

        Example: ``refold_mock.delay("slack", "list_channels", 0.2)``
        """
        __tracebackhide__ = True
        self.script.register("delay", slug, action_id, [], params=params, times=times,
                             delay=seconds, operation=operation)  # fmt: skip

    def timeout(
        self, slug: str, action_id: str, *, params: Mapping[str, Any] | None = None,
        times: int | None = None, operation: str = "execute",
    ) -> None:  # fmt: skip
        """Never answer: the client sees ``httpx.ReadTimeout``.

        Example: ``refold_mock.timeout("hubspot", "get_contact", times=1)``
        """
        __tracebackhide__ = True
        self.script.register("timeout", slug, action_id, [Reply.timeout()], params=params,
                             times=times, operation=operation)  # fmt: skip

    def malformed(
        self, slug: str, action_id: str, *, params: Mapping[str, Any] | None = None,
        times: int | None = None, operation: str = "execute",
    ) -> None:  # fmt: skip
        """Answer with an HTML 502 page, as a gateway in front of Refold does.

        Example: ``refold_mock.malformed("hubspot", "get_contact", times=1)``
        """
        __tracebackhide__ = True
        self.script.register("malformed", slug, action_id, [Reply.malformed()], params=params,
                             times=times, operation=operation)  # fmt: skip

    def sequence(
        self, slug: str, action_id: str, replies: Sequence[Reply | Mapping[str, Any] | Any], *,
        params: Mapping[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """Answer successive calls with these replies, one each, then normally again.

        A plain value is the ``data`` of a success reply; :class:`Reply` gives errors,
        timeouts and app failures.

        Example: ``refold_mock.sequence("slack", "list_channels", [Reply.error(429), {}])``
        """
        __tracebackhide__ = True
        self.script.register("sequence", slug, action_id, in_turn(replies), params=params)

    def seed(
        self, slug: str, object_type: str, records: Sequence[Mapping[str, Any]], *,
        linked_account_id: str | None = None, replace: bool = False,
    ) -> list[str]:  # fmt: skip
        """Add records to the sandbox, in the app's own field names; returns their ids.

        A record without an id gets one in the app's style. ``replace=True`` drops the records
        already there (the catalogue's own, to start with). Stateful mode only.

        Example: ``refold_mock.seed("hubspot", "contacts", [{"email": "ada@example.com"}])``
        """
        __tracebackhide__ = True
        return self.stateful.require("seed").seed(
            slug, object_type, records, linked_account_id=linked_account_id, replace=replace
        )

    def records(
        self, slug: str, object_type: str, *, linked_account_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The records the sandbox holds now for one app's object type (copies).

        Example: ``[c["email"] for c in refold_mock.records("hubspot", "contacts")]``
        """
        __tracebackhide__ = True
        sandbox = self.stateful.require("records")
        return sandbox.records(slug, object_type, linked_account_id=linked_account_id)

    def disconnect(self, slug: str, *, linked_account_id: str | None = None) -> None:
        """The linked account has no connection for ``slug``: every execute of the app fails,
        with Refold's message, observed live ("Application Authentication not found for
        linked_account_id X and app Y"); HTTP 200 and ``node_status`` ``Errored`` are assumed.
        List and schema keep working. ``linked_account_id`` limits it to one account.

        Example: ``refold_mock.disconnect("zendesk", linked_account_id="user_1")``
        """
        self.dispatcher.disconnect(slug, linked_account_id)

    def reconnect(self, slug: str) -> None:
        """Undo :meth:`disconnect`. Example: ``refold_mock.reconnect("zendesk")``"""
        self.dispatcher.disconnected.pop(slug, None)

    def reset(self) -> None:
        """Forget every call and stub; the sandbox's records go back to the catalogue's own.
        Example: ``refold_mock.reset()``"""
        for part in (self.journal, self.script, self.checks, self.dispatcher, self.stateful):
            part.clear()

    @property
    def calls(self) -> list[Call]:
        """Every request answered, oldest first.

        Example: ``[c.action_id for c in refold_mock.calls]``
        """
        return self.journal.calls()

    def calls_for(
        self, slug: str, action_id: str | None = None, *, params: Mapping[str, Any] | None = None
    ) -> list[Call]:
        """The calls of one app (and action, and body, compared with ``==``: ``ANY`` works).

        Example: ``refold_mock.calls_for("hubspot", "create_contact")[0].params["email"]``
        """
        return self.journal.calls_for(slug, action_id, params=params)

    def last_call(self, slug: str, action_id: str) -> Call:
        """The most recent execute of ``slug/action_id``; ``AssertionError`` if there is none.

        Example: ``refold_mock.last_call("hubspot", "get_contact").params == {"limit": "10"}``
        """
        __tracebackhide__ = True
        return self.journal.last_call(slug, action_id)

    def assert_called(
        self, slug: str, action_id: str, *, params: Mapping[str, Any] | None = None,
        params_include: Mapping[str, Any] | None = None, times: int | None = None,
    ) -> None:  # fmt: skip
        """Fail unless the action was executed (with these params, this many times).

        ``params`` must equal the body, ``params_include`` only be part of it; values are
        compared with ``==``, so ``unittest.mock.ANY`` and other matchers work.

        Example: ``refold_mock.assert_called("hubspot", "get_contact", params={"limit": ANY})``
        """
        __tracebackhide__ = True
        self.journal.assert_called(slug, action_id, params=params,
                                   params_include=params_include, times=times)  # fmt: skip

    def assert_not_called(self, slug: str, action_id: str | None = None) -> None:
        """Fail if the action (or any action of the app) was called.

        Example: ``refold_mock.assert_not_called("hubspot", "delete_contact")``
        """
        __tracebackhide__ = True
        self.journal.assert_not_called(slug, action_id)

    def served(self) -> str:
        """A short description of what the mock answers, for failure messages."""
        return self.checks.served()

    def unplaced_message(self) -> str | None:
        """The failure text for requests the mock could not place, or ``None``."""
        return self.checks.unplaced_message()

    def misses(self) -> list[str]:
        """What the test asked for that the catalogue lacks, each with what was probably meant
        (the fixture warns with these at teardown; the replies keep Refold's text).

        Example: ``refold_mock.misses()   # ["hubspott/get_contact: ... did you mean hubspot?"]``
        """
        return self.checks.misses()

    def unmatched_replies(self) -> list[str]:
        """Executes answered with an example for other params: ``["slack/search_messages ..."]``"""
        return self.checks.unmatched_replies()

    @contextlib.contextmanager
    def scope(self) -> Iterator[RefoldMock]:
        """Stubs and faults set inside belong to the block: removed at its end, and checked
        (an unused one fails the block unless ``assert_all_called`` is off). Calls are kept;
        the sandbox starts afresh from the catalogue's records (seed inside the block).

        Example::

            @given(contacts=st.lists(contact(), max_size=5))
            def test_sync(refold_mock, refold_client, contacts):
                with refold_mock.scope():
                    refold_mock.stub("hubspot", "get_contact", data={"results": contacts})
                    assert sync(refold_client) == len(contacts)
        """
        __tracebackhide__ = True
        self.stateful.clear()  # each hypothesis example: a fresh sandbox
        mark = self.script.mark()
        failed = False
        try:
            yield self
        except BaseException:
            failed = True
            raise
        finally:
            unused = self.script.release(mark, self.checks.received)
            if unused and self.assert_all_called and not failed:
                raise unused_stubs_error(unused, " set in this scope")

    def unused_stubs(self) -> list[str]:
        """Stubs never used nor overridden: ``refold_mock.unused_stubs()   # ["stub(...)"]``"""
        return self.script.unused(self.checks.received)

    def verify(self) -> None:
        """Raise for an unplaced request, an unused stub (``assert_all_called``) or an unrelated
        reply (``unmatched`` "fail"). The ``refold_mock`` fixture calls this at teardown."""
        fail = unmatched_policy(self.unmatched, strict=self.strict) == "fail"
        self.checks.verify(assert_all_called=self.assert_all_called, strict=fail)

    def router(self) -> respx.MockRouter:
        """A respx router whose routes answer through :meth:`answer`, one route per operation
        and one for the rest of each base URL. Other hosts are left to other routers.

        Example: ``with mock.router(): my_code_that_uses_httpx()``
        """
        return self.wiring.router()

    def start(self) -> RefoldMock:
        """Start patching httpx through respx; :meth:`stop` undoes it."""
        self.wiring.start()
        return self

    def stop(self) -> None:
        """Stop patching httpx."""
        self.wiring.stop()

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
