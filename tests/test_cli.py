from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from refold_contract import Catalogue
from refold_contract.cli import main

from .helpers import action_doc, write_action


def test_lint_of_the_builtin_catalogue_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint"]) == 0
    out = capsys.readouterr().out
    count = len(list(Catalogue.builtin_path().glob("*/*.json")))
    assert out == f"ok: {count} action file(s) under {Catalogue.builtin_path()}, no problems\n"


def test_lint_prints_one_line_per_problem_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_action(tmp_path, "{", slug="demo", action_id="get_a")
    doc = action_doc(action_id="get_b")
    doc["parameters"].append({"name": "id", "type": "text"})
    write_action(tmp_path, doc)
    assert main(["lint", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{tmp_path / 'demo' / 'get_a.json'}:1:2: malformed JSON")
    assert lines[1].startswith(f"{tmp_path / 'demo' / 'get_b.json'}#/parameters/2/name: duplicate")
    assert "(hint: " in lines[1]
    assert "2 error(s), 0 warning(s) in 2 file(s)" in captured.err


def test_lint_warns_of_an_unknown_field_type_without_failing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = action_doc()
    doc["parameters"][1]["type"] = "colour"
    path = write_action(tmp_path, doc)
    assert main(["lint", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{path}#/parameters/1/type: warning: unknown field type 'colour' for parameter 'limit'; "
        "it is validated as text  (hint: use one of email, json, number, password, text, "
        "textarea, url; unknown types are validated as text)",
        f"{path}: note: access 'read' inferred from the name 'get_thing'; check it, then declare "
        """it ("access": "read")""",
        f"ok: 1 action file(s) under {tmp_path}, 1 warning(s), 1 access(es) inferred",
    ]


def test_the_console_script_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", "lint"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", "lint", "/no/such/folder"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "/no/such/folder: catalogue folder does not exist" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_serve_without_uvicorn_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert main(["serve"]) == 2
    assert "pip install '/path/to/refold-contract[server]') or pip install uvicorn" in (
        capsys.readouterr().err
    )


def test_the_results_table_prints_without_rich(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from refold_contract.cli.output import print_table

    monkeypatch.setitem(sys.modules, "rich", None)
    monkeypatch.setitem(sys.modules, "rich.console", None)
    monkeypatch.setitem(sys.modules, "rich.table", None)
    print_table(["app", "action", "result"], [["hubspot", "get_contact", "passed"]])
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "app      action       result",
        "-------  -----------  ------",
        "hubspot  get_contact  passed",
    ]


def test_serve_refuses_a_bad_or_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with pytest.raises(SystemExit):
        main(["serve", "--port", "99999"])
    assert "99999 is not a TCP port" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "choose another --port" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--examples", "0"], "--examples must be at least 1, got 0"),
        (
            ["--app", "hubspot", "--action", "slack/list_channels"],
            "not in the apps chosen with --app",
        ),
        (["--action", "get_contacts"], "did you mean hubspot/get_contact"),
    ],
)
def test_test_command_checks_its_own_options(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["test", *argv]) == 2
    assert message in capsys.readouterr().err


def test_an_unknown_option_gets_the_commands_own_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["test", "--bogus"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: refold-contract test ")
    assert err.rstrip().endswith(
        "refold-contract test: error: unrecognized arguments: --bogus; pytest's own arguments "
        "go after --, e.g. refold-contract test -- -x"
    )
    with pytest.raises(SystemExit):
        main(["serve", "--bogus"])
    assert (
        "refold-contract serve: error: unrecognized arguments: --bogus" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("argv", "needs"),
    [
        (["gateway"], "the gateway needs {vars} in its own environment"),
        (["verify", "contract.json", "--live"], "verify --live needs {vars} in the environment"),
        (["actions", "hubspot"], "live commands need {vars} in the environment"),
    ],
)
def test_commands_that_hold_credentials_say_which_variables_are_missing(
    argv: list[str], needs: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REFOLD_API_KEY", "tk_cli_missing_account")
    assert main(argv) == 2
    variables = "REFOLD_API_KEY and REFOLD_LINKED_ACCOUNT_ID (or REFOLD_SESSION_TOKEN)"
    assert capsys.readouterr().err.splitlines() == [
        f"refold-contract: {needs.format(vars=variables)} (missing: REFOLD_LINKED_ACCOUNT_ID)",
        "  hint: credentials are never taken from the command line; export them first",
    ]
