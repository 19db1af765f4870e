"""Sending bytes: one TLS context per process, httpx transports whose every read and write ends
by the attempt's deadline, and a plain standard-library forward that no respx router sees.

Example::

    from refold_contract._core.transport import DEADLINE, sync_transport

    token = DEADLINE.set(time.monotonic() + 5)
    with httpx.Client(transport=sync_transport()) as http:
        http.get(url)      # connect, write and every read end within five seconds
    DEADLINE.reset(token)
"""

from __future__ import annotations

import contextvars
import functools
import http.client
import ssl
import time
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

__all__ = ["DEADLINE", "async_transport", "forward", "ssl_context", "sync_transport"]


# The deadline of the attempt under way in this thread or task: every socket read and write
# waits at most until then, so a server that sends a byte a second cannot stretch an attempt.
DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "refold_contract_deadline", default=None
)


def _remaining(timeout: float | None) -> float | None:
    deadline = DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("refold-contract: the attempt's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read and write ends by the attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _remaining(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, with streams that honour the attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _remaining(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.connect_unix_socket(path, _remaining(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@functools.lru_cache(maxsize=1)
def ssl_context() -> ssl.SSLContext:
    """One TLS context per process: building one loads the CA bundle (~20 ms)."""
    return httpx.create_ssl_context()


def sync_transport() -> httpx.BaseTransport:
    transport = httpx.HTTPTransport(verify=ssl_context())
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.NetworkBackend):
        # httpx takes no backend argument; without this, only the body is bounded in time.
        pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
    return transport


def async_transport() -> httpx.AsyncBaseTransport:
    return httpx.AsyncHTTPTransport(verify=ssl_context())


def forward(url: str, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes,
            timeout: float = 60.0) -> tuple[int, list[tuple[str, str]], bytes]:  # fmt: skip
    """Send one request to the gateway with the standard library, outside any respx router.

    ``url`` is the gateway URL with the test's prefix; ``target`` the Refold path. Returns the
    status, the headers and the body.

    Example::

        status, headers, body = forward(url, "GET", "/api/v2/integration-schema/slack/actions",
                                        [], b"")
    """
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=timeout
    )
    try:
        connection.request(method, parts.path + target, body=body or None, headers=dict(headers))
        response = connection.getresponse()
        data = response.read()
        return response.status, list(response.getheaders()), data
    finally:
        connection.close()
