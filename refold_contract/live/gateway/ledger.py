"""The gateway's ledger: what each test's requests led to (refusals, reads, drift, recordings,
skipped notes), charged to the test's token, and the whole session's account.

A request sent to a test process's own address (``/w/<process token>``) is charged to the test
running there now (:meth:`Ledger.begin`, :meth:`Ledger.attribute`). Work deferred past a reply
is counted as pending, and :meth:`Ledger.collect` waits for it.

Example::

    ledger = Ledger()
    ledger.begin("9c1d", "/t/3f2a9c")
    ledger.attribute("/w/9c1d/api/v2/integration-schema/hubspot/actions")
    # "/t/3f2a9c/api/v2/integration-schema/hubspot/actions"
    ledger.refused("3f2a9c", "POST .../create_contact/execute: it writes")
    ledger.collect("3f2a9c")["refused"]      # ["POST .../create_contact/execute: it writes"]
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Findings", "Ledger"]

_PROCESS = re.compile(r"/w/([A-Za-z0-9_-]{1,64})(?=[/?#]|$)")


@dataclasses.dataclass
class Findings:
    """What one test's requests (or the whole session's) led to.

    Example::

        Findings(refused=["GET /x: could not place it"]).to_json()["reads"]      # 0
    """

    refused: list[str] = dataclasses.field(default_factory=list)
    drift: list[dict[str, str]] = dataclasses.field(default_factory=list)
    recorded: list[str] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)
    #: Signs that the test steered the gateway itself (not excused by ``allow_refused``).
    tampered: list[str] = dataclasses.field(default_factory=list)
    reads: int = 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what the control paths answer).

        Example::

            Findings().to_json()      # {"refused": [], "drift": [], ..., "reads": 0}
        """
        return dataclasses.asdict(self)


class Ledger:
    """Findings per test token and for the session, safe to use from the server's threads.

    Example::

        ledger = Ledger()
        ledger.note("3f2a9c", reads=1)
        ledger.report()["reads"]      # 1
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending: dict[str | None, int] = {}
        self._findings: dict[str | None, Findings] = {}
        self._session = Findings()
        # Per test process (/w/<process token>): the test running there now, as its prefix, so
        # a client made before the test (a session fixture's) is charged to the test using it.
        self._running: dict[str, str] = {}
        # Per token: how often its findings were read, and how many refusals the first read
        # saw (later ones are the session report's: a wider fixture's teardown after the test).
        self._collects: dict[str, int] = {}
        self._seen: dict[str, int] = {}
        self._refusals = 0  # every one; the findings keep each distinct refusal once

    def note(self, token: str | None, **kinds: Any) -> None:
        """Add findings of ``kinds`` (``refused=[...]``, ``reads=1``...) to ``token``'s and the
        session's; each distinct item once.

        Example::

            ledger.note("3f2a9c", skipped=["acme/get_thing: not in the catalogue"])
        """
        with self._lock:
            for findings in (self._findings.setdefault(token, Findings()), self._session):
                for kind, items in kinds.items():
                    if kind == "reads":
                        findings.reads += items
                        continue
                    bucket = getattr(findings, kind)
                    bucket.extend(i for i in items if i not in bucket)

    def refused(self, token: str | None, note: str) -> None:
        """Count one refusal and note it for ``token``.

        Example::

            ledger.refused(None, "GET /x: could not place it")
        """
        with self._lock:
            self._refusals += 1
        self.note(token, refused=[note])

    def pending_work(self, token: str | None, work: Callable[[], None]) -> Callable[[], None]:
        """``work``, counted as pending for ``token`` until it has run (:meth:`collect` waits).

        Example::

            after = ledger.pending_work("3f2a9c", lambda: observe(reply))
            ...
            after()      # now collect("3f2a9c") returns
        """
        with self._lock:
            self._pending[token] = self._pending.get(token, 0) + 1

        def after() -> None:
            try:
                work()
            finally:
                with self._idle:
                    self._pending[token] -= 1
                    self._idle.notify_all()

        return after

    def wait_idle(self, token: str | None, timeout: float = 30.0) -> None:
        """Wait until no work is pending for ``token`` (for anyone, when ``None``).

        Example::

            ledger.wait_idle(None)
        """
        with self._idle:
            self._idle.wait_for(
                lambda: (self._pending.get(token, 0) if token is not None
                         else sum(self._pending.values())) == 0,
                timeout,
            )  # fmt: skip

    def begin(self, process: str, prefix: str) -> None:
        """The test with ``prefix`` (``/t/<token>`` or ``/m/<token>``) now runs in the test
        process ``process``: requests to ``/w/<process>`` are its until the next test begins
        there (a module or session fixture's teardown after it is charged to it too).

        Example::

            ledger.begin("9c1d", "/t/3f2a9c")
        """
        displaced = None
        with self._lock:
            before = self._running.get(process)
            if before is not None and before != prefix:
                token = before.rsplit("/", 1)[-1]
                if token not in self._collects:
                    displaced = token
            self._running[process] = prefix
        if displaced is not None:
            # The plugin reads a test's findings before the next test of its process begins; a
            # begin before that came from elsewhere (test code holding the control key steering
            # its own requests away from its token): the test it displaced fails for it.
            self.note(
                displaced,
                tampered=[
                    "another test began in this test process while this one ran, so its later "
                    "requests were charged elsewhere (the gateway's control paths used by test "
                    "code?)"
                ],
            )

    def end(self, process: str) -> None:
        """No more tests run in the test process ``process``: requests to ``/w/<process>`` are
        from now on placed as sent from outside any test.

        Example::

            ledger.end("9c1d")
        """
        with self._lock:
            self._running.pop(process, None)

    def attribute(self, target: str) -> str:
        """``target`` with a test process's address (``/w/<process>``) replaced by the prefix of
        the test running there; with no test running, by nothing (as sent from outside any test).

        Example::

            ledger.attribute("/w/9c1d/api/v2/integration-schema/hubspot/actions")
        """
        process = _PROCESS.match(target)
        if process is None:
            return target
        with self._lock:
            running = self._running.get(process.group(1))
        # No test running there: the request is placed without a prefix, as sent from
        # outside any test.
        return (running or "") + target[process.end() :]

    def collect(self, token: str) -> dict[str, Any]:
        """What happened for one test's token so far, and under ``collects`` how many times it
        has been read, this one included. Reading clears nothing: something other than the
        plugin that reads a test's findings first (test code holding the control key) cannot
        hide a refusal, and the plugin sees ``collects`` above 1.

        Example::

            ledger.collect("3f2a9c")["refused"]
        """
        self.wait_idle(token)
        with self._lock:
            found = self._findings.get(token, Findings())
            self._collects[token] = count = self._collects.get(token, 0) + 1
            self._seen.setdefault(token, len(found.refused))
            return {**found.to_json(), "collects": count}

    def report(self) -> dict[str, Any]:
        """Everything found in the session, from every test, worker and process; and under
        ``refused_outside_tests`` the refusals no test collected: sent to no test's address, or
        after the test's end (a wider fixture's teardown).

        Example::

            ledger.report()["refused_count"]
        """
        self.wait_idle(None)
        with self._lock:
            outside = [
                r
                if token is None
                else f"{r} (not collected with its test: a wider fixture's teardown after it, "
                "or a set-up that failed?)"
                for token, found in self._findings.items()
                for r in found.refused[self._seen.get(token, 0) if token is not None else 0 :]
            ]
            return {
                **self._session.to_json(),
                "refused_outside_tests": outside,
                "refused_count": self._refusals,
            }
