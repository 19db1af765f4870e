"""Read-only for every client: live runs against a stand-in Refold on loopback that counts what
reaches it, tried the way someone would break it.

The stand-in accepts only the working key (FAKE_KEY). A write that reaches it with that key gets
a 200; with any other key, a 401. So "no write arrives with the working key" is "no write in the
stand-in's journal with a status other than 401".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from refold_contract import Catalogue
from refold_contract._core import endpoint as ep
from refold_contract.access import access_of
from refold_contract.cli import main
from refold_contract.mock import RefoldMock
from refold_contract.mock.server import RunningServer, running_server

from .helpers import FAKE_KEY, FAKE_TOKEN

ACCOUNT = "acct_LIVE_4242"
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


class Counting(RefoldMock):
    """The stand-in: notes every request that reaches it, and whether it carried the key."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arrivals: list[tuple[str, str, bool, float]] = []

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> Any:
        values = {k.lower(): v for k, v in headers}
        with_key = values.get(b"x-api-key") == FAKE_KEY.encode() or (
            values.get(b"authorization") == f"Bearer {FAKE_TOKEN}".encode()
        )
        self.arrivals.append((method, path, with_key, time.monotonic()))
        return super().answer(method, path, headers, body)


@pytest.fixture
def refold(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[RunningServer]:
    """The stand-in; the environment points live mode at it with the working key."""
    settings = tmp_path / "app_settings.txt"
    settings.write_text(FAKE_KEY)  # app code that reads the key from its own settings file
    with running_server(Counting(api_keys={FAKE_KEY}, assert_all_called=False)) as server:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("REFOLD_BASE_URL", server.url)
        monkeypatch.setenv("STANDIN_URL", server.url)
        monkeypatch.setenv("APP_SETTINGS", str(settings))
        yield server


def writes_with_the_key(server: RunningServer) -> list[str]:
    """Requests that reached the stand-in with the working key and are not placed reads: the
    number that must stay 0."""
    mock = server.mock
    assert isinstance(mock, Counting)
    found = []
    for method, path, with_key, _ in mock.arrivals:
        placed = ep.match(method, path)
        read = placed is not None and (
            placed[0] != "execute"
            or access_of(Catalogue.builtin(), placed[1], placed[2] or "") == "read"
        )
        if with_key and not read:
            found.append(f"{method} {path}")
    return found


EVERY_CLIENT = '''
import asyncio, http.client, json, os, ssl, subprocess, sys, urllib.request
from urllib.parse import urlsplit

import aiohttp, httpx, pytest, requests

from refold_contract import InvalidIdentifier, RefoldClient

EXECUTE = "/api/v2/integration-schema/hubspot/actions/{}/execute"
PATHS = [
    EXECUTE.format("create_contact"),
    EXECUTE.format("delete_contact"),
    EXECUTE.format("httprequest"),
    EXECUTE.format("get_contact/../create_contact"),
    EXECUTE.format("get_contact%2F..%2Fcreate_contact"),
    EXECUTE.format("get_contactAndDelete"),
    EXECUTE.format("get_and_sendEmail"),
    EXECUTE.format("create_contact") + "?action=get_contact",
    "/api/v2/integration-schema/hubspot/actions//create_contact/execute",
    "/API/V2/integration-schema/hubspot/actions/create_contact/EXECUTE",
    "/api/v2/integration-schema/hubspot/actions/./create_contact/execute",
]
KEY = open(os.environ["APP_SETTINGS"]).read().strip()  # the working key, from a settings file
BODY = json.dumps({"email": "a@example.com", "contactId": "1"}).encode()


def headers(key):
    return {"x-api-key": key, "linked_account_id": os.environ["REFOLD_LINKED_ACCOUNT_ID"],
            "content-type": "application/json"}


TLS = ssl.create_default_context()  # loaded once: a new httpx client loads the CA file each time


def via_httpx(url, key):
    httpx.post(url, content=BODY, headers=headers(key), verify=TLS)


def via_requests(url, key):
    requests.post(url, data=BODY, headers=headers(key), timeout=10)


def via_urllib(url, key):
    urllib.request.urlopen(urllib.request.Request(url, data=BODY, headers=headers(key),
                                                  method="POST"), timeout=10)


def via_http_client(url, key):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("POST", parts.path + ("?" + parts.query if parts.query else ""),
                       body=BODY, headers=headers(key))
    connection.getresponse().read()


def via_aiohttp(url, key):
    async def go():
        async with aiohttp.ClientSession() as session:
            async with session.post(url, data=BODY, headers=headers(key)) as reply:
                await reply.read()
    asyncio.run(go())


CHILD = """
import json, os, sys, urllib.request
for url in json.loads(sys.argv[1]):
    request = urllib.request.Request(url, data=json.dumps({"email": "a@example.com"}).encode(),
        headers={"x-api-key": os.environ["REFOLD_API_KEY"], "content-type": "application/json",
                 "linked_account_id": os.environ["REFOLD_LINKED_ACCOUNT_ID"]}, method="POST")
    try:
        urllib.request.urlopen(request, timeout=10)
    except Exception as exc:
        pass
"""


def via_child_process(url, key):
    # A child process configured from the environment: it finds placeholders only. One process
    # takes every URL (see attempt()).
    subprocess.run([sys.executable, "-c", CHILD, json.dumps(url)], timeout=120, check=True)


CLIENTS = {f.__name__[4:]: f for f in (via_httpx, via_requests, via_urllib, via_http_client,
                                       via_aiohttp, via_child_process)}


def attempt(send):
    bases = [os.environ["REFOLD_BASE_URL"], os.environ["STANDIN_URL"]]  # the gateway; Refold
    urls = [base + path for base in bases for path in PATHS]
    if send is via_child_process:
        send(urls, None)
        return
    for url in urls:
        for key in (KEY, os.environ["REFOLD_API_KEY"]):
            try:
                send(url, key)
            except Exception:
                pass  # code that swallows errors must not hide a write


@pytest.mark.refold_live
@pytest.mark.parametrize("client", CLIENTS)
def test_live_test(client):
    attempt(CLIENTS[client])


@pytest.mark.refold_live
@pytest.mark.parametrize("client", CLIENTS)
def test_live_test_with_refold_mock(client, refold_mock):
    attempt(CLIENTS[client])


@pytest.mark.parametrize("client", CLIENTS)
def test_unmarked_test(client):
    attempt(CLIENTS[client])


def test_unmarked_refold_client():
    with RefoldClient() as client:  # everything from the environment
        try:
            client.execute("hubspot", "create_contact", {"email": "a@example.com"})
        except Exception:
            pass


@pytest.fixture
def early():
    attempt(via_httpx)
    yield


@pytest.mark.refold_live
def test_a_fixture_set_up_before_refold_mock(early, refold_mock):
    pass


@pytest.mark.refold_live
def test_read_only_client_refuses_crafted_ids_before_sending(refold_client):
    for slug, action_id in [("hubspot", "get_contact/../create_contact"),
                            ("hubspot", "get_contact#x"), ("hubspot", "get_contact?x=1"),
                            ("hubspot/../salesforce", "get_contact"), ("hubspot", ".."),
                            ("hubspot", "get_contact/%2e%2e/create_contact")]:
        with pytest.raises(InvalidIdentifier):
            refold_client.execute(slug, action_id, {"limit": "1"})


@pytest.mark.refold_live
def test_reads_from_requests_go_live(refold_server):
    reply = requests.post(
        os.environ["REFOLD_BASE_URL"] + EXECUTE.format("get_contact"), json={"limit": "1"},
        headers=headers(os.environ["REFOLD_API_KEY"]), timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.json()["node_status"] == "Success"
    assert refold_server.url == os.environ["REFOLD_BASE_URL"]


READER = """
import json, os, urllib.request
request = urllib.request.Request(
    os.environ["REFOLD_BASE_URL"] + "/api/v2/integration-schema/slack/actions/list_channels/execute",
    data=b"{}", method="POST", headers={"x-api-key": os.environ["REFOLD_API_KEY"],
    "linked_account_id": os.environ["REFOLD_LINKED_ACCOUNT_ID"], "content-type": "application/json"})
print(json.load(urllib.request.urlopen(request, timeout=10))["node_status"])
"""


@pytest.mark.refold_live
def test_reads_from_a_child_process_go_live():
    done = subprocess.run([sys.executable, "-c", READER], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "Success", done.stderr
'''


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_no_write_arrives_with_the_working_key_from_any_client_or_process(
    pytester: pytest.Pytester, refold: RunningServer, workers: list[str]
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_every=EVERY_CLIENT)
    result = pytester.runpytest_subprocess("--refold-live", "-p", "no:cacheprovider", *workers)
    assert writes_with_the_key(refold) == []
    reads = [c for c in refold.mock.calls if c.status == 200]
    assert {(c.slug, c.action_id) for c in reads} >= {
        ("hubspot", "get_contact"),
        ("slack", "list_channels"),
    }
    assert all(c.linked_account_id == ACCOUNT for c in reads)
    # Every test that tried a write is failed for it (a refusal or a blocked socket), though
    # its code swallowed every error; the read tests and the crafted-id test pass.
    flagged = {
        line.split()[1].split("::")[-1]
        for line in result.stdout.lines
        if line.startswith(("ERROR test_every.py::", "FAILED test_every.py::"))
    }
    tried = {f"{t}[{c}]" for t in ("test_live_test", "test_live_test_with_refold_mock",
             "test_unmarked_test") for c in ("httpx", "requests", "urllib", "http_client",
             "aiohttp", "child_process")}  # fmt: skip
    tried |= {"test_unmarked_refold_client", "test_a_fixture_set_up_before_refold_mock"}
    assert flagged == tried, result.stdout.str()[-3000:]
    output = result.stdout.str() + result.stderr.str()
    assert "the read-only gateway refused" in output
    assert "refold-contract blocked" in output
    assert "not marked refold_live" in output
    assert FAKE_KEY not in output
    assert "INTERNALERROR" not in output


def test_no_write_arrives_through_a_session_token_either(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_server(RefoldMock(session_tokens={FAKE_TOKEN}, assert_all_called=False)) as srv:
        monkeypatch.delenv("REFOLD_API_KEY", raising=False)
        monkeypatch.setenv("REFOLD_SESSION_TOKEN", FAKE_TOKEN)
        monkeypatch.setenv("REFOLD_BASE_URL", srv.url)
        pytester.makeini(INI)
        pytester.makepyfile(
            test_token="""
import os, pytest, requests

@pytest.mark.refold_live
def test_read_and_write(refold_client):
    assert refold_client.execute("slack", "list_channels").ok
    assert os.environ["REFOLD_SESSION_TOKEN"] != "eyJFAKE.session.t0ken_DO_NOT_LEAK"
    requests.post(os.environ["REFOLD_BASE_URL"]
                  + "/api/v2/integration-schema/hubspot/actions/create_contact/execute",
                  json={"email": "a@example.com"}, timeout=10)
"""
        )
        result = pytester.runpytest_subprocess("--refold-live")
        result.assert_outcomes(passed=1, errors=1)
        assert [c.action_id for c in srv.mock.calls] == ["list_channels"]
        assert FAKE_TOKEN not in result.stdout.str() + result.stderr.str()


def test_tests_child_processes_and_proc_environ_never_see_the_working_key(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_env=f"""
import os, subprocess, sys

def test_env_holds_placeholders():
    assert os.environ["REFOLD_API_KEY"] == "tk_refold_contract_placeholder"
    with open("/proc/self/environ", "rb") as handle:
        assert b"{FAKE_KEY}" not in handle.read()
    child = subprocess.run([sys.executable, "-c",
                            "import os; print(os.environ['REFOLD_API_KEY'])"],
                           capture_output=True, text=True)
    assert child.stdout.strip() == "tk_refold_contract_placeholder"
"""
    )
    for mode in ([], ["--refold-live"]):
        pytester.runpytest_subprocess(*mode).assert_outcomes(passed=1)


ECHO_TEST = """
import pytest

@pytest.mark.refold_live
def test_echo(refold_client, refold_snapshot):
    result = refold_client.execute("hubspot", "get_contact", {"limit": "7"})
    print(repr(result), result.response.text)
    assert refold_snapshot == result
    assert False, f"show everything: {result!r} {result.data}"
"""


def test_a_server_echoing_the_key_leaves_it_in_no_file_or_output(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    refold.mock.stub(
        "hubspot",
        "get_contact",
        data={
            "results": [{"id": "1", "properties": {FAKE_KEY: "as a key", "owner": ACCOUNT}}],
            "paging": {},
            "echo": FAKE_KEY,
            "sentence": f"called with key {FAKE_KEY} by {ACCOUNT}",
            "escaped": "\\u" + FAKE_KEY,
            "new_field": 1,
        },
    )
    (pytester.path / "mine").mkdir()
    pytester.makeini(INI)
    pytester.makepyfile(test_echo=ECHO_TEST)
    result = pytester.runpytest_subprocess(
        "--refold-live", "--refold-record", "--refold-fixtures", "mine",
        "--refold-drift-report", "drift.json", "--junitxml", "junit.xml",
        "--snapshot-update", "-vv", "--showlocals",
    )  # fmt: skip
    result.assert_outcomes(failed=1)
    assert (pytester.path / "drift.json").exists()
    assert (pytester.path / "junit.xml").exists()
    assert list((pytester.path / "mine").rglob("*.json"))
    written = "".join(
        p.read_text(errors="replace") for p in pytester.path.rglob("*") if p.is_file()
    )
    output = result.stdout.str() + result.stderr.str()
    assert FAKE_KEY not in written + output
    recorded = (pytester.path / "mine" / "hubspot" / "get_contact.json").read_text()
    assert ACCOUNT not in recorded
    assert "new_field" in (pytester.path / "drift.json").read_text()


class _Hostile(BaseHTTPRequestHandler):
    """A stand-in whose list of actions names files outside any folder."""

    def do_GET(self) -> None:
        body: list[dict[str, Any]]
        if self.path.endswith("/actions"):
            body = [
                {"action_id": "../../escaped", "name": "x"},
                {"action_id": "/tmp/absolute", "name": "x"},
                {"action_id": "..", "name": "x"},
                {"action_id": "get_fine", "name": "Fine", "description": FAKE_KEY},
            ]
        else:
            body = [{"name": "id", "label": "Id", "required": True, "type": "text"}]
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_pull_writes_only_inside_its_folder_whatever_ids_the_server_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("REFOLD_BASE_URL", f"http://127.0.0.1:{server.server_port}")
        folder = tmp_path / "deep" / "mine"
        assert main(["pull", "acme", "--fixtures", str(folder)]) == 0
    finally:
        server.shutdown()
        server.server_close()
    captured = capsys.readouterr()
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["deep/mine/acme/get_fine.json"]
    assert not Path("/tmp/absolute.json").exists()
    assert captured.err.count("not a Refold id") == 3
    assert (
        FAKE_KEY
        not in captured.out + captured.err + (folder / "acme" / "get_fine.json").read_text()
    )


def test_a_gateway_that_dies_fails_the_tests_and_nothing_goes_direct(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_dies=textwrap.dedent(
            """
            import os, signal
            import pytest, requests

            def kill_gateway():
                me = os.getpid()
                for pid in filter(str.isdigit, os.listdir("/proc")):
                    try:
                        stat = open(f"/proc/{pid}/stat").read()
                        cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
                    except OSError:
                        continue
                    ppid = int(stat[stat.rindex(")") + 2:].split()[1])
                    if ppid == me and b"refold_contract.live.gateway" in cmdline:
                        os.kill(int(pid), signal.SIGKILL)
                        os.waitpid(int(pid), 0)
                        return
                raise AssertionError("no gateway found")

            @pytest.mark.refold_live
            def test_1_read_then_the_gateway_dies(refold_client):
                assert refold_client.execute("slack", "list_channels").ok
                kill_gateway()

            @pytest.mark.refold_live
            def test_2_after(refold_client):
                refold_client.execute("slack", "list_channels")

            @pytest.mark.refold_live
            def test_3_requests_after():
                requests.post(os.environ["REFOLD_BASE_URL"] + "/api/v2/integration-schema/"
                              "slack/actions/list_channels/execute", json={}, timeout=5)
            """
        )
    )
    result = pytester.runpytest_subprocess("--refold-live", "-p", "no:randomly")
    output = result.stdout.str()
    assert len(refold.mock.calls) == 1  # the read before the kill; nothing after, nothing direct
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) >= 2
    assert "RefoldConnectionError" in output
    assert "the read-only gateway" in output
    assert "is not answering" in output
    assert "INTERNALERROR" not in output + result.stderr.str()


def test_the_plan_and_parity_still_work_through_the_gateway(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_plan="""
import pytest

@pytest.mark.refold_live
def test_sync(refold_client, refold_mock):
    refold_client.execute("hubspot", "get_contact", {"limit": "1"})
    assert [c.action_id for c in refold_mock.calls] == ["get_contact"]
    assert refold_mock.is_live or refold_mock.calls[0].note != "live"

@pytest.mark.refold_live
def test_nothing():
    pass
"""
    )
    planned = pytester.runpytest_subprocess("--refold-live", "--refold-live-plan")
    planned.assert_outcomes(passed=2)
    planned.stdout.fnmatch_lines(["*hubspot/get_contact*read: will be sent*"])
    assert refold.mock.calls == []
    live = pytester.runpytest_subprocess("--refold-live")
    live.assert_outcomes(passed=2)
    assert [c.action_id for c in refold.mock.calls] == ["get_contact"]


def test_xdist_workers_share_one_pace(pytester: pytest.Pytester, refold: RunningServer) -> None:
    timed = refold.mock
    assert isinstance(timed, Counting)
    pytester.makeini(INI + "refold_rate = 10\nrefold_burst = 1\n")
    pytester.makepyfile(
        test_pace="""
import pytest

@pytest.mark.refold_live
@pytest.mark.parametrize("i", range(8))
def test_read(refold_client, i):
    refold_client.execute("slack", "list_channels")
"""
    )
    result = pytester.runpytest_subprocess("--refold-live", "-n", "2")
    result.assert_outcomes(passed=8)
    times = [t for _, _, _, t in timed.arrivals]
    assert len(times) == 8
    # One bucket for both workers: 7 gaps of 1/10 s. Two buckets would take about half that.
    assert times[-1] - times[0] >= 0.6


def test_live_subprocess_environment_is_what_the_readme_says(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_env="""
import os, pytest

@pytest.mark.refold_live
def test_live_env():
    assert os.environ["REFOLD_BASE_URL"].startswith(os.environ["REFOLD_CONTRACT_GATEWAY"] + "/t/")

def test_other_env():
    assert os.environ["REFOLD_BASE_URL"].startswith(os.environ["REFOLD_CONTRACT_GATEWAY"] + "/m/")
"""
    )
    pytester.runpytest_subprocess("--refold-live").assert_outcomes(passed=2)
    assert os.environ["REFOLD_API_KEY"] == FAKE_KEY  # the outer process is untouched
    assert sys.executable


def test_the_gateway_command_serves_reads_refuses_writes_and_reports(
    refold: RunningServer, tmp_path: Path
) -> None:
    import signal

    import requests

    report = tmp_path / "drift.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "refold_contract.cli", "gateway", "--port", "0",
         "--drift-report", str(report)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.strip()  # the first line: the URL alone
        assert url.startswith("http://127.0.0.1:")
        headers = {"x-api-key": "anything", "linked_account_id": ACCOUNT}
        read = requests.post(
            url + "/api/v2/integration-schema/slack/actions/list_channels/execute",
            json={}, headers=headers, timeout=10,
        )  # fmt: skip
        assert read.status_code == 200
        write = requests.post(
            url + "/api/v2/integration-schema/hubspot/actions/delete_contact/execute",
            json={"contactId": "1"}, headers=headers, timeout=10,
        )  # fmt: skip
        assert write.status_code == 403
        assert write.json()["error_code"] == "READ_ONLY_VIOLATION"
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 1  # it refused something
    assert "1 read(s) forwarded, 1 request(s) refused" in err
    assert "refused: hubspot/delete_contact: a write (its name says 'delete')" in err
    assert json.loads(report.read_text()) == {"drift": []}
    assert writes_with_the_key(refold) == []
    assert FAKE_KEY not in first + out + err


def test_a_live_read_with_a_parameter_not_in_its_schema_is_refused_by_name_and_not_recorded(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    """Extra parameters on a real read (``method``, ``url``...) are refused, never forwarded."""
    pytester.makeini(INI)
    (pytester.path / "mine").mkdir()
    pytester.makepyfile(
        test_rec="""
import pytest
from refold_contract import ReadOnlyViolation

@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)
def test_read(refold_client):
    with pytest.raises(ReadOnlyViolation) as info:
        refold_client.execute("slack", "list_channels",
                              {"limit": "2", "not_in_the_schema": "x", "method": "DELETE"})
    assert "'method', 'not_in_the_schema' are not parameters of slack/list_channels" in str(
        info.value)
    assert refold_client.execute("slack", "list_channels", {"limit": "2"}).ok
"""
    )
    pytester.runpytest_subprocess(
        "--refold-live", "--refold-record", "--refold-fixtures", "mine"
    ).assert_outcomes(passed=1)
    recorded = json.loads((pytester.path / "mine" / "slack" / "list_channels.json").read_text())
    assert [e["params"] for e in recorded["examples"] if e.get("source") == "recorded"] == [
        {"limit": "2"}
    ]
    arrived = [c.params for c in refold.mock.calls if c.action_id == "list_channels"]
    assert arrived == [{"limit": "2"}]
    assert writes_with_the_key(refold) == []


OUTSIDE_A_TEST = """
import json, os, urllib.error, urllib.request
from urllib.parse import urljoin

import pytest

LIST = "/api/v2/integration-schema/slack/actions/list_channels/execute"


def post(url):
    request = urllib.request.Request(url, data=b"{}", method="POST", headers={
        "x-api-key": os.environ["REFOLD_API_KEY"], "content-type": "application/json",
        "linked_account_id": os.environ["REFOLD_LINKED_ACCOUNT_ID"]})
    try:
        return urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)["error_code"]


AT_IMPORT = post(os.environ["REFOLD_BASE_URL"] + LIST)


@pytest.fixture(scope="session")
def base_url():
    # What a session-scoped client keeps: the URL as it was when the fixture was set up.
    return os.environ["REFOLD_BASE_URL"]


def test_at_import():
    assert AT_IMPORT == (403, "LIVE_TEST_REQUIRED")


@pytest.mark.refold_live
def test_a_session_client_in_a_live_test_goes_live(base_url):
    assert post(base_url + LIST) == 200


@pytest.mark.refold(allow_refused=True)
def test_a_session_client_in_an_unmarked_test_is_refused_for_it(base_url):
    assert post(base_url + LIST) == (403, "LIVE_TEST_REQUIRED")


@pytest.mark.refold_live
def test_url_from_the_gateways_root():
    assert post(urljoin(os.environ["REFOLD_BASE_URL"], LIST)) == (403, "LIVE_TEST_REQUIRED")


@pytest.mark.refold_live
def test_the_tests_own_address_goes_live():
    assert post(os.environ["REFOLD_BASE_URL"] + LIST) == 200
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_requests_outside_a_tests_address_do_not_go_live(
    pytester: pytest.Pytester, refold: RunningServer, workers: list[str]
) -> None:
    # Only a refold_live test goes live: a client a session fixture made is charged to the test
    # using it; import-time code and a URL rebuilt from the gateway's root belong to no test.
    pytester.makeini(INI)
    pytester.makepyfile(test_outside=OUTSIDE_A_TEST)
    result = pytester.runpytest_subprocess("--refold-live", "-p", "no:cacheprovider", *workers)
    # Each test saw what it expected; as no test's address was given for the import-time read
    # and the rebuilt URL, their refusals fail the session.
    result.assert_outcomes(passed=5)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "refold-contract: failing the session: * request(s) refused outside any test's "
            "address*",
            "  slack/list_channels: sent from outside any test's address",
        ]
    )
    executes = [c for c in refold.mock.calls if c.action_id == "list_channels"]
    assert len(executes) == 2  # the two live tests' reads
    assert FAKE_KEY not in result.stdout.str() + result.stderr.str()


DOTENV_CHECK = """
import os, subprocess, sys

def test_env_and_children_hold_placeholders():
    assert os.environ["REFOLD_API_KEY"] == "tk_refold_contract_placeholder"
    child = subprocess.run([sys.executable, "-c", "import os; print(os.environ['REFOLD_API_KEY'])"],
                           capture_output=True, text=True, timeout=30)
    assert child.stdout.strip() == "tk_refold_contract_placeholder"
"""


@pytest.mark.parametrize("where", ["root", "subdirectory"])
def test_a_conftest_that_puts_the_key_back_does_not_hand_it_to_tests_or_children(
    pytester: pytest.Pytester, refold: RunningServer, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # What load_dotenv(override=True) in a conftest does: the key is back in the environment.
    monkeypatch.delenv("REFOLD_API_KEY")
    pytester.makeini(INI)
    folder = pytester.path if where == "root" else pytester.mkpydir("sub")
    (folder / "conftest.py").write_text(
        "import os\nos.environ['REFOLD_API_KEY'] = open(os.environ['APP_SETTINGS']).read()\n"
    )
    if where == "root":  # imported before the session starts: live mode reads with it
        live_read = (
            "\nimport pytest\n\n@pytest.mark.refold_live\ndef test_live_read(refold_client):\n"
            "    assert refold_client.execute('slack', 'list_channels').ok\n"
        )
        (folder / "test_dotenv.py").write_text(DOTENV_CHECK + live_read)
        result = pytester.runpytest_subprocess("--refold-live", "-p", "no:cacheprovider")
        result.assert_outcomes(passed=2)
        assert [c.status for c in refold.mock.calls if c.action_id == "list_channels"] == [200]
    else:  # imported during collection, after the session started
        (folder / "test_dotenv.py").write_text(DOTENV_CHECK)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=1)
    assert FAKE_KEY not in result.stdout.str() + result.stderr.str()
    assert writes_with_the_key(refold) == []


WIDER_TEARDOWN = """
import os, urllib.error, urllib.request

import pytest

LIST = "/api/v2/integration-schema/slack/actions/list_channels/execute"


def post(url):
    request = urllib.request.Request(url + LIST, data=b"{}", method="POST", headers={
        "x-api-key": os.environ["REFOLD_API_KEY"], "content-type": "application/json",
        "linked_account_id": os.environ["REFOLD_LINKED_ACCOUNT_ID"]})
    try:
        return urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def reads_at_teardown():
    url = os.environ["REFOLD_BASE_URL"]
    yield
    post(url)


@pytest.mark.refold_live
def test_marked_last(reads_at_teardown):
    pass
"""


@pytest.mark.parametrize("marked", [True, False], ids=["marked", "unmarked"])
def test_a_wider_fixtures_teardown_is_charged_to_the_test_before_it(
    pytester: pytest.Pytester, refold: RunningServer, marked: bool
) -> None:
    source = WIDER_TEARDOWN if marked else WIDER_TEARDOWN.replace("@pytest.mark.refold_live\n", "")
    pytester.makeini(INI)
    pytester.makepyfile(test_teardown=source)
    result = pytester.runpytest_subprocess("--refold-live", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    executes = [c for c in refold.mock.calls if c.action_id == "list_channels"]
    if marked:  # the module fixture's teardown read goes live, as part of the marked test
        assert result.ret == 0
        assert len(executes) == 1
    else:  # refused, and with its test already reported, it fails the session
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        result.stdout.fnmatch_lines(
            [
                "  slack/list_channels: the test is not marked refold_live (not collected with "
                "its test: a wider fixture's teardown after it*"
            ]
        )
        assert executes == []


KEY_BACK_IN_A_FIXTURE = """
import os, subprocess, sys

import pytest


@pytest.fixture(scope="session")
def dotenv():
    # What load_dotenv(override=True) in a fixture does.
    os.environ["REFOLD_API_KEY"] = open(os.environ["APP_SETTINGS"]).read()


def test_child(dotenv):
    child = subprocess.run([sys.executable, "-c", "import os; print(os.environ['REFOLD_API_KEY'])"],
                           capture_output=True, text=True, timeout=30)
    assert child.stdout.strip() == "tk_refold_contract_placeholder"


def test_a_fake_key_of_the_tests_own_is_fine(monkeypatch):
    monkeypatch.setenv("REFOLD_API_KEY", "tk_the_apps_own_test_key")
    assert os.environ["REFOLD_API_KEY"] == "tk_the_apps_own_test_key"
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
@pytest.mark.parametrize("live", [["--refold-live"], []], ids=["live", "mock"])
def test_test_code_cannot_put_the_working_key_back_into_the_environment(
    pytester: pytest.Pytester, refold: RunningServer, live: list[str], workers: list[str]
) -> None:
    # An xdist worker holds no credential, yet recognises the controller's by its fingerprint.
    pytester.makeini(INI)
    pytester.makepyfile(test_back=KEY_BACK_IN_A_FIXTURE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *live, *workers)
    # The placeholder is set instead, with a warning: no test, and no child, sees the key.
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*CredentialKeptOut: refold-contract kept REFOLD_API_KEY out*"])
    output = result.stdout.str() + result.stderr.str()
    assert FAKE_KEY not in output
    assert writes_with_the_key(refold) == []


PRINTS_ITS_OWN_KEY = """
import logging, os, sys

KEY = open(os.environ["APP_SETTINGS"]).read()  # the app's own settings file


def test_prints_and_fails():
    import warnings
    warnings.warn(f"warned with {KEY}")
    print("key is", KEY)
    print("and on stderr", KEY, file=sys.stderr)
    logging.getLogger("app").warning("logged %s", KEY)
    assert KEY == "something else", f"bad key {KEY}"
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_key_test_code_prints_or_fails_with_is_scrubbed_from_the_report(
    pytester: pytest.Pytester, refold: RunningServer, workers: list[str]
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_prints=PRINTS_ITS_OWN_KEY)
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-rA", f"--junitxml={junit}", *workers
    )
    result.assert_outcomes(failed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "bad key <redacted>" in output
    assert "key is <redacted>" in output
    assert "warned with <redacted>" in output
    assert FAKE_KEY not in output
    assert FAKE_KEY not in junit.read_text()
