"""The gateway's hop to Refold (:class:`Upstream`) against a raw socket server that answers
whatever a test scripts: kept-alive reuse, a connection closed while idle, chunks, replies over
the limit, garbage, silence. Through the whole gateway, each failure is one typed answer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from refold_contract._guard.custody import Credentials
from refold_contract.errors import ConfigurationError, RefoldConnectionError, ReplyTooLarge
from refold_contract.live.gateway import Gateway, GatewayConfig
from refold_contract.live.gateway.upstream import Upstream

OK = b'{"node_status":"Success","data":{"ok":true}}'
PATH = "/api/v2/integration-schema/slack/actions/list_channels/execute"


def reply(body: bytes = OK, *, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + extra
        + b"content-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        rest += conn.recv(65536)
    return head


Script = Callable[[socket.socket, int], bool]


def answering(data: bytes | Callable[[], bytes], *, keep: bool) -> Script:
    """A script that sends ``data`` (or what it returns) and keeps the connection or not."""

    def script(conn: socket.socket, n: int) -> bool:
        conn.sendall(data() if callable(data) else data)
        return keep

    return script


Start = Callable[[Script], tuple[str, list[bytes], list[int]]]
Make = Callable[..., Upstream]


@pytest.fixture
def upstreams() -> Iterator[Make]:
    """``Upstream(...)``, closed at teardown (its idle connections with it)."""
    made: list[Upstream] = []

    def make(*args: object, **kwargs: object) -> Upstream:
        made.append(Upstream(*args, **kwargs))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for upstream in made:
        upstream.close()


@pytest.fixture
def raw_server() -> Iterator[Start]:
    """A loopback server: ``script(conn, n)`` answers the n-th request on each connection and
    returns whether to keep the connection open. Returns the URL, the requests, and the
    number of connections accepted (a one-item list)."""
    servers: list[socket.socket] = []

    def start(script: Script) -> tuple[str, list[bytes], list[int]]:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        servers.append(listener)
        requests: list[bytes] = []
        accepted = [0]

        def serve_one(conn: socket.socket) -> None:
            with conn:
                n = 0
                while True:
                    try:
                        head = read_request(conn)
                    except OSError:
                        return
                    if not head:
                        return
                    requests.append(head)
                    if not script(conn, n):
                        return
                    n += 1

        def accept() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                accepted[0] += 1
                threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}", requests, accepted

    yield start
    for listener in servers:
        listener.close()


def test_a_kept_alive_connection_carries_the_next_request(
    upstreams: Make, raw_server: Start
) -> None:
    url, requests, accepted = raw_server(answering(reply(), keep=True))
    upstream = upstreams(url, timeout=5)
    for _ in range(3):
        status, headers, body = upstream.send(
            "POST", PATH, {"content-type": "application/json"}, b"{}", max_bytes=1 << 20
        )
        assert (status, headers["content-type"], body) == (200, "application/json", OK)
    assert accepted == [1]
    assert len(requests) == 3


def test_a_connection_the_server_closed_while_idle_is_replaced_once(
    upstreams: Make, raw_server: Start
) -> None:
    # The server answers one request per connection and then closes, without saying so.
    url, requests, accepted = raw_server(answering(reply(), keep=False))
    upstream = upstreams(url, timeout=5)
    for _ in range(3):
        assert upstream.send("GET", PATH, {}, b"", max_bytes=1 << 20)[0] == 200
    assert len(requests) == 3  # each request arrived once, whatever the retries
    assert accepted[0] >= 3


def test_a_reply_that_says_connection_close_is_not_reused(
    upstreams: Make, raw_server: Start
) -> None:
    url, _, accepted = raw_server(answering(reply(extra=b"connection: close\r\n"), keep=False))
    upstream = upstreams(url, timeout=5)
    for _ in range(2):
        assert upstream.send("GET", PATH, {}, b"", max_bytes=1 << 20)[0] == 200
    assert accepted == [2]


def test_a_chunked_reply_is_read_whole(upstreams: Make, raw_server: Start) -> None:
    def chunked(conn: socket.socket, n: int) -> bool:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            + b"%x\r\n%s\r\n" % (len(OK[:10]), OK[:10])
            + b"%x\r\n%s\r\n" % (len(OK[10:]), OK[10:])
            + b"0\r\n\r\n"
        )
        return True

    url, _, accepted = raw_server(chunked)
    upstream = upstreams(url, timeout=5)
    assert upstream.send("GET", PATH, {}, b"", max_bytes=1 << 20)[2] == OK
    assert upstream.send("GET", PATH, {}, b"", max_bytes=1 << 20)[2] == OK
    assert accepted == [1]


@pytest.mark.parametrize("framing", ["length", "chunked", "until-close"])
def test_a_reply_over_the_limit_raises_and_the_connection_is_dropped(
    upstreams: Make, raw_server: Start, framing: str
) -> None:
    big = b"x" * 5000

    def over(conn: socket.socket, n: int) -> bool:
        if framing == "length":
            conn.sendall(reply(big))
        elif framing == "chunked":
            conn.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            for _ in range(5):
                conn.sendall(b"3e8\r\n" + b"x" * 1000 + b"\r\n")
            conn.sendall(b"0\r\n\r\n")
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + big)
            return False
        return True

    url, _, accepted = raw_server(over)
    upstream = upstreams(url, timeout=5)
    with pytest.raises(ReplyTooLarge):
        upstream.send("GET", PATH, {}, b"", max_bytes=4096)
    # Exactly at the limit passes.
    assert len(upstream.send("GET", PATH, {}, b"", max_bytes=5000)[2]) == 5000
    assert accepted[0] == 2  # the connection of the refused reply was not reused


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"HTTP/1.1 abc Nope\r\n\r\n",
        b"",
        b"HTTP/1.1 200 OK\r\n" + b"x-long: " + b"a" * 70000 + b"\r\n\r\n",
    ],
    ids=["not-http", "bad-status", "closed-at-once", "header-too-long"],
)
def test_garbage_or_silence_then_close_is_a_connection_error(
    upstreams: Make, raw_server: Start, answer: bytes
) -> None:
    url, _, _ = raw_server(answering(answer, keep=False))
    upstream = upstreams(url, timeout=5)
    with pytest.raises(RefoldConnectionError):
        upstream.send("GET", PATH, {}, b"", max_bytes=1 << 20)


def test_a_server_that_never_answers_times_out(upstreams: Make, raw_server: Start) -> None:
    gate = threading.Event()
    url, _, _ = raw_server(lambda conn, n: not gate.wait(10))
    upstream = upstreams(url, timeout=0.3)
    try:
        with pytest.raises(TimeoutError):
            upstream.send("GET", PATH, {}, b"", max_bytes=1 << 20)
    finally:
        gate.set()


def test_nothing_listening_is_a_connection_error(upstreams: Make) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(RefoldConnectionError, match="ConnectionRefusedError"):
        upstreams(f"http://127.0.0.1:{port}", timeout=2).send(
            "GET", PATH, {}, b"", max_bytes=1 << 20
        )


def test_the_base_urls_path_prefixes_every_request(upstreams: Make, raw_server: Start) -> None:
    url, requests, _ = raw_server(answering(reply(), keep=True))
    upstreams(url + "/refold/", timeout=5).send("GET", PATH, {}, b"", max_bytes=1 << 20)
    assert requests[0].startswith(f"GET /refold{PATH} HTTP/1.1".encode())


@pytest.mark.parametrize("base", ["ftp://example.com", "app.refold.ai", "http://"])
def test_a_base_url_that_is_not_http_is_a_configuration_error(upstreams: Make, base: str) -> None:
    with pytest.raises(ConfigurationError, match="not an http"):
        upstreams(base, timeout=5)


def test_through_the_gateway_each_failure_is_one_typed_answer(raw_server: Start) -> None:
    answers = iter(
        [b"SSH-2.0-x\r\n", reply(b"y" * 3000), reply(extra=b"content-encoding: gzip\r\n")]
    )
    url, _, _ = raw_server(answering(lambda: next(answers), keep=False))
    gateway = Gateway(
        GatewayConfig(upstream=url, max_reply_bytes=2048),
        Credentials(api_key="tk_upstream_0123456789", linked_account_id="acct_1"),
    )
    try:
        target = "/api/v2/integration-schema/slack/actions/list_channels/execute"
        headers = {"linked_account_id": "acct_1", "content-type": "application/json"}
        seen = [gateway.handle("POST", target, headers, b"{}") for _ in range(3)]
    finally:
        gateway.close()
    assert [r.status for r in seen] == [502, 502, 502]
    assert b"could not reach Refold" in seen[0].body
    assert b"over the gateway's limit of 2,048 bytes" in seen[1].body
    assert b"compressed" in seen[2].body
    assert all(b"tk_upstream" not in r.body for r in seen)


def test_a_chunked_reply_with_extensions_and_trailers_after_a_100(
    upstreams: Make, raw_server: Start
) -> None:
    url, _, accepted = raw_server(
        answering(
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            + b"%x;name=value\r\n%s\r\n" % (len(OK), OK)
            + b"0\r\nx-trailer: dropped\r\n\r\n",
            keep=True,
        )
    )
    upstream = upstreams(url, timeout=5)
    for _ in range(2):
        status, headers, body = upstream.send("GET", PATH, {}, b"", max_bytes=1 << 20)
        assert (status, body) == (200, OK)
        assert "x-trailer" not in headers
    assert accepted == [1]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 40\r\n\r\n{}", "twice"),
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "Transfer"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 40\r\n\r\n{}", "2 bytes into a 40-byte"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\n folded: x\r\ncontent-length: 0\r\n\r\n", "header line"),
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}}\r\n0\r\n\r\n", "chunk"),
        (b"HTTP/2 200\r\n\r\n", "status line"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched"),
    ],
    ids=[
        "two-lengths",
        "gzip-te",
        "short-body",
        "negative-length",
        "folded",
        "bad-chunk",
        "long-chunk",
        "http2",
        "upgrade",
    ],
)
def test_a_reply_that_breaks_http_framing_is_refused_by_name(
    upstreams: Make, raw_server: Start, answer: bytes, problem: str
) -> None:
    url, _, _ = raw_server(answering(answer, keep=False))
    with pytest.raises(RefoldConnectionError, match=r"not HTTP/1\.1") as caught:
        upstreams(url, timeout=5).send("GET", PATH, {}, b"", max_bytes=1 << 20)
    assert problem in str(caught.value)


def test_an_http_1_0_reply_is_not_reused_and_the_host_header_is_exact(
    upstreams: Make, raw_server: Start
) -> None:
    url, requests, accepted = raw_server(
        answering(b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n{}", keep=True)
    )
    upstream = upstreams(url, timeout=5)
    for _ in range(2):
        assert upstream.send("POST", PATH, {"x-a": "1"}, b"{}", max_bytes=100)[2] == b"{}"
    assert accepted == [2]
    lines = requests[0].decode().split("\r\n")
    assert lines[0] == f"POST {PATH} HTTP/1.1"
    assert lines[1:] == [f"host: {url.removeprefix('http://')}", "x-a: 1", "content-length: 2"]


@pytest.mark.parametrize("bad", ["1\r\nx-injected: 1", "1\nx", "a\x00b"])
def test_a_header_value_with_a_line_break_is_never_sent(
    upstreams: Make, raw_server: Start, bad: str
) -> None:
    url, requests, _ = raw_server(answering(reply(), keep=True))
    with pytest.raises(RefoldConnectionError, match="control character"):
        upstreams(url, timeout=5).send("GET", PATH, {"x-api-key": bad}, b"", max_bytes=100)
    assert requests == []
