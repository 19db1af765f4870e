from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import cast

import pytest

import refold_contract

ROOT = Path(__file__).resolve().parent.parent


def test_all_is_sorted_and_lists_exactly_the_public_names() -> None:
    exported = refold_contract.__all__
    assert exported == sorted(exported)
    public = {
        name
        for name, value in vars(refold_contract).items()
        if not name.startswith("_") and not isinstance(value, type(refold_contract))
    }
    lazy = set(refold_contract._LAZY)  # loaded on first use
    assert set(exported) == (public | lazy) - {"annotations", "TYPE_CHECKING", "Any"}
    for name in exported:
        assert getattr(refold_contract, name) is not None
    with pytest.raises(AttributeError):
        refold_contract.NoSuchName  # noqa: B018


def test_importing_the_package_leaves_the_client_and_httpx_alone() -> None:
    code = "import sys, refold_contract; print('httpx' in sys.modules, 'refold_contract.client' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_every_public_name_has_a_docstring_with_an_example() -> None:
    for name in refold_contract.__all__:
        doc = getattr(refold_contract, name).__doc__ or ""
        assert "Example" in doc or ">>>" in doc, name


def test_the_package_imports_without_pytest_hypothesis_or_syrupy() -> None:
    code = (
        "import sys, refold_contract, refold_contract.client, refold_contract.catalogue, "
        "refold_contract.cli\n"
        "loaded = sorted(m for m in ('pytest', 'hypothesis', 'syrupy', 'respx', 'uvicorn')"
        " if m in sys.modules)\n"
        "print(','.join(loaded))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_py_typed_marker_is_present() -> None:
    assert (Path(refold_contract.__file__).parent / "py.typed").is_file()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("refold_contract-*.whl")
    return path


def test_the_wheel_ships_the_builtin_catalogue_and_entry_points(wheel: Path) -> None:
    source_files = sorted(
        p.relative_to(ROOT / "fixtures").as_posix() for p in (ROOT / "fixtures").rglob("*.json")
    )
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        shipped = sorted(
            n.removeprefix("refold_contract/_builtin_fixtures/")
            for n in names
            if n.startswith("refold_contract/_builtin_fixtures/") and n.endswith(".json")
        )
        assert shipped == source_files
        assert "refold_contract/py.typed" in names
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        text = archive.read(entry_points).decode()
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "refold-contract = refold_contract.cli:main" in text
    assert "Requires-Python: >=3.10" in metadata
    for dependency in ("httpx", "respx", "pytest", "hypothesis", "syrupy"):
        assert f"Requires-Dist: {dependency}" in metadata


def test_the_installed_wheel_reads_its_catalogue_with_importlib_resources(
    wheel: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")
    code = (
        "import json, refold_contract\n"
        "from refold_contract import Catalogue\n"
        "c = Catalogue.builtin()\n"
        "print(json.dumps([str(Catalogue.builtin_path()), len(c), refold_contract.__file__]))"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(tmp_path / 'site')!r})\n" + code,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path, count, module = json.loads(out)
    assert path.startswith(str(tmp_path / "site"))
    assert module.startswith(str(tmp_path / "site"))
    assert count == len(list((ROOT / "fixtures").rglob("*.json")))


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _core_distributions() -> set[str]:
    """refold-contract and everything its default install pulls in, transitively."""
    from packaging.requirements import Requirement

    found: set[str] = set()
    todo = ["refold-contract"]
    while todo:
        name = _normal(todo.pop())
        if name in found:
            continue
        found.add(name)
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return found


def test_a_downstream_project_needs_only_pip_install_refold_contract(
    wheel: Path, tmp_path: Path
) -> None:
    """Builds the wheel, installs it into a fresh venv, runs examples/downstream.

    Tests never reach the internet, so the venv borrows this environment's packages for the
    wheel's dependencies (a path file after its own site-packages) and pip installs the wheel
    alone, from the file. `.ci/run` installs the project from the registry into an empty venv and
    runs the same example project, which is the check that the declared dependencies suffice.
    """
    import shutil
    import sysconfig
    import venv

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    own_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # Only a site directory's path files are read, so this environment's editable install of the
    # project (a path file in the borrowed directory) does not shadow the installed wheel.
    Path(own_site, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--disable-pip-version-check", "--no-index", "--no-deps", str(wheel)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    if install.returncode != 0:
        pytest.fail(f"pip install of the wheel failed:\n{install.stderr[-2000:]}")
    where = subprocess.run(
        [str(python), "-c", "import refold_contract; print(refold_contract.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(Path(own_site)), where  # the wheel, not this checkout
    project = tmp_path / "downstream"
    shutil.copytree(ROOT / "examples" / "downstream", project)
    env = {
        k: v
        for k, v in __import__("os").environ.items()
        if not k.startswith(("REFOLD_", "PYTEST_"))
    }
    # The borrowed packages include this project's development plugins, which a downstream
    # project that installed refold-contract alone would not have: they are switched off.
    extra = sorted(
        ep.name
        for ep in importlib.metadata.entry_points(group="pytest11")
        if ep.dist is not None and _normal(ep.dist.name) not in _core_distributions()
    )
    assert extra, "the development environment's own plugins were not found"
    # As the example's README runs it, with the `pytest` command: nothing puts the project's
    # folder on sys.path but its pytest.ini (PYTHONSAFEPATH keeps `python -m` from adding it).
    env["PYTHONSAFEPATH"] = "1"
    done = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            *(arg for name in extra for arg in ("-p", f"no:{name}")),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "7 passed" in done.stdout
    assert "refold-contract 0.1.0: mode mock" in done.stdout
    builtin = refold_contract.Catalogue.builtin()
    # examples/downstream layers one action over an app the built-in catalogue has.
    assert f"catalogue {len(builtin) + 1} actions in {len(builtin.apps())} apps" in done.stdout
    assert "(built-in + 1 folder(s))" in done.stdout


def test_tests_cannot_reach_the_internet() -> None:
    """The project's conftest lets this process resolve loopback names only."""
    import httpx

    with pytest.raises(httpx.ConnectError, match="only loopback is allowed"):
        httpx.get("https://app.refold.ai/api/v2/integration-schema/hubspot/actions")


MODULES = ["catalogue", "client", "config", "contract", "errors", "live", "cli.live", "mock",
           "mock.server", "snapshot", "strategies"]  # fmt: skip


@pytest.mark.parametrize("module", MODULES)
def test_every_public_name_in_every_module_has_a_docstring_with_an_example(module: str) -> None:
    import importlib

    mod = importlib.import_module(f"refold_contract.{module}")
    missing = []
    for name in getattr(mod, "__all__", []):
        value = getattr(mod, name)
        if not callable(value) or getattr(value, "__module__", "") == "typing":
            continue  # constants and type aliases such as catalogue.Access
        doc = value.__doc__ or ""
        if "Example" not in doc and ">>>" not in doc:
            missing.append(name)
    assert missing == []


def test_the_readme_documents_every_option_ini_key_marker_fixture_and_command(
    pytester: pytest.Pytester,
) -> None:
    import re

    # The README is short now; the docs site (docs/**/*.md) holds the rest.
    readme = "\n".join(
        p.read_text(encoding="utf-8")
        for p in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    )
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    help_text = pytester.runpytest("--help").stdout.str()
    options = set(re.findall(r"(--refold-[a-z-]+)", help_text))
    ini_keys = set(re.findall(r"^  (refold_[a-z_]+) \(", help_text, re.MULTILINE))
    assert options
    assert ini_keys
    for name in sorted(options | ini_keys):
        assert name in readme, name
    from refold_contract._plugin.markers import marker_keywords

    for name in ("refold_catalogue", "refold_mock", "refold_client", "async_refold_client",
                 "refold_server", "refold_snapshot", "@pytest.mark.refold(", "refold_live",
                 *marker_keywords()):  # fmt: skip
        assert name in readme, name
    from refold_contract.cli import build_parser

    parser = build_parser()
    commands = cast(
        "dict[str, object]",
        parser._subparsers._group_actions[0].choices,  # type: ignore[union-attr]
    )
    for command in commands:
        assert f"refold-contract {command}" in readme, command


def test_the_version_is_written_once_and_read_by_the_metadata_and_the_cli() -> None:
    import importlib.metadata

    assert refold_contract.__version__ == importlib.metadata.version("refold-contract")
    done = subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == f"refold-contract {refold_contract.__version__}"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "\nversion =" not in pyproject
    assert 'dynamic = ["version"]' in pyproject
