"""Match rules on examples: an example answers only the params it was recorded with, or those its
``match`` rules free (``"any"``: any value or none; ``"present"``: any value, but sent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from refold_contract import Catalogue, CatalogueError
from refold_contract.catalogue import Example
from refold_contract.mock import RefoldMock
from refold_contract.mock.sandboxing import COMPUTED_NOTE

from .helpers import write_action

PATH = "/api/v2/integration-schema/hubspot/actions/search_contacts/execute"
HEADERS = {"x-api-key": "tk_1", "linked_account_id": "user_1"}
REPLY = {"node_status": "Success", "data": {"total": 1, "results": [{"id": "7"}]}}


def ruled(match: Any, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "slug": "hubspot",
        "action_id": "search_contacts",
        "extends": True,
        "examples": [
            {
                "params": params or {"propertyName": "email", "operator": "EQ", "value": "x"},
                "response": REPLY,
                "match": match,
            }
        ],
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"limit": "1", "after": "5"}, True),  # equal
        ({"limit": "1"}, True),  # "any": may be left out
        ({"limit": "1", "after": ""}, True),  # "any": any value, a falsy one too
        ({"limit": "2", "after": "5"}, False),  # a param without a rule must equal
        ({"after": "5"}, False),  # ... and be sent
        ({"limit": "1", "after": "5", "x": "1"}, False),  # a param the example lacks
    ],
)
def test_an_example_takes_equal_params_and_what_its_rules_free(
    params: dict[str, Any], expected: bool
) -> None:
    example = Example({"limit": "1", "after": "5"}, REPLY, match={"after": "any"})
    assert example.matches(params) is expected


def test_present_needs_the_param_sent_with_any_value() -> None:
    example = Example({"q": "a"}, REPLY, match={"q": "present"})
    assert example.matches({"q": "zzz"})
    assert example.matches({"q": 0})
    assert not example.matches({})


def test_through_the_mock_a_ruled_example_answers_instead_of_the_sandbox(tmp_path: Path) -> None:
    write_action(tmp_path, ruled({"value": "any"}))
    mock = RefoldMock(Catalogue.load(tmp_path, include_builtin=True))
    with mock, httpx.Client(headers=HEADERS) as http:
        for value in ("x", "anyone@example.com"):
            body = {"propertyName": "email", "operator": "EQ", "value": value}
            assert http.post(mock.base_url + PATH, json=body).json() == REPLY
            assert mock.calls[-1].note is None
        # Another property: no rule frees it, so the sandbox computes the reply.
        other = {"propertyName": "firstname", "operator": "EQ", "value": "Nobody"}
        assert http.post(mock.base_url + PATH, json=other).json()["data"]["total"] == 0
        assert (mock.calls[-1].note or "").startswith(COMPUTED_NOTE)
    assert mock.unmatched_replies() == []


@pytest.mark.parametrize(
    ("match", "message"),
    [
        ({"value": "maybe"}, "match rule for 'value' must be 'any' or 'present', got 'maybe'"),
        ({"colour": "any"}, "'colour' is not a parameter of hubspot/search_contacts"),
        (["value"], "'match' must be an object, got array"),
    ],
)
def test_a_bad_match_rule_names_the_file_the_pointer_and_the_fix(
    tmp_path: Path, match: Any, message: str
) -> None:
    write_action(tmp_path, ruled(match))
    with pytest.raises(CatalogueError) as caught:
        Catalogue.load(tmp_path, include_builtin=True)
    assert message in str(caught.value)
    assert "/examples/0/match" in str(caught.value)
    assert caught.value.hint


def test_match_rules_survive_to_json() -> None:
    example = Example({"q": "a"}, REPLY, match={"q": "any"})
    assert example.to_json()["match"] == {"q": "any"}
