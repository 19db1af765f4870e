"""What the stateful sandbox costs, as figures measured in one run.

1. A stateful ``hubspot/search_contacts`` call against the same call stateless, both as the mock
   does an execute after routing: parse the body, Refold's own validation, then the stateless
   ``Emulator.replay`` (the recorded bytes) against ``Sandbox.answer`` plus encoding its reply.
   Paired rounds, interleaved, median ratio. Target: at most 1.5x. Shown beside it, for context:
   the answer step alone (replay's cached bytes against answer + encode), the same call with a
   different email each time (no cached view), and the whole request through
   ``RefoldMock.handle`` in stateful mode.
2. An EQ search over 10,000 seeded contacts against the same search over 100, a different email
   each call (so every call goes to the index). Target: at most 3x.
3. Paging through 10,000 contacts, 100 a page, with ``get_contact`` and ``paging.next.after``:
   pages per second, the first walk after a write (the ordered view rebuilt) and a second walk.
4. Paging through the same 10,000 contacts with HubSpot's CRM search through ``httprequest``
   (``POST /crm/v3/objects/contacts/search``, a filter every contact matches, ``after``), 100 a
   page: pages per second, and as a ratio against a ``get_contact`` walk of the same pages
   measured beside it (whole walks paired, median). Every walk asserts that each of the
   10,000 records is seen exactly once.

    python bench/sandbox.py [--rounds 25] [--calls 2000]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from _timing import paired_ratio, timed

from refold_contract.catalogue import Catalogue
from refold_contract.config import Limits
from refold_contract.mock import RefoldMock
from refold_contract.mock.emulator import Answer, Emulator, parse_body
from refold_contract.sandbox import Sandbox, Store

CATALOGUE = Catalogue.builtin()
SEARCH = CATALOGUE.get("hubspot", "search_contacts")
LIST = CATALOGUE.get("hubspot", "get_contact")
HTTP = CATALOGUE.get("hubspot", "httprequest")
SEARCH_PATH = "/crm/v3/objects/contacts/search"
EVERY_EMAIL = {"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@example.com"}
EVERYONE = {"filterGroups": [{"filters": [EVERY_EMAIL]}]}
BODY = {"propertyName": "email", "operator": "EQ", "value": "sam.okafor@example.com"}
HEADERS = {"x-api-key": "tk_bench", "linked_account_id": "user_1"}
URL = "https://app.refold.ai/api/v2/integration-schema/hubspot/actions/search_contacts/execute"


def seeded(count: int, *, keep_replies: bool = True) -> Sandbox:
    store = Store(CATALOGUE, default_account="user_1")
    sandbox = Sandbox(CATALOGUE, store, keep_replies=keep_replies)
    rows = [{"email": f"person{i}@example.com", "firstname": f"P{i}"} for i in range(count)]
    sandbox.seed("hubspot", "contacts", rows)
    return sandbox


def execute_stateless(
    emulator: Emulator, content: bytes, limits: Limits, n: int
) -> Callable[[], None]:
    def go() -> None:
        for _ in range(n):
            parsed = parse_body(content, limits)
            assert emulator.validate(SEARCH, parsed) is None
            assert parsed.key is not None
            emulator.replay(SEARCH, parsed.key)

    return go


def execute_stateful(
    emulator: Emulator, sandbox: Sandbox, bodies: list[bytes], limits: Limits, n: int
) -> Callable[[], None]:
    def go() -> None:
        for i in range(n):
            parsed = parse_body(bodies[i % len(bodies)], limits)
            assert emulator.validate(SEARCH, parsed) is None
            reply = sandbox.answer(SEARCH, parsed.params, "user_1", key=parsed.key)
            assert reply is not None
            Answer(200, reply.body())

    return go


def answer_only_stateless(emulator: Emulator, key: str, n: int) -> Callable[[], None]:
    def go() -> None:
        for _ in range(n):
            emulator.replay(SEARCH, key)

    return go


def answer_only_stateful(sandbox: Sandbox, key: str, n: int) -> Callable[[], None]:
    def go() -> None:
        for _ in range(n):
            reply = sandbox.answer(SEARCH, BODY, "user_1", key=key)
            assert reply is not None
            reply.body()

    return go


def stateful_mock(sandbox: Sandbox) -> RefoldMock:
    """``RefoldMock(stateful=True)`` answering from this sandbox (kept or afresh replies)."""
    mock = RefoldMock(CATALOGUE, store=sandbox.store, assert_all_called=False)
    mock.sandbox = sandbox
    return mock


def through_handle(mock: RefoldMock, n: int) -> Callable[[], None]:
    request = httpx.Request("POST", URL, json=BODY, headers=HEADERS)

    def go() -> None:
        for _ in range(n):
            assert mock.handle(request).status_code == 200
        mock.journal.clear()

    return go


def search_scaling(rounds: int, calls: int) -> tuple[float, float, float]:
    small, big = seeded(100, keep_replies=False), seeded(10_000, keep_replies=False)
    started = time.perf_counter()
    big.answer(SEARCH, {**BODY, "value": "person0@example.com"}, "user_1")  # builds the index
    index_build = time.perf_counter() - started
    small.answer(SEARCH, {**BODY, "value": "person0@example.com"}, "user_1")

    def searching(sandbox: Sandbox, count: int) -> Callable[[], None]:
        bodies = [
            {**BODY, "value": f"person{(i * 7919) % count}@example.com"} for i in range(calls)
        ]

        def go() -> None:
            for body in bodies:
                reply = sandbox.answer(SEARCH, body, "user_1")
                assert reply is not None
                assert reply.data["total"] == 1

        return go

    ratio = paired_ratio(searching(big, 10_000), searching(small, 100), rounds)
    per_call = timed(searching(big, 10_000)) / calls
    return ratio, per_call, index_build


def paging_rate() -> tuple[float, float]:
    sandbox = Sandbox(CATALOGUE, Store(CATALOGUE, default_account="user_1"), keep_replies=False)
    sandbox.seed("hubspot", "contacts", [{"email": f"p{i}@example.com"} for i in range(10_000)],
                 replace=True)  # fmt: skip

    def walk() -> int:
        params: dict[str, Any] = {"limit": "100"}
        pages = seen = 0
        while True:
            reply = sandbox.answer(LIST, params, "user_1")
            assert reply is not None
            json.dumps(reply.data)
            pages += 1
            seen += len(reply.record_ids)
            after = reply.data.get("paging", {}).get("next", {}).get("after")
            if after is None:
                assert seen == 10_000
                return pages
            params = {"limit": "100", "after": after}

    started = time.perf_counter()
    pages = walk()
    first = pages / (time.perf_counter() - started)
    started = time.perf_counter()
    pages = walk()
    second = pages / (time.perf_counter() - started)
    return first, second


def paging_sandbox() -> tuple[Sandbox, set[str]]:
    sandbox = Sandbox(CATALOGUE, Store(CATALOGUE, default_account="user_1"), keep_replies=False)
    rows = [{"email": f"p{i}@example.com"} for i in range(10_000)]
    ids = sandbox.seed("hubspot", "contacts", rows, replace=True)
    return sandbox, set(ids)


def list_walk(sandbox: Sandbox, every: set[str]) -> Callable[[], None]:
    def go() -> None:
        params: dict[str, Any] = {"limit": "100"}
        seen: list[str] = []
        while True:
            reply = sandbox.answer(LIST, params, "user_1")
            assert reply is not None
            json.dumps(reply.data)
            seen += reply.record_ids
            after = reply.data.get("paging", {}).get("next", {}).get("after")
            if after is None:
                break
            params = {"limit": "100", "after": after}
        assert len(seen) == len(set(seen)) == 10_000
        assert set(seen) == every

    return go


def search_walk(sandbox: Sandbox, every: set[str]) -> tuple[Callable[[], None], list[int]]:
    pages_seen: list[int] = []

    def go() -> None:
        body: dict[str, Any] = {**EVERYONE, "limit": 100}
        seen: list[str] = []
        pages = 0
        while True:
            params = {"method": "POST", "url_path": SEARCH_PATH, "body": body}
            reply = sandbox.answer(HTTP, params, "user_1")
            assert reply is not None
            assert reply.ok, reply
            json.dumps(reply.data)
            pages += 1
            seen += [r["id"] for r in reply.data["results"]]
            after = reply.data.get("paging", {}).get("next", {}).get("after")
            if after is None:
                break
            body = {**body, "after": after}
        assert len(seen) == len(set(seen)) == 10_000
        assert set(seen) == every
        pages_seen.append(pages)

    return go, pages_seen


def search_paging(rounds: int) -> tuple[float, float, float, int]:
    sandbox, every = paging_sandbox()
    searching, pages = search_walk(sandbox, every)
    listing = list_walk(sandbox, every)
    searching()  # the filtered view built once, as for a real walk's first page
    listing()
    rate = pages[-1] / timed(searching)
    baseline = 100 / timed(listing)
    ratio = paired_ratio(searching, listing, rounds)
    return rate, baseline, ratio, pages[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    limits = Limits()
    emulator = Emulator(CATALOGUE)
    content = json.dumps(BODY).encode()
    sandbox = seeded(96)  # the catalogue's 4 contacts and 96 more
    key = parse_body(content, limits).key
    assert key is not None
    n = args.calls

    print("sandbox: hubspot/search_contacts, EQ on email, one linked account")
    stateless = execute_stateless(emulator, content, limits, n)
    headline = paired_ratio(
        execute_stateful(emulator, sandbox, [content], limits, n), stateless, args.rounds
    )
    print(
        f"1. stateful / stateless execute (parse, validate, answer, encode), same body: "
        f"{headline:.2f}x  (target <= 1.5x)"
    )
    fresh = seeded(96, keep_replies=False)
    worked = paired_ratio(
        execute_stateful(emulator, fresh, [content], limits, n), stateless, args.rounds
    )
    print(f"   same, every reply worked out afresh (keep_replies=False): {worked:.2f}x")
    alone = paired_ratio(
        answer_only_stateful(fresh, key, n), answer_only_stateless(emulator, key, n), args.rounds
    )
    print(f"   answer step alone, worked out afresh (replay returns cached bytes): {alone:.2f}x")
    for name, chosen in (("kept replies", sandbox), ("afresh", fresh)):
        whole = paired_ratio(
            through_handle(stateful_mock(chosen), n // 4),
            through_handle(RefoldMock(CATALOGUE), n // 4),
            args.rounds,
        )
        print(f"   whole request through RefoldMock.handle, {name}: {whole:.2f}x")
    ratio, per_call, build = search_scaling(args.rounds, n)
    print(
        f"2. EQ search over 10,000 / over 100 contacts: {ratio:.2f}x  (target <= 3x); "
        f"{per_call * 1e6:.1f} us a search; index built once in {build * 1e3:.1f} ms"
    )
    first, second = paging_rate()
    print(f"3. paging 10,000 contacts, 100 a page: {first:,.0f} pages/s (first walk), "
          f"{second:,.0f} pages/s (second walk)")  # fmt: skip
    rate, baseline, walk_ratio, pages = search_paging(max(3, args.rounds // 5))
    print(f"4. HubSpot CRM search through httprequest, 10,000 contacts, 100 a page ({pages} pages, "
          f"each record seen once): {rate:,.0f} pages/s; get_contact in the same run "
          f"{baseline:,.0f} pages/s; search / get_contact pages/s, paired median of whole "
          f"walks: {1 / walk_ratio:.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
