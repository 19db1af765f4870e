"""The pytest plugin as users run it, through pytester."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from refold_contract import Catalogue

from .helpers import FAKE_KEY, FAKE_TOKEN, action_doc

BUILTIN = Catalogue.builtin()

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture(autouse=True)
def _quiet_pytest_asyncio(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)


def write_fixture(pytester: pytest.Pytester, folder: str, doc: dict[str, Any]) -> None:
    path = pytester.path / folder / doc["slug"] / f"{doc['action_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def test_the_fixtures_answer_any_httpx_client(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        def fetch_contacts(base_url):
            # the code under test: plain httpx, not RefoldClient
            with httpx.Client(base_url=base_url) as http:
                r = http.post("/api/v2/integration-schema/hubspot/actions/get_contact/execute",
                              json={"limit": "1"},
                              headers={"x-api-key": "tk_anything", "linked_account_id": "u1"})
                r.raise_for_status()
                return [c["properties"]["email"] for c in r.json()["data"]["results"]]

        def test_plain_httpx(refold_mock):
            assert fetch_contacts(refold_mock.base_url) == ["contact@example.com"]
            refold_mock.assert_called("hubspot", "get_contact", params={"limit": "1"}, times=1)

        def test_refold_client(refold_client, refold_mock):
            refold_mock.stub("slack", "list_channels", data={"ok": True, "channels": []})
            assert refold_client.execute("slack", "list_channels").data["channels"] == []

        def test_catalogue(refold_catalogue):
            from refold_contract import Catalogue
            assert len(refold_catalogue) == len(Catalogue.builtin()) > 0
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=3)


def test_report_header_names_mode_and_catalogue(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(
        [
            "refold-contract *: mode mock, base URL https://app.refold.ai, "
            f"catalogue {len(BUILTIN)} actions in {len(BUILTIN.apps())} apps (built-in)"
        ]
    )


def test_fixtures_option_layers_user_folders_over_the_builtin_catalogue(
    pytester: pytest.Pytester,
) -> None:
    write_fixture(pytester, "mine", action_doc(slug="acme", action_id="get_widget"))
    write_fixture(
        pytester, "mine", action_doc(slug="hubspot", action_id="get_contact", description="mine")
    )
    pytester.makepyfile(
        """
        def test_layered(refold_catalogue, refold_client):
            assert refold_catalogue.get("hubspot", "get_contact").description == "mine"
            assert refold_client.execute("acme", "get_widget", {"id": "1"}).data == {"id": "1"}
        """
    )
    result = pytester.runpytest("--refold-fixtures", "mine")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            f"*catalogue {len(BUILTIN) + 1} actions in {len(BUILTIN.apps()) + 1} apps "
            "(built-in + 1 folder(s))"
        ]
    )


def test_ini_keys_set_fixtures_base_url_and_strict(pytester: pytest.Pytester) -> None:
    write_fixture(pytester, "refold_fixtures", action_doc(slug="acme", action_id="get_widget"))
    pytester.makeini(
        INI
        + "refold_fixtures = refold_fixtures\n"
        + "refold_base_url = http://refold.test\n"
        + "refold_strict = true\n"
    )
    pytester.makepyfile(
        """
        import pytest
        from refold_contract import InvalidParams

        def test_strict(refold_client, refold_mock):
            assert refold_mock.base_url == "http://refold.test"
            with pytest.raises(InvalidParams, match="Parameter 'limit' must be a number"):
                refold_client.execute("acme", "get_widget", {"id": "1", "limit": "many"})
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*base URL http://refold.test*"])


def test_base_url_option_beats_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFOLD_BASE_URL", "http://env.test")
    pytester.makepyfile(
        """
        def test_url(refold_mock):
            assert refold_mock.base_url == "http://option.test"
        """
    )
    pytester.runpytest("--refold-base-url", "http://option.test").assert_outcomes(passed=1)
    pytester.makepyfile(
        """
        def test_url(refold_mock):
            assert refold_mock.base_url == "http://env.test"
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_marker_sets_strict_linked_accounts_and_assert_all_called(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from refold_contract import InvalidLinkedAccount, InvalidParams

        @pytest.mark.refold(strict=True)
        def test_strict(refold_client):
            with pytest.raises(InvalidParams, match="Unknown parameter 'nope'"):
                refold_client.execute("hubspot", "get_contact", {"nope": 1})

        @pytest.mark.refold(linked_accounts=["someone_else"])
        def test_accounts(refold_client, refold_mock):
            # The client fixture uses credentials the marker accepts; others are refused.
            assert refold_client.settings.linked_account_id == "someone_else"
            assert refold_client.list_actions("hubspot")
            with pytest.raises(InvalidLinkedAccount, match="user_9 in environment test"):
                refold_client.execute("hubspot", "get_contact", linked_account_id="user_9")

        @pytest.mark.refold(assert_all_called=False)
        def test_unused_ok(refold_mock):
            refold_mock.stub("hubspot", "get_contact", data={})
        """
    )
    pytester.runpytest().assert_outcomes(passed=3)


def test_marker_is_registered_with_its_signature(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.refold(strict=None, linked_accounts=None, assert_all_called=True*",
            "@pytest.mark.refold_live:*",
        ]
    )


def test_options_are_listed_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "refold-contract: test code that calls Refold's actions API:",
            "*--refold-fixtures=DIR*",
            "*--refold-base-url=URL*",
            "*refold_strict (bool)*",
        ]
    )


def test_a_bad_marker_argument_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.refold(strickt=True)
        def test_typo(refold_mock):
            pass
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*@pytest.mark.refold got unknown option(s) strickt; it takes: *"])
    assert result.ret != 0


def test_an_unplaced_request_fails_the_test_with_what_is_served(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        def test_wrong_path(refold_mock):
            try:
                httpx.get(refold_mock.base_url + "/api/v2/integration-schema/hubspot/triggers",
                          headers={"x-api-key": "k", "linked_account_id": "a"})
            except Exception:
                pass  # code under test swallowing errors must not hide the problem
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*refold_mock could not place 1 request(s) under https://app.refold.ai:",
            "*GET /api/v2/integration-schema/hubspot/triggers",
            "*It serves https://app.refold.ai/api/v2/integration-schema/{slug}/actions (GET)*",
            "*To answer another URL, add your own respx route*",
        ]
    )


def test_an_unused_stub_fails_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_forgot(refold_mock):
            refold_mock.stub("hubspot", "get_contact", data={}, params={"limit": "5"})

        def test_missed_by_a_key(refold_mock, refold_client):
            refold_mock.stub("hubspot", "get_contact", data={}, params={"limit": "5"})
            refold_client.execute("hubspot", "get_contact", {"limit": "50"})
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*refold_mock: 1 stub(s) never used:",
            "*stub('hubspot', 'get_contact', params={'limit': '5'}): hubspot/get_contact "
            "received no call",
            "*stub('hubspot', 'get_contact', params={'limit': '5'}): hubspot/get_contact "
            "received 1 call(s), with params {'limit': '50'}",
            "*hint: remove them, or mark the test @pytest.mark.refold(assert_all_called=False)",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_failing_test_is_not_blamed_twice(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_fails(refold_mock):
            refold_mock.stub("hubspot", "get_contact", data={})
            assert False, "the real failure"
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)


def test_failure_text_of_assert_called_lists_the_journal(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_wrong_count(refold_mock, refold_client):
            refold_client.execute("hubspot", "get_contact", {"limit": "1"})
            refold_mock.assert_called("hubspot", "create_contact")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*expected hubspot/create_contact to be executed at least once, it was executed 0 time(s).",
            "*The mock received 1 request(s):",
            "*POST hubspot/get_contact params={'limit': '1'} -> 200",
        ]
    )


def test_a_malformed_user_catalogue_stops_the_session_with_the_file_named(
    pytester: pytest.Pytester,
) -> None:
    bad = pytester.path / "mine" / "acme" / "get_widget.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"slug": "acme",')
    pytester.makepyfile("def test_x(refold_catalogue): pass")
    result = pytester.runpytest("--refold-fixtures", "mine")
    result.stderr.fnmatch_lines(
        ["ERROR: refold-contract: *mine/acme/get_widget.json:1:17: malformed JSON*"]
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_pytest_asyncio_tests_get_answers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_async(async_refold_client, refold_mock):
            refold_mock.delay("hubspot", "get_contact", 0.01)
            result = await async_refold_client.execute("hubspot", "get_contact", {"limit": "1"})
            assert result.data["results"][0]["id"] == "51"
        """
    )
    pytester.runpytest("-p", "asyncio").assert_outcomes(passed=1)


def test_anyio_tests_get_answers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.anyio
        async def test_async(async_refold_client):
            assert [a.action_id for a in await async_refold_client.list_actions("gmail")] == [
                "get_message", "list_messages"]
        """
    )
    pytester.runpytest("-p", "no:asyncio").assert_outcomes(passed=1)


def test_works_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        **{
            f"test_part{i}": textwrap.dedent(
                f"""
                def test_a(refold_client, refold_mock):
                    refold_mock.stub("hubspot", "get_contact", data={{"n": {i}}})
                    assert refold_client.execute("hubspot", "get_contact").data == {{"n": {i}}}
                    refold_mock.assert_called("hubspot", "get_contact", times=1)
                """
            )
            for i in range(4)
        }
    )
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=4)


CREDENTIALS_TEST = """
import pytest

from refold_contract import ActionResult


def spy(refold_mock, monkeypatch):
    # The credential headers of every request the mock answers.
    seen = []
    real = refold_mock.answer

    def answer(method, path, headers, body):
        values = {k.decode().lower(): v.decode() for k, v in headers}
        seen.append({k: values.get(k) for k in ("x-api-key", "linked_account_id", "authorization")})
        return real(method, path, headers, body)

    monkeypatch.setattr(refold_mock, "answer", answer)
    return seen


def only_accepting(refold_mock, key, account):
    # From here on the mock answers 401 to any other key, 400 to any other account.
    refold_mock.api_keys = {key}
    refold_mock.linked_accounts = {account}


MOCK = {"x-api-key": "tk_refold_contract_mock", "linked_account_id": "linked_account_mock",
        "authorization": None}
MARKED = {"x-api-key": "tk_good", "linked_account_id": "user_1", "authorization": None}


def test_sync(refold_client, refold_mock, monkeypatch):
    seen = spy(refold_mock, monkeypatch)
    only_accepting(refold_mock, "tk_refold_contract_mock", "linked_account_mock")
    assert refold_client.execute("hubspot", "get_contact").ok
    assert refold_client.list_actions("slack")
    assert seen == [MOCK, MOCK]
    assert [c.status for c in refold_mock.calls] == [200, 200]
    assert refold_mock.calls[0].linked_account_id == "linked_account_mock"


@pytest.mark.asyncio
async def test_async(async_refold_client, refold_mock, monkeypatch):
    seen = spy(refold_mock, monkeypatch)
    only_accepting(refold_mock, "tk_refold_contract_mock", "linked_account_mock")
    assert (await async_refold_client.execute("hubspot", "get_contact")).ok
    assert seen == [MOCK]
    assert [c.status for c in refold_mock.calls] == [200]


@pytest.mark.refold(api_keys=["tk_good"], linked_accounts=["user_1"])
def test_marker_sync(refold_client, refold_mock, monkeypatch):
    seen = spy(refold_mock, monkeypatch)
    assert refold_client.execute("hubspot", "get_contact").ok
    assert seen == [MARKED]


@pytest.mark.refold(api_keys=["tk_good"], linked_accounts=["user_1"])
@pytest.mark.asyncio
async def test_marker_async(async_refold_client, refold_mock, monkeypatch):
    seen = spy(refold_mock, monkeypatch)
    assert (await async_refold_client.execute("hubspot", "get_contact")).ok
    assert seen == [MARKED]


@pytest.mark.refold(session_tokens=["st_only_this"])
def test_marker_session_token(refold_client, refold_mock, monkeypatch):
    seen = spy(refold_mock, monkeypatch)
    assert refold_client.execute("hubspot", "get_contact").ok
    assert seen == [{"x-api-key": None, "linked_account_id": None,
                     "authorization": "Bearer st_only_this"}]


@pytest.mark.refold(linked_accounts=["user_1"])
def test_refusals_reach_plain_httpx(refold_mock):
    import httpx

    url = refold_mock.base_url + "/api/v2/integration-schema/hubspot/actions"
    def sent(headers):
        reply = httpx.get(url, headers=headers)
        body = reply.json()
        return reply.status_code, body.get("error_code") or body.get("error"), body["message"]

    assert sent({}) == (401, "SERVER_ERROR", "Invalid Credentials")
    assert sent({"linked_account_id": "user_1"}) == (401, "SERVER_ERROR", "Invalid Credentials")
    assert sent({"x-api-key": "tk_1"}) == (
        404, "MISSING_REQUIRED_FIELD", "Linked account id is required with API Key, for this resource")
    assert sent({"x-api-key": "tk_1", "linked_account_id": "user_2"}) == (
        400, "INVALID_LINKED_ACCOUNT_ID",
        "No linked account found for account id : user_2 in environment test")
    assert httpx.get(url, headers={"x-api-key": "tk_1", "linked_account_id": "user_1"}).status_code == 200
    assert httpx.get(url, headers={"authorization": "Bearer st"}).status_code == 200


def test_show_everything(refold_client, refold_mock):
    refold_client.execute("hubspot", "get_contact")
    print(repr(refold_client), refold_mock.calls, refold_client.settings)
    assert False, "show everything"
"""


def test_the_mock_clients_send_the_mock_credentials_whatever_the_environment_holds(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
    monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", "acct_from_the_environment")
    monkeypatch.setenv("REFOLD_SESSION_TOKEN", FAKE_TOKEN)
    pytester.makepyfile(test_credentials=CREDENTIALS_TEST)
    result = pytester.runpytest("-p", "asyncio", "-vv", "-s", "--showlocals")
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(["*test_show_everything*show everything*"])
    output = result.stdout.str() + result.stderr.str()
    assert FAKE_KEY not in output
    assert FAKE_TOKEN not in output
    assert "acct_from_the_environment" not in output


def test_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("-p", "no:refold_contract")
    result.assert_outcomes(passed=1)
    assert "refold-contract" not in result.stdout.str()


def test_the_refold_hypothesis_profile_can_be_chosen_on_the_command_line(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        from hypothesis import settings

        def test_profile():
            assert settings().max_examples == 25
            assert settings().deadline is None
        """
    )
    pytester.runpytest("--hypothesis-profile=refold").assert_outcomes(passed=1)
