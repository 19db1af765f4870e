"""Consumer contracts: read tracking, the contract file, merging and verifying."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import pickle
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refold_contract import Catalogue, RefoldError
from refold_contract.catalogue import Action, Example, Parameter
from refold_contract.consumer import (
    ActionContract,
    ConsumerContract,
    ContractFileError,
    PathRead,
    ReadRecorder,
    StatusContract,
    TrackedDict,
    TrackedList,
    TrackedResponse,
    finding_rows,
    findings_json,
    mark_whole,
    merge,
    merge_command,
    track_response,
    tracked,
    untracked,
    verify,
    verify_command,
    verify_live,
    verify_reply,
)
from refold_contract.consumer._paths import child_path, format_path, parse_path
from refold_contract.consumer.model import Mode, merge_shapes

from .helpers import write_action

BUILTIN = Catalogue.builtin()
GET_CONTACT = BUILTIN.get("hubspot", "get_contact")
SEARCH = BUILTIN.get("hubspot", "search_contacts")


def reply_of(action: Action, index: int = 0) -> dict[str, Any]:
    """A fresh parsed copy of a catalogue example reply, as ``response.json()`` gives it."""
    reply: dict[str, Any] = json.loads(json.dumps(dict(action.examples[index].response)))
    return reply


def contact_emails(body: Mapping[str, Any]) -> tuple[list[tuple[str, str, str | None]], Any]:
    """Downstream code: what a consumer's ``list_contacts()`` might do with the reply."""
    if body["node_status"] != "Success":
        return [], None
    rows = [
        (c["id"], c["properties"]["email"], c["properties"].get("firstname"))
        for c in body["data"]["results"]
    ]
    cursor = body["data"].get("paging", {}).get("next", {}).get("after")
    return rows, cursor


def reads_of(recorder: ReadRecorder, key: str, status: str = "Success") -> dict[str, PathRead]:
    return dict(recorder.contract().actions[key].replies[status].leaf_reads())


def record(action: Action, code: Any, *, index: int = 0) -> tuple[ReadRecorder, Any]:
    recorder = ReadRecorder()
    body = reply_of(action, index)
    recorder.record_call(action.slug, action.action_id, action.examples[index].params)
    tracked_body = recorder.track_reply(action.slug, action.action_id, body)
    return recorder, code(tracked_body)


# Paths


@pytest.mark.parametrize(
    "path",
    ["$", "$.data", '$.data["first name"]', "$.a[*].b.*", '$["*"]', '$[""]', '$.x["a.b"][*]'],
)
def test_a_path_parses_and_formats_back_to_itself(path: str) -> None:
    assert format_path(parse_path(path)) == path


@pytest.mark.parametrize("path", ["data", "$.", "$.a b", '$["x"', "$[0]", "$.a[", '$["x"x]'])
def test_a_malformed_path_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_path(path)


def test_a_member_named_like_a_wildcard_is_quoted() -> None:
    assert child_path("$", "*") == '$["*"]'
    assert child_path("$", "[*]") == '$["[*]"]'
    assert parse_path('$["*"]') == ("*",)


# Tracking: what is read


def test_downstream_code_reading_a_few_fields_of_get_contact_yields_exactly_those_paths() -> None:
    recorder, (rows, cursor) = record(GET_CONTACT, contact_emails, index=1)
    assert rows == [
        ("1510745", "jordan.reyes@example.com", "Jordan"),
        ("1510768", "priya.natarajan@example.com", "Priya"),
    ]
    assert cursor == "1510769"
    assert reads_of(recorder, "hubspot/get_contact") == {
        "$.node_status": PathRead("value", frozenset({"string"})),
        "$.data.results[*].id": PathRead("value", frozenset({"string"})),
        "$.data.results[*].properties.email": PathRead("value", frozenset({"string"})),
        "$.data.results[*].properties.firstname": PathRead("optional", frozenset({"string"})),
        "$.data.paging.next.after": PathRead("optional", frozenset({"string"})),
    }


def test_downstream_code_reading_search_contacts_yields_exactly_those_paths() -> None:
    def first_match(body: dict[str, Any]) -> tuple[int, str]:
        data = body["data"]
        return data["total"], data["results"][0]["properties"]["lastname"]

    recorder, found = record(SEARCH, first_match)
    assert found == (3, "Reyes")
    assert reads_of(recorder, "hubspot/search_contacts") == {
        "$.data.total": PathRead("value", frozenset({"integer"})),
        "$.data.results[*].properties.lastname": PathRead("value", frozenset({"string"})),
    }
    contract = recorder.contract().actions["hubspot/search_contacts"]
    assert contract.always_sent == frozenset({"propertyName", "operator", "value", "limit"})


def test_the_closed_reads_hold_every_prefix_of_a_read_path() -> None:
    recorder, _ = record(GET_CONTACT, contact_emails)
    reads = recorder.contract().actions["hubspot/get_contact"].replies["Success"].reads
    assert reads["$.data"] == PathRead("value", frozenset({"object"}))
    assert reads["$.data.results"] == PathRead("value", frozenset({"array"}))
    assert reads["$.data.results[*]"] == PathRead("value", frozenset({"object"}))


def test_action_result_data_is_tracked_under_dollar_data() -> None:
    recorder = ReadRecorder()
    data = recorder.track_reply(
        "hubspot",
        "get_contact",
        reply_of(GET_CONTACT)["data"],
        root="$.data",
        node_status="Success",
    )
    assert data["results"][0]["archived"] is False
    assert reads_of(recorder, "hubspot/get_contact") == {
        "$.data.results[*].archived": PathRead("value", frozenset({"boolean"})),
    }


def test_membership_tests_and_missing_keys_are_presence_reads() -> None:
    recorder = ReadRecorder()
    body = recorder.track_reply("demo", "get_thing", {"node_status": "Success", "data": {"a": 1}})
    data = body["data"]
    assert "a" in data
    assert "phone" not in data
    with pytest.raises(KeyError):
        data["fax"]
    assert data.get("nickname") is None
    assert reads_of(recorder, "demo/get_thing") == {
        "$.data": PathRead("value", frozenset({"object"})),
        "$.data.a": PathRead("presence", frozenset({"integer"})),
        "$.data.phone": PathRead("presence"),
        "$.data.fax": PathRead("presence"),
        "$.data.nickname": PathRead("optional"),
    }


def test_iterating_members_reads_them_as_a_wildcard_and_keys_only_as_presence() -> None:
    recorder = ReadRecorder()
    body = recorder.track_reply(
        "demo", "get_thing", {"node_status": "Success", "data": {"p": {"a": "x", "b": 2}, "k": {}}}
    )
    assert sorted(body["data"]["p"].items()) == [("a", "x"), ("b", 2)]
    assert list(body["data"]["k"]) == []
    assert len(body["data"]["k"]) == 0
    reads = reads_of(recorder, "demo/get_thing")
    assert reads["$.data.p.*"] == PathRead("value", frozenset({"string", "integer"}))
    assert reads["$.data.k.*"] == PathRead("presence")
    assert reads["$.data.k"] == PathRead("value", frozenset({"object"}))


def test_list_indexes_collapse_and_len_is_a_presence_read() -> None:
    recorder = ReadRecorder()
    body = recorder.track_reply(
        "demo", "get_thing", {"node_status": "Success", "data": [[1, 2], [3], ["x"]]}
    )
    data = body["data"]
    assert data[0][1] == 2
    assert data[-1][0] == "x"
    assert len(data[1]) == 1
    with pytest.raises(IndexError):
        data[9]
    reads = recorder.contract().actions["demo/get_thing"].replies["Success"].reads
    assert reads["$.data[*][*]"] == PathRead("value", frozenset({"integer", "string"}))
    assert reads["$.data[*]"] == PathRead("value", frozenset({"array"}))


def test_a_slice_shares_the_tracked_elements_and_is_read_when_read() -> None:
    recorder = ReadRecorder()
    body = recorder.track_reply(
        "demo", "get_thing", {"node_status": "Success", "data": [{"a": 1}, {"a": 2}, {"b": 3}]}
    )
    first_two = body["data"][:2]
    assert isinstance(first_two, TrackedList)
    assert first_two[1] is body["data"][1]
    assert [x["a"] for x in first_two] == [1, 2]
    assert "$.data[*].a" in reads_of(recorder, "demo/get_thing")
    assert "$.data[*].b" not in reads_of(recorder, "demo/get_thing")


def test_values_the_code_stores_itself_are_not_recorded_when_read_back() -> None:
    recorder = ReadRecorder()
    body = recorder.track_reply("demo", "get_thing", {"node_status": "Success", "data": {"a": 1}})
    data = body["data"]
    data["mine"] = {"x": 1}
    data.update(other=2)
    data.setdefault("third", 3)
    assert data["mine"]["x"] == 1
    assert data.get("other") == 2
    assert data["third"] == 3
    assert reads_of(recorder, "demo/get_thing") == {
        "$.data": PathRead("value", frozenset({"object"})),
        "$.data.third": PathRead("optional"),
    }


def test_an_httpx_response_can_give_a_tracked_reply_from_json() -> None:
    import httpx

    recorder = ReadRecorder()
    raw = reply_of(GET_CONTACT)
    response = httpx.Response(200, json=raw)
    same = track_response(response, recorder, "hubspot", "get_contact")
    assert same is response
    assert isinstance(response, httpx.Response)
    assert isinstance(response, TrackedResponse)
    body = response.json()
    assert type(body) is TrackedDict
    assert body == raw
    assert json.loads(response.content) == raw
    assert body["data"]["results"][0]["id"] == "51"
    assert "$.data.results[*].id" in reads_of(recorder, "hubspot/get_contact")


def test_the_consumer_package_exports_a_sorted_public_surface() -> None:
    import refold_contract.consumer as consumer

    public = {n for n in vars(consumer) if n.isidentifier() and not n.startswith("_")}
    public.discard("annotations")
    modules = {"model", "proxies", "reads", "tracking", "verification", "responses"}
    assert sorted(consumer.__all__) == sorted(public - modules)
    assert all(getattr(consumer, name).__doc__ for name in consumer.__all__)


def test_a_reply_without_a_node_status_comes_back_untracked() -> None:
    recorder = ReadRecorder()
    envelope = {"status_code": 400, "error_code": "VALIDATION_ERROR", "message": "no"}
    assert recorder.track_reply("demo", "get_thing", envelope) is envelope
    assert recorder.contract().actions == {}


# Tracking: true dicts and lists


def test_a_tracked_reply_is_still_a_dict_equal_to_the_reply_and_round_trips_as_json() -> None:
    raw = reply_of(GET_CONTACT, 1)
    body = tracked(raw, ReadRecorder().sink("hubspot", "get_contact", "Success"))
    assert isinstance(body, dict)
    assert isinstance(body["data"]["results"], list)
    assert not isinstance(body, str)
    assert type(body) is TrackedDict
    assert body == raw
    assert raw == body
    assert json.loads(json.dumps(body)) == raw
    assert json.dumps(body, sort_keys=True) == json.dumps(raw, sort_keys=True)
    assert json.dumps(body, indent=2) == json.dumps(raw, indent=2)
    assert pickle.loads(pickle.dumps(body)) == raw
    assert type(pickle.loads(pickle.dumps(body))) is dict
    assert copy.deepcopy(body) == raw
    assert type(copy.deepcopy(body)["data"]) is dict
    assert repr(body) == repr(raw)
    assert body == reply_of(GET_CONTACT, 1), "reading did not change the reply"
    assert raw == reply_of(GET_CONTACT, 1), "the parsed value is never changed"


def test_a_nested_value_is_wrapped_once_and_changes_through_it_stay_in_the_reply() -> None:
    body = tracked(reply_of(GET_CONTACT), ReadRecorder().sink("hubspot", "get_contact", "x"))
    assert body["data"] is body["data"]
    assert body["data"]["results"][0] is body["data"]["results"][0]
    body["data"]["results"][0]["properties"]["email"] = "new@example.com"
    assert body["data"]["results"][0]["properties"]["email"] == "new@example.com"
    assert next(iter(body["data"]["results"])) is body["data"]["results"][0]


def test_shallow_copies_are_plain_and_share_the_tracked_children() -> None:
    recorder = ReadRecorder()
    body = recorder.track_reply("demo", "get_thing", {"node_status": "Success", "data": {"x": {}}})
    for copied in (body.copy(), copy.copy(body), dict(body), {**body}, body | {}):
        assert type(copied) is dict
        assert copied["data"] is body["data"]
    assert type(list(tracked([1], recorder.sink("demo", "other", "Success")))) is list
    body["data"]["x"].get("deep")
    assert "$.data.x.deep" in reads_of(recorder, "demo/get_thing")


# Tracking: whole values


@pytest.mark.parametrize(
    "consume",
    [
        pytest.param(json.dumps, id="json.dumps"),
        pytest.param(lambda v: json.dumps(v, indent=2), id="json.dumps-indent"),
        pytest.param(lambda v: json.dumps(v, sort_keys=True), id="json.dumps-sort_keys"),
        pytest.param(lambda v: json.dump(v, io.StringIO()), id="json.dump"),
        pytest.param(lambda v: json.dumps([v]), id="json.dumps-inside-a-list"),
        pytest.param(
            lambda v: json.dumps(v, cls=type("Mine", (json.JSONEncoder,), {})),
            id="json.dumps-own-encoder-class",
        ),
        pytest.param(
            lambda v: __import__("httpx").Request("POST", "http://127.0.0.1/", json=v),
            id="httpx-json-body",
        ),
        pytest.param(copy.deepcopy, id="deepcopy"),
        pytest.param(pickle.dumps, id="pickle"),
        pytest.param(lambda v: v == {}, id="equality"),
        pytest.param(lambda v: v != {}, id="inequality"),
        pytest.param(mark_whole, id="mark_whole"),
    ],
)
def test_reading_the_whole_value_records_its_shape(consume: Any) -> None:
    recorder = ReadRecorder()
    body = recorder.track_reply("hubspot", "get_contact", reply_of(GET_CONTACT))
    consume(body["data"])
    status = recorder.contract().actions["hubspot/get_contact"].replies["Success"]
    assert list(status.whole) == ["$.data"]
    shape = status.whole["$.data"]
    assert shape["keys"]["results"]["items"]["keys"]["properties"]["keys"]["email"] == {
        "types": ["string"],
        "required": True,
    }
    assert "every field under $.data counts" in " ".join(status.notes())


@pytest.mark.parametrize(
    "consume",
    [
        pytest.param(json.dumps, id="json.dumps"),
        pytest.param(lambda v: json.dumps(v, indent=2), id="json.dumps-indent"),
        pytest.param(lambda v: v == [], id="equality"),
        pytest.param(lambda v: "x" in v, id="membership"),
        pytest.param(lambda v: v.count(1), id="count"),
    ],
)
def test_reading_a_whole_list_records_its_shape(consume: Any) -> None:
    recorder = ReadRecorder()
    body = recorder.track_reply("hubspot", "get_contact", reply_of(GET_CONTACT))
    consume(body["data"]["results"])
    status = recorder.contract().actions["hubspot/get_contact"].replies["Success"]
    assert list(status.whole) == ["$.data.results"]


def test_dumping_a_plain_value_holding_a_tracked_list_reads_each_element_whole() -> None:
    recorder = ReadRecorder()
    body = recorder.track_reply("hubspot", "get_contact", reply_of(GET_CONTACT, 1))
    json.dumps({"contacts": body["data"]["results"]})
    status = recorder.contract().actions["hubspot/get_contact"].replies["Success"]
    assert list(status.whole) == ["$.data.results[*]"]


def test_dumping_the_whole_reply_records_one_whole_value_not_one_per_level() -> None:
    recorder = ReadRecorder()
    body = recorder.track_reply("hubspot", "get_contact", reply_of(GET_CONTACT))
    body["data"]["results"][0]["properties"]["email"]
    json.dumps(body)
    status = recorder.contract().actions["hubspot/get_contact"].replies["Success"]
    assert list(status.whole) == ["$"]


def test_pydantic_validation_reads_the_whole_value() -> None:
    pytest.importorskip("pydantic")
    import pydantic

    class Contact(pydantic.BaseModel):
        id: str
        properties: dict[str, Any]

    recorder = ReadRecorder()
    body = recorder.track_reply("hubspot", "get_contact", reply_of(GET_CONTACT))
    contact = Contact.model_validate(body["data"]["results"][0])
    assert contact.properties["email"] == "contact@example.com"
    status = recorder.contract().actions["hubspot/get_contact"].replies["Success"]
    assert "$.data.results[*]" in status.whole


def test_an_untracked_copy_is_plain_and_records_nothing() -> None:
    recorder = ReadRecorder()
    raw = reply_of(GET_CONTACT)
    body = recorder.track_reply("hubspot", "get_contact", raw)
    body["data"]["results"][0]
    copied = untracked(body)
    assert copied == raw
    assert type(copied["data"]) is dict
    assert type(copied["data"]["results"][0]) is dict
    status = recorder.contract().actions["hubspot/get_contact"].replies["Success"]
    assert set(status.leaf_reads()) == {"$.data.results[*]"}
    assert status.whole == {}


def test_tracking_from_many_threads_loses_no_read() -> None:
    recorder = ReadRecorder()

    def worker(n: int) -> None:
        for i in range(200):
            body = recorder.track_reply(
                "demo", "get_thing", {"node_status": "Success", "data": {f"k{n}": {"v": i}}}
            )
            assert body["data"][f"k{n}"]["v"] == i

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(reads_of(recorder, "demo/get_thing")) == {f"$.data.k{n}.v" for n in range(8)}


# The contract and its file


def test_parameters_sent_and_always_sent() -> None:
    recorder = ReadRecorder()
    recorder.record_call("hubspot", "get_contact", {"limit": "1", "after": "5"})
    recorder.record_call("hubspot", "get_contact", {"limit": "2"})
    recorder.record_call("hubspot", "get_contact", {"limit": "3", "properties": "email"})
    entry = recorder.contract().actions["hubspot/get_contact"]
    assert entry.sent == {"limit", "after", "properties"}
    assert entry.always_sent == frozenset({"limit"})
    assert entry.replies == {}


def test_the_file_is_sorted_stable_and_reads_back_to_the_same_contract(tmp_path: Path) -> None:
    recorder, _ = record(GET_CONTACT, contact_emails, index=1)
    body = recorder.track_reply("hubspot", "search_contacts", reply_of(SEARCH))
    json.dumps(body["data"]["paging"])
    contract = recorder.contract()
    path = contract.save(tmp_path / "contract.json")
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text == contract.dumps()
    assert '\n  "actions": {\n    "hubspot/get_contact": {' in text
    doc = json.loads(text)
    assert doc["format"] == "refold-consumer-contract"
    assert doc["version"] == 1
    assert json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == text
    assert ConsumerContract.load(path) == contract
    assert ConsumerContract.load(path).dumps() == text
    assert [p.name for p in tmp_path.iterdir()] == ["contract.json"], "no temporary file left"


def test_the_file_lists_leaf_reads_only() -> None:
    recorder, _ = record(GET_CONTACT, contact_emails)
    reads = recorder.contract().to_json()["actions"]["hubspot/get_contact"]["replies"]["Success"]
    assert "$.data" not in reads["reads"]
    assert "$.data.results[*].id" in reads["reads"]


def test_a_reply_served_over_http_records_the_whole_shape_and_says_so() -> None:
    recorder = ReadRecorder()
    recorder.record_opaque_reply("hubspot", "get_contact", reply_of(GET_CONTACT))
    status = recorder.contract().actions["hubspot/get_contact"].replies["Success"]
    assert status.opaque
    assert list(status.whole) == ["$"]
    assert "reads not observable" in status.to_json()["notes"][0]


BAD_FILES = [
    ("{", "not JSON", None),
    ("[]", "expected an object", "/"),
    ('{"format": "pact", "version": 1, "actions": {}}', "not a consumer contract", "/format"),
    (
        '{"format": "refold-consumer-contract", "version": 9, "actions": {}}',
        "version 9 is not supported",
        "/version",
    ),
    (
        '{"format": "refold-consumer-contract", "version": 1, "actions": {"nokey": {}}}',
        "is not 'slug/action_id'",
        "/actions/nokey",
    ),
    (
        '{"format": "refold-consumer-contract", "version": 1, "actions": {"a/b": {"replies":'
        ' {"Success": {"reads": {"data.x": {"read": "value", "types": []}}}}}}}',
        "is not a read path",
        "/actions/a~1b/replies/Success/reads/data.x",
    ),
    (
        '{"format": "refold-consumer-contract", "version": 1, "actions": {"a/b": {"replies":'
        ' {"Success": {"reads": {"$.x": {"read": "maybe", "types": []}}}}}}}',
        "'read' is 'maybe'",
        "/actions/a~1b/replies/Success/reads/$.x/read",
    ),
    (
        '{"format": "refold-consumer-contract", "version": 1, "actions": {"a/b": {"parameters":'
        ' {"sent": ["x"], "always_sent": ["y"]}}}}',
        "'y' is always sent but not in 'sent'",
        "/actions/a~1b/parameters/always_sent",
    ),
    (
        '{"format": "refold-consumer-contract", "version": 1, "actions": {"a/b": {"replies":'
        ' {"Success": {"whole": {"$": {"types": "object"}}}}}}}',
        "expected a list of JSON type names",
        "/actions/a~1b/replies/Success/whole/$/types",
    ),
]


@pytest.mark.parametrize(("text", "problem", "pointer"), BAD_FILES)
def test_a_malformed_contract_file_raises_a_clean_error_naming_file_and_place(
    tmp_path: Path, text: str, problem: str, pointer: str | None
) -> None:
    path = tmp_path / "contract.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContractFileError) as caught:
        ConsumerContract.load(path)
    error = caught.value
    assert isinstance(error, RefoldError)
    assert isinstance(error, ValueError)
    assert problem in error.message
    assert error.path == str(path)
    assert error.pointer == pointer
    assert str(path) in str(error)
    assert "hint:" in str(error)


def test_a_missing_contract_file_raises_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(ContractFileError, match="cannot read the file") as caught:
        ConsumerContract.load(tmp_path / "nope.json")
    assert "--refold-consumer-contract" in caught.value.hint


# Merging

NAMES = st.sampled_from(["limit", "after", "email", "id"])
SEGMENTS = st.sampled_from(["data", "results", "id", "[*]", ".*", "email"])
MODES: st.SearchStrategy[Mode] = st.sampled_from(["presence", "optional", "value"])
TYPES = st.frozensets(st.sampled_from(["string", "integer", "null", "object", "array"]))
SHAPES = st.recursive(
    st.builds(lambda t: {"types": sorted(t)}, TYPES),
    lambda inner: st.builds(
        lambda t, keys, items: {
            "types": sorted(t | {"object", "array"}),
            **({"keys": {k: {**v, "required": r} for k, (v, r) in keys.items()}} if keys else {}),
            **({"items": items} if items is not None else {}),
        },
        TYPES,
        st.dictionaries(NAMES, st.tuples(inner, st.booleans()), max_size=3),
        st.none() | inner,
    ),
    max_leaves=6,
)


def _path(segments: list[str]) -> str:
    path = "$"
    for segment in segments:
        path += segment if segment in ("[*]", ".*") else "." + segment
    return path


@st.composite
def contracts(draw: st.DrawFn) -> ConsumerContract:
    actions = {}
    for key in draw(st.sets(st.sampled_from(["hubspot/get_contact", "slack/list_channels"]))):
        slug, action_id = key.split("/")
        replies = {}
        for status in draw(st.sets(st.sampled_from(["Success", "Errored"]))):
            reads = {
                _path(segments): PathRead(draw(MODES), draw(TYPES))
                for segments in draw(st.lists(st.lists(SEGMENTS, min_size=1, max_size=4)))
            }
            whole = draw(st.dictionaries(st.sampled_from(["$", "$.data"]), SHAPES, max_size=2))
            entry = ConsumerContract.from_json(
                {
                    "format": "refold-consumer-contract",
                    "version": 1,
                    "actions": {
                        key: {
                            "replies": {
                                status: {
                                    "reads": {p: r.to_json() for p, r in reads.items()},
                                    "whole": whole,
                                    "opaque": draw(st.booleans()),
                                }
                            }
                        }
                    },
                }
            )
            replies[status] = entry.actions[key].replies[status]
        called = draw(st.booleans())
        sent = draw(st.frozensets(NAMES))
        always = draw(st.frozensets(st.sampled_from(sorted(sent)))) if sent else frozenset()
        actions[key] = ActionContract(
            slug, action_id, sent if called else frozenset(), always if called else None, replies
        )
    return ConsumerContract(actions)


@settings(max_examples=60, deadline=None)
@given(contracts(), contracts(), contracts())
def test_merge_is_associative_and_commutative_with_an_identity(
    a: ConsumerContract, b: ConsumerContract, c: ConsumerContract
) -> None:
    assert merge(a, b) == merge(b, a)
    assert merge(merge(a, b), c) == merge(a, merge(b, c))
    assert merge(a, ConsumerContract()) == a
    assert merge(a, a) == a


@settings(max_examples=60, deadline=None)
@given(contracts(), contracts())
def test_merge_unites_reads_and_intersects_always_sent(
    a: ConsumerContract, b: ConsumerContract
) -> None:
    both = merge(a, b)
    for key in a.actions.keys() | b.actions.keys():
        mine, theirs = a.actions.get(key), b.actions.get(key)
        entry = both.actions[key]
        sides = [s for s in (mine, theirs) if s is not None]
        assert entry.sent == frozenset().union(*(s.sent for s in sides))
        known = [s.always_sent for s in sides if s.always_sent is not None]
        assert entry.always_sent == (frozenset.intersection(*known) if known else None)
        for status, reply in entry.replies.items():
            for side in sides:
                if status in side.replies:
                    assert side.replies[status].reads.keys() <= reply.reads.keys()


@settings(max_examples=60, deadline=None)
@given(contracts())
def test_a_contract_reads_back_from_its_file_form(contract: ConsumerContract) -> None:
    assert ConsumerContract.from_json(json.loads(contract.dumps())) == contract


@settings(max_examples=60, deadline=None)
@given(SHAPES, SHAPES, SHAPES)
def test_merging_shapes_is_associative_and_commutative(
    a: dict[str, Any], b: dict[str, Any], c: dict[str, Any]
) -> None:
    assert merge_shapes(a, b) == merge_shapes(b, a)
    assert merge_shapes(merge_shapes(a, b), c) == merge_shapes(a, merge_shapes(b, c))


def test_contracts_from_two_workers_merge_into_the_contract_of_one_run() -> None:
    one, gw0, gw1 = ReadRecorder(), ReadRecorder(), ReadRecorder()

    def test_a(recorder: ReadRecorder) -> None:
        recorder.record_call("hubspot", "get_contact", {"limit": "1"})
        contact_emails(recorder.track_reply("hubspot", "get_contact", reply_of(GET_CONTACT)))

    def test_b(recorder: ReadRecorder) -> None:
        recorder.record_call("hubspot", "get_contact", {"limit": "2", "after": "x"})
        body = recorder.track_reply("hubspot", "get_contact", reply_of(GET_CONTACT, 1))
        json.dumps(body["data"]["paging"])

    for test in (test_a, test_b):
        test(one)
    test_a(gw0)
    test_b(gw1)
    assert merge(gw0.contract(), gw1.contract()) == one.contract()


def test_merge_command_writes_the_merged_file_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = ReadRecorder(), ReadRecorder()
    a.record_call("hubspot", "get_contact", {"limit": "1"})
    contact_emails(a.track_reply("hubspot", "get_contact", reply_of(GET_CONTACT)))
    b.record_call("hubspot", "search_contacts", {"propertyName": "email"})
    a.contract().save(tmp_path / "gw0.json")
    b.contract().save(tmp_path / "gw1.json")
    out = tmp_path / "merged.json"
    assert merge_command([tmp_path / "gw0.json", tmp_path / "gw1.json"], out) == 0
    assert ConsumerContract.load(out) == merge(a.contract(), b.contract())
    said = capsys.readouterr().out
    assert f"wrote {out}: 2 action(s), 5 read path(s), merged from 2 file(s)" in said
    assert merge_command([out, tmp_path / "gw0.json"], out) == 0, "the output may be an input"


def test_merge_command_refuses_a_malformed_input(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ContractFileError):
        merge_command([tmp_path / "bad.json"], tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


# Verifying against the catalogue


def recorded_contract() -> ConsumerContract:
    recorder, _ = record(GET_CONTACT, contact_emails, index=1)
    recorder.record_call("hubspot", "get_contact", {"limit": "1"})
    contact_emails(recorder.track_reply("hubspot", "get_contact", reply_of(GET_CONTACT)))
    return recorder.contract()


def with_examples(action: Action, *responses: Mapping[str, Any], **changes: Any) -> Catalogue:
    """The built-in catalogue with ``action`` answering only ``responses``.

    Its state block is left out unless given: these tests are about what examples carry (what
    a block's reply templates add is tested in test_verify_state.py).
    """
    changes.setdefault("state", None)
    examples = tuple(Example(params={}, response=r, source="test") for r in responses)
    changed = dataclasses.replace(action, examples=examples, **changes)
    others = [a for a in BUILTIN if a.key != action.key]
    return Catalogue([*others, changed])


def without(body: dict[str, Any], *path: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node: Any = body
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return body


def breaking(findings: list[Any]) -> list[tuple[str, str | None]]:
    return [(f.kind, f.path) for f in findings if f.breaking]


def test_a_contract_verifies_against_the_catalogue_it_was_recorded_from() -> None:
    assert breaking(verify(recorded_contract(), BUILTIN)) == []


def test_dropping_an_unread_field_passes_and_dropping_a_read_field_fails_naming_it() -> None:
    contract = recorded_contract()
    reply = reply_of(GET_CONTACT, 1)
    unread = without(reply, "data", "results", 0, "properties", "lastname")
    unread = without(unread, "data", "results", 1, "properties", "lastname")
    assert breaking(verify(contract, with_examples(GET_CONTACT, unread))) == []
    read = without(reply, "data", "results", 0, "properties", "email")
    read = without(read, "data", "results", 1, "properties", "email")
    findings = verify(contract, with_examples(GET_CONTACT, read))
    assert breaking(findings) == [("path_gone", "$.data.results[*].properties.email")]
    assert "in no example reply with node_status 'Success'" in findings[0].detail


def test_a_field_kept_by_one_example_still_counts_as_carried() -> None:
    reply = reply_of(GET_CONTACT, 1)
    gone = without(reply, "data", "results", 0, "id")
    gone = without(gone, "data", "results", 1, "id")
    assert breaking(verify(recorded_contract(), with_examples(GET_CONTACT, gone, reply))) == []


def test_a_changed_type_fails_and_a_type_seen_beside_it_is_reported() -> None:
    reply = reply_of(GET_CONTACT, 1)
    changed = copy.deepcopy(reply)
    for contact in changed["data"]["results"]:
        contact["id"] = int(contact["id"])
    findings = verify(recorded_contract(), with_examples(GET_CONTACT, changed))
    assert breaking(findings) == [("type_changed", "$.data.results[*].id")]
    assert "your code read string; the example replies" in findings[0].detail
    findings = verify(recorded_contract(), with_examples(GET_CONTACT, changed, reply))
    assert breaking(findings) == []
    assert [(f.kind, f.path) for f in findings] == [("type_widened", "$.data.results[*].id")]


def test_a_field_the_tests_only_saw_as_null_is_news_not_a_break() -> None:
    """A sandbox search serves an unset property as null; the examples have a string there."""
    served = reply_of(GET_CONTACT, 1)
    for contact in served["data"]["results"]:
        contact["properties"]["firstname"] = None
    recorder = ReadRecorder()
    recorder.record_opaque_reply("hubspot", "get_contact", served)  # over HTTP: reads unseen
    findings = verify(recorder.contract(), with_examples(GET_CONTACT, reply_of(GET_CONTACT, 1)))
    assert breaking(findings) == []
    (widened,) = [f for f in findings if f.kind == "type_widened"]
    assert widened.path == "$.data.results[*].properties.firstname"
    assert widened.detail.startswith("your tests were served only null; the example replies")
    # Read by the code, and only ever null: still news, not a break.
    recorder = ReadRecorder()
    body = recorder.track_reply("hubspot", "get_contact", served)
    assert [c["properties"]["firstname"] for c in body["data"]["results"]] == [None, None]
    findings = verify(recorder.contract(), with_examples(GET_CONTACT, reply_of(GET_CONTACT, 1)))
    assert breaking(findings) == []
    assert [f.detail.split(";")[0] for f in findings if f.kind == "type_widened"] == [
        "your code read only null"
    ]


def test_a_type_the_tests_were_served_over_http_that_changes_is_still_breaking() -> None:
    served = reply_of(GET_CONTACT, 1)
    changed = copy.deepcopy(served)
    for contact in changed["data"]["results"]:
        contact["id"] = int(contact["id"])
    recorder = ReadRecorder()
    recorder.record_opaque_reply("hubspot", "get_contact", served)
    findings = verify(recorder.contract(), with_examples(GET_CONTACT, changed))
    assert breaking(findings) == [("type_changed", "$.data.results[*].id")]
    (changed_finding,) = [f for f in findings if f.kind == "type_changed"]
    assert changed_finding.detail.startswith("your tests were served string;")


def test_a_removed_action_fails() -> None:
    catalogue = Catalogue([a for a in BUILTIN if a.key != "hubspot/get_contact"])
    findings = verify(recorded_contract(), catalogue)
    assert breaking(findings) == [("action_gone", None)]
    assert findings[0].action == "hubspot/get_contact"


def test_a_newly_required_parameter_not_always_sent_fails() -> None:
    params = (
        Parameter(name="limit", required=True),
        Parameter(name="after", required=True),
        Parameter(name="archived", required=True),
    )
    catalogue = with_examples(
        GET_CONTACT, *[e.response for e in GET_CONTACT.examples], parameters=params
    )
    findings = verify(recorded_contract(), catalogue)
    assert breaking(findings) == [
        ("parameter_required", "after"),
        ("parameter_required", "archived"),
    ]
    assert "never sends it" in findings[1].detail


def test_a_parameter_no_longer_listed_is_reported_but_not_breaking() -> None:
    catalogue = with_examples(
        GET_CONTACT, *[e.response for e in GET_CONTACT.examples], parameters=()
    )
    findings = verify(recorded_contract(), catalogue)
    assert breaking(findings) == []
    assert [(f.kind, f.path) for f in findings] == [("parameter_gone", "limit")]
    assert "Refold passes extra keys through" in findings[0].detail


def test_an_optional_read_gone_is_reported_but_not_breaking() -> None:
    reply = reply_of(GET_CONTACT, 1)
    for contact in reply["data"]["results"]:
        del contact["properties"]["firstname"]
    findings = verify(recorded_contract(), with_examples(GET_CONTACT, reply))
    assert breaking(findings) == []
    assert ("optional_gone", "$.data.results[*].properties.firstname") in [
        (f.kind, f.path) for f in findings
    ]


def test_a_status_without_examples_is_reported_as_unchecked() -> None:
    recorder = ReadRecorder()
    body = recorder.track_reply(
        "hubspot", "get_contact", {"node_status": "Errored", "data": {"message": "expired"}}
    )
    assert body["data"]["message"] == "expired"
    # Without its state block, whose on_invalid reply is Errored (test_verify_state.py).
    catalogue = with_examples(GET_CONTACT, *[e.response for e in GET_CONTACT.examples])
    findings = verify(recorder.contract(), catalogue)
    assert [(f.kind, f.breaking) for f in findings] == [("unchecked", False)]
    assert "no example reply with node_status 'Errored'" in findings[0].detail


def test_a_field_dropped_inside_a_whole_value_fails() -> None:
    recorder = ReadRecorder()
    body = recorder.track_reply("hubspot", "get_contact", reply_of(GET_CONTACT, 1))
    json.dumps(body["data"]["results"])
    contract = recorder.contract()
    reply = reply_of(GET_CONTACT, 1)
    for contact in reply["data"]["results"]:
        del contact["archived"]
    findings = verify(contract, with_examples(GET_CONTACT, reply))
    assert breaking(findings) == [("path_gone", "$.data.results[*].archived")]
    assert "inside a value your code read whole" in findings[0].detail


# Verifying one reply (live)


def test_a_live_reply_missing_an_unread_field_passes_and_a_read_field_fails() -> None:
    entry = recorded_contract().actions["hubspot/get_contact"]
    live = reply_of(GET_CONTACT, 1)
    assert verify_reply(entry, live) == []
    assert breaking(verify_reply(entry, without(live, "data", "results", 0, "updatedAt"))) == []
    gone = live
    for contact in gone["data"]["results"]:
        del contact["properties"]["email"]
    findings = verify_reply(entry, gone)
    assert breaking(findings) == [("path_gone", "$.data.results[*].properties.email")]
    assert "not in the reply" in findings[0].detail


def test_a_live_reply_with_one_element_missing_a_read_field_fails() -> None:
    entry = recorded_contract().actions["hubspot/get_contact"]
    live = without(reply_of(GET_CONTACT, 1), "data", "results", 1, "id")
    findings = verify_reply(entry, live)
    assert breaking(findings) == [("path_gone", "$.data.results[*].id")]
    assert "missing from some of the objects" in findings[0].detail
    live = without(reply_of(GET_CONTACT, 1), "data", "results", 1, "properties", "firstname")
    assert verify_reply(entry, live) == [], "a field read with .get() may be missing"


def test_verify_live_passes_a_stand_in_dropping_an_unread_field_and_fails_one_dropping_a_read_field(
    tmp_path: Path,
) -> None:
    contract_path = recorded_contract().save(tmp_path / "contract.json")
    asked: list[str] = []

    def stand_in(drop: str) -> Any:
        def fetch(action: Action) -> list[dict[str, Any]]:
            asked.append(action.key)
            reply = reply_of(action, 1)
            for contact in reply["data"]["results"]:
                del contact["properties"][drop]
            return [reply]

        return fetch

    out = io.StringIO()
    assert verify_command(contract_path, live=stand_in("lastname"), out=out) == 0
    assert asked == ["hubspot/get_contact"]
    out = io.StringIO()
    assert verify_command(contract_path, live=stand_in("email"), out=out) == 1
    assert "path_gone  $.data.results[*].properties.email  read by your code; not in the reply" in (
        out.getvalue()
    )


def test_verify_live_never_fetches_a_write_action() -> None:
    recorder = ReadRecorder()
    create = BUILTIN.get("hubspot", "create_contact")
    recorder.record_call("hubspot", "create_contact", create.examples[0].params)
    body = recorder.track_reply("hubspot", "create_contact", reply_of(create))
    body["data"]["id"]

    def fetch(action: Action) -> list[Any]:
        raise AssertionError(f"fetched {action.key}")

    findings = verify_live(recorder.contract(), BUILTIN, fetch)
    assert [(f.kind, f.breaking) for f in findings] == [("unchecked", False)]
    assert "live mode sends reads only" in findings[0].detail


def test_a_live_reply_with_a_new_type_where_the_code_reads_fails() -> None:
    entry = recorded_contract().actions["hubspot/get_contact"]
    live = reply_of(GET_CONTACT, 1)
    live["data"]["results"][1]["properties"]["email"] = None
    assert breaking(verify_reply(entry, live)) == [
        ("type_changed", "$.data.results[*].properties.email")
    ]


def test_a_live_reply_with_a_status_the_code_never_handled_is_reported() -> None:
    entry = recorded_contract().actions["hubspot/get_contact"]
    findings = verify_reply(entry, {"node_status": "Errored", "data": {}})
    assert [(f.kind, f.breaking) for f in findings] == [("status_not_handled", False)]


def test_reads_under_an_empty_array_are_reported_as_unchecked() -> None:
    entry = recorded_contract().actions["hubspot/get_contact"]
    live = {"node_status": "Success", "data": {"results": [], "paging": {"next": {"after": "9"}}}}
    findings = verify_reply(entry, live)
    assert breaking(findings) == []
    assert [f.kind for f in findings] == ["unchecked"]


# Output and the verify command


def test_findings_as_rows_and_json() -> None:
    catalogue = Catalogue([a for a in BUILTIN if a.key != "hubspot/get_contact"])
    findings = verify(recorded_contract(), catalogue)
    assert finding_rows(findings) == [
        ["BREAKING", "hubspot/get_contact", "action_gone", "-", findings[0].detail]
    ]
    assert findings_json(findings) == {
        "breaking": 1,
        "findings": [
            {
                "action": "hubspot/get_contact",
                "kind": "action_gone",
                "path": None,
                "detail": findings[0].detail,
                "breaking": True,
            }
        ],
        "non_breaking": 0,
    }


def test_verify_command_exits_1_on_a_breaking_finding_and_0_otherwise(tmp_path: Path) -> None:
    contract_path = recorded_contract().save(tmp_path / "contract.json")
    out = io.StringIO()
    assert verify_command(contract_path, out=out) == 0
    assert (
        out.getvalue()
        == f"0 breaking, 0 non-breaking finding(s) for 1 action(s) in {contract_path}\n"
    )

    fixtures = tmp_path / "fixtures"
    doc = json.loads((Catalogue.builtin_path() / "hubspot" / "get_contact.json").read_text())
    for example in doc["examples"]:
        for contact in example["response"]["data"]["results"]:
            contact.pop("id")
    doc.pop("state")  # its item template would still give each contact an id
    write_action(fixtures, doc)
    out = io.StringIO()
    assert verify_command(contract_path, fixtures=[fixtures], out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["action", "kind", "path", "detail"]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].startswith("BREAKING  hubspot/get_contact  path_gone  $.data.results[*].id  ")
    assert lines[-1].startswith("1 breaking, 0 non-breaking finding(s)")

    out = io.StringIO()
    assert verify_command(contract_path, fixtures=[fixtures], as_json=True, out=out) == 1
    assert json.loads(out.getvalue())["breaking"] == 1


def test_verify_command_lets_a_malformed_contract_raise_for_the_cli(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text('{"format": "x"}', encoding="utf-8")
    with pytest.raises(ContractFileError, match="not a consumer contract"):
        verify_command(tmp_path / "c.json", out=io.StringIO())


def test_status_contracts_merge_shapes_of_whole_values() -> None:
    a = StatusContract(
        whole={"$": {"types": ["object"], "keys": {"x": {"types": ["string"], "required": True}}}}
    )
    b = StatusContract(whole={"$": {"types": ["object"]}})
    assert a.merge(b).whole["$"] == {
        "types": ["object"],
        "keys": {"x": {"types": ["string"], "required": False}},
    }
