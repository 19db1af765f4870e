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
both sides. The suite-level target is at most 1.15x.

    python bench/contract_tracking.py [--tests 300] [--rounds 41]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

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


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=41)
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


if __name__ == "__main__":
    main()
