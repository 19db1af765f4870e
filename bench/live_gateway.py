"""What the read-only gateway costs, and whether it keeps Refold's pace across xdist workers.

Two figures, each a ratio measured in this run (these machines are noisy; no lone times):

1. a read through the gateway vs the same read sent straight to the stand-in, the stand-in
   adding 10 ms of latency per request (target: at most 1.1x). Interleaved rounds, median of
   the per-round ratios; pacing is set far above the request rate so only the hop is measured;
2. a live run of 100 read tests under ``-n 2``, as the time from the first read reaching the
   stand-in to the last, against the rate-limit floor: 100 reads at 20 a second with a burst of
   5 need (100 - 5) / 20 = 4.75 s (target: between 1.0x and 1.3x; under 1.0x would mean the
   workers paced alone and broke Refold's limit);
3. a read through the shared gateway (``gateway --shared``, a session of its own) vs direct,
   measured as in 1 (target: at most 1.15x);
4. three pytest sessions of 100 read tests each, at once, against one shared gateway: first to
   last read against the floor for all 300 together, (300 - 5) / 20 = 14.75 s (target: between
   1.0x and 1.3x; under 1.0x would mean the sessions paced alone).

    python bench/live_gateway.py [--rounds 15] [--reads 40] [--tests 100] [--sessions 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from refold_contract import RefoldClient
from refold_contract._guard.custody import Credentials
from refold_contract.live.gateway import GatewayConfig, GatewayProcess, SharedSession
from refold_contract.mock import RefoldMock
from refold_contract.mock.server import running_server

KEY = "tk_bench_key_0123456789"
ACCOUNT = "acct_bench"


class Timed(RefoldMock):
    """The stand-in, noting when each request arrives."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arrivals: list[float] = []

    def answer(self, *args: Any, **kwargs: Any) -> Any:
        self.arrivals.append(time.monotonic())
        return super().answer(*args, **kwargs)


def reads(base_url: str, n: int) -> float:
    with RefoldClient(api_key=KEY, linked_account_id=ACCOUNT, base_url=base_url) as client:
        client.execute("hubspot", "get_contact", {"limit": "1"})  # warm the connection
        started = time.perf_counter()
        for _ in range(n):
            client.execute("hubspot", "get_contact", {"limit": "1"})
        return time.perf_counter() - started


def interleaved(args: argparse.Namespace, direct: str, through: str, name: str,
                target: float) -> float:  # fmt: skip
    """Reads direct and through ``through`` in alternating order, round by round; prints and
    returns the median of the per-round ratios."""
    ratios = []
    for i in range(args.rounds):
        order = [(direct, "direct"), (through, name)]
        if i % 2:
            order.reverse()
        times = {label: reads(url, args.reads) for url, label in order}
        ratios.append(times[name] / times["direct"])
    ratio = statistics.median(ratios)
    print(
        f"read through the {name} / direct, {args.latency * 1000:.0f} ms server latency: "
        f"{ratio:.3f}x (median of {args.rounds} interleaved rounds of {args.reads} reads; "
        f"rounds {min(ratios):.3f}-{max(ratios):.3f}; target <= {target:g}x)"
    )
    return ratio


def hop(args: argparse.Namespace) -> float:
    mock = Timed(api_keys={KEY}, assert_all_called=False)
    mock.delay("*", "*", args.latency, operation="*")
    with running_server(mock) as upstream:
        gateway = GatewayProcess.start(
            GatewayConfig(upstream=upstream.url, rate=1e6, burst=10**6),
            Credentials(api_key=KEY, linked_account_id=ACCOUNT),
        )
        try:
            ratio = interleaved(args, upstream.url, gateway.url, "gateway", 1.1)
        finally:
            gateway.stop()
    return ratio


SUITE = """
import pytest

@pytest.mark.refold_live
@pytest.mark.parametrize("i", range({tests}))
def test_read(refold_client, i):
    refold_client.execute("slack", "list_channels")
"""


def paced(args: argparse.Namespace) -> float:
    mock = Timed(api_keys={KEY}, assert_all_called=False)
    with running_server(mock) as upstream, tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_live.py").write_text(SUITE.format(tests=args.tests))
        Path(tmp, "pytest.ini").write_text("[pytest]\nrefold_rate = 20\nrefold_burst = 5\n")
        env = {
            **os.environ,
            "REFOLD_API_KEY": KEY,
            "REFOLD_LINKED_ACCOUNT_ID": ACCOUNT,
            "REFOLD_BASE_URL": upstream.url,
        }
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--refold-live", "-n", "2", "-q", "-p",
             "no:cacheprovider"],
            cwd=tmp, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-2000:])
            raise SystemExit("the live run failed")
    arrivals = sorted(mock.arrivals)
    floor = (args.tests - 5) / 20
    span = arrivals[-1] - arrivals[0]
    ratio = span / floor
    print(
        f"{args.tests} live read tests under -n 2, first to last read / rate-limit floor "
        f"({args.tests} reads at 20/s, burst 5 = {floor:.2f} s): {ratio:.3f}x "
        f"({len(arrivals)} reads arrived; target 1.0x-1.3x)"
    )
    return ratio


def start_shared_command(upstream: str, tmp: str, rate: float, burst: int) -> tuple[Any, str, str]:
    """``refold-contract gateway --shared`` as its own process, as it runs in use."""
    env_file = Path(tmp, "refold.env")
    env_file.write_text(f"REFOLD_API_KEY={KEY}\nREFOLD_LINKED_ACCOUNT_ID={ACCOUNT}\n")
    env_file.chmod(0o600)
    token_file = Path(tmp, "client-token")
    process = subprocess.Popen(
        [sys.executable, "-m", "refold_contract.cli", "gateway", "--shared", "--env-file",
         str(env_file), "--base-url", upstream, "--client-token-file", str(token_file),
         "--rate", str(rate), "--burst", str(burst)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    return process, url, token_file.read_text().strip()


def shared_hop(args: argparse.Namespace) -> float:
    mock = Timed(api_keys={KEY}, assert_all_called=False)
    mock.delay("*", "*", args.latency, operation="*")
    with running_server(mock) as upstream, tempfile.TemporaryDirectory() as tmp:
        process, url, token = start_shared_command(upstream.url, tmp, 1e6, 10**6)
        session = SharedSession.open(url, token)
        # A refold_live test's address in that session: what a test's client is pointed at.
        from refold_contract.live.gateway.control import begin_test

        begin_test(session.url, "bench", "/t/benchtest", control_key=session.control_key)
        test_url = f"{session.url}/t/benchtest"
        try:
            ratio = interleaved(args, upstream.url, test_url, "shared gateway", 1.15)
        finally:
            session.stop()
            process.terminate()
            process.communicate(timeout=30)
    return ratio


def shared_paced(args: argparse.Namespace) -> float:
    mock = Timed(api_keys={KEY}, assert_all_called=False)
    with running_server(mock) as upstream, tempfile.TemporaryDirectory() as tmp:
        process, url, token = start_shared_command(upstream.url, tmp, 20, 5)
        Path(tmp, "test_live.py").write_text(SUITE.format(tests=args.tests))
        Path(tmp, "pytest.ini").write_text("[pytest]\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("REFOLD_")}
        env.update(REFOLD_GATEWAY_URL=url, REFOLD_GATEWAY_TOKEN=token)
        try:
            runs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "pytest",
                        "--refold-live",
                        "-q",
                        "-p",
                        "no:cacheprovider",
                        "-p",
                        "no:randomly",
                    ],
                    cwd=tmp,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                for _ in range(args.sessions)
            ]
            outputs = [run.communicate(timeout=900)[0] for run in runs]
        finally:
            process.terminate()
            process.communicate(timeout=30)
        if any(run.returncode != 0 for run in runs):
            print(*(o[-1500:] for o in outputs), sep="\n")
            raise SystemExit("a session through the shared gateway failed")
    total = args.tests * args.sessions
    arrivals = sorted(mock.arrivals)
    floor = (total - 5) / 20
    ratio = (arrivals[-1] - arrivals[0]) / floor
    print(
        f"{args.sessions} sessions of {args.tests} live read tests at once through one shared "
        f"gateway, first to last read / rate-limit floor ({total} reads at 20/s, burst 5 = "
        f"{floor:.2f} s): {ratio:.3f}x ({len(arrivals)} reads arrived; target 1.0x-1.3x)"
    )
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--reads", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.010)
    parser.add_argument("--tests", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--only-shared", action="store_true", help="figures 3 and 4 only")
    args = parser.parse_args(argv)
    if not args.only_shared:
        hop(args)
        paced(args)
    shared_hop(args)
    shared_paced(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
