"""The read-only gateway attacked over real sockets: a recording stand-in for Refold on
127.0.0.1, the gateway served in front of it, and raw HTTP sent the ways someone would try to
get a write through or the working key out.

The stand-in writes whatever raw reply a test sets (hostile status lines, headers, bodies) and
keeps every request that reaches it, so "nothing was forwarded" is "its list stayed empty".
"""

from __future__ import annotations

import gzip
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from refold_contract._guard.custody import Credentials
from refold_contract.live.gateway import Gateway, GatewayConfig, serve

from .helpers import FAKE_KEY, FAKE_TOKEN

P = "/api/v2/integration-schema"
ACCOUNT = "acct_attack_1"
OK = json.dumps({"node_status": "Success", "http_status": 200, "data": {"id": "1"}}).encode()


def execute(action_id: str, slug: str = "hubspot") -> str:
    return f"{P}/{slug}/actions/{action_id}/execute"


@dataclass
class Arrival:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    """Refold, as far as the gateway can tell: records what arrives, answers ``reply`` raw."""

    url: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    reply: bytes = b""
    hang: threading.Event | None = None

    def answer(self, status: str, headers: dict[str, str], body: bytes) -> None:
        lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items())]
        lines.append(f"Content-Length: {len(body)}")
        self.reply = ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _handler(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            standin.arrivals.append(Arrival(self.command, self.path, headers, body))
            if standin.hang is not None:
                standin.hang.wait(10)
            self.wfile.write(standin.reply)
            self.wfile.flush()
            self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def standin_server() -> Iterator[StandIn]:
    found = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    server.daemon_threads = True
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def standin(standin_server: StandIn) -> Iterator[StandIn]:
    """The module's stand-in, with nothing arrived yet and a plain read reply."""
    standin_server.arrivals.clear()
    standin_server.answer("200 OK", {"Content-Type": "application/json"}, OK)
    yield standin_server
    if standin_server.hang is not None:
        standin_server.hang.set()
        standin_server.hang = None


def _gateway(standin: StandIn, credentials: Credentials, **config: object) -> Iterator[str]:
    gateway = Gateway(
        GatewayConfig(upstream=standin.url, **config),  # type: ignore[arg-type]
        credentials,
    )
    server, url = serve(gateway)
    yield url
    server.shutdown()
    server.server_close()
    gateway.close()


@pytest.fixture(scope="module")
def gateway(standin_server: StandIn) -> Iterator[str]:
    yield from _gateway(
        standin_server,
        Credentials(api_key=FAKE_KEY, linked_account_id=ACCOUNT),
        timeout=2.0,
        max_reply_bytes=4096,
    )


def send_raw(url: str, data: bytes) -> bytes:
    """``data`` to the gateway as it is, and everything it answers until it closes."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out


def request(method: str, target: str, headers: dict[str, str] | None = None,
            body: bytes = b"{}") -> bytes:  # fmt: skip
    given = {k.lower() for k in headers or {}}  # a header given replaces the default
    defaults = {"Host": "127.0.0.1", "Connection": "close",
                "Content-Length": str(len(body)), "Content-Type": "application/json"}  # fmt: skip
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in defaults.items() if k.lower() not in given]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


# ---------------------------------------------------------------------- writes stay home


WRITES = [
    ("POST", execute("create_contact")),
    ("POST", execute("delete_contact")),
    ("POST", execute("httprequest")),
    ("POST", execute("frobnicate")),  # unknown: a write
    ("POST", execute("get_contactAndDelete")),  # camelCase hump
    ("POST", execute("getContactThenUpdate")),
    ("POST", execute("Get_Contact_Remove")),
    ("POST", execute("list_contacts.delete")),  # a dot splits words too
    ("POST", execute("list-contacts-purge")),
    ("POST", execute("fetch2delete")),  # a digit splits words too
    ("POST", execute("get_contact;create_contact")),
    ("POST", execute("get_contact,create_contact")),
    ("POST", execute("create_contact") + "/"),
    ("POST", execute("create_contact") + "?action=get_contact"),
    ("POST", execute("create_contact") + "#get_contact"),
    ("POST", f"{P}/hubspot/actions/get_contact/../create_contact/execute"),
    ("POST", f"{P}/hubspot/actions/get_contact/%2E%2E/create_contact/execute"),
    ("POST", f"{P}/hubspot/actions/%63reate_contact/execute"),
    ("POST", f"{P}/hubspot/actions/get_contact/execute/../../create_contact/execute"),
    ("POST", f"{P}//hubspot/actions/create_contact/execute"),
    ("POST", f"{P}/hubspot/actions/get_contact/execute;create"),
    ("POST", f"{P}/hubspot/actions/get_contact/Execute"),
    ("post", execute("create_contact")),  # a lower-case method
    ("post", execute("get_contact")),
    ("PoSt", execute("get_contact")),
    ("GET", execute("get_contact")),  # the wrong method for execute
    ("PUT", execute("get_contact")),
    ("PATCH", f"{P}/hubspot/actions/get_contact"),
    ("DELETE", f"{P}/hubspot/actions/get_contact"),
    ("DELETE", f"{P}/hubspot/actions"),
    ("POST", f"{P}/hubspot/actions"),
    ("POST", f"{P}/hubspot/actions/get_contact"),
    ("HEAD", f"{P}/hubspot/actions"),
    ("OPTIONS", execute("create_contact")),
    ("TRACE", execute("get_contact")),
    ("CONNECT", "app.refold.ai:443"),
    ("POST", "http://app.refold.ai" + execute("create_contact")),  # absolute form
    ("POST", "http://127.0.0.1" + execute("get_contact")),
    ("POST", "*"),
    ("POST", f"/__refold/gateway/..{execute('create_contact')}"),
    ("POST", f"/__refold/gateway{execute('create_contact')}"),
    ("POST", f"/t/tok/__refold/gateway/collect/tok{execute('create_contact')}"),
    ("POST", f"/t/one/t/two{execute('get_contact')}"),
    ("POST", f"/m/one{execute('get_contact')}"),  # a test not marked refold_live
    ("POST", f"/t/{'x' * 65}{execute('get_contact')}"),
    ("POST", f"/t/a.b{execute('get_contact')}"),
    ("POST", f"/T/tok{execute('get_contact')}"),
    ("POST", execute("get_cont\xe4ct")),  # raw non-ASCII bytes on the wire
    ("POST", execute("x" * 129)),
    ("POST", execute("get_contact", slug="hub.spot/..")),
]


@pytest.mark.parametrize(("method", "target"), WRITES, ids=[f"{m} {t}" for m, t in WRITES])
def test_a_request_that_is_not_a_placed_read_never_reaches_refold(
    gateway: str, standin: StandIn, method: str, target: str
) -> None:
    reply = send_raw(gateway, request(method, target))
    assert status_of(reply) in (400, 403, 404, 405, 501), reply[:300]
    assert standin.arrivals == []


def test_a_second_request_smuggled_in_a_body_is_placed_on_its_own(
    gateway: str, standin: StandIn
) -> None:
    write = request("POST", execute("create_contact"))
    two_lengths = (
        (
            f"POST {execute('get_contact')} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
            f"Content-Length: {2 + len(write)}\r\n\r\n"
        ).encode()
        + b"{}"
        + write
    )
    replies = send_raw(gateway, two_lengths)
    # Two Content-Lengths (RFC 9112 6.3: an unrecoverable error): refused, the connection
    # closed, so the write hidden behind the first length is never read as a request.
    assert status_of(replies) == 400
    assert b"given twice" in replies
    assert replies.count(b"HTTP/1.1 ") == 1
    assert standin.arrivals == []
    # The same write behind a single honest length is read as a second request and refused.
    one_length = (
        (f"POST {execute('get_contact')} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n").encode()
        + b"{}"
        + write
    )
    replies = send_raw(gateway, one_length)
    assert [a.path for a in standin.arrivals] == [execute("get_contact")]
    assert replies.count(b"HTTP/1.1 ") == 2
    assert b"READ_ONLY_VIOLATION" in replies
    chunked = (
        f"POST {execute('get_contact')} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        f"Content-Length: 5\r\n\r\n0\r\n\r\n"
    ).encode() + write
    reply = send_raw(gateway, chunked)
    assert status_of(reply) == 411
    assert reply.count(b"HTTP/1.1 ") == 1  # the connection closes: the rest is never read
    assert len(standin.arrivals) == 1
    for crafted in (
        b"Content-Length: 2\r\n Content-Length: 99\r\n",  # a folded line
        b"Content-Length : 2\r\n",  # a space before the colon
        b"Content-Length: +2\r\n",
        b"Content-Length: 1_0\r\n",
        b"Content-Length: 0x2\r\n",
        b"X-A: a\x00b\r\nContent-Length: 2\r\n",  # NUL in a value
        b"linked_account_id: acct_1\r\nLinked_Account_Id: acct_2\r\nContent-Length: 2\r\n",
    ):
        raw = f"POST {execute('get_contact')} HTTP/1.1\r\nHost: x\r\n".encode() + crafted
        reply = send_raw(gateway, raw + b"\r\n{}" + write)
        assert status_of(reply) == 400, (crafted, reply[:200])
        assert reply.count(b"HTTP/1.1 ") == 1
    assert len(standin.arrivals) == 1


def test_only_the_gateways_own_headers_method_and_path_reach_refold(
    gateway: str, standin: StandIn
) -> None:
    dressed = {
        "X-Api-Key": "tk_attacker",
        "Authorization": "Bearer attacker",
        "linked_account_id": ACCOUNT,  # the right one: the request goes through
        "X-HTTP-Method-Override": "DELETE",
        "X-HTTP-Method": "DELETE",
        "X-Original-URL": execute("create_contact"),
        "X-Rewrite-URL": execute("create_contact"),
        "X-Forwarded-Host": "evil.example",
        "Cookie": "session=attacker",
        "Host": "app.refold.ai",
    }
    smuggled = send_raw(gateway, request("POST", execute("get_contact") + "/", dressed,
                                         b'{"limit": "1", "action_id": "create_contact"}'))  # fmt: skip
    assert status_of(smuggled) == 403  # a parameter get_contact's schema does not name
    assert b"'action_id' is not a parameter of hubspot/get_contact" in smuggled
    assert standin.arrivals == []
    reply = send_raw(gateway, request("POST", execute("get_contact") + "/", dressed,
                                      b'{"limit": "1"}'))  # fmt: skip
    assert status_of(reply) == 200
    [arrival] = standin.arrivals
    assert (arrival.method, arrival.path) == ("POST", execute("get_contact"))
    assert arrival.headers["x-api-key"] == FAKE_KEY
    assert arrival.headers["linked_account_id"] == ACCOUNT
    assert set(arrival.headers) <= {"host", "accept", "accept-encoding", "x-api-key",
                                    "linked_account_id", "content-type", "content-length"}  # fmt: skip
    assert arrival.headers["host"] == standin.url.removeprefix("http://")
    other = send_raw(gateway, request("POST", execute("get_contact"),
                                      {"linked_account_id": "acct_someone_else"}))  # fmt: skip
    assert status_of(other) == 403
    assert len(standin.arrivals) == 1


def test_with_a_session_token_the_clients_linked_account_is_not_forwarded(
    standin: StandIn,
) -> None:
    for url in _gateway(standin, Credentials(session_token=FAKE_TOKEN), timeout=2.0):
        send_raw(url, request("POST", execute("get_contact"),
                              {"linked_account_id": "acct_someone_else", "x-api-key": "tk_x"}))  # fmt: skip
    [arrival] = standin.arrivals
    assert arrival.headers["authorization"] == f"Bearer {FAKE_TOKEN}"
    assert "linked_account_id" not in arrival.headers
    assert "x-api-key" not in arrival.headers


# ---------------------------------------------------------------------- the key stays home


def _escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


HOSTILE = {
    "a redirect carrying the key": (
        "302 Found",
        {"Location": f"https://evil.example/?k={FAKE_KEY}", "Set-Cookie": f"k={FAKE_KEY}",
         "Content-Type": "application/json"},
        b"{}",
    ),
    "the key in the forwarded headers": (
        "200 OK",
        {"Content-Type": f"application/json; x={FAKE_KEY}", "X-Request-Id": FAKE_KEY,
         "Retry-After": FAKE_KEY},
        OK,
    ),
    "the key in an HTML page": ("502 Bad Gateway", {"Content-Type": "text/html"},
                                f"<p>bad key {FAKE_KEY}</p>".encode()),
    "the key behind JSON escapes": ("200 OK", {"Content-Type": "application/json"},
                                    f'{{"data": "{_escaped(FAKE_KEY)}"}}'.encode()),
    "the key behind escapes in a body that is not JSON": (
        "200 OK", {"Content-Type": "application/json"},
        f'{{"data": "{_escaped(FAKE_KEY)}" oops'.encode(),
    ),
    "the key compressed": (
        "200 OK", {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        gzip.compress(json.dumps({"data": FAKE_KEY}).encode()),
    ),
    "the key in a malformed status line": ("2OO " + FAKE_KEY, {}, b"{}"),
    "the key in a malformed header": ("200 OK", {f"X-{FAKE_KEY}\x01": FAKE_KEY}, b"{}"),
    "the key in a reply over the size limit": (
        "200 OK", {"Content-Type": "application/json"},
        json.dumps({"data": [FAKE_KEY] * 500}).encode(),
    ),
}  # fmt: skip


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_working_key_never_comes_back_whatever_refold_sends(
    gateway: str, standin: StandIn, hostile: str, caplog: pytest.LogCaptureFixture
) -> None:
    standin.answer(*HOSTILE[hostile])
    caplog.set_level(logging.INFO)  # what `refold-contract gateway` logs (httpcore's DEBUG
    # trace shows Refold's reply headers as they came; no gateway turns it on)
    reply = send_raw(gateway, request("POST", execute("get_contact")))
    assert len(standin.arrivals) == 1  # sent once, never followed anywhere
    for part in (FAKE_KEY, "s3cr3t", "DO_NOT_LEAK"):  # nor a piece of it
        assert part.encode() not in reply
        assert part not in caplog.text
    assert b"evil.example" not in reply
    assert b"set-cookie" not in reply.lower()


# ---------------------------------------------------------------------- ambiguous replies


def _dup(inner: str) -> bytes:
    """A read reply around ``inner``, marked so a test can tell if any of it passed."""
    return ('{"node_status": "Success", "http_status": 200, "marker": "PASSED_THROUGH", '
            f'"data": {inner}}}').encode()  # fmt: skip


AMBIGUOUS = {
    "a key twice at the top": (
        "200 OK",
        b'{"node_status": "Success", "data": "PASSED_THROUGH", "data": "' + FAKE_KEY.encode()
        + b'"}',
        "'data' twice",
    ),
    "a key twice deep in the data": (
        "200 OK",
        _dup('{"results": [{"id": "1", "owner": {"token": "x", "token": "' + FAKE_KEY + '"}}]}'),
        "'token' twice",
    ),
    "a key twice through a \\u spelling": ("200 OK", b'{"a":1,"\\u0061":2,"m":"PASSED_THROUGH"}',
                                          "'a' twice"),
    "the key hidden in an escaped duplicate": (
        "200 OK",
        _dup('{"token": "x", "\\u0074oken": "' + _escaped(FAKE_KEY) + '"}'),
        "'token' twice",
    ),
    "a key that is the working key, twice": (
        "200 OK", _dup('{"' + FAKE_KEY + '": 1, "' + _escaped(FAKE_KEY) + '": 2}'),
        "'<redacted>' twice",
    ),
    "a duplicate in an error reply": (
        "400 Bad Request",
        b'{"status_code": 400, "message": "PASSED_THROUGH", "message": "' + FAKE_KEY.encode()
        + b'"}',
        "'message' twice",
    ),
    "a body that is not JSON": ("200 OK", b"<p>PASSED_THROUGH</p>", "is not JSON"),
    "two documents in one body": ("200 OK", b'{"a": "PASSED_THROUGH"} {"a": "' + FAKE_KEY.encode()
                                  + b'"}', "is not JSON"),
    "NaN in a reply": ("200 OK", b'{"a": NaN, "m": "PASSED_THROUGH"}', "NaN or Infinity"),
    "a reply too deep": ("200 OK", b'{"m": "PASSED_THROUGH", "a": ' + b"[" * 200 + b"]" * 200
                         + b"}", "nested deeper"),
}  # fmt: skip


@pytest.mark.parametrize("ambiguous", AMBIGUOUS)
def test_an_ambiguous_reply_is_answered_502_and_nothing_of_it_passes(
    gateway: str, standin: StandIn, ambiguous: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, body, reason = AMBIGUOUS[ambiguous]
    standin.answer(status, {"Content-Type": "application/json"}, body)
    caplog.set_level(logging.INFO)
    reply = send_raw(gateway, request("POST", execute("get_contact")))
    assert len(standin.arrivals) == 1
    assert status_of(reply) == 502
    _, _, answered = reply.partition(b"\r\n\r\n")
    envelope = json.loads(answered)
    assert envelope["error_code"] == "SERVER_ERROR"
    assert envelope["http_error_type"] == "BAD_GATEWAY"
    assert envelope["message"].startswith("Refold's reply to hubspot/get_contact ")
    assert reason in envelope["message"]
    assert "withheld" in envelope["message"]
    for part in (FAKE_KEY, _escaped(FAKE_KEY), "PASSED_THROUGH", "DO_NOT_LEAK"):
        assert part.encode() not in reply
        assert part not in caplog.text


def test_an_unambiguous_reply_still_passes_as_refold_sent_it(
    gateway: str, standin: StandIn
) -> None:
    body = _dup('{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}], "\\u00e9": "\\u0061"}')
    standin.answer("200 OK", {"Content-Type": "application/json"}, body)
    reply = send_raw(gateway, request("POST", execute("get_contact")))
    assert status_of(reply) == 200
    assert reply.endswith(body)


def test_a_refold_that_never_answers_gets_504_in_the_gateways_time(
    gateway: str, standin: StandIn
) -> None:
    standin.hang = threading.Event()
    reply = send_raw(gateway, request("POST", execute("get_contact")))
    assert status_of(reply) == 504
    assert FAKE_KEY.encode() not in reply


def test_drift_from_a_hostile_reply_reaches_no_terminal_as_control_characters(
    gateway: str, standin: StandIn
) -> None:
    from refold_contract.live.gateway import collect_findings

    evil = "\x1b[2J\x1b]0;pwned\x07\nrefold-contract: no drift from the catalogue\r\x9b31m"
    data = {"results": [{evil: 1}], "paging": {}}
    standin.answer("200 OK", {"Content-Type": "application/json"},
                   json.dumps({"node_status": "Success", "http_status": 200, "data": data,
                               evil: evil}).encode())  # fmt: skip
    reply = send_raw(gateway, request("POST", f"/t/hostile{execute('get_contact')}"))
    assert status_of(reply) == 200
    drift = collect_findings(gateway, "hostile")["drift"]
    shown = [d["path"] for d in drift if d["kind"] == "key_added"]
    assert shown == [
        "data.results[].\\x1b[2J\\x1b]0;pwned\\x07\\nrefold-contract: no drift from the "
        "catalogue\\r\\x9b31m"
    ]
    for finding in drift:
        for text in finding.values():
            assert text.isprintable(), text


def test_the_control_paths_answer_only_the_holder_of_the_control_key() -> None:
    gw = Gateway(
        GatewayConfig(upstream="http://127.0.0.1:9"),
        Credentials(api_key=FAKE_KEY, linked_account_id=ACCOUNT),
        control_key="ck_only_the_plugin",
    )
    refused = gw.handle("POST", f"/t/tok{execute('create_contact')}", {}, b"{}")
    assert refused.status == 403
    for headers in ({}, {"x-refold-gateway-control": "ck_guess"}, {"x-refold-gateway-control": ""}):
        for method, path in [("POST", "/collect/tok"), ("POST", "/begin/proc/t/tok"),
                             ("GET", "/report"), ("GET", "/health")]:  # fmt: skip
            reply = gw.handle(method, "/__refold/gateway" + path, headers, b"")
            assert reply.status == 403, (method, path, headers)
    # Nothing was cleared or steered: the plugin, holding the key, still finds the refusal.
    key = {"X-Refold-Gateway-Control": "ck_only_the_plugin"}
    found = json.loads(gw.handle("POST", "/__refold/gateway/collect/tok", key, b"").body)
    assert found["refused"] == ["hubspot/create_contact: a write (its name says 'create')"]
    gw.close()


SWALLOWED_AND_CLEARED = """
import os, subprocess, sys
from urllib.parse import urlsplit

import httpx, pytest

CLEAR = '''
import os, sys, urllib.request
from urllib.parse import urlsplit
url = os.environ["REFOLD_BASE_URL"]
root, token = url.rsplit("/t/", 1)
request = urllib.request.Request(root + "/__refold/gateway/collect/" + token, data=b"",
                                 method="POST")
try:
    urllib.request.urlopen(request, timeout=10)
    print("cleared")
except Exception as exc:
    print("refused", getattr(exc, "code", exc))
'''


@pytest.mark.refold_live
def test_a_refusal_cleared_behind_the_plugins_back():
    try:
        httpx.post(os.environ["REFOLD_BASE_URL"]
                   + "/api/v2/integration-schema/hubspot/actions/create_contact/execute",
                   json={}).raise_for_status()
    except httpx.HTTPStatusError:
        pass
    done = subprocess.run([sys.executable, "-c", CLEAR], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "refused 403", done.stdout + done.stderr
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_test_cannot_clear_its_own_refusal_through_the_control_paths(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    from refold_contract.mock import RefoldMock
    from refold_contract.mock.server import running_server

    with running_server(RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)) as refold:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("REFOLD_BASE_URL", refold.url)
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
        pytester.makepyfile(test_cleared=SWALLOWED_AND_CLEARED)
        result = pytester.runpytest_subprocess("--refold-live", *workers)
    # The test body passed (the clearing was refused); its refusal still fails it.
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*the read-only gateway refused 1 request(s) from this test*"])
    assert refold.mock.calls == []
    assert FAKE_KEY not in result.stdout.str() + result.stderr.str()


STEERED_WITH_THE_CONTROL_KEY = """
import json, os, subprocess, sys

import httpx, pytest

from refold_contract._plugin.session import refold_session

STEER = '''
import json, os, sys, urllib.request
root, what, key = sys.argv[1], sys.argv[2], sys.argv[3]
request = urllib.request.Request(root + "/__refold/gateway" + what, data=b"", method="POST",
                                 headers={"X-Refold-Gateway-Control": key})
print(urllib.request.urlopen(request, timeout=10).status)
'''


def write_then(steer):
    try:
        httpx.post(os.environ["REFOLD_BASE_URL"]
                   + "/api/v2/integration-schema/hubspot/actions/create_contact/execute",
                   json={}).raise_for_status()
    except httpx.HTTPStatusError:
        pass
    done = subprocess.run([sys.executable, "-c", STEER, *steer], capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.strip() == "200", done.stdout + done.stderr


@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)
def test_reads_its_own_findings_first(request):
    session = refold_session(request.config)
    root, token = os.environ["REFOLD_BASE_URL"].rsplit("/t/", 1)
    write_then([root, "/collect/" + token, session.control_key])


@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)
def test_begins_another_test_for_its_process(request):
    session = refold_session(request.config)
    root = os.environ["REFOLD_BASE_URL"].rsplit("/t/", 1)[0]
    write_then([root, f"/begin/{session.process_token}/t/elsewhere", session.control_key])
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_test_holding_the_control_key_cannot_hide_what_it_did(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    """In local mode the control key lives in the test process (or its xdist worker), so test
    code can take it; using it is caught: reading a test's findings clears nothing and is seen,
    and beginning another test mid-test fails the test it displaced, allow_refused or not."""
    from refold_contract.mock import RefoldMock
    from refold_contract.mock.server import running_server

    with running_server(RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)) as refold:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("REFOLD_BASE_URL", refold.url)
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
        pytester.makepyfile(test_steered=STEERED_WITH_THE_CONTROL_KEY)
        result = pytester.runpytest_subprocess("--refold-live", "-p", "no:randomly", *workers)
    result.assert_outcomes(passed=2, errors=2)
    # Either order: under xdist the two tests' errors are reported as their workers finish.
    result.stdout.fnmatch_lines(
        ["*something other than refold-contract read this test's findings*"]
    )
    result.stdout.fnmatch_lines(["*another test began in this test process while this one ran*"])
    assert refold.mock.calls == []
    assert FAKE_KEY not in result.stdout.str() + result.stderr.str()
