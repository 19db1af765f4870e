"""Scenarios Refold users meet, as per-test controls: a disconnected app, Refold's own rate limit,
and the test and live environments."""

from __future__ import annotations

import httpx
import pytest

from refold_contract import ActionFailed, ActionNotInCatalogue, RateLimitError, RefoldClient
from refold_contract.mock import RefoldMock

URL = "https://app.refold.ai/api/v2/integration-schema"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def send(
    mock: RefoldMock, path: str, *, key: str = "tk_1", account: str = "user_1", body: bytes = b"{}"
) -> httpx.Response:
    method = "POST" if path.endswith("/execute") else "GET"
    return mock.handle(
        httpx.Request(method, f"{URL}/{path}", content=body,
                      headers={"x-api-key": key, "linked_account_id": account})
    )  # fmt: skip


def test_a_disconnected_app_fails_every_execute_as_refold_does() -> None:
    mock = RefoldMock()
    mock.disconnect("zendesk")
    body = b'{"ticket_id": "35436"}'  # the catalogue's example
    reply = send(mock, "zendesk/actions/get_ticket_by_id/execute", body=body)
    assert reply.status_code == 200
    assert reply.json() == {
        "node_status": "Errored",
        "data": {
            "message": "Application Authentication not found for linked_account_id user_1 and "
            "app zendesk"
        },
    }
    # The list and schema operations keep working, as they were seen to.
    assert send(mock, "zendesk/actions").status_code == 200
    assert send(mock, "zendesk/actions/get_ticket_by_id").status_code == 200
    # Other apps are untouched; reconnecting restores the app.
    assert send(mock, "slack/actions/list_channels/execute").json()["node_status"] == "Success"
    mock.reconnect("zendesk")
    assert (
        send(mock, "zendesk/actions/get_ticket_by_id/execute", body=body).json()["node_status"]
        == "Success"
    )


def test_disconnect_can_name_one_linked_account_and_the_client_raises() -> None:
    mock = RefoldMock()
    mock.disconnect("hubspot", linked_account_id="user_2")
    with mock:
        ok = RefoldClient(api_key="tk_1", linked_account_id="user_1")
        assert ok.execute("hubspot", "get_contact", {"limit": "1"}).ok
        gone = RefoldClient(api_key="tk_1", linked_account_id="user_2")
        with pytest.raises(ActionFailed, match="Application Authentication not found for "
                           "linked_account_id user_2 and app hubspot"):  # fmt: skip
            gone.execute("hubspot", "get_contact", {"limit": "1"})
    with pytest.raises(ActionNotInCatalogue):
        mock.disconnect("hubspott")


def test_refolds_rate_limit_allows_a_burst_of_5_then_20_a_second_per_account() -> None:
    clock = Clock()
    mock = RefoldMock(rate_limit=True, clock=clock)
    statuses = [send(mock, "slack/actions").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    refused = send(mock, "slack/actions")
    assert refused.headers["retry-after"] == "1"
    body = refused.json()
    assert (body["status_code"], body["http_error_type"], body["message"]) == (
        429, "TOO_MANY_REQUESTS", "Too Many Requests"
    )  # fmt: skip
    assert send(mock, "slack/actions", account="user_2").status_code == 200  # per account
    clock.now += 0.05  # one token back at 20 a second
    assert send(mock, "slack/actions").status_code == 200
    assert send(mock, "slack/actions").status_code == 429


def test_a_clients_pacing_code_is_tested_against_the_limit() -> None:
    clock = Clock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    with RefoldMock(rate_limit=True, clock=clock):
        client = RefoldClient(api_key="tk_1", linked_account_id="user_1", sleep=sleep,
                              retries=3)  # fmt: skip
        for _ in range(8):
            assert client.list_actions("gmail")
    assert slept  # the client met 429s and waited Retry-After before retrying
    assert all(s >= 1 for s in slept)
    client = RefoldClient(api_key="tk_1", linked_account_id="user_1", retries=0)
    with RefoldMock(rate_limit=True, clock=Clock()):
        for _ in range(5):
            client.list_actions("gmail")
        with pytest.raises(RateLimitError) as info:
            client.list_actions("gmail")
    assert info.value.retry_after == 1


def test_the_marker_turns_the_rate_limit_on(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import httpx, pytest

        @pytest.mark.refold(rate_limit=True)
        def test_burst(refold_mock):
            headers = {"x-api-key": "k", "linked_account_id": "a"}
            with httpx.Client(base_url=refold_mock.base_url, headers=headers) as http:
                codes = [http.get("/api/v2/integration-schema/slack/actions").status_code
                         for _ in range(20)]
            assert 429 in codes
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("key", "environment"), [("tk_test_1", "test"), ("pk_live_1", "production")]
)
def test_the_unknown_account_message_names_the_keys_environment(key: str, environment: str) -> None:
    mock = RefoldMock(linked_accounts={"user_1"})
    reply = send(mock, "slack/actions", key=key, account="user_9")
    assert reply.status_code == 400
    assert reply.json()["message"] == (
        f"No linked account found for account id : user_9 in environment {environment}"
    )
