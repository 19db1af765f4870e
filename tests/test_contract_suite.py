"""The contract suite through its three doors: the command, the pytest option, the functions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from refold_contract import Catalogue
from refold_contract.contract import (
    InvalidBody,
    check_app_failure,
    check_invalid_reply,
    check_reply,
    shape_of,
    shape_problems,
)

from .helpers import action_doc, write_action

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def errored_only(tmp: Path) -> Path:
    doc = action_doc(slug="acme", action_id="get_widget")
    doc["examples"][0]["response"] = {"node_status": "Errored", "http_status": 500, "data": {}}
    write_action(tmp, doc)
    return tmp


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", "test", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_the_command_runs_the_suite_and_ends_with_a_table(tmp_path: Path) -> None:
    done = run_cli("--app", "slack", "--app", "zendesk", "--examples", "5", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    out = done.stdout
    builtin = Catalogue.builtin()
    names = [a.action_id for slug in ("slack", "zendesk") for a in builtin.actions(slug)]
    for name in names:
        assert name in out
    assert "hubspot" not in out
    assert "bodies tried" in out
    # Distinct bodies, valid and invalid together: at most 2 x --examples per action, and the
    # summary is the column's sum.
    rows = [
        line.split() for line in out.splitlines() if line.split()[:1] in (["slack"], ["zendesk"])
    ]
    counts = [int(r[3]) for r in rows if r[3].isdigit()]
    assert len(counts) == len(names)
    assert all(1 <= c <= 10 for c in counts)
    summary = f"refold-contract test: {len(names)} actions, {sum(counts)} bodies, all passed in"
    assert summary in out
    assert "@reproduce_failure" not in out
    # Only hypothesis's example database, which replays a failure on the next run.
    assert [p.name for p in tmp_path.iterdir()] in ([], [".hypothesis"])


def test_the_command_fails_with_the_action_named_when_the_contract_breaks(tmp_path: Path) -> None:
    folder = errored_only(tmp_path / "mine")
    done = run_cli("--fixtures", str(folder), "--app", "acme", "--examples", "3", cwd=tmp_path)
    assert done.returncode == 1
    assert "expected node_status 'Success', got 'Errored'" in done.stdout
    assert "FAILED" in done.stdout
    assert "1 row(s) with a failure in" in done.stdout
    assert (
        f"rerun one: refold-contract test --fixtures {folder} --examples 3 --action acme/get_widget"
        in done.stdout
    )
    assert "hypothesis keeps it in .hypothesis/" in done.stdout
    assert "reproduce_failure" not in done.stdout


def test_the_command_passes_arguments_after_a_double_dash_to_pytest(tmp_path: Path) -> None:
    done = run_cli(
        "--action",
        "zendesk/get_ticket_by_id",
        "--examples",
        "2",
        "--",
        "-k",
        "schema",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout
    assert "1 passed" in done.stdout


def test_a_mistyped_app_is_one_line_with_a_suggestion(tmp_path: Path) -> None:
    done = run_cli("--app", "zendsk", cwd=tmp_path)
    assert done.returncode != 0
    assert "refold-contract: --app zendsk: no such app in the catalogue" in done.stderr
    assert "did you mean zendesk?" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_pytest_option_adds_the_suite_to_a_users_own_run(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile("def test_mine(): pass")
    result = pytester.runpytest(
        "--refold-contract", "--refold-app", "gmail", "--refold-examples", "3", "-v"
    )
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(
        [
            "*test_mine PASSED*",
            "*test_valid_bodies_get_the_success_envelope?gmail/get_message? PASSED*",
            "*test_invalid_bodies_get_refolds_400_naming_the_field?gmail/list_messages? PASSED*",
            "*test_list_operation_agrees_with_the_catalogue?gmail/(list actions)? PASSED*",
        ]
    )


def test_the_suite_reports_a_broken_contract_with_the_failing_body(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    errored_only(pytester.path / "mine")
    result = pytester.runpytest(
        "--refold-contract",
        "--refold-fixtures",
        "mine",
        "--refold-action",
        "acme/get_widget",
        "--refold-examples",
        "2",
    )
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        ["*acme/get_widget with body {*", "*expected node_status 'Success', got 'Errored'*"]
    )


def test_check_functions_are_usable_on_their_own() -> None:
    action = Catalogue.builtin().get("hubspot", "get_contact")
    good = httpx.Response(200, json={"node_status": "Success", "data": action.examples[0].data})
    assert check_reply(action, good) == []
    bad = httpx.Response(200, json={"node_status": "Success", "data": {"results": "nope"}})
    assert check_reply(action, bad) == [
        "data.paging: missing",
        "data.results: expected array, got string",
    ]
    case = InvalidBody({}, "missing_required", "email")
    refused = httpx.Response(
        400,
        json={
            "error_code": "VALIDATION_ERROR",
            "request_id": "r",
            "message": "Required parameter 'email' is missing",
        },
    )
    assert check_invalid_reply(case, refused) == []
    vague = httpx.Response(
        400, json={"error_code": "VALIDATION_ERROR", "request_id": "r", "message": "bad"}
    )
    assert check_invalid_reply(case, vague) == [
        "the message does not name the field 'email': 'bad'"
    ]
    assert check_invalid_reply(case, httpx.Response(200, json={})) == [
        "expected HTTP 400 for missing_required, got 200"
    ]
    html = httpx.Response(502, text="<html>", headers={"content-type": "text/html"})
    assert check_reply(action, html)[0].startswith("expected HTTP 200, got 502")


def test_a_computed_reply_is_checked_by_type_and_an_app_failure_by_its_envelope() -> None:
    action = Catalogue.builtin().get("hubspot", "get_contact")
    last_page: dict[str, Any] = {"results": []}  # HubSpot leaves out paging on the last page
    reply = httpx.Response(200, json={"node_status": "Success", "data": last_page})
    assert check_reply(action, reply) == ["data.paging: missing"]
    assert check_reply(action, reply, required=False) == []
    wrong = httpx.Response(200, json={"node_status": "Success", "data": {"results": {}}})
    assert check_reply(action, wrong, required=False) == [
        "data.results: expected array, got object"
    ]
    empty = httpx.Response(200, json={"node_status": "Success", "data": {"results": None}})
    assert check_reply(action, empty, required=False) == []
    missing = {"node_status": "Errored", "http_status": 404, "data": {"message": "not found"}}
    assert check_app_failure(httpx.Response(200, json=missing)) == []
    slack = {"node_status": "Errored", "http_status": 200, "data": {"ok": False}}
    assert check_app_failure(httpx.Response(200, json=slack)) == []
    assert check_app_failure(httpx.Response(200, json={**missing, "http_status": "404"})) == [
        "http_status must be an integer, got '404'"
    ]
    assert check_app_failure(httpx.Response(200, json={"node_status": "Errored"})) == [
        "the reply has no 'data'"
    ]
    assert check_app_failure(reply) == ["expected node_status 'Errored', got 'Success'"]
    assert check_app_failure(httpx.Response(500, text="x"))[0].startswith("expected HTTP 200")


def test_shapes_union_examples_and_report_departures() -> None:
    shape = shape_of(
        [{"id": "1", "tags": ["a"], "n": 1}, {"id": "2", "tags": [], "n": 2.5, "x": None}]
    )
    assert shape.required == {"id", "tags", "n"}
    assert shape_problems({"id": "3", "tags": ["b"], "n": 3}, shape) == []
    assert shape_problems({"tags": [1], "n": "x"}, shape) == [
        "$.id: missing",
        "$.tags[0]: expected string, got integer",
        "$.n: expected integer or number, got string",
    ]
    assert shape.to_json() == {
        "types": ["object"],
        "keys": {
            "id": {"types": ["string"], "required": True},
            "n": {"types": ["integer", "number"], "required": True},
            "tags": {"types": ["array"], "items": {"types": ["string"]}, "required": True},
            "x": {"types": ["null"], "required": False},
        },
    }
    assert json.loads(json.dumps(shape.to_json())) == shape.to_json()  # JSON-ready


def test_the_readme_property_test_example_passes(pytester: pytest.Pytester) -> None:
    example = (
        Path(__file__).resolve().parent.parent / "examples" / "property_tests" / "test_contacts.py"
    )
    pytester.makeini(INI)
    pytester.makepyfile(test_contacts=example.read_text())
    pytester.runpytest("-p", "no:asyncio").assert_outcomes(passed=3)
