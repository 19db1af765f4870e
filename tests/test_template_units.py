"""Reply templates meeting every kind of value (issue 21): a falsy value (0, False, "", [], {},
None) is a value and is kept, in its own JSON type or written into text; only a placeholder with
nothing to stand for (MISSING) removes what holds it."""

from __future__ import annotations

from typing import Any

import pytest

from refold_contract.catalogue.template import (
    MISSING,
    Context,
    Placeholder,
    at,
    compile_template,
    exact_placeholder,
    find,
    json_copy,
    placeholders,
    unify,
)

FALSY: list[Any] = [0, 0.0, False, "", [], {}, None]


def render(template: Any, **values: Any) -> Any:
    return compile_template(template)(Context(**values))


@pytest.mark.parametrize("value", FALSY)
def test_an_exact_placeholder_keeps_a_falsy_value_in_its_own_type(value: Any) -> None:
    got = render({"v": "{record/f}"}, record={"f": value})
    assert got == {"v": value}
    assert type(got["v"]) is type(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "n=0"),
        (0.0, "n=0.0"),
        (False, "n=false"),
        (True, "n=true"),
        ("", "n="),
        (None, "n=null"),
    ],
)
def test_a_falsy_value_inside_text_is_written_as_json_would(value: Any, text: str) -> None:
    assert render({"v": "n={record/f}"}, record={"f": value}) == {"v": text}


@pytest.mark.parametrize("value", FALSY)
def test_a_falsy_value_in_an_array_is_an_element(value: Any) -> None:
    assert render(["{record/f}", "x"], record={"f": value}) == [value, "x"]


def test_missing_is_falsy_and_says_what_it_is() -> None:
    assert not MISSING
    assert repr(MISSING) == "MISSING"


def test_a_missing_value_removes_its_key_its_element_and_its_text() -> None:
    assert render({"v": "{record/f}", "w": 1}, record={}) == {"w": 1}
    assert render(["{record/f}", "x"], record={}) == ["x"]
    assert render({"v": "n={record/f}", "w": 1}, record={}) == {"w": 1}
    assert render({"v": "{record/f}"}, record={}) is MISSING  # an object left empty goes too
    assert render({"a": {"b": "{paging/next}"}, "c": 0}, paging={}) == {"c": 0}
    assert render({"a": {"b": "{paging/next}"}}, paging={"next": 0}) == {"a": {"b": 0}}


def test_a_falsy_namespace_is_a_value_a_missing_one_is_not() -> None:
    assert render({"o": "{object}"}, object="") == {"o": ""}
    assert render({"o": "{object}"}, object=0) == {"o": 0}
    assert render({"o": "{object}"}) is MISSING
    assert render("{record/a/b}", record={"a": MISSING}) is MISSING
    assert render("{record/a/b}", record={"a": None}) is MISSING  # nothing below null
    assert render("{record/a/b}", record={"a": {"b": False}}) is False


def test_a_path_steps_into_lists_by_index_within_their_length() -> None:
    record = {"tags": ["x", "y"]}
    assert render("{record/tags/0}", record=record) == "x"
    assert render("{record/tags/1}", record=record) == "y"
    assert render("{record/tags/2}", record=record) is MISSING  # the length: past the end
    assert render("{record/tags/-1}", record=record) is MISSING
    assert render("{record/tags/first}", record=record) is MISSING
    assert render("{record/tags/0/x}", record=record) is MISSING  # nothing below text


def test_an_empty_object_template_is_an_empty_object_and_an_empty_array_an_empty_array() -> None:
    assert render({}) == {}
    assert render([]) == []
    assert render({"a": {}}) == {"a": {}}
    assert render({"a": []}) == {"a": []}
    assert render(["{record/f}"], record={}) == []


def test_stored_values_are_copied_fresh_ones_are_not() -> None:
    tags = ["x"]
    record = {"tags": tags, "meta": {"a": 1}}
    out = render({"t": "{record/tags}", "m": "{record/meta}"}, record=record)
    out["t"].append("y")
    out["m"]["b"] = 2
    assert record == {"tags": ["x"], "meta": {"a": 1}}
    items = [{"id": 1}]
    assert render({"r": "{items}"}, items=items)["r"] is items  # built fresh for each reply


def test_spread_merges_an_objects_keys_and_ignores_anything_else() -> None:
    assert render({"...": "{record}", "id": 1}, record={"a": 0, "b": False}) == {
        "a": 0,
        "b": False,
        "id": 1,
    }
    assert render({"...": "{record}", "id": 1}, record="text") == {"id": 1}
    assert render({"...": "{record}"}, record={}) is MISSING
    assert render({"...": "{record}"}, record={"a": None}) == {"a": None}


def test_braces() -> None:
    assert render("{{literal}}") == "{literal}"
    assert render("{{{record/a}}}", record={"a": 1}) == "{1}"
    assert render("a}b{c") == "a}b{c"
    assert render("{not a placeholder}") == "{not a placeholder}"
    assert render("plain") == "plain"
    assert render("}}") == "}"
    assert render("a{{b") == "a{b"  # an opening pair alone is still a literal brace
    assert render(5) == 5
    assert render(None) is None
    assert render(False) is False


def test_placeholders_lists_each_with_its_pointer() -> None:
    template = {"a": ["{record/x}", "n={paging/limit}&m={params/y/z}"], "b~/c": "{id}", "d": 3}
    assert list(placeholders(template)) == [
        ("/a/0", ("record", ("x",))),
        ("/a/1", ("paging", ("limit",))),
        ("/a/1", ("params", ("y", "z"))),
        ("/b~0~1c", ("id", ())),
    ]
    assert list(placeholders("{{record/x}}")) == []
    assert list(placeholders("no braces")) == []
    ph = next(iter(placeholders("{record/email}")))[1]
    assert isinstance(ph, Placeholder)
    assert (ph.namespace, ph.path) == ("record", ("email",))
    assert next(iter(placeholders("{record/}")))[1] == ("record", ("",))


def test_exact_placeholder_find_and_at() -> None:
    assert exact_placeholder("{items}") == ("items", ())
    assert exact_placeholder("{items} ") is None
    assert exact_placeholder("{a}{b}") is None
    assert exact_placeholder("{{items}}") is None
    assert exact_placeholder(["{items}"]) is None
    assert find({"results": "{items}"}, "items") == ("results",)
    assert find({"a": {"b": "{items}"}}, "items") == ("a", "b")
    assert find("{items}", "items") == ()
    assert find({"...": "{items}"}, "items") is None
    assert find({"...": "{items}", "r": "{items}"}, "items") == ("r",)  # past a spread
    assert find({"r": "{items/0}"}, "items") is None
    assert find({"r": "{item}"}, "items") is None
    assert find(["{items}"], "items") is None
    assert at({"a": {"b": 0}}, ("a", "b")) == 0
    assert at({"a": {"b": 0}}, ("a", "c")) is MISSING
    assert at({"a": 1}, ("a", "b")) is MISSING
    assert at({"a": None}, ()) == {"a": None}


def test_json_copy_rebuilds_objects_and_arrays() -> None:
    a: dict[str, Any] = {"tags": ["x", {"y": [1]}], "n": 0}
    b = json_copy(a)
    assert b == a
    assert b["tags"] is not a["tags"]
    assert b["tags"][1] is not a["tags"][1]
    assert b["tags"][1]["y"] is not a["tags"][1]["y"]
    assert json_copy([[]])[0] is not json_copy([[]])[0]
    assert json_copy(0) == 0


def test_unify_reads_falsy_fields_back() -> None:
    out: dict[str, Any] = {}
    unify(
        {"id": "{record/id}", "properties": "{selected}", "n": "{record/n}"},
        {"id": 0, "properties": {"flag": False, "empty": ""}, "n": None},
        out,
    )
    assert out == {"id": 0, "flag": False, "empty": "", "n": None}


def test_unify_keeps_the_first_value_and_reads_spreads_and_nothing_else() -> None:
    out: dict[str, Any] = {"id": "kept"}
    unify(
        {"id": "{record/id}", "...": "{record}", "text": "x={record/y}", "deep": "{record/a/b}"},
        {"id": "other", "extra": [1], "text": "x=1", "deep": 5},
        out,
    )
    assert out == {"id": "kept", "extra": [1]}
    tags = ["x"]
    fields: dict[str, Any] = {}
    unify("{record/tags}", tags, fields)
    assert fields["tags"] == tags
    assert fields["tags"] is not tags
    nothing: dict[str, Any] = {}
    unify({"a": "{record/a}"}, ["not", "an", "object"], nothing)
    unify("{selected}", "text", nothing)
    unify("{item}", {"a": 1}, nothing)
    unify({"a": "{record/a}"}, {"b": 1}, nothing)
    unify({"a": "{record/a}"}, "a", nothing)  # an object template over text: nothing
    unify("constant", {"a": 1}, nothing)
    assert nothing == {}
