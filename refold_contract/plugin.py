"""The pytest plugin (entry point ``refold_contract``): options, ini keys, marker, fixtures.

Installed with the package; nothing to configure. respx is imported when a test first asks for
``refold_mock``, never at start-up.

Example::

    def test_my_sync_job(refold_mock, refold_client):
        refold_mock.stub("hubspot", "get_contact", data={"results": [], "paging": {}})
        assert my_sync_job(refold_client) == 0
        refold_mock.assert_called("hubspot", "get_contact", times=1)
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
import secrets
import sys
import warnings
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from refold_contract import __version__
from refold_contract._core import endpoint as ep
from refold_contract.catalogue import Action, Catalogue
from refold_contract.config import (
    DEFAULT_EXAMPLES,
    MOCK_API_KEY,
    MOCK_LINKED_ACCOUNT,
    REFOLD_BURST,
    REFOLD_RATE,
    Settings,
)
from refold_contract.errors import RefoldError

if TYPE_CHECKING:
    from refold_contract._guard.custody import Custody
    from refold_contract._guard.egress import EgressGuard
    from refold_contract.client import AsyncRefoldClient, RefoldClient
    from refold_contract.consumer import ReadRecorder
    from refold_contract.live.gateway import GatewayProcess, PlanSink
    from refold_contract.mock import RefoldMock


_SESSION_KEY = pytest.StashKey["RefoldSession"]()
_SELECTION_KEY = pytest.StashKey["ContractSelection"]()
_CALL_REPORT_KEY = pytest.StashKey[pytest.TestReport]()
_TEST_URL_KEY = pytest.StashKey[str]()
_TEST_TOKEN_KEY = pytest.StashKey[str]()
_MARKER_KWARGS = frozenset(
    {"strict", "linked_accounts", "assert_all_called", "api_keys", "session_tokens",
     "allow_refused", "rate_limit", "stateful"}
)  # fmt: skip
# Set in live sessions for workers and child processes: the gateway, and the real base URL.
_GATEWAY_VARIABLE = "REFOLD_CONTRACT_GATEWAY"
_UPSTREAM_VARIABLE = "REFOLD_CONTRACT_UPSTREAM"
_CONTROL_INPUT = "refold_gateway_control"
_CUSTODY_INPUT = "refold_custody_fingerprints"
_PLAN_SINK_VARIABLE = "REFOLD_CONTRACT_PLAN_SINK"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("refold", "refold-contract: test code that calls Refold's actions API")
    group.addoption(
        "--refold-fixtures",
        action="append",
        dest="refold_fixtures",
        default=None,
        metavar="DIR",
        help="catalogue folder layered over the built-in one (repeatable; later folders win)",
    )
    group.addoption(
        "--refold-base-url",
        dest="refold_base_url",
        default=None,
        metavar="URL",
        help=f"the Refold base URL the mock answers for (default {ep.DEFAULT_BASE_URL}, "
        "or REFOLD_BASE_URL)",
    )
    group.addoption(
        "--refold-live",
        action="store_true",
        dest="refold_live",
        default=None,
        help="run tests marked refold_live against the real Refold API, reads only "
        "(credentials from REFOLD_API_KEY + REFOLD_LINKED_ACCOUNT_ID or REFOLD_SESSION_TOKEN; "
        "also REFOLD_LIVE=1)",
    )
    group.addoption(
        "--refold-record",
        action="store_true",
        dest="refold_record",
        default=None,
        help="live mode: write each live read reply as an example into the first "
        "--refold-fixtures folder (scrubbed, atomic)",
    )
    group.addoption(
        "--refold-drift",
        dest="refold_drift",
        default=None,
        metavar="{report,fail,contract:PATH}",
        help="live mode: report drift from the catalogue in the summary (default), fail on it, "
        "or report (and fail on) only the drift that breaks the consumer contract at PATH",
    )
    group.addoption(
        "--refold-drift-report",
        dest="refold_drift_report",
        default=None,
        metavar="PATH",
        help="live mode: also write the drift found as JSON to PATH",
    )
    group.addoption(
        "--refold-live-plan",
        action="store_true",
        dest="refold_live_plan",
        default=False,
        help="send nothing: run refold_live tests on the mock and list, per test, the actions "
        "live mode would send (reads) and refuse (writes)",
    )
    parser.addini(
        "refold_rate",
        default=str(int(REFOLD_RATE)),
        help="live mode: requests per second per linked account",
    )
    parser.addini(
        "refold_burst", default=str(REFOLD_BURST), help="live mode: burst size per linked account"
    )
    parser.addini(
        "refold_record_redact",
        type="linelist",
        default=[],
        help="live recording: key patterns (regex) whose values are replaced by <redacted>, "
        "for personal data",
    )
    group.addoption(
        "--refold-consumer-contract",
        dest="refold_consumer_contract",
        default=None,
        metavar="PATH",
        help="write a consumer contract to PATH: per action, the parameters your tests send and "
        "the reply paths your code reads (verify it with refold-contract verify PATH)",
    )
    group.addoption(
        "--refold-contract",
        action="store_true",
        dest="refold_contract",
        default=False,
        help="also run refold-contract's built-in contract suite over the catalogue",
    )
    group.addoption(
        "--refold-app",
        action="append",
        dest="refold_apps",
        default=None,
        metavar="SLUG",
        help="contract suite: only this app (repeatable)",
    )
    group.addoption(
        "--refold-action",
        action="append",
        dest="refold_actions",
        default=None,
        metavar="ID",
        help="contract suite: only this action, as ID or SLUG/ID (repeatable)",
    )
    group.addoption(
        "--refold-examples",
        type=int,
        dest="refold_examples",
        default=None,
        metavar="N",
        help=f"contract suite: generated bodies per action and kind (default {DEFAULT_EXAMPLES})",
    )
    parser.addini(
        "refold_fixtures",
        type="paths",
        default=[],
        help="catalogue folders layered over the built-in one, relative to the ini file",
    )
    parser.addini("refold_base_url", default=None, help="the Refold base URL the mock answers for")
    parser.addini(
        "refold_snapshot_normalize",
        type="bool",
        default=True,
        help="refold_snapshot: replace timestamps, ids, UUIDs and cursors by placeholders "
        "(default true)",
    )
    parser.addini(
        "refold_stateful",
        type="bool",
        default=False,
        help="refold_mock keeps records across calls (the sandbox) in every test (default false)",
    )
    parser.addini(
        "refold_strict",
        type="bool",
        default=False,
        help="validate parameter types and refuse unknown keys in the mock (default false)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # The earliest hook a plugin gets, before any conftest file is imported: the working
    # credentials leave the process here, and sockets to Refold are refused from here on.
    _open_session(early_config)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if _SESSION_KEY not in config.stash:  # the plugin was registered late (pytester, -p)
        _open_session(config)
    config.pluginmanager.register(LiveReport(config), "refold_contract_live_report")
    if config.getoption("hypothesis_profile", None) == "refold":
        # Register the profile before hypothesis's own plugin loads it.
        import refold_contract.strategies  # noqa: F401
    if config.getoption("refold_contract", False):
        suite = str(Path(__file__).parent / "_plugin" / "suites" / "contract_suite.py")
        if suite not in config.args:
            config.args.append(suite)
    config.addinivalue_line(
        "markers",
        "refold(strict=None, linked_accounts=None, assert_all_called=True, api_keys=None, "
        "session_tokens=None, allow_refused=False, rate_limit=False, stateful=None): per-test "
        "options for the refold_mock fixture",
    )
    config.addinivalue_line(
        "markers",
        "refold_live: run this test against the real Refold API in live mode (--refold-live); "
        "reads only",
    )


def _open_session(config: pytest.Config) -> None:
    """Take custody of the credentials, refuse sockets to Refold, and stash the session."""
    from refold_contract._guard.custody import Custody
    from refold_contract._guard.egress import EgressGuard

    custody = Custody.take()
    guard = EgressGuard(hint=_MOCK_HINT)
    try:
        guard.install()
    except RuntimeError as exc:  # another audit hook refused ours: no run without the guard
        custody.restore()
        raise pytest.UsageError(str(exc)) from None
    config.stash[_SESSION_KEY] = RefoldSession(config, custody, guard)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION_KEY, None)
    if session is not None:
        session.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "call":
        item.stash[_CALL_REPORT_KEY] = report
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Replace every credential custody took in a test's report (its failure text, captured
    output and logs) before the terminal and junit XML read it: test code that read the key from
    its own settings file and printed it does not show it. Every report passes here, a worker's
    too on the controller, which is the process holding the credentials under xdist."""
    from refold_contract._guard.custody import held_secrets

    held = held_secrets()
    if not held:  # the common case, per report: nothing to look for
        return
    from refold_contract._core.json import Redactor

    redactor = Redactor(held)
    if report.longrepr is not None:
        text = str(report.longrepr)
        if any(secret in text for secret in held):
            report.longrepr = redactor.text(text)
    report.sections = [(title, redactor.text(content)) for title, content in report.sections]


@pytest.hookimpl(tryfirst=True)
def pytest_warning_recorded(warning_message: warnings.WarningMessage) -> None:
    # A warning built from a held credential (test code's own): redacted before the terminal's
    # warnings summary formats it, from a worker too.
    from refold_contract._guard.custody import held_secrets

    held = held_secrets()
    text = str(warning_message.message) if held else ""
    if any(secret in text for secret in held):
        from refold_contract._core.json import Redactor

        clean = Redactor(held).text(text)
        try:
            warning_message.message = warning_message.category(clean)
        except Exception:  # a category with its own constructor: a plain one, same text
            warning_message.message = UserWarning(clean)


_PLAN_HINT = (
    "--refold-live-plan sends nothing: answer the request with refold_mock (httpx) or "
    "refold_server (any client), whose requests the plan lists, and build its URL from "
    "REFOLD_BASE_URL"
)
_MOCK_HINT = (
    "tests never reach Refold: answer httpx code with the refold_mock fixture, and requests, "
    "urllib, aiohttp or another process with the refold_server fixture (point the code at "
    "refold_server.url)"
)


class RefoldSession:
    """Everything one pytest session of the plugin holds: custody of the credentials, the
    egress guard, settings, the catalogue and, in live mode, the read-only gateway.

    Hooks delegate to it; it lives in ``config.stash``.

    Example::

        session = refold_session(pytestconfig)
        session.settings.base_url, session.live, session.gateway_url
    """

    def __init__(self, config: pytest.Config, custody: Custody, guard: EgressGuard) -> None:
        self.config = config
        self.custody = custody
        self.guard = guard
        self.gateway: GatewayProcess | None = None
        self.consumer: ReadRecorder | None = None
        self._consumer_parts: list[dict[str, Any]] = []
        self._untrack_json: Callable[[], None] | None = None
        self.gateway_url: str | None = os.environ.get(_GATEWAY_VARIABLE) or None
        self._settings: Settings | None = None
        self._catalogue: Catalogue | None = None
        self._saved_env: dict[str, str | None] = {}
        self.plan_sink: PlanSink | None = None
        self.plan_sink_url: str | None = None
        #: This process's address at the gateway in a live session: ``<gateway>/w/<token>``.
        self.process_token = secrets.token_hex(8)
        #: What the gateway's control paths ask for: the controller has it from the gateway it
        #: started, an xdist worker from its workerinput (never the environment), at start.
        self.control_key: str | None = None
        self._closed = False

    # ------------------------------------------------------------------ settings

    @property
    def settings(self) -> Settings:
        """The resolved settings; the real credentials only in the controlling process."""
        if self._settings is None:
            config = self.config
            env = self.custody.env_view()
            upstream = env.get(_UPSTREAM_VARIABLE)
            if upstream:  # an xdist worker of a live or plan session: REFOLD_BASE_URL is ours
                env["REFOLD_BASE_URL"] = upstream
            try:
                ini_folders = [Path(p) for p in config.getini("refold_fixtures")]
                option_folders = [Path(p) for p in (config.getoption("refold_fixtures") or [])]
                self._settings = Settings.resolve(
                    env=env,
                    options={
                        "base_url": config.getoption("refold_base_url"),
                        "live": config.getoption("refold_live", None),
                        "record": config.getoption("refold_record", None),
                        "drift": config.getoption("refold_drift", None),
                    },
                    ini={
                        "base_url": config.getini("refold_base_url") or None,
                        "strict": config.getini("refold_strict"),
                    },
                    fixtures=tuple(ini_folders + option_folders),
                )
            except RefoldError as exc:
                raise pytest.UsageError(f"refold-contract: {_one_line(exc)}") from None
        return self._settings

    @property
    def catalogue(self) -> Catalogue:
        """The session's catalogue: built-in, with the user's folders over it."""
        if self._catalogue is None:
            try:
                self._catalogue = Catalogue.load(*self.settings.fixtures, include_builtin=True)
            except RefoldError as exc:
                raise pytest.UsageError(f"refold-contract: {_one_line(exc)}") from None
        return self._catalogue

    @property
    def plan(self) -> bool:
        """``--refold-live-plan``: nothing is sent; live tests run on the mock."""
        return bool(self.config.getoption("refold_live_plan", False))

    @property
    def live(self) -> bool:
        """True when ``refold_live`` tests go to the real API in this session."""
        return self.settings.live and not self.plan

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def ini_number(self, name: str, kind: type[float] | type[int]) -> float:
        value = self.config.getini(name)
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise pytest.UsageError(
                f"refold-contract: ini {name} = {value!r} is not a "
                f"{'whole ' if kind is int else ''}number"
            ) from None
        if number <= 0:
            raise pytest.UsageError(f"refold-contract: ini {name} must be positive, got {value!r}")
        return number

    # ------------------------------------------------------------------ start and end

    def start(self) -> None:
        """Check the configuration, and in live mode start (or join) the gateway."""
        settings = self.settings
        self.catalogue  # noqa: B018 - a malformed catalogue stops the session here, in one line
        rate = self.ini_number("refold_rate", float)
        burst = int(self.ini_number("refold_burst", int))
        if settings.record and not settings.live:
            raise pytest.UsageError(
                "refold-contract: --refold-record records live replies; add --refold-live (or "
                "set REFOLD_LIVE=1)"
            )
        if self.live and not self.is_worker and self.gateway_url is None:
            self._start_gateway(settings, rate, burst)
        if self.is_worker:  # its workerinput is set after the earliest hook, where this began
            self.control_key = self.config.workerinput.get(_CONTROL_INPUT)  # type: ignore[attr-defined]
        if self.live and self.gateway_url is not None:
            # Between tests this process's address is its own: a request there belongs to the
            # test running at the time (pytest_runtest_setup), or is refused.
            self._set_env("REFOLD_BASE_URL", f"{self.gateway_url}/w/{self.process_token}")
        elif self.plan:
            self._start_plan_sink()
        if self.config.getoption("refold_consumer_contract", None):
            from refold_contract import client
            from refold_contract.consumer import ReadRecorder, track_json
            from refold_contract.mock import TRACK_EXTENSION

            self.consumer = ReadRecorder()
            client.track_replies(self.consumer)
            self._untrack_json = track_json(self.consumer, TRACK_EXTENSION)
        from refold_contract._guard.egress import EgressGuard

        # A plan run sends nothing: the base URL is blocked as in live mode, loopback or not.
        configured = EgressGuard.for_settings(
            settings.base_url, live=self.live or self.plan, gateway_url=self.gateway_url
        )
        self.guard.hosts = configured.hosts
        self.guard.addresses = configured.addresses
        self.guard.hint = _PLAN_HINT if self.plan else configured.hint

    def _start_plan_sink(self) -> None:
        """Point REFOLD_BASE_URL (children, other clients) at a sink that refuses and notes."""
        url = os.environ.get(_PLAN_SINK_VARIABLE)
        if url is None:  # the controller; xdist workers inherit its sink
            from refold_contract.live.gateway import PlanSink

            self.plan_sink = PlanSink.serve()
            url = self.plan_sink.url
            self._set_env(_PLAN_SINK_VARIABLE, url)
            # Workers inherit REFOLD_BASE_URL = the sink: their settings (and so their egress
            # guard) take the real base URL from here, as a live session's workers do.
            self._set_env(_UPSTREAM_VARIABLE, self.settings.base_url)
        self.plan_sink_url = url
        self._set_env("REFOLD_BASE_URL", url)

    def _start_gateway(self, settings: Settings, rate: float, burst: int) -> None:
        missing = settings.missing_credentials
        if missing:
            raise pytest.UsageError(
                "refold-contract: live mode needs REFOLD_API_KEY and REFOLD_LINKED_ACCOUNT_ID "
                "(or REFOLD_SESSION_TOKEN) in the environment; credentials are never taken from "
                f"the command line (missing: {', '.join(missing)})"
            )
        if settings.record and not settings.fixtures:
            raise pytest.UsageError(
                "refold-contract: --refold-record writes into your own catalogue folder; "
                "pass one with --refold-fixtures DIR (or the refold_fixtures ini key)"
            )
        from refold_contract.live.gateway import GatewayConfig, GatewayProcess

        config = GatewayConfig(
            upstream=settings.base_url,
            fixtures=tuple(str(Path(f).resolve()) for f in settings.fixtures),
            record=settings.record,
            record_redact=tuple(self.config.getini("refold_record_redact")),
            rate=rate,
            burst=burst,
            timeout=settings.timeout,
            contract=str(Path(settings.drift_contract).resolve())
            if settings.drift_contract
            else None,
            tests_only=True,
        )
        try:
            self.gateway = GatewayProcess.start(config, self.custody.credentials())
        except RefoldError as exc:
            raise pytest.UsageError(f"refold-contract: {_one_line(exc)}") from None
        self.gateway_url = self.gateway.url
        self.control_key = self.gateway.control_key
        # Workers and child processes inherit these: they reach Refold only through the gateway.
        self._set_env(_UPSTREAM_VARIABLE, settings.base_url)
        self._set_env(_GATEWAY_VARIABLE, self.gateway.url)
        self._set_env("REFOLD_BASE_URL", self.gateway.url)

    def _set_env(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def add_consumer_part(self, part: dict[str, Any]) -> None:
        """A worker's consumer contract, merged at the end (xdist)."""
        self._consumer_parts.append(part)

    def write_consumer_contract(self) -> str | None:
        """Merge this process's contract with the workers' and write it; a line for the summary."""
        path = self.config.getoption("refold_consumer_contract", None)
        if not path or self.consumer is None:
            return None
        from refold_contract.consumer import ConsumerContract, merge

        contract = self.consumer.contract()
        if self.is_worker:  # the worker's share travels back to the controller
            output: dict[str, Any] = self.config.workeroutput  # type: ignore[attr-defined]
            output["refold_consumer_contract"] = contract.to_json()
            return None
        parts = [ConsumerContract.from_json(p) for p in self._consumer_parts]
        merged = merge(contract, *parts)
        written = merged.save(path)
        reads = sum(
            len(s.leaf_reads()) for a in merged.actions.values() for s in a.replies.values()
        )
        return (
            f"refold-contract: consumer contract written to {written}: {len(merged)} action(s), "
            f"{reads} read path(s); check it with: refold-contract verify {path}"
        )

    def finish(self) -> dict[str, Any] | None:
        """The gateway's session report (controller only), then stop it."""
        if self.gateway is None:
            return None
        report: dict[str, Any] | None
        try:
            report = self.gateway.report()
        except (OSError, ValueError, RefoldError):
            report = None
        self.gateway.stop()
        self.gateway = None
        return report

    def close(self) -> None:
        """Stop everything, put the environment back, uninstall the guard."""
        if self._closed:
            return
        self._closed = True
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        if self.plan_sink is not None:
            self.plan_sink.close()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.guard.uninstall()
        self.custody.restore()
        # Only a session whose tests used the mock has routers to unregister; no import here.
        routing = sys.modules.get("refold_contract.mock.routing")
        if routing is not None:
            routing.SharedRouter.keep_registered(False)
        if self.consumer is not None:
            from refold_contract import client

            client.track_replies(None)
            if self._untrack_json is not None:
                self._untrack_json()

    # ------------------------------------------------------------------ per test

    def test_url(self, item: pytest.Item) -> str | None:
        """The base URL of one test in a live session: the gateway with the test's prefix."""
        return item.stash.get(_TEST_URL_KEY, None)


def refold_session(config: pytest.Config) -> RefoldSession:
    """The plugin's session object for ``config``.

    Example::

        refold_session(pytestconfig).catalogue
    """
    return config.stash[_SESSION_KEY]


def _settings(config: pytest.Config) -> Settings:
    return refold_session(config).settings


def _catalogue(config: pytest.Config) -> Catalogue:
    return refold_session(config).catalogue


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    return text.replace("\n  hint: ", " (hint: ") + (")" if "\n  hint: " in text else "")


@dataclasses.dataclass(frozen=True)
class ContractSelection:
    """The actions the contract suite covers, and how many bodies of each kind it tries.

    Example::

        contract_selection(config).actions   # after --refold-app / --refold-action
    """

    actions: tuple[Action, ...]
    examples: int


def contract_selection(config: pytest.Config) -> ContractSelection:
    """The contract suite's actions for this session, from ``--refold-app`` / ``--refold-action``.

    Raises ``pytest.UsageError`` naming close matches for an app or action not in the catalogue.

    Example::

        for action in contract_selection(pytestconfig).actions: ...
    """
    selection = config.stash.get(_SELECTION_KEY, None)
    if selection is not None:
        return selection
    catalogue = _catalogue(config)
    chosen = list(catalogue)
    apps = config.getoption("refold_apps", None) or []
    for slug in apps:
        if not catalogue.has_app(slug):
            close = catalogue.suggest_app(slug)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise pytest.UsageError(
                f"--refold-app {slug}: no such app in the catalogue (apps: "
                f"{', '.join(catalogue.apps())}){hint}"
            )
    if apps:
        chosen = [a for a in chosen if a.slug in apps]
    wanted = config.getoption("refold_actions", None) or []
    if wanted:
        picked = []
        for name in wanted:
            found = [a for a in chosen if name in (a.action_id, a.key)]
            if not found:
                slug, _, action_id = name.rpartition("/")
                close = catalogue.suggest(slug or "*", action_id)
                if not close:
                    ids = [a.action_id for a in chosen]
                    close = difflib.get_close_matches(action_id, ids, n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise pytest.UsageError(
                    f"--refold-action {name}: no such action in the selected apps{hint}"
                )
            picked += [a for a in found if a not in picked]
        chosen = picked
    examples = config.getoption("refold_examples", None)
    examples = DEFAULT_EXAMPLES if examples is None else examples
    if examples < 1:
        raise pytest.UsageError(f"--refold-examples must be at least 1, got {examples}")
    if refold_session(config).live:
        chosen = [a for a in chosen if a.is_read]  # live: writes are never sent
    selection = ContractSelection(tuple(chosen), examples)
    config.stash[_SELECTION_KEY] = selection
    return selection


def is_live_session(config: pytest.Config) -> bool:
    """True when ``refold_live`` tests go to the real API in this session (not a plan run).

    Example::

        if is_live_session(pytestconfig): ...
    """
    return refold_session(config).live


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # Settings, catalogue and gateway before the header is printed, so a malformed user file,
    # a bad URL or a mistyped app stops the session with one line, not a traceback.
    config = session.config
    refold = refold_session(config)
    # The conftest files imported since custody was taken may have put a credential back
    # (load_dotenv(override=True)): it leaves the environment before the gateway starts.
    refold.custody.retake()
    refold.start()
    if (
        config.getoption("refold_apps", None)
        or config.getoption("refold_actions", None)
        or (config.getoption("refold_contract", False))
    ):
        contract_selection(config)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    # Conftest files below the root are imported during collection: the same again.
    refold = session.config.stash.get(_SESSION_KEY, None)
    if refold is not None:
        refold.custody.retake()
        # Every conftest is in: from here on, test code cannot put the key back. An xdist
        # worker holds no credential; it knows the controller's by their fingerprints.
        workerinput = getattr(session.config, "workerinput", {})
        refold.custody.lock(also=workerinput.get(_CUSTODY_INPUT, ()))


def pytest_report_header(config: pytest.Config) -> str:
    try:
        settings = _settings(config)
        catalogue = _catalogue(config)
    except (RefoldError, pytest.UsageError) as exc:
        return f"refold-contract {__version__}: configuration error: {exc}"
    session = refold_session(config)
    folders = len(settings.fixtures)
    layered = f" + {folders} folder(s)" if folders else ""
    if session.plan:
        mode = "live plan (nothing is sent; refold_live tests run on the mock)"
    elif session.live:
        mode = (
            "live (tests marked refold_live, reads only, through the read-only gateway at "
            f"{session.gateway_url}; other tests on the mock)"
        )
        if settings.record:
            mode += f", recording into {settings.fixtures[-1]}"
    else:
        mode = "mock"
    return (
        f"refold-contract {__version__}: mode {mode}, base URL {settings.base_url}, catalogue "
        f"{len(catalogue)} actions in {len(catalogue.apps())} apps (built-in{layered})"
    )


@pytest.fixture(scope="session")
def refold_catalogue(pytestconfig: pytest.Config) -> Catalogue:
    """The catalogue for this session: the built-in one with ``--refold-fixtures`` folders over it.

    Example::

        def test_every_read_has_an_example(refold_catalogue):
            assert all(a.examples for a in refold_catalogue.actions(access="read"))
    """
    return _catalogue(pytestconfig)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    # xdist: a worker steers the gateway (each test's token, its findings) with the control key;
    # it travels in the worker's input, not the environment its tests and children see.
    session = node.config.stash.get(_SESSION_KEY, None)
    if session is None:
        return
    if session.control_key is not None:
        node.workerinput[_CONTROL_INPUT] = session.control_key
    # A worker recognises the working credentials without holding them.
    node.workerinput[_CUSTODY_INPUT] = session.custody.fingerprints()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # In a live session the test's token is handed to the gateway before any fixture is set
    # up, so what a session fixture's client sends (to this process's /w/ address) is this
    # test's, live or refused by its marker.
    session = item.config.stash.get(_SESSION_KEY, None)
    if session is None or session.gateway_url is None or not session.live:
        return
    token = secrets.token_hex(8)
    item.stash[_TEST_TOKEN_KEY] = token
    kind = "t" if item.get_closest_marker("refold_live") is not None else "m"
    from refold_contract.live.gateway import begin_test

    # A gateway that does not answer is reported at the test's teardown, as for any request.
    with contextlib.suppress(OSError, ValueError, RefoldError):
        begin_test(
            session.gateway_url,
            session.process_token,
            f"/{kind}/{token}",
            control_key=session.control_key,
        )


@pytest.fixture(autouse=True)
def _refold_guarded(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test: blocked connections fail it; in a live session it gets its own gateway URL
    and its refusals fail it."""
    session = request.config.stash.get(_SESSION_KEY, None)
    if session is None:
        yield
        return
    session.guard.take_attempts()
    saved = os.environ.get("REFOLD_BASE_URL")
    live_test = request.node.get_closest_marker("refold_live") is not None
    token = request.node.stash.get(_TEST_TOKEN_KEY, None)
    if token is not None and session.gateway_url is not None:
        url = f"{session.gateway_url}/{'t' if live_test else 'm'}/{token}"
        request.node.stash[_TEST_URL_KEY] = url
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
        problems += _gateway_findings(request, session, token)
    report = request.node.stash.get(_CALL_REPORT_KEY, None)
    if problems and not (report is not None and report.failed):
        pytest.fail("\n".join(problems), pytrace=False)


def _gateway_findings(
    request: pytest.FixtureRequest, session: RefoldSession, token: str
) -> list[str]:
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
            f"refold-contract: the read-only gateway refused {len(refused)} request(s) from this "
            f"test; nothing was sent to Refold:\n{listing}\n  hint: a refusal fails the test even "
            "when the code swallowed the error; mark the test "
            "@pytest.mark.refold(allow_refused=True) if refusals are what it checks"
        ]
    return []


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("refold"))):
        if marker.args:
            raise pytest.UsageError(
                "@pytest.mark.refold takes keyword arguments only: "
                + ", ".join(sorted(_MARKER_KWARGS))
            )
        unknown = set(marker.kwargs) - _MARKER_KWARGS
        if unknown:
            raise pytest.UsageError(
                f"@pytest.mark.refold got unknown option(s) {', '.join(sorted(unknown))}; "
                f"it takes: {', '.join(sorted(_MARKER_KWARGS))}"
            )
        options.update(marker.kwargs)
    return options


@pytest.fixture
def refold_mock(
    request: pytest.FixtureRequest, refold_catalogue: Catalogue
) -> Iterator[RefoldMock]:
    """A :class:`~refold_contract.mock.RefoldMock` answering every httpx request to Refold.

    Active through respx for the configured base URL, so any httpx client in the code under test
    is answered, not only ``RefoldClient``. A request under the base URL that is none of the
    three operations fails the test, as does a stub that was never used (unless
    ``@pytest.mark.refold(assert_all_called=False)``). In a live test
    (``@pytest.mark.refold_live`` under ``--refold-live``) it forwards to the read-only gateway
    instead, and ``refold_mock.is_live`` is true.

    Example::

        def test_retry(refold_mock, refold_client):
            refold_mock.fail("hubspot", "get_contact", 503, times=1)
            assert refold_client.execute("hubspot", "get_contact").ok
    """
    from refold_contract.mock.routing import SharedRouter

    # The mock's routers stay registered with respx for the session: httpcore is patched once,
    # not for every test (they stand aside while no test's mock holds them).
    SharedRouter.keep_registered(True)
    mock = _new_mock(request, refold_catalogue)
    mock.start()
    try:
        yield mock
    finally:
        mock.stop()
        _attach_plan(request, mock)
    _check_mock(request, mock)


def _new_mock(request: pytest.FixtureRequest, catalogue: Catalogue) -> RefoldMock:
    """The test's mock: the session's settings, the ``refold`` marker's options, and in a live
    session the test's own gateway address."""
    from refold_contract.mock import LiveLink, RefoldMock

    session = refold_session(request.config)
    settings = session.settings
    options = _marker_options(request)
    options.pop("allow_refused", None)
    strict = options.pop("strict", None)
    stateful = options.pop("stateful", None)
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
            options["assert_all_called"] = False  # stubs do not apply to live requests
    return RefoldMock(
        catalogue,
        base_url=base_url,
        aliases=aliases,
        strict=settings.strict if strict is None else bool(strict),
        live=live,
        consumer=session.consumer,
        stateful=bool(stateful) and live is None,
        **options,
    )


def _check_mock(request: pytest.FixtureRequest, mock: RefoldMock) -> None:
    """At teardown: warn of what the catalogue lacked, then fail for unplaced requests and
    unused stubs, unless the test already failed."""
    from refold_contract.errors import NotInCatalogue

    for miss in mock.misses():
        warnings.warn(NotInCatalogue(f"refold_mock: {miss}"), stacklevel=1)
    report = request.node.stash.get(_CALL_REPORT_KEY, None)
    if report is not None and report.failed:
        return  # the test's own failure says enough
    failure = None
    try:
        mock.verify()
    except RefoldError as exc:
        failure = str(exc)
    if failure is not None:  # outside the except block: one message, no chained traceback
        pytest.fail(failure, pytrace=False)


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


def _client_arguments(refold_mock: RefoldMock) -> dict[str, Any]:
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


@pytest.fixture
def refold_client(refold_mock: RefoldMock) -> Iterator[RefoldClient]:
    """A :class:`~refold_contract.RefoldClient` pointed at the mock, with a fake test key.

    The key is ``tk_refold_contract_mock`` and the linked account ``linked_account_mock``,
    unless the ``refold`` marker limits them: then the first key and account it accepts. In a
    live test it reads through the read-only gateway, which refuses writes (``ReadOnlyViolation``)
    and fails the test for them even when the code swallowed the error.

    Example::

        def test_lists(refold_client):
            assert refold_client.list_actions("slack")
    """
    from refold_contract.client import RefoldClient

    arguments = _client_arguments(refold_mock)
    if not refold_mock.is_live:
        arguments["sleep"] = _no_sleep
    with RefoldClient(**arguments) as client:
        yield client


@pytest.fixture
def async_refold_client(refold_mock: RefoldMock) -> Iterator[AsyncRefoldClient]:
    """An :class:`~refold_contract.AsyncRefoldClient` pointed at the mock (pytest-asyncio, anyio).

    Example::

        async def test_lists(async_refold_client):
            assert await async_refold_client.list_actions("slack")
    """
    from refold_contract.client import AsyncRefoldClient

    arguments = _client_arguments(refold_mock)
    if not refold_mock.is_live:
        arguments["sleep"] = _no_async_sleep
    client = AsyncRefoldClient(**arguments)
    yield client
    import asyncio

    # With an event loop still running in this thread, leave the client to the GC.
    with contextlib.suppress(RuntimeError):
        asyncio.run(client.aclose())


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


@pytest.fixture
def refold_server(refold_mock: RefoldMock) -> Iterator[RefoldServer]:
    """The test's own ``refold_mock`` served over HTTP on loopback, for code not using httpx.

    ``requests``, ``urllib``, ``aiohttp``, another process or another language: point it at
    ``refold_server.url``. The session's catalogue, the test's stubs and faults apply, and an
    unused stub fails the test as usual. In a live test ``url`` is the test's address at the
    read-only gateway instead, so the same test runs in both modes. Needs the ``server`` extra.

    Example::

        def test_sync_job(refold_server, refold_mock):
            refold_mock.stub("hubspot", "get_contact", data={"results": [], "paging": {}})
            run_my_job(base_url=refold_server.url)        # uses requests
            refold_mock.assert_called("hubspot", "get_contact")
    """
    if refold_mock.is_live:
        yield RefoldServer(refold_mock.base_url, refold_mock)
        return
    from refold_contract.mock.server import running_server

    with running_server(refold_mock) as server:
        yield RefoldServer(server.url, refold_mock)


@pytest.fixture
def refold_snapshot(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> Any:
    """syrupy's ``snapshot`` with :class:`~refold_contract.snapshot.RefoldSnapshotExtension`.

    One redacted, normalised JSON file per snapshot; accepts ``ActionResult``,
    ``httpx.Response`` and JSON values. ``shape(value)`` pins keys and types only.

    Example::

        from refold_contract.snapshot import shape

        def test_reply(refold_snapshot, refold_client):
            result = refold_client.execute("slack", "list_channels")
            assert refold_snapshot == result
            assert refold_snapshot == shape(result.data)
    """
    from refold_contract.snapshot import (
        RefoldSnapshotExtension,
        UnnormalizedSnapshotExtension,
        snapshot_assertion,
    )

    # Not syrupy's snapshot.use_extension: that builds an Amber assertion too, whose discovery
    # makes the unused-snapshot report compare every file with every test.
    if pytestconfig.getini("refold_snapshot_normalize"):
        return snapshot_assertion(request, RefoldSnapshotExtension)
    return snapshot_assertion(request, UnnormalizedSnapshotExtension)


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


def _attach_plan(request: pytest.FixtureRequest, mock: RefoldMock) -> None:
    """In a plan run, hand the requests a live test made to the report (xdist too)."""
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
            and access_of(mock.catalogue, c.slug, c.action_id) == "read"
        )
        plan.append([what + labels.get(c.operation, f" ({c.operation})"), allowed])
    request.node.user_properties.append(("refold_live_plan", plan))


class LiveReport:
    """Gathers live findings and prints them in the terminal summary: the gateway's session
    report on the controller, the plan and parity from each test's report (xdist too).
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.drift: list[dict[str, str]] = []
        self.recorded: set[str] = set()
        self.skipped: set[str] = set()
        self.refused = 0
        self.refused_count = 0
        self.refused_outside: list[str] = []
        self.plan_outside: list[str] = []
        self.plan: dict[str, list[list[Any]]] = {}
        self.parity: dict[str, dict[str, int]] = {}
        self.consumer_line: str | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
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

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        refold = self.config.stash.get(_SESSION_KEY, None)
        part = getattr(node, "workeroutput", {}).get("refold_consumer_contract")
        if refold is not None and part is not None:
            refold.add_consumer_part(part)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        refold = self.config.stash.get(_SESSION_KEY, None)
        if refold is None:
            return
        self.consumer_line = refold.write_consumer_contract()
        if refold.plan_sink is not None:
            self.plan_outside = list(refold.plan_sink.arrivals)
        report = refold.finish()
        if report is None:
            return
        self.drift = list(report.get("drift", []))
        self.recorded = set(report.get("recorded", []))
        self.skipped = set(report.get("skipped", []))
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

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        refold = self.config.stash.get(_SESSION_KEY, None)
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
        contract = refold.settings.drift_contract if refold is not None else None
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
        if self.consumer_line:
            write(self.consumer_line)
        live = refold is not None and refold.live and not refold.is_worker
        if self.refused:
            distinct = f", {self.refused} distinct" if self.refused != self.refused_count else ""
            write(f"refold-contract: the read-only gateway refused {self.refused_count} "
                  f"request(s){distinct}; nothing was sent for them")  # fmt: skip
        if self.refused_outside:
            write(f"refold-contract: failing the session: {len(self.refused_outside)} request(s) "
                  "refused outside any test's address (import-time code, a wider fixture's "
                  "teardown after an unmarked test, or a URL built from the gateway's root "
                  "instead of REFOLD_BASE_URL):")  # fmt: skip
            for line in self.refused_outside:
                write(f"  {line}")
        if live and not self.drift:
            write("refold-contract: no drift from the catalogue")
        if self.drift and refold is not None and refold.settings.drift != "report":
            write(f"refold-contract: failing the session: {len(self.drift)} drift finding(s) "
                  f"and --refold-drift={refold.settings.drift}")  # fmt: skip


def _relative(path: str) -> str:
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(Path.cwd()))
    return path


def _no_sleep(_: float) -> None:
    """Retries against the mock need no real wait."""


async def _no_async_sleep(_: float) -> None:
    """Retries against the mock need no real wait."""
