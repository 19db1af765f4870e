"""Stateful property tests: the built-in state machines hold, catch a broken sandbox, and users
drive their own sync code with SandboxMachine."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis.stateful import invariant, run_state_machine_as_test

from refold_contract import Catalogue
from refold_contract.errors import InvalidParams, SandboxError
from refold_contract.sandbox import operations
from refold_contract.sandbox.paging import Page
from refold_contract.sandbox.stateful import (
    Family,
    SandboxMachine,
    families,
    law_machine,
    machine_settings,
    run_builtin_machines,
)
from refold_contract.sandbox.store import Table

CATALOGUE = Catalogue.builtin()
SUITE = (
    Path(__file__).resolve().parent.parent
    / "refold_contract"
    / "_plugin"
    / "suites"
    / "stateful_suite.py"
)
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
# The same runs every time, reported unshrunk: for tests that expect a failure.
REPEATABLE = machine_settings(30, shrink=False, derandomize=True)
# The machines that must hold run the same steps every time too (issue 21): in CI and locally,
# a run never passes or fails by luck. A found failure is shrunk.
HOLDS = machine_settings(5, derandomize=True)


def test_every_stateful_family_has_a_machine() -> None:
    assert [f.key for f in families(CATALOGUE)] == [
        "gmail/messages",
        "hubspot/companies",
        "hubspot/contacts",
        "hubspot/deals",
        "hubspot/tasks",
        "netsuite/invoice",
        "salesforce/Account",
        "salesforce/Contact",
        "salesforce/Lead",
        "salesforce/Opportunity",
        "slack/channels",
        "slack/messages",
        "workday/workers",
        "zendesk/tickets",
    ]
    contacts = Family.of(CATALOGUE, "hubspot", "contacts")
    assert [a.action_id for a in contacts.actions] == [
        "create_contact",
        "get_contact_by_id",
        "update_contact",
        "delete_contact",
        "get_contact",
        "search_contacts",
    ]
    account = Family.of(CATALOGUE, "salesforce", "Account")
    assert account.query is not None
    assert account.more is not None
    assert (account.query.action_id, account.more.action_id) == (
        "get_entity_with_soql",
        "httprequest",
    )
    with pytest.raises(SandboxError, match="no state block acts on hubspot/tickets"):
        Family.of(CATALOGUE, "hubspot", "tickets")


def test_the_builtin_machines_hold_for_every_family() -> None:
    results = run_builtin_machines(CATALOGUE, using=HOLDS)
    assert [r.family for r in results] == [f.key for f in families(CATALOGUE)]
    failed = [(r.family, r.error) for r in results if not r.passed]
    assert failed == []
    assert all(r.seconds > 0 for r in results)


def _dropping_the_last_record_of_each_page(monkeypatch: pytest.MonkeyPatch) -> None:
    real: Callable[..., Page] = operations.window  # type: ignore[attr-defined]

    def window(*args: Any, **kwargs: Any) -> Page:
        page = real(*args, **kwargs)
        if len(page.ids) > 1:
            page.ids = page.ids[:-1]
        return page

    monkeypatch.setattr(operations, "window", window)


def test_paging_that_skips_records_breaks_the_paging_law(monkeypatch: pytest.MonkeyPatch) -> None:
    _dropping_the_last_record_of_each_page(monkeypatch)
    (result,) = run_builtin_machines(
        CATALOGUE, only=[CATALOGUE.get("slack", "list_channels")], using=REPEATABLE
    )
    assert result.family == "slack/channels"
    assert not result.passed
    # The walk behind "create then get" or behind "paging visits every record" finds the gap.
    assert re.search(r"not listed|slack/list_channels: missing", result.error or "")


def test_a_delete_that_keeps_the_record_breaks_the_delete_law(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Table, "delete", lambda self, key: self.rows.get(key))
    machine = law_machine(Family.of(CATALOGUE, "zendesk", "tickets"))
    run_state_machine_as_test(machine, settings=HOLDS)  # no delete: unaffected
    (result,) = run_builtin_machines(
        CATALOGUE, only=[CATALOGUE.get("hubspot", "delete_contact")], using=REPEATABLE
    )
    # Whichever law meets the kept record first reports it: get, search or paging.
    assert not result.passed
    assert (result.error or "").startswith("AssertionError")


# ---------------------------------------------------------------------- a user's own machine


def sync_contacts(fetch_page: Callable[[dict[str, str]], Any]) -> dict[str, str | None]:
    """The code under test: copy every HubSpot contact's email into a dict, page by page."""
    local: dict[str, str | None] = {}
    params = {"limit": "3", "properties": "email"}
    while True:
        page = fetch_page(params)
        for contact in page["results"]:
            local[contact["id"]] = contact["properties"]["email"]
        after = page.get("paging", {}).get("next", {}).get("after")
        if after is None:
            return local
        params = {**params, "after": after}


def first_page_only(fetch_page: Callable[[dict[str, str]], Any]) -> dict[str, str | None]:
    """A broken sync that forgets to follow paging.next.after."""
    page = fetch_page({"limit": "3", "properties": "email"})
    return {c["id"]: c["properties"]["email"] for c in page["results"]}


def machine_for(sync: Callable[..., dict[str, str | None]]) -> type[SandboxMachine]:
    class SyncContacts(SandboxMachine):
        slug, object_type = "hubspot", "contacts"

        @invariant()
        def the_local_copy_matches_hubspot(self) -> None:
            local = sync(lambda params: self.execute("get_contact", params).data)
            assert local == {k: r.get("email") for k, r in self.current().items()}

    return SyncContacts


def test_a_users_sync_code_is_driven_through_creates_updates_and_deletes() -> None:
    run_state_machine_as_test(
        machine_for(sync_contacts), settings=machine_settings(10, derandomize=True)
    )


def test_a_sync_that_ignores_paging_is_caught() -> None:
    with pytest.raises(AssertionError):
        run_state_machine_as_test(machine_for(first_page_only), settings=REPEATABLE)


def test_a_machine_names_its_family_and_runs_actions_as_the_mock_would() -> None:
    class Unnamed(SandboxMachine):
        pass

    with pytest.raises(SandboxError, match="names no family"):
        Unnamed()

    class Deals(SandboxMachine):
        slug, object_type, start_empty = "hubspot", "deals", True

    machine = Deals()
    assert machine.expected == {}
    with pytest.raises(InvalidParams, match="Required parameter 'dealstage' is missing"):
        machine.execute("create_deal", {"dealname": "x"})
    with pytest.raises(SandboxError, match="hubspot/httprequest has no state block"):
        machine.execute("httprequest", {"method": "GET", "url_path": "/"})
    key = machine.create({"dealname": "Renewal", "dealstage": "appointmentscheduled"})
    assert key is not None
    assert machine.current()[key]["dealname"] == "Renewal"
    assert machine.execute("salesforce/create_lead", {"LastName": "L", "Company": "C"}).ok


def test_the_stateful_suite_runs_as_a_pytest_module(pytester: pytest.Pytester) -> None:
    ini = pytester.makeini(INI)
    own = ["-c", str(ini), "--rootdir", str(pytester.path)]  # not the project's pyproject.toml
    result = pytester.runpytest(
        str(SUITE),
        *own,
        "--refold-app",
        "zendesk",
        "--refold-examples",
        "3",
        "-v",
        "-p",
        "no:randomly",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_the_sandbox_keeps_its_laws?zendesk/tickets? PASSED*"])
    chosen = pytester.runpytest(
        str(SUITE),
        *own,
        "--refold-action",
        "salesforce/get_accounts",
        "--refold-examples",
        "2",
        "-v",
    )
    chosen.assert_outcomes(passed=1)
    chosen.stdout.fnmatch_lines(["*keeps_its_laws?salesforce/Account? PASSED*"])
