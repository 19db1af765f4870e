"""The ``refold_server`` fixture's object: the test's mock served over HTTP on loopback.

Example::

    def test_with_requests(refold_server):
        requests.get(refold_server.url + "/api/v2/integration-schema/hubspot/actions")
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from refold_contract.mock import RefoldMock

__all__ = ["RefoldServer", "serve"]


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


def serve(refold_mock: RefoldMock) -> Iterator[RefoldServer]:
    """The ``refold_server`` fixture's body: a loopback server for the mock, or in a live test
    the test's address at the read-only gateway (nothing to serve).

    Example::

        yield from serve(refold_mock)
    """
    if refold_mock.is_live:
        yield RefoldServer(refold_mock.base_url, refold_mock)
        return
    from refold_contract.mock.server import running_server

    with running_server(refold_mock) as server:
        yield RefoldServer(server.url, refold_mock)
