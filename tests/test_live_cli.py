"""The live commands against a stand-in Refold on loopback, counting what reaches it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from refold_contract import Catalogue
from refold_contract.cli import main
from refold_contract.mock import RefoldMock
from refold_contract.mock.server import RunningServer, running_server

from .helpers import FAKE_KEY


@pytest.fixture
def refold(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    with running_server(RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)) as server:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", "acct_cli")
        monkeypatch.setenv("REFOLD_BASE_URL", server.url)
        yield server


def test_actions_and_schema_print_tables_or_json(
    refold: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["actions", "zendesk"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "action            name              access  in catalogue",
        "----------------  ----------------  ------  ------------",
        "get_ticket_by_id  Get Ticket By ID  read    yes",
    ]
    assert main(["actions", "slack"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert [(r[0], r[-2]) for r in rows] == [
        ("get_conversation_history", "read"),
        ("list_channels", "read"),
        ("list_thread_messages", "read"),
        ("post_message", "write"),
        ("search_messages", "read"),
    ]
    assert main(["schema", "zendesk", "get_ticket_by_id", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["name"] == "ticket_id"
    assert main(["actions", "zendesk", "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert (entry["action_id"], entry["access"], entry["in_catalogue"]) == (
        "get_ticket_by_id",
        "read",
        True,
    )


def test_pull_writes_catalogue_files_keeping_examples(
    refold: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mine"
    assert main(["pull", "gmail", "--fixtures", str(folder)]) == 0
    out = capsys.readouterr()
    # The stand-in serves the built-in catalogue: files written, and no drift table.
    assert out.out.splitlines() == [
        f"wrote {folder / 'gmail' / 'get_message.json'}",
        f"wrote {folder / 'gmail' / 'list_messages.json'}",
    ]
    assert out.err == "pulling gmail: 2/2\n"
    builtin = Catalogue.builtin().get("gmail", "get_message")
    document = json.loads((folder / "gmail" / "get_message.json").read_text())
    assert document["parameters"] == builtin.schema()
    assert (document["slug"], document["action_id"], document["name"]) == (
        "gmail", "get_message", builtin.name,
    )  # fmt: skip
    assert document["examples"] == []  # examples are never pulled, only kept
    document["examples"] = [
        {
            "params": {"userId": "me", "id": "1"},
            "response": {"node_status": "Success", "data": {}},
            "source": "mine",
        }
    ]
    (folder / "gmail" / "get_message.json").write_text(json.dumps(document))
    assert main(["pull", "gmail", "get_message", "--fixtures", str(folder)]) == 0
    capsys.readouterr()
    again = json.loads((folder / "gmail" / "get_message.json").read_text())
    assert again["examples"] == document["examples"]  # kept
    assert again["parameters"] == builtin.schema()
    loaded = Catalogue.load(folder).get("gmail", "get_message")
    assert [dict(e.params) for e in loaded.examples] == [{"userId": "me", "id": "1"}]
    # Listing only some actions does not report the others as removed.
    assert main(["pull", "gmail", "get_message", "--fixtures", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "written": [str(folder / "gmail" / "get_message.json")],
        "drift": [],
    }


def test_record_refuses_writes_before_sending(
    refold: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mine"
    code = main(
        [
            "record",
            "hubspot",
            "create_contact",
            "--params",
            '{"email": "a@example.com"}',
            "--fixtures",
            str(folder),
        ]
    )
    assert code == 2
    assert "refused to send hubspot/create_contact" in capsys.readouterr().err
    assert refold.mock.calls == []
    assert (
        main(
            [
                "record",
                "hubspot",
                "get_contact",
                "--params",
                '{"limit": "2"}',
                "--fixtures",
                str(folder),
            ]
        )
        == 0
    )
    (call,) = refold.mock.calls
    assert (call.action_id, call.params, call.linked_account_id) == (
        "get_contact",
        {"limit": "2"},
        "acct_cli",
    )
    stored = (folder / "hubspot" / "get_contact.json").read_text()
    assert FAKE_KEY not in stored
    assert "acct_cli" not in stored


def test_drift_replays_recorded_reads_and_exits_1_on_drift(
    refold: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mine"
    assert main(["record", "slack", "list_channels", "--fixtures", str(folder)]) == 0
    capsys.readouterr()
    assert main(["drift", "slack", "--fixtures", str(folder)]) == 0
    assert "no drift" in capsys.readouterr().out
    refold.mock.stub("slack", "list_channels", data={"ok": True, "channels": [], "brand_new": 1})
    assert main(["drift", "slack", "--fixtures", str(folder), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {
        "action": "slack/list_channels",
        "kind": "key_added",
        "path": "data.brand_new",
        "detail": "integer",
    } in report["drift"]


def test_live_commands_need_credentials_from_the_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # actions and schema answer offline without credentials; pull has no offline form.
    assert main(["pull", "hubspot", "--fixtures", str(tmp_path / "mine")]) == 2
    err = capsys.readouterr().err
    assert "REFOLD_API_KEY and REFOLD_LINKED_ACCOUNT_ID" in err
    assert "never taken from the command line" in err
    with pytest.raises(SystemExit) as info:
        main(["actions", "hubspot", "--api-key", FAKE_KEY])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        "refold-contract actions: error: unrecognized arguments: --api-key <redacted>"
    )
    assert FAKE_KEY not in err
    with pytest.raises(SystemExit):
        main(["actions", "hubspot", f"--session-token={FAKE_KEY}", "--verbose"])
    err = capsys.readouterr().err
    assert err.splitlines()[-1].endswith("--session-token=<redacted> --verbose")
    assert FAKE_KEY not in err


def test_write_commands_refuse_the_builtin_catalogue(
    refold: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pull", "slack", "--fixtures", str(Catalogue.builtin_path())]) == 2
    assert "refusing to write into the built-in catalogue" in capsys.readouterr().err


def test_pull_never_takes_an_actions_access_from_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hostile Refold that calls its writes reads: the pulled files do not say so, and the
    read rule over them still refuses the writes."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from refold_contract.access import access_of

    class Hostile(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.endswith("/actions"):
                body: object = [
                    {"action_id": a, "name": a, "access": "read", "is_read": True}
                    for a in ("create_contact", "frobnicate", "get_contactAndDelete")
                ]
            else:
                body = [{"name": "id", "label": "Id", "required": True, "type": "text",
                         "access": "read"}]  # fmt: skip
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", "acct_cli")
        monkeypatch.setenv("REFOLD_BASE_URL", f"http://127.0.0.1:{server.server_port}")
        assert main(["pull", "acme", "--fixtures", str(tmp_path)]) == 0
    finally:
        server.shutdown()
        server.server_close()
    capsys.readouterr()
    pulled = Catalogue.load(tmp_path, include_builtin=False)
    for action_id in ("create_contact", "frobnicate", "get_contactAndDelete"):
        document = json.loads((tmp_path / "acme" / f"{action_id}.json").read_text())
        assert "access" not in document
        assert access_of(pulled, "acme", action_id) == "write"


def test_the_gateway_command_takes_its_credentials_from_a_private_env_file(
    refold: RunningServer, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    import httpx

    credentials = tmp_path / "refold.env"
    credentials.write_text(
        f"REFOLD_API_KEY={FAKE_KEY}\nREFOLD_LINKED_ACCOUNT_ID=acct_cli\nREFOLD_BASE_URL={refold.url}\n"
    )
    credentials.chmod(0o600)
    # Nothing of Refold's in the command's environment: the stand-in accepts FAKE_KEY alone, so
    # a read it answers came with the key from the file.
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFOLD_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "refold_contract.cli", "gateway", "--env-file", str(credentials)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""
        read = httpx.post(
            url + "/api/v2/integration-schema/zendesk/actions/get_ticket_by_id/execute",
            json={"ticket_id": "1"}, headers={"x-api-key": "anything"}, timeout=10,
        )  # fmt: skip
        assert read.status_code == 200, read.text
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "1 read(s) forwarded, 0 request(s) refused" in err
    calls = [(c.action_id, c.status, c.linked_account_id) for c in refold.mock.calls]
    assert calls == [("get_ticket_by_id", 200, "acct_cli")]
    assert FAKE_KEY not in url + out + err


def test_actions_and_schema_work_offline_from_the_catalogue(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without credentials they answer from the catalogue (and say so); with --offline they do
    even when credentials are set, and send nothing (the base URL here answers nothing)."""
    from .helpers import action_doc, write_action

    for name in ("REFOLD_API_KEY", "REFOLD_SESSION_TOKEN", "REFOLD_LINKED_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REFOLD_BASE_URL", "http://127.0.0.1:9")  # the discard port: refused
    assert main(["actions", "zendesk"]) == 0
    out, err = capsys.readouterr()
    assert "offline (no REFOLD_API_KEY or REFOLD_SESSION_TOKEN set)" in err
    assert "get_ticket_by_id" in out
    assert "read" in out
    write_action(tmp_path / "mine", action_doc(slug="zendesk", action_id="get_macro"))
    monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
    monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", "user_1")
    assert main(["actions", "zendesk", "--offline", "--json", "--fixtures",
                 str(tmp_path / "mine")]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    assert "offline (--offline)" in err
    assert "+ your folders" in err
    assert {a["action_id"] for a in json.loads(out)} >= {"get_ticket_by_id", "get_macro"}
    assert main(["schema", "zendesk", "get_ticket_by_id", "--offline", "--json"]) == 0
    out, _ = capsys.readouterr()
    expected = Catalogue.builtin().get("zendesk", "get_ticket_by_id").parameters
    assert [p["name"] for p in json.loads(out)] == [p.name for p in expected]
    assert main(["schema", "zendeks", "get_ticket_by_id", "--offline"]) != 0
    _, err = capsys.readouterr()
    assert "did you mean zendesk?" in err
    assert FAKE_KEY not in out + err
