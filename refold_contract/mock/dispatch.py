"""From a request to an answer, recorded: what the mock does for each request, and nothing else.

:class:`Dispatcher` places the request (one of Refold's three operations, below one of the base
URLs), authenticates it, paces it (Refold's rate limit, when asked), applies the faults a test
scripted, validates an execute body, and asks its reply sources in turn: the script's data stubs
first, then the sandbox, then the catalogue's examples. Every request is journaled, once. Nothing
here patches httpx or sleeps: an :class:`~refold_contract.mock.emulator.Answer` carries any delay
or timeout for the caller to act on. In a live test the request is not answered here but
forwarded: :meth:`Dispatcher.forward` places it and says where it goes, whoever sends it hands
the reply to :meth:`Dispatcher.received`, which journals it.

Example::

    dispatcher = Dispatcher(catalogue, emulator, script, journal, checks, bases=[base_url])
    answer = dispatcher.dispatch(httpx.Request("POST", url, json={}, headers=headers))
    answer.status, answer.delay, answer.timeout
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import httpx

from refold_contract._core import endpoint as ep
from refold_contract._core.json import Redactor
from refold_contract._core.pacing import TokenBucket
from refold_contract.catalogue import Action, Catalogue
from refold_contract.config import Limits
from refold_contract.errors import SandboxError
from refold_contract.mock.checks import Checks
from refold_contract.mock.emulator import Answer, Emulator, ParsedBody, parse_body
from refold_contract.mock.journal import Journal
from refold_contract.mock.sandboxing import Stateful
from refold_contract.mock.scripting import Reply, Script, Stub, render

if TYPE_CHECKING:
    from refold_contract.consumer import ReadRecorder

__all__ = ["Dispatcher", "Forward", "ReplySource", "Throttle", "credentials", "error_code"]

# Rate-limit buckets a long-running server keeps, one per linked account a client names.
MAX_BUCKETS = 4096
REPLY_HEADERS = frozenset({"content-type", ep.HEADER_RETRY_AFTER, ep.HEADER_REQUEST_ID})
CREDENTIAL_HEADERS = {
    ep.HEADER_API_KEY.encode(): 0,
    ep.HEADER_LINKED_ACCOUNT.encode(): 1,
    ep.HEADER_AUTHORIZATION.encode(): 2,
}


def credentials(raw: Sequence[tuple[bytes, bytes]]) -> tuple[str | None, str | None, str]:
    """``(x-api-key, linked_account_id, authorization)`` in one pass over the raw headers.

    >>> credentials([(b"X-Api-Key", b"tk_1"), (b"linked_account_id", b"u1")])
    ('tk_1', 'u1', '')
    """
    found: list[str | None] = [None, None, ""]
    for name, value in raw:
        slot = CREDENTIAL_HEADERS.get(name.lower())
        if slot is not None:
            found[slot] = value.decode("latin-1")
    return found[0], found[1], found[2] or ""


class ReplySource(Protocol):
    """Something that may answer a valid execute: the script, the sandbox, or one of your own.

    ``reply`` returns ``(answer, journal note)``, or ``None`` to leave the call to the next
    source (the last word is the catalogue's example).

    Example::

        class Always:
            def reply(self, action, parsed, linked):
                return Answer(200, b'{"node_status":"Success","data":{}}'), "always"
    """

    def reply(
        self, action: Action, parsed: ParsedBody, linked: str | None
    ) -> tuple[Answer, str | None] | None: ...


class Throttle:
    """Refold's own limit, 20 requests a second with bursts of 5, per linked account.

    Example::

        Throttle().check("user_1")       # None, or a 429 Answer with Retry-After
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}

    def check(self, who: str) -> Answer | None:
        """``None`` while ``who`` is within the limit, else Refold's 429."""
        bucket = self.buckets.get(who)
        if bucket is None:
            # Bounded, so a client inventing accounts cannot grow a long-running server; the
            # oldest account forgotten gets a fresh bucket if it comes back.
            if len(self.buckets) >= MAX_BUCKETS:
                del self.buckets[next(iter(self.buckets))]
            bucket = self.buckets[who] = TokenBucket(clock=self.clock)
        wait = bucket.try_take()
        if wait <= 0:
            return None
        return Emulator.error(429, "Too Many Requests", retry_after=str(max(1, math.ceil(wait))))


@dataclasses.dataclass(frozen=True, slots=True)
class Forward:
    """A live test's request, placed, on its way to the read-only gateway.

    ``target`` is the path and query to send, ``headers`` the only ones sent (the gateway adds
    the credentials).

    Example::

        forward = dispatcher.forward(request)
        reply = link.send(forward.method, forward.target, forward.headers, forward.content)
        response = dispatcher.received(forward, reply)
    """

    method: str
    path: str
    target: str
    headers: list[tuple[str, str]]
    content: bytes
    operation: str
    slug: str
    action_id: str | None
    params: Any
    linked: str | None


class Dispatcher:
    """One mock's request handling: placement, faults, reply sources, the journal.

    Example::

        dispatcher.answer("GET", "/api/v2/integration-schema/slack/actions", raw_headers, b"")
    """

    def __init__(
        self,
        catalogue: Catalogue,
        emulator: Emulator,
        script: Script,
        journal: Journal,
        checks: Checks,
        *,
        bases: Sequence[str],
        limits: Limits | None = None,
        rate_limit: bool = False,
        throttle: Throttle | None = None,
        consumer: ReadRecorder | None = None,
        stateful: Stateful | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.emulator = emulator
        self.script = script
        self.journal = journal
        self.checks = checks
        self.prefixes = [(urlsplit(b), b) for b in bases]
        self.limits = limits or Limits()
        self.rate_limit = rate_limit
        self.throttle = throttle or Throttle()
        self.consumer = consumer
        self.stateful = stateful or Stateful(None)
        #: Asked in order for a valid execute; a new kind of reply plugs in here.
        self.sources: list[ReplySource] = [script, self.stateful]
        #: Apps disconnected, for every linked account (``None``) or for these.
        self.disconnected: dict[str, frozenset[str] | None] = {}

    def relative_path(self, url: httpx.URL) -> str:
        """The path of ``url`` below whichever base URL it falls under (the path itself when
        it falls under none)."""
        path = url.path
        for parts, _ in self.prefixes:
            prefix = parts.path
            if (
                prefix
                and path.startswith(prefix)
                and (len(path) == len(prefix) or path[len(prefix)] == "/")
                and url.host == (parts.hostname or "")
            ):
                return path[len(prefix) :] or "/"
        return path

    def dispatch(self, request: httpx.Request) -> Answer:
        """:meth:`answer` for an ``httpx.Request``."""
        path = self.relative_path(request.url)
        return self.answer(request.method, path, request.headers.raw, request.content)

    def answer(
        self,
        method: str,
        path: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
    ) -> Answer:
        """The core: one request (method, path below the base URL, raw headers, body) to one
        :class:`Answer`, recorded in the journal."""
        placed = ep.match(method, path)
        if placed is None:
            return self.unplaced(method, path, headers)
        operation, slug, action_id = placed
        api_key, linked, authorization = credentials(headers)
        params: Any = None
        note: str | None = None
        stub: Stub | None = None
        reply: Reply | None = None
        refused = self.emulator.authenticate(api_key, linked, authorization)
        if refused is None and self.rate_limit:
            refused = self.throttle.check(linked or authorization or api_key or "")
        if refused is not None:
            answer = refused
        else:
            parsed = parse_body(body, self.limits) if operation == "execute" else None
            if parsed is not None:
                params = parsed.params
            key = parsed.key if parsed is not None else None
            # Faults and delays come before Refold's validation; data stubs are a reply source.
            taken = self.script.take(operation, slug, action_id, key, data=False)
            if taken is not None:
                stub, reply = taken
            if reply is not None:
                answer = render(reply)
            elif operation == "list_actions":
                answer = self.emulator.list_actions(slug)
                if answer.status == 404:
                    self.checks.miss(slug, None)
            elif operation == "schema":
                assert action_id is not None
                answer = self.emulator.schema(slug, action_id)
                if answer.status == 404:
                    self.checks.miss(slug, action_id)
            else:
                assert action_id is not None
                assert parsed is not None
                answer, note = self._execute(slug, action_id, parsed, linked)
        if stub is not None:
            answer.delay = stub.delay
            if reply is not None and not reply.is_data:
                note = f"scripted by {stub.origin}"
        if answer.timeout:
            note = "timed out (scripted)"
        elif (
            self.consumer is not None
            and operation == "execute"
            and answer.status == 200
            and action_id is not None
            and answer.content_type.startswith("application/json")
        ):
            self.consumer.record_call(slug, action_id, params)
            answer.track = (slug, action_id)
        self.journal.log(operation, method, path, slug, action_id, params, linked, answer, note,
                         headers=headers)  # fmt: skip
        return answer

    def _execute(
        self, slug: str, action_id: str, parsed: ParsedBody, linked: str | None
    ) -> tuple[Answer, str | None]:
        action = self.catalogue.find(slug, action_id)
        if action is None:
            self.checks.miss(slug, action_id)
            return Emulator.action_not_found(slug, action_id), "action not in the catalogue"
        if slug in self.disconnected:
            accounts = self.disconnected[slug]
            if accounts is None or (linked or "") in accounts:
                return Emulator.disconnected(slug, linked or ""), "app disconnected (scripted)"
        refused = self.emulator.validate(action, parsed)
        if refused is not None:
            return refused, None
        assert parsed.key is not None
        if isinstance(parsed.params, dict):  # strict refused these above; here, named
            known = action.parameter_map
            unknown = [name for name in parsed.params if name not in known]
            if unknown:
                self.checks.unknown_parameters(action.key, unknown, list(known))
        try:
            for source in self.sources:
                sourced = source.reply(action, parsed, linked)
                if sourced is not None:
                    return sourced
            if action.state is not None and action.example_for(parsed.params, parsed.key) is None:
                # Replay mode, no example has these params: the state block computes it.
                computed = self.stateful.compute(action, parsed, linked)
                if computed is not None:
                    return computed
        except SandboxError as exc:
            # A request the sandbox cannot answer as the app would (SOQL or a search outside
            # its subset): no reply the app would not send; the test fails, naming it.
            return self.checks.cannot_answer(action.key, exc), "the sandbox cannot answer this"
        answer, note = self.emulator.replay(action, parsed.key, parsed.params)
        if note is not None:
            # No example has these params and no state block could compute a reply: the one
            # given is unrelated to them, and named (a warning; a failure when strict).
            self.checks.unmatched(action.key, parsed.params)
        return answer, note

    def unplaced(self, method: str, path: str, headers: Sequence[tuple[bytes, bytes]]) -> Answer:
        """Refold's 404 for a path that is none of the three operations, journaled as such."""
        answer = Emulator.unplaced(method, path)
        _, linked, _ = credentials(headers)
        self.journal.log("unplaced", method, path, None, None, None, linked, answer,
                         "not one of the three actions operations", unplaced=True)  # fmt: skip
        return answer

    def disconnect(self, slug: str, linked_account_id: str | None = None) -> None:
        """Every execute of ``slug`` (for one linked account, or all) gets Refold's reply for an
        app with no connection."""
        if not self.catalogue.has_app(slug):
            self.catalogue.get(slug, "*")  # raises ActionNotInCatalogue with suggestions
        if linked_account_id is None:
            self.disconnected[slug] = None
        else:
            current = self.disconnected.get(slug, frozenset())
            if current is not None:
                self.disconnected[slug] = current | {linked_account_id}

    def clear(self) -> None:
        """Forget the disconnections and the rate-limit buckets."""
        self.disconnected.clear()
        self.throttle.buckets.clear()

    # ------------------------------------------------------------------ live tests

    def forward(self, request: httpx.Request) -> Forward:
        """Place a live test's request for the gateway; ``UnmatchedRequest`` (journaled) if it
        is none of the three operations."""
        path = self.relative_path(request.url)
        placed = ep.match(request.method, path)
        if placed is None:
            self.unplaced(request.method, path, request.headers.raw)
            raise self.checks.unplaced_error()
        _, linked, _ = credentials(request.headers.raw)
        content = request.content
        operation, slug, action_id = placed
        params = parse_body(content, self.limits).params if operation == "execute" else None
        headers = [("accept", "application/json")]
        if content:
            headers.append(
                ("content-type", request.headers.get("content-type", "application/json"))
            )
        if linked:
            headers.append((ep.HEADER_LINKED_ACCOUNT, linked))
        query = request.url.query.decode("latin-1")
        target = path + (f"?{query}" if query else "")
        return Forward(request.method, path, target, headers, content, operation, slug,
                       action_id, params, linked)  # fmt: skip

    def received(
        self, forward: Forward, reply: tuple[int, list[tuple[str, str]], bytes]
    ) -> httpx.Response:
        """Journal the gateway's reply to ``forward``; the reply as the client gets it."""
        status, reply_headers, body = reply
        content_type = next(
            (v for k, v in reply_headers if k.lower() == "content-type"), ep.JSON_CONTENT_TYPE
        )
        refused = status == 403 and error_code(body) == ep.READ_ONLY_VIOLATION
        note = "refused by the read-only gateway" if refused else "live"
        linked = forward.linked
        # The journal of a live test names the linked account by a placeholder: it is a
        # customer's, and a journal ends up in assertion messages.
        params = (
            Redactor((), linked_account_id=linked).value(forward.params)
            if linked
            else forward.params
        )
        self.journal.log(forward.operation, forward.method, forward.path, forward.slug,
                         forward.action_id, params, Redactor.LINKED_ACCOUNT if linked else None,
                         Answer(status, body, content_type), note)  # fmt: skip
        # A refusal is the gateway's 403, as any client gets it (RefoldClient raises
        # ReadOnlyViolation for it); the test fails for it at teardown either way.
        kept = [(k, v) for k, v in reply_headers if k.lower() in REPLY_HEADERS]
        return httpx.Response(status, headers=kept, content=body)


def error_code(body: bytes) -> str | None:
    """The error code of a Refold error envelope, or ``None``.

    >>> error_code(b'{"error_code": "READ_ONLY_VIOLATION"}')
    'READ_ONLY_VIOLATION'
    """
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if isinstance(value, dict):
        code = value.get(ep.KEY_ERROR_CODE) or value.get(ep.KEY_ERROR_CODE_ALT)
        return code if isinstance(code, str) else None
    return None
