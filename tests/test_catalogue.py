from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from refold_contract import Catalogue, CatalogueError, UnknownFieldType
from refold_contract.catalogue import access_from_name, canonical_json, load_action
from refold_contract.errors import ActionNotInCatalogue

from .helpers import action_doc, write_action


@pytest.mark.parametrize(
    ("name", "access"),
    [
        ("get_contact", "read"),
        ("list_channels", "read"),
        ("search_messages", "read"),
        ("query", "read"),
        ("query_records", "read"),
        ("create_contact", "write"),
        ("update_account", "write"),
        ("delete_contact", "write"),
        ("httprequest", "write"),
        ("get_or_create_contact", "write"),
        ("list_and_delete_stale", "write"),
        ("sync_everything", "write"),
        ("", "write"),
    ],
)
def test_access_is_read_only_for_read_names_and_write_otherwise(name: str, access: str) -> None:
    assert access_from_name(name) == access


def test_declared_access_overrides_the_name_rule(tmp_path: Path) -> None:
    write_action(tmp_path, action_doc(action_id="sync_contacts", access="read"))
    write_action(tmp_path, action_doc(action_id="get_token", access="write"))
    catalogue = Catalogue.load(tmp_path)
    assert catalogue.get("demo", "sync_contacts").is_read
    assert catalogue.get("demo", "sync_contacts").access_declared
    assert not catalogue.get("demo", "get_token").is_read


def test_later_folder_replaces_an_action_with_the_same_slug_and_id(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_action(first, action_doc(description="first"))
    write_action(first, action_doc(action_id="get_other", description="only in first"))
    write_action(second, action_doc(description="second"))
    catalogue = Catalogue.load(first, second)
    assert catalogue.get("demo", "get_thing").description == "second"
    assert catalogue.get("demo", "get_other").description == "only in first"
    assert Catalogue.load(second, first).get("demo", "get_thing").description == "first"


def test_user_folder_layers_over_the_builtin_catalogue(tmp_path: Path) -> None:
    write_action(tmp_path, action_doc(slug="hubspot", action_id="get_contact", description="mine"))
    catalogue = Catalogue.load(tmp_path, include_builtin=True)
    assert catalogue.get("hubspot", "get_contact").description == "mine"
    assert len(catalogue) == len(Catalogue.builtin())


def test_get_of_an_unknown_action_suggests_close_names() -> None:
    with pytest.raises(ActionNotInCatalogue) as info:
        Catalogue.builtin().get("hubspot", "get_contacts")
    assert "hubspot/get_contact" in info.value.suggestions
    assert "did you mean hubspot/get_contact" in str(info.value)
    assert isinstance(info.value, LookupError)


def test_get_of_an_unknown_app_lists_the_known_apps() -> None:
    with pytest.raises(ActionNotInCatalogue, match="apps known: gmail, hubspot"):
        Catalogue.builtin().get("zzzz", "qqqq")


def test_apps_and_actions_are_sorted_and_filterable() -> None:
    catalogue = Catalogue.builtin()
    assert catalogue.apps() == sorted(catalogue.apps())
    reads = catalogue.actions("hubspot", access="read")
    assert {a.action_id for a in reads} == {"get_contact", "get_contact_by_id", "search_contacts"}
    assert all(a.slug == "hubspot" for a in catalogue.actions("hubspot"))
    assert ("hubspot", "get_contact") in catalogue
    files = list(Catalogue.builtin_path().glob("*/*.json"))
    apps = {f.parent.name for f in files}
    assert repr(catalogue) == f"<Catalogue {len(files)} actions in {len(apps)} apps>"


def test_malformed_json_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = write_action(
        tmp_path,
        '{\n  "slug": "demo",\n  "action_id": get_thing\n}',
        slug="demo",
        action_id="get_thing",
    )
    with pytest.raises(CatalogueError) as info:
        Catalogue.load(tmp_path)
    err = info.value
    assert err.path == str(path)
    assert (err.line, err.column) == (3, 16)
    assert str(err).startswith(f"{path}:3:16: malformed JSON")


@pytest.mark.parametrize(
    ("mutate", "pointer", "fragment"),
    [
        (lambda d: d.pop("name"), "/name", "missing required key 'name'"),
        (lambda d: d.pop("parameters"), "/parameters", "missing required key 'parameters'"),
        (lambda d: d.update(parameters={}), "/parameters", "must be an array"),
        (lambda d: d.update(slug="other"), "/slug", "does not match its folder"),
        (lambda d: d.update(action_id="get_else"), "/action_id", "does not match the file name"),
        (lambda d: d.update(access="maybe"), "/access", "access must be 'read' or 'write'"),
        (lambda d: d.update(paramters=[]), "/paramters", "unknown key 'paramters'"),
        (
            lambda d: d["parameters"].append({"name": "id", "type": "text"}),
            "/parameters/2/name",
            "duplicate parameter name 'id' (first at /parameters/0)",
        ),
        (
            lambda d: d["parameters"][0].update(required="yes"),
            "/parameters/0/required",
            "'required' must be true or false",
        ),
        (lambda d: d["parameters"][1].pop("type"), "/parameters/1/type", "missing required key"),
        (
            lambda d: d["examples"][0].update(params={}),
            "/examples/0/params/id",
            "Required parameter 'id' is missing",
        ),
        (
            lambda d: d["examples"][0]["response"].pop("node_status"),
            "/examples/0/response/node_status",
            "'node_status' must be a non-empty string",
        ),
        (
            lambda d: d["examples"][0]["response"].pop("data"),
            "/examples/0/response/data",
            "missing 'data'",
        ),
    ],
)
def test_loading_errors_name_the_file_the_pointer_and_what_to_do(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], object], pointer: str, fragment: str
) -> None:
    doc = action_doc()
    mutate(doc)
    path = write_action(tmp_path, doc, slug="demo", action_id="get_thing")
    with pytest.raises(CatalogueError) as info:
        Catalogue.load(tmp_path)
    err = info.value
    assert err.path == str(path)
    assert err.pointer == pointer
    assert fragment in err.message
    assert str(err).startswith(f"{path}#{pointer}: ")


def test_a_file_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    write_action(tmp_path, "[1, 2]", slug="demo", action_id="get_thing")
    with pytest.raises(CatalogueError, match="must hold a JSON object, got array"):
        Catalogue.load(tmp_path)


def test_a_file_outside_a_slug_folder_is_refused_with_the_folder_its_slug_names(
    tmp_path: Path,
) -> None:
    (tmp_path / "post_message.json").write_text(json.dumps(action_doc(slug="slack")))
    with pytest.raises(CatalogueError, match="one folder down") as info:
        Catalogue.load(tmp_path)
    assert info.value.hint == f"move it to {tmp_path / 'slack'}/ (its slug is 'slack')"
    (tmp_path / "post_message.json").write_text("{not json")
    with pytest.raises(CatalogueError, match="one folder down") as info:
        Catalogue.load(tmp_path)
    assert (
        info.value.hint == f"move it to {tmp_path}/<slug>/, the folder named after its app's slug"
    )


def test_an_app_folder_passed_for_the_catalogue_folder_gets_told_to_pass_its_parent(
    tmp_path: Path,
) -> None:
    app = tmp_path / "demo"
    app.mkdir()
    (app / "get_thing.json").write_text(json.dumps(action_doc()))
    with pytest.raises(CatalogueError, match="one folder down") as info:
        Catalogue.load(app)
    assert info.value.hint == f"pass {tmp_path} (the folder above this app folder) instead"


def test_a_missing_folder_is_a_catalogue_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="does not exist"):
        Catalogue.load(tmp_path / "nope")


def test_hidden_and_underscore_entries_are_skipped(tmp_path: Path) -> None:
    write_action(tmp_path, action_doc())
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.json").write_text("not json")
    (tmp_path / "demo" / ".draft.json").write_text("not json")
    assert len(Catalogue.load(tmp_path)) == 1


def test_an_unknown_field_type_loads_as_text_with_one_warning(tmp_path: Path) -> None:
    doc = action_doc()
    doc["parameters"].append({"name": "colour", "type": "color", "required": False})
    doc["parameters"].append({"name": "shade", "type": "color", "required": False})
    path = write_action(tmp_path, doc)
    with pytest.warns(UnknownFieldType) as caught:
        action = Catalogue.load(tmp_path).get("demo", "get_thing")
    assert len(caught) == 1
    assert "'colour' ('color'), 'shade' ('color')" in str(caught[0].message)
    # Located at the catalogue file, at the first unknown type's line: not in the library.
    assert caught[0].filename == str(path)
    lines = path.read_text().splitlines()
    assert '"color"' in lines[caught[0].lineno - 1]
    param = action.parameter_map["colour"]
    assert (param.type, param.kind) == ("color", "text")
    assert action.check({"id": "1", "colour": 12}, strict=True) == []


def test_lint_collects_every_problem_across_files(tmp_path: Path) -> None:
    write_action(tmp_path, "{", slug="demo", action_id="get_a")
    doc = action_doc(action_id="get_b")
    doc.pop("name")
    doc["examples"][0]["params"] = {}
    write_action(tmp_path, doc)
    problems = Catalogue.lint(tmp_path, tmp_path / "missing")
    assert [(Path(p.path or "").name, p.pointer) for p in problems] == [
        ("get_a.json", None),
        ("get_b.json", "/name"),
        ("get_b.json", "/examples/0/params/id"),  # checked despite the problem above
        ("missing", None),
    ]


def test_check_reports_missing_required_parameters_in_schema_order() -> None:
    action = Catalogue.builtin().get("hubspot", "search_contacts")
    problems = action.check({"operator": "EQ"})
    assert [(p.kind, p.field, p.message) for p in problems] == [
        ("missing_required", "propertyName", "Required parameter 'propertyName' is missing"),
        ("missing_required", "value", "Required parameter 'value' is missing"),
    ]


def test_check_accepts_extra_keys_unless_strict() -> None:
    action = Catalogue.builtin().get("hubspot", "get_contact")
    assert action.check({"limit": "1", "extra": True}) == []
    (problem,) = action.check({"limit": "1", "extra": True}, strict=True)
    assert problem.kind == "unknown_key"
    assert problem.message.startswith("Unknown parameter 'extra' (hubspot/get_contact accepts: ")


def test_strict_check_takes_a_list_of_strings_for_a_multiple_text_field(tmp_path: Path) -> None:
    doc = action_doc(
        parameters=[{"name": "tags", "type": "text", "multiple": True, "required": True}],
        examples=[],
    )
    write_action(tmp_path, doc)
    action = Catalogue.load(tmp_path).get("demo", "get_thing")
    assert action.check({"tags": ["a", "b"]}, strict=True) == []
    assert action.check({"tags": "a"}, strict=True) == []
    (problem,) = action.check({"tags": ["a", 2]}, strict=True)
    assert problem.message == "Parameter 'tags' must be text (a string), got array"


def test_strict_check_leaves_a_field_of_an_unknown_type_unchecked(tmp_path: Path) -> None:
    doc = action_doc(parameters=[{"name": "f", "type": "some_future_type"}], examples=[])
    write_action(tmp_path, doc)
    with pytest.warns(UnknownFieldType):
        action = Catalogue.load(tmp_path).get("demo", "get_thing")
    value: object
    for value in ("x", 1, None, {}):
        assert action.check({"f": value}, strict=True) == []


def test_check_refuses_a_body_that_is_not_an_object() -> None:
    action = Catalogue.builtin().get("hubspot", "get_contact")
    (problem,) = action.check(["limit"])
    assert problem.kind == "not_an_object"
    assert problem.message == "Request body must be a JSON object, got array"


@pytest.mark.parametrize(
    ("ptype", "good", "bad"),
    [
        ("number", ["1", "-2.5", "1e3", 3, 0.5], ["abc", "", True, None, {}, float("nan")]),
        ("email", ["ada@example.com"], ["ada", "ada@", "@example.com", 5]),
        ("url", ["https://example.com/x", "http://a.b"], ["example.com", "ftp://a.b", 1]),
        ("json", [{}, [], '{"a": 1}', "[1]"], ["nope", 1, '"just a string"', None]),
        ("text", ["x", ""], [1, None, True, {}, ["x"]]),
        ("textarea", ["many\nlines"], [2.5, []]),
        ("password", ["s3cret"], [0]),
    ],
)
def test_strict_check_validates_typed_fields(
    tmp_path: Path, ptype: str, good: list[Any], bad: list[Any]
) -> None:
    doc = action_doc(parameters=[{"name": "f", "type": ptype, "required": True}], examples=[])
    write_action(tmp_path, doc)
    action = Catalogue.load(tmp_path).get("demo", "get_thing")
    for value in good:
        assert action.check({"f": value}, strict=True) == [], value
    for value in bad:
        (problem,) = action.check({"f": value}, strict=True)
        assert (problem.kind, problem.field) == ("wrong_type", "f"), value
        assert problem.message.startswith("Parameter 'f' must be")
        assert action.check({"f": value}) == []


def test_json_schema_is_derived_from_the_flat_field_list() -> None:
    schema = Catalogue.builtin().get("hubspot", "create_contact").json_schema()
    assert schema["type"] == "object"
    assert schema["required"] == ["email"]
    assert schema["additionalProperties"] is True
    assert schema["properties"]["email"]["type"] == "string"
    assert schema["properties"]["associations"]["type"] == ["object", "array", "string"]
    assert set(schema["properties"]) == {
        p.name for p in Catalogue.builtin().get("hubspot", "create_contact").parameters
    }


def test_schema_and_summary_are_what_refold_serves(tmp_path: Path) -> None:
    doc = action_doc()
    doc["parameters"][0]["placeholder"] = "e.g. 51"
    path = write_action(tmp_path, doc)
    action = load_action(path)
    assert action.schema() == doc["parameters"]
    assert action.summary() == {
        "name": "Get Thing",
        "action_id": "get_thing",
        "description": "A test action.",
        "tag": "v2",
    }


def test_examples_are_found_by_canonical_params() -> None:
    action = Catalogue.builtin().get("hubspot", "get_contact")
    first = action.examples[0]
    assert action.examples_by_params[canonical_json({"limit": "1"})] is first


def test_suggest_app_names_close_slugs_and_nothing_for_a_stranger() -> None:
    catalogue = Catalogue.builtin()
    assert catalogue.suggest_app("hubspt") == ["hubspot"]
    assert catalogue.suggest_app("zzzz") == []
