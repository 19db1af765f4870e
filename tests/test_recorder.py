"""The recorder as a unit: the file it writes, how it merges, and how it refuses.

The recording tests in test_live.py run it inside the gateway process; these run it here, so a
change to what it writes fails a test that can see it.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
from pathlib import Path

import pytest

from refold_contract import Catalogue, CatalogueError
from refold_contract.live import Recorder, contained_path, write_json_atomically

from .helpers import action_doc, write_action

OK = {"node_status": "Success", "data": {"ok": True, "channels": []}}


@pytest.fixture
def catalogue() -> Catalogue:
    return Catalogue.builtin()


def test_a_first_recording_writes_the_whole_catalogue_entry(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    action = catalogue.get("slack", "list_channels")
    recorder = Recorder(tmp_path / "mine", catalogue, linked_account_id=None)
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    path = recorder.record(action, {"limit": "2"}, OK)
    after = datetime.datetime.now(datetime.timezone.utc)
    document = json.loads(path.read_text())
    # The action's own file, whole (the user's file replaces it), then the recording.
    assert action.path is not None
    source = json.loads(action.path.read_text())
    *copied, example = document.pop("examples")
    assert copied == source.pop("examples")
    assert document == source
    recorded_at = example.pop("recorded_at")
    assert example == {"params": {"limit": "2"}, "response": OK, "source": "recorded"}
    assert recorded_at.endswith("Z")
    assert "." not in recorded_at  # whole seconds
    when = datetime.datetime.fromisoformat(recorded_at.replace("Z", "+00:00"))
    assert before <= when <= after
    assert recorder.written == {path: 1}
    loaded = Catalogue.load(tmp_path / "mine").get("slack", "list_channels")
    assert [e.source for e in loaded.examples] == [
        *(e.source for e in action.examples),
        "recorded",
    ]


def test_a_recording_keeps_the_declared_access_the_position_and_the_tag(tmp_path: Path) -> None:
    write_action(tmp_path / "src", action_doc(slug="acme", action_id="sync_widgets",
                                              access="read", position=3, tag="v1"))  # fmt: skip
    write_action(tmp_path / "src", action_doc(slug="acme", action_id="get_plain", tag=""))
    catalogue = Catalogue.load(tmp_path / "src")
    # Files gone since loading: the entry is rebuilt from the action, not copied.
    shutil.rmtree(tmp_path / "src")
    recorder = Recorder(tmp_path / "mine", catalogue, linked_account_id=None)
    declared = json.loads(
        recorder.record(catalogue.get("acme", "sync_widgets"), {"id": "1"}, OK).read_text()
    )
    assert (declared["access"], declared["position"], declared["tag"]) == ("read", 3, "v1")
    plain = json.loads(
        recorder.record(catalogue.get("acme", "get_plain"), {"id": "1"}, OK).read_text()
    )
    assert "access" not in plain
    assert "position" not in plain
    assert plain["tag"] == "v2"  # no tag: Refold's current one
    assert list(plain) == ["slug", "action_id", "name", "description", "tag", "parameters",
                           "examples"]  # fmt: skip


def test_the_same_params_replace_a_recorded_example_and_keep_documented_ones(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    action = catalogue.get("slack", "list_channels")
    folder = tmp_path / "mine"
    path = contained_path(folder, "slack", "list_channels")
    documented = {"params": {"limit": "2"}, "response": OK, "source": "the vendor's docs"}
    write_json_atomically(path, {**action_doc(slug="slack", action_id="list_channels",
                                               parameters=action.schema()),
                                 "examples": [documented]})  # fmt: skip
    recorder = Recorder(folder, catalogue, linked_account_id=None)
    first = {"node_status": "Success", "data": {"n": 1}}
    second = {"node_status": "Success", "data": {"n": 2}}
    other = {"node_status": "Success", "data": {"n": 3}}
    recorder.record(action, {"limit": "2"}, first)
    recorder.record(action, {"limit": "2"}, second)  # replaces the first recording
    recorder.record(action, {"limit": "3"}, other)
    recorder.record(action, "not a dict", other)  # params that are not an object: {}
    examples = json.loads(path.read_text())["examples"]
    assert [(e["params"], e["response"], e["source"]) for e in examples] == [
        ({"limit": "2"}, OK, "the vendor's docs"),
        ({"limit": "2"}, second, "recorded"),
        ({"limit": "3"}, other, "recorded"),
        ({}, other, "recorded"),
    ]
    assert recorder.written == {path: 4}


def test_params_are_compared_as_canonical_json(tmp_path: Path, catalogue: Catalogue) -> None:
    action = catalogue.get("hubspot", "get_contact")
    recorder = Recorder(tmp_path, catalogue, linked_account_id=None)
    recorder.record(action, {"limit": "1", "after": "x"}, OK)
    path = recorder.record(action, {"after": "x", "limit": "1"}, OK)
    assert len(json.loads(path.read_text())["examples"]) == len(action.examples) + 1


def test_a_file_that_is_not_a_json_object_is_refused_and_left_alone(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    path = tmp_path / "slack" / "list_channels.json"
    path.parent.mkdir()
    path.write_text("[1, 2]")
    recorder = Recorder(tmp_path, catalogue, linked_account_id=None)
    with pytest.raises(CatalogueError) as info:
        recorder.record(catalogue.get("slack", "list_channels"), {}, OK)
    assert info.value.message == "not a catalogue file (a JSON object)"
    assert info.value.path == str(path)
    assert path.read_text() == "[1, 2]"
    assert recorder.written == {}


def test_a_dangling_symlink_in_the_folder_is_read_not_replaced_silently(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    folder = tmp_path / "mine"
    (folder / "slack").mkdir(parents=True)
    (folder / "slack" / "list_channels.json").symlink_to(folder / "slack" / "missing.json")
    recorder = Recorder(folder, catalogue, linked_account_id=None)
    with pytest.raises(CatalogueError):
        recorder.record(catalogue.get("slack", "list_channels"), {}, OK)
    assert not (folder / "slack" / "missing.json").exists()


def test_refusals_say_where_and_what_to_do(tmp_path: Path, catalogue: Catalogue) -> None:
    with pytest.raises(CatalogueError) as builtin:
        Recorder(Catalogue.builtin_path() / "slack", catalogue, linked_account_id=None)
    assert builtin.value.message == "refusing to record into the built-in catalogue"
    assert builtin.value.path == str(Catalogue.builtin_path() / "slack")
    assert builtin.value.hint == "pass your own folder first with --refold-fixtures"
    with pytest.raises(CatalogueError) as bad_id:
        contained_path(tmp_path, "acme", "../x")
    assert bad_id.value.path == str(tmp_path)
    assert bad_id.value.hint == (
        "ids use letters, digits, _, - and . (not ..); the server sent this one"
    )
    assert bad_id.value.message == (
        "refusing to write a catalogue file for action id '../x': not a Refold id"
    )
    (tmp_path / "acme").symlink_to(tmp_path.parent)
    with pytest.raises(CatalogueError) as outside:
        contained_path(tmp_path, "acme", "get_x")
    assert outside.value.path == str(tmp_path / "acme" / "get_x.json")
    assert outside.value.hint == "a symlink in the folder points elsewhere; remove it"
    assert outside.value.message == (
        f"refusing to write acme/get_x.json: it resolves outside {tmp_path}"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("x/" * 29, repr("x/" * 29)),  # 60 characters as a repr: shown whole
        ("y/" + "x" * 57, repr("y/" + "x" * 57)[:57] + "..."),  # 61: cut
    ],
)
def test_a_long_refused_id_is_cut_in_the_message(tmp_path: Path, value: str, shown: str) -> None:
    with pytest.raises(CatalogueError) as info:
        contained_path(tmp_path, "acme", value)
    assert info.value.message == (
        f"refusing to write a catalogue file for action id {shown}: not a Refold id"
    )


def test_an_atomic_write_gets_ordinary_permissions(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    write_json_atomically(target, {"n": 1})
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_file_without_examples_gets_its_first_one(tmp_path: Path, catalogue: Catalogue) -> None:
    action = catalogue.get("slack", "list_channels")
    path = contained_path(tmp_path, "slack", "list_channels")
    document = action_doc(slug="slack", action_id="list_channels", parameters=action.schema())
    del document["examples"]
    write_json_atomically(path, document)
    Recorder(tmp_path, catalogue, linked_account_id=None).record(action, {}, OK)
    assert [e["params"] for e in json.loads(path.read_text())["examples"]] == [{}]
