"""What the gateway answers: :class:`GatewayReply`, Refold's error envelope, and request targets
made fit for a message or a log line.

Example::

    reply = envelope(403, "READ_ONLY_VIOLATION", "refused POST .../create_contact/execute")
    reply.status, json.loads(reply.body)["error_code"]      # 403, "READ_ONLY_VIOLATION"
"""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import re
import threading
from collections.abc import Callable

from refold_contract._core import endpoint as ep

__all__ = ["UNPRINTABLE", "DeferredWork", "GatewayReply", "envelope", "show_path"]

#: Control characters: replaced with ``?`` before a request's text reaches a log line.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


@dataclasses.dataclass
class GatewayReply:
    """What the gateway answers: a status, a few headers and a body.

    Example::

        reply = gateway.handle("GET", "/api/v2/integration-schema/hubspot/actions", {}, b"")
        reply.status, json.loads(reply.body)
    """

    status: int
    body: bytes
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    #: Work to do once the reply is on its way (drift, recording): off the caller's clock.
    after: Callable[[], None] | None = dataclasses.field(default=None, repr=False)

    def finish(self) -> None:
        """Run the deferred work, if any.

        Example::

            reply = gateway.respond("GET", path, {}, b"")
            ...                    # send it
            reply.finish()         # then compare it with the catalogue
        """
        if self.after is not None:
            after, self.after = self.after, None
            after()


def envelope(status: int, error_code: str, message: str) -> GatewayReply:
    """A reply of ``status`` in Refold's error envelope.

    Example::

        envelope(404, "SERVER_ERROR", "no such gateway control path").status      # 404
    """
    import uuid

    types = {400: "BAD_REQUEST", 403: "FORBIDDEN", 404: "NOT_FOUND", 413: "PAYLOAD_TOO_LARGE",
             502: "BAD_GATEWAY", 504: "GATEWAY_TIMEOUT"}  # fmt: skip
    body = {
        ep.KEY_STATUS_CODE: status,
        ep.KEY_HTTP_ERROR_TYPE: types.get(status, "ERROR"),
        ep.KEY_ERROR_CODE: error_code,
        ep.KEY_MESSAGE: message,
        ep.KEY_REQUEST_ID: str(uuid.uuid4()),
    }
    return GatewayReply(status, json.dumps(body).encode(), [("content-type", ep.JSON_CONTENT_TYPE)])


def show_path(target: str) -> str:
    """A request target fit for a message or a log line: one line, cut short.

    Example::

        show_path("/api/v2/x\\r\\nInjected: 1")      # "/api/v2/x??Injected: 1"
    """
    shown = UNPRINTABLE.sub("?", target)
    return shown if len(shown) <= 160 else shown[:157] + "..."


class DeferredWork:
    """One worker thread, started on first use, that runs what a reply left to do (drift,
    recording) after it is sent, so the next request on the connection does not wait; a piece
    that fails is logged, never stops the thread.

    Example::

        work = DeferredWork("refold-gateway-observer")
        work.put(reply.after)
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def put(self, work: Callable[[], None]) -> None:
        """Run ``work`` on the worker thread, after what is already queued."""
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._worker.start()
        self._queue.put(work)

    def _loop(self) -> None:
        while True:
            work = self._queue.get()
            try:
                work()
            except Exception:  # a finding lost is better than a gateway that stops
                logging.getLogger("refold_contract.live.gateway").exception(
                    "refold-contract gateway: observing a reply failed"
                )
