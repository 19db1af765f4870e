"""The gateway's logic, without sockets: :class:`Gateway` answers one request at a time.

It judges the request (:mod:`~refold_contract.live.gateway.policy`), refuses it or forwards it
to Refold with the working credentials over its own connection pool, paced, the reply read
within the size limit and scrubbed of the credentials; answers the control paths; and keeps
the findings in its :class:`~refold_contract.live.gateway.ledger.Ledger`.

Example::

    gateway = Gateway(GatewayConfig(upstream="http://127.0.0.1:8700"),
                      Credentials(api_key="tk_1", linked_account_id="user_1"))
    gateway.handle("GET", "/api/v2/integration-schema/hubspot/actions", {}, b"").status
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from refold_contract._core import endpoint as ep
from refold_contract._core.endpoint import Placed
from refold_contract._core.json import JSONProblem, Redactor, loads
from refold_contract._core.pacing import TokenBucket
from refold_contract._guard.custody import Credentials
from refold_contract.catalogue import Catalogue
from refold_contract.config import Limits
from refold_contract.errors import (
    ConfigurationError,
    RefoldConnectionError,
    ReplyTooLarge,
    ReplyWithheld,
)
from refold_contract.live.gateway.config import GatewayConfig
from refold_contract.live.gateway.control import CONTROL_HEADER, CONTROL_PREFIX
from refold_contract.live.gateway.ledger import Ledger
from refold_contract.live.gateway.observe import NOT_PARSED, Observer, RecordSink
from refold_contract.live.gateway.policy import Refusal, header, judge
from refold_contract.live.gateway.reply import (
    UNPRINTABLE,
    DeferredWork,
    GatewayReply,
    envelope,
)
from refold_contract.live.gateway.upstream import Upstream
from refold_contract.live.recorder import Recorder

if TYPE_CHECKING:
    from refold_contract.consumer import ConsumerContract

__all__ = ["Gateway"]

#: One logger for the whole gateway, whichever of its modules logs.
logger = logging.getLogger("refold_contract.live.gateway")

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BEGIN = re.compile(r"/begin/([A-Za-z0-9_-]{1,64})(/[tm]/[A-Za-z0-9_-]{1,64})")
_END = re.compile(r"/end/([A-Za-z0-9_-]{1,64})")
_REPLY_HEADERS = ("content-type", ep.HEADER_RETRY_AFTER, ep.HEADER_REQUEST_ID)


class Gateway:
    """The gateway's logic, without sockets: :meth:`handle` one request, keep the findings.

    ``transport`` lets tests answer upstream requests in process (``httpx.MockTransport``).

    Example::

        gateway = Gateway(GatewayConfig(upstream="http://127.0.0.1:8700"),
                          Credentials(api_key="tk_1", linked_account_id="user_1"))
        reply = gateway.handle("POST", "/api/v2/integration-schema/hubspot/actions/"
                               "create_contact/execute", {}, b"{}")
        reply.status      # 403, READ_ONLY_VIOLATION
    """

    def __init__(
        self,
        config: GatewayConfig,
        credentials: Credentials,
        *,
        catalogue: Catalogue | None = None,
        transport: httpx.BaseTransport | None = None,
        control_key: str | None = None,
        bucket: TokenBucket | None = None,
        recorder: RecordSink | None = None,
        contract: ConsumerContract | None = None,
    ) -> None:
        """``bucket``, ``recorder`` and ``contract``, when given, stand in for what ``config``
        would build: a shared gateway's sessions share one pace, send recordings back, and
        take their consumer contract from the test session."""
        #: When set, the control paths answer only a request carrying it (CONTROL_HEADER): the
        #: plugin's gateway is steered by the plugin alone, not by any process on loopback.
        self._control_key = control_key
        if not credentials.session_token and not (
            credentials.api_key and credentials.linked_account_id
        ):
            raise ConfigurationError(
                "the gateway needs REFOLD_API_KEY and REFOLD_LINKED_ACCOUNT_ID, or "
                "REFOLD_SESSION_TOKEN",
                hint="export them in the gateway's own environment",
            )
        self.config = config
        self._credentials = credentials
        self.catalogue = (
            catalogue
            if catalogue is not None
            else Catalogue.load(*config.fixtures, include_builtin=True)
        )
        self.limits = Limits(
            max_depth=config.max_depth,
            max_body_bytes=config.max_body_bytes,
            max_reply_bytes=config.max_reply_bytes,
        )
        # What tests see back: their own credentials never. What is printed or stored: the
        # linked account is replaced as well.
        self._reply_redactor = Redactor(credentials.secrets)
        self._ascii_secrets = all(secret.isascii() for secret in credentials.secrets)
        self.redactor = Redactor(
            credentials.secrets, linked_account_id=credentials.linked_account_id
        )
        self.recorder: RecordSink | None = recorder
        if recorder is None and config.record:
            if not config.fixtures:
                raise ConfigurationError(
                    "recording writes into your own catalogue folder; pass one with --fixtures",
                    hint="e.g. --fixtures tests/refold_fixtures",
                )
            self.recorder = Recorder(
                Path(config.fixtures[-1]),
                self.catalogue,
                linked_account_id=credentials.linked_account_id,
                secrets=credentials.secrets,
                extra_keys=config.record_redact,
            )
        self._bucket = bucket if bucket is not None else TokenBucket(config.rate, config.burst)
        self.contract: ConsumerContract | None = contract
        if contract is None and config.contract:
            from refold_contract.consumer import ConsumerContract

            self.contract = ConsumerContract.load(config.contract)
        self._ledger = Ledger()
        self._observer = Observer(
            self.catalogue,
            self._ledger,
            recorder=self.recorder,
            contract=self.contract,
            redactor=self.redactor,
            max_depth=self.limits.max_depth,
        )
        self._deferred = DeferredWork("refold-gateway-observer")
        self._http = httpx.Client(
            base_url=config.upstream,
            timeout=config.timeout,
            transport=transport,
            follow_redirects=False,
        )
        self._upstream: Upstream | None = None
        if transport is None:
            self._upstream = Upstream(config.upstream, timeout=config.timeout)

    def __repr__(self) -> str:
        return f"<Gateway upstream={self.config.upstream!r} {self._credentials!r}>"

    def close(self) -> None:
        """Close the upstream connections.

        Example::

            gateway.close()
        """
        self._http.close()
        if self._upstream is not None:
            self._upstream.close()

    # ------------------------------------------------------------------ findings

    def defer(self, work: Callable[[], None]) -> None:
        """Do ``work`` (drift, recording) on the gateway's own worker thread, so the next
        request on the same connection does not wait for it.

        Example::

            gateway.defer(reply.after)      # after the reply is sent
        """
        self._deferred.put(work)

    def begin(self, process: str, prefix: str) -> None:
        """The test with ``prefix`` (``/t/<token>`` or ``/m/<token>``) now runs in the test
        process ``process``: requests to ``/w/<process>`` are its until the next test begins
        there (a module or session fixture's teardown after it is charged to it too).

        Example::

            gateway.begin("9c1d", "/t/3f2a9c")
        """
        self._ledger.begin(process, prefix)

    def end(self, process: str) -> None:
        """No more tests run in the test process ``process``: requests to ``/w/<process>``
        belong to no test from now on (refused, and listed in the report).

        Example::

            gateway.end("9c1d")
        """
        self._ledger.end(process)

    def collect(self, token: str) -> dict[str, Any]:
        """What happened for one test's token since the last collect; forgets it.

        Example::

            gateway.collect("3f2a9c")["refused"]
        """
        return self._ledger.collect(token)

    def report(self) -> dict[str, Any]:
        """Everything found in the session, from every test, worker and process; and under
        ``refused_outside_tests`` the refusals no test collected: sent to no test's address, or
        after the test's end (a wider fixture's teardown).

        Example::

            gateway.report()["drift"]
        """
        report = self._ledger.report()
        # A shared gateway's session sends its recordings back (a SendBack recorder): the
        # plugin writes them into the user's folder; the gateway writes no file for anyone.
        examples = getattr(self.recorder, "examples", None)
        if examples is not None:
            report["examples"] = list(examples)
        return report

    # ------------------------------------------------------------------ requests

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> GatewayReply:
        """Answer one request: refuse it, or forward it and return the scrubbed reply.

        Drift and recording are done before this returns; the server does them after the reply
        is sent instead (:meth:`respond`).

        Example::

            gateway.handle("GET", "/api/v2/integration-schema/hubspot/actions", {}, b"")
        """
        reply = self.respond(method, target, headers, body)
        reply.finish()
        return reply

    def respond(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> GatewayReply:
        """:meth:`handle` without the deferred work: call ``reply.finish()`` after sending.

        Findings of a test's token are collected only once its deferred work is done.

        Example::

            reply = gateway.respond("GET", "/api/v2/integration-schema/hubspot/actions", {}, b"")
            ...                    # send it
            reply.finish()
        """
        if target.startswith(CONTROL_PREFIX):
            return self._control(method, target, headers)
        decision = judge(
            method,
            self._ledger.attribute(target),
            headers,
            body,
            catalogue=self.catalogue,
            credentials=self._credentials,
            limits=self.limits,
            tests_only=self.config.tests_only,
        )
        if isinstance(decision, Refusal):
            return self._refuse(
                decision.token, decision.note, decision.message, error_code=decision.error_code
            )
        if isinstance(decision, GatewayReply):
            return decision
        return self._forward(decision.placed, decision.content, body)

    def _refuse(
        self, token: str | None, note: str, message: str, *, error_code: str = ""
    ) -> GatewayReply:
        clean = self.redactor.text(note)
        self._ledger.refused(token, clean)
        logger.warning("refused %s", UNPRINTABLE.sub("?", clean))
        return envelope(403, error_code or ep.READ_ONLY_VIOLATION, self.redactor.text(message))

    def _forward(self, placed: Placed, content: bytes, raw_params: bytes) -> GatewayReply:
        wait = self._bucket.take()
        if wait > 0:
            time.sleep(wait)
        headers = {
            "accept": "application/json",
            "accept-encoding": "identity",
            **self._credentials.headers(),
        }
        if placed.operation == "execute":
            headers["content-type"] = "application/json"
        method = "POST" if placed.operation == "execute" else "GET"
        try:
            status, upstream_headers, body = self._send_upstream(
                method, placed.path, headers, content
            )
        except ReplyTooLarge:
            return envelope(
                502,
                "SERVER_ERROR",
                f"Refold's reply to {placed.what} is over the gateway's limit of "
                f"{self.limits.max_reply_bytes:,} bytes",
            )
        except (httpx.TimeoutException, TimeoutError):
            return envelope(504, "SERVER_ERROR", f"Refold did not answer {placed.what} in time")
        except (httpx.HTTPError, RefoldConnectionError, OSError) as exc:
            return envelope(
                502,
                "SERVER_ERROR",
                f"the gateway could not reach Refold for {placed.what}: "
                f"{type(exc).__name__}: {self.redactor.text(str(exc))[:200]}",
            )
        try:
            reply, parsed = self._scrubbed(body)
        except ReplyWithheld as exc:
            logger.warning("withheld Refold's reply to %s: %s", placed.what, exc)
            return envelope(502, "SERVER_ERROR", f"Refold's reply to {placed.what} {exc}")
        out_headers = [
            (name, self._reply_redactor.text(upstream_headers[name]))
            for name in _REPLY_HEADERS
            if name in upstream_headers
        ]
        self._ledger.note(placed.token, reads=1)
        observed = content or raw_params
        return GatewayReply(
            status,
            reply,
            out_headers,
            after=self._ledger.pending_work(
                placed.token,
                lambda: self._observer.observe(placed, status, reply, observed, parsed=parsed),
            ),
        )

    def _send_upstream(
        self, method: str, path: str, headers: dict[str, str], content: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """One request to Refold, its reply read within the size limit.

        :class:`~refold_contract.live.gateway.upstream.Upstream` when no test transport is set:
        the gateway builds every request itself, so a client library's URL merging, cookies
        and hooks are only cost on the hot path.
        """
        limit = self.limits.max_reply_bytes
        if self._upstream is not None:
            status, found, body = self._upstream.send(
                method, path, headers, content, max_bytes=limit
            )
        else:
            with self._http.stream(method, path, headers=headers, content=content) as up:
                status, found = up.status_code, dict(up.headers)
                out: list[bytes] = []
                size = 0
                for chunk in up.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ReplyTooLarge
                    out.append(chunk)
                body = b"".join(out)
        if found.get("content-encoding", "identity") not in ("identity", ""):
            raise httpx.DecodingError("Refold's reply is compressed; the gateway asked for none")
        return status, found, body

    def _scrub_reply(self, body: bytes) -> bytes:
        """The reply as tests may see it: parsed whole, its credentials replaced.

        Every reply is parsed: one that is not strict JSON, too deep, or gives a key twice in an
        object (keys compared as decoded) is ambiguous, since clients would read it differently
        from the gateway, and what the gateway cannot read it cannot scrub. Such a reply raises
        :class:`ReplyWithheld` (whose message completes "Refold's reply to X ..."), and nothing
        of it passes. An empty body has nothing to hide and passes.
        """
        return self._scrubbed(body)[0]

    def _scrubbed(self, body: bytes) -> tuple[bytes, Any]:
        """:meth:`_scrub_reply`, and the value parsed from what it returns (``NOT_PARSED`` for
        an empty body), so observing the reply need not parse it again."""
        if not body:
            return body, NOT_PARSED
        try:
            parsed = loads(body, max_depth=self.limits.max_depth, max_bytes=None, unique_keys=True)
        except JSONProblem as problem:
            raise ReplyWithheld(self._withheld_because(problem)) from None
        redactor = self._reply_redactor
        if not redactor:
            return body, parsed
        if self._ascii_secrets and not redactor.found_escaped(body):
            # No secret in the body, escapes decoded: then none in any string parsed from it
            # (an ASCII secret cannot hide in a surrogate pair). Skips a walk of the reply.
            return body, parsed
        clean = redactor.value(parsed)
        if clean != parsed or redactor.found_in(body):
            return json.dumps(clean, ensure_ascii=False).encode(), clean
        return body, parsed

    def _withheld_because(self, problem: JSONProblem) -> str:
        if problem.kind == "duplicate_key" and problem.key is not None:
            shown = repr(UNPRINTABLE.sub("?", self.redactor.text(problem.key)))
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            return (
                f"gives the key {shown} twice in one object, which clients can read "
                "differently; the gateway withheld it whole"
            )
        reason = {
            "too_deep": f"is nested deeper than the gateway's {self.limits.max_depth} levels",
            "not_utf8": "is not UTF-8",
            "not_finite": "holds NaN or Infinity, which is not JSON",
            "number_too_long": "holds a number too long to convert",
        }.get(problem.kind, "is not JSON")
        return f"{reason}, so the gateway could not check it for credentials; it withheld it whole"

    def _control(self, method: str, target: str, headers: Mapping[str, str]) -> GatewayReply:
        if self._control_key is not None and not hmac.compare_digest(
            (header(headers, CONTROL_HEADER) or "").encode(), self._control_key.encode()
        ):
            return envelope(403, "FORBIDDEN", "the gateway's control paths are the plugin's")
        path = target[len(CONTROL_PREFIX) :]
        if method == "GET" and path == "/health":
            payload: Any = {"ok": True}
        elif method == "GET" and path == "/report":
            payload = self.report()
        elif method == "POST" and path.startswith("/collect/") and _TOKEN.fullmatch(path[9:]):
            payload = self.collect(path[9:])
        elif method == "POST" and (begun := _BEGIN.fullmatch(path)):
            self.begin(begun.group(1), begun.group(2))
            payload = {"ok": True}
        elif method == "POST" and (ended := _END.fullmatch(path)):
            self.end(ended.group(1))
            payload = {"ok": True}
        else:
            return envelope(404, "SERVER_ERROR", "no such gateway control path")
        return GatewayReply(
            200, json.dumps(payload).encode(), [("content-type", ep.JSON_CONTENT_TYPE)]
        )
