"""``verify`` against the catalogue counts what a state block can reply, and every branch of it.

A consumer contract recorded against sandbox-computed replies (SOQL batches, HubSpot search
pages) verifies against a catalogue whose examples never show those replies; a path neither
the examples nor the templates produce is still breaking; placeholders are typed as the
sandbox fills them, and untyped where nobody can say. Then each secondary branch of the
verifier, one test each: an outside audit planted a bug in one that no test caught.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from refold_contract import Catalogue
from refold_contract.catalogue import Action, Example, Parameter
from refold_contract.catalogue.state import parse_state
from refold_contract.consumer import (
    ConsumerContract,
    Finding,
    ReadRecorder,
    mark_whole,
    verify,
    verify_command,
    verify_live,
    verify_reply,
)
from refold_contract.consumer._replies import ANY, reply_shapes
from refold_contract.sandbox import Sandbox, Store

from .helpers import write_action

BUILTIN = Catalogue.builtin()
BUILTIN_DIR = Catalogue.builtin_path()
SOQL = "SELECT Id, Name, Industry FROM Account WHERE Industry = 'Energy' ORDER BY Name"


def builtin_doc(slug: str, action_id: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((BUILTIN_DIR / slug / f"{action_id}.json").read_text())
    return doc


def soql_catalogue(folder: Path) -> Catalogue:
    """The built-in catalogue, with Salesforce's httprequest answering only a record GET: no
    example of it shows a query batch (whatever the built-in file holds)."""
    doc = builtin_doc("salesforce", "httprequest")
    doc["examples"] = [e for e in doc["examples"] if "/query/" not in e["params"]["url_path"]]
    assert doc["examples"]
    assert all("records" not in (e["response"]["data"] or {}) for e in doc["examples"])
    write_action(folder, doc)
    return Catalogue.load(folder, include_builtin=True)


def soql_names(run: Callable[[str, str, dict[str, Any]], Any]) -> list[str]:
    """Downstream code: every Energy account's name, batch by batch (the SOQL paging recipe)."""
    data = run("salesforce", "get_entity_with_soql", {"query": SOQL, "batch_size": "200"})["data"]
    names = [r["Name"] for r in data["records"]]
    while not data["done"]:
        params = {"method": "GET", "url_path": data["nextRecordsUrl"]}
        data = run("salesforce", "httprequest", params)["data"]
        names += [r["Name"] for r in data["records"]]
    return names


def sandboxed(catalogue: Catalogue, recorder: ReadRecorder) -> Callable[..., Any]:
    """An execute call answered by the sandbox (as stateful mode does), its reply tracked."""
    sandbox = Sandbox(catalogue, Store(catalogue))

    def run(slug: str, action_id: str, params: dict[str, Any]) -> Any:
        reply = sandbox.answer(catalogue.get(slug, action_id), params, None)
        assert reply is not None
        recorder.record_call(slug, action_id, params)
        return recorder.track_reply(slug, action_id, json.loads(json.dumps(reply.envelope())))

    run.sandbox = sandbox  # type: ignore[attr-defined]
    return run


def breaking(findings: list[Finding]) -> list[tuple[str, str, str | None]]:
    return [(f.action, f.kind, f.path) for f in findings if f.breaking]


def kinds(findings: list[Finding]) -> list[tuple[str, str | None, bool]]:
    return [(f.kind, f.path, f.breaking) for f in findings]


# ------------------------------------------------------------------ sandbox-recorded contracts


def test_a_contract_recorded_against_soql_batches_verifies_against_the_catalogue(
    tmp_path: Path,
) -> None:
    catalogue = soql_catalogue(tmp_path / "mine")
    recorder = ReadRecorder()
    run = sandboxed(catalogue, recorder)
    run.sandbox.store.seed(  # type: ignore[attr-defined]
        "salesforce",
        "Account",
        [{"Name": f"Acme {i:03}", "Industry": "Energy"} for i in range(205)],
    )
    names = soql_names(run)
    assert len(names) >= 205
    contract = recorder.contract()
    reads = contract.actions["salesforce/httprequest"].replies["Success"].reads
    assert "$.data.records[*].Name" in reads
    assert breaking(verify(contract, catalogue)) == []
    # Without the state block's replies, the batch the code reads is in no example: breaking.
    bare = Catalogue(
        [
            dataclasses.replace(a, state=None) if a.key == "salesforce/httprequest" else a
            for a in catalogue
        ]
    )
    assert ("salesforce/httprequest", "path_gone", "$.data.records") in breaking(
        verify(contract, bare)
    )


def test_the_soql_recipe_recorded_by_the_plugin_verifies_with_the_cli(
    pytester: pytest.Pytester,
) -> None:
    soql_catalogue(pytester.path / "mine")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_soql=f"""
import pytest

SOQL = {SOQL!r}


def names(client):
    data = client.execute("salesforce", "get_entity_with_soql",
                          {{"query": SOQL, "batch_size": "200"}}).data
    found = [r["Name"] for r in data["records"]]
    while not data["done"]:
        data = client.execute("salesforce", "httprequest",
                              {{"method": "GET", "url_path": data["nextRecordsUrl"]}}).data
        found += [r["Name"] for r in data["records"]]
    return found


@pytest.mark.refold(stateful=True)
def test_every_energy_account(refold_client, refold_mock):
    refold_mock.seed("salesforce", "Account",
                     [{{"Name": f"Acme {{i:03}}", "Industry": "Energy"}} for i in range(205)])
    assert len(names(refold_client)) >= 205
"""
    )
    result = pytester.runpytest_subprocess(
        "--refold-fixtures",
        "mine",
        "--refold-consumer-contract",
        "contract.json",
        "-p",
        "no:randomly",
    )
    result.assert_outcomes(passed=1)
    contract = pytester.path / "contract.json"
    out = io.StringIO()
    status = verify_command(contract, fixtures=[pytester.path / "mine"], out=out)
    assert status == 0, out.getvalue()
    assert out.getvalue().startswith("0 breaking")


def test_a_contract_recorded_against_a_stateful_hubspot_search_verifies(tmp_path: Path) -> None:
    doc = builtin_doc("hubspot", "search_contacts")
    doc["examples"] = [e for e in doc["examples"] if e["response"]["data"]["total"] == 1]
    assert all("paging" not in e["response"]["data"] for e in doc["examples"])
    write_action(tmp_path, doc)
    catalogue = Catalogue.load(tmp_path, include_builtin=True)
    recorder = ReadRecorder()
    run = sandboxed(catalogue, recorder)
    params = {"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@example.com"}
    page = run("hubspot", "search_contacts", {**params, "limit": "1"})["data"]
    after = page["paging"]["next"]["after"]
    assert isinstance(page["total"], int)
    assert [c["properties"]["email"] for c in page["results"]]
    assert after
    contract = recorder.contract()
    assert breaking(verify(contract, catalogue)) == []
    # The example alone has no paging: without the templates the cursor read is gone.
    bare = Catalogue(
        [dataclasses.replace(a, state=None) if a.key == doc["slug"] + "/search_contacts" else a
         for a in catalogue]
    )  # fmt: skip
    assert breaking(verify(contract, bare)) == [
        ("hubspot/search_contacts", "path_gone", "$.data.paging"),
    ]


def test_a_path_neither_the_examples_nor_the_templates_produce_is_still_breaking(
    tmp_path: Path,
) -> None:
    catalogue = soql_catalogue(tmp_path)
    recorder = ReadRecorder()
    body = recorder.track_reply(
        "salesforce",
        "httprequest",
        {
            "node_status": "Success",
            "data": {
                "recordz": [],
                "totalSize": 1,
                "records": [{"attributes": {"type": "Account", "kind": "x"}, "Name": "A"}],
            },
        },
    )
    assert len(body["data"]["recordz"]) == 0
    assert body["data"]["records"][0]["attributes"]["kind"] == "x"
    assert body["data"]["records"][0]["Name"] == "A"  # any field a query chooses: untyped
    findings = verify(recorder.contract(), catalogue)
    assert breaking(findings) == [
        ("salesforce/httprequest", "path_gone", "$.data.records[*].attributes.kind"),
        ("salesforce/httprequest", "path_gone", "$.data.recordz"),
    ]
    assert findings[0].detail == (
        "read by your code; in no example reply nor state-block reply with node_status 'Success'"
    )


def test_placeholders_are_typed_as_the_sandbox_fills_them(tmp_path: Path) -> None:
    catalogue = soql_catalogue(tmp_path)
    recorder = ReadRecorder()
    body = recorder.track_reply(
        "salesforce",
        "httprequest",
        {"node_status": "Success", "data": {"done": "yes", "totalSize": 2.5, "records": []}},
    )
    assert (body["data"]["done"], body["data"]["totalSize"]) == ("yes", 2.5)
    findings = verify(recorder.contract(), catalogue)
    # {paging/done} is a boolean: a string read there breaks. {paging/total} is an integer, and
    # number covers it; the record GET example's data has neither.
    assert breaking(findings) == [("salesforce/httprequest", "type_changed", "$.data.done")]
    assert "your code read string; the example and state-block replies with node_status " in (
        findings[0].detail
    )


def test_reply_shapes_types_each_namespace_and_leaves_unknown_types_open() -> None:
    shapes = reply_shapes(BUILTIN.get("salesforce", "httprequest"))
    data = shapes["Success"]["keys"]["data"]
    assert data["keys"]["totalSize"] == {"types": ["integer"], "required": False}
    assert data["keys"]["done"]["types"] == ["boolean"]
    assert data["keys"]["nextRecordsUrl"]["types"] == ["string"]
    record = data["keys"]["records"]["items"]
    assert record["open"] is True  # "...": "{selected}": any field a query chose
    assert record["keys"]["attributes"]["keys"]["type"] == {"types": ["string"], "required": True}
    assert record["keys"]["attributes"]["keys"]["url"]["required"] is False  # {record/Id}
    errored = shapes["Errored"]["keys"]
    assert errored["http_status"]["types"] == ["integer"]
    assert errored["data"]["items"]["keys"]["errorCode"]["types"] == ["string"]
    get = reply_shapes(BUILTIN.get("hubspot", "get_contact_by_id"))["Success"]["keys"]["data"]
    assert get["keys"]["id"] == {"types": [ANY], "required": True}  # the record's id field
    assert get["keys"]["createdAt"] == {"types": [ANY], "required": False}
    assert get["keys"]["properties"]["open"] is True
    assert get["keys"]["archived"] == {"types": ["boolean"], "required": True}
    conflict = reply_shapes(BUILTIN.get("hubspot", "update_contact"))["Errored"]["keys"]["data"]
    # on_conflict's message names the existing record's id, which every record has.
    assert conflict["keys"]["message"] == {"types": ["string"], "required": True}
    created = reply_shapes(BUILTIN.get("hubspot", "create_contact"))["Errored"]["keys"]["data"]
    assert created["keys"]["correlationId"] == {"types": ["string"], "required": True}
    stateless = next(a for a in BUILTIN if a.state is None)
    assert reply_shapes(stateless) == {}


PAGING_KEYS = {
    **{
        k: {"types": ["integer"], "required": False}
        for k in ("count", "first", "last", "limit", "offset", "page", "pages", "previous", "total")
    },
    "done": {"types": ["boolean"], "required": False},
    "has_more": {"types": ["boolean"], "required": False},
    "next": {"types": ["string"], "required": False},
    "text": {"types": ["object"], "open": True, "required": False},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ({"n": "{now}"}, {"types": ["integer"], "required": True}),
        ({"n": "{uuid}"}, {"types": ["string"], "required": True}),
        ({"n": "at {now}"}, {"types": ["string"], "required": True}),
        ({"n": "{params/limit}"}, {"types": [ANY], "required": False}),
        ({"n": "{params}"}, {"types": ["object"], "open": True, "required": True}),
        ({"n": "{paging/nope}"}, None),
        ({"n": "{object/x}"}, None),
        ({"n": "x {params/limit}"}, {"types": ["string"], "required": False}),
        ({"n": ["{paging/next}", 1]}, {"types": ["array"], "items": {"types": ["integer", "string"]}, "required": True}),
        ({"n": {"...": "{paging}"}}, {"types": ["object"], "keys": PAGING_KEYS, "required": False}),
        ({"n": "{items?}"}, {"types": ["array"], "items": {"types": ["object"], "keys": {"id": {"types": ["any"], "required": True}}}, "required": False}),
        ({"n": {"a": "x{paging/next!}", "b": 1}}, {"types": ["object"], "keys": {"a": {"types": ["string"], "required": True}, "b": {"types": ["integer"], "required": True}}, "required": False}),
        ({"n": {"a": "{paging/nope!}", "b": 1}}, None),
        ({"n": "{paging/text/total}"}, {"types": ["string"], "required": False}),
        ({"n": "{paging/pages}"}, {"types": ["integer"], "required": False}),
        ({"n": {}}, {"types": ["object"], "required": True}),
        ({"n": "a {paging/nope}"}, None),
        ({"n": ["{paging/nope}"]}, {"types": ["array"], "required": True}),
        ({"n": {"...": "{paging/total}"}}, None),
        ({"n": {"...": "{params}"}}, {"types": ["object"], "open": True, "required": False}),
        ({"n": {"a": "{paging/next}"}}, {"types": ["object"], "keys": {"a": {"types": ["string"], "required": False}}, "required": False}),
        ({"n": "{items}"}, {"types": ["array"], "items": {"types": ["object"], "keys": {"id": {"types": ["any"], "required": True}}}, "required": True}),
    ],
)  # fmt: skip
def test_each_placeholder_gives_the_type_it_produces(
    template: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    problems: list[str] = []
    block = parse_state(
        {
            "object": "widgets",
            "operation": "list",
            "record": {"id": "id", "ids": "counter", "created": "at", "clock": "unix"},
            "item": {"id": "{record/id}"},
            "reply": {"data": {"rows": "{items}", **template}},
        },
        parameters={"limit": Parameter(name="limit")},
        report=lambda pointer, message, hint: problems.append(f"{pointer}: {message}"),
    )
    assert problems == []
    action = Action(slug="acme", action_id="list_widgets", name="List", state=block)
    data = reply_shapes(action)["Success"]["keys"]["data"]
    assert data["keys"].get("n") == expected


def test_a_reply_its_template_may_leave_empty_has_data_null_and_so_may_a_deleted_item() -> None:
    problems: list[str] = []
    block = parse_state(
        {
            "object": "widgets",
            "operation": "get",
            "id_param": "id",
            "record": {"id": "id", "ids": "counter"},
            "reply": {"http_status": 200, "data": {"colour": "{record/colour}"}},
            "on_missing": {"http_status": 404, "data": {"error": "no widget {id}"}},
        },
        parameters={"id": Parameter(name="id", required=True)},
        report=lambda pointer, message, hint: problems.append(f"{pointer}: {message}"),
    )
    assert problems == []
    action = Action(slug="acme", action_id="get_widget", name="Get", state=block)
    shapes = reply_shapes(action)
    assert shapes["Success"]["keys"]["data"] == {
        "keys": {"colour": {"required": False, "types": [ANY]}},
        "required": True,
        "types": ["null", "object"],
    }
    assert shapes["Errored"]["keys"]["data"]["keys"]["error"]["types"] == ["string"]
    # A delete the app answers as a success even for a missing record: no Errored reply.
    delete = reply_shapes(BUILTIN.get("hubspot", "delete_contact"))
    assert list(delete) == ["Success"]
    assert delete["Success"]["keys"]["data"]["types"] == ["null"]
    assert "http_status" not in delete["Success"]["keys"] or delete["Success"]["keys"][
        "http_status"
    ]["types"] == ["integer"]


def test_item_timestamps_app_errors_numbered_cursors_and_views() -> None:
    from refold_contract.catalogue.state import (
        Paging,
        RecordModel,
        Reply,
        StateBlock,
        Template,
        View,
    )

    block = StateBlock(
        object="invoices",
        operation="list",
        record=RecordModel(id="id", ids="counter", created="made"),
        paging=Paging(style="netsuite", limit="limit", offset="offset"),
        item=Template({"id": "{record/id}", "made": "{created}", "changed": "{updated}"}),
        reply=Reply(Template({"items": "{items}", "next": "{paging/next}"})),
        on_invalid=Reply(Template({"errors": "{errors}", "code": "{code}"}), 400, "Errored"),
    )
    action = Action(slug="acme", action_id="list_invoices", name="List", state=block)
    shapes = reply_shapes(action)
    data = shapes["Success"]["keys"]["data"]
    assert data["keys"]["next"] == {"types": ["integer"], "required": False}  # NetSuite offsets
    assert data["keys"]["items"]["items"]["keys"] == {
        "changed": {"types": [ANY], "required": False},
        "id": {"types": [ANY], "required": True},
        "made": {"types": [ANY], "required": False},
    }
    errored = shapes["Errored"]["keys"]["data"]["keys"]
    assert errored["errors"] == {"types": ["array"], "items": {"types": [ANY]}, "required": False}
    assert errored["code"] == {"types": ["string"], "required": True}
    # Gmail's format reshapes each message after the template: any member, untyped.
    gmail = reply_shapes(BUILTIN.get("gmail", "get_message"))["Success"]["keys"]["data"]
    assert gmail["types"] == ["object"]
    assert gmail["open"] is True
    viewed = dataclasses.replace(
        block,
        operation="get",
        view=View(style="gmail", param="format"),
        reply=Reply(Template({"message": "{item}"})),
    )
    message = reply_shapes(dataclasses.replace(action, state=viewed))["Success"]["keys"]["data"]
    assert message["keys"]["message"] == {"types": ["object"], "open": True, "required": True}


def test_a_namespace_the_reply_kind_never_fills_gives_nothing() -> None:
    """Lint refuses such templates; a block built in code is still read honestly."""
    from refold_contract.catalogue.state import Reply, StateBlock, Template

    block = StateBlock(
        object="widgets",
        operation="get",
        item=Template({"n": "{items}"}),
        reply=Reply(Template({"a": "{items}", "b": "{message}", "c": "{item}", "d": 1})),
    )
    action = Action(slug="acme", action_id="get_widget", name="Get", state=block)
    data = reply_shapes(action)["Success"]["keys"]["data"]
    assert data["keys"] == {
        "c": {"types": ["null"], "required": True},  # an item its template leaves nothing of
        "d": {"types": ["integer"], "required": True},
    }


# ------------------------------------------------------------------ every branch of verify

GET_CONTACT = BUILTIN.get("hubspot", "get_contact")


def only(action: Action, *data: Any, status: str = "Success") -> Catalogue:
    """The built-in catalogue with ``action`` answering only ``data``, and no state block."""
    examples = tuple(
        Example(params={}, response={"node_status": status, "data": d}, source="t") for d in data
    )
    changed = dataclasses.replace(action, examples=examples, state=None)
    return Catalogue([*(a for a in BUILTIN if a.key != action.key), changed])


def contract_of(code: Callable[[Any], Any], data: Any, *, status: str = "Success") -> Any:
    recorder = ReadRecorder()
    recorder.record_call("hubspot", "get_contact", {})
    code(recorder.track_reply("hubspot", "get_contact", {"node_status": status, "data": data}))
    return recorder.contract()


def test_a_finding_prints_as_breaking_or_as_a_note() -> None:
    assert str(Finding("a/b", "path_gone", "$.data.x", "gone", True)) == (
        "BREAKING a/b path_gone $.data.x: gone"
    )
    assert (
        str(Finding("a/b", "unchecked", None, "no reply", False)) == "note a/b unchecked: no reply"
    )


def test_verify_live_reports_an_action_refold_no_longer_has_and_one_it_fetched_nothing_for() -> (
    None
):
    contract = contract_of(lambda b: b["data"]["total"], {"total": 1})

    def gone(action: Action) -> list[Any]:
        raise LookupError(f"Action '{action.action_id}' not found\nmore")

    [finding] = verify_live(contract, BUILTIN, gone)
    assert kinds([finding]) == [("action_gone", None, True)]
    assert finding.detail == "Refold no longer has it live: Action 'get_contact' not found"
    [finding] = verify_live(contract, BUILTIN, lambda action: [])
    assert kinds([finding]) == [("unchecked", None, False)]
    assert finding.detail == "no live reply was fetched, so its reads were not checked"


def test_a_presence_read_passes_when_the_path_is_there_and_is_a_note_when_gone() -> None:
    contract = contract_of(lambda b: "paging" in b["data"], {"paging": {}})
    assert verify(contract, only(GET_CONTACT, {"paging": {"next": {}}})) == []
    findings = verify(contract, only(GET_CONTACT, {"results": []}))
    assert kinds(findings) == [("presence_gone", "$.data.paging", False)]
    assert findings[0].detail.startswith("tested with `in` by your code; in no example reply")


def test_a_read_below_a_gone_or_retyped_parent_is_reported_once_at_the_parent() -> None:
    contract = contract_of(lambda b: b["data"]["paging"]["next"]["after"], {"paging": {"next": {"after": "2"}}})  # fmt: skip
    assert kinds(verify(contract, only(GET_CONTACT, {"results": []}))) == [
        ("path_gone", "$.data.paging", True)
    ]
    assert kinds(verify(contract, only(GET_CONTACT, {"paging": "none"}))) == [
        ("type_changed", "$.data.paging", True)
    ]
    listed = contract_of(lambda b: b["data"]["results"][0]["id"], {"results": [{"id": "1"}]})
    assert kinds(verify(listed, only(GET_CONTACT, {"results": {"id": "1"}}))) == [
        ("type_changed", "$.data.results", True)
    ]


def test_a_whole_value_gone_is_breaking_and_one_below_a_gone_parent_is_not_repeated() -> None:
    def code(body: Any) -> None:
        json.dumps(body["data"]["paging"]["next"])

    contract = contract_of(code, {"paging": {"next": {"after": "2"}}})
    findings = verify(contract, only(GET_CONTACT, {"paging": {}}))
    assert [(f.kind, f.path, f.breaking, f.detail) for f in findings] == [
        (
            "path_gone",
            "$.data.paging.next",
            True,
            "read by your code; in no example reply with node_status 'Success'",
        ),
        (
            "path_gone",
            "$.data.paging.next",
            True,
            "read as a whole value by your code; in no example reply with node_status 'Success'",
        ),
    ]
    assert kinds(verify(contract, only(GET_CONTACT, {"results": []}))) == [
        ("path_gone", "$.data.paging", True)
    ]


def test_a_whole_value_below_an_empty_array_cannot_be_checked() -> None:
    def code(body: Any) -> None:
        mark_whole(body["data"]["results"][0])

    contract = contract_of(code, {"results": [{"id": "1"}]})
    findings = verify(contract, only(GET_CONTACT, {"results": []}))
    assert kinds(findings) == [("unchecked", "$.data.results[*]", False)]
    assert "no elements or members there, so 2 read(s) could not be checked" in findings[0].detail


def test_the_unchecked_note_names_three_paths_and_counts_the_rest() -> None:
    def code(body: Any) -> None:
        row = body["data"]["results"][0]
        (row["a"], row["b"], row["c"], row["d"])

    contract = contract_of(code, {"results": [{"a": 1, "b": 2, "c": 3, "d": 4}]})
    [finding] = verify(contract, only(GET_CONTACT, {"results": []}))
    assert finding.detail.endswith(
        "$.data.results[*], $.data.results[*].a, $.data.results[*].b and 2 more"
    )


def test_a_number_read_accepts_an_integer_and_a_read_of_nothing_typed_accepts_anything() -> None:
    contract = contract_of(lambda b: b["data"]["total"], {"total": 1.5})
    assert verify(contract, only(GET_CONTACT, {"total": 3})) == []
    assert kinds(verify(contract, only(GET_CONTACT, {"total": "3"}))) == [
        ("type_changed", "$.data.total", True)
    ]
    # Only ever read absent (.get of a missing key): no type to hold the catalogue to.
    absent = contract_of(lambda b: b["data"].get("total"), {})
    assert verify(absent, only(GET_CONTACT, {"total": "3"})) == []


def test_an_integer_read_does_not_accept_a_number() -> None:
    contract = contract_of(lambda b: b["data"]["total"], {"total": 1})
    assert kinds(verify(contract, only(GET_CONTACT, {"total": 1.5}))) == [
        ("type_changed", "$.data.total", True)
    ]


def test_inside_a_whole_value_an_optional_member_may_go_and_an_empty_array_is_not_checked() -> None:
    def code(body: Any) -> None:
        json.dumps(body["data"]["results"])

    seen = [{"id": "1", "email": "a@b.co"}, {"id": "2"}]  # email in some: not required
    contract = contract_of(code, {"results": seen})
    assert verify(contract, only(GET_CONTACT, {"results": [{"id": "3"}]})) == []
    assert kinds(verify(contract, only(GET_CONTACT, {"results": []}))) == [
        ("unchecked", "$.data.results[*]", False)  # the iteration's read; the whole one passes
    ]
    assert kinds(verify(contract, only(GET_CONTACT, {"results": [{"email": "x"}]}))) == [
        ("path_gone", "$.data.results[*].id", True)
    ]
    nested = contract_of(code, {"results": [[1]]})
    assert kinds(verify(nested, only(GET_CONTACT, {"results": [[]]}))) == [
        ("unchecked", "$.data.results[*][*]", False)
    ]
    # Once as read, once inside the value read whole.
    assert (
        kinds(verify(nested, only(GET_CONTACT, {"results": [["x"]]})))
        == [("type_changed", "$.data.results[*][*]", True)] * 2
    )


def test_a_wildcard_member_read_merges_every_member_and_an_empty_object_is_unchecked() -> None:
    def code(body: Any) -> None:
        for value in body["data"]["counts"].values():
            value + 0

    contract = contract_of(code, {"counts": {"a": 1}})
    assert verify(contract, only(GET_CONTACT, {"counts": {"x": 2, "y": 3}})) == []
    assert kinds(verify(contract, only(GET_CONTACT, {"counts": {"x": 2, "y": "3"}}))) == [
        ("type_widened", "$.data.counts.*", False)
    ]
    [finding] = verify(contract, only(GET_CONTACT, {"counts": {}}))
    assert (finding.kind, finding.path) == ("unchecked", "$.data.counts.*")


def test_a_type_only_ever_null_is_news_and_a_new_type_beside_it_is_widened() -> None:
    contract = contract_of(lambda b: b["data"]["owner"], {"owner": None})
    findings = verify(contract, only(GET_CONTACT, {"owner": "x"}))
    assert kinds(findings) == [("type_widened", "$.data.owner", False)]
    assert findings[0].detail.startswith("your code read only null; the example replies")


def test_a_status_offered_only_by_a_state_block_template_is_checked_not_unchecked() -> None:
    errored = {"status": "error", "message": "m", "correlationId": "c", "category": "X"}
    contract = contract_of(lambda b: b["data"]["category"], errored, status="Errored")
    search = BUILTIN.get("hubspot", "search_contacts")
    success_only = tuple(e for e in search.examples if e.node_status == "Success")
    catalogue = Catalogue(
        [
            *(a for a in BUILTIN if a.key != "hubspot/get_contact"),
            dataclasses.replace(GET_CONTACT, examples=success_only),
        ]
    )
    assert verify(contract, catalogue) == []  # on_invalid's data has a category
    wrong = contract_of(lambda b: b["data"]["errorCode"], {"errorCode": "x"}, status="Errored")
    assert kinds(verify(wrong, catalogue)) == [("path_gone", "$.data.errorCode", True)]
    without = Catalogue(
        [
            *(a for a in BUILTIN if a.key != "hubspot/get_contact"),
            dataclasses.replace(GET_CONTACT, examples=success_only, state=None),
        ]
    )
    assert kinds(verify(contract, without)) == [("unchecked", None, False)]


def test_below_an_untyped_value_and_an_open_object_every_read_is_present(tmp_path: Path) -> None:
    catalogue = soql_catalogue(tmp_path)
    recorder = ReadRecorder()
    body = recorder.track_reply(
        "salesforce",
        "httprequest",
        {
            "node_status": "Success",
            "data": {"records": [{"Account": {"Owner": {"Name": 1}}, "Tags": {"a": [1]}}]},
        },
    )
    row = body["data"]["records"][0]
    assert row["Account"]["Owner"]["Name"] == 1
    assert [v for v in row["Tags"].values()] == [[1]]
    json.dumps(row["Account"])  # whole: nothing under an open object is required
    assert breaking(verify(recorder.contract(), catalogue)) == []
    # An example's object where the template has a record field: any member may be there.
    by_id = BUILTIN.get("hubspot", "get_contact_by_id")
    example = Example(
        params={"contactId": "1"},
        response={"node_status": "Success", "data": {"id": "1", "createdAt": {"a": 1}}},
    )
    changed = dataclasses.replace(by_id, examples=(example,))
    catalogue = Catalogue([*(a for a in BUILTIN if a.key != by_id.key), changed])
    recorder = ReadRecorder()
    body = recorder.track_reply(
        "hubspot", "get_contact_by_id", {"node_status": "Success", "data": {"createdAt": {"b": 2}}}
    )
    assert body["data"]["createdAt"]["b"] == 2
    json.dumps(body["data"]["createdAt"])  # whole, and 'b' in every reply the code saw
    assert verify(recorder.contract(), catalogue) == []
    stateless = dataclasses.replace(changed, state=None)
    bare = Catalogue([*(a for a in BUILTIN if a.key != by_id.key), stateless])
    # Read, and inside the value read whole.
    assert (
        breaking(verify(recorder.contract(), bare))
        == [("hubspot/get_contact_by_id", "path_gone", "$.data.createdAt.b")] * 2
    )


def test_a_live_reply_with_an_element_missing_a_read_field_and_an_unhandled_status() -> None:
    contract = contract_of(lambda b: [r["id"] for r in b["data"]["results"]], {"results": [{"id": "1"}]})  # fmt: skip
    entry = contract.actions["hubspot/get_contact"]
    reply = {"node_status": "Success", "data": {"results": [{"id": "1"}, {}]}}
    assert kinds(verify_reply(entry, reply)) == [("path_gone", "$.data.results[*].id", True)]
    assert kinds(verify_reply(entry, {"node_status": "Errored", "data": None})) == [
        ("status_not_handled", "$.node_status", False)
    ]
    assert kinds(verify_reply(entry, ["not", "an", "envelope"])) == [
        ("status_not_handled", "$.node_status", False)
    ]


def test_a_reply_served_where_reads_cannot_be_seen_is_noted_as_opaque() -> None:
    recorder = ReadRecorder()
    recorder.record_opaque_reply("hubspot", "get_contact", {"node_status": "Success", "data": {"total": 1}})  # fmt: skip
    findings = verify(recorder.contract(), only(GET_CONTACT, {"total": 2}))
    assert kinds(findings) == [("opaque", "$", False)]
    assert findings[0].detail.startswith("node_status 'Success': replies were served over HTTP")


def test_verify_live_checks_a_write_action_against_the_catalogue_without_fetching() -> None:
    recorder = ReadRecorder()
    recorder.record_call("hubspot", "create_contact", {"email": "a@b.co"})
    body = recorder.track_reply(
        "hubspot", "create_contact", {"node_status": "Success", "data": {"idd": "1"}}
    )
    assert body["data"]["idd"] == "1"

    def fetch(action: Action) -> list[Any]:
        raise AssertionError(f"fetched {action.key}")

    findings = verify_live(recorder.contract(), BUILTIN, fetch)
    assert kinds(findings) == [
        ("path_gone", "$.data.idd", True),
        ("unchecked", None, False),
    ]
    assert "live mode sends reads only" in findings[1].detail


def test_verify_command_prints_json_and_can_leave_the_built_in_catalogue_out(
    tmp_path: Path,
) -> None:
    contract = contract_of(lambda b: b["data"]["total"], {"total": 1})
    path = contract.save(tmp_path / "c.json")
    out = io.StringIO()
    assert verify_command(path, include_builtin=False, as_json=True, out=out) == 1
    document = json.loads(out.getvalue())
    assert (document["breaking"], document["non_breaking"]) == (1, 0)
    assert document["findings"][0]["kind"] == "action_gone"
    assert ConsumerContract.load(path) == contract


def test_the_verifier_does_not_change_the_contract_it_checks() -> None:
    contract = contract_of(lambda b: b["data"]["total"], {"total": 1})
    before = copy.deepcopy(contract)
    verify(contract, BUILTIN)
    assert contract == before


def test_merging_an_open_shape_keeps_it_open() -> None:
    from refold_contract.consumer.model import merge_shapes

    closed: Mapping[str, Any] = {"types": ["object"], "keys": {"a": {"types": ["string"], "required": True}}}  # fmt: skip
    merged = merge_shapes(closed, {"types": ["object"], "open": True})
    assert merged["open"] is True
    assert merge_shapes({"types": ["null"], "open": True}, closed)["open"] is True
    assert "open" not in merge_shapes(closed, closed)
