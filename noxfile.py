"""Run the suite against the versions pyproject.toml allows: `nox` (the default install),
`nox -s lowest` (the lowest allowed of each library the plugin is built on) and
`nox -s highest` (the newest within the ranges).

The pins come from pyproject.toml, so a raised lower bound is tested without an edit here.
`.ci/run` runs the lowest set as well as the default.
"""

from __future__ import annotations

import re
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "venv"

ROOT = Path(__file__).resolve().parent

#: The libraries whose range the plugin promises: the runtime dependencies and the extras the
#: suite uses (the servers and the CLI's tables).
PINNED = ("pytest", "syrupy", "respx", "hypothesis", "httpx", "uvicorn", "granian", "rich")


def lowest_pins(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """``name==X`` for each library in PINNED, X being the lower bound pyproject.toml gives it.

    A library's plugin or helper whose own lower bound is forced up by one of these (for example
    pytest-asyncio 0.24 needs pytest 8.2) is left to pip to resolve against the pins.
    """
    project = nox.project.load_toml(pyproject)["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    pins: dict[str, str] = {}
    for requirement in requirements:
        found = re.match(
            r"^([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)", requirement
        )
        if found and found.group(1).lower() in PINNED:
            pins[found.group(1).lower()] = found.group(2)
    missing = sorted(set(PINNED) - set(pins))
    if missing:
        raise ValueError(f"pyproject.toml gives no lower bound for {', '.join(missing)}")
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


@nox.session
def tests(session: nox.Session) -> None:
    """The suite on the versions a fresh ``pip install -e '.[dev]'`` picks."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session
def lowest(session: nox.Session) -> None:
    """The suite on the lowest versions pyproject.toml allows of the libraries in PINNED."""
    session.install("-e", ".[dev]", *lowest_pins())
    session.run("pip", "list", silent=False)
    session.run("pytest", *session.posargs)


@nox.session
def highest(session: nox.Session) -> None:
    """The suite on the newest versions pyproject.toml allows (upgrading everything eagerly)."""
    session.install("--upgrade", "--upgrade-strategy", "eager", "-e", ".[dev]")
    session.run("pip", "list", silent=False)
    session.run("pytest", *session.posargs)
