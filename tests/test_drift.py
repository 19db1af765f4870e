"""Drift, kind by kind: each of the nine kinds on the functions that find it, and end to end
through the ``drift`` and ``pull`` commands and a live pytest session against a stand-in Refold
whose catalogue has moved on from the user's.

The user's catalogue (``mine``) and the stand-in's (``refold_now``) differ in one known way per
kind, so every test below can list exactly what must be reported.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refold_contract.catalogue import Catalogue, load_action
from refold_contract.cli import main
from refold_contract.live import Drift, listing_drift, reply_drift, schema_drift
from refold_contract.mock import RefoldMock
from refold_contract.mock.server import RunningServer, running_server

from .helpers import FAKE_KEY, action_doc, write_action

ACCOUNT = "acct_DRIFT_77"
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

TEXT = "text"


def param(name: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "label": name.title(), "required": required, "type": TEXT}


def example(params: dict[str, Any], data: Any, *, source: str = "recorded",
            status: str = "Success") -> dict[str, Any]:  # fmt: skip
    return {"params": params, "response": {"node_status": status, "data": data}, "source": source}


RECORDED_THING = {"id": "1", "name": "A", "n": 1, "tags": [{"k": "v"}]}


def user_catalogue(folder: Path) -> Path:
    """What the user recorded: get_thing (id, limit, offset), get_status, list_old."""
    write_action(folder, action_doc(
        slug="acme", action_id="get_thing",
        parameters=[param("id", True), param("limit"), param("offset")],
        examples=[example({"id": "1", "limit": "5"}, RECORDED_THING)],
    ))  # fmt: skip
    write_action(folder, action_doc(
        slug="acme", action_id="get_status", parameters=[],
        examples=[example({}, {"ok": True})],
    ))  # fmt: skip
    write_action(folder, action_doc(
        slug="acme", action_id="list_old", parameters=[], examples=[],
    ))  # fmt: skip
    return folder


def refold_now_catalogue(folder: Path) -> Path:
    """What Refold serves today: limit is required, offset gone, q new; list_old gone,
    list_new new."""
    write_action(folder, action_doc(
        slug="acme", action_id="get_thing",
        parameters=[param("id", True), param("limit", True), param("q")],
        examples=[example({"id": "1", "limit": "5"}, RECORDED_THING)],
    ))  # fmt: skip
    write_action(folder, action_doc(
        slug="acme", action_id="get_status", parameters=[],
        examples=[example({}, {"ok": True})],
    ))  # fmt: skip
    write_action(folder, action_doc(
        slug="acme", action_id="list_new", parameters=[], examples=[],
    ))  # fmt: skip
    return folder


#: The reply Refold sends for get_thing today: id became a number, name went, extra came, and in
#: the array a key changed type and one was added. n went from 1 to 2.5: both numbers, no drift.
THING_NOW = {"id": 7, "n": 2.5, "extra": True, "tags": [{"k": 1, "z": None}]}

REPLY_DRIFT = {
    ("acme/get_thing", "key_added", "data.extra", "boolean"),
    ("acme/get_thing", "key_removed", "data.name", "always present in the recorded examples"),
    ("acme/get_thing", "type_changed", "data.id", "string -> now also number"),
    ("acme/get_thing", "key_added", "data.tags[].z", "null"),
    ("acme/get_thing", "type_changed", "data.tags[].k", "string -> now also number"),
    ("acme/get_status", "node_status", "node_status", "'Errored', recorded 'Success'"),
}
LISTING_DRIFT = {
    ("acme/list_new", "action_added", "list_actions", "listed by Refold, not in the catalogue"),
    ("acme/list_old", "action_removed", "list_actions",
     "in the catalogue, no longer listed by Refold"),
}  # fmt: skip
SCHEMA_DRIFT = {
    ("acme/get_thing", "parameter_added", "q", "optional"),
    ("acme/get_thing", "parameter_removed", "offset", ""),
    ("acme/get_thing", "parameter_now_required", "limit", "was optional"),
}
EVERY_KIND = {
    "key_added", "key_removed", "type_changed", "node_status", "action_added", "action_removed",
    "parameter_added", "parameter_removed", "parameter_now_required",
}  # fmt: skip


def as_rows(drift: list[Any]) -> set[tuple[str, str, str, str]]:
    """Drift objects or their JSON, as comparable rows."""
    rows = set()
    for d in drift:
        j = d.to_json() if isinstance(d, Drift) else d
        rows.add((j["action"], j["kind"], j["path"], j["detail"]))
    return rows


def test_the_expected_drift_covers_every_kind_the_drift_class_names() -> None:
    documented = Drift.__doc__ or ""
    named = {k for k in EVERY_KIND if f"``{k}``" in documented}
    assert named == EVERY_KIND
    assert {r[1] for r in REPLY_DRIFT | LISTING_DRIFT | SCHEMA_DRIFT} == EVERY_KIND


# ---------------------------------------------------------------------- units: reply_drift


@pytest.fixture
def recorded(tmp_path: Path) -> Catalogue:
    return Catalogue.load(user_catalogue(tmp_path / "mine"))


def test_reply_drift_reports_keys_added_and_removed_and_types_changed_at_every_depth(
    recorded: Catalogue,
) -> None:
    thing = recorded.get("acme", "get_thing")
    found = reply_drift(thing, {"node_status": "Success", "data": THING_NOW})
    assert found == [
        Drift("acme/get_thing", "key_added", "data.extra", "boolean"),
        Drift("acme/get_thing", "key_removed", "data.name",
              "always present in the recorded examples"),
        Drift("acme/get_thing", "type_changed", "data.id", "string -> now also number"),
        Drift("acme/get_thing", "key_added", "data.tags[].z", "null"),
        Drift("acme/get_thing", "type_changed", "data.tags[].k", "string -> now also number"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({**RECORDED_THING, "new": "x"}, [("key_added", "data.new", "string")]),
        ({**RECORDED_THING, "new": 3}, [("key_added", "data.new", "integer")]),
        ({k: v for k, v in RECORDED_THING.items() if k != "n"},
         [("key_removed", "data.n", "always present in the recorded examples")]),
        ({**RECORDED_THING, "name": None}, [("type_changed", "data.name", "string -> now also null")]),
        ({**RECORDED_THING, "tags": "none"}, [("type_changed", "data.tags", "array -> now also string")]),
        ({**RECORDED_THING, "tags": [{"k": "v", "w": 1}]}, [("key_added", "data.tags[].w", "integer")]),
        ({**RECORDED_THING, "tags": [{}]},
         [("key_removed", "data.tags[].k", "always present in the recorded examples")]),
        ("a string", [("type_changed", "data", "object -> now also string")]),
    ],
    ids=["key added", "integer key added", "key removed", "now null", "array now string",
         "key added in an array", "key removed in an array", "data no longer an object"],
)  # fmt: skip
def test_reply_drift_reports_each_single_change_once(
    recorded: Catalogue, data: Any, expected: list[tuple[str, str, str]]
) -> None:
    thing = recorded.get("acme", "get_thing")
    found = reply_drift(thing, {"node_status": "Success", "data": data})
    assert [(d.kind, d.path, d.detail) for d in found] == expected
    assert {d.action for d in found} == {"acme/get_thing"}


@pytest.mark.parametrize(
    "data",
    [
        RECORDED_THING,
        {**RECORDED_THING, "n": 2.5},  # integer and number are both numbers
        {**RECORDED_THING, "tags": []},  # an empty array says nothing about its items
        {**RECORDED_THING, "id": "2", "name": "B"},  # new values, same shape
    ],
    ids=["same", "float for int", "empty array", "other values"],
)
def test_reply_drift_finds_nothing_in_a_reply_of_the_recorded_shape(
    recorded: Catalogue, data: Any
) -> None:
    thing = recorded.get("acme", "get_thing")
    assert reply_drift(thing, {"node_status": "Success", "data": data}) == []


def test_a_key_missing_from_some_recorded_examples_may_go_without_drift(tmp_path: Path) -> None:
    path = write_action(tmp_path, action_doc(slug="acme", action_id="get_thing", examples=[
        example({"id": "1"}, {"id": "1", "sometimes": 1}),
        example({"id": "2"}, {"id": "2"}),
    ]))  # fmt: skip
    thing = load_action(path)
    assert reply_drift(thing, {"node_status": "Success", "data": {"id": "3"}}) == []
    assert [d.path for d in reply_drift(thing, {"node_status": "Success", "data": {}})] == [
        "data.id"
    ]


def test_reply_drift_reports_a_new_node_status_and_leaves_the_data_of_a_failure_alone(
    recorded: Catalogue,
) -> None:
    status = recorded.get("acme", "get_status")
    found = reply_drift(status, {"node_status": "Errored", "data": {"totally": "different"}})
    assert found == [
        Drift("acme/get_status", "node_status", "node_status", "'Errored', recorded 'Success'")
    ]
    missing = reply_drift(status, {"data": {"ok": True}})
    assert [(d.kind, d.detail) for d in missing] == [("node_status", "None, recorded 'Success'")]


def test_a_node_status_seen_in_any_recorded_example_is_not_drift(tmp_path: Path) -> None:
    path = write_action(tmp_path, action_doc(slug="acme", action_id="get_thing", examples=[
        example({"id": "1"}, {"id": "1"}),
        example({"id": "2"}, {"message": "nope"}, status="Errored"),
    ]))  # fmt: skip
    thing = load_action(path)
    assert reply_drift(thing, {"node_status": "Errored", "data": {"x": 1}}) == []
    found = reply_drift(thing, {"node_status": "Pending", "data": {}})
    assert [(d.kind, d.detail) for d in found] == [
        ("node_status", "'Pending', recorded 'Errored', 'Success'")
    ]


def test_an_action_without_examples_has_no_status_or_shape_to_drift_from(tmp_path: Path) -> None:
    thing = load_action(write_action(tmp_path, action_doc(slug="acme", examples=[])))
    assert reply_drift(thing, {"node_status": "Errored", "data": {"x": 1}}) == []
    assert reply_drift(thing, {"node_status": "Success", "data": {"x": 1}}) == []


def test_a_reply_that_is_not_an_object_is_one_type_change_at_the_root(
    recorded: Catalogue,
) -> None:
    thing = recorded.get("acme", "get_thing")
    assert reply_drift(thing, [1, 2]) == [
        Drift("acme/get_thing", "type_changed", "$", "reply is array")
    ]
    assert reply_drift(thing, None)[0].detail == "reply is null"


# ---------------------------------------------------------------------- units: lists and schemas


def test_listing_drift_reports_actions_added_and_removed_and_nothing_else(
    recorded: Catalogue,
) -> None:
    listing = [{"action_id": "get_thing"}, {"action_id": "get_status"}, {"action_id": "list_new"}]
    assert listing_drift(recorded, "acme", listing) == [
        Drift("acme/list_new", "action_added", "list_actions",
              "listed by Refold, not in the catalogue"),
        Drift("acme/list_old", "action_removed", "list_actions",
              "in the catalogue, no longer listed by Refold"),
    ]  # fmt: skip
    same = [{"action_id": a} for a in ("get_thing", "get_status", "list_old")]
    assert listing_drift(recorded, "acme", same) == []
    assert [d.action for d in listing_drift(recorded, "acme", [])] == [
        "acme/get_status", "acme/get_thing", "acme/list_old",
    ]  # fmt: skip
    assert all(d.kind == "action_removed" for d in listing_drift(recorded, "acme", []))


def test_listing_drift_compares_one_app_only(tmp_path: Path) -> None:
    both = Catalogue.load(user_catalogue(tmp_path / "mine"), include_builtin=True)
    listing = [{"action_id": a.action_id} for a in both.actions("acme")]
    assert listing_drift(both, "acme", listing) == []
    slack = [{"action_id": a.action_id} for a in both.actions("slack")]
    assert listing_drift(both, "slack", slack) == []


def test_schema_drift_reports_parameters_added_removed_and_newly_required(
    recorded: Catalogue,
) -> None:
    thing = recorded.get("acme", "get_thing")
    live = [
        {"name": "id", "required": True, "type": "text"},
        {"name": "limit", "required": True, "type": "text"},
        {"name": "q", "required": False, "type": "text"},
        {"name": "must", "required": True, "type": "text"},
    ]
    assert schema_drift(thing, live) == [
        Drift("acme/get_thing", "parameter_added", "must", "required"),
        Drift("acme/get_thing", "parameter_added", "q", "optional"),
        Drift("acme/get_thing", "parameter_removed", "offset", ""),
        Drift("acme/get_thing", "parameter_now_required", "limit", "was optional"),
    ]
    assert schema_drift(thing, [p.to_schema() for p in thing.parameters]) == []


def test_a_parameter_no_longer_required_is_not_drift(recorded: Catalogue) -> None:
    thing = recorded.get("acme", "get_thing")
    relaxed = [{**p.to_schema(), "required": False} for p in thing.parameters]
    assert schema_drift(thing, relaxed) == []


# ---------------------------------------------------------------------- end to end


class Timed(RefoldMock):
    """The stand-in: notes when each execute arrives and how long its reply is held back."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.executes: list[tuple[float, float]] = []

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> Any:
        arrived = time.monotonic()
        answer = super().answer(method, path, headers, body)
        if path.endswith("/execute"):
            self.executes.append((arrived, arrived + answer.delay))
        return answer

    def most_in_flight(self) -> int:
        """The largest number of executes whose (arrival, reply) intervals overlap."""
        edges = sorted([(s, 1) for s, _ in self.executes] + [(e, -1) for _, e in self.executes])
        # At equal times a reply leaves before the next request arrives.
        edges.sort(key=lambda t: (t[0], t[1]))
        now = peak = 0
        for _, step in edges:
            now += step
            peak = max(peak, now)
        return peak


def standin(catalogue: Catalogue) -> Timed:
    return Timed(catalogue, api_keys={FAKE_KEY}, linked_accounts={ACCOUNT}, assert_all_called=False)


@pytest.fixture
def moved_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """A stand-in Refold serving the catalogue of today, with get_thing's reply changed and
    get_status failing; the environment points the live commands at it."""
    mock = standin(Catalogue.load(refold_now_catalogue(tmp_path / "refold_now")))
    mock.stub("acme", "get_thing", data=THING_NOW)
    mock.app_error("acme", "get_status", 500, {"message": "down"})
    with running_server(mock) as server:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("REFOLD_BASE_URL", server.url)
        yield server


def test_the_drift_command_reports_reply_and_listing_drift_and_exits_1(
    moved_on: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = user_catalogue(tmp_path / "mine")
    assert main(["drift", "acme", "--fixtures", str(mine), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["replayed"] == 2
    assert as_rows(report["drift"]) == REPLY_DRIFT | LISTING_DRIFT
    assert len(report["drift"]) == len(REPLY_DRIFT | LISTING_DRIFT)  # each reported once
    assert main(["drift", "acme", "--fixtures", str(mine)]) == 1
    table = capsys.readouterr().out
    assert table.splitlines()[0] == "replayed 2 recorded read(s) across 1 app(s)"
    for action, kind, path, _ in REPLY_DRIFT | LISTING_DRIFT:
        assert any(line.split()[:3] == [action, kind, path] for line in table.splitlines()), (
            action,
            kind,
            path,
            table,
        )
    assert "no drift" not in table
    assert FAKE_KEY not in table
    assert ACCOUNT not in table


def test_drift_holds_no_control_character_a_server_sent(recorded: Catalogue) -> None:
    thing = recorded.get("acme", "get_thing")
    hostile = {"node_status": "Success", "data": {**RECORDED_THING, "x\x1b[2J\nno drift": 1}}
    (found,) = reply_drift(thing, hostile)
    assert found.path == "data.x\\x1b[2J\\nno drift"
    (listed, *_) = listing_drift(recorded, "acme", [{"action_id": "list\x85\r"}])
    assert listed.action == "acme/list\\x85\\r"


def test_the_drift_command_prints_a_hostile_reply_key_as_escapes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = user_catalogue(tmp_path / "mine")
    mock = standin(Catalogue.load(mine))
    mock.stub("acme", "get_thing", data={**RECORDED_THING, "\x1b]0;owned\x07\nno drift": 1})
    with running_server(mock) as server:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("REFOLD_BASE_URL", server.url)
        assert main(["drift", "acme", "--fixtures", str(mine)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "data.\\x1b]0;owned\\x07\\nno drift" in out
    assert not any(line.startswith("no drift") for line in out.splitlines())


def test_pull_reports_listing_and_schema_drift_from_the_catalogue(
    moved_on: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = user_catalogue(tmp_path / "mine")
    assert main(["pull", "acme", "--fixtures", str(mine), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert as_rows(report["drift"]) == LISTING_DRIFT | SCHEMA_DRIFT
    assert sorted(Path(p).name for p in report["written"]) == [
        "get_status.json", "get_thing.json", "list_new.json",
    ]  # fmt: skip
    pulled = json.loads((mine / "acme" / "get_thing.json").read_text())
    assert [(p["name"], p["required"]) for p in pulled["parameters"]] == [
        ("id", True), ("limit", True), ("q", False),
    ]  # fmt: skip
    assert pulled["examples"][0]["response"]["data"] == RECORDED_THING  # examples are kept
    # Pulled again, the catalogue is today's: no schema drift left; list_old is still on disk.
    user_catalogue(tmp_path / "again")
    assert main(["pull", "acme", "get_thing", "--fixtures", str(tmp_path / "again")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"wrote {tmp_path / 'again' / 'acme' / 'get_thing.json'}"
    assert "drift from the catalogue:" in out
    rows = [line.split(None, 3) for line in out[out.index("drift from the catalogue:") + 1 :]]
    found = {tuple(r[:3]) for r in rows if r and r[0].startswith("acme/")}
    assert found == {(a, k, p) for a, k, p, _ in SCHEMA_DRIFT}  # one action: no listing drift


def test_the_drift_command_replays_documented_examples_only_with_all_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    write_action(mine, action_doc(
        slug="acme", action_id="get_thing", parameters=[param("id", True)],
        examples=[
            example({"id": "doc1"}, {"id": "1"}, source="the vendor's docs"),
            example({"id": "rec1"}, {"id": "2"}),
            example({"id": "doc2"}, {"id": "3"}, source="the vendor's docs"),
        ],
    ))  # fmt: skip
    mock = standin(Catalogue.load(mine))
    with running_server(mock) as server:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("REFOLD_BASE_URL", server.url)
        assert main(["drift", "acme", "--fixtures", str(mine), "--json"]) == 0
        only_recorded = json.loads(capsys.readouterr().out)
        recorded_calls = [c.params for c in mock.calls if c.operation == "execute"]
        mock.reset()
        assert main(["drift", "acme", "--fixtures", str(mine), "--all-examples", "--json"]) == 0
        every = json.loads(capsys.readouterr().out)
        every_calls = [c.params for c in mock.calls if c.operation == "execute"]
    assert only_recorded == {"replayed": 1, "drift": []}
    assert recorded_calls == [{"id": "rec1"}]
    assert every == {"replayed": 3, "drift": []}
    assert sorted(c["id"] for c in every_calls) == ["doc1", "doc2", "rec1"]
    assert {c.status for c in mock.calls} == {200}


@pytest.mark.parametrize("workers", [1, 3])
def test_the_drift_command_keeps_exactly_workers_requests_in_flight(
    workers: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    mine = tmp_path / "mine"
    calls = 2 * workers
    write_action(mine, action_doc(
        slug="acme", action_id="get_thing", parameters=[param("id", True)],
        examples=[example({"id": str(i)}, {"id": str(i)}) for i in range(calls)],
    ))  # fmt: skip
    mock = standin(Catalogue.load(mine))
    mock.delay("acme", "get_thing", 0.25)
    with running_server(mock) as server:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", ACCOUNT)
        monkeypatch.setenv("REFOLD_BASE_URL", server.url)
        code = main(["drift", "acme", "--fixtures", str(mine), "--workers", str(workers),
                     "--rate", "1000", "--burst", "100", "--json"])  # fmt: skip
    assert code == 0
    assert json.loads(capsys.readouterr().out)["replayed"] == calls
    assert len(mock.executes) == calls
    assert mock.most_in_flight() == workers


LIVE_DRIFT_TEST = """
import pytest

@pytest.mark.refold_live
def test_reads_everything_acme_has(refold_client):
    assert sorted(a.action_id for a in refold_client.list_actions("acme")) == [
        "get_status", "get_thing", "list_new"]
    assert [p.name for p in refold_client.get_action_schema("acme", "get_thing")] == [
        "id", "limit", "q"]
    assert refold_client.execute("acme", "get_thing", {"id": "1", "limit": "5"}).data["id"] == 7
    assert refold_client.execute("acme", "get_status", check=False).node_status == "Errored"
"""


def test_a_live_session_reports_every_kind_of_drift_through_the_gateway(
    pytester: pytest.Pytester, moved_on: RunningServer
) -> None:
    user_catalogue(pytester.path / "mine")
    pytester.makeini(INI)
    pytester.makepyfile(test_live_drift=LIVE_DRIFT_TEST)
    result = pytester.runpytest_subprocess(
        "--refold-live", "--refold-fixtures", "mine", "--refold-drift-report", "drift.json",
        "--refold-drift=fail",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # --refold-drift=fail
    drift = json.loads((pytester.path / "drift.json").read_text())["drift"]
    assert as_rows(drift) == REPLY_DRIFT | LISTING_DRIFT | SCHEMA_DRIFT
    assert {d["kind"] for d in drift} == EVERY_KIND
    result.stdout.fnmatch_lines(["*refold-contract drift from the catalogue*"])
    for action, kind, path, _ in sorted(REPLY_DRIFT | LISTING_DRIFT | SCHEMA_DRIFT):
        result.stdout.fnmatch_lines([f"{action}*{kind}*{path}*"])
    assert FAKE_KEY not in result.stdout.str() + result.stderr.str()


def test_type_change_details_name_every_recorded_and_new_type(tmp_path: Path) -> None:
    path = write_action(tmp_path, action_doc(slug="acme", action_id="get_thing", examples=[
        example({"id": "1"}, {"v": "a"}), example({"id": "2"}, {"v": True}),
    ]))  # fmt: skip
    thing = load_action(path)
    found = reply_drift(thing, {"node_status": "Success", "data": {"v": [1]}})
    assert [(d.kind, d.path, d.detail) for d in found] == [
        ("type_changed", "data.v", "boolean or string -> now also array")
    ]
    path = write_action(tmp_path, action_doc(slug="acme", action_id="get_other", examples=[
        example({"id": "1"}, {"v": None}),
    ]))  # fmt: skip
    other = load_action(path)
    mixed = shape_drift_of(other, [{"v": {"a": 1}}, {"v": "x"}])
    assert mixed == [("type_changed", "data.v", "null -> now also object, string")]


def shape_drift_of(action: Any, datas: list[Any]) -> list[tuple[str, str, str]]:
    """Drift of several live replies at once, as the union of their shapes."""
    from refold_contract.contract import shape_of, success_shape
    from refold_contract.live import shape_diff as _shape_diff

    return list(_shape_diff(success_shape(action), shape_of(datas), "data"))


def test_a_new_key_of_several_types_names_them_all(recorded: Catalogue) -> None:
    thing = recorded.get("acme", "get_thing")
    found = shape_drift_of(thing, [{**RECORDED_THING, "new": 1}, {**RECORDED_THING, "new": "x"}])
    assert found == [("key_added", "data.new", "integer, string")]


def test_arrays_recorded_empty_say_nothing_about_their_items(tmp_path: Path) -> None:
    path = write_action(tmp_path, action_doc(slug="acme", action_id="get_thing", examples=[
        example({"id": "1"}, {"tags": []}),
    ]))  # fmt: skip
    thing = load_action(path)
    assert reply_drift(thing, {"node_status": "Success", "data": {"tags": [{"k": 1}]}}) == []


def test_a_new_status_and_a_changed_shape_are_both_reported(tmp_path: Path) -> None:
    path = write_action(tmp_path, action_doc(slug="acme", action_id="get_thing", examples=[
        example({"id": "1"}, {"message": "x"}, status="Errored"),
    ]))  # fmt: skip
    thing = load_action(path)
    found = reply_drift(thing, {"node_status": "Success", "data": {"extra": 1}})
    assert [(d.kind, d.path) for d in found] == [("node_status", "node_status")]
    # A success shape recorded from no successful example: nothing to compare the data with.
    path = write_action(tmp_path, action_doc(slug="acme", action_id="get_both", examples=[
        example({"id": "1"}, {"id": "1"}),
        example({"id": "2"}, {"message": "x"}, status="Errored"),
    ]))  # fmt: skip
    both = load_action(path)
    found = reply_drift(both, {"node_status": "Pending", "data": {}})
    assert [d.kind for d in found] == ["node_status"]
    found = reply_drift(both, {"node_status": "Success", "data": {"id": 1, "extra": True}})
    assert [(d.kind, d.path) for d in found] == [
        ("key_added", "data.extra"), ("type_changed", "data.id"),
    ]  # fmt: skip


def test_the_token_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    from refold_contract.live import TokenBucket

    now = [100.0]
    bucket = TokenBucket(rate=4, burst=2)
    bucket._clock = lambda: now[0]
    bucket._last = now[0]
    assert (bucket.rate, bucket.burst) == (4, 2)
    assert [bucket.take(), bucket.take()] == [0.0, 0.0]
    assert bucket.take() == 0.25  # one token short, at 4 per second
    now[0] += 0.5  # two tokens come back, one of them owed
    assert bucket.take() == 0.0  # exactly none left: no wait
    assert bucket.take() == 0.25
    now[0] += 100  # a long pause refills only up to the burst
    assert [bucket.take(), bucket.take(), bucket.take()] == [0.0, 0.0, 0.25]
    default = TokenBucket()
    assert (default.rate, default.burst) == (20.0, 5)


def test_the_token_bucket_sends_at_once_while_part_of_a_token_is_left() -> None:
    from refold_contract.live import TokenBucket

    now = [0.0]
    bucket = TokenBucket(rate=4, burst=2)
    bucket._clock = lambda: now[0]
    bucket._last = 0.0
    bucket.take()
    bucket.take()
    now[0] += 0.375  # 1.5 tokens back
    assert bucket.take() == 0.0  # half a token is left over
    assert bucket.take() == 0.125  # half a token short


# ---------------------------------------------------------------------- the fast path

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abcd"), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(recorded=st.lists(_json, max_size=3), live=_json)
def test_a_reply_the_fast_check_passes_has_no_drift(recorded: list[Any], live: Any) -> None:
    """The check that lets most replies skip building their shape never hides drift: when it
    says a reply conforms, the full comparison finds nothing either."""
    from refold_contract.contract import shape_of
    from refold_contract.live.drift import _conforms, shape_diff

    shape = shape_of(recorded)
    if _conforms(live, shape):
        assert list(shape_diff(shape, shape_of([live]), "data")) == []


def test_the_fast_check_sends_drifting_replies_to_the_full_comparison() -> None:
    from refold_contract.contract import shape_of
    from refold_contract.live.drift import _conforms

    shape = shape_of([{"id": "1", "tags": ["a"], "n": 1}])
    assert _conforms({"id": "2", "tags": [], "n": 2.5}, shape)
    assert not _conforms({"id": "2", "tags": [], "n": 1, "new": True}, shape)  # key added
    assert not _conforms({"tags": [], "n": 1}, shape)  # required key gone
    assert not _conforms({"id": 2, "tags": [], "n": 1}, shape)  # type changed
    assert not _conforms({"id": "2", "tags": [1], "n": 1}, shape)  # an item's type changed
