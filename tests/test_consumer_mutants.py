"""The consumer contract's rules that mutation testing found untested (issue 21): merging shapes
(open objects, keys one side saw, items one side has), values read whole (an empty object, an
empty array, a type beside the array), state-block replies (open records, their wording),
findings named by their action, and the path syntax's escapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from refold_contract import Catalogue
from refold_contract.consumer import ConsumerContract, merge, verify, verify_reply
from refold_contract.consumer._paths import (
    ITEM,
    MEMBER,
    PathSyntaxError,
    Wildcard,
    child_path,
    format_path,
    parse_path,
)
from refold_contract.consumer.model import (
    ActionContract,
    PathRead,
    StatusContract,
    close_reads,
    merge_shapes,
)

from .helpers import action_doc, write_action

KEY = "demo/get_thing"
SUCCESS_HAS = "the example replies with node_status 'Success' have"


def read(mode: str = "value", *types: str) -> PathRead:
    return PathRead(mode, frozenset(types))  # type: ignore[arg-type]


def entry(
    reads: dict[str, PathRead] | None = None,
    *,
    status: str = "Success",
    whole: dict[str, Any] | None = None,
    opaque: bool = False,
    more: dict[str, StatusContract] | None = None,
    slug: str = "demo",
    action_id: str = "get_thing",
    sent: frozenset[str] = frozenset({"id"}),
    always: frozenset[str] | None = frozenset({"id"}),
) -> ActionContract:
    replies = {status: StatusContract(close_reads(reads or {}), whole or {}, opaque)}
    replies |= more or {}
    return ActionContract(slug, action_id, sent, always, replies)


def contract(*entries: ActionContract) -> ConsumerContract:
    return ConsumerContract({e.key: e for e in entries})


def catalogue(folder: Path, *data: Any, **overrides: Any) -> Catalogue:
    examples = [
        {
            "params": {"id": "1"},
            "response": {"node_status": "Success", "http_status": 200, "data": d},
            "source": "test",
        }
        for d in data
    ]
    write_action(folder, action_doc(examples=examples, access="read", **overrides))
    return Catalogue.load(folder)


def found(findings: list[Any]) -> list[tuple[str, str | None, bool]]:
    return [(f.kind, f.path, f.breaking) for f in findings]


def actions(findings: list[Any]) -> set[str]:
    return {f.action for f in findings}


OBJECT = {"types": ["object"]}
REQUIRED_ID = {"id": {"types": ["string"], "required": True}}


# ---------------------------------------------------------------------- merging shapes


def test_a_key_only_one_shape_has_stays_required_when_only_that_shape_saw_objects() -> None:
    objects: dict[str, Any] = {"types": ["object"], "keys": REQUIRED_ID}
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (objects, {"types": ["null"]}),
        ({"types": ["null"]}, objects),
    ]
    for a, b in pairs:
        merged = merge_shapes(a, b)
        assert merged == {
            "types": ["null", "object"],
            "keys": {"id": {"types": ["string"], "required": True}},
        }
    # both saw objects, one without the key: no longer required
    other = merge_shapes(objects, {"types": ["object"]})
    assert other["keys"]["id"]["required"] is False


def test_keys_and_items_count_only_where_a_shape_saw_objects_and_arrays() -> None:
    # A shape whose types say string carries no members or elements, whatever else it holds.
    stray: dict[str, Any] = {
        "types": ["string"],
        "keys": REQUIRED_ID,
        "items": {"types": ["integer"]},
    }
    both: dict[str, Any] = {"types": ["object", "array"]}
    for a, b in [(stray, both), (both, stray)]:
        assert merge_shapes(a, b) == {"types": ["array", "object", "string"]}


@pytest.mark.parametrize("first", [True, False])
def test_an_open_object_stays_open_after_merging(first: bool) -> None:
    opened = {"types": ["object"], "open": True}
    closed = {"types": ["object"], "keys": REQUIRED_ID}
    merged = merge_shapes(opened, closed) if first else merge_shapes(closed, opened)
    assert merged["open"] is True
    assert "open" not in merge_shapes(closed, closed)


@pytest.mark.parametrize("first", [True, False])
def test_the_items_of_one_side_are_kept(first: bool) -> None:
    listed = {"types": ["array"], "items": {"types": ["string"]}}
    empty = {"types": ["array"]}
    merged = merge_shapes(listed, empty) if first else merge_shapes(empty, listed)
    assert merged == {"types": ["array"], "items": {"types": ["string"]}}


def test_merging_contracts_keeps_opaque_when_either_is() -> None:
    opaque = contract(entry({}, opaque=True))
    plain = contract(entry({"$.data.id": read("value", "string")}))
    for both in (merge(opaque, plain), merge(plain, opaque)):
        assert both.actions[KEY].replies["Success"].opaque is True
    assert merge(plain, plain).actions[KEY].replies["Success"].opaque is False


def test_a_prefix_of_presence_reads_is_a_presence_read() -> None:
    closed = close_reads({"$.data.id": read("presence")})
    assert closed["$.data"] == read("presence", "object")


def test_closing_reads_whatever_order_the_root_comes_in() -> None:
    reads = {"$.data.results[*].id": read("value", "string"), "$": read("value", "object")}
    closed = close_reads(reads)
    assert closed["$.data.results[*]"] == read("value", "object")
    assert closed["$.data.results"] == read("value", "array")
    assert closed["$.data"] == read("value", "object")


# ---------------------------------------------------------------------- findings


def test_close_names_are_found_within_the_app_and_listed_all(tmp_path: Path) -> None:
    write_action(tmp_path, action_doc(slug="quickbookspayroll", action_id="get_thing"))
    write_action(tmp_path, action_doc(slug="quickbookspayroll", action_id="get_things"))
    cat = Catalogue.load(tmp_path)
    typo = entry(slug="quickbookspayroll", action_id="get_thingz")
    (finding,) = verify(contract(typo), cat)
    assert finding.detail == (
        "your code calls it; not in the catalogue; close names: "
        "quickbookspayroll/get_thing, quickbookspayroll/get_things"
    )


def test_a_required_parameter_finding_names_its_action(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"id": "1"})
    never = entry({"$.data.id": read("value", "string")}, sent=frozenset(), always=frozenset())
    (finding,) = verify(contract(never), cat)
    assert (finding.action, finding.kind) == (KEY, "parameter_required")


def test_every_status_is_checked_and_a_finding_without_a_path_comes_first(
    tmp_path: Path,
) -> None:
    cat = catalogue(tmp_path, {"name": "x"})
    errored = StatusContract(close_reads({"$.data.code": read("value", "string")}))
    both = entry({"$.data.a": read("optional", "string")}, more={"Errored": errored})
    findings = verify(contract(both), cat)
    assert found(findings) == [
        ("unchecked", None, False),
        ("optional_gone", "$.data.a", False),
    ]
    assert actions(findings) == {KEY}


def test_within_an_action_findings_are_ordered_by_path_before_kind(tmp_path: Path) -> None:
    reads = {
        "$.data.b": read("optional", "string"),
        "$.data.a": read("value", "array"),
        "$.data.a[*]": read("value", "object"),
    }
    # the unchecked read's path sorts first, though its kind sorts after optional_gone
    cat = catalogue(tmp_path, {"a": [], "name": "x"})
    findings = verify(contract(entry(reads)), cat)
    assert found(findings) == [
        ("unchecked", "$.data.a[*]", False),
        ("optional_gone", "$.data.b", False),
    ]


def test_a_presence_read_is_not_judged_by_a_type_even_when_one_is_recorded(
    tmp_path: Path,
) -> None:
    cat = catalogue(tmp_path, {"a": 5})
    reads = {"$.data.a": read("presence", "string"), "$.data.b": read("value", "string")}
    findings = verify(contract(entry(reads)), cat)
    # the presence read is satisfied; the value read after it is still checked
    assert found(findings) == [("path_gone", "$.data.b", True)]


def test_type_findings_name_their_action_and_every_new_type(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"id": 1}, {"id": True}, {"id": "x"})
    (finding,) = verify(contract(entry({"$.data.id": read("value", "string")})), cat)
    assert (finding.action, finding.kind) == (KEY, "type_widened")
    assert finding.detail == (
        f"your code read string; {SUCCESS_HAS} boolean or integer too, which your tests never "
        "served"
    )
    changed = catalogue(tmp_path / "changed", {"id": 1})
    (finding,) = verify(contract(entry({"$.data.id": read("value", "string")})), changed)
    assert (finding.action, finding.kind) == (KEY, "type_changed")


def test_four_unchecked_reads_name_three_and_one_more(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"results": []})
    reads = {f"$.data.results[*].{n}": read("value", "string") for n in ("a", "b", "c")}
    (finding,) = verify(contract(entry(reads)), cat)
    assert finding.action == KEY
    assert finding.detail == (
        f"{SUCCESS_HAS} no elements or members there, so 4 read(s) could not be checked: "
        "$.data.results[*], $.data.results[*].a, $.data.results[*].b and 1 more"
    )


def test_an_opaque_finding_names_its_action_status_and_why() -> None:
    (finding,) = verify_reply(entry({}, opaque=True), {"node_status": "Success", "data": {}})
    assert (finding.action, finding.kind, finding.path) == (KEY, "opaque", "$")
    assert finding.detail == (
        "node_status 'Success': replies were served over HTTP (refold_server), where reads "
        "cannot be seen, so every field of the reply counts"
    )


# ---------------------------------------------------------------------- values read whole


def test_a_whole_value_at_the_root_that_was_not_opaque_was_read_by_the_code(
    tmp_path: Path,
) -> None:
    cat = catalogue(tmp_path, {"name": "x"})
    shape = {"types": ["object"], "keys": {"data": {**OBJECT, "keys": REQUIRED_ID}}}
    (finding,) = verify(contract(entry({}, whole={"$": shape})), cat)
    assert (finding.action, finding.kind, finding.path) == (KEY, "path_gone", "$.data.id")
    assert finding.detail == (
        "inside a value your code read whole; in no example reply with node_status 'Success'"
    )


def test_a_whole_value_gone_names_its_action(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"name": "x"})
    (finding,) = verify(contract(entry({}, whole={"$.data.meta": OBJECT})), cat)
    assert (finding.action, finding.kind) == (KEY, "path_gone")


def test_a_whole_object_of_another_type_now_is_one_finding(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"meta": "text"})
    whole = {"$.data.meta": {**OBJECT, "keys": REQUIRED_ID}}
    assert found(verify(contract(entry({}, whole=whole)), cat)) == [
        ("type_changed", "$.data.meta", True)
    ]


def test_a_whole_value_now_an_empty_object_lacks_its_required_fields(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"meta": {}})
    whole = {"$.data.meta": {**OBJECT, "keys": REQUIRED_ID}}
    assert found(verify(contract(entry({}, whole=whole)), cat)) == [
        ("path_gone", "$.data.meta.id", True)
    ]


def test_a_whole_value_recorded_empty_needs_nothing_inside(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"meta": {"id": "1"}, "tags": ["x"]})
    whole = {"$.data.meta": OBJECT, "$.data.tags": {"types": ["array"]}}
    assert verify(contract(entry({}, whole=whole)), cat) == []


def test_a_whole_array_now_empty_leaves_its_elements_unchecked(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"tags": []})
    whole = {"$.data.tags": {"types": ["array"], "items": {"types": ["string"]}}}
    assert verify(contract(entry({}, whole=whole)), cat) == []


def test_a_whole_array_keeps_the_finding_on_itself_beside_its_elements(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"tags": "x"}, {"tags": [1]})
    whole = {"$.data.tags": {"types": ["array"], "items": {"types": ["string"]}}}
    assert found(verify(contract(entry({}, whole=whole)), cat)) == [
        ("type_changed", "$.data.tags[*]", True),
        ("type_widened", "$.data.tags", False),
    ]


def test_elements_recorded_under_a_value_that_was_no_array_are_not_checked(
    tmp_path: Path,
) -> None:
    cat = catalogue(tmp_path, {"tags": ["x"]})
    whole = {"$.data.tags": {"types": ["string"], "items": {"types": ["integer"]}}}
    assert found(verify(contract(entry({}, whole=whole)), cat)) == [
        ("type_changed", "$.data.tags", True)
    ]


# ---------------------------------------------------------------------- reads that navigate


def test_a_read_below_an_empty_object_is_gone(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"meta": {}})
    (finding,) = verify(contract(entry({"$.data.meta.id": read("value", "string")})), cat)
    assert found([finding]) == [("path_gone", "$.data.meta.id", True)]


# ---------------------------------------------------------------------- state-block replies

# Salesforce's httprequest answers a SOQL query from its state block: each of data.records is
# an open object (a record: the query chooses its fields), with its attributes.type a string.
SOQL = ("salesforce", "httprequest")


def soql(reads: dict[str, PathRead] | None = None, **kw: Any) -> ConsumerContract:
    return contract(
        entry(reads, slug=SOQL[0], action_id=SOQL[1], sent=frozenset(), always=None, **kw)
    )


def test_a_field_of_an_open_record_is_carried_by_the_state_block() -> None:
    reads = {"$.data.records[*].Zzz_Custom__c": read("value", "string")}
    assert verify(soql(reads), Catalogue.builtin()) == []


def test_a_named_field_of_an_open_record_is_still_type_checked() -> None:
    reads = {"$.data.records[*].attributes.type": read("value", "integer")}
    (finding,) = verify(soql(reads), Catalogue.builtin())
    assert found([finding]) == [("type_changed", "$.data.records[*].attributes.type", True)]
    assert finding.detail == (
        "your code read integer; the example and state-block replies with node_status "
        "'Success' have string"
    )


def test_a_path_neither_examples_nor_state_block_carry() -> None:
    (finding,) = verify(soql({"$.data.zzz": read("value", "string")}), Catalogue.builtin())
    assert found([finding]) == [("path_gone", "$.data.zzz", True)]
    assert finding.detail == (
        "read by your code; in no example reply nor state-block reply with node_status 'Success'"
    )


def test_a_whole_record_needs_no_field_an_open_record_does_not_name() -> None:
    whole = {
        "$.data.records[*]": {
            "types": ["object"],
            "keys": {"Zzz_Custom__c": {"types": ["string"], "required": True}},
        }
    }
    assert verify(soql({}, whole=whole), Catalogue.builtin()) == []


# ---------------------------------------------------------------------- one live reply


@pytest.mark.parametrize("status", [["Success"], {"a": 1}])
def test_verify_reply_with_an_unhashable_status(status: Any) -> None:
    (finding,) = verify_reply(entry({}), {"node_status": status})
    assert (finding.action, finding.kind) == (KEY, "status_not_handled")


def test_verify_reply_lists_every_status_handled() -> None:
    both = entry({}, more={"Errored": StatusContract()})
    (finding,) = verify_reply(both, {"node_status": "Pending"})
    assert finding.detail == (
        "the reply has node_status 'Pending'; your tests handled 'Errored', 'Success'"
    )


def test_verify_reply_names_the_action_of_a_missing_element() -> None:
    reads = {"$.data.results[*].id": read("value", "string")}
    reply = {"node_status": "Success", "data": {"results": [{"id": "1"}, {}]}}
    (finding,) = verify_reply(entry(reads), reply)
    assert (finding.action, finding.kind) == (KEY, "path_gone")


# ---------------------------------------------------------------------- the path syntax


def test_a_wildcard_shows_what_it_is() -> None:
    assert repr(Wildcard("[*]")) == "ITEM"
    assert repr(Wildcard(".*")) == "MEMBER"
    assert format_path(parse_path("$.a[*].*")) == "$.a[*].*"


def test_a_member_name_outside_ascii_is_written_as_it_is() -> None:
    assert child_path("$", "é-x") == '$["é-x"]'
    assert parse_path(child_path("$", "é-x")) == ("é-x",)


def test_a_member_name_with_a_lone_surrogate_is_escaped() -> None:
    path = child_path("$", "\ud800-x")
    assert path == '$["\\ud800-x"]'
    assert path.isascii()
    assert parse_path(path) == ("\ud800-x",)


def test_member_names_may_hold_any_identifier_character() -> None:
    assert parse_path("$.aXb.c") == ("aXb", "c")
    assert parse_path("$.*.a[*]") == (MEMBER, "a", ITEM)


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("data.x", "a path starts with '$', not 'd'", 0),
        ("$..a", "'' after '.' is not an identifier: write it as [\"...\"]", 1),
        # .* is a wildcard only before '.', '[' or the end; otherwise a name that is no
        # identifier
        ("$.*X", "'*X' after '.' is not an identifier: write it as [\"...\"]", 1),
        ('$["abc', 'an unterminated or malformed ["..."] name', 1),
        ('$["a"x', 'a ["..."] name is one JSON string, then "]"', 5),
        ("$x", "unexpected 'x': expected '.', '[*]' or '[\"'", 1),
    ],
)
def test_a_malformed_path_says_what_and_where(text: str, message: str, position: int) -> None:
    with pytest.raises(PathSyntaxError) as caught:
        parse_path(text)
    assert str(caught.value) == message
    assert caught.value.position == position
