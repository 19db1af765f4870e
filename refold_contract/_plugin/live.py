"""Live and plan sessions: per-test routing through the read-only gateway, and their report.

:class:`LivePlugin` holds the hooks only a live session (``--refold-live``) or a plan run
(``--refold-live-plan``) needs; it is registered under ``refold_contract_live`` in those
sessions only, so a mock-only session never calls them. :class:`LiveReport` gathers what they
find (the gateway's session report, each test's plan and parity) and prints the summary.

Example::

    if session.live_or_plan:
        config.pluginmanager.register(LivePlugin(session), LIVE_PLUGIN)
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from refold_contract._core import endpoint as ep
from refold_contract._plugin.consumer import CONSUMER_PLUGIN
from refold_contract._plugin.session import (
    CONTROL_INPUT,
    TEST_TOKEN_KEY,
    RefoldSession,
    refold_session,
)
from refold_contract.config import MOCK_API_KEY
from refold_contract.errors import RefoldError

if TYPE_CHECKING:
    from refold_contract.mock import RefoldMock

__all__ = [
    "LIVE_PLUGIN",
    "LivePlugin",
    "LiveReport",
    "attach_plan",
    "end_tests",
    "gateway_findings",
    "live_credentials",
]

#: The name the live plugin is registered under.
LIVE_PLUGIN = "refold_contract_live"


class LivePlugin:
    """The hooks of a live session or a plan run, registered in those sessions only.

    Example::

        config.pluginmanager.register(LivePlugin(refold_session(config)), LIVE_PLUGIN)
    """

    def __init__(self, session: RefoldSession) -> None:
        self.session = session
        self.report = LiveReport(session)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        # xdist: a worker steers the gateway (each test's token, its findings) with the control
        # key; it travels in the worker's input, not the environment its tests and children see.
        if self.session.control_key is not None:
            node.workerinput[CONTROL_INPUT] = self.session.control_key

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        begin_test(self.session, item)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.report.add(report)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        try:
            return (yield)
        finally:
            if nextitem is None:  # the last test: what is sent from now on is no test's
                end_tests(self.session)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        end_tests(self.session)
        self.report.finish(session)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        self.report.write(terminalreporter)


def begin_test(session: RefoldSession, item: pytest.Item) -> None:
    """In a live session, hand the test's token to the gateway before any fixture is set up.

    What a session fixture's client sends (to this process's ``/w/`` address) is then this
    test's, live or refused by its marker.

    Example::

        begin_test(session, item)   # in pytest_runtest_setup
    """
    if session.gateway_url is None or not session.live:
        return
    token = secrets.token_hex(8)
    item.stash[TEST_TOKEN_KEY] = token
    kind = "t" if item.get_closest_marker("refold_live") is not None else "m"
    from refold_contract.live.gateway import begin_test as gateway_begin_test

    # A gateway that does not answer is reported at the test's teardown, as for any request.
    with contextlib.suppress(OSError, ValueError, RefoldError):
        gateway_begin_test(
            session.gateway_url,
            session.process_token,
            f"/{kind}/{token}",
            control_key=session.control_key,
        )


def end_tests(session: RefoldSession) -> None:
    """After this process's last test: what it sends to its address at the gateway from now on
    (a thread, an executor job) belongs to no test; the gateway refuses it with
    ``LIVE_TEST_REQUIRED`` and the session's report lists it.

    Example::

        end_tests(session)   # in pytest_sessionfinish, before the report
    """
    if session.gateway_url is None or not session.live:
        return
    from refold_contract.live.gateway import end_tests as gateway_end_tests

    with contextlib.suppress(OSError, ValueError, RefoldError):
        gateway_end_tests(
            session.gateway_url, session.process_token, control_key=session.control_key
        )


def gateway_findings(
    request: pytest.FixtureRequest, session: RefoldSession, token: str
) -> list[str]:
    """What the gateway noted for one test: drift and recordings go to its report's
    properties; refusals (unless the marker allows them) come back as failures.

    Example::

        problems += gateway_findings(request, session, token)
    """
    from refold_contract.live.gateway import collect_findings

    gateway_url = session.gateway_url
    assert gateway_url is not None
    try:
        found = collect_findings(gateway_url, token, control_key=session.control_key)
    except (OSError, ValueError, RefoldError) as exc:
        return [
            f"refold-contract: the read-only gateway at {gateway_url} is not answering "
            f"({type(exc).__name__}); this test's live requests failed, and nothing was sent to "
            "Refold directly"
        ]
    tampered = [f"refold-contract: {t}" for t in found.get("tampered") or []]
    if found.get("collects", 1) > 1:
        tampered.append(
            "refold-contract: something other than refold-contract read this test's findings "
            "from the read-only gateway while it ran (test code holding the gateway's control "
            "key?), so what the test sent cannot be vouched for; nothing it could not send went "
            "to Refold"
        )
    props = request.node.user_properties
    if found.get("drift"):
        props.append(("refold_drift", found["drift"]))
    if found.get("recorded"):
        props.append(("refold_recorded", found["recorded"]))
    refused = found.get("refused") or []
    allowed = any(m.kwargs.get("allow_refused") for m in request.node.iter_markers("refold"))
    if refused and not allowed:
        listing = "\n".join(f"  {r}" for r in refused)
        return [
            *tampered,
            f"refold-contract: the read-only gateway refused {len(refused)} request(s) from this "
            f"test; nothing was sent to Refold:\n{listing}\n  hint: a refusal fails the test even "
            "when the code swallowed the error; mark the test "
            "@pytest.mark.refold(allow_refused=True) if refusals are what it checks",
        ]
    return tampered


def attach_plan(request: pytest.FixtureRequest, mock: RefoldMock) -> None:
    """In a plan run, hand the requests a live test made to the report (xdist too).

    Example::

        attach_plan(request, mock)   # at the refold_mock fixture's teardown
    """
    session = refold_session(request.config)
    if not session.plan or request.node.get_closest_marker("refold_live") is None:
        return
    from refold_contract.access import access_of

    labels = {"execute": "", "schema": " (schema)", "list_actions": " (list actions)"}
    plan = []
    for c in mock.calls:
        what = f"{c.slug}/{c.action_id}" if c.action_id else f"{c.slug or c.path}"
        allowed = c.operation in ("schema", "list_actions") or (
            c.operation == "execute"
            and c.slug is not None
            and c.action_id is not None
            and access_of(
                mock.catalogue,
                c.slug,
                c.action_id,
                c.params if isinstance(c.params, dict) else None,
            )
            == "read"
        )
        plan.append([what + labels.get(c.operation, f" ({c.operation})"), allowed])
    request.node.user_properties.append(("refold_live_plan", plan))


def live_credentials(config: pytest.Config) -> dict[str, str]:
    """The credential headers a live request carries from a test: placeholders, which the
    read-only gateway replaces with the working credentials it holds.

    Example::

        httpx.Client(headers=live_credentials(pytestconfig))
    """
    return {
        ep.HEADER_API_KEY: os.environ.get("REFOLD_API_KEY") or MOCK_API_KEY,
        ep.HEADER_LINKED_ACCOUNT: os.environ.get("REFOLD_LINKED_ACCOUNT_ID") or "",
    }


class LiveReport:
    """Gathers live findings and prints them in the terminal summary: the gateway's session
    report on the controller, the plan and parity from each test's report (xdist too).

    Example::

        report = LiveReport(session)
        report.add(test_report)           # each report
        report.finish(pytest_session)     # at the end: the gateway's report, the exit status
        report.write(terminalreporter)
    """

    def __init__(self, session: RefoldSession) -> None:
        self.session = session
        self.config = session.config
        self.drift: list[dict[str, str]] = []
        self.recorded: set[str] = set()
        self.skipped: set[str] = set()
        self.skipped_sent: list[str] = []
        self.refused = 0
        self.refused_count = 0
        self.refused_outside: list[str] = []
        self.plan_outside: list[str] = []
        self.plan: dict[str, list[list[Any]]] = {}
        self.parity: dict[str, dict[str, int]] = {}

    def add(self, report: pytest.TestReport) -> None:
        """Take a test's plan and parity from its teardown report."""
        if report.when != "teardown":
            return
        for name, value in report.user_properties:
            items: Any = value
            if name == "refold_live_plan":
                self.plan[report.nodeid] = items
            elif name == "refold_parity":
                key, counts = items
                merged = self.parity.setdefault(key, {})
                for outcome, count in counts.items():
                    merged[outcome] = merged.get(outcome, 0) + count

    def finish(self, session: pytest.Session) -> None:
        """Take the gateway's session report, stop it, and fail the session for what no test
        could fail for (refusals outside tests, drift under ``--refold-drift=fail``)."""
        refold = self.session
        if refold.plan_sink is not None:
            self.plan_outside = list(refold.plan_sink.arrivals)
        report = refold.finish()
        if report is None:
            return
        self.drift = list(report.get("drift", []))
        self.recorded = set(report.get("recorded", []))
        if report.get("examples"):
            # Sent back by a shared gateway: this process writes them, into the user's folder.
            self.recorded = set(write_sent_back(refold, report["examples"], self.skipped_sent))
        self.skipped = set(report.get("skipped", [])) | set(self.skipped_sent)
        self.refused = len(report.get("refused", []))
        self.refused_count = int(report.get("refused_count", self.refused))
        self.refused_outside = list(report.get("refused_outside_tests", []))
        if self.refused_outside and session.exitstatus == 0:
            # No test to fail for them: code outside any test, or a URL that dropped the
            # test's address, sent them.
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        path = self.config.getoption("refold_drift_report", None)
        if path:
            from refold_contract.live import write_json_atomically

            write_json_atomically(Path(path), {"drift": self.drift})
        if self.drift and refold.settings.drift != "report" and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def write(self, terminalreporter: Any) -> None:
        """Print the plan, drift, recordings, parity and refusals in the terminal summary."""
        write = terminalreporter.write_line
        refold = self.session
        if self.plan or self.plan_outside:
            terminalreporter.section("refold-contract live plan (nothing was sent)")
            for nodeid, calls in self.plan.items():
                write(nodeid)
                if not calls:
                    write(f"    {'no Refold request':45}")
                for what, allowed in calls:
                    verdict = "read: will be sent" if allowed else "write: will be refused"
                    write(f"    {what:45} {verdict}")
            if self.plan_outside:
                write(
                    "from outside refold_mock and refold_server (another client or a child "
                    "process; refused, not planned: answer them with refold_server to plan them):"
                )
                for line in dict.fromkeys(self.plan_outside):
                    write(f"    {line}")
        contract = refold.settings.drift_contract
        if self.drift:
            title = (
                f"refold-contract drift that breaks the consumer contract {contract}"
                if contract
                else "refold-contract drift from the catalogue"
            )
            terminalreporter.section(title)
            write(f"{'action':36} {'kind':22} {'where':44} detail")
            for d in self.drift:
                write(f"{d['action']:36} {d['kind']:22} {d['path']:44} {d['detail']}")
        if self.recorded:
            terminalreporter.section("refold-contract recorded")
            for path in sorted(self.recorded):
                write(f"wrote {_relative(path)}")
        if self.parity:
            terminalreporter.section("refold-contract parity: the same bodies, mock vs live")
            for key in sorted(self.parity):
                counts = self.parity[key]
                same = sum(v for k, v in counts.items() if k.split(" -> ")[0] == k.split(" -> ")[1])
                total = sum(counts.values())
                detail = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
                write(f"{key:40} agree {same}/{total}  ({detail})")
        for line in sorted(self.skipped):
            write(f"refold-contract: {line}")
        consumer_line = getattr(self.config.pluginmanager.get_plugin(CONSUMER_PLUGIN), "line", None)
        if consumer_line:
            write(consumer_line)
        live = refold.live and not refold.is_worker
        if self.refused:
            distinct = f", {self.refused} distinct" if self.refused != self.refused_count else ""
            write(f"refold-contract: the read-only gateway refused {self.refused_count} "
                  f"request(s){distinct}; nothing was sent for them")  # fmt: skip
        if self.refused_outside:
            write(f"refold-contract: failing the session: {len(self.refused_outside)} request(s) "
                  "refused outside any test's address, LIVE_TEST_REQUIRED (import-time code, "
                  "work still sending after the last test such as a thread or an executor job, "
                  "a wider fixture's teardown after an unmarked test, or a URL built from the "
                  "gateway's root instead of REFOLD_BASE_URL):")  # fmt: skip
            for line in self.refused_outside:
                write(f"  {line}")
        if live and not self.drift:
            write("refold-contract: no drift from the catalogue")
        if self.drift and refold.settings.drift != "report":
            write(f"refold-contract: failing the session: {len(self.drift)} drift finding(s) "
                  f"and --refold-drift={refold.settings.drift}")  # fmt: skip


def _relative(path: str) -> str:
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(Path.cwd()))
    return path


def write_sent_back(session: RefoldSession, examples: list[Any], skipped: list[str]) -> list[str]:
    """Write the examples a shared gateway sent back into the last catalogue folder, as a
    local live run records them; the files written. What cannot be written goes to ``skipped``.

    Example::

        paths = write_sent_back(session, report["examples"], skipped)
    """
    from refold_contract.live.recorder import Recorder

    recorder = Recorder(
        Path(session.settings.fixtures[-1]),
        session.catalogue,
        linked_account_id=None,  # the gateway put its placeholder in already
        extra_keys=tuple(session.config.getini("refold_record_redact")),
    )
    written = []
    for example in examples:
        if not isinstance(example, dict):
            continue
        slug, action_id = str(example.get("slug")), str(example.get("action_id"))
        action = session.catalogue.find(slug, action_id)
        if action is None:  # what a server sends is shown as data, one line, cut short
            skipped.append(f"{slug!r:.80}/{action_id!r:.80}: not in your catalogue, not recorded")
            continue
        try:
            written.append(
                str(recorder.record(action, example.get("params"), example.get("response")))
            )
        except (RefoldError, OSError) as exc:
            skipped.append(f"{slug}/{action_id}: not recorded: {exc}")
    return sorted(set(written))
