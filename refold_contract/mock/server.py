"""The standalone mock server: an ASGI app over :meth:`RefoldMock.answer`, on granian or uvicorn.

For code that does not use httpx (``requests``, another language) or runs in another process.
Besides Refold's three operations it serves ``GET /__refold/calls`` (the journal as JSON) and
``POST /__refold/reset`` (clears the journal and stubs). :func:`serve` runs on granian (the
``fast`` extra) when it is installed, else on uvicorn (the ``server`` extra);
:func:`running_server` runs on uvicorn.

Example::

    with running_server() as server:          # a free loopback port, in a thread
        RefoldClient(api_key="tk_test", linked_account_id="user_1", base_url=server.url)
        ...
        server.mock.assert_called("hubspot", "get_contact")
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from refold_contract._core import endpoint as ep
from refold_contract._core.json import dumps_standard
from refold_contract.catalogue import Catalogue
from refold_contract.config import MOCK_SERVERS, Limits
from refold_contract.errors import ConfigurationError
from refold_contract.mock import RefoldMock
from refold_contract.mock.emulator import Emulator

__all__ = ["MockApp", "RunningServer", "default_server", "running_server", "serve"]

logger = logging.getLogger("refold_contract.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CALLS_PATH = "/__refold/calls"
RESET_PATH = "/__refold/reset"


class MockApp:
    """An ASGI application answering like Refold, from a :class:`RefoldMock`.

    It answers straight from the ASGI scope (no ``httpx.Request`` is built), reads at most
    ``mock.limits.max_body_bytes`` of a body (413 past it), and writes one log line per
    request when ``access_log`` is on, with control characters escaped so that one request is
    always one line.

    Example::

        app = MockApp(RefoldMock(strict=True, journal_size=10_000))
        uvicorn.run(app, host="127.0.0.1", port=8700)
    """

    #: How long a scripted timeout holds a request before answering 504 (seconds): a client
    #: with no timeout of its own (``requests`` and ``urllib`` by default) is not left hanging.
    timeout_hold: float = 30.0

    def __init__(self, mock: RefoldMock | None = None, *, access_log: bool = True) -> None:
        self.mock = mock if mock is not None else RefoldMock(assert_all_called=False)
        self.access_log = access_log
        #: When set, every request gets 503 with this message instead of the mock's answer:
        #: ``refold_server`` between two tests, so a request that outlived its test reaches
        #: no other test's mock.
        self.idle_message: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets: not part of Refold's API
            return
        started = time.monotonic()
        method: str = scope["method"]
        path: str = scope["path"]
        mock = self.mock
        if self.idle_message is not None:
            idle = Emulator.error(503, self.idle_message)
            await _respond(send, idle.status, idle.body, idle.content_type)
            self._log(method, path, 503, started)
            return
        limit = mock.limits.max_body_bytes
        body = await _read_body(receive, limit)
        if body is None:
            answer = Emulator.error(
                413,
                f"Request body is too large: over the limit of {limit:,} bytes",
                "VALIDATION_ERROR",
            )
            await _respond(send, answer.status, answer.body, answer.content_type)
            self._log(method, path, 413, started)
            return
        if path == CALLS_PATH and method == "GET":
            payload = dumps_standard([c.to_json() for c in mock.calls]).encode()
            await _respond(send, 200, payload, ep.JSON_CONTENT_TYPE)
            return
        if path == RESET_PATH and method == "POST":
            mock.reset()  # stateful: the records go back to the catalogue's own
            await _respond(send, 200, b'{"reset":true}', ep.JSON_CONTENT_TYPE)
            return
        answer = mock.answer(method, path, scope["headers"], body)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.timeout:
            try:
                await asyncio.wait_for(_wait_for_disconnect(receive), self.timeout_hold)
            except asyncio.TimeoutError:
                held = Emulator.error(
                    504,
                    f"refold-contract: a scripted timeout held this request {self.timeout_hold:g} "
                    "s without a reply; give your HTTP client a timeout (requests and urllib "
                    "wait forever by default)",
                )
                await _respond(send, 504, held.body, held.content_type)
                self._log(method, path, 504, started)
                return
            self._log(method, path, None, started)
            return
        if answer.track is not None and mock.consumer is not None:
            # Over HTTP the client's parsing cannot be seen: the whole reply shape is recorded.
            mock.consumer.record_opaque_reply(*answer.track, answer.json())
        await _respond(
            send, answer.status, answer.body, answer.content_type, retry_after=answer.retry_after
        )
        self._log(method, path, answer.status, started)

    def _log(self, method: str, path: str, status: int | None, started: float) -> None:
        if self.access_log and logger.isEnabledFor(logging.INFO):
            logger.info(
                "%s %s -> %s (%.1f ms)",
                _one_line(method),
                _one_line(path),
                "no reply (scripted timeout)" if status is None else status,
                (time.monotonic() - started) * 1000,
            )


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")


def _one_line(text: str) -> str:
    """``text`` with control characters (and backslashes) escaped: a log line stays a line."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)[:500]


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or ``None`` once it passes ``limit`` bytes (the rest is not kept)."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _respond(
    send: Send, status: int, body: bytes, content_type: str, *, retry_after: str | None = None
) -> None:
    headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", retry_after.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _uvicorn(alternative: str = "") -> Any:
    try:
        import uvicorn
    except ImportError:
        raise ImportError(
            "the mock server needs uvicorn: install refold-contract with its server extra "
            f"(pip install '/path/to/refold-contract[server]') or pip install uvicorn{alternative}",
            name="uvicorn",
        ) from None
    return uvicorn


def _granian() -> Any:
    try:
        import granian.constants
        import granian.log
        import granian.net
        import granian.server.embed
    except ImportError:
        raise ImportError(
            "serve --server granian needs granian: install refold-contract with its fast extra "
            "(pip install '/path/to/refold-contract[fast]'), or choose --server uvicorn",
            name="granian",
        ) from None
    return granian


def default_server() -> str:
    """The server ``serve`` runs on when none is named: granian when installed, else uvicorn.

    Example::

        default_server()        # "granian" with the fast extra installed
    """
    return "granian" if importlib.util.find_spec("granian") is not None else "uvicorn"


#: Calls ``serve`` keeps by default; older ones are dropped (``--journal-size``).
DEFAULT_JOURNAL_SIZE = 10_000
#: Bodies longer than this are kept truncated in the server's journal, with a marker.
DEFAULT_JOURNAL_BODY = 64 * 1024


def build_mock(
    *,
    fixtures: Sequence[str | Path] = (),
    strict: bool = False,
    api_keys: Sequence[str] = (),
    session_tokens: Sequence[str] = (),
    linked_accounts: Sequence[str] = (),
    base_url: str = ep.DEFAULT_BASE_URL,
    journal_size: int | None = DEFAULT_JOURNAL_SIZE,
    limits: Limits | None = None,
    stateful: bool = False,
) -> RefoldMock:
    """A :class:`RefoldMock` from command-line style arguments (empty means "accept any").

    The journal keeps the last ``journal_size`` calls, bodies over 64 KB truncated.

    Example::

        build_mock(fixtures=["tests/refold_fixtures"], linked_accounts=["user_1"])
    """
    catalogue = Catalogue.load(*fixtures, include_builtin=True)
    return RefoldMock(
        catalogue,
        base_url=base_url,
        strict=strict,
        api_keys=api_keys or None,
        session_tokens=session_tokens or None,
        linked_accounts=linked_accounts or None,
        assert_all_called=False,
        journal_size=journal_size,
        max_journal_body=DEFAULT_JOURNAL_BODY,
        limits=limits,
        stateful=stateful,
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on ``host:port`` (``port=0``: a free one), with Nagle off.

    Raises :class:`ConfigurationError` naming the address when it cannot be bound.

    Example::

        sock = bind("127.0.0.1", 0)
        sock.getsockname()[1]       # the port chosen
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # uvicorn leaves Nagle on for sockets it is handed; without this every reply waits ~40 ms
    # for the client's delayed ACK. Accepted connections inherit the option on Linux.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            hint="choose another --port (0 picks a free one), or stop what is using this one",
        ) from None
    return sock


def _url(host: str, port: int) -> str:
    """The base URL of a server listening on ``host:port`` (an IPv6 address in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(
    mock: RefoldMock | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8700,
    log_level: str = "info",
    access_log: bool = True,
    announce: Callable[[str], None] | None = None,
    server: str | None = None,
) -> None:
    """Run the mock server in the foreground until SIGINT or SIGTERM.

    ``server`` is ``"granian"`` or ``"uvicorn"`` (default: :func:`default_server`). ``port=0``
    picks a free port; ``announce`` is told the URL bound (a line of its own, for scripts) once
    the socket listens, and a log line says what is served and by which server.

    Example::

        serve(build_mock(fixtures=["tests/refold_fixtures"]), port=0, announce=print)
    """
    name = default_server() if server is None else server
    if name not in MOCK_SERVERS:
        raise ConfigurationError(
            f"unknown server {name!r} for the mock",
            hint=f"choose one of {', '.join(MOCK_SERVERS)}",
        )
    if name == "granian":
        _granian()
        run: Callable[[MockApp, socket.socket, str], None] = _run_granian
    else:
        # Named by the user, or the default because granian is not installed.
        _uvicorn("" if server else ", or granian with the fast extra ([fast])")
        run = _run_uvicorn
    mock = mock if mock is not None else build_mock()
    sock = bind(host, port)
    url = _url(host, sock.getsockname()[1])
    message = (
        f"refold-contract mock: {len(mock.catalogue)} actions in {len(mock.catalogue.apps())} "
        f"apps on {url}, served by {name} (Ctrl+C to stop)"
    )
    try:
        # Listening before the URL is told: a script that connects the moment it reads the
        # line is queued by the kernel until the server accepts, instead of refused.
        sock.listen(BACKLOG)
        if announce is not None:
            announce(url)
        logger.info("%s", message)
        run(MockApp(mock, access_log=access_log), sock, log_level)
    finally:
        sock.close()


#: The listening socket's queue of connections not yet accepted (uvicorn's and granian's own
#: default is 2048 and 1024).
BACKLOG = 2048


def _run_uvicorn(app: MockApp, sock: socket.socket, log_level: str) -> None:
    uvicorn = _uvicorn()
    config = uvicorn.Config(
        app, log_level=log_level, access_log=False, lifespan="on", backlog=BACKLOG
    )
    # uvicorn stops on SIGINT or SIGTERM, then raises the signal again for the caller.
    uvicorn.Server(config).run(sockets=[sock])


class _EmbedExperimental(logging.Filter):
    """Drops granian's "Embedded server is experimental!": said on every start, and the
    choice is this module's, not the user's (tests/test_server.py runs serve on it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Embedded server is experimental!"


def _run_granian(app: MockApp, sock: socket.socket, log_level: str) -> None:
    granian = _granian()
    embedded: Any = granian.server.embed.Server
    holder: Any = granian.net.SocketHolder

    class OnOurSocket(embedded):  # type: ignore[misc]
        # granian binds its own socket from (address, port), and on Linux each worker binds
        # again with SO_REUSEPORT: with port 0 the port would be known only to granian, and
        # the URL could not be told before it listens. So it is handed the socket bound and
        # listening already, as its multi-process server hands one to its workers. granian
        # owns (and closes) the copy it is given.
        def _init_shared_socket(self) -> None:
            self._ssp = None
            self._shd = holder(os.dup(sock.fileno()), False, BACKLOG)
            self._sfd = self._shd.get_fd()

    server = OnOurSocket(
        app,
        address=sock.getsockname()[0],
        port=sock.getsockname()[1],
        interface=granian.constants.Interfaces.ASGI,
        websockets=False,
        backlog=BACKLOG,
        log_level=granian.log.LogLevels(log_level),
        log_access=False,
    )
    # granian's logging setup sent its lines to stdout, where the URL is: they go to the
    # root logger instead, as this module's and uvicorn's do.
    granian_logger = logging.getLogger("_granian")
    granian_logger.handlers.clear()
    granian_logger.propagate = True
    granian_logger.addFilter(_EmbedExperimental())

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, server.stop)
        await server.serve()

    threads = _native_threads()
    asyncio.run(main())
    _wait_for_threads(threads, timeout=5.0)


def _native_threads() -> int | None:
    """How many threads this process runs, Python's and native ones (Linux), else None."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


def _wait_for_threads(count: int | None, *, timeout: float) -> None:
    """Wait until the process is back to ``count`` threads, at most ``timeout`` seconds.

    granian's ``serve()`` returns as soon as its worker is told to stop; its Rust threads end
    a few ms later (under 30 ms measured), dropping Python objects as they go. An interpreter
    that exits in between aborts with a Rust panic (6 stops in 15 here, exit status -6). Where
    threads cannot be counted, a fixed grace stands in.
    """
    if count is None:
        time.sleep(0.2)
        return
    deadline = time.monotonic() + timeout
    while (_native_threads() or 0) > count and time.monotonic() < deadline:
        time.sleep(0.005)


class RunningServer:
    """A mock server running in a thread; ``url`` is its base URL, ``mock`` its RefoldMock.

    Example::

        with running_server() as server:
            httpx.get(server.url + "/__refold/calls").json()
    """

    def __init__(self, url: str, app: MockApp) -> None:
        self.url = url
        self.app = app

    @property
    def mock(self) -> RefoldMock:
        """The mock answering now."""
        return self.app.mock

    def use(self, mock: RefoldMock) -> None:
        """Answer from another mock from now on, without restarting the server.

        Example::

            server.use(RefoldMock(strict=True))
        """
        self.app.mock = mock
        self.app.idle_message = None

    def idle(self, message: str) -> None:
        """Answer every request with 503 and ``message`` until the next :meth:`use`.

        Example::

            server.idle("no test is running")
        """
        self.app.idle_message = message

    def __repr__(self) -> str:
        return f"<RunningServer {self.url}>"


@contextlib.contextmanager
def running_server(
    mock: RefoldMock | None = None, *, host: str = "127.0.0.1", startup_timeout: float = 10.0
) -> Iterator[RunningServer]:
    """Start the mock server on a free loopback port in a thread; stop it on exit.

    Example::

        with running_server(RefoldMock(linked_accounts={"user_1"})) as server:
            client = RefoldClient(api_key="tk_x", linked_account_id="user_1",
                                  base_url=server.url)
    """
    uvicorn = _uvicorn()
    sock = bind(host, 0)
    port = sock.getsockname()[1]
    app = MockApp(mock, access_log=False)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"refold-mock-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ConfigurationError(
                f"the mock server did not start on {host}:{port} within {startup_timeout} s",
                hint="check that the address is free and uvicorn is installed",
            )
        time.sleep(0.001)
    try:
        yield RunningServer(_url(host, port), app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
