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
from hypothesis import Phase, given, reject, settings

from refold_contract._core import endpoint as ep
from refold_contract._core.json import canonical_json
from refold_contract._core.transport import sync_transport
from refold_contract._plugin.live import live_credentials
from refold_contract._plugin.selection import contract_selection
from refold_contract._plugin.session import is_live_session
from refold_contract.catalogue import Action
from refold_contract.config import MOCK_API_KEY, MOCK_LINKED_ACCOUNT
from refold_contract.contract import (
    InvalidBody,
    check_app_failure,
    check_invalid_reply,
    check_reply,
    success_shape,
)
from refold_contract.errors import SandboxError
from refold_contract.live import schema_drift
from refold_contract.mock import RefoldMock
from refold_contract.strategies import invalid_params, params

# refold_live: under --refold-live the read part runs against the real API (writes are left out).
# Stateless whatever refold_stateful says: generated ids name no record, and replay is the
# contract being checked.
pytestmark = [
    # Generated bodies match no example by design: the envelope and shape are what is checked.
    pytest.mark.refold(strict=True, assert_all_called=False, stateful=False, unmatched="allow"),
    pytest.mark.refold_live,
]
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
def contract_http(refold_mock: RefoldMock, pytestconfig: pytest.Config) -> Iterator[httpx.Client]:
    if refold_mock.live is not None:
        headers = live_credentials(pytestconfig)
    else:
        headers = {ep.HEADER_API_KEY: MOCK_API_KEY, ep.HEADER_LINKED_ACCOUNT: MOCK_LINKED_ACCOUNT}
    # One TLS context for the whole run: a client per test would load the CA bundle each time.
    transport = sync_transport()
    with httpx.Client(
        base_url=refold_mock.base_url, headers=headers, timeout=30, transport=transport
    ) as client:
        yield client


def _outcome(response: httpx.Response) -> str:
    """success, app failure, validation error or other: what parity compares."""
    if response.status_code == 400:
        return "validation"
    if response.status_code != 200:
        return f"http {response.status_code}"
    try:
        status = response.json().get(ep.KEY_NODE_STATUS)
    except (ValueError, AttributeError):
        return "other"
    return "success" if status == ep.NODE_STATUS_SUCCESS else "app failure"


class _Parity:
    """Counts, per body, the mock's outcome against the live one."""

    def __init__(self, mock: RefoldMock) -> None:
        self.offline = RefoldMock(mock.catalogue, base_url=mock.base_url)
        self.counts: dict[str, int] = {}

    def add(self, request: httpx.Request, live: httpx.Response) -> None:
        headers = {ep.HEADER_API_KEY: MOCK_API_KEY, ep.HEADER_LINKED_ACCOUNT: MOCK_LINKED_ACCOUNT}
        offline = httpx.Request(request.method, request.url, headers=headers,
                                content=request.content)  # fmt: skip
        key = f"{_outcome(self.offline.handle(offline))} -> {_outcome(live)}"
        self.counts[key] = self.counts.get(key, 0) + 1


def _settings(config: pytest.Config) -> settings:
    live = is_live_session(config)
    return settings(
        settings.get_profile("refold"),
        max_examples=contract_selection(config).examples,
        # @reproduce_failure cannot be applied to this module; the example database replays a
        # failing body first on the next run instead.
        print_blob=False,
        # Live, every example is a request: report the first failure, do not shrink it.
        phases=[Phase.explicit, Phase.reuse, Phase.generate] if live else tuple(Phase),
    )


def test_valid_bodies_get_the_success_envelope(
    contract_action: Action,
    contract_http: httpx.Client,
    refold_mock: RefoldMock,
    pytestconfig: pytest.Config,
    record_property: Callable[[str, Any], None],
) -> None:
    action = contract_action
    shape = success_shape(action)
    path = ep.execute_path(action.slug, action.action_id)
    tried: set[str] = set()

    parity = _Parity(refold_mock) if refold_mock.live is not None else None

    @_settings(pytestconfig)
    @given(body=params(action))
    def run(body: dict[str, Any]) -> None:
        tried.add(canonical_json(body))
        try:
            response = contract_http.post(path, json=body)
        except SandboxError:
            # Offline, a body the sandbox cannot answer as the app would (a search term or
            # SOQL outside its subset): no reply to check. Not a failure of the catalogue.
            refold_mock.checks.forget_cannot_answer()
            reject()
        if parity is not None:
            # Live, a generated body may name records that do not exist: the app failing is
            # fair; Refold refusing a valid body, or any other error, is not.
            parity.add(response.request, response)
            if response.status_code == 401:
                pytest.exit(
                    "refold-contract: the live API refused the credentials (HTTP 401): check "
                    "REFOLD_API_KEY and REFOLD_LINKED_ACCOUNT_ID (or REFOLD_SESSION_TOKEN)",
                    returncode=pytest.ExitCode.USAGE_ERROR,
                )
            outcome = _outcome(response)
            problems = (
                []
                if outcome in ("success", "app failure")
                else [f"live reply {outcome}: {response.text[:200]}"]
            )
        elif action.state is not None and action.example_for(body) is None:
            # The mock's sandbox computes what no example answers. A generated id names no
            # record, a generated cursor is one the app refuses: the app failing is fair, in
            # the envelope Refold gives an app's failure. A success has the examples' types; a
            # key they all show may be absent (HubSpot's last page has no paging).
            if _outcome(response) == "app failure":
                problems = check_app_failure(response)
            else:
                problems = check_reply(action, response, shape, required=False)
        else:
            problems = check_reply(action, response, shape)
        assert not problems, f"{action.key} with body {body!r}:\n  " + "\n  ".join(problems)

    try:
        run()
    finally:
        record_property("bodies", len(tried))
        if parity is not None:
            record_property("refold_parity", [action.key, parity.counts])


def test_invalid_bodies_get_refolds_400_naming_the_field(
    contract_action: Action,
    contract_http: httpx.Client,
    refold_mock: RefoldMock,
    pytestconfig: pytest.Config,
    record_property: Callable[[str, Any], None],
) -> None:
    action = contract_action
    path = ep.execute_path(action.slug, action.action_id)
    tried: set[str] = set()

    cases = invalid_params(action)
    if refold_mock.live is not None:  # Refold itself checks presence, not types
        cases = cases.filter(lambda case: case.reason != "wrong_type")

    @_settings(pytestconfig)
    @given(case=cases)
    def run(case: InvalidBody) -> None:
        tried.add(canonical_json(case.body))
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
        record_property("bodies", len(tried))


def test_schema_operation_agrees_with_the_catalogue(
    contract_action: Action, contract_http: httpx.Client, refold_mock: RefoldMock
) -> None:
    action = contract_action
    response = contract_http.get(ep.schema_path(action.slug, action.action_id))
    assert response.status_code == 200, response.text[:200]
    if refold_mock.live is None:
        assert response.json() == action.schema()
    else:  # live: labels may be reworded; names and what is required may not
        drift = schema_drift(action, response.json())
        assert not drift, "\n".join(f"{d.kind}: {d.path} {d.detail}" for d in drift)


def test_list_operation_agrees_with_the_catalogue(
    contract_app: str, contract_http: httpx.Client, refold_mock: RefoldMock
) -> None:
    response = contract_http.get(ep.list_actions_path(contract_app))
    assert response.status_code == 200, response.text[:200]
    served = sorted(entry["action_id"] for entry in response.json())
    expected = sorted(a.action_id for a in refold_mock.catalogue.actions(contract_app))
    if refold_mock.live is None:
        assert served == expected
    else:  # live: new actions are drift (reported); a catalogued action gone is a break
        gone = sorted(set(expected) - set(served))
        assert not gone, f"{contract_app}: Refold no longer lists {', '.join(gone)}"
