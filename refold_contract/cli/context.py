"""What a command takes from where it runs: the project's catalogue folders and the credentials.

The folders come from the ``refold_fixtures`` ini key of the project's pytest configuration,
found as pytest finds it; the credentials only from the command's own environment, or from an
env file only its user can read (``refold-contract gateway --env-file``).

Example::

    project_fixtures(Path.cwd())     # [PosixPath('/work/app/tests/refold_fixtures')]
    settings, credentials = working_credentials(None, "the gateway needs")
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from refold_contract.config import Settings
from refold_contract.errors import ConfigurationError

if TYPE_CHECKING:
    from refold_contract._guard.custody import Credentials

__all__ = ["ENV_FILE_VARIABLES", "project_fixtures", "read_env_file", "working_credentials"]

#: The only names an env file may set (``refold-contract gateway --env-file``).
ENV_FILE_VARIABLES: Final = (
    "REFOLD_API_KEY",
    "REFOLD_SESSION_TOKEN",
    "REFOLD_LINKED_ACCOUNT_ID",
    "REFOLD_BASE_URL",
)
#: Far beyond four lines of credentials; a larger file is not the one meant.
_ENV_FILE_LIMIT: Final = 64 * 1024
#: A name shown back in a message: an upper-case variable name, never a pasted value.
_SHOWABLE_NAME: Final = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


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


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """The credentials in an env file: lines ``NAME=value``, blank lines and ``#`` comments.

    Only :data:`ENV_FILE_VARIABLES` may be set, each once; an ``export`` before the name and
    quotes around the value are allowed, nothing else is read into it (no ``$`` expansion, no
    trailing comment). The file must be a regular file of the current user that no one else may
    read or write (mode 0600 or 0400). Anything else raises
    :class:`~refold_contract.errors.ConfigurationError` naming the file, the line and what to
    do, never a value.

    Example::

        read_env_file("refold.env")
        # {'REFOLD_API_KEY': 'tk_...', 'REFOLD_LINKED_ACCOUNT_ID': 'user_1'}
    """
    shown = os.fspath(path)
    try:
        # Non-blocking: a FIFO in its place is refused below, not waited on.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ConfigurationError(
            f"--env-file {shown}: no such file",
            hint="write one with a line REFOLD_API_KEY=... (and REFOLD_LINKED_ACCOUNT_ID=...), "
            f"readable by you alone: chmod 600 {shown}",
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"--env-file {shown}: cannot be opened ({exc.strerror})",
            hint="pass a file of yours that you can read",
        ) from None
    try:
        _check_env_file(shown, os.fstat(fd))
    except ConfigurationError:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(_ENV_FILE_LIMIT + 1)
    if len(data) > _ENV_FILE_LIMIT:
        raise ConfigurationError(
            f"--env-file {shown}: over {_ENV_FILE_LIMIT // 1024} KiB, not an env file of "
            "credentials",
            hint="pass the file with the REFOLD_* lines alone",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigurationError(
            f"--env-file {shown}: not UTF-8 text", hint="save it as UTF-8 text"
        ) from None
    return _parse_env_file(shown, text)


def _check_env_file(shown: str, found: os.stat_result) -> None:
    if not stat.S_ISREG(found.st_mode):
        raise ConfigurationError(
            f"--env-file {shown}: not a regular file", hint="pass the file itself"
        )
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:  # pragma: no cover - Windows: no POSIX owner or mode to check
        return
    if found.st_uid != geteuid():
        raise ConfigurationError(
            f"--env-file {shown}: owned by another user (uid {found.st_uid}), so someone else "
            "controls the credentials the gateway would use",
            hint=f"make your own copy, readable by you alone (chmod 600 {shown})",
        )
    if found.st_mode & 0o077:
        raise ConfigurationError(
            f"--env-file {shown}: others may read or change it (mode "
            f"{stat.S_IMODE(found.st_mode):04o}); it holds credentials",
            hint=f"chmod 600 {shown}",
        )


def _parse_env_file(shown: str, text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    first: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        name = name.strip()
        if not equals or not name:
            raise ConfigurationError(
                f"--env-file {shown}: line {number} is not NAME=value",
                hint="one NAME=value a line; # starts a comment line",
            )
        if name not in ENV_FILE_VARIABLES:
            what = f"{name}, " if _SHOWABLE_NAME.fullmatch(name) else ""
            raise ConfigurationError(
                f"--env-file {shown}: line {number} sets {what}a variable the gateway does not "
                "take from a file",
                hint=f"it takes {', '.join(ENV_FILE_VARIABLES)}; set other settings in its "
                "environment or options",
            )
        if name in first:
            raise ConfigurationError(
                f"--env-file {shown}: line {number} sets {name} again (first on line "
                f"{first[name]})",
                hint="keep one line for it",
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if not value:
            raise ConfigurationError(
                f"--env-file {shown}: line {number} gives {name} no value",
                hint=f"write {name}=<value>, or leave the line out",
            )
        first[name] = number
        values[name] = value
    return values


def working_credentials(
    base_url: str | None,
    needs: str,
    *,
    where: str = "in the environment",
    env_file: str | os.PathLike[str] | None = None,
    hint: str | None = None,
) -> tuple[Settings, Credentials]:
    """The settings and the credentials from this command's environment, all of them present;
    with ``env_file``, the names set in that file (:func:`read_env_file`) win over the
    environment's.

    Example::

        settings, credentials = working_credentials(args.base_url, "verify --live needs")
    """
    from refold_contract._guard.custody import Credentials

    env: Mapping[str, str] = os.environ
    if env_file is not None:
        env = {**os.environ, **read_env_file(env_file)}
    settings = Settings.resolve(base_url=base_url, env=env)
    settings.require_credentials(needs, where=where, hint=hint)
    credentials = Credentials(
        api_key=settings.api_key,
        linked_account_id=settings.linked_account_id,
        session_token=settings.session_token,
    )
    return settings, credentials
