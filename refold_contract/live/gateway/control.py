"""The gateway's control paths, from the plugin's side: their names, and the client that asks
a running gateway for one test's findings, tells it which test now runs where, and fetches the
session's report.

Example::

    begin_test(gateway.url, "9c1d", "/t/3f2a9c", control_key=gateway.control_key)
    collect_findings(gateway.url, "3f2a9c", control_key=gateway.control_key)["refused"]
    fetch_report(gateway.url, control_key=gateway.control_key)["drift"]
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

from refold_contract.errors import ConfigurationError

__all__ = [
    "CONTROL_HEADER",
    "CONTROL_PREFIX",
    "begin_test",
    "collect_findings",
    "end_tests",
    "fetch_report",
]

#: Paths under this prefix are the gateway's own (findings, report, health), never forwarded.
CONTROL_PREFIX = "/__refold/gateway"
#: The header that carries the control key of a gateway started by
#: :class:`~refold_contract.live.gateway.process.GatewayProcess`.
CONTROL_HEADER = "x-refold-gateway-control"


def _control_call(
    url: str, method: str, path: str, control_key: str | None, timeout: float = 10.0
) -> Any:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=timeout
    )
    headers = {"content-length": "0"}
    if control_key is not None:
        headers[CONTROL_HEADER] = control_key
    try:
        # A shared gateway's session lives under a path (``<gateway>/s/<session>``).
        prefix = parts.path.rstrip("/")
        connection.request(method, prefix + CONTROL_PREFIX + path, headers=headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise ConfigurationError(f"the gateway answered {response.status} to {path}")
    return json.loads(data)


def collect_findings(url: str, token: str, *, control_key: str | None = None) -> dict[str, Any]:
    """One test's findings from the gateway at ``url`` (the root URL, no test prefix).

    Raises ``OSError`` when the gateway cannot be reached.

    Example::

        collect_findings("http://127.0.0.1:49152", "3f2a9c")["refused"]
    """
    result: dict[str, Any] = _control_call(url, "POST", f"/collect/{token}", control_key)
    return result


def begin_test(url: str, process: str, prefix: str, *, control_key: str | None = None) -> None:
    """Tell the gateway at ``url`` that the test with ``prefix`` (``/t/<token>`` or
    ``/m/<token>``) now runs in the test process whose address is ``<url>/w/<process>``.

    Example::

        begin_test(gateway_url, "9c1d", "/t/3f2a9c")
    """
    _control_call(url, "POST", f"/begin/{process}{prefix}", control_key)


def end_tests(url: str, process: str, *, control_key: str | None = None) -> None:
    """Tell the gateway at ``url`` that no more tests run in the test process whose address is
    ``<url>/w/<process>``: what is sent there from now on (a thread, an executor job after the
    last test) belongs to no test, and is refused with ``LIVE_TEST_REQUIRED``.

    Example::

        end_tests(gateway_url, "9c1d")
    """
    _control_call(url, "POST", f"/end/{process}", control_key)


def fetch_report(url: str, *, control_key: str | None = None) -> dict[str, Any]:
    """The whole session's findings from the gateway at ``url``.

    Example::

        fetch_report(gateway_url)["drift"]
    """
    result: dict[str, Any] = _control_call(url, "GET", "/report", control_key)
    return result
