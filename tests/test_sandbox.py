"""The stateful sandbox: the store, every operation, the paging conventions, the SOQL subset,
each app's not-found reply, seeding, and lint of state blocks."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from refold_contract import Catalogue
from refold_contract.catalogue.template import MISSING, Context, compile_template, unify
from refold_contract.errors import (
    CatalogueError,
    InvalidRecord,
    MalformedQuery,
    RefoldError,
    SandboxError,
    UnknownObjectType,
    UnsupportedQuery,
)
from refold_contract.sandbox import Clock, Sandbox, SandboxReply, StateBlock, Store, parse_soql
from refold_contract.sandbox.matching import matches, norm
from refold_contract.sandbox.store import salesforce_id

from .helpers import action_doc, write_action

CATALOGUE = Catalogue.builtin()
EPOCH = dt.datetime(2025, 7, 8, 14, 5, 33, 812000, tzinfo=dt.timezone.utc)
SUBSET = (
    "SELECT fields FROM Object [WHERE conditions] "
    "[ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n]"
)


@pytest.fixture
def store() -> Store:
    return Store(CATALOGUE, clock=Clock(start=EPOCH))


@pytest.fixture
def sandbox(store: Store) -> Sandbox:
    return Sandbox(CATALOGUE, store)


def call(sandbox: Sandbox, key: str, params: dict[str, Any], account: str | None = None) -> Any:
    slug, action_id = key.split("/")
    reply = sandbox.answer(CATALOGUE.get(slug, action_id), params, account)
    assert reply is not None, f"{key} was not answered by the sandbox"
    return reply


def ids_of(sandbox: Sandbox, slug: str, object_type: str, field: str) -> list[Any]:
    return [r[field] for r in sandbox.records(slug, object_type)]


# ---------------------------------------------------------------------- the store


def test_the_store_starts_from_the_records_in_the_catalogues_examples(store: Store) -> None:
    contacts = {r["hs_object_id"]: r for r in store.records("hubspot", "contacts")}
    assert set(contacts) == {"51", "1510745", "1510768", "1510790"}
    # One contact seen in several examples keeps the fields of all of them.
    assert contacts["1510768"]["company"] == "Bluepeak Analytics"
    assert contacts["1510768"]["email"] == "priya.natarajan@example.com"
    # A create example's contact did not exist before the call: it is not in the store.
    assert all(c.get("email") != "jane@example.com" for c in contacts.values())
    channel_ids = [r["id"] for r in store.records("slack", "channels")]
    assert channel_ids == ["C012AB3CD", "C04LK9P2QRT", "C05QF7RM2LB"]
    # A query row's parent becomes a lookup field and a parent record.
    contact = next(r for r in store.records("salesforce", "Contact") if r["LastName"] == "Anand")
    assert contact["AccountId"] == "001Hs00002kQ7rTIAS"
    assert "Account" not in contact


def test_records_are_copies_and_each_store_and_each_account_is_its_own(store: Store) -> None:
    records = store.records("zendesk", "tickets")
    records[0]["subject"] = "changed"
    records[0]["tags"].append("changed")
    fresh = store.records("zendesk", "tickets")[0]
    assert fresh["subject"] != "changed"
    assert "changed" not in fresh["tags"]
    store.seed("zendesk", "tickets", [{"subject": "Only here"}], linked_account_id="user_2")
    assert len(store.records("zendesk", "tickets", linked_account_id="user_2")) == 3
    assert len(store.records("zendesk", "tickets")) == 2
    assert len(Store(CATALOGUE).records("zendesk", "tickets")) == 2


def test_seed_makes_app_style_ids_and_timestamps(store: Store) -> None:
    (hubspot,) = store.seed("hubspot", "contacts", [{"email": "ada@example.com"}])
    assert hubspot.isdigit()
    assert int(hubspot) > 1510790
    (record,) = [r for r in store.records("hubspot", "contacts") if r["hs_object_id"] == hubspot]
    assert record["createdate"] == "2025-07-08T14:05:33.812Z"
    assert record["lastmodifieddate"] == record["createdate"]
    (sf,) = store.seed("salesforce", "Lead", [{"LastName": "Moreau"}])
    assert re.fullmatch(r"00QHs[0-9A-Za-z]{10}[A-Z0-5]{3}", sf)
    assert salesforce_id(sf[:3], sf[5:15]) == sf  # the checksum suffix is Salesforce's
    lead = store.records("salesforce", "Lead")[-1]
    assert lead["CreatedDate"] == "2025-07-08T14:05:33.813+0000"
    (channel,) = store.seed("slack", "channels", [{"name": "new"}])
    assert re.fullmatch(r"C[0-9A-Z]{10}", channel)
    assert isinstance(store.records("slack", "channels")[-1]["created"], int)
    (message,) = store.seed("gmail", "messages", [{"threadId": "t"}])
    assert re.fullmatch(r"[0-9a-f]{16}", message)
    assert int(message, 16) > int("190a6c2f4e8b13d7", 16)
    (ticket,) = store.seed("zendesk", "tickets", [{"subject": "Refund"}])
    assert isinstance(store.records("zendesk", "tickets")[-1]["id"], int)
    assert ticket == str(store.records("zendesk", "tickets")[-1]["id"])
    (worker,) = store.seed("workday", "workers", [{"Worker_Descriptor": "Ada Lovelace"}])
    assert re.fullmatch(r"[0-9a-f]{32}", worker)
    (ts,) = store.seed("slack", "messages", [{"text": "hi", "channel": "C012AB3CD"}])
    assert re.fullmatch(r"\d{10}\.\d{6}", ts)


def test_seed_with_an_id_replaces_and_replace_clears_the_catalogues_records(store: Store) -> None:
    store.seed("zendesk", "tickets", [{"id": 35436, "subject": "Replaced", "status": "solved"}])
    tickets = {t["id"]: t for t in store.records("zendesk", "tickets")}
    assert tickets[35436] == {
        "id": 35436,
        "subject": "Replaced",
        "status": "solved",
        "created_at": "2025-07-08T14:05:33Z",
        "updated_at": "2025-07-08T14:05:33Z",
    }
    store.seed("zendesk", "tickets", [{"subject": "Only one"}], replace=True)
    assert [t["subject"] for t in store.records("zendesk", "tickets")] == ["Only one"]
    store.reset()
    assert len(store.records("zendesk", "tickets")) == 2


def test_seed_refuses_what_is_not_a_record_and_names_the_object_types(store: Store) -> None:
    with pytest.raises(InvalidRecord, match="record 1: a record must be an object") as bad:
        store.seed("hubspot", "contacts", [{"email": "a@example.com"}, "b@example.com"])  # type: ignore[list-item]
    assert bad.value.index == 1
    with pytest.raises(InvalidRecord, match="must be text or a whole number"):
        store.seed("hubspot", "contacts", [{"hs_object_id": ["1"]}])
    with pytest.raises(UnknownObjectType) as unknown:
        store.records("hubspot", "contact")
    assert "contacts" in str(unknown.value)
    assert isinstance(unknown.value, (SandboxError, LookupError, RefoldError))
    with pytest.raises(UnknownObjectType, match="no action of acme has a"):
        store.seed("acme", "widgets", [])


def test_concurrent_creates_from_threads_get_distinct_ids(sandbox: Sandbox) -> None:
    action = CATALOGUE.get("hubspot", "create_contact")
    ids: list[str] = []

    def work(n: int) -> None:
        for i in range(25):
            reply = sandbox.answer(action, {"email": f"t{n}-{i}@example.com"}, None)
            assert reply is not None
            ids.extend(reply.record_ids)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == len(set(ids)) == 200
    assert len(sandbox.records("hubspot", "contacts")) == 204


def test_the_clock_writes_each_apps_timestamp_style() -> None:
    moment = EPOCH
    assert Clock.format(moment, "iso-ms") == "2025-07-08T14:05:33.812Z"
    assert Clock.format(moment, "iso") == "2025-07-08T14:05:33Z"
    assert Clock.format(moment, "salesforce") == "2025-07-08T14:05:33.812+0000"
    assert Clock.format(moment, "unix") == 1751983533
    assert Clock.format(moment, "unix-ms") == "1751983533812"
    assert Clock.format(moment, "slack-ts") == "1751983533.812000"
    clock = Clock(start=EPOCH, tick=dt.timedelta(seconds=1))
    assert [clock.now().second for _ in range(3)] == [33, 34, 35]
    wall = Clock()
    assert wall.now() <= wall.now()


# ---------------------------------------------------------------------- operations


def test_an_action_without_a_state_block_is_left_to_replay(sandbox: Sandbox) -> None:
    assert sandbox.answer(CATALOGUE.get("slack", "post_message"), {"channel": "C1"}, None) is None
    # NetSuite's quickstart body has none of the paging params: replayed, not stateful.
    invoices = CATALOGUE.get("netsuite", "get_list_of_records_invoice")
    assert sandbox.answer(invoices, {}, None) is None
    # A Salesforce httprequest that is not a nextRecordsUrl is replayed too.
    other = {"method": "GET", "url_path": "/services/data/v59.0/sobjects/Account/001"}
    assert sandbox.answer(CATALOGUE.get("salesforce", "httprequest"), other, None) is None


def test_create_then_get_update_and_delete_a_hubspot_contact(sandbox: Sandbox) -> None:
    created = call(
        sandbox,
        "hubspot/create_contact",
        {
            "email": "ada@example.com",
            "firstname": "Ada",
            "associations": [{"to": {"id": "1"}}],
            "additional_fields": '{"lifecyclestage": "lead", "hs_lead_status": 3}',
        },
    )
    assert created.ok
    assert created.http_status is None  # as the default example: no http_status
    assert created.envelope() == {"node_status": "Success", "data": created.data}
    key = created.data["id"]
    # HubSpot's whole object: every property written, plus its id and timestamps.
    assert created.data == {
        "id": key,
        "properties": {
            "createdate": "2025-07-08T14:05:33.812Z",
            "email": "ada@example.com",
            "firstname": "Ada",
            "hs_lead_status": "3",
            "hs_object_id": key,
            "lastmodifieddate": "2025-07-08T14:05:33.812Z",
            "lifecyclestage": "lead",
        },
        "createdAt": "2025-07-08T14:05:33.812Z",
        "updatedAt": "2025-07-08T14:05:33.812Z",
        "archived": False,
    }
    got = call(
        sandbox,
        "hubspot/get_contact_by_id",
        {"contactId": key, "properties": "email,lifecyclestage,hs_lead_status,phone"},
    )
    assert got.http_status == 200
    assert got.data["properties"] == {
        "createdate": "2025-07-08T14:05:33.812Z",
        "email": "ada@example.com",
        "hs_lead_status": "3",
        "hs_object_id": key,
        "lastmodifieddate": "2025-07-08T14:05:33.812Z",
        "lifecyclestage": "lead",
        "phone": None,
    }
    stored = next(r for r in sandbox.records("hubspot", "contacts") if r["hs_object_id"] == key)
    assert "associations" not in stored
    updated = call(sandbox, "hubspot/update_contact", {"contactId": key, "phone": "+1 555 0100"})
    assert updated.data["properties"] == {
        "createdate": "2025-07-08T14:05:33.812Z",
        "hs_object_id": key,
        "lastmodifieddate": "2025-07-08T14:05:33.813Z",
        "phone": "+1 555 0100",
    }
    assert updated.data["updatedAt"] == "2025-07-08T14:05:33.813Z"
    deleted = call(sandbox, "hubspot/delete_contact", {"contactId": key})
    assert (deleted.node_status, deleted.http_status, deleted.data) == ("Success", 204, None)
    gone = call(sandbox, "hubspot/get_contact_by_id", {"contactId": key})
    assert (gone.node_status, gone.http_status, gone.data["category"]) == (
        "Errored",
        404,
        "OBJECT_NOT_FOUND",
    )
    # HubSpot archives a missing id with 204 too.
    assert call(sandbox, "hubspot/delete_contact", {"contactId": key}).http_status == 204


def test_a_taken_email_is_hubspots_409_on_create_and_update(sandbox: Sandbox) -> None:
    clash = call(sandbox, "hubspot/create_contact", {"email": "Jordan.Reyes@example.com"})
    assert (clash.node_status, clash.http_status) == ("Errored", 409)
    assert clash.data["message"] == "Contact already exists. Existing ID: 1510745"
    assert clash.data["category"] == "CONFLICT"
    again = call(
        sandbox,
        "hubspot/update_contact",
        {"contactId": "1510768", "email": "jordan.reyes@example.com"},
    )
    assert again.http_status == 409
    same = call(
        sandbox,
        "hubspot/update_contact",
        {"contactId": "1510745", "email": "jordan.reyes@example.com"},
    )
    assert same.ok


def test_creates_of_other_objects_answer_in_each_apps_shape(sandbox: Sandbox) -> None:
    company = call(
        sandbox,
        "hubspot/create_company",
        {"name": "Acme", "additional_fields": {"numberofemployees": 40}},
    )
    assert company.http_status == 200
    assert company.data["properties"]["numberofemployees"] == "40"
    assert list(company.data["properties"]) == sorted(company.data["properties"])
    task = call(sandbox, "hubspot/create_task", {"hs_timestamp": "2025-07-15T17:00:00.000Z"})
    assert task.data["createdAt"] == task.data["properties"]["hs_createdate"]
    account = call(
        sandbox,
        "salesforce/create_account",
        {"Name": "Acme", "NumberOfEmployees": "85", "AnnualRevenue": "1.5"},
    )
    assert account.http_status == 201
    assert account.data == {"id": account.record_ids[0], "success": True, "errors": []}
    stored = next(r for r in sandbox.records("salesforce", "Account") if r["Name"] == "Acme")
    assert (stored["NumberOfEmployees"], stored["AnnualRevenue"]) == (85, 1.5)


def test_salesforce_update_and_delete_answer_204_and_not_found(sandbox: Sandbox) -> None:
    updated = call(
        sandbox,
        "salesforce/update_account",
        {"Id": "001Hs00002kQ9bYIAS", "Type": "Partner", "additional_fields": {"Rating": "Hot"}},
    )
    assert (updated.http_status, updated.data) == (204, None)
    rows = call(
        sandbox,
        "salesforce/get_entity_with_soql",
        {"query": "SELECT Type, Rating FROM Account WHERE Id = '001Hs00002kQ9bYIAS'"},
    )
    assert rows.data["records"][0]["Type"] == "Partner"
    assert rows.data["records"][0]["Rating"] == "Hot"
    deleted = call(sandbox, "salesforce/delete_account", {"Id": "001Hs00002kQ9bYIAS"})
    assert (deleted.http_status, deleted.data) == (204, None)
    for key in ("salesforce/delete_account", "salesforce/update_account"):
        missing = call(sandbox, key, {"Id": "001Hs00002kQ9bYIAS"})
        assert (missing.node_status, missing.http_status) == ("Errored", 404)
        assert missing.data == [
            {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
        ]


@pytest.mark.parametrize(
    ("key", "params", "http_status", "body"),
    [
        (
            "hubspot/get_contact_by_id",
            {"contactId": "999"},
            404,
            {"status": "error", "message": "resource not found", "category": "OBJECT_NOT_FOUND"},
        ),
        (
            "hubspot/update_contact",
            {"contactId": "999", "phone": "1"},
            404,
            {"status": "error", "message": "resource not found", "category": "OBJECT_NOT_FOUND"},
        ),
        (
            "salesforce/delete_account",
            {"Id": "001Hs000000000AIAA"},
            404,
            [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
        ),
        (
            "zendesk/get_ticket_by_id",
            {"ticket_id": "1"},
            404,
            {"error": "RecordNotFound", "description": "Not found"},
        ),
        (
            "gmail/get_message",
            {"userId": "me", "id": "0000000000000000"},
            404,
            {
                "error": {
                    "code": 404,
                    "message": "Requested entity was not found.",
                    "errors": [
                        {
                            "message": "Requested entity was not found.",
                            "domain": "global",
                            "reason": "notFound",
                        }
                    ],
                    "status": "NOT_FOUND",
                }
            },
        ),
        (
            "slack/get_conversation_history",
            {"channel": "C0NOTTHERE"},
            200,
            {"ok": False, "error": "channel_not_found"},
        ),
    ],
)
def test_a_record_that_does_not_exist_is_the_apps_own_not_found(
    sandbox: Sandbox, key: str, params: dict[str, Any], http_status: int, body: Any
) -> None:
    reply = call(sandbox, key, params)
    assert reply.node_status == "Errored"
    assert not reply.ok
    assert reply.http_status == http_status
    data = dict(reply.data) if isinstance(reply.data, dict) else reply.data
    if isinstance(data, dict):
        data.pop("correlationId", None)
    assert data == body
    assert reply.envelope()["http_status"] == http_status


@pytest.mark.parametrize(
    ("key", "index"),
    [
        ("hubspot/get_contact_by_id", 0),
        ("hubspot/get_contact_by_id", 1),
        ("hubspot/search_contacts", 1),
        ("salesforce/get_entity_with_soql", 0),
        ("slack/list_channels", 0),
        ("slack/list_channels", 1),
        ("gmail/get_message", 0),
        ("zendesk/get_ticket_by_id", 1),
        ("workday/get_workers", 2),
    ],
)
def test_a_stateful_answer_to_an_examples_own_body_is_the_example(
    sandbox: Sandbox, key: str, index: int
) -> None:
    slug, action_id = key.split("/")
    example = CATALOGUE.get(slug, action_id).examples[index]
    reply = call(sandbox, key, dict(example.params))
    assert (reply.node_status, reply.http_status, reply.data) == (
        example.node_status,
        example.http_status,
        example.data,
    )


# ---------------------------------------------------------------------- HubSpot search


@pytest.fixture
def people(sandbox: Sandbox) -> dict[str, str]:
    rows = [
        {"email": "ada@acme.example.com", "firstname": "Ada", "age": "36", "city": "London"},
        {"email": "alan@acme.example.com", "firstname": "Alan", "age": "41"},
        {"email": "grace@navy.example.com", "firstname": "Grace", "age": "85", "city": ""},
    ]
    keys = sandbox.seed("hubspot", "contacts", rows, replace=True)
    return dict(zip(("ada", "alan", "grace"), keys, strict=True))


@pytest.mark.parametrize(
    ("prop", "op", "value", "who"),
    [
        ("email", "EQ", "ADA@acme.example.com", {"ada"}),
        ("email", "NEQ", "ada@acme.example.com", {"alan", "grace"}),
        ("email", "CONTAINS_TOKEN", "*@acme.example.com", {"ada", "alan"}),
        ("firstname", "CONTAINS_TOKEN", "grace", {"grace"}),
        ("age", "GT", "40", {"alan", "grace"}),
        ("age", "LT", "40", {"ada"}),
        ("age", "GTE", "41", {"alan", "grace"}),
        ("createdate", "GT", "1751983000000", {"ada", "alan", "grace"}),
        ("city", "HAS_PROPERTY", "x", {"ada"}),
        ("city", "NOT_HAS_PROPERTY", "x", {"alan", "grace"}),
        ("email", "NOT_CONTAINS_TOKEN", "*@navy.example.com", {"ada", "alan"}),
    ],
)
def test_search_contacts_finds_exactly_the_matching_contacts(
    sandbox: Sandbox, people: dict[str, str], prop: str, op: str, value: str, who: set[str]
) -> None:
    reply = call(
        sandbox, "hubspot/search_contacts", {"propertyName": prop, "operator": op, "value": value}
    )
    assert set(reply.record_ids) == {people[name] for name in who}
    assert reply.data["total"] == len(who)
    assert [r["id"] for r in reply.data["results"]] == sorted(reply.record_ids, key=int)


def test_search_pages_by_position_and_query_narrows_by_word_prefix(
    sandbox: Sandbox, people: dict[str, str]
) -> None:
    first = call(
        sandbox,
        "hubspot/search_contacts",
        {
            "propertyName": "email",
            "operator": "CONTAINS_TOKEN",
            "value": "*example.com",
            "limit": "2",
        },
    )
    assert first.data["total"] == 3
    assert first.data["paging"] == {"next": {"after": "2", "link": "?after=2"}}
    narrowed = call(
        sandbox,
        "hubspot/search_contacts",
        {"propertyName": "email", "operator": "HAS_PROPERTY", "value": "x", "query": "al"},
    )
    assert narrowed.record_ids == (people["alan"],)
    assert "paging" not in narrowed.data


def test_an_unknown_search_operator_is_hubspots_400(sandbox: Sandbox) -> None:
    reply = call(
        sandbox,
        "hubspot/search_contacts",
        {"propertyName": "email", "operator": "LIKE", "value": "x"},
    )
    assert (reply.node_status, reply.http_status) == ("Errored", 400)
    assert reply.data["category"] == "VALIDATION_ERROR"
    assert "LIKE" in reply.data["message"]


def test_searching_ten_thousand_contacts_uses_the_equality_index(sandbox: Sandbox) -> None:
    rows = [{"email": f"p{i}@example.com"} for i in range(10_000)]
    sandbox.seed("hubspot", "contacts", rows, replace=True)
    action = CATALOGUE.get("hubspot", "search_contacts")
    found = sandbox.answer(
        action, {"propertyName": "email", "operator": "EQ", "value": "P9999@example.com"}, None
    )
    assert found is not None
    assert found.data["total"] == 1
    assert found.data["results"][0]["properties"]["email"] == "p9999@example.com"


# ---------------------------------------------------------------------- paging


def walk(
    sandbox: Sandbox, key: str, params: dict[str, Any], cursor: str, next_at: tuple[str, ...]
) -> list[str]:
    seen: list[str] = []
    params = dict(params)
    for _ in range(1000):
        reply = call(sandbox, key, params)
        assert reply.ok, reply
        seen.extend(reply.record_ids)
        value: Any = reply.data
        for step in next_at:
            value = value.get(step) if isinstance(value, dict) else None
        if not value:
            return seen
        params[cursor] = value
    raise AssertionError("paging did not end")


def test_hubspot_get_contact_pages_250_contacts_with_after(sandbox: Sandbox) -> None:
    keys = sandbox.seed(
        "hubspot", "contacts", [{"email": f"c{i}@example.com"} for i in range(250)], replace=True
    )
    first = call(sandbox, "hubspot/get_contact", {"limit": "100"})
    last_id = first.record_ids[-1]
    assert first.data["paging"]["next"]["after"] == str(int(last_id) + 1)
    assert first.data["paging"]["next"]["link"].endswith(f"limit=100&after={int(last_id) + 1}")
    seen = walk(
        sandbox, "hubspot/get_contact", {"limit": "100"}, "after", ("paging", "next", "after")
    )
    assert seen == keys


def test_slack_list_channels_pages_250_channels_with_a_cursor(sandbox: Sandbox) -> None:
    keys = sandbox.seed(
        "slack",
        "channels",
        [{"name": f"c{i}", "is_archived": i % 10 == 0} for i in range(250)],
        replace=True,
    )
    first = call(sandbox, "slack/list_channels", {"limit": "7"})
    cursor = first.data["response_metadata"]["next_cursor"]
    assert base64.b64decode(cursor).decode() == "team:" + sorted(keys)[7]
    seen = walk(
        sandbox,
        "slack/list_channels",
        {"limit": "7"},
        "cursor",
        ("response_metadata", "next_cursor"),
    )
    assert seen == sorted(keys)
    live = walk(
        sandbox,
        "slack/list_channels",
        {"limit": "30", "exclude_archived": "true"},
        "cursor",
        ("response_metadata", "next_cursor"),
    )
    assert len(live) == 225
    last = call(sandbox, "slack/list_channels", {"limit": "1000"})
    assert last.data["response_metadata"] == {"next_cursor": ""}


def test_slack_history_pages_a_channels_250_messages_newest_first(sandbox: Sandbox) -> None:
    rows = [{"text": f"m{i}", "channel": "C012AB3CD"} for i in range(250)]
    keys = sandbox.seed("slack", "messages", rows)
    seen = walk(
        sandbox,
        "slack/get_conversation_history",
        {"channel": "C012AB3CD", "limit": "9"},
        "cursor",
        ("response_metadata", "next_cursor"),
    )
    assert seen == sorted(keys, key=float, reverse=True)
    page = call(sandbox, "slack/get_conversation_history", {"channel": "C012AB3CD", "limit": "2"})
    assert page.data["has_more"] is True
    assert "channel" not in page.data["messages"][0]
    assert (
        base64.b64decode(page.data["response_metadata"]["next_cursor"])
        .decode()
        .startswith("next_ts:")
    )
    window = call(
        sandbox,
        "slack/get_conversation_history",
        {"channel": "C012AB3CD", "oldest": seen[3], "latest": seen[0]},
    )
    assert list(window.record_ids) == seen[1:3]


def test_gmail_list_messages_pages_250_messages_with_page_tokens(sandbox: Sandbox) -> None:
    keys = sandbox.seed(
        "gmail",
        "messages",
        [{"threadId": "t", "labelIds": ["INBOX"]} for _ in range(250)],
        replace=True,
    )
    seen = walk(
        sandbox,
        "gmail/list_messages",
        {"userId": "me", "maxResults": "40"},
        "pageToken",
        ("nextPageToken",),
    )
    assert seen == sorted(keys, key=lambda k: int(k, 16), reverse=True)
    first = call(sandbox, "gmail/list_messages", {"userId": "me", "maxResults": "40"})
    assert re.fullmatch(r"\d{20}", first.data["nextPageToken"])
    assert first.data["resultSizeEstimate"] == 250
    assert first.data["messages"][0] == {"id": seen[0], "threadId": "t"}
    bad = call(sandbox, "gmail/list_messages", {"userId": "me", "pageToken": "not a token"})
    assert (bad.http_status, bad.data["error"]["status"]) == (400, "INVALID_ARGUMENT")


def test_workday_get_workers_pages_250_workers_by_offset(sandbox: Sandbox) -> None:
    keys = sandbox.seed(
        "workday",
        "workers",
        [{"Worker_Descriptor": f"Worker {i:03d}"} for i in range(250)],
        replace=True,
    )
    seen: list[str] = []
    offset = 0
    while True:
        reply = call(sandbox, "workday/get_workers", {"limit": "100", "offset": str(offset)})
        results = reply.data["env:Envelope"]["env:Body"]["wd:Get_Workers_Response"]
        assert results["wd:Response_Results"]["wd:Total_Results"] == "250"
        seen.extend(reply.record_ids)
        offset += 100
        if offset >= 250:
            break
    assert seen == keys
    over = call(sandbox, "workday/get_workers", {"limit": "5000"})
    assert len(over.record_ids) == 250  # lowered to Get_Workers' 999
    bad = call(sandbox, "workday/get_workers", {"limit": "ten"})
    assert (bad.node_status, bad.http_status) == ("Errored", 500)


def test_salesforce_queries_page_250_records_in_batches_with_next_records_url(
    sandbox: Sandbox,
) -> None:
    keys = sandbox.seed(
        "salesforce",
        "Lead",
        [{"LastName": f"L{i:03d}", "Company": "Acme"} for i in range(250)],
        replace=True,
    )
    first = call(
        sandbox,
        "salesforce/get_entity_with_soql",
        {"query": "SELECT Id, LastName FROM Lead ORDER BY LastName", "batch_size": "50"},
    )
    assert first.data["totalSize"] == 250
    assert first.data["done"] is False
    assert len(first.data["records"]) == 200  # Salesforce's smallest batch
    url = first.data["nextRecordsUrl"]
    assert re.fullmatch(r"/services/data/v59\.0/query/01g[0-9A-Za-z]{15}-200", url)
    more = call(sandbox, "salesforce/httprequest", {"method": "GET", "url_path": url})
    assert (more.data["totalSize"], more.data["done"], len(more.data["records"])) == (250, True, 50)
    assert "nextRecordsUrl" not in more.data
    assert list(first.record_ids + more.record_ids) == keys
    expired = call(
        sandbox,
        "salesforce/httprequest",
        {"method": "GET", "url_path": url.replace("-200", "-900")},
    )
    assert expired.data == [
        {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}
    ]


def test_get_accounts_orders_by_name_caps_with_limit_and_selects_fields(sandbox: Sandbox) -> None:
    reply = call(sandbox, "salesforce/get_accounts", {"limit": "2", "fields": "Industry"})
    assert reply.data["totalSize"] == 2
    names = [r["Name"] for r in reply.data["records"]]
    assert names == ["Alderbrook Logistics", "Amberline Foods"]
    assert list(reply.data["records"][0]) == ["attributes", "Industry", "Id", "Name"]


def test_a_page_size_over_the_maximum_is_lowered_and_a_bad_cursor_is_the_apps_error(
    sandbox: Sandbox,
) -> None:
    sandbox.seed("hubspot", "contacts", [{"email": f"x{i}@example.com"} for i in range(150)])
    assert len(call(sandbox, "hubspot/get_contact", {"limit": "500"}).record_ids) == 100
    bad = call(sandbox, "hubspot/get_contact", {"limit": "0"})
    assert (bad.node_status, bad.http_status, bad.data["category"]) == (
        "Errored",
        400,
        "VALIDATION_ERROR",
    )
    cursor = call(sandbox, "hubspot/get_contact", {"after": "not-an-id"})
    assert cursor.http_status == 400
    slack = call(sandbox, "slack/list_channels", {"cursor": base64.b64encode(b"x").decode()})
    assert (slack.node_status, slack.http_status, slack.data) == (
        "Errored",
        200,
        {"ok": False, "error": "invalid_cursor"},
    )


# ---------------------------------------------------------------------- SOQL


def test_the_soql_subset_filters_orders_limits_and_follows_one_parent(sandbox: Sandbox) -> None:
    sandbox.seed(
        "salesforce",
        "Opportunity",
        [
            {
                "Name": "A",
                "Amount": 100,
                "StageName": "Prospecting",
                "CloseDate": "2025-03-01",
                "AccountId": "001Hs00002kQ7rTIAS",
                "IsClosed": False,
            },
            {
                "Name": "B",
                "Amount": 250.5,
                "StageName": "Closed Won",
                "CloseDate": "2025-05-01",
                "AccountId": "001Hs00002kQ7sWIAS",
                "IsClosed": True,
            },
            {
                "Name": "C",
                "Amount": None,
                "StageName": "Qualification",
                "CloseDate": "2025-04-01",
                "IsClosed": False,
            },
        ],
        replace=True,
    )

    def names(query: str) -> list[str]:
        reply = call(sandbox, "salesforce/get_entity_with_soql", {"query": query})
        assert reply.ok, reply.data
        return [r.get("Name") for r in reply.data["records"]]

    assert names("SELECT Name FROM Opportunity WHERE IsClosed = false ORDER BY CloseDate") == [
        "A",
        "C",
    ]
    assert names("select name from opportunity where amount >= 100 order by amount desc") == [
        "B",
        "A",
    ]
    assert names("SELECT Name FROM Opportunity WHERE Amount = null") == ["C"]
    assert names("SELECT Name FROM Opportunity WHERE Amount != null ORDER BY Name DESC") == [
        "B",
        "A",
    ]
    assert names("SELECT Name FROM Opportunity ORDER BY Amount") == ["C", "A", "B"]  # nulls first
    assert names("SELECT Name FROM Opportunity WHERE StageName LIKE 'closed%'") == ["B"]
    assert names("SELECT Name FROM Opportunity WHERE StageName IN ('Qualification', 'Won')") == [
        "C"
    ]
    assert names("SELECT Name FROM Opportunity WHERE CloseDate < 2025-04-15 AND Name != 'C'") == [
        "A"
    ]
    assert names("SELECT Name FROM Opportunity WHERE CloseDate > 2025-04-01T00:00:00Z") == ["B"]
    assert names("SELECT Name FROM Opportunity WHERE Account.Name = 'Northwind Robotics'") == ["A"]
    assert names("SELECT Name FROM Opportunity ORDER BY Name LIMIT 2") == ["A", "B"]
    reply = call(
        sandbox,
        "salesforce/get_entity_with_soql",
        {"query": "SELECT Name, Account.Name, Account.Industry FROM Opportunity ORDER BY Name"},
    )
    records = reply.data["records"]
    assert records[0]["Account"] == {
        "attributes": {
            "type": "Account",
            "url": "/services/data/v59.0/sobjects/Account/001Hs00002kQ7rTIAS",
        },
        "Name": "Northwind Robotics",
        "Industry": "Manufacturing",
    }
    assert records[2]["Account"] is None
    assert records[0]["attributes"]["type"] == "Opportunity"


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("SELECT COUNT() FROM Account", "functions such as COUNT() are outside"),
        ("SELECT FORMAT(Amount) FROM Opportunity", "functions such as FORMAT() are outside"),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "subqueries are outside"),
        ("SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)", "subqueries"),
        ("SELECT Name FROM Account GROUP BY Name", "GROUP BY is outside"),
        ("SELECT Id FROM Account LIMIT 5 OFFSET 10", "OFFSET is outside"),
        ("SELECT Id FROM Account WHERE CreatedDate = LAST_WEEK", "date literal LAST_WEEK"),
        ("SELECT Id FROM Account WHERE CreatedDate = NEXT_N_DAYS:3", "NEXT_N_DAYS:n is outside"),
        ("SELECT Account.Owner.Name FROM Contact", "more than one parent away"),
        ("SELECT a.Name FROM Account a", "aliases"),
        ("SELECT Id FROM Account WITH SECURITY_ENFORCED", "WITH is outside"),
        ("SELECT Id FROM Case", "Case is a Salesforce object no state block declares"),
        ("SELECT Owner.Name FROM Account", "an object no state block declares"),
    ],
)
def test_valid_soql_outside_the_subset_fails_the_test_instead_of_an_invented_app_error(
    sandbox: Sandbox, query: str, detail: str
) -> None:
    action = CATALOGUE.get("salesforce", "get_entity_with_soql")
    with pytest.raises(UnsupportedQuery) as raised:
        sandbox.answer(action, {"query": query}, None)
    assert detail in raised.value.detail
    assert SUBSET in str(raised.value)
    assert raised.value.query == query


@pytest.mark.parametrize(
    ("query", "said", "detail"),
    [
        ("SELECT Id FROM Account WHERE Name = :name", "unexpected token: ':'", "character ':'"),
        ("SELECT Id FROM Account WHERE Name = 'open", "<EOF>", "a string is not closed"),
        ("SELECT FROM Account", "unexpected token: 'FROM'", "expected a field name"),
        ("DELETE FROM Account", "unexpected token: 'DELETE'", "expected SELECT"),
        ("SELECT Id FROM Account LIMT 5", "unexpected token: 'LIMT'", "expected WHERE"),
        ("SELECT Id FROM Account WHERE Name = bob", "unexpected token: 'bob'", "expected a value"),
        ("SELECT Id FROM Account WHERE (Name = 'a'", "<EOF>", "expected ) to close"),
        ("SELECT Id FROM Account WHERE AnnualRevenue = " + "9" * 5000, "unexpected", "too long"),
    ],
)
def test_soql_salesforce_refuses_is_its_malformed_query_reply(
    sandbox: Sandbox, query: str, said: str, detail: str
) -> None:
    with pytest.raises(MalformedQuery) as raised:
        parse_soql(query)
    assert detail in raised.value.detail
    reply = call(sandbox, "salesforce/get_entity_with_soql", {"query": query})
    assert (reply.node_status, reply.http_status) == ("Errored", 400)
    (error,) = reply.data
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert said in error["message"]
    assert f"ERROR at Row:1:Column:{raised.value.position + 1}\n" in error["message"]
    assert detail in reply.note


def _account(sandbox: Sandbox, key: str) -> dict[str, Any]:
    return next(r for r in sandbox.records("salesforce", "Account") if r["Id"] == key)


@pytest.mark.parametrize(
    "extra",
    ['{"Rating": NaN}', '{"Rating": 1e999}', '{"Rating": ' + "[" * 100_000 + "]" * 100_000 + "}"],
    ids=["nan", "infinity", "too-deep"],
)
def test_merged_fields_that_are_not_strict_json_are_ignored_and_replies_stay_json(
    sandbox: Sandbox, extra: str
) -> None:
    created = call(
        sandbox, "salesforce/create_account", {"Name": "Acme", "additional_fields": extra}
    )
    assert created.ok
    assert "Rating" not in _account(sandbox, created.record_ids[0])
    query = "SELECT Id, Rating FROM Account WHERE Name = 'Acme'"
    reply = call(sandbox, "salesforce/get_entity_with_soql", {"query": query})
    assert json.loads(reply.body())["data"]["totalSize"] == 1


def test_a_number_param_too_large_for_a_float_is_kept_as_sent_not_as_infinity(
    sandbox: Sandbox,
) -> None:
    created = call(sandbox, "salesforce/create_account", {"Name": "Big", "AnnualRevenue": "1e999"})
    assert _account(sandbox, created.record_ids[0])["AnnualRevenue"] == "1e999"
    query = "SELECT Id, AnnualRevenue FROM Account WHERE Name = 'Big'"
    reply = call(sandbox, "salesforce/get_entity_with_soql", {"query": query})
    assert json.loads(reply.body())["data"]["records"][0]["AnnualRevenue"] == "1e999"


def test_a_lone_surrogate_sent_as_an_escape_is_echoed_as_one_not_a_crash(
    sandbox: Sandbox,
) -> None:
    # Strict JSON readers accept "\\ud800"; UTF-8 cannot carry the character it stands for.
    params = json.loads('{"Name": "Acme \\ud800"}')
    call(sandbox, "salesforce/create_account", params)
    query = "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme %'"
    body = call(sandbox, "salesforce/get_entity_with_soql", {"query": query}).body()
    assert json.loads(body)["data"]["records"][0]["Name"] == "Acme \ud800"
    assert b"\\ud800" in body


def test_soql_strings_keep_their_escapes_and_an_overlong_query_is_refused() -> None:
    query = parse_soql(r"SELECT Id FROM Contact WHERE LastName = 'O\'Brien' AND Title != 'a\\b'")
    assert [c.value for c in query.conditions()] == ["O'Brien", "a\\b"]
    with pytest.raises(MalformedQuery, match="longer than 100,000"):
        parse_soql("SELECT Id FROM Account WHERE Name = '" + "x" * 100_000 + "'")


# ---------------------------------------------------------------------- templates and matching


def test_templates_drop_what_they_cannot_fill_and_read_records_back() -> None:
    template = {
        "results": "{items}",
        "paging": {
            "next": {"after": "{paging/next}", "link": "?after={paging/next}&n={paging/limit}"}
        },
        "literal": "{{braces}}",
    }
    render = compile_template(template)
    assert render(Context(items=[], paging={"limit": 2})) == {"results": [], "literal": "{braces}"}
    assert render(Context(items=[1], paging={"next": "3", "limit": 2}))["paging"] == {
        "next": {"after": "3", "link": "?after=3&n=2"}
    }
    item = {"attributes": {"type": "{object}"}, "...": "{selected}", "flag": "{record/on}"}
    assert compile_template(item)(
        Context(object="Lead", selected={"Id": "00Q"}, record={"on": True})
    ) == {"attributes": {"type": "Lead"}, "Id": "00Q", "flag": True}
    assert compile_template("{record/missing}")(Context(record={})) is MISSING
    fields: dict[str, Any] = {}
    unify(item, {"attributes": {"type": "Lead"}, "Id": "00Q", "Name": "N", "flag": 1}, fields)
    assert fields == {"on": 1, "Id": "00Q", "Name": "N"}


def test_comparisons_read_numbers_instants_and_case_as_the_apps_do() -> None:
    assert norm("85") == norm(85)
    assert norm("TRUE") == norm(True)
    assert matches("EQ", "Ada@Example.com", "ada@example.com")
    assert matches("GT", "2024-06-03T13:05:52.000+0000", "2024-06-03T13:05:51Z")
    assert matches("LT", "2025-03-04T15:22:10.512Z", "1741102000000")
    assert matches("PREFIX", "Priya Raval", "rav")
    assert not matches("PREFIX", "Priya Raval", "ava")
    assert matches("CONTAINS_ALL", ["INBOX", "UNREAD"], "inbox")
    assert matches("EQ", ["a", "b"], "b")
    assert not matches("HAS_PROPERTY", "")
    assert matches("LIKE", "Acme Inc", "acme%")
    assert matches("LIKE", "Acme", "Ac_e")
    assert not matches("GT", None, "1")


# ---------------------------------------------------------------------- the state block and lint


def test_the_catalogue_parses_state_blocks_into_typed_objects() -> None:
    block = CATALOGUE.get("hubspot", "get_contact_by_id").state
    assert isinstance(block, StateBlock)
    assert (block.object, block.operation, block.id_param) == ("contacts", "get", "contactId")
    assert block.record is not None
    assert block.record.id == "hs_object_id"
    stateful = {a.key for a in CATALOGUE if a.state is not None}
    assert len(stateful) == 26
    assert "slack/post_message" not in stateful
    for action in CATALOGUE:
        if action.state is not None:
            assert action.evidence is not None
            assert "Sandbox (stateful mode)" in (action.evidence.notes or ""), action.key


def _state(**overrides: Any) -> dict[str, Any]:
    block: dict[str, Any] = {
        "object": "things",
        "operation": "get",
        "id_param": "id",
        "record": {"id": "id", "ids": "counter"},
        "item": "{record}",
        "reply": {"data": {"thing": "{item}"}},
        "on_missing": {"http_status": 404, "data": {"error": "not found"}},
    }
    block.update(overrides)
    return block


@pytest.mark.parametrize(
    ("overrides", "pointer", "message"),
    [
        ({"colour": "red"}, "/state/colour", "unknown key 'colour'"),
        ({"operation": "fetch"}, "/state/operation", "unknown operation 'fetch'"),
        ({"id_param": "thing_id"}, "/state/id_param", "is not one of the action's parameters"),
        ({"record": {"id": "id", "ids": "snowflake"}}, "/state/record/ids", "unknown id format"),
        ({"record": {"id": "id", "ids": "salesforce"}}, "/state/record/ids", "3-character"),
        (
            {"record": {"id": "id", "ids": "counter", "clock": "lunar"}},
            "/state/record/clock",
            "unknown clock",
        ),
        (
            {"record": {"id": "id", "ids": "counter", "shape": 1}},
            "/state/record/shape",
            "unknown key 'shape'",
        ),
        (
            {"operation": "list", "paging": {"style": "relay"}, "reply": {"data": "{items}"}},
            "/state/paging/style",
            "unknown paging convention 'relay'",
        ),
        (
            {
                "operation": "list",
                "paging": {"style": "slack", "limit": "limit"},
                "reply": {"data": "{items}"},
            },
            "/state/paging/cursor",
            "missing required key",
        ),
        (
            {
                "operation": "list",
                "paging": {"style": "hubspot", "limit": "limit"},
                "reply": {"data": {"results": "{items}"}},
            },
            "/state/reply/data",
            "puts the next cursor at /paging/next/after",
        ),
        (
            {"fields": {"exclude": ["nope"]}},
            "/state/fields/exclude/0",
            "is not one of the action's parameters",
        ),
        ({"fields": {"values": "floats"}}, "/state/fields/values", "unknown values rule"),
        (
            {"filters": [{"param": "limit", "field": "n", "op": "ABOUT"}]},
            "/state/filters/0/op",
            "unknown filter op",
        ),
        ({"reply": {"data": "{items}"}}, "/state/reply/data", "{items} cannot be used here"),
        (
            {"reply": {"data": "{params/nope}"}},
            "/state/reply/data",
            "{params/nope} names no parameter",
        ),
        (
            {"reply": {"http_status": "404", "data": None}},
            "/state/reply/http_status",
            "must be an HTTP status",
        ),
        ({"on_missing": None}, "/state/on_missing", "needs 'on_missing'"),
        (
            {"on_missing": {"node_status": "Success", "data": None}},
            "/state/on_missing/node_status",
            "cannot have node_status Success",
        ),
        ({"unique": ["email"]}, "/state/on_conflict", "'unique' needs 'on_conflict'"),
        ({"operation": "query", "object": None}, "/state/query", "a query operation needs"),
        (
            {"operation": "search", "reply": {"data": "{items}"}},
            "/state/search",
            "a search operation needs 'search'",
        ),
        ({"item": None, "reply": {"data": "{item}"}}, "/state/item", "has no 'item' template"),
    ],
)
def test_lint_names_every_bad_state_block_by_file_and_pointer(
    tmp_path: Path, overrides: dict[str, Any], pointer: str, message: str
) -> None:
    state = _state(**overrides)
    state = {k: v for k, v in state.items() if v is not None}
    path = write_action(tmp_path, action_doc(slug="acme", action_id="get_thing", state=state))
    problems = Catalogue.lint(tmp_path)
    found = [p for p in problems if p.pointer == pointer and message in p.message]
    assert found, [f"{p.pointer}: {p.message}" for p in problems]
    assert found[0].path == str(path)
    assert found[0].hint
    assert found[0].severity == "error"
    with pytest.raises(CatalogueError):
        Catalogue.load(tmp_path)


def test_a_misspelt_state_key_is_named_with_the_key_it_is_close_to(tmp_path: Path) -> None:
    write_action(tmp_path, action_doc(slug="acme", action_id="get_thing", state=_state(uniqe=[])))
    (problem,) = Catalogue.lint(tmp_path)
    assert (problem.pointer, problem.message) == (
        "/state/uniqe",
        "unknown key 'uniqe' in the state block",
    )
    assert problem.hint.startswith("did you mean 'unique'? allowed keys: object, operation, ")


def test_lint_refuses_two_record_models_for_one_object_type(tmp_path: Path) -> None:
    other = _state(record={"id": "thing_id", "ids": "uuid"})
    write_action(tmp_path, action_doc(slug="acme", action_id="get_other", state=other))
    path = write_action(tmp_path, action_doc(slug="acme", action_id="get_thing", state=_state()))
    problems = Catalogue.lint(tmp_path)
    assert [(p.path, p.pointer) for p in problems] == [(str(path), "/state/record")]
    assert "get_other.json" in problems[0].message  # files are linted in name order


def test_a_users_own_state_block_makes_their_action_stateful(tmp_path: Path) -> None:
    doc = action_doc(slug="acme", action_id="get_thing", state=_state())
    doc["examples"][0]["response"]["data"] = {"thing": {"id": "1", "name": "Widget"}}
    write_action(tmp_path, doc)
    catalogue = Catalogue.load(tmp_path)
    assert Catalogue.lint(tmp_path) == []
    sandbox = Sandbox(catalogue)
    action = catalogue.get("acme", "get_thing")
    reply = sandbox.answer(action, {"id": "1"}, None)
    assert reply == SandboxReply(
        "Success", 200, {"thing": {"id": "1", "name": "Widget"}}, ("1",), "sandbox: read things 1"
    )
    missing = sandbox.answer(action, {"id": "2"}, None)
    assert missing is not None
    assert (missing.node_status, missing.http_status, missing.data) == (
        "Errored",
        404,
        {"error": "not found"},
    )


def test_loading_a_catalogue_does_not_load_the_engine_or_hypothesis() -> None:
    code = (
        "import sys, refold_contract, refold_contract.catalogue\n"
        "refold_contract.catalogue.Catalogue.builtin()\n"
        "print(sorted(m for m in ('refold_contract.sandbox.engine', 'hypothesis') "
        "if m in sys.modules))\n"
        "import refold_contract.sandbox as s; s.Sandbox\n"
        "print(sorted(m for m in ('hypothesis', 'pytest') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[:2] == ["[]", "[]"]


def test_the_sandbox_states_the_call_the_mock_makes() -> None:
    import refold_contract.sandbox as package

    doc = package.__doc__ or ""
    assert "reply = sandbox.answer(action, params, linked_account_id)" in doc
    assert "Answer(200, dumps(reply.envelope()))" in doc
    assert json.loads(json.dumps(SandboxReply("Success", None, {}).envelope())) == {
        "node_status": "Success",
        "data": {},
    }


def test_a_repeated_read_is_answered_again_until_the_records_change(sandbox: Sandbox) -> None:
    from refold_contract._core.json import canonical_json
    from refold_contract.mock.emulator import dumps

    action = CATALOGUE.get("hubspot", "search_contacts")
    body = {"propertyName": "email", "operator": "EQ", "value": "new@example.com"}
    key = canonical_json(body)
    empty = sandbox.answer(action, body, None, key=key)
    assert empty is not None
    assert sandbox.answer(action, body, None, key=key) is empty
    assert empty.body() == dumps(empty.envelope())
    assert empty.body() is empty.body()
    call(sandbox, "hubspot/create_contact", {"email": "new@example.com"})
    found = sandbox.answer(action, body, None, key=key)
    assert found is not None
    assert found is not empty
    assert found.data["total"] == 1
    # Another account's writes leave this account's kept reply alone.
    call(sandbox, "hubspot/create_contact", {"email": "other@example.com"}, "user_2")
    assert sandbox.answer(action, body, None, key=key) is found
    fresh = Sandbox(CATALOGUE, sandbox.store, keep_replies=False)
    assert fresh.answer(action, body, None, key=key) is not found


# ---------------------------------------------------------------------- SOQL: names, logic, dates
# (issue 21 §2: INVALID_FIELD and INVALID_TYPE from what the catalogue declares, OR, NOT and
# parentheses with Salesforce's rule on mixing them, date literals on the store's clock, query
# batches through httprequest, and the boundaries of each comparison)

_SOQL = "salesforce/get_entity_with_soql"
_CUSTOM_FIELD = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom "
    "field name. Please reference your WSDL or the describe call for the appropriate names."
)


def _soql(sandbox: Sandbox, query: str) -> Any:
    return call(sandbox, _SOQL, {"query": query})


def _names(sandbox: Sandbox, query: str) -> list[Any]:
    reply = _soql(sandbox, query)
    assert reply.ok, reply.data
    return [r.get("Name") for r in reply.data["records"]]


def test_an_unknown_field_is_salesforces_invalid_field_with_the_caret_under_it(
    sandbox: Sandbox,
) -> None:
    reply = _soql(sandbox, "SELECT Id, Nme FROM Account")
    assert (reply.node_status, reply.http_status) == ("Errored", 400)
    assert reply.data == [
        {
            "message": "\nSELECT Id, Nme FROM Account\n           ^\nERROR at Row:1:Column:12\n"
            "No such column 'Nme' on entity 'Account'. " + _CUSTOM_FIELD,
            "errorCode": "INVALID_FIELD",
        }
    ]
    assert '"fields"' in reply.note  # the journal says how to declare it


@pytest.mark.parametrize(
    ("query", "column", "said"),
    [
        ("SELECT Id FROM Account WHERE Nme = 'a'", 30, "No such column 'Nme' on entity 'Account'"),
        ("SELECT Id FROM Account ORDER BY Nme", 33, "No such column 'Nme' on entity 'Account'"),
        ("SELECT Id, Region__c FROM Account", 12, "No such column 'Region__c' on entity"),
        ("SELECT Account.Nme FROM Contact", 8, "No such column 'Nme' on entity 'Account'"),
        ("SELECT Acount.Name FROM Contact", 8, "Didn't understand relationship 'Acount'"),
    ],
)
def test_every_unknown_name_in_a_query_is_invalid_field_where_it_is_named(
    sandbox: Sandbox, query: str, column: int, said: str
) -> None:
    reply = _soql(sandbox, query)
    (error,) = reply.data
    assert error["errorCode"] == "INVALID_FIELD"
    assert f"\nERROR at Row:1:Column:{column}\n{said}" in error["message"]


def test_an_unknown_object_is_salesforces_invalid_type(sandbox: Sandbox) -> None:
    for name, column in (("Acount", 16), ("Invoice__c", 16)):
        reply = _soql(sandbox, f"SELECT Id FROM {name}")
        assert (reply.node_status, reply.http_status) == ("Errored", 400)
        assert reply.data == [
            {
                "message": f"\nSELECT Id FROM {name}\n{' ' * (column - 1)}^\n"
                f"ERROR at Row:1:Column:{column}\nsObject type '{name}' is not supported. If you "
                "are attempting to use a custom object, be sure to append the '__c' after the "
                "entity name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
                "errorCode": "INVALID_TYPE",
            }
        ]


def test_standard_fields_no_record_holds_are_known_and_answer_null(sandbox: Sandbox) -> None:
    # AssistantName (Contact) and Rating (Account) come only from the query block's "fields".
    reply = _soql(sandbox, "SELECT Id, AssistantName, account.rating FROM Contact LIMIT 1")
    assert reply.ok, reply.data
    record = reply.data["records"][0]
    assert record["AssistantName"] is None
    assert record["Account"]["Rating"] is None  # spelled as Salesforce spells them
    assert _soql(sandbox, "SELECT Rating FROM Contact").data[0]["errorCode"] == "INVALID_FIELD"


def test_fields_are_declared_by_create_params_the_query_block_and_seeded_records(
    tmp_path: Path,
) -> None:
    builtin = Catalogue.builtin_path() / "salesforce"
    soql = json.loads((builtin / "get_entity_with_soql.json").read_text())
    soql["state"]["query"]["fields"] = {"account": ["Tier__c"]}
    write_action(tmp_path, soql)
    create = json.loads((builtin / "create_account.json").read_text())
    create["parameters"].append({"name": "Region__c", "label": "Region", "type": "text"})
    write_action(tmp_path, create)
    assert Catalogue.lint(tmp_path) == []
    catalogue = Catalogue.load(tmp_path, include_builtin=True)
    sandbox = Sandbox(catalogue, Store(catalogue, clock=Clock(start=EPOCH)))
    action = catalogue.get("salesforce", "get_entity_with_soql")

    def ask(query: str) -> SandboxReply:
        reply = sandbox.answer(action, {"query": query}, None)
        assert reply is not None
        return reply

    assert ask("SELECT Id, Region__c, Tier__c FROM Account").ok  # before any record has them
    assert ask("SELECT Rating FROM Account").data[0]["errorCode"] == "INVALID_FIELD"  # replaced
    assert ask("SELECT Score__c FROM Account").data[0]["errorCode"] == "INVALID_FIELD"
    sandbox.seed("salesforce", "Account", [{"Name": "Acme", "Score__c": 7}])
    assert ask("SELECT Name FROM Account WHERE Score__c = 7").data["records"][0]["Name"] == "Acme"


@pytest.mark.parametrize(
    ("fields", "pointer", "message"),
    [
        ({"Account": ["Ok", "bad name"]}, "/state/query/fields/Account/1", "is not a field name"),
        ({"Account": ["Tier", "tier"]}, "/state/query/fields/Account/1", "listed twice"),
        ({"Account": "Tier"}, "/state/query/fields/Account", "must be an array of field names"),
        ({"1Account": ["Tier"]}, "/state/query/fields/1Account", "is not an object name"),
        (["Tier"], "/state/query/fields", "must be an object"),
    ],
)
def test_lint_checks_the_fields_a_query_block_declares(
    tmp_path: Path, fields: Any, pointer: str, message: str
) -> None:
    soql = json.loads(
        (Catalogue.builtin_path() / "salesforce/get_entity_with_soql.json").read_text()
    )
    soql["state"]["query"]["fields"] = fields
    write_action(tmp_path, soql)
    problems = Catalogue.lint(tmp_path)
    assert [(p.pointer, p.severity) for p in problems if message in p.message] == [
        (pointer, "error")
    ], [f"{p.pointer}: {p.message}" for p in problems]


@pytest.fixture
def leads(sandbox: Sandbox) -> Sandbox:
    sandbox.seed(
        "salesforce",
        "Lead",
        [
            {"LastName": "A", "Company": "Acme", "Status": "Open", "Rating": "Hot"},
            {"LastName": "B", "Company": "Acme", "Status": "Closed", "Rating": "Hot"},
            {"LastName": "C", "Company": "Bolt", "Status": "Open", "Rating": "Cold"},
            {"LastName": "D", "Company": "Bolt", "Status": "Closed", "Rating": None},
        ],
        replace=True,
    )
    return sandbox


def _last_names(sandbox: Sandbox, where: str, order: str = "LastName") -> list[str]:
    reply = _soql(sandbox, f"SELECT LastName FROM Lead WHERE {where} ORDER BY {order}")
    assert reply.ok, reply.data
    return [r["LastName"] for r in reply.data["records"]]


def test_or_not_and_parentheses_group_as_written(leads: Sandbox) -> None:
    assert _last_names(leads, "Status = 'Closed' OR Rating = 'Cold'") == ["B", "C", "D"]
    assert _last_names(leads, "Company = 'Acme' AND (Status = 'Closed' OR Rating = 'Cold')") == [
        "B"
    ]
    assert _last_names(leads, "(Company = 'Acme' AND Status = 'Closed') OR Rating = 'Cold'") == [
        "B",
        "C",
    ]
    assert _last_names(leads, "NOT Status = 'Open'") == ["B", "D"]
    assert _last_names(leads, "NOT (Status = 'Open' OR Rating = null)") == ["B"]
    assert _last_names(leads, "Company = 'Bolt' AND (NOT Rating = 'Cold')") == ["D"]
    assert _last_names(leads, "Rating NOT IN ('Hot')") == ["C", "D"]  # null is not 'Hot'
    assert _last_names(leads, "((Status = 'Open'))") == ["A", "C"]


@pytest.mark.parametrize(
    ("where", "token"),
    [
        ("Company = 'Acme' AND Status = 'Closed' OR Rating = 'Cold'", "OR"),
        ("Status = 'Closed' OR Rating = 'Cold' AND Company = 'Acme'", "AND"),
        ("NOT Status = 'Open' AND Company = 'Acme'", "AND"),
        ("Company = 'Acme' AND NOT Status = 'Open'", "NOT"),
    ],
)
def test_mixing_and_or_and_not_without_parentheses_is_malformed_as_in_salesforce(
    leads: Sandbox, where: str, token: str
) -> None:
    query = f"SELECT Id FROM Lead WHERE {where}"
    reply = _soql(leads, query)
    (error,) = reply.data
    assert error["errorCode"] == "MALFORMED_QUERY"
    column = query.index(f" {token} ", query.index("WHERE")) + 2
    assert error["message"].endswith(
        f"\nERROR at Row:1:Column:{column}\nunexpected token: '{token}'"
    )
    assert "parentheses" in reply.note


def test_order_by_takes_several_fields_and_nulls_first_or_last(leads: Sandbox) -> None:
    assert _last_names(leads, "Company != null", "Company DESC, LastName DESC") == [
        "D",
        "C",
        "B",
        "A",
    ]
    assert _last_names(leads, "Company != null", "Rating, LastName") == ["D", "C", "A", "B"]
    assert _last_names(leads, "Company != null", "Rating NULLS LAST, LastName") == [
        "C",
        "A",
        "B",
        "D",
    ]
    assert _last_names(leads, "Company != null", "Rating DESC NULLS FIRST, LastName") == [
        "D",
        "A",
        "B",
        "C",
    ]


@pytest.fixture
def dated(sandbox: Sandbox) -> Sandbox:
    # The store's clock starts at EPOCH, 2025-07-08T14:05:33.812Z: "today" is 8 July 2025.
    sandbox.seed(
        "salesforce",
        "Opportunity",
        [
            {"Name": "jun30", "CloseDate": "2025-06-30"},
            {"Name": "jul01", "CloseDate": "2025-07-01"},
            {"Name": "jul06", "CloseDate": "2025-07-06"},
            {"Name": "jul07", "CloseDate": "2025-07-07"},
            {"Name": "jul08", "CloseDate": "2025-07-08"},
            {"Name": "jul09", "CloseDate": "2025-07-09"},
            {"Name": "aug01", "CloseDate": "2025-08-01"},
            {"Name": "none", "CloseDate": None},
        ],
        replace=True,
    )
    return sandbox


@pytest.mark.parametrize(
    ("condition", "names"),
    [
        ("CloseDate = TODAY", ["jul08"]),
        ("CloseDate = YESTERDAY", ["jul07"]),
        ("CloseDate = TOMORROW", ["jul09"]),
        ("CloseDate = THIS_MONTH", ["jul01", "jul06", "jul07", "jul08", "jul09"]),
        ("CloseDate = LAST_MONTH", ["jun30"]),
        ("CloseDate = NEXT_MONTH", ["aug01"]),
        ("CloseDate = LAST_N_DAYS:1", ["jul07", "jul08"]),  # today and the day before
        ("CloseDate = LAST_N_DAYS:2", ["jul06", "jul07", "jul08"]),
        ("CloseDate > TODAY", ["jul09", "aug01"]),
        ("CloseDate >= TODAY", ["jul08", "jul09", "aug01"]),
        ("CloseDate < TODAY", ["jun30", "jul01", "jul06", "jul07"]),
        ("CloseDate <= YESTERDAY", ["jun30", "jul01", "jul06", "jul07"]),
        ("CloseDate != TODAY", ["none", "jun30", "jul01", "jul06", "jul07", "jul09", "aug01"]),
        ("CloseDate IN (YESTERDAY, TOMORROW)", ["jul07", "jul09"]),
    ],
)
def test_date_literals_are_ranges_of_days_on_the_stores_clock(
    dated: Sandbox, condition: str, names: list[str]
) -> None:
    assert _names(dated, f"SELECT Name FROM Opportunity WHERE {condition} ORDER BY CloseDate") == (
        names
    )


def test_today_on_a_date_time_field_starts_at_midnight_utc(sandbox: Sandbox) -> None:
    sandbox.seed(
        "salesforce",
        "Account",
        [
            {"Name": "late-yesterday", "CreatedDate": "2025-07-07T23:59:59.999+0000"},
            {"Name": "midnight", "CreatedDate": "2025-07-08T00:00:00.000+0000"},
            {"Name": "last-instant", "CreatedDate": "2025-07-08T23:59:59.999+0000"},
            {"Name": "tomorrow", "CreatedDate": "2025-07-09T00:00:00.000+0000"},
        ],
        replace=True,
    )
    today = "SELECT Name FROM Account WHERE CreatedDate = TODAY ORDER BY CreatedDate"
    assert _names(sandbox, today) == ["midnight", "last-instant"]


def test_last_month_in_january_is_december_of_the_year_before() -> None:
    start = dt.datetime(2025, 1, 15, 9, 0, tzinfo=dt.timezone.utc)
    sandbox = Sandbox(CATALOGUE, Store(CATALOGUE, clock=Clock(start=start)))
    sandbox.seed(
        "salesforce",
        "Opportunity",
        [{"Name": "dec", "CloseDate": "2024-12-31"}, {"Name": "jan", "CloseDate": "2025-01-01"}],
        replace=True,
    )
    assert _names(sandbox, "SELECT Name FROM Opportunity WHERE CloseDate = LAST_MONTH") == ["dec"]


def test_httprequest_runs_a_query_path_with_q_as_get_entity_with_soql_does(
    sandbox: Sandbox,
) -> None:
    query = "SELECT Id, Name FROM Account WHERE Industry = 'Manufacturing' ORDER BY Name"
    expected = _soql(sandbox, query).data
    assert expected["totalSize"] >= 1
    path = "/services/data/v59.0/query"
    for params in (
        {"method": "GET", "url_path": path, "query_params": {"q": query}},
        {"method": "GET", "url_path": path + "/", "query_params": json.dumps({"q": query})},
        {"method": "GET", "url_path": f"{path}?q={query.replace(' ', '+')}"},
        {"method": "get", "url_path": "/services/data/v61.0/query?q=" + quote(query)},
    ):
        reply = call(sandbox, "salesforce/httprequest", params)
        assert (reply.node_status, reply.http_status, reply.data) == ("Success", 200, expected)
    bad = call(sandbox, "salesforce/httprequest", {"method": "GET", "url_path": path + "?q=x"})
    assert bad.data[0]["errorCode"] == "MALFORMED_QUERY"
    missing = call(sandbox, "salesforce/httprequest", {"method": "GET", "url_path": path})
    assert missing.data == [
        {"message": "A query string has to be specified", "errorCode": "MALFORMED_QUERY"}
    ]
    field = call(sandbox, "salesforce/httprequest",
                 {"method": "GET", "url_path": path, "query_params": {"q": "SELECT Nme FROM Lead"}})  # fmt: skip
    assert field.data[0]["errorCode"] == "INVALID_FIELD"
    posted = {"method": "POST", "url_path": path, "query_params": {"q": query}}
    assert sandbox.answer(CATALOGUE.get("salesforce", "httprequest"), posted, None) is None


def test_httprequest_pages_a_q_query_in_the_batch_size_its_header_asks_for(
    sandbox: Sandbox,
) -> None:
    keys = sandbox.seed("salesforce", "Lead", [{"LastName": f"L{i:03d}"} for i in range(450)],
                        replace=True)  # fmt: skip
    params = {
        "method": "GET",
        "url_path": "/services/data/v59.0/query",
        "query_params": {"q": "SELECT Id FROM Lead ORDER BY LastName"},
        "headers": {"sforce-query-options": "batchSize=300"},
    }
    seen: list[str] = []
    reply = call(sandbox, "salesforce/httprequest", params)
    while True:
        assert reply.data["totalSize"] == 450
        seen.extend(reply.record_ids)
        if reply.data["done"]:
            break
        assert len(reply.record_ids) == 300
        reply = call(sandbox, "salesforce/httprequest",
                     {"method": "GET", "url_path": reply.data["nextRecordsUrl"]})  # fmt: skip
    assert seen == keys


@pytest.mark.parametrize(
    "url_path",
    [
        "/services/data/v59.0/query/01gHs00000aP3wXIAS-2000",  # the catalogue's own example
        "/services/data/v59.0/query/not-a-locator",
        "/services/data/v59.0/query/01gAAAAAAAAAAAAAAA-200",
    ],
)
def test_a_locator_the_sandbox_never_gave_is_invalid_query_locator(
    sandbox: Sandbox, url_path: str
) -> None:
    reply = call(sandbox, "salesforce/httprequest", {"method": "GET", "url_path": url_path})
    assert (reply.node_status, reply.http_status, reply.data) == (
        "Errored",
        400,
        [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}],
    )


def test_the_query_batch_example_continues_the_soql_example() -> None:
    first = CATALOGUE.get("salesforce", "get_entity_with_soql").examples[1].data
    more = CATALOGUE.get("salesforce", "httprequest").examples[1]
    assert more.params["url_path"] == first["nextRecordsUrl"]
    assert more.data["totalSize"] == first["totalSize"]
    # 2,417 records in batches of 2,000: the batch after the first is the last one.
    assert more.data["done"] is True
    assert "nextRecordsUrl" not in more.data
    assert all(r["attributes"]["type"] == "Opportunity" for r in more.data["records"])


@pytest.fixture
def amounts(sandbox: Sandbox) -> Sandbox:
    sandbox.seed(
        "salesforce",
        "Opportunity",
        [
            {"Name": "99", "Amount": 99},
            {"Name": "100", "Amount": 100},
            {"Name": "100.0", "Amount": 100.0},
            {"Name": "101", "Amount": 101},
        ],
        replace=True,
    )
    return sandbox


@pytest.mark.parametrize(
    ("op", "names"),
    [
        (">=", ["100", "100.0", "101"]),
        (">", ["101"]),
        ("<=", ["99", "100", "100.0"]),
        ("<", ["99"]),
        ("=", ["100", "100.0"]),
        ("!=", ["99", "101"]),
    ],
)
def test_boundary_a_value_equal_to_the_threshold(
    amounts: Sandbox, op: str, names: list[str]
) -> None:
    query = f"SELECT Name FROM Opportunity WHERE Amount {op} 100 ORDER BY Amount, Name"
    assert _names(amounts, query) == names


def test_boundary_a_limit_landing_exactly_on_the_total(amounts: Sandbox) -> None:
    exact = _soql(amounts, "SELECT Name FROM Opportunity LIMIT 4")
    assert (exact.data["totalSize"], exact.data["done"]) == (4, True)
    assert "nextRecordsUrl" not in exact.data
    assert len(exact.data["records"]) == 4
    assert _soql(amounts, "SELECT Name FROM Opportunity LIMIT 3").data["totalSize"] == 3
    assert _soql(amounts, "SELECT Name FROM Opportunity LIMIT 0").data == {
        "totalSize": 0,
        "done": True,
        "records": [],
    }


def test_boundary_a_batch_landing_exactly_on_the_total(sandbox: Sandbox) -> None:
    sandbox.seed("salesforce", "Lead", [{"LastName": f"L{i:03d}"} for i in range(200)],
                 replace=True)  # fmt: skip
    reply = call(sandbox, _SOQL, {"query": "SELECT Id FROM Lead", "batch_size": "200"})
    assert (reply.data["totalSize"], reply.data["done"], len(reply.record_ids)) == (200, True, 200)
    assert "nextRecordsUrl" not in reply.data


def test_boundary_a_missing_field_is_null_in_the_reply_and_in_where(sandbox: Sandbox) -> None:
    sandbox.seed(
        "salesforce",
        "Account",
        [{"Name": "has", "Rating": "Hot"}, {"Name": "lacks"}],
        replace=True,
    )
    reply = _soql(sandbox, "SELECT Name, Rating FROM Account ORDER BY Name")
    assert [(r["Name"], r["Rating"]) for r in reply.data["records"]] == [
        ("has", "Hot"),
        ("lacks", None),
    ]
    assert _names(sandbox, "SELECT Name FROM Account WHERE Rating = null") == ["lacks"]
    assert _names(sandbox, "SELECT Name FROM Account WHERE Rating != null") == ["has"]
    assert _names(sandbox, "SELECT Name FROM Account WHERE Rating != 'Hot'") == ["lacks"]
    assert _names(sandbox, "SELECT Name FROM Account WHERE Rating < 'Z'") == ["has"]


def test_boundary_a_zero_is_a_value_not_a_null(sandbox: Sandbox) -> None:
    sandbox.seed(
        "salesforce",
        "Account",
        [{"Name": "zero", "NumberOfEmployees": 0}, {"Name": "unset"}],
        replace=True,
    )
    assert _names(sandbox, "SELECT Name FROM Account WHERE NumberOfEmployees = 0") == ["zero"]
    assert _names(sandbox, "SELECT Name FROM Account WHERE NumberOfEmployees = null") == ["unset"]
    assert _names(sandbox, "SELECT Name FROM Account WHERE NumberOfEmployees <= 0") == ["zero"]
    reply = _soql(sandbox, "SELECT NumberOfEmployees FROM Account WHERE Name = 'zero'")
    assert reply.data["records"][0]["NumberOfEmployees"] == 0


def test_boundary_false_is_a_value_not_a_null(sandbox: Sandbox) -> None:
    sandbox.seed(
        "salesforce",
        "Opportunity",
        [{"Name": "open", "IsClosed": False}, {"Name": "won", "IsClosed": True}, {"Name": "unset"}],
        replace=True,
    )
    assert _names(sandbox, "SELECT Name FROM Opportunity WHERE IsClosed = false") == ["open"]
    assert _names(sandbox, "SELECT Name FROM Opportunity WHERE IsClosed != true ORDER BY Name") == [
        "open",
        "unset",
    ]
    reply = _soql(sandbox, "SELECT IsClosed FROM Opportunity WHERE Name = 'open'")
    assert reply.data["records"][0]["IsClosed"] is False


def test_boundary_an_empty_string_is_null_as_salesforce_keeps_no_empty_text(
    sandbox: Sandbox,
) -> None:
    sandbox.seed(
        "salesforce",
        "Account",
        [{"Name": "empty", "Site": ""}, {"Name": "unset"}, {"Name": "set", "Site": "HQ"}],
        replace=True,
    )
    assert _names(sandbox, "SELECT Name FROM Account WHERE Site = '' ORDER BY Name") == [
        "empty",
        "unset",
    ]
    assert _names(sandbox, "SELECT Name FROM Account WHERE Site = null ORDER BY Name") == [
        "empty",
        "unset",
    ]
    assert _names(sandbox, "SELECT Name FROM Account WHERE Site != ''") == ["set"]
    reply = _soql(sandbox, "SELECT Site FROM Account WHERE Name = 'empty'")
    assert reply.data["records"][0]["Site"] is None
