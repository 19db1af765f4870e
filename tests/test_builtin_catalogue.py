"""The built-in catalogue holds what the reference names, in each app's native reply shape."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from refold_contract import Action, Catalogue

CATALOGUE = Catalogue.builtin()

EXPECTED = {
    "hubspot": {
        "httprequest",
        "create_contact",
        "create_task",
        "create_company",
        "create_deal",
        "update_contact",
        "delete_contact",
        "get_contact",
        "get_contact_by_id",
        "search_contacts",
    },
    "salesforce": {
        "httprequest",
        "get_entity_with_soql",
        "get_accounts",
        "create_account",
        "update_account",
        "delete_account",
        "create_contact",
        "create_lead",
        "create_opportunity",
    },
    "netsuite": {"get_list_of_records_invoice"},
    "workday": {"get_workers"},
    "slack": {
        "list_channels",
        "get_conversation_history",
        "list_thread_messages",
        "post_message",
        "search_messages",
    },
    "gmail": {"list_messages", "get_message"},
    "zendesk": {"get_ticket_by_id"},
}


def test_every_action_the_reference_names_is_there_and_nothing_else() -> None:
    assert {slug: {a.action_id for a in CATALOGUE.actions(slug)} for slug in CATALOGUE.apps()} == (
        EXPECTED
    )


def test_hubspot_create_contact_parameters_are_exactly_as_documented() -> None:
    action = CATALOGUE.get("hubspot", "create_contact")
    text = [
        "firstname",
        "lastname",
        "email",
        "phone",
        "company",
        "website",
        "jobtitle",
        "hubspot_owner_id",
    ]
    assert [(p.name, p.type, p.required) for p in action.parameters] == [
        *((name, "text", name == "email") for name in text),
        ("associations", "json", False),
        ("additional_fields", "json", False),
    ]


def test_hubspot_search_contacts_parameters_are_exactly_as_documented() -> None:
    action = CATALOGUE.get("hubspot", "search_contacts")
    assert [(p.name, p.type, p.required) for p in action.parameters] == [
        ("propertyName", "text", True),
        ("operator", "text", True),
        ("value", "text", True),
        ("query", "text", False),
        ("limit", "text", False),
    ]


def test_documented_replies_come_first_and_carry_no_http_status_where_refold_shows_none() -> None:
    get_contact = CATALOGUE.get("hubspot", "get_contact").examples[0]
    assert dict(get_contact.params) == {"limit": "1"}
    assert list(get_contact.response) == ["node_status", "data"]
    replies = [dict(e.response) for e in CATALOGUE.get("hubspot", "create_contact").examples]
    assert list(replies[0]) == ["node_status", "data"]  # the newest page: no http_status
    older = [r for r in replies if r.get("http_status") == 200]
    assert older, "the older full reply with http_status 200 is missing"
    assert {"id", "properties", "createdAt", "updatedAt", "archived"} <= set(older[0]["data"])


def test_the_access_rule_gives_reads_and_writes_as_named() -> None:
    for action in CATALOGUE:
        expected = "read" if action.action_id.startswith(("get_", "list_", "search_")) else "write"
        assert action.access == expected, action.key


@pytest.mark.parametrize("action", CATALOGUE.actions(access="read"), ids=lambda a: a.key)
def test_every_read_action_has_a_successful_example(action: Action) -> None:
    assert any(e.node_status == "Success" for e in action.examples)


@pytest.mark.parametrize("action", list(CATALOGUE), ids=lambda a: a.key)
def test_every_example_says_where_it_came_from_and_holds_fake_data_only(action: Action) -> None:
    assert action.examples, "the mock needs at least one reply"
    for example in action.examples:
        assert example.source.strip()
        text = repr(example.to_json())
        for address in re.findall(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)", text):
            assert address == "example.com" or address.endswith(".example.com"), address


def _shape_hubspot(data: Any) -> bool:
    def obj(o: dict[str, Any]) -> bool:
        return {"id", "properties", "createdAt", "updatedAt", "archived"} <= set(o)

    if "results" in data:
        return all(obj(o) for o in data["results"]) and ("paging" in data or "total" in data)
    return obj(data)


def _shape_salesforce(data: Any) -> bool:
    return {"totalSize", "done", "records"} <= set(data) and all(
        "attributes" in r and "type" in r["attributes"] for r in data["records"]
    )


NATIVE_SHAPES: dict[str, Callable[[Any], bool]] = {
    "hubspot": _shape_hubspot,
    "salesforce": _shape_salesforce,
    "slack": lambda d: d.get("ok") is True,
    "gmail": lambda d: "messages" in d or {"id", "threadId"} <= set(d),
    "zendesk": lambda d: {"id", "subject", "status"} <= set(d["ticket"]),
    "netsuite": lambda d: "items" in d and all("id" in item for item in d["items"]),
    "workday": lambda d: {"total", "data"} <= set(d) or "wd:Get_Workers_Response" in str(d),
}


@pytest.mark.parametrize("action", CATALOGUE.actions(access="read"), ids=lambda a: a.key)
def test_successful_read_replies_are_in_the_apps_native_shape(action: Action) -> None:
    for example in action.examples:
        if example.node_status == "Success":
            assert NATIVE_SHAPES[action.slug](example.data), example.source


@pytest.mark.parametrize("action", list(CATALOGUE), ids=lambda a: a.key)
def test_app_failures_are_errored_replies_with_the_apps_own_error_body(action: Action) -> None:
    for example in action.examples:
        if example.node_status != "Success":
            assert example.node_status == "Errored"
            assert example.data["ok"] is False  # Slack's own {"ok": false, "error": ...}
            assert example.data["error"] in {"not_in_channel", "not_allowed_token_type"}


def test_the_first_successful_example_is_the_one_the_sources_rank_first() -> None:
    workers = CATALOGUE.get("workday", "get_workers").examples
    assert "env:Envelope" in workers[0].data  # Refold's recipe reads a SOAP envelope
    assert all("env:Envelope" in e.data for e in workers)  # one shape (changelog, July 2026)
    invoices = CATALOGUE.get("netsuite", "get_list_of_records_invoice").examples
    assert dict(invoices[0].params) == {}  # Refold's quickstart sends {}
    assert set(invoices[0].data["items"][0]) == {"id", "tranId", "entity", "total", "status"}
    assert any("totalResults" in e.data for e in invoices[1:])  # NetSuite's REST list kept


def test_slack_list_channels_and_salesforce_paging() -> None:
    channels = CATALOGUE.get("slack", "list_channels").examples[0].data
    assert {"ok", "channels", "response_metadata"} <= set(channels)
    soql = [e.data for e in CATALOGUE.get("salesforce", "get_entity_with_soql").examples]
    assert any(d["done"] is False and "nextRecordsUrl" in d for d in soql)


def test_every_builtin_action_says_where_its_facts_come_from_and_lint_is_clean() -> None:
    for action in CATALOGUE:
        assert action.evidence is not None, action.key
        for level in (action.evidence.schema, action.evidence.reply):
            if level != "assumed":
                assert action.evidence.sources, action.key
    report = Catalogue.lint_report(Catalogue.builtin_path())
    assert (report.errors, report.warnings) == ([], [])
    assert report.files == len(CATALOGUE)


# The table moved from the README to the catalogue reference page of the docs site.
README = Path(__file__).resolve().parent.parent / "docs" / "reference" / "catalogue.md"
_ROW = re.compile(r"^\| `([\w-]+/[\w-]+)` \| (read|write) \| ([\w-]+) \| ([\w-]+) \|$", re.M)


def _evidence_table() -> str:
    lines = ["| action | access | schema | reply |", "|---|---|---|---|"]
    for a in CATALOGUE:
        assert a.evidence is not None
        lines.append(f"| `{a.key}` | {a.access} | {a.evidence.schema} | {a.evidence.reply} |")
    return "\n".join(lines)


def test_the_readme_evidence_table_matches_the_files() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Built-in actions and their evidence", 1)[1].split("\n#", 1)[0]
    rows = _ROW.findall(section)
    expected = [
        (a.key, a.access, a.evidence.schema, a.evidence.reply)
        for a in CATALOGUE
        if a.evidence is not None
    ]
    assert rows == expected, "README table out of date; it should read:\n" + _evidence_table()
