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
    # Headers and body go out in separate writes; with Nagle on, each reply would wait ~40 ms
    # for the client's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "refold-contract-gateway"
    sys_version = ""
    gateway: Served

    def _serve(self) -> None:
        gateway = self.gateway
        if self.headers.get("transfer-encoding"):
            reply = envelope(411, "VALIDATION_ERROR", "send a Content-Length, not chunks")
            self.close_connection = True
        else:
            try:
                length = int(self.headers.get("content-length") or 0)
            except ValueError:
                length = -1
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
                headers = {k.lower(): v for k, v in self.headers.items()}
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
