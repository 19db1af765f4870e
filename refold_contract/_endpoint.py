"""The one place that names Refold's paths, header names and envelope keys.

The client, the mock and the server all import from here, so a path or a header name is written
once. Nothing in this module does I/O.
"""

from __future__ import annotations

import re
from typing import Final, Literal
from urllib.parse import quote

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
