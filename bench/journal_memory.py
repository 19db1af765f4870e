"""What the journal holds per call: ``refold_mock`` against a bare respx route, in bytes.

Both answer the same execute with the same reply, N times through one httpx client; the bytes
still allocated afterwards (``tracemalloc``, after a collection), divided by N, are what each
keeps per call: the mock's journal, and respx's call list (a request and a response per call).
Also the time a 100,000-call run spends in the garbage collector, for the mock.
Target: the mock at most 1.0x respx.

    python bench/journal_memory.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc

import httpx
import respx

from refold_contract.mock import RefoldMock
from refold_contract.mock.emulator import Emulator

URL = "https://app.refold.ai/api/v2/integration-schema/hubspot/actions/get_contact/execute"
HEADERS = {"x-api-key": "tk_bench", "linked_account_id": "acct"}


def kept(calls: int, start: object, stop: object) -> float:
    client = httpx.Client(headers=HEADERS)
    start()  # type: ignore[operator]
    for _ in range(100):  # warm up: caches, the connection pool
        client.post(URL, json={"limit": "1"}).read()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(calls):
        client.post(URL, json={"limit": "1"}).read()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    stop()  # type: ignore[operator]
    client.close()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    return grown / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    mock = RefoldMock()
    body = Emulator(mock.catalogue).replay(mock.catalogue.get("hubspot", "get_contact"),
                                           '{"limit":"1"}')[0].body  # fmt: skip
    router = respx.MockRouter(assert_all_called=False)
    route = router.post(URL).respond(200, content=body,
                                     headers={"content-type": "application/json"})  # fmt: skip
    with mock:
        pass  # warm up the shared router
    refold = kept(args.calls, mock.start, mock.stop)
    bare = kept(args.calls, router.start, lambda: None)
    recorded = len(mock.calls), len(route.calls)
    router.stop()
    print(f"bytes kept per call, {args.calls:,} calls: refold_mock {refold:,.0f}, "
          f"bare respx {bare:,.0f}: {refold / bare:.2f}x (target <= 1.0x); "
          f"journal {recorded[0]:,} calls, respx call list {recorded[1]:,}")  # fmt: skip

    big = RefoldMock()
    client = httpx.Client(headers=HEADERS)
    gc_time = 0.0

    def watch(phase: str, info: dict[str, int]) -> None:
        nonlocal gc_time, started
        if phase == "start":
            started = time.perf_counter()
        else:
            gc_time += time.perf_counter() - started

    started = 0.0
    gc.callbacks.append(watch)
    with big:
        began = time.perf_counter()
        for _ in range(100_000):
            client.post(URL, json={"limit": "1"}).read()
        total = time.perf_counter() - began
    gc.callbacks.remove(watch)
    print(
        f"100,000 calls through refold_mock: {gc_time / total:.1%} of the time in the "
        "garbage collector"
    )


if __name__ == "__main__":
    main()
