"""The pure Refold behaviour: authentication, the three operations, validation, replay.

Nothing here patches, records or sleeps. :class:`Emulator` turns one placed request into one
:class:`Answer`: the status and the exact bytes Refold would send. The respx routes, the server
and the sandbox all build on it.

Example::

    emulator = Emulator(Catalogue.builtin())
    action = emulator.catalogue.get("hubspot", "get_contact")
    answer, note = emulator.replay(action, '{"limit":"1"}')
    answer.status, answer.json()["node_status"]                # 200, 'Success'
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Collection
from typing import Any, Final

from refold_contract._core import endpoint as ep
from refold_contract._core.json import JSONProblem, canonical_json, dumps_compact, json_type, loads
from refold_contract.catalogue import Action, Catalogue
from refold_contract.config import Limits

__all__ = ["Answer", "Emulator", "ParsedBody", "dumps", "parse_body"]

#: The journal note of an execute no example matched, answered with the action's first example.
FIRST_EXAMPLE_NOTE = "no example with these params: answered with the first successful example"

HTTP_ERROR_TYPES: Final = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}
DEFAULT_MESSAGES: Final = {
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
GATEWAY_PAGE: Final = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)
GENERIC_SUCCESS: Final = b'{"node_status":"Success","http_status":200,"data":{}}'


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as the mock sends it; never NaN or Infinity.

    >>> dumps({"a": [1, "é"]})
    b'{"a":[1,"\\xc3\\xa9"]}'
    """
    return dumps_compact(value)


@dataclasses.dataclass(slots=True)
class Answer:
    """What the mock sends back for one request: a status and the exact body bytes.

    ``delay`` asks the caller to wait first; ``timeout`` means no answer at all (the client
    sees a read timeout); ``error`` is raised instead of a reply where the caller can.

    Example::

        Answer(200, b'{"node_status":"Success","data":{}}')
    """

    status: int
    body: bytes
    content_type: str = ep.JSON_CONTENT_TYPE
    retry_after: str | None = None
    delay: float = 0.0
    timeout: bool = False
    #: ``(slug, action_id)`` when the reply is an execute envelope a consumer contract records.
    track: tuple[str, str] | None = None
    #: A problem of the test's, not a reply: raised to the client under respx (the body is what
    #: an HTTP client of ``refold_server`` gets), and again at teardown.
    error: Exception | None = None

    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.body)


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedBody:
    """A request body as the mock understood it: the params, their canonical key, a problem.

    ``status`` is 400 for a body Refold refuses, 413 for one over the size limit.
    """

    params: Any
    key: str | None
    problem: str | None = None
    status: int = 400


def parse_body(content: bytes, limits: Limits) -> ParsedBody:
    """Parse an execute body strictly and within ``limits``.

    >>> parse_body(b'{"limit": "1"}', Limits()).params
    {'limit': '1'}
    >>> parse_body(b'[NaN]', Limits()).problem
    'Request body is not valid JSON: NaN is not JSON (only finite numbers are)'
    """
    if not content.strip():
        return ParsedBody({}, "{}")
    try:
        body = loads(
            content, max_depth=limits.max_depth, max_bytes=limits.max_body_bytes, finite=True
        )
    except JSONProblem as exc:
        if exc.kind == "too_large":
            return ParsedBody(None, None, f"Request body is too large: {exc}", 413)
        if exc.kind == "too_deep":
            return ParsedBody(None, None, f"Request body is nested too deep: {exc}")
        return ParsedBody(None, None, f"Request body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        return ParsedBody(body, None, f"Request body must be a JSON object, got {json_type(body)}")
    return ParsedBody(body, canonical_json(body))


class Emulator:
    """Refold's own answers, from a catalogue: no stubs, no journal, no patching.

    ``api_keys``, ``session_tokens`` and ``linked_accounts``, when given, are the only ones
    accepted; ``None`` accepts any.

    Example::

        emulator = Emulator(Catalogue.builtin(), linked_accounts={"user_1"})
        emulator.authenticate("tk_1", "user_2", "").status    # 400 INVALID_LINKED_ACCOUNT_ID
    """

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        strict: bool = False,
        api_keys: Collection[str] | None = None,
        session_tokens: Collection[str] | None = None,
        linked_accounts: Collection[str] | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.strict = strict
        self.api_keys = frozenset(api_keys) if api_keys is not None else None
        self.session_tokens = frozenset(session_tokens) if session_tokens is not None else None
        self.linked_accounts = frozenset(linked_accounts) if linked_accounts is not None else None
        self._bodies: dict[int, bytes] = {}

    # ------------------------------------------------------------------ errors

    @staticmethod
    def error(
        status: int,
        message: str,
        error_code: str = "SERVER_ERROR",
        *,
        key: str = ep.KEY_ERROR_CODE,
        retry_after: str | None = None,
    ) -> Answer:
        """Refold's error envelope, with a fresh ``request_id``.

        Example::

            Emulator.error(404, "Action x not found in Application hubspot")
        """
        body = {
            ep.KEY_STATUS_CODE: status,
            ep.KEY_HTTP_ERROR_TYPE: HTTP_ERROR_TYPES.get(status, "ERROR"),
            key: error_code,
            ep.KEY_MESSAGE: message,
            ep.KEY_REQUEST_ID: str(uuid.uuid4()),
        }
        return Answer(status, dumps(body), retry_after=retry_after)

    @classmethod
    def unplaced(cls, method: str, path: str) -> Answer:
        """The 404 Refold's web server gives a path that is none of its operations."""
        return cls.error(404, f"Cannot {method} {path}")

    @classmethod
    def action_not_found(cls, slug: str, action_id: str) -> Answer:
        """Refold's 404 for an unknown action (or slug) on the schema or execute operation."""
        return cls.error(404, f"Action {action_id} not found in Application {slug}")

    @staticmethod
    def disconnected(slug: str, linked: str) -> Answer:
        """The reply for an app the linked account has not connected (message observed live;
        HTTP 200 with ``node_status`` ``Errored`` assumed)."""
        message = (
            f"Application Authentication not found for linked_account_id {linked} and app {slug}"
        )
        return Answer(
            200, dumps({ep.KEY_NODE_STATUS: "Errored", ep.KEY_DATA: {"message": message}})
        )

    @classmethod
    def unknown_account(cls, linked: str, environment: str) -> Answer:
        """Refold's 400 for a linked account it does not know in the key's environment."""
        return cls.error(
            400,
            f"No linked account found for account id : {linked} in environment {environment}",
            "INVALID_LINKED_ACCOUNT_ID",
        )

    # ------------------------------------------------------------------ operations

    def authenticate(
        self, api_key: str | None, linked: str | None, authorization: str
    ) -> Answer | None:
        """``None`` when Refold would let the request through, else its refusal.

        An API key needs ``linked_account_id``; ``Authorization: Bearer <token>`` replaces
        both. Keys starting ``pk`` are production keys, everything else is the test
        environment (Refold's overview pages: ``tk`` test, ``pk`` live).
        """
        if authorization[:7].lower() == "bearer " and authorization[7:].strip():
            token = authorization[7:].strip()
            if self.session_tokens is not None and token not in self.session_tokens:
                return self.error(401, "Invalid session token")
            if linked and self.linked_accounts is not None and linked not in self.linked_accounts:
                return self.unknown_account(linked, "test")
            return None
        if not api_key or (self.api_keys is not None and api_key not in self.api_keys):
            return self.error(401, "Invalid Credentials", key=ep.KEY_ERROR_CODE_ALT)
        if not linked:
            return self.error(
                404,
                "Linked account id is required with API Key, for this resource",
                "MISSING_REQUIRED_FIELD",
            )
        if self.linked_accounts is not None and linked not in self.linked_accounts:
            return self.unknown_account(linked, "production" if api_key[:2] == "pk" else "test")
        return None

    def list_actions(self, slug: str) -> Answer:
        """The bare array of the app's actions, or Refold's 404 for an unknown app."""
        if not self.catalogue.has_app(slug):
            return self.error(404, f"Application app_type '{slug}' not found")
        return Answer(200, dumps([a.summary() for a in self.catalogue.actions(slug)]))

    def schema(self, slug: str, action_id: str) -> Answer:
        """The bare parameter array, or Refold's 404 for an unknown action."""
        action = self.catalogue.find(slug, action_id)
        if action is None:
            return self.action_not_found(slug, action_id)
        return Answer(200, dumps(action.schema()))

    def validate(self, action: Action, body: ParsedBody) -> Answer | None:
        """Refold's 400 (or 413) for a body it refuses, else ``None``."""
        if body.problem is not None:
            return self.error(body.status, body.problem, "VALIDATION_ERROR")
        problems = action.check(body.params, strict=self.strict)
        if problems:
            return self.error(400, problems[0].message, "VALIDATION_ERROR")
        return None

    def replay(self, action: Action, key: str, params: Any = None) -> tuple[Answer, str | None]:
        """The example whose params equal the body (or whose match rules take ``params``),
        else the first successful one, else a generic success; with a note saying which when
        no example matches."""
        example = action.example_for(params, key)
        note = None
        if example is None:
            if not action.examples:
                return Answer(200, GENERIC_SUCCESS), (
                    f"no example in the catalogue for {action.key}: generic success reply"
                )
            example = next(
                (e for e in action.examples if e.node_status == ep.NODE_STATUS_SUCCESS),
                action.examples[0],
            )
            note = FIRST_EXAMPLE_NOTE
        content = self._bodies.get(id(example))
        if content is None:
            # The example exactly as recorded: Refold's newer replies carry no http_status.
            content = self._bodies[id(example)] = dumps(example.response)
        return Answer(200, content), note
