"""The project's own property tests of the strategies, over every built-in action."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from refold_contract import Action, Catalogue, Parameter, UnknownFieldType
from refold_contract.catalogue import Option
from refold_contract.contract import shape_problems, success_shape
from refold_contract.strategies import InvalidBody, actions, invalid_params, params, responses

CATALOGUE = Catalogue.builtin()
ACTIONS = list(CATALOGUE)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[], database=None)


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.key)
def test_every_valid_body_passes_the_strict_check_and_survives_json(action: Action) -> None:
    @FAST
    @given(params(action))
    def run(body: dict[str, Any]) -> None:
        assert action.check(body, strict=True) == []
        assert json.loads(json.dumps(body)) == body
        assert set(action.required) <= set(body)

    run()


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.key)
def test_every_invalid_body_fails_for_its_stated_reason_and_field(action: Action) -> None:
    @FAST
    @given(invalid_params(action))
    def run(case: InvalidBody) -> None:
        problems = action.check(case.body, strict=True)
        assert any(p.kind == case.reason and p.field == case.field for p in problems), (
            case,
            problems,
        )
        json.dumps(case.body)

    run()


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.key)
def test_responses_have_the_recorded_shape(action: Action) -> None:
    shape = success_shape(action)

    @FAST
    @given(responses(action))
    def run(data: Any) -> None:
        assert shape_problems(data, shape) == []
        json.dumps(data)

    run()


def test_invalid_params_cover_every_required_and_typed_field() -> None:
    action = CATALOGUE.get("zendesk", "get_ticket_by_id")  # ticket_id: required number
    seen = set()

    @settings(max_examples=200, database=None)
    @given(invalid_params(action))
    def run(case: InvalidBody) -> None:
        seen.add((case.reason, case.field))

    run()
    assert seen == {
        ("missing_required", "ticket_id"),
        ("wrong_type", "ticket_id"),
        ("not_an_object", None),
    }


def test_bodies_shrink_to_required_fields_with_minimal_values() -> None:
    action = CATALOGUE.get("hubspot", "search_contacts")
    minimal = find(params(action), lambda body: True, settings=settings(database=None))
    assert minimal == {"propertyName": "", "operator": "", "value": ""}
    with_options = find(
        params(CATALOGUE.get("hubspot", "httprequest")),
        lambda body: True,
        settings=settings(database=None),
    )
    assert with_options == {"method": "GET", "url_path": ""}  # the first option
    numbers = find(
        params(CATALOGUE.get("zendesk", "get_ticket_by_id")),
        lambda body: True,
        settings=settings(database=None),
    )
    assert numbers == {"ticket_id": "0"}


def test_optional_modes() -> None:
    action = CATALOGUE.get("hubspot", "create_contact")
    all_names = {p.name for p in action.parameters}

    @settings(max_examples=30, database=None)
    @given(params(action, optional="always"), params(action, optional="never"))
    def run(full: dict[str, Any], bare: dict[str, Any]) -> None:
        assert set(full) == all_names
        assert set(bare) == {"email"}

    run()
    with pytest.raises(ValueError, match="optional must be"):
        params(action, optional="often")  # type: ignore[arg-type]


def test_overrides_replace_a_fields_strategy_and_unknown_names_are_refused() -> None:
    action = CATALOGUE.get("hubspot", "create_contact")

    @settings(max_examples=20, database=None)
    @given(params(action, overrides={"email": st.just("fixed@example.com")}))
    def run(body: dict[str, Any]) -> None:
        assert body["email"] == "fixed@example.com"

    run()
    with pytest.raises(ValueError, match=r"emial.*it has: firstname, lastname, email"):
        params(action, overrides={"emial": st.just("x")})


def test_options_give_one_of_their_values() -> None:
    action = Action(
        slug="demo",
        action_id="get_x",
        name="X",
        parameters=(
            Parameter("status", required=True, options=(Option("open"), Option("closed"))),
            Parameter("tags", required=True, multiple=True, options=(Option("a"), Option("b"))),
        ),
    )

    @settings(max_examples=30, database=None)
    @given(params(action))
    def run(body: dict[str, Any]) -> None:
        assert body["status"] in ("open", "closed")
        assert set(body["tags"]) <= {"a", "b"}
        assert body["tags"]
        assert action.check(body, strict=True) == []

    run()


def test_an_unknown_type_is_text_with_one_warning() -> None:
    action = Action(
        slug="demo",
        action_id="get_y",
        name="Y",
        parameters=(Parameter("colour", required=True, type="color"),),
    )
    with pytest.warns(UnknownFieldType, match="'colour' has unknown type 'color'") as caught:
        strategy = params(action)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params(action)  # the second time: no warning
    assert len(caught) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = find(strategy, lambda b: True, settings=settings(database=None))
    assert value == {"colour": ""}


def test_actions_strategy_filters_by_access() -> None:
    @settings(max_examples=30, database=None)
    @given(actions(access="read"), actions(CATALOGUE, access="write"))
    def run(read: Action, write: Action) -> None:
        assert read.is_read
        assert not write.is_read

    run()


def test_the_refold_profile_is_registered() -> None:
    profile = settings.get_profile("refold")
    assert profile.max_examples == 25
    assert profile.deadline is None
    assert HealthCheck.too_slow in profile.suppress_health_check


def test_textareas_are_multi_line_with_empty_lines_and_any_characters() -> None:
    action = Action(
        slug="demo",
        action_id="create_note",
        name="Note",
        parameters=(Parameter("body", required=True, type="textarea"),),
    )
    seen: set[int | str] = set()

    @settings(max_examples=300, database=None)
    @given(params(action))
    def run(body: dict[str, Any]) -> None:
        text = body["body"]
        assert isinstance(text, str)
        lines = text.split("\n")
        seen.add(min(len(lines), 4))
        if "\n\n" in text:
            seen.add("empty line")
        if text.startswith("\n"):
            seen.add("leading break")
        if text.endswith("\n"):
            seen.add("trailing break")
        if any(ord(c) > 0xFFFF for c in text):
            seen.add("astral")

    run()
    assert seen == {1, 2, 3, 4, "empty line", "leading break", "trailing break", "astral"}
    assert find(params(action), lambda b: True, settings=settings(database=None)) == {"body": ""}
    assert find(params(action), lambda b: "\n" in b["body"], settings=settings(database=None)) == {
        "body": "\n"
    }


def test_success_shape_caches_per_action_without_keeping_the_action_alive() -> None:
    import gc
    import weakref

    from refold_contract.catalogue import Example

    action = Action(
        slug="acme",
        action_id="get_widget",
        name="Get Widget",
        examples=(Example(params={}, response={"node_status": "Success", "data": {"id": "1"}}),),
    )
    shape = success_shape(action)
    assert success_shape(action) is shape
    alive = weakref.ref(action)
    del action
    gc.collect()
    assert alive() is None
