"""The ``refold_mock`` fixture's mock and the clients pointed at it.

The mock is built from the session (catalogue, settings, the consumer recorder, a live test's
gateway address) and the test's ``refold`` marker, and checked at teardown: an unplaced request
or an unused stub fails the test. respx, httpx and the client are imported only when a test
asks for them.

Example::

    mock = new_mock(request, catalogue)
    mock.start()
    ...
    mock.stop()
    check_mock(request, mock)
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from refold_contract._plugin.live import attach_plan
from refold_contract._plugin.markers import RefoldMarker
from refold_contract._plugin.session import CALL_REPORT_KEY, refold_session
from refold_contract.catalogue import Catalogue
from refold_contract.config import MOCK_API_KEY, MOCK_LINKED_ACCOUNT
from refold_contract.errors import ConfigurationError, RefoldError

if TYPE_CHECKING:
    from refold_contract.client import AsyncRefoldClient, RefoldClient
    from refold_contract.mock import RefoldMock

__all__ = [
    "async_client_for",
    "check_mock",
    "client_arguments",
    "client_for",
    "mock_for",
    "new_mock",
]


def mock_for(request: pytest.FixtureRequest, catalogue: Catalogue) -> Iterator[RefoldMock]:
    """The ``refold_mock`` fixture's body: the test's mock, started, stopped and checked.

    Example::

        yield from mock_for(request, refold_catalogue)
    """
    from refold_contract.mock.routing import SharedRouter

    # The mock's routers stay registered with respx for the session: httpcore is patched once,
    # not for every test (they stand aside while no test's mock holds them).
    SharedRouter.keep_registered(True)
    mock = new_mock(request, catalogue)
    mock.start()
    try:
        yield mock
    finally:
        mock.stop()
        attach_plan(request, mock)
    check_mock(request, mock)


def new_mock(request: pytest.FixtureRequest, catalogue: Catalogue) -> RefoldMock:
    """The test's mock: the session's settings, the ``refold`` marker's options, and in a live
    session the test's own gateway address.

    Example::

        mock = new_mock(request, refold_session(request.config).catalogue)
    """
    from refold_contract.mock import LiveLink, RefoldMock

    session = refold_session(request.config)
    settings = session.settings
    marker = RefoldMarker.of(request.node)
    stateful = marker.stateful
    if stateful is None:
        stateful = bool(request.config.getini("refold_stateful"))
    test_url = session.test_url(request.node)
    live = None
    base_url = settings.base_url
    # A plan run: clients that read REFOLD_BASE_URL (the sink) are answered by the mock too.
    aliases: list[str] = [session.plan_sink_url] if session.plan_sink_url else []
    if test_url is not None:
        base_url = test_url
        aliases = [u for u in (session.gateway_url, settings.base_url) if u]
        if request.node.get_closest_marker("refold_live") is not None:
            live = LiveLink(test_url)
            # stubs do not apply to live requests
            marker = dataclasses.replace(marker, assert_all_called=False)
    search_lag = marker.search_lag
    if search_lag is None:  # the ini key: "" (none), "2" or "2 calls", "1.5s"
        search_lag = str(request.config.getini("refold_search_lag")).strip() or None
    short_pages = marker.short_pages
    if short_pages is None:
        short_pages = bool(request.config.getini("refold_short_pages"))
    try:
        return RefoldMock(
            catalogue,
            base_url=base_url,
            aliases=aliases,
            strict=settings.strict if marker.strict is None else bool(marker.strict),
            live=live,
            consumer=session.consumer,
            stateful=bool(stateful) and live is None,
            search_lag=search_lag,
            short_pages=bool(short_pages),
            **marker.mock_options(),
        )
    except ConfigurationError as exc:  # a search_lag it cannot read: the marker or ini's fault
        pytest.fail(f"refold-contract: @pytest.mark.refold or the ini: {exc}", pytrace=False)


def check_mock(request: pytest.FixtureRequest, mock: RefoldMock) -> None:
    """At teardown: warn of what the catalogue lacked, then fail for unplaced requests and
    unused stubs (and, strict, unrelated replies) unless the test already failed, then warn of
    executes answered with an example recorded for other params.

    Example::

        check_mock(request, mock)
    """
    from refold_contract.errors import (
        NotInCatalogue,
        SeededElsewhere,
        UnknownParameter,
        UnmatchedExample,
    )
    from refold_contract.mock.checks import unmatched_policy

    for miss in mock.misses():
        warnings.warn(NotInCatalogue(f"refold_mock: {miss}"), stacklevel=1)
    for line in mock.stateful.seeded_elsewhere(mock.calls):
        warnings.warn(SeededElsewhere(f"refold_mock: {line}"), stacklevel=1)
    for line in mock.checks.unknown_parameter_lines():
        warnings.warn(UnknownParameter(f"refold_mock: {line}"), stacklevel=1)
    report = request.node.stash.get(CALL_REPORT_KEY, None)
    if report is not None and report.failed:
        return  # the test's own failure says enough
    failure = None
    try:
        mock.verify()
    except RefoldError as exc:
        failure = str(exc)
    if failure is not None:  # outside the except block: one message, no chained traceback
        pytest.fail(failure, pytrace=False)
    # After the failures, which say more (under -W error a warning would hide them).
    if unmatched_policy(mock.unmatched, strict=mock.strict) == "warn":  # "fail": verify() did
        for unmatched in mock.unmatched_replies():
            warnings.warn(UnmatchedExample(f"refold_mock: {unmatched}"), stacklevel=1)


def _client_credentials(mock: RefoldMock) -> dict[str, Any]:
    """Credentials the mock accepts: the fake test key, or the first the marker allows."""
    if mock.api_keys is not None:
        key = sorted(mock.api_keys)[0] if mock.api_keys else MOCK_API_KEY
        credentials: dict[str, Any] = {"api_key": key}
    elif mock.session_tokens is not None and mock.session_tokens:
        return {"session_token": sorted(mock.session_tokens)[0]}
    else:
        credentials = {"api_key": MOCK_API_KEY}
    accounts = mock.linked_accounts
    credentials["linked_account_id"] = sorted(accounts)[0] if accounts else MOCK_LINKED_ACCOUNT
    return credentials


def client_arguments(refold_mock: RefoldMock) -> dict[str, Any]:
    """The keyword arguments of a client pointed at ``refold_mock`` (or, live, the gateway).

    Example::

        RefoldClient(**client_arguments(refold_mock))
    """
    if refold_mock.is_live:
        return {
            # Placeholders: the gateway holds the real credentials and attaches them.
            "api_key": os.environ.get("REFOLD_API_KEY") or MOCK_API_KEY,
            "linked_account_id": os.environ.get("REFOLD_LINKED_ACCOUNT_ID") or None,
            "base_url": refold_mock.base_url,
            "catalogue": refold_mock.catalogue,
            # No read_only=True: the gateway refuses a write (ReadOnlyViolation all the same)
            # and charges the refusal to the test, which then fails even if it swallowed it.
            "env": {},
        }
    return {
        **_client_credentials(refold_mock),
        "base_url": refold_mock.base_url,
        "catalogue": refold_mock.catalogue,
        "env": {},
    }


def client_for(refold_mock: RefoldMock) -> Iterator[RefoldClient]:
    """The ``refold_client`` fixture's body: a client on the mock that never really sleeps.

    Example::

        yield from client_for(refold_mock)
    """
    from refold_contract.client import RefoldClient

    arguments = client_arguments(refold_mock)
    if not refold_mock.is_live:
        arguments["sleep"] = _no_sleep
    with RefoldClient(**arguments) as client:
        yield client


def async_client_for(refold_mock: RefoldMock) -> Iterator[AsyncRefoldClient]:
    """The ``async_refold_client`` fixture's body; closed after the test when no loop runs.

    Example::

        yield from async_client_for(refold_mock)
    """
    from refold_contract.client import AsyncRefoldClient

    arguments = client_arguments(refold_mock)
    if not refold_mock.is_live:
        arguments["sleep"] = _no_async_sleep
    client = AsyncRefoldClient(**arguments)
    yield client
    import asyncio

    # With an event loop still running in this thread, leave the client to the GC.
    with contextlib.suppress(RuntimeError):
        asyncio.run(client.aclose())


def _no_sleep(_: float) -> None:
    """Retries against the mock need no real wait."""


async def _no_async_sleep(_: float) -> None:
    """Retries against the mock need no real wait."""
