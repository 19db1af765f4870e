"""Catalogue files as an attacker or a careless editor writes them: each gets one clear line.

Strict, bounded reading (no hang, no traceback, no unbounded read), lint's errors and warnings,
every problem of a file at once, and the ``evidence`` and ``position`` keys.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refold_contract import Catalogue, CatalogueError, UnknownFieldType
from refold_contract.catalogue import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    Action,
    Evidence,
    load_action,
    read_document,
    validate_file,
)
from refold_contract.cli import main

from .helpers import action_doc, write_action

DEEP = "[" * 100_000 + "]" * 100_000
LONG_INTEGER = '{"slug": "demo", "n": ' + "7" * 5_000 + "}"


def lint_lines(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    status = main(["lint", *argv])
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


# ------------------------------------------------------------------ strict, bounded reading


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            DEEP,
            f"JSON too deep: nesting 100000 deep is over the limit of max_depth={DEFAULT_MAX_DEPTH}",
        ),
        (LONG_INTEGER, "a number is too long to convert: Exceeds the limit (4300 digits)"),
    ],
    ids=["nested-100000-deep", "integer-5000-digits"],
)
def test_a_monster_file_is_one_clean_lint_line_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, fragment: str
) -> None:
    path = write_action(tmp_path, text, slug="demo", action_id="get_thing")
    status, lines, err = lint_lines(capsys, str(tmp_path))
    assert status == 1
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}: {fragment}")
    assert "(hint: " in lines[0]
    assert err == f"1 error(s), 0 warning(s) in 1 file(s) under {tmp_path}\n"
    with pytest.raises(CatalogueError) as info:
        Catalogue.load(tmp_path)
    assert info.value.path == str(path)


@pytest.mark.parametrize("text", [DEEP, LONG_INTEGER], ids=["deep", "long-integer"])
def test_a_monster_user_catalogue_is_a_pytest_usage_error_naming_file_and_limit(
    pytester: pytest.Pytester, text: str
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    bad = pytester.path / "mine" / "acme" / "get_widget.json"
    bad.parent.mkdir(parents=True)
    bad.write_text(text)
    pytester.makepyfile("def test_x(refold_catalogue): pass")
    result = pytester.runpytest("--refold-fixtures", "mine")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    limit = "over the limit of max_depth=128" if text is DEEP else "Exceeds the limit (4300 digits)"
    result.stderr.fnmatch_lines([f"ERROR: refold-contract: *mine/acme/get_widget.json: *{limit}*"])
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output
    assert "RecursionError" not in output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_a_fifo_and_a_symlink_to_dev_zero_are_one_line_each_and_never_read(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    os.mkfifo(folder / "get_fifo.json")
    os.symlink("/dev/zero", folder / "get_zero.json")
    write_action(tmp_path, action_doc())
    # A subprocess, so that a hang fails this test instead of stopping the suite.
    done = subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", "lint", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{folder / 'get_fifo.json'}: a FIFO (named pipe), not a regular file: only regular files "
        "are read as catalogue files  (hint: replace it with a regular JSON file, or rename it so "
        "it does not end in .json)",
        f"{folder / 'get_zero.json'}: a character device, not a regular file: only regular files "
        "are read as catalogue files  (hint: replace it with a regular JSON file, or rename it so "
        "it does not end in .json)",
        f"{tmp_path / 'demo' / 'get_thing.json'}: note: access 'read' inferred from the name "
        """'get_thing'; check it, then declare it ("access": "read")""",
    ]
    assert "2 error(s), 0 warning(s) in 3 file(s)" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_read_document_reads_as_the_loader_does(tmp_path: Path) -> None:
    path = write_action(tmp_path, action_doc())
    assert read_document(path) == action_doc()
    path.write_text(DEEP)
    with pytest.raises(CatalogueError, match="over the limit of max_depth=128"):
        read_document(path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.json")
        with pytest.raises(CatalogueError, match="a FIFO"):
            read_document(tmp_path / "pipe.json")


def test_a_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    real = write_action(tmp_path / "elsewhere", action_doc())
    (tmp_path / "cat" / "demo").mkdir(parents=True)
    (tmp_path / "cat" / "demo" / "get_thing.json").symlink_to(real)
    assert Catalogue.load(tmp_path / "cat").get("demo", "get_thing")


@pytest.mark.parametrize(
    ("data", "message", "hint"),
    [
        (
            json.dumps(action_doc()).encode("utf-16"),
            "file is not UTF-8: the text is UTF-16 or UTF-32, not UTF-8",
            "save it as UTF-8 JSON (not UTF-16 or UTF-32)",
        ),
        (
            b'{"slug": "demo", "name": "\xff"}',
            "file is not UTF-8: the text is not UTF-8 (byte 26: b'\\xff')",
            "save it as UTF-8 JSON (not UTF-16 or UTF-32)",
        ),
        (
            b'{"slug": "demo", "n": NaN}',
            "NaN is not JSON (only finite numbers are)",
            'write a number, null, or a string such as "NaN"',
        ),
        (
            b'{"slug": "demo", "n": -Infinity}',
            "-Infinity is not JSON (only finite numbers are)",
            'write a number, null, or a string such as "NaN"',
        ),
    ],
    ids=["utf-16", "invalid-utf-8", "nan", "infinity"],
)
def test_text_that_is_not_strict_json_is_refused_and_says_why(
    tmp_path: Path, data: bytes, message: str, hint: str
) -> None:
    path = tmp_path / "demo" / "get_thing.json"
    path.parent.mkdir()
    path.write_bytes(data)
    with pytest.raises(CatalogueError) as info:
        load_action(path)
    assert (info.value.path, info.value.message, info.value.hint) == (str(path), message, hint)


def test_a_number_that_overflows_a_float_is_a_lint_error_at_its_pointer(tmp_path: Path) -> None:
    doc = json.dumps(action_doc()).replace('"data": {"id": "1"}', '"data": {"n": -1e999}')
    path = write_action(tmp_path, doc, slug="demo", action_id="get_thing")
    (problem,) = Catalogue.lint(tmp_path)
    assert (problem.path, problem.pointer, problem.severity) == (
        str(path),
        "/examples/0/response/data/n",
        "error",
    )
    assert problem.message.startswith("a number too large for a float: it reads as Infinity")
    # JSON's grammar allows 1e999, so the loader (kept fast) takes it; lint is where it shows.
    assert load_action(path).examples[0].data == {"n": float("-inf")}


def test_limits_are_keywords_of_load_and_lint_with_documented_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (DEFAULT_MAX_DEPTH, DEFAULT_MAX_BYTES) == (128, 32 * 1024 * 1024)
    doc = action_doc()
    doc["examples"][0]["response"]["data"] = {"a": {"b": {"c": {"d": 1}}}}
    path = write_action(tmp_path, doc)
    size = path.stat().st_size
    assert len(Catalogue.load(tmp_path, max_depth=8, max_bytes=size)) == 1
    with pytest.raises(CatalogueError, match="nesting 8 deep is over the limit of max_depth=7"):
        Catalogue.load(tmp_path, max_depth=7)
    with pytest.raises(CatalogueError) as info:
        Catalogue.load(tmp_path, max_bytes=size - 1)
    assert info.value.message == (
        f"file is too large: {size:,} bytes, over the limit of max_bytes={size - 1:,}"
    )
    assert "refold-contract lint --max-bytes N" in info.value.hint
    status, lines, _ = lint_lines(capsys, str(tmp_path), "--max-depth", "7")
    assert status == 1
    assert "over the limit of max_depth=7" in lines[0]
    assert lint_lines(capsys, str(tmp_path), "--max-depth", "8")[0] == 0


def test_a_file_is_read_no_further_than_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_action(tmp_path, action_doc())
    asked: list[int] = []
    real_read = os.read

    def read(fd: int, n: int) -> bytes:
        asked.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", read)
    load_action(path, max_bytes=10_000)
    assert asked == [path.stat().st_size + 1]
    path.write_text(" " * 20_000)
    with pytest.raises(CatalogueError, match="file is too large: 20,000 bytes"):
        load_action(path, max_bytes=10_000)
    assert len(asked) == 1  # refused on its size, before any read


# ------------------------------------------------------------------ lint: errors and warnings


def test_duplicate_keys_are_a_lint_error_naming_the_key_and_the_loader_stays_fast(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = json.dumps(action_doc(access="read"), indent=2).replace(
        '"access": "read"', '"access": "read",\n  "access": "write"'
    )
    path = write_action(tmp_path, text, slug="demo", action_id="get_thing")
    status, lines, _ = lint_lines(capsys, str(tmp_path))
    assert status == 1
    assert lines == [
        f"{path}#/access: duplicate key 'access': JSON keeps only the last of its values  "
        "(hint: remove all but one 'access' from that object)"
    ]
    # Catalogue.load does not look for duplicates (speed); JSON's rule, the last value, holds.
    assert Catalogue.load(tmp_path).get("demo", "get_thing").access == "write"


def test_example_params_the_schema_does_not_name_load_and_lint_warns_without_failing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = action_doc()
    doc["examples"][0]["params"].update(colour="red", limit="ten")
    path = write_action(tmp_path, doc)
    action = Catalogue.load(tmp_path).get("demo", "get_thing")  # a recording never blocks a run
    assert dict(action.examples[0].params) == {"id": "1", "colour": "red", "limit": "ten"}
    status, lines, _ = lint_lines(capsys, str(tmp_path))
    assert status == 0
    assert lines == [
        f"{path}#/examples/0/params/colour: warning: example params name a key the schema does "
        "not: Unknown parameter 'colour' (demo/get_thing accepts: id, limit)  (hint: Refold "
        "accepts extra keys, so the example loads; add 'colour' to the parameters if the action "
        "takes it, or drop it from the example)",
        f"{path}#/examples/0/params/limit: warning: example param is not of its declared type: "
        "Parameter 'limit' must be a number, got 'ten'  (hint: Refold checks no types, so the "
        "example loads; fix the value or the parameter's type (the strict mock refuses this "
        "body))",
        f"{path}: note: access 'read' inferred from the name 'get_thing'; check it, then declare "
        """it ("access": "read")""",
        f"ok: 1 action file(s) under {tmp_path}, 2 warning(s), 1 access(es) inferred",
    ]
    report = Catalogue.lint_report(tmp_path)
    assert report.ok
    assert [p.severity for p in report.problems] == ["warning", "warning"]


def test_lint_reports_every_problem_of_a_file_at_once_each_with_a_hint(tmp_path: Path) -> None:
    doc = action_doc()
    doc["parameters"] = [
        {"name": "id", "label": "Enter Id", "required": True, "type": "text"},
        {"name": "id", "label": "Again", "required": False, "type": "text"},  # duplicate
        {"name": "limit", "label": "Limit", "required": "yes", "type": "number"},  # not boolean
        {"name": "colour", "label": "Colour", "required": False, "type": "color"},  # unknown
    ]
    doc["examples"] = [
        {"params": {"limit": "1"}, "response": {"data": {}}, "source": "test"},
    ]
    path = write_action(tmp_path, doc)
    problems = Catalogue.lint(tmp_path)
    assert [(p.severity, p.pointer, p.message) for p in problems] == [
        ("error", "/parameters/1/name", "duplicate parameter name 'id' (first at /parameters/0)"),
        ("error", "/parameters/2/required", "'required' must be true or false, got string"),
        (
            "error",
            "/examples/0/response/node_status",
            "'node_status' must be a non-empty string such as 'Success' or 'Errored'",
        ),
        (
            "error",
            "/examples/0/params/id",
            "example params fail the action's own check: Required parameter 'id' is missing",
        ),
        (
            "warning",
            "/parameters/3/type",
            "unknown field type 'color' for parameter 'colour'; it is validated as text",
        ),
    ]
    assert all(p.hint and p.path == str(path) for p in problems)


def test_every_error_the_builder_can_report_carries_a_hint(tmp_path: Path) -> None:
    doc = {
        "slug": 3,
        "action_id": "",
        "name": ["x"],
        "description": 5,
        "tag": {},
        "access": "sometimes",
        "position": 0,
        "evidence": "trust me",
        "colour": "red",
        "parameters": [
            7,
            {"label": "no name"},
            {"name": "a", "type": "text", "multiple": "no", "options": "A,B"},
            {"name": "b", "type": "text", "placeholder": 1, "options": [{"name": "x"}]},
        ],
        "examples": [
            3,
            {"params": [], "response": [], "extra": 1},
            {"params": {}, "response": {"node_status": "", "http_status": "200"}, "source": 1},
        ],
    }
    write_action(tmp_path, doc, slug="demo", action_id="get_thing")
    problems = Catalogue.lint(tmp_path)
    assert len(problems) >= 20
    assert [p for p in problems if not p.hint] == []


def test_a_file_lying_in_the_catalogue_folder_names_its_slug_folder_and_is_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_action(tmp_path, action_doc())
    stray = tmp_path / "post_message.json"
    stray.write_text(json.dumps(action_doc(slug="slack", action_id="post_message")))
    status, lines, err = lint_lines(capsys, str(tmp_path))
    assert status == 1
    assert lines == [
        f"{stray}: catalogue files belong one folder down, in <slug>/<action_id>.json  "
        f"(hint: move it to {tmp_path / 'slack'}/ (its slug is 'slack'))",
        f"{tmp_path / 'demo' / 'get_thing.json'}: note: access 'read' inferred from the name "
        """'get_thing'; check it, then declare it ("access": "read")""",
    ]
    assert err == f"1 error(s), 0 warning(s) in 2 file(s) under {tmp_path}\n"


def test_a_stray_fifo_gets_the_generic_hint_without_being_opened(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs FIFOs (POSIX)")
    os.mkfifo(tmp_path / "x.json")
    (problem,) = Catalogue.lint(tmp_path)
    assert problem.hint == f"move it to {tmp_path}/<slug>/, the folder named after its app's slug"


# ------------------------------------------------------------------ evidence and position


EVIDENCE = {
    "schema": "app-docs",
    "reply": "observed",
    "sources": ["https://developer.example.com/api"],
    "notes": "why",
}


def test_evidence_loads_into_the_action() -> None:
    path = Catalogue.builtin_path() / "hubspot" / "search_contacts.json"
    action = load_action(path)
    assert isinstance(action.evidence, Evidence)
    assert (action.evidence.schema, action.evidence.reply) == ("refold-docs", "app-docs")
    assert action.evidence.to_json() == json.loads(path.read_text())["evidence"]
    assert Evidence.rank("refold-docs") < Evidence.rank("observed") < Evidence.rank("app-docs")
    assert Evidence.rank("app-docs") < Evidence.rank("assumed")


@pytest.mark.parametrize(
    ("evidence", "pointer", "fragment"),
    [
        ([], "/evidence", "'evidence' must be an object, got array"),
        ({**EVIDENCE, "source": "x"}, "/evidence/source", "unknown key 'source' in evidence"),
        (
            {**EVIDENCE, "schema": "docs"},
            "/evidence/schema",
            "must be one of refold-docs, observed",
        ),
        ({k: v for k, v in EVIDENCE.items() if k != "reply"}, "/evidence/reply", "has no 'reply'"),
        ({**EVIDENCE, "sources": "https://x"}, "/evidence/sources", "must be an array"),
        ({**EVIDENCE, "sources": []}, "/evidence/sources", "names no source"),
        ({**EVIDENCE, "notes": ["a"]}, "/evidence/notes", "'notes' must be a string"),
    ],
)
def test_lint_checks_the_form_of_evidence(
    tmp_path: Path, evidence: object, pointer: str, fragment: str
) -> None:
    write_action(tmp_path, action_doc(evidence=evidence))
    (problem,) = Catalogue.lint(tmp_path)
    assert (problem.severity, problem.pointer) == ("error", pointer)
    assert fragment in problem.message
    assert problem.hint


def test_assumed_evidence_may_name_no_source(tmp_path: Path) -> None:
    evidence = {"schema": "assumed", "reply": "assumed", "sources": [], "notes": "placeholder"}
    write_action(tmp_path, action_doc(evidence=evidence))
    assert Catalogue.lint(tmp_path) == []


def test_lint_fails_a_builtin_file_without_evidence_and_allows_a_user_file_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builtin = tmp_path / "builtin"
    shutil.copytree(Catalogue.builtin_path(), builtin)
    path = builtin / "hubspot" / "get_contact.json"
    doc = json.loads(path.read_text())
    del doc["evidence"]
    path.write_text(json.dumps(doc))
    monkeypatch.setattr(Catalogue, "builtin_path", staticmethod(lambda: builtin))
    status, lines, _ = lint_lines(capsys)
    assert status == 1
    assert lines == [
        f"{path}#/evidence: a built-in action must say where its facts come from: no 'evidence'  "
        '(hint: add "evidence": {"schema": LEVEL, "reply": LEVEL, "sources": [...]} with LEVEL '
        "one of refold-docs, observed, app-docs, assumed)"
    ]
    user = tmp_path / "user"
    (user / "hubspot").mkdir(parents=True)
    shutil.copy(path, user / "hubspot" / "get_contact.json")
    assert lint_lines(capsys, str(user))[0] == 0


def test_positions_order_the_list_documented_actions_first(tmp_path: Path) -> None:
    for action_id, position in [("get_c", None), ("get_b", 2), ("get_z", 1), ("get_a", None)]:
        extra: dict[str, Any] = {} if position is None else {"position": position}
        write_action(tmp_path, action_doc(action_id=action_id, **extra))
    catalogue = Catalogue.load(tmp_path)
    assert [a.action_id for a in catalogue.actions("demo")] == ["get_z", "get_b", "get_a", "get_c"]
    assert catalogue.get("demo", "get_c").position is None
    assert [a.action_id for a in catalogue] == ["get_z", "get_b", "get_a", "get_c"]


@pytest.mark.parametrize("position", [0, -1, 1.5, "1", True])
def test_a_position_is_a_whole_number_from_one(tmp_path: Path, position: object) -> None:
    write_action(tmp_path, action_doc(position=position))
    (problem,) = Catalogue.lint(tmp_path)
    assert (problem.pointer, problem.severity) == ("/position", "error")
    assert "(1 is first)" in (problem.hint or "")


def test_two_actions_at_one_position_are_a_warning(tmp_path: Path) -> None:
    write_action(tmp_path, action_doc(action_id="get_a", position=1))
    second = write_action(tmp_path, action_doc(action_id="get_b", position=1))
    (problem,) = Catalogue.lint(tmp_path)
    assert (problem.path, problem.severity) == (str(second), "warning")
    assert problem.message == "position 1 is also given to get_a.json"


# ------------------------------------------------------------------ fuzz: only two outcomes

_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_TEXT_BITS = st.sampled_from(
    ["NaN", "-Infinity", "1e999", "9" * 4400, "[" * 300, "\ufeff", '"\\ud800"', '{"a":1,"a":2}']
)


def _shaped_like_an_action(value: object) -> st.SearchStrategy[bytes]:
    doc = action_doc()
    doc["examples"][0]["response"]["data"] = value
    return st.just(json.dumps(doc).encode())


_FILES = st.one_of(
    st.binary(max_size=300),
    _JSON.map(lambda v: json.dumps(v).encode()),
    _JSON.flatmap(_shaped_like_an_action),
    st.tuples(_JSON, _TEXT_BITS, st.integers(0, 40)).map(
        lambda t: (json.dumps(t[0])[: t[2]] + t[1] + json.dumps(t[0])[t[2] :]).encode()
    ),
    st.binary(max_size=40).map(lambda b: json.dumps(action_doc()).encode()[:-3] + b),
    st.just(DEEP.encode()),
)

_FUZZ_DIR = Path(tempfile.mkdtemp(prefix="refold-fuzz-")) / "demo"
_FUZZ_DIR.mkdir()


@settings(max_examples=250, deadline=None, database=None)
@given(_FILES)
def test_the_loader_gives_an_action_or_a_catalogue_error_and_nothing_else(data: bytes) -> None:
    path = _FUZZ_DIR / "get_thing.json"
    path.write_bytes(data)
    outcome = _load_or_error(path)
    assert isinstance(outcome, (Action, CatalogueError))
    if isinstance(outcome, CatalogueError):
        assert outcome.path == str(path)
        assert outcome.hint
    found, problems = validate_file(path, lint=True, max_bytes=100_000)
    assert found is None or isinstance(found, Action)
    assert all(isinstance(p, CatalogueError) and p.hint for p in problems)


def _load_or_error(path: Path) -> Action | CatalogueError:
    """The loader's outcome; any other exception propagates and fails the fuzz test."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownFieldType)  # a documented outcome too
            return load_action(path, max_bytes=100_000)
    except CatalogueError as exc:
        return exc


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"slug": "acme",\n "parameters": [],\n}\n', (3, 1)),
        ('{"slug": "acme", "parameters": [1, 2,]}', (1, 38)),
        ('\ufeff{"a": 1 ,  }', (1, 12)),
    ],
    ids=["object", "array", "after a byte-order mark"],
)
def test_a_trailing_comma_is_named_as_such(
    tmp_path: Path, text: str, where: tuple[int, int]
) -> None:
    path = tmp_path / "acme" / "get_widget.json"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        Catalogue.load(tmp_path)
    assert (info.value.line, info.value.column) == where
    assert info.value.hint.startswith("a trailing comma before the closing bracket")
    with pytest.raises(CatalogueError) as again:
        read_document(path)
    assert again.value.hint == info.value.hint


def test_other_syntax_errors_are_not_called_trailing_commas(tmp_path: Path) -> None:
    path = tmp_path / "acme" / "get_widget.json"
    path.parent.mkdir()
    path.write_text('{"slug": "acme", , "x": 1}')
    with pytest.raises(CatalogueError) as info:
        Catalogue.load(tmp_path)
    assert info.value.hint == "fix the JSON syntax at that line and column"


def test_an_unknown_key_close_to_a_known_one_is_named(tmp_path: Path) -> None:
    doc = action_doc()
    doc["acess"] = "read"
    write_action(tmp_path, doc)
    (problem,) = Catalogue.lint(tmp_path)
    assert problem.message == "unknown key 'acess'"
    assert problem.hint.startswith("did you mean 'access'? allowed keys: slug, action_id")
    doc = action_doc()
    doc["zzz"] = 1
    write_action(tmp_path, doc)
    (problem,) = Catalogue.lint(tmp_path)
    assert problem.hint.startswith("allowed keys: ")


def test_lint_given_a_file_says_it_takes_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_action(tmp_path, action_doc())
    assert main(["lint", str(path)]) == 1
    out = capsys.readouterr()
    assert f"{path}: is a file; catalogue folders are expected" in out.out + out.err
    assert f"e.g. {tmp_path}" in out.out + out.err
