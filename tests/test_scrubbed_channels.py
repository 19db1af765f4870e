"""Every channel pytest writes through is scrubbed of the working key: junit properties, skip,
xfail and xpass reasons, parametrize ids, live log and captured logs, warnings, and snapshots an
xdist worker writes, in one process and under xdist. A reason that holds the key causes no
INTERNALERROR."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from refold_contract.mock import RefoldMock
from refold_contract.mock.server import RunningServer, running_server

from .helpers import FAKE_KEY

ACCOUNT = "acct_scrub_1"

# Test code that reads the working key from its own settings file, as app code does, and puts
# it through every channel pytest writes.
LEAKY = """
import logging, os, warnings

import pytest

KEY = open(os.environ["APP_SETTINGS"]).read().strip()
log = logging.getLogger("app")


def test_record_property(record_property, request):
    record_property("api_key", KEY)
    request.node.user_properties.append(("seen", {"key": KEY}))


def test_skip():
    pytest.skip(f"no account for {KEY}")


@pytest.mark.xfail(reason=f"flaky with {KEY}")
def test_xfail():
    assert False


@pytest.mark.xfail(reason=f"passes with {KEY}")
def test_xpass():
    pass


def test_imperative_xfail():
    pytest.xfail(f"known bug for {KEY}")


@pytest.mark.parametrize("key", [KEY, "other"])
def test_parametrized(key):
    assert key


def test_logs(caplog):
    log.warning("calling with key %s", KEY)
    try:
        raise RuntimeError(f"refused {KEY}")
    except RuntimeError:
        log.exception("it failed")
    assert KEY not in caplog.text


def test_warns():
    warnings.warn(f"deprecated key {KEY}", UserWarning)


def test_fails():
    assert KEY == "something else"


def test_snapshot(refold_snapshot):
    assert refold_snapshot == {"token": KEY, "note": f"Bearer {KEY}"}
"""


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[RunningServer]:
    settings = tmp_path / "app_settings.txt"
    settings.write_text(FAKE_KEY)
    with running_server(RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)) as server:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("REFOLD_BASE_URL", server.url)
        monkeypatch.setenv("APP_SETTINGS", str(settings))
        yield server


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
@pytest.mark.parametrize("mode", [["--refold-live"], []], ids=["live", "mock"])
def test_no_channel_pytest_writes_through_shows_the_key(
    pytester: pytest.Pytester, standin: RunningServer, workers: list[str], mode: list[str]
) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = default\n"
    )
    pytester.makepyfile(test_leaky=LEAKY)
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        *mode, *workers, "-p", "no:cacheprovider", "-p", "no:randomly", "-rA", "-v",
        "--log-cli-level=INFO", f"--junitxml={junit}", "--snapshot-update",
    )  # fmt: skip
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output, output[-3000:]
    outcomes = result.parseoutcomes()
    outcomes.pop("warnings", None)  # the test's own, and pytest's about its junit family
    assert outcomes == {
        "passed": 6, "failed": 1, "skipped": 1, "xfailed": 2, "xpassed": 1,
    }, output[-3000:]  # fmt: skip
    written = [junit, *pytester.path.rglob("*.json")]
    assert len(written) >= 2  # the report and the snapshot
    for path in written:
        assert FAKE_KEY not in path.read_text(errors="replace"), path
    assert FAKE_KEY not in output
    for piece in (FAKE_KEY[:10], FAKE_KEY[-10:]):  # nor cut short, as assertion messages cut
        assert piece not in output, piece
    assert "<redacted>" in output  # scrubbed, not missing: the channels did carry it
    assert "&lt;redacted&gt;" in junit.read_text()  # XML-escaped
