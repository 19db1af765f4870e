from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from refold_contract import Catalogue
from refold_contract.cli import main

from .helpers import FAKE_KEY, action_doc, write_action


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
    monkeypatch.setitem(sys.modules, "granian", None)  # else serve runs on granian
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "pip install '/path/to/refold-contract[server]') or pip install uvicorn" in err
    assert "or granian with the fast extra ([fast])" in err
    assert main(["serve", "--server", "uvicorn"]) == 2
    assert "or pip install uvicorn\n" in capsys.readouterr().err  # uvicorn asked for by name


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


EXPORT_THEM = "credentials are never taken from the command line; export them first"
ENV_FILE_HINT = (
    "put them in a file only you can read (chmod 600) and pass --env-file PATH, or set them for "
    "this one command: env REFOLD_API_KEY=... refold-contract gateway"
)


@pytest.mark.parametrize(
    ("argv", "needs", "hint"),
    [
        (["gateway"], "the gateway needs {vars} in its own environment or its --env-file",
         ENV_FILE_HINT),
        (["verify", "contract.json", "--live"], "verify --live needs {vars} in the environment",
         EXPORT_THEM),
        (["actions", "hubspot"], "live commands need {vars} in the environment", EXPORT_THEM),
    ],
)  # fmt: skip
def test_commands_that_hold_credentials_say_which_variables_are_missing(
    argv: list[str],
    needs: str,
    hint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REFOLD_API_KEY", "tk_cli_missing_account")
    assert main(argv) == 2
    variables = "REFOLD_API_KEY and REFOLD_LINKED_ACCOUNT_ID (or REFOLD_SESSION_TOKEN)"
    assert capsys.readouterr().err.splitlines() == [
        f"refold-contract: {needs.format(vars=variables)} (missing: REFOLD_LINKED_ACCOUNT_ID)",
        f"  hint: {hint}",
    ]


# ---------------------------------------------------------------------- the gateway's env file


def env_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "refold.env"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_an_env_file_gives_the_gateway_its_credentials_and_nothing_else(tmp_path: Path) -> None:
    from refold_contract.cli.context import read_env_file

    path = env_file(
        tmp_path,
        f"# the gateway's credentials\n\nexport REFOLD_API_KEY={FAKE_KEY}\n"
        "REFOLD_LINKED_ACCOUNT_ID = 'acct_1'\n"
        'REFOLD_BASE_URL="http://127.0.0.1:8700"\n',
        0o400,
    )
    assert read_env_file(path) == {
        "REFOLD_API_KEY": FAKE_KEY,
        "REFOLD_LINKED_ACCOUNT_ID": "acct_1",
        "REFOLD_BASE_URL": "http://127.0.0.1:8700",
    }


@pytest.mark.parametrize(
    ("text", "mode", "says"),
    [
        (f"REFOLD_API_KEY={FAKE_KEY}\n", 0o644,
         "--env-file {path}: others may read or change it (mode 0644); it holds credentials"),
        (f"REFOLD_API_KEY={FAKE_KEY}\n", 0o620, "(mode 0620)"),
        (f"{FAKE_KEY}\n", 0o600, "--env-file {path}: line 1 is not NAME=value"),
        (f"# ok\nREFOLD_TIMEOUT=5\nREFOLD_API_KEY={FAKE_KEY}\n", 0o600,
         "--env-file {path}: line 2 sets REFOLD_TIMEOUT, a variable the gateway does not take "
         "from a file"),
        (f"{FAKE_KEY}=1\n", 0o600, "line 1 sets a variable the gateway does not take"),
        (f"REFOLD_API_KEY={FAKE_KEY}\nREFOLD_API_KEY={FAKE_KEY}x\n", 0o600,
         "line 2 sets REFOLD_API_KEY again (first on line 1)"),
        ("REFOLD_API_KEY=\n", 0o600, "line 1 gives REFOLD_API_KEY no value"),
        (b"REFOLD_API_KEY=\xff\xfe" + FAKE_KEY.encode(), 0o600, "--env-file {path}: not UTF-8"),
    ],
    ids=["readable by others", "writable by the group", "a bare value", "another setting",
         "a value as a name", "set twice", "empty", "not UTF-8"],
)  # fmt: skip
def test_an_env_file_that_is_not_private_or_not_plain_is_refused_without_its_values(
    tmp_path: Path, text: str | bytes, mode: int, says: str
) -> None:
    from refold_contract.cli.context import read_env_file
    from refold_contract.errors import ConfigurationError

    path = tmp_path / "refold.env"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    path.chmod(mode)
    with pytest.raises(ConfigurationError) as refused:
        read_env_file(path)
    shown = str(refused.value) + repr(refused.value) + (refused.value.hint or "")
    assert says.format(path=path) in shown
    assert FAKE_KEY not in shown
    assert "s3cr3t" not in shown


def test_an_env_file_that_is_missing_a_folder_or_someone_elses_is_refused(tmp_path: Path) -> None:
    import os

    from refold_contract.cli.context import read_env_file
    from refold_contract.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="no such file") as missing:
        read_env_file(tmp_path / "nowhere.env")
    assert "chmod 600" in (missing.value.hint or "")
    with pytest.raises(ConfigurationError, match="not a regular file"):
        read_env_file(tmp_path)
    if os.geteuid() != 0:
        return  # only root can give a file away
    path = env_file(tmp_path, f"REFOLD_API_KEY={FAKE_KEY}\n")
    os.chown(path, 65534, -1)
    with pytest.raises(ConfigurationError, match="owned by another user") as theirs:
        read_env_file(path)
    assert FAKE_KEY not in str(theirs.value)
    assert "make your own copy" in (theirs.value.hint or "")


def test_the_gateway_command_says_what_is_wrong_with_its_env_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = env_file(tmp_path, f"REFOLD_API_KEY={FAKE_KEY}\n", 0o644)
    assert main(["gateway", "--env-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"refold-contract: --env-file {path}: others may read or change it (mode 0644); it "
        "holds credentials",
        f"  hint: chmod 600 {path}",
    ]
    path.chmod(0o600)  # private now, but the linked account is missing
    assert main(["gateway", "--env-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "(missing: REFOLD_LINKED_ACCOUNT_ID)" in err
    assert FAKE_KEY not in err
