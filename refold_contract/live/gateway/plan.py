"""The plan sink: where ``REFOLD_BASE_URL`` points in a ``--refold-live-plan`` run. It sends
nothing, refuses every request with 403 ``LIVE_PLAN`` and notes what arrived.

Example::

    with PlanSink.serve() as sink:
        os.environ["REFOLD_BASE_URL"] = sink.url
        ...
        sink.arrivals          # ["POST .../hubspot/actions/create_contact/execute"]
"""

from __future__ import annotations

import http.server
import threading

from refold_contract._core import endpoint as ep
from refold_contract.live.gateway.reply import envelope, show_path
from refold_contract.live.gateway.server import Server

__all__ = ["PlanSink"]


class PlanSink:
    """Where ``REFOLD_BASE_URL`` points in a ``--refold-live-plan`` run: it sends nothing,
    refuses every request with 403 ``LIVE_PLAN``, and notes what arrived, so a child process or
    a client outside ``refold_mock`` and ``refold_server`` shows up in the plan instead of
    reaching Refold.

    Example::

        with PlanSink.serve() as sink:
            os.environ["REFOLD_BASE_URL"] = sink.url
            ...
            sink.arrivals          # ["POST .../hubspot/actions/create_contact/execute"]
    """

    def __init__(self) -> None:
        self.arrivals: list[str] = []
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self.url = ""

    @classmethod
    def serve(cls) -> PlanSink:
        """Start it on a free loopback port, on a thread.

        Example::

            sink = PlanSink.serve()
            sink.url      # http://127.0.0.1:<port>
        """
        sink = cls()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if 0 < length <= 1 << 20:
                    self.rfile.read(length)
                else:
                    self.close_connection = True
                with sink._lock:
                    if len(sink.arrivals) < 1000:
                        sink.arrivals.append(f"{self.command} {show_path(self.path)}")
                reply = envelope(
                    403,
                    ep.LIVE_PLAN,
                    "refold-contract --refold-live-plan sends nothing; this request came from "
                    "outside refold_mock and refold_server (another client or a child process), "
                    "so it is listed in the plan as refused",
                )
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = Server(("127.0.0.1", 0), Handler)
        sink._server = server
        sink.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, name="refold-plan-sink", daemon=True).start()
        return sink

    def close(self) -> None:
        """Stop serving.

        Example::

            sink.close()
        """
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> PlanSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
