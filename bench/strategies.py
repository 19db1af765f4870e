"""Generated bodies per second: ``params(action)`` against hand-written strategies, in one run.

How a rate is measured, the same for both sides: the strategy runs as a ``@given`` test that
does nothing, with a fixed number of examples, generation only (``phases=[Phase.generate]``),
no example database, no deadline and no health checks; the rate is examples per second of this
process's CPU time (``time.process_time``, so other processes on a busy machine do not count),
after a ``gc.collect()`` (a collection left over from the previous run otherwise lands in
every other run and splits the figures in two). That is hypothesis's own generation machinery
end to end, as a user's test pays for it; ``strategy.example()`` is not used (it is not meant
for this and caches). The two sides alternate in order from round to round; each printed
ratio is the median of the per-round ratios of our rate to the baseline's.

1. Per field type: a one-field action (the field required) of each type, ``params(action)``
   against ``st.fixed_dictionaries({"f": baseline})`` with the obvious hand-written baseline
   for the type. Target: at least 0.8x for every type.

   ========  ============================================================================
   text      ``st.text()``
   textarea  ``st.text()`` (its alphabet has newlines)
   password  ``st.text(min_size=1)``
   number    ``st.integers().map(str) | st.floats(allow_nan=False,
             allow_infinity=False).map(str)``: number fields take integer and decimal
             strings, and ``params`` makes both
   email     ``st.emails()``
   url       ``hypothesis.provisional.urls()``
   json      ``st.dictionaries(st.text(max_size=8), values, max_size=4)``, ``values`` being
             ``st.recursive(none | booleans | integers | floats | text, lists | dictionaries,
             max_leaves=6)`` with containers of at most 3: the bounds ``params`` uses, as
             unbounded the baseline makes documents 20x larger and is 20x slower
   options   ``st.sampled_from(values)`` (12 options)
   multiple  ``st.lists(st.sampled_from(values), min_size=1, unique=True)``
   ========  ============================================================================

   Also printed, for reference only: number against ``st.integers().map(str)`` alone.

2. Whole actions: the largest built-in one (by parameter count) and ``hubspot/create_contact``,
   against the ``st.fixed_dictionaries`` a user would write for their fields from the
   baselines above. Target: at least 0.8x.

Then ``refold-contract test`` over the whole built-in catalogue, timed as a subprocess, against
its 60 s budget.

    python bench/strategies.py [--examples 300] [--rounds 11] [--skip-suite] [--types-only]
"""

from __future__ import annotations

import argparse
import gc
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

from refold_contract.catalogue import Action, Catalogue, Option, Parameter
from refold_contract.strategies import params


def rate(strategy: SearchStrategy[Any], examples: int) -> float:
    """Examples per CPU second of a ``@given`` test that only generates (see the docstring)."""
    count = 0

    @settings(
        max_examples=examples,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(body: Any) -> None:
        nonlocal count
        count += 1

    gc.collect()
    start = time.process_time()
    run()
    return count / (time.process_time() - start)


def ratio(
    ours: SearchStrategy[Any], theirs: SearchStrategy[Any], rounds: int, examples: int
) -> float:
    rate(ours, 20)
    rate(theirs, 20)
    ratios = []
    for i in range(rounds):
        if i % 2:
            r_ours, r_theirs = rate(ours, examples), rate(theirs, examples)
        else:
            r_theirs, r_ours = rate(theirs, examples), rate(ours, examples)
        ratios.append(r_ours / r_theirs)
    return statistics.median(ratios)


OPTIONS = tuple(Option(f"value{i}") for i in range(12))
_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
# The obvious hand-written strategy for each field type (see the docstring).
BASELINES: dict[str, SearchStrategy[Any]] = {
    "text": st.text(),
    "textarea": st.text(),
    "password": st.text(min_size=1),
    "number": st.integers().map(str) | st.floats(allow_nan=False, allow_infinity=False).map(str),
    "email": st.emails(),
    "url": urls(),
    "json": st.dictionaries(st.text(max_size=8), _JSON_VALUES, max_size=4),
}
# The line printed -> the one field of its action
PER_TYPE: dict[str, Parameter] = {
    **{kind: Parameter("f", required=True, type=kind) for kind in BASELINES},
    "options": Parameter("f", required=True, options=OPTIONS),
    "multiple options": Parameter("f", required=True, options=OPTIONS, multiple=True),
}
REFERENCE = {"number, integers only": ("number", st.integers().map(str))}
WHOLE_ACTIONS = ("hubspot/create_contact",)


def baseline(param: Parameter) -> SearchStrategy[Any]:
    if param.options:
        values = st.sampled_from([o.value for o in param.options])
        return st.lists(values, min_size=1, unique=True) if param.multiple else values
    return BASELINES[param.kind]


def hand_written(action: Action) -> SearchStrategy[dict[str, Any]]:
    """The ``st.fixed_dictionaries`` a user would write for ``action``'s fields."""
    required = {p.name: baseline(p) for p in action.parameters if p.required}
    optional = {p.name: baseline(p) for p in action.parameters if not p.required}
    return st.fixed_dictionaries(required, optional=optional)


def one_field(param: Parameter) -> Action:
    return Action(slug="bench", action_id=f"get_{param.type}", name="bench", parameters=(param,))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="strategy speed benchmark")
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--skip-suite", action="store_true")
    parser.add_argument("--types-only", action="store_true")
    args = parser.parse_args(argv)
    failures = []
    print(
        f"1. params() per field type, one-field action, {args.examples} examples x "
        f"{args.rounds} alternating rounds (median ratio of bodies per CPU second)"
    )
    for label, param in PER_TYPE.items():
        action = one_field(param)
        figure = ratio(params(action), hand_written(action), args.rounds, args.examples)
        print(f"   {label:<22} {figure:.2f}x  (target >= 0.8x)", flush=True)
        if figure < 0.8:
            failures.append(f"{label} fields")
    for label, (kind, reference) in REFERENCE.items():
        figure = ratio(
            params(one_field(PER_TYPE[kind])),
            st.fixed_dictionaries({"f": reference}),
            args.rounds,
            args.examples,
        )
        print(f"   {label:<22} {figure:.2f}x  (reference)", flush=True)
    if args.types_only:
        if failures:
            print("missed targets: " + ", ".join(failures))
        return 1 if failures else 0

    catalogue = Catalogue.builtin()
    largest = max(catalogue, key=lambda a: len(a.parameters))
    print(
        f"2. whole actions, {args.examples} examples x {args.rounds} alternating rounds: "
        "params(action) / hand-written fixed_dictionaries of the baselines above"
    )
    for action in [largest, *(catalogue.get(*key.split("/")) for key in WHOLE_ACTIONS)]:
        figure = ratio(params(action), hand_written(action), args.rounds, args.examples)
        name = f"{action.key} ({len(action.parameters)} parameters)"
        print(f"   {name:<40} {figure:.2f}x  (target >= 0.8x)", flush=True)
        if figure < 0.8:
            failures.append(action.key)
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
            f"3. refold-contract test, whole built-in catalogue: {elapsed:.1f} s = "
            f"{elapsed / 60:.2f}x the 60 s budget  ({summary})"
        )
        if done.returncode != 0 or elapsed > 60:
            failures.append("contract suite")
    if failures:
        print("missed targets: " + ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
