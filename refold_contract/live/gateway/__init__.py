"""The read-only gateway: the one process in a live run that holds the working credentials.

In live mode the plugin starts the gateway as a separate process on 127.0.0.1, hands it the
credentials over a pipe (never argv, never the environment), and points ``REFOLD_BASE_URL`` of
the test process, its xdist workers and its child processes at it. Every client then talks to the
gateway with placeholder credentials, and the gateway:

- places each request strictly: no query, no percent-encoding, no dot segments, no repeated
  slashes, exact lower-case paths, ids in Refold's alphabet, the right method; a request that
  does not map to exactly one of the three operations is refused;
- forwards the list and schema operations, and execute of read actions, to Refold with the
  working credentials, rebuilding the upstream URL from what it placed;
- refuses everything else with HTTP 403 in Refold's envelope, ``error_code``
  ``READ_ONLY_VIOLATION``, and remembers the refusal for the test that sent it;
- paces reads (``refold_rate``/``refold_burst``) once for all workers and processes;
- scrubs the credentials out of every reply, compares replies with the catalogue (drift) and
  records them when asked.

Tests are told apart by a path prefix the plugin puts in ``REFOLD_BASE_URL`` for each test:
``/t/<token>`` for a ``refold_live`` test, ``/m/<token>`` for any other test (refused: only
``refold_live`` tests go live). Each test process's own ``REFOLD_BASE_URL`` between tests is
``/w/<process token>``: a request there is the running test's (a client a session fixture made
is charged to the test using it), or, with no test running, refused. The plugin's gateway
refuses a request without a prefix (``GatewayConfig.tests_only``); the command's counts for the
whole session.

The package's modules, one concern each: :mod:`~.config` (:class:`GatewayConfig`),
:mod:`~.policy` (what is forwarded, what refused), :mod:`~.ledger` (findings per test),
:mod:`~.observe` (drift and recording of a reply), :mod:`~.core` (:class:`Gateway`: one request
answered, forwarded upstream and scrubbed), :mod:`~.reply` (:class:`GatewayReply`, the error
envelope), :mod:`~.http` (:func:`serve`), :mod:`~.plan` (:class:`PlanSink`), :mod:`~.process`
(:class:`GatewayProcess`, :func:`child_main`) and :mod:`~.control` (the plugin's control client).
This module only re-exports them.

Also a command, ``refold-contract gateway``, for a read-only smoke check of a service written in
any language.

Example::

    with GatewayProcess.start(GatewayConfig(upstream="https://app.refold.ai"),
                              Credentials(api_key="tk_...", linked_account_id="user_1")) as gw:
        os.environ["REFOLD_BASE_URL"] = gw.url     # anything now reads through the gateway
"""

from __future__ import annotations

from refold_contract._core.endpoint import Placed, place
from refold_contract._core.transport import forward
from refold_contract._guard.custody import Credentials
from refold_contract.live.gateway.config import GatewayConfig
from refold_contract.live.gateway.control import (
    CONTROL_HEADER,
    CONTROL_PREFIX,
    begin_test,
    collect_findings,
    end_tests,
    fetch_report,
)
from refold_contract.live.gateway.core import Gateway, logger
from refold_contract.live.gateway.plan import PlanSink
from refold_contract.live.gateway.process import GatewayProcess, child_main
from refold_contract.live.gateway.reply import GatewayReply, envelope
from refold_contract.live.gateway.server import serve
from refold_contract.live.gateway.shared import SharedGateway, SharedSession

__all__ = [
    "CONTROL_HEADER",
    "CONTROL_PREFIX",
    "Credentials",
    "Gateway",
    "GatewayConfig",
    "GatewayProcess",
    "GatewayReply",
    "Placed",
    "PlanSink",
    "SharedGateway",
    "SharedSession",
    "begin_test",
    "child_main",
    "collect_findings",
    "end_tests",
    "envelope",
    "fetch_report",
    "forward",
    "logger",
    "place",
    "serve",
]
