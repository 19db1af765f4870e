"""The pytest plugin (entry point ``refold_contract``): options, ini keys, markers, fixtures.

Installed with the package; nothing to configure. Each hook here is a line or two handing over
to the session's machinery in :mod:`refold_contract._plugin`; the hooks only a live session or
plan run needs live on :class:`~refold_contract._plugin.live.LivePlugin`, registered in those
sessions only. respx is imported when a test first asks for ``refold_mock``, never at start-up.

Example::

    def test_my_sync_job(refold_mock, refold_client):
        refold_mock.stub("hubspot", "get_contact", data={"results": [], "paging": {}})
        assert my_sync_job(refold_client) == 0
        refold_mock.assert_called("hubspot", "get_contact", times=1)
"""

from __future__ import annotations

import warnings
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from refold_contract._core import endpoint as ep
from refold_contract._plugin import mocking, wiring
from refold_contract._plugin.guarding import guard_test
from refold_contract._plugin.live import LiveReport, live_credentials
from refold_contract._plugin.scrubbing import (
    install_log_scrubbing,
    scrub_items,
    scrub_report,
    scrub_warning,
)
from refold_contract._plugin.selection import ContractSelection, contract_selection
from refold_contract._plugin.server import RefoldServer, SessionHTTP
from refold_contract._plugin.session import (
    CALL_REPORT_KEY,
    CUSTODY_INPUT,
    SESSION_KEY,
    RefoldSession,
    end_test,
    is_live_session,
    open_session,
    refold_session,
    report_header,
)
from refold_contract.catalogue import Catalogue
from refold_contract.config import DEFAULT_EXAMPLES, REFOLD_BURST, REFOLD_RATE

if TYPE_CHECKING:
    from refold_contract.client import AsyncRefoldClient, RefoldClient
    from refold_contract.mock import RefoldMock

# The plugin's API, defined in refold_contract._plugin; importable from here as before.
__all__ = [
    "ContractSelection",
    "LiveReport",
    "RefoldServer",
    "RefoldSession",
    "contract_selection",
    "is_live_session",
    "live_credentials",
    "refold_session",
]


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
        "--refold-gateway",
        dest="refold_gateway",
        default=None,
        metavar="URL",
        help="live mode through a shared read-only gateway (refold-contract gateway --shared, "
        "run by another OS user): no Refold credential in this process; its client token from "
        "REFOLD_GATEWAY_TOKEN (also REFOLD_GATEWAY_URL)",
    )
    group.addoption(
        "--refold-record",
        action="store_true",
        dest="refold_record",
        default=None,
        help="live mode: write each live read reply as an example into the last "
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
        "refold_search_lag",
        default="",
        help="records written through the mock's sandbox stay out of search results for this "
        "many calls ('2', '2 calls') or seconds ('1.5s'), as HubSpot's search lags (default: "
        "none)",
    )
    parser.addini(
        "refold_short_pages",
        type="bool",
        default=False,
        help="Slack lists in the mock's sandbox answer pages shorter than the limit while more "
        "remain, as Slack may (default false)",
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
    open_session(early_config)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    wiring.configure(config)
    install_log_scrubbing()  # log records are redacted as they are made, while a key is held


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item], config: pytest.Config) -> None:
    # A parametrize id made from the key: renamed before any terminal line or junit case shows
    # it (an xdist worker knows the controller's credentials by their fingerprints).
    also = getattr(config, "workerinput", {}).get(CUSTODY_INPUT, ())
    scrub_items(items, also)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    wiring.start(session.config)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.close()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    # Conftest files below the root are imported during collection: custody retakes, locks.
    wiring.lock_custody(session.config)


def pytest_report_header(config: pytest.Config) -> str:
    return report_header(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    wiring.fill_workerinput(node)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "call":  # fixtures' teardown checks stand aside for a failed test
        item.stash[CALL_REPORT_KEY] = report
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    try:
        return (yield)
    finally:  # sessions run inside the test (pytester) and their stand-ins are over
        end_test(item.config)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Every report passes here (a worker's too, on the controller): held credentials go.
    scrub_report(report)


@pytest.hookimpl(tryfirst=True)
def pytest_warning_recorded(warning_message: warnings.WarningMessage) -> None:
    scrub_warning(warning_message)


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def refold_catalogue(pytestconfig: pytest.Config) -> Catalogue:
    """The catalogue for this session: the built-in one with ``--refold-fixtures`` folders over it.

    Example::

        def test_every_read_has_an_example(refold_catalogue):
            assert all(a.examples for a in refold_catalogue.actions(access="read"))
    """
    return refold_session(pytestconfig).catalogue


@pytest.fixture(autouse=True)
def _refold_guarded(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test: blocked connections fail it; in a live session it gets its own gateway URL
    and its refusals fail it."""
    yield from guard_test(request)


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
    yield from mocking.mock_for(request, refold_catalogue)


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
    yield from mocking.client_for(refold_mock)


@pytest.fixture
def async_refold_client(refold_mock: RefoldMock) -> Iterator[AsyncRefoldClient]:
    """An :class:`~refold_contract.AsyncRefoldClient` pointed at the mock (pytest-asyncio, anyio).

    Example::

        async def test_lists(async_refold_client):
            assert await async_refold_client.list_actions("slack")
    """
    yield from mocking.async_client_for(refold_mock)


@pytest.fixture(scope="session")
def _refold_http() -> Iterator[SessionHTTP]:
    """The session's one loopback server behind ``refold_server`` (started on first use)."""
    http = SessionHTTP()
    yield http
    http.close()


@pytest.fixture
def refold_server(refold_mock: RefoldMock, _refold_http: SessionHTTP) -> Iterator[RefoldServer]:
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
    yield from _refold_http.serve(refold_mock)


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
