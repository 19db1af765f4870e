"""The egress guard as a unit: what each mode blocks, how names and addresses are compared, and
that installing and uninstalling patch exactly the socket functions and put them back.

The end-to-end tests (every client, every process, a live session) are in test_read_only.py and
test_gateway.py.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest

from refold_contract import EgressBlocked
from refold_contract._guard.egress import REFOLD_HOSTS, EgressGuard, _host_of, _port, is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("[::1]", True),
        ("::1", True),
        ("notlocalhost", False),
        ("Xlocalhost", False),
        ("localhost.example.com", False),
        ("10.0.0.1", False),
        ("app.refold.ai", False),
        ("", False),
    ],
)
def test_only_localhost_and_loopback_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_socket_addresses_are_read_as_host_and_port() -> None:
    assert _host_of(("App.Refold.AI", "443")) == ("app.refold.ai", 443)
    assert _host_of(("::1", 80, 0, 0)) == ("::1", 80)
    assert _host_of("/tmp/socket") is None
    assert _host_of(("only",)) is None
    assert _host_of((b"bytes", 80)) is None
    assert (_port("443"), _port(80), _port(None), _port("https")) == (443, 80, None, None)


def test_a_guard_normalises_what_it_blocks() -> None:
    guard = EgressGuard(hosts={"API.Example.COM", "[::2]"}, addresses={("[::3]", 5), ("X", None)},
                        hint="do this")  # fmt: skip
    assert guard.hosts == frozenset({"api.example.com", "::2"})
    assert guard.addresses == frozenset({("::3", 5), ("x", None)})
    assert guard.hint == "do this"
    assert guard.attempts == []
    assert EgressGuard(hint="h").hosts == REFOLD_HOSTS
    assert repr(EgressGuard(hosts={"b", "a"}, addresses={("1.2.3.4", 1)}, hint="h")) == (
        "<EgressGuard hosts=['a', 'b'] addresses=[('1.2.3.4', 1)]>"
    )
    # A host blocked on every port and on one port: sorted as text, not as tuples.
    assert repr(EgressGuard(hosts=(), addresses={("x", None), ("x", 5)}, hint="h")) == (
        "<EgressGuard hosts=[] addresses=[('x', 5), ('x', None)]>"
    )


@pytest.mark.parametrize(
    ("host", "blocked"),
    [
        ("app.refold.ai", True),
        ("APP.REFOLD.AI", True),
        ("app.refold.ai.", True),
        ("eu.app.refold.ai", True),
        ("api.gocobalt.io", True),
        ("notapp.refold.ai", False),
        ("refold.ai", False),
        ("app.refold.ai.evil.com", False),
        ("10.9.8.7", True),  # an address blocked on every port
        ("10.9.8.6", False),  # an address blocked on one port only: names are not
        ("[10.9.8.7]", True),
    ],
)
def test_a_name_is_blocked_when_it_is_a_blocked_host_or_below_one(host: str, blocked: bool) -> None:
    guard = EgressGuard(addresses={("10.9.8.7", None), ("10.9.8.6", 443)}, hint="h")
    assert guard.blocks_host(host) is blocked


@pytest.mark.parametrize(
    ("host", "port", "blocked"),
    [
        ("10.9.8.6", 443, True),
        ("10.9.8.6", 80, False),
        ("10.9.8.7", 1, True),
        ("::ffff:10.9.8.6", 443, True),  # an IPv4-mapped IPv6 address
        ("[::ffff:10.9.8.7]", 5, True),
        ("app.refold.ai", 80, True),
        ("10.9.8.5", None, False),
        ("10.9.8.6", None, False),
    ],
)
def test_an_address_is_blocked_by_host_or_by_host_and_port(
    host: str, port: int | None, blocked: bool
) -> None:
    guard = EgressGuard(addresses={("10.9.8.7", None), ("10.9.8.6", 443)}, hint="h")
    assert guard.blocks_address(host, port) is blocked


def test_mock_mode_blocks_refold_and_a_remote_base_url_but_not_loopback() -> None:
    remote = EgressGuard.for_settings("https://refold.example.com:8443/x", live=False)
    assert remote.hosts == REFOLD_HOSTS | {"refold.example.com"}
    assert remote.addresses == frozenset()
    by_ip = EgressGuard.for_settings("http://10.1.2.3:9000", live=False)
    assert by_ip.hosts == REFOLD_HOSTS
    assert by_ip.addresses == frozenset({("10.1.2.3", None)})
    local = EgressGuard.for_settings("http://localhost:8700", live=False)
    assert (local.hosts, local.addresses) == (REFOLD_HOSTS, frozenset())
    nowhere = EgressGuard.for_settings("", live=False)
    assert (nowhere.hosts, nowhere.addresses) == (REFOLD_HOSTS, frozenset())
    assert local.hint == (
        "tests never reach Refold: answer httpx code with the refold_mock fixture, and "
        "requests, urllib, aiohttp or another process with the refold_server fixture (point the "
        "code at refold_server.url)"
    )


def test_live_mode_blocks_the_base_url_itself_even_on_loopback() -> None:
    local = EgressGuard.for_settings("http://localhost:8700", live=True, gateway_url="http://g:1")
    assert local.hosts == REFOLD_HOSTS
    assert local.addresses == frozenset({("127.0.0.1", 8700), ("::1", 8700), ("localhost", 8700)})
    assert local.hint == (
        "in live mode only the read-only gateway talks to Refold: point the client at "
        "REFOLD_BASE_URL (http://g:1), which it already holds unless your code fixed another URL"
    )
    by_ip = EgressGuard.for_settings("https://10.1.2.3", live=True)
    assert by_ip.addresses == frozenset({("10.1.2.3", 443)})
    assert by_ip.hosts == REFOLD_HOSTS
    assert "REFOLD_BASE_URL (the gateway)" in by_ip.hint
    plain = EgressGuard.for_settings("http://127.0.0.1", live=True)
    assert plain.addresses == frozenset({("127.0.0.1", 80)})
    named = EgressGuard.for_settings("https://staging.example.com", live=True)
    assert named.hosts == REFOLD_HOSTS | {"staging.example.com"}
    assert named.addresses == frozenset()


@pytest.fixture
def installed() -> Iterator[EgressGuard]:
    guard = EgressGuard(
        hosts={"blocked.example"}, addresses={("127.0.0.1", 9), ("10.0.0.9", None)}, hint="h"
    )
    with guard.installed():
        yield guard


def test_installing_refuses_without_patching_and_uninstalling_stops_refusing() -> None:
    originals = (socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex,
                 socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto)  # fmt: skip
    guard = EgressGuard(addresses={("127.0.0.1", 9)}, hint="h")
    guard.install()
    try:
        # An audit hook, not patches: code holding socket's functions from before is seen too.
        now = (socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex,
               socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto)  # fmt: skip
        assert now == originals
        with socket.socket() as sock, pytest.raises(EgressBlocked):
            sock.connect(("127.0.0.1", 9))
        with pytest.raises(RuntimeError) as twice:
            guard.install()
        assert str(twice.value) == "this egress guard is already installed"
    finally:
        guard.uninstall()
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", 9))  # reaches the socket: nothing listens there
    guard.uninstall()  # twice is harmless
    assert guard.take_attempts() == [
        "refold-contract blocked a connection to 127.0.0.1:9 from the test process"
    ]


def test_the_c_socket_type_is_guarded_too(installed: EgressGuard) -> None:
    import _socket

    with pytest.raises(EgressBlocked, match=r"blocked\.example"):
        _socket.getaddrinfo("blocked.example", 443)
    raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        with pytest.raises(EgressBlocked, match=r"127\.0\.0\.1:9"):
            raw.connect(("127.0.0.1", 9))
        with pytest.raises(EgressBlocked, match=r"127\.0\.0\.1:9"):
            raw.connect_ex(("127.0.0.1", 9))
    finally:
        raw.close()
    assert len(installed.take_attempts()) == 3


def test_each_guarded_function_refuses_and_records_the_attempt(installed: EgressGuard) -> None:
    # getaddrinfo through the C function: this project's conftest wraps socket.getaddrinfo in a
    # loopback-only check of its own, which would answer first.
    import _socket

    calls: list[tuple[Callable[[], object], str]] = [
        (lambda: _socket.getaddrinfo("blocked.example", 443), "blocked.example:443"),
        (lambda: _socket.getaddrinfo(b"sub.blocked.example", "80"), "sub.blocked.example:80"),
        (lambda: _socket.getaddrinfo("blocked.example", "https"), "blocked.example"),
        (lambda: _socket.getaddrinfo("127.0.0.1", 9), "127.0.0.1:9"),
        (lambda: socket.gethostbyname("blocked.example"), "blocked.example"),
        (lambda: socket.gethostbyname_ex("blocked.example"), "blocked.example"),
    ]
    for call, where in calls:
        with pytest.raises(EgressBlocked) as info:
            call()
        assert info.value.message == (
            f"refold-contract blocked a connection to {where} from the test process"
        )
        assert info.value.hint == "h"
    sock = socket.socket()
    try:
        with pytest.raises(EgressBlocked, match=r"127\.0\.0\.1:9"):
            sock.connect(("127.0.0.1", 9))
        with pytest.raises(EgressBlocked, match=r"10\.0\.0\.9:80"):
            sock.connect_ex(("10.0.0.9", 80))
    finally:
        sock.close()
    attempts = installed.take_attempts()
    assert len(attempts) == 8
    assert attempts[0] == (
        "refold-contract blocked a connection to blocked.example:443 from the test process"
    )
    assert all(a.startswith("refold-contract blocked a connection to ") for a in attempts)
    assert installed.take_attempts() == []


def test_other_names_and_addresses_pass_through(installed: EgressGuard) -> None:
    assert socket.getaddrinfo("127.0.0.1", 10)[0][4][:2] == ("127.0.0.1", 10)
    assert socket.gethostbyname("127.0.0.1") == "127.0.0.1"
    assert socket.gethostbyname_ex("127.0.0.1")[2] == ["127.0.0.1"]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = socket.socket()
    try:
        assert client.connect_ex(server.getsockname()) == 0
    finally:
        client.close()
        server.close()
    assert installed.take_attempts() == []


def test_a_name_is_resolved_with_the_callers_arguments_and_checked_at_connect(
    installed: EgressGuard,
) -> None:
    by_position = socket.getaddrinfo("127.0.0.1", 10, socket.AF_INET, socket.SOCK_STREAM)
    by_keyword = socket.getaddrinfo("127.0.0.1", 10, type=socket.SOCK_STREAM)
    assert [r[1] for r in by_position] == [socket.SOCK_STREAM]
    assert [r[1] for r in by_keyword] == [socket.SOCK_STREAM]
    # A name that resolves to a blocked address is let through here; connect() refuses it.
    assert socket.getaddrinfo("localhost", 9, socket.AF_INET)[0][4] == ("127.0.0.1", 9)
    assert installed.take_attempts() == []


@pytest.mark.parametrize(
    ("host", "port", "blocked"),
    [
        ("0.0.0.0", 8700, True),  # Linux connects the unspecified address to the machine itself
        ("::", 8700, True),
        ("127.1", 8700, True),  # the C library still reads these as 127.0.0.1
        ("2130706433", 8700, True),
        ("0x7f.1", 8700, True),
        ("127.0.0.2", 8700, True),
        ("0:0:0:0:0:0:0:1", 8700, True),
        ("::ffff:7f00:1", 8700, True),
        ("sub.localhost", 8700, True),
        ("0.0.0.0", 8701, False),
        ("10.0.0.1", 8700, False),
        ("0.0.0.0", None, False),
    ],
)
def test_a_loopback_base_url_is_blocked_on_every_address_that_reaches_this_machine(
    host: str, port: int | None, blocked: bool
) -> None:
    live = EgressGuard.for_settings("http://127.0.0.1:8700", live=True)
    assert live.blocks_address(host, port) is blocked


def test_no_client_reaches_a_live_loopback_base_url_by_another_spelling_of_its_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import _socket

    import httpx
    import requests

    offline = socket.getaddrinfo  # the project's conftest: loopback only, by its usual spelling

    def local_too(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("0.0.0.0", "127.1"):  # still this machine
            return _socket.getaddrinfo(host, *args, **kwargs)
        return offline(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_too)

    standin = socket.socket()
    standin.bind(("127.0.0.1", 0))
    standin.listen()
    port = standin.getsockname()[1]
    live = EgressGuard.for_settings(f"http://127.0.0.1:{port}", live=True)
    tries: list[Callable[[], object]] = []
    for host in ("0.0.0.0", "127.1"):
        url = (
            f"http://{host}:{port}/api/v2/integration-schema/hubspot/actions/create_contact/execute"
        )
        tries += [partial(requests.post, url, timeout=2), partial(httpx.post, url, timeout=2)]

    def raw(address: str) -> None:
        with socket.socket() as sock:
            sock.connect((address, port))

    tries += [partial(raw, a) for a in ("0.0.0.0", "127.1")]
    try:
        with live.installed():
            for call in tries:
                with pytest.raises(Exception) as info:  # noqa: PT011 - each client wraps it
                    call()
                assert "refold-contract blocked a connection" in str(info.value), repr(info.value)
        assert len(live.take_attempts()) == len(tries)
    finally:
        standin.close()


def test_tcp_fast_open_sends_are_checked_like_connect(installed: EgressGuard) -> None:
    # sendto/sendmsg with MSG_FASTOPEN and an address connect and send in one call.
    fast_open = getattr(socket, "MSG_FASTOPEN", 0)
    request = b"POST /api/v2/integration-schema/hubspot/actions/create_contact/execute HTTP/1.1"
    with socket.socket() as sock:
        with pytest.raises(EgressBlocked, match=r"127\.0\.0\.1:9"):
            sock.sendto(request, fast_open, ("127.0.0.1", 9))
        with pytest.raises(EgressBlocked, match=r"10\.0\.0\.9:443"):
            sock.sendto(request, ("10.0.0.9", 443))
        if hasattr(sock, "sendmsg"):
            with pytest.raises(EgressBlocked, match=r"127\.0\.0\.1:9"):
                sock.sendmsg([request], [], fast_open, ("127.0.0.1", 9))
    assert len(installed.take_attempts()) == 2 + hasattr(socket.socket, "sendmsg")


@pytest.mark.skipif(not hasattr(socket, "MSG_FASTOPEN"), reason="TCP Fast Open: Linux")
def test_a_fast_open_send_to_a_blocked_port_never_arrives() -> None:
    standin = socket.socket()
    standin.bind(("127.0.0.1", 0))
    standin.listen()
    standin.settimeout(0.5)
    port = standin.getsockname()[1]
    guard = EgressGuard.for_settings(f"http://127.0.0.1:{port}", live=True)
    try:
        with guard.installed(), socket.socket() as sock, pytest.raises(EgressBlocked):
            sock.sendto(b"POST /x HTTP/1.1\r\n\r\n", socket.MSG_FASTOPEN, ("127.0.0.1", port))
        with pytest.raises(TimeoutError):
            standin.accept()  # nothing connected
    finally:
        standin.close()


def test_sends_without_an_address_and_to_other_addresses_pass_through(
    installed: EgressGuard,
) -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    with server, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        assert client.sendto(b"ok", server.getsockname()) == 2
        assert client.sendto(b"ok", 0, server.getsockname()) == 2
        client.connect(server.getsockname())
        assert client.sendmsg([b"ok"]) == 2
        assert server.recv(10) == b"ok"
    assert installed.take_attempts() == []


def test_the_sends_are_guarded_without_patching() -> None:
    originals = (socket.socket.sendto, getattr(socket.socket, "sendmsg", None))
    with EgressGuard(addresses={("127.0.0.1", 9)}, hint="h").installed():
        assert (socket.socket.sendto, getattr(socket.socket, "sendmsg", None)) == originals
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            with pytest.raises(EgressBlocked):
                sock.sendto(b"x", ("127.0.0.1", 9))
            if hasattr(sock, "sendmsg"):
                with pytest.raises(EgressBlocked):
                    sock.sendmsg([b"x"], [], 0, ("127.0.0.1", 9))


def test_addresses_are_compared_in_one_spelling_and_names_are_not_local() -> None:
    guard = EgressGuard.for_settings("http://127.0.0.1:9999", live=True)
    for spelling in ("127.1", "0x7f.1", "[::FFFF:7F00:1]", "0:0::1", "0.0.0.0", "::"):
        assert guard.blocks_address(spelling, 9999), spelling
    assert not guard.blocks_address("127.0.0.1", 9998)
    # A name is not an address that reaches this machine, whatever its port.
    assert not guard.blocks_address("example.com", 9999)
    named = EgressGuard(hosts={"Blocked.Example"}, hint="h")
    assert named.blocks_address("BLOCKED.example", 443)
    assert named.blocks_host("sub.blocked.example.")


def test_a_guard_that_cannot_hook_fails_closed() -> None:
    import subprocess
    import sys

    # Python drops a new audit hook silently when an existing one refuses it.
    script = (
        "import sys\n"
        "def refuse(event, args):\n"
        "    if event == 'sys.addaudithook':\n"
        "        raise RuntimeError('no more hooks')\n"
        "sys.addaudithook(refuse)\n"
        "from refold_contract._guard.egress import EgressGuard\n"
        "try:\n"
        "    EgressGuard(hint='h').install()\n"
        "except RuntimeError as exc:\n"
        "    print('refused:', exc)\n"
        "else:\n"
        "    print('installed')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.stdout.startswith("refused: refold-contract cannot guard sockets"), done.stderr


def test_a_lingering_guard_stays_refusing_but_leaves_the_refusal_to_a_guard_in_use() -> None:
    old = EgressGuard(addresses=[("127.0.0.1", 9)], hint="old")
    old.install()
    try:
        old.linger(also=[("localhost", 10)], hint="the session is over")
        with socket.socket() as sock, pytest.raises(EgressBlocked, match="session is over"):
            sock.connect(("127.0.0.1", 10))  # the stopped gateway: any loopback address
        current = EgressGuard(addresses=[("127.0.0.1", 9)], hint="current")
        with current.installed(), socket.socket() as sock, pytest.raises(EgressBlocked):
            sock.connect(("127.0.0.1", 9))  # asked first though installed first: its test fails
        assert current.take_attempts() == [
            "refold-contract blocked a connection to 127.0.0.1:9 from the test process"
        ]
        assert old.take_attempts() == []  # after the session nobody reads them
        old.forget_local()  # the test that ran its session is over
        assert not old.blocks_address("127.0.0.1", 9)
        assert old.blocks_host("app.refold.ai")
    finally:
        old.uninstall()
