"""The built-in stateful suite: ``refold-contract test --stateful`` runs it.

For every stateful family of the session's catalogue (an app's object type with ``"state"``
blocks, ids like ``hubspot/contacts``), a hypothesis state machine drives the sandbox through
random creates, updates, deletes and seeds and checks its laws after each step:

- create then get returns the record;
- search finds exactly the matching records;
- delete then get is the app's not-found;
- paging visits every record exactly once.

Which families come from ``--refold-app`` and ``--refold-action`` (a family is in when one of
its actions is chosen), and how many runs each from ``--refold-examples``. The machines work on
the sandbox directly: no HTTP, no credentials, never live.

This is a pytest test module; it is not imported by the package.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis.stateful import run_state_machine_as_test

from refold_contract._plugin.selection import contract_selection
from refold_contract._plugin.session import refold_session
from refold_contract.sandbox.stateful import Family, families, law_machine, machine_settings


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "stateful_family" in metafunc.fixturenames:
        selection = contract_selection(metafunc.config)
        chosen = families(refold_session(metafunc.config).catalogue, selection.actions)
        metafunc.parametrize("stateful_family", chosen, ids=[f.key for f in chosen])


def test_the_sandbox_keeps_its_laws(
    stateful_family: Family, pytestconfig: pytest.Config, record_property: Any
) -> None:
    catalogue = refold_session(pytestconfig).catalogue
    examples = contract_selection(pytestconfig).examples
    record_property("family", stateful_family.key)
    record_property("actions", [a.key for a in stateful_family.actions])
    run_state_machine_as_test(
        law_machine(stateful_family, catalogue), settings=machine_settings(examples)
    )
