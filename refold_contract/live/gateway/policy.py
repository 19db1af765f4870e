"""What the gateway forwards and what it refuses: one request judged, nothing sent.

A request is placed strictly (:func:`~refold_contract._core.endpoint.place`); it goes live only
when it maps to exactly one of the three operations, was sent to a ``refold_live`` test's
address (when the gateway serves tests only), names no other linked account, and, for execute,
names an action the catalogue in force makes a read (for these parameters, where its entry
says ``"read_when"``), with a body that parses within the limits and names only parameters of the
action's schema.

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
from refold_contract.access import access_of, live_refusal, read_conditions, read_only_hint
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


def _refusal(catalogue: Catalogue, placed: Placed, params: dict[str, object] | None) -> Refusal:
    """The refusal of an execute the catalogue does not make a read (for these parameters)."""
    assert placed.action_id is not None
    action = catalogue.find(placed.slug, placed.action_id)
    reason = live_refusal(catalogue, placed.slug, placed.action_id, params) or ""
    conditions = read_conditions(action.read_when, params) if action and action.read_when else ""
    return Refusal(
        placed.token,
        f"{placed.what}: {reason.removeprefix('it is ').removeprefix('it ')}",
        f"refused to send {placed.what}: {reason}, and live mode only sends reads; "
        + read_only_hint(
            placed.slug, placed.action_id, known=action is not None, conditions=conditions
        ),
    )


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
        action = catalogue.find(placed.slug, placed.action_id)
        if action is None or not (action.is_read or action.read_when):
            # Refused before the body is read: nothing about it can make it a read.
            return _refusal(catalogue, placed, None)
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
        if not isinstance(params, dict):
            return envelope(
                400, "VALIDATION_ERROR", "Request body refused: the parameters must be an object"
            )
        if action.read_when and access_of(catalogue, placed.slug, placed.action_id, params) != (
            "read"
        ):
            return _refusal(catalogue, placed, params)
        unknown = sorted(set(params) - set(action.parameter_map))
        if unknown:
            names = ", ".join(repr(show_path(n)) for n in unknown[:10])
            return Refusal(
                placed.token,
                f"{placed.what}: parameters not in its schema ({names})",
                f"refused to send {placed.what}: {names} "
                + ("is not a parameter" if len(unknown) == 1 else "are not parameters")
                + f" of {placed.slug}/{placed.action_id} in the catalogue in force, and a live "
                "read sends only the parameters its schema lists; if Refold takes them, add them "
                f"to the action's file ({placed.slug}/{placed.action_id}.json in your catalogue "
                "folder)",
            )
        content = json.dumps(params, ensure_ascii=False).encode()
    return Forward(placed, content)
