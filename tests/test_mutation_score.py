"""tools/mutation_score.py: the score per target, the 90% floor, and the list of equivalent
mutants, which is left out of a total but can never hide a mutant the tests kill."""

from __future__ import annotations

import fnmatch
import importlib.util
import io
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "mutation_score.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_score", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def score(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    results: dict[str, str],
    equivalent: str = "",
) -> tuple[int, str]:
    tool = load()
    listed = tmp_path / "equivalent.txt"
    listed.write_text(equivalent, encoding="utf-8")
    monkeypatch.setattr(tool, "EQUIVALENT_FILE", listed)
    monkeypatch.setattr(tool, "TARGETS", [("demo", ["pkg.mod.*"])])
    monkeypatch.setattr(
        sys, "stdin", io.StringIO("".join(f"{k}: {v}\n" for k, v in results.items()))
    )
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    code = tool.main()
    return code, out.getvalue()


def mutants(killed: int, survived: int) -> dict[str, str]:
    out = {f"pkg.mod.x_f__mutmut_{i}": "killed" for i in range(killed)}
    out |= {f"pkg.mod.x_g__mutmut_{i}": "survived" for i in range(survived)}
    return out


def test_a_target_at_the_floor_passes_and_one_under_it_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, out = score(monkeypatch, tmp_path, mutants(9, 1))
    assert code == 0
    assert re.search(r"demo +9 / 10 +90\.0%\n", out)
    assert "survived     pkg.mod.x_g__mutmut_0" in out
    code, out = score(monkeypatch, tmp_path, mutants(8, 2))
    assert code == 1
    assert "80.0%  below 90%" in out


def test_an_equivalent_survivor_is_left_out_of_the_total(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    listed = "# comment\n\npkg.mod.x_g__mutmut_0 slicing a copy: the same list\n"
    code, out = score(monkeypatch, tmp_path, mutants(8, 2), listed)
    assert re.search(r"demo +8 / 9 +88\.9%  below 90%\n", out)
    assert "1 equivalent mutant(s) left out" in out
    assert "x_g__mutmut_0" not in out.split("left out")[1]
    assert code == 1


def test_a_listed_mutant_the_tests_kill_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, out = score(monkeypatch, tmp_path, mutants(9, 0), "pkg.mod.x_f__mutmut_0 said so\n")
    assert "listed as equivalent but killed: pkg.mod.x_f__mutmut_0" in out
    assert code == 1


def test_an_equivalent_needs_a_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="needs a reason"):
        score(monkeypatch, tmp_path, mutants(1, 1), "pkg.mod.x_g__mutmut_0\n")


def test_the_checked_in_list_names_only_mutants_of_the_targets() -> None:
    tool = load()
    patterns = [p for _, group in tool.TARGETS for p in group]
    for name in tool.equivalents():
        assert any(fnmatch.fnmatchcase(name, p) for p in patterns), name
