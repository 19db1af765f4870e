"""Live mode against a stand-in Refold on 127.0.0.1 that counts what reaches it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from refold_contract import Catalogue
from refold_contract.live import ReadOnlyGuard, Recorder, TokenBucket, reply_drift, scrub
from refold_contract.mock import RefoldMock
from refold_contract.mock.server import RunningServer, running_server

from .helpers import FAKE_KEY

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
ACCOUNT = "acct_LIVE_4242"


@pytest.fixture
def refold(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """A stand-in for Refold; the environment points live mode at it with a fake key."""
    with running_server(RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)) as server:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("REFOLD_BASE_URL", server.url)
        yield server


@pytest.fixture(autouse=True)
def _ini(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)


EVERY_ACTION = """
import pytest
from refold_contract import Catalogue, ReadOnlyViolation

ACTIONS = list(Catalogue.builtin())

@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)  # the refusals are what this test checks
@pytest.mark.parametrize("action", ACTIONS, ids=[a.key for a in ACTIONS])
def test_call(refold_client, action):
    body = {p.name: "1" for p in action.parameters if p.required}
    if action.is_read and not action.read_when:
        refold_client.execute(action.slug, action.action_id, body, check=False)
    else:
        with pytest.raises(ReadOnlyViolation):
            refold_client.execute(action.slug, action.action_id, body)

@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)
def test_plain_httpx_write_is_refused_too(refold_mock):
    import httpx
    reply = httpx.post(refold_mock.base_url + "/api/v2/integration-schema/hubspot/actions/"
                       "create_contact/execute", json={"email": "a@example.com"},
                       headers={"x-api-key": "k", "linked_account_id": "a"})
    assert reply.status_code == 403
    assert reply.json()["error_code"] == "READ_ONLY_VIOLATION"
    assert "hubspot/create_contact" in reply.json()["message"]
    assert refold_mock.calls[-1].note == "refused by the read-only gateway"

def test_unmarked_tests_stay_on_the_mock(refold_client, refold_mock):
    assert refold_client.execute("hubspot", "create_contact", {"email": "a@example.com"}).ok
    assert refold_mock.live is None
"""


def test_a_suite_calling_every_write_action_live_sends_no_write(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    pytester.makepyfile(test_every=EVERY_ACTION)
    result = pytester.runpytest("--refold-live", "-p", "no:randomly")
    catalogue = Catalogue.builtin()
    result.assert_outcomes(passed=len(catalogue) + 2)
    result.stdout.fnmatch_lines(["*mode live (tests marked refold_live, reads only*"])
    reached = refold.mock.calls
    assert reached, "reads must arrive"
    writes = [
        c
        for c in reached
        if c.action_id and not catalogue.get(cast(str, c.slug), c.action_id).is_read
    ]
    assert writes == []
    # A read for some parameters only (a SOQL query that is one SELECT) is refused for "1".
    read_ids = {a.key for a in catalogue.actions(access="read") if not a.read_when}
    assert {f"{c.slug}/{c.action_id}" for c in reached} == read_ids
    assert all(c.linked_account_id == ACCOUNT for c in reached)
    assert FAKE_KEY not in result.stdout.str() + result.stderr.str()


def test_missing_credentials_stop_the_session_with_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--refold-live")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: refold-contract: live mode needs REFOLD_API_KEY and REFOLD_LINKED_ACCOUNT_ID*"]
    )
    monkeypatch.setenv("REFOLD_LIVE", "1")
    assert pytester.runpytest().ret == pytest.ExitCode.USAGE_ERROR


def test_recording_writes_scrubbed_examples_into_the_users_folder(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    refold.mock.stub(
        "hubspot",
        "get_contact",
        data={"results": [{"id": "7", "properties": {"email": "z@example.com", "owner": ACCOUNT},
                           "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-02T00:00:00Z",
                           "archived": False}],
              "paging": {}, "access_token": "tok-123", "echo": f"key={FAKE_KEY}"},
    )  # fmt: skip
    (pytester.path / "mine").mkdir()
    pytester.makepyfile(
        test_rec="""
import pytest

@pytest.mark.refold_live
def test_read(refold_client):
    refold_client.execute("hubspot", "get_contact", {"limit": "3"})
    refold_client.execute("hubspot", "get_contact", {"limit": "3"})
"""
    )
    result = pytester.runpytest("--refold-live", "--refold-record", "--refold-fixtures", "mine")
    result.assert_outcomes(passed=1)
    written = pytester.path / "mine" / "hubspot" / "get_contact.json"
    result.stdout.fnmatch_lines(
        ["*refold-contract recorded*", "wrote mine/hubspot/get_contact.json"]
    )
    document = json.loads(written.read_text())
    # The built-in file's own examples are kept; two identical calls make one recorded example.
    builtin = Catalogue.builtin().get("hubspot", "get_contact")
    assert len(document["examples"]) == len(builtin.examples) + 1
    assert "state" in document
    (example,) = [e for e in document["examples"] if e["source"] == "recorded"]
    assert example["params"] == {"limit": "3"}
    assert example["source"] == "recorded"
    assert example["recorded_at"].endswith("Z")
    data = example["response"]["data"]
    assert data["access_token"] == "<redacted>"
    assert data["echo"] == "key=<redacted>"
    assert data["results"][0]["properties"]["owner"] == "<linked_account_id>"
    everything = written.read_text() + result.stdout.str() + result.stderr.str()
    assert FAKE_KEY not in everything
    assert ACCOUNT not in written.read_text()
    # The recorded file is a valid catalogue entry.
    assert Catalogue.load(pytester.path / "mine").get("hubspot", "get_contact").examples


def test_recording_goes_into_the_folder_that_wins_the_command_lines_over_the_inis(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    for folder in ("from_ini", "from_cli"):
        (pytester.path / folder).mkdir()
    pytester.makeini(
        "[pytest]\nrefold_fixtures = from_ini\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(
        test_rec="""
import pytest

@pytest.mark.refold_live
def test_read(refold_client):
    refold_client.execute("hubspot", "get_contact", {"limit": "3"})
"""
    )
    result = pytester.runpytest("--refold-live", "--refold-record", "--refold-fixtures", "from_cli")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*recording into *from_cli*", "wrote from_cli/hubspot/get_contact.json"]
    )
    assert list((pytester.path / "from_ini").iterdir()) == []


def test_recording_needs_a_user_folder(pytester: pytest.Pytester, refold: RunningServer) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--refold-live", "--refold-record")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: refold-contract: --refold-record writes into your own catalogue folder; pass "
         "one with --refold-fixtures DIR (or the refold_fixtures ini key)"]
    )  # fmt: skip
    assert refold.mock.calls == []


def test_a_changed_reply_shape_is_reported_as_drift(
    pytester: pytest.Pytester, refold: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    refold.mock.stub(
        "slack", "list_channels", data={"ok": True, "channels": "now a string", "extra": 1}
    )
    pytester.makepyfile(
        test_drift="""
import pytest

@pytest.mark.refold_live
def test_read(refold_client):
    refold_client.execute("slack", "list_channels")
"""
    )
    report = pytester.path / "drift.json"
    result = pytester.runpytest("--refold-live", "--refold-drift-report", str(report))
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*refold-contract drift from the catalogue*",
            "slack/list_channels*key_added*data.extra*",
            "slack/list_channels*type_changed*data.channels*",
        ]
    )
    drift = json.loads(report.read_text())["drift"]
    assert {"action": "slack/list_channels", "kind": "key_added", "path": "data.extra",
            "detail": "integer"} in drift  # fmt: skip
    # The first session kept the key out of this process's environment for good.
    assert os.environ["REFOLD_API_KEY"] == "tk_refold_contract_placeholder"
    monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
    failing = pytester.runpytest("--refold-live", "--refold-drift=fail")
    failing.assert_outcomes(passed=1)
    assert failing.ret == pytest.ExitCode.TESTS_FAILED


PLAN_FROM_EVERY_CLIENT = """
import os, subprocess, sys

import pytest, requests

from refold_contract import RefoldClient, RefoldError

WRITE = "/api/v2/integration-schema/hubspot/actions/create_contact/execute"
CHILD = (
    "import os, urllib.request, urllib.error\\n"
    "r = urllib.request.Request(os.environ['REFOLD_BASE_URL'] + '" + WRITE + "', data=b'{}',"
    " method='POST')\\n"
    "try: urllib.request.urlopen(r, timeout=10)\\n"
    "except urllib.error.HTTPError as e: print(e.code)\\n"
)


@pytest.fixture(scope="session")
def session_client():
    return RefoldClient()


@pytest.mark.refold_live
def test_requests():
    reply = requests.post(os.environ["REFOLD_BASE_URL"] + WRITE, json={}, timeout=10)
    assert reply.status_code == 403
    assert reply.json()["error_code"] == "LIVE_PLAN"


@pytest.mark.refold_live
def test_own_client():
    with pytest.raises(RefoldError) as refused:
        RefoldClient().execute("hubspot", "create_contact", {"email": "a@example.com"})
    assert refused.value.hint.startswith("--refold-live-plan sends nothing")


@pytest.mark.refold_live
def test_session_client(session_client):
    with pytest.raises(RefoldError):
        session_client.execute("hubspot", "get_contact", {"limit": "1"})


@pytest.mark.refold_live
def test_child_process():
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "403", done.stderr


@pytest.mark.refold_live
def test_fixed_upstream_url():
    with pytest.raises(Exception, match="refold-contract blocked a connection"):
        requests.post(os.environ["STANDIN_URL"] + WRITE, json={}, timeout=10)
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_the_plan_sends_nothing_from_any_client_or_process(
    pytester: pytest.Pytester,
    refold: RunningServer,
    monkeypatch: pytest.MonkeyPatch,
    workers: list[str],
) -> None:
    # The stand-in is on loopback, where a mock-mode session could reach it: a plan run must not.
    monkeypatch.setenv("STANDIN_URL", refold.url)
    pytester.makepyfile(test_plan=PLAN_FROM_EVERY_CLIENT)
    result = pytester.runpytest_subprocess("--refold-live", "--refold-live-plan", *workers)
    assert refold.mock.calls == []
    # The blocked socket fails its test (at teardown) even though the test expected the error.
    result.assert_outcomes(passed=5, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*refold-contract live plan (nothing was sent)*",
            "from outside refold_mock and refold_server*",
            "    POST /api/v2/integration-schema/hubspot/actions/create_contact/execute",
        ]
    )
    assert FAKE_KEY not in result.stdout.str() + result.stderr.str()


def test_the_plan_lists_reads_and_writes_without_sending_anything(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    pytester.makepyfile(
        test_plan="""
import pytest
from refold_contract import ReadOnlyViolation

@pytest.mark.refold_live
def test_sync(refold_client):
    refold_client.execute("hubspot", "get_contact", {"limit": "1"})
    refold_client.execute("hubspot", "create_contact", {"email": "a@example.com"})
"""
    )
    result = pytester.runpytest("--refold-live", "--refold-live-plan")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*refold-contract live plan (nothing was sent)*",
            "test_plan.py::test_sync",
            "*hubspot/get_contact*read: will be sent",
            "*hubspot/create_contact*write: will be refused",
        ]
    )
    assert refold.mock.calls == []


def test_live_mode_works_under_xdist(pytester: pytest.Pytester, refold: RunningServer) -> None:
    refold.mock.stub("slack", "list_channels", data={"ok": True, "channels": [], "new": 1})
    pytester.makepyfile(
        test_x="""
import pytest

@pytest.mark.refold_live
@pytest.mark.parametrize("i", range(4))
def test_read(refold_client, i):
    refold_client.execute("slack", "list_channels")
"""
    )
    result = pytester.runpytest_subprocess("--refold-live", "-n", "2")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*slack/list_channels*key_added*data.new*"])
    calls = [c for c in refold.mock.calls if c.action_id == "list_channels"]
    assert [(c.status, c.linked_account_id) for c in calls] == [(200, ACCOUNT)] * 4
    assert len(refold.mock.calls) == 4  # the workers sent nothing else
    # One drift finding for the session, though four tests on two workers found it.
    assert result.stdout.str().count("data.new") == 1


def test_guard_refuses_what_is_not_known_to_read() -> None:
    guard = ReadOnlyGuard(Catalogue.builtin())
    base = "/api/v2/integration-schema"
    assert guard.allows("GET", f"{base}/hubspot/actions")
    assert guard.allows("GET", f"{base}/hubspot/actions/create_contact")  # the schema: a read
    assert guard.allows("POST", f"{base}/hubspot/actions/get_contact/execute")
    # Deny by default: an action the catalogue lacks is refused, whatever its name says.
    assert not guard.allows("POST", f"{base}/acme/actions/list_widgets/execute")
    for action in ("create_contact", "httprequest", "frobnicate", "get_or_create_x"):
        assert not guard.allows("POST", f"{base}/hubspot/actions/{action}/execute"), action
    # A read for some parameters only: httprequest with GET.
    execute = f"{base}/salesforce/actions/httprequest/execute"
    assert guard.allows("POST", execute, {"method": "GET", "url_path": "/query"})
    assert not guard.allows("POST", execute, {"method": "PATCH", "url_path": "/x"})
    assert not guard.allows("DELETE", f"{base}/hubspot/actions")
    assert not guard.allows("GET", "/api/v2/other")


def test_scrub_and_drift_helpers() -> None:
    assert scrub({"owner": "acct_1 x", "api_key": "k", "nextPageToken": "p", "n": 1},
                 linked_account_id="acct_1", secrets=["zzzz"]) == {
        "owner": "<linked_account_id> x", "api_key": "<redacted>", "nextPageToken": "p", "n": 1}  # fmt: skip
    action = Catalogue.builtin().get("hubspot", "get_contact")
    assert reply_drift(action, {"node_status": "Errored", "data": {}})[0].kind == "node_status"
    assert reply_drift(action, {"node_status": "Success", "data": action.examples[0].data}) == []


def test_a_recording_killed_mid_write_leaves_every_file_whole(tmp_path: Path) -> None:
    script = tmp_path / "record_forever.py"
    folder = tmp_path / "mine"
    script.write_text(
        textwrap.dedent(
            f"""
            import itertools
            from pathlib import Path
            from refold_contract import Catalogue
            from refold_contract.live import Recorder

            catalogue = Catalogue.builtin()
            recorder = Recorder(Path({str(folder)!r}), catalogue, linked_account_id="acct")
            actions = [catalogue.get("hubspot", "get_contact"), catalogue.get("slack", "list_channels")]
            big = {{"results": [{{"id": str(i), "text": "x" * 200}} for i in range(300)], "paging": {{}}}}
            print("ready", flush=True)
            for i in itertools.count():
                action = actions[i % 2]
                recorder.record(action, {{"limit": str(i % 7)}}, {{"node_status": "Success", "data": big}})
            """
        )
    )
    for delay in (0.3, 0.55, 0.8):
        process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        files = list(folder.rglob("*.json"))
        assert files
        for path in files:
            document = json.loads(path.read_text())  # whole and valid
            assert document["examples"]
        Catalogue.load(folder)  # and a valid catalogue
        leftovers = [p for p in folder.rglob("*.tmp")]
        for leftover in leftovers:  # a temp file may survive a kill; never a half-written entry
            assert leftover.name.startswith(".")


def test_recorder_refuses_the_installed_catalogue() -> None:
    from refold_contract.errors import CatalogueError

    with pytest.raises(CatalogueError, match="refusing to record into the built-in catalogue"):
        Recorder(Catalogue.builtin_path(), Catalogue.builtin(), linked_account_id=None)


def test_the_token_bucket_allows_a_burst_then_paces_at_the_rate() -> None:
    bucket = TokenBucket(rate=10, burst=2)
    waits = [bucket.take() for _ in range(4)]
    assert waits[:2] == [0.0, 0.0]
    assert 0.05 < waits[2] < waits[3] <= 0.25


def test_the_contract_suite_runs_its_read_part_live_with_parity(
    refold: RunningServer, tmp_path: Path
) -> None:
    # Offline, a generated ticket id names no ticket: the mock's sandbox answers Zendesk's 404.
    # "Live" (this stand-in), two of them exist.
    refold.mock.stub("zendesk", "get_ticket_by_id", data={"ticket": {"id": 1}}, times=2)
    done = subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", "test", "--live", "--app", "zendesk",
         "--app", "hubspot", "--examples", "4"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
    out = done.stdout
    assert "refold-contract parity: the same bodies, mock vs live" in out
    assert "zendesk/get_ticket_by_id" in out
    assert "app failure -> success: 2" in out
    assert "create_contact" not in out  # writes are left out live
    catalogue = Catalogue.builtin()
    reached = [c for c in refold.mock.calls if c.action_id]
    assert reached
    assert all(catalogue.get(cast(str, c.slug), cast(str, c.action_id)).is_read for c in reached)
    assert FAKE_KEY not in out + done.stderr


def test_personal_data_rules_apply_to_recordings(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    refold.mock.stub(
        "slack",
        "list_channels",
        data={"ok": True, "channels": [{"id": "C1", "creator_email": "me@example.com"}]},
    )
    pytester.makeini(INI + "refold_record_redact =\n    creator_.*\n")
    (pytester.path / "mine").mkdir()
    pytester.makepyfile(
        test_rec="""
import pytest

@pytest.mark.refold_live
def test_read(refold_client):
    refold_client.execute("slack", "list_channels")
"""
    )
    pytester.runpytest(
        "--refold-live", "--refold-record", "--refold-fixtures", "mine"
    ).assert_outcomes(passed=1)
    stored = json.loads((pytester.path / "mine" / "slack" / "list_channels.json").read_text())
    assert (
        stored["examples"][-1]["response"]["data"]["channels"][0]["creator_email"] == "<redacted>"
    )


def test_record_without_live_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--refold-record", "--refold-fixtures", ".")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: refold-contract: --refold-record records live replies; add --refold-live (or "
         "set REFOLD_LIVE=1)"]
    )  # fmt: skip
    assert not list(pytester.path.rglob("*.json"))


def test_live_contract_suite_stops_at_refused_credentials(
    refold: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFOLD_API_KEY", "tk_wrong_key_123")
    done = subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", "test", "--live", "--app", "slack",
         "--examples", "3"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    assert "the live API refused the credentials (HTTP 401)" in done.stdout + done.stderr
    assert len(refold.mock.calls) <= 3


def test_recording_leaves_no_lock_files_and_ordinary_permissions(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    (pytester.path / "mine").mkdir()
    pytester.makepyfile(
        test_rec="""
import pytest

@pytest.mark.refold_live
def test_read(refold_client):
    refold_client.execute("slack", "list_channels")
"""
    )
    pytester.runpytest(
        "--refold-live", "--refold-record", "--refold-fixtures", "mine"
    ).assert_outcomes(passed=1)
    files = sorted(p.name for p in (pytester.path / "mine").rglob("*") if p.is_file())
    assert files == ["list_channels.json"]
    mode = (pytester.path / "mine" / "slack" / "list_channels.json").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # as any file the user creates, not mkstemp's 0600


def test_a_live_journal_and_the_client_name_the_linked_account_by_a_placeholder(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    pytester.makepyfile(
        test_j=f"""
import pytest

@pytest.mark.refold_live
def test_read(refold_mock, refold_client):
    refold_client.execute("hubspot", "get_contact", {{"limit": "1", "properties": "{ACCOUNT}"}})
    (call,) = refold_mock.calls
    assert call.linked_account_id == "<linked_account_id>"
    assert call.params == {{"limit": "1", "properties": "<linked_account_id>"}}
    print("SHOWN", repr(refold_mock.calls), repr(refold_client), repr(refold_mock))
"""
    )
    result = pytester.runpytest("--refold-live", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*SHOWN *linked_account_id=<set>*"])
    assert ACCOUNT not in result.stdout.str() + result.stderr.str()
    (call,) = refold.mock.calls  # what reached the stand-in named the real account
    assert call.linked_account_id == ACCOUNT


SWALLOWED_THROUGH_THE_FIXTURE = """
import pytest
from refold_contract import ReadOnlyViolation

@pytest.mark.refold_live
def test_sync(refold_client):
    try:
        refold_client.execute("hubspot", "delete_contact", {"contactId": "1"})
    except ReadOnlyViolation:
        pass

@pytest.mark.refold_live
@pytest.mark.asyncio
async def test_async(async_refold_client):
    with pytest.raises(ReadOnlyViolation):
        await async_refold_client.execute("hubspot", "create_contact", {"email": "a@b.example"})
"""


def test_a_write_swallowed_through_the_client_fixtures_fails_the_live_test(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    pytester.makepyfile(test_swallowed=SWALLOWED_THROUGH_THE_FIXTURE)
    result = pytester.runpytest_subprocess("--refold-live")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        ["*the read-only gateway refused 1 request(s) from this test; nothing was sent*"]
    )
    assert refold.mock.calls == []
