"""The built-in catalogue holds what the reference names, in each app's native reply shape."""

from __future__ import annotations

import re
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
    "workday": {"get_workers", "create_worker"},
    "slack": {"list_channels", "get_conversation_history", "search_messages"},
    "gmail": {"list_messages", "get_message"},
    "zendesk": {"get_ticket_by_id"},
}

DOCUMENTED_GET_CONTACT = {
    "node_status": "Success",
    "data": {
        "results": [
            {
                "id": "51",
                "properties": {
                    "email": "contact@example.com",
                    "firstname": "Brian",
                    "lastname": "Halligan (Sample Contact)",
                    "createdate": "2023-10-06T09:53:17.242Z",
                },
                "createdAt": "2023-10-06T09:53:17.242Z",
                "updatedAt": "2024-05-15T18:35:12.877Z",
                "archived": False,
            }
        ],
        "paging": {},
    },
}
DOCUMENTED_CREATE_CONTACT = {
    "node_status": "Success",
    "data": {"id": "1510721", "createdAt": "2026-06-21T10:04:11.000Z"},
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


def test_documented_replies_appear_verbatim() -> None:
    get_contact = CATALOGUE.get("hubspot", "get_contact").examples[0]
    assert (dict(get_contact.params), dict(get_contact.response)) == (
        {"limit": "1"},
        DOCUMENTED_GET_CONTACT,
    )
    replies = [dict(e.response) for e in CATALOGUE.get("hubspot", "create_contact").examples]
    assert DOCUMENTED_CREATE_CONTACT in replies
    older = [r for r in replies if r.get("http_status") == 200]
    assert older, "the older full reply with http_status 200 is missing"
    assert {"id", "properties", "createdAt", "updatedAt", "archived"} <= set(older[0]["data"])
    props = older[0]["data"]["properties"]
    assert {"createdate", "email", "firstname", "lastname", "hs_object_id"} <= set(props)


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


NATIVE_SHAPES = {
    "hubspot": _shape_hubspot,
    "salesforce": _shape_salesforce,
    "slack": lambda d: d.get("ok") is True,
    "gmail": lambda d: "messages" in d or {"id", "threadId"} <= set(d),
    "zendesk": lambda d: {"id", "subject", "status"} <= set(d["ticket"]),
    "netsuite": lambda d: {"items", "count", "hasMore", "totalResults"} <= set(d),
    "workday": lambda d: {"total", "data"} <= set(d),
}


@pytest.mark.parametrize("action", CATALOGUE.actions(access="read"), ids=lambda a: a.key)
def test_read_replies_are_in_the_apps_native_shape(action: Action) -> None:
    for example in action.examples:
        assert NATIVE_SHAPES[action.slug](example.data), example.source


def test_slack_list_channels_and_salesforce_paging() -> None:
    channels = CATALOGUE.get("slack", "list_channels").examples[0].data
    assert {"ok", "channels", "response_metadata"} <= set(channels)
    soql = [e.data for e in CATALOGUE.get("salesforce", "get_entity_with_soql").examples]
    assert any(d["done"] is False and "nextRecordsUrl" in d for d in soql)
