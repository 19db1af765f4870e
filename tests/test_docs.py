"""Every example in README.md and the docs site (docs/**/*.md) runs, as it stands there: changing
an example without changing the code (or the reverse) fails here. And the reference pages keep
up with the code: every option, ini key, marker keyword, command and error is on its page, and
every link resolves.

Python blocks are found with pytest-examples (maintained, gives each block's file and line, and
leaves running them to us, which these blocks need: some are test modules for pytest, some are
scripts). A block that defines tests runs as a test module under pytest with the plugin; any
other block runs as a script, with the few placeholders it names (``run_my_service``, a
``refold_mock``) supplied here. JSON blocks must load as catalogue files (or state blocks) where
they are ones, and as JSON otherwise; ini blocks must name keys the plugin has; shell lines, and
the ``run:`` lines of YAML blocks, must parse with the command's own parser; the lint output
shown must be what lint prints. ``mkdocs build --strict`` (slow) runs in .ci/run instead.
"""

from __future__ import annotations

import argparse
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
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]
FENCE = re.compile(r"^(`{3,4})(\w*)\n(.*?)^\1$", re.S | re.M)
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
README_LIMIT = 12_288
SETUP_COMMANDS = [
    "python3 -m venv .venv && . .venv/bin/activate && pip install . && refold-contract test",
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[dev]' && pytest",
]


def name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def page(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


def blocks(language: str, pages: list[Path] = PAGES) -> list[tuple[str, int, str]]:
    """(page, line, text) of every fenced block in that language, in page order."""
    out = []
    for path in pages:
        text = path.read_text(encoding="utf-8")
        out += [
            (name(path), text[: m.start()].count("\n") + 1, m.group(3))
            for m in FENCE.finditer(text)
            if m.group(2) == language
        ]
    return out


PYTHON = [example for path in PAGES for example in find_examples(str(path))]


def where(example: CodeExample) -> str:
    return f"{name(Path(example.path))}:{example.start_line}"


def test_every_python_block_is_found() -> None:
    for path in PAGES:
        found = [e for e in PYTHON if Path(e.path) == path]
        assert len(found) == len(blocks("python", [path])), name(path)
    assert len(PYTHON) >= 25


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
    """What the script blocks leave to the reader, supplied."""
    import requests

    def run_my_service(refold_base_url: str) -> None:  # "your service", calling Refold
        requests.post(
            refold_base_url + "/api/v2/integration-schema/hubspot/actions/create_contact/execute",
            json={"email": "ada@example.com"},
            headers={"x-api-key": "tk_test", "linked_account_id": "user_1"},
            timeout=10,
        ).raise_for_status()

    return {"run_my_service": run_my_service, "refold_mock": RefoldMock(stateful=True)}


TEST_MODULES = {
    name(path): [e for e in PYTHON if Path(e.path) == path and is_test_module(e)] for path in PAGES
}


@pytest.mark.parametrize("page", [page for page, examples in TEST_MODULES.items() if examples])
def test_a_pages_test_modules_pass_under_the_plugin(page: str, pytester: pytest.Pytester) -> None:
    """One pytest run per page (a run's start-up is most of its cost), one file per block, so a
    failure still names the block: ``test_L<line>.py`` is the block at that line."""
    examples = TEST_MODULES[page]
    pytester.makeini(INI)
    files = {f"test_L{e.start_line}": e.source for e in examples}
    pytester.makepyfile(**files)
    # The blocks show how to write the tests, not how many examples to try: a profile keeps a
    # page's property and state-machine tests to a few examples (a block's own @settings wins).
    pytester.makeconftest(
        "from hypothesis import settings\n"
        "settings.register_profile('docs', max_examples=10, stateful_step_count=10)\n"
    )
    result = pytester.runpytest_subprocess(
        "--snapshot-update", "-p", "no:randomly", "-rA", "--hypothesis-profile=docs"
    )
    output = result.stdout.str()
    assert result.ret == 0, f"{page} (test_L<line>.py is the block at that line)\n" + output[-4000:]
    for file in files:
        assert f"PASSED {file}.py::" in output, f"{page}:{file[6:]}: no test passed"


@pytest.mark.parametrize("example", [e for e in PYTHON if not is_test_module(e)], ids=where)
def test_a_docs_script_runs(example: CodeExample, tmp_path: Path) -> None:
    (tmp_path / "tests" / "refold_fixtures").mkdir(parents=True)
    namespace: dict[str, Any] = {"__name__": "docs_example", **placeholders(tmp_path)}
    code = compile(example.source, where(example), "exec")
    # A block that makes its own mock gets none from us; the others talk to app.refold.ai,
    # which only a mock may answer in a test.
    own_mock = "RefoldMock(" in example.source or "running_server(" in example.source
    mock = contextlib.nullcontext() if own_mock else RefoldMock()
    with inside(tmp_path), mock:
        exec(code, namespace)


# ---------------------------------------------------------------------------------- JSON blocks


def check_catalogue_file(at: str, text: str, tmp_path: Path) -> None:
    shown = json.loads(text)
    path = tmp_path / shown["slug"] / f"{shown['action_id']}.json"
    path.parent.mkdir()
    path.write_text(text)
    extending = shown.get("extends") is True
    base = Catalogue.builtin().find(shown["slug"], shown["action_id"]) if extending else None
    action, problems = validate_file(path, base=base)
    assert problems == [], f"{at}: {problems}"
    assert action is not None
    builtin_file = Catalogue.builtin_path() / shown["slug"] / f"{shown['action_id']}.json"
    if not builtin_file.is_file() or extending:  # an extending file adds to the built-in one
        return
    # Shown as a built-in file: it must be a true excerpt of it.
    builtin = json.loads(builtin_file.read_text())
    for key, value in shown.items():
        if key == "examples":
            assert all(e in builtin["examples"] for e in value), f"{at}: {key}"
        else:
            assert builtin[key] == value, f"{at}: {key}"


def check_state_block(at: str, text: str, tmp_path: Path) -> None:
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
    assert problems == [], f"{at}: {problems}"
    assert action is not None
    assert action.state is not None


def json_kind(text: str) -> str:
    if text.lstrip().startswith('"state"'):
        return "state block"
    value = json.loads(text)
    if isinstance(value, dict) and {"slug", "action_id"} <= value.keys():
        return "catalogue file"
    return "json"


JSON = blocks("json")


@pytest.mark.parametrize(("page", "line", "text"), JSON, ids=[f"{p}:{n}" for p, n, _ in JSON])
def test_a_json_block_loads_as_what_it_shows(
    page: str, line: int, text: str, tmp_path: Path
) -> None:
    at = f"{page}:{line}"
    kind = json_kind(text)
    if kind == "state block":
        check_state_block(at, text, tmp_path)
    elif kind == "catalogue file":
        check_catalogue_file(at, text, tmp_path)


def test_the_catalogue_format_shows_a_builtin_file_and_a_state_block() -> None:
    kinds = {json_kind(text) for page, _, text in JSON if page == "docs/reference/catalogue.md"}
    assert {"catalogue file", "state block"} <= kinds


# ------------------------------------------------------------------------------ ini and shell


@pytest.fixture(scope="module")
def pytest_help(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``pytest --help`` with the plugin, in a folder of its own."""
    folder = tmp_path_factory.mktemp("help")
    (folder / "pytest.ini").write_text(INI)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:randomly"],
        cwd=folder, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def test_the_ini_examples_name_keys_the_plugin_has(pytest_help: str) -> None:
    found = blocks("ini")
    assert found
    for page, line, text in found:
        parser = configparser.ConfigParser()
        parser.read_string(text)
        for key in parser["pytest"]:
            assert f"  {key} (" in pytest_help, f"{page}:{line}: {key}"


def yaml_run_lines(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "run" and isinstance(item, str):
                yield from item.splitlines()
            else:
                yield from yaml_run_lines(item)
    elif isinstance(value, list):
        for item in value:
            yield from yaml_run_lines(item)


def shell_lines() -> list[tuple[str, int, str]]:
    import yaml  # type: ignore[import-untyped,unused-ignore]

    out = []
    for page, line, text in blocks("bash") + blocks(""):
        for offset, raw in enumerate(text.splitlines()):
            command = raw.split("  #")[0].strip().removeprefix("$ ").strip()
            out.append((page, line + 1 + offset, command))
    for page, line, text in blocks("yaml"):
        for raw in yaml_run_lines(yaml.safe_load(text)):
            out.append((page, line, raw.strip()))
    return out


def command_part(line: str) -> str:
    """The first command of a shell line: before a redirection, a pipe, `&&`, `;` or `&`."""
    return re.split(r"\s(?:>|&&|\|\||\||&|;)(?:\s|$)", line)[0]


COMMANDS = [
    (p, n, command_part(c))
    for p, n, c in shell_lines()
    if c.startswith("refold-contract ") and "[" not in c
]


@pytest.mark.parametrize(
    ("page", "line", "command"), COMMANDS, ids=[f"{p}:{n}" for p, n, _ in COMMANDS]
)
def test_every_command_the_docs_show_parses(page: str, line: int, command: str) -> None:
    argv = shlex.split(command)[1:]
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{page}:{line}: {command!r} does not parse (exit {exc.code})")


def test_the_yaml_blocks_load() -> None:
    import yaml  # type: ignore[import-untyped,unused-ignore]

    found = blocks("yaml")
    assert found
    for page, line, text in found:
        assert yaml.safe_load(text), f"{page}:{line}"


def test_every_pytest_option_the_docs_show_exists(pytest_help: str) -> None:
    for page, line, command in shell_lines():
        for option in re.findall(r"(--(?:refold|snapshot)-[a-z-]+)", command):
            assert option in pytest_help, f"{page}:{line}: {option}"


def test_the_lint_output_shown_is_what_lint_prints(tmp_path: Path) -> None:
    (page, line, text), *_ = [b for b in blocks("") if b[2].startswith("$ refold-contract lint")]
    command, *shown = text.strip().splitlines()
    folder = tmp_path / "tests" / "refold_fixtures"

    def write(
        slug: str, action_id: str, parameters: list[Any], params: dict[str, Any], **more: Any
    ) -> None:
        path = folder / slug / f"{action_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({
            "slug": slug, "action_id": action_id, "name": action_id, **more,
            "parameters": parameters,
            "examples": [{"params": params, "source": "test",
                          "response": {"node_status": "Success", "data": {}}}],
        }))  # fmt: skip

    deal = [{"name": "dealId", "label": "Deal", "required": True, "type": "text"}]
    write("hubspot", "get_deal", deal, {"pipeline": "default"}, access="read")
    write("hubspot", "get_owner", [], {})  # its access from its name: a note
    for action_id in ("get_pipeline", "get_stage"):
        write("hubspot", action_id, [], {}, access="read")
    done = subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", *shlex.split(command)[2:]],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    printed = (done.stdout + done.stderr).strip().splitlines()
    assert printed == shown, f"{page}:{line}"
    assert done.returncode == 1


# ----------------------------------------------------------------------------- the README


def test_the_readme_is_short_and_opens_with_the_two_setup_commands() -> None:
    size = len(README.read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes; the limit is {README_LIMIT}"
    text = README.read_text(encoding="utf-8")
    first = FENCE.search(text)
    assert first is not None
    assert first.group(2) == "bash"
    assert text[: first.start()].strip() == "# refold-contract"
    assert first.group(3).splitlines() == SETUP_COMMANDS


# ---------------------------------------------------------------- reference pages vs the code


class _Recorder:
    """Stands in for pytest's ``Parser`` and its groups: records what the plugin adds."""

    def __init__(self) -> None:
        self.options: list[str] = []
        self.ini_keys: list[str] = []

    def getgroup(self, *args: Any, **kwargs: Any) -> _Recorder:
        return self

    def addoption(self, *names: str, **kwargs: Any) -> None:
        self.options += names

    _addoption = addoption

    def addini(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.ini_keys.append(name)


def plugin_settings() -> _Recorder:
    from refold_contract import plugin

    recorder = _Recorder()
    plugin.pytest_addoption(recorder)  # type: ignore[arg-type]
    return recorder


def marker_keywords() -> list[str]:
    """The keywords the ``refold`` marker takes: the signature of its one options class."""
    from refold_contract._plugin.markers import marker_keywords as keywords

    return sorted(keywords())


def code_span_starts_with(text: str, word: str) -> bool:
    return re.search(r"`" + re.escape(word) + r"[` ]", text) is not None


def test_every_option_and_ini_key_is_in_the_options_reference(pytest_help: str) -> None:
    text = page("docs/reference/options.md")
    settings = plugin_settings()
    assert settings.options
    assert settings.ini_keys
    for option in settings.options:
        assert option in pytest_help, option  # the recorder saw what pytest sees
        assert code_span_starts_with(text, option), f"docs/reference/options.md lacks {option}"
    for key in settings.ini_keys:
        assert f"  {key} (" in pytest_help, key
        assert f"`{key}`" in text, f"docs/reference/options.md lacks ini key {key}"


def test_every_marker_keyword_is_in_the_marker_reference() -> None:
    text = page("docs/reference/marker.md")
    keywords = marker_keywords()
    assert keywords
    for keyword in keywords:
        assert f"| `{keyword}` |" in text, f"docs/reference/marker.md lacks {keyword}"
    assert "## `refold_live`" in text


def subcommands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                path = f"{prefix} {command}".strip()
                nested = list(subcommands(sub, path))
                yield from nested or [(path, sub)]


def sections(text: str) -> dict[str, str]:
    """Level-two heading -> the text under it."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_command_and_its_options_are_in_the_cli_reference() -> None:
    found = sections(page("docs/reference/cli.md"))
    commands = list(subcommands(build_parser()))
    assert len(commands) >= 11
    for command, sub in commands:
        heading = f"`refold-contract {command}`"
        assert heading in found, f"docs/reference/cli.md lacks a section {heading}"
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert code_span_starts_with(found[heading], option), f"{command} {option}"


def error_classes() -> list[str]:
    from refold_contract import errors

    return sorted(errors.__all__)


def test_every_error_has_its_own_section_in_the_errors_reference() -> None:
    found = anchors(DOCS / "reference" / "errors.md")
    for error in error_classes():
        assert error.lower() in found, f"docs/reference/errors.md lacks ## {error}"


# ------------------------------------------------------------------------------------ links


def anchors(path: Path) -> set[str]:
    """The heading anchors mkdocs gives a page: Python-Markdown's toc slugify of the heading's
    text (inline markup stripped), with ``_1``, ``_2`` for repeats."""
    from markdown.extensions.toc import slugify  # type: ignore[import-untyped,unused-ignore]

    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+?)#*$", text, re.M):
        plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
        plain = re.sub(r"[`*_]{1,2}(?=\S)|(?<=\S)[`*_]{1,2}", "", plain)
        slug = base = slugify(plain.strip(), "-")
        n = 0
        while slug in seen:
            n += 1
            slug = f"{base}_{n}"
        seen.add(slug)
    return seen


def test_anchors_are_computed_as_mkdocs_does() -> None:
    assert "readonlyviolation" in anchors(DOCS / "reference" / "errors.md")
    catalogue = anchors(DOCS / "reference" / "catalogue.md")
    assert "the-lint-command" in catalogue
    assert "an-actions-schema-offline" in catalogue
    assert "refold-contract-contract-merge" in anchors(DOCS / "reference" / "cli.md")


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def relative_links() -> list[tuple[str, str, str]]:
    out = []
    for path in PAGES:
        text = FENCE.sub("", path.read_text(encoding="utf-8"))
        for target in LINK.findall(text):
            if not re.match(r"[a-z]+:", target):
                out.append((name(path), str(path.parent), target))
    return out


def resolve(base: Path, target: str, at: str) -> None:
    file, _, anchor = target.partition("#")
    destination = (base / file).resolve() if file else base
    assert destination.is_file(), f"{at}: {target}: no such file"
    if anchor:
        assert destination.suffix == ".md", f"{at}: {target}"
        assert anchor in anchors(destination), f"{at}: {target}: no such heading"


def test_every_relative_link_in_the_readme_and_docs_resolves() -> None:
    links = relative_links()
    assert len(links) >= 50
    for page_name, folder, target in links:
        base = Path(folder) if target.split("#")[0] else ROOT / page_name
        resolve(base, target, page_name)


def site_url() -> str | None:
    match = re.search(r"^site_url:\s*(\S+)", (ROOT / "mkdocs.yml").read_text(), re.M)
    return match.group(1).rstrip("/") + "/" if match else None


def source_doc_links() -> list[tuple[str, str]]:
    """Links into the docs in the package's source (error hints): `docs/...md#anchor`, and
    the site's own URL when mkdocs.yml names one."""
    patterns = [r"\bdocs/[\w/.-]+\.md(?:#[\w-]+)?"]
    url = site_url()
    if url:
        patterns.append(re.escape(url) + r"[\w/.-]*(?:#[\w-]+)?")
    out = []
    for path in sorted((ROOT / "refold_contract").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            out += [(f"{name(path)}", m) for m in re.findall(pattern, text)]
    return out


def site_target(link: str, url: str | None) -> str:
    """A link into the site, as a path under the repository root."""
    if url and link.startswith(url):
        rest, _, anchor = link[len(url) :].partition("#")
        rest = rest.strip("/")
        file = f"docs/{rest}.md" if rest else "docs/index.md"
        if not (ROOT / file).is_file():
            file = f"docs/{rest}/index.md"
        return file + (f"#{anchor}" if anchor else "")
    return link


def test_every_docs_link_in_the_package_source_resolves() -> None:
    url = site_url()
    for source, link in source_doc_links():
        resolve(ROOT, site_target(link, url), source)
