"""The standalone server over real loopback HTTP, in-thread and as the `serve` command."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from refold_contract import Catalogue, ConfigurationError, InvalidParams, RefoldClient
from refold_contract.cli import main
from refold_contract.mock import RefoldMock
from refold_contract.mock.server import default_server, running_server, serve

from .helpers import FAKE_KEY, FAKE_TOKEN, action_doc, write_action

PREFIX = "/api/v2/integration-schema"

HAS_GRANIAN = importlib.util.find_spec("granian") is not None
#: serve's two servers; granian's tests skip where the fast extra is not installed.
SERVERS = [
    pytest.param(
        "granian",
        marks=pytest.mark.skipif(not HAS_GRANIAN, reason="granian (the fast extra) not installed"),
    ),
    "uvicorn",
]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("REFOLD_")}


def test_refold_client_and_plain_httpx_against_the_server() -> None:
    with running_server(RefoldMock(linked_accounts={"user_1"})) as server:
        with RefoldClient(
            api_key=FAKE_KEY, linked_account_id="user_1", base_url=server.url
        ) as client:
            assert (
                client.execute("hubspot", "get_contact", {"limit": "1"}).data["results"][0]["id"]
                == "51"
            )
            with pytest.raises(InvalidParams, match="Required parameter 'email' is missing"):
                client.execute("hubspot", "create_contact", {})
        with httpx.Client(base_url=server.url) as http:
            reply = http.post(
                f"{PREFIX}/slack/actions/list_channels/execute",
                json={"limit": "2"},
                headers={"x-api-key": FAKE_KEY, "linked_account_id": "user_1"},
            )
            assert reply.status_code == 200
            assert reply.json()["data"]["ok"] is True
            calls = http.get("/__refold/calls").json()
            assert [c["action_id"] for c in calls] == [
                "get_contact",
                "create_contact",
                "list_channels",
            ]
            assert calls[1]["status"] == 400
            assert calls[2]["reply"]["node_status"] == "Success"
            assert http.post("/__refold/reset").json() == {"reset": True}
            assert http.get("/__refold/calls").json() == []


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_running_server_on_an_ipv6_host_gives_a_url_clients_can_use() -> None:
    with running_server(host="::1") as server, httpx.Client(base_url=server.url) as http:
        assert server.url.startswith("http://[::1]:")
        assert http.get("/__refold/calls").json() == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=SERVERS)
def serve_process(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    write_action(tmp_path / "mine", action_doc(slug="acme", action_id="get_widget"))
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "refold_contract.cli",
            "serve",
            "--server",
            request.param,
            "--port",
            str(port),
            "--fixtures",
            str(tmp_path / "mine"),
            "--api-key",
            FAKE_KEY,
            "--linked-account",
            "user_1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=ENV,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url + "/__refold/calls", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(
                    f"serve did not start: {process.stdout.read() if process.stdout else ''}"
                )
            time.sleep(0.1)
    yield process, url, request.param
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_command_answers_logs_without_secrets_and_stops_cleanly(
    serve_process: tuple[subprocess.Popen[str], str, str], sig: signal.Signals
) -> None:
    process, url, server = serve_process
    headers = {"x-api-key": FAKE_KEY, "linked_account_id": "user_1"}
    with httpx.Client(base_url=url) as http:
        ok = http.post(
            f"{PREFIX}/acme/actions/get_widget/execute", json={"id": "7"}, headers=headers
        )
        assert ok.json()["data"] == {"id": "1"}
        wrong_key = http.get(f"{PREFIX}/acme/actions", headers={**headers, "x-api-key": "tk_other"})
        assert wrong_key.status_code == 401
        bearer = http.get(
            f"{PREFIX}/acme/actions", headers={"authorization": f"Bearer {FAKE_TOKEN}"}
        )
        assert bearer.status_code == 200
    process.send_signal(sig)
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    builtin = Catalogue.builtin()
    served = f"{len(builtin) + 1} actions in {len(builtin.apps()) + 1} apps"
    assert f"refold-contract mock: {served} on http://127.0.0.1:" in output
    assert f", served by {server} (Ctrl+C to stop)" in output
    assert "POST /api/v2/integration-schema/acme/actions/get_widget/execute -> 200" in output
    assert "GET /api/v2/integration-schema/acme/actions -> 401" in output
    assert FAKE_KEY not in output
    assert FAKE_TOKEN not in output
    assert "Traceback" not in output


@pytest.mark.parametrize("server", SERVERS)
def test_serve_on_port_0_is_listening_when_it_prints_its_url(server: str) -> None:
    """A script that connects the moment it reads the URL line is answered (it was refused:
    the line came 6-11 ms before the socket listened)."""
    with subprocess.Popen(
        [sys.executable, "-m", "refold_contract.cli", "serve", "--port", "0", "--server", server],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ENV,
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            reply = httpx.get(f"{url}{PREFIX}/hubspot/actions", timeout=10)  # at once
            assert reply.status_code == 401  # answered: no key given
        finally:
            process.terminate()


@pytest.mark.skipif(not HAS_GRANIAN, reason="granian (the fast extra) not installed")
def test_serve_runs_on_granian_by_default_when_it_is_installed() -> None:
    assert default_server() == "granian"
    with subprocess.Popen(
        [sys.executable, "-m", "refold_contract.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ENV,
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            reply = httpx.get(f"{url}/__refold/calls", timeout=10)
            assert reply.headers["server"] == "granian"
        finally:
            process.terminate()


@pytest.mark.skipif(not HAS_GRANIAN, reason="granian (the fast extra) not installed")
def test_serve_on_granian_stops_cleanly_every_time_with_connections_open() -> None:
    """Five at once, each with a keep-alive connection open when SIGTERM comes: every one
    exits 0 (granian's Rust threads outliving serve() aborted 6 stops in 15)."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "refold_contract.cli", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=ENV,
        )
        for _ in range(5)
    ]
    clients = []
    try:
        for process in processes:
            assert process.stdout is not None
            client = httpx.Client(base_url=process.stdout.readline().strip(), timeout=10)
            clients.append(client)
            for _ in range(3):
                reply = client.post(
                    f"{PREFIX}/slack/actions/list_channels/execute",
                    json={},
                    headers={"x-api-key": FAKE_KEY, "linked_account_id": "user_1"},
                )
                assert reply.status_code == 200
        for process in processes:
            process.send_signal(signal.SIGTERM)
        outputs = [process.communicate(timeout=30)[0] for process in processes]
        assert [p.returncode for p in processes] == [0] * 5, outputs
        assert not any("panicked" in output for output in outputs), outputs
    finally:
        for client in clients:
            client.close()
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="threads counted on Linux")
def test_serve_waits_for_the_servers_own_threads_to_end_before_it_returns() -> None:
    from refold_contract.mock.server import _native_threads, _wait_for_threads

    before = _native_threads()
    ended = threading.Event()

    def work() -> None:
        time.sleep(0.2)
        ended.set()

    threading.Thread(target=work).start()
    _wait_for_threads(before, timeout=5.0)
    assert ended.is_set()  # back to the count before: the thread is gone
    slow = threading.Thread(target=time.sleep, args=(3,))
    slow.start()
    started = time.monotonic()
    _wait_for_threads(before, timeout=0.1)  # bounded: a thread that stays is not waited for
    assert time.monotonic() - started < 1.5
    slow.join()


def test_serve_on_granian_without_it_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "granian", None)
    assert default_server() == "uvicorn"
    assert main(["serve", "--server", "granian", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "serve --server granian needs granian" in err
    assert "pip install '/path/to/refold-contract[fast]'" in err
    assert "or choose --server uvicorn" in err


def test_serve_refuses_an_unknown_server() -> None:
    with pytest.raises(ConfigurationError, match="unknown server 'hypercorn'") as caught:
        serve(server="hypercorn")
    assert "choose one of granian, uvicorn" in str(caught.value)


def test_serve_with_a_bad_catalogue_says_which_file(tmp_path: Path) -> None:
    write_action(tmp_path, "{]", slug="acme", action_id="get_widget")
    done = subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", "serve", "--fixtures", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert f"{tmp_path / 'acme' / 'get_widget.json'}:1:2: malformed JSON" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_scripted_timeout_never_leaves_a_client_without_a_timeout_hanging() -> None:
    import requests

    mock = RefoldMock(assert_all_called=False)
    mock.timeout("hubspot", "get_contact")
    with running_server(mock) as server:
        server.app.timeout_hold = 0.3
        started = time.monotonic()
        reply = requests.post(  # no timeout: requests would wait forever
            server.url + "/api/v2/integration-schema/hubspot/actions/get_contact/execute",
            json={},
            headers={"x-api-key": FAKE_KEY, "linked_account_id": "u"},
        )
        assert time.monotonic() - started < 5
    assert reply.status_code == 504
    assert reply.json()["status_code"] == 504
    assert "give your HTTP client a timeout" in reply.json()["message"]


def test_a_scripted_timeout_holds_the_connection_until_the_client_gives_up() -> None:
    mock = RefoldMock()
    mock.timeout("hubspot", "get_contact")
    with (
        running_server(mock) as server,
        RefoldClient(
            api_key=FAKE_KEY, linked_account_id="u", base_url=server.url, timeout=0.3, retries=0
        ) as client,
    ):
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            client.execute("hubspot", "get_contact")
        assert time.monotonic() - started < 3
        assert client.execute("slack", "list_channels").ok
