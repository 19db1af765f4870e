"""The shared gateway: sessions opened with a client token, each with its own ledger and control
key, one pace for all, idle sessions closed; pytest sessions that hold no credential; and, as
root, the gateway under one Unix user and pytest under another."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from refold_contract import Catalogue
from refold_contract._core import endpoint as ep
from refold_contract._guard.custody import Credentials
from refold_contract.access import access_of
from refold_contract.live.gateway import GatewayConfig, SharedGateway, SharedSession, serve
from refold_contract.live.gateway.control import CONTROL_HEADER
from refold_contract.live.gateway.shared import CLIENT_TOKEN_HEADER, SESSIONS_PATH, SendBack
from refold_contract.mock import RefoldMock
from refold_contract.mock.server import RunningServer, running_server

from .helpers import FAKE_KEY

ACCOUNT = "acct_shared_1"
TOKEN = "client-token-0123456789abcdef"
P = "/api/v2/integration-schema"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def shared() -> Iterator[tuple[SharedGateway, RefoldMock, Clock]]:
    upstream = RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)
    clock = Clock()
    gateway = SharedGateway(
        GatewayConfig(upstream="http://refold.test", rate=1000, burst=1000),
        Credentials(api_key=FAKE_KEY, linked_account_id=ACCOUNT),
        client_token=TOKEN,
        idle_timeout=60,
        transport=httpx.MockTransport(upstream.handle),
        clock=clock,
    )
    yield gateway, upstream, clock
    gateway.close()


def opened(gw: SharedGateway) -> tuple[str, str]:
    reply = gw.handle("POST", SESSIONS_PATH, {CLIENT_TOKEN_HEADER: TOKEN}, b"")
    assert reply.status == 200
    body = json.loads(reply.body)
    return body["session"], body["control_key"]


def test_without_the_client_token_or_a_live_session_everything_is_401(
    shared: tuple[SharedGateway, RefoldMock, Clock],
) -> None:
    gw, upstream, _ = shared
    for method, target, headers in [
        ("POST", SESSIONS_PATH, {}),
        ("POST", SESSIONS_PATH, {CLIENT_TOKEN_HEADER: TOKEN[:-1]}),
        ("GET", f"{P}/slack/actions", {}),
        ("POST", f"/t/abc{P}/slack/actions/list_channels/execute", {}),
        ("GET", f"/s/{'x' * 32}{P}/slack/actions", {}),
        ("GET", "/__refold/gateway/report", {}),
    ]:
        reply = gw.handle(method, target, headers, b"{}")
        assert reply.status == 401, (method, target)
        assert json.loads(reply.body)["error_code"] == "UNAUTHORIZED"
    assert upstream.calls == []


def test_sessions_keep_their_own_findings_and_answer_only_their_own_control_key(
    shared: tuple[SharedGateway, RefoldMock, Clock],
) -> None:
    gw, upstream, _ = shared
    (one, key_one), (two, key_two) = opened(gw), opened(gw)
    assert one != two
    read = gw.handle("POST", f"/s/{one}/t/aaa{P}/slack/actions/list_channels/execute", {}, b"{}")
    assert read.status == 200
    write = gw.handle(
        "POST", f"/s/{two}/t/bbb{P}/hubspot/actions/create_contact/execute", {}, b"{}"
    )
    assert write.status == 403
    collect = "/__refold/gateway/collect/"
    # Session two's key opens nothing of session one, and no key nothing at all.
    for session, token, key in [(one, "aaa", key_two), (one, "aaa", ""), (two, "bbb", key_one)]:
        reply = gw.handle("POST", f"/s/{session}{collect}{token}", {CONTROL_HEADER: key}, b"")
        assert reply.status == 403
    mine = json.loads(
        gw.handle("POST", f"/s/{one}{collect}aaa", {CONTROL_HEADER: key_one}, b"").body
    )
    theirs = json.loads(
        gw.handle("POST", f"/s/{two}{collect}bbb", {CONTROL_HEADER: key_two}, b"").body
    )
    assert (mine["reads"], mine["refused"]) == (1, [])
    assert theirs["refused"] == ["hubspot/create_contact: a write (its name says 'create')"]
    # A session's token does not reach into another's ledger either.
    crossed = gw.handle("POST", f"/s/{one}{collect}bbb", {CONTROL_HEADER: key_one}, b"")
    assert json.loads(crossed.body)["refused"] == []
    assert [c.action_id for c in upstream.calls] == ["list_channels"]
    assert upstream.calls[0].linked_account_id == ACCOUNT


def test_every_session_shares_one_pace(shared: tuple[SharedGateway, RefoldMock, Clock]) -> None:
    gw, _, _ = shared
    (one, _), (two, _) = opened(gw), opened(gw)
    sessions = gw._sessions
    assert sessions[one].gateway._bucket is gw.bucket is sessions[two].gateway._bucket


def test_an_idle_session_is_closed_and_its_address_then_answers_401(
    shared: tuple[SharedGateway, RefoldMock, Clock],
) -> None:
    gw, _, clock = shared
    (idle, _), (busy, _) = opened(gw), opened(gw)
    clock.now += 45
    assert gw.handle("GET", f"/s/{busy}/t/x{P}/slack/actions", {}, b"").status == 200
    clock.now += 30
    assert gw.close_idle() == 1
    assert gw.handle("GET", f"/s/{idle}/t/x{P}/slack/actions", {}, b"").status == 401
    assert gw.handle("GET", f"/s/{busy}/t/x{P}/slack/actions", {}, b"").status == 200


def test_a_session_closes_with_its_own_key_and_gives_its_report(
    shared: tuple[SharedGateway, RefoldMock, Clock],
) -> None:
    gw, _, _ = shared
    session, key = opened(gw)
    close = f"/s/{session}/__refold/gateway/close"
    assert gw.handle("POST", close, {CONTROL_HEADER: "wrong"}, b"").status == 403
    reply = gw.handle("POST", close, {CONTROL_HEADER: key}, b"")
    assert reply.status == 200
    assert "refused_count" in json.loads(reply.body)
    assert gw.handle("GET", f"/s/{session}/t/x{P}/slack/actions", {}, b"").status == 401


def test_the_session_client_names_the_gateway_never_the_token(
    shared: tuple[SharedGateway, RefoldMock, Clock],
) -> None:
    from refold_contract.errors import ConfigurationError

    gw, _, _ = shared
    server, url = serve(gw)
    try:
        joined = SharedSession.open(url, TOKEN)
        assert joined.url.startswith(url + "/s/")
        assert joined.report()["refused_count"] == 0
        joined.stop()
        with pytest.raises(ConfigurationError) as refused:
            SharedSession.open(url, "not-the-token-at-all")
        assert "refused the client token" in str(refused.value)
        assert "not-the-token" not in str(refused.value)
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ConfigurationError, match="cannot reach the shared read-only gateway"):
        SharedSession.open(url, TOKEN, timeout=2)


# ====================================================================== the command and pytest


class Counting(RefoldMock):
    """The stand-in Refold: notes whether each request carried the key."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arrivals: list[tuple[str, str, bool]] = []

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> Any:
        values = {k.decode().lower(): v.decode() for k, v in headers}
        self.arrivals.append((method, path, values.get("x-api-key") == FAKE_KEY))
        return super().answer(method, path, headers, body)


def writes_with_the_key(mock: Counting) -> list[str]:
    found = []
    for method, path, with_key in mock.arrivals:
        placed = ep.match(method, path)
        read = placed is not None and (
            placed[0] != "execute"
            or access_of(Catalogue.builtin(), placed[1], placed[2] or "") == "read"
        )
        if with_key and not read:
            found.append(f"{method} {path}")
    return found


def start_shared(
    python: str, standin: str, folder: Path, *, user: str | None = None, cwd: Path | None = None
) -> tuple[subprocess.Popen[str], str, str]:
    """``refold-contract gateway --shared`` with the key in an env file only its user reads."""
    env_file = folder / "refold.env"
    env_file.write_text(f"REFOLD_API_KEY={FAKE_KEY}\nREFOLD_LINKED_ACCOUNT_ID={ACCOUNT}\n")
    env_file.chmod(0o600)
    token_file = folder / "client-token"
    command = [python, "-m", "refold_contract.cli", "gateway", "--shared", "--env-file",
               str(env_file), "--base-url", standin, "--client-token-file", str(token_file)]  # fmt: skip
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    if user is not None:
        shutil.chown(env_file, user)
        shutil.chown(folder, user)
        command = ["runuser", "-u", user, "--", *command]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        process.kill()
        _, err = process.communicate(timeout=30)  # no process or pipe left behind
        pytest.fail(f"the shared gateway did not start:\n{err[-3000:]}")
    return process, url, token_file.read_text().strip()


LIVE_TESTS = """
import os, subprocess, sys

import httpx, pytest, requests


@pytest.mark.refold_live
def test_reads(refold_client):
    assert refold_client.execute("slack", "list_channels", {}).ok
    reply = requests.post(os.environ["REFOLD_BASE_URL"]
                          + "/api/v2/integration-schema/hubspot/actions/get_contact/execute",
                          json={"limit": "1"}, timeout=10)
    assert reply.status_code == 200, reply.text


@pytest.mark.refold_live
def test_a_swallowed_write():
    try:
        httpx.post(os.environ["REFOLD_BASE_URL"]
                   + "/api/v2/integration-schema/hubspot/actions/create_contact/execute",
                   json={"email": "a@example.com"}).raise_for_status()
    except httpx.HTTPStatusError:
        pass


@pytest.mark.refold_live
def test_no_credential_here():
    assert not os.environ.get("REFOLD_API_KEY") or "placeholder" in os.environ["REFOLD_API_KEY"]
    done = subprocess.run([sys.executable, "-c", "import os; print(sorted(os.environ))"],
                          capture_output=True, text=True)
    assert "tk_" not in done.stdout
"""


@pytest.fixture
def standin() -> Iterator[RunningServer]:
    with running_server(Counting(api_keys={FAKE_KEY}, assert_all_called=False)) as server:
        yield server


def key_free_environment(monkeypatch: pytest.MonkeyPatch, url: str, token: str) -> None:
    for name in ("REFOLD_API_KEY", "REFOLD_SESSION_TOKEN", "REFOLD_LINKED_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REFOLD_GATEWAY_URL", url)
    monkeypatch.setenv("REFOLD_GATEWAY_TOKEN", token)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_pytest_sessions_with_no_credential_go_live_through_the_shared_gateway(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    standin: RunningServer,
    tmp_path: Path,
    workers: list[str],
) -> None:
    process, url, token = start_shared(sys.executable, standin.url, tmp_path)
    try:
        key_free_environment(monkeypatch, url, token)
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
        pytester.makepyfile(test_live=LIVE_TESTS)
        result = pytester.runpytest_subprocess("--refold-live", "-p", "no:randomly", *workers)
        again = pytester.runpytest_subprocess("--refold-live", "-p", "no:randomly", "-k", "reads")
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    output = result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=3, errors=1)  # the swallowed write fails at its teardown
    result.stdout.fnmatch_lines(["*the read-only gateway refused 1 request(s) from this test*"])
    again.assert_outcomes(passed=1)  # a second session of the same gateway
    mock = standin.mock
    assert isinstance(mock, Counting)
    assert writes_with_the_key(mock) == []
    assert sum(with_key for _, _, with_key in mock.arrivals) >= 4  # the reads, with the key
    assert FAKE_KEY not in output + err + again.stdout.str()
    assert token not in output
    assert not (tmp_path / "client-token").exists()  # removed when the gateway stopped


def test_a_pytest_session_without_the_client_token_stops_with_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, standin: RunningServer,
    tmp_path: Path,
) -> None:  # fmt: skip
    process, url, _ = start_shared(sys.executable, standin.url, tmp_path)
    try:
        key_free_environment(monkeypatch, url, "a-token-that-is-wrong-0123")
        pytester.makepyfile("def test_x(): pass")
        result = pytester.runpytest_subprocess("--refold-live")
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "refused the client token" in result.stderr.str()
    assert "a-token-that-is-wrong" not in result.stdout.str() + result.stderr.str()


# ====================================================================== another Unix user


def _system_python_venv(root: Path) -> str:
    """A virtual environment made from the system interpreter, readable by every user, that
    borrows this environment's packages (the machine's default Python lives under /root)."""
    system = Path("/usr/bin/python3")
    if not system.exists():
        pytest.skip("no /usr/bin/python3 to make a virtual environment other users can run")
    version = subprocess.run([str(system), "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    if version != str(sys.version_info[:2]):
        pytest.skip(f"/usr/bin/python3 is {version}, this suite runs on {sys.version_info[:2]}")
    borrowed = [Path(sysconfig.get_paths()[k]) for k in ("purelib", "platlib")]
    project = Path(__file__).resolve().parents[1]
    for folder in (*borrowed, project):
        for part in (folder, *folder.parents):
            if part.exists() and not part.stat().st_mode & 0o005:
                pytest.skip(
                    f"{part} is not readable by other users, so they cannot use this "
                    "environment's packages (.ci/run makes its virtual environment's folder "
                    "readable for these tests)"
                )
    venv = root / "venv"
    subprocess.run([str(system), "-m", "venv", "--without-pip", str(venv)], check=True)
    site = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "borrowed.pth").write_text(
        f"{project}\n{sysconfig.get_paths()['purelib']}\n{sysconfig.get_paths()['platlib']}\n"
    )
    return str(venv / "bin" / "python")


def _user(name: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
    return name


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("runuser") is None,
    reason="runs the gateway and pytest as two other Unix users: needs root, useradd and runuser",
)
def test_under_two_other_users_the_test_user_reaches_the_gateway_and_never_the_key(
    standin: RunningServer,
) -> None:
    import tempfile

    # pytest's own temporary folders are root's alone (0700): other users cannot enter them.
    root = Path(tempfile.mkdtemp(prefix="refold-users-", dir="/tmp"))
    root.chmod(0o755)
    try:
        _run_as_two_users(standin, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_as_two_users(
    standin: RunningServer, root: Path, test_module: str, extra_env: dict[str, str]
) -> tuple[str, str, Path]:
    """The gateway under one Unix user, pytest over ``test_module`` under another, in a
    project below ``root``; the run's output, the gateway's stderr and its home."""
    python = _system_python_venv(root)
    gateway_user, test_user = _user("refoldgw"), _user("refoldtest")
    gateway_home = root / "gateway"
    gateway_home.mkdir(mode=0o700)
    project = root / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (project / "test_run.py").write_text(test_module)
    for path in (project, *project.iterdir()):
        shutil.chown(path, test_user)
    process, url, token = start_shared(python, standin.url, gateway_home, user=gateway_user,
                                       cwd=gateway_home)  # fmt: skip
    try:
        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "REFOLD_GATEWAY_URL": url,
               "REFOLD_GATEWAY_TOKEN": token, "GATEWAY_HOME": str(gateway_home),
               "HOME": str(project), **extra_env}  # fmt: skip
        done = subprocess.run(
            ["runuser", "-u", test_user, "--", python, "-m", "pytest", "--refold-live",
             "-p", "no:cacheprovider", "-p", "no:randomly", "-rA"],
            cwd=project, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    for path in project.rglob("*"):  # what the run wrote (the test module may name the key)
        if path.is_file() and not path.name.startswith("test_run"):
            assert FAKE_KEY.encode() not in path.read_bytes(), path
    return done.stdout + done.stderr, err, gateway_home


def _run_as_two_users(standin: RunningServer, root: Path) -> None:
    module = (
        LIVE_TESTS
        + """

@pytest.mark.refold_live
def test_the_key_is_nowhere_this_user_can_read():
    import glob
    found = []
    for path in glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline") + glob.glob("/proc/[0-9]*/mem"):
        try:
            with open(path, "rb") as f:
                data = f.read(1 << 20)
        except OSError:
            continue
        if KEY in data:
            found.append(path)
    for path in glob.glob(os.environ["GATEWAY_HOME"] + "/*"):
        try:
            if KEY in open(path, "rb").read():
                found.append(path)
        except OSError:
            pass
    assert found == []
"""
        + f"\nKEY = {FAKE_KEY.encode()!r}\n"
    )
    output, err, gateway_home = run_as_two_users(standin, root, module, {})
    assert "4 passed, 1 error" in output, output[-4000:]
    assert "the read-only gateway refused 1 request(s) from this test" in output
    mock = standin.mock
    assert isinstance(mock, Counting)
    assert writes_with_the_key(mock) == []
    assert sum(with_key for _, _, with_key in mock.arrivals) == 2  # the two reads, with the key
    assert FAKE_KEY not in output + err
    assert oct((gateway_home / "refold.env").stat().st_mode)[-3:] == "600"


def test_drift_found_through_the_shared_gateway_is_the_sessions_and_can_fail_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mock = Counting(api_keys={FAKE_KEY}, assert_all_called=False)
    mock.stub("slack", "list_channels", data={"ok": True, "channels": "not a list any more"})
    with running_server(mock) as changed:
        process, url, token = start_shared(sys.executable, changed.url, tmp_path)
        try:
            key_free_environment(monkeypatch, url, token)
            pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
            pytester.makepyfile(
                test_drift="""
import pytest

@pytest.mark.refold_live
def test_list(refold_client):
    assert refold_client.execute("slack", "list_channels", {}).ok
"""
            )
            reported = pytester.runpytest_subprocess("--refold-live")
            failed = pytester.runpytest_subprocess("--refold-live", "--refold-drift=fail")
        finally:
            process.terminate()
            process.communicate(timeout=30)
    reported.assert_outcomes(passed=1)
    assert reported.ret == 0
    reported.stdout.fnmatch_lines(["*slack/list_channels*"])
    assert "no drift from the catalogue" not in reported.stdout.str()
    assert failed.ret != 0
    assert FAKE_KEY not in reported.stdout.str() + failed.stdout.str()


def test_recording_through_the_shared_gateway_is_written_by_the_test_session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, standin: RunningServer,
    tmp_path: Path,
) -> None:  # fmt: skip
    """The gateway writes no file: it sends the scrubbed replies back, and the plugin writes
    them into the user's last catalogue folder, as a local live run does."""
    gateway_home = tmp_path / "gateway"
    gateway_home.mkdir()
    process, url, token = start_shared(sys.executable, standin.url, gateway_home)
    try:
        key_free_environment(monkeypatch, url, token)
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
        (pytester.path / "mine").mkdir()
        pytester.makepyfile(
            test_rec=f"""
import pytest

@pytest.mark.refold_live
def test_read(refold_client):
    assert refold_client.execute("hubspot", "get_contact",
                                 {{"limit": "1", "properties": "{ACCOUNT}"}}).ok
"""
        )
        result = pytester.runpytest_subprocess(
            "--refold-live", "--refold-record", "--refold-fixtures", "mine"
        )
    finally:
        process.terminate()
        process.communicate(timeout=30)
    result.assert_outcomes(passed=1)
    written = pytester.path / "mine" / "hubspot" / "get_contact.json"
    document = json.loads(written.read_text())
    recorded = [e for e in document["examples"] if e.get("source") == "recorded"]
    assert [e["params"] for e in recorded] == [{"limit": "1", "properties": "<linked_account_id>"}]
    assert FAKE_KEY not in written.read_text()
    assert ACCOUNT not in written.read_text()
    assert sorted(p.name for p in gateway_home.iterdir()) == ["refold.env"]  # nothing written
    result.stdout.fnmatch_lines(["*refold-contract recorded*", "*get_contact.json*"])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--shared"], "the shared gateway needs --client-token-file PATH"),
        (["--shared", "--client-token-file", "t", "--record"],
         "--record and --drift-report are per session with --shared"),
        (["--client-token-file", "t"], "--client-token-file goes with --shared"),
    ],
)  # fmt: skip
def test_the_shared_command_refuses_what_it_cannot_do_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    says: str,
) -> None:
    from refold_contract.cli import main

    monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
    monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
    assert main(["gateway", "--base-url", "http://127.0.0.1:9", *args]) == 2
    captured = capsys.readouterr()
    assert says in captured.err
    assert FAKE_KEY not in captured.out + captured.err


def test_the_session_client_refuses_what_is_not_a_shared_gateway() -> None:
    from refold_contract.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="must be http://HOST:PORT"):
        SharedSession.open("https://gateway.example", TOKEN)
    with (
        running_server(RefoldMock(assert_all_called=False)) as not_a_gateway,
        pytest.raises(ConfigurationError, match="without a session"),
    ):
        SharedSession.open(not_a_gateway.url, TOKEN)


def test_a_session_asks_for_what_it_records_in_a_json_object(
    shared: tuple[SharedGateway, RefoldMock, Clock],
) -> None:
    gw, _, _ = shared
    headers = {CLIENT_TOKEN_HEADER: TOKEN}
    for body, status in [(b"[]", 400), (b"{", 400), (b'{"record_redact": "x"}', 400),
                         (b'{"record_redact": ["("]}', 400),
                         (b'{"record": true, "record_redact": ["secret_.*"]}', 200)]:  # fmt: skip
        assert gw.handle("POST", SESSIONS_PATH, headers, body).status == status, body
    assert gw.handle("GET", SESSIONS_PATH, headers, b"").status == 405
    (session,) = gw._sessions.values()
    assert isinstance(session.gateway.recorder, SendBack)


def test_an_in_process_session_without_the_client_token_stops_with_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFOLD_GATEWAY_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("REFOLD_GATEWAY_TOKEN", raising=False)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--refold-live")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "needs its client token in REFOLD_GATEWAY_TOKEN" in result.stderr.str()
    monkeypatch.setenv("REFOLD_GATEWAY_TOKEN", TOKEN)
    missing = pytester.runpytest("--refold-live", "--refold-drift=contract:c.json")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    assert "c.json" in missing.stderr.str()  # read by the session, named, one line
    unreachable = pytester.runpytest("--refold-live")
    assert "cannot reach the shared read-only gateway at http://127.0.0.1:9" in (
        unreachable.stderr.str()
    )
    assert TOKEN not in unreachable.stdout.str() + unreachable.stderr.str()


def test_drift_through_the_shared_gateway_can_be_only_what_breaks_the_consumer_contract(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from refold_contract.consumer import ReadRecorder

    recorder = ReadRecorder()
    recorder.record_call("hubspot", "get_contact", {"limit": "10"})
    reply = {"results": [{"id": "1", "properties": {"email": "ada@example.com"}}], "paging": {}}
    body = recorder.track_reply("hubspot", "get_contact", {"node_status": "Success", "data": reply})
    _ = body["data"]["results"][0]["properties"]["email"]  # the code reads the email
    contract = pytester.path / "contract.json"
    recorder.contract().save(contract)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_live="""
import pytest

@pytest.mark.refold_live
def test_read(refold_client):
    refold_client.execute("hubspot", "get_contact", {"limit": "10"})
"""
    )
    outcomes = {}
    for name, data in [
        ("unread field added", {**reply, "brand_new": 1}),
        ("read field gone", {"results": [{"id": "1", "properties": {}}], "paging": {}}),
    ]:
        mock = Counting(api_keys={FAKE_KEY}, assert_all_called=False)
        mock.stub("hubspot", "get_contact", data=data)
        home = tmp_path / name.replace(" ", "_")
        home.mkdir()
        with running_server(mock) as changed:
            process, url, token = start_shared(sys.executable, changed.url, home)
            try:
                key_free_environment(monkeypatch, url, token)
                outcomes[name] = pytester.runpytest_subprocess(
                    "--refold-live", f"--refold-drift=contract:{contract}"
                )
            finally:
                process.terminate()
                process.communicate(timeout=30)
    assert outcomes["unread field added"].ret == 0
    assert "brand_new" not in outcomes["unread field added"].stdout.str()
    loud = outcomes["read field gone"]
    assert loud.ret == pytest.ExitCode.TESTS_FAILED
    loud.stdout.fnmatch_lines(["*drift that breaks the consumer contract*", "*properties.email*"])
