"""The ``refold_server`` fixture's object: the test's mock served over HTTP on loopback.

Example::

    def test_with_requests(refold_server):
        requests.get(refold_server.url + "/api/v2/integration-schema/hubspot/actions")
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from refold_contract.mock import RefoldMock
    from refold_contract.mock.server import RunningServer

__all__ = ["BETWEEN_TESTS", "RefoldServer", "SessionHTTP"]


class RefoldServer:
    """What the ``refold_server`` fixture gives: ``url`` to point non-httpx code at, ``mock``.

    Example::

        def test_with_requests(refold_server):
            requests.post(refold_server.url + "/api/v2/integration-schema/hubspot/actions/"
                          "get_contact/execute", json={}, headers=HEADERS)
            refold_server.mock.assert_called("hubspot", "get_contact")
    """

    def __init__(self, url: str, mock: RefoldMock) -> None:
        self.url = url
        self.mock = mock

    def __repr__(self) -> str:
        return f"<RefoldServer {self.url}{' live' if self.mock.is_live else ''}>"


#: What a request to ``refold_server`` gets between two tests.
BETWEEN_TESTS = (
    "refold_server: no test is running, so no mock answers this request; it arrived after the "
    "test that sent it ended (a thread, executor job or child process that outlived its test). "
    "Wait for that work before the test returns"
)


class SessionHTTP:
    """One loopback server for the whole session, started on first use, answering each test
    from that test's own mock: a test costs a pointer swap instead of a server start.

    Example::

        http = SessionHTTP()
        with contextlib.closing(http):
            yield from http.serve(refold_mock)
    """

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._server: RunningServer | None = None

    def __repr__(self) -> str:
        return f"<SessionHTTP {self._server.url if self._server else 'not started'}>"

    def serve(self, refold_mock: RefoldMock) -> Iterator[RefoldServer]:
        """The ``refold_server`` fixture's body: the session server answering from
        ``refold_mock`` for the test, or in a live test the test's address at the read-only
        gateway (nothing to serve).

        Example::

            yield from http.serve(refold_mock)
        """
        if refold_mock.is_live:
            yield RefoldServer(refold_mock.base_url, refold_mock)
            return
        if self._server is None:
            from refold_contract.mock.server import running_server

            self._server = self._stack.enter_context(running_server())
        server = self._server
        server.use(refold_mock)
        refold_mock.checks.http_url = server.url
        try:
            yield RefoldServer(server.url, refold_mock)
        finally:
            server.idle(BETWEEN_TESTS)

    def close(self) -> None:
        """Stop the server, if it was started.

        Example::

            http.close()
        """
        self._server = None
        self._stack.close()
