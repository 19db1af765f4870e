"""The respx wiring: routes that hand httpx requests to a mock, and the live link.

One route per operation and one catching anything else under each base URL the mock answers
for; the cost of a request does not grow with the catalogue. :class:`Wiring` is the patching
half of a mock, as respx's ``MockRouter`` is to its ``Router``: it starts and stops the routes,
turns a dispatched :class:`~refold_contract.mock.emulator.Answer` into what respx hands the
client (a scripted delay sleeps with ``asyncio.sleep`` under an async client and ``time.sleep``
otherwise; a scripted timeout raises ``httpx.ReadTimeout``), and in a live test sends the
request on instead.

In a live test the mock does not answer: :class:`LiveLink` forwards the request to the
read-only gateway with the standard library, outside respx, and returns the gateway's reply.

Example::

    router = build_router(mock.bases, mock.handle)
    with router:
        httpx.get(mock.base_url + "/api/v2/integration-schema/slack/actions", headers=...)
"""

from __future__ import annotations

import contextvars
import dataclasses
import inspect
import re
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from refold_contract._core import endpoint as ep
from refold_contract.mock.checks import Checks
from refold_contract.mock.dispatch import Dispatcher
from refold_contract.mock.emulator import Answer

if TYPE_CHECKING:
    import respx

__all__ = [
    "IN_ASYNC",
    "TRACK_EXTENSION",
    "LiveLink",
    "SharedRouter",
    "Wiring",
    "build_router",
    "scripted_timeout",
    "to_response",
    "tracked_response",
]

#: The extension marking a mock reply whose reads a consumer contract records.
TRACK_EXTENSION = "refold_contract.track"

#: Set while respx resolves a request for an async client, so a delay does not block the loop.
IN_ASYNC: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "refold_mock_in_async", default=False
)
_SEGMENT = r"[^/?#]+"


class _Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A reply body that can be read any number of times, sync or async.

    httpx.Response(content=...) re-encodes the body and reads it into the response (about
    10 us); respx also pre-reads any httpx.ByteStream. This stream is handed on unread, and
    whoever reads it (httpcore, the server) gets the bytes at once.
    """

    __slots__ = ("content",)

    def __init__(self, content: bytes) -> None:
        self.content = content

    def __iter__(self) -> Iterator[bytes]:
        yield self.content

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.content


def to_response(answer: Answer) -> httpx.Response:
    """An :class:`Answer` as an ``httpx.Response``, its body unread.

    Example::

        to_response(Answer(200, b"{}")).status_code   # 200
    """
    headers = [("content-type", answer.content_type), ("content-length", str(len(answer.body)))]
    if answer.retry_after is not None:
        headers.append((ep.HEADER_RETRY_AFTER, answer.retry_after))
    return httpx.Response(answer.status, headers=headers, stream=_Body(answer.body))


def tracked_response(answer: Answer) -> httpx.Response:
    """:func:`to_response`, marked with :data:`TRACK_EXTENSION` when a consumer contract
    records the reply's reads.

    Example::

        tracked_response(answer).extensions.get(TRACK_EXTENSION)   # ("hubspot", "get_contact")
    """
    response = to_response(answer)
    if answer.track is not None:
        # respx rebuilds the response on its way to the caller; its extensions survive, and
        # the consumer-contract hook on httpx.Response.json reads this mark.
        response.extensions[TRACK_EXTENSION] = answer.track
    return response


def scripted_timeout(request: httpx.Request) -> httpx.ReadTimeout:
    """What a client sees for a scripted timeout.

    Example::

        raise scripted_timeout(request)
    """
    return httpx.ReadTimeout("refold_mock: scripted timeout", request=request)


@dataclasses.dataclass(frozen=True)
class LiveLink:
    """Where a live test's requests go: the read-only gateway, under the test's own prefix.

    Example::

        link = LiveLink("http://127.0.0.1:50123/t/3f2a")
        status, headers, body = link.send("GET", "/api/v2/integration-schema/slack/actions",
                                          [], b"")
    """

    url: str

    def send(
        self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Forward one request; the standard library, so respx never sees it."""
        from refold_contract._core.transport import forward

        return forward(self.url, method, target, headers, body)

    async def asend(
        self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """:meth:`send` in a worker thread, for async clients."""
        import anyio.to_thread

        return await anyio.to_thread.run_sync(self.send, method, target, headers, body)


def build_router(
    bases: Sequence[str],
    side_effect: Callable[[httpx.Request], Any],
    elsewhere: Callable[[httpx.Request], str] | None = None,
    *,
    idle: Callable[[], bool] | None = None,
) -> respx.MockRouter:
    """A respx router sending every request under ``bases`` to ``side_effect``.

    Requests to other hosts are left to other routers, and fail as respx's
    ``assert_all_mocked`` does when none answers; for one whose path is a Refold path,
    ``elsewhere(request)`` gives the message instead of respx's bare "not mocked". While
    ``idle()`` is true the router answers nothing: it passes a request through when it is the
    only router respx has, and leaves it to the others otherwise.
    """
    import respx
    from respx.mocks import Mocker
    from respx.models import AllMockedAssertionError, PassThrough

    def stand_aside(router: respx.MockRouter, request: httpx.Request) -> Exception:
        others = [r for r in Mocker.registry["httpcore"].routers if not SharedRouter.is_idle(r)]
        if not others:  # no one mocks anything now: as if respx were not there
            return PassThrough("refold_mock is not active", request=request, origin=None)  # type: ignore[arg-type]
        return AllMockedAssertionError(f"RESPX: {request!r} not mocked!")

    class _Router(respx.MockRouter):
        """Marks async resolution, so a scripted delay sleeps without blocking the loop."""

        def record(self, *args: Any, **kwargs: Any) -> None:
            """No call list: the mock keeps its own journal, and respx's would keep every
            request and response again, for the whole session when the router is shared."""

        def handler(self, request: httpx.Request) -> httpx.Response:
            if idle is not None and idle():
                raise stand_aside(self, request)
            try:
                return super().handler(request)
            except AllMockedAssertionError:
                raise self.explained(request) from None

        async def async_handler(self, request: httpx.Request) -> httpx.Response:
            if idle is not None and idle():
                raise stand_aside(self, request)
            token = IN_ASYNC.set(True)
            try:
                return await super().async_handler(request)
            except AllMockedAssertionError:
                raise self.explained(request) from None
            finally:
                IN_ASYNC.reset(token)

        @staticmethod
        def explained(request: httpx.Request) -> AllMockedAssertionError:
            if elsewhere is not None and ep.API_PREFIX in request.url.path:
                return AllMockedAssertionError(elsewhere(request))
            return AllMockedAssertionError(f"RESPX: {request!r} not mocked!")

    router = _Router(assert_all_called=False, assert_all_mocked=True)

    def wrapped(request: httpx.Request) -> Any:
        return side_effect(request)

    # A function is handed to respx as it is, one call fewer a request; a bound method takes no
    # attribute, so it is wrapped.
    effect: Any = side_effect if inspect.isfunction(side_effect) else wrapped
    # respx inspects a callable side effect's signature on every request; a precomputed
    # __signature__ turns that from the largest cost of a mocked request into a lookup.
    effect.__signature__ = inspect.signature(effect)
    for base_url in bases:
        base = re.escape(base_url)
        prefix = f"{base}{re.escape(ep.API_PREFIX)}/{_SEGMENT}/actions"
        routes = (
            ("execute", "POST", rf"^{prefix}/{_SEGMENT}/execute/?(\?.*)?$"),
            ("schema", "GET", rf"^{prefix}/{_SEGMENT}/?(\?.*)?$"),
            ("list_actions", "GET", rf"^{prefix}/?(\?.*)?$"),
        )
        for name, method, pattern in routes:
            router.route(method=method, url__regex=pattern, name=f"refold:{name}:{base_url}").mock(
                side_effect=effect
            )
        router.route(url__regex=rf"^{base}(/.*)?$", name=f"refold:unplaced:{base_url}").mock(
            side_effect=effect
        )
    return router


class SharedRouter:
    """One router per set of base URLs for the whole process, lent to one mock at a time.

    Building a respx router and starting it the respx way (``MockRouter.start`` snapshots every
    route, and each snapshot builds ``unittest.mock`` objects) cost about 4 ms a test; the
    routes never change, so the router is built once and started by registering it with respx's
    mocker. Under the pytest plugin it stays registered for the whole session
    (:meth:`keep_registered`), so httpcore is patched once, not per test: while no mock holds it,
    it passes every request through untouched when it is the only router, and leaves requests
    to the other routers otherwise. A mock that finds the router lent out (two mocks for the
    same URLs at once) builds its own, the respx way.

    Example::

        slot = SharedRouter.lend(mock.bases, mock)
        ...
        slot.give_back(mock)
    """

    _slots: ClassVar[dict[tuple[str, ...], SharedRouter]] = {}
    _persistent: ClassVar[bool] = False

    def __init__(self, bases: tuple[str, ...]) -> None:
        self.holder: Wiring | None = None
        self.registered = False

        # A function, not a bound method: respx calls it as the route's side effect itself.
        def side_effect(request: httpx.Request) -> Any:
            return self.holder.side_effect(request)  # type: ignore[union-attr]

        self.router = build_router(bases, side_effect, self._elsewhere, idle=self._idle)

    def _elsewhere(self, request: httpx.Request) -> str:
        assert self.holder is not None
        return self.holder.elsewhere(request)

    def _idle(self) -> bool:
        return self.holder is None

    @classmethod
    def keep_registered(cls, keep: bool) -> None:
        """Keep lent routers registered with respx between mocks (the plugin, per session);
        ``False`` unregisters every idle one now."""
        cls._persistent = keep
        if not keep:
            for slot in cls._slots.values():
                if slot.holder is None:
                    slot._unregister()

    @classmethod
    def is_idle(cls, router: Any) -> bool:
        """True for a shared router no mock holds now."""
        return any(s.router is router and s.holder is None for s in cls._slots.values())

    @classmethod
    def lend(cls, bases: tuple[str, ...], mock: Wiring) -> SharedRouter | None:
        """Start routing ``bases`` to ``mock``; ``None`` if another mock holds them now."""
        slot = cls._slots.get(bases)
        if slot is None:
            # Bases that change from test to test (a live test's own gateway address) would
            # pile up: idle routers for other bases are dropped first.
            for other in list(cls._slots.values()):
                if other.holder is None:
                    other._unregister()
                    del cls._slots[next(k for k, v in cls._slots.items() if v is other)]
            slot = cls._slots[bases] = cls(bases)
        if slot.holder is not None:
            return None
        slot.holder = mock
        if not slot.registered:
            from respx.mocks import Mocker

            mocker = Mocker.registry["httpcore"]
            mocker.register(slot.router)
            mocker.start()
            slot.registered = True
        return slot

    def give_back(self, mock: Wiring) -> None:
        """Stop routing to ``mock``."""
        if self.holder is not mock:
            return
        self.holder = None
        if not self._persistent:
            self._unregister()

    def _unregister(self) -> None:
        if not self.registered:
            return
        from respx.mocks import Mocker

        mocker = Mocker.registry["httpcore"]
        mocker.unregister(self.router)
        mocker.stop()
        self.registered = False


class Wiring:
    """The patching half of one mock: its routes, started and stopped, and what they answer.

    ``dispatch`` answers a request (the mock's own, so a subclass overriding ``answer`` is
    heard); ``live``, when set, sends every request to the read-only gateway instead.

    Example::

        wiring = Wiring(mock.dispatch, dispatcher, checks, bases=mock.bases)
        wiring.start()
        ...
        wiring.stop()
    """

    def __init__(
        self,
        dispatch: Callable[[httpx.Request], Answer],
        dispatcher: Dispatcher,
        checks: Checks,
        *,
        bases: tuple[str, ...],
        live: LiveLink | None = None,
    ) -> None:
        self.dispatch = dispatch
        self.dispatcher = dispatcher
        self.checks = checks
        self.bases = bases
        self.live = live
        self._router: respx.MockRouter | None = None
        self._slot: SharedRouter | None = None

    def side_effect(self, request: httpx.Request) -> Any:
        """What the routes answer: a response, a coroutine of one (async delay, live), or an
        exception raised."""
        link = self.live
        if link is not None:
            return self.forward(request, link)
        answer = self.dispatch(request)
        if answer.error is not None:
            raise answer.error
        if (
            answer.status == 404
            and ep.match(request.method, self.dispatcher.relative_path(request.url)) is None
        ):
            raise self.checks.unplaced_error()
        if answer.delay:
            if IN_ASYNC.get():
                return _later(answer, request)
            time.sleep(answer.delay)
        if answer.timeout:
            raise scripted_timeout(request)
        return tracked_response(answer)

    def elsewhere(self, request: httpx.Request) -> str:
        """The message for a Refold path sent to a host the mock does not answer for."""
        return self.checks.elsewhere(request)

    def forward(
        self, request: httpx.Request, link: LiveLink
    ) -> httpx.Response | Coroutine[Any, Any, httpx.Response]:
        """A live test: send to the read-only gateway (in a worker thread under an async client)
        and journal the reply."""
        forward = self.dispatcher.forward(request)
        args = (forward.method, forward.target, forward.headers, forward.content)

        def gone(exc: OSError) -> httpx.ConnectError:
            return httpx.ConnectError(
                f"the read-only gateway ({link.url}) is not answering: {exc}; nothing was sent "
                "to Refold directly",
                request=request,
            )

        if IN_ASYNC.get():

            async def send() -> httpx.Response:
                try:
                    reply = await link.asend(*args)
                except OSError as exc:
                    raise gone(exc) from None
                return self.dispatcher.received(forward, reply)

            return send()
        try:
            reply = link.send(*args)
        except OSError as exc:
            raise gone(exc) from None
        return self.dispatcher.received(forward, reply)

    def router(self) -> respx.MockRouter:
        """This mock's own respx router (built once)."""
        if self._router is None:
            self._router = build_router(self.bases, self.side_effect, self.elsewhere)
        return self._router

    def start(self) -> None:
        """Patch httpx: through the process's shared router when it is free, else our own."""
        if self._slot is None and self._router is None:
            self._slot = SharedRouter.lend(self.bases, self)
            if self._slot is not None:
                return
        self.router().start()

    def stop(self) -> None:
        """Stop patching httpx."""
        if self._slot is not None:
            self._slot.give_back(self)
            self._slot = None
        if self._router is not None:
            self._router.stop(quiet=True)


async def _later(answer: Answer, request: httpx.Request) -> httpx.Response:
    import asyncio

    await asyncio.sleep(answer.delay)
    if answer.timeout:
        raise scripted_timeout(request)
    return tracked_response(answer)
