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
    from refold_contract.mock import RefoldMock

#: The credentials the mock-mode client fixtures send. Not secrets: the mock accepts any key.
MOCK_API_KEY = "tk_refold_contract_mock"
#: Bodies the contract suite generates per action and kind, unless --refold-examples says.
DEFAULT_EXAMPLES = 25
MOCK_LINKED_ACCOUNT = "linked_account_mock"

_CATALOGUE_KEY = pytest.StashKey[Catalogue]()
_SELECTION_KEY = pytest.StashKey["ContractSelection"]()
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
            options={"base_url": config.getoption("refold_base_url")},
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
    selection = ContractSelection(tuple(chosen), examples)
    config.stash[_SELECTION_KEY] = selection
    return selection


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # Load the catalogue (and check the contract selection) before the header is printed, so
    # a malformed user file or a mistyped app stops the session with one line, not a traceback.
    _catalogue(session.config)
    config = session.config
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
    return (
        f"refold-contract {__version__}: mode mock, base URL {settings.base_url}, catalogue "
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
    mock = RefoldMock(
        refold_catalogue,
        base_url=settings.base_url,
        strict=settings.strict if strict is None else bool(strict),
        **options,
    )
    mock.start()
    try:
        yield mock
    finally:
        mock.stop()
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
def refold_client(refold_mock: RefoldMock) -> Iterator[RefoldClient]:
    """A :class:`~refold_contract.RefoldClient` pointed at the mock, with a fake test key.

    Example::

        def test_lists(refold_client):
            assert refold_client.list_actions("slack")
    """
    from refold_contract.client import RefoldClient

    with RefoldClient(
        api_key=MOCK_API_KEY,
        linked_account_id=MOCK_LINKED_ACCOUNT,
        base_url=refold_mock.base_url,
        catalogue=refold_mock.catalogue,
        sleep=_no_sleep,
    ) as client:
        yield client


@pytest.fixture
def async_refold_client(refold_mock: RefoldMock) -> Iterator[AsyncRefoldClient]:
    """An :class:`~refold_contract.AsyncRefoldClient` pointed at the mock (pytest-asyncio, anyio).

    Example::

        async def test_lists(async_refold_client):
            assert await async_refold_client.list_actions("slack")
    """
    from refold_contract.client import AsyncRefoldClient

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


def _no_sleep(_: float) -> None:
    """Retries against the mock need no real wait."""


async def _no_async_sleep(_: float) -> None:
    """Retries against the mock need no real wait."""
