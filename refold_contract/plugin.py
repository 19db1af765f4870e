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

import asyncio
import contextlib
import dataclasses
import difflib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from refold_contract import __version__
from refold_contract import _endpoint as ep
from refold_contract.catalogue import Action, Catalogue
from refold_contract.config import Settings
from refold_contract.errors import RefoldError

if TYPE_CHECKING:
    from refold_contract.client import AsyncRefoldClient, RefoldClient
    from refold_contract.live import LiveSession
    from refold_contract.mock import RefoldMock

#: The credentials the mock-mode client fixtures send. Not secrets: the mock accepts any key.
MOCK_API_KEY = "tk_refold_contract_mock"
#: Bodies the contract suite generates per action and kind, unless --refold-examples says.
DEFAULT_EXAMPLES = 25
MOCK_LINKED_ACCOUNT = "linked_account_mock"

_CATALOGUE_KEY = pytest.StashKey[Catalogue]()
_SELECTION_KEY = pytest.StashKey["ContractSelection"]()
_LIVE_KEY = LIVE_KEY = pytest.StashKey["LiveSession"]()
_SETTINGS_KEY = pytest.StashKey[Settings]()
_CALL_REPORT_KEY = pytest.StashKey[pytest.TestReport]()
_MARKER_KWARGS = frozenset(
    {"strict", "linked_accounts", "assert_all_called", "api_keys", "session_tokens"}
)


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
        choices=("report", "fail"),
        default=None,
        help="live mode: report drift from the catalogue in the summary (default), or fail on it",
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
        "refold_rate", default="20", help="live mode: requests per second per linked account"
    )
    parser.addini("refold_burst", default="5", help="live mode: burst size per linked account")
    parser.addini(
        "refold_record_redact",
        type="linelist",
        default=[],
        help="live recording: key patterns (regex) whose values are replaced by <redacted>, "
        "for personal data",
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
        help="contract suite: generated bodies per action and kind (default 25)",
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
        "refold_strict",
        type="bool",
        default=False,
        help="validate parameter types and refuse unknown keys in the mock (default false)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(LiveReport(config), "refold_contract_live_report")
    if config.getoption("hypothesis_profile", None) == "refold":
        # Register the profile before hypothesis's own plugin loads it.
        import refold_contract.strategies  # noqa: F401
    if config.getoption("refold_contract", False):
        suite = str(Path(__file__).with_name("contract_suite.py"))
        if suite not in config.args:
            config.args.append(suite)
    config.addinivalue_line(
        "markers",
        "refold(strict=None, linked_accounts=None, assert_all_called=True, api_keys=None, "
        "session_tokens=None): per-test options for the refold_mock fixture",
    )
    config.addinivalue_line(
        "markers",
        "refold_live: run this test against the real Refold API in live mode (--refold-live); "
        "reads only",
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "call":
        item.stash[_CALL_REPORT_KEY] = report
    return report


def _settings(config: pytest.Config) -> Settings:
    settings = config.stash.get(_SETTINGS_KEY, None)
    if settings is None:
        ini_folders = [Path(p) for p in config.getini("refold_fixtures")]
        option_folders = [Path(p) for p in (config.getoption("refold_fixtures") or [])]
        settings = Settings.resolve(
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
        config.stash[_SETTINGS_KEY] = settings
    return settings


def _catalogue(config: pytest.Config) -> Catalogue:
    catalogue = config.stash.get(_CATALOGUE_KEY, None)
    if catalogue is None:
        settings = _settings(config)
        try:
            catalogue = Catalogue.load(*settings.fixtures, include_builtin=True)
        except RefoldError as exc:
            raise pytest.UsageError(f"refold-contract: {exc}") from None
        config.stash[_CATALOGUE_KEY] = catalogue
    return catalogue


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
            close = difflib.get_close_matches(slug, catalogue.apps(), n=3)
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
    examples = config.getoption("refold_examples", None) or DEFAULT_EXAMPLES
    if examples < 1:
        raise pytest.UsageError(f"--refold-examples must be at least 1, got {examples}")
    if _settings(config).live and not config.getoption("refold_live_plan", False):
        chosen = [a for a in chosen if a.is_read]  # live: writes are never sent
    selection = ContractSelection(tuple(chosen), examples)
    config.stash[_SELECTION_KEY] = selection
    return selection


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # Load the catalogue (and check the contract selection) before the header is printed, so
    # a malformed user file or a mistyped app stops the session with one line, not a traceback.
    catalogue = _catalogue(session.config)
    config = session.config
    settings = _settings(config)
    if settings.record and not settings.live:
        raise pytest.UsageError(
            "refold-contract: --refold-record records live replies; add --refold-live (or set "
            "REFOLD_LIVE=1)"
        )
    if settings.live and not config.getoption("refold_live_plan", False):
        missing = settings.missing_credentials
        if missing:
            raise pytest.UsageError(
                "refold-contract: live mode needs REFOLD_API_KEY and REFOLD_LINKED_ACCOUNT_ID "
                "(or REFOLD_SESSION_TOKEN) in the environment; credentials are never taken from "
                f"the command line (missing: {', '.join(missing)})"
            )
        recorder = None
        if settings.record:
            if not settings.fixtures:
                raise pytest.UsageError(
                    "refold-contract: --refold-record writes into your own catalogue folder; "
                    "pass one with --refold-fixtures DIR (or the refold_fixtures ini key)"
                )
            from refold_contract.live import Recorder

            recorder = Recorder(
                settings.fixtures[0],
                catalogue,
                linked_account_id=settings.linked_account_id,
                secrets=settings.secrets,
                extra_keys=config.getini("refold_record_redact"),
            )
        from refold_contract.live import LiveSession

        try:
            rate, burst = float(config.getini("refold_rate")), int(config.getini("refold_burst"))
        except ValueError:
            raise pytest.UsageError(
                "refold-contract: refold_rate must be a number and refold_burst a whole number"
            ) from None
        config.stash[_LIVE_KEY] = LiveSession(catalogue, recorder=recorder, rate=rate, burst=burst)
    if (
        config.getoption("refold_apps", None)
        or config.getoption("refold_actions", None)
        or (config.getoption("refold_contract", False))
    ):
        contract_selection(config)


def pytest_report_header(config: pytest.Config) -> str:
    try:
        settings = _settings(config)
        catalogue = _catalogue(config)
    except (RefoldError, pytest.UsageError) as exc:
        return f"refold-contract {__version__}: configuration error: {exc}"
    folders = len(settings.fixtures)
    layered = f" + {folders} folder(s)" if folders else ""
    if config.getoption("refold_live_plan", False):
        mode = "live plan (nothing is sent; refold_live tests run on the mock)"
    elif settings.live:
        mode = "live (tests marked refold_live, reads only; other tests on the mock)"
        if settings.record:
            mode += f", recording into {settings.fixtures[0]}"
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


@pytest.fixture
def refold_mock(
    request: pytest.FixtureRequest, refold_catalogue: Catalogue
) -> Iterator[RefoldMock]:
    """A :class:`~refold_contract.mock.RefoldMock` answering every httpx request to Refold.

    Active through respx for the configured base URL, so any httpx client in the code under test
    is answered, not only ``RefoldClient``. A request under the base URL that is none of the
    three operations fails the test, as does a stub that was never used (unless
    ``@pytest.mark.refold(assert_all_called=False)``).

    Example::

        def test_retry(refold_mock, refold_client):
            refold_mock.fail("hubspot", "get_contact", 503, times=1)
            assert refold_client.execute("hubspot", "get_contact").ok
    """
    from refold_contract.mock import RefoldMock

    settings = _settings(request.config)
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
    strict = options.pop("strict", None)
    live = _live_session(request)
    if live is not None:
        options["assert_all_called"] = False  # stubs do not apply to live requests
    mock = RefoldMock(
        refold_catalogue,
        base_url=settings.base_url,
        strict=settings.strict if strict is None else bool(strict),
        live=live,
        **options,
    )
    drift_before = len(live.drift) if live is not None else 0
    recorded_before = dict(live.recorder.written) if live and live.recorder else {}
    mock.start()
    try:
        yield mock
    finally:
        mock.stop()
        _attach_live_findings(request, mock, live, drift_before, recorded_before)
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


@pytest.fixture
def refold_client(
    refold_mock: RefoldMock, request: pytest.FixtureRequest
) -> Iterator[RefoldClient]:
    """A :class:`~refold_contract.RefoldClient` pointed at the mock, with a fake test key.

    Example::

        def test_lists(refold_client):
            assert refold_client.list_actions("slack")
    """
    from refold_contract.client import RefoldClient

    if refold_mock.live is not None:
        settings = _settings(request.config)
        with RefoldClient(
            api_key=settings.api_key,
            linked_account_id=settings.linked_account_id,
            session_token=settings.session_token,
            base_url=refold_mock.base_url,
            catalogue=refold_mock.catalogue,
            read_only=True,
        ) as live_client:
            yield live_client
        return
    with RefoldClient(
        api_key=MOCK_API_KEY,
        linked_account_id=MOCK_LINKED_ACCOUNT,
        base_url=refold_mock.base_url,
        catalogue=refold_mock.catalogue,
        sleep=_no_sleep,
    ) as client:
        yield client


@pytest.fixture
def async_refold_client(
    refold_mock: RefoldMock, request: pytest.FixtureRequest
) -> Iterator[AsyncRefoldClient]:
    """An :class:`~refold_contract.AsyncRefoldClient` pointed at the mock (pytest-asyncio, anyio).

    Example::

        async def test_lists(async_refold_client):
            assert await async_refold_client.list_actions("slack")
    """
    from refold_contract.client import AsyncRefoldClient

    if refold_mock.live is not None:
        settings = _settings(request.config)
        client = AsyncRefoldClient(
            api_key=settings.api_key,
            linked_account_id=settings.linked_account_id,
            session_token=settings.session_token,
            base_url=refold_mock.base_url,
            catalogue=refold_mock.catalogue,
            read_only=True,
        )
    else:
        client = AsyncRefoldClient(
            api_key=MOCK_API_KEY,
            linked_account_id=MOCK_LINKED_ACCOUNT,
            base_url=refold_mock.base_url,
            catalogue=refold_mock.catalogue,
            sleep=_no_async_sleep,
        )
    yield client
    # With an event loop still running in this thread, leave the client to the GC.
    with contextlib.suppress(RuntimeError):
        asyncio.run(client.aclose())


@pytest.fixture
def refold_snapshot(snapshot: Any, pytestconfig: pytest.Config) -> Any:
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
    from refold_contract.snapshot import RefoldSnapshotExtension, UnnormalizedSnapshotExtension

    if pytestconfig.getini("refold_snapshot_normalize"):
        return snapshot.use_extension(RefoldSnapshotExtension)
    return snapshot.use_extension(UnnormalizedSnapshotExtension)


def live_credentials(config: pytest.Config) -> dict[str, str]:
    """The credential headers a live request carries (from the environment), for raw clients.

    Example::

        httpx.Client(headers=live_credentials(pytestconfig))
    """
    settings = _settings(config)
    if settings.session_token:
        return {ep.HEADER_AUTHORIZATION: f"Bearer {settings.session_token}"}
    return {
        ep.HEADER_API_KEY: settings.api_key or "",
        ep.HEADER_LINKED_ACCOUNT: settings.linked_account_id or "",
    }


def _live_session(request: pytest.FixtureRequest) -> LiveSession | None:
    """The live session when this test runs live: live mode on and the test marked refold_live."""
    if request.node.get_closest_marker("refold_live") is None:
        return None
    return request.config.stash.get(_LIVE_KEY, None)


def _attach_live_findings(
    request: pytest.FixtureRequest,
    mock: RefoldMock,
    live: LiveSession | None,
    drift_before: int,
    recorded_before: dict[Path, int],
) -> None:
    """Hand this test's live findings to the report, so they reach the summary (xdist too)."""
    props = request.node.user_properties
    if request.config.getoption("refold_live_plan", False) and (
        request.node.get_closest_marker("refold_live") is not None
    ):
        from refold_contract.live import ReadOnlyGuard

        guard = ReadOnlyGuard(mock.catalogue)
        labels = {"execute": "", "schema": " (schema)", "list_actions": " (list actions)"}
        plan = [
            [(f"{c.slug}/{c.action_id}" if c.action_id else f"{c.slug or c.path}")
             + labels.get(c.operation, f" ({c.operation})"),
             guard.allows(c.method, c.path)]
            for c in mock.calls
        ]  # fmt: skip
        props.append(("refold_live_plan", plan))
    if live is None:
        return
    new_drift = [d.to_json() for d in live.drift[drift_before:]]
    if new_drift:
        props.append(("refold_drift", new_drift))
    if live.recorder is not None:
        written = [
            str(path)
            for path, count in live.recorder.written.items()
            if count > recorded_before.get(path, 0)
        ]
        if written:
            props.append(("refold_recorded", written))
    if live.skipped:
        props.append(("refold_skipped", list(live.skipped)))


class LiveReport:
    """Gathers live findings from every test report (on the xdist controller too) and prints
    them in the terminal summary; registered by the plugin at configure time.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.drift: list[dict[str, str]] = []
        self.recorded: set[str] = set()
        self.skipped: set[str] = set()
        self.plan: dict[str, list[list[Any]]] = {}
        self.parity: dict[str, dict[str, int]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        for name, value in report.user_properties:
            items: Any = value
            if name == "refold_drift":
                self.drift += [d for d in items if d not in self.drift]
            elif name == "refold_recorded":
                self.recorded.update(items)
            elif name == "refold_skipped":
                self.skipped.update(items)
            elif name == "refold_live_plan":
                self.plan[report.nodeid] = items
            elif name == "refold_parity":
                key, counts = items
                merged = self.parity.setdefault(key, {})
                for outcome, count in counts.items():
                    merged[outcome] = merged.get(outcome, 0) + count

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        if self.plan:
            terminalreporter.section("refold-contract live plan (nothing was sent)")
            for nodeid, calls in self.plan.items():
                write(nodeid)
                for what, allowed in calls or [["no Refold request", True]]:
                    verdict = "read: will be sent" if allowed else "write: will be refused"
                    write(f"    {what:45} {verdict}")
        if self.drift:
            terminalreporter.section("refold-contract drift from the catalogue")
            for d in self.drift:
                write(f"{d['action']:36} {d['kind']:22} {d['path']:44} {d['detail']}")
        if self.recorded:
            terminalreporter.section("refold-contract recorded")
            for path in sorted(self.recorded):
                write(f"wrote {path}")
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
        live = self.config.stash.get(_LIVE_KEY, None) is not None
        if live and not self.drift and not hasattr(self.config, "workerinput"):
            write("refold-contract: no drift from the catalogue")
        if self.drift and _settings(self.config).drift == "fail":
            write(f"refold-contract: failing the session: {len(self.drift)} drift finding(s) "
                  "and --refold-drift=fail")  # fmt: skip

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        config = self.config
        live = config.stash.get(_LIVE_KEY, None)
        if live is not None:
            live.close()
        if hasattr(config, "workerinput"):
            return
        path = config.getoption("refold_drift_report", None)
        if path:
            from refold_contract.live import write_json_atomically

            write_json_atomically(Path(path), {"drift": self.drift})
        if self.drift and _settings(config).drift == "fail" and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _no_sleep(_: float) -> None:
    """Retries against the mock need no real wait."""


async def _no_async_sleep(_: float) -> None:
    """Retries against the mock need no real wait."""
