"""Snapshot costs, as ratios measured in one run.

1. Asserting a 1 MB reply: serialise it, read the stored snapshot, compare; with
   ``RefoldSnapshotExtension`` (redaction and normalisation included) against syrupy's plain
   ``JSONSnapshotExtension``, alternating rounds. Target: at most 1.5x.
2. Scale: 400 snapshots (one parametrised test, ``pytest test_snaps.py`` in a subprocess,
   each variant in its own folder, variants alternating in order from round to round, the
   median of the per-round ratios), with ``refold_snapshot`` against syrupy's Amber format
   for the same data, in three runs:

   - verify: every snapshot on disk and matching;
   - update, new: ``--snapshot-update`` with no snapshot on disk (all 400 written);
   - update, stale: ``--snapshot-update`` with every snapshot on disk and out of date.

   Target: at most 1.2x for each. Two more variants are timed for reference: syrupy's own
   JSON extension (through ``snapshot.use_extension``), and ``RefoldSnapshotExtension``
   through ``refold_contract.snapshot.snapshot_assertion(request)``, that is with no default
   Amber assertion beside it. ``snapshot.use_extension(...)``, and so ``refold_snapshot`` as
   long as it is built on syrupy's ``snapshot`` fixture, first builds that Amber assertion;
   its discovery takes each file under ``__snapshots__`` as an unknown collection of its own,
   which syrupy's unused-snapshot report then matches against the tests that ran, one by one
   (files x tests), wherever the file is not on record as belonging to an extension, as new
   files are not. The last variant is the cost without that assertion.

    python bench/snapshot.py [--rounds 7] [--scale-rounds 5] [--snapshots 400]
"""

from __future__ import annotations

import argparse
import os
import shutil
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
    import os
    import pytest
    from syrupy.extensions.json import JSONSnapshotExtension

    STALE = os.environ.get("BENCH_STALE", "")
    DATA = [{{"node_status": "Success", "data": {{"results": [{{"id": str(i), "email":
             f"a{{i}}{{STALE}}@example.com", "createdAt": "2024-05-15T18:35:12.877Z"}}],
             "paging": {{}}}}}} for i in range({n})]

    @pytest.mark.parametrize("i", range({n}))
    def test_snap(snap, i):
        assert snap == DATA[i]
    """
)
PLAIN = "@pytest.fixture\ndef snap(snapshot):\n    return snapshot\n"
# name -> (the fixture in the test file, extra pytest arguments)
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "refold": ("@pytest.fixture\ndef snap(refold_snapshot):\n    return refold_snapshot\n", []),
    "amber": (PLAIN, []),
    "syrupy_json": (
        "@pytest.fixture\ndef snap(snapshot):\n"
        "    return snapshot.use_extension(JSONSnapshotExtension)\n",
        [],
    ),
    "refold_alone": (
        "from refold_contract.snapshot import snapshot_assertion\n\n"
        "@pytest.fixture\ndef snap(request):\n    return snapshot_assertion(request)\n",
        [],
    ),
}
LABELS = {
    "refold": "refold_snapshot / Amber:",
    "syrupy_json": "syrupy JSONSnapshotExtension / Amber:",
    "refold_alone": "snapshot_assertion(request) / Amber:",
}


def pytest_time(folder: Path, env: dict[str, str], *args: str) -> float:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio"]
    # A path on the command line, as in `pytest tests/`: that is when syrupy matches every
    # snapshot file against every test that ran.
    command += [*VARIANTS[folder.name][1], *args, "test_snaps.py"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"run {args} failed in {folder}:\n{done.stdout[-2000:]}")
    return elapsed


def no_snapshots(folder: Path) -> None:
    shutil.rmtree(folder / "__snapshots__", ignore_errors=True)


def stale_snapshots(folder: Path) -> None:
    no_snapshots(folder)
    shutil.copytree(folder.parent / f"{folder.name}.stale", folder / "__snapshots__")


def scale(
    folders: dict[str, Path],
    env: dict[str, str],
    rounds: int,
    prepare: Any,
    *args: str,
) -> dict[str, float]:
    """Median per-round ratio to Amber of each variant, variants alternating in order."""
    ratios: dict[str, list[float]] = {name: [] for name in folders}
    for i in range(rounds):
        order = list(folders) if i % 2 else list(reversed(folders))
        run = {}
        for name in order:
            prepare(folders[name])
            run[name] = pytest_time(folders[name], env, *args)
        for name in folders:
            ratios[name].append(run[name] / run["amber"])
    return {name: statistics.median(values) for name, values in ratios.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="snapshot benchmark")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--scale-rounds", type=int, default=5)
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
        for name, (fixture, _) in VARIANTS.items():
            folder = Path(tmp, name)
            folder.mkdir()
            (folder / "pytest.ini").write_text("[pytest]\n")
            (folder / "test_snaps.py").write_text(SUITE.format(n=args.snapshots) + "\n" + fixture)
            folders[name] = folder
            pytest_time(folder, {**env, "BENCH_STALE": "-old"}, "--snapshot-update")
            shutil.copytree(folder / "__snapshots__", Path(tmp, f"{name}.stale"))
            no_snapshots(folder)
            pytest_time(folder, env, "--snapshot-update")
        runs = {
            "verify": scale(folders, env, args.scale_rounds, lambda folder: None),
            "update, new": scale(
                folders, env, args.scale_rounds, no_snapshots, "--snapshot-update"
            ),
            "update, stale": scale(
                folders, env, args.scale_rounds, stale_snapshots, "--snapshot-update"
            ),
        }
    print(
        f"2. {args.snapshots} snapshots, pytest in a subprocess, {args.scale_rounds} rounds "
        "(median of per-round ratios)"
    )
    width = max(len(label) for label in LABELS.values())
    print(f"   {'':{width}}  " + "  ".join(f"{run:>13}" for run in runs))
    for name, label in LABELS.items():
        cells = "  ".join(f"{figures[name]:>12.2f}x" for figures in runs.values())
        print(f"   {label:{width}}  {cells}" + ("  (target <= 1.2x)" if name == "refold" else ""))
    for run, figures in runs.items():
        if figures["refold"] > 1.2:
            failures.append(f"400 snapshots, {run}")
    if failures:
        print("missed targets: " + ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
