"""The sans-IO half both clients share: settings, requests, replies, retries and their logging.

:class:`Protocol` resolves the settings, builds each request, parses each reply (an error reply
becomes the right exception through :func:`api_error`), decides whether and when to retry, and
logs; the clients in :mod:`refold_contract.client.sync` and :mod:`refold_contract.client.aio`
only send and sleep. Log records go to the ``refold_contract.client`` logger.

Example::

    proto = Protocol(api_key="tk_...", linked_account_id="user_1")
    call = proto.build(http, "execute", "hubspot", "get_contact", {"limit": "1"})
    result = proto.parse(call, http.send(call.request))
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import time
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

from refold_contract._core import endpoint as ep
from refold_contract._core.endpoint import Operation
from refold_contract._core.json import JSONProblem, Redactor, canonical_json, loads
from refold_contract.access import access_of, live_refusal, read_conditions
from refold_contract.catalogue import Catalogue
from refold_contract.client.models import ActionInfo, ActionResult, RetryPolicy, parse_retry_after
from refold_contract.config import Limits, Settings
from refold_contract.errors import (
    ActionNotFound,
    ApplicationNotFound,
    AuthenticationError,
    ConfigurationError,
    InvalidIdentifier,
    InvalidLinkedAccount,
    InvalidParams,
    LinkedAccountRequired,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ReadOnlyViolation,
    RefoldAPIError,
    RefoldConnectionError,
    RefoldError,
    RefoldTimeout,
    ServerError,
)

if TYPE_CHECKING:
    from refold_contract.consumer import ReadRecorder

__all__ = [
    "RETRY_STATUSES",
    "Call",
    "ClientBase",
    "Protocol",
    "action_infos",
    "api_error",
    "logger",
    "reply_tracker",
    "track_replies",
    "unwrap_error",
]

logger = logging.getLogger("refold_contract.client")

RETRY_STATUSES = frozenset({429, 502, 503, 504})

# Set by the pytest plugin under --refold-consumer-contract: ``ActionResult.data`` then records
# what the code reads. None (the default) costs one check per reply.
_consumer: ReadRecorder | None = None


def track_replies(recorder: ReadRecorder | None) -> None:
    """Make every client record the reads of ``ActionResult.data`` in ``recorder`` (or stop).

    Example::

        track_replies(ReadRecorder())    # the plugin, under --refold-consumer-contract
        track_replies(None)              # and at the end of the session
    """
    global _consumer
    _consumer = recorder


def reply_tracker() -> ReadRecorder | None:
    """The recorder :func:`track_replies` set, or ``None`` when replies are not tracked.

    Example::

        assert reply_tracker() is None   # outside --refold-consumer-contract
    """
    return _consumer


#: The least time worth starting a retry with, in seconds.
_LEAST_ATTEMPT = 0.25


class _RefoldAuth(httpx.Auth):
    """Adds the credential headers to each request; its repr never shows them."""

    __slots__ = ("_api_key", "_session_token")

    def __init__(self, api_key: str | None, session_token: str | None) -> None:
        self._api_key = api_key
        self._session_token = session_token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._session_token:
            request.headers[ep.HEADER_AUTHORIZATION] = f"Bearer {self._session_token}"
        elif self._api_key:
            request.headers[ep.HEADER_API_KEY] = self._api_key
        yield request

    def __repr__(self) -> str:
        return "<RefoldAuth>"


@dataclasses.dataclass(frozen=True)
class Call:
    """One request on its way: what it is for, the request itself, and whether it may be retried.

    Example::

        call = proto.build(http, "schema", "hubspot", "get_contact")
        call.request.url.path     # '/api/v2/integration-schema/hubspot/actions/get_contact'
    """

    operation: Operation
    slug: str
    action_id: str | None
    request: httpx.Request
    retryable: bool


_HOP_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection"})


_WITHHELD = (
    b"<refold-contract withheld this reply: it could not be parsed, and it seems to hold your "
    b"credential behind JSON escapes>"
)


class Protocol:
    """What both clients share: settings, request building, reply parsing, retry decisions.

    It does no I/O: a client sends :attr:`Call.request`, reads the reply within the limits,
    and hands it to :meth:`parse`; on an error it asks :meth:`should_retry` how long to sleep.

    Example::

        proto = Protocol(api_key="tk_...", linked_account_id="user_1", read_only=True)
        call = proto.build(http, "list_actions", "hubspot")
        proto.parse(call, http.send(call.request))       # the list of actions, as sent
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        linked_account_id: str | None = None,
        session_token: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        retry: RetryPolicy | None = None,
        max_time: float | None = None,
        catalogue: Catalogue | None = None,
        read_only: bool = False,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = Settings.resolve(
            env=env,
            api_key=api_key,
            linked_account_id=linked_account_id,
            session_token=session_token,
            base_url=base_url,
            timeout=timeout,
            retries=retries,
        )
        if not self.settings.has_credentials:
            raise ConfigurationError(
                "no Refold credentials: neither an API key nor a session token is set",
                hint="set REFOLD_API_KEY and REFOLD_LINKED_ACCOUNT_ID (or REFOLD_SESSION_TOKEN), "
                "or pass api_key= and linked_account_id=",
            )
        policy = retry or RetryPolicy(retries=self.settings.retries)
        if max_time is not None:
            policy = dataclasses.replace(policy, max_time=float(max_time))
        if policy.max_time <= 0:
            raise ConfigurationError(f"max_time={policy.max_time!r} must be positive")
        self.retry = policy
        self.auth = _RefoldAuth(self.settings.api_key, self.settings.session_token)
        # Replies that echo the client's own credentials are scrubbed before anyone sees them.
        self.redactor = Redactor(self.settings.secrets)
        self.read_only = read_only
        self.limits = limits or Limits()
        self._catalogue = catalogue
        self.rng = random.Random()

    @property
    def catalogue(self) -> Catalogue:
        if self._catalogue is None:
            self._catalogue = Catalogue.builtin()
        return self._catalogue

    def is_read(self, slug: str, action_id: str, params: Mapping[str, Any] | None = None) -> bool:
        """True when the catalogue has the action and makes it a read (with ``params``)."""
        return access_of(self.catalogue, slug, action_id, params) == "read"

    def headers(self, linked_account_id: str | None) -> dict[str, str]:
        account = linked_account_id or self.settings.linked_account_id
        headers = {"accept": "application/json"}
        if (account and not self.settings.session_token) or (account and linked_account_id):
            headers[ep.HEADER_LINKED_ACCOUNT] = account
        return headers

    def build(
        self,
        client: httpx.Client | httpx.AsyncClient,
        operation: Operation,
        slug: str,
        action_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        linked_account_id: str | None = None,
    ) -> Call:
        if not ep.is_valid_id(slug):
            raise InvalidIdentifier("slug", slug)
        if operation != "list_actions" and not ep.is_valid_id(action_id):
            raise InvalidIdentifier("action id", action_id)
        headers = self.headers(linked_account_id)
        if operation == "list_actions":
            request = client.build_request("GET", ep.list_actions_path(slug), headers=headers)
            retryable = True
        elif operation == "schema":
            assert action_id is not None
            path = ep.schema_path(slug, action_id)
            request = client.build_request("GET", path, headers=headers)
            retryable = True
        else:
            assert action_id is not None
            # A write is never retried: the execute endpoint has no idempotency key.
            sent = params if isinstance(params, Mapping) else {}
            refusal = live_refusal(self.catalogue, slug, action_id, sent)
            retryable = refusal is None
            path = ep.execute_path(slug, action_id)
            if self.read_only and refusal is not None:
                known = self.catalogue.find(slug, action_id)
                raise ReadOnlyViolation(
                    slug=slug,
                    action_id=action_id,
                    method="POST",
                    path=path,
                    reason=refusal,
                    known=known is not None,
                    conditions=read_conditions(known.read_when, sent) if known else "",
                )
            if params is not None and not isinstance(params, Mapping):
                raise TypeError(
                    f"{slug}/{action_id}: params must be a mapping of parameter names to values "
                    f"(a dict), not {type(params).__name__}; e.g. "
                    f"execute({slug!r}, {action_id!r}, {{'limit': '10'}})"
                )
            body = dict(params or {})
            try:
                request = client.build_request("POST", path, json=body, headers=headers)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{slug}/{action_id}: params are not JSON ({exc}); convert the values "
                    "first, e.g. a datetime with .isoformat()"
                ) from None
        return Call(operation, slug, action_id, request, retryable)

    def what_was_meant(self, call: Call) -> str | None:
        """For a 404 on an app or action: close names from the catalogue, or how to add one."""
        catalogue = self.catalogue
        if not catalogue.has_app(call.slug):
            close = catalogue.suggest_app(call.slug)
            if close:
                return f"did you mean {' or '.join(close)}? (apps: {', '.join(catalogue.apps())})"
            return None
        if call.action_id is None:
            return None
        close = catalogue.suggest(call.slug, call.action_id)
        if close:
            return f"did you mean {' or '.join(close)}?"
        return (
            f"{call.slug} has no action {call.action_id} in the catalogue either; list them with "
            f"client.list_actions({call.slug!r}), or refold-contract actions {call.slug}"
        )

    def attempt_deadline(self, started: float, call_deadline: float) -> float:
        return min(started + self.settings.timeout, call_deadline)

    def set_timeouts(self, call: Call, deadline: float) -> None:
        left = max(deadline - time.monotonic(), 0.001)
        call.request.extensions["timeout"] = {
            "connect": left,
            "read": left,
            "write": left,
            "pool": left,
        }

    def check_size(self, call: Call, response: httpx.Response, size: int) -> None:
        if size > self.limits.max_reply_bytes:
            raise self.protocol_error(
                call,
                response,
                f"reply is over the limit of {self.limits.max_reply_bytes:,} bytes "
                "(Limits.max_reply_bytes)",
                text="",
            )

    @staticmethod
    def finished(response: httpx.Response, content: bytes) -> httpx.Response:
        """A response holding the body read within the limits, decoded, for the caller."""
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _HOP_HEADERS]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=content,
            request=response.request,
            extensions={"http_version": response.http_version.encode()},
        )

    def parse(self, call: Call, response: httpx.Response) -> Any:
        status = response.status_code
        response = self.scrub(response)
        try:
            body = (
                loads(response.content, max_depth=self.limits.max_depth, max_bytes=None)
                if response.content
                else None
            )
        except JSONProblem as exc:
            what = "reply is not JSON" if exc.kind == "not_json" else f"reply refused: {exc}"
            raise self.protocol_error(call, response, what) from None
        if status >= 400:
            if not isinstance(body, dict):
                raise self.protocol_error(call, response, "error reply is not Refold's envelope")
            error_code = body.get(ep.KEY_ERROR_CODE) or body.get(ep.KEY_ERROR_CODE_ALT)
            if status == 403 and error_code == ep.READ_ONLY_VIOLATION:
                message = body.get(ep.KEY_MESSAGE)
                raise ReadOnlyViolation(
                    slug=call.slug,
                    action_id=call.action_id,
                    method=call.request.method,
                    path=call.request.url.path,
                    detail=self.redactor.text(message) if isinstance(message, str) else None,
                )
            retry_after = parse_retry_after(response.headers.get(ep.HEADER_RETRY_AFTER))
            error = api_error(
                status, body, slug=call.slug, action_id=call.action_id, retry_after=retry_after
            )
            if error_code == ep.LIVE_TEST_REQUIRED:
                error.hint = (
                    "mark the test @pytest.mark.refold_live, or use the refold_mock fixture; "
                    "outside a test, or with a URL not built on REFOLD_BASE_URL, the message "
                    "says which"
                )
            elif error_code == ep.LIVE_PLAN:
                error.hint = (
                    "--refold-live-plan sends nothing; answer this client with refold_mock "
                    "(httpx) or refold_server (any client) to see its requests in the plan"
                )
            elif isinstance(error, (ActionNotFound, ApplicationNotFound)):
                error.hint = self.what_was_meant(call) or error.hint
            raise error
        if not 200 <= status < 300:
            raise self.protocol_error(call, response, f"unexpected HTTP status {status}")
        if call.operation != "execute":
            if not isinstance(body, list):
                raise self.protocol_error(call, response, "expected a JSON array")
            return body
        if not isinstance(body, dict) or not isinstance(body.get(ep.KEY_NODE_STATUS), str):
            raise self.protocol_error(call, response, 'expected {"node_status": ..., "data": ...}')
        http_status = body.get(ep.KEY_HTTP_STATUS)
        assert call.action_id is not None
        data = body.get(ep.KEY_DATA)
        if _consumer is not None:
            data = _consumer.track_reply(
                call.slug, call.action_id, data, root="$.data", node_status=body[ep.KEY_NODE_STATUS]
            )
        return ActionResult(
            slug=call.slug,
            action_id=call.action_id,
            node_status=body[ep.KEY_NODE_STATUS],
            data=data,
            http_status=http_status
            if isinstance(http_status, int) and not isinstance(http_status, bool)
            else None,
            response=response,
        )

    def scrub(self, response: httpx.Response) -> httpx.Response:
        """The response with the client's own credentials replaced, if the server echoed them:
        in the raw bytes, behind JSON escapes (``\\u0074k_...``), and in the headers."""
        if not self.redactor:
            return response
        content = response.content
        changed = any(self.redactor.found_in(v) for v in response.headers.values())
        if self.redactor.found_in(content):
            content = self.redactor.binary(content)
            changed = True
        if b"\\u" in content or b"\\/" in content:
            try:
                parsed = loads(content, max_depth=self.limits.max_depth, max_bytes=None)
            except JSONProblem:
                if self.redactor.found_escaped(content):
                    content = _WITHHELD
                    changed = True
            else:
                clean = self.redactor.value(parsed)
                if clean != parsed:
                    content = json.dumps(clean, ensure_ascii=False).encode()
                    changed = True
        if not changed:
            return response
        headers = [
            (k, self.redactor.text(v))
            for k, v in response.headers.items()
            if k.lower() not in _HOP_HEADERS
        ]
        return httpx.Response(
            response.status_code, headers=headers, content=content, request=response.request
        )

    def protocol_error(
        self, call: Call, response: httpx.Response, message: str, *, text: str | None = None
    ) -> ProtocolError:
        if text is None:
            text = response.content[:400].decode("utf-8", "replace")
        where = f"{call.slug}/{call.action_id}" if call.action_id else call.slug
        return ProtocolError(
            f"{where}: {message}",
            status_code=response.status_code,
            content_type=self.redactor.text(response.headers.get("content-type") or "") or None,
            snippet=self.redactor.text(text)[:200],
            slug=call.slug,
            action_id=call.action_id,
        )

    def should_retry(
        self, call: Call, attempt: int, elapsed: float, error: RefoldError
    ) -> float | None:
        """Seconds to wait before trying again, or ``None`` to give up and raise.

        ``elapsed`` counts the time spent so far, sleeps included (the sleep is injectable,
        so it is counted rather than measured).
        """
        if not call.retryable or attempt > self.retry.retries:
            return None
        retry_after: float | None = None
        if isinstance(error, RefoldAPIError):
            if error.status_code not in RETRY_STATUSES:
                return None
            if isinstance(error, RateLimitError):
                retry_after = error.retry_after
        elif isinstance(error, ProtocolError):
            if error.status_code not in RETRY_STATUSES:
                return None
        elif not isinstance(error, (RefoldTimeout, RefoldConnectionError)):
            return None
        wait = self.retry.delay(attempt, retry_after, self.rng)
        # A retry left with a sliver of the budget would only time out, and hide the error.
        if elapsed + wait + _LEAST_ATTEMPT >= self.retry.max_time:
            return None
        logger.info(
            "%s %s failed (%s); retry %d of %d in %.2fs",
            call.request.method,
            call.request.url.path,
            type(error).__name__,
            attempt,
            self.retry.retries,
            wait,
        )
        return wait

    def timed_out(self, call: Call, deadline: float, call_deadline: float) -> RefoldTimeout:
        url = self.url(call)
        if deadline >= call_deadline:
            why = f"the call's max_time of {self.retry.max_time:g} s passed"
        else:
            why = f"the attempt took longer than timeout={self.settings.timeout:g} s"
        return RefoldTimeout(f"{call.request.method} {url} timed out: {why}", url=url)

    @staticmethod
    def url(call: Call) -> str:
        u = call.request.url
        return f"{u.scheme}://{u.netloc.decode()}{u.path}"

    def transport_error(
        self, call: Call, exc: BaseException, deadline: float, call_deadline: float
    ) -> RefoldError:
        if isinstance(exc, (httpx.TimeoutException, httpcore.TimeoutException, TimeoutError)):
            return self.timed_out(call, deadline, call_deadline)
        if isinstance(exc, RefoldError):
            return exc  # e.g. EgressBlocked, raised inside the transport
        url = self.url(call)
        detail = self.redactor.text(str(exc))[:200]
        return RefoldConnectionError(
            f"{call.request.method} {url} failed: {type(exc).__name__}"
            + (f": {detail}" if detail else ""),
            url=url,
        )

    def log(self, call: Call, response: httpx.Response, started: float) -> None:
        logger.debug(
            "%s %s -> %d (%.0f ms)",
            call.request.method,
            call.request.url.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )

    def describe(self, cls: str) -> str:
        s = self.settings
        auth = "session_token" if s.session_token else "api_key"
        return (
            f"<{cls} base_url={s.base_url!r} auth={auth} "
            f"linked_account_id={'<set>' if s.linked_account_id else None}"
            f"{' read_only' if self.read_only else ''}>"
        )


def unwrap_error(exc: BaseException) -> BaseException:
    """A refold-contract error inside httpx's wrapper (an EgressBlocked from a socket), if any.

    Example::

        except httpx.TransportError as exc:
            raise proto.transport_error(call, unwrap_error(exc), deadline, call_deadline)
    """
    seen: set[int] = set()
    inner: BaseException | None = exc
    while inner is not None and id(inner) not in seen:
        if isinstance(inner, RefoldError):
            return inner
        seen.add(id(inner))
        inner = inner.__cause__ or inner.__context__
    return exc


class ClientBase:
    """The I/O-free half of both clients: each builds its :class:`Protocol` from its arguments.

    Example::

        class RefoldClient(ClientBase):
            def __init__(self, api_key: str | None = None, ...) -> None:
                self._proto = Protocol(api_key=api_key, ...)
    """

    _proto: Protocol

    @property
    def settings(self) -> Settings:
        """The resolved settings (secrets masked in its repr)."""
        return self._proto.settings

    def is_read(self, slug: str, action_id: str) -> bool:
        """True when this client treats ``slug/action_id`` as a read (catalogue, then name).

        Example::

            client.is_read("hubspot", "get_contact")     # True
        """
        return self._proto.is_read(slug, action_id)

    def __repr__(self) -> str:
        return self._proto.describe(type(self).__name__)


def action_infos(slug: str, raw: list[Any]) -> list[ActionInfo]:
    """The parsed list-actions reply of ``slug`` as :class:`ActionInfo` entries.

    Example::

        action_infos("hubspot", [{"action_id": "get_contact", "name": "Get contact"}])
    """
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("action_id"), str):
            raise ProtocolError(
                f"{slug}: list-actions entry {i} has no string 'action_id'",
                status_code=200,
                content_type=ep.JSON_CONTENT_TYPE,
                snippet=canonical_json(item)[:200],
                slug=slug,
            )
        out.append(
            ActionInfo(
                action_id=item["action_id"],
                name=str(item.get("name") or item["action_id"]),
                description=str(item.get("description") or ""),
                tag=item.get("tag") if isinstance(item.get("tag"), str) else None,
            )
        )
    return out


_BY_STATUS: dict[int, type[RefoldAPIError]] = {
    400: InvalidParams,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def api_error(
    status_code: int,
    body: Mapping[str, Any] | None,
    *,
    slug: str | None = None,
    action_id: str | None = None,
    retry_after: float | None = None,
) -> RefoldAPIError:
    """Build the right :class:`RefoldAPIError` subclass for an error reply.

    >>> err = api_error(400, {"error_code": "VALIDATION_ERROR",
    ...                      "message": "Required parameter 'email' is missing"})
    >>> type(err).__name__, err.error_code
    ('InvalidParams', 'VALIDATION_ERROR')
    """
    body = body or {}
    error_code = body.get(ep.KEY_ERROR_CODE) or body.get(ep.KEY_ERROR_CODE_ALT)
    message = str(body.get(ep.KEY_MESSAGE) or body.get(ep.KEY_ERROR_CODE_ALT) or "").strip()
    if not message:
        message = f"Refold answered HTTP {status_code} with no message"
    cls: type[RefoldAPIError]
    cls = ServerError if status_code >= 500 else _BY_STATUS.get(status_code, RefoldAPIError)
    if cls is NotFoundError:
        if error_code == "MISSING_REQUIRED_FIELD":
            cls = LinkedAccountRequired
        elif message.startswith("Application app_type"):
            cls = ApplicationNotFound
        elif message.startswith("Action ") and " not found in Application " in message:
            cls = ActionNotFound
    elif cls is InvalidParams and error_code == "INVALID_LINKED_ACCOUNT_ID":
        cls = InvalidLinkedAccount
    kwargs: dict[str, Any] = {
        "status_code": status_code,
        "http_error_type": body.get(ep.KEY_HTTP_ERROR_TYPE),
        "error_code": None if error_code is None else str(error_code),
        "request_id": body.get(ep.KEY_REQUEST_ID),
        "slug": slug,
        "action_id": action_id,
        "body": dict(body),
    }
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)
