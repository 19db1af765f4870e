"""The one place that names Refold's paths, header names and envelope keys.

The client, the mock and the server all import from here, so a path or a header name is written
once. Nothing in this module does I/O.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Final, Literal
from urllib.parse import quote, unquote

DEFAULT_BASE_URL: Final = "https://app.refold.ai"

API_PREFIX: Final = "/api/v2/integration-schema"

HEADER_API_KEY: Final = "x-api-key"
HEADER_LINKED_ACCOUNT: Final = "linked_account_id"
HEADER_AUTHORIZATION: Final = "authorization"
HEADER_RETRY_AFTER: Final = "retry-after"
HEADER_REQUEST_ID: Final = "x-request-id"

JSON_CONTENT_TYPE: Final = "application/json; charset=utf-8"

# Envelope keys of a successful execute reply.
KEY_NODE_STATUS: Final = "node_status"
KEY_DATA: Final = "data"
KEY_HTTP_STATUS: Final = "http_status"
NODE_STATUS_SUCCESS: Final = "Success"
NODE_STATUS_ERRORED: Final = "Errored"

# Envelope keys of a Refold-side error. Some endpoints say "error" instead of "error_code".
KEY_STATUS_CODE: Final = "status_code"
KEY_HTTP_ERROR_TYPE: Final = "http_error_type"
KEY_ERROR_CODE: Final = "error_code"
KEY_ERROR_CODE_ALT: Final = "error"
KEY_MESSAGE: Final = "message"
KEY_REQUEST_ID: Final = "request_id"

Operation = Literal["list_actions", "schema", "execute"]

#: Error code of the read-only gateway's refusal (HTTP 403, in Refold's envelope).
READ_ONLY_VIOLATION: Final = "READ_ONLY_VIOLATION"
#: Error code of the gateway's refusal of a request from a test not marked ``refold_live``.
LIVE_TEST_REQUIRED: Final = "LIVE_TEST_REQUIRED"
#: Error code of a ``--refold-live-plan`` run's refusal of a request it cannot plan.
LIVE_PLAN: Final = "LIVE_PLAN"

#: Longest slug or action id accepted.
ID_MAX_LENGTH: Final = 128
_ID: Final = re.compile(rf"[A-Za-z0-9_.\-]{{1,{ID_MAX_LENGTH}}}")


def is_valid_id(value: object) -> bool:
    """True for a slug or action id in Refold's alphabet: letters, digits, ``_``, ``-``, ``.``.

    ``..`` anywhere, a lone ``.``, and more than :data:`ID_MAX_LENGTH` characters are refused,
    so an id can never be a path segment other than itself.

    >>> is_valid_id("get_contact"), is_valid_id("get_contact/../create_contact")
    (True, False)
    >>> is_valid_id("a..b"), is_valid_id("."), is_valid_id("hubspot-v2.1")
    (False, False, True)
    """
    return (
        isinstance(value, str)
        and _ID.fullmatch(value) is not None
        and ".." not in value
        and value != "."
    )


def segment(value: str) -> str:
    """``value`` percent-encoded as one path segment (``/``, ``?``, ``#`` and ``%`` included).

    >>> segment("a/b?c")
    'a%2Fb%3Fc'
    """
    return quote(value, safe="")


_SEGMENT = r"[^/]+"
# Execute first: it is the request a test suite sends most.
_ROUTES: Final[tuple[tuple[Operation, str, re.Pattern[str]], ...]] = (
    (
        "execute",
        "POST",
        re.compile(
            rf"^{API_PREFIX}/(?P<slug>{_SEGMENT})/actions/(?P<action_id>{_SEGMENT})/execute/?$"
        ),
    ),
    (
        "schema",
        "GET",
        re.compile(rf"^{API_PREFIX}/(?P<slug>{_SEGMENT})/actions/(?P<action_id>{_SEGMENT})/?$"),
    ),
    ("list_actions", "GET", re.compile(rf"^{API_PREFIX}/(?P<slug>{_SEGMENT})/actions/?$")),
)


def list_actions_path(slug: str) -> str:
    """Path of the list-actions operation.

    >>> list_actions_path("hubspot")
    '/api/v2/integration-schema/hubspot/actions'
    """
    return f"{API_PREFIX}/{segment(slug)}/actions"


def schema_path(slug: str, action_id: str) -> str:
    """Path of the get-action-schema operation.

    >>> schema_path("hubspot", "get_contact")
    '/api/v2/integration-schema/hubspot/actions/get_contact'
    """
    return f"{API_PREFIX}/{segment(slug)}/actions/{segment(action_id)}"


def execute_path(slug: str, action_id: str) -> str:
    """Path of the execute operation.

    >>> execute_path("hubspot", "get_contact")
    '/api/v2/integration-schema/hubspot/actions/get_contact/execute'
    """
    return f"{API_PREFIX}/{segment(slug)}/actions/{segment(action_id)}/execute"


def match(method: str, path: str) -> tuple[Operation, str, str | None] | None:
    """Place a request: ``(operation, slug, action_id)``, or ``None`` when it is none of the three.

    >>> match("POST", "/api/v2/integration-schema/hubspot/actions/get_contact/execute")
    ('execute', 'hubspot', 'get_contact')
    >>> match("DELETE", "/api/v2/integration-schema/hubspot/actions") is None
    True
    """
    method = method.upper()
    for operation, verb, pattern in _ROUTES:
        if method != verb:
            continue
        found = pattern.match(path)
        if found is not None:
            return operation, found["slug"], found.groupdict().get("action_id")
    return None


@dataclasses.dataclass(frozen=True)
class Placed:
    """A request the gateway placed: the test token, the operation and its ids.

    Example::

        place("POST", "/t/abc/api/v2/integration-schema/hubspot/actions/get_contact/execute")
        # Placed(token='abc', live=True, operation='execute', slug='hubspot', ...)
    """

    token: str | None
    live: bool
    operation: Operation
    slug: str
    action_id: str | None

    @property
    def path(self) -> str:
        """The canonical upstream path, rebuilt from the placed parts."""
        if self.operation == "list_actions":
            return list_actions_path(self.slug)
        assert self.action_id is not None
        if self.operation == "schema":
            return schema_path(self.slug, self.action_id)
        return execute_path(self.slug, self.action_id)

    @property
    def what(self) -> str:
        """``slug/action_id`` or ``slug (list actions)``, for messages."""
        if self.action_id is None:
            return f"{self.slug} (list actions)"
        suffix = " (schema)" if self.operation == "schema" else ""
        return f"{self.slug}/{self.action_id}{suffix}"


@dataclasses.dataclass(frozen=True)
class Unplaced:
    """Why a request could not be placed; ``token``/``live`` when the prefix was readable."""

    reason: str
    token: str | None = None
    live: bool = True


_API_SEGMENTS = tuple(API_PREFIX.strip("/").split("/"))  # ('api', 'v2', 'integration-schema')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PREFIX = re.compile(r"/(t|m)/([A-Za-z0-9_-]{1,64})(?=[/?#]|$)")


def place(method: str, target: str) -> Placed | Unplaced:
    """Place a raw request target strictly, or say why it cannot be placed.

    Refused: a query or fragment, any percent-encoding, empty (repeated slash) or dot segments,
    any difference in case from Refold's paths, ids outside Refold's alphabet, and a method other
    than the operation's. The ``/t/<token>`` or ``/m/<token>`` prefix is read first, so every
    refusal after it is charged to the test that sent it.

    >>> place("GET", "/api/v2/integration-schema/hubspot/actions").operation
    'list_actions'
    >>> place("POST", "/api/v2/integration-schema/hubspot/actions/a/../b/execute").reason
    'a dot segment (. or ..) in the path'
    >>> place("POST", "/t/abc/api/v2/integration-schema/x/actions/y/execute?q=1").token
    'abc'
    """
    token: str | None = None
    live = True
    prefix = _PREFIX.match(target)
    if prefix is not None:
        token, live = prefix.group(2), prefix.group(1) == "t"
        target = target[prefix.end() :]
    elif target.startswith(("/t/", "/m/")):
        return Unplaced("a malformed test prefix (/t/<token> or /m/<token>)")

    def refuse(reason: str) -> Unplaced:
        return Unplaced(reason, token, live)

    if target == "" and token is not None:
        return refuse("not under /api/v2/integration-schema/<slug>/actions")
    if not target.startswith("/"):
        return refuse("the request target is not a path")
    if "?" in target or "#" in target:
        return refuse("a query or fragment: Refold's actions API takes none")
    if "%" in target or unquote(target) != target:
        return refuse("a percent-encoded path: Refold's paths need no encoding")
    if _CONTROL.search(target) or "\\" in target:
        return refuse("control characters or backslashes in the path")
    segments = target[1:].split("/")
    if segments and segments[-1] == "" and len(segments) > 1:
        segments = segments[:-1]  # one trailing slash is tolerated, as Refold does
    if any(s == "" for s in segments):
        return refuse("an empty segment (repeated slash) in the path")
    if any(s in (".", "..") for s in segments):
        return refuse("a dot segment (. or ..) in the path")
    n = len(_API_SEGMENTS)
    if (
        tuple(segments[:n]) != _API_SEGMENTS
        or len(segments) < n + 2
        or segments[n + 1] != "actions"
    ):
        return refuse("not under /api/v2/integration-schema/<slug>/actions")
    slug = segments[n]
    tail = segments[n + 2 :]
    if not is_valid_id(slug):
        return refuse("the slug is not a Refold id")
    method = method.upper()
    if not tail:
        operation: Operation = "list_actions"
        action_id = None
        verb = "GET"
    elif len(tail) == 1:
        operation, action_id, verb = "schema", tail[0], "GET"
    elif len(tail) == 2 and tail[1] == "execute":
        operation, action_id, verb = "execute", tail[0], "POST"
    else:
        return refuse("not one of the three actions operations")
    if action_id is not None and not is_valid_id(action_id):
        return refuse("the action id is not a Refold id")
    if method != verb:
        return refuse(f"{method} is not the method of the {operation} operation")
    return Placed(token, live, operation, slug, action_id)
