"""Credential custody attacked: every place a test process or its child could read the working
key back from once custody has taken it, and every local a traceback could show."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import httpx
import pytest

from refold_contract._guard.custody import PLACEHOLDERS, Credentials
from refold_contract._guard.dumpable import is_dumpable
from refold_contract.errors import ConfigurationError
from refold_contract.live.gateway import GatewayConfig, GatewayProcess
from refold_contract.live.gateway import process as gateway_process

from .helpers import FAKE_KEY, FAKE_TOKEN

READ_BACK = """
import ctypes, os, posix, subprocess, sys
from refold_contract._guard.custody import Custody
# Not dumpable while it holds the key: only root reads its environment (the others are refused).
PARENTS_ENVIRON = '''
import os
try:
    print(open(f"/proc/{os.getppid()}/environ", "rb").read())
except PermissionError:
    print("refused")
'''
Custody.take()
libc = ctypes.CDLL(None)
libc.getenv.restype = ctypes.c_char_p
found = [
    os.environ["REFOLD_API_KEY"].encode(), os.environ["REFOLD_SESSION_TOKEN"].encode(),
    os.environb[b"REFOLD_API_KEY"], posix.environ[b"REFOLD_SESSION_TOKEN"],
    libc.getenv(b"REFOLD_API_KEY"), libc.getenv(b"REFOLD_SESSION_TOKEN"),
    open("/proc/self/environ", "rb").read(),
    subprocess.run([sys.executable, "-c", "import os; print(os.environ['REFOLD_API_KEY'])"],
                   capture_output=True, check=True).stdout,
    subprocess.run([sys.executable, "-c", PARENTS_ENVIRON], capture_output=True,
                   check=True).stdout,
    subprocess.run(["/bin/sh", "-c", "echo $REFOLD_API_KEY $REFOLD_SESSION_TOKEN"],
                   capture_output=True, check=True).stdout,
]
print(repr(found))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and libc: Linux")
def test_no_way_of_reading_the_environment_finds_the_working_credentials() -> None:
    done = subprocess.run(
        [sys.executable, "-c", READ_BACK],
        env={
            "REFOLD_API_KEY": FAKE_KEY,
            "REFOLD_SESSION_TOKEN": FAKE_TOKEN,
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert FAKE_KEY not in done.stdout
    assert FAKE_TOKEN not in done.stdout
    assert PLACEHOLDERS["REFOLD_API_KEY"] in done.stdout
    assert done.stdout.count(PLACEHOLDERS["REFOLD_SESSION_TOKEN"]) >= 3


def test_a_gateway_that_fails_to_start_leaves_no_credential_in_the_tracebacks_locals(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started: list[subprocess.Popen[bytes]] = []
    popen = subprocess.Popen

    def recording(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(popen(*args, **kwargs))
        return started[-1]

    def broken(stream: object, timeout: float) -> bytes:
        raise OSError("the pipe broke")

    monkeypatch.setattr(gateway_process.subprocess, "Popen", recording)  # type: ignore[attr-defined]
    monkeypatch.setattr(gateway_process, "_read_line", broken)
    credentials = Credentials(api_key=FAKE_KEY, linked_account_id="acct_1")
    try:
        with pytest.raises(OSError, match="the pipe broke") as info:
            GatewayProcess.start(GatewayConfig(fixtures=(str(tmp_path),)), credentials)
    finally:
        for process in started:
            process.kill()
            process.communicate()
    # What `pytest --showlocals`, or an error reporter that keeps locals, would show.
    shown = "".join(
        traceback.TracebackException.from_exception(info.value, capture_locals=True).format()
    )
    assert "credentials = Credentials(api_key=<set>" in shown
    assert FAKE_KEY not in shown


def test_a_gateway_that_cannot_start_names_no_credential() -> None:
    with pytest.raises(ConfigurationError) as info:
        GatewayProcess.start(
            GatewayConfig(upstream="not a url at all", fixtures=("/nonexistent/folder",)),
            Credentials(api_key=FAKE_KEY, session_token=FAKE_TOKEN, linked_account_id="acct_1"),
        )
    shown = str(info.value) + repr(info.value)
    assert "gateway did not start" in shown
    assert FAKE_KEY not in shown
    assert FAKE_TOKEN not in shown


def test_a_locked_custody_keeps_a_held_key_out_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    from refold_contract._guard.custody import CredentialKeptOut, Custody

    monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
    custody = Custody.take()
    custody.lock()
    try:
        with pytest.warns(CredentialKeptOut) as warned:
            os.environ["REFOLD_API_KEY"] = FAKE_KEY
        assert os.environ["REFOLD_API_KEY"] == PLACEHOLDERS["REFOLD_API_KEY"]
        assert FAKE_KEY not in str(warned[0].message)
        with pytest.raises(ConfigurationError) as refused:
            os.putenv("REFOLD_API_KEY", FAKE_KEY)
        assert FAKE_KEY not in str(refused.value)
        os.environ["REFOLD_API_KEY"] = "tk_a_tests_own_fake_key"  # not held: it passes
        assert os.environ["REFOLD_API_KEY"] == "tk_a_tests_own_fake_key"
        os.environ["REFOLD_API_KEY"] = PLACEHOLDERS["REFOLD_API_KEY"]
    finally:
        custody.restore()  # unlocks, then puts the key back where the placeholder stands
    assert os.environ["REFOLD_API_KEY"] == FAKE_KEY
    os.environ["REFOLD_API_KEY"] = FAKE_KEY  # unlocked: no warning, no error


# ---------------------------------------------------------------------- dumpability

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc: Linux")

HOLD_AND_LET_GO = """
import os
from refold_contract._guard.custody import Custody
from refold_contract._guard.dumpable import is_dumpable
seen = [is_dumpable()]
nothing = Custody.take()                   # no key in the environment: nothing changes
seen.append(is_dumpable())
os.environ["REFOLD_API_KEY"] = KEY
custody = Custody.take()
seen.append(is_dumpable())
nothing.restore()                          # a custody holding nothing lets go of nothing
seen.append(is_dumpable())
custody.restore()
seen.append(is_dumpable())
print(seen)
"""


@LINUX
def test_a_process_holding_the_key_is_not_dumpable_until_custody_lets_go() -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"KEY = {FAKE_KEY!r}\n" + HOLD_AND_LET_GO],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[True, True, False, False, True]"


def dump_owner(pid: int) -> tuple[int, int]:
    """Who owns ``/proc/<pid>/mem``: the process's own user and group while it is dumpable,
    root once it is not."""
    found = os.stat(f"/proc/{pid}/mem")
    return found.st_uid, found.st_gid


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, Any]]]:
    """The gateway children started in the test, with how they were started. Run as root, each
    runs in group ``nogroup``, so its dumpability shows: the dump owner is then group 0."""
    calls: list[tuple[list[str], dict[str, Any]]] = []
    popen = subprocess.Popen

    def recording(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        calls.append((argv, dict(kwargs)))
        if os.geteuid() == 0:
            kwargs["group"] = 65534
        return popen(argv, **kwargs)

    monkeypatch.setattr(gateway_process.subprocess, "Popen", recording)  # type: ignore[attr-defined]
    return calls


@LINUX
def test_the_gateway_child_is_not_dumpable(
    started: list[tuple[list[str], dict[str, Any]]],
) -> None:
    from refold_contract.mock import RefoldMock
    from refold_contract.mock.server import running_server

    before = is_dumpable()  # False if an earlier test in this worker left a custody held
    # What a dumpable child looks like, so the test can tell the difference.
    group = {"group": 65534} if os.geteuid() == 0 else {}
    with subprocess.Popen(["sleep", "30"], **group) as plain:  # type: ignore[call-overload]
        try:
            assert dump_owner(plain.pid) == (os.geteuid(), 65534 if group else os.getegid())
        finally:
            plain.kill()
    with (
        running_server(RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)) as refold,
        GatewayProcess.start(
            GatewayConfig(upstream=refold.url),
            Credentials(api_key=FAKE_KEY, linked_account_id="acct_1"),
        ) as gateway,
    ):
        assert dump_owner(gateway.process.pid) == (0, 0)
        if os.geteuid() != 0:  # another process of the user (this one) cannot read it
            with pytest.raises(PermissionError):
                Path(f"/proc/{gateway.process.pid}/environ").read_bytes()
    assert is_dumpable() is before  # starting a gateway child changes nothing here


@LINUX
def test_the_gateway_child_is_isolated_from_the_project_that_starts_it(
    started: list[tuple[list[str], dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from refold_contract.mock import RefoldMock
    from refold_contract.mock.server import running_server

    for name, value in {"REFOLD_BASE_URL": "http://127.0.0.1:9", "REFOLD_LIVE": "1",
                        "REFOLD_LINKED_ACCOUNT_ID": "acct_1", "MY_PARTNER_TOKEN": "ptk_secret",
                        "PYTHONPATH": str(tmp_path), "PYTHONSTARTUP": str(tmp_path / "s.py"),
                        "LANG": "C.UTF-8"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    inherited = os.open(tmp_path / "inherited.txt", os.O_WRONLY | os.O_CREAT, 0o600)
    os.set_inheritable(inherited, True)
    (tmp_path / "fixtures").mkdir()
    try:
        with (
            running_server(RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)) as refold,
            GatewayProcess.start(
                # A relative folder is the project's, not the child's: it is made absolute.
                GatewayConfig(upstream=refold.url, fixtures=("fixtures",)),
                Credentials(api_key=FAKE_KEY, linked_account_id="acct_1"),
            ) as gateway,
        ):
            pid = gateway.process.pid
            [(argv, how)] = started
            assert argv[1:3] == ["-I", "-c"]  # isolated mode
            assert argv[4] == str(Path(gateway_process.__file__).resolve().parents[3])
            assert (how["close_fds"], how["pass_fds"]) == (True, ())
            kept = {k: v for k, v in os.environ.items() if k in gateway_process.CHILD_VARIABLES}
            assert how["env"] == kept
            assert kept["LANG"] == "C.UTF-8"
            assert not {"REFOLD_LINKED_ACCOUNT_ID", "MY_PARTNER_TOKEN", "PYTHONPATH"} & set(kept)
            home = Path(how["cwd"])
            assert home == gateway.home
            assert home.is_dir()
            assert tmp_path not in home.parents
            assert stat.S_IMODE(home.stat().st_mode) == 0o700
            # What the running child shows: only root may look, as it is not dumpable.
            if os.geteuid() == 0:
                assert Path(f"/proc/{pid}/cwd").resolve() == home.resolve()
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                assert sorted(v.split(b"=")[0].decode() for v in environ if v) == sorted(kept)
                targets = [os.readlink(f) for f in Path(f"/proc/{pid}/fd").iterdir()]
                assert str(tmp_path / "inherited.txt") not in targets
                pipes = [t for t in targets if t.startswith("pipe:")]
                assert len(pipes) == 2  # its stdin and stdout; stderr is its log
            with httpx.Client(base_url=gateway.url) as http:
                reply = http.post(
                    "/api/v2/integration-schema/zendesk/actions/get_ticket_by_id/execute",
                    json={"ticket_id": "1"},
                )
            assert reply.status_code == 200
    finally:
        os.close(inherited)
    assert not home.exists()  # stop() removes it, log and all


HOSTILE_MODULE = """
import os
with open({marker!r}, "a") as handle:
    handle.write(f"{{__name__}} imported by process {{os.getpid()}}\\n")
raise ImportError("the project's own {name}.py was imported")
"""

READS_LIVE = """
import os

import httpx
import httpx
import pytest


@pytest.mark.refold_live
def test_a_live_read_through_the_gateway():
    reply = httpx.post(os.environ["REFOLD_BASE_URL"]
                       + "/api/v2/integration-schema/zendesk/actions/get_ticket_by_id/execute",
                       json={"ticket_id": "1"})
    assert reply.status_code == 200, reply.text


def test_the_controller_is_not_dumpable_while_it_holds_the_key():
    from refold_contract._guard.dumpable import is_dumpable

    assert is_dumpable() is not True
"""


def test_the_gateway_never_imports_the_projects_modules_that_shadow_the_standard_library(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from refold_contract.mock import RefoldMock
    from refold_contract.mock.server import running_server

    project = pytester.mkdir("project")
    marker = pytester.path / "imported.txt"
    for name in ("secrets", "json", "ssl"):
        (project / f"{name}.py").write_text(HOSTILE_MODULE.format(marker=str(marker), name=name))
    # The run's working folder is the project's by the time the gateway starts. This process
    # imported the real modules first (as it would have anyway): only the gateway's are at stake.
    pytester.makeconftest("import json, os, secrets, ssl\nos.chdir('project')\n")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_reads=READS_LIVE)
    with running_server(RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)) as refold:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", "acct_1")
        monkeypatch.setenv("REFOLD_BASE_URL", refold.url)
        result = pytester.runpytest_subprocess("--refold-live", "-p", "no:randomly")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 0, output[-3000:]
    result.assert_outcomes(passed=2)
    assert not marker.exists(), marker.read_text()
    assert len(refold.mock.calls) == 1
    assert FAKE_KEY not in output
