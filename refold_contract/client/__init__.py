"""Typed httpx clients for Refold's actions API, sync and async.

Both clients share one request builder and one reply parser
(:class:`~refold_contract.client.protocol.Protocol`) and one base class for their arguments;
they differ only in how they send and sleep. Mock them at the transport: pass ``transport=``
(an ``httpx.MockTransport``, or nothing at all under respx).

The package's modules: :mod:`~refold_contract.client.models` (the values handed out),
:mod:`~refold_contract.client.protocol` (requests, replies, retries, logging),
:mod:`~refold_contract.client.sync` and :mod:`~refold_contract.client.aio` (the clients).

Example::

    with RefoldClient(api_key="tk_...", linked_account_id="user_1") as client:
        result = client.execute("hubspot", "get_contact", {"limit": "1"})
        result.data["results"][0]["properties"]["email"]
"""

from __future__ import annotations

from typing import Any

from refold_contract.client.aio import AsyncRefoldClient
from refold_contract.client.models import ActionInfo, ActionResult, RetryPolicy, parse_retry_after
from refold_contract.client.protocol import (
    RETRY_STATUSES,
    api_error,
    logger,
    reply_tracker,
    track_replies,
)
from refold_contract.client.sync import RefoldClient

__all__ = [
    "RETRY_STATUSES",
    "ActionInfo",
    "ActionResult",
    "AsyncRefoldClient",
    "RefoldClient",
    "RetryPolicy",
    "api_error",
    "logger",
    "parse_retry_after",
    "track_replies",
]


def __getattr__(name: str) -> Any:
    # ``client._consumer``: the recorder track_replies() set, read live from the protocol.
    if name == "_consumer":
        return reply_tracker()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
