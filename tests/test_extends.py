"""User files that extend an action (``"extends": true``): examples added, the rest kept.

The base's name, parameters and state block stay; added examples are checked against its
parameters, come after its own, and take the place of one with equal params; evidence for them
joins the base's. An extending file with nothing beneath it is an error naming it. Lint layers
folders as the loader does; a downstream suite pages an extended action in stateful mode and
replays the added example in the default one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from refold_contract import Catalogue, CatalogueError
from refold_contract.catalogue import Evidence, Example, load_action, validate_file
from refold_contract.catalogue.builder import extended_evidence, extended_examples
from refold_contract.cli import main

from .helpers import action_doc, write_action

BUILTIN = Catalogue.builtin()
SEARCH = BUILTIN.get("hubspot", "search_contacts")
ACME = {"propertyName": "company", "operator": "EQ", "value": "Acme Test"}


def contact(n: int) -> dict[str, Any]:
    stamp = f"2025-01-0{n}T09:00:00.000Z"
    return {
        "id": f"99000{n}",
        "properties": {
            "company": "Acme Test",
            "createdate": stamp,
            "email": f"user{n}@acme.test",
            "hs_object_id": f"99000{n}",
            "lastmodifieddate": stamp,
        },
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
    }


def acme_example(params: dict[str, Any] | None = None, **data: Any) -> dict[str, Any]:
    body = data or {"total": 3, "results": [contact(1), contact(2), contact(3)]}
    return {
        "params": params if params is not None else ACME,
        "response": {"node_status": "Success", "http_status": 200, "data": body},
        "source": "our staging portal, 2026-01-05",
    }


def extending(slug: str, action_id: str, *examples: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "action_id": action_id,
        "extends": True,
        "examples": list(examples),
        **keys,
    }


def errors_of(folder: Path, *, builtin: bool = True) -> list[CatalogueError]:
    with pytest.raises(CatalogueError) as caught:
        Catalogue.load(folder, include_builtin=builtin)
    return [caught.value]


# ------------------------------------------------------------------ loading


def test_an_extending_file_adds_its_examples_after_the_base_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    file = write_action(tmp_path, extending("hubspot", "search_contacts", acme_example()))
    action = Catalogue.load(tmp_path, include_builtin=True).get("hubspot", "search_contacts")
    assert [e.params for e in action.examples] == [*(e.params for e in SEARCH.examples), ACME]
    assert action.examples[-1].source == "our staging portal, 2026-01-05"
    assert action.examples[: len(SEARCH.examples)] == SEARCH.examples
    assert (action.name, action.description, action.parameters, action.access) == (
        SEARCH.name,
        SEARCH.description,
        SEARCH.parameters,
        SEARCH.access,
    )
    assert action.state == SEARCH.state
    assert action.state is not None
    assert action.position == SEARCH.position
    assert action.evidence == SEARCH.evidence  # it gave none: the base's stands
    assert action.path == file
    assert action.base_path == Catalogue.builtin_path() / "hubspot" / "search_contacts.json"
    assert action.examples_by_params[json.dumps(ACME, sort_keys=True, separators=(",", ":"))]


def test_an_added_example_with_the_params_of_a_base_example_takes_its_place(
    tmp_path: Path,
) -> None:
    first = SEARCH.examples[0]
    replacing = acme_example(dict(first.params), total=0, results=[])
    write_action(tmp_path, extending("hubspot", "search_contacts", replacing))
    action = Catalogue.load(tmp_path, include_builtin=True).get("hubspot", "search_contacts")
    assert len(action.examples) == len(SEARCH.examples)
    assert action.examples[0].params == first.params
    assert action.examples[0].data == {"total": 0, "results": []}
    assert action.examples[1:] == SEARCH.examples[1:]
    assert action.examples_by_params[first.key].data == {"total": 0, "results": []}


def test_extended_examples_replace_only_the_first_base_example_of_equal_params() -> None:
    def ex(params: dict[str, Any], n: int) -> Example:
        return Example(params=params, response={"node_status": "Success", "data": n})

    base = (ex({"a": 1}, 1), ex({"b": 1}, 2), ex({"a": 1}, 3))
    out = extended_examples(base, [ex({"a": 1}, 10), ex({"a": 1}, 11), ex({"c": 1}, 12)])
    assert [e.data for e in out] == [10, 2, 3, 11, 12]


def test_examples_of_an_extending_file_are_checked_against_the_base_parameters(
    tmp_path: Path,
) -> None:
    missing = acme_example({"propertyName": "company", "operator": "EQ"})
    file = write_action(tmp_path, extending("hubspot", "search_contacts", missing))
    [error] = errors_of(tmp_path)
    assert error.path == str(file)
    assert error.pointer == "/examples/0/params/value"
    assert "Required parameter 'value' is missing" in error.message
    # What the base's schema does not name only warns, as in a whole file.
    unknown = acme_example({**ACME, "archived": "true"})
    write_action(tmp_path, extending("hubspot", "search_contacts", unknown))
    _, problems = validate_file(file, lint=True, base=SEARCH)
    assert [(p.severity, p.pointer) for p in problems] == [
        ("warning", "/examples/0/params/archived")
    ]
    assert Catalogue.load(tmp_path, include_builtin=True).get("hubspot", "search_contacts")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", "Search"),
        ("parameters", []),
        ("state", {"object": "contacts"}),
        ("access", "write"),
        ("position", 3),
        ("read_when", {"limit": ["1"]}),
        ("description", "mine"),
        ("tag", "v3"),
    ],
)
def test_an_extending_file_may_not_change_what_the_base_action_says(
    tmp_path: Path, key: str, value: Any
) -> None:
    file = write_action(
        tmp_path, extending("hubspot", "search_contacts", acme_example(), **{key: value})
    )
    _, problems = validate_file(file, base=SEARCH)
    [problem] = problems
    assert (problem.pointer, problem.field, problem.severity) == (f"/{key}", key, "error")
    assert f"an extending file adds examples only: {key!r} comes from the action it extends" in (
        problem.message
    )
    assert problem.hint is not None
    assert 'leave out "extends" and give the whole action' in (problem.hint)


def test_an_unknown_key_in_an_extending_file_names_the_keys_it_may_hold(tmp_path: Path) -> None:
    file = write_action(
        tmp_path, extending("hubspot", "search_contacts", acme_example(), exampels=[])
    )
    _, [problem] = validate_file(file, base=SEARCH)
    assert problem.message == "unknown key 'exampels'"
    assert problem.hint is not None
    assert "examples" in problem.hint


def test_an_extending_file_with_nothing_beneath_is_an_error_naming_the_file_and_the_fix(
    tmp_path: Path,
) -> None:
    file = write_action(tmp_path, extending("acme", "get_widget", acme_example({})))
    [error] = errors_of(tmp_path)
    assert isinstance(error, CatalogueError)
    assert (error.path, error.pointer, error.field) == (str(file), "/extends", "extends")
    assert error.action == "acme/get_widget"
    assert "extends acme/get_widget, but no catalogue folder before this one holds" in str(error)
    assert error.hint is not None
    assert "put the folder holding the action before this one" in error.hint
    assert 'leave out "extends" and give the whole action' in error.hint
    # A built-in action, without the built-in catalogue beneath: the same error.
    (tmp_path / "acme" / "get_widget.json").unlink()
    write_action(tmp_path, extending("hubspot", "search_contacts", acme_example()))
    [error] = errors_of(tmp_path, builtin=False)
    assert "extends hubspot/search_contacts, but no catalogue folder" in error.message
    with pytest.raises(CatalogueError, match="no catalogue folder before this one"):
        load_action(tmp_path / "hubspot" / "search_contacts.json")


def test_extends_must_be_true_or_false_and_false_is_a_whole_file(tmp_path: Path) -> None:
    doc = action_doc("acme", "get_widget", extends="yes")
    file = write_action(tmp_path, doc)
    _, [problem] = validate_file(file)
    assert (problem.pointer, problem.message) == (
        "/extends",
        "'extends' must be true or false, got 'yes'",
    )
    write_action(tmp_path, action_doc("acme", "get_widget", extends=False))
    action = Catalogue.load(tmp_path).get("acme", "get_widget")
    assert action.base_path is None
    assert action.name == "Get Widget"


def test_evidence_of_an_extending_file_joins_the_base_evidence(tmp_path: Path) -> None:
    evidence = {"reply": "observed", "sources": ["our staging portal"], "notes": "2026-01-05"}
    write_action(
        tmp_path, extending("hubspot", "search_contacts", acme_example(), evidence=evidence)
    )
    action = Catalogue.load(tmp_path, include_builtin=True).get("hubspot", "search_contacts")
    base = SEARCH.evidence
    assert base is not None
    assert action.evidence is not None
    assert action.evidence.schema == base.schema
    assert action.evidence.reply == max(base.reply, "observed", key=Evidence.rank)
    assert action.evidence.sources == (*base.sources, "our staging portal")
    assert action.evidence.notes is not None
    assert action.evidence.notes.endswith("\n2026-01-05")
    # The less trusted level wins; a base without evidence leaves the schema 'assumed'.
    rated = Evidence("refold-docs", "refold-docs", ("a",), None)
    assert extended_evidence(rated, "assumed", ["b"], None).reply == "assumed"
    assert extended_evidence(rated, "assumed", ["a"], None).sources == ("a",)
    assert extended_evidence(None, "observed", ["b"], "n") == Evidence(
        "assumed", "observed", ("b",), "n"
    )


def test_an_extending_file_cannot_rate_the_schema(tmp_path: Path) -> None:
    evidence = {"schema": "observed", "reply": "observed", "sources": ["x"]}
    file = write_action(
        tmp_path, extending("hubspot", "search_contacts", acme_example(), evidence=evidence)
    )
    _, [problem] = validate_file(file, base=SEARCH)
    assert problem.pointer == "/evidence/schema"
    assert "an extending file keeps the schema of the action it extends" in problem.message
    bad = {"sources": ["x"]}
    write_action(tmp_path, extending("hubspot", "search_contacts", acme_example(), evidence=bad))
    _, [problem] = validate_file(file, base=SEARCH)
    assert (problem.pointer, problem.message) == ("/evidence/reply", "evidence has no 'reply'")


def test_extensions_layer_folder_by_folder_and_a_whole_file_replaces_them(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    base = write_action(a, action_doc("acme", "get_widget"))
    two = {"params": {"id": "2"}, "response": {"node_status": "Success", "data": {"id": "2"}}}
    three = {"params": {"id": "3"}, "response": {"node_status": "Success", "data": {"id": "3"}}}
    write_action(b, extending("acme", "get_widget", two))
    last = write_action(c, extending("acme", "get_widget", three))
    action = Catalogue.load(a, b, c).get("acme", "get_widget")
    assert [e.params["id"] for e in action.examples] == ["1", "2", "3"]
    assert (action.path, action.base_path) == (last, base)
    # b without a beneath it: nothing to extend.
    with pytest.raises(CatalogueError, match="extends acme/get_widget, but no catalogue folder"):
        Catalogue.load(b, c)
    # A whole file later replaces the action and what extended it.
    write_action(c, action_doc("acme", "get_widget", name="Mine"))
    action = Catalogue.load(a, b, c).get("acme", "get_widget")
    assert (action.name, [e.params["id"] for e in action.examples]) == ("Mine", ["1"])
    assert action.base_path is None


def test_an_extending_file_keeps_the_state_block_so_nothing_is_dropped(tmp_path: Path) -> None:
    write_action(tmp_path, extending("hubspot", "search_contacts", acme_example()))
    catalogue = Catalogue.load(tmp_path, include_builtin=True)
    assert catalogue.dropped_state == ()
    report = Catalogue.lint_report(tmp_path)
    assert report.problems == ()
    assert report.ok
    assert report.inferred == ()


# ------------------------------------------------------------------ lint


def test_lint_checks_an_extending_file_against_the_built_in_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_action(tmp_path, extending("hubspot", "search_contacts", acme_example({"value": "x"})))
    report = Catalogue.lint_report(tmp_path)
    assert [(p.pointer, p.severity) for p in report.problems] == [
        ("/examples/0/params/propertyName", "error"),
        ("/examples/0/params/operator", "error"),
    ]
    assert main(["lint", str(tmp_path)]) == 1
    assert "Required parameter 'propertyName' is missing" in capsys.readouterr().out


def test_lint_layers_folders_so_an_extension_finds_its_base_in_an_earlier_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_action(a, action_doc("acme", "get_widget"))
    ext = write_action(b, extending("acme", "get_widget", acme_example({"id": "2"})))
    assert Catalogue.lint_report(a, b).ok
    assert main(["lint", str(a), str(b)]) == 0
    capsys.readouterr()
    [problem] = Catalogue.lint_report(b).errors
    assert (problem.path, problem.pointer) == (str(ext), "/extends")
    assert main(["lint", str(b)]) == 1
    assert f"{ext}#/extends: extends acme/get_widget, but no catalogue folder" in (
        capsys.readouterr().out
    )
    # The order matters, as it does for the loader.
    assert not Catalogue.lint_report(b, a).ok
    # Its examples are checked against the base of the earlier folder.
    write_action(b, extending("acme", "get_widget", acme_example({"limit": "2"})))
    [problem] = Catalogue.lint_report(a, b).errors
    assert problem.pointer == "/examples/0/params/id"


def test_lint_says_when_the_file_an_extension_needs_does_not_load(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    broken = write_action(a, action_doc("acme", "get_widget", parameters="id"))
    write_action(b, extending("acme", "get_widget", acme_example({"id": "2"})))
    problems = Catalogue.lint_report(a, b).errors
    assert [p.path for p in problems] == [str(broken), str(b / "acme" / "get_widget.json")]
    assert problems[1].message == (
        f"extends acme/get_widget, whose file in an earlier folder ({broken}) does not load"
    )
    assert problems[1].hint == "fix the errors reported for that file first"


def test_lint_warns_of_a_dropped_state_block_across_user_folders(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    doc = json.loads((Catalogue.builtin_path() / "hubspot" / "search_contacts.json").read_text())
    write_action(a, doc)  # a whole copy, state block kept: nothing to say
    whole = dict(doc)
    whole.pop("state")
    write_action(b, whole)
    [warning] = Catalogue.lint_report(a, b).warnings
    assert warning.path == str(b / "hubspot" / "search_contacts.json")
    assert warning.hint is not None
    assert '"extends": true' in warning.hint
    # Beneath a user action with a state block that the built-in catalogue lacks, too.
    acme = action_doc("acme", "get_widget", state=dict(doc["state"], object="widgets"))
    acme["parameters"] = doc["parameters"]
    acme["examples"] = []
    write_action(a, acme)
    write_action(b, action_doc("acme", "get_widget", parameters=doc["parameters"], examples=[]))
    dropped = [p for p in Catalogue.lint_report(a, b).warnings if p.field == "state"]
    assert [p.action for p in dropped] == ["acme/get_widget", "hubspot/search_contacts"]


# ------------------------------------------------------------------ a downstream project

DOWNSTREAM = """
import pytest

ACME = {"propertyName": "company", "operator": "EQ", "value": "Acme Test"}


def test_default_mode_replays_the_added_example_for_its_own_params(refold_client):
    data = refold_client.execute("hubspot", "search_contacts", ACME).data
    assert data["total"] == 3
    assert [c["properties"]["email"] for c in data["results"]] == [
        "user1@acme.test", "user2@acme.test", "user3@acme.test"]
    # The built-in examples are still there, each for its own params.
    sam = {"propertyName": "email", "operator": "EQ", "value": "sam.okafor@example.com"}
    assert refold_client.execute("hubspot", "search_contacts", sam).data["total"] == 1


@pytest.mark.refold(stateful=True)
def test_stateful_mode_computes_the_extended_action_from_its_state_block(refold_client):
    page = refold_client.execute("hubspot", "search_contacts", {**ACME, "limit": "2"}).data
    assert page["total"] == 3  # filtered over the records the added example seeded
    assert len(page["results"]) == 2
    assert page["paging"]["next"]["after"] == "2"
    # The store holds them for every action on contacts: page through the list.
    emails, params = [], {"limit": "2", "properties": "email,company"}
    while True:
        listed = refold_client.execute("hubspot", "get_contact", params).data
        emails += [c["properties"]["email"] for c in listed["results"]
                   if c["properties"].get("company") == "Acme Test"]
        after = listed.get("paging", {}).get("next", {}).get("after")
        if after is None:
            break
        params = {**params, "after": after}
    assert emails == ["user1@acme.test", "user2@acme.test", "user3@acme.test"]
"""


def test_a_downstream_project_extends_a_built_in_action_with_refold_fixtures(
    pytester: pytest.Pytester,
) -> None:
    write_action(pytester.path / "mine", extending("hubspot", "search_contacts", acme_example()))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_downstream=DOWNSTREAM)
    # Every refold-contract warning an error: no StateBlockDropped, no UnmatchedExample.
    result = pytester.runpytest(
        "--refold-fixtures",
        "mine",
        "-p",
        "no:randomly",
        "-W",
        "error::refold_contract.RefoldWarning",
    )
    result.assert_outcomes(passed=2)
    assert "StateBlockDropped" not in result.stdout.str()


def test_an_extending_file_with_a_misspelt_action_id_is_told_the_close_names(
    tmp_path: Path,
) -> None:
    misspelt = extending("hubspot", "search_contact", acme_example())
    write_action(tmp_path, misspelt)
    (error,) = errors_of(tmp_path)
    assert error.hint.startswith("did you mean hubspot/search_contacts?")
    linted = [p for p in Catalogue.lint(tmp_path) if p.pointer == "/extends"]
    assert [p.hint.split("?")[0] for p in linted] == ["did you mean hubspot/search_contacts"]
    # Nothing close: the hint is the general one.
    write_action(tmp_path, extending("hubspot", "zzz_unrelated", acme_example()))
    far = [p for p in Catalogue.lint(tmp_path) if "zzz_unrelated" in p.message]
    assert far
    assert not far[0].hint.startswith("did you mean")
