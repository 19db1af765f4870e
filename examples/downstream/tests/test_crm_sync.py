"""A downstream test suite using only refold-contract's documented fixtures."""

import crm_sync
import pytest


@pytest.fixture
def http(refold_mock):
    with crm_sync.client("tk_downstream_test", "customer_42", refold_mock.base_url) as client:
        yield client


def test_first_page_comes_from_the_catalogue(http):
    assert crm_sync.all_contact_emails(http, page_size=1) == ["contact@example.com"]


def test_pagination_follows_the_cursor(http, refold_mock):
    refold_mock.sequence(
        "hubspot",
        "get_contact",
        [
            {
                "results": [{"properties": {"email": "a@example.com"}}],
                "paging": {"next": {"after": "2"}},
            },
            {"results": [{"properties": {"email": "b@example.com"}}], "paging": {}},
        ],
    )
    assert crm_sync.all_contact_emails(http) == ["a@example.com", "b@example.com"]
    refold_mock.assert_called(
        "hubspot", "get_contact", params={"limit": "100", "after": "2"}, times=1
    )


def test_create_contact_sends_the_required_email(http, refold_mock):
    refold_mock.stub("hubspot", "create_contact", data={"id": "777"})
    assert crm_sync.add_contact(http, "ada@example.com", "Ada") == "777"
    (call,) = refold_mock.calls_for("hubspot", "create_contact")
    assert call.params == {"email": "ada@example.com", "firstname": "Ada"}
    assert call.linked_account_id == "customer_42"


def test_refold_errors_surface(http, refold_mock):
    refold_mock.fail("hubspot", "create_contact", 429, retry_after=1)
    with pytest.raises(crm_sync.RefoldCallFailed, match="Too Many Requests"):
        crm_sync.add_contact(http, "ada@example.com", "Ada")


def test_app_failures_are_not_success(http, refold_mock):
    refold_mock.app_error("hubspot", "get_contact", 401, {"message": "token expired"})
    with pytest.raises(crm_sync.RefoldCallFailed, match="Errored"):
        crm_sync.all_contact_emails(http)


def test_custom_action_from_this_projects_catalogue(http):
    assert crm_sync.deal_stages(http) == ["Appointment Scheduled", "Closed Won"]


def test_the_typed_client_fixture(refold_client):
    assert [a.action_id for a in refold_client.list_actions("zendesk")] == ["get_ticket_by_id"]
