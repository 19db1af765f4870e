"""What a user's suite pays: the same 300-test suite on refold-contract and on its peers.

Every suite has 300 tests making 3 execute calls each and reading the reply. Variants:

- ``bare respx``: a ``respx_mock`` route returning the same static JSON, one shared client;
- ``refold_client``: ``refold_mock`` with the ``refold_client`` fixture (a client per test);
- ``refold_mock + shared client``: ``refold_mock`` with one module-level ``httpx.Client``;
- ``pytest-httpx``: ``httpx_mock.add_response`` with the same JSON, one shared client
  (skipped when pytest-httpx is not installed: ``pip install pytest-httpx``).

Each variant runs as its own pytest process; the time counted is the test loop only
(``pytest_runtestloop``), so interpreter and plugin start-up do not hide per-test costs.
Rounds alternate the order; each figure is the median of the per-round ratios.

    python bench/suite_cost.py [--tests 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CONFTEST = """
import json, os, time
import pytest

@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    started = time.perf_counter()
    try:
        return (yield)
    finally:
        with open(os.environ["BENCH_OUT"], "w") as out:
            json.dump({"seconds": time.perf_counter() - started}, out)
"""

COMMON = """
import httpx, pytest

URL = "https://app.refold.ai/api/v2/integration-schema/hubspot/actions/get_contact/execute"
HEADERS = {{"x-api-key": "tk_bench", "linked_account_id": "acct"}}
REPLY = {reply}
SHARED = httpx.Client(headers=HEADERS)
"""

VARIANTS = {
    "bare respx": """
@pytest.mark.parametrize("i", range({tests}))
def test_it(respx_mock, i):
    respx_mock.post(URL).respond(200, json=REPLY)
    for _ in range(3):
        assert SHARED.post(URL, json={{"limit": "1"}}).json()["node_status"] == "Success"
""",
    "refold_client": """
@pytest.mark.parametrize("i", range({tests}))
def test_it(refold_client, i):
    for _ in range(3):
        assert refold_client.execute("hubspot", "get_contact", {{"limit": "1"}}).ok
""",
    "refold_mock + shared client": """
@pytest.mark.parametrize("i", range({tests}))
def test_it(refold_mock, i):
    for _ in range(3):
        assert SHARED.post(URL, json={{"limit": "1"}}).json()["node_status"] == "Success"
""",
    "pytest-httpx": """
@pytest.mark.parametrize("i", range({tests}))
def test_it(httpx_mock, i):
    httpx_mock.add_response(url=URL, method="POST", json=REPLY, is_reusable=True)
    for _ in range(3):
        assert SHARED.post(URL, json={{"limit": "1"}}).json()["node_status"] == "Success"
""",
}


def _file(name: str) -> str:
    return f"test_{name.replace(' ', '_').replace('+', 'and')}.py"


def reply() -> dict[str, object]:
    from refold_contract import Catalogue

    example = Catalogue.builtin().get("hubspot", "get_contact").examples[0]
    return dict(example.response)


def run(folder: Path, name: str) -> float:
    out = folder / f"{name}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFOLD_")}
    env["BENCH_OUT"] = str(out)
    disable = [] if name == "pytest-httpx" else ["-p", "no:pytest_httpx"]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
               "-p", "no:randomly", *disable, _file(name)]  # fmt: skip
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    seconds: float = json.loads(out.read_text())["seconds"]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    names = list(VARIANTS)
    if importlib.util.find_spec("pytest_httpx") is None:
        names.remove("pytest-httpx")
        print("pytest-httpx is not installed: its figure is skipped (pip install pytest-httpx)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "conftest.py").write_text(CONFTEST)
        (folder / "pytest.ini").write_text("[pytest]\n")
        for name in names:
            source = COMMON.format(reply=repr(reply())) + VARIANTS[name].format(tests=args.tests)
            (folder / _file(name)).write_text(source)
        for name in names:
            run(folder, name)  # warm up
        times: dict[str, list[float]] = {name: [] for name in names}
        for i in range(args.rounds):
            for name in names if i % 2 == 0 else reversed(names):
                times[name].append(run(folder, name))

    def ratio(a: str, b: str) -> str:
        values = [x / y for x, y in zip(times[a], times[b], strict=True)]
        return f"{statistics.median(values):.2f}x"

    print(f"{args.tests} tests x 3 executes, test loop only, median of {args.rounds} rounds:")
    print(f"  refold_client / bare respx:                {ratio('refold_client', 'bare respx')}"
          "  (target <= 1.3x)")  # fmt: skip
    print(f"  refold_mock + shared client / bare respx:  "
          f"{ratio('refold_mock + shared client', 'bare respx')}  (target <= 1.1x)")  # fmt: skip
    if "pytest-httpx" in names:
        shared = ratio("refold_mock + shared client", "pytest-httpx")
        print(f"  refold_mock + shared client / pytest-httpx: {shared}  (target <= 1.2x)")
    for name in names:
        per_test = statistics.median(times[name]) / args.tests * 1000
        print(f"  ({name}: {per_test:.2f} ms a test)")


if __name__ == "__main__":
    main()
