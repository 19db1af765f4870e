"""verify and verify_reply, one documented rule per test (issue 21): every branch of the
check, the secondary ones included (calls never recorded, a parameter sent in only some calls,
a status with no example, a presence read, a type that only ever was null, an empty array on
the way, a value read whole, an opaque reply)."""

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


def read(mode: str = "value", *types: str) -> PathRead:
    return PathRead(mode, frozenset(types))  # type: ignore[arg-type]


def entry(
    reads: dict[str, PathRead] | None = None,
    *,
    status: str = "Success",
    sent: frozenset[str] = frozenset({"id"}),
    always: frozenset[str] | None = frozenset({"id"}),
    whole: dict[str, Any] | None = None,
    opaque: bool = False,
) -> ActionContract:
    replies = {status: StatusContract(reads or {}, whole or {}, opaque)}
    return ActionContract("demo", "get_thing", sent, always, replies)


def contract(*entries: ActionContract) -> ConsumerContract:
    return ConsumerContract({e.key: e for e in entries})


def catalogue(
    folder: Path,
    *data: Any,
    status: str = "Success",
    params: dict[str, Any] | None = None,
    **overrides: Any,
) -> Catalogue:
    examples = [
        {
            "params": params or {"id": "1"},
            "response": {"node_status": status, "http_status": 200, "data": d},
            "source": "test",
        }
        for d in data
    ]
    write_action(folder, action_doc(examples=examples, access="read", **overrides))
    return Catalogue.load(folder)


def found(findings: list[Any]) -> list[tuple[str, str | None, bool]]:
    return [(f.kind, f.path, f.breaking) for f in findings]


ID_READ = {
    "$": read("value", "object"),
    "$.data": read("value", "object"),
    "$.data.id": read("value", "string"),
}


# ---------------------------------------------------------------------- actions and parameters


def test_an_action_the_catalogue_no_longer_has_is_gone_with_close_names(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"id": "1"})
    close = ActionContract("demo", "get_thingz", frozenset(), None, {})
    far = ActionContract("demo", "qqqqqqqqqqqq", frozenset(), None, {})
    findings = verify(contract(close, far), cat)
    assert found(findings) == [
        ("action_gone", None, True),
        ("action_gone", None, True),
    ]
    by_action = {f.action: f.detail for f in findings}
    assert by_action["demo/get_thingz"] == (
        "your code calls it; not in the catalogue; close names: demo/get_thing"
    )
    assert by_action["demo/qqqqqqqqqqqq"] == "your code calls it; not in the catalogue"


def test_a_parameter_sent_that_the_action_no_longer_lists_is_a_note(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"id": "1"})
    findings = verify(contract(entry(ID_READ, sent=frozenset({"id", "old"}))), cat)
    assert found(findings) == [("parameter_gone", "old", False)]
    assert "Refold passes extra keys through" in findings[0].detail


def test_a_required_parameter_sent_in_only_some_calls_or_never_is_breaking(
    tmp_path: Path,
) -> None:
    parameters = [
        {"name": "id", "label": "Id", "required": True, "type": "text"},
        {"name": "limit", "label": "Limit", "required": True, "type": "number"},
    ]
    cat = catalogue(tmp_path, {"id": "1"}, parameters=parameters, params={"id": "1", "limit": 1})
    some = entry(ID_READ, sent=frozenset({"id", "limit"}), always=frozenset({"id"}))
    findings = verify(contract(some), cat)
    assert found(findings) == [("parameter_required", "limit", True)]
    assert findings[0].detail == (
        "now required; your code sends it in only some calls, and Refold refuses a call "
        "without it (400)"
    )
    never = entry(ID_READ, sent=frozenset({"id"}), always=frozenset({"id"}))
    (finding,) = verify(contract(never), cat)
    assert "your code never sends it" in finding.detail
    always = entry(ID_READ, sent=frozenset({"id", "limit"}), always=frozenset({"id", "limit"}))
    assert verify(contract(always), cat) == []


def test_without_recorded_calls_required_parameters_are_not_judged(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"id": "1"})
    assert verify(contract(entry(ID_READ, sent=frozenset(), always=None)), cat) == []


# ---------------------------------------------------------------------- reads against examples


def test_a_status_no_example_has_leaves_its_reads_unchecked_counting_them(
    tmp_path: Path,
) -> None:
    cat = catalogue(tmp_path, {"id": "1"})
    errored = entry(ID_READ, status="Errored", whole={"$.data": {"types": ["object"]}})
    (finding,) = verify(contract(errored), cat)
    assert found([finding]) == [("unchecked", None, False)]
    # the leaf read ($.data.id) and the whole value: the prefixes are not counted
    assert finding.detail == "no example reply with node_status 'Errored': 2 read(s) not checked"


@pytest.mark.parametrize(
    ("mode", "kind", "breaking", "how"),
    [
        ("value", "path_gone", True, "read by your code"),
        ("optional", "optional_gone", False, "read with .get() by your code"),
        ("presence", "presence_gone", False, "tested with `in` by your code"),
    ],
)
def test_a_path_gone_from_every_example(
    tmp_path: Path, mode: str, kind: str, breaking: bool, how: str
) -> None:
    cat = catalogue(tmp_path, {"name": "x"})
    reads = {
        "$": read("value", "object"),
        "$.data": read("value", "object"),
        "$.data.id": read(mode, "string"),
    }
    (finding,) = verify(contract(entry(reads)), cat)
    assert found([finding]) == [(kind, "$.data.id", breaking)]
    assert finding.detail == f"{how}; in no example reply with node_status 'Success'"


def test_a_path_in_one_example_of_the_status_is_carried(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"name": "x"}, {"id": "1"})
    assert verify(contract(entry(ID_READ)), cat) == []


def test_a_presence_read_is_satisfied_by_any_type(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"id": 5})
    reads = {
        "$": read("value", "object"),
        "$.data": read("value", "object"),
        "$.data.id": read("presence"),
    }
    assert verify(contract(entry(reads)), cat) == []


def test_a_missing_parent_is_reported_once_at_the_parent(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"other": 1})
    reads = {
        "$": read("value", "object"),
        "$.data": read("value", "object"),
        "$.data.meta": read("value", "object"),
        "$.data.meta.id": read("value", "string"),
    }
    assert found(verify(contract(entry(reads)), cat)) == [("path_gone", "$.data.meta", True)]
    scalar = catalogue(tmp_path / "scalar", {"meta": "text"})
    assert found(verify(contract(entry(reads)), scalar)) == [("type_changed", "$.data.meta", True)]


TYPES = [
    # (types read, types in the examples, kind or None)
    (("string",), {"id": "1"}, None),
    (("string",), {"id": 1}, "type_changed"),
    (("string",), [{"id": "1"}, {"id": 1}], "type_widened"),
    (("number",), {"id": 1}, None),  # JSON does not tell 1 from 1.0
    (("integer",), {"id": 1.5}, "type_changed"),
    (("null",), {"id": "1"}, "type_widened"),  # only null was ever served
    (("null", "string"), {"id": 1}, "type_changed"),
    ((), {"id": 1}, None),  # read while absent: no type to compare
]


@pytest.mark.parametrize(("types", "data", "kind"), TYPES)
def test_type_findings_against_examples(
    tmp_path: Path, types: tuple[str, ...], data: Any, kind: str | None
) -> None:
    cat = catalogue(tmp_path, *(data if isinstance(data, list) else [data]))
    reads = {
        "$": read("value", "object"),
        "$.data": read("value", "object"),
        "$.data.id": read("value", *types),
    }
    findings = verify(contract(entry(reads)), cat)
    assert [f.kind for f in findings] == ([kind] if kind else [])


def test_type_finding_details(tmp_path: Path) -> None:
    def detail(types: tuple[str, ...], *data: Any) -> str:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        reads = {
            "$": read("value", "object"),
            "$.data": read("value", "object"),
            "$.data.id": read("value", *types),
        }
        (finding,) = verify(contract(entry(reads)), catalogue(folder, *data))
        return finding.detail

    has = "the example replies with node_status 'Success' have"
    assert detail(("string",), {"id": 1}) == f"your code read string; {has} integer"
    assert detail(("null",), {"id": True}) == (
        f"your code read only null; {has} boolean, which your tests never served"
    )
    assert detail(("boolean", "string"), {"id": 1}, {"id": "x"}) == (
        f"your code read boolean or string; {has} integer too, which your tests never served"
    )


def test_empty_arrays_on_the_way_leave_reads_unchecked_naming_three(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"results": []})
    reads = {
        "$": read("value", "object"),
        "$.data": read("value", "object"),
        "$.data.results": read("value", "array"),
        "$.data.results[*]": read("value", "object"),
    }
    names = ["a", "b", "c", "d"]
    reads |= {f"$.data.results[*].{n}": read("value", "string") for n in names}
    (finding,) = verify(contract(entry(reads)), cat)
    assert found([finding]) == [("unchecked", "$.data.results[*]", False)]
    assert finding.detail == (
        "the example replies with node_status 'Success' have no elements or members there, so "
        "5 read(s) could not be checked: $.data.results[*], $.data.results[*].a, "
        "$.data.results[*].b and 2 more"
    )


def test_three_unchecked_reads_are_all_named(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"results": []})
    reads = {
        "$": read("value", "object"),
        "$.data": read("value", "object"),
        "$.data.results": read("value", "array"),
        "$.data.results[*]": read("value", "object"),
        "$.data.results[*].a": read("value", "string"),
        "$.data.results[*].b": read("value", "string"),
    }
    (finding,) = verify(contract(entry(reads)), cat)
    assert finding.detail.endswith(
        "3 read(s) could not be checked: $.data.results[*], $.data.results[*].a, "
        "$.data.results[*].b"
    )


def test_any_member_of_an_object(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"labels": {"a": {"n": 1}, "b": {"n": 2}}})
    reads = {
        "$": read("value", "object"),
        "$.data": read("value", "object"),
        "$.data.labels": read("value", "object"),
        "$.data.labels.*": read("value", "object"),
        "$.data.labels.*.n": read("value", "integer"),
    }
    assert verify(contract(entry(reads)), cat) == []
    empty = catalogue(tmp_path / "empty", {"labels": {}})
    assert [f.kind for f in verify(contract(entry(reads)), empty)] == ["unchecked"]


def test_a_wildcard_over_the_wrong_type_is_reported_at_the_parent(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"results": {"a": 1}})
    reads = {
        "$": read("value", "object"),
        "$.data": read("value", "object"),
        "$.data.results": read("value", "array"),
        "$.data.results[*]": read("value", "object"),
    }
    assert found(verify(contract(entry(reads)), cat)) == [("type_changed", "$.data.results", True)]


# ---------------------------------------------------------------------- values read whole


def test_a_value_read_whole_must_keep_its_required_fields(tmp_path: Path) -> None:
    shape = {
        "types": ["object"],
        "keys": {
            "id": {"types": ["string"], "required": True},
            "note": {"types": ["string"], "required": False},
            "tags": {"types": ["array"], "required": True, "items": {"types": ["string"]}},
        },
    }
    reads = {"$": read("value", "object"), "$.data": read("value", "object")}
    whole = {"$.data": shape}
    kept = catalogue(tmp_path / "kept", {"id": "1", "tags": ["x"]})
    assert verify(contract(entry(reads, whole=whole)), kept) == []
    lost = catalogue(tmp_path / "lost", {"tags": [1]})
    findings = verify(contract(entry(reads, whole=whole)), lost)
    assert found(findings) == [
        ("path_gone", "$.data.id", True),
        ("type_changed", "$.data.tags[*]", True),
    ]
    assert findings[0].detail == (
        "inside a value your code read whole; in no example reply with node_status 'Success'"
    )


def test_a_value_read_whole_that_is_gone_or_empty(tmp_path: Path) -> None:
    reads = {"$": read("value", "object"), "$.data": read("value", "object")}
    whole = {"$.data.meta": {"types": ["object"], "keys": {}}}
    gone = catalogue(tmp_path / "gone", {"id": "1"})
    (finding,) = verify(contract(entry(reads, whole=whole)), gone)
    assert found([finding]) == [("path_gone", "$.data.meta", True)]
    assert finding.detail.startswith("read as a whole value by your code; ")
    whole_items = {"$.data.results[*]": {"types": ["object"], "keys": {}}}
    empty = catalogue(tmp_path / "empty", {"results": []})
    (finding,) = verify(contract(entry(reads, whole=whole_items)), empty)
    assert found([finding]) == [("unchecked", "$.data.results[*]", False)]


def test_an_opaque_reply_counts_every_field_served(tmp_path: Path) -> None:
    shape = {
        "types": ["object"],
        "keys": {
            "node_status": {"types": ["string"], "required": True},
            "data": {
                "types": ["object"],
                "required": True,
                "keys": {"id": {"types": ["string"], "required": True}},
            },
        },
    }
    gone = catalogue(tmp_path, {"name": "x"})
    findings = verify(contract(entry({}, whole={"$": shape}, opaque=True)), gone)
    assert found(findings) == [
        ("path_gone", "$.data.id", True),
        ("opaque", "$", False),
    ]
    assert findings[0].detail == (
        "in every reply your tests were served; in no example reply with node_status 'Success'"
    )
    assert findings[1].detail.startswith("node_status 'Success': replies were served over HTTP")


# ---------------------------------------------------------------------- one live reply


def test_verify_reply_picks_the_reads_by_the_replys_status() -> None:
    action = entry(ID_READ)
    assert verify_reply(action, {"node_status": "Success", "data": {"id": "1"}}) == []
    (finding,) = verify_reply(action, {"node_status": "Errored", "data": {}})
    assert found([finding]) == [("status_not_handled", "$.node_status", False)]
    assert finding.detail == "the reply has node_status 'Errored'; your tests handled 'Success'"


@pytest.mark.parametrize("reply", [{"data": {}}, {"node_status": 1}, ["not", "an", "object"]])
def test_verify_reply_without_a_status_string(reply: Any) -> None:
    (finding,) = verify_reply(entry(ID_READ), reply)
    assert finding.kind == "status_not_handled"


def test_verify_reply_names_none_when_no_status_was_handled() -> None:
    nothing = ActionContract("demo", "get_thing", frozenset(), None, {})
    (finding,) = verify_reply(nothing, {"node_status": "Success"})
    assert finding.detail == "the reply has node_status 'Success'; your tests handled none"


def test_verify_reply_is_strict_about_types_and_missing_elements() -> None:
    reads = {
        "$": read("value", "object"),
        "$.data": read("value", "object"),
        "$.data.results": read("value", "array"),
        "$.data.results[*]": read("value", "object"),
        "$.data.results[*].id": read("value", "string"),
        "$.data.results[*].name": read("optional", "string"),
    }
    action = entry(reads)
    mixed = {
        "node_status": "Success",
        "data": {"results": [{"id": "1", "name": "a"}, {"id": 2, "name": "b"}]},
    }
    (finding,) = verify_reply(action, mixed)
    assert found([finding]) == [("type_changed", "$.data.results[*].id", True)]
    assert finding.detail == "your code read string; the reply has integer"
    partial = {
        "node_status": "Success",
        "data": {"results": [{"id": "1", "name": "a"}, {"name": "b"}]},
    }
    (finding,) = verify_reply(action, partial)
    assert found([finding]) == [("path_gone", "$.data.results[*].id", True)]
    assert finding.detail == (
        "read by your code; missing from some of the objects there in the reply"
    )
    no_names = {"node_status": "Success", "data": {"results": [{"id": "1"}]}}
    assert found(verify_reply(action, no_names)) == [
        ("optional_gone", "$.data.results[*].name", False)
    ]


def test_findings_come_breaking_first_then_by_action_and_path(tmp_path: Path) -> None:
    cat = catalogue(tmp_path, {"name": "x"})
    reads = {
        "$": read("value", "object"),
        "$.data": read("value", "object"),
        "$.data.a": read("optional", "string"),
        "$.data.b": read("value", "string"),
        "$.data.c": read("optional", "string"),
    }
    findings = verify(contract(entry(reads, sent=frozenset({"id", "zz"}))), cat)
    assert [(f.kind, f.path) for f in findings] == [
        ("path_gone", "$.data.b"),
        ("optional_gone", "$.data.a"),
        ("optional_gone", "$.data.c"),
        ("parameter_gone", "zz"),
    ]


# ---------------------------------------------------- mutants of verify, merging and paths
# Each test below kills surviving mutants of the consumer group (tools/mutation.sh consumer).

SUCCESS_HAS = "the example replies with node_status 'Success' have"


def m_entry(
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


def m_catalogue(folder: Path, *data: Any, **overrides: Any) -> Catalogue:
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
    opaque = contract(m_entry({}, opaque=True))
    plain = contract(m_entry({"$.data.id": read("value", "string")}))
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
    typo = m_entry(slug="quickbookspayroll", action_id="get_thingz")
    (finding,) = verify(contract(typo), cat)
    assert finding.detail == (
        "your code calls it; not in the catalogue; close names: "
        "quickbookspayroll/get_thing, quickbookspayroll/get_things"
    )


def test_a_required_parameter_finding_names_its_action(tmp_path: Path) -> None:
    cat = m_catalogue(tmp_path, {"id": "1"})
    never = m_entry({"$.data.id": read("value", "string")}, sent=frozenset(), always=frozenset())
    (finding,) = verify(contract(never), cat)
    assert (finding.action, finding.kind) == (KEY, "parameter_required")


def test_every_status_is_checked_and_a_finding_without_a_path_comes_first(
    tmp_path: Path,
) -> None:
    cat = m_catalogue(tmp_path, {"name": "x"})
    errored = StatusContract(close_reads({"$.data.code": read("value", "string")}))
    both = m_entry({"$.data.a": read("optional", "string")}, more={"Errored": errored})
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
    cat = m_catalogue(tmp_path, {"a": [], "name": "x"})
    findings = verify(contract(m_entry(reads)), cat)
    assert found(findings) == [
        ("unchecked", "$.data.a[*]", False),
        ("optional_gone", "$.data.b", False),
    ]


def test_a_presence_read_is_not_judged_by_a_type_even_when_one_is_recorded(
    tmp_path: Path,
) -> None:
    cat = m_catalogue(tmp_path, {"a": 5})
    reads = {"$.data.a": read("presence", "string"), "$.data.b": read("value", "string")}
    findings = verify(contract(m_entry(reads)), cat)
    # the presence read is satisfied; the value read after it is still checked
    assert found(findings) == [("path_gone", "$.data.b", True)]


def test_type_findings_name_their_action_and_every_new_type(tmp_path: Path) -> None:
    cat = m_catalogue(tmp_path, {"id": 1}, {"id": True}, {"id": "x"})
    (finding,) = verify(contract(m_entry({"$.data.id": read("value", "string")})), cat)
    assert (finding.action, finding.kind) == (KEY, "type_widened")
    assert finding.detail == (
        f"your code read string; {SUCCESS_HAS} boolean or integer too, which your tests never "
        "served"
    )
    changed = m_catalogue(tmp_path / "changed", {"id": 1})
    (finding,) = verify(contract(m_entry({"$.data.id": read("value", "string")})), changed)
    assert (finding.action, finding.kind) == (KEY, "type_changed")


def test_four_unchecked_reads_name_three_and_one_more(tmp_path: Path) -> None:
    cat = m_catalogue(tmp_path, {"results": []})
    reads = {f"$.data.results[*].{n}": read("value", "string") for n in ("a", "b", "c")}
    (finding,) = verify(contract(m_entry(reads)), cat)
    assert finding.action == KEY
    assert finding.detail == (
        f"{SUCCESS_HAS} no elements or members there, so 4 read(s) could not be checked: "
        "$.data.results[*], $.data.results[*].a, $.data.results[*].b and 1 more"
    )


def test_an_opaque_finding_names_its_action_status_and_why() -> None:
    (finding,) = verify_reply(m_entry({}, opaque=True), {"node_status": "Success", "data": {}})
    assert (finding.action, finding.kind, finding.path) == (KEY, "opaque", "$")
    assert finding.detail == (
        "node_status 'Success': replies were served over HTTP (refold_server), where reads "
        "cannot be seen, so every field of the reply counts"
    )


# ---------------------------------------------------------------------- values read whole


def test_a_whole_value_at_the_root_that_was_not_opaque_was_read_by_the_code(
    tmp_path: Path,
) -> None:
    cat = m_catalogue(tmp_path, {"name": "x"})
    shape = {"types": ["object"], "keys": {"data": {**OBJECT, "keys": REQUIRED_ID}}}
    (finding,) = verify(contract(m_entry({}, whole={"$": shape})), cat)
    assert (finding.action, finding.kind, finding.path) == (KEY, "path_gone", "$.data.id")
    assert finding.detail == (
        "inside a value your code read whole; in no example reply with node_status 'Success'"
    )


def test_a_whole_value_gone_names_its_action(tmp_path: Path) -> None:
    cat = m_catalogue(tmp_path, {"name": "x"})
    (finding,) = verify(contract(m_entry({}, whole={"$.data.meta": OBJECT})), cat)
    assert (finding.action, finding.kind) == (KEY, "path_gone")


def test_a_whole_object_of_another_type_now_is_one_finding(tmp_path: Path) -> None:
    cat = m_catalogue(tmp_path, {"meta": "text"})
    whole = {"$.data.meta": {**OBJECT, "keys": REQUIRED_ID}}
    assert found(verify(contract(m_entry({}, whole=whole)), cat)) == [
        ("type_changed", "$.data.meta", True)
    ]


def test_a_whole_value_now_an_empty_object_lacks_its_required_fields(tmp_path: Path) -> None:
    cat = m_catalogue(tmp_path, {"meta": {}})
    whole = {"$.data.meta": {**OBJECT, "keys": REQUIRED_ID}}
    assert found(verify(contract(m_entry({}, whole=whole)), cat)) == [
        ("path_gone", "$.data.meta.id", True)
    ]


def test_a_whole_value_recorded_empty_needs_nothing_inside(tmp_path: Path) -> None:
    cat = m_catalogue(tmp_path, {"meta": {"id": "1"}, "tags": ["x"]})
    whole = {"$.data.meta": OBJECT, "$.data.tags": {"types": ["array"]}}
    assert verify(contract(m_entry({}, whole=whole)), cat) == []


def test_a_whole_array_now_empty_leaves_its_elements_unchecked(tmp_path: Path) -> None:
    cat = m_catalogue(tmp_path, {"tags": []})
    whole = {"$.data.tags": {"types": ["array"], "items": {"types": ["string"]}}}
    assert verify(contract(m_entry({}, whole=whole)), cat) == []


def test_a_whole_array_keeps_the_finding_on_itself_beside_its_elements(tmp_path: Path) -> None:
    cat = m_catalogue(tmp_path, {"tags": "x"}, {"tags": [1]})
    whole = {"$.data.tags": {"types": ["array"], "items": {"types": ["string"]}}}
    assert found(verify(contract(m_entry({}, whole=whole)), cat)) == [
        ("type_changed", "$.data.tags[*]", True),
        ("type_widened", "$.data.tags", False),
    ]


def test_elements_recorded_under_a_value_that_was_no_array_are_not_checked(
    tmp_path: Path,
) -> None:
    cat = m_catalogue(tmp_path, {"tags": ["x"]})
    whole = {"$.data.tags": {"types": ["string"], "items": {"types": ["integer"]}}}
    assert found(verify(contract(m_entry({}, whole=whole)), cat)) == [
        ("type_changed", "$.data.tags", True)
    ]


# ---------------------------------------------------------------------- reads that navigate


def test_a_read_below_an_empty_object_is_gone(tmp_path: Path) -> None:
    cat = m_catalogue(tmp_path, {"meta": {}})
    (finding,) = verify(contract(m_entry({"$.data.meta.id": read("value", "string")})), cat)
    assert found([finding]) == [("path_gone", "$.data.meta.id", True)]


# ---------------------------------------------------------------------- state-block replies

# Salesforce's httprequest answers a SOQL query from its state block: each of data.records is
# an open object (a record: the query chooses its fields), with its attributes.type a string.
SOQL = ("salesforce", "httprequest")


def soql(reads: dict[str, PathRead] | None = None, **kw: Any) -> ConsumerContract:
    return contract(
        m_entry(reads, slug=SOQL[0], action_id=SOQL[1], sent=frozenset(), always=None, **kw)
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
    (finding,) = verify_reply(m_entry({}), {"node_status": status})
    assert (finding.action, finding.kind) == (KEY, "status_not_handled")


def test_verify_reply_lists_every_status_handled() -> None:
    both = m_entry({}, more={"Errored": StatusContract()})
    (finding,) = verify_reply(both, {"node_status": "Pending"})
    assert finding.detail == (
        "the reply has node_status 'Pending'; your tests handled 'Errored', 'Success'"
    )


def test_verify_reply_names_the_action_of_a_missing_element() -> None:
    reads = {"$.data.results[*].id": read("value", "string")}
    reply = {"node_status": "Success", "data": {"results": [{"id": "1"}, {}]}}
    (finding,) = verify_reply(m_entry(reads), reply)
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
