"""What a command takes from where it runs: the project's catalogue folders and the credentials.

The folders come from the ``refold_fixtures`` ini key of the project's pytest configuration,
found as pytest finds it; the credentials only from the command's own environment.

Example::

    project_fixtures(Path.cwd())     # [PosixPath('/work/app/tests/refold_fixtures')]
    settings, credentials = working_credentials(None, "the gateway needs")
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from refold_contract.config import Settings

if TYPE_CHECKING:
    from refold_contract._guard.custody import Credentials

__all__ = ["project_fixtures", "working_credentials"]


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10: pytest itself depends on tomli there
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    result: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    return result


def project_fixtures(start: Path) -> list[Path]:
    """The catalogue folders in the project's ``refold_fixtures`` ini key, as the plugin reads it.

    Looks from ``start`` upwards for the file pytest would use: ``pytest.ini`` (always),
    ``pyproject.toml`` with ``[tool.pytest.ini_options]``, ``tox.ini`` with ``[pytest]``,
    ``setup.cfg`` with ``[tool:pytest]``. Paths are relative to that file's folder.

    Example::

        project_fixtures(Path.cwd())     # [PosixPath('/work/app/tests/refold_fixtures')]
    """
    import configparser

    for folder in [start, *start.parents]:
        for name, section in (
            ("pytest.ini", "pytest"),
            ("pyproject.toml", None),
            ("tox.ini", "pytest"),
            ("setup.cfg", "tool:pytest"),
        ):
            path = folder / name
            if not path.is_file():
                continue
            if section is None:
                try:
                    table = _read_toml(path)
                except (OSError, ValueError):
                    continue
                options = table.get("tool", {}).get("pytest", {}).get("ini_options")
                if options is None:
                    continue
                raw = options.get("refold_fixtures", [])
                values = [raw] if isinstance(raw, str) else [str(v) for v in raw]
                return [folder / v for v in values]
            parser = configparser.ConfigParser(interpolation=None)
            try:
                parser.read(path, encoding="utf-8")
            except (configparser.Error, OSError, UnicodeDecodeError):
                continue
            if not parser.has_section(section):
                if name == "pytest.ini":
                    return []  # pytest.ini decides, even without its section
                continue
            raw_text = parser.get(section, "refold_fixtures", fallback="")
            return [folder / v for v in raw_text.split()]
    return []


def working_credentials(
    base_url: str | None, needs: str, *, where: str = "in the environment"
) -> tuple[Settings, Credentials]:
    """The settings and the credentials from this command's environment, all of them present.

    Example::

        settings, credentials = working_credentials(args.base_url, "verify --live needs")
    """
    from refold_contract._guard.custody import Credentials

    settings = Settings.resolve(base_url=base_url)
    settings.require_credentials(needs, where=where)
    credentials = Credentials(
        api_key=settings.api_key,
        linked_account_id=settings.linked_account_id,
        session_token=settings.session_token,
    )
    return settings, credentials
