"""The read-only gateway's own rules, the egress guard, custody and the name rule, as units.

The end-to-end tests (every client, every process) are in test_read_only.py.
"""

from __future__ import annotations

import _socket
import asyncio
import contextlib
import http.client
import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refold_contract import (
    AsyncRefoldClient,
    EgressBlocked,
    InvalidIdentifier,
    ReadOnlyViolation,
    RefoldClient,
)
from refold_contract._core.endpoint import Placed, place
from refold_contract._guard.custody import PLACEHOLDERS, Credentials, Custody
from refold_contract._guard.egress import EgressGuard
from refold_contract.access import access_from_name, name_words
from refold_contract.live.gateway import Gateway, GatewayConfig, GatewayProcess
from refold_contract.mock import RefoldMock

from .helpers import FAKE_KEY

P = "/api/v2/integration-schema"


# ---------------------------------------------------------------------- the name rule


@pytest.mark.parametrize(
    ("name", "access"),
    [
        ("get_contact", "read"),
        ("getContacts", "read"),
        ("listChannels", "read"),
        ("search_contacts", "read"),
        ("get_contactAndDelete", "write"),
        ("get_and_sendEmail", "write"),
        ("getContactThenUpdate", "write"),
        ("get2delete", "write"),
        ("GET_CONTACT_AND_REMOVE", "write"),
        ("get_contäct", "write"),  # non-ASCII letters: nothing is known about it
        ("get_contact/../create_contact", "write"),
        ("httprequest", "write"),
        ("HTTPRequest", "write"),
        ("", "write"),
    ],
)
def test_the_name_rule_splits_camel_case_and_digits_and_denies_by_default(
    name: str, access: str
) -> None:
    assert access_from_name(name) == access


def test_name_words() -> None:
    assert name_words("listHTTPRequests2") == ("list", "http", "requests", "2")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_a_name_with_a_write_word_anywhere_is_never_a_read(name: str) -> None:
    words = name_words(name)
    if any(w in ("create", "delete", "update", "send", "httprequest") for w in words):
        assert access_from_name(name) == "write"


# ---------------------------------------------------------------------- placing requests


@pytest.mark.parametrize(
    "target",
    [
        f"{P}/hubspot/actions/get_contact/../create_contact/execute",
        f"{P}/hubspot/actions/get_contact%2F..%2Fcreate_contact/execute",
        f"{P}/hubspot/actions/%63reate_contact/execute",
        f"{P}/hubspot/actions//create_contact/execute",
        f"{P}/hubspot/actions/./create_contact/execute",
        f"{P}/hubspot/actions/create_contact/execute?x=1",
        f"{P}/hubspot/actions/create_contact/execute#frag",
        f"{P}/hubspot/actions/get_contact/EXECUTE",
        "/API/v2/integration-schema/hubspot/actions/get_contact/execute",
        f"{P}/hubspot/Actions/get_contact/execute",
        f"{P}/hubspot/actions/get_contact/execute/extra",
        f"{P}/hub spot/actions/get_contact/execute",
        f"{P}/hubspot/actions/get\\contact/execute",
        f"{P}/hubspot/actions/get_contact\x00/execute",
        "api/v2/integration-schema/hubspot/actions/get_contact/execute",
        f"/t/../{P}/hubspot/actions/get_contact/execute",
        f"/t/a%2Fb{P}/hubspot/actions/get_contact/execute",
    ],
)
def test_paths_that_do_not_map_to_exactly_one_operation_are_unplaced(target: str) -> None:
    assert not isinstance(place("POST", target), Placed)


def test_placing_reads_the_test_prefix_and_the_method() -> None:
    placed = place("POST", f"/t/abc123{P}/hubspot/actions/get_contact/execute")
    assert placed == Placed("abc123", True, "execute", "hubspot", "get_contact")
    assert place("GET", f"/m/x{P}/slack/actions") == Placed(
        "x", False, "list_actions", "slack", None
    )
    assert place("GET", f"{P}/slack/actions/list_channels/").operation == "schema"  # type: ignore[union-attr]
    assert not isinstance(place("GET", f"{P}/slack/actions/list_channels/execute"), Placed)
    assert not isinstance(place("DELETE", f"{P}/slack/actions"), Placed)
    assert not isinstance(place("HEAD", f"{P}/slack/actions"), Placed)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=120))
def test_whatever_is_placed_rebuilds_to_the_very_same_path(tail: str) -> None:
    target = f"{P}/{tail}"
    placed = place("POST", target)
    if isinstance(placed, Placed):
        assert target.rstrip("/") == placed.path


# ---------------------------------------------------------------------- the gateway, in process


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, RefoldMock]]:
    upstream = RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)
    gw = Gateway(
        GatewayConfig(upstream="http://refold.test"),
        Credentials(api_key=FAKE_KEY, linked_account_id="acct_1"),
        transport=httpx.MockTransport(upstream.handle),
    )
    yield gw, upstream
    gw.close()


def test_the_gateway_forwards_reads_with_the_working_key_and_refuses_writes(
    gateway: tuple[Gateway, RefoldMock],
) -> None:
    gw, upstream = gateway
    read = gw.handle("POST", f"{P}/hubspot/actions/get_contact/execute", {}, b'{"limit": "1"}')
    assert read.status == 200
    assert json.loads(read.body)["node_status"] == "Success"
    write = gw.handle("POST", f"{P}/hubspot/actions/create_contact/execute", {}, b"{}")
    assert write.status == 403
    body = json.loads(write.body)
    assert body["error_code"] == "READ_ONLY_VIOLATION"
    assert "hubspot/create_contact" in body["message"]
    assert "it is a write (its name says 'create')" in body["message"]
    unknown = json.loads(
        gw.handle("POST", f"{P}/hubspot/actions/frobnicate/execute", {}, b"{}").body
    )
    assert "refold-contract pull hubspot adds it" in unknown["message"]
    assert [c.action_id for c in upstream.calls] == ["get_contact"]
    assert upstream.calls[0].status == 200  # it carried the working key


def test_the_gateway_refuses_another_linked_account_and_bad_bodies(
    gateway: tuple[Gateway, RefoldMock],
) -> None:
    gw, upstream = gateway
    other = gw.handle(
        "POST", f"{P}/slack/actions/list_channels/execute", {"linked_account_id": "acct_2"}, b"{}"
    )
    assert other.status == 403
    nan = gw.handle("POST", f"{P}/slack/actions/list_channels/execute", {}, b'{"a": NaN}')
    assert nan.status == 400
    deep = gw.handle("POST", f"{P}/slack/actions/list_channels/execute", {}, b"[" * 5000)
    assert deep.status == 400
    assert upstream.calls == []


def test_the_gateway_scrubs_its_key_from_replies_however_it_is_written(
    gateway: tuple[Gateway, RefoldMock],
) -> None:
    gw, upstream = gateway
    escaped = "".join(f"\\u{ord(c):04x}" for c in FAKE_KEY)
    upstream.stub(
        "slack",
        "list_channels",
        data={"echo": FAKE_KEY, FAKE_KEY: "key", "text": f"key {FAKE_KEY}!", "esc": "x"},
    )
    reply = gw.handle("POST", f"{P}/slack/actions/list_channels/execute", {}, b"{}")
    assert FAKE_KEY.encode() not in reply.body
    upstream.reset()
    upstream.stub("slack", "list_channels", data={"esc": "PLACEHOLDER"})
    raw = upstream.handle(
        httpx.Request(
            "POST",
            f"http://refold.test{P}/slack/actions/list_channels/execute",
            headers={"x-api-key": FAKE_KEY, "linked_account_id": "acct_1"},
        )
    ).content.replace(b"PLACEHOLDER", escaped.encode())
    assert FAKE_KEY not in gw._scrub_reply(raw).decode()
    assert json.loads(gw._scrub_reply(raw))["data"]["esc"] == "<redacted>"


def test_gateway_findings_are_kept_per_test_and_for_the_session(
    gateway: tuple[Gateway, RefoldMock],
) -> None:
    gw, _ = gateway
    gw.handle("POST", f"/t/one{P}/hubspot/actions/delete_contact/execute", {}, b"{}")
    gw.handle("POST", f"/m/two{P}/slack/actions/list_channels/execute", {}, b"{}")
    one = gw.collect("one")
    assert one["refused"] == ["hubspot/delete_contact: a write (its name says 'delete')"]
    assert "not marked refold_live" in gw.collect("two")["refused"][0]
    # Reading clears nothing: a second read (by test code holding the control key, say) sees
    # the same refusal, and says it is the second.
    again = gw.collect("one")
    assert again["refused"] == one["refused"]
    assert (one["collects"], again["collects"]) == (1, 2)
    assert len(gw.report()["refused"]) == 2
    assert gw.report()["refused_outside_tests"] == []  # both collected with their tests


def test_the_gateway_process_takes_credentials_over_its_pipe_only(tmp_path: Path) -> None:
    with RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False) as _:
        pass
    from refold_contract.mock.server import running_server

    with running_server(RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)) as upstream:
        process = GatewayProcess.start(
            GatewayConfig(upstream=upstream.url),
            Credentials(api_key=FAKE_KEY, linked_account_id="acct_1"),
        )
        try:
            pid = process.process.pid
            assert FAKE_KEY.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
            with contextlib.suppress(PermissionError):  # not dumpable: only root reads it
                assert FAKE_KEY.encode() not in Path(f"/proc/{pid}/environ").read_bytes()
            with httpx.Client(base_url=process.url) as http:
                reply = http.post(f"{P}/zendesk/actions/get_ticket_by_id/execute",
                                  json={"ticket_id": "1"})  # fmt: skip
                assert reply.status_code == 200
            assert process.report()["reads"] == 1
            assert "<set>" in repr(Credentials(api_key=FAKE_KEY))
            assert FAKE_KEY not in repr(process)
        finally:
            process.stop()
        assert not process.alive()


def test_a_gateway_that_cannot_start_says_why_in_one_error(tmp_path: Path) -> None:
    from refold_contract.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="gateway did not start"):
        GatewayProcess.start(
            GatewayConfig(fixtures=(str(tmp_path / "missing"),)),
            Credentials(api_key=FAKE_KEY, linked_account_id="a"),
        )


# ---------------------------------------------------------------------- custody


def test_custody_leaves_placeholders_and_gives_the_credentials_back() -> None:
    env = {"REFOLD_API_KEY": FAKE_KEY, "REFOLD_LINKED_ACCOUNT_ID": "acct_1"}
    custody = Custody.take(env)
    assert env["REFOLD_API_KEY"] == PLACEHOLDERS["REFOLD_API_KEY"]
    assert "REFOLD_SESSION_TOKEN" not in env
    assert custody.credentials() == Credentials(api_key=FAKE_KEY, linked_account_id="acct_1")
    assert FAKE_KEY not in repr(custody) + repr(custody.credentials())
    assert Custody.take(env).holds_credentials is False  # placeholders are not taken twice
    custody.restore()
    assert env["REFOLD_API_KEY"] == FAKE_KEY


def test_custody_blanks_the_initial_environment_block() -> None:
    script = (
        "import os; from refold_contract._guard.custody import Custody; Custody.take(); "
        "print(os.environ['REFOLD_API_KEY']); "
        f"print({FAKE_KEY!r}.encode() in open('/proc/self/environ','rb').read())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={"REFOLD_API_KEY": FAKE_KEY, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == [PLACEHOLDERS["REFOLD_API_KEY"], "False"]


# ---------------------------------------------------------------------- the egress guard


@pytest.fixture
def guard() -> Iterator[EgressGuard]:
    blocked = socket.socket()
    blocked.bind(("127.0.0.1", 0))
    blocked.listen()
    port = blocked.getsockname()[1]
    g = EgressGuard(hosts={"app.refold.ai"}, addresses={("127.0.0.1", port)}, hint="use the mock")
    g.port = port  # type: ignore[attr-defined]
    with g.installed():
        yield g
    blocked.close()


def test_the_egress_guard_stops_every_client(
    guard: EgressGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This project's conftest answers look-ups of other hosts itself, before the guard would
    # see them; the guard refuses Refold's names before any look-up leaves the machine.
    monkeypatch.setattr(socket, "getaddrinfo", _socket.getaddrinfo)
    port = guard.port  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}/api/v2/integration-schema/hubspot/actions"
    import aiohttp
    import requests

    def each() -> Iterator[object]:
        yield lambda: httpx.get(url)
        yield lambda: httpx.get("https://app.refold.ai/")
        yield lambda: requests.get(url, timeout=5)
        yield lambda: urllib.request.urlopen(url, timeout=5)
        yield lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=5).request("GET", "/")
        yield lambda: socket.create_connection(("app.refold.ai", 443), timeout=5)
        yield lambda: socket.gethostbyname("api.app.refold.ai")

        async def with_aiohttp() -> None:
            async with aiohttp.ClientSession() as session, session.get(url) as reply:
                await reply.read()

        yield lambda: asyncio.run(with_aiohttp())

    for call in each():
        with pytest.raises(Exception) as info:  # noqa: PT011 - every client wraps it its own way
            call()  # type: ignore[operator]
        assert "refold-contract blocked a connection" in str(info.value) or isinstance(
            info.value, EgressBlocked
        ), repr(info.value)
    assert len(guard.take_attempts()) == 8
    assert guard.take_attempts() == []


def test_the_egress_guard_leaves_other_loopback_servers_alone(guard: EgressGuard) -> None:
    from refold_contract.mock.server import running_server

    with running_server() as server:
        assert httpx.get(server.url + "/__refold/calls").status_code == 200
    assert guard.take_attempts() == []


def test_the_guard_for_a_session_blocks_what_the_mode_says() -> None:
    mock = EgressGuard.for_settings("https://app.refold.ai", live=False)
    assert mock.blocks_host("app.refold.ai")
    assert mock.blocks_host("api.gocobalt.io")
    assert "refold_mock" in mock.hint
    local = EgressGuard.for_settings("http://127.0.0.1:8700", live=False)
    assert not local.blocks_address("127.0.0.1", 8700)  # your own refold-contract serve
    live = EgressGuard.for_settings("http://127.0.0.1:8700", live=True, gateway_url="http://g")
    assert live.blocks_address("127.0.0.1", 8700)
    assert not live.blocks_address("127.0.0.1", 8701)
    assert "REFOLD_BASE_URL" in live.hint
    staging = EgressGuard.for_settings("https://staging.refold.example", live=True)
    assert staging.blocks_host("staging.refold.example")


# ---------------------------------------------------------------------- the client


CRAFTED = [
    ("hubspot", "get_contact/../create_contact"),
    ("hubspot", "get_contact#create"),
    ("hubspot", "get_contact?x=1"),
    ("hubspot/../salesforce", "get_contact"),
    ("hubspot", ".."),
    ("hubspot", "."),
    ("hub spot", "get_contact"),
    ("hubspot", "x" * 129),
    ("hubspot", "get_cöntact"),
]


@pytest.mark.parametrize(("slug", "action_id"), CRAFTED)
def test_crafted_ids_raise_before_anything_is_sent(slug: str, action_id: str) -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(500))  # type: ignore[func-returns-value]
    with RefoldClient(api_key="tk_1", linked_account_id="a", transport=transport) as client:
        with pytest.raises(InvalidIdentifier):
            client.execute(slug, action_id, {})
        with pytest.raises(InvalidIdentifier):
            client.get_action_schema(slug, action_id)

    async def run() -> None:
        atransport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(500))  # type: ignore[func-returns-value]
        async with AsyncRefoldClient(
            api_key="tk_1", linked_account_id="a", transport=atransport
        ) as aclient:
            with pytest.raises(InvalidIdentifier):
                await aclient.execute(slug, action_id, {})

    asyncio.run(run())
    assert sent == []


def test_a_write_is_never_retried_whatever_its_name_says() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(503, json={"message": "down"})

    with RefoldClient(
        api_key="tk_1", linked_account_id="a", transport=httpx.MockTransport(handler),
        sleep=lambda _: None,
    ) as client:  # fmt: skip
        for action in ("get_contactAndDelete", "get_and_sendEmail", "create_contact"):
            with pytest.raises(Exception):  # noqa: B017, PT011 - ServerError, once
                client.execute("hubspot", action, {})
        with pytest.raises(Exception):  # noqa: B017, PT011
            client.execute("hubspot", "get_contact", {})
    assert [p.rsplit("/", 2)[1] for p in sent] == [
        "get_contactAndDelete", "get_and_sendEmail", "create_contact",
        "get_contact", "get_contact", "get_contact", "get_contact",
    ]  # fmt: skip


def test_the_client_turns_the_gateways_refusal_into_read_only_violation() -> None:
    gw = Gateway(
        GatewayConfig(upstream="http://refold.test"),
        Credentials(api_key=FAKE_KEY, linked_account_id="acct_1"),
        transport=httpx.MockTransport(RefoldMock().handle),
    )

    def via_gateway(request: httpx.Request) -> httpx.Response:
        reply = gw.handle(request.method, request.url.raw_path.decode(), dict(request.headers),
                          request.content)  # fmt: skip
        return httpx.Response(reply.status, headers=reply.headers, content=reply.body)

    catalogue_says_read = RefoldMock().catalogue  # a client that trusts its own catalogue
    with RefoldClient(
        api_key="placeholder", linked_account_id="acct_1",
        transport=httpx.MockTransport(via_gateway), catalogue=catalogue_says_read,
    ) as client:  # fmt: skip
        with pytest.raises(ReadOnlyViolation, match="hubspot/create_contact"):
            client.execute("hubspot", "create_contact", {"email": "a@example.com"})
        assert client.execute("hubspot", "get_contact", {"limit": "1"}).ok
    gw.close()


@pytest.mark.parametrize(
    "echo",
    [
        {"data": {"echo": FAKE_KEY}},
        {"data": {"sentence": f"your key {FAKE_KEY} is fine"}},
        {"data": {FAKE_KEY: 1}},
    ],
    ids=["value", "in a sentence", "as a key"],
)
def test_a_reply_echoing_the_clients_key_is_scrubbed_everywhere(echo: dict[str, object]) -> None:
    body = {"node_status": "Errored", **echo}
    escaped = json.dumps(body).replace(FAKE_KEY, "".join(f"\\u{ord(c):04x}" for c in FAKE_KEY))
    for content in (json.dumps(body), escaped):
        transport = httpx.MockTransport(
            lambda _, c=content: httpx.Response(
                200, content=c.encode(), headers={"x-echo": FAKE_KEY}
            )
        )
        with RefoldClient(api_key=FAKE_KEY, linked_account_id="a", transport=transport) as client:
            result = client.execute("hubspot", "get_contact", check=False)
            with pytest.raises(Exception) as failed:  # noqa: PT011 - ActionFailed
                client.execute("hubspot", "get_contact")
        texts = [repr(result), str(result.data), result.response.text,
                 str(dict(result.response.headers)), str(failed.value), repr(failed.value)]  # fmt: skip
        assert not [t for t in texts if FAKE_KEY in t]
