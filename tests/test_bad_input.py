"""Bad input never crashes, hangs or grows without bound: request bodies, replies, slow servers,
the server's journal and log, and configuration. (Catalogue files: test_catalogue_input.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refold_contract import (
    AsyncRefoldClient,
    ProtocolError,
    RefoldClient,
    RefoldError,
    RefoldTimeout,
)
from refold_contract.config import Limits
from refold_contract.mock import RefoldMock
from refold_contract.mock.server import running_server

BASE = "https://app.refold.ai/api/v2/integration-schema"
HEADERS = {"x-api-key": "tk_test", "linked_account_id": "user_1"}
EXECUTE = f"{BASE}/hubspot/actions/get_contact/execute"


def execute(mock: RefoldMock, content: bytes, **headers: str) -> httpx.Response:
    return mock.handle(
        httpx.Request("POST", EXECUTE, content=content, headers={**HEADERS, **headers})
    )


def envelope(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"status_code", "http_error_type", "error_code", "message", "request_id"}
    return body  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- request bodies


@pytest.mark.parametrize("depth", [129, 2_000, 100_000])
def test_a_deep_body_gets_refolds_400_not_a_recursion_error(depth: int) -> None:
    response = execute(RefoldMock(), b"[" * depth + b"]" * depth)
    assert response.status_code == 400
    body = envelope(response)
    assert body["error_code"] == "VALIDATION_ERROR"
    assert "nested too deep" in str(body["message"])


def test_a_huge_body_gets_413_and_the_limit_can_be_changed() -> None:
    big = json.dumps({"limit": "1", "pad": "x" * 2_000}).encode()
    small = RefoldMock(limits=Limits(max_body_bytes=1_000))
    response = execute(small, big)
    assert response.status_code == 413
    assert envelope(response)["error_code"] == "VALIDATION_ERROR"
    assert execute(RefoldMock(), big).status_code == 200


@pytest.mark.parametrize(
    "content",
    [b'{"limit": NaN}', b'{"limit": Infinity}', b'{"limit": 1e999}', b'{"limit": "\xff"}',
     "{}".encode("utf-16"), b'{"limit": ' + b"9" * 5_000 + b"}"],
    ids=["NaN", "Infinity", "1e999", "not UTF-8", "UTF-16", "5000 digits"],
)  # fmt: skip
def test_bodies_that_are_not_strict_json_are_refused_as_not_json(content: bytes) -> None:
    response = execute(RefoldMock(), content)
    assert response.status_code == 400
    assert "not valid JSON" in str(envelope(response)["message"])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=300),
        JSON.map(lambda v: json.dumps(v).encode()),
        st.integers(1, 3_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    ),
    st.sampled_from(["application/json", "text/plain", "", "application/x-www-form-urlencoded"]),
)
def test_any_bytes_to_the_mock_get_a_refold_envelope_or_a_reply(
    content: bytes, content_type: str
) -> None:
    mock = RefoldMock(strict=True)
    for path in ("hubspot/actions/get_contact/execute", "hubspot/actions/create_contact/execute"):
        response = mock.handle(
            httpx.Request("POST", f"{BASE}/{path}", content=content,
                          headers={**HEADERS, "content-type": content_type})
        )  # fmt: skip
        if response.status_code == 200:
            assert response.json()["node_status"]
        else:
            assert response.status_code in (400, 413)
            envelope(response)
    for call in mock.calls:  # the journal always serialises as standard JSON
        json.dumps(call.to_json(), allow_nan=False)


# ---------------------------------------------------------------------- replies


def client_for(reply: httpx.Response | bytes, **kwargs: object) -> RefoldClient:
    if isinstance(reply, bytes):
        reply = httpx.Response(200, content=reply, headers={"content-type": "application/json"})
    fixed = reply
    return RefoldClient(
        api_key="tk_1",
        linked_account_id="a",
        transport=httpx.MockTransport(lambda _: fixed),
        retries=0,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_deep_reply_is_a_protocol_error() -> None:
    deep = b'{"node_status": "Success", "data": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"
    with client_for(deep) as client, pytest.raises(ProtocolError, match="nesting"):
        client.execute("hubspot", "get_contact")


def test_a_reply_over_the_limit_is_a_protocol_error() -> None:
    big = json.dumps({"node_status": "Success", "data": "x" * 5_000}).encode()
    with (
        client_for(big, limits=Limits(max_reply_bytes=1_000)) as client,
        pytest.raises(ProtocolError, match="over the limit of 1,000 bytes"),
    ):
        client.execute("hubspot", "get_contact")


@settings(max_examples=300, deadline=None)
@given(
    body=st.one_of(
        st.binary(max_size=200),
        JSON.map(lambda v: json.dumps(v).encode()),
        st.integers(100, 3_000).map(lambda n: b"[" * n + b"]" * n),
    ),
    status=st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 502]),
    content_type=st.sampled_from(["application/json", "text/html", "", "application/xml"]),
)
def test_any_reply_gives_a_result_or_a_refold_error(
    body: bytes, status: int, content_type: str
) -> None:
    reply = httpx.Response(status, content=body, headers={"content-type": content_type})
    with client_for(reply) as client:
        for call in (
            lambda: client.execute("hubspot", "get_contact", check=False),
            lambda: client.list_actions("hubspot"),
            lambda: client.get_action_schema("hubspot", "get_contact"),
        ):
            with contextlib.suppress(RefoldError):
                call()


# ---------------------------------------------------------------------- slow servers


@pytest.fixture
def dripping() -> Iterator[str]:
    """A server that sends one byte every 0.25 s, forever: the headers, then the body."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    def drip(conn: socket.socket) -> None:
        reply = b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n" + b"x" * 100_000
        try:
            conn.recv(65536)
            for byte in reply:
                if stop.is_set():
                    break
                conn.sendall(bytes([byte]))
                time.sleep(0.25)
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()


def test_timeout_bounds_a_whole_attempt_against_a_dripping_server(dripping: str) -> None:
    started = time.monotonic()
    with (
        RefoldClient(api_key="tk_1", linked_account_id="a", base_url=dripping, timeout=1,
                     retries=0) as client,
        pytest.raises(RefoldTimeout, match="longer than timeout=1 s"),
    ):  # fmt: skip
        client.execute("hubspot", "get_contact")
    assert time.monotonic() - started < 2.5


def test_max_time_bounds_the_whole_call_with_retries(dripping: str) -> None:
    started = time.monotonic()
    with (
        RefoldClient(api_key="tk_1", linked_account_id="a", base_url=dripping, timeout=1,
                     retries=5, max_time=1.5, sleep=lambda _: None) as client,
        pytest.raises(RefoldTimeout),
    ):  # fmt: skip
        client.execute("hubspot", "get_contact")
    assert time.monotonic() - started < 3


def test_the_async_client_is_bounded_the_same_way(dripping: str) -> None:
    async def run() -> None:
        async with AsyncRefoldClient(api_key="tk_1", linked_account_id="a", base_url=dripping,
                                     timeout=1, retries=0) as client:  # fmt: skip
            with pytest.raises(RefoldTimeout):
                await client.execute("hubspot", "get_contact")

    started = time.monotonic()
    asyncio.run(run())
    assert time.monotonic() - started < 2.5


# ---------------------------------------------------------------------- the server


def test_the_servers_journal_is_bounded_and_always_standard_json() -> None:
    from refold_contract.mock.server import build_mock

    mock = build_mock(journal_size=5)
    with running_server(mock) as server, httpx.Client(base_url=server.url) as http:
        big = json.dumps({"limit": "1", "pad": "x" * 1_000_000}).encode()
        for _ in range(8):
            http.post("/api/v2/integration-schema/hubspot/actions/get_contact/execute",
                      content=big, headers=HEADERS)  # fmt: skip
        http.post("/api/v2/integration-schema/hubspot/actions/get_contact/execute",
                  content=b'{"limit": NaN}', headers=HEADERS)  # fmt: skip
        raw = http.get("/__refold/calls").content
    calls = json.loads(raw, parse_constant=lambda name: pytest.fail(f"{name} in the journal"))
    assert len(calls) == 5
    assert len(raw) < 5 * 70_000  # bodies over 64 KB are kept truncated
    assert calls[0]["params"]["<truncated>"].endswith("bytes")
    assert calls[-1]["status"] == 400


def test_the_server_refuses_a_body_over_the_limit_with_413() -> None:
    mock = RefoldMock(limits=Limits(max_body_bytes=1_000))
    with running_server(mock) as server, httpx.Client(base_url=server.url) as http:
        reply = http.post("/api/v2/integration-schema/hubspot/actions/get_contact/execute",
                          content=b"{" + b" " * 5_000 + b"}", headers=HEADERS)  # fmt: skip
    assert reply.status_code == 413
    assert reply.json()["error_code"] == "VALIDATION_ERROR"


def test_one_request_is_one_log_line_whatever_its_path() -> None:
    from refold_contract.mock.server import MockApp

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger = logging.getLogger("refold_contract.server")
    handler, level, disabled = Keep(), logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.disabled = False  # another library's logging set-up may have turned it off
    try:
        with running_server() as server, httpx.Client(base_url=server.url) as http:
            server.app.access_log = True
            assert isinstance(server.app, MockApp)
            http.get("/api/v2/x%0Aforged%20200%20OK%0D%1B%5B31m", headers=HEADERS)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled
    assert len(lines) == 1
    assert "\n" not in lines[0]
    assert "\r" not in lines[0]
    assert "\x1b" not in lines[0]
    assert "\\n" in lines[0]


# ---------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("args", "env", "ini", "message"),
    [
        (["--refold-base-url", "staging.refold.ai"], {}, "", "is not an http(s) URL"),
        ([], {"REFOLD_BASE_URL": "ftp://x"}, "", "is not an http(s) URL"),
        ([], {}, "refold_base_url = app.refold.ai\n", "is not an http(s) URL"),
        (["--refold-base-url", "https://u:secret@app.refold.ai"], {}, "", "holds credentials"),
        ([], {"REFOLD_LIVE": "maybe"}, "", "is not a yes/no value"),
        ([], {}, "refold_rate = fast\n", "refold_rate = 'fast' is not a number"),
        ([], {}, "refold_burst = 0\n", "refold_burst must be positive"),
        (["--refold-contract", "--refold-examples", "0"], {}, "", "at least 1"),
    ],
    ids=["option", "environment", "ini", "credentials in the URL", "REFOLD_LIVE", "rate",
         "burst", "examples"],
)  # fmt: skip
def test_configuration_errors_are_one_line_usage_errors(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    ini: str,
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n" + ini)
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr.str()
    assert message in errors[0]
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert "Traceback" not in output
    assert "secret" not in output


@pytest.mark.parametrize("brackets", [1, 129, 5_000])
def test_an_escaped_quote_before_deep_brackets_is_not_json_not_a_crash(brackets: int) -> None:
    from refold_contract._core.json import JSONProblem, depth_of, loads

    text = b'{"\\' + b"[" * brackets + b'"": null}'
    assert depth_of(text) >= 0
    with pytest.raises(JSONProblem):
        loads(text)
    assert execute(RefoldMock(), text).status_code == 400


def test_a_client_inventing_names_cannot_grow_a_long_running_mock() -> None:
    mock = RefoldMock(rate_limit=True)
    for i in range(5_000):
        mock.handle(
            httpx.Request(
                "POST",
                f"{BASE}/app{i}/actions/act{i}/execute",
                content=b"{}",
                headers={**HEADERS, "linked_account_id": f"user_{i}"},
            )
        )
    assert len(mock.misses()) == 100
    assert len(mock._buckets) <= 4096
    # The rate limit still holds for an account seen after the bound was reached.
    late = {**HEADERS, "linked_account_id": "late"}
    statuses = [execute(mock, b'{"limit": "1"}', **late).status_code for _ in range(6)]
    assert statuses[-1] == 429


@pytest.mark.parametrize(
    "content", [b'{"\\ud800": "1"}', b'{"limit": "1", "\\udfff\\ud800": {"\\ud800": 1}}']
)
def test_a_lone_surrogate_in_a_request_gets_refolds_reply_not_a_unicode_error(
    content: bytes,
) -> None:
    response = execute(RefoldMock(strict=True), content)
    assert response.status_code == 400
    assert "\\ud800" in response.text  # echoed, escaped, in Refold's envelope
    assert envelope(response)["error_code"] == "VALIDATION_ERROR"
