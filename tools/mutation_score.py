"""Mutation score per module, from ``mutmut results --all=true``.

Reads mutmut's result lines (``<mutant name>: <status>``) on stdin and prints, for each target
of ``tools/mutation.sh``, killed / total and the survivors. A target is a module and the
functions in it that the run covers (mutmut names a mutant ``module.x_function__mutmut_N`` or
``module.xǁClassǁmethod__mutmut_N``).

Example::

    mutmut results --all=true | python tools/mutation_score.py
"""

from __future__ import annotations

import fnmatch
import sys
from collections import Counter

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
]

KILLED = {"killed", "timeout", "caught by type check"}


def main() -> int:
    statuses: dict[str, str] = {}
    for line in sys.stdin:
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            statuses[name] = status
    exit_code = 0
    print(f"{'module':56} {'killed':>7} / {'total':<6} score")
    for label, patterns in TARGETS:
        mine = {
            n: s for n, s in statuses.items() if any(fnmatch.fnmatchcase(n, p) for p in patterns)
        }
        counts = Counter(mine.values())
        killed = sum(counts[s] for s in KILLED)
        total = len(mine) - counts["skipped"]
        score = f"{100 * killed / total:5.1f}%" if total else "  n/a"
        print(f"{label:56} {killed:7} / {total:<6} {score}")
        unchecked = counts["not checked"]
        if unchecked:
            print(f"    {unchecked} mutant(s) not checked yet")
            exit_code = 1
        left = KILLED | {"not checked", "skipped"}
        for name in sorted(n for n, s in mine.items() if s not in left):
            print(f"    {mine[name]:12} {name}")
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
