"""How the sandbox's state machines run: the hypothesis settings, and one run's result.

Example::

    run_state_machine_as_test(machine, settings=machine_settings(10, shrink=False))
    MachineResult("hubspot/contacts", True, 0.4)
"""

from __future__ import annotations

import dataclasses
import os
import traceback

from hypothesis import HealthCheck, Phase, settings

from refold_contract.config import DEFAULT_EXAMPLES

__all__ = ["MachineResult", "describe_failure", "machine_settings"]


def machine_settings(
    examples: int = DEFAULT_EXAMPLES,
    steps: int = 20,
    *,
    shrink: bool = True,
    derandomize: bool | None = None,
) -> settings:
    """The settings the built-in machines run with: ``examples`` runs of up to ``steps``;
    ``shrink=False`` reports the first failure as found, without minimising it.

    ``derandomize=True`` runs the same steps every time (a failure found is found again);
    the default is true when the ``CI`` environment variable is set, as for the ``refold``
    hypothesis profile, so a CI run never passes or fails by luck. Runs keep no example
    database either way.

    Example::

        run_state_machine_as_test(machine, settings=machine_settings(10))
        machine_settings(10, derandomize=True).derandomize       # True
    """
    if derandomize is None:
        derandomize = bool(os.environ.get("CI"))
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate)
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        derandomize=derandomize,
        database=None,
        phases=phases,
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def describe_failure(exc: BaseException) -> str:
    """What a failed run raised, one line per exception (each part of a group on its own).

    Example::

        describe_failure(AssertionError("a1 not listed"))     # 'AssertionError: a1 not listed'
    """
    parts = getattr(exc, "exceptions", None)
    if parts:
        return "\n".join(describe_failure(part) for part in parts)
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


@dataclasses.dataclass(frozen=True)
class MachineResult:
    """How one family's built-in machine ran: passed, or the failure hypothesis reported.

    Example::

        for result in run_builtin_machines(catalogue, examples=5):
            print(result.family, "ok" if result.passed else result.error)
    """

    family: str
    passed: bool
    seconds: float
    error: str | None = None
