"""Catalogue loading against plain ``json.load`` of the same files, measured in one run.

Generates 2,000 action files (10 parameters, 2 examples each) in a temporary folder, then
alternates the two loaders and prints the ratio of their median times. The baseline finds the
files, ``json.load``s each and keeps the results; ``Catalogue.load`` also validates every field
and checks every example against its action. Target: at most 3x.

    python bench/catalogue_load.py [--files 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from refold_contract.catalogue import Catalogue


def generate(root: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        slug = f"app{i % 20}"
        action_id = f"get_thing_{i}" if i % 2 else f"create_thing_{i}"
        params = [
            {
                "name": f"field_{j}",
                "label": f"Enter field {j}",
                "required": j < 2,
                "type": ["text", "number", "email", "url", "json"][j % 5],
            }
            for j in range(10)
        ]
        body = {"field_0": "x", "field_1": "2", "field_2": "a@example.com"}
        doc = {
            "slug": slug,
            "action_id": action_id,
            "name": action_id.replace("_", " ").title(),
            "description": "Generated for the benchmark.",
            "tag": "v2",
            "parameters": params,
            "examples": [
                {
                    "params": {**body, "field_5": str(k)},
                    "response": {
                        "node_status": "Success",
                        "http_status": 200,
                        "data": {
                            "results": [{"id": str(k), "properties": {"n": k}}],
                            "paging": {"next": {"after": str(k + 1)}},
                        },
                    },
                    "source": "bench",
                }
                for k in range(2)
            ],
        }
        path = root / slug / f"{action_id}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(doc, indent=2))
        paths.append(path)
    return paths


def plain(paths: list[Path]) -> list[object]:
    """The baseline: json.load each file and keep the result, as any loader must."""
    loaded = []
    for path in paths:
        with path.open("rb") as fh:
            loaded.append(json.load(fh))
    return loaded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = generate(root, args.files)
        plain(paths)
        Catalogue.load(root)  # warm the page cache and imports for both
        t_plain: list[float] = []
        t_cat: list[float] = []
        count = 0
        for _ in range(args.rounds):
            # Same heap for both: collect before each, drop each result right after.
            gc.collect()
            start = time.perf_counter()
            loaded = plain(sorted(root.glob("*/*.json")))
            t_plain.append(time.perf_counter() - start)
            del loaded
            gc.collect()
            start = time.perf_counter()
            catalogue = Catalogue.load(root)
            t_cat.append(time.perf_counter() - start)
            count = len(catalogue)
            del catalogue
        assert count == args.files
    ratio = statistics.median(t_cat) / statistics.median(t_plain)
    print(f"catalogue_load: {args.files} files, {args.rounds} interleaved rounds")
    print(f"Catalogue.load / plain json.load (median): {ratio:.2f}x  (target <= 3.0x)")
    return 0 if ratio <= 3.0 else 1


if __name__ == "__main__":
    sys.exit(main())
