"""After the session and before the conftest files: the working key never goes back into the
environment, nothing reaches Refold after the last test, and a conftest file cannot re-point the
gateway. Against a stand-in Refold on loopback that counts the requests carrying the key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from refold_contract._guard.custody import PLACEHOLDERS
from refold_contract.errors import CredentialKeptOut
from refold_contract.mock.server import RunningServer, running_server
from refold_contract.plugin import refold_session

from .helpers import FAKE_KEY
from .test_read_only import ACCOUNT, INI, Counting

LIST = "/api/v2/integration-schema/slack/actions"


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[RunningServer]:
    """The stand-in Refold; the environment points the session at it with the working key."""
    settings = tmp_path / "app_settings.txt"
    settings.write_text(FAKE_KEY)  # app code that reads the key from its own settings file
    with running_server(Counting(api_keys={FAKE_KEY}, assert_all_called=False)) as server:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("REFOLD_BASE_URL", server.url)
        monkeypatch.setenv("STANDIN_URL", server.url)
        monkeypatch.setenv("APP_SETTINGS", str(settings))
        yield server


def with_the_key(server: RunningServer) -> list[str]:
    """Every request that reached the stand-in carrying the working key."""
    mock = server.mock
    assert isinstance(mock, Counting)
    return [f"{method} {path}" for method, path, key, _ in mock.arrivals if key]


SESSION_END = """
import threading

LAST_TEST_OVER = threading.Event()  # set when pytest_sessionfinish begins
SENT_AT_THE_END = threading.Event()
SESSION_OVER = threading.Event()  # set after pytest_unconfigure: the session is closed
"""

CONFTEST = """
import pytest

import session_end


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session):
    session_end.LAST_TEST_OVER.set()
    session_end.SENT_AT_THE_END.wait(60)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_unconfigure(config):
    try:
        return (yield)
    finally:
        session_end.SESSION_OVER.set()
"""

OUTLIVING = """
import atexit, concurrent.futures, json, os, threading, traceback, urllib.request

import httpx, requests

import session_end

EXECUTE = "/api/v2/integration-schema/hubspot/actions/create_contact/execute"
LIVE = os.environ["EXPECT_LIVE"] == "1"
BODY = json.dumps({"email": "a@example.com"}).encode()
EXECUTOR = concurrent.futures.ThreadPoolExecutor(1)


def headers(key):
    return {"x-api-key": key, "linked_account_id": os.environ["REFOLD_LINKED_ACCOUNT_ID"],
            "content-type": "application/json"}


def via_httpx(url, key):
    reply = httpx.post(url, content=BODY, headers=headers(key), timeout=10)
    return reply.status_code, reply.text


def via_requests(url, key):
    reply = requests.post(url, data=BODY, headers=headers(key), timeout=10)
    return reply.status_code, reply.text


def via_urllib(url, key):
    request = urllib.request.Request(url, data=BODY, headers=headers(key), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def send(who):
    keys = {"environment": os.environ.get("REFOLD_API_KEY", "")}
    if LIVE:  # mock mode leaves a loopback base URL reachable, during the session as after it
        with open(os.environ["APP_SETTINGS"]) as handle:
            keys["settings file"] = handle.read().strip()
    urls = {"REFOLD_BASE_URL": os.environ.get("REFOLD_BASE_URL", ""),
            "upstream": os.environ["STANDIN_URL"]}
    notes = []
    for url_name, url in urls.items():
        for key_name, key in keys.items():
            for via in (via_httpx, via_requests, via_urllib):
                note = {"who": who, "url": url_name, "key": key_name, "via": via.__name__}
                try:
                    note["status"], text = via(url + EXECUTE, key)
                    note["error_code"] = json.loads(text).get("error_code")
                except Exception as exc:
                    told = "".join(traceback.format_exception(exc))
                    note["blocked"] = "refold-contract blocked a connection" in told
                notes.append(note)
    notes.append({"who": who, "environment_key_is_placeholder":
                  os.environ.get("REFOLD_API_KEY") == "tk_refold_contract_placeholder"})
    with open(os.environ["OUTCOMES"], "a") as handle:
        handle.writelines(json.dumps(n) + "\\n" for n in notes)


def at_the_end():
    session_end.LAST_TEST_OVER.wait(60)
    try:
        send("after the last test")
    finally:
        session_end.SENT_AT_THE_END.set()


def after_the_session(who):
    session_end.SESSION_OVER.wait(60)
    send(who)


def test_starts_work_that_outlives_it():
    threading.Thread(target=at_the_end).start()
    threading.Thread(target=after_the_session, args=("thread",)).start()
    EXECUTOR.submit(after_the_session, "executor job")
    atexit.register(send, "atexit handler")
"""


def run_outliving(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[pytest.RunResult, list[dict[str, object]]]:
    outcomes = pytester.path / "outcomes.jsonl"
    monkeypatch.setenv("OUTCOMES", str(outcomes))
    monkeypatch.setenv("EXPECT_LIVE", "1" if "--refold-live" in args else "0")
    pytester.makeini(INI)
    pytester.makepyfile(session_end=SESSION_END, conftest=CONFTEST, test_outliving=OUTLIVING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    notes = [json.loads(line) for line in outcomes.read_text().splitlines()]
    return result, notes


WHO = {"after the last test", "thread", "executor job", "atexit handler"}
AFTER = WHO - {"after the last test"}


def test_a_thread_an_executor_job_and_an_atexit_handler_reach_nothing_after_a_live_session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, standin: RunningServer
) -> None:
    result, notes = run_outliving(pytester, monkeypatch, "--refold-live")
    result.assert_outcomes(passed=1)
    assert with_the_key(standin) == []
    assert {n["who"] for n in notes} == WHO  # each of them did send
    # The environment holds the placeholder after the session as during it.
    assert all(n["environment_key_is_placeholder"] for n in notes if len(n) == 2)
    sent = [n for n in notes if "via" in n]
    assert {n["via"] for n in sent} == {"via_httpx", "via_requests", "via_urllib"}
    # Straight to Refold, with the key from the settings file too: the egress guard stays.
    assert all(n.get("blocked") for n in sent if n["url"] == "upstream"), sent
    # REFOLD_BASE_URL is Refold's again once the session is over: refused in the same way.
    assert all(n.get("blocked") for n in sent if n["who"] in AFTER), sent
    # After the last test, before the report: the gateway refuses it as no test's, and the
    # report lists it and fails the session (no test is left to fail).
    at_the_end = [n for n in sent if n["who"] == "after the last test"]
    assert {(n.get("status"), n.get("error_code")) for n in at_the_end
            if n["url"] == "REFOLD_BASE_URL"} == {(403, "LIVE_TEST_REQUIRED")}  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "refold-contract: failing the session: * request(s) refused outside any test's "
            "address, LIVE_TEST_REQUIRED*",
            "  hubspot/create_contact: sent from outside any test's address",
        ]
    )
    output = result.stdout.str() + result.stderr.str()
    assert FAKE_KEY not in output
    assert "INTERNALERROR" not in output


def test_work_that_outlives_a_mock_session_finds_only_the_placeholder(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, standin: RunningServer
) -> None:
    result, notes = run_outliving(pytester, monkeypatch)
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert {n["who"] for n in notes} == WHO
    assert all(n["environment_key_is_placeholder"] for n in notes if len(n) == 2)
    # A loopback base URL stays reachable in mock mode; what reaches it has no working key.
    sent = [n for n in notes if "via" in n]
    assert {n.get("status") for n in sent} == {401}, sent
    assert standin.mock.calls
    assert with_the_key(standin) == []
    assert FAKE_KEY not in result.stdout.str() + result.stderr.str()


def test_a_session_run_inside_a_test_refuses_its_upstream_until_that_test_ends(
    pytester: pytest.Pytester, standin: RunningServer, pytestconfig: pytest.Config
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_read="""
import pytest

@pytest.mark.refold_live
def test_read(refold_client):
    assert refold_client.execute("slack", "list_channels").ok
"""
    )
    pytester.runpytest("--refold-live").assert_outcomes(passed=1)
    assert len(with_the_key(standin)) == 1  # the live read, through the gateway
    assert os.environ["REFOLD_API_KEY"] == PLACEHOLDERS["REFOLD_API_KEY"]
    with pytest.raises(httpx.ConnectError, match="refold-contract blocked a connection"):
        httpx.get(standin.url + LIST, headers={"x-api-key": FAKE_KEY})
    # This test is over for the plugin: its stand-in would be closed, and the port free for the
    # next test's server. The inner session's lock is gone: a test's own key can be set.
    refold_session(pytestconfig).end_test()
    assert httpx.get(standin.url + LIST, headers={"x-api-key": "tk_other"}).status_code == 401
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", CredentialKeptOut)
        os.environ["REFOLD_API_KEY"] = FAKE_KEY  # the monkeypatch puts it back


def test_a_second_live_session_in_one_process_says_the_key_is_gone(
    pytester: pytest.Pytester, standin: RunningServer
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile("def test_nothing(): pass")
    pytester.runpytest("--refold-live").assert_outcomes(passed=1)
    again = pytester.runpytest("--refold-live")
    assert again.ret == pytest.ExitCode.USAGE_ERROR
    again.stderr.fnmatch_lines(
        ["ERROR: refold-contract: live mode needs *REFOLD_API_KEY holds refold-contract's "
         "placeholder: a pytest session ran in this process before*"]
    )  # fmt: skip


REPOINTING_CONFTEST = """
import os, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Listener(BaseHTTPRequestHandler):
    def do_GET(self):
        self.note()

    def do_POST(self):
        self.note()

    def note(self):
        with open(os.environ["LISTENER_LOG"], "a") as log:
            log.write(f"{self.command} {self.path} {dict(self.headers)}\\n")
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


LISTENER = ThreadingHTTPServer(("127.0.0.1", 0), Listener)
threading.Thread(target=LISTENER.serve_forever, daemon=True).start()
os.environ["REFOLD_BASE_URL"] = f"http://127.0.0.1:{LISTENER.server_port}"
"""

READS = """
import os

import httpx, pytest

@pytest.mark.refold_live
def test_reads(refold_client):
    assert refold_client.execute("slack", "list_channels").ok
    reply = httpx.get(os.environ["REFOLD_BASE_URL"] + "/api/v2/integration-schema/slack/actions",
                      headers={"x-api-key": os.environ["REFOLD_API_KEY"],
                               "linked_account_id": os.environ["REFOLD_LINKED_ACCOUNT_ID"]})
    assert reply.status_code == 200, reply.text
"""


def test_a_conftest_that_repoints_the_base_url_gets_a_warning_and_none_of_the_reads(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, standin: RunningServer
) -> None:
    log = pytester.path / "listener.log"
    monkeypatch.setenv("LISTENER_LOG", str(log))
    pytester.makeini(INI)
    pytester.makeconftest(REPOINTING_CONFTEST)
    pytester.makepyfile(test_reads=READS)
    result = pytester.runpytest_subprocess("--refold-live", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, warnings=1)
    assert not log.exists()  # the listener received nothing
    assert [c.action_id for c in standin.mock.calls] == ["list_channels", None]
    assert len(with_the_key(standin)) == 2  # the reads went to the stand-in, with the key
    result.stdout.fnmatch_lines(
        ["*BaseURLChanged: refold-contract fixed the Refold base URL before any conftest file "
         f"ran ({standin.url}); REFOLD_BASE_URL was changed since (to http://127.0.0.1:*), by a "
         "conftest file or a plugin, and that changes nothing*"]
    )  # fmt: skip
    assert FAKE_KEY not in result.stdout.str() + result.stderr.str()


def test_a_repointed_base_url_under_w_error_stops_the_session_with_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, standin: RunningServer
) -> None:
    monkeypatch.setenv("LISTENER_LOG", str(pytester.path / "listener.log"))
    pytester.makeini(INI)
    pytester.makeconftest(REPOINTING_CONFTEST)
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "error::refold_contract.errors.BaseURLChanged"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: refold-contract fixed the Refold base URL*"])
    assert "Traceback" not in result.stderr.str()
