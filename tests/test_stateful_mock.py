"""The sandbox wired in: the marker, the ini key, RefoldMock(stateful=True), serve --stateful,
seed and records, and the command's --stateful run."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from refold_contract import ConfigurationError, RefoldClient
from refold_contract.mock import RefoldMock
from refold_contract.mock.server import build_mock, running_server

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
SEARCH = {"propertyName": "email", "operator": "EQ", "value": "ada@example.com"}


def test_a_created_contact_is_found_and_paged_to_in_stateful_mode() -> None:
    with RefoldMock(stateful=True) as mock:
        client = RefoldClient(api_key="tk_1", linked_account_id="user_1")
        assert client.execute("hubspot", "search_contacts", SEARCH).data["total"] == 0
        created = client.execute("hubspot", "create_contact", {"email": "ada@example.com"})
        found = client.execute("hubspot", "search_contacts", SEARCH).data
        assert found["total"] == 1
        assert found["results"][0]["id"] == created.data["id"]
        emails = [r.get("email") for r in mock.records("hubspot", "contacts",
                                                        linked_account_id="user_1")]  # fmt: skip
        assert "ada@example.com" in emails
        # Another linked account has its own records.
        other = RefoldClient(api_key="tk_1", linked_account_id="user_2")
        assert other.execute("hubspot", "search_contacts", SEARCH).data["total"] == 0
        # Paging visits every record once.
        mock.seed("hubspot", "contacts", [{"email": f"p{i}@example.com"} for i in range(7)],
                  linked_account_id="user_1", replace=True)  # fmt: skip
        seen, params = [], {"limit": "3"}
        while True:
            page = client.execute("hubspot", "get_contact", params).data
            seen += [r["id"] for r in page["results"]]
            after = page.get("paging", {}).get("next", {}).get("after")
            if after is None:
                break
            params = {"limit": "3", "after": after}
        assert len(seen) == len(set(seen)) == 7


def test_a_missing_record_answers_as_the_app_does_and_stubs_still_win() -> None:
    with RefoldMock(stateful=True) as mock:
        client = RefoldClient(api_key="tk_1", linked_account_id="user_1")
        missing = client.execute("hubspot", "get_contact_by_id", {"contactId": "999999"},
                                 check=False)  # fmt: skip
        assert (missing.node_status, missing.http_status) == ("Errored", 404)
        mock.stub("hubspot", "get_contact_by_id", data={"id": "stubbed"})
        assert client.execute("hubspot", "get_contact_by_id", {"contactId": "999999"}).data == {
            "id": "stubbed"
        }
        mock.reset()  # back to the catalogue's own records
        assert mock.records("hubspot", "contacts", linked_account_id="user_1")


def test_seed_and_records_need_stateful_mode() -> None:
    with pytest.raises(ConfigurationError, match="needs stateful mode") as info:
        RefoldMock().seed("hubspot", "contacts", [{"email": "a@example.com"}])
    assert "@pytest.mark.refold(stateful=True)" in str(info.value)


def test_the_marker_and_the_ini_key_turn_it_on(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        import pytest

        SEARCH = {"propertyName": "email", "operator": "EQ", "value": "ada@example.com"}

        @pytest.mark.refold(stateful=True)
        def test_marked(refold_client, refold_mock):
            assert refold_mock.is_stateful
            refold_mock.seed("hubspot", "contacts", [{"email": "ada@example.com"}])
            assert refold_client.execute("hubspot", "search_contacts", SEARCH).data["total"] == 1

        def test_fresh_for_every_test(refold_client, refold_mock):
            assert not refold_mock.is_stateful
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)
    pytester.makeini(INI + "refold_stateful = true\n")
    pytester.makepyfile(
        """
        import pytest

        def test_on(refold_mock):
            assert refold_mock.is_stateful

        @pytest.mark.refold(stateful=False)
        def test_off(refold_mock):
            assert not refold_mock.is_stateful
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_the_server_keeps_records_across_requests_and_clients() -> None:
    headers = {"x-api-key": "tk_1", "linked_account_id": "user_1"}
    path = "/api/v2/integration-schema/hubspot/actions/{}/execute"
    with (
        running_server(build_mock(stateful=True)) as server,
        httpx.Client(base_url=server.url, headers=headers) as http,
    ):
        http.post(path.format("create_contact"), json={"email": "ada@example.com"})
        with httpx.Client(base_url=server.url, headers=headers) as other:
            found = other.post(path.format("search_contacts"), json=SEARCH).json()
        assert found["data"]["total"] == 1
        http.post("/__refold/reset")
        assert http.post(path.format("search_contacts"), json=SEARCH).json()["data"]["total"] == 0


def test_the_command_runs_the_sandboxs_laws() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", "test", "--stateful", "--app", "zendesk",
         "--examples", "3"], capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "zendesk  tickets      get_ticket_by_id  passed" in done.stdout
    assert "refold-contract test --stateful: 1 family, every law held" in done.stdout


def test_the_contract_suite_stays_stateless_under_the_ini_key(pytester: pytest.Pytester) -> None:
    ini = pytester.makeini(INI + "refold_stateful = true\n")
    result = pytester.runpytest(
        "-c", str(ini), "--rootdir", str(pytester.path), "--refold-contract", "--refold-app",
        "hubspot", "--refold-examples", "3",
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()[-2000:]


# ---------------------------------------------------------------------- search lag, short pages

LAG_SEARCH = {"propertyName": "email", "operator": "EQ", "value": "lag@example.com"}


def _found(client: RefoldClient) -> int:
    total = client.execute("hubspot", "search_contacts", LAG_SEARCH).data["total"]
    assert isinstance(total, int)
    return total


@pytest.mark.parametrize("stateful", [True, False])
def test_refold_mock_takes_a_search_lag_in_both_modes(stateful: bool) -> None:
    # Replay mode too: the create and the search match no example, so the sandbox answers.
    with RefoldMock(stateful=stateful, search_lag="2 calls"):
        client = RefoldClient(api_key="tk_1", linked_account_id="user_1")
        client.execute("hubspot", "create_contact", {"email": "lag@example.com"})
        assert [_found(client), _found(client), _found(client)] == [0, 0, 1]


def test_a_store_given_to_the_mock_takes_its_options() -> None:
    from refold_contract import Catalogue
    from refold_contract.sandbox import SearchLag, Store

    store = Store(Catalogue.builtin())
    RefoldMock(store=store, search_lag=1.5, short_pages=True)
    assert (store.search_lag, store.short_pages) == (SearchLag(seconds=1.5), True)


def test_a_search_lag_it_cannot_read_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="search lag"):
        RefoldMock(search_lag="soon")


def test_the_marker_and_the_ini_key_set_the_search_lag_and_short_pages(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI + "refold_search_lag = 1 call\n")
    pytester.makepyfile(
        """
        import pytest

        SEARCH = {"propertyName": "email", "operator": "EQ", "value": "lag@example.com"}

        def found(client):
            return client.execute("hubspot", "search_contacts", SEARCH).data["total"]

        def test_ini(refold_client):
            refold_client.execute("hubspot", "create_contact", {"email": "lag@example.com"})
            assert [found(refold_client), found(refold_client)] == [0, 1]

        @pytest.mark.refold(search_lag=0)
        def test_marker_wins(refold_client):
            refold_client.execute("hubspot", "create_contact", {"email": "lag@example.com"})
            assert found(refold_client) == 1

        @pytest.mark.refold(stateful=True, short_pages=True)
        def test_short_pages(refold_client, refold_mock):
            store = refold_mock.sandbox.store
            assert store.short_pages and store.search_lag.calls == 1
            refold_mock.seed("slack", "channels", [{"name": f"c{i}"} for i in range(3)])
            page = refold_client.execute("slack", "list_channels", {"limit": "2"}).data
            assert len(page["channels"]) == 1 and page["response_metadata"]["next_cursor"]

        @pytest.mark.refold(search_lag="eventually")
        def test_bad(refold_mock):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*refold-contract: *cannot read a search lag from 'eventually'"])
    assert "Traceback" not in result.stdout.str()


def test_soql_the_sandbox_cannot_answer_fails_the_test_over_http_too(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        import json, urllib.error, urllib.request

        def test_caught(refold_server):
            request = urllib.request.Request(
                refold_server.url
                + "/api/v2/integration-schema/salesforce/actions/get_entity_with_soql/execute",
                data=json.dumps({"query": "SELECT COUNT() FROM Lead"}).encode(),
                headers={"x-api-key": "tk_1", "linked_account_id": "user_1",
                         "content-type": "application/json"})
            try:
                urllib.request.urlopen(request)
            except urllib.error.HTTPError as exc:  # code that swallows every error
                assert exc.code == 501
                assert "COUNT()" in json.loads(exc.read())["message"]
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*salesforce/get_entity_with_soql: functions such as COUNT()*"])
