"""Property tests of your own Refold-calling code, with refold-contract's strategies."""

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refold_contract import Catalogue
from refold_contract.strategies import invalid_params, params, responses

CREATE = Catalogue.builtin().get("hubspot", "create_contact")
SEARCH = Catalogue.builtin().get("hubspot", "search_contacts")
HEADERS = {"x-api-key": "tk_test", "linked_account_id": "user_1"}
URL = "https://app.refold.ai/api/v2/integration-schema/hubspot/actions/{}/execute"

# One refold_mock serves every example of a test: a test that writes opens
# refold_mock.scope() in each example, so each starts from the catalogue's records.
PROFILE = settings(
    settings.get_profile("refold"), suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def create_contact(http: httpx.Client, body: dict) -> tuple[int, dict]:  # code under test
    reply = http.post(URL.format("create_contact"), json=body, headers=HEADERS)
    return reply.status_code, reply.json()


def first_email(data: dict) -> str | None:  # a reply parser under test
    results = data.get("results", [])
    return results[0]["properties"].get("email") if results else None


@PROFILE
@given(body=params(CREATE, overrides={"email": st.just("ada@example.com")}))
def test_any_body_refold_takes_is_created_or_refused_by_hubspot(refold_mock, body):
    with refold_mock.scope(), httpx.Client() as http:  # the same email is new every time
        status, reply = create_contact(http, body)
    assert status == 200
    if reply["node_status"] != "Success":  # Refold took the body; HubSpot may still refuse it
        unknown = {e["context"]["propertyName"][0] for e in reply["data"]["errors"]}
        assert unknown <= set(body.get("additional_fields", {}))  # a property HubSpot lacks


@pytest.mark.refold(strict=True)  # Refold checks presence only; strict adds types
@PROFILE
@given(case=invalid_params(CREATE))
def test_bad_bodies_are_refused_naming_the_field(refold_mock, case):
    reply = httpx.post(
        URL.format("create_contact"),
        content=json.dumps(case.body),
        headers={**HEADERS, "content-type": "application/json"},
    )
    assert reply.status_code == 400
    if case.field:
        assert case.field in reply.json()["message"]


@PROFILE
@given(data=responses(SEARCH))
def test_the_parser_survives_any_reply_of_the_recorded_shape(data):
    email = first_email(data)
    assert email is None or isinstance(email, str)
