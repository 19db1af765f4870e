"""The package's shape, checked: no import circle, no module over 800 lines, one exception root,
and the public face importable as the docs show it.

The layer order itself is import-linter's job (``lint-imports``, configured in pyproject.toml and
run by ``.ci/run``); these tests cover what a layers contract does not: a circle inside one
package, and the size and error rules the structure promises.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import warnings
from pathlib import Path

import grimp
import pytest

import refold_contract
from refold_contract.errors import RefoldError, RefoldWarning

PACKAGE = Path(refold_contract.__file__).parent
# Run as scripts, not imported: importing them would start a command or a gateway child.
ENTRY_POINTS = {"refold_contract.cli.__main__", "refold_contract.live.gateway.__main__"}


def all_modules() -> list[str]:
    names = ["refold_contract"]
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="refold_contract."):
        names.append(info.name)
    return sorted(set(names) - ENTRY_POINTS)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("refold_contract", exclude_type_checking_imports=False)


def test_no_module_imports_itself_back_through_any_path(graph: grimp.ImportGraph) -> None:
    """Every import counts, deferred and type-checking ones included: a circle hidden inside a
    function is still a circle for whoever changes either side."""
    circles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                circles.append(" -> ".join((module, *back)))
    assert circles == []


def test_access_imports_nothing_from_the_package(graph: grimp.ImportGraph) -> None:
    assert graph.find_modules_directly_imported_by("refold_contract.access") == set()


def test_mock_and_live_never_import_each_other(graph: grimp.ImportGraph) -> None:
    for source, target in (("mock", "live"), ("live", "mock")):
        chain = graph.find_shortest_chains(
            importer=f"refold_contract.{source}", imported=f"refold_contract.{target}"
        )
        assert chain == set(), (source, target)


def test_no_module_is_over_800_lines() -> None:
    sizes = {
        str(path.relative_to(PACKAGE.parent)): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert {path: n for path, n in sizes.items() if n > 800} == {}


def test_the_mock_facade_stays_small() -> None:
    source = (PACKAGE / "mock" / "__init__.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    (facade,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "RefoldMock"]
    assert facade.end_lineno is not None
    assert facade.end_lineno - facade.lineno + 1 <= 400


def test_every_exception_and_warning_the_package_defines_has_one_root() -> None:
    strays = []
    for name in all_modules():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if not value.__module__.startswith("refold_contract"):
                continue
            if issubclass(value, Warning):
                if not issubclass(value, RefoldWarning):
                    strays.append(f"{value.__module__}.{value.__qualname__}")
            elif issubclass(value, BaseException) and not issubclass(value, RefoldError):
                strays.append(f"{value.__module__}.{value.__qualname__}")
    assert strays == []


def test_every_exception_and_warning_is_defined_in_the_errors_module() -> None:
    """In ``refold_contract.errors`` (a package: the roots and the API envelope's family in
    modules of their own, all exported from it)."""
    import refold_contract.errors as errors

    elsewhere = set()
    for name in all_modules():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, (BaseException, Warning))
                and value.__module__.startswith("refold_contract")
                and not (
                    value.__module__ == "refold_contract.errors"
                    or (
                        value.__module__.startswith("refold_contract.errors.")
                        and getattr(errors, value.__name__, None) is value
                    )
                )
            ):
                elsewhere.add(f"{value.__module__}.{value.__qualname__}")
    assert elsewhere == set()


def test_the_public_face_names_the_mock_the_contract_and_the_strategies() -> None:
    from refold_contract import ConsumerContract, RefoldMock, SandboxMachine, params

    assert RefoldMock.__module__.startswith("refold_contract.mock")
    assert ConsumerContract.__module__.startswith("refold_contract.consumer")
    assert params.__module__ == "refold_contract.strategies"
    assert SandboxMachine.__module__.startswith("refold_contract.sandbox")


def test_the_moved_server_module_still_imports_from_its_old_path() -> None:
    from refold_contract.mock.server import running_server as new
    from refold_contract.server import running_server as old

    assert old is new


def test_the_client_logger_keeps_its_name() -> None:
    import logging

    from refold_contract import client

    assert client.logger is logging.getLogger("refold_contract.client")


# Every import line and dotted name the README documented before the move (issue 19: "every
# import path the README documents today keeps working").
DOCUMENTED_BEFORE_THE_MOVE = [
    "from refold_contract import ActionFailed, Catalogue, InvalidParams, RefoldClient",
    "from refold_contract.mock import RefoldMock",
    "from refold_contract.sandbox.stateful import SandboxMachine",
    "from refold_contract.server import running_server",
    "from refold_contract.snapshot import RefoldSnapshotExtension, Rule, shape",
    "from refold_contract.snapshot import normalizer, register_secrets",
    "from refold_contract.strategies import invalid_params, params, responses",
    "from refold_contract.custody import CredentialKeptOut",
    "from refold_contract.config import Limits",
    "from refold_contract.access import WRITE_WORDS, access_of",
    "from refold_contract.catalogue import DEFAULT_MAX_DEPTH",
    "from refold_contract.consumer import mark_whole",
    "from refold_contract.sandbox import parse_soql",
    "import refold_contract.contract",
    "import refold_contract.client",
]


@pytest.mark.parametrize("line", DOCUMENTED_BEFORE_THE_MOVE)
def test_every_import_the_readme_documented_before_the_move_still_works(line: str) -> None:
    exec(compile(line, "<README>", "exec"), {})


def test_the_moved_warning_is_one_class_under_both_names() -> None:
    from refold_contract.custody import CredentialKeptOut as old
    from refold_contract.errors import CredentialKeptOut as new

    assert old is new
    assert issubclass(new, RefoldWarning)
