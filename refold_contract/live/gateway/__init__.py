"""The read-only gateway: the one process in a live run that holds the working credentials.

In live mode the plugin starts the gateway as a separate process on 127.0.0.1, hands it the
credentials over a pipe (never argv, never the environment), and points ``REFOLD_BASE_URL`` of
the test process, its xdist workers and its child processes at it. Every client then talks to the
gateway with placeholder credentials, and the gateway:

- places each request strictly: no query, no percent-encoding, no dot segments, no repeated
  slashes, exact lower-case paths, ids in Refold's alphabet, the right method; a request that
  does not map to exactly one of the three operations is refused;
- forwards the list and schema operations, and execute of read actions, to Refold with the
  working credentials, rebuilding the upstream URL from what it placed;
- refuses everything else with HTTP 403 in Refold's envelope, ``error_code``
  ``READ_ONLY_VIOLATION``, and remembers the refusal for the test that sent it;
- paces reads (``refold_rate``/``refold_burst``) once for all workers and processes;
- scrubs the credentials out of every reply, compares replies with the catalogue (drift) and
  records them when asked.

Tests are told apart by a path prefix the plugin puts in ``REFOLD_BASE_URL`` for each test:
``/t/<token>`` for a ``refold_live`` test, ``/m/<token>`` for any other test (refused: only
``refold_live`` tests go live). Each test process's own ``REFOLD_BASE_URL`` between tests is
``/w/<process token>``: a request there is the running test's (a client a session fixture made
is charged to the test using it), or, with no test running, refused. The plugin's gateway
refuses a request without a prefix (``GatewayConfig.tests_only``); the command's counts for the
whole session.

Also a command, ``refold-contract gateway``, for a read-only smoke check of a service written in
any language.

Example::

    with GatewayProcess.start(GatewayConfig(upstream="https://app.refold.ai"),
                              Credentials(api_key="tk_...", linked_account_id="user_1")) as gw:
        os.environ["REFOLD_BASE_URL"] = gw.url     # anything now reads through the gateway
"""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
import http.client
import http.server
import json
import logging
import os
import queue
import re
import secrets
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpcore
import httpx

from refold_contract._core import endpoint as ep
from refold_contract._core.endpoint import Placed, Unplaced, place
from refold_contract._core.json import JSONProblem, Redactor, loads
from refold_contract._guard.custody import SECRET_VARIABLES, Credentials
from refold_contract.access import access_of, read_only_hint, read_only_reason
from refold_contract.catalogue import Catalogue
from refold_contract.config import REFOLD_BURST, REFOLD_RATE, Limits
from refold_contract.errors import (
    ConfigurationError,
    RefoldError,
    ReplyTooLarge,
    ReplyWithheld,
)
from refold_contract.live import (
    Drift,
    Recorder,
    TokenBucket,
    listing_drift,
    reply_drift,
    schema_drift,
)

if TYPE_CHECKING:
    from refold_contract.consumer import ConsumerContract

__all__ = [
    "CONTROL_HEADER",
    "CONTROL_PREFIX",
    "Credentials",
    "Gateway",
    "GatewayConfig",
    "GatewayProcess",
    "GatewayReply",
    "Placed",
    "PlanSink",
    "begin_test",
    "collect_findings",
    "fetch_report",
    "forward",
    "place",
    "serve",
]

logger = logging.getLogger("refold_contract.live.gateway")

#: Paths under this prefix are the gateway's own (findings, report, health), never forwarded.
CONTROL_PREFIX = "/__refold/gateway"
#: The header that carries the control key of a gateway started by :class:`GatewayProcess`.
CONTROL_HEADER = "x-refold-gateway-control"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BEGIN = re.compile(r"/begin/([A-Za-z0-9_-]{1,64})(/[tm]/[A-Za-z0-9_-]{1,64})")
_REPLY_HEADERS = ("content-type", ep.HEADER_RETRY_AFTER, ep.HEADER_REQUEST_ID)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclasses.dataclass(frozen=True)
class GatewayConfig:
    """What the gateway needs besides the credentials. Nothing here is secret.

    Example::

        GatewayConfig(upstream="https://app.refold.ai", fixtures=("tests/refold_fixtures",),
                      record=True)
    """

    upstream: str = ep.DEFAULT_BASE_URL
    fixtures: tuple[str, ...] = ()
    record: bool = False
    record_redact: tuple[str, ...] = ()
    rate: float = REFOLD_RATE
    burst: int = REFOLD_BURST
    timeout: float = 30.0
    max_depth: int = Limits().max_depth
    max_body_bytes: int = Limits().max_body_bytes
    max_reply_bytes: int = Limits().max_reply_bytes
    #: A consumer contract: drift is then only what breaks it (``--refold-drift=contract:PATH``).
    contract: str | None = None
    #: Refuse a request without a test prefix (the plugin's gateway: only a ``refold_live`` test,
    #: through the address it is given, goes live). The command serves prefix-less requests.
    tests_only: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the pipe protocol)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GatewayConfig:
        """The inverse of :meth:`to_json`."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("fixtures", "record_redact"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


_PROCESS = re.compile(r"/w/([A-Za-z0-9_-]{1,64})(?=[/?#]|$)")


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
        """Run the deferred work, if any."""
        if self.after is not None:
            after, self.after = self.after, None
            after()


@dataclasses.dataclass
class _Findings:
    refused: list[str] = dataclasses.field(default_factory=list)
    drift: list[dict[str, str]] = dataclasses.field(default_factory=list)
    recorded: list[str] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)
    reads: int = 0

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _envelope(status: int, error_code: str, message: str) -> GatewayReply:
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
    ) -> None:
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
        self.redactor = Redactor(
            credentials.secrets, linked_account_id=credentials.linked_account_id
        )
        self.recorder: Recorder | None = None
        if config.record:
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
        self._bucket = TokenBucket(config.rate, config.burst)
        self.contract: ConsumerContract | None = None
        if config.contract:
            from refold_contract.consumer import ConsumerContract

            self.contract = ConsumerContract.load(config.contract)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending: dict[str | None, int] = {}
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._findings: dict[str | None, _Findings] = {}
        self._session = _Findings()
        # Per test process (/w/<process token>): the test running there now, as its prefix, so
        # a client made before the test (a session fixture's) is charged to the test using it.
        self._running: dict[str, str] = {}
        self._refusals = 0  # every one; the findings keep each distinct refusal once
        self._http = httpx.Client(
            base_url=config.upstream,
            timeout=config.timeout,
            transport=transport,
            follow_redirects=False,
        )
        self._pool: httpcore.ConnectionPool | None = None
        if transport is None:
            from refold_contract._core.transport import ssl_context

            self._pool = httpcore.ConnectionPool(ssl_context=ssl_context(), max_connections=32)

    def __repr__(self) -> str:
        return f"<Gateway upstream={self.config.upstream!r} {self._credentials!r}>"

    def close(self) -> None:
        """Close the upstream connections."""
        self._http.close()
        if self._pool is not None:
            self._pool.close()

    # ------------------------------------------------------------------ findings

    def _note(self, token: str | None, **kinds: Any) -> None:
        with self._lock:
            for findings in (self._findings.setdefault(token, _Findings()), self._session):
                for kind, items in kinds.items():
                    if kind == "reads":
                        findings.reads += items
                        continue
                    bucket = getattr(findings, kind)
                    bucket.extend(i for i in items if i not in bucket)

    def defer(self, work: Callable[[], None]) -> None:
        """Do ``work`` (drift, recording) on the gateway's own worker thread, so the next
        request on the same connection does not wait for it."""
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work_loop, name="refold-gateway-observer", daemon=True
                )
                self._worker.start()
        self._queue.put(work)

    def _work_loop(self) -> None:
        while True:
            work = self._queue.get()
            try:
                work()
            except Exception:  # a finding lost is better than a gateway that stops
                logger.exception("refold-contract gateway: observing a reply failed")

    def _wait_idle(self, token: str | None, timeout: float = 30.0) -> None:
        with self._idle:
            self._idle.wait_for(
                lambda: (self._pending.get(token, 0) if token is not None
                         else sum(self._pending.values())) == 0,
                timeout,
            )  # fmt: skip

    def begin(self, process: str, prefix: str) -> None:
        """The test with ``prefix`` (``/t/<token>`` or ``/m/<token>``) now runs in the test
        process ``process``: requests to ``/w/<process>`` are its until the next test begins
        there (a module or session fixture's teardown after it is charged to it too)."""
        with self._lock:
            self._running[process] = prefix

    def collect(self, token: str) -> dict[str, Any]:
        """What happened for one test's token since the last collect; forgets it."""
        self._wait_idle(token)
        with self._lock:
            found = self._findings.pop(token, _Findings())
            self._pending.pop(token, None)
        return found.to_json()

    def report(self) -> dict[str, Any]:
        """Everything found in the session, from every test, worker and process; and under
        ``refused_outside_tests`` the refusals no test collected: sent to no test's address, or
        after the test's end (a wider fixture's teardown)."""
        self._wait_idle(None)
        with self._lock:
            outside = [
                r
                if token is None
                else f"{r} (not collected with its test: a wider fixture's teardown after it, "
                "or a set-up that failed?)"
                for token, found in self._findings.items()
                for r in found.refused
            ]
            return {
                **self._session.to_json(),
                "refused_outside_tests": outside,
                "refused_count": self._refusals,
            }

    # ------------------------------------------------------------------ requests

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> GatewayReply:
        """Answer one request: refuse it, or forward it and return the scrubbed reply.

        Drift and recording are done before this returns; the server does them after the reply
        is sent instead (:meth:`respond`).
        """
        reply = self.respond(method, target, headers, body)
        reply.finish()
        return reply

    def respond(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> GatewayReply:
        """:meth:`handle` without the deferred work: call ``reply.finish()`` after sending.

        Findings of a test's token are collected only once its deferred work is done.
        """
        if target.startswith(CONTROL_PREFIX):
            return self._control(method, target, headers)
        process = _PROCESS.match(target)
        if process is not None:
            with self._lock:
                running = self._running.get(process.group(1))
            # No test running there: the request is placed without a prefix, as sent from
            # outside any test.
            target = (running or "") + target[process.end() :]
        placed = place(method, target)
        if isinstance(placed, Unplaced):
            described = f"{method.upper()} {_show_path(target)}"
            return self._refuse(
                placed.token,
                f"could not place {described}: {placed.reason}",
                f"refold-contract could not place {described}: {placed.reason}. The gateway "
                "serves only GET .../{slug}/actions, GET .../{slug}/actions/{action_id} and "
                "POST .../{slug}/actions/{action_id}/execute under /api/v2/integration-schema; "
                "nothing was sent to Refold",
            )
        if placed.token is None and self.config.tests_only:
            return self._refuse(
                None,
                f"{placed.what}: sent from outside any test's address",
                f"refused {placed.what}: it was not sent to a test's address. In a live pytest "
                "run only a refold_live test goes live, through the REFOLD_BASE_URL it sees while "
                "it runs (<gateway>/t/<token>); code outside a test (import time, a session "
                "fixture) or a URL built from the gateway's root (urljoin with a leading '/') "
                "sends to no test's address: append the API path to REFOLD_BASE_URL instead",
                error_code=ep.LIVE_TEST_REQUIRED,
            )
        if not placed.live:
            return self._refuse(
                placed.token,
                f"{placed.what}: the test is not marked refold_live",
                f"refused {placed.what}: this test is not marked refold_live, so nothing it "
                "sends goes live; mark it @pytest.mark.refold_live, or answer it with refold_mock "
                "(httpx) or refold_server (any other client)",
                error_code=ep.LIVE_TEST_REQUIRED,
            )
        account = _header(headers, ep.HEADER_LINKED_ACCOUNT)
        if (
            account
            and not self._credentials.session_token
            and account != self._credentials.linked_account_id
        ):
            return self._refuse(
                placed.token,
                f"{placed.what}: another linked account",
                f"refused {placed.what}: the read-only gateway reads only the linked account in "
                "REFOLD_LINKED_ACCOUNT_ID, and this request named another",
            )
        content = b""
        if placed.operation == "execute":
            assert placed.action_id is not None
            if access_of(self.catalogue, placed.slug, placed.action_id) != "read":
                reason = read_only_reason(placed.action_id)
                return self._refuse(
                    placed.token,
                    f"{placed.what}: {reason.removeprefix('it is ')}",
                    f"refused to send {placed.what}: {reason}, and live mode only sends reads; "
                    + read_only_hint(placed.slug, placed.action_id),
                )
            try:
                params = loads(
                    body or b"{}",
                    max_depth=self.limits.max_depth,
                    max_bytes=self.limits.max_body_bytes,
                    finite=True,
                )
            except JSONProblem as exc:
                status = 413 if exc.kind == "too_large" else 400
                return _envelope(status, "VALIDATION_ERROR", f"Request body refused: {exc}")
            content = json.dumps(params, ensure_ascii=False).encode()
        return self._forward(placed, content, body)

    def _refuse(
        self, token: str | None, note: str, message: str, *, error_code: str = ""
    ) -> GatewayReply:
        clean = self.redactor.text(note)
        with self._lock:
            self._refusals += 1
        self._note(token, refused=[clean])
        logger.warning("refused %s", _CONTROL.sub("?", clean))
        return _envelope(403, error_code or ep.READ_ONLY_VIOLATION, self.redactor.text(message))

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
            status, upstream_headers, chunks = self._send_upstream(
                method, placed.path, headers, content
            )
        except ReplyTooLarge:
            return _envelope(
                502,
                "SERVER_ERROR",
                f"Refold's reply to {placed.what} is over the gateway's limit of "
                f"{self.limits.max_reply_bytes:,} bytes",
            )
        except (httpx.TimeoutException, httpcore.TimeoutException):
            return _envelope(504, "SERVER_ERROR", f"Refold did not answer {placed.what} in time")
        except (httpx.HTTPError, httpcore.ConnectError, httpcore.NetworkError, OSError) as exc:
            return _envelope(
                502,
                "SERVER_ERROR",
                f"the gateway could not reach Refold for {placed.what}: "
                f"{type(exc).__name__}: {self.redactor.text(str(exc))[:200]}",
            )
        try:
            reply = self._scrub_reply(b"".join(chunks))
        except ReplyWithheld:
            return _envelope(
                502,
                "SERVER_ERROR",
                f"Refold's reply to {placed.what} could not be parsed (deeper than "
                f"{self.limits.max_depth} levels, or not JSON) and seems to hold a credential "
                "behind JSON escapes, so the gateway withheld it",
            )
        out_headers = [
            (name, self._reply_redactor.text(upstream_headers[name]))
            for name in _REPLY_HEADERS
            if name in upstream_headers
        ]
        self._note(placed.token, reads=1)
        observed = content or raw_params
        return GatewayReply(
            status,
            reply,
            out_headers,
            after=self._pending_work(
                placed.token, lambda: self._observe(placed, status, reply, observed)
            ),
        )

    def _pending_work(self, token: str | None, work: Callable[[], None]) -> Callable[[], None]:
        """``work``, counted as pending for ``token`` until it has run (:meth:`collect` waits)."""
        with self._lock:
            self._pending[token] = self._pending.get(token, 0) + 1

        def after() -> None:
            try:
                work()
            finally:
                with self._idle:
                    self._pending[token] -= 1
                    self._idle.notify_all()

        return after

    def _send_upstream(
        self, method: str, path: str, headers: dict[str, str], content: bytes
    ) -> tuple[int, dict[str, str], list[bytes]]:
        """One request to Refold, its reply read within the size limit.

        httpcore directly, when no test transport is set: the gateway builds every request
        itself, so httpx's URL merging, cookies and hooks are only cost on the hot path.
        """
        if self._pool is None:
            with self._http.stream(method, path, headers=headers, content=content) as up:
                return up.status_code, dict(up.headers), self._bounded(up.iter_bytes())
        timeout = self.config.timeout
        with self._pool.stream(
            method,
            self.config.upstream + path,
            headers=list(headers.items()),
            content=content,
            extensions={"timeout": {"connect": timeout, "read": timeout, "write": timeout,
                                    "pool": timeout}},
        ) as up:  # fmt: skip
            found = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in up.headers}
            if found.get("content-encoding", "identity") not in ("identity", ""):
                raise httpx.DecodingError(
                    "Refold's reply is compressed; the gateway asked for none"
                )
            return up.status, found, self._bounded(up.iter_stream())

    def _bounded(self, chunks: Iterator[bytes]) -> list[bytes]:
        out: list[bytes] = []
        size = 0
        for chunk in chunks:
            size += len(chunk)
            if size > self.limits.max_reply_bytes:
                raise ReplyTooLarge
            out.append(chunk)
        return out

    def _scrub_reply(self, body: bytes) -> bytes:
        redactor = self._reply_redactor
        if not redactor:
            return body
        if redactor.found_in(body) or b"\\u" in body or b"\\/" in body:
            try:
                parsed = loads(body, max_depth=self.limits.max_depth, max_bytes=None)
            except JSONProblem:
                body = redactor.binary(body)
                if redactor.found_escaped(body):
                    raise ReplyWithheld from None
                return body
            clean = redactor.value(parsed)
            if clean != parsed or redactor.found_in(body):
                return json.dumps(clean, ensure_ascii=False).encode()
        return body

    def _observe(self, placed: Placed, status: int, body: bytes, params_raw: bytes) -> None:
        if status != 200:
            return
        try:
            reply = loads(body, max_depth=self.limits.max_depth, max_bytes=None)
        except JSONProblem:
            return
        found: list[Drift] = []
        skipped: list[str] = []
        recorded: list[str] = []
        if placed.operation == "list_actions":
            if isinstance(reply, list):
                listing = [e for e in reply if isinstance(e, dict)]
                bad = [e for e in listing if not ep.is_valid_id(e.get("action_id"))]
                for _ in bad[:1]:
                    skipped.append(
                        f"{placed.slug}: Refold listed {len(bad)} action id(s) outside Refold's "
                        "own alphabet; they are not compared"
                    )
                good = [e for e in listing if e not in bad]
                found = listing_drift(self.catalogue, placed.slug, good)
        else:
            assert placed.action_id is not None
            action = self.catalogue.find(placed.slug, placed.action_id)
            if action is None:
                skipped.append(
                    f"{placed.slug}/{placed.action_id}: not in the catalogue, so not compared or "
                    f"recorded; add it first: refold-contract pull {placed.slug} "
                    f"{placed.action_id} --fixtures DIR"
                )
            elif placed.operation == "schema" and isinstance(reply, list):
                found = schema_drift(action, [p for p in reply if isinstance(p, dict)])
            elif placed.operation == "execute":
                found = reply_drift(action, reply)
                if self.recorder is not None:
                    try:
                        params = json.loads(params_raw) if params_raw else {}
                    except ValueError:
                        params = {}
                    if isinstance(params, dict) and not action.check(params):
                        try:
                            recorded.append(str(self.recorder.record(action, params, reply)))
                        except (RefoldError, OSError) as exc:
                            skipped.append(
                                f"{action.key}: not recorded: {self.redactor.text(str(exc))}"
                            )
                    else:
                        skipped.append(
                            f"{action.key}: a read without its required parameters was not "
                            "recorded (the catalogue could not load it)"
                        )
        if self.contract is not None:
            found = self._breaking(placed, reply, found)
        drift = [{k: self.redactor.text(v) for k, v in d.to_json().items()} for d in found]
        self._note(
            placed.token,
            drift=drift,
            recorded=recorded,
            skipped=[self.redactor.text(s) for s in skipped],
        )

    def _breaking(self, placed: Placed, reply: Any, found: list[Drift]) -> list[Drift]:
        """Of the drift, only what breaks the consumer contract (``--refold-drift=contract:``)."""
        from refold_contract.consumer import verify_reply

        assert self.contract is not None
        if placed.operation == "list_actions":
            return [
                d for d in found
                if d.kind == "action_removed" and self.contract.find(*d.action.split("/", 1))
            ]  # fmt: skip
        assert placed.action_id is not None
        entry = self.contract.find(placed.slug, placed.action_id)
        if entry is None:
            return []
        if placed.operation == "schema":
            always = set(entry.always_sent or ())
            return [d for d in found if d.kind == "parameter_now_required" and d.path not in always]
        return [
            Drift(f.action, f.kind, f.path or "$", f.detail)
            for f in verify_reply(entry, reply)
            if f.breaking
        ]

    def _control(self, method: str, target: str, headers: Mapping[str, str]) -> GatewayReply:
        if self._control_key is not None and not hmac.compare_digest(
            (_header(headers, CONTROL_HEADER) or "").encode(), self._control_key.encode()
        ):
            return _envelope(403, "FORBIDDEN", "the gateway's control paths are the plugin's")
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
        else:
            return _envelope(404, "SERVER_ERROR", "no such gateway control path")
        return GatewayReply(
            200, json.dumps(payload).encode(), [("content-type", ep.JSON_CONTENT_TYPE)]
        )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _show_path(target: str) -> str:
    """A request target fit for a message or a log line: one line, cut short."""
    shown = _CONTROL.sub("?", target)
    return shown if len(shown) <= 160 else shown[:157] + "..."


# ---------------------------------------------------------------------- the HTTP server


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each reply would wait ~40 ms
    # for the client's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "refold-contract-gateway"
    sys_version = ""
    gateway: Gateway

    def _serve(self) -> None:
        gateway = self.gateway
        if self.headers.get("transfer-encoding"):
            reply = _envelope(411, "VALIDATION_ERROR", "send a Content-Length, not chunks")
            self.close_connection = True
        else:
            try:
                length = int(self.headers.get("content-length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                reply = _envelope(400, "VALIDATION_ERROR", "a malformed Content-Length")
                self.close_connection = True
            elif length > gateway.limits.max_body_bytes:
                reply = _envelope(
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
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)
        self.wfile.flush()
        if reply.after is not None:
            gateway.defer(reply.after)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s", _CONTROL.sub("?", format % args))


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(gateway: Gateway, host: str = "127.0.0.1", port: int = 0) -> tuple[_Server, str]:
    """Serve ``gateway`` on a thread; returns the server (``shutdown()`` it) and its URL.

    Example::

        server, url = serve(gateway)
        ...
        server.shutdown()
    """
    handler = type("GatewayHandler", (_Handler,), {"gateway": gateway})
    server = _Server((host, port), handler)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"http://{shown}:{bound_port}"
    threading.Thread(target=server.serve_forever, name="refold-gateway", daemon=True).start()
    return server, url


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
        """Start it on a free loopback port, on a thread."""
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
                        sink.arrivals.append(f"{self.command} {_show_path(self.path)}")
                reply = _envelope(
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

        server = _Server(("127.0.0.1", 0), Handler)
        sink._server = server
        sink.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, name="refold-plan-sink", daemon=True).start()
        return sink

    def close(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> PlanSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------- the process


class GatewayProcess:
    """The gateway running as a child process; credentials go to it over its stdin.

    It exits when its stdin closes, so it never outlives the process that started it, even one
    killed with SIGKILL.

    Example::

        with GatewayProcess.start(config, credentials) as gateway:
            gateway.url            # http://127.0.0.1:<port>
            gateway.report()       # drift, refusals and recordings so far
    """

    def __init__(
        self, process: subprocess.Popen[bytes], url: str, log: Path, control_key: str
    ) -> None:
        self.process = process
        self.url = url
        self._log = log
        #: What the control paths ask for (:data:`CONTROL_HEADER`); hand it to no test process
        #: but the plugin's own (xdist workers get it in their ``workerinput``).
        self.control_key = control_key

    @classmethod
    def start(
        cls,
        config: GatewayConfig,
        credentials: Credentials,
        *,
        startup_timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
    ) -> GatewayProcess:
        """Start the gateway and wait until it listens."""
        control_key = secrets.token_urlsafe(24)
        fd, log_name = tempfile.mkstemp(prefix="refold-gateway-", suffix=".log")
        log = Path(log_name)
        child_env = dict(os.environ if env is None else env)
        for name in SECRET_VARIABLES:
            child_env.pop(name, None)  # the pipe carries them; the environment never does
        with os.fdopen(fd, "wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "refold_contract.live.gateway"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env=child_env,
            )
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            # Written without a local: a traceback that shows locals must not show the key.
            process.stdin.write(
                json.dumps(
                    {
                        "credentials": dataclasses.asdict(credentials),
                        "config": config.to_json(),
                        "control_key": control_key,
                    }
                ).encode()
                + b"\n"
            )
            process.stdin.flush()
        except BrokenPipeError:
            pass
        line = _read_line(process.stdout, startup_timeout)
        if not line.startswith(b"READY "):
            process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            detail = _tail(log)
            log.unlink(missing_ok=True)
            raise ConfigurationError(
                "the read-only gateway did not start" + (f": {detail}" if detail else ""),
                hint="check REFOLD_BASE_URL and the catalogue folders; nothing was sent",
            )
        return cls(process, line[6:].decode().strip(), log, control_key)

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def report(self) -> dict[str, Any]:
        """The session's findings (drift, refusals, recordings, skipped notes)."""
        return fetch_report(self.url, control_key=self.control_key)

    def stop(self, timeout: float = 10.0) -> None:
        """Close its stdin (it exits), then make sure it has."""
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.unlink(missing_ok=True)

    def __enter__(self) -> GatewayProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<GatewayProcess {self.url} pid={self.process.pid}>"


def _read_line(stream: Any, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    buffer = b""
    fd = stream.fileno()
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buffer += chunk
    return buffer.split(b"\n", 1)[0]


def _tail(log: Path) -> str:
    with contextlib.suppress(OSError):
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        return lines[-1][:300] if lines else ""
    return ""


def _control_call(
    url: str, method: str, path: str, control_key: str | None, timeout: float = 10.0
) -> Any:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=timeout
    )
    headers = {"content-length": "0"}
    if control_key is not None:
        headers[CONTROL_HEADER] = control_key
    try:
        connection.request(method, CONTROL_PREFIX + path, headers=headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise ConfigurationError(f"the gateway answered {response.status} to {path}")
    return json.loads(data)


def collect_findings(url: str, token: str, *, control_key: str | None = None) -> dict[str, Any]:
    """One test's findings from the gateway at ``url`` (the root URL, no test prefix).

    Raises ``OSError`` when the gateway cannot be reached.

    Example::

        collect_findings("http://127.0.0.1:49152", "3f2a9c")["refused"]
    """
    result: dict[str, Any] = _control_call(url, "POST", f"/collect/{token}", control_key)
    return result


def begin_test(url: str, process: str, prefix: str, *, control_key: str | None = None) -> None:
    """Tell the gateway at ``url`` that the test with ``prefix`` (``/t/<token>`` or
    ``/m/<token>``) now runs in the test process whose address is ``<url>/w/<process>``.

    Example::

        begin_test(gateway_url, "9c1d", "/t/3f2a9c")
    """
    _control_call(url, "POST", f"/begin/{process}{prefix}", control_key)


def fetch_report(url: str, *, control_key: str | None = None) -> dict[str, Any]:
    """The whole session's findings from the gateway at ``url``.

    Example::

        fetch_report(gateway_url)["drift"]
    """
    result: dict[str, Any] = _control_call(url, "GET", "/report", control_key)
    return result


# ---------------------------------------------------------------------- the child's main


def child_main() -> int:
    """Entry point of ``python -m refold_contract.live.gateway``: credentials, config on stdin."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    line = sys.stdin.buffer.readline()
    try:
        message = json.loads(line)
        credentials = Credentials(**message["credentials"])
        config = GatewayConfig.from_json(message["config"])
        gateway = Gateway(config, credentials, control_key=message.get("control_key"))
    except (ValueError, KeyError, TypeError) as exc:
        print(
            f"refold-contract gateway: bad start-up message: {type(exc).__name__}", file=sys.stderr
        )
        return 2
    except RefoldError as exc:
        print(f"refold-contract gateway: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    del line, message
    server, url = serve(gateway)
    sys.stdout.write(f"READY {url}\n")
    sys.stdout.flush()
    # The parent holds our stdin open for as long as it wants us; EOF means stop.
    with contextlib.suppress(OSError, ValueError):
        while sys.stdin.buffer.read(1024):
            pass
    server.shutdown()
    gateway.close()
    return 0
