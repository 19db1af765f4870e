"""What the gateway forwards and what it refuses: one request judged, nothing sent.

A request is placed strictly (:func:`~refold_contract._core.endpoint.place`); it goes live only
when it maps to exactly one of the three operations, was sent to a ``refold_live`` test's
address (when the gateway serves tests only), names no other linked account, and, for execute,
names an action known to read with a body that parses within the limits.

Example::

    decision = judge("POST", "/t/3f2a/api/v2/integration-schema/hubspot/actions/"
                     "create_contact/execute", {}, b"{}", catalogue=catalogue,
                     credentials=credentials, limits=Limits(), tests_only=True)
    isinstance(decision, Refusal)      # True: it writes
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

from refold_contract._core import endpoint as ep
from refold_contract._core.endpoint import Placed, Unplaced, place
from refold_contract._core.json import JSONProblem, loads
from refold_contract._guard.custody import Credentials
from refold_contract.access import access_of, read_only_hint, read_only_reason
from refold_contract.catalogue import Catalogue
from refold_contract.config import Limits
from refold_contract.live.gateway.reply import GatewayReply, envelope, show_path

__all__ = ["Forward", "Refusal", "header", "judge"]


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A request the gateway will not send: noted for ``token`` and answered with 403.

    Example::

        Refusal(None, "GET /x: could not place it", "refold-contract could not place GET /x")
    """

    token: str | None
    #: What the findings keep (one line, before redaction).
    note: str
    #: What the test sees in the 403 envelope (before redaction).
    message: str
    error_code: str = ""


@dataclasses.dataclass(frozen=True)
class Forward:
    """A request the gateway sends to Refold: where it was placed and the body to send.

    Example::

        Forward(placed, b'{"limit": 1}')      # placed.operation == "execute"
    """

    placed: Placed
    content: bytes


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` (lower case) in ``headers``, whatever their case.

    Example::

        header({"X-Refold-Linked-Account": "user_1"}, "x-refold-linked-account")   # "user_1"
    """
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def judge(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    catalogue: Catalogue,
    credentials: Credentials,
    limits: Limits,
    tests_only: bool,
) -> Forward | Refusal | GatewayReply:
    """Judge one request: :class:`Forward` it, :class:`Refusal` (read-only), or a ready reply
    (a body that does not parse: 400 or 413, not a refusal).

    ``target`` is the request target with the prefix of the test it is charged to
    (:meth:`~refold_contract.live.gateway.ledger.Ledger.attribute`).

    Example::

        judge("GET", "/api/v2/integration-schema/hubspot/actions", {}, b"",
              catalogue=catalogue, credentials=credentials, limits=Limits(), tests_only=False)
    """
    placed = place(method, target)
    if isinstance(placed, Unplaced):
        described = f"{method.upper()} {show_path(target)}"
        return Refusal(
            placed.token,
            f"could not place {described}: {placed.reason}",
            f"refold-contract could not place {described}: {placed.reason}. The gateway "
            "serves only GET .../{slug}/actions, GET .../{slug}/actions/{action_id} and "
            "POST .../{slug}/actions/{action_id}/execute under /api/v2/integration-schema; "
            "nothing was sent to Refold",
        )
    if placed.token is None and tests_only:
        return Refusal(
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
        return Refusal(
            placed.token,
            f"{placed.what}: the test is not marked refold_live",
            f"refused {placed.what}: this test is not marked refold_live, so nothing it "
            "sends goes live; mark it @pytest.mark.refold_live, or answer it with refold_mock "
            "(httpx) or refold_server (any other client)",
            error_code=ep.LIVE_TEST_REQUIRED,
        )
    account = header(headers, ep.HEADER_LINKED_ACCOUNT)
    if account and not credentials.session_token and account != credentials.linked_account_id:
        return Refusal(
            placed.token,
            f"{placed.what}: another linked account",
            f"refused {placed.what}: the read-only gateway reads only the linked account in "
            "REFOLD_LINKED_ACCOUNT_ID, and this request named another",
        )
    content = b""
    if placed.operation == "execute":
        assert placed.action_id is not None
        if access_of(catalogue, placed.slug, placed.action_id) != "read":
            reason = read_only_reason(placed.action_id)
            return Refusal(
                placed.token,
                f"{placed.what}: {reason.removeprefix('it is ')}",
                f"refused to send {placed.what}: {reason}, and live mode only sends reads; "
                + read_only_hint(placed.slug, placed.action_id),
            )
        try:
            params = loads(
                body or b"{}",
                max_depth=limits.max_depth,
                max_bytes=limits.max_body_bytes,
                finite=True,
            )
        except JSONProblem as exc:
            status = 413 if exc.kind == "too_large" else 400
            return envelope(status, "VALIDATION_ERROR", f"Request body refused: {exc}")
        content = json.dumps(params, ensure_ascii=False).encode()
    return Forward(placed, content)
