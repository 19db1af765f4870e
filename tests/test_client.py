from __future__ import annotations

import asyncio
import datetime
import email.utils
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from refold_contract import (
    ActionFailed,
    ActionNotFound,
    ApplicationNotFound,
    AsyncRefoldClient,
    AuthenticationError,
    ConfigurationError,
    InvalidLinkedAccount,
    InvalidParams,
    LinkedAccountRequired,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ReadOnlyViolation,
    RefoldAPIError,
    RefoldClient,
    RefoldConnectionError,
    RefoldTimeout,
    RetryPolicy,
    ServerError,
)
from refold_contract.client import parse_retry_after

from .helpers import FAKE_KEY, FAKE_TOKEN

Handler = Callable[[httpx.Request], httpx.Response]
RID = "6f1c1e9e-2a4b-4c8e-9d7a-0c3f5e2b1a90"


def envelope(
    status: int, kind: str, message: str, code: str | None = "SERVER_ERROR", key: str = "error_code"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status_code": status,
        "http_error_type": kind,
        "message": message,
        "request_id": RID,
    }
    if code is not None:
        body[key] = code
    return body


class Recorder:
    """A MockTransport handler that answers from a list and remembers every request."""

    def __init__(self, *replies: httpx.Response | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply


def make_client(handler: Handler, **kwargs: Any) -> tuple[RefoldClient, list[float]]:
    sleeps: list[float] = []
    kwargs.setdefault("api_key", FAKE_KEY)
    kwargs.setdefault("linked_account_id", "user_1")
    client = RefoldClient(transport=httpx.MockTransport(handler), sleep=sleeps.append, **kwargs)
    return client, sleeps


SUCCESS = {"node_status": "Success", "data": {"results": [], "paging": {}}}

ERROR_ROWS = [
    # (status, body, expected class, error_code)
    (
        404,
        envelope(404, "NOT_FOUND", "Action no_such_action not found in Application hubspot"),
        ActionNotFound,
        "SERVER_ERROR",
    ),
    (
        404,
        envelope(404, "NOT_FOUND", "Application app_type 'unknown' not found"),
        ApplicationNotFound,
        "SERVER_ERROR",
    ),
    (
        400,
        envelope(400, "BAD_REQUEST", "Required parameter 'email' is missing", "VALIDATION_ERROR"),
        InvalidParams,
        "VALIDATION_ERROR",
    ),
    (
        401,
        envelope(401, "UNAUTHORIZED", "Invalid Credentials", key="error"),
        AuthenticationError,
        "SERVER_ERROR",
    ),
    (
        401,
        envelope(401, "UNAUTHORIZED", "Invalid session token"),
        AuthenticationError,
        "SERVER_ERROR",
    ),
    (
        404,
        envelope(
            404,
            "NOT_FOUND",
            "Linked account id is required with API Key, for this resource",
            "MISSING_REQUIRED_FIELD",
        ),
        LinkedAccountRequired,
        "MISSING_REQUIRED_FIELD",
    ),
    (
        400,
        envelope(
            400,
            "BAD_REQUEST",
            "No linked account found for account id : user_99999 in environment test",
            "INVALID_LINKED_ACCOUNT_ID",
        ),
        InvalidLinkedAccount,
        "INVALID_LINKED_ACCOUNT_ID",
    ),
    (429, envelope(429, "TOO_MANY_REQUESTS", "Rate limit exceeded", None), RateLimitError, None),
    (
        500,
        envelope(500, "INTERNAL_SERVER_ERROR", "Something went wrong"),
        ServerError,
        "SERVER_ERROR",
    ),
    (403, envelope(403, "FORBIDDEN", "Forbidden"), PermissionDeniedError, "SERVER_ERROR"),
    (404, envelope(404, "NOT_FOUND", "Whatever else"), NotFoundError, "SERVER_ERROR"),
]


@pytest.mark.parametrize(("status", "body", "cls", "code"), ERROR_ROWS)
def test_every_documented_error_row_becomes_its_typed_error(
    status: int, body: Any, cls: type[RefoldAPIError], code: str | None
) -> None:
    client, _ = make_client(Recorder(httpx.Response(status, json=body)), retries=0)
    with pytest.raises(cls) as info:
        client.execute("hubspot", "create_contact", {"firstname": "Ada"})
    err = info.value
    assert type(err) is cls
    assert (err.status_code, err.error_code, err.request_id) == (status, code, RID)
    assert err.message == body["message"]
    assert (err.slug, err.action_id) == ("hubspot", "create_contact")
    assert err.hint
    assert f"request_id {RID}" in str(err)
    assert FAKE_KEY not in str(err)
    assert FAKE_KEY not in repr(err)


@pytest.mark.parametrize("key", ["error_code", "error"])
def test_both_envelope_keys_give_the_error_code(key: str) -> None:
    body = envelope(400, "BAD_REQUEST", "bad", "VALIDATION_ERROR", key=key)
    client, _ = make_client(Recorder(httpx.Response(400, json=body)))
    with pytest.raises(InvalidParams) as info:
        client.get_action_schema("hubspot", "x")
    assert info.value.error_code == "VALIDATION_ERROR"


def test_error_without_a_message_still_says_what_happened() -> None:
    client, _ = make_client(Recorder(httpx.Response(500, json={})), retries=0)
    with pytest.raises(ServerError, match="HTTP 500 with no message"):
        client.list_actions("hubspot")


def test_an_html_gateway_page_is_a_protocol_error_with_a_snippet() -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>" * 5
    reply = httpx.Response(502, text=page, headers={"content-type": "text/html"})
    client, _ = make_client(Recorder(reply), retries=0)
    with pytest.raises(ProtocolError) as info:
        client.execute("hubspot", "create_contact", {"email": "a@example.com"})
    err = info.value
    assert (err.status_code, err.content_type) == (502, "text/html")
    assert err.snippet == page[:200]
    assert "hubspot/create_contact: reply is not JSON (HTTP 502" in str(err)


def test_truncated_json_is_a_protocol_error() -> None:
    reply = httpx.Response(
        200,
        content=b'{"node_status": "Success", "data": {"res',
        headers={"content-type": "application/json"},
    )
    client, _ = make_client(Recorder(reply))
    with pytest.raises(ProtocolError, match="reply is not JSON"):
        client.execute("hubspot", "get_contact", {"limit": "1"})


@pytest.mark.parametrize("body", [[1, 2], {"data": {}}, {"node_status": 3}, "Success"], ids=repr)
def test_a_reply_of_the_wrong_shape_is_a_protocol_error(body: Any) -> None:
    client, _ = make_client(Recorder(httpx.Response(200, json=body)))
    with pytest.raises(ProtocolError, match="expected"):
        client.execute("hubspot", "get_contact")


def test_list_and_schema_need_arrays() -> None:
    client, _ = make_client(Recorder(httpx.Response(200, json={"actions": []})))
    with pytest.raises(ProtocolError, match="expected a JSON array"):
        client.list_actions("hubspot")
    client, _ = make_client(Recorder(httpx.Response(200, json=[{"label": "no name"}])))
    with pytest.raises(ProtocolError, match="missing required key 'name'"):
        client.get_action_schema("hubspot", "get_contact")


def test_success_returns_an_action_result() -> None:
    body = {"node_status": "Success", "http_status": 200, "data": {"id": "51"}}
    recorder = Recorder(httpx.Response(200, json=body))
    client, _ = make_client(recorder)
    result = client.execute("hubspot", "get_contact_by_id", {"contact_id": "51"})
    assert result.ok
    assert result.node_status == "Success"
    assert (result.data, result.http_status) == ({"id": "51"}, 200)
    assert result.response.status_code == 200
    assert result.json() == body
    (request,) = recorder.requests
    assert request.method == "POST"
    assert request.url == (
        "https://app.refold.ai/api/v2/integration-schema/hubspot/actions/get_contact_by_id/execute"
    )
    assert json.loads(request.content) == {"contact_id": "51"}
    assert request.headers["x-api-key"] == FAKE_KEY
    assert request.headers["linked_account_id"] == "user_1"
    assert "authorization" not in request.headers


def test_http_status_is_optional_in_a_success_reply() -> None:
    client, _ = make_client(Recorder(httpx.Response(200, json=SUCCESS)))
    assert client.execute("hubspot", "get_contact", {"limit": "1"}).http_status is None


def test_an_app_failure_under_http_200_is_never_success() -> None:
    body = {
        "node_status": "Errored",
        "http_status": 401,
        "data": {
            "message": "Application Authentication not found for linked_account_id user_1 and app "
            "hubspot"
        },
    }
    client, _ = make_client(Recorder(httpx.Response(200, json=body)))
    with pytest.raises(ActionFailed) as info:
        client.execute("hubspot", "get_contact", {"limit": "1"})
    err = info.value
    assert (err.node_status, err.http_status) == ("Errored", 401)
    assert err.data == body["data"]
    assert "Application Authentication not found" in str(err)
    result = client.execute("hubspot", "get_contact", {"limit": "1"}, check=False)
    assert not result.ok
    with pytest.raises(ActionFailed):
        result.raise_for_status()


def test_list_actions_and_schema_are_typed() -> None:
    listing = [
        {
            "name": "Get Contact",
            "action_id": "get_contact",
            "description": "Get all contacts.",
            "tag": "v2",
        },
        {"name": "Old", "action_id": "old"},
    ]
    recorder = Recorder(
        httpx.Response(200, json=listing),
        httpx.Response(
            200, json=[{"name": "email", "label": "Enter Email", "required": True, "type": "text"}]
        ),
    )
    client, _ = make_client(recorder)
    infos = client.list_actions("hubspot")
    assert [(i.action_id, i.tag) for i in infos] == [("get_contact", "v2"), ("old", None)]
    (param,) = client.get_action_schema("hubspot", "create_contact")
    assert (param.name, param.required, param.type) == ("email", True, "text")
    assert [r.url.path for r in recorder.requests] == [
        "/api/v2/integration-schema/hubspot/actions",
        "/api/v2/integration-schema/hubspot/actions/create_contact",
    ]
    assert all(r.method == "GET" for r in recorder.requests)


def test_a_session_token_replaces_the_api_key_headers() -> None:
    recorder = Recorder(httpx.Response(200, json=SUCCESS))
    client = RefoldClient(session_token=FAKE_TOKEN, transport=httpx.MockTransport(recorder))
    client.execute("hubspot", "get_contact")
    (request,) = recorder.requests
    assert request.headers["authorization"] == f"Bearer {FAKE_TOKEN}"
    assert "x-api-key" not in request.headers
    assert "linked_account_id" not in request.headers


def test_a_per_call_linked_account_overrides_the_default() -> None:
    recorder = Recorder(httpx.Response(200, json=SUCCESS))
    client, _ = make_client(recorder)
    client.execute("hubspot", "get_contact", linked_account_id="user_2")
    client.execute("hubspot", "get_contact")
    assert [r.headers["linked_account_id"] for r in recorder.requests] == ["user_2", "user_1"]


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
    monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", "user_env")
    monkeypatch.setenv("REFOLD_BASE_URL", "http://127.0.0.1:8700/")
    recorder = Recorder(httpx.Response(200, json=SUCCESS))
    client = RefoldClient(transport=httpx.MockTransport(recorder))
    client.execute("hubspot", "get_contact")
    (request,) = recorder.requests
    assert str(request.url).startswith("http://127.0.0.1:8700/api/v2/")
    assert request.headers["linked_account_id"] == "user_env"


def test_no_credentials_is_a_configuration_error_naming_the_variables() -> None:
    with pytest.raises(ConfigurationError, match="REFOLD_API_KEY"):
        RefoldClient()


def test_reads_are_retried_on_transient_statuses_then_succeed() -> None:
    recorder = Recorder(
        httpx.Response(503, json=envelope(503, "SERVICE_UNAVAILABLE", "down")),
        httpx.Response(502, text="<html>bad gateway</html>"),
        httpx.Response(504, json=envelope(504, "GATEWAY_TIMEOUT", "slow")),
        httpx.Response(200, json=SUCCESS),
    )
    client, sleeps = make_client(recorder)
    assert client.execute("hubspot", "get_contact", {"limit": "1"}).ok
    assert len(recorder.requests) == 4
    assert len(sleeps) == 3
    assert sleeps[0] < sleeps[2]  # exponential: 0.25-0.5 s, then 1-2 s


def test_502_html_page_is_retried_for_reads() -> None:
    recorder = Recorder(httpx.Response(502, text="<html>x</html>"), httpx.Response(200, json=[]))
    client, sleeps = make_client(recorder)
    assert client.list_actions("hubspot") == []
    assert len(sleeps) == 1


def test_retries_are_bounded_by_attempts() -> None:
    recorder = Recorder(httpx.Response(503, json=envelope(503, "X", "down")))
    client, sleeps = make_client(recorder, retries=2)
    with pytest.raises(ServerError):
        client.get_action_schema("hubspot", "get_contact")
    assert len(recorder.requests) == 3
    assert len(sleeps) == 2


def test_retries_are_bounded_by_total_time() -> None:
    recorder = Recorder(httpx.Response(503, json=envelope(503, "X", "down")))
    client, sleeps = make_client(recorder, retry=RetryPolicy(retries=10, max_time=3.0))
    with pytest.raises(ServerError):
        client.list_actions("hubspot")
    assert len(recorder.requests) < 5
    assert sum(sleeps) <= 3.0


def test_retry_after_seconds_is_honoured_on_429() -> None:
    recorder = Recorder(
        httpx.Response(
            429, json=envelope(429, "TOO_MANY", "slow down", None), headers={"Retry-After": "7"}
        ),
        httpx.Response(200, json=SUCCESS),
    )
    client, sleeps = make_client(recorder)
    client.execute(
        "hubspot",
        "search_contacts",
        {"propertyName": "email", "operator": "EQ", "value": "a@example.com"},
    )
    assert sleeps == [7.0]


def test_retry_after_http_date_is_honoured() -> None:
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    recorder = Recorder(
        httpx.Response(429, json={}, headers={"Retry-After": when}),
        httpx.Response(200, json=[]),
    )
    client, sleeps = make_client(recorder)
    client.list_actions("hubspot")
    assert 3.0 < sleeps[0] <= 5.0


def test_a_retry_after_beyond_the_time_budget_raises_at_once() -> None:
    recorder = Recorder(httpx.Response(429, json={}, headers={"Retry-After": "120"}))
    client, sleeps = make_client(recorder)
    with pytest.raises(RateLimitError) as info:
        client.list_actions("hubspot")
    assert info.value.retry_after == 120.0
    assert sleeps == []


@pytest.mark.parametrize(
    ("value", "expected"), [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("", None), ("later", None)]
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(503, json=envelope(503, "X", "down")),
        httpx.Response(429, json={}, headers={"Retry-After": "1"}),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("refused"),
    ],
    ids=["503", "429", "timeout", "connect"],
)
def test_a_write_is_never_retried(reply: httpx.Response | Exception) -> None:
    recorder = Recorder(reply, httpx.Response(200, json=SUCCESS))
    client, sleeps = make_client(recorder)
    with pytest.raises((RefoldAPIError, RefoldTimeout, RefoldConnectionError)):
        client.execute("hubspot", "create_contact", {"email": "a@example.com"})
    assert len(recorder.requests) == 1
    assert sleeps == []


def test_httprequest_and_unknown_actions_are_writes_and_not_retried() -> None:
    for action in ("httprequest", "frobnicate_things"):
        recorder = Recorder(httpx.Response(503, json={}), httpx.Response(200, json=SUCCESS))
        client, _ = make_client(recorder)
        with pytest.raises(ServerError):
            client.execute("hubspot", action, {})
        assert len(recorder.requests) == 1


def test_client_errors_are_never_retried() -> None:
    recorder = Recorder(httpx.Response(401, json=envelope(401, "U", "Invalid Credentials")))
    client, sleeps = make_client(recorder)
    with pytest.raises(AuthenticationError):
        client.list_actions("hubspot")
    assert (len(recorder.requests), sleeps) == (1, [])


def test_timeouts_are_retried_for_reads_then_raise_refold_timeout() -> None:
    recorder = Recorder(httpx.ReadTimeout("timed out"))
    client, _sleeps = make_client(recorder, retries=2)
    with pytest.raises(RefoldTimeout) as info:
        client.execute("hubspot", "get_contact", {"limit": "1"})
    assert isinstance(info.value, TimeoutError)
    assert len(recorder.requests) == 3
    assert "timed out" in str(info.value)
    assert "hint:" in str(info.value)


def test_connection_errors_become_refold_connection_error() -> None:
    client, _ = make_client(Recorder(httpx.ConnectError("refused")), retries=0)
    with pytest.raises(RefoldConnectionError, match="ConnectError"):
        client.list_actions("hubspot")


def test_read_only_client_refuses_writes_before_sending() -> None:
    recorder = Recorder(httpx.Response(200, json=SUCCESS))
    client, _ = make_client(recorder, read_only=True)
    for action, says in (("create_contact", "it is a write (its name says 'create')"),
                         ("httprequest", "it reads only when 'method' is GET or HEAD"),
                         ("never_heard_of_it", "it is not in the catalogue in force")):  # fmt: skip
        with pytest.raises(ReadOnlyViolation) as info:
            client.execute("hubspot", action, {"email": "a@example.com"})
        assert f"refused to send hubspot/{action}: {says}" in str(info.value)
        # Only an action that may really read is offered the way to declare it.
        assert ('"access": "read"' in str(info.value)) == (action == "never_heard_of_it")
    assert recorder.requests == []
    assert client.execute("hubspot", "get_contact").ok


def test_the_fake_key_never_shows_in_repr_str_errors_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    replies: list[httpx.Response | Exception] = [
        httpx.Response(401, json=envelope(401, "U", "Invalid Credentials", key="error")),
        httpx.Response(502, text="<html>gateway</html>"),
        httpx.Response(200, json={"node_status": "Errored", "data": {}}),
        httpx.ReadTimeout("timed out"),
    ]
    texts: list[str] = []
    for reply in replies:
        for kwargs in ({"api_key": FAKE_KEY}, {"session_token": FAKE_TOKEN}):
            client, _ = make_client(Recorder(reply), retries=1, **kwargs)
            texts += [repr(client), str(client), repr(client.settings), repr(client._http.auth)]
            with pytest.raises(
                (RefoldAPIError, ProtocolError, ActionFailed, RefoldTimeout)
            ) as info:
                client.execute("hubspot", "get_contact", {"limit": "1"})
            texts += [str(info.value), repr(info.value), repr(info.value.__dict__)]
    texts.append(caplog.text)
    joined = "\n".join(texts)
    assert FAKE_KEY not in joined
    assert FAKE_TOKEN not in joined
    assert "retry 1 of 1" in caplog.text


def test_reprs_say_whether_a_linked_account_is_set_not_which() -> None:
    from refold_contract._guard.custody import Credentials

    account = "acct_customer_4242"
    with RefoldClient(api_key=FAKE_KEY, linked_account_id=account) as client:
        texts = [repr(client), repr(client.settings)]
    texts.append(repr(Credentials(api_key=FAKE_KEY, linked_account_id=account)))
    assert [t for t in texts if account in t or FAKE_KEY in t] == []
    assert all("linked_account_id=" in t and "<set>" in t for t in texts)


def test_the_client_is_a_context_manager() -> None:
    with make_client(Recorder(httpx.Response(200, json=[])))[0] as client:
        client.list_actions("hubspot")
    assert client._http.is_closed


def test_async_client_has_the_same_behaviour() -> None:
    async def scenario() -> None:
        sleeps: list[float] = []

        async def fake_sleep(seconds: float) -> None:
            sleeps.append(seconds)

        recorder = Recorder(
            httpx.Response(429, json={}, headers={"Retry-After": "2"}),
            httpx.Response(200, json=SUCCESS),
        )
        async with AsyncRefoldClient(
            api_key=FAKE_KEY,
            linked_account_id="user_1",
            sleep=fake_sleep,
            transport=httpx.MockTransport(recorder),
        ) as client:
            result = await client.execute("hubspot", "get_contact", {"limit": "1"})
            assert result.ok
            assert sleeps == [2.0]
            recorder.replies = [httpx.Response(503, json={})]
            with pytest.raises(ServerError):
                await client.execute("hubspot", "create_contact", {"email": "a@example.com"})
            assert len(recorder.requests) == 3
            recorder.replies = [httpx.Response(200, json=[{"action_id": "a", "name": "A"}])]
            assert [i.action_id for i in await client.list_actions("hubspot")] == ["a"]
            recorder.replies = [httpx.Response(200, json=[])]
            assert await client.get_action_schema("hubspot", "a") == []
            assert FAKE_KEY not in repr(client)
        assert client._http.is_closed

    asyncio.run(scenario())


# ---------------------------------------------------------------------- the retry rule, as a unit


def retry_rule(**policy: Any) -> tuple[Any, Any]:
    """A client's I/O-free half and a read call to ask it about."""
    from refold_contract.client import RetryPolicy

    client = RefoldClient(
        api_key="tk_1", linked_account_id="a", transport=httpx.MockTransport(lambda r: httpx.Response(500)),
        retry=RetryPolicy(**{"jitter": 0.0, "backoff": 1.0, **policy}),
    )  # fmt: skip
    proto = client._proto
    call = proto.build(client._http, "execute", "hubspot", "get_contact", {"limit": "1"})
    client.close()
    return proto, call


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("503", 1.0),
        ("429", 5.0),  # Retry-After wins over a shorter backoff
        ("502 page", 1.0),
        ("timeout", 1.0),
        ("connection", 1.0),
        ("500", None),
        ("400", None),
        ("401", None),
        ("200 page", None),  # a protocol error that is no gateway failure
        ("app failed", None),
    ],
)
def test_should_retry_retries_only_transient_failures_of_reads(error: str, expected: Any) -> None:
    from refold_contract.client import api_error
    from refold_contract.errors import (
        ActionFailed,
        ProtocolError,
        RefoldConnectionError,
        RefoldTimeout,
    )

    proto, call = retry_rule(max_time=30.0)
    errors = {
        "503": api_error(503, {"message": "down"}),
        "429": api_error(429, {"message": "slow"}, retry_after=5.0),
        "502 page": ProtocolError("x", status_code=502, content_type="text/html", snippet=""),
        "200 page": ProtocolError("x", status_code=200, content_type="text/html", snippet=""),
        "timeout": RefoldTimeout("slow"),
        "connection": RefoldConnectionError("refused"),
        "500": api_error(500, {"message": "boom"}),
        "400": api_error(400, {"message": "bad"}),
        "401": api_error(401, {"message": "who"}),
        "app failed": ActionFailed(slug="hubspot", action_id="get_contact",
                                   node_status="Errored", http_status=500, data={}),
    }  # fmt: skip
    assert proto.should_retry(call, 1, 0.0, errors[error]) == expected


def test_should_retry_stops_at_the_attempt_limit_and_at_the_time_budget() -> None:
    from refold_contract.client import api_error

    down = api_error(503, {"message": "down"})
    proto, call = retry_rule(retries=2, max_time=4.0)
    assert [proto.should_retry(call, n, 0.0, down) for n in (1, 2, 3)] == [1.0, 2.0, None]
    assert proto.should_retry(call, 1, 2.74, down) == 1.0
    # 2.75 + 1 leaves the retry a quarter of a second: it would only time out; give up.
    assert proto.should_retry(call, 1, 2.75, down) is None
    write = proto.build(httpx.Client(base_url="http://x"), "execute", "hubspot", "create_contact")
    assert proto.should_retry(write, 1, 0.0, down) is None


def test_a_retry_is_logged_with_the_request_the_error_and_the_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from refold_contract.client import api_error

    proto, call = retry_rule(retries=3, max_time=30.0)
    with caplog.at_level(logging.INFO, logger="refold_contract.client"):
        proto.should_retry(call, 2, 0.0, api_error(503, {"message": "down"}))
    assert caplog.messages == [
        "POST /api/v2/integration-schema/hubspot/actions/get_contact/execute failed "
        "(ServerError); retry 2 of 3 in 2.00s"
    ]


def test_a_read_declared_in_the_catalogue_is_retried_and_a_crafted_id_names_itself(
    tmp_path: Any,
) -> None:
    from refold_contract import Catalogue, InvalidIdentifier, ReadOnlyViolation

    from .helpers import action_doc, write_action

    write_action(tmp_path, action_doc(slug="acme", action_id="sync_widgets", access="read"))
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        return httpx.Response(503, json={"message": "down"})

    with RefoldClient(
        api_key="tk_1", linked_account_id="a", transport=httpx.MockTransport(handler),
        catalogue=Catalogue.load(tmp_path), sleep=lambda _: None, read_only=True,
    ) as client:  # fmt: skip
        with pytest.raises(ServerError):
            client.execute("acme", "sync_widgets", {"id": "1"})
        assert sent == ["POST"] * 4  # declared a read: retried
        with pytest.raises(InvalidIdentifier) as bad_slug:
            client.list_actions("a/b")
        assert (bad_slug.value.kind, bad_slug.value.value) == ("slug", "'a/b'")
        with pytest.raises(InvalidIdentifier) as bad_action:
            client.get_action_schema("acme", "x/../y")
        assert (bad_action.value.kind, bad_action.value.value) == ("action id", "'x/../y'")
        with pytest.raises(ReadOnlyViolation) as refused:
            client.execute("acme", "delete_widget", {})
        assert (refused.value.method, refused.value.path) == (
            "POST", "/api/v2/integration-schema/acme/actions/delete_widget/execute",
        )  # fmt: skip
    assert sent == ["POST"] * 4


def test_an_echo_only_in_a_header_is_scrubbed_and_a_clean_reply_is_left_as_sent() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"node_status": "Success", "data": {"a": "\u00e9"}},
                              headers={"x-echo": f"key={FAKE_KEY}"})  # fmt: skip

    with RefoldClient(api_key=FAKE_KEY, linked_account_id="a",
                      transport=httpx.MockTransport(echo)) as client:  # fmt: skip
        result = client.execute("hubspot", "get_contact")
    assert result.response.headers["x-echo"] == "key=<redacted>"
    assert result.response.status_code == 200
    assert result.response.json() == {"node_status": "Success", "data": {"a": "é"}}
    assert result.response.request.url.path.endswith("/get_contact/execute")

    escaped = b'{"node_status": "Success", "data": {"a": "\\u00e9", "b": "x\\/y"}}'
    with RefoldClient(api_key=FAKE_KEY, linked_account_id="a",
                      transport=httpx.MockTransport(lambda r: httpx.Response(200, content=escaped))
                      ) as client:  # fmt: skip
        result = client.execute("hubspot", "get_contact")
    assert result.response.content == escaped  # nothing to scrub: the bytes as sent
    assert result.data == {"a": "é", "b": "x/y"}


@pytest.mark.parametrize("escape", ["\\u", "\\/"])
def test_a_key_behind_an_escape_is_scrubbed_from_the_raw_reply(escape: str) -> None:
    key = "tk_live/0123456789"  # a slash, so that it can hide behind \\/
    hidden = key.replace("/", "\\/") if escape == "\\/" else (
        "".join(f"\\u{ord(c):04x}" for c in key))  # fmt: skip
    content = ('{"node_status": "Success", "data": {"k": "' + hidden + '", "n": "é"}}').encode()
    with RefoldClient(api_key=key, linked_account_id="a",
                      transport=httpx.MockTransport(lambda r: httpx.Response(200, content=content))
                      ) as client:  # fmt: skip
        result = client.execute("hubspot", "get_contact")
    assert result.response.json() == {
        "node_status": "Success",
        "data": {"k": "<redacted>", "n": "é"},
    }
    assert "é".encode() in result.response.content  # re-encoded as UTF-8, not \\u escapes


def test_a_scrubbed_reply_says_its_own_length() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"node_status": "Success", "data": {"e": FAKE_KEY}})

    with RefoldClient(api_key=FAKE_KEY, linked_account_id="a",
                      transport=httpx.MockTransport(echo)) as client:  # fmt: skip
        response = client.execute("hubspot", "get_contact").response
    assert FAKE_KEY.encode() not in response.content
    assert response.headers["content-length"] == str(len(response.content))


@pytest.mark.parametrize(
    ("params", "says"),
    [
        (
            ["limit", "1"],
            "params must be a mapping of parameter names to values (a dict), not list",
        ),
        ({"when": datetime.datetime(2026, 1, 1)}, "params are not JSON (Object of type datetime"),
        ({"x": float("nan")}, "params are not JSON (Out of range float"),
    ],
    ids=["a list", "a datetime", "NaN"],
)
def test_params_that_are_not_a_json_object_are_refused_before_sending(
    params: Any, says: str
) -> None:
    recorder = Recorder(httpx.Response(200, json=SUCCESS))
    client, _ = make_client(recorder)
    with pytest.raises(TypeError) as info:
        client.execute("hubspot", "get_contact", params)
    assert str(info.value).startswith(f"hubspot/get_contact: {says}")
    assert recorder.requests == []
