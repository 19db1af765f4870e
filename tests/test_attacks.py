"""The routes an attacker with the source used against live mode (issue 20's table), replayed
against the shared gateway by hostile test code running as a Unix user that is neither the
gateway's nor root. Each route tries to find the working key and send a write with it; a stand-in
Refold counts what arrives with the key, and every file and stream is grepped for it.

Local mode's answers to the same routes are in their own tests: work after the session
(tests/test_after_session.py), a conftest re-pointing REFOLD_BASE_URL (the same file), a module
in the working directory (tests/test_custody.py), names and parameters
(tests/test_deny_by_default.py), the control key (tests/test_gateway_attacks.py), the channels
pytest writes through (tests/test_scrubbed_channels.py). Local mode does not stop hostile code
that reads the plugin's memory or its launcher's environment: only the shared gateway does, and
the guide says so.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from refold_contract.mock.server import RunningServer, running_server

from .helpers import FAKE_KEY
from .test_shared_gateway import Counting, run_as_two_users, writes_with_the_key

# Each test is one route. Each tries every place the key could be, then sends a write (and a
# read) straight to the stand-in and through the gateway with whatever it found.
HOSTILE = '''
import atexit, ctypes, glob, json, os, socket, subprocess, sys, threading
from concurrent.futures import ThreadPoolExecutor

import pytest

STANDIN = os.environ["STANDIN_URL"]
WRITE = "/api/v2/integration-schema/hubspot/actions/create_contact/execute"


def candidates():
    """Everything this user can read that might hold the key."""
    found = set()
    for value in os.environ.values():
        found.add(value)
    for pattern in ("/proc/[0-9]*/environ", "/proc/[0-9]*/cmdline"):
        for path in glob.glob(pattern):
            try:
                data = open(path, "rb").read()
            except OSError:
                continue
            found.update(p.decode("utf-8", "replace") for p in data.split(b"\\0") if p)
    for path in glob.glob("/proc/[0-9]*/mem"):
        try:
            open(path, "rb").read(1)
            found.add("readable:" + path)
        except OSError:
            pass
    try:
        from refold_contract._guard.custody import held_secrets
        found.update(held_secrets())
    except Exception:
        pass
    return found


def keys():
    """The values that look like a key: what a hostile test would try."""
    out = set()
    for value in candidates():
        for part in value.replace("=", " ").split():
            if part.startswith(("tk_", "eyJ")) and len(part) > 12:
                out.add(part)
    return sorted(out) or ["tk_nothing_found"]


def raw_post(url, key):
    """A write through a socket made with ctypes: past any Python-level hook."""
    host, port = url.removeprefix("http://").split(":")
    body = b"{}"
    request = (f"POST {WRITE} HTTP/1.1\\r\\nHost: {host}\\r\\nx-api-key: {key}\\r\\n"
               f"linked_account_id: acct_shared_1\\r\\ncontent-type: application/json\\r\\n"
               f"content-length: {len(body)}\\r\\nconnection: close\\r\\n\\r\\n").encode() + body
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    address = socket.inet_aton(host)
    sockaddr = (ctypes.c_ubyte * 16)(*([2, 0] + list(int(port).to_bytes(2, "big")) +
                                       list(address) + [0] * 8))
    if libc.connect(fd, sockaddr, 16) == 0:
        libc.send(fd, request, len(request), 0)
        buffer = ctypes.create_string_buffer(4096)
        libc.recv(fd, buffer, 4096, 0)
    libc.close(fd)


def send_all():
    for key in keys():
        for base in (STANDIN, os.environ.get("REFOLD_BASE_URL", STANDIN)):
            try:
                raw_post(base, key)
            except Exception:
                pass


@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)
def test_route_environment_proc_and_memory():
    send_all()


@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)
def test_route_a_child_given_what_was_found_in_argv():
    subprocess.run([sys.executable, "-c", "import json,sys; print(json.loads(sys.argv[1]))",
                    json.dumps(keys())], check=True, capture_output=True)
    send_all()


@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)
def test_route_fork():
    pid = os.fork()
    if pid == 0:
        try:
            send_all()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)
def test_route_work_that_outlives_the_session():
    threading.Thread(target=lambda: (__import__("time").sleep(0.5), send_all())).start()
    ThreadPoolExecutor(1).submit(lambda: (__import__("time").sleep(0.5), send_all()))
    atexit.register(send_all)


@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)
def test_route_names_and_parameters(refold_client):
    import httpx
    base = os.environ["REFOLD_BASE_URL"] + "/api/v2/integration-schema/"
    for path, body in [("hubspot/actions/get_and_increment/execute", {}),
                       ("hubspot/actions/fetchAndLock/execute", {}),
                       ("hubspot/actions/get_contact/execute", {"method": "DELETE"}),
                       ("salesforce/actions/httprequest/execute",
                        {"method": "DELETE", "url_path": "/sobjects/Account/1"})]:
        assert httpx.post(base + path, json=body).status_code == 403
'''


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("runuser") is None,
    reason="replays the routes as another Unix user: needs root, useradd and runuser",
)
def test_every_route_replayed_as_the_test_user_gets_nothing(standin: RunningServer) -> None:
    root = Path(tempfile.mkdtemp(prefix="refold-attacks-", dir="/tmp"))
    root.chmod(0o755)
    try:
        output, err, _ = run_as_two_users(standin, root, HOSTILE, {"STANDIN_URL": standin.url})
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert "5 passed" in output, output[-4000:]
    mock = standin.mock
    assert isinstance(mock, Counting)
    assert writes_with_the_key(mock) == []
    assert not any(with_key for _, _, with_key in mock.arrivals)  # nothing at all with it
    assert FAKE_KEY not in output + err


@pytest.fixture
def standin() -> Iterator[RunningServer]:
    with running_server(Counting(api_keys={FAKE_KEY}, assert_all_called=False)) as server:
        yield server
