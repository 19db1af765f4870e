"""RefoldMock: answers Refold's actions API from the catalogue, exactly as Refold does.

:meth:`RefoldMock.handle` is a pure function from ``httpx.Request`` to ``httpx.Response``. The
respx routes (``refold_mock`` fixture) and the standalone server both call it, so they cannot
disagree. Per-test control (stubs, faults, sequences) and a call journal sit on top.

Example::

    with RefoldMock() as mock:                 # patches httpx through respx
        mock.stub("hubspot", "get_contact", data={"results": [], "paging": {}})
        httpx.post("https://app.refold.ai/api/v2/integration-schema/hubspot/actions/"
                   "get_contact/execute", json={}, headers={"x-api-key": "tk_test",
                   "linked_account_id": "user_1"})
        mock.assert_called("hubspot", "get_contact", times=1)
"""

from __future__ import annotations

import contextvars
import dataclasses
import inspect
import json
import threading
import uuid
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import httpx

from refold_contract import _endpoint as ep
from refold_contract.catalogue import Action, Catalogue, canonical_json, json_type
from refold_contract.errors import ReadOnlyViolation, RefoldError
from refold_contract.live import PASSTHROUGH, LiveSession

if TYPE_CHECKING:
    import respx

__all__ = ["Call", "RefoldMock", "Reply", "UnmatchedRequest", "UnusedStub"]

_JSON_HEADERS = (("content-type", ep.JSON_CONTENT_TYPE),)
_HTTP_ERROR_TYPES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}
_DEFAULT_MESSAGES = {
    400: "Bad Request",
    401: "Invalid Credentials",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)
_IN_ASYNC = contextvars.ContextVar("refold_mock_in_async", default=False)


class UnmatchedRequest(RefoldError, AssertionError):
    """A request under the Refold base URL that is none of the three operations.

    Example::

        httpx.get("https://app.refold.ai/api/v2/nope")   # raises, listing what the mock serves
    """


class UnusedStub(RefoldError, AssertionError):
    """A stub registered on the mock was never used (checked at teardown).

    Example::

        @pytest.mark.refold(assert_all_called=False)   # when unused stubs are fine
    """


@dataclasses.dataclass(frozen=True)
class Reply:
    """One scripted answer for :meth:`RefoldMock.sequence` (or a stub).

    Example::

        mock.sequence("hubspot", "get_contact", [
            Reply.error(429, retry_after=1),
            Reply.success({"results": [], "paging": {}}),
        ])
    """

    kind: Literal["success", "error", "timeout", "malformed"]
    status: int = 200
    data: Any = None
    node_status: str = ep.NODE_STATUS_SUCCESS
    http_status: int | None = 200
    message: str | None = None
    error_code: str | None = None
    retry_after: float | None = None

    @classmethod
    def success(
        cls, data: Any, *, node_status: str = ep.NODE_STATUS_SUCCESS, http_status: int = 200
    ) -> Reply:
        """HTTP 200 with ``{"node_status", "http_status", "data"}``."""
        return cls("success", data=data, node_status=node_status, http_status=http_status)

    @classmethod
    def app_error(cls, http_status: int, data: Any, *, node_status: str = "Errored") -> Reply:
        """A failure inside the connected app: HTTP 200, ``node_status`` ``Errored``."""
        return cls("success", data=data, node_status=node_status, http_status=http_status)

    @classmethod
    def error(
        cls,
        status: int,
        *,
        message: str | None = None,
        error_code: str | None = None,
        retry_after: float | None = None,
    ) -> Reply:
        """Refold's own error envelope with this HTTP status."""
        return cls(
            "error", status=status, message=message, error_code=error_code, retry_after=retry_after
        )

    @classmethod
    def timeout(cls) -> Reply:
        """No reply: the client sees ``httpx.ReadTimeout``."""
        return cls("timeout")

    @classmethod
    def malformed(cls) -> Reply:
        """An HTML 502 page, as a gateway in front of Refold sends."""
        return cls("malformed", status=502)


@dataclasses.dataclass(slots=True)
class Call:
    """One request the mock answered, as the journal keeps it. Headers are never kept.

    Example::

        call = refold_mock.calls[-1]
        call.slug, call.action_id, call.params, call.status, call.reply
    """

    operation: str
    method: str
    path: str
    slug: str | None
    action_id: str | None
    params: Any
    linked_account_id: str | None
    status: int | None
    response: httpx.Response | None = dataclasses.field(default=None, repr=False, compare=False)
    note: str | None = None

    @property
    def reply(self) -> Any:
        """The reply body: parsed JSON, the text of a non-JSON reply, or ``None`` (timeout)."""
        if self.response is None:
            return None
        content = self.response.read()
        if self.response.headers.get("content-type", "").startswith("application/json"):
            return json.loads(content)
        return content.decode("utf-8", "replace")[:200]

    def to_json(self) -> dict[str, Any]:
        """The call as a JSON-ready dict (the server's ``GET /__refold/calls``)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del out["response"]
        out["reply"] = self.reply
        return out


@dataclasses.dataclass
class _Stub:
    slug: str
    action_id: str
    operation: str
    params_key: str | None
    params: Any
    reply: Reply | None  # None: the normal answer (a delay-only stub)
    delay: float
    times: int | None
    origin: str
    used: int = 0

    def matches(self, operation: str, slug: str, action_id: str | None, key: str | None) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        if self.operation != "*" and self.operation != operation:
            return False
        if self.slug != "*" and self.slug != slug:
            return False
        if operation != "list_actions" and self.action_id not in ("*", action_id):
            return False
        return self.params_key is None or self.params_key == key

    def describe(self) -> str:
        what = f"{self.origin}({self.slug!r}, {self.action_id!r}"
        if self.params is not None:
            what += f", params={self.params!r}"
        return what + ")"


@dataclasses.dataclass
class _Outcome:
    """What the mock decided: a response, or a timeout, plus an optional delay."""

    response: httpx.Response | None
    delay: float = 0.0
    timeout: bool = False


class RefoldMock:
    """A stand-in for Refold's actions API, answering from a catalogue.

    Checks authentication as Refold does (``x-api-key`` + ``linked_account_id``, or a bearer
    session token), validates bodies against the action's parameter schema (``strict=True`` adds
    type and unknown-key checks), and answers with the example whose params match the request,
    else the action's first example, else a generic success. Every error is Refold's envelope
    with a ``request_id``.

    ``api_keys``, ``session_tokens`` and ``linked_accounts``, when given, are the only ones
    accepted. Use it through the ``refold_mock`` fixture, as a context manager (respx), or behind
    ``refold-contract serve``.

    Example::

        mock = RefoldMock(strict=True, linked_accounts={"user_1"})
        response = mock.handle(httpx.Request("GET", mock.base_url +
                               "/api/v2/integration-schema/hubspot/actions",
                               headers={"x-api-key": "tk_1", "linked_account_id": "user_1"}))
        response.json()[0]["action_id"]
    """

    def __init__(
        self,
        catalogue: Catalogue | None = None,
        *,
        base_url: str = ep.DEFAULT_BASE_URL,
        strict: bool = False,
        api_keys: Collection[str] | None = None,
        session_tokens: Collection[str] | None = None,
        linked_accounts: Collection[str] | None = None,
        assert_all_called: bool = True,
        live: LiveSession | None = None,
    ) -> None:
        self.catalogue = catalogue if catalogue is not None else Catalogue.builtin()
        self.live = live
        self.base_url = base_url.rstrip("/")
        self.strict = strict
        self.api_keys = frozenset(api_keys) if api_keys is not None else None
        self.session_tokens = frozenset(session_tokens) if session_tokens is not None else None
        self.linked_accounts = frozenset(linked_accounts) if linked_accounts is not None else None
        self.assert_all_called = assert_all_called
        self._calls: list[Call] = []
        self._stubs: list[_Stub] = []
        self._unplaced: list[str] = []
        self._lock = threading.Lock()
        self._bodies: dict[int, bytes] = {}
        self._router: respx.MockRouter | None = None

    # ------------------------------------------------------------------ the pure function

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as Refold would. A scripted timeout raises ``httpx.ReadTimeout``.

        Example::

            mock.handle(httpx.Request("POST", url, json={"limit": "1"}, headers=headers))
        """
        outcome = self.dispatch(request)
        if outcome.timeout or outcome.response is None:
            raise httpx.ReadTimeout("refold_mock: scripted timeout", request=request)
        outcome.response.read()
        return outcome.response

    def dispatch(self, request: httpx.Request) -> _Outcome:
        """Like :meth:`handle`, but reports delays and timeouts instead of acting on them.

        The respx wiring and the server use this to sleep the right way for their context.
        """
        path = request.url.path
        placed = ep.match(request.method, path)
        if placed is None:
            return self._unplaced_outcome(request)
        operation, slug, action_id = placed
        api_key, linked, authorization = _credentials(request)
        params: Any = None
        note: str | None = None
        stub: _Stub | None = None
        response = self._authenticate(api_key, linked, authorization)
        if response is None:
            body_problem = None
            key = None
            if operation == "execute":
                params, body_problem = _parse_body(request)
                key = canonical_json(params) if body_problem is None else None
            stub = self._take_stub(operation, slug, action_id, key, data_kind=False)
            if stub is not None and stub.reply is not None:
                response = self._render(stub.reply)
            elif operation == "list_actions":
                response = self._list_actions(slug)
            elif operation == "schema":
                assert action_id is not None
                response = self._schema(slug, action_id)
            else:
                assert action_id is not None
                response, note, data_stub = self._execute(
                    slug, action_id, params, key, body_problem
                )
                stub = stub or data_stub
        delay = stub.delay if stub is not None else 0.0
        timeout = stub is not None and stub.reply is not None and stub.reply.kind == "timeout"
        if stub is not None and stub.reply is not None and stub.reply.kind != "success":
            note = f"scripted by {stub.origin}"
        self._record(
            Call(
                operation=operation,
                method=request.method,
                path=path,
                slug=slug,
                action_id=action_id,
                params=params,
                linked_account_id=linked,
                status=None if timeout or response is None else response.status_code,
                response=None if timeout else response,
                note="timed out (scripted)" if timeout else note,
            )
        )
        return _Outcome(None if timeout else response, delay=delay, timeout=timeout)

    # ------------------------------------------------------------------ operations

    def _authenticate(
        self, api_key: str | None, linked: str | None, authorization: str
    ) -> httpx.Response | None:
        if authorization[:7].lower() == "bearer " and authorization[7:].strip():
            token = authorization[7:].strip()
            if self.session_tokens is not None and token not in self.session_tokens:
                return self._error(401, "Invalid session token", "SERVER_ERROR")
            if linked and self.linked_accounts is not None and linked not in self.linked_accounts:
                return self._unknown_account(linked, "test")
            return None
        if not api_key or (self.api_keys is not None and api_key not in self.api_keys):
            return self._error(
                401, "Invalid Credentials", "SERVER_ERROR", key=ep.KEY_ERROR_CODE_ALT
            )
        if not linked:
            return self._error(
                404,
                "Linked account id is required with API Key, for this resource",
                "MISSING_REQUIRED_FIELD",
            )
        if self.linked_accounts is not None and linked not in self.linked_accounts:
            return self._unknown_account(linked, "production" if api_key[:2] == "pk" else "test")
        return None

    def _unknown_account(self, linked: str, environment: str) -> httpx.Response:
        return self._error(
            400,
            f"No linked account found for account id : {linked} in environment {environment}",
            "INVALID_LINKED_ACCOUNT_ID",
        )

    def _list_actions(self, slug: str) -> httpx.Response:
        if not self.catalogue.has_app(slug):
            return self._error(404, f"Application app_type '{slug}' not found", "SERVER_ERROR")
        body = [a.summary() for a in self.catalogue.actions(slug)]
        return _json_response(200, _dumps(body))

    def _schema(self, slug: str, action_id: str) -> httpx.Response:
        action = self.catalogue.find(slug, action_id)
        if action is None:
            return self._action_not_found(slug, action_id)
        return _json_response(200, _dumps(action.schema()))

    def _action_not_found(self, slug: str, action_id: str) -> httpx.Response:
        return self._error(
            404, f"Action {action_id} not found in Application {slug}", "SERVER_ERROR"
        )

    def _execute(
        self, slug: str, action_id: str, params: Any, key: str | None, body_problem: str | None
    ) -> tuple[httpx.Response | None, str | None, _Stub | None]:
        action = self.catalogue.find(slug, action_id)
        if action is None:
            return self._action_not_found(slug, action_id), "action not in the catalogue", None
        if body_problem is not None:
            return self._error(400, body_problem, "VALIDATION_ERROR"), None, None
        problems = action.check(params, strict=self.strict)
        if problems:
            return self._error(400, problems[0].message, "VALIDATION_ERROR"), None, None
        assert key is not None
        stub = self._take_stub("execute", slug, action_id, key, data_kind=True)
        if stub is not None:
            assert stub.reply is not None
            return self._render(stub.reply), None, stub
        return (*self._from_examples(action, key), None)

    def _from_examples(self, action: Action, key: str) -> tuple[httpx.Response, str | None]:
        example = action.examples_by_params.get(key)
        note = None
        if example is None:
            if not action.examples:
                body = {
                    ep.KEY_NODE_STATUS: ep.NODE_STATUS_SUCCESS,
                    ep.KEY_HTTP_STATUS: 200,
                    ep.KEY_DATA: {},
                }
                return _json_response(200, _dumps(body)), (
                    f"no example in the catalogue for {action.key}: generic success reply"
                )
            example = next(
                (e for e in action.examples if e.node_status == ep.NODE_STATUS_SUCCESS),
                action.examples[0],
            )
            note = "no example with these params: answered with the first successful example"
        content = self._bodies.get(id(example))
        if content is None:
            # The example exactly as recorded: Refold's newer replies carry no http_status.
            content = self._bodies[id(example)] = _dumps(example.response)
        return _json_response(200, content), note

    def _render(self, reply: Reply) -> httpx.Response | None:
        if reply.kind == "success":
            body = {
                ep.KEY_NODE_STATUS: reply.node_status,
                ep.KEY_HTTP_STATUS: reply.http_status,
                ep.KEY_DATA: reply.data,
            }
            return _json_response(200, _dumps(body))
        if reply.kind == "malformed":
            return httpx.Response(
                502, content=_GATEWAY_PAGE.encode(), headers={"content-type": "text/html"}
            )
        if reply.kind == "timeout":
            return None
        status = reply.status
        response = self._error(
            status,
            reply.message or _DEFAULT_MESSAGES.get(status, f"HTTP {status}"),
            reply.error_code if reply.error_code is not None else "SERVER_ERROR",
        )
        if reply.retry_after is not None:
            retry = reply.retry_after
            response.headers[ep.HEADER_RETRY_AFTER] = str(
                int(retry) if retry == int(retry) else retry
            )
        return response

    def _error(
        self, status: int, message: str, error_code: str, *, key: str = ep.KEY_ERROR_CODE
    ) -> httpx.Response:
        body = {
            ep.KEY_STATUS_CODE: status,
            ep.KEY_HTTP_ERROR_TYPE: _HTTP_ERROR_TYPES.get(status, "ERROR"),
            key: error_code,
            ep.KEY_MESSAGE: message,
            ep.KEY_REQUEST_ID: str(uuid.uuid4()),
        }
        return _json_response(status, _dumps(body))

    def _unplaced_outcome(self, request: httpx.Request) -> _Outcome:
        message = f"Cannot {request.method} {request.url.path}"
        response = self._error(404, message, "SERVER_ERROR")
        with self._lock:
            self._unplaced.append(f"{request.method} {request.url.path}")
            self._calls.append(
                Call(
                    operation="unplaced",
                    method=request.method,
                    path=request.url.path,
                    slug=None,
                    action_id=None,
                    params=None,
                    linked_account_id=request.headers.get(ep.HEADER_LINKED_ACCOUNT),
                    status=404,
                    response=response,
                    note="not one of the three actions operations",
                )
            )
        return _Outcome(response)

    def _take_stub(
        self, operation: str, slug: str, action_id: str | None, key: str | None, *, data_kind: bool
    ) -> _Stub | None:
        if not self._stubs:
            return None
        with self._lock:
            for stub in self._stubs:
                is_data = stub.reply is not None and stub.reply.kind == "success"
                if is_data != data_kind or not stub.matches(operation, slug, action_id, key):
                    continue
                stub.used += 1
                return stub
        return None

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    # ------------------------------------------------------------------ per-test control

    def _add(
        self,
        origin: str,
        slug: str,
        action_id: str,
        reply: Reply | None,
        *,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
        delay: float = 0.0,
        operation: str = "execute",
    ) -> None:
        __tracebackhide__ = True
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ValueError(f"times must be a whole number of at least 1, got {times!r}")
        if reply is not None and reply.kind == "success":
            try:
                json.dumps(reply.data)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{origin}({slug!r}, {action_id!r}): data is not JSON: {exc}; convert it "
                    "first (datetimes with .isoformat())"
                ) from None
        if operation not in ("execute", "schema", "list_actions", "*"):
            raise ValueError(
                f"operation must be execute, schema, list_actions or '*', got {operation!r}"
            )
        if (
            slug != "*"
            and action_id != "*"
            and operation == "execute"
            and self.catalogue.find(slug, action_id) is None
        ):
            self.catalogue.get(slug, action_id)  # raises ActionNotInCatalogue with suggestions
        with self._lock:
            self._stubs.append(
                _Stub(
                    slug=slug,
                    action_id=action_id,
                    operation=operation,
                    params_key=None if params is None else canonical_json(dict(params)),
                    params=None if params is None else dict(params),
                    reply=reply,
                    delay=delay,
                    times=times,
                    origin=origin,
                )
            )

    def stub(
        self,
        slug: str,
        action_id: str,
        data: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        node_status: str = ep.NODE_STATUS_SUCCESS,
        http_status: int = 200,
        times: int | None = None,
    ) -> None:
        """Answer ``execute`` of an action with this ``data`` (after Refold's own validation).

        ``params`` narrows it to one body; ``times`` limits how often it answers.

        Example::

            refold_mock.stub("hubspot", "get_contact", data={"results": [], "paging": {}})
        """
        __tracebackhide__ = True
        self._add(
            "stub",
            slug,
            action_id,
            Reply.success(data, node_status=node_status, http_status=http_status),
            params=params,
            times=times,
        )

    def fail(
        self,
        slug: str,
        action_id: str,
        status: int,
        *,
        message: str | None = None,
        error_code: str | None = None,
        retry_after: float | None = None,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
        operation: str = "execute",
    ) -> None:
        """Answer with Refold's error envelope (a Refold-side failure: 401, 429, 500, ...).

        Example::

            refold_mock.fail("hubspot", "get_contact", 429, retry_after=1, times=1)
        """
        __tracebackhide__ = True
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ValueError(f"fail() takes an HTTP error status from 400 to 599, got {status!r}")
        reply = Reply.error(status, message=message, error_code=error_code, retry_after=retry_after)
        self._add("fail", slug, action_id, reply, params=params, times=times, operation=operation)

    def app_error(
        self,
        slug: str,
        action_id: str,
        http_status: int,
        data: Any,
        *,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
    ) -> None:
        """A failure inside the connected app: HTTP 200, ``node_status`` ``Errored``.

        Example::

            refold_mock.app_error("hubspot", "get_contact", 401, {"message": "token expired"})
        """
        __tracebackhide__ = True
        self._add(
            "app_error",
            slug,
            action_id,
            Reply.app_error(http_status, data),
            params=params,
            times=times,
        )

    def delay(
        self,
        slug: str,
        action_id: str,
        seconds: float,
        *,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
        operation: str = "execute",
    ) -> None:
        """Answer normally, ``seconds`` late (``asyncio.sleep`` for async clients).

        Example::

            refold_mock.delay("slack", "list_channels", 0.2)
        """
        __tracebackhide__ = True
        self._add(
            "delay",
            slug,
            action_id,
            None,
            params=params,
            times=times,
            delay=seconds,
            operation=operation,
        )

    def timeout(
        self,
        slug: str,
        action_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
        operation: str = "execute",
    ) -> None:
        """Never answer: the client sees ``httpx.ReadTimeout``.

        Example::

            refold_mock.timeout("hubspot", "get_contact", times=1)
        """
        __tracebackhide__ = True
        self._add(
            "timeout",
            slug,
            action_id,
            Reply.timeout(),
            params=params,
            times=times,
            operation=operation,
        )

    def malformed(
        self,
        slug: str,
        action_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
        operation: str = "execute",
    ) -> None:
        """Answer with an HTML 502 page, as a gateway in front of Refold does.

        Example::

            refold_mock.malformed("hubspot", "get_contact", times=1)
        """
        __tracebackhide__ = True
        self._add(
            "malformed",
            slug,
            action_id,
            Reply.malformed(),
            params=params,
            times=times,
            operation=operation,
        )

    def sequence(
        self,
        slug: str,
        action_id: str,
        replies: Sequence[Reply | Mapping[str, Any] | Any],
        *,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Answer successive calls with these replies, one each, then normally again.

        A plain value is the ``data`` of a success reply; use :class:`Reply` for errors,
        timeouts and app failures.

        Example::

            refold_mock.sequence("hubspot", "get_contact", [
                {"results": [{"id": "1"}], "paging": {"next": {"after": "2"}}},
                {"results": [{"id": "2"}], "paging": {}},
            ])
        """
        __tracebackhide__ = True
        if not replies:
            raise ValueError("sequence() needs at least one reply")
        for item in replies:
            reply = item if isinstance(item, Reply) else Reply.success(item)
            self._add("sequence", slug, action_id, reply, params=params, times=1)

    # ------------------------------------------------------------------ the journal

    @property
    def calls(self) -> list[Call]:
        """Every request answered, oldest first.

        Example::

            [c.action_id for c in refold_mock.calls]
        """
        with self._lock:
            return list(self._calls)

    def calls_for(
        self, slug: str, action_id: str | None = None, *, params: Mapping[str, Any] | None = None
    ) -> list[Call]:
        """The calls of one app (and action, and body).

        Example::

            refold_mock.calls_for("hubspot", "create_contact")[0].params["email"]
        """
        key = None if params is None else canonical_json(dict(params))
        return [
            c
            for c in self.calls
            if c.slug == slug
            and (action_id is None or c.action_id == action_id)
            and (key is None or canonical_json(c.params) == key)
        ]

    def assert_called(
        self,
        slug: str,
        action_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        times: int | None = None,
    ) -> None:
        """Fail unless the action was executed (with these params, this many times).

        Example::

            refold_mock.assert_called("hubspot", "create_contact",
                                      params={"email": "ada@example.com"}, times=1)
        """
        found = [
            c for c in self.calls_for(slug, action_id, params=params) if c.operation == "execute"
        ]
        wanted = "" if params is None else f" with params {dict(params)!r}"
        if (times is None and not found) or (times is not None and len(found) != times):
            count = "at least once" if times is None else f"{times} time(s)"
            raise AssertionError(
                f"expected {slug}/{action_id}{wanted} to be executed {count}, "
                f"it was executed {len(found)} time(s).\n{self._journal_text()}"
            )

    def assert_not_called(self, slug: str, action_id: str | None = None) -> None:
        """Fail if the action (or any action of the app) was called.

        Example::

            refold_mock.assert_not_called("hubspot", "delete_contact")
        """
        found = self.calls_for(slug, action_id)
        if found:
            what = f"{slug}/{action_id}" if action_id else slug
            raise AssertionError(
                f"expected no call to {what}, found {len(found)}.\n{self._journal_text()}"
            )

    def reset(self) -> None:
        """Forget every call and every stub.

        Example::

            refold_mock.reset()
        """
        with self._lock:
            self._calls.clear()
            self._stubs.clear()
            self._unplaced.clear()

    def _journal_text(self) -> str:
        calls = self.calls
        if not calls:
            return "The mock received no request."
        lines = [f"The mock received {len(calls)} request(s):"]
        for c in calls[-20:]:
            what = f"{c.slug}/{c.action_id}" if c.action_id else (c.slug or c.path)
            lines.append(f"  {c.method} {what} params={c.params!r} -> {c.status}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ teardown checks

    def served(self) -> str:
        """A short description of what the mock answers, for failure messages."""
        apps = ", ".join(
            f"{slug} ({len(self.catalogue.actions(slug))})" for slug in self.catalogue.apps()
        )
        return (
            f"{self.base_url}{ep.API_PREFIX}/{{slug}}/actions (GET), .../actions/{{action_id}} "
            f"(GET) and .../actions/{{action_id}}/execute (POST), for apps: {apps or 'none'}"
        )

    def unplaced_message(self) -> str | None:
        """The failure text for requests the mock could not place, or ``None``."""
        with self._lock:
            unplaced = list(self._unplaced)
        if not unplaced:
            return None
        listing = "\n".join(f"  {u}" for u in unplaced)
        return (
            f"refold_mock could not place {len(unplaced)} request(s) under {self.base_url}:\n"
            f"{listing}\nIt serves {self.served()}.\nTo answer another URL, add your own respx "
            "route (respx_mock.get(url).respond(...)) or check the path your code builds."
        )

    def unused_stubs(self) -> list[str]:
        """Descriptions of stubs never used."""
        with self._lock:
            return [s.describe() for s in self._stubs if s.used == 0]

    def verify(self) -> None:
        """Raise if a request could not be placed, or (``assert_all_called``) a stub went unused.

        The ``refold_mock`` fixture calls this at teardown.
        """
        message = self.unplaced_message()
        if message:
            raise UnmatchedRequest(message)
        unused = self.unused_stubs()
        if unused and self.assert_all_called:
            listing = "\n".join(f"  {u}" for u in unused)
            raise UnusedStub(
                f"refold_mock: {len(unused)} stub(s) never used:\n{listing}",
                hint="remove them, or mark the test @pytest.mark.refold(assert_all_called=False)",
            )

    # ------------------------------------------------------------------ respx wiring

    def _respx_side_effect(self, request: httpx.Request) -> Any:
        if self.live is not None:
            return self._live(request)
        outcome = self.dispatch(request)
        if (
            outcome.response is not None
            and outcome.response.status_code == 404
            and (ep.match(request.method, request.url.path) is None)
        ):
            raise UnmatchedRequest(self.unplaced_message() or "unplaced request")
        if outcome.delay:
            if _IN_ASYNC.get():
                return _later(outcome, request)
            import time

            time.sleep(outcome.delay)
        if outcome.timeout:
            raise httpx.ReadTimeout("refold_mock: scripted timeout", request=request)
        return outcome.response

    def _live(self, request: httpx.Request) -> Any:
        """Live mode: reads go to the real API (observed, paced), writes raise before sending."""
        assert self.live is not None
        if request.extensions.get(PASSTHROUGH):
            return request  # our own forwarded copy: let respx pass it to the network
        placed = ep.match(request.method, request.url.path)
        params: Any = None
        if placed is not None and placed[0] == "execute":
            params, _ = _parse_body(request)

        def record(status: int | None, response: httpx.Response | None, note: str) -> None:
            self._record(
                Call(
                    operation=placed[0] if placed else "unplaced",
                    method=request.method,
                    path=request.url.path,
                    slug=placed[1] if placed else None,
                    action_id=placed[2] if placed else None,
                    params=params,
                    linked_account_id=request.headers.get(ep.HEADER_LINKED_ACCOUNT),
                    status=status,
                    response=response,
                    note=note,
                )
            )

        try:
            self.live.guard.check(request)
        except ReadOnlyViolation:
            record(None, None, "refused: not known to be a read (live mode)")
            raise
        live = self.live

        def answered(response: httpx.Response) -> httpx.Response:
            record(response.status_code, response, "live")
            return response

        if _IN_ASYNC.get():

            async def forward() -> httpx.Response:
                return answered(await live.asend(request))

            return forward()
        return answered(live.send(request))

    def router(self) -> respx.MockRouter:
        """A respx router whose routes answer through :meth:`handle`.

        One route per operation, plus one catching anything else under the base URL; the cost
        of a request does not grow with the catalogue. Requests to other hosts are left to other
        routers, and fail as respx's ``assert_all_mocked`` does when none answers.

        Example::

            with mock.router():
                my_code_that_uses_httpx()
        """
        if self._router is None:
            self._router = _build_router(self)
        return self._router

    def start(self) -> RefoldMock:
        """Start patching httpx through respx; :meth:`stop` undoes it."""
        self.router().start()
        return self

    def stop(self) -> None:
        """Stop patching httpx."""
        if self._router is not None:
            self._router.stop(quiet=True)

    def __enter__(self) -> RefoldMock:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"<RefoldMock {self.base_url} {len(self.catalogue)} actions, "
            f"{len(self._calls)} call(s), {len(self._stubs)} stub(s)"
            f"{' strict' if self.strict else ''}>"
        )


async def _later(outcome: _Outcome, request: httpx.Request) -> httpx.Response:
    import asyncio

    await asyncio.sleep(outcome.delay)
    if outcome.timeout or outcome.response is None:
        raise httpx.ReadTimeout("refold_mock: scripted timeout", request=request)
    return outcome.response


def _build_router(mock: RefoldMock) -> respx.MockRouter:
    import re

    import respx

    class _Router(respx.MockRouter):
        """Marks async resolution, so a scripted delay sleeps without blocking the loop."""

        async def async_handler(self, request: httpx.Request) -> httpx.Response:
            token = _IN_ASYNC.set(True)
            try:
                return await super().async_handler(request)
            finally:
                _IN_ASYNC.reset(token)

    router = _Router(assert_all_called=False, assert_all_mocked=True)
    base = re.escape(mock.base_url)
    segment = r"[^/?#]+"
    prefix = f"{base}{re.escape(ep.API_PREFIX)}/{segment}/actions"
    routes: Iterable[tuple[str, str, str]] = (
        ("refold:execute", "POST", rf"^{prefix}/{segment}/execute/?(\?.*)?$"),
        ("refold:schema", "GET", rf"^{prefix}/{segment}/?(\?.*)?$"),
        ("refold:list_actions", "GET", rf"^{prefix}/?(\?.*)?$"),
    )

    def side_effect(request: httpx.Request) -> Any:
        return mock._respx_side_effect(request)

    # respx inspects a callable side effect's signature on every request; a precomputed
    # __signature__ turns that from the largest cost of a mocked request into a lookup.
    side_effect.__signature__ = inspect.signature(side_effect)  # type: ignore[attr-defined]
    for name, method, pattern in routes:
        router.route(method=method, url__regex=pattern, name=name).mock(side_effect=side_effect)
    router.route(url__regex=rf"^{base}(/.*)?$", name="refold:unplaced").mock(
        side_effect=side_effect
    )
    return router


def _parse_body(request: httpx.Request) -> tuple[Any, str | None]:
    content = request.content
    if not content.strip():
        return {}, None
    try:
        body = json.loads(content)
    except ValueError as exc:
        return None, f"Request body is not valid JSON: {exc}"
    if not isinstance(body, dict):
        return body, f"Request body must be a JSON object, got {json_type(body)}"
    return body, None


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class _Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A reply body that can be read any number of times, sync or async.

    httpx.Response(content=...) re-encodes the body and reads it into the response (about
    10 us); respx also pre-reads any httpx.ByteStream. This stream is handed on unread, and
    whoever reads it (httpcore, the server, the journal) gets the bytes at once.
    """

    __slots__ = ("content",)

    def __init__(self, content: bytes) -> None:
        self.content = content

    def __iter__(self) -> Iterator[bytes]:
        yield self.content

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.content


def _json_response(status: int, content: bytes) -> httpx.Response:
    return httpx.Response(
        status,
        headers=[*_JSON_HEADERS, ("content-length", str(len(content)))],
        stream=_Body(content),
    )


_CREDENTIAL_HEADERS = {
    ep.HEADER_API_KEY.encode(): 0,
    ep.HEADER_LINKED_ACCOUNT.encode(): 1,
    ep.HEADER_AUTHORIZATION.encode(): 2,
}


def _credentials(request: httpx.Request) -> tuple[str | None, str | None, str]:
    """``(x-api-key, linked_account_id, authorization)`` in one pass over the raw headers."""
    found: list[str | None] = [None, None, ""]
    for name, value in request.headers.raw:
        slot = _CREDENTIAL_HEADERS.get(name.lower())
        if slot is not None:
            found[slot] = value.decode("latin-1")
    return found[0], found[1], found[2] or ""
