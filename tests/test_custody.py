"""Credential custody attacked: every place a test process or its child could read the working
key back from once custody has taken it, and every local a traceback could show."""

from __future__ import annotations

import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest

from refold_contract._guard.custody import PLACEHOLDERS, Credentials
from refold_contract.errors import ConfigurationError
from refold_contract.live.gateway import GatewayConfig, GatewayProcess
from refold_contract.live.gateway import process as gateway_process

from .helpers import FAKE_KEY, FAKE_TOKEN

READ_BACK = """
import ctypes, os, posix, subprocess, sys
from refold_contract._guard.custody import Custody
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
    subprocess.run([sys.executable, "-c",
                    "import os; print(open(f'/proc/{os.getppid()}/environ','rb').read())"],
                   capture_output=True, check=True).stdout,
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
