"""Every test's guard: blocked connections fail it; in a live session it gets its own gateway
address, and the refusals the gateway charged to it fail it too.

Example::

    @pytest.fixture(autouse=True)
    def _refold_guarded(request):
        yield from guard_test(request)
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from refold_contract._plugin.live import gateway_findings
from refold_contract._plugin.session import (
    CALL_REPORT_KEY,
    SESSION_KEY,
    TEST_TOKEN_KEY,
    TEST_URL_KEY,
)

__all__ = ["guard_test"]


def guard_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """The autouse fixture's body: around the test, its base URL (live) and, after it, a
    failure for what the egress guard blocked or the gateway refused, unless it failed already.

    Example::

        yield from guard_test(request)
    """
    session = request.config.stash.get(SESSION_KEY, None)
    if session is None:
        yield
        return
    session.guard.take_attempts()
    saved = os.environ.get("REFOLD_BASE_URL")
    live_test = request.node.get_closest_marker("refold_live") is not None
    token = request.node.stash.get(TEST_TOKEN_KEY, None)
    if token is not None and session.gateway_url is not None:
        url = f"{session.gateway_url}/{'t' if live_test else 'm'}/{token}"
        request.node.stash[TEST_URL_KEY] = url
        os.environ["REFOLD_BASE_URL"] = url
    try:
        yield
    finally:
        if token is not None:
            if saved is None:
                os.environ.pop("REFOLD_BASE_URL", None)
            else:
                os.environ["REFOLD_BASE_URL"] = saved
    problems: list[str] = []
    attempts = session.guard.take_attempts()
    if attempts:
        listing = "\n".join(f"  {a}" for a in dict.fromkeys(attempts))
        problems.append(
            f"refold-contract blocked {len(attempts)} connection(s) from this test:\n{listing}\n"
            f"  hint: {session.guard.hint}"
        )
    if token is not None and session.gateway_url is not None:
        problems += gateway_findings(request, session, token)
    report = request.node.stash.get(CALL_REPORT_KEY, None)
    if problems and not (report is not None and report.failed):
        pytest.fail("\n".join(problems), pytrace=False)
