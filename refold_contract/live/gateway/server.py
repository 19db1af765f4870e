"""The gateway over HTTP: a threading :mod:`http.server` on loopback that hands each request to
a :class:`~refold_contract.live.gateway.core.Gateway` and sends its reply, the deferred work
(drift, recording) done after the reply is on its way.

Example::

    server, url = serve(Gateway(config, credentials))
    os.environ["REFOLD_BASE_URL"] = url
    ...
    server.shutdown()
"""

from __future__ import annotations

import http.server
import logging
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from refold_contract.config import Limits
from refold_contract.live.gateway.reply import UNPRINTABLE, GatewayReply, envelope

__all__ = ["Served", "Server", "serve"]

#: One logger for the whole gateway, whichever of its modules logs.
logger = logging.getLogger("refold_contract.live.gateway")
_ONE_LINE = re.compile(r"[\r\n]")
_REQUEST_LINE = re.compile(r"([A-Z]{1,20}) ([\x21-\x7e\x80-\xff]{1,65000}) HTTP/1\.([01])")
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_DIGITS = re.compile(r"[0-9]{1,15}")
_MAX_LINE = 16 * 1024
_MAX_HEADERS = 100


class Served(Protocol):
    """What the server hands requests to: the plugin's gateway, or the shared one.

    Example::

        serve(Gateway(config, credentials))      # or serve(SharedGateway(...))
    """

    limits: Limits

    def respond(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> GatewayReply: ...

    def defer(self, work: Callable[[], None]) -> None: ...


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A reply goes out in one write; an error page from send_error() in several, and with
    # Nagle on each would wait ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "refold-contract-gateway"
    sys_version = ""
    gateway: Served
    raw_requestline: bytes

    def parse_request(self) -> bool:
        """The request line and headers, parsed strictly (RFC 9112) into a dict of lower-case
        names; anything a lenient parser would have to guess at is refused with 400 and the
        connection closed: a malformed line, a folded header, a name that is not a token, a
        control character in a value, or any header given twice (two Content-Lengths, two
        linked accounts). Also about a fifth of the gateway's CPU time less than
        :mod:`email`'s parser, which :mod:`http.server` uses."""
        self.command = ""
        self.request_version = "HTTP/1.1"
        self.close_connection = True
        line = self.raw_requestline.decode("latin-1").rstrip("\r\n")
        self.requestline = line
        found = _REQUEST_LINE.fullmatch(line)
        if found is None:
            self.send_error(400, "Bad request line")
            return False
        self.command, self.path, minor = found.groups()
        self.request_version = f"HTTP/1.{minor}"
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADERS):
            raw = self.rfile.readline(_MAX_LINE + 1)
            if len(raw) > _MAX_LINE:
                self.send_error(431, "A header line is too long")
                return False
            if raw in (b"\r\n", b"\n"):
                break
            if not raw.endswith(b"\n"):  # the client went away mid-headers
                return False
            name, colon, value = raw.partition(b":")
            text = value.strip(b" \t\r\n").decode("latin-1")
            if not colon or _TOKEN.fullmatch(name) is None or _CONTROL.search(text):
                self.send_error(400, "A malformed header line")
                return False
            key = name.decode("ascii").lower()
            if key in headers:
                self.send_error(400, f"The header {key!r} is given twice")
                return False
            headers[key] = text
        else:
            self.send_error(431, "Too many headers")
            return False
        self.headers = headers  # type: ignore[assignment]
        tokens = {t.strip() for t in headers.get("connection", "").lower().split(",")}
        self.close_connection = "close" in tokens or (minor == "0" and "keep-alive" not in tokens)
        if headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def _serve(self) -> None:
        gateway = self.gateway
        headers: dict[str, str] = self.headers  # type: ignore[assignment]
        length_text = headers.get("content-length", "0")
        if "transfer-encoding" in headers:
            reply = envelope(411, "VALIDATION_ERROR", "send a Content-Length, not chunks")
            self.close_connection = True
        else:
            length = int(length_text) if _DIGITS.fullmatch(length_text) else -1
            if length < 0:
                reply = envelope(400, "VALIDATION_ERROR", "a malformed Content-Length")
                self.close_connection = True
            elif length > gateway.limits.max_body_bytes:
                reply = envelope(
                    413,
                    "VALIDATION_ERROR",
                    f"Request body of {length:,} bytes is over the limit of "
                    f"{gateway.limits.max_body_bytes:,} bytes",
                )
                self.close_connection = True
            else:
                body = self.rfile.read(length) if length else b""
                reply = gateway.respond(self.command, self.path, headers, body)
        # Status line, headers and body in one write, and the access log after it: the
        # client is not kept waiting for either.
        phrase = self.responses[reply.status][0] if reply.status in self.responses else ""
        head = [
            f"HTTP/1.1 {reply.status} {phrase}",
            f"server: {self.server_version}",
            f"date: {self.date_time_string()}",
        ]
        # Upstream header values were parsed by h11, which refuses CR and LF; dropped here too.
        head.extend(f"{name}: {_ONE_LINE.sub('', value)}" for name, value in reply.headers)
        head.append(f"content-length: {len(reply.body)}")
        if self.close_connection:
            head.append("connection: close")
        out = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(out if self.command == "HEAD" else out + reply.body)
        self.wfile.flush()
        if reply.after is not None:
            gateway.defer(reply.after)
        self.log_request(reply.status)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s", UNPRINTABLE.sub("?", format % args))


class Server(http.server.ThreadingHTTPServer):
    """A threading HTTP server whose threads never keep the process alive.

    Example::

        server = Server(("127.0.0.1", 0), handler_class)
    """

    daemon_threads = True
    allow_reuse_address = True


def serve(gateway: Served, host: str = "127.0.0.1", port: int = 0) -> tuple[Server, str]:
    """Serve ``gateway`` on a thread; returns the server (``shutdown()`` it) and its URL.

    Example::

        server, url = serve(gateway)
        ...
        server.shutdown()
    """
    handler = type("GatewayHandler", (_Handler,), {"gateway": gateway})
    server = Server((host, port), handler)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"http://{shown}:{bound_port}"
    threading.Thread(target=server.serve_forever, name="refold-gateway", daemon=True).start()
    return server, url
