"""The state machines' settings (issue 21): derandomised in CI, so a machine run there never
passes or fails by luck, and on request anywhere; never an example database."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from refold_contract.sandbox.stateful_runs import machine_settings


@pytest.mark.parametrize(("ci", "derandomized"), [(None, False), ("", False), ("true", True)])
def test_machines_are_derandomised_where_ci_is_set(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, derandomized: bool
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    chosen = machine_settings(5)
    assert chosen.derandomize is derandomized
    assert chosen.database is None
    assert machine_settings(5, derandomize=not derandomized).derandomize is not derandomized


def traced_run(using: Any) -> list[int]:
    trace: list[int] = []

    class Draws(RuleBasedStateMachine):
        @rule(n=st.integers(0, 10**9))
        def draw(self, n: int) -> None:
            trace.append(n)

    run_state_machine_as_test(Draws, settings=using)
    return trace


def test_a_derandomised_machine_runs_the_same_steps_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "1")
    first = traced_run(machine_settings(5, steps=5))
    assert first
    assert traced_run(machine_settings(5, steps=5)) == first
    assert traced_run(machine_settings(5, steps=5, derandomize=True)) == first
