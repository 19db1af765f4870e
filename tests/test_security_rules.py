"""Every security rule twice: as a unit, and end to end, so that no single test is the only thing
between a broken rule and a green run.

=====================  ================================  ==========================================
rule                   units                             end to end
=====================  ================================  ==========================================
the read rule          here; test_gateway, test_catalog  here (a live session, plain httpx)
guard and gateway      here; test_gateway, test_live     here; test_read_only (every client)
redaction              here (Redactor, scrub, snapshot,  test_snapshot, test_live (recording),
                       recorder); test_gateway           test_read_only (echo), here (client)
the mock's auth        test_mock (the emulator)          test_mock (both doors), test_plugin
ids and paths          here (contained_path, client);    here (crafted paths, live); test_read_only
                       test_gateway (place)              (pull, crafted ids)
=====================  ================================  ==========================================
"""

from __future__ import annotations

import asyncio
import datetime
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from refold_contract import (
    ActionFailed,
    AsyncRefoldClient,
    Catalogue,
    CatalogueError,
    InvalidIdentifier,
    ProtocolError,
    ReadOnlyViolation,
    RefoldClient,
)
from refold_contract._core.json import REDACTED, Redactor
from refold_contract._guard.custody import Credentials
from refold_contract.access import (
    READ_VERBS,
    WRITE_WORDS,
    access_from_name,
    access_of,
    live_refusal,
    name_words,
)
from refold_contract.live import ReadOnlyGuard, Recorder, contained_path, scrub
from refold_contract.live.gateway import Gateway, GatewayConfig
from refold_contract.mock import RefoldMock
from refold_contract.mock.server import RunningServer, running_server
from refold_contract.snapshot import RefoldSnapshotExtension, register_secrets

from .helpers import FAKE_KEY, FAKE_TOKEN, action_doc, write_action

P = "/api/v2/integration-schema"
ACCOUNT = "acct_RULES_5150"
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def declared(folder: Path) -> Path:
    """A user catalogue that overrides the name rule both ways."""
    write_action(folder, action_doc(slug="acme", action_id="sync_widgets", access="read",
                                    parameters=[]))  # fmt: skip
    write_action(folder, action_doc(slug="acme", action_id="get_widget", access="write",
                                    parameters=[]))  # fmt: skip
    return folder


# ====================================================================== the read rule, units


@pytest.mark.parametrize("verb", sorted(READ_VERBS))
def test_each_read_verb_first_makes_a_read(verb: str) -> None:
    assert access_from_name(f"{verb}_contacts") == "read"
    assert access_from_name(f"{verb}Contacts") == "read"
    assert access_from_name(verb) == "read"
    assert access_from_name(f"{verb.upper()}_CONTACTS") == "read"


@pytest.mark.parametrize("word", sorted(WRITE_WORDS))
def test_each_write_word_anywhere_after_a_read_verb_makes_a_write(word: str) -> None:
    assert access_from_name(f"get_contacts_{word}") == "write"
    assert access_from_name(f"list{word.title()}Items") == "write"
    assert access_from_name(f"search_{word}") == "write"
    assert access_from_name(word) == "write"


@pytest.mark.parametrize(
    "name",
    ["contacts_get", "fetcher", "getter", "listing", "queryx", "do_get", "x_list", "2get",
     "_", "--", "..", "get contact", "get/contact", "get\u00e9", "get\x00", "get_contact\n"],
)  # fmt: skip
def test_a_name_without_a_read_verb_first_or_with_other_characters_is_a_write(name: str) -> None:
    assert access_from_name(name) == "write"


@pytest.mark.parametrize(
    "name", ["get.contact", "get-contact", "get_2_contacts", "query", "read_message", "fetch_42"]
)
def test_the_safe_alphabet_keeps_reads(name: str) -> None:
    assert access_from_name(name) == "read"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("HTTPRequest", ("http", "request")),
        ("getHTTPRequest", ("get", "http", "request")),
        ("list2delete", ("list", "2", "delete")),
        ("get__contact--x.y", ("get", "contact", "x", "y")),
        ("getURLs", ("get", "ur", "ls")),  # a run of capitals, then a capitalised word
        ("ABC", ("abc",)),
        ("", ()),
    ],
)
def test_names_are_split_into_words_at_separators_humps_and_digits(
    name: str, words: tuple[str, ...]
) -> None:
    assert name_words(name) == words


def test_the_catalogue_decides_before_the_name_and_only_for_its_own_actions(
    tmp_path: Path,
) -> None:
    catalogue = Catalogue.load(declared(tmp_path))
    assert access_of(catalogue, "acme", "sync_widgets") == "read"
    assert access_of(catalogue, "acme", "get_widget") == "write"
    # Deny by default: an action the catalogue does not have is a write, whatever its name.
    assert access_of(catalogue, "acme", "get_other") == "write"
    assert access_of(catalogue, "other", "sync_widgets") == "write"  # another app
    assert access_of(None, "acme", "sync_widgets") == "write"
    assert access_of(None, "acme", "get_widget") == "write"
    assert live_refusal(catalogue, "acme", "get_other") == (
        "it is not in the catalogue in force (the built-in actions and your folders)"
    )
    guard = ReadOnlyGuard(catalogue)
    assert guard.is_read("acme", "sync_widgets")
    assert not guard.is_read("acme", "get_widget")


# ====================================================================== guard and gateway, units


def test_the_guard_raises_with_the_refused_request_named() -> None:
    guard = ReadOnlyGuard(Catalogue.builtin())
    url = f"https://app.refold.ai{P}/hubspot/actions/httprequest/execute"
    with pytest.raises(ReadOnlyViolation) as info:
        guard.check(httpx.Request("POST", url, json={}))
    assert (info.value.slug, info.value.action_id, info.value.method) == (
        "hubspot", "httprequest", "POST",
    )  # fmt: skip
    assert info.value.path == f"{P}/hubspot/actions/httprequest/execute"
    with pytest.raises(ReadOnlyViolation) as unplaced:
        guard.check(httpx.Request("DELETE", f"https://app.refold.ai{P}/hubspot/actions"))
    assert (unplaced.value.slug, unplaced.value.action_id) == (None, None)
    guard.check(
        httpx.Request("POST", f"https://app.refold.ai{P}/hubspot/actions/get_contact/execute")
    )
    guard.check(httpx.Request("GET", f"https://app.refold.ai{P}/hubspot/actions/create_contact"))


class Upstream(RefoldMock):
    """Refold behind the gateway: notes every request that reaches it, placed or not."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: list[tuple[str, str, str | None]] = []
        self.bodies: list[bytes] = []

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> Any:
        values = {k.decode().lower(): v.decode() for k, v in headers}
        self.arrivals.append((method, path, values.get("linked_account_id")))
        self.bodies.append(body)
        return super().answer(method, path, headers, body)


def in_process_gateway(tmp_path: Path, **credentials: Any) -> tuple[Gateway, Upstream]:
    catalogue = Catalogue.load(declared(tmp_path / "mine"), include_builtin=True)
    upstream = Upstream(catalogue, api_keys={FAKE_KEY}, session_tokens={FAKE_TOKEN},
                        assert_all_called=False)  # fmt: skip
    gateway = Gateway(
        GatewayConfig(upstream="http://refold.test"),
        Credentials(**(credentials or {"api_key": FAKE_KEY, "linked_account_id": ACCOUNT})),
        catalogue=catalogue,
        transport=httpx.MockTransport(upstream.handle),
    )
    return gateway, upstream


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[Gateway, Upstream]]:
    gw, upstream = in_process_gateway(tmp_path)
    yield gw, upstream
    gw.close()


REFUSALS = [
    ("POST", f"/t/tok1{P}/hubspot/actions/httprequest/execute", {}, "READ_ONLY_VIOLATION",
     "refused to send hubspot/httprequest: it reads only when 'method' is GET or HEAD"),
    ("POST", f"/t/tok1{P}/hubspot/actions/frobnicate/execute", {}, "READ_ONLY_VIOLATION",
     "refused to send hubspot/frobnicate: it is not in the catalogue in force"),
    ("POST", f"/t/tok1{P}/acme/actions/get_widget/execute", {}, "READ_ONLY_VIOLATION",
     "refused to send acme/get_widget: it is not known to be a read action"),
    ("POST", f"/m/tok2{P}/slack/actions/list_channels/execute", {}, "LIVE_TEST_REQUIRED",
     "refused slack/list_channels: this test is not marked refold_live"),
    ("GET", f"/t/tok1{P}/slack/actions", {"linked_account_id": "acct_other"},
     "READ_ONLY_VIOLATION",
     "refused slack (list actions): the read-only gateway reads only the linked account"),
    ("POST", f"/t/tok1{P}/hubspot/actions/create_contact/execute/extra", {},
     "READ_ONLY_VIOLATION", "refold-contract could not place POST "),
    ("DELETE", f"/t/tok1{P}/hubspot/actions", {}, "READ_ONLY_VIOLATION",
     "refold-contract could not place DELETE "),
    ("GET", f"/t/tok1{P}/hubspot/actions/get_contact/execute", {}, "READ_ONLY_VIOLATION",
     "refold-contract could not place GET "),
]  # fmt: skip


@pytest.mark.parametrize(("method", "target", "headers", "code", "message"), REFUSALS)
def test_the_gateway_refuses_with_403_and_sends_nothing(
    gateway: tuple[Gateway, Upstream], method: str, target: str, headers: dict[str, str],
    code: str, message: str,
) -> None:  # fmt: skip
    gw, upstream = gateway
    reply = gw.handle(method, target, headers, b"{}")
    body = json.loads(reply.body)
    assert (reply.status, body["status_code"], body["http_error_type"]) == (403, 403, "FORBIDDEN")
    assert body["error_code"] == code
    assert body["message"].startswith(message)
    assert upstream.arrivals == []
    token = target.split("/")[2]
    assert len(gw.collect(token)["refused"]) == 1
    assert len(gw.report()["refused"]) == 1


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [
        ("GET", f"{P}/hubspot/actions", {}),
        ("GET", f"{P}/hubspot/actions/create_contact", {}),  # a write's schema is a read
        ("POST", f"{P}/hubspot/actions/get_contact/execute", {"linked_account_id": ACCOUNT}),
        ("POST", f"{P}/acme/actions/sync_widgets/execute", {}),  # declared a read
        ("POST", f"/t/tok3{P}/slack/actions/list_channels/execute", {}),
    ],
)
def test_the_gateway_forwards_reads_with_the_working_account(
    gateway: tuple[Gateway, Upstream], method: str, target: str, headers: dict[str, str]
) -> None:
    gw, upstream = gateway
    reply = gw.handle(method, target, headers, b"{}" if method == "POST" else b"")
    assert reply.status == 200, reply.body
    ((sent_method, sent_path, account),) = upstream.arrivals
    assert (sent_method, account) == (method, ACCOUNT)
    assert target.endswith(sent_path)
    assert gw.report()["refused"] == []
    assert gw.report()["reads"] == 1


@pytest.mark.parametrize(
    "tail",
    ["/execute?as=get_contact", "/execute#x", "%2F..%2Fexecute", "/../create_contact/execute",
     "//execute"],
    ids=["query", "fragment", "percent-encoded", "dot segment", "repeated slash"],
)  # fmt: skip
def test_every_refusal_is_kept_for_the_test_that_sent_it(
    gateway: tuple[Gateway, Upstream], tail: str
) -> None:
    gw, upstream = gateway
    reply = gw.handle("POST", f"/t/tok5{P}/hubspot/actions/create_contact{tail}", {}, b"{}")
    assert reply.status == 403
    assert upstream.arrivals == []
    assert len(gw.collect("tok5")["refused"]) == 1


def test_a_session_token_gateway_lets_the_test_name_its_linked_account(tmp_path: Path) -> None:
    gw, upstream = in_process_gateway(tmp_path, session_token=FAKE_TOKEN)
    try:
        reply = gw.handle("GET", f"{P}/slack/actions", {"linked_account_id": "acct_9"}, b"")
    finally:
        gw.close()
    assert reply.status == 200
    assert [a[0] for a in upstream.arrivals] == ["GET"]


def test_a_refusal_names_no_secret_even_when_the_request_carries_one(
    gateway: tuple[Gateway, Upstream],
) -> None:
    gw, upstream = gateway
    reply = gw.handle("POST", f"/t/tok4{P}/hubspot/actions/{FAKE_KEY}/execute", {}, b"{}")
    assert reply.status == 403
    assert FAKE_KEY.encode() not in reply.body
    assert f"hubspot/{REDACTED}" in json.loads(reply.body)["message"]
    assert gw.collect("tok4")["refused"] == [
        f"hubspot/{REDACTED}: not in the catalogue in force (the built-in actions and your folders)"
    ]
    assert upstream.arrivals == []


# ====================================================================== guard, end to end


GUARD_TEST = """
import http.client, json, os
from urllib.parse import urlsplit

import ssl

import httpx, pytest

from refold_contract import ReadOnlyViolation

TLS = ssl.create_default_context()  # loaded once: a new httpx client loads the CA file each time

E = "/api/v2/integration-schema/{}/actions/{}/execute"
REFUSED = [("hubspot", "httprequest"), ("salesforce", "httprequest"), ("hubspot", "HTTPRequest"),
           ("hubspot", "frobnicate"), ("acme", "sync_widgets_now"), ("acme", "get_widget")]
CRAFTED = [
    ("POST", E.format("hubspot", "get_contact/../create_contact")),
    ("POST", E.format("hubspot", "get_contact%2F..%2Fcreate_contact")),
    ("POST", E.format("hubspot", "%63reate_contact")),
    ("POST", "/api/v2/integration-schema/hubspot/actions//create_contact/execute"),
    ("POST", E.format("hubspot", "create_contact") + "?action=get_contact"),
    ("POST", "/API/V2/integration-schema/hubspot/actions/get_contact/execute"),
    ("POST", E.format("hubspot", "get_contact") + "/extra"),
    ("POST", "/api/v2/integration-schema/hubspot/actions/get_contact/EXECUTE"),
    ("POST", E.format("hub~spot", "get_contact")),
    ("GET", E.format("hubspot", "get_contact")),
    ("DELETE", "/api/v2/integration-schema/hubspot/actions"),
]


def headers():
    return {"x-api-key": os.environ["REFOLD_API_KEY"],
            "linked_account_id": os.environ["REFOLD_LINKED_ACCOUNT_ID"]}


@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)
@pytest.mark.parametrize(("slug", "action_id"), REFUSED)
def test_plain_httpx(slug, action_id):
    reply = httpx.post(os.environ["REFOLD_BASE_URL"] + E.format(slug, action_id),
                       json={"url": "https://example.org/", "method": "DELETE"}, headers=headers(),
                       verify=TLS)
    assert reply.status_code == 403
    body = reply.json()
    assert body["error_code"] == "READ_ONLY_VIOLATION"
    assert body["message"].startswith(f"refused to send {slug}/{action_id}: it ")
    assert "live mode only sends reads" in body["message"]


@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)
def test_plain_httpx_under_refold_mock(refold_mock):
    for slug, action_id in REFUSED:
        reply = httpx.post(refold_mock.base_url + E.format(slug, action_id), json={},
                           headers=headers(), verify=TLS)
        assert reply.status_code == 403
        assert reply.json()["error_code"] == "READ_ONLY_VIOLATION"
        assert f"{slug}/{action_id}" in reply.json()["message"]
    assert [c.status for c in refold_mock.calls] == [403] * len(REFUSED)  # journalled, not sent


@pytest.mark.refold_live
@pytest.mark.refold(allow_refused=True)
def test_crafted_paths():
    parts = urlsplit(os.environ["REFOLD_BASE_URL"])
    for method, path in CRAFTED:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request(method, parts.path + path, body=b"{}",
                           headers={**headers(), "content-type": "application/json"})
        reply = connection.getresponse()
        body = json.loads(reply.read())
        connection.close()
        assert reply.status == 403, path
        assert body["error_code"] == "READ_ONLY_VIOLATION", path
        assert body["message"].startswith(f"refold-contract could not place {method} "), path


@pytest.mark.refold_live
def test_a_swallowed_refusal():
    try:
        httpx.post(os.environ["REFOLD_BASE_URL"] + E.format("hubspot", "httprequest"), json={},
                   headers=headers()).raise_for_status()
    except Exception:
        pass


@pytest.mark.refold_live
def test_a_declared_read():
    reply = httpx.post(os.environ["REFOLD_BASE_URL"] + E.format("acme", "sync_widgets"),
                       json={}, headers=headers())
    assert reply.status_code == 200, reply.text
    assert reply.json()["node_status"] == "Success"
"""


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    catalogue = Catalogue.load(declared(tmp_path / "standin"), include_builtin=True)
    with running_server(Upstream(catalogue, api_keys={FAKE_KEY}, assert_all_called=False)) as s:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("REFOLD_BASE_URL", s.url)
        yield s


def test_a_live_session_refuses_httprequest_unknown_actions_and_crafted_paths_from_plain_httpx(
    pytester: pytest.Pytester, standin: RunningServer
) -> None:
    declared(pytester.path / "mine")
    pytester.makeini(INI)
    pytester.makepyfile(test_guard=GUARD_TEST)
    result = pytester.runpytest_subprocess("--refold-live", "--refold-fixtures", "mine", "-rA")
    result.assert_outcomes(passed=10, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_a_swallowed_refusal*",
            "*the read-only gateway refused 1 request(s) from this test; nothing was sent*",
            "*hubspot/httprequest: reads only when 'method' is GET or HEAD",
        ]
    )
    # Distinct refusals: six actions (the swallowed one is among them) and eleven crafted paths.
    result.stdout.fnmatch_lines(
        [
            "refold-contract: the read-only gateway refused 24 request(s), 17 distinct; nothing was "
            "sent for them"
        ]
    )
    upstream = standin.mock
    assert isinstance(upstream, Upstream)
    # The stand-in saw one request: the declared read. No write, no httprequest, no crafted path.
    assert upstream.arrivals == [("POST", f"{P}/acme/actions/sync_widgets/execute", ACCOUNT)]
    assert FAKE_KEY not in result.stdout.str() + result.stderr.str()


SWALLOWED = """
import os, httpx, pytest

@pytest.mark.refold_live
def test_swallowed():
    try:
        httpx.post(os.environ["REFOLD_BASE_URL"] + "/api/v2/integration-schema/hubspot/actions/"
                   "create_contact/execute?as=get_contact", json={}).raise_for_status()
    except Exception:
        pass
"""


def test_a_swallowed_refusal_of_a_request_with_a_query_fails_the_test(
    pytester: pytest.Pytester, standin: RunningServer
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_swallowed=SWALLOWED)
    result = pytester.runpytest_subprocess("--refold-live")
    result.stdout.fnmatch_lines(
        ["refold-contract: the read-only gateway refused 1 request(s); nothing was sent for them"]
    )
    assert standin.mock.calls == []  # refused: nothing reached Refold
    result.assert_outcomes(passed=1, errors=1)


# ====================================================================== redaction, units


def test_the_redactor_replaces_secrets_in_values_substrings_and_keys() -> None:
    redactor = Redactor([FAKE_KEY, None, "", "abc"], linked_account_id=ACCOUNT)
    assert bool(redactor)
    assert repr(redactor) == "<Redactor 2 value(s)>"  # the short one is ignored
    value: dict[Any, Any] = {
        FAKE_KEY: [FAKE_KEY, f"x{FAKE_KEY}y", ("t", ACCOUNT)],
        "n": 1,
        "none": None,
        2: f"for {ACCOUNT}",
        "abc": "abc",
    }
    assert redactor.value(value) == {
        REDACTED: [REDACTED, f"x{REDACTED}y", ["t", "<linked_account_id>"]],
        "n": 1,
        "none": None,
        2: "for <linked_account_id>",
        "abc": "abc",
    }
    assert value[FAKE_KEY][0] == FAKE_KEY  # a copy: the original is untouched
    assert redactor.text(f"{ACCOUNT}:{FAKE_KEY}") == f"<linked_account_id>:{REDACTED}"
    assert redactor.binary(f"k={FAKE_KEY}".encode()) == f"k={REDACTED}".encode()
    assert redactor.found_in(f"..{FAKE_KEY}..")
    assert redactor.found_in(f"..{FAKE_KEY}..".encode())
    assert redactor.found_in(ACCOUNT)
    assert not redactor.found_in("nothing here")
    assert not redactor.found_in(b"nothing here")


def test_the_longest_secret_is_replaced_first_and_an_empty_redactor_changes_nothing() -> None:
    short, long = "tk_live_1234", "tk_live_1234_and_more"
    assert Redactor([short, long]).text(f"{long} {short}") == f"{REDACTED} {REDACTED}"
    assert Redactor([long, short]).text(f"{long}!") == f"{REDACTED}!"
    empty = Redactor([], linked_account_id="abc")
    assert not empty
    value = {"k": ["abc"]}
    assert empty.value(value) is value
    assert empty.text("abc") == "abc"


def test_scrub_redacts_under_secret_keys_and_patterns_and_replaces_secrets_everywhere() -> None:
    value = {
        "access_token": "t1",
        "api_keys": ["k1", "k2"],
        "Authorization": "Bearer x",
        "password": "",
        "client_secret": None,
        "nextPageToken": "cursor-1",
        "email": "a@example.com",
        "email_verified": True,
        "nested": {"owner": ACCOUNT, "echo": f"key {FAKE_KEY}", ACCOUNT: 1},
        "token": {"inner": "kept", "id_token": "t2"},
    }
    assert scrub(value, linked_account_id=ACCOUNT, secrets=[FAKE_KEY], extra_keys=["e?mail"]) == {
        "access_token": REDACTED,
        "api_keys": [REDACTED, REDACTED],
        "Authorization": REDACTED,
        "password": "",
        "client_secret": None,
        "nextPageToken": "cursor-1",
        "email": REDACTED,
        "email_verified": True,  # patterns match whole keys
        "nested": {
            "owner": "<linked_account_id>",
            "echo": f"key {REDACTED}",
            "<linked_account_id>": 1,
        },
        "token": {"inner": "kept", "id_token": REDACTED},
    }


def test_the_recorder_stores_no_secret_no_account_and_nothing_under_secret_keys(
    tmp_path: Path,
) -> None:
    catalogue = Catalogue.builtin()
    recorder = Recorder(tmp_path / "mine", catalogue, linked_account_id=ACCOUNT,
                        secrets=[FAKE_KEY, FAKE_TOKEN], extra_keys=["creator_.*"])  # fmt: skip
    path = recorder.record(
        catalogue.get("slack", "list_channels"),
        {"limit": "2", "owner": ACCOUNT},
        {"node_status": "Success", "data": {
            "ok": True, "channels": [{"id": "C1", "creator_email": "me@example.com",
                                      "topic": f"key {FAKE_KEY} token {FAKE_TOKEN}"}],
            "bot_token": "xoxb-1", ACCOUNT: "as a key"}},
    )  # fmt: skip
    assert path == tmp_path / "mine" / "slack" / "list_channels.json"
    text = path.read_text()
    for secret in (FAKE_KEY, FAKE_TOKEN, ACCOUNT, "xoxb-1", "me@example.com"):
        assert secret not in text
    examples = json.loads(text)["examples"]  # the built-in ones were copied, then this one
    (example,) = [e for e in examples if e["params"].get("owner") == "<linked_account_id>"]
    assert example["params"] == {"limit": "2", "owner": "<linked_account_id>"}
    assert len(examples) == len(catalogue.get("slack", "list_channels").examples) + 1
    data = example["response"]["data"]
    assert data["channels"][0] == {
        "id": "C1",
        "creator_email": REDACTED,
        "topic": f"key {REDACTED} token {REDACTED}",
    }
    assert data["bot_token"] == REDACTED
    assert data["<linked_account_id>"] == "as a key"
    assert recorder.written == {path: 1}


def test_a_snapshot_redacts_configured_secrets_in_values_and_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
    monkeypatch.setenv("REFOLD_SESSION_TOKEN", FAKE_TOKEN)
    import refold_contract.snapshot

    monkeypatch.setattr(refold_contract.snapshot, "_registered", set())  # restored after
    register_secrets("partner_secret_value", None, "abc")
    text = RefoldSnapshotExtension().serialize(
        {
            "echo": f"Bearer {FAKE_TOKEN} / {FAKE_KEY}",
            FAKE_KEY: "as a key",
            "partner": "partner_secret_value",
            "short": "abc",
            "token": None,
            "secret": "",
            "password": "hunter2",
            "api_key": 12345,
            "credentials": {"user": "u", "private_key": "-----BEGIN"},
            "nextPageToken": "page-2",
        }
    )
    assert json.loads(text) == {
        "echo": f"Bearer {REDACTED} / {REDACTED}",
        REDACTED: "as a key",
        "partner": REDACTED,
        "short": "abc",  # too short to be a secret
        "token": None,
        "secret": "",
        "password": REDACTED,
        "api_key": REDACTED,
        "credentials": {"user": "u", "private_key": REDACTED},
        "nextPageToken": "<cursor>",
    }
    for secret in (FAKE_KEY, FAKE_TOKEN, "partner_secret_value", "hunter2", "-----BEGIN"):
        assert secret not in text


def test_a_snapshot_redacts_secrets_that_a_user_matcher_puts_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)

    def put_back(*, data: Any, path: Any) -> Any:
        return f"was {FAKE_KEY}" if path and path[-1][0] == "x" else data

    text = RefoldSnapshotExtension().serialize({"x": "1"}, matcher=put_back)
    assert FAKE_KEY not in text
    assert f"was {REDACTED}" in text


def test_a_snapshot_redacts_every_value_in_a_list_under_a_secret_key() -> None:
    text = RefoldSnapshotExtension().serialize(
        {"password": ["hunter2"], "access_tokens": ["t1-aaaa", "t2-bbbb"]}
    )
    assert json.loads(text) == {"password": [REDACTED], "access_tokens": [REDACTED, REDACTED]}


# ====================================================================== redaction, end to end


def test_a_client_over_a_real_socket_scrubs_its_own_key_from_replies_and_errors() -> None:
    upstream = RefoldMock(assert_all_called=False)
    escaped = "".join(f"\\u{ord(c):04x}" for c in FAKE_KEY)
    upstream.stub(
        "slack",
        "list_channels",
        data={"echo": FAKE_KEY, FAKE_KEY: "as a key", "text": f"key {FAKE_KEY}!"},
    )
    upstream.app_error("hubspot", "get_contact", 401, {"message": f"bad key {FAKE_KEY}"})
    upstream.stub("gmail", "get_message", data={"escaped": "ESCAPED"})
    with (
        running_server(upstream) as server,
        RefoldClient(api_key=FAKE_KEY, linked_account_id=ACCOUNT, base_url=server.url) as client,
    ):
        result = client.execute("slack", "list_channels")
        with pytest.raises(ActionFailed) as failed:
            client.execute("hubspot", "get_contact")
        # The stand-in cannot send a \\u escape by itself: serve that one raw.
        raw = httpx.Response(
            200,
            content=json.dumps({"node_status": "Success", "data": {"esc": "X"}})
            .replace('"X"', f'"{escaped}"')
            .encode(),
        )
    assert result.data == {"echo": REDACTED, REDACTED: "as a key", "text": f"key {REDACTED}!"}
    texts = [repr(result), result.response.text, str(failed.value), repr(failed.value),
             str(failed.value.data)]  # fmt: skip
    assert [t for t in texts if FAKE_KEY in t] == []
    assert failed.value.data == {"message": f"bad key {REDACTED}"}
    with RefoldClient(
        api_key=FAKE_KEY, linked_account_id=ACCOUNT,
        transport=httpx.MockTransport(lambda _: raw),
    ) as direct:  # fmt: skip
        assert direct.execute("gmail", "get_message").data == {"esc": REDACTED}


def test_a_key_echoed_in_a_header_and_escaped_in_the_body_is_scrubbed_from_both() -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in FAKE_KEY)
    content = ('{"node_status": "Success", "data": {"echo": "' + escaped + '"}}').encode()
    transport = httpx.MockTransport(
        lambda _: httpx.Response(200, content=content, headers={"x-echo": FAKE_KEY})
    )
    with RefoldClient(api_key=FAKE_KEY, linked_account_id=ACCOUNT, transport=transport) as client:
        result = client.execute("hubspot", "get_contact")
    assert result.data == {"echo": REDACTED}  # the parsed data is clean either way
    assert result.response.headers["x-echo"] == REDACTED
    assert FAKE_KEY not in json.dumps(result.response.json())


def test_a_reply_too_deep_to_parse_with_an_escaped_key_is_withheld_by_the_client() -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in FAKE_KEY)
    content = ('{"node_status": "Success", "data": ' + "[" * 5000 + '"' + escaped + '"'
               + "]" * 5000 + "}").encode()  # fmt: skip
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=content))
    with (
        RefoldClient(api_key=FAKE_KEY, linked_account_id=ACCOUNT, transport=transport) as client,
        pytest.raises(ProtocolError, match="withheld this reply") as caught,
    ):
        client.execute("hubspot", "get_contact")
    assert not Redactor([FAKE_KEY]).found_escaped(str(caught.value).encode())


# ====================================================================== ids and paths, units


@pytest.mark.parametrize(
    ("slug", "action_id", "kind"),
    [
        ("acme", "../../escaped", "action id"),
        ("acme", "..", "action id"),
        ("acme", ".", "action id"),
        ("acme", "a/b", "action id"),
        ("acme", "", "action id"),
        ("acme", "x" * 129, "action id"),
        ("acme", "get_wïdget", "action id"),
        ("../acme", "get_widget", "slug"),
        ("a..b", "get_widget", "slug"),
        ("/tmp", "get_widget", "slug"),
    ],
)
def test_contained_path_refuses_ids_outside_refolds_alphabet(
    tmp_path: Path, slug: str, action_id: str, kind: str
) -> None:
    with pytest.raises(
        CatalogueError, match=f"refusing to write a catalogue file for {kind} "
    ) as info:
        contained_path(tmp_path, slug, action_id)
    shown = repr(action_id if kind == "action id" else slug)
    assert (shown if len(shown) <= 60 else shown[:57] + "...") in str(info.value)
    assert "not a Refold id" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_contained_path_accepts_refold_ids_up_to_the_length_limit(tmp_path: Path) -> None:
    longest = "x" * 128
    assert (
        contained_path(tmp_path, "acme-v2.1", longest) == tmp_path / "acme-v2.1" / f"{longest}.json"
    )
    assert contained_path(Path("mine"), "acme", "get_widget") == Path("mine/acme/get_widget.json")


def test_contained_path_refuses_a_symlink_out_of_the_folder_and_allows_one_inside(
    tmp_path: Path,
) -> None:
    folder, outside = tmp_path / "mine", tmp_path / "outside"
    (folder / "inner").mkdir(parents=True)
    outside.mkdir()
    (folder / "acme").symlink_to(outside)
    with pytest.raises(CatalogueError, match="resolves outside"):
        contained_path(folder, "acme", "get_widget")
    (folder / "inside").symlink_to(folder / "inner")
    assert contained_path(folder, "inside", "get_widget") == folder / "inside" / "get_widget.json"
    (folder / "inner" / "get_file.json").symlink_to(outside / "target.json")
    with pytest.raises(CatalogueError, match="resolves outside"):
        contained_path(folder, "inner", "get_file")
    linked_root = tmp_path / "root_link"
    linked_root.symlink_to(folder)  # the folder itself may be a link
    assert contained_path(linked_root, "inner", "get_x") == linked_root / "inner" / "get_x.json"


def test_the_recorder_writes_nothing_through_a_symlink_out_of_its_folder(tmp_path: Path) -> None:
    folder, outside = tmp_path / "mine", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    (folder / "slack").symlink_to(outside)
    catalogue = Catalogue.builtin()
    recorder = Recorder(folder, catalogue, linked_account_id=None)
    with pytest.raises(CatalogueError, match="resolves outside"):
        recorder.record(catalogue.get("slack", "list_channels"), {}, {"node_status": "Success"})
    assert list(outside.iterdir()) == []
    assert recorder.written == {}


@pytest.mark.parametrize(
    "slug", ["hubspot/../salesforce", "..", "hub spot", "", "x" * 129, "hub%2Fspot", "hubspöt"]
)
def test_the_clients_refuse_a_crafted_slug_before_listing(slug: str) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    with RefoldClient(
        api_key="tk_1", linked_account_id="a", transport=httpx.MockTransport(record)
    ) as c:
        with pytest.raises(InvalidIdentifier) as info:
            c.list_actions(slug)
        assert info.value.kind == "slug"

    async def run() -> None:
        async with AsyncRefoldClient(
            api_key="tk_1", linked_account_id="a", transport=httpx.MockTransport(record)
        ) as aclient:
            with pytest.raises(InvalidIdentifier):
                await aclient.list_actions(slug)
            with pytest.raises(InvalidIdentifier):
                await aclient.get_action_schema(slug, "get_contact")

    asyncio.run(run())
    assert sent == []


def test_the_clients_send_ids_at_the_length_limit() -> None:
    sent: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200, json=[])

    longest = "a" * 128
    with RefoldClient(
        api_key="tk_1", linked_account_id="a", transport=httpx.MockTransport(record)
    ) as c:
        assert c.list_actions(longest) == []
        assert c.get_action_schema("hubspot-v2.1", longest) == []
    assert sent == [f"{P}/{longest}/actions", f"{P}/hubspot-v2.1/actions/{longest}"]


# ====================================================================== place(): every reason


E = f"{P}/hubspot/actions/get_contact/execute"


@pytest.mark.parametrize(
    ("method", "target", "reason", "token", "live"),
    [
        ("POST", E[1:], "the request target is not a path", None, True),
        ("POST", f"{E}?x=1", "a query or fragment: Refold's actions API takes none", None, True),
        ("POST", f"{E}#x", "a query or fragment: Refold's actions API takes none", None, True),
        ("POST", f"{P}/hubspot/actions/%67et_contact/execute",
         "a percent-encoded path: Refold's paths need no encoding", None, True),
        ("POST", f"{E}%", "a percent-encoded path: Refold's paths need no encoding", None, True),
        ("POST", f"{P}/hubspot/actions/get\x7fcontact/execute",
         "control characters or backslashes in the path", None, True),
        ("POST", f"{P}/hubspot/actions/get\\contact/execute",
         "control characters or backslashes in the path", None, True),
        ("POST", f"{P}/hubspot//actions/get_contact/execute",
         "an empty segment (repeated slash) in the path", None, True),
        ("GET", "/", "an empty segment (repeated slash) in the path", None, True),
        ("POST", f"{P}/hubspot/actions/./execute", "a dot segment (. or ..) in the path", None,
         True),
        ("POST", f"/t/tok{P}/hubspot/actions/../execute", "a dot segment (. or ..) in the path",
         "tok", True),
        ("GET", f"/m/tok{P}/hubspot/actions?x=1", "a query or fragment: Refold's actions API takes "
         "none", "tok", False),
        ("POST", f"/t/a.b{E}", "a malformed test prefix (/t/<token> or /m/<token>)", None, True),
        ("POST", f"/m/{'x' * 65}{E}", "a malformed test prefix (/t/<token> or /m/<token>)", None,
         True),
        ("POST", f"/t/tok{P}/hubspot/triggers/get_contact/execute",
         "not under /api/v2/integration-schema/<slug>/actions", "tok", True),
        ("POST", f"/m/tok{P}/hubspot", "not under /api/v2/integration-schema/<slug>/actions", "tok",
         False),
        ("GET", "/t", "not under /api/v2/integration-schema/<slug>/actions", None, True),
        ("POST", f"/x/tok{E}", "not under /api/v2/integration-schema/<slug>/actions", None, True),
        ("GET", f"/t/tok{P}/hub~spot/actions", "the slug is not a Refold id", "tok", True),
        ("POST", f"/t/tok{P}/hubspot/actions/get_contact/run",
         "not one of the three actions operations", "tok", True),
        ("POST", f"/m/tok{P}/hubspot/actions/a/b/execute",
         "not one of the three actions operations", "tok", False),
        ("GET", f"/t/tok{P}/hubspot/actions/get~contact", "the action id is not a Refold id",
         "tok", True),
        ("GET", f"/t/tok{E}", "GET is not the method of the execute operation", "tok", True),
        ("POST", f"/t/tok{P}/hubspot/actions", "POST is not the method of the list_actions operation",
         "tok", True),
        ("put", f"/t/tok{P}/hubspot/actions/get_contact",
         "PUT is not the method of the schema operation", "tok", True),
        ("GET", f"/m/tok{P}/hub~spot/actions", "the slug is not a Refold id", "tok", False),
        ("GET", f"/m/tok{P}/hubspot/actions/get~contact", "the action id is not a Refold id",
         "tok", False),
        ("GET", f"/m/tok{E}", "GET is not the method of the execute operation", "tok", False),
        ("GET", "/t/tok", "not under /api/v2/integration-schema/<slug>/actions", "tok", True),
        ("GET", "/actions/", "not under /api/v2/integration-schema/<slug>/actions", None, True),
    ],
)  # fmt: skip
def test_place_says_exactly_why_a_target_is_not_placed(
    method: str, target: str, reason: str, token: str | None, live: bool
) -> None:
    from refold_contract._core.endpoint import Unplaced, place

    assert place(method, target) == Unplaced(reason, token, live)


@pytest.mark.parametrize(
    ("method", "target", "placed"),
    [
        ("post", f"/t/{'x' * 64}{E}", (f"{'x' * 64}", True, "execute", "hubspot", "get_contact")),
        ("GET", f"/m/A-b_9{P}/slack/actions/", ("A-b_9", False, "list_actions", "slack", None)),
        ("GET", f"{P}/slack/actions/list_channels/",
         (None, True, "schema", "slack", "list_channels")),
        ("POST", f"/t/tok{P}/hubspot-v2.1/actions/get.contact/execute",
         ("tok", True, "execute", "hubspot-v2.1", "get.contact")),
    ],
)  # fmt: skip
def test_place_reads_the_prefix_the_operation_and_the_ids(
    method: str, target: str, placed: tuple[Any, ...]
) -> None:
    from refold_contract._core.endpoint import Placed, place

    found = place(method, target)
    assert found == Placed(*placed)
    assert isinstance(found, Placed)
    assert target.rstrip("/").endswith(found.path)


def test_a_placed_request_names_what_it_reaches() -> None:
    from refold_contract._core.endpoint import Placed

    assert Placed(None, True, "list_actions", "slack", None).what == "slack (list actions)"
    assert Placed(None, True, "schema", "slack", "x").what == "slack/x (schema)"
    assert Placed(None, True, "execute", "slack", "x").what == "slack/x"
    assert Placed(None, True, "schema", "slack", "x").path == f"{P}/slack/actions/x"
    assert Placed(None, True, "list_actions", "slack", None).path == f"{P}/slack/actions"


# ====================================================================== the gateway's envelopes


def envelope(reply: Any) -> tuple[int, int, str, str]:
    body = json.loads(reply.body)
    uuid_ok = re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                           body["request_id"])  # fmt: skip
    assert uuid_ok, body
    assert ("content-type", "application/json; charset=utf-8") in reply.headers
    assert set(body) == {"status_code", "http_error_type", "error_code", "message", "request_id"}
    return reply.status, body["status_code"], body["http_error_type"], body["error_code"]


def test_the_gateway_answers_bad_bodies_in_refolds_envelope(
    gateway: tuple[Gateway, Upstream],
) -> None:
    gw, upstream = gateway
    target = f"{P}/slack/actions/list_channels/execute"
    nan = gw.handle("POST", target, {}, b'{"a": NaN}')
    assert envelope(nan) == (400, 400, "BAD_REQUEST", "VALIDATION_ERROR")
    assert json.loads(nan.body)["message"] == (
        "Request body refused: NaN is not JSON (only finite numbers are)"
    )
    huge = gw.handle("POST", target, {}, b'{"a": "' + b"x" * (11 * 1024 * 1024) + b'"}')
    assert envelope(huge) == (413, 413, "PAYLOAD_TOO_LARGE", "VALIDATION_ERROR")
    assert json.loads(huge.body)["message"].startswith("Request body refused: ")
    assert upstream.arrivals == []
    control = gw.handle("GET", "/__refold/gateway/nothing", {}, b"")
    assert envelope(control) == (404, 404, "NOT_FOUND", "SERVER_ERROR")
    refused = gw.handle("POST", f"{P}/hubspot/actions/httprequest/execute", {}, b"{}")
    assert envelope(refused) == (403, 403, "FORBIDDEN", "READ_ONLY_VIOLATION")


def test_the_gateway_forwards_the_parsed_body_not_the_bytes_it_was_sent(
    gateway: tuple[Gateway, Upstream],
) -> None:
    gw, upstream = gateway
    reply = gw.handle(
        "POST", f"{P}/hubspot/actions/get_contact/execute", {"LINKED_ACCOUNT_ID": ACCOUNT},
        b'  {"limit" :  "1", "after": "\\u0078"}  ',
    )  # fmt: skip
    assert reply.status == 200
    (call,) = upstream.calls
    assert call.params == {"limit": "1", "after": "x"}
    empty = gw.handle("POST", f"{P}/slack/actions/list_channels/execute", {}, b"")
    assert empty.status == 200
    assert upstream.calls[-1].params == {}


def test_a_linked_account_header_is_found_whatever_its_case(
    gateway: tuple[Gateway, Upstream],
) -> None:
    gw, upstream = gateway
    other = gw.handle("GET", f"{P}/slack/actions", {"Linked_Account_ID": "acct_other"}, b"")
    assert other.status == 403
    assert upstream.arrivals == []


def test_the_gateway_says_when_refold_cannot_be_reached_or_is_slow(tmp_path: Path) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused for {FAKE_KEY}", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    for handler, expected, start in [
        (unreachable, (502, 502, "BAD_GATEWAY", "SERVER_ERROR"),
         "the gateway could not reach Refold for slack (list actions): ConnectError: refused "
         "for <redacted>"),
        (slow, (504, 504, "GATEWAY_TIMEOUT", "SERVER_ERROR"),
         "Refold did not answer slack (list actions) in time"),
    ]:  # fmt: skip
        gw = Gateway(
            GatewayConfig(upstream="http://refold.test"),
            Credentials(api_key=FAKE_KEY, linked_account_id=ACCOUNT),
            catalogue=Catalogue.builtin(),
            transport=httpx.MockTransport(handler),
        )
        try:
            reply = gw.handle("GET", f"{P}/slack/actions", {}, b"")
        finally:
            gw.close()
        assert envelope(reply) == expected
        assert json.loads(reply.body)["message"] == start


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"a": "plain", "b": "\\u00e9"}', b'{"a": "plain", "b": "\\u00e9"}'),  # untouched
        (b'{"a": "x\\/y"}', b'{"a": "x\\/y"}'),
        (b'{"k": "' + FAKE_KEY.encode() + b'"}', b'{"k": "<redacted>"}'),
        (b'{"k": "\\u0074' + FAKE_KEY[1:].encode() + b'"}', b'{"k": "<redacted>"}'),
        (b'{"k": "' + FAKE_KEY.encode() + b'", "n": "\\u00e9"}', b'{"k": "<redacted>", "n": "\xc3\xa9"}'),
    ],
    ids=["escapes only", "escaped slash", "in a value", "escaped", "re-encoded"],
)  # fmt: skip
def test_the_gateway_scrubs_its_key_from_raw_replies(
    gateway: tuple[Gateway, Upstream], raw: bytes, expected: bytes
) -> None:
    gw, _ = gateway
    assert gw._scrub_reply(raw) == expected


def test_the_gateway_withholds_a_reply_it_cannot_parse_rather_than_scrub_its_bytes(
    gateway: tuple[Gateway, Upstream],
) -> None:
    from refold_contract.errors import ReplyWithheld

    gw, _ = gateway
    with pytest.raises(ReplyWithheld, match="is not JSON") as withheld:
        gw._scrub_reply(b"<html>" + FAKE_KEY.encode() + b"</html>")
    assert FAKE_KEY not in str(withheld.value)


def test_a_gateway_holding_only_a_session_token_scrubs_nothing_it_does_not_hold(
    tmp_path: Path,
) -> None:
    gw, _ = in_process_gateway(tmp_path, session_token=FAKE_TOKEN)
    try:
        raw = b'{"k": "' + FAKE_KEY.encode() + b'", "t": "' + FAKE_TOKEN.encode() + b'"}'
        assert gw._scrub_reply(raw) == b'{"k": "' + FAKE_KEY.encode() + b'", "t": "<redacted>"}'
    finally:
        gw.close()


# ====================================================================== snapshot redaction, edges


@pytest.fixture
def no_registered_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    import refold_contract._guard.custody
    import refold_contract.snapshot

    monkeypatch.setattr(refold_contract.snapshot, "_registered", set())
    monkeypatch.setattr(refold_contract._guard.custody, "_HELD", set())


@pytest.mark.usefixtures("no_registered_secrets")
def test_snapshot_secrets_of_four_characters_or_more_are_redacted_longest_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REFOLD_API_KEY", "wxyz")
    monkeypatch.setenv("REFOLD_SESSION_TOKEN", "tk_live_1234")
    register_secrets("abcd", "abc", "tk_live_1234_more", "")
    text = RefoldSnapshotExtension().serialize(
        {"v": "abcd abc wxyz tk_live_1234_more tk_live_1234"}
    )
    assert json.loads(text) == {"v": f"{REDACTED} abc {REDACTED} {REDACTED} {REDACTED}"}
    monkeypatch.setenv("REFOLD_API_KEY", "xyz")
    assert json.loads(RefoldSnapshotExtension().serialize({"v": "xyz"})) == {"v": "xyz"}


@pytest.mark.usefixtures("no_registered_secrets")
def test_snapshot_redacts_the_credentials_custody_took_from_the_environment() -> None:
    from refold_contract._guard.custody import Custody

    env = {"REFOLD_API_KEY": "tk_held_by_custody_1", "REFOLD_SESSION_TOKEN": "st_held_2"}
    custody = Custody.take(env)
    try:
        text = RefoldSnapshotExtension().serialize({"a": "tk_held_by_custody_1", "b": "st_held_2"})
    finally:
        custody.restore()
    assert json.loads(text) == {"a": REDACTED, "b": REDACTED}


@pytest.mark.usefixtures("no_registered_secrets")
def test_snapshot_replaces_a_linked_account_of_four_characters_or_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", "acct")
    assert json.loads(RefoldSnapshotExtension().serialize({"o": "acct"})) == {
        "o": "<linked_account_id>"
    }
    monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", "acc")
    assert json.loads(RefoldSnapshotExtension().serialize({"o": "acc"})) == {"o": "acc"}


@pytest.mark.usefixtures("no_registered_secrets")
def test_snapshot_redacts_falsy_values_under_secret_keys_except_empty_ones() -> None:
    text = RefoldSnapshotExtension().serialize(
        {"token": 0, "secret": False, "password": None, "api_key": "", "authorization": []}
    )
    assert json.loads(text) == {
        "token": REDACTED,
        "secret": REDACTED,
        "password": None,
        "api_key": "",
        "authorization": [],
    }


def test_values_that_are_not_json_are_refused_with_their_path_and_what_to_do() -> None:
    from refold_contract.snapshot import SnapshotDataError

    ext = RefoldSnapshotExtension()
    with pytest.raises(SnapshotDataError) as plain:
        ext.serialize({"data": [1, {"x": object()}]})
    assert plain.value.message == "$.data[1].x: object is not JSON; convert it first"
    assert plain.value.hint == "snapshot JSON values, an ActionResult or an httpx.Response"
    with pytest.raises(SnapshotDataError) as dated:
        ext.serialize({"when": datetime.date(2024, 1, 1)})
    assert dated.value.message == "$.when: date is not JSON; convert it first (e.g. .isoformat())"
    with pytest.raises(SnapshotDataError) as keyed:
        ext.serialize([{("a",): 1}])
    assert keyed.value.message == ("$[0]: key ('a',) is tuple, not a string; JSON keys are strings")
    assert keyed.value.hint == "convert the keys before snapshotting"


def test_unnormalised_snapshots_are_still_redacted_and_rules_still_apply(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from refold_contract.snapshot import Rule, UnnormalizedSnapshotExtension

    class Mine(UnnormalizedSnapshotExtension):
        rules = (Rule(key="email", replace="<email>"),)

    monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
    text = Mine().serialize({"id": "51", "email": "a@b.c", "echo": FAKE_KEY, "token": "t"})
    assert json.loads(text) == {"id": "51", "email": "<email>", "echo": REDACTED, "token": REDACTED}


def test_the_redactor_counts_four_characters_as_long_enough() -> None:
    redactor = Redactor(["abcd", "abc"], linked_account_id="wxyz")
    assert redactor.text("abcd abc wxyz") == f"{REDACTED} abc <linked_account_id>"
    assert not Redactor(["abc"], linked_account_id="xyz")


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        (b'["' + FAKE_KEY.encode() + b'"]', True),  # plainly
        (b'["' + "".join(f"\\u{ord(c):04x}" for c in FAKE_KEY).encode() + b'"]', True),
        (b'["' + "".join(f"\\u{ord(c):04X}" for c in FAKE_KEY).encode() + b'"]', True),
        (f'["{FAKE_KEY[:5]}\\u{ord(FAKE_KEY[5]):04x}{FAKE_KEY[6:]}"]'.encode(), True),
        (b'["' + FAKE_KEY[:5].encode() + b"\\n" + FAKE_KEY[6:].encode() + b'"]', False),
        (b'["' + FAKE_KEY[:-1].encode() + b'", "\\u0041"]', False),
        (b"[" * 500 + b'"\\/"' + b"]" * 500, False),
    ],
    ids=["plain", "lower-case escapes", "upper-case escapes", "one escape", "a newline escape",
         "a near miss", "escapes only"],
)  # fmt: skip
def test_the_redactor_finds_a_secret_behind_json_escapes_without_parsing(
    raw: bytes, found: bool
) -> None:
    assert Redactor([FAKE_KEY]).found_escaped(raw) is found
    assert Redactor([]).found_escaped(raw) is False  # nothing to find


def test_the_redactor_handles_a_secret_that_is_not_valid_unicode() -> None:
    odd = "tk_\ud800_lone_surrogate"  # what a surrogate-escaped environment value can hold
    redactor = Redactor([odd])
    raw = b"x " + odd.encode("utf-8", "surrogatepass") + b" y"
    assert redactor.binary(raw) == f"x {REDACTED} y".encode()
    assert redactor.found_in(raw)
    assert redactor.text(f"<{odd}>") == f"<{REDACTED}>"


def test_the_gateway_refusals_say_what_is_served_and_what_to_do(
    gateway: tuple[Gateway, Upstream], caplog: pytest.LogCaptureFixture
) -> None:
    gw, upstream = gateway
    with caplog.at_level("WARNING", logger="refold_contract.live.gateway"):
        unplaced = gw.handle("POST", f"{P}/hubspot/actions/x/run", {}, b"{}")
        not_live = gw.handle("GET", f"/m/tok{P}/slack/actions", {}, b"")
        other = gw.handle("GET", f"{P}/slack/actions", {"linked_account_id": "acct_2"}, b"")
        write = gw.handle("POST", f"{P}/hubspot/actions/create_contact/execute", {}, b"{}")
        unknown = gw.handle("POST", f"{P}/hubspot/actions/frobnicate/execute", {}, b"{}")
    replies = (unplaced, not_live, other, write, unknown)
    messages = [json.loads(r.body)["message"] for r in replies]
    assert messages == [
        f"refold-contract could not place POST {P}/hubspot/actions/x/run: not one of the three "
        "actions operations. The gateway serves only GET .../{slug}/actions, GET "
        ".../{slug}/actions/{action_id} and POST .../{slug}/actions/{action_id}/execute under "
        "/api/v2/integration-schema; nothing was sent to Refold",
        "refused slack (list actions): this test is not marked refold_live, so nothing it sends "
        "goes live; mark it @pytest.mark.refold_live, or answer it with refold_mock (httpx) or "
        "refold_server (any other client)",
        "refused slack (list actions): the read-only gateway reads only the linked account in "
        "REFOLD_LINKED_ACCOUNT_ID, and this request named another",
        "refused to send hubspot/create_contact: it is a write (its name says 'create'), and "
        "live mode only sends reads; test writes on the mock (pytest tests not marked "
        "refold_live, or refold-contract serve), never live",
        "refused to send hubspot/frobnicate: it is not in the catalogue in force (the built-in "
        "actions and your folders), and live mode only sends reads; refold-contract pull "
        "hubspot adds it (and the app's other actions) to your last catalogue folder; then "
        "check the access it was given: refold-contract lint lists every access inferred from "
        'a name, and "access": "read" in the file confirms one',
    ]
    assert caplog.messages == [
        f"refused could not place POST {P}/hubspot/actions/x/run: not one of the three actions "
        "operations",
        "refused slack (list actions): the test is not marked refold_live",
        "refused slack (list actions): another linked account",
        "refused hubspot/create_contact: a write (its name says 'create')",
        "refused hubspot/frobnicate: not in the catalogue in force (the built-in actions and "
        "your folders)",
    ]
    logged = gw.handle("POST", f"{P}/hubspot/actions/x\x01/execute", {}, b"{}")
    assert logged.status == 403
    assert caplog.messages[-1].startswith(f"refused could not place POST {P}/hubspot/actions/x?/")
    assert upstream.arrivals == []


def test_the_gateway_forwards_bodies_as_utf8_json_and_reads_with_no_body(
    gateway: tuple[Gateway, Upstream],
) -> None:
    gw, upstream = gateway
    gw.handle("GET", f"{P}/slack/actions", {}, b"")
    gw.handle("GET", f"{P}/slack/actions/list_channels", {}, b"")
    gw.handle(
        "POST", f"{P}/hubspot/actions/get_contact/execute", {}, '{"properties": "é"}'.encode()
    )
    assert upstream.bodies == [b"", b"", '{"properties": "é"}'.encode()]


def test_the_gateway_refuses_bodies_past_its_own_limits_and_infinite_numbers(
    tmp_path: Path,
) -> None:
    catalogue = Catalogue.builtin()
    upstream = Upstream(catalogue, api_keys={FAKE_KEY}, assert_all_called=False)
    gw = Gateway(
        GatewayConfig(upstream="http://refold.test", max_depth=3),
        Credentials(api_key=FAKE_KEY, linked_account_id=ACCOUNT),
        catalogue=catalogue,
        transport=httpx.MockTransport(upstream.handle),
    )
    target = f"{P}/slack/actions/list_channels/execute"
    try:
        deep = gw.handle("POST", target, {}, b'{"a": [[[1]]]}')
        infinite = gw.handle("POST", target, {}, b'{"a": 1e999}')
    finally:
        gw.close()
    assert json.loads(deep.body)["message"] == (
        "Request body refused: nesting 4 deep is over the limit of 3"
    )
    assert json.loads(infinite.body)["message"] == (
        "Request body refused: 1e999 is too large for a number (it reads as infinity)"
    )
    assert (deep.status, infinite.status) == (400, 400)
    assert upstream.arrivals == []


def test_the_gateway_scrubs_a_key_hidden_behind_an_escaped_slash() -> None:
    key = "tk_live/0123456789"
    gw = Gateway(
        GatewayConfig(upstream="http://refold.test"),
        Credentials(api_key=key, linked_account_id=ACCOUNT),
        catalogue=Catalogue.builtin(),
        transport=httpx.MockTransport(lambda r: httpx.Response(500)),
    )
    try:
        scrubbed = gw._scrub_reply(b'{"k": "tk_live\\/0123456789"}')
    finally:
        gw.close()
    assert scrubbed == b'{"k": "<redacted>"}'


def test_an_envelope_of_an_unlisted_status_has_a_generic_type() -> None:
    from refold_contract.live.gateway import envelope as _envelope

    reply = _envelope(411, "VALIDATION_ERROR", "send a Content-Length")
    assert json.loads(reply.body)["http_error_type"] == "ERROR"
    assert reply.status == 411


@pytest.mark.usefixtures("no_registered_secrets")
def test_snapshot_text_is_sorted_indented_utf8_json_with_rules_and_filters() -> None:
    from syrupy.filters import props

    from refold_contract.snapshot import Rule, shape

    class Mine(RefoldSnapshotExtension):
        rules = (Rule(path="data.*.name", replace="<name>"),)

    text = Mine().serialize({"data": [{"name": "Zoë", "b": "é"}], "a": "XXXX"})
    assert text == (
        '{\n  "a": "XXXX",\n  "data": [\n    {\n      "b": "é",\n      "name": "<name>"\n'
        "    }\n  ]\n}\n"
    )
    assert RefoldSnapshotExtension().serialize("just a string") == '"just a string"\n'
    assert json.loads(RefoldSnapshotExtension().serialize(shape({"id": "51"}))) == {"id": "string"}
    excluded = RefoldSnapshotExtension().serialize({"a": 1, "b": 2}, exclude=props("b"))
    assert json.loads(excluded) == {"a": 1}
    included = RefoldSnapshotExtension().serialize({"a": 1, "b": 2}, include=props("b"))
    assert json.loads(included) == {"b": 2}


@pytest.mark.usefixtures("no_registered_secrets")
def test_a_snapshot_replaces_the_longest_secret_first_whatever_the_alphabet_says() -> None:
    register_secrets("zzzz", "azzzz1")
    text = RefoldSnapshotExtension().serialize({"v": "azzzz1 zzzz"})
    assert json.loads(text) == {"v": f"{REDACTED} {REDACTED}"}


def test_the_guard_lets_a_declared_read_through_by_its_slug(tmp_path: Path) -> None:
    guard = ReadOnlyGuard(Catalogue.load(declared(tmp_path)))
    assert guard.allows("POST", f"{P}/acme/actions/sync_widgets/execute")
    assert not guard.allows("POST", f"{P}/other/actions/sync_widgets/execute")
    assert not guard.allows("POST", f"{P}/acme/actions/get_widget/execute")


def test_the_gateway_answers_its_own_control_paths(gateway: tuple[Gateway, Upstream]) -> None:
    gw, upstream = gateway
    health = gw.handle("GET", "/__refold/gateway/health", {}, b"")
    assert (health.status, json.loads(health.body)) == (200, {"ok": True})
    report = gw.handle("GET", "/__refold/gateway/report", {}, b"")
    assert json.loads(report.body) == {"refused": [], "drift": [], "recorded": [], "skipped": [],
                                       "tampered": [], "reads": 0, "refused_outside_tests": [],
                                       "refused_count": 0}  # fmt: skip
    assert gw.handle("POST", "/__refold/gateway/health", {}, b"").status == 404
    assert gw.handle("POST", "/__refold/gateway/collect/a.b", {}, b"").status == 404
    assert (
        json.loads(gw.handle("POST", "/__refold/gateway/collect/tok", {}, b"").body)["reads"] == 0
    )
    assert upstream.arrivals == []


@pytest.mark.parametrize(
    "escape",
    [lambda c: f"\\u{ord(c):04x}", lambda c: f"\\u{ord(c):04X}", lambda c: c],
    ids=["lower-case u escapes", "upper-case u escapes", "no escapes"],
)  # fmt: skip
def test_a_reply_too_deep_to_parse_never_carries_the_key_to_the_test(
    escape: Callable[[str], str],
) -> None:
    hidden = "".join(escape(c) for c in FAKE_KEY)
    deep = ('{"a": [[["' + hidden + '"]]]}').encode()
    gw = Gateway(
        GatewayConfig(upstream="http://refold.test", max_depth=3),
        Credentials(api_key=FAKE_KEY, linked_account_id=ACCOUNT),
        catalogue=Catalogue.builtin(),
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=deep)),
    )
    try:
        reply = gw.handle("POST", f"/t/tok7{P}/hubspot/actions/get_contact/execute", {}, b"{}")
    finally:
        gw.close()
    assert FAKE_KEY.encode() not in reply.body
    assert not Redactor([FAKE_KEY]).found_escaped(reply.body)
    # Escaped or not, what the gateway cannot parse it cannot scrub: withheld whole.
    assert reply.status == 502
    message = json.loads(reply.body)["message"]
    assert "nested deeper than the gateway's 3 levels" in message
    assert "withheld" in message
