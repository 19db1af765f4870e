"""Each rule of refold_contract.catalogue.lint tested from here (issue 21): the rules that span
files (two actions at one position, two record models on one object type), the built-in
folder's rules (evidence, declared access), a user file dropping a built-in state block, the
count of files, and what a report's severity split says."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Literal

import pytest

from refold_contract import Catalogue
from refold_contract.catalogue.lint import (
    LintReport,
    dropped_state_problem,
    lint_folders,
    validate_file,
)
from refold_contract.errors import CatalogueError

from .helpers import action_doc, write_action

ZENDESK = json.loads(
    (Catalogue.builtin_path() / "zendesk" / "get_ticket_by_id.json").read_text(encoding="utf-8")
)
EVIDENCE = ZENDESK["evidence"]
NOWHERE = Path("/nonexistent-builtin-folder")


def stateful(action_id: str, *, ids: str = "zendesk", slug: str = "zendesk") -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(ZENDESK)
    doc["slug"] = slug
    doc["action_id"] = action_id
    doc["state"]["record"]["ids"] = ids
    return doc


def lint(*folders: Path, **options: Any) -> LintReport:
    options.setdefault("builtin", NOWHERE)
    return lint_folders(list(folders), **options)


def only(report: LintReport, pointer: str) -> CatalogueError:
    (problem,) = [p for p in report.problems if p.pointer == pointer]
    return problem


def test_a_clean_folder_is_ok_and_counts_its_files(tmp_path: Path) -> None:
    write_action(tmp_path, action_doc(action_id="get_a", access="read"))
    write_action(tmp_path, action_doc(action_id="get_b", access="read"))
    report = lint(tmp_path)
    assert report.problems == ()
    assert report.ok
    assert report.files == 2
    assert report.folders == (tmp_path,)
    assert report.inferred == ()


def test_a_stray_file_counts_and_is_reported(tmp_path: Path) -> None:
    write_action(tmp_path, action_doc(access="read"))
    (tmp_path / "stray.json").write_text("{}", encoding="utf-8")  # at the top: no app folder
    (tmp_path / "demo" / "notes.txt").write_text("hello", encoding="utf-8")  # not JSON: unseen
    report = lint(tmp_path)
    assert report.files == 2
    (problem,) = report.problems
    assert problem.path is not None
    assert problem.path.endswith("stray.json")


def test_a_missing_folder_is_one_problem_and_the_next_folder_is_still_read(
    tmp_path: Path,
) -> None:
    write_action(tmp_path / "real", action_doc(access="read"))
    report = lint(tmp_path / "missing", tmp_path / "real")
    assert len(report.problems) == 1
    assert "missing" in str(report.problems[0])
    assert report.files == 1
    assert not report.ok


def test_two_actions_of_one_app_at_one_position_is_a_warning_naming_the_first(
    tmp_path: Path,
) -> None:
    write_action(tmp_path, action_doc(action_id="get_a", position=1, access="read"))
    write_action(tmp_path, action_doc(action_id="get_b", position=1, access="read"))
    write_action(tmp_path, action_doc(action_id="get_c", position=2, access="read"))
    write_action(tmp_path, action_doc(slug="other", action_id="get_d", position=1, access="read"))
    report = lint(tmp_path)
    problem = only(report, "/position")
    assert problem.severity == "warning"
    assert problem.message == "position 1 is also given to get_a.json"
    assert problem.action == "demo/get_b"
    assert problem.field == "position"
    assert problem.path is not None
    assert problem.path.endswith("get_b.json")
    assert report.ok  # a warning does not fail a lint
    assert report.warnings == [problem]
    assert report.errors == []


def test_positions_are_per_folder(tmp_path: Path) -> None:
    write_action(tmp_path / "one", action_doc(action_id="get_a", position=1, access="read"))
    write_action(tmp_path / "two", action_doc(action_id="get_b", position=1, access="read"))
    assert lint(tmp_path / "one", tmp_path / "two").problems == ()


def test_an_action_without_a_position_is_never_at_one(tmp_path: Path) -> None:
    write_action(tmp_path, action_doc(action_id="get_a", access="read"))
    write_action(tmp_path, action_doc(action_id="get_b", access="read"))
    assert lint(tmp_path).problems == ()


def test_two_record_models_on_one_object_type_is_an_error(tmp_path: Path) -> None:
    write_action(tmp_path, stateful("get_ticket_by_id"))
    write_action(tmp_path, stateful("get_ticket_again", ids="counter"))
    report = lint(tmp_path)
    problem = only(report, "/state/record")
    assert problem.severity == "error"
    assert problem.message == (
        "the record model of zendesk object type 'tickets' differs from the one in "
        "get_ticket_again.json"
    ) or problem.message == (
        "the record model of zendesk object type 'tickets' differs from the one in "
        "get_ticket_by_id.json"
    )
    assert problem.field == "state"
    assert not report.ok


def test_the_same_record_model_twice_or_on_other_apps_is_fine(tmp_path: Path) -> None:
    write_action(tmp_path, stateful("get_ticket_by_id"))
    write_action(tmp_path, stateful("get_ticket_again"))
    write_action(tmp_path, stateful("get_ticket_by_id", ids="counter", slug="zendesk2"))
    assert lint(tmp_path).problems == ()


def test_record_models_clash_across_folders(tmp_path: Path) -> None:
    write_action(tmp_path / "one", stateful("get_ticket_by_id"))
    write_action(tmp_path / "two", stateful("get_ticket_by_id", ids="counter"))
    problem = only(lint(tmp_path / "one", tmp_path / "two"), "/state/record")
    assert problem.message.endswith("differs from the one in get_ticket_by_id.json")
    assert problem.path is not None
    assert "two" in problem.path


def test_a_user_file_dropping_a_builtin_state_block_is_a_warning(tmp_path: Path) -> None:
    doc = copy.deepcopy(ZENDESK)
    del doc["state"]
    write_action(tmp_path, doc)
    builtins = frozenset({("zendesk", "get_ticket_by_id")})
    report = lint(tmp_path, stateful_builtins=builtins)
    problem = only(report, "/state")
    assert problem.severity == "warning"
    assert "replaces the built-in zendesk/get_ticket_by_id without its state block" in str(problem)
    assert report.ok
    assert lint(tmp_path).problems == ()  # not a stateful built-in: nothing to say
    write_action(tmp_path, ZENDESK)  # with its state block: fine
    assert lint(tmp_path, stateful_builtins=builtins).problems == ()


def test_the_builtin_folder_needs_evidence_and_declared_access(tmp_path: Path) -> None:
    doc = action_doc()  # no evidence, no access
    write_action(tmp_path, doc)
    as_user = lint(tmp_path)
    assert as_user.problems == ()
    assert [(f.name, a.key, access) for f, a, access in as_user.inferred] == [
        ("get_thing.json", "demo/get_thing", "read")
    ]
    as_builtin = lint(tmp_path, builtin=tmp_path)
    pointers = sorted(p.pointer or "" for p in as_builtin.errors)
    assert "/evidence" in pointers or any("evidence" in str(p) for p in as_builtin.errors)
    assert not as_builtin.ok


def test_a_builtin_action_must_declare_its_access(tmp_path: Path) -> None:
    write_action(tmp_path, action_doc(evidence=EVIDENCE))
    problem = only(lint(tmp_path, builtin=tmp_path), "/access")
    assert problem.message == "a built-in action must declare its access"
    assert problem.severity == "error"
    assert problem.field == "access"
    assert problem.action == "demo/get_thing"
    assert problem.hint is not None
    assert '"access": "read"' in problem.hint
    write_action(tmp_path, action_doc(evidence=EVIDENCE, access="read"))
    assert lint(tmp_path, builtin=tmp_path).problems == ()


def test_a_builtin_is_recognised_by_its_resolved_path(tmp_path: Path) -> None:
    write_action(tmp_path / "cat", action_doc(evidence=EVIDENCE))
    report = lint(tmp_path / "cat" / ".." / "cat", builtin=tmp_path / "cat")
    assert [p.pointer for p in report.problems] == ["/access"]


def test_validate_file_gives_no_action_on_an_error_and_keeps_warnings(tmp_path: Path) -> None:
    good = write_action(tmp_path, action_doc(access="read"))
    action, problems = validate_file(good)
    assert action is not None
    assert action.key == "demo/get_thing"
    assert problems == []
    bad = write_action(tmp_path, action_doc(action_id="get_bad", parameters="nope"))
    action, problems = validate_file(bad)
    assert action is None
    assert any(p.message == "'parameters' must be an array, got string" for p in problems)
    duplicated = tmp_path / "demo" / "get_dup.json"
    text = json.dumps(action_doc(action_id="get_dup", access="read"))
    duplicated.write_text(text[:-1] + ', "access": "read"}', encoding="utf-8")
    assert validate_file(duplicated)[1] == []  # duplicate keys are lint's own check
    linted_action, found = validate_file(duplicated, lint=True)
    assert [p.message for p in found] == [
        "duplicate key 'access': JSON keeps only the last of its values"
    ]
    assert linted_action is None  # an error, even one only lint finds: no action


def test_validate_file_can_require_evidence(tmp_path: Path) -> None:
    path = write_action(tmp_path, action_doc(access="read"))
    assert validate_file(path)[1] == []
    action, problems = validate_file(path, require_evidence=True)
    assert action is None
    assert any("evidence" in str(p) for p in problems)


def test_dropped_state_problem_names_the_file_and_the_fix() -> None:
    action = Catalogue.builtin().get("zendesk", "get_ticket_by_id")
    problem = dropped_state_problem(action, Path("mine/zendesk/get_ticket_by_id.json"))
    assert problem.severity == "warning"
    assert problem.path == "mine/zendesk/get_ticket_by_id.json"
    assert (problem.pointer, problem.field, problem.action) == (
        "/state",
        "state",
        "zendesk/get_ticket_by_id",
    )
    assert problem.hint is not None
    assert "builtin_path()" in problem.hint


@pytest.mark.parametrize("severity", ["error", "warning"])
def test_a_reports_errors_and_warnings(severity: Literal["error", "warning"]) -> None:
    problem = CatalogueError("x", severity=severity)
    report = LintReport(problems=(problem,), files=1)
    assert report.errors == ([problem] if severity == "error" else [])
    assert report.warnings == ([problem] if severity == "warning" else [])
    assert report.ok is (severity == "warning")


def test_each_rule_says_what_to_do_about_it(tmp_path: Path) -> None:
    write_action(tmp_path / "a", action_doc(action_id="get_a", position=1, access="read"))
    write_action(tmp_path / "a", action_doc(action_id="get_b", position=1, access="read"))
    write_action(tmp_path / "b", stateful("get_ticket_by_id"))
    write_action(tmp_path / "b", stateful("get_x", ids="counter"))
    write_action(tmp_path / "c", action_doc(evidence=EVIDENCE))
    said = {
        p.pointer: (p.message, p.hint, p.field, p.action, p.severity)
        for folder in "abc"
        for p in lint(tmp_path / folder, builtin=tmp_path / "c").problems
    }
    assert said == {
        "/position": (
            "position 1 is also given to get_a.json",
            "give each documented action of an app its own place in Refold's list (1 is first)",
            "position",
            "demo/get_b",
            "warning",
        ),
        "/state/record": (
            "the record model of zendesk object type 'tickets' differs from the one in "
            "get_ticket_by_id.json",
            'every state block on one object type shares its records: give them the same "record" '
            "(id field, id format, timestamp fields, clock)",
            "state",
            "zendesk/get_x",
            "error",
        ),
        "/access": (
            "a built-in action must declare its access",
            'check it against the app\'s documentation and add "access": "read" (or "write")',
            "access",
            "demo/get_thing",
            "error",
        ),
    }
    action = Catalogue.builtin().get("zendesk", "get_ticket_by_id")
    dropped = dropped_state_problem(action, Path("mine/zendesk/get_ticket_by_id.json"))
    assert dropped.message == (
        "replaces the built-in zendesk/get_ticket_by_id without its state block, so stateful "
        "mode replays this action instead of computing it (paging, filtering, records)"
    )
    assert dropped.hint == (
        'to add examples only, write "extends": true in your file and keep just slug, '
        "action_id and examples (the built-in name, parameters and state block stay); else copy "
        'the built-in file\'s "state" block into yours (the built-in folder is '
        "refold_contract.Catalogue.builtin_path())"
    )


def test_a_query_block_keeps_no_records_so_it_never_clashes(tmp_path: Path) -> None:
    builtin = Catalogue.builtin_path() / "salesforce"
    query = json.loads((builtin / "get_entity_with_soql.json").read_text(encoding="utf-8"))
    query["state"]["object"] = "Account"  # a query block may name its object; it has no record
    assert "record" not in query["state"]
    write_action(tmp_path, query)
    write_action(tmp_path, json.loads((builtin / "create_account.json").read_text("utf-8")))
    assert lint(tmp_path).problems == ()


def test_files_are_counted_over_every_folder(tmp_path: Path) -> None:
    write_action(tmp_path / "one", action_doc(action_id="get_a", access="read"))
    write_action(tmp_path / "two", action_doc(action_id="get_b", access="read"))
    write_action(tmp_path / "two", action_doc(action_id="get_c", access="read"))
    assert lint(tmp_path / "one", tmp_path / "two").files == 3


def test_a_stray_named_like_its_folder_beside_app_folders_goes_one_down(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    write_action(folder, action_doc(slug="other", access="read"))
    (folder / "stray.json").write_text(json.dumps(action_doc(access="read")), encoding="utf-8")
    (problem,) = lint(folder).problems
    assert problem.hint == f"move it to {folder / 'demo'}/ (its slug is 'demo')"


def test_a_file_in_another_apps_folder_is_named(tmp_path: Path) -> None:
    write_action(tmp_path, action_doc(slug="demo", access="read"), slug="other")
    problems = lint(tmp_path).problems
    assert problems
    assert all(p.severity == "error" for p in problems)
    assert any("demo" in p.message and "other" in str(p) for p in problems)


def test_the_size_limit_reaches_each_file(tmp_path: Path) -> None:
    write_action(tmp_path, action_doc(access="read"))
    assert lint(tmp_path).problems == ()
    (problem,) = lint(tmp_path, max_bytes=100).problems
    assert problem.severity == "error"
    (problem,) = lint(tmp_path, max_depth=2).problems
    assert problem.severity == "error"


def test_every_problem_names_its_file(tmp_path: Path) -> None:
    write_action(tmp_path / "a", action_doc(action_id="get_a", position=1, access="read"))
    second = write_action(tmp_path / "a", action_doc(action_id="get_b", position=1, access="read"))
    write_action(tmp_path / "b", stateful("get_ticket_by_id"))
    clash = write_action(tmp_path / "b", stateful("get_x", ids="counter"))
    undeclared = write_action(tmp_path / "c", action_doc(evidence=EVIDENCE))
    doc = copy.deepcopy(ZENDESK)
    del doc["state"]
    dropped = write_action(tmp_path / "d", doc)
    paths = {
        p.pointer: p.path
        for folder in "abcd"
        for p in lint(
            tmp_path / folder,
            builtin=tmp_path / "c",
            stateful_builtins=frozenset({("zendesk", "get_ticket_by_id")}),
        ).problems
    }
    assert paths == {
        "/position": str(second),
        "/state/record": str(clash),
        "/access": str(undeclared),
        "/state": str(dropped),
    }


def test_validate_file_checks_the_slug_it_is_given(tmp_path: Path) -> None:
    path = write_action(tmp_path, action_doc(access="read"))  # demo/get_thing.json
    assert validate_file(path)[1] == []
    action, problems = validate_file(path, slug="other")
    assert action is None
    assert [p.message for p in problems] == ["slug 'demo' does not match its folder 'other'"]
