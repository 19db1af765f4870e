"""Generated bodies per second: ``params(action)`` against a hand-written strategy, in one run.

The action is the largest built-in one (by parameter count). The hand-written baseline is the
``st.fixed_dictionaries`` a user would write for the same fields with hypothesis's own
strategies (``st.text()``, ``st.emails()``, ``st.integers().map(str)``, ...). Both run as
``@given`` tests with the same settings (generation only, no database), in alternating rounds;
the printed ratio is the median of per-round rate ratios. Target: at least 0.8x.

Then ``refold-contract test`` over the whole built-in catalogue, timed as a subprocess, against
its 60 s budget.

    python bench/strategies.py [--examples 300] [--rounds 9] [--skip-suite]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls
from hypothesis.strategies import SearchStrategy

from refold_contract.catalogue import Action, Catalogue
from refold_contract.strategies import params


def hand_written(action: Action) -> SearchStrategy[dict[str, Any]]:
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    )
    by_type: dict[str, SearchStrategy[Any]] = {
        "text": st.text(),
        "textarea": st.text(),
        "password": st.text(min_size=1),
        "number": st.integers().map(str),
        "email": st.emails(),
        "url": urls(),
        "json": st.dictionaries(st.text(), json_values),
    }
    required = {p.name: by_type[p.kind] for p in action.parameters if p.required}
    optional = {p.name: by_type[p.kind] for p in action.parameters if not p.required}
    return st.fixed_dictionaries(required, optional=optional)


def rate(strategy: SearchStrategy[dict[str, Any]], examples: int) -> float:
    count = 0

    @settings(
        max_examples=examples,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(body: dict[str, Any]) -> None:
        nonlocal count
        count += 1

    start = time.perf_counter()
    run()
    return count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="strategy speed benchmark")
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--skip-suite", action="store_true")
    args = parser.parse_args(argv)
    action = max(Catalogue.builtin(), key=lambda a: len(a.parameters))
    ours, theirs = params(action), hand_written(action)
    rate(ours, 20)
    rate(theirs, 20)
    ratios = []
    for i in range(args.rounds):
        if i % 2:
            r_ours, r_theirs = rate(ours, args.examples), rate(theirs, args.examples)
        else:
            r_theirs, r_ours = rate(theirs, args.examples), rate(ours, args.examples)
        ratios.append(r_ours / r_theirs)
    ratio = statistics.median(ratios)
    failures = []
    print(
        f"strategies: {action.key} ({len(action.parameters)} parameters), "
        f"{args.examples} examples x {args.rounds} alternating rounds"
    )
    print(
        f"   params(action) / hand-written fixed_dictionaries, bodies per second: {ratio:.2f}x"
        "  (target >= 0.8x)"
    )
    if ratio < 0.8:
        failures.append("strategy rate")
    if not args.skip_suite:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "refold_contract.cli", "test"],
                cwd=tmp,
                capture_output=True,
                text=True,
            )
            elapsed = time.perf_counter() - start
        summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
        print(
            f"   refold-contract test, whole built-in catalogue: {elapsed:.1f} s = "
            f"{elapsed / 60:.2f}x the 60 s budget  ({summary})"
        )
        if done.returncode != 0 or elapsed > 60:
            failures.append("contract suite")
    if failures:
        print("missed targets: " + ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
