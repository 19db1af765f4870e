"""The shared gateway: one long-lived read-only gateway, run under its own OS user, that many
pytest sessions use at once without ever holding a Refold credential.

A session opens with the gateway's client token (``POST /__refold/shared/sessions``, the token in
``X-Refold-Gateway-Token``) and gets a session id and a control key of its own. Everything it
sends then goes to ``/s/<session id>/...``, to a :class:`~refold_contract.live.gateway.core.Gateway`
of its own: its own ledger, so its tests' refusals, reads and drift are its alone, and control
paths that answer only its key. Every session shares one pace, so jobs together stay under
Refold's rate limit. A session idle for ``idle_timeout`` seconds is closed. Anything else, and
every request without the client token or a live session, is answered 401.

The client token grants nothing at Refold: it only lets a test job open a session, whose
requests are judged like any other (reads only, deny by default).

Example::

    shared = SharedGateway(GatewayConfig(upstream="https://app.refold.ai"), credentials,
                           client_token=secrets.token_urlsafe(32))
    server, url = serve(shared)          # the same HTTP server as the plugin's own gateway
"""

from __future__ import annotations

import dataclasses
import hmac
import http.client
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from refold_contract._core import endpoint as ep
from refold_contract._core.pacing import TokenBucket
from refold_contract._guard.custody import Credentials
from refold_contract.catalogue import Catalogue
from refold_contract.config import Limits
from refold_contract.errors import ConfigurationError
from refold_contract.live.gateway.config import GatewayConfig
from refold_contract.live.gateway.control import CONTROL_HEADER, CONTROL_PREFIX, fetch_report
from refold_contract.live.gateway.core import Gateway
from refold_contract.live.gateway.policy import header
from refold_contract.live.gateway.reply import DeferredWork, GatewayReply, envelope
from refold_contract.live.recorder import scrub

if TYPE_CHECKING:
    from refold_contract.consumer import ConsumerContract

__all__ = ["CLIENT_TOKEN_HEADER", "SESSIONS_PATH", "SendBack", "SharedGateway", "SharedSession"]

logger = logging.getLogger("refold_contract.live.gateway")

#: The header a test job opens a session with: the gateway's client token.
CLIENT_TOKEN_HEADER = "x-refold-gateway-token"
#: Where a session is opened (POST, with the client token).
SESSIONS_PATH = "/__refold/shared/sessions"

_SESSION = re.compile(r"/s/([A-Za-z0-9_-]{20,64})(?=[/?#]|$)")


class SendBack:
    """A recorder for a shared gateway's session: it keeps each live read reply, scrubbed,
    for the plugin to write into the user's folder (the session report's ``examples``), and
    writes no file itself.

    Example::

        recorder = SendBack(linked_account_id="user_1", secrets=["tk_live_1"])
        recorder.record(action, {"limit": "1"}, reply)    # 'hubspot/get_contact (sent back)'
        recorder.examples[0]["params"]                     # {'limit': '1'}
    """

    def __init__(
        self,
        *,
        linked_account_id: str | None,
        secrets: tuple[str, ...],
        extra_keys: tuple[str, ...] = (),
        limit: int = 10_000,
    ) -> None:
        self._linked_account_id = linked_account_id
        self._secrets = secrets
        self._extra_keys = extra_keys
        self._lock = threading.Lock()
        self._limit = limit
        self.examples: list[dict[str, Any]] = []

    def _scrub(self, value: Any) -> Any:
        return scrub(
            value,
            linked_account_id=self._linked_account_id,
            secrets=self._secrets,
            extra_keys=self._extra_keys,
        )

    def record(self, action: Any, params: Any, body: Any) -> str:
        """Keep one reply (the latest for the same params); the label the findings show."""
        example = {
            "slug": action.slug,
            "action_id": action.action_id,
            "params": self._scrub(params if isinstance(params, dict) else {}),
            "response": self._scrub(body),
        }
        with self._lock:
            self.examples = [
                e
                for e in self.examples
                if (e["slug"], e["action_id"], e["params"])
                != (example["slug"], example["action_id"], example["params"])
            ]
            if len(self.examples) < self._limit:
                self.examples.append(example)
        return f"{action.slug}/{action.action_id} (sent back to the test session)"


@dataclasses.dataclass
class _Session:
    gateway: Gateway
    seen: float


class SharedGateway:
    """Many pytest sessions through one read-only gateway: each with its own ledger and control
    key, one pace for all, the credentials held here only.

    It answers the same HTTP server the plugin's own gateway does
    (:func:`~refold_contract.live.gateway.server.serve`).

    Example::

        shared = SharedGateway(config, credentials, client_token=token, idle_timeout=600)
        reply = shared.handle("POST", SESSIONS_PATH, {CLIENT_TOKEN_HEADER: token}, b"")
        opened = json.loads(reply.body)      # {"session": "...", "control_key": "..."}
    """

    def __init__(
        self,
        config: GatewayConfig,
        credentials: Credentials,
        *,
        client_token: str,
        idle_timeout: float = 600.0,
        catalogue: Catalogue | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if len(client_token) < 16:
            raise ValueError("the client token must be at least 16 characters")
        # Sessions serve tests only, and never write a file on anyone's behalf.
        self.config = dataclasses.replace(config, tests_only=True, record=False)
        self._credentials = credentials
        self._client_token = client_token
        self.idle_timeout = idle_timeout
        self.catalogue = (
            catalogue
            if catalogue is not None
            else Catalogue.load(*config.fixtures, include_builtin=True)
        )
        self._transport = transport
        self._clock = clock
        self.limits = Limits(
            max_depth=config.max_depth,
            max_body_bytes=config.max_body_bytes,
            max_reply_bytes=config.max_reply_bytes,
        )
        #: One pace for every session: jobs together stay under Refold's rate limit.
        self.bucket = TokenBucket(config.rate, config.burst)
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        self._deferred = DeferredWork("refold-shared-observer")
        self._closed = threading.Event()
        # A check that the credentials suffice, before anyone connects (raises like Gateway).
        Gateway(self.config, credentials, catalogue=self.catalogue, transport=transport).close()

    def __repr__(self) -> str:
        return f"<SharedGateway upstream={self.config.upstream!r} sessions={len(self._sessions)}>"

    # ------------------------------------------------------------------ sessions

    def open_session(
        self,
        *,
        record: bool = False,
        record_redact: tuple[str, ...] = (),
        contract: ConsumerContract | None = None,
    ) -> tuple[str, str]:
        """A new session: its id (the ``/s/<id>`` its requests go to) and its control key.
        With ``record``, its live read replies are kept, scrubbed, for its report; with a
        ``contract``, its drift is only what breaks it (``--refold-drift=contract:PATH``).

        Example::

            session_id, control_key = shared.open_session()
        """
        session_id = secrets.token_urlsafe(24)
        control_key = secrets.token_urlsafe(24)
        sendback = (
            SendBack(
                linked_account_id=self._credentials.linked_account_id,
                secrets=tuple(self._credentials.secrets),
                extra_keys=tuple(record_redact),
            )
            if record
            else None
        )
        gateway = Gateway(
            self.config,
            self._credentials,
            catalogue=self.catalogue,
            transport=self._transport,
            control_key=control_key,
            bucket=self.bucket,  # one pace for every session
            recorder=sendback,
            contract=contract,
        )
        with self._lock:
            self._sessions[session_id] = _Session(gateway, self._clock())
        logger.info("opened a session (%d open)", len(self._sessions))
        return session_id, control_key

    def close_session(self, session_id: str) -> dict[str, Any] | None:
        """Close a session: its report (as the plugin's gateway gives at the end), or ``None``
        for no such session.

        Example::

            report = shared.close_session(session_id)
        """
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is None:
            return None
        report = session.gateway.report()
        session.gateway.close()
        logger.info("closed a session (%d open)", len(self._sessions))
        return report

    def close_idle(self) -> int:
        """Close every session idle for ``idle_timeout`` seconds (a job that vanished); how
        many.

        Example::

            shared.close_idle()      # the server calls this every few seconds
        """
        now = self._clock()
        with self._lock:
            stale = [k for k, s in self._sessions.items() if now - s.seen > self.idle_timeout]
        for session_id in stale:
            self.close_session(session_id)
        return len(stale)

    def close(self) -> None:
        """Close every session and stop.

        Example::

            shared.close()
        """
        self._closed.set()
        for session_id in list(self._sessions):
            self.close_session(session_id)

    def reap_forever(self, every: float = 5.0) -> None:
        """Close idle sessions every ``every`` seconds until :meth:`close` (run on a thread).

        Example::

            threading.Thread(target=shared.reap_forever, daemon=True).start()
        """
        while not self._closed.wait(every):
            self.close_idle()

    # ------------------------------------------------------------------ requests

    def defer(self, work: Callable[[], None]) -> None:
        """Run a session's deferred work (drift) on the gateway's own worker thread.

        Example::

            shared.defer(reply.after)
        """
        self._deferred.put(work)

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> GatewayReply:
        """Answer one request, its deferred work done before it returns.

        Example::

            shared.handle("GET", f"/s/{session_id}/t/abc/api/v2/integration-schema/slack/"
                          "actions", {}, b"")
        """
        reply = self.respond(method, target, headers, body)
        reply.finish()
        return reply

    def respond(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> GatewayReply:
        """:meth:`handle` without the deferred work: call ``reply.finish()`` after sending.

        Example::

            reply = shared.respond("POST", SESSIONS_PATH, {CLIENT_TOKEN_HEADER: token}, b"")
        """
        if target == SESSIONS_PATH:
            if method != "POST":
                return envelope(405, "VALIDATION_ERROR", "open a session with POST")
            given = (header(headers, CLIENT_TOKEN_HEADER) or "").encode()
            if not hmac.compare_digest(given, self._client_token.encode()):
                return self._unauthorized()
            try:
                asked = json.loads(body or b"{}")
            except ValueError:
                asked = None
            if not isinstance(asked, dict):
                return envelope(400, "VALIDATION_ERROR", "open a session with a JSON object")
            redact = asked.get("record_redact") or []
            if not isinstance(redact, list) or not all(isinstance(r, str) for r in redact):
                return envelope(400, "VALIDATION_ERROR", "record_redact must be a list of regexes")
            try:
                for pattern in redact:
                    re.compile(pattern)
            except re.error:
                return envelope(400, "VALIDATION_ERROR", "record_redact holds a bad regex")
            contract = None
            if asked.get("contract") is not None:
                from refold_contract.consumer import ConsumerContract
                from refold_contract.errors import ContractFileError

                try:
                    contract = ConsumerContract.from_json(
                        asked["contract"], source="the test session's consumer contract"
                    )
                except ContractFileError as exc:
                    return envelope(
                        400, "VALIDATION_ERROR", f"a contract that does not load: {exc}"
                    )
            session_id, control_key = self.open_session(
                record=asked.get("record") is True,
                record_redact=tuple(redact),
                contract=contract,
            )
            payload = {"session": session_id, "control_key": control_key}
            return GatewayReply(
                200, json.dumps(payload).encode(), [("content-type", ep.JSON_CONTENT_TYPE)]
            )
        found = _SESSION.match(target)
        if found is None:
            return self._unauthorized()
        session_id = found.group(1)
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None:
                session.seen = self._clock()
        if session is None:
            return envelope(
                401,
                "UNAUTHORIZED",
                "no such session on the shared gateway (closed after it was idle, or the "
                "gateway restarted): start the pytest run again",
            )
        rest = target[found.end() :] or "/"
        if rest == CONTROL_PREFIX + "/close" and method == "POST":
            key = (header(headers, CONTROL_HEADER) or "").encode()
            control = session.gateway._control_key or ""
            if not hmac.compare_digest(key, control.encode()):
                return envelope(403, "FORBIDDEN", "the gateway's control paths are the plugin's")
            report = self.close_session(session_id) or {}
            return GatewayReply(
                200, json.dumps(report).encode(), [("content-type", ep.JSON_CONTENT_TYPE)]
            )
        return session.gateway.respond(method, rest, headers, body)

    @staticmethod
    def _unauthorized() -> GatewayReply:
        return envelope(
            401,
            "UNAUTHORIZED",
            "the shared read-only gateway serves pytest sessions opened with its client token: "
            "set REFOLD_GATEWAY_URL and REFOLD_GATEWAY_TOKEN (the file the gateway wrote with "
            "--client-token-file) and run pytest --refold-live",
        )


class SharedSession:
    """A pytest session's side of a shared gateway: opened with the client token, it has the
    address its tests use (``url``, ``<gateway>/s/<session>``) and the control key that only its
    own control paths answer. It quacks like
    :class:`~refold_contract.live.gateway.process.GatewayProcess` for the plugin.

    Example::

        session = SharedSession.open("http://gateway.internal:8700", token)
        session.url              # http://gateway.internal:8700/s/<session>
        session.report()         # this session's findings only
        session.stop()           # close it on the gateway
    """

    def __init__(self, url: str, control_key: str) -> None:
        self.url = url
        self.control_key = control_key

    def __repr__(self) -> str:
        return f"<SharedSession {urlsplit(self.url).netloc}>"

    @classmethod
    def open(
        cls,
        gateway_url: str,
        client_token: str,
        *,
        timeout: float = 10.0,
        record: bool = False,
        record_redact: tuple[str, ...] = (),
        contract: dict[str, Any] | None = None,
    ) -> SharedSession:
        """Open a session on the shared gateway at ``gateway_url``.

        Raises :class:`~refold_contract.errors.ConfigurationError`, naming the gateway (never
        the token), when it cannot be reached or refuses the token.

        Example::

            SharedSession.open(os.environ["REFOLD_GATEWAY_URL"],
                               os.environ["REFOLD_GATEWAY_TOKEN"])
        """
        parts = urlsplit(gateway_url)
        where = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme != "http" or not parts.hostname:
            raise ConfigurationError(
                f"the shared gateway's URL must be http://HOST:PORT, got {where or gateway_url!r}",
                hint="use the URL the gateway printed as its first line",
            )
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        try:
            asked: dict[str, Any] = {"record": record, "record_redact": list(record_redact)}
            if contract is not None:
                asked["contract"] = contract
            body = json.dumps(asked).encode()
            connection.request(
                "POST",
                parts.path.rstrip("/") + SESSIONS_PATH,
                body=body,
                headers={CLIENT_TOKEN_HEADER: client_token, "content-type": "application/json"},
            )
            response = connection.getresponse()
            data = response.read()
        except OSError as exc:
            raise ConfigurationError(
                f"cannot reach the shared read-only gateway at {where} ({type(exc).__name__})",
                hint="start it first (refold-contract gateway --shared), and check "
                "REFOLD_GATEWAY_URL",
            ) from None
        finally:
            connection.close()
        if response.status == 401:
            raise ConfigurationError(
                f"the shared read-only gateway at {where} refused the client token",
                hint="set REFOLD_GATEWAY_TOKEN to the contents of the file the gateway wrote "
                "with --client-token-file (it changes when the gateway restarts)",
            )
        try:
            opened = json.loads(data)
            session_id, control_key = str(opened["session"]), str(opened["control_key"])
        except (ValueError, KeyError, TypeError):
            raise ConfigurationError(
                f"the service at {where} answered {response.status} without a session: is it "
                "a refold-contract gateway started with --shared?",
                hint="use the URL the gateway printed as its first line",
            ) from None
        if not re.fullmatch(r"[A-Za-z0-9_-]{20,64}", session_id):
            raise ConfigurationError(f"the gateway at {where} gave a malformed session id")
        return cls(f"{where}{parts.path.rstrip('/')}/s/{session_id}", control_key)

    def report(self) -> dict[str, Any]:
        """This session's findings (drift, refusals), as the plugin's own gateway gives them.

        Example::

            session.report()["refused_count"]
        """
        return fetch_report(self.url, control_key=self.control_key)

    def stop(self, timeout: float = 10.0) -> None:
        """Close the session on the gateway (best effort: an idle session closes anyway).

        Example::

            session.stop()
        """
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
        try:
            connection.request(
                "POST",
                parts.path + CONTROL_PREFIX + "/close",
                headers={CONTROL_HEADER: self.control_key, "content-length": "0"},
            )
            connection.getresponse().read()
        except OSError:
            pass
        finally:
            connection.close()
