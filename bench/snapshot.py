"""Snapshot costs, as ratios measured in one run.

1. Asserting a 1 MB reply: serialise it, read the stored snapshot, compare; with
   ``RefoldSnapshotExtension`` (redaction and normalisation included) against syrupy's plain
   ``JSONSnapshotExtension``, alternating rounds. Target: at most 1.5x.
2. Scale: a verify run of 400 snapshots (one parametrised test, ``pytest`` in a subprocess)
   with ``refold_snapshot`` against syrupy's Amber format for the same data. Target: at most
   1.2x. syrupy's own JSON extension is timed too, for reference.

    python bench/snapshot.py [--rounds 7] [--snapshots 400]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from syrupy.extensions.json import JSONSnapshotExtension

from refold_contract.catalogue import Catalogue
from refold_contract.snapshot import RefoldSnapshotExtension


def big_reply(target_bytes: int = 1_000_000) -> dict[str, Any]:
    template = Catalogue.builtin().get("hubspot", "get_contact").examples[1].data["results"][0]
    results = []
    i = 0
    size = 0
    while size < target_bytes:
        item = {
            **template,
            "id": str(1000 + i),
            "properties": {**template["properties"], "email": f"person{i}@example.com"},
        }
        results.append(item)
        size += len(repr(item))
        i += 1
    return {
        "node_status": "Success",
        "http_status": 200,
        "data": {"results": results, "paging": {}},
    }


def assert_cost(extension: Any, data: Any, stored: Path) -> float:
    start = time.perf_counter()
    serialized = extension.serialize(data)
    on_disk = stored.read_text(encoding="utf-8")
    assert serialized == on_disk
    return time.perf_counter() - start


SUITE = textwrap.dedent(
    """
    import pytest
    from syrupy.extensions.json import JSONSnapshotExtension

    DATA = [{{"node_status": "Success", "data": {{"results": [{{"id": str(i), "email":
             f"a{{i}}@example.com", "createdAt": "2024-05-15T18:35:12.877Z"}}], "paging": {{}}}}}}
            for i in range({n})]

    @pytest.mark.parametrize("i", range({n}))
    def test_snap(snap, i):
        assert snap == DATA[i]
    """
)
FIXTURES = {
    "refold": "@pytest.fixture\ndef snap(refold_snapshot):\n    return refold_snapshot\n",
    "amber": "@pytest.fixture\ndef snap(snapshot):\n    return snapshot\n",
    "syrupy_json": "@pytest.fixture\ndef snap(snapshot):\n"
    "    return snapshot.use_extension(JSONSnapshotExtension)\n",
}


def verify_time(folder: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        # A path on the command line, as in `pytest tests/`: that is when syrupy matches
        # every snapshot file against every test that ran.
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:asyncio",
            "test_snaps.py",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        env=env,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"verify run failed in {folder}:\n{done.stdout[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="snapshot benchmark")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--snapshots", type=int, default=400)
    args = parser.parse_args(argv)
    failures = []

    data = big_reply()
    ours, plain = RefoldSnapshotExtension(), JSONSnapshotExtension()
    with tempfile.TemporaryDirectory() as tmp:
        ours_file, plain_file = Path(tmp, "ours.json"), Path(tmp, "plain.json")
        ours_file.write_text(str(ours.serialize(data)), encoding="utf-8")
        plain_file.write_text(str(plain.serialize(data)), encoding="utf-8")
        size = plain_file.stat().st_size
        ratios = []
        for i in range(args.rounds):
            if i % 2:
                a, b = assert_cost(ours, data, ours_file), assert_cost(plain, data, plain_file)
            else:
                b, a = assert_cost(plain, data, plain_file), assert_cost(ours, data, ours_file)
            ratios.append(a / b)
    big = statistics.median(ratios)
    print(f"1. asserting a {size / 1e6:.1f} MB reply, {args.rounds} alternating rounds (median)")
    print(
        f"   RefoldSnapshotExtension / syrupy JSONSnapshotExtension: {big:.2f}x  (target <= 1.5x)"
    )
    if big > 1.5:
        failures.append("1 MB reply")

    env = {k: v for k, v in os.environ.items() if not k.startswith("REFOLD_")}
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for name, fixture in FIXTURES.items():
            folder = Path(tmp, name)
            folder.mkdir()
            (folder / "pytest.ini").write_text("[pytest]\n")
            (folder / "test_snaps.py").write_text(SUITE.format(n=args.snapshots) + "\n" + fixture)
            subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                 "no:asyncio", "--snapshot-update"],
                cwd=folder, capture_output=True, check=True, env=env,
            )  # fmt: skip
            folders[name] = folder
        times: dict[str, list[float]] = {name: [] for name in folders}
        scale_ratios = []
        for i in range(max(3, args.rounds // 2)):
            order = list(folders) if i % 2 else list(reversed(folders))
            run = {name: verify_time(folders[name], env) for name in order}
            for name, value in run.items():
                times[name].append(value)
            scale_ratios.append(run["refold"] / run["amber"])
    scale = statistics.median(scale_ratios)
    json_ratio = statistics.median(times["syrupy_json"]) / statistics.median(times["amber"])
    print(f"2. verify run of {args.snapshots} snapshots (pytest subprocess, median of rounds)")
    print(f"   refold_snapshot / Amber:              {scale:.2f}x  (target <= 1.2x)")
    print(f"   syrupy JSONSnapshotExtension / Amber: {json_ratio:.2f}x  (reference)")
    if scale > 1.2:
        failures.append("400 snapshots")
    if failures:
        print("missed targets: " + ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
