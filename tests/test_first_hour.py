"""What a new user trips on in the first hour, and reaches for next: each in the words they see."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from refold_contract.mock import RefoldMock
from refold_contract.mock.server import RunningServer, running_server

from .helpers import FAKE_KEY, action_doc, write_action

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture(autouse=True)
def _ini(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)


# ---------------------------------------------------------------------- stubs and assertions


def test_the_most_recent_stub_answers_and_the_one_it_overrides_is_not_unused(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture
        def default_contacts(refold_mock):
            refold_mock.stub("hubspot", "get_contact", data={"results": ["default"]})

        def test_override(default_contacts, refold_mock, refold_client):
            refold_mock.stub("hubspot", "get_contact", data={"results": ["override"]})
            assert refold_client.execute("hubspot", "get_contact").data == {"results": ["override"]}

        def test_default(default_contacts, refold_client):
            assert refold_client.execute("hubspot", "get_contact").data == {"results": ["default"]}
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_one_precedence_for_stubs_and_faults_limited_first_then_most_recent(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from refold_contract.errors import AuthenticationError

        def get(client):
            return client.execute("hubspot", "get_contact").data

        def test_a_limited_stub_answers_before_an_unlimited_newer_one(refold_mock, refold_client):
            refold_mock.stub("hubspot", "get_contact", data={"n": "once"}, times=1)
            refold_mock.stub("hubspot", "get_contact", data={"n": "always"})
            assert [get(refold_client) for _ in range(3)] == [
                {"n": "once"}, {"n": "always"}, {"n": "always"}]

        def test_a_newer_stub_beats_an_older_fault(refold_mock, refold_client):
            refold_mock.fail("hubspot", "get_contact", 401)
            refold_mock.stub("hubspot", "get_contact", data={"n": "stub"})
            assert get(refold_client) == {"n": "stub"}   # and the fault is not "unused"

        def test_a_newer_fault_beats_an_older_stub(refold_mock, refold_client):
            refold_mock.stub("hubspot", "get_contact", data={"n": "stub"})
            refold_mock.fail("hubspot", "get_contact", 401)
            with pytest.raises(AuthenticationError):
                get(refold_client)

        def test_a_limited_fault_first_then_the_stub(refold_mock, refold_client):
            refold_mock.stub("hubspot", "get_contact", data={"n": "stub"})
            refold_mock.fail("hubspot", "get_contact", 401, times=1)
            refold_mock.stub("hubspot", "get_contact", data={"n": "newer"})
            with pytest.raises(AuthenticationError):
                get(refold_client)
            assert get(refold_client) == {"n": "newer"}

        def test_a_limited_stub_never_reached_is_unused(refold_mock, refold_client):
            refold_mock.stub("hubspot", "get_contact", data={"n": "once"}, times=1)
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=5, errors=1)
    result.stdout.fnmatch_lines(["*1 stub(s) never used:*", "*stub('hubspot', 'get_contact')*"])


def test_each_hypothesis_example_in_a_scope_gets_a_fresh_sandbox(pytester: pytest.Pytester) -> None:
    """The new user's run: the second example's create got HubSpot's 409 for the first's record."""
    pytester.makepyfile(
        """
        import pytest
        from hypothesis import HealthCheck, given, settings, strategies as st

        @pytest.mark.refold(stateful=True)
        @settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(first=st.sampled_from(["Ada", "Grace", "Alan"]))
        def test_create_the_same_contact_each_example(refold_mock, refold_client, first):
            with refold_mock.scope():
                body = {"email": "same@example.com", "firstname": first}
                assert refold_client.execute("hubspot", "create_contact", body).ok
                emails = [c.get("email") for c in refold_mock.records("hubspot", "contacts")]
                assert emails.count("same@example.com") == 1
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_stubs_scoped_to_one_hypothesis_example_answer_for_that_example(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        from hypothesis import HealthCheck, given, settings, strategies as st

        @settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(n=st.integers(0, 5))
        def test_each_example(refold_mock, refold_client, n):
            with refold_mock.scope():
                refold_mock.stub("hubspot", "get_contact", data={"results": list(range(n))})
                assert len(refold_client.execute("hubspot", "get_contact").data["results"]) == n

        @settings(max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(n=st.integers(0, 5))
        def test_unused_in_a_scope(refold_mock, n):
            with refold_mock.scope():
                refold_mock.stub("hubspot", "get_contact", data={"n": n})
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*refold_mock: 1 stub(s) set in this scope never used:*",
            "*stub('hubspot', 'get_contact')*",
        ]
    )


def test_repeated_unused_stubs_are_one_line_with_a_count(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_many(refold_mock):
            for _ in range(24):
                refold_mock.stub("hubspot", "get_contact", data={}, params={"limit": "9"})
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*refold_mock: 1 stub(s) never used:*"])
    # The teardown report itself; the short summary repeats it in full where pytest sees CI.
    report = result.stdout.str().partition("short test summary info")[0]
    assert report.count("stub('hubspot', 'get_contact'") == 1
    assert (
        "stub('hubspot', 'get_contact', params={'limit': '9'}): hubspot/get_contact received "
        "no call x24" in report
    )


def test_assert_called_takes_matchers_and_a_subset_and_last_call_finds_the_latest(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        from unittest.mock import ANY
        import pytest

        def test_matchers(refold_mock, refold_client):
            refold_client.execute("hubspot", "get_contact", {"limit": "10", "after": "51"})
            refold_client.execute("hubspot", "get_contact", {"limit": "20"})
            refold_mock.assert_called("hubspot", "get_contact", params={"limit": "10", "after": ANY})
            refold_mock.assert_called("hubspot", "get_contact", params_include={"after": ANY}, times=1)
            assert refold_mock.last_call("hubspot", "get_contact").params == {"limit": "20"}
            with pytest.raises(AssertionError, match="with params including"):
                refold_mock.assert_called("hubspot", "get_contact", params_include={"limit": "30"})
            with pytest.raises(AssertionError, match="hubspot/create_contact to have been executed"):
                refold_mock.last_call("hubspot", "create_contact")
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_client_fixtures_use_credentials_the_marker_accepts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.refold(api_keys=["tk_good"], linked_accounts=["user_1"])
        def test_limits(refold_client, refold_mock):
            assert refold_client.execute("hubspot", "get_contact").ok
            assert refold_mock.calls[-1].linked_account_id == "user_1"

        @pytest.mark.refold(session_tokens=["tok_good"])
        def test_tokens(refold_client):
            assert refold_client.list_actions("slack")
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


# ---------------------------------------------------------------------- messages


def test_unknown_apps_and_actions_say_what_was_meant(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from refold_contract import ActionNotFound, ApplicationNotFound

        def test_typos(refold_client):
            with pytest.raises(ApplicationNotFound, match="Application app_type 'hubspott' not found"):
                refold_client.list_actions("hubspott")
            with pytest.raises(ActionNotFound, match="Action get_contacts not found in Application hubspot"):
                refold_client.execute("hubspot", "get_contacts")
            with pytest.raises(ActionNotFound):
                refold_client.execute("acme", "get_widget")
        """
    )
    result = pytester.runpytest("-W", "default")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*NotInCatalogue: refold_mock: hubspott (list actions): no app 'hubspott' in the "
            "catalogue; did you mean hubspot?",
            "*NotInCatalogue: refold_mock: hubspot/get_contacts: not in the catalogue; did you mean "
            "hubspot/get_contact*",
            "*NotInCatalogue: refold_mock: acme/get_widget: no app 'acme' in the catalogue; if it "
            "is your own action, put <slug>/<action_id>.json in a catalogue folder and pass it "
            "with --refold-fixtures DIR (or the refold_fixtures ini key)",
        ]
    )


def test_a_refold_path_on_another_host_names_the_base_url_and_the_option(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest

        def test_staging(refold_mock):
            with pytest.raises(Exception, match="refold_mock answers Refold's API at https://app.refold.ai"):
                httpx.post("https://staging.example/api/v2/integration-schema/hubspot/actions/"
                           "get_contact/execute", json={})

        def test_swallowed(refold_mock):
            try:
                httpx.get("https://staging.example/api/v2/integration-schema/hubspot/actions")
            except Exception:
                pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        ["*this request went to https://staging.example*--refold-base-url URL (or REFOLD_BASE_URL*"]
    )
    assert "not mocked!" not in result.stdout.str()


def test_the_live_plan_says_no_refold_request_for_a_test_that_sends_none(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.refold_live
        def test_quiet(refold_mock):
            pass
        """
    )
    result = pytester.runpytest("--refold-live", "--refold-live-plan")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["test_the_live_plan*::test_quiet", "    no Refold request*"])
    assert "read: will be sent" not in result.stdout.str()


@pytest.fixture
def refold(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    with running_server(RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)) as server:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", "acct_1")
        monkeypatch.setenv("REFOLD_BASE_URL", server.url)
        yield server


def test_a_mistyped_path_in_live_mode_gets_the_could_not_place_message(
    pytester: pytest.Pytester, refold: RunningServer
) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest

        @pytest.mark.refold_live
        def test_typo(refold_mock):
            with pytest.raises(Exception, match="refold_mock could not place"):
                httpx.get(refold_mock.base_url + "/api/v2/integration-schema/hubspot/triggers")
        """
    )
    result = pytester.runpytest_subprocess("--refold-live")
    result.assert_outcomes(passed=1, errors=1)
    output = result.stdout.str()
    assert "refold_mock could not place 1 request(s)" in output
    assert '"access": "read"' not in output
    assert refold.mock.calls == []


# ---------------------------------------------------------------------- the command and server


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pytest.ini", "[pytest]\nrefold_fixtures = mine\n"),
        ("pyproject.toml", '[tool.pytest.ini_options]\nrefold_fixtures = ["mine"]\n'),
        ("tox.ini", "[pytest]\nrefold_fixtures = mine\n"),
        ("setup.cfg", "[tool:pytest]\nrefold_fixtures = mine\n"),
    ],
)
def test_the_contract_command_reads_the_projects_catalogue_folders(
    tmp_path: Path, name: str, text: str
) -> None:
    write_action(tmp_path / "mine", action_doc(slug="acme", action_id="get_widget"))
    (tmp_path / name).write_text(text)
    (tmp_path / "sub").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", "test", "--app", "acme", "--examples", "2"],
        cwd=tmp_path / "sub", capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "acme  get_widget" in done.stdout
    assert "catalogue folders from the project's refold_fixtures ini key" in done.stdout


def test_serve_on_port_zero_prints_the_url_it_bound(tmp_path: Path) -> None:
    import signal

    import httpx

    process = subprocess.Popen(
        [sys.executable, "-m", "refold_contract.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()  # the first line: the URL alone
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0")
        assert httpx.get(url + "/__refold/calls").json() == []
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_refold_server_serves_the_tests_own_mock_to_requests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        HEADERS = {"x-api-key": "tk_test", "linked_account_id": "user_1"}
        PATH = "/api/v2/integration-schema/hubspot/actions/get_contact/execute"

        def test_stubbed(refold_server, refold_mock, refold_catalogue):
            refold_mock.stub("hubspot", "get_contact", data={"results": ["mine"]})
            reply = requests.post(refold_server.url + PATH, json={}, headers=HEADERS, timeout=10)
            assert reply.json()["data"] == {"results": ["mine"]}
            refold_mock.assert_called("hubspot", "get_contact", times=1)
            assert refold_server.mock is refold_mock

        def test_a_custom_action(refold_server):
            reply = requests.get(refold_server.url + "/api/v2/integration-schema/acme/actions",
                                 headers=HEADERS, timeout=10)
            assert [a["action_id"] for a in reply.json()] == ["get_widget"]

        def test_unused(refold_server, refold_mock):
            refold_mock.stub("hubspot", "get_contact", data={})
        """
    )
    write_action(pytester.path / "mine", action_doc(slug="acme", action_id="get_widget"))
    result = pytester.runpytest("--refold-fixtures", "mine")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*refold_mock: 1 stub(s) never used:*"])


def test_refold_server_is_one_server_for_the_session_answering_each_tests_own_mock(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import threading, requests

        HEADERS = {"x-api-key": "tk_test", "linked_account_id": "user_1"}
        PATH = "/api/v2/integration-schema/hubspot/actions/get_contact/execute"
        seen = {}

        def test_first(refold_server, refold_mock):
            seen["url"] = refold_server.url
            refold_mock.stub("hubspot", "get_contact", data={"who": "first"})
            reply = requests.post(refold_server.url + PATH, json={}, headers=HEADERS, timeout=10)
            assert reply.json()["data"] == {"who": "first"}

        def test_second(refold_server, refold_mock):
            assert refold_server.url == seen["url"]          # the same server
            reply = requests.post(refold_server.url + PATH, json={}, headers=HEADERS, timeout=10)
            assert reply.json()["data"] != {"who": "first"}  # not the first test's stub
            refold_mock.assert_called("hubspot", "get_contact", times=1)

        def test_between_tests(refold_mock):
            # No refold_server here: the session server answers no test's mock.
            reply = requests.post(seen["url"] + PATH, json={}, headers=HEADERS, timeout=10)
            assert reply.status_code == 503
            assert "no test is running" in reply.json()["message"]
            assert refold_mock.calls == []

        def test_a_wrong_path_over_http(refold_server):
            requests.get(refold_server.url + "/api/v2/integration-schema/hubspot/action",
                         headers=HEADERS, timeout=10)
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*refold_server could not place 1 request(s) sent to http://127.0.0.1:*",
            "*GET /api/v2/integration-schema/hubspot/action*",
            "*Check the method and the path your code sends.*",
        ]
    )
    result.stdout.no_fnmatch_line("*respx route*")


UNRELATED = """
import pytest

QUERY = {"query": "nobody@nowhere.invalid"}
RECORDED = {"query": "invoice in:#finance-ops", "count": "2", "page": "1", "sort": "timestamp",
            "sort_dir": "desc"}

def test_unrelated(refold_client):
    refold_client.execute("slack", "search_messages", QUERY)

@pytest.mark.refold(strict=True)
def test_unrelated_strict(refold_client):
    refold_client.execute("slack", "search_messages", QUERY)

@pytest.mark.refold(unmatched="allow")
def test_unrelated_allowed(refold_client):
    refold_client.execute("slack", "search_messages", QUERY)

@pytest.mark.refold(strict=True)
def test_recorded_params(refold_client):
    refold_client.execute("slack", "search_messages", RECORDED)

def test_a_state_block_action_replays_as_before(refold_client):
    refold_client.execute("hubspot", "get_contact", {"limit": "7"})
"""


def test_a_reply_unrelated_to_the_request_is_named_and_fails_strict_tests(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_unrelated=UNRELATED)
    result = pytester.runpytest("-p", "no:randomly", "-W", "default::refold_contract.RefoldWarning")
    result.assert_outcomes(passed=5, errors=1)
    out = result.stdout.str()
    # The default: a warning at teardown naming the action and the params.
    result.stdout.fnmatch_lines(
        [
            "*UnmatchedExample: refold_mock: slack/search_messages with params "
            "{'query': 'nobody@nowhere.invalid'}: no example has these params; answered with "
            "its first successful example*",
        ]
    )
    # Strict: the test fails, with the same line and what to do.
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unrelated_strict*",
            "*refold_mock (strict): 1 execute(s) answered with an example recorded for other "
            "params, a reply unrelated to the request:",
            "*slack/search_messages with params {'query': 'nobody@nowhere.invalid'}*",
            "*hint: add an example with these params to your catalogue folder*",
        ]
    )
    assert out.count("UnmatchedExample:") == 1  # allowed, recorded and state-block: nothing


def test_seed_and_records_use_the_tests_account_and_a_mismatch_is_named(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        SEARCH = {"propertyName": "email", "operator": "EQ", "value": "ada@example.com"}

        @pytest.mark.refold(stateful=True, linked_accounts=["acct_42"])
        def test_the_markers_account(refold_mock, refold_client):
            refold_mock.seed("hubspot", "contacts", [{"email": "ada@example.com"}])
            assert refold_client.execute("hubspot", "search_contacts", SEARCH).data["total"] == 1
            assert any(r["email"] == "ada@example.com"
                       for r in refold_mock.records("hubspot", "contacts"))

        @pytest.mark.refold(stateful=True)
        def test_seeded_elsewhere(refold_mock, refold_client):
            refold_mock.seed("hubspot", "contacts", [{"email": "ada@example.com"}],
                             linked_account_id="acct_7")
            assert refold_client.execute("hubspot", "search_contacts", SEARCH).data["total"] == 0
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "-W", "default::refold_contract.RefoldWarning")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*SeededElsewhere: refold_mock: records were seeded into hubspot for linked account "
            "'acct_7', but every request to hubspot came from 'linked_account_mock'*",
        ]
    )
    assert result.stdout.str().count("SeededElsewhere:") == 1


def test_a_stub_builds_its_reply_from_the_params_and_the_journal_keeps_headers_redacted(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.refold(api_keys=["{FAKE_KEY}"])
        def test_callable_and_headers(refold_mock, refold_client):
            refold_mock.stub("hubspot", "get_contact_by_id",
                             data=lambda p: {{"id": p["contactId"], "properties": {{}}}})
            assert refold_client.execute(
                "hubspot", "get_contact_by_id", {{"contactId": "77"}}).data["id"] == "77"
            call = refold_mock.calls[-1]
            assert call.headers["x-api-key"] == "<redacted>"
            assert call.headers["linked_account_id"] == "linked_account_mock"
            assert call.headers["content-type"] == "application/json"
            assert "{FAKE_KEY}" not in repr(call) + str(call.to_json())

        def test_a_data_function_returning_what_is_not_json(refold_mock, refold_client):
            refold_mock.stub("hubspot", "get_contact_by_id", data=lambda p: {{"when": object()}})
            with pytest.raises(TypeError, match="the data function returned what is not JSON"):
                refold_client.execute("hubspot", "get_contact_by_id", {{"contactId": "1"}})
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)
    assert FAKE_KEY not in result.stdout.str()


def test_a_parameter_the_schema_does_not_name_is_never_silent(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from refold_contract.errors import InvalidParams

        BODY = {"limit": "1", "cursor_after": "100"}

        def test_default(refold_client):
            refold_client.execute("hubspot", "get_contact", BODY)

        @pytest.mark.refold(strict=True)
        def test_strict(refold_client):
            with pytest.raises(InvalidParams, match="Unknown parameter 'cursor_after'"):
                refold_client.execute("hubspot", "get_contact", BODY)

        def test_known_only(refold_client):
            refold_client.execute("hubspot", "get_contact", {"limit": "1"})
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "-W", "default::refold_contract.RefoldWarning")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*UnknownParameter: refold_mock: hubspot/get_contact was sent 'cursor_after', "
            "which its schema does not name (it takes: *"
        ]
    )
    assert result.stdout.str().count("UnknownParameter:") == 1


def test_a_user_file_that_drops_a_built_in_state_block_is_named_by_lint_and_the_session(
    pytester: pytest.Pytester,
) -> None:
    import json

    from refold_contract import Catalogue
    from refold_contract.cli import main

    base = Catalogue.builtin_path() / "hubspot" / "search_contacts.json"
    doc = json.loads(base.read_text())
    doc.pop("state")
    mine = pytester.path / "mine" / "hubspot"
    mine.mkdir(parents=True)
    (mine / "search_contacts.json").write_text(json.dumps(doc))
    report = Catalogue.lint_report(pytester.path / "mine")
    [warning] = [p for p in report.warnings if p.field == "state"]
    assert "replaces the built-in hubspot/search_contacts without its state block" in str(warning)
    assert main(["lint", str(pytester.path / "mine")]) == 0  # a warning, not an error
    pytester.makepyfile("def test_nothing(refold_mock):\n    pass\n")
    result = pytester.runpytest(
        "--refold-fixtures", "mine", "-W", "default::refold_contract.RefoldWarning"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*StateBlockDropped: refold-contract: *search_contacts.json*replaces the built-in "
            "hubspot/search_contacts without its state block*"
        ]
    )
    # The built-in file with its state block kept: nothing said.
    (mine / "search_contacts.json").write_text(base.read_text())
    assert not [p for p in Catalogue.lint_report(pytester.path / "mine").warnings
                if p.field == "state"]  # fmt: skip


def test_is_live_and_reply_are_where_users_reach_for_them(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from refold_contract import Reply

        def test_mode(refold_mock, refold_client):
            assert refold_mock.is_live is False
            refold_mock.sequence("hubspot", "get_contact", [Reply.error(429, retry_after=1), {"n": 1}])
            assert refold_client.execute("hubspot", "get_contact").data == {"n": 1}
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
