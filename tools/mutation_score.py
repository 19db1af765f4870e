"""Mutation score per module, from ``mutmut results --all=true``.

Reads mutmut's result lines (``<mutant name>: <status>``) on stdin and prints, for each target
of ``tools/mutation.sh``, killed / total and the survivors. A target is a module and the
functions in it that the run covers (mutmut names a mutant ``module.x_function__mutmut_N`` or
``module.xǁClassǁmethod__mutmut_N``).

A survivor that changes no observable behaviour (an equivalent mutant) is listed in
``tools/mutation_equivalent.txt`` with the reason, one per line; it is left out of the total
and counted apart. A listed mutant that the tests kill, or that no longer exists, is reported:
the list must not hide anything. The exit status is 1 when a target is under :data:`FLOOR`
per cent, or has mutants not checked yet.

Example::

    mutmut results --all=true | python tools/mutation_score.py
"""

from __future__ import annotations

import fnmatch
import sys
from collections import Counter
from pathlib import Path

#: The least score a target may have (issue 21: at least 90% per group).
FLOOR = 90.0
#: The equivalent mutants: ``<mutant name>  <why no behaviour changes>`` per line; ``#`` comments.
EQUIVALENT_FILE = Path(__file__).with_name("mutation_equivalent.txt")

#: (label, mutant name patterns). The same patterns are what tools/mutation.sh runs.
TARGETS: list[tuple[str, list[str]]] = [
    ("access.py (the read rule)", ["refold_contract.access.*"]),
    ("mock/emulator.py (authentication, validation)", ["refold_contract.mock.emulator.*"]),
    (
        "gateway (place, the policy, the refusal logic)",
        [
            "refold_contract._core.endpoint.x_place__*",
            "refold_contract._core.endpoint.xǁPlacedǁpath__*",
            "refold_contract.live.gateway.policy.x_judge__*",
            "refold_contract.live.gateway.core.xǁGatewayǁrespond__*",
            "refold_contract.live.gateway.core.xǁGatewayǁ_refuse__*",
            "refold_contract.live.gateway.core.xǁGatewayǁ_scrub_reply__*",
            "refold_contract.live.gateway.reply.x_envelope__*",
        ],
    ),
    ("_guard/egress.py (the egress guard)", ["refold_contract._guard.egress.*"]),
    (
        "live (guard, drift, recorder, scrub) and atomic writes",
        [
            "refold_contract.live.guard.*",
            "refold_contract.live.drift.*",
            "refold_contract.live.recorder.*",
            "refold_contract._core.files.*",
        ],
    ),
    ("_core/json.py Redactor", ["refold_contract._core.json.xǁRedactorǁ*"]),
    (
        "snapshot.py redaction",
        [
            "refold_contract.snapshot.x__prepare__*",
            "refold_contract.snapshot.x__secrets__*",
            "refold_contract.snapshot.x_register_secrets__*",
            "refold_contract.snapshot.xǁRefoldSnapshotExtensionǁserialize__*",
        ],
    ),
    (
        "client/protocol.py (should_retry, build, scrub)",
        [
            "refold_contract.client.protocol.xǁProtocolǁshould_retry__*",
            "refold_contract.client.protocol.xǁProtocolǁbuild__*",
            "refold_contract.client.protocol.xǁProtocolǁscrub__*",
        ],
    ),
    (
        "sandbox (paging, operators, id minting, SOQL WHERE)",
        [
            "refold_contract.sandbox.paging.*",
            "refold_contract.sandbox.matching.*",
            "refold_contract.sandbox.store.x_salesforce_id__*",
            "refold_contract.sandbox.store.x__base62__*",
            "refold_contract.sandbox.store.x_id_key__*",
            "refold_contract.sandbox.store.x_sort_id__*",
            "refold_contract.sandbox.store.xǁTableǁmint__*",
            "refold_contract.sandbox.operations.x__page_reply__*",
            "refold_contract.sandbox.operations.x__list__*",
            "refold_contract.sandbox.soql.xǁSOQLQueryǁmatches__*",
            "refold_contract.sandbox.soql.x__holds__*",
            "refold_contract.sandbox.soql.x__compare__*",
        ],
    ),
    (
        "consumer (verify, merging, paths)",
        [
            "refold_contract.consumer.verification.x_verify__*",
            "refold_contract.consumer.verification.x_verify_reply__*",
            "refold_contract.consumer.verification.x__actions__*",
            "refold_contract.consumer.verification.x__example_findings__*",
            "refold_contract.consumer.verification.x__parameter_findings__*",
            "refold_contract.consumer.verification.x__status_findings__*",
            "refold_contract.consumer.verification.x__allowed__*",
            "refold_contract.consumer.verification.x__type_findings__*",
            "refold_contract.consumer.verification.x__shape_findings__*",
            "refold_contract.consumer.verification.x__navigate__*",
            "refold_contract.consumer.verification.x__ordered__*",
            "refold_contract.consumer.model.xǁPathReadǁmerge__*",
            "refold_contract.consumer.model.xǁStatusContractǁmerge__*",
            "refold_contract.consumer.model.xǁActionContractǁmerge__*",
            "refold_contract.consumer.model.x_merge_shapes__*",
            "refold_contract.consumer.model.x__union__*",
            "refold_contract.consumer.model.x_close_reads__*",
            "refold_contract.consumer.model.x__prune__*",
            "refold_contract.consumer.model.x__implied__*",
            "refold_contract.consumer._paths.*",
        ],
    ),
    (
        "catalogue (templates, lint)",
        ["refold_contract.catalogue.template.*", "refold_contract.catalogue.lint.*"],
    ),
    (
        "plugin (marker, selection, scrubbing, URL helpers)",
        [
            "refold_contract._plugin.markers.*",
            "refold_contract._plugin.selection.*",
            "refold_contract._plugin.scrubbing.x__clean__*",
            "refold_contract._plugin.scrubbing.x__as_text__*",
            "refold_contract._plugin.scrubbing.x_scrub_report__*",
            "refold_contract._plugin.scrubbing.x_scrub_warning__*",
            "refold_contract._plugin.scrubbing.x_scrub_items__*",
            "refold_contract._plugin.session.x__address__*",
            "refold_contract._plugin.session.x__origin__*",
            "refold_contract._plugin.session.x_one_line__*",
        ],
    ),
]

KILLED = {"killed", "timeout", "caught by type check"}


def equivalents(path: Path | None = None) -> dict[str, str]:
    """The equivalent mutants listed in ``path`` (:data:`EQUIVALENT_FILE`): name to reason."""
    path = path or EQUIVALENT_FILE
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path.name}:{number}: {name} needs a reason")
        out[name] = reason.strip()
    return out


def main() -> int:
    statuses: dict[str, str] = {}
    for line in sys.stdin:
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            statuses[name] = status
    equivalent = equivalents()
    exit_code = 0
    print(f"{'module':56} {'killed':>7} / {'total':<6} score")
    for label, patterns in TARGETS:
        mine = {
            n: s for n, s in statuses.items() if any(fnmatch.fnmatchcase(n, p) for p in patterns)
        }
        if not mine:
            continue  # a target this run did not cover (mutmut results lists what it ran)
        left_out = {n for n in mine if n in equivalent and mine[n] == "survived"}
        counts = Counter(s for n, s in mine.items() if n not in left_out)
        killed = sum(counts[s] for s in KILLED)
        total = sum(counts.values()) - counts["skipped"]
        score = f"{100 * killed / total:5.1f}%" if total else "  n/a"
        below = bool(total) and 100 * killed / total < FLOOR
        flag = f"  below {FLOOR:.0f}%" if below else ""
        print(f"{label:56} {killed:7} / {total:<6} {score}{flag}")
        if left_out:
            print(f"    {len(left_out)} equivalent mutant(s) left out ({EQUIVALENT_FILE.name})")
        if below:
            exit_code = 1
        unchecked = counts["not checked"]
        if unchecked:
            print(f"    {unchecked} mutant(s) not checked yet")
            exit_code = 1
        left = KILLED | {"not checked", "skipped"}
        for name in sorted(n for n, s in mine.items() if s not in left and n not in left_out):
            print(f"    {mine[name]:12} {name}")
        for name in sorted(n for n in equivalent if n in mine and mine[n] in KILLED):
            print(f"    listed as equivalent but killed: {name}")
            exit_code = 1
    covered = [p for _, patterns in TARGETS for p in patterns]
    for name in sorted(equivalent):
        if name not in statuses and any(fnmatch.fnmatchcase(name, p) for p in covered):
            print(f"listed as equivalent but not in this run's results: {name}")
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
