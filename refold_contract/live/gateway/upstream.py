"""The gateway's connections to Refold: the standard library's :mod:`http.client`, kept alive
and reused, every reply read within the size limit.

The gateway builds every upstream request itself (method, path, headers, body), so it needs no
URL merging, cookies, redirects or hooks. :mod:`http.client` does this hop in about half the
CPU time of httpx or httpcore, and that time is the gateway's whole cost to a test.

Example::

    upstream = Upstream("https://app.refold.ai", timeout=30.0, ssl_context=ssl_context())
    status, headers, body = upstream.send(
        "POST", "/api/v2/integration-schema/slack/actions/list_channels/execute",
        {"x-api-key": key, "content-type": "application/json"}, b"{}", max_bytes=1 << 20,
    )
    upstream.close()
"""

from __future__ import annotations

import http.client
import ssl
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

from refold_contract.errors import ConfigurationError, RefoldConnectionError, ReplyTooLarge

__all__ = ["Upstream"]

_CHUNK = 64 * 1024
# What a kept-alive connection the server closed while idle fails with.
_DROPPED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Upstream:
    """Keep-alive connections to one Refold base URL, shared by the gateway's threads.

    A connection is taken from the idle list (or opened), used for one request and reply, and
    given back only when the reply was read whole and the server keeps it open. A reused
    connection that the server had closed while idle fails before any reply byte arrives; that
    request is sent once more on a new connection (reads only pass the gateway, so this is safe).

    Example::

        upstream = Upstream("http://127.0.0.1:8700", timeout=5.0)
        upstream.send("GET", "/api/v2/integration-schema/slack/actions", {}, b"",
                      max_bytes=1 << 20)[0]     # 200
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        ssl_context: ssl.SSLContext | None = None,
        max_idle: int = 32,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"the gateway's upstream {base_url!r} is not an http(s) URL",
                hint="set REFOLD_BASE_URL to Refold's URL, e.g. https://app.refold.ai",
            )
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._max_idle = max_idle
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        scheme = "https" if self._https else "http"
        return f"<Upstream {scheme}://{self._host}:{self._port or ''}{self._prefix}>"

    def _open(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._ssl_context
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._open(), False

    def _give_back(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._max_idle:
                self._idle.append(connection)
                return
        connection.close()

    def send(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, *, max_bytes: int
    ) -> tuple[int, dict[str, str], bytes]:
        """One request; returns the status, the headers (names lower-cased) and the body.

        Raises :class:`ReplyTooLarge` past ``max_bytes``, :class:`TimeoutError` when Refold
        does not answer in time, and :class:`~refold_contract.errors.RefoldConnectionError`
        for anything else that breaks (the connection, or a reply that is not HTTP).

        Example::

            status, headers, body = upstream.send("POST", path, headers, b"{}",
                                                  max_bytes=1 << 20)
        """
        connection, reused = self._take()
        try:
            return self._exchange(connection, method, path, headers, body, max_bytes)
        except _DROPPED as exc:
            if not reused:
                raise RefoldConnectionError(f"{type(exc).__name__}: {exc}") from None
        # The server had closed the idle connection: once more, on a new one.
        try:
            return self._exchange(self._open(), method, path, headers, body, max_bytes)
        except _DROPPED as exc:
            raise RefoldConnectionError(f"{type(exc).__name__}: {exc}") from None

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        max_bytes: int,
    ) -> tuple[int, dict[str, str], bytes]:
        keep = False
        try:
            connection.request(method, self._prefix + path, body=body or None, headers=headers)
            response = connection.getresponse()
            found = {name.lower(): value for name, value in response.getheaders()}
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = response.read1(_CHUNK) if size < max_bytes else response.read(1)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise ReplyTooLarge
                chunks.append(chunk)
            keep = not response.will_close
            response.close()  # read whole: the connection may take the next request
            return response.status, found, b"".join(chunks)
        except TimeoutError:
            raise
        except _DROPPED:
            raise
        except (http.client.HTTPException, ssl.SSLError, OSError) as exc:
            raise RefoldConnectionError(f"{type(exc).__name__}: {exc}") from None
        finally:
            if keep:
                self._give_back(connection)
            else:
                connection.close()

    def close(self) -> None:
        """Close the idle connections; connections in use close when their reply is read.

        Example::

            upstream.close()
        """
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
