"""Every example in the README runs, as it stands there: changing an example without changing the
code (or the reverse) fails here.

Python blocks are found with pytest-examples (maintained, gives each block's file and line, and
leaves running them to us, which these blocks need: some are test modules for pytest, some are
scripts). A block that defines tests runs as a test module under pytest with the plugin; any
other block runs as a script, with the few placeholders it names (``run_my_service``, a
``refold_mock``) supplied here. JSON blocks must load as catalogue files; shell blocks must parse
with the command's own parser; the lint output shown must be what lint prints.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_examples import CodeExample, find_examples

from refold_contract import Catalogue
from refold_contract.catalogue import validate_file
from refold_contract.cli import build_parser
from refold_contract.mock import RefoldMock

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^(`{3,4})(\w*)\n(.*?)^\1$", re.S | re.M)
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def blocks(language: str) -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [
        (text[: m.start()].count("\n") + 1, m.group(3))
        for m in FENCE.finditer(text)
        if m.group(2) == language
    ]


PYTHON = list(find_examples(str(README)))


def test_every_python_block_is_found() -> None:
    assert len(PYTHON) == len(blocks("python")) >= 12


def is_test_module(example: CodeExample) -> bool:
    return bool(
        re.search(r"^(async )?def test_|^class \w+\(SandboxMachine\)", example.source, re.M)
    )


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


def placeholders(tmp_path: Path) -> dict[str, Any]:
    """What the README's script blocks leave to the reader, supplied."""
    import requests

    def run_my_service(refold_base_url: str) -> None:  # "your service", calling Refold
        requests.post(
            refold_base_url + "/api/v2/integration-schema/hubspot/actions/create_contact/execute",
            json={"email": "ada@example.com"},
            headers={"x-api-key": "tk_test", "linked_account_id": "user_1"},
            timeout=10,
        ).raise_for_status()

    return {"run_my_service": run_my_service, "refold_mock": RefoldMock(stateful=True)}


@pytest.mark.parametrize(
    "example", [e for e in PYTHON if is_test_module(e)], ids=lambda e: f"README.md:{e.start_line}"
)
def test_a_readme_test_module_passes_under_the_plugin(
    example: CodeExample, pytester: pytest.Pytester
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_readme_example=example.source)
    result = pytester.runpytest_subprocess("--snapshot-update", "-p", "no:randomly")
    assert result.ret == 0, f"README.md:{example.start_line}\n" + result.stdout.str()[-3000:]
    assert result.parseoutcomes().get("passed", 0) >= 1


@pytest.mark.parametrize(
    "example",
    [e for e in PYTHON if not is_test_module(e)],
    ids=lambda e: f"README.md:{e.start_line}",
)
def test_a_readme_script_runs(example: CodeExample, tmp_path: Path) -> None:
    (tmp_path / "tests" / "refold_fixtures").mkdir(parents=True)
    namespace: dict[str, Any] = {"__name__": "readme_example", **placeholders(tmp_path)}
    code = compile(example.source, f"README.md:{example.start_line}", "exec")
    # A block that makes its own mock gets none from us; the others talk to app.refold.ai,
    # which only a mock may answer in a test.
    own_mock = "RefoldMock(" in example.source or "running_server(" in example.source
    mock = contextlib.nullcontext() if own_mock else RefoldMock()
    with inside(tmp_path), mock:
        exec(code, namespace)


def test_the_catalogue_example_is_a_true_excerpt_of_the_builtin_file(tmp_path: Path) -> None:
    (line, text), *_ = [(n, t) for n, t in blocks("json") if '"slug": "hubspot"' in t]
    shown = json.loads(text)
    path = tmp_path / shown["slug"] / f"{shown['action_id']}.json"
    path.parent.mkdir()
    path.write_text(text)
    action, problems = validate_file(path)
    assert problems == [], f"README.md:{line}: {problems}"
    assert action is not None
    builtin = json.loads(
        (Catalogue.builtin_path() / "hubspot" / "search_contacts.json").read_text()
    )
    for key, value in shown.items():
        if key == "examples":
            assert all(e in builtin["examples"] for e in value), f"README.md:{line}: {key}"
        else:
            assert builtin[key] == value, f"README.md:{line}: {key}"


def test_the_state_block_example_passes_lint(tmp_path: Path) -> None:
    (line, text), *_ = [(n, t) for n, t in blocks("json") if t.lstrip().startswith('"state"')]
    document = {
        "slug": "acme",
        "action_id": "get_widget",
        "name": "Get widget",
        "parameters": [{"name": "widget_id", "label": "Widget", "required": True, "type": "text"}],
        **json.loads("{" + text + "}"),
    }
    path = tmp_path / "acme" / "get_widget.json"
    path.parent.mkdir()
    path.write_text(json.dumps(document))
    action, problems = validate_file(path)
    assert problems == [], f"README.md:{line}: {problems}"
    assert action is not None
    assert action.state is not None


def test_the_ini_example_names_keys_the_plugin_has(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    help_text = pytester.runpytest("--help").stdout.str()
    for line, text in blocks("ini"):
        parser = configparser.ConfigParser()
        parser.read_string(text)
        for key in parser["pytest"]:
            assert f"  {key} (" in help_text, f"README.md:{line}: {key}"


def shell_lines() -> list[tuple[int, str]]:
    out = []
    for line, text in blocks("bash") + blocks(""):
        for offset, raw in enumerate(text.splitlines()):
            command = raw.split("  #")[0].strip().removeprefix("$ ").strip()
            out.append((line + 1 + offset, command))
    return out


@pytest.mark.parametrize(
    ("line", "command"),
    [(n, c) for n, c in shell_lines() if c.startswith("refold-contract ") and "[" not in c],
    ids=lambda v: str(v) if isinstance(v, int) else "",
)
def test_every_command_the_readme_shows_parses(line: int, command: str) -> None:
    argv = shlex.split(command)[1:]
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"README.md:{line}: {command!r} does not parse (exit {exc.code})")


def test_every_pytest_option_the_readme_shows_exists(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    help_text = pytester.runpytest("--help").stdout.str()
    for line, command in shell_lines():
        for option in re.findall(r"(--(?:refold|snapshot)-[a-z-]+)", command):
            assert option in help_text, f"README.md:{line}: {option}"


def test_the_lint_output_shown_is_what_lint_prints(tmp_path: Path) -> None:
    (line, text), *_ = [(n, t) for n, t in blocks("") if t.startswith("$ refold-contract lint")]
    command, *shown = text.strip().splitlines()
    folder = tmp_path / "tests" / "refold_fixtures"

    def write(slug: str, action_id: str, parameters: list[Any], params: dict[str, Any]) -> None:
        path = folder / slug / f"{action_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({
            "slug": slug, "action_id": action_id, "name": action_id, "parameters": parameters,
            "examples": [{"params": params, "source": "test",
                          "response": {"node_status": "Success", "data": {}}}],
        }))  # fmt: skip

    deal = [{"name": "dealId", "label": "Deal", "required": True, "type": "text"}]
    write("hubspot", "get_deal", deal, {"pipeline": "default"})
    for action_id in ("get_owner", "get_pipeline", "get_stage"):
        write("hubspot", action_id, [], {})
    done = subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", *shlex.split(command)[2:]],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    printed = (done.stdout + done.stderr).strip().splitlines()
    assert printed == shown, f"README.md:{line}"
    assert done.returncode == 1
