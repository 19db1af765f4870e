"""``refold-contract drift`` over 100 recorded reads against a server adding 100 ms latency.

The floor is the rate limit: 100 requests at 20 per second take 5 s however fast the server is.
The stand-in Refold runs on 127.0.0.1 in this process; ``drift`` runs as a subprocess, as a user
runs it. Prints the time as a ratio to that floor. Target: at most 1.3x.

    python bench/live_drift.py [--reads 100] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from refold_contract.catalogue import Catalogue
from refold_contract.mock import RefoldMock
from refold_contract.mock.server import running_server


def recorded_folder(root: Path, reads: int) -> Path:
    action = Catalogue.builtin().get("hubspot", "get_contact")
    examples = [
        {
            "params": {"limit": str(i + 1)},
            "response": dict(action.examples[0].response),
            "source": "recorded",
            "recorded_at": "2026-11-01T00:00:00Z",
        }
        for i in range(reads)
    ]
    doc = {
        "slug": "hubspot",
        "action_id": "get_contact",
        "name": action.name,
        "parameters": action.schema(),
        "examples": examples,
    }
    (root / "hubspot").mkdir(parents=True)
    (root / "hubspot" / "get_contact.json").write_text(json.dumps(doc))
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = recorded_folder(Path(tmp) / "mine", args.reads)
        # The stand-in answers from the same catalogue, so there is no drift to report.
        mock = RefoldMock(Catalogue.load(folder, include_builtin=True), assert_all_called=False)
        mock.delay("*", "*", args.latency, operation="*")
        return run(mock, folder, args)


def run(mock: RefoldMock, folder: Path, args: argparse.Namespace) -> int:
    with running_server(mock) as server:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("REFOLD_")},
            "REFOLD_API_KEY": "tk_bench",
            "REFOLD_LINKED_ACCOUNT_ID": "acct_bench",
            "REFOLD_BASE_URL": server.url,
        }
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "refold_contract.cli", "drift", "hubspot", "--fixtures",
             str(folder)],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        elapsed = time.perf_counter() - start
        sent = len(mock.calls)
    floor = sent / 20.0
    ratio = elapsed / floor
    print(
        f"live_drift: {args.reads} recorded reads (+ the list operation), "
        f"{args.latency * 1000:.0f} ms server latency, {sent} requests"
    )
    print(
        f"   refold-contract drift time / rate-limit floor ({sent} at 20/s = {floor:.2f} s): "
        f"{ratio:.2f}x  (target <= 1.3x)"
    )
    if done.returncode != 0:
        print(f"drift exited {done.returncode}: {done.stdout[-500:]} {done.stderr[-500:]}")
        return 1
    return 0 if ratio <= 1.3 else 1


if __name__ == "__main__":
    sys.exit(main())
