"""The built-in contract suite: ``refold-contract test`` and ``pytest --refold-contract`` run it.

For every catalogue action (ids like ``hubspot/get_contact``):

- any valid body gets HTTP 200 with the success envelope, and ``data`` of the recorded shape
  where examples exist;
- every invalid body gets Refold's 400 naming the field;
- the schema operation agrees with the catalogue;

and for every app, the list operation agrees with the catalogue. Which actions, and how many
bodies each, come from ``--refold-app``, ``--refold-action`` and ``--refold-examples``.

This is a pytest test module; it is not imported by the package.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings

from refold_contract import _endpoint as ep
from refold_contract.catalogue import Action
from refold_contract.contract import InvalidBody, check_invalid_reply, check_reply, success_shape
from refold_contract.mock import RefoldMock
from refold_contract.plugin import MOCK_API_KEY, MOCK_LINKED_ACCOUNT, contract_selection
from refold_contract.strategies import invalid_params, params

pytestmark = pytest.mark.refold(strict=True, assert_all_called=False)
_JSON = {"content-type": "application/json"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    selection = contract_selection(metafunc.config)
    if "contract_action" in metafunc.fixturenames:
        metafunc.parametrize(
            "contract_action", selection.actions, ids=[a.key for a in selection.actions]
        )
    if "contract_app" in metafunc.fixturenames:
        apps = sorted({a.slug for a in selection.actions})
        metafunc.parametrize("contract_app", apps, ids=[f"{slug}/(list actions)" for slug in apps])


@pytest.fixture
def contract_http(refold_mock: RefoldMock) -> Iterator[httpx.Client]:
    headers = {ep.HEADER_API_KEY: MOCK_API_KEY, ep.HEADER_LINKED_ACCOUNT: MOCK_LINKED_ACCOUNT}
    with httpx.Client(base_url=refold_mock.base_url, headers=headers, timeout=30) as client:
        yield client


def _settings(config: pytest.Config) -> settings:
    return settings(
        settings.get_profile("refold"), max_examples=contract_selection(config).examples
    )


def test_valid_bodies_get_the_success_envelope(
    contract_action: Action,
    contract_http: httpx.Client,
    pytestconfig: pytest.Config,
    record_property: Callable[[str, Any], None],
) -> None:
    action = contract_action
    shape = success_shape(action)
    path = ep.execute_path(action.slug, action.action_id)
    tried = 0

    @_settings(pytestconfig)
    @given(body=params(action))
    def run(body: dict[str, Any]) -> None:
        nonlocal tried
        tried += 1
        problems = check_reply(action, contract_http.post(path, json=body), shape)
        assert not problems, f"{action.key} with body {body!r}:\n  " + "\n  ".join(problems)

    try:
        run()
    finally:
        record_property("bodies", tried)


def test_invalid_bodies_get_refolds_400_naming_the_field(
    contract_action: Action,
    contract_http: httpx.Client,
    pytestconfig: pytest.Config,
    record_property: Callable[[str, Any], None],
) -> None:
    action = contract_action
    path = ep.execute_path(action.slug, action.action_id)
    tried = 0

    @_settings(pytestconfig)
    @given(case=invalid_params(action))
    def run(case: InvalidBody) -> None:
        nonlocal tried
        tried += 1
        # json= would send no body at all for None; send exactly this JSON document.
        content = json.dumps(case.body).encode()
        response = contract_http.post(path, content=content, headers=_JSON)
        problems = check_invalid_reply(case, response)
        assert not problems, (
            f"{action.key} with {case.reason} body {case.body!r}:\n  " + "\n  ".join(problems)
        )

    try:
        run()
    finally:
        record_property("bodies", tried)


def test_schema_operation_agrees_with_the_catalogue(
    contract_action: Action, contract_http: httpx.Client
) -> None:
    action = contract_action
    response = contract_http.get(ep.schema_path(action.slug, action.action_id))
    assert response.status_code == 200, response.text[:200]
    assert response.json() == action.schema()


def test_list_operation_agrees_with_the_catalogue(
    contract_app: str, contract_http: httpx.Client, refold_mock: RefoldMock
) -> None:
    response = contract_http.get(ep.list_actions_path(contract_app))
    assert response.status_code == 200, response.text[:200]
    served = sorted(entry["action_id"] for entry in response.json())
    expected = sorted(a.action_id for a in refold_mock.catalogue.actions(contract_app))
    assert served == expected
