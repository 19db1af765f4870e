"""The standalone mock server: an ASGI app over :meth:`RefoldMock.dispatch`, run by uvicorn.

For code that does not use httpx (``requests``, another language) or runs in another process.
Besides Refold's three operations it serves ``GET /__refold/calls`` (the journal as JSON) and
``POST /__refold/reset`` (clears the journal and stubs). Needs the ``server`` extra (uvicorn).

Example::

    with running_server() as server:          # a free loopback port, in a thread
        RefoldClient(api_key="tk_test", linked_account_id="user_1", base_url=server.url)
        ...
        server.mock.assert_called("hubspot", "get_contact")
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from refold_contract import _endpoint as ep
from refold_contract.catalogue import Catalogue
from refold_contract.errors import ConfigurationError
from refold_contract.mock import RefoldMock

__all__ = ["MockApp", "RunningServer", "running_server", "serve"]

logger = logging.getLogger("refold_contract.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CALLS_PATH = "/__refold/calls"
RESET_PATH = "/__refold/reset"


class MockApp:
    """An ASGI application answering like Refold, from a :class:`RefoldMock`.

    Example::

        app = MockApp(RefoldMock(strict=True))
        uvicorn.run(app, host="127.0.0.1", port=8700)
    """

    def __init__(self, mock: RefoldMock | None = None) -> None:
        self.mock = mock if mock is not None else RefoldMock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets: not part of Refold's API
            return
        started = time.monotonic()
        body = await _read_body(receive)
        method: str = scope["method"]
        path: str = scope["path"]
        if path == CALLS_PATH and method == "GET":
            payload = json.dumps([c.to_json() for c in self.mock.calls]).encode()
            await _respond(send, 200, payload, ep.JSON_CONTENT_TYPE)
            return
        if path == RESET_PATH and method == "POST":
            self.mock.reset()
            await _respond(send, 200, b'{"reset":true}', ep.JSON_CONTENT_TYPE)
            return
        query = scope.get("query_string", b"")
        url = self.mock.base_url + scope.get("raw_path", path.encode()).decode("latin-1")
        if query:
            url += "?" + query.decode("latin-1")
        request = httpx.Request(method, url, headers=scope["headers"], content=body)
        outcome = self.mock.dispatch(request)
        if outcome.delay:
            await asyncio.sleep(outcome.delay)
        if outcome.timeout or outcome.response is None:
            await _wait_for_disconnect(receive)
            logger.info("%s %s -> no reply (scripted timeout)", method, path)
            return
        response = outcome.response
        response.read()
        await _respond(
            send,
            response.status_code,
            response.content,
            response.headers.get("content-type", ep.JSON_CONTENT_TYPE),
            retry_after=response.headers.get(ep.HEADER_RETRY_AFTER),
        )
        logger.info(
            "%s %s -> %d (%.1f ms)",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
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


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError:
        raise ImportError(
            "the mock server needs uvicorn: pip install 'refold-contract[server]'"
        ) from None
    return uvicorn


def build_mock(
    *,
    fixtures: Sequence[str | Path] = (),
    strict: bool = False,
    api_keys: Sequence[str] = (),
    session_tokens: Sequence[str] = (),
    linked_accounts: Sequence[str] = (),
    base_url: str = ep.DEFAULT_BASE_URL,
) -> RefoldMock:
    """A :class:`RefoldMock` from command-line style arguments (empty means "accept any").

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
    )


def serve(
    mock: RefoldMock | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8700,
    log_level: str = "info",
) -> None:
    """Run the mock server in the foreground until SIGINT or SIGTERM.

    Example::

        serve(build_mock(fixtures=["tests/refold_fixtures"]), port=8700)
    """
    uvicorn = _uvicorn()
    mock = mock if mock is not None else RefoldMock(assert_all_called=False)
    config = uvicorn.Config(
        MockApp(mock), host=host, port=port, log_level=log_level, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    logger.info(
        "refold-contract mock: %d actions in %d apps on http://%s:%d (Ctrl+C to stop)",
        len(mock.catalogue),
        len(mock.catalogue.apps()),
        host,
        port,
    )
    server.run()


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
    mock = mock if mock is not None else RefoldMock(assert_all_called=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # uvicorn leaves Nagle on for sockets it is handed; without this every reply waits ~40 ms
    # for the client's delayed ACK. Accepted connections inherit the option on Linux.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    app = MockApp(mock)
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
        time.sleep(0.01)
    try:
        yield RunningServer(f"http://{host}:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
