"""HubSpot in the sandbox: CRM search through httprequest (filterGroups, the 13 operators,
query, properties, sorts, paging and HubSpot's limits), search_contacts' single filter and its
after, the property checks of writes, and the search lag."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from refold_contract import Catalogue, ConfigurationError, RefoldClient
from refold_contract.errors import InvalidParams
from refold_contract.mock import RefoldMock
from refold_contract.sandbox import Clock, Sandbox, SandboxReply, SearchLag, Store
from refold_contract.sandbox.matching import matches

from .helpers import write_action

CATALOGUE = Catalogue.builtin()
EPOCH = dt.datetime(2025, 7, 8, 14, 5, 33, 812000, tzinfo=dt.timezone.utc)
SEARCH_PATH = "/crm/v3/objects/{}/search"


class FakeTimer:
    """A monotonic clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store() -> Store:
    return Store(CATALOGUE, clock=Clock(start=EPOCH))


@pytest.fixture
def sandbox(store: Store) -> Sandbox:
    return Sandbox(CATALOGUE, store)


def run(sandbox: Sandbox, action_id: str, params: dict[str, Any]) -> SandboxReply:
    reply = sandbox.answer(CATALOGUE.get("hubspot", action_id), params, None)
    assert reply is not None, f"hubspot/{action_id} was not answered by the sandbox"
    return reply


def search(sandbox: Sandbox, body: Any, object_type: str = "contacts") -> SandboxReply:
    params = {"method": "POST", "url_path": SEARCH_PATH.format(object_type), "body": body}
    return run(sandbox, "httprequest", params)


def one_filter(prop: str, op: str, **values: Any) -> dict[str, Any]:
    return {"filterGroups": [{"filters": [{"propertyName": prop, "operator": op, **values}]}]}


def seed_numbers(sandbox: Sandbox, values: list[Any], prop: str = "score") -> dict[str, Any]:
    """Contacts n0, n1, ... whose ``prop`` holds each value; {email: value}."""
    records = [{"email": f"n{i}@example.com", prop: v} for i, v in enumerate(values)]
    sandbox.seed("hubspot", "contacts", records, replace=True)
    return {r["email"]: r[prop] for r in records}


def emails(reply: SandboxReply) -> set[str]:
    assert reply.ok, reply
    return {r["properties"]["email"] for r in reply.data["results"]}


def found(sandbox: Sandbox, body: dict[str, Any]) -> set[str]:
    return emails(search(sandbox, {**body, "properties": ["email"], "limit": 200}))


def refusal(reply: SandboxReply) -> str:
    assert (reply.node_status, reply.http_status) == ("Errored", 400), reply
    assert reply.data["category"] == "VALIDATION_ERROR"
    assert reply.data["status"] == "error"
    message = reply.data["message"]
    assert isinstance(message, str)
    return message


# ---------------------------------------------------------------------- search_contacts' after


def test_after_on_search_contacts_is_not_passed_on_the_first_page_comes_back() -> None:
    with RefoldMock(stateful=True) as mock:
        mock.seed("hubspot", "contacts", [{"email": f"p{i}@example.com"} for i in range(5)],
                  linked_account_id="user_1", replace=True)  # fmt: skip
        client = RefoldClient(api_key="tk_1", linked_account_id="user_1")
        body = {"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@example.com",
                "limit": "2"}  # fmt: skip
        first = client.execute("hubspot", "search_contacts", body).data
        assert first["paging"]["next"]["after"] == "2"  # HubSpot's own reply keeps it
        again = client.execute("hubspot", "search_contacts", {**body, "after": "2"}).data
        assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
        [line] = mock.checks.unknown_parameter_lines()
        assert "hubspot/search_contacts was sent 'after', which its schema does not name" in line


def test_after_on_search_contacts_is_refused_in_strict_mode() -> None:
    with RefoldMock(stateful=True, strict=True):
        client = RefoldClient(api_key="tk_1", linked_account_id="user_1")
        body = {"propertyName": "email", "operator": "EQ", "value": "a@b.co", "after": "10"}
        with pytest.raises(InvalidParams, match="Unknown parameter 'after'"):
            client.execute("hubspot", "search_contacts", body)


@pytest.mark.parametrize("operator", ["BETWEEN", "IN", "NOT_IN"])
def test_search_contacts_refuses_operators_its_one_value_param_cannot_carry(
    sandbox: Sandbox, operator: str
) -> None:
    reply = run(sandbox, "search_contacts",
                {"propertyName": "firstname", "operator": operator, "value": "Ada,Grace"})  # fmt: skip
    message = refusal(reply)
    assert operator in message
    assert ("highValue" if operator == "BETWEEN" else "values") in message


def test_search_contacts_honours_the_search_lag(store: Store, sandbox: Sandbox) -> None:
    store.search_lag = SearchLag(calls=1)
    run(sandbox, "create_contact", {"email": "lag@example.com"})
    params = {"propertyName": "email", "operator": "EQ", "value": "lag@example.com"}
    assert run(sandbox, "search_contacts", params).data["total"] == 0
    assert run(sandbox, "search_contacts", params).data["total"] == 1


# ---------------------------------------------------------------------- CRM search: operators


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("LT", "20", {"n0"}),
        ("LTE", "20", {"n0", "n1"}),
        ("GT", "20", {"n2"}),
        ("GTE", "20", {"n1", "n2"}),
        ("EQ", "20", {"n1"}),
        ("NEQ", "20", {"n0", "n2", "n3"}),
    ],
)
def test_order_operators_at_the_threshold(
    sandbox: Sandbox, op: str, value: str, expected: set[str]
) -> None:
    # n1 holds exactly the threshold; n3 has no score (NEQ keeps it, the order operators do not).
    sandbox.seed("hubspot", "contacts", [
        {"email": "n0@example.com", "score": "10"}, {"email": "n1@example.com", "score": "20"},
        {"email": "n2@example.com", "score": "30"}, {"email": "n3@example.com"},
    ], replace=True)  # fmt: skip
    got = found(sandbox, one_filter("score", op, value=value))
    assert got == {f"{n}@example.com" for n in expected}


def test_between_includes_both_ends(sandbox: Sandbox) -> None:
    seed_numbers(sandbox, ["9", "10", "15", "20", "21"])
    got = found(sandbox, one_filter("score", "BETWEEN", value="10", highValue="20"))
    assert got == {"n1@example.com", "n2@example.com", "n3@example.com"}


def test_between_compares_dates_as_instants_and_epoch_milliseconds(sandbox: Sandbox) -> None:
    seed_numbers(sandbox, ["2024-01-01T00:00:00.000Z", "2024-06-01T00:00:00.000Z"], "closedate")
    low = str(int(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp() * 1000))
    got = found(sandbox, one_filter("closedate", "BETWEEN", value=low, highValue="1704067200000"))
    assert got == {"n0@example.com"}  # the low end, exactly


@pytest.mark.parametrize(
    ("op", "values", "expected"),
    [("IN", ["customer", "lead"], {"n0", "n1"}), ("NOT_IN", ["customer", "lead"], {"n2", "n3"})],
)
def test_in_and_not_in_take_a_values_list(
    sandbox: Sandbox, op: str, values: list[str], expected: set[str]
) -> None:
    seed_numbers(sandbox, ["customer", "lead", "other"], "lifecyclestage")
    sandbox.seed("hubspot", "contacts", [{"email": "n3@example.com"}])
    got = found(sandbox, one_filter("lifecyclestage", op, values=values))
    assert got == {f"{n}@example.com" for n in expected}


def test_has_property_and_not_has_property_split_the_records(sandbox: Sandbox) -> None:
    seed_numbers(sandbox, ["x", ""], "jobtitle")
    sandbox.seed("hubspot", "contacts", [{"email": "n2@example.com"}])
    assert found(sandbox, one_filter("jobtitle", "HAS_PROPERTY")) == {"n0@example.com"}
    assert found(sandbox, one_filter("jobtitle", "NOT_HAS_PROPERTY")) == {
        "n1@example.com",
        "n2@example.com",
    }


def test_contains_token_and_its_negation(sandbox: Sandbox) -> None:
    sandbox.seed("hubspot", "contacts", [
        {"email": "ada@acme.example.com"}, {"email": "grace@navy.example.com"},
    ], replace=True)  # fmt: skip
    assert found(sandbox, one_filter("email", "CONTAINS_TOKEN", value="*@acme.example.com")) == {
        "ada@acme.example.com"
    }
    assert found(
        sandbox, one_filter("email", "NOT_CONTAINS_TOKEN", value="*@acme.example.com")
    ) == {"grace@navy.example.com"}


def test_a_missing_property_matches_no_comparison_and_every_negation(sandbox: Sandbox) -> None:
    sandbox.seed("hubspot", "contacts", [{"email": "n0@example.com"}], replace=True)
    for op in ("EQ", "LT", "GT", "CONTAINS_TOKEN"):
        assert found(sandbox, one_filter("favourite", op, value="1")) == set(), op
    for op in ("NEQ", "NOT_CONTAINS_TOKEN"):
        assert found(sandbox, one_filter("favourite", op, value="1")) == {"n0@example.com"}, op
    assert found(sandbox, one_filter("favourite", "NOT_IN", values=["1"])) == {"n0@example.com"}


def test_zero_is_a_value_and_equals_zero(sandbox: Sandbox) -> None:
    seed_numbers(sandbox, [0, "0", 1])
    assert found(sandbox, one_filter("score", "EQ", value="0")) == {
        "n0@example.com",
        "n1@example.com",
    }
    assert found(sandbox, one_filter("score", "HAS_PROPERTY")) == {
        "n0@example.com",
        "n1@example.com",
        "n2@example.com",
    }
    assert found(sandbox, one_filter("score", "LT", value=1)) == {
        "n0@example.com",
        "n1@example.com",
    }


def test_false_is_a_value_and_equals_false(sandbox: Sandbox) -> None:
    seed_numbers(sandbox, [False, "false", "true"], "hs_is_unworked")
    assert found(sandbox, one_filter("hs_is_unworked", "EQ", value="false")) == {
        "n0@example.com",
        "n1@example.com",
    }
    assert found(sandbox, one_filter("hs_is_unworked", "HAS_PROPERTY")) == {
        "n0@example.com",
        "n1@example.com",
        "n2@example.com",
    }


def test_the_empty_string_is_no_value(sandbox: Sandbox) -> None:
    seed_numbers(sandbox, ["", "x"], "jobtitle")
    assert found(sandbox, one_filter("jobtitle", "HAS_PROPERTY")) == {"n1@example.com"}
    assert found(sandbox, one_filter("jobtitle", "EQ", value="x")) == {"n1@example.com"}


def test_matching_rules_for_the_new_operators() -> None:
    assert matches("BETWEEN", "10", ("10", "20"))
    assert matches("BETWEEN", "20", ("10", "20"))
    assert not matches("BETWEEN", "20.5", ("10", "20"))
    assert matches("NOT_IN", None, ["a"])
    assert not matches("NOT_IN", "A", ["a"])


# ---------------------------------------------------------------------- CRM search: the body


def test_filter_groups_are_ored_and_filters_in_a_group_anded(sandbox: Sandbox) -> None:
    sandbox.seed("hubspot", "contacts", [
        {"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"},
        {"email": "alice@example.com", "firstname": "Alice", "lastname": "Smith"},
        {"email": "alice2@example.com", "firstname": "Alice", "lastname": "Jones"},
        {"firstname": "Nomail"},
    ], replace=True)  # fmt: skip
    body = {"filterGroups": [
        {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "Alice"},
                     {"propertyName": "lastname", "operator": "NEQ", "value": "Smith"}]},
        {"filters": [{"propertyName": "email", "operator": "NOT_HAS_PROPERTY"}]},
    ], "properties": ["firstname", "lastname"]}  # fmt: skip
    reply = search(sandbox, body)
    assert sorted(r["properties"]["firstname"] for r in reply.data["results"]) == [
        "Alice",
        "Nomail",
    ]


def test_the_free_query_looks_in_the_objects_default_searchable_properties(
    sandbox: Sandbox,
) -> None:
    sandbox.seed("hubspot", "companies", [
        {"name": "Harbor Freight", "domain": "harbor.example.com"},
        {"name": "Bluepeak", "domain": "bluepeak.example.com", "description": "harbor"},
    ])  # fmt: skip
    reply = search(sandbox, {"query": "harb"}, "companies")
    assert [r["properties"]["name"] for r in reply.data["results"]] == ["Harbor Freight"]


def test_results_show_the_default_or_asked_properties_with_id_and_timestamps(
    sandbox: Sandbox,
) -> None:
    default = search(sandbox, {"limit": 1}).data["results"][0]
    assert list(default["properties"]) == [
        "createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname",
    ]  # fmt: skip
    asked = search(sandbox, {"limit": 1, "properties": ["phone"]}).data["results"][0]
    assert asked["properties"] == {
        "createdate": default["properties"]["createdate"],
        "hs_object_id": default["id"],
        "lastmodifieddate": default["properties"]["lastmodifieddate"],
        "phone": None,
    }
    assert set(asked) == {"id", "properties", "createdAt", "updatedAt", "archived"}


def test_tasks_show_their_own_timestamp_properties(sandbox: Sandbox) -> None:
    created = run(sandbox, "create_task", {"hs_timestamp": "2025-07-15T17:00:00.000Z"})
    [task] = search(sandbox, {}, "tasks").data["results"]
    assert task["id"] == created.data["id"]
    assert task["createdAt"] == task["properties"]["hs_createdate"] == created.data["createdAt"]


def test_one_sort_rule_orders_the_results(sandbox: Sandbox) -> None:
    seed_numbers(sandbox, ["30", "10", "20"])
    body = {"sorts": [{"propertyName": "score", "direction": "DESCENDING"}],
            "properties": ["score"]}  # fmt: skip
    scores = [r["properties"]["score"] for r in search(sandbox, body).data["results"]]
    assert scores == ["30", "20", "10"]
    two = search(sandbox, {"sorts": [{"propertyName": "a"}, {"propertyName": "b"}]})
    assert "one sorting rule" in refusal(two)


def test_a_body_sent_as_json_text_is_read(sandbox: Sandbox) -> None:
    seed_numbers(sandbox, ["1", "2"])
    assert search(sandbox, json.dumps(one_filter("score", "EQ", value="2"))).data["total"] == 1
    assert "not JSON" in refusal(search(sandbox, "{nope"))


# ---------------------------------------------------------------------- CRM search: limits


def test_five_filter_groups_are_taken_and_six_refused(sandbox: Sandbox) -> None:
    group = {"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}
    assert search(sandbox, {"filterGroups": [group] * 5}).ok
    assert "at most 5 filterGroups" in refusal(search(sandbox, {"filterGroups": [group] * 6}))


def test_six_filters_in_a_group_are_taken_and_seven_refused(sandbox: Sandbox) -> None:
    flt = {"propertyName": "email", "operator": "HAS_PROPERTY"}
    assert search(sandbox, {"filterGroups": [{"filters": [flt] * 6}]}).ok
    message = refusal(search(sandbox, {"filterGroups": [{"filters": [flt] * 7}]}))
    assert "at most 6 filters" in message


def test_eighteen_filters_in_all_are_taken_and_nineteen_refused(sandbox: Sandbox) -> None:
    flt = {"propertyName": "email", "operator": "HAS_PROPERTY"}
    groups = [{"filters": [flt] * 6}] * 3
    assert search(sandbox, {"filterGroups": groups}).ok
    more = [*groups, {"filters": [flt]}]
    assert "at most 18 filters in all" in refusal(search(sandbox, {"filterGroups": more}))


def test_a_limit_of_200_is_taken_and_201_refused(sandbox: Sandbox) -> None:
    assert search(sandbox, {"limit": 200}).ok
    assert "from 1 to 200" in refusal(search(sandbox, {"limit": 201}))
    assert "from 1 to 200" in refusal(search(sandbox, {"limit": 0}))


def test_after_at_10000_is_refused_and_just_below_it_is_taken(sandbox: Sandbox) -> None:
    assert search(sandbox, {"after": "9999"}).data["results"] == []
    assert "10,000" in refusal(search(sandbox, {"after": "10000"}))
    assert "integer" in refusal(search(sandbox, {"after": "abc"}))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (one_filter("email", "BETWEEN", value="1"), "BETWEEN needs value and highValue"),
        (one_filter("email", "IN", value="a"), "IN needs values"),
        (one_filter("email", "EQ"), "EQ needs a value"),
        (one_filter("email", "LIKE", value="a"), "is not one of"),
        ({"filterGroups": [{"filters": []}]}, "non-empty list"),
        ({"query": "x" * 3001}, "3,000 characters"),
    ],
)
def test_malformed_filters_get_hubspots_400(
    sandbox: Sandbox, body: dict[str, Any], words: str
) -> None:
    assert words in refusal(search(sandbox, body))


# ---------------------------------------------------------------------- CRM search: paging


def page_through(sandbox: Sandbox, limit: int, body: dict[str, Any] | None = None) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        request = {**(body or {}), "limit": limit, **({"after": after} if after else {})}
        reply = search(sandbox, request)
        assert reply.ok, reply
        seen += [r["id"] for r in reply.data["results"]]
        after = reply.data.get("paging", {}).get("next", {}).get("after")
        if after is None:
            return seen


def test_paging_gives_every_record_exactly_once(sandbox: Sandbox) -> None:
    ids = sandbox.seed("hubspot", "contacts",
                       [{"email": f"p{i}@example.com"} for i in range(23)], replace=True)  # fmt: skip
    seen = page_through(sandbox, 5)
    assert seen == ids


def test_a_limit_landing_exactly_on_the_total_gives_no_next_page(sandbox: Sandbox) -> None:
    sandbox.seed("hubspot", "contacts",
                 [{"email": f"p{i}@example.com"} for i in range(6)], replace=True)  # fmt: skip
    last = search(sandbox, {"limit": 3, "after": "3"})
    assert len(last.data["results"]) == 3
    assert "paging" not in last.data
    whole = search(sandbox, {"limit": 6})
    assert len(whole.data["results"]) == 6
    assert "paging" not in whole.data


def test_other_requests_are_not_the_sandboxs_to_answer(sandbox: Sandbox) -> None:
    action = CATALOGUE.get("hubspot", "httprequest")
    for params in (
        {"method": "GET", "url_path": "/crm/v3/objects/companies", "query_params": {"limit": "2"}},
        {"method": "POST", "url_path": "/crm/v3/objects/contacts"},
        {"method": "POST", "url_path": "/crm/v3/objects/tickets/search", "body": {}},
    ):
        assert sandbox.answer(action, params, None) is None, params


def test_the_get_example_replays_byte_for_byte_in_replay_mode() -> None:
    action = CATALOGUE.get("hubspot", "httprequest")
    example = action.examples[0]
    with RefoldMock() as mock:
        client = RefoldClient(api_key="tk_1", linked_account_id="user_1")
        result = client.execute("hubspot", "httprequest", dict(example.params))
        assert result.data == example.data
        assert mock.checks.unmatched_replies() == []


def test_search_through_the_mock_in_stateful_mode() -> None:
    with RefoldMock(stateful=True):
        client = RefoldClient(api_key="tk_1", linked_account_id="user_1")
        client.execute(
            "hubspot", "create_company", {"name": "Harborline", "domain": "h.example.com"}
        )
        params = {"method": "POST", "url_path": "/crm/v3/objects/companies/search",
                  "body": one_filter("domain", "EQ", value="h.example.com")}  # fmt: skip
        data = client.execute("hubspot", "httprequest", params).data
        assert [r["properties"]["name"] for r in data["results"]] == ["Harborline"]


# ---------------------------------------------------------------------- writes


def test_an_invalid_email_is_hubspots_400_with_invalid_email(sandbox: Sandbox) -> None:
    reply = run(sandbox, "create_contact", {"email": "example.lcom"})
    message = refusal(reply)
    prefix = "Property values were not valid: "
    assert message.startswith(prefix)
    [problem] = json.loads(message[len(prefix) :])
    assert problem["error"] == "INVALID_EMAIL"
    assert problem["name"] == "email"
    assert problem["message"] == "Email address example.lcom is invalid"
    assert reply.data["errors"] == [{"message": "Email address example.lcom is invalid",
                                     "code": "INVALID_EMAIL",
                                     "context": {"propertyName": ["email"]}}]  # fmt: skip
    assert list(reply.data) == ["status", "message", "correlationId", "errors", "category"]
    assert not any(r.get("email") == "example.lcom" for r in sandbox.records("hubspot", "contacts"))


def test_an_update_to_an_invalid_email_is_refused(sandbox: Sandbox) -> None:
    reply = run(sandbox, "update_contact", {"contactId": "1510745", "email": "nope"})
    assert reply.data["errors"][0]["code"] == "INVALID_EMAIL"


def test_an_unknown_property_is_property_doesnt_exist(sandbox: Sandbox) -> None:
    reply = run(sandbox, "create_company",
                {"name": "Acme", "additional_fields": {"favorite_food": "pizza"}})  # fmt: skip
    assert reply.data["errors"] == [{"message": 'Property "favorite_food" does not exist',
                                     "code": "PROPERTY_DOESNT_EXIST",
                                     "context": {"propertyName": ["favorite_food"]}}]  # fmt: skip
    assert 'Property \\"favorite_food\\" does not exist' in reply.data["message"]


def test_default_properties_and_properties_records_hold_are_known(sandbox: Sandbox) -> None:
    assert run(sandbox, "create_company",
               {"name": "Acme", "additional_fields": {"numberofemployees": "5"}}).ok  # fmt: skip
    sandbox.seed("hubspot", "companies", [{"name": "Seeded", "favorite_food": "soup"}])
    assert run(sandbox, "create_company",
               {"name": "Acme 2", "additional_fields": {"favorite_food": "pizza"}}).ok  # fmt: skip


def test_a_catalogue_declares_custom_properties_in_the_state_block(tmp_path: Any) -> None:
    doc = json.loads((Catalogue.builtin_path() / "hubspot" / "create_contact.json").read_text())
    doc["state"]["properties"]["known"].append("favorite_food")
    write_action(tmp_path, doc)
    catalogue = Catalogue.load(tmp_path, include_builtin=True)
    sandbox = Sandbox(catalogue, Store(catalogue))
    params = {"email": "ada@example.com", "additional_fields": {"favorite_food": "pizza"}}
    assert sandbox.answer(catalogue.get("hubspot", "create_contact"), params, None).ok  # type: ignore[union-attr]
    # Declared on contacts, so an update takes it too.
    update = {"contactId": "1510745", "additional_fields": {"favorite_food": "soup"}}
    assert sandbox.answer(catalogue.get("hubspot", "update_contact"), update, None).ok  # type: ignore[union-attr]


@pytest.mark.parametrize(("field", "value"), [("dealstage", "won"), ("pipeline", "sales-2")])
def test_a_deal_stage_or_pipeline_outside_the_default_pipeline_is_refused(
    sandbox: Sandbox, field: str, value: str
) -> None:
    params = {"dealname": "X", "dealstage": "closedwon", "pipeline": "default", field: value}
    reply = run(sandbox, "create_deal", params)
    [error] = reply.data["errors"]
    assert error["code"] == "INVALID_OPTION"
    assert error["message"].startswith(f"{value} was not one of the allowed options: [")


def test_every_default_deal_stage_is_taken(sandbox: Sandbox) -> None:
    for stage in ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                  "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"):  # fmt: skip
        assert run(sandbox, "create_deal", {"dealname": stage, "dealstage": stage}).ok, stage


def test_a_create_returns_the_whole_object(sandbox: Sandbox) -> None:
    reply = run(sandbox, "create_contact", {"email": "ada@example.com", "firstname": "Ada"})
    key = reply.data["id"]
    assert reply.data == {
        "id": key,
        "properties": {
            "createdate": "2025-07-08T14:05:33.812Z",
            "email": "ada@example.com",
            "firstname": "Ada",
            "hs_object_id": key,
            "lastmodifieddate": "2025-07-08T14:05:33.812Z",
        },
        "createdAt": "2025-07-08T14:05:33.812Z",
        "updatedAt": "2025-07-08T14:05:33.812Z",
        "archived": False,
    }


# ---------------------------------------------------------------------- the search lag


def test_search_lag_in_calls_hides_a_new_record_for_that_many_calls(
    store: Store, sandbox: Sandbox
) -> None:
    store.search_lag = SearchLag(calls=2)
    created = run(sandbox, "create_contact", {"email": "new@example.com"}).data["id"]
    body = one_filter("email", "EQ", value="new@example.com")
    assert search(sandbox, body).data["total"] == 0  # the next call
    assert search(sandbox, body).data["total"] == 0  # the one after
    assert [r["id"] for r in search(sandbox, body).data["results"]] == [created]
    # A get sees it at once.
    assert run(sandbox, "get_contact_by_id", {"contactId": created}).ok


def test_search_lag_in_seconds_uses_the_stores_timer(store: Store, sandbox: Sandbox) -> None:
    timer = FakeTimer()
    store.timer = timer
    store.search_lag = SearchLag.parse("2s")
    run(sandbox, "create_contact", {"email": "new@example.com"})
    body = one_filter("email", "EQ", value="new@example.com")
    timer.now += 1.999
    assert search(sandbox, body).data["total"] == 0
    timer.now += 0.001
    assert search(sandbox, body).data["total"] == 1


def test_search_lag_hides_an_update_too(store: Store, sandbox: Sandbox) -> None:
    store.search_lag = SearchLag(calls=1)
    run(sandbox, "update_contact", {"contactId": "1510745", "jobtitle": "CTO"})
    body = one_filter("jobtitle", "EQ", value="CTO")
    assert search(sandbox, body).data["total"] == 0
    assert search(sandbox, body).data["total"] == 1


def test_without_a_lag_a_new_record_is_found_at_once(sandbox: Sandbox) -> None:
    run(sandbox, "create_contact", {"email": "new@example.com"})
    assert search(sandbox, one_filter("email", "EQ", value="new@example.com")).data["total"] == 1


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (2, SearchLag(calls=2)),
        (1.5, SearchLag(seconds=1.5)),
        ("2s", SearchLag(seconds=2.0)),
        ("1.5 seconds", SearchLag(seconds=1.5)),
        ("3 calls", SearchLag(calls=3)),
        ("1 call", SearchLag(calls=1)),
        (SearchLag(calls=4), SearchLag(calls=4)),
    ],
)
def test_search_lag_parse_reads_calls_and_seconds(given: Any, expected: SearchLag) -> None:
    assert SearchLag.parse(given) == expected


@pytest.mark.parametrize("given", [True, None, "soon", "2 minutes", "1.5 calls", -1, -0.5, [2]])
def test_search_lag_parse_refuses_anything_else_with_a_hint(given: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SearchLag.parse(given)
    assert caught.value.hint


def test_search_lag_is_exported_from_the_sandbox_package() -> None:
    import refold_contract.sandbox as sandbox_package

    assert "SearchLag" in sandbox_package.__all__
    assert sandbox_package.SearchLag is SearchLag
