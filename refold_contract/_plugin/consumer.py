"""The consumer-contract wiring of ``--refold-consumer-contract PATH``.

Registered only in sessions given that option: it records, per action, the parameters the
tests send and the reply paths the code reads, gathers the xdist workers' shares on the
controller, and writes the merged contract at the end of the session.

Example::

    plugin = ConsumerPlugin(refold_session(config), "contract.json")
    plugin.start()
    config.pluginmanager.register(plugin, CONSUMER_PLUGIN)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from refold_contract._plugin.session import RefoldSession

__all__ = ["CONSUMER_PLUGIN", "ConsumerPlugin"]

#: The name the plugin is registered under.
CONSUMER_PLUGIN = "refold_contract_consumer"


class ConsumerPlugin:
    """Records what the tests read, and writes the consumer contract when the session ends.

    The recorder is ``session.consumer``, which each test's mock feeds. On an xdist worker the
    contract travels back to the controller in the worker's output; the controller merges them.

    Example::

        plugin = ConsumerPlugin(session, "contract.json")
        plugin.start()       # the client and JSON replies are tracked from here
        plugin.write()       # at the end: the summary line, or None on a worker
    """

    def __init__(self, session: RefoldSession, path: str) -> None:
        self.session = session
        self.path = path
        self.parts: list[dict[str, Any]] = []
        #: The summary line, once the contract is written (the controller only).
        self.line: str | None = None
        self._untrack_json: Callable[[], None] | None = None

    def start(self) -> None:
        """Start recording: the client's replies and the mock's JSON are tracked."""
        from refold_contract import client
        from refold_contract.consumer import ReadRecorder, track_json
        from refold_contract.mock import TRACK_EXTENSION

        recorder = ReadRecorder()
        self.session.consumer = recorder
        client.track_replies(recorder)
        self._untrack_json = track_json(recorder, TRACK_EXTENSION)

    def write(self) -> str | None:
        """Merge this process's contract with the workers' and write it; a line for the summary."""
        recorder = self.session.consumer
        if recorder is None:
            return None
        from refold_contract.consumer import ConsumerContract, merge

        contract = recorder.contract()
        config = self.session.config
        if self.session.is_worker:  # the worker's share travels back to the controller
            output: dict[str, Any] = config.workeroutput  # type: ignore[attr-defined]
            output["refold_consumer_contract"] = contract.to_json()
            return None
        parts = [ConsumerContract.from_json(p) for p in self.parts]
        merged = merge(contract, *parts)
        written = merged.save(self.path)
        reads = sum(
            len(s.leaf_reads()) for a in merged.actions.values() for s in a.replies.values()
        )
        return (
            f"refold-contract: consumer contract written to {written}: {len(merged)} action(s), "
            f"{reads} read path(s); check it with: refold-contract verify {self.path}"
        )

    def close(self) -> None:
        """Stop recording."""
        if self.session.consumer is None:
            return
        from refold_contract import client

        client.track_replies(None)
        if self._untrack_json is not None:
            self._untrack_json()
            self._untrack_json = None

    # ------------------------------------------------------------------ hooks

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        part = getattr(node, "workeroutput", {}).get("refold_consumer_contract")
        if part is not None:
            self.parts.append(part)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.line = self.write()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        # A live or plan session's summary (the live plugin's) prints it in its place there.
        if self.line and not self.session.live_or_plan:
            terminalreporter.write_line(self.line)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.close()
