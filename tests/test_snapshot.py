"""Snapshots through pytester: create, pass, fail with a diff, update, unused, secrets, shapes."""

from __future__ import annotations

import datetime
import importlib.metadata
import json
from pathlib import Path

import httpx
import pytest

from refold_contract import Catalogue
from refold_contract.snapshot import (
    REDACTED,
    RefoldSnapshotExtension,
    Rule,
    SnapshotDataError,
    normalizer,
    shape,
)

from .helpers import FAKE_KEY, FAKE_TOKEN

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
SYRUPY_MAJOR = int(importlib.metadata.version("syrupy").split(".")[0])


@pytest.fixture(autouse=True)
def _ini(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini(INI)
    # When this suite itself runs under xdist, the inner runs must not think they are workers
    # (syrupy then leaves its report to a controller that does not exist).
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


def snapshot_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("__snapshots__/**/*") if p.is_file())


def all_written_text(root: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*") if p.is_file() and
                     p.suffix in (".json", ".ambr", ".py", ".ini", ".txt"))  # fmt: skip


REPLY_TEST = """
import pytest

def test_reply(refold_snapshot, refold_client):
    result = refold_client.execute("hubspot", "get_contact", {"limit": "1"})
    assert refold_snapshot == result
"""


def test_create_then_pass_then_fail_with_a_readable_diff_then_update(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_reply=REPLY_TEST)
    created = pytester.runpytest("--snapshot-update")
    created.assert_outcomes(passed=1)
    created.stdout.fnmatch_lines(["*1 snapshot generated*"])
    (path,) = snapshot_files(pytester.path)
    assert path.name == "test_reply.json"
    assert path.parent.name == "test_reply"
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert json.loads(text) == {
        "data": {
            "paging": {},
            "results": [
                {
                    "archived": False,
                    "createdAt": "<datetime>",
                    "id": "<id>",
                    "properties": {
                        "createdate": "<datetime>",
                        "email": "contact@example.com",
                        "firstname": "Brian",
                        "lastname": "Halligan (Sample Contact)",
                    },
                    "updatedAt": "<datetime>",
                }
            ],
        },
        "node_status": "Success",  # Refold's documented reply carries no http_status
    }
    assert text.index('"data"') < text.index('"node_status"')
    assert '\n  "data": {\n    "paging": {},' in text

    pytester.runpytest().assert_outcomes(passed=1)

    pytester.makepyfile(
        test_reply="""
def test_reply(refold_snapshot, refold_mock, refold_client):
    refold_mock.stub("hubspot", "get_contact", data={"results": [], "paging": {}})
    assert refold_snapshot == refold_client.execute("hubspot", "get_contact", {"limit": "1"})
"""
    )
    failed = pytester.runpytest()
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(
        ["*[- snapshot] == [+ received]*", '*-*"results": [', '*+*"results": []']
    )

    updated = pytester.runpytest("--snapshot-update")
    updated.assert_outcomes(passed=1)
    updated.stdout.fnmatch_lines(["*1 snapshot updated*"])
    assert json.loads(path.read_text())["data"]["results"] == []


def test_unused_snapshots_are_reported_and_removed_on_update(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_many="""
import pytest

@pytest.mark.parametrize("slug", ["hubspot", "slack"])
def test_lists(refold_snapshot, refold_client, slug):
    assert refold_snapshot == [a.action_id for a in refold_client.list_actions(slug)]
"""
    )
    pytester.runpytest("--snapshot-update").assert_outcomes(passed=2)
    assert [p.name for p in snapshot_files(pytester.path)] == [
        "test_lists[hubspot].json",
        "test_lists[slack].json",
    ]
    pytester.makepyfile(
        test_many="""
import pytest

@pytest.mark.parametrize("slug", ["hubspot"])
def test_lists(refold_snapshot, refold_client, slug):
    assert refold_snapshot == [a.action_id for a in refold_client.list_actions(slug)]
"""
    )
    unused = pytester.runpytest()
    unused.stdout.fnmatch_lines(["*1 snapshot unused*"])
    assert unused.ret == 1
    warned = pytester.runpytest("--snapshot-warn-unused")
    warned.stdout.fnmatch_lines(["*1 snapshot unused*"])
    assert warned.ret == 0
    if SYRUPY_MAJOR >= 7:  # syrupy 6 itself skips single-file snapshots when paths are given
        with_path = pytester.runpytest("test_many.py")  # a path given, as in `pytest tests/`
        with_path.stdout.fnmatch_lines(["*1 snapshot unused*"])
    pytester.runpytest("--snapshot-update").stdout.fnmatch_lines(["*1 unused snapshot deleted*"])
    assert [p.name for p in snapshot_files(pytester.path)] == ["test_lists[hubspot].json"]


def test_a_distinctive_fake_key_never_reaches_a_written_file_or_the_output(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
    monkeypatch.setenv("REFOLD_SESSION_TOKEN", FAKE_TOKEN)
    pytester.makepyfile(
        test_secret=f"""
import httpx

def test_echo(refold_snapshot):
    reply = {{
        "node_status": "Success",
        "data": {{
            "echo": "called with {FAKE_KEY} and Bearer {FAKE_TOKEN}",
            "access_token": "abc123",
            "client_secret": "shh",
            "headers": {{"Authorization": "Bearer {FAKE_TOKEN}", "x-api-key": "{FAKE_KEY}"}},
            "password": "hunter2",
            "nextPageToken": "page-2",
        }},
    }}
    assert refold_snapshot == reply
    assert refold_snapshot == httpx.Response(200, json=reply)
"""
    )
    result = pytester.runpytest("--snapshot-update", "-vv")
    result.assert_outcomes(passed=1)
    files = snapshot_files(pytester.path)
    assert len(files) == 2
    stored = json.loads(next(p for p in files if p.name == "test_echo.json").read_text())
    as_response = json.loads(next(p for p in files if p.name == "test_echo.1.json").read_text())
    assert as_response["json"]["data"]["password"] == REDACTED
    assert stored["data"]["access_token"] == REDACTED
    assert stored["data"]["client_secret"] == REDACTED
    assert stored["data"]["password"] == REDACTED
    assert stored["data"]["headers"] == {"Authorization": REDACTED, "x-api-key": REDACTED}
    assert stored["data"]["echo"] == f"called with {REDACTED} and Bearer {REDACTED}"
    assert stored["data"]["nextPageToken"] == "<cursor>"
    assert FAKE_KEY not in result.stdout.str() + result.stderr.str()
    # A failing comparison prints the received side serialised: redacted there too.
    pytester.makepyfile(
        test_secret="""
import os

def test_echo(refold_snapshot):
    assert refold_snapshot == {"echo": "now " + os.environ["REFOLD_API_KEY"] + " differs"}
"""
    )
    failing = pytester.runpytest("-vv")
    failing.assert_outcomes(failed=1)
    output = failing.stdout.str() + failing.stderr.str()
    assert f"now {REDACTED} differs" in output
    assert FAKE_KEY not in output
    assert FAKE_TOKEN not in output
    for path in snapshot_files(pytester.path):
        assert FAKE_KEY not in path.read_text()
        assert FAKE_TOKEN not in path.read_text()


def test_a_shape_snapshot_passes_against_replies_with_different_values(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_shape="""
from refold_contract.snapshot import shape

def test_shape(refold_snapshot, refold_client, refold_mock):
    first = refold_client.execute("hubspot", "search_contacts",
                                  {"propertyName": "email", "operator": "CONTAINS_TOKEN",
                                   "value": "*@example.com", "limit": "2"})
    assert refold_snapshot == shape(first.data)
"""
    )
    pytester.runpytest("--snapshot-update").assert_outcomes(passed=1)
    (path,) = snapshot_files(pytester.path)
    pytester.makepyfile(
        test_shape="""
from refold_contract.snapshot import shape

def test_shape(refold_snapshot, refold_client, refold_mock):
    refold_mock.stub("hubspot", "search_contacts", data={
        "total": 7,
        "results": [{"id": "999", "properties": {"email": "z@example.com", "firstname": "Zed",
                     "lastname": "Q", "createdate": "2020-01-01T00:00:00Z",
                     "lastmodifieddate": "2021-01-01T00:00:00Z", "hs_object_id": "999"},
                     "createdAt": "2020-01-01T00:00:00Z", "updatedAt": "2021-01-01T00:00:00Z",
                     "archived": True}],
        "paging": {"next": {"after": "10", "link": "https://api.hubapi.com/x?after=10"}}})
    other = refold_client.execute("hubspot", "search_contacts",
                                  {"propertyName": "email", "operator": "EQ", "value": "x"})
    assert refold_snapshot == shape(other.data)
"""
    )
    stored = path.read_text()
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert path.read_text() == stored  # the shape held: nothing rewritten
    assert json.loads(stored) == {
        "paging": {"next": {"after": "string", "link": "string"}},
        "results": [
            {
                "archived": "boolean",
                "createdAt": "string",
                "id": "string",
                "properties": {
                    "createdate": "string",
                    "email": "string",
                    "firstname": "string",
                    "hs_object_id": "string",
                    "lastmodifieddate": "string",
                    "lastname": "string",
                },
                "updatedAt": "string",
            }
        ],
        "total": "number",
    }


def test_runs_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_par="""
import pytest

@pytest.mark.parametrize("slug", ["hubspot", "slack", "gmail", "zendesk"])
def test_lists(refold_snapshot, refold_client, slug):
    assert refold_snapshot == [a.action_id for a in refold_client.list_actions(slug)]
"""
    )
    created = pytester.runpytest_subprocess("-n", "2", "--snapshot-update")
    created.assert_outcomes(passed=4)
    files = snapshot_files(pytester.path)
    assert [p.name for p in files] == [
        f"test_lists[{slug}].json" for slug in ("gmail", "hubspot", "slack", "zendesk")
    ]
    builtin = Catalogue.builtin()
    for path in files:
        slug = path.name[len("test_lists[") : -len("].json")]
        assert json.loads(path.read_text()) == [a.action_id for a in builtin.actions(slug)]
    before = {p: p.read_text() for p in files}
    checked = pytester.runpytest_subprocess("-n", "2")
    checked.assert_outcomes(passed=4)
    assert {p: p.read_text() for p in snapshot_files(pytester.path)} == before


def test_normalisation_can_be_turned_off_in_the_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "refold_snapshot_normalize = false\n")
    pytester.makepyfile(test_reply=REPLY_TEST)
    pytester.runpytest("--snapshot-update").assert_outcomes(passed=1)
    (path,) = snapshot_files(pytester.path)
    assert json.loads(path.read_text())["data"]["results"][0]["id"] == "51"


def test_non_json_data_is_an_error_naming_its_path() -> None:
    ext = RefoldSnapshotExtension()
    with pytest.raises(
        SnapshotDataError, match=r"\$\.data\.results\[0\]\.when: datetime is not JSON"
    ):
        ext.serialize({"data": {"results": [{"when": datetime.datetime(2024, 1, 1)}]}})
    with pytest.raises(SnapshotDataError, match=r"\$\.data: key 1 is int"):
        ext.serialize({"data": {1: "x"}})


def test_built_in_normalisation_rules() -> None:
    ext = RefoldSnapshotExtension()
    text = ext.serialize(
        {
            "request_id": "6f1c1e9e-2a4b-4c8e-9d7a-0c3f5e2b1a90",
            "trace": "6f1c1e9e-2a4b-4c8e-9d7a-0c3f5e2b1a90",
            "Id": "0015g00000XyZabAAB",
            "OwnerId": "0055g00000AbCdeAAF",
            "hs_object_id": 51,
            "count": 3,
            "flag_id": True,
            "paging": {"next": {"after": "2", "link": "https://x"}},
            "response_metadata": {"next_cursor": "dGVhbTpDMDYx"},
            "when": "2024-05-15T18:35:12.877Z",
            "day": "2024-05-15",
            "name": "Brian",
        }
    )
    assert json.loads(text) == {
        "request_id": "<request_id>",
        "trace": "<uuid>",
        "Id": "<id>",
        "OwnerId": "<id>",
        "hs_object_id": "<id>",
        "count": 3,
        "flag_id": True,
        "paging": {"next": {"after": "<cursor>", "link": "https://x"}},
        "response_metadata": {"next_cursor": "<cursor>"},
        "when": "<datetime>",
        "day": "2024-05-15",
        "name": "Brian",
    }


def test_user_rules_by_path_and_key() -> None:
    class Mine(RefoldSnapshotExtension):
        rules = (
            Rule(key=r"e?mail", replace="<email>"),
            Rule(path="data.results.*.properties.firstname", replace="<name>"),
        )

    text = Mine().serialize(
        {"data": {"results": [{"properties": {"email": "a@example.com", "firstname": "Ada"}}]}}
    )
    assert json.loads(text) == {
        "data": {"results": [{"properties": {"email": "<email>", "firstname": "<name>"}}]}
    }
    with pytest.raises(ValueError, match="exactly one of path= or key="):
        Rule(replace="x")


def test_the_normaliser_is_a_syrupy_matcher_that_composes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_matcher="""
from syrupy.matchers import compose_matchers, path_type
from refold_contract.snapshot import Rule, normalizer

def test_plain_amber_with_our_matcher(snapshot):
    matcher = compose_matchers(normalizer([Rule(key="email", replace="<email>")]),
                               path_type({"count": (int,)}))
    assert snapshot(matcher=matcher) == {"id": "51", "email": "a@example.com", "count": 3}
"""
    )
    pytester.runpytest("--snapshot-update").assert_outcomes(passed=1)
    (ambr,) = pytester.path.rglob("*.ambr")
    body = ambr.read_text().split("# name: test_plain_amber_with_our_matcher\n")[1]
    assert body == (
        "  dict({\n    'count': int,\n    'email': '<email>',\n    'id': '<id>',\n  })\n# ---\n"
    )
    pytester.runpytest().assert_outcomes(passed=1)  # other ids and counts still match


def test_the_normaliser_alone_replaces_scalars_and_keeps_containers() -> None:
    match = normalizer([Rule(key="email", replace="<email>")])
    assert match(data="a@example.com", path=(("email", str),)) == "<email>"
    assert match(data="51", path=(("id", str),)) == "<id>"
    assert match(data="2024-05-15T18:35:12Z", path=(("when", str),)) == "<datetime>"
    assert match(data="Brian", path=(("name", str),)) == "Brian"
    assert match(data={"id": "1"}, path=(("x", dict),)) == {"id": "1"}
    assert match(data=["1"], path=()) == ["1"]
    plain = normalizer(defaults=False)
    assert plain(data="51", path=(("id", str),)) == "51"


def test_shape_renders_keys_and_types_only() -> None:
    assert shape(
        {"results": [{"id": "1", "n": 2}, {"id": "2", "n": 2.5, "x": None}], "ok": True}
    ) == {
        "ok": "boolean",
        "results": [{"id": "string", "n": "number", "x?": "null"}],
    }
    assert shape(httpx.Response(200, json=[1, "a"])) == {
        "json": ["number|string"],
        "status_code": "number",
    }
    assert shape({"v": [1, {"a": 1}]}) == {"v": [{"anyOf": ["number", {"a": "number"}]}]}
    stored = json.loads(
        RefoldSnapshotExtension().serialize(shape({"id": "51", "when": "2024-01-01T00:00:00Z"}))
    )
    assert stored == {"id": "string", "when": "string"}  # type names are not normalised


def test_the_configured_linked_account_becomes_a_placeholder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", "acct_customer_81")
    text = RefoldSnapshotExtension().serialize(
        {"owner": "acct_customer_81", "note": "for acct_customer_81"}
    )
    assert json.loads(text) == {"owner": "<linked_account_id>", "note": "for <linked_account_id>"}


MANY = """
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_snap(snap, i):
    assert snap == {{"i": i}}
"""
SNAP_FIXTURES = {
    # syrupy's default extension: no Amber assertion beside ours
    "default": (
        "@pytest.fixture\ndef snap(snapshot):\n    return snapshot\n",
        ["--snapshot-default-extension", "refold_contract.snapshot.RefoldSnapshotExtension"],
    ),
    "snapshot_assertion": (
        "from refold_contract.snapshot import snapshot_assertion\n\n"
        "@pytest.fixture\ndef snap(request):\n    return snapshot_assertion(request)\n",
        [],
    ),
}


@pytest.mark.parametrize("how", list(SNAP_FIXTURES))
@pytest.mark.parametrize("update", [True, False], ids=["update", "verify"])
def test_the_unused_report_does_not_match_every_snapshot_file_against_every_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, update: bool, how: str
) -> None:
    # One file per snapshot: syrupy's report asks, for each file it is offered, which test that
    # ran claims it, one test at a time. Files an assertion named in this session are used, so
    # the extension leaves them out of discovery, and none of them is matched at all.
    from syrupy.location import PyTestLocation

    fixture, options = SNAP_FIXTURES[how]
    pytester.makepyfile(test_many=MANY.format(n=30) + "\n" + fixture)
    if not update:
        pytester.runpytest(*options, "--snapshot-update").assert_outcomes(passed=30)
    calls = []
    original = PyTestLocation.matches_snapshot_location

    def counted(self: PyTestLocation, snapshot_location: str) -> bool:
        calls.append(snapshot_location)
        return original(self, snapshot_location)

    monkeypatch.setattr(PyTestLocation, "matches_snapshot_location", counted)
    args = [*options, "test_many.py"] + (["--snapshot-update"] if update else [])
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=30)
    result.stdout.fnmatch_lines(["*30 snapshots generated*" if update else "*30 snapshots passed*"])
    assert len(snapshot_files(pytester.path)) == 30
    assert len(calls) <= 30  # was 465 (30 x 31 / 2) on --snapshot-update


def test_snapshot_assertion_names_the_fix_when_syrupy_is_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_off="""
import pytest
from refold_contract.snapshot import snapshot_assertion

@pytest.fixture
def snap(request):
    return snapshot_assertion(request)

def test_it(snap):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:syrupy")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*syrupy's pytest plugin is not active*", "*hint: remove -p no:syrupy*"]
    )


def test_a_new_run_writes_new_snapshots_and_deletes_the_one_left_behind(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_many="""
import pytest

@pytest.mark.parametrize("slug", ["hubspot", "slack"])
def test_lists(refold_snapshot, refold_client, slug):
    assert refold_snapshot == [a.action_id for a in refold_client.list_actions(slug)]
"""
    )
    pytester.runpytest("--snapshot-update").assert_outcomes(passed=2)
    pytester.makepyfile(
        test_many="""
import pytest

@pytest.mark.parametrize("slug", ["hubspot", "gmail"])
def test_lists(refold_snapshot, refold_client, slug):
    assert refold_snapshot == [a.action_id for a in refold_client.list_actions(slug)]
"""
    )
    # syrupy 6 leaves single-file snapshots alone when a path is given; 7 cleans them up.
    args = ["test_many.py"] if SYRUPY_MAJOR >= 7 else []
    unused = pytester.runpytest(*args)
    unused.stdout.fnmatch_lines(["*1 snapshot failed*1 snapshot unused*"])
    updated = pytester.runpytest("--snapshot-update", *args)
    updated.assert_outcomes(passed=2)
    updated.stdout.fnmatch_lines(
        ["*1 snapshot passed*1 snapshot generated*1 unused snapshot deleted*"]
    )
    assert [p.name for p in snapshot_files(pytester.path)] == [
        "test_lists[gmail].json",
        "test_lists[hubspot].json",
    ]
    pytester.runpytest(*args).assert_outcomes(passed=2)


def test_two_extensions_in_one_test_keep_their_own_files(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_two="""
from refold_contract.snapshot import RefoldSnapshotExtension

class Elsewhere(RefoldSnapshotExtension):
    file_extension = "elsewhere.json"

def test_both(refold_snapshot, snapshot):
    assert refold_snapshot == {"where": "default"}
    assert snapshot.use_extension(Elsewhere) == {"where": "elsewhere"}
"""
    )
    pytester.runpytest("--snapshot-update").assert_outcomes(passed=1)
    default = json.loads((pytester.path / "__snapshots__/test_two/test_both.json").read_text())
    other = json.loads(
        (pytester.path / "__snapshots__/test_two/test_both.elsewhere.json").read_text()
    )
    assert (default, other) == ({"where": "default"}, {"where": "elsewhere"})
    pytester.runpytest("test_two.py").assert_outcomes(passed=1)
