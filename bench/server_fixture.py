"""What ``refold_server`` costs a test, against ``refold_mock`` alone.

Each run is a pytest session of N trivial tests, each taking ``refold_server`` (one loopback
server for the session, answering each test's own mock) or ``refold_mock`` alone. Two ratios,
each the median over interleaved rounds measured in this run: the whole pytest run (start-up
and the server's one start included, as a user times it), and one test's setup, call and
teardown, timed by a conftest (the median test: what each further test adds). Target: at most
1.3x, for 20 and for 200 tests.

    python bench/server_fixture.py [--rounds 5] [--tests 20 200]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFTEST = """
import statistics
import time
import pytest

spent = []

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    started = time.perf_counter()
    yield
    spent.append(time.perf_counter() - started)

def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"BENCH {statistics.median(spent):.6f} {len(spent)}")
"""

TESTS = """
import pytest

HEADERS = {{"x-api-key": "tk_bench", "linked_account_id": "user_1"}}
PATH = "/api/v2/integration-schema/hubspot/actions/get_contact/execute"

@pytest.mark.parametrize("i", range({n}))
def test_{kind}(i, {fixtures}):
    {body}
"""

BODIES = {
    "server": ("refold_server", "assert refold_server.url.startswith('http://127.0.0.1:')"),
    "mock": ("refold_mock", "assert refold_mock.base_url"),
}


def run(tmp: Path, kind: str, n: int) -> tuple[float, float]:
    """One pytest session of ``n`` tests: its wall time, start-up included, and the median time
    of one test (setup, call and teardown)."""
    fixtures, body = BODIES[kind]
    folder = tmp / f"{kind}_{n}"
    folder.mkdir(exist_ok=True)
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "test_bench.py").write_text(TESTS.format(n=n, kind=kind, fixtures=fixtures,
                                                       body=body))  # fmt: skip
    (folder / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFOLD_", "PYTEST_"))}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "-p", "no:xdist"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    wall = time.perf_counter() - started
    found = re.search(r"BENCH ([0-9.]+) ([0-9]+)", done.stdout)
    if done.returncode != 0 or found is None or int(found.group(2)) != n:
        print(done.stdout[-3000:], done.stderr[-2000:])
        raise SystemExit(f"the {kind} run of {n} tests failed")
    return wall, float(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tests", type=int, nargs="+", default=[20, 200])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.tests:
            walls, tests = [], []
            for i in range(args.rounds):
                order = ["mock", "server"] if i % 2 == 0 else ["server", "mock"]
                times = {kind: run(Path(tmp), kind, n) for kind in order}
                walls.append(times["server"][0] / times["mock"][0])
                tests.append(times["server"][1] / times["mock"][1])
            print(
                f"{n} trivial tests, refold_server / refold_mock: whole pytest run "
                f"{statistics.median(walls):.3f}x (rounds {min(walls):.3f}-{max(walls):.3f}); "
                f"one test, median {statistics.median(tests):.3f}x (rounds "
                f"{min(tests):.3f}-{max(tests):.3f}); median of {args.rounds} interleaved "
                "rounds; target <= 1.3x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
