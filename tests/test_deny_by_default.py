"""Deny by default: only what the catalogue in force makes a read goes live, for the parameters
it names, and a name decides an access only when an entry is built, for a person to review."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from refold_contract import Catalogue, ReadOnlyViolation, RefoldMock
from refold_contract._guard.custody import Credentials
from refold_contract.access import ReadWhen, access_from_name, access_of, live_refusal
from refold_contract.cli import main
from refold_contract.live.gateway import Gateway, GatewayConfig
from tests.helpers import FAKE_KEY, action_doc, write_action

ACCOUNT = "acct_deny_1"
P = "/api/v2/integration-schema"


# ================================================================================ names


@pytest.mark.parametrize(
    "name",
    ["get_and_increment", "fetchAndLock", "read_and_consume", "search_and_follow",
     "list_then_archive", "get_or_create", "getPlusReset", "fetch_and_lock_job",
     "get_next_and_ack", "read_queue_pop", "search_claim"],
)  # fmt: skip
def test_a_compound_or_side_effect_name_is_never_inferred_as_a_read(name: str) -> None:
    assert access_from_name(name) == "write"


def test_an_action_the_catalogue_lacks_is_a_write_whatever_its_name() -> None:
    builtin = Catalogue.builtin()
    assert access_of(builtin, "hubspot", "get_contact") == "read"
    for slug, action_id in [("hubspot", "get_owners"), ("acme", "list_widgets"),
                            ("hubspot", "search_everything")]:  # fmt: skip
        assert access_of(builtin, slug, action_id) == "write"
        assert live_refusal(builtin, slug, action_id) == (
            "it is not in the catalogue in force (the built-in actions and your folders)"
        )


# ====================================================================== read_when conditions


SELECTS = {
    "SELECT Id FROM Account": True,
    "select Id, Name from Contact where Name = 'a;b'": True,
    "SELECT Id FROM Account WHERE Name = 'it''s' -- DELETE\n": True,
    "SELECT Id FROM Account;": True,
    "  /* note */ SELECT Id FROM Account": True,
    "SELECT Id FROM Account; DELETE FROM Account": False,
    "SELECT Id FROM Account FOR UPDATE": False,
    "SELECT Id INTO backup FROM Account": False,
    "UPDATE Account SET Name = 'x'": False,
    "DELETE FROM Account": False,
    "WITH x AS (SELECT 1) SELECT * FROM x": False,  # not one plain SELECT: refused
    "SELECT 'unclosed FROM Account": False,
    "SELECT Id FROM Account /* unclosed": False,
    "SELECT Id FROM Account WHERE Name = '--' ; DELETE FROM Account": False,
    "": False,
}
GRAPHQL = {
    "{ contacts { id } }": True,
    "query Contacts { contacts(first: 10) { id email } }": True,
    '{ search(q: "mutation subscription") { id } }': True,
    "# mutation in a comment\n{ me { id } }": True,
    '"""a mutation, described""" query { me { id } }': True,
    "mutation { deleteContact(id: 1) { id } }": False,
    "subscription { contactChanged { id } }": False,
    "query { me { id } } mutation M { deleteContact(id: 1) { id } }": False,
    '{ a(x: "#") } mutation { b }': False,
    '{ a(x: "unclosed) }': False,
    "": False,
}


@pytest.mark.parametrize(("statement", "reads"), SELECTS.items())
def test_select_holds_for_one_select_statement_only(statement: str, reads: bool) -> None:
    assert ReadWhen("query", "select").holds({"query": statement}) is reads


@pytest.mark.parametrize(("document", "reads"), GRAPHQL.items())
def test_graphql_query_holds_for_documents_without_a_mutation(document: str, reads: bool) -> None:
    assert ReadWhen("query", "graphql-query").holds({"query": document}) is reads


def test_one_of_holds_for_the_values_in_any_case_and_never_for_a_missing_or_odd_value() -> None:
    method = ReadWhen("method", "one_of", ("GET", "HEAD"))
    assert method.holds({"method": "get"})
    assert method.holds({"method": " HEAD "})
    for params in ({}, {"method": "DELETE"}, {"method": ["GET"]}, {"method": None}, None):
        assert not method.holds(params)


def test_httprequest_reads_only_with_get_or_head_in_the_builtin_catalogue() -> None:
    builtin = Catalogue.builtin()
    for slug in ("salesforce", "hubspot"):
        action = builtin.get(slug, "httprequest")
        assert action.access == "write"
        assert action.access_declared
        assert access_of(builtin, slug, "httprequest", {"method": "GET", "url_path": "/x"}) == (
            "read"
        )
        for method in ("POST", "PUT", "PATCH", "DELETE", "get; DELETE"):
            assert access_of(builtin, slug, "httprequest", {"method": method}) == "write"
        assert access_of(builtin, slug, "httprequest") == "write"  # parameters not known
    assert builtin.get("salesforce", "get_entity_with_soql").read_when == (
        ReadWhen("query", "select"),
    )


def test_the_read_only_client_sends_a_get_through_httprequest_and_refuses_a_delete() -> None:
    from refold_contract import RefoldClient

    mock = RefoldMock(assert_all_called=False)
    with mock, RefoldClient(api_key=FAKE_KEY, linked_account_id=ACCOUNT, read_only=True) as c:
        assert c.execute("salesforce", "httprequest", {"method": "GET", "url_path": "/q"}).ok
        with pytest.raises(ReadOnlyViolation) as info:
            c.execute("salesforce", "httprequest", {"method": "DELETE", "url_path": "/q"})
    assert "it reads only when 'method' is GET or HEAD" in str(info.value)
    assert info.value.hint
    assert "goes live only when 'method' is GET or HEAD" in info.value.hint
    assert [call.params["method"] for call in mock.calls] == ["GET"]


# ====================================================================== the catalogue format


def lint(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = main(["lint", str(folder)])
    captured = capsys.readouterr()
    return status, (captured.out + captured.err).splitlines()


def test_read_when_loads_and_round_trips(tmp_path: Path) -> None:
    doc = action_doc(action_id="run_query", access="read", read_when={"limit": "select"})
    write_action(tmp_path, doc)
    action = Catalogue.load(tmp_path).get("demo", "run_query")
    assert action.read_when == (ReadWhen("limit", "select"),)
    assert {c.parameter: c.as_json() for c in action.read_when} == {"limit": "select"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"read_when": {"method": ["GET"]}, "access": "write"},
         "read_when names 'method', which is not a parameter of the action"),
        ({"read_when": {"id": ["GET"]}},
         "an action with 'read_when' must declare its access"),
        ({"read_when": {"id": []}, "access": "write"},
         "read_when.id must be a non-empty array of strings"),
        ({"read_when": {"id": "sometimes"}, "access": "write"},
         "read_when.id must be a non-empty array of strings"),
        ({"read_when": [], "access": "write"}, "'read_when' must be a non-empty object"),
    ],
)  # fmt: skip
def test_lint_checks_read_when(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], overrides: dict[str, Any], message: str
) -> None:
    write_action(tmp_path, action_doc(**overrides))
    status, lines = lint(tmp_path, capsys)
    assert status == 1
    assert any(message in line and "#/read_when" in line for line in lines), lines


def test_lint_notes_every_access_a_name_decided_and_a_builtin_file_must_declare_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inferred = write_action(tmp_path, action_doc(action_id="get_thing"))
    write_action(tmp_path, action_doc(action_id="list_things", access="read"))
    status, lines = lint(tmp_path, capsys)
    assert status == 0
    assert lines == [
        f"{inferred}: note: access 'read' inferred from the name 'get_thing'; check it, then "
        'declare it ("access": "read")',
        f"ok: 2 action file(s) under {tmp_path}, no problems, 1 access(es) inferred",
    ]
    report = Catalogue.lint_report(Catalogue.builtin_path())
    assert report.ok
    assert report.inferred == ()


# ====================================================================== the gateway


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[Gateway, RefoldMock]]:
    mine = tmp_path / "mine"
    graph = action_doc(slug="acme", action_id="query_graphql", access="read",
                       read_when={"query": "graphql-query"},
                       parameters=[{"name": "query", "label": "Query", "required": True,
                                    "type": "textarea"}],
                       examples=[{"params": {"query": "{ me { id } }"}, "source": "test",
                                  "response": {"node_status": "Success", "data": {}}}])  # fmt: skip
    write_action(mine, graph)
    catalogue = Catalogue.load(mine, include_builtin=True)
    upstream = RefoldMock(catalogue, api_keys={FAKE_KEY}, assert_all_called=False)
    gw = Gateway(
        GatewayConfig(upstream="http://refold.test"),
        Credentials(api_key=FAKE_KEY, linked_account_id=ACCOUNT),
        catalogue=catalogue,
        transport=httpx.MockTransport(upstream.handle),
    )
    yield gw, upstream
    gw.close()


def send(gw: Gateway, slug: str, action_id: str, params: Any) -> tuple[int, str]:
    reply = gw.handle(
        "POST", f"{P}/{slug}/actions/{action_id}/execute", {}, json.dumps(params).encode()
    )
    body = json.loads(reply.body)
    return reply.status, str(body.get("message", ""))


def test_the_gateway_forwards_only_what_the_catalogue_makes_a_read_for_these_parameters(
    gateway: tuple[Gateway, RefoldMock],
) -> None:
    gw, upstream = gateway
    soql = "SELECT Id FROM Account"
    sent = [
        ("salesforce", "httprequest", {"method": "GET", "url_path": "/services/data/v59.0/q"}),
        ("salesforce", "get_entity_with_soql", {"query": soql}),
        ("acme", "query_graphql", {"query": "query { me { id } }"}),
    ]
    for slug, action_id, params in sent:
        status, message = send(gw, slug, action_id, params)
        assert status == 200, message
    refused = {
        ("salesforce", "httprequest", json.dumps({"method": "DELETE", "url_path": "/x"})):
            "it reads only when 'method' is GET or HEAD",
        ("salesforce", "get_entity_with_soql", json.dumps({"query": soql + "; DELETE x"})):
            "it reads only when 'query' is one SELECT statement",
        ("acme", "query_graphql", json.dumps({"query": "mutation { drop }"})):
            "it reads only when 'query' is a GraphQL query (no mutation or subscription)",
        ("hubspot", "get_and_increment", "{}"): "it is not in the catalogue in force",
        ("hubspot", "get_owners", "{}"): "it is not in the catalogue in force",
        ("hubspot", "get_contact", json.dumps({"limit": "1", "method": "DELETE"})):
            "'method' is not a parameter of hubspot/get_contact",
        ("hubspot", "get_contact", json.dumps({"url": "/x", "action_id": "create_contact"})):
            "'action_id', 'url' are not parameters of hubspot/get_contact",
    }  # fmt: skip
    for (slug, action_id, body), says in refused.items():
        status, message = send(gw, slug, action_id, json.loads(body))
        assert status == 403, (slug, action_id, body)
        assert says in message, message
    assert [(c.slug, c.action_id) for c in upstream.calls] == [(s, a) for s, a, _ in sent]
    assert FAKE_KEY not in " ".join(str(c.params) for c in upstream.calls)


def test_a_refusal_for_an_unknown_action_says_to_pull_it_and_check_its_access(
    gateway: tuple[Gateway, RefoldMock],
) -> None:
    gw, _ = gateway
    status, message = send(gw, "hubspot", "get_owners", {})
    assert status == 403
    assert "refold-contract pull hubspot adds it" in message
    assert "refold-contract lint lists every access inferred from a name" in message
