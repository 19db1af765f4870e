"""What each session registers and starts, by mode: the hooks in ``refold_contract.plugin``
delegate here.

Every session: custody and the egress guard (from the earliest hook), the markers, the
configuration checked at the session's start. A live session or plan run also registers
:class:`~refold_contract._plugin.live.LivePlugin`; ``--refold-consumer-contract`` registers
:class:`~refold_contract._plugin.consumer.ConsumerPlugin`.

Example::

    configure(config)            # pytest_configure
    start(session.config)        # pytest_sessionstart
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from refold_contract._plugin.consumer import CONSUMER_PLUGIN, ConsumerPlugin
from refold_contract._plugin.live import LIVE_PLUGIN, LivePlugin
from refold_contract._plugin.markers import LIVE_MARKER_LINE, marker_line
from refold_contract._plugin.selection import contract_selection, wants_selection
from refold_contract._plugin.session import (
    CUSTODY_INPUT,
    SESSION_KEY,
    open_session,
    refold_session,
)

__all__ = ["configure", "fill_workerinput", "lock_custody", "start"]

_CONTRACT_SUITE = str(Path(__file__).parent / "suites" / "contract_suite.py")


def configure(config: pytest.Config) -> None:
    """``pytest_configure``: the session (if the plugin came late), the markers, the suite.

    Example::

        configure(config)
    """
    if SESSION_KEY not in config.stash:  # the plugin was registered late (pytester, -p)
        open_session(config)
    if config.getoption("hypothesis_profile", None) == "refold":
        # Register the profile before hypothesis's own plugin loads it.
        import refold_contract.strategies  # noqa: F401
    if config.getoption("refold_contract", False) and _CONTRACT_SUITE not in config.args:
        config.args.append(_CONTRACT_SUITE)
    config.addinivalue_line("markers", marker_line())
    config.addinivalue_line("markers", LIVE_MARKER_LINE)


def start(config: pytest.Config) -> None:
    """``pytest_sessionstart``: settings, catalogue and gateway, then the mode's own hooks.

    Before the header is printed, so a malformed user file, a bad URL or a mistyped app stops
    the session with one line, not a traceback. Whether the session is live is known only from
    its settings, resolved here (after the conftest files custody retakes from), so the live
    plugin is registered here and not earlier.

    Example::

        start(session.config)
    """
    refold = refold_session(config)
    # The conftest files imported since custody was taken may have put a credential back
    # (load_dotenv(override=True)): it leaves the environment before the gateway starts.
    refold.custody.retake()
    refold.start()
    if wants_selection(config):
        contract_selection(config)
    path = config.getoption("refold_consumer_contract", None)
    if path:
        consumer = ConsumerPlugin(refold, path)
        consumer.start()
        config.pluginmanager.register(consumer, CONSUMER_PLUGIN)
    if refold.live_or_plan:
        config.pluginmanager.register(LivePlugin(refold), LIVE_PLUGIN)


def lock_custody(config: pytest.Config) -> None:
    """``pytest_collection_finish``: every conftest is in; custody retakes and locks.

    Example::

        lock_custody(session.config)
    """
    refold = config.stash.get(SESSION_KEY, None)
    if refold is not None:
        refold.lock_custody()


def fill_workerinput(node: Any) -> None:
    """xdist ``pytest_configure_node``: a worker recognises the working credentials by their
    fingerprints, without holding them.

    Example::

        fill_workerinput(node)
    """
    refold = node.config.stash.get(SESSION_KEY, None)
    if refold is not None:
        node.workerinput[CUSTODY_INPUT] = refold.custody.fingerprints()
