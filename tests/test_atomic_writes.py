"""Atomic writes, proved by injection rather than timing.

A child process stops dead (``os._exit``) at a chosen step of a write: half-way through writing
the temporary file, at its fsync, or at the rename. Whatever the step, the target is either the
old file, whole, or absent when there was none: never half of the new one. The same holds for
the recorder, which writes through :func:`write_json_atomically`.

One Python process runs every case: it forks a child per case, so the cost is one start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from refold_contract import Catalogue
from refold_contract.live import Recorder, write_json_atomically

DIED = 17  # the exit status of a child stopped at its injection point
SURVIVED = 0  # the write never reached the step it should have died at

OLD = {"slug": "acme", "examples": [{"n": i} for i in range(3)], "note": "the old file"}
NEW = {"slug": "acme", "examples": [{"n": i, "text": "x" * 200} for i in range(400)]}

CHILD = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path

    from refold_contract import Catalogue
    from refold_contract.live import Recorder, write_json_atomically

    DIED, SHORT = 17, 18
    cases = json.loads(Path(sys.argv[1]).read_text())
    catalogue = Catalogue.builtin()
    real_fdopen, real_fsync = os.fdopen, os.fsync


    def inject(step, expected_size):
        def die(*args, **kwargs):
            os._exit(DIED)

        if step == "replace":
            os.replace = die
        elif step == "fsync":
            def fsync(fd):
                # Everything written must be in the file by the time it is synced.
                os._exit(DIED if os.fstat(fd).st_size >= expected_size else SHORT)
            os.fsync = fsync
        elif step == "write":
            def fdopen(fd, *args, **kwargs):
                handle = real_fdopen(fd, *args, **kwargs)
                real_write = handle.write

                def half(text):
                    real_write(text[: len(text) // 2])
                    handle.flush()
                    os._exit(DIED)

                handle.write = half
                return handle
            os.fdopen = fdopen


    def run(case):
        if case["kind"] == "write":
            inject(case["step"], case["size"])
            write_json_atomically(Path(case["path"]), case["document"])
        else:
            action = catalogue.get("hubspot", "get_contact")
            recorder = Recorder(Path(case["path"]), catalogue, linked_account_id="acct_1")
            inject(case["step"], 0)
            recorder.record(action, case["params"], case["document"])


    statuses = []
    for case in cases:
        pid = os.fork()
        if pid == 0:
            try:
                run(case)
            except BaseException:
                os._exit(3)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        statuses.append(os.waitstatus_to_exitcode(status))
    print(json.dumps(statuses))
    """
)


def run_cases(tmp_path: Path, cases: list[dict[str, Any]]) -> list[int]:
    script = tmp_path / "die_mid_write.py"
    script.write_text(CHILD)
    plan = tmp_path / "cases.json"
    plan.write_text(json.dumps(cases))
    done = subprocess.run(
        [sys.executable, str(script), str(plan)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    statuses: list[int] = json.loads(done.stdout)
    return statuses


def leftovers(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix == ".tmp")


STEPS = ("write", "fsync", "replace")


def test_a_write_stopped_at_any_step_leaves_the_old_file_whole_or_no_file(
    tmp_path: Path,
) -> None:
    new_text = json.dumps(NEW, indent=2, ensure_ascii=False) + "\n"
    old_text = json.dumps(OLD, indent=2) + "\n"
    cases: list[dict[str, Any]] = []
    for step in STEPS:
        for existing in (True, False):
            folder = tmp_path / f"{step}-{'existing' if existing else 'fresh'}"
            folder.mkdir()
            target = folder / "get_thing.json"
            if existing:
                target.write_text(old_text)
            cases.append(
                {"kind": "write", "step": step, "path": str(target), "document": NEW,
                 "size": len(new_text.encode())}
            )  # fmt: skip
    statuses = run_cases(tmp_path, cases)
    assert statuses == [DIED] * len(cases), "each write must pass through write, fsync, rename"
    for case in cases:
        target = Path(case["path"])
        if target.parent.name.endswith("-existing"):
            assert target.read_text() == old_text  # the old file, byte for byte
            assert json.loads(target.read_text()) == OLD
        else:
            assert not target.exists()  # no half-written file where there was none
        files = [p.name for p in target.parent.iterdir()]
        assert [n for n in files if n != target.name and not n.endswith(".tmp")] == []
        temporary = leftovers(target.parent)
        # A dead process may leave its temporary file, hidden and beside the target (the same
        # file system, so the rename is atomic); never under the target's name.
        for tmp in temporary:
            assert tmp.name.startswith(".get_thing.json.")
            assert tmp.parent == target.parent
        if case["step"] == "replace":  # written in full before the rename
            (tmp,) = temporary
            assert json.loads(tmp.read_text()) == NEW


def test_a_recording_stopped_at_any_step_leaves_the_recorded_file_whole(tmp_path: Path) -> None:
    catalogue = Catalogue.builtin()
    action = catalogue.get("hubspot", "get_contact")
    cases: list[dict[str, Any]] = []
    before: dict[Path, str] = {}
    for step in STEPS:
        folder = tmp_path / step
        recorder = Recorder(folder, catalogue, linked_account_id="acct_1")
        path = recorder.record(
            action, {"limit": "1"}, {"node_status": "Success", "data": {"results": [], "n": 1}}
        )
        before[path] = path.read_text()
        cases.append(
            {"kind": "record", "step": step, "path": str(folder), "params": {"limit": "2"},
             "document": {"node_status": "Success", "data": {"results": ["x" * 5000] * 50}}}
        )  # fmt: skip
    statuses = run_cases(tmp_path, cases)
    assert statuses == [DIED] * len(cases)
    for path, text in before.items():
        assert path.read_text() == text
        loaded = Catalogue.load(path.parent.parent).get("hubspot", "get_contact")
        assert [dict(e.params) for e in loaded.examples if e.source == "recorded"] == [
            {"limit": "1"}
        ]


def test_a_failed_rename_removes_the_temporary_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "get_thing.json"
    write_json_atomically(target, OLD)
    old_text = target.read_text()

    def refuse(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left on device"):
        write_json_atomically(target, NEW)
    assert target.read_text() == old_text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["get_thing.json"]


def test_an_interrupt_during_the_write_removes_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "sub" / "get_thing.json"

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_json_atomically(target, NEW)
    assert list(target.parent.iterdir()) == []  # the folder is made; nothing is left in it


def test_an_atomic_write_is_standard_json_with_a_trailing_newline(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "doc.json"
    write_json_atomically(target, {"é": float("nan"), "n": [1, 2]})
    assert (
        target.read_text(encoding="utf-8") == '{\n  "é": "NaN",\n  "n": [\n    1,\n    2\n  ]\n}\n'
    )
    write_json_atomically(target, {"n": 1})
    assert target.read_text() == '{\n  "n": 1\n}\n'
    assert sorted(p.name for p in target.parent.iterdir()) == ["doc.json"]
