"""RefoldMock through both of its doors: respx routes and the standalone server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from refold_contract import (
    ActionFailed,
    ActionNotInCatalogue,
    AsyncRefoldClient,
    InvalidParams,
    ProtocolError,
    RefoldClient,
    RefoldTimeout,
    ServerError,
)
from refold_contract.catalogue import Catalogue
from refold_contract.mock import RefoldMock, Reply, UnmatchedRequest, UnusedStub
from refold_contract.mock.emulator import FIRST_EXAMPLE_NOTE
from refold_contract.mock.sandboxing import COMPUTED_NOTE
from refold_contract.mock.server import RunningServer, running_server

from .helpers import FAKE_KEY, FAKE_TOKEN

PREFIX = "/api/v2/integration-schema"
KEY = {"x-api-key": FAKE_KEY, "linked_account_id": "user_1"}


class Door:
    """Sends raw requests to the mock through respx or through the server."""

    def __init__(self, mock: RefoldMock, base_url: str, kind: str) -> None:
        self.mock = mock
        self.base_url = base_url
        self.kind = kind
        self.http = httpx.Client(base_url=base_url, timeout=5)
        self.clients: list[RefoldClient] = []

    def send(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return self.http.request(
            method, PREFIX + path, headers=KEY if headers is None else headers, **kwargs
        )

    def client(self, **kwargs: Any) -> RefoldClient:
        kwargs.setdefault("api_key", FAKE_KEY)
        kwargs.setdefault("linked_account_id", "user_1")
        client = RefoldClient(base_url=self.base_url, sleep=lambda _: None, **kwargs)
        self.clients.append(client)
        return client

    def close(self) -> None:
        self.http.close()
        for client in self.clients:
            client.close()


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server() as running:
        yield running


@pytest.fixture(params=["respx", "server"])
def door(request: pytest.FixtureRequest) -> Iterator[Door]:
    mock = RefoldMock(linked_accounts={"user_1", "user_2"}, assert_all_called=False)
    if request.param == "respx":
        with mock:
            door = Door(mock, mock.base_url, "respx")
            yield door
            door.close()
    else:
        server: RunningServer = request.getfixturevalue("server")
        server.use(mock)
        door = Door(mock, server.url, "server")
        yield door
        door.close()


def assert_envelope(
    response: httpx.Response, status: int, error_code: str, message: str, key: str = "error_code"
) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body[key] == error_code
    assert body["message"] == message
    assert body["status_code"] == status
    uuid.UUID(body["request_id"])


def test_unknown_action_on_schema_and_execute(door: Door) -> None:
    for method, path in [
        ("GET", "/hubspot/actions/no_such_action"),
        ("POST", "/hubspot/actions/no_such_action/execute"),
    ]:
        response = door.send(method, path, json={} if method == "POST" else None)
        assert_envelope(
            response, 404, "SERVER_ERROR", "Action no_such_action not found in Application hubspot"
        )
        assert response.json()["http_error_type"] == "NOT_FOUND"


def test_unknown_slug_on_list_actions(door: Door) -> None:
    response = door.send("GET", "/unknown/actions")
    assert_envelope(response, 404, "SERVER_ERROR", "Application app_type 'unknown' not found")


def test_missing_required_parameter(door: Door) -> None:
    response = door.send("POST", "/hubspot/actions/create_contact/execute", json={"firstname": "A"})
    assert_envelope(response, 400, "VALIDATION_ERROR", "Required parameter 'email' is missing")
    assert response.json()["http_error_type"] == "BAD_REQUEST"


@pytest.mark.parametrize("headers", [{}, {"linked_account_id": "user_1"}])
def test_no_credentials_is_invalid_credentials_under_the_error_key(
    door: Door, headers: dict[str, str]
) -> None:
    response = door.send("GET", "/hubspot/actions", headers=headers)
    assert_envelope(response, 401, "SERVER_ERROR", "Invalid Credentials", key="error")


def test_api_key_without_linked_account(door: Door) -> None:
    response = door.send("GET", "/hubspot/actions", headers={"x-api-key": FAKE_KEY})
    assert_envelope(
        response,
        404,
        "MISSING_REQUIRED_FIELD",
        "Linked account id is required with API Key, for this resource",
    )


def test_unknown_linked_account(door: Door) -> None:
    response = door.send(
        "GET",
        "/hubspot/actions",
        headers={"x-api-key": "tk_abc", "linked_account_id": "user_99999"},
    )
    assert_envelope(
        response,
        400,
        "INVALID_LINKED_ACCOUNT_ID",
        "No linked account found for account id : user_99999 in environment test",
    )
    production = door.send(
        "GET", "/hubspot/actions", headers={"x-api-key": "pk_abc", "linked_account_id": "nope"}
    )
    assert production.json()["message"].endswith("in environment production")


def test_header_names_are_case_insensitive(door: Door) -> None:
    response = door.send(
        "GET", "/hubspot/actions", headers={"X-API-Key": FAKE_KEY, "LINKED_ACCOUNT_ID": "user_1"}
    )
    assert response.status_code == 200


def test_configured_api_keys_refuse_others(door: Door) -> None:
    door.mock.api_keys = frozenset({"tk_good"})
    assert door.send("GET", "/hubspot/actions").status_code == 401
    good = door.send(
        "GET", "/hubspot/actions", headers={"x-api-key": "tk_good", "linked_account_id": "user_1"}
    )
    assert good.status_code == 200


def test_bearer_session_tokens(door: Door) -> None:
    bearer = {"authorization": f"Bearer {FAKE_TOKEN}"}
    assert door.send("GET", "/hubspot/actions", headers=bearer).status_code == 200
    door.mock.session_tokens = frozenset({"other"})
    response = door.send("GET", "/hubspot/actions", headers=bearer)
    assert_envelope(response, 401, "SERVER_ERROR", "Invalid session token")
    client = door.client(api_key=None, session_token="other", linked_account_id=None)
    assert client.execute("hubspot", "get_contact", {"limit": "1"}).ok


def test_refold_side_errors_through_the_typed_client(door: Door) -> None:
    door.mock.fail("hubspot", "get_contact", 500, times=4)
    with pytest.raises(ServerError, match="HTTP 500 SERVER_ERROR: Internal Server Error") as info:
        door.client().execute("hubspot", "get_contact")
    assert (info.value.status_code, info.value.error_code) == (500, "SERVER_ERROR")
    assert (info.value.slug, info.value.action_id) == ("hubspot", "get_contact")
    assert [c.status for c in door.mock.calls] == [500]  # 500 is not retried, even for a read


def test_list_actions_is_the_bare_array_from_the_catalogue(door: Door) -> None:
    body = door.send("GET", "/slack/actions").json()
    assert [a["action_id"] for a in body] == [
        "get_conversation_history",
        "list_channels",
        "list_thread_messages",
        "post_message",
        "search_messages",
    ]
    assert set(body[0]) == {"name", "action_id", "description", "tag"}


def test_schema_is_the_bare_parameter_array(door: Door) -> None:
    body = door.send("GET", "/hubspot/actions/search_contacts").json()
    assert [p["name"] for p in body][:3] == ["propertyName", "operator", "value"]
    assert body[0]["required"] is True


def test_execute_answers_with_the_matching_example(door: Door) -> None:
    action = door.mock.catalogue.get("hubspot", "get_contact")
    second = action.examples[1]
    response = door.send("POST", "/hubspot/actions/get_contact/execute", json=dict(second.params))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["data"] == second.data
    assert body["node_status"] == "Success"
    assert body["http_status"] == 200


def test_execute_falls_back_to_the_first_example_and_notes_it(door: Door) -> None:
    # slack/search_messages has no state block: nothing can compute an answer to other params.
    params = {"query": "nothing like this"}
    response = door.send("POST", "/slack/actions/search_messages/execute", json=params)
    first = door.mock.catalogue.get("slack", "search_messages").examples[0]
    assert response.json()["data"] == first.data
    assert door.mock.calls[-1].note == FIRST_EXAMPLE_NOTE
    (named,) = door.mock.unmatched_replies()
    assert named.startswith(f"slack/search_messages with params {params!r}: no example has")


def test_an_action_with_a_state_block_computes_what_no_example_answers(door: Door) -> None:
    action = door.mock.catalogue.get("hubspot", "search_contacts")
    example = action.examples[0]
    path = "/hubspot/actions/search_contacts/execute"
    # The example's own params: its recorded reply, byte for byte.
    assert door.send("POST", path, json=example.params).json() == example.response
    assert door.mock.calls[-1].note is None
    # Any other email: searched, not answered with someone else's contacts.
    nobody = {"propertyName": "email", "operator": "EQ", "value": "nobody@example.invalid"}
    data = door.send("POST", path, json=nobody).json()["data"]
    assert (data["total"], data["results"]) == (0, [])
    assert (door.mock.calls[-1].note or "").startswith(COMPUTED_NOTE)
    # A get of an id no record has: HubSpot's 404, as the app answers it.
    missing = door.send(
        "POST", "/hubspot/actions/get_contact_by_id/execute", json={"contactId": "999999999"}
    ).json()
    assert (missing["node_status"], missing["http_status"]) == ("Errored", 404)
    assert door.mock.unmatched_replies() == []


def test_body_that_is_not_a_json_object(door: Door) -> None:
    path = "/hubspot/actions/get_contact/execute"
    array = door.send("POST", path, json=["limit"])
    assert_envelope(array, 400, "VALIDATION_ERROR", "Request body must be a JSON object, got array")
    broken = door.send(
        "POST", path, content=b"{nope", headers={**KEY, "content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["message"].startswith("Request body is not valid JSON")


def test_strict_mode_checks_types_and_unknown_keys(door: Door) -> None:
    door.mock.strict = True
    path = "/zendesk/actions/get_ticket_by_id/execute"
    wrong = door.send("POST", path, json={"ticket_id": "abc"})
    assert_envelope(
        wrong, 400, "VALIDATION_ERROR", "Parameter 'ticket_id' must be a number, got 'abc'"
    )
    extra = door.send("POST", path, json={"ticket_id": "12", "colour": "red"})
    assert extra.json()["message"] == (
        "Unknown parameter 'colour' (zendesk/get_ticket_by_id accepts: ticket_id)"
    )
    assert door.send("POST", path, json={"ticket_id": "12"}).status_code == 200


def test_stub_answers_after_validation_and_respects_params_and_times(door: Door) -> None:
    mock = door.mock
    mock.stub(
        "hubspot", "create_contact", data={"id": "9"}, params={"email": "a@example.com"}, times=1
    )
    client = door.client()
    example = mock.catalogue.get("hubspot", "create_contact").examples[0].data
    assert example != {"id": "9"}
    with pytest.raises(InvalidParams, match="Required parameter 'email' is missing") as info:
        client.execute("hubspot", "create_contact", {})
    assert (info.value.status_code, info.value.error_code) == (400, "VALIDATION_ERROR")
    # Other params: not the stub; no example has them, so the sandbox creates the contact.
    other = client.execute("hubspot", "create_contact", {"email": "b@example.com"}).data
    assert other["id"] != example["id"]
    assert client.execute("hubspot", "create_contact", {"email": "a@example.com"}).data == {
        "id": "9"
    }
    # times=1: used up, the catalogue answers again.
    again = client.execute("hubspot", "create_contact", {"email": "a@example.com"})
    assert again.data["id"] not in (example["id"], other["id"], "9")
    notes = [c.note or "" for c in mock.calls][1:]
    assert [note.startswith(COMPUTED_NOTE) for note in notes] == [True, False, True]


def test_app_error_is_http_200_errored(door: Door) -> None:
    door.mock.app_error("hubspot", "get_contact", 401, {"message": "expired"})
    raw = door.send("POST", "/hubspot/actions/get_contact/execute", json={})
    assert raw.status_code == 200
    assert raw.json() == {
        "node_status": "Errored",
        "http_status": 401,
        "data": {"message": "expired"},
    }
    with pytest.raises(ActionFailed):
        door.client().execute("hubspot", "get_contact")


def test_timeout_fault(door: Door) -> None:
    door.mock.timeout("hubspot", "create_contact", times=1)
    client = door.client(timeout=0.5)
    with pytest.raises(RefoldTimeout):
        client.execute("hubspot", "create_contact", {"email": "a@example.com"})
    call = door.mock.calls[-1]
    assert (call.status, call.note) == (None, "timed out (scripted)")


def test_malformed_fault_is_a_gateway_page(door: Door) -> None:
    door.mock.malformed("hubspot", "create_contact")
    with pytest.raises(ProtocolError) as info:
        door.client().execute("hubspot", "create_contact", {"email": "a@example.com"})
    assert info.value.status_code == 502
    assert info.value.content_type == "text/html"
    assert "502 Bad Gateway" in info.value.snippet


def test_delay_fault(door: Door) -> None:
    door.mock.delay("slack", "list_channels", 0.2, times=1)
    started = time.monotonic()
    door.client().execute("slack", "list_channels")
    assert time.monotonic() - started >= 0.2


def test_sequence_drives_retries_and_pagination(door: Door) -> None:
    door.mock.sequence(
        "hubspot",
        "get_contact",
        [
            Reply.error(429, retry_after=1),
            Reply.malformed(),
            {"results": [{"id": "1"}], "paging": {"next": {"after": "1"}}},
            {"results": [{"id": "2"}], "paging": {}},
        ],
    )
    client = door.client()
    first = client.execute("hubspot", "get_contact")
    assert first.data["results"] == [{"id": "1"}]
    second = client.execute("hubspot", "get_contact", {"after": "1"})
    assert second.data["paging"] == {}
    statuses = [c.status for c in door.mock.calls_for("hubspot", "get_contact")]
    assert statuses == [429, 502, 200, 200]
    assert door.mock.calls[0].note == "scripted by sequence"


def test_fail_with_retry_after_header(door: Door) -> None:
    door.mock.fail("hubspot", "get_contact", 429, retry_after=3, message="slow down")
    response = door.send("POST", "/hubspot/actions/get_contact/execute", json={})
    assert response.headers["retry-after"] == "3"
    assert response.json()["message"] == "slow down"


def test_fail_on_every_operation_with_wildcards(door: Door) -> None:
    door.mock.fail("*", "*", 503, operation="*")
    for method, path in [
        ("GET", "/slack/actions"),
        ("GET", "/slack/actions/list_channels"),
        ("POST", "/gmail/actions/get_message/execute"),
    ]:
        assert door.send(method, path, json={} if method == "POST" else None).status_code == 503


def test_the_journal(door: Door) -> None:
    client = door.client()
    client.execute("hubspot", "create_contact", {"email": "a@example.com"})
    client.execute(
        "hubspot", "create_contact", {"email": "b@example.com"}, linked_account_id="user_2"
    )
    client.list_actions("hubspot")
    mock = door.mock
    assert [c.operation for c in mock.calls] == ["execute", "execute", "list_actions"]
    first = mock.calls[0]
    assert (first.slug, first.action_id, first.params) == (
        "hubspot",
        "create_contact",
        {"email": "a@example.com"},
    )
    assert first.linked_account_id == "user_1"
    assert first.status == 200
    assert first.reply["node_status"] == "Success"
    assert mock.calls[1].linked_account_id == "user_2"
    assert len(mock.calls_for("hubspot", "create_contact", params={"email": "b@example.com"})) == 1
    mock.assert_called("hubspot", "create_contact", times=2)
    mock.assert_called("hubspot", "create_contact", params={"email": "a@example.com"}, times=1)
    mock.assert_not_called("hubspot", "delete_contact")
    with pytest.raises(
        AssertionError,
        match=r"expected hubspot/create_contact to be executed 3 time\(s\), it was executed 2",
    ):
        mock.assert_called("hubspot", "create_contact", times=3)
    with pytest.raises(AssertionError, match="expected no call to hubspot, found 3"):
        mock.assert_not_called("hubspot")
    assert FAKE_KEY not in repr(mock.calls)
    mock.reset()
    assert mock.calls == []


def test_a_generic_success_when_the_action_has_no_example(tmp_path: Path) -> None:
    from refold_contract import Catalogue

    from .helpers import action_doc, write_action

    write_action(tmp_path, action_doc(examples=[]))
    mock = RefoldMock(Catalogue.load(tmp_path))
    with mock, door_client(mock) as client:
        result = client.execute("demo", "get_thing", {"id": "1"})
    assert result.data == {}
    assert (
        mock.calls[-1].note
        == "no example in the catalogue for demo/get_thing: generic success reply"
    )


def door_client(mock: RefoldMock) -> RefoldClient:
    return RefoldClient(
        api_key=FAKE_KEY,
        linked_account_id="user_1",
        base_url=mock.base_url,
        catalogue=mock.catalogue,
    )


def test_an_unplaced_request_fails_loudly_and_lists_what_is_served() -> None:
    mock = RefoldMock()
    with mock, pytest.raises(UnmatchedRequest) as info:
        httpx.get(f"{mock.base_url}/api/v2/integration-schema/hubspot/triggers", headers=KEY)
    text = str(info.value)
    assert "GET /api/v2/integration-schema/hubspot/triggers" in text
    assert "/execute (POST)" in text
    assert "hubspot (10)" in text
    assert "respx_mock" in text
    with pytest.raises(UnmatchedRequest):
        mock.verify()


def test_the_server_answers_unplaced_requests_with_404() -> None:
    with running_server() as server, httpx.Client() as http:
        response = http.delete(server.url + PREFIX + "/hubspot/actions", headers=KEY)
    assert response.status_code == 404
    assert response.json()["message"] == "Cannot DELETE /api/v2/integration-schema/hubspot/actions"


def test_unused_stubs_fail_verification_unless_allowed() -> None:
    mock = RefoldMock()
    mock.stub("hubspot", "get_contact", data={})
    with pytest.raises(UnusedStub, match=r"stub\('hubspot', 'get_contact'\)"):
        mock.verify()
    mock.assert_all_called = False
    mock.verify()


def test_stubbing_an_unknown_action_suggests_names() -> None:
    with pytest.raises(ActionNotInCatalogue, match="did you mean hubspot/get_contact"):
        RefoldMock().stub("hubspot", "get_contacts", data={})


def test_bad_stub_arguments() -> None:
    mock = RefoldMock()
    with pytest.raises(ValueError, match="times must be a whole number of at least 1"):
        mock.stub("hubspot", "get_contact", data={}, times=0)
    with pytest.raises(ValueError, match="operation must be"):
        mock.fail("hubspot", "get_contact", 500, operation="delete")
    with pytest.raises(ValueError, match="at least one reply"):
        mock.sequence("hubspot", "get_contact", [])
    with pytest.raises(ValueError, match="HTTP error status from 400 to 599, got '429'"):
        mock.fail("hubspot", "get_contact", "429")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"stub\('hubspot', 'get_contact'\): data is not JSON"):
        mock.stub("hubspot", "get_contact", data={"when": object()})


def test_other_hosts_are_not_answered_by_the_mock() -> None:
    import respx

    with RefoldMock(), pytest.raises(respx.models.AllMockedAssertionError):
        httpx.get("https://example.org/")


def test_async_clients_are_answered_and_delays_do_not_block_the_loop() -> None:
    mock = RefoldMock()
    mock.delay("hubspot", "get_contact", 0.3)

    async def scenario() -> float:
        async with AsyncRefoldClient(api_key=FAKE_KEY, linked_account_id="user_1") as client:
            started = time.monotonic()
            results = await asyncio.gather(
                *(client.execute("hubspot", "get_contact") for _ in range(5))
            )
            assert all(r.ok for r in results)
            return time.monotonic() - started

    with mock:
        elapsed = asyncio.run(scenario())
    assert 0.3 <= elapsed < 1.0  # five concurrent delays overlap
    assert len(mock.calls) == 5


def test_handle_is_a_pure_function_of_the_request() -> None:
    mock = RefoldMock()
    url = f"{mock.base_url}{PREFIX}/hubspot/actions/get_contact/execute"
    response = mock.handle(httpx.Request("POST", url, json={"limit": "1"}, headers=KEY))
    assert response.json()["data"]["results"][0]["id"] == "51"
    mock.timeout("hubspot", "get_contact")
    with pytest.raises(httpx.ReadTimeout):
        mock.handle(httpx.Request("POST", url, json={}, headers=KEY))


# ---------------------------------------------------------------------- authentication, as a unit


def refusal(answer: Any) -> tuple[int, str, str] | None:
    """``(status, error code, message)`` of a refusal, ``None`` when the request may pass."""
    if answer is None:
        return None
    body = answer.json()
    code = body["error_code"] if "error_code" in body else "error=" + body["error"]
    return answer.status, code, body["message"]


INVALID = (401, "error=SERVER_ERROR", "Invalid Credentials")
NO_ACCOUNT = (
    404,
    "MISSING_REQUIRED_FIELD",
    "Linked account id is required with API Key, for this resource",
)
BAD_TOKEN = (401, "SERVER_ERROR", "Invalid session token")


def unknown(account: str, environment: str = "test") -> tuple[int, str, str]:
    return (
        400,
        "INVALID_LINKED_ACCOUNT_ID",
        f"No linked account found for account id : {account} in environment {environment}",
    )


@pytest.mark.parametrize(
    ("api_key", "linked", "authorization", "expected"),
    [
        ("tk_any", "anyone", "", None),
        (None, "anyone", "", INVALID),
        ("", "anyone", "", INVALID),
        ("tk_any", None, "", NO_ACCOUNT),
        ("tk_any", "", "", NO_ACCOUNT),
        (None, None, "", INVALID),  # the key is checked before the account
        (None, None, "Bearer tok", None),  # a session token replaces both
        (None, None, "Bearer x", None),  # a one-character token is a token
        (None, None, "bearer tok", None),
        (None, None, "BEARER tok", None),
        ("tk_any", None, "Bearer tok", None),
        (None, None, "Bearer ", INVALID),  # an empty token is no token
        (None, None, "Bearer    ", INVALID),
        (None, None, "Basic dXNlcg==", INVALID),
        ("tk_any", None, "Basic dXNlcg==", NO_ACCOUNT),
        (None, None, "Bearertok", INVALID),
    ],
)
def test_an_open_emulator_needs_a_key_and_an_account_or_a_session_token(
    api_key: str | None, linked: str | None, authorization: str, expected: Any
) -> None:
    from refold_contract import Catalogue
    from refold_contract.mock.emulator import Emulator

    emulator = Emulator(Catalogue.builtin())
    assert refusal(emulator.authenticate(api_key, linked, authorization)) == expected


@pytest.mark.parametrize(
    ("api_key", "linked", "authorization", "expected"),
    [
        ("tk_good", "user_1", "", None),
        ("pk_good", "user_1", "", None),
        ("tk_bad", "user_1", "", INVALID),
        ("tk_bad", None, "", INVALID),
        ("tk_good", None, "", NO_ACCOUNT),
        ("tk_good", "user_2", "", unknown("user_2")),
        ("pk_good", "user_2", "", unknown("user_2", "production")),
        (None, None, "Bearer st_good", None),
        (None, "user_1", "Bearer st_good", None),
        ("tk_bad", None, "Bearer st_good", None),
        (None, None, "Bearer st_bad", BAD_TOKEN),
        (None, None, "Bearer  st_good ", None),  # the token is stripped
        (None, "user_2", "Bearer st_good", unknown("user_2")),
        (None, "user_2", "Bearer st_bad", BAD_TOKEN),
    ],
)
def test_a_restricted_emulator_accepts_only_its_keys_tokens_and_accounts(
    api_key: str | None, linked: str | None, authorization: str, expected: Any
) -> None:
    from refold_contract import Catalogue
    from refold_contract.mock.emulator import Emulator

    emulator = Emulator(
        Catalogue.builtin(),
        api_keys={"tk_good", "pk_good"},
        session_tokens={"st_good"},
        linked_accounts={"user_1"},
    )
    assert refusal(emulator.authenticate(api_key, linked, authorization)) == expected


def test_empty_allow_lists_refuse_everyone() -> None:
    from refold_contract import Catalogue
    from refold_contract.mock.emulator import Emulator

    emulator = Emulator(Catalogue.builtin(), api_keys=(), session_tokens=(), linked_accounts=())
    assert refusal(emulator.authenticate("tk_1", "user_1", "")) == INVALID
    assert refusal(emulator.authenticate(None, None, "Bearer st")) == BAD_TOKEN
    open_keys = Emulator(Catalogue.builtin(), linked_accounts=())
    assert refusal(open_keys.authenticate("tk_1", "user_1", "")) == unknown("user_1")


def test_every_refusal_is_refolds_envelope_with_a_fresh_request_id() -> None:
    from refold_contract import Catalogue
    from refold_contract.mock.emulator import Emulator

    emulator = Emulator(Catalogue.builtin(), linked_accounts={"user_1"})
    answers: list[Any] = [  # Answer | None: each is a refusal here
        emulator.authenticate(None, "user_1", ""),
        emulator.authenticate("tk_1", None, ""),
        emulator.authenticate("tk_1", "user_2", ""),
    ]
    types = [(a.json()["status_code"], a.json()["http_error_type"]) for a in answers]
    assert types == [(401, "UNAUTHORIZED"), (404, "NOT_FOUND"), (400, "BAD_REQUEST")]
    ids = [uuid.UUID(a.json()["request_id"]) for a in answers]
    assert len(set(ids)) == 3
    assert all(a.content_type == "application/json; charset=utf-8" for a in answers)


# ---------------------------------------------------------------------- the emulator's replies


def test_the_mock_sends_compact_utf8_json_and_never_nan() -> None:
    from refold_contract.mock.emulator import dumps

    assert dumps({"a": [1, "é"], "b": None}) == '{"a":[1,"é"],"b":null}'.encode()
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        dumps({"x": float("nan")})


def test_an_error_of_an_unlisted_status_has_a_generic_type() -> None:
    from refold_contract.mock.emulator import Emulator

    body = Emulator.error(418, "teapot").json()
    assert (body["status_code"], body["http_error_type"], body["error_code"]) == (
        418, "ERROR", "SERVER_ERROR",
    )  # fmt: skip
    assert Emulator.error(429, "slow", retry_after="3").retry_after == "3"


def test_an_empty_body_is_the_empty_object() -> None:
    from refold_contract.config import Limits
    from refold_contract.mock.emulator import ParsedBody, parse_body

    assert parse_body(b"", Limits()) == ParsedBody({}, "{}")
    assert parse_body(b"  \n", Limits()) == ParsedBody({}, "{}")
    assert parse_body(b"{}", Limits()) == ParsedBody({}, "{}")


def test_replay_picks_the_exact_example_then_the_first_success_then_the_first(
    tmp_path: Any,
) -> None:
    from refold_contract import Catalogue
    from refold_contract.mock.emulator import GENERIC_SUCCESS, Emulator

    from .helpers import action_doc, write_action

    def ex(i: str, status: str) -> dict[str, Any]:
        return {"params": {"id": i}, "response": {"node_status": status, "data": {"n": i}},
                "source": "t"}  # fmt: skip

    write_action(
        tmp_path, action_doc(action_id="get_a", examples=[ex("1", "Errored"), ex("2", "Success")])
    )
    write_action(tmp_path, action_doc(action_id="get_b", examples=[ex("1", "Errored")]))
    write_action(tmp_path, action_doc(action_id="get_c", examples=[]))
    catalogue = Catalogue.load(tmp_path)
    emulator = Emulator(catalogue)
    a, b, c = (catalogue.get("demo", f"get_{x}") for x in "abc")
    exact, note = emulator.replay(a, '{"id":"1"}')
    assert (exact.status, exact.json()["data"], note) == (200, {"n": "1"}, None)
    other, note = emulator.replay(a, '{"id":"2"}')
    assert (other.json()["data"], note) == ({"n": "2"}, None)  # not the first one, cached
    fallback, note = emulator.replay(a, '{"id":"9"}')
    assert fallback.json()["data"] == {"n": "2"}  # the first successful one
    assert note == "no example with these params: answered with the first successful example"
    first, _ = emulator.replay(b, '{"id":"9"}')
    assert first.json() == {"node_status": "Errored", "data": {"n": "1"}}  # no success: the first
    generic, note = emulator.replay(c, "{}")
    assert (generic.status, generic.body) == (200, GENERIC_SUCCESS)
    assert note == "no example in the catalogue for demo/get_c: generic success reply"


def test_bodies_are_parsed_strictly_within_the_limits() -> None:
    from refold_contract.config import Limits
    from refold_contract.mock.emulator import Emulator, ParsedBody, parse_body

    limits = Limits(max_depth=3, max_body_bytes=40)
    assert parse_body(b'{"a": {"b": [1]}}', limits) == ParsedBody(
        {"a": {"b": [1]}}, '{"a":{"b":[1]}}'
    )
    big = parse_body(b'{"a": "' + b"x" * 40 + b'"}', limits)
    assert (big.params, big.key, big.status) == (None, None, 413)
    assert big.problem == "Request body is too large: 49 bytes is over the limit of 40 bytes"
    deep = parse_body(b'{"a": [[[1]]]}', limits)
    assert (deep.params, deep.key, deep.status) == (None, None, 400)
    assert deep.problem == "Request body is nested too deep: nesting 4 deep is over the limit of 3"
    huge = parse_body(b'{"a": 1e999}', limits)
    assert (huge.key, huge.status) == (None, 400)
    assert huge.problem == (
        "Request body is not valid JSON: 1e999 is too large for a number (it reads as infinity)"
    )
    array = parse_body(b"[1]", limits)
    assert array == ParsedBody([1], None, "Request body must be a JSON object, got array", 400)
    emulator = Emulator(Catalogue.builtin())
    assert emulator.strict is False
    refused = emulator.validate(Catalogue.builtin().get("hubspot", "get_contact"), big)
    assert refused is not None
    assert (refused.status, refused.json()["error_code"]) == (413, "VALIDATION_ERROR")
