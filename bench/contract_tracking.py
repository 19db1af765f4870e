"""What read tracking costs, as one ratio measured in one run.

A "test" parses a HubSpot get_contact reply (the built-in catalogue's examples, alternating)
and reads a few fields the way consumer code does: the node_status, each contact's id and
email, its first name with ``.get()``, and the paging cursor through a chain of ``.get()``.
A round runs 300 such tests with tracking on (``ReadRecorder.record_call`` and
``track_reply`` per test, one ``contract()`` at the end, as a session would) and 300 with it
off (``json.loads`` alone), back to back, alternating which goes first. The ratio is the
median over the rounds of on / off.

This is parse and read alone, the cheapest a test can be, so it is the largest the ratio can
get: a test through ``refold_mock`` adds the mock, httpx and pytest's own per-test work to
both sides.

The second figure is the issue's own: a 300-test pytest suite (each test executes
``get_contact`` through ``refold_client`` and through plain httpx under ``refold_mock``, and reads
the same fields) run with ``--refold-consumer-contract`` and without, as subprocesses, order
alternating, median of the per-round ratios of wall time. Target: at most 1.15x.

    python bench/contract_tracking.py [--tests 300] [--rounds 41] [--suite-rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from _timing import timed

from refold_contract.catalogue import Catalogue
from refold_contract.consumer import ReadRecorder

SLUG, ACTION_ID = "hubspot", "get_contact"


def replies() -> list[tuple[dict[str, Any], bytes]]:
    action = Catalogue.builtin().get(SLUG, ACTION_ID)
    return [
        (dict(e.params), json.dumps(dict(e.response), separators=(",", ":")).encode())
        for e in action.examples
    ]


def consumer_code(body: Mapping[str, Any]) -> tuple[list[tuple[Any, ...]], Any]:
    """What a consumer's ``list_contacts()`` does with the reply."""
    if body["node_status"] != "Success":
        return [], None
    rows = [
        (c["id"], c["properties"]["email"], c["properties"].get("firstname"))
        for c in body["data"]["results"]
    ]
    return rows, body["data"].get("paging", {}).get("next", {}).get("after")


def suite(n: int, tracking: bool) -> Callable[[], None]:
    cases = replies()

    def untracked() -> None:
        for i in range(n):
            _, raw = cases[i % len(cases)]
            consumer_code(json.loads(raw))

    def tracked() -> None:
        recorder = ReadRecorder()
        for i in range(n):
            params, raw = cases[i % len(cases)]
            recorder.record_call(SLUG, ACTION_ID, params)
            consumer_code(recorder.track_reply(SLUG, ACTION_ID, json.loads(raw)))
        recorder.contract()

    return tracked if tracking else untracked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--suite-rounds", type=int, default=5)
    args = parser.parse_args()
    on, off = suite(args.tests, True), suite(args.tests, False)
    for fn in (on, off):  # warm up: imports, the catalogue, the path cache
        fn()
    ratios, per_test_on, per_test_off = [], [], []
    for i in range(args.rounds):
        if i % 2:
            t_on, t_off = timed(on), timed(off)
        else:
            t_off, t_on = timed(off), timed(on)
        ratios.append(t_on / t_off)
        per_test_on.append(t_on / args.tests * 1e6)
        per_test_off.append(t_off / args.tests * 1e6)
    print(
        f"measured: {args.rounds} rounds of {args.tests} tests, each parsing a {SLUG}/{ACTION_ID} "
        "reply and reading 4-5 fields per contact; tracking on and off back to back, order "
        "alternating; median of the per-round ratios"
    )
    print(
        f"median per test: {statistics.median(per_test_off):.1f} us off, "
        f"{statistics.median(per_test_on):.1f} us on"
    )
    print(f"tracking on / off (parse and read only): {statistics.median(ratios):.2f}x")
    suite_level(args)


SUITE = """
import httpx, pytest

HEADERS = {{"x-api-key": "tk_bench", "linked_account_id": "acct"}}
PATH = "/api/v2/integration-schema/hubspot/actions/get_contact/execute"


def emails(results):
    return [(c["id"], c["properties"].get("email"), c["properties"].get("firstname"))
            for c in results]


@pytest.mark.parametrize("i", range({tests}))
def test_contacts(refold_mock, refold_client, i):
    result = refold_client.execute("hubspot", "get_contact", {{"limit": "1"}})
    assert result.node_status == "Success"
    emails(result.data["results"])
    with httpx.Client(base_url=refold_mock.base_url, headers=HEADERS) as http:
        body = http.post(PATH, json={{"limit": "1"}}).json()
    emails(body["data"]["results"])
    body["data"].get("paging", {{}}).get("next", {{}}).get("after")
"""


def suite_level(args: argparse.Namespace) -> None:
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_suite.py").write_text(SUITE.format(tests=args.tests))
        Path(tmp, "pytest.ini").write_text("[pytest]\n")
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                "-p", "no:randomly", "test_suite.py"]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("REFOLD_")}

        def run(tracking: bool) -> float:
            extra = ["--refold-consumer-contract", "contract.json"] if tracking else []
            started = time.perf_counter()
            subprocess.run(base + extra, cwd=tmp, env=env, check=True, capture_output=True)
            return time.perf_counter() - started

        run(False)
        run(True)
        ratios = []
        for i in range(args.suite_rounds):
            if i % 2:
                on, off = run(True), run(False)
            else:
                off, on = run(False), run(True)
            ratios.append(on / off)
    print(
        f"{args.tests}-test pytest suite, --refold-consumer-contract on / off: "
        f"{statistics.median(ratios):.3f}x (median of {args.suite_rounds} interleaved rounds, "
        f"{min(ratios):.3f}-{max(ratios):.3f}; target <= 1.15x)"
    )


if __name__ == "__main__":
    main()
