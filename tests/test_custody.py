"""Credential custody attacked: every place a test process or its child could read the working
key back from once custody has taken it, and every local a traceback could show."""

from __future__ import annotations

import subprocess
import sys

import pytest

from refold_contract.custody import PLACEHOLDERS, Credentials
from refold_contract.errors import ConfigurationError
from refold_contract.gateway import GatewayConfig, GatewayProcess

from .helpers import FAKE_KEY, FAKE_TOKEN

READ_BACK = """
import ctypes, os, posix, subprocess, sys
from refold_contract.custody import Custody
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
