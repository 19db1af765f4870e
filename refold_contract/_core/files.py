"""Files written safely: an atomic JSON write under a per-file lock, and a path kept inside its
folder whatever ids a server sends.

Example::

    from refold_contract._core.files import contained_path, write_json_atomically

    write_json_atomically(contained_path(Path("mine"), "hubspot", "get_contact"), document)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from secrets import token_hex
from typing import Any

from refold_contract._core import endpoint as ep
from refold_contract._core.json import dumps_standard
from refold_contract.errors import CatalogueError

__all__ = ["contained_path", "locked", "write_json_atomically", "write_text_atomically"]


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock beside ``path`` (one writer per file across xdist workers)."""
    # Lock files live outside the user's folder, so nothing is left beside their fixtures.
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    locks = Path(tempfile.gettempdir()) / "refold-contract-locks"
    locks.mkdir(exist_ok=True)
    lock = locks / f"{digest}.lock"
    with open(lock, "a+") as handle:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not POSIX: single writer assumed
            pass
        yield


def write_json_atomically(path: Path, document: Any) -> None:
    """Write JSON to a temporary file beside ``path``, fsync, then rename over it.

    A process killed at any moment leaves either the old file or the new one, never half. The
    file gets ordinary permissions (0666 less the umask), as any file the user writes.

    Example::

        write_json_atomically(Path("fixtures/hubspot/get_contact.json"), doc)
    """
    write_text_atomically(path, dumps_standard(document, indent=2, ensure_ascii=False) + "\n")


def write_text_atomically(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write ``text`` as :func:`write_json_atomically` writes JSON: whole or not at all. With
    ``mode``, the file gets exactly that mode, whatever the umask.

    Example::

        write_text_atomically(Path("/srv/refold/client-token"), token + "\\n", mode=0o644)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def contained_path(folder: Path, slug: str, action_id: str) -> Path:
    """``folder/slug/action_id.json``, refusing ids outside Refold's alphabet and any path that
    would resolve outside ``folder`` (hostile ids from a server, symlinks).

    Example::

        contained_path(Path("mine"), "hubspot", "get_contact")   # mine/hubspot/get_contact.json
        contained_path(Path("mine"), "hubspot", "../../x")        # raises CatalogueError
    """
    for kind, value in (("slug", slug), ("action id", action_id)):
        if not ep.is_valid_id(value):
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise CatalogueError(
                f"refusing to write a catalogue file for {kind} {shown}: not a Refold id",
                path=str(folder),
                hint="ids use letters, digits, _, - and . (not ..); the server sent this one",
            )
    path = folder / slug / f"{action_id}.json"
    root = folder.resolve()
    if root != path.resolve() and root not in path.resolve().parents:
        raise CatalogueError(
            f"refusing to write {slug}/{action_id}.json: it resolves outside {folder}",
            path=str(path),
            hint="a symlink in the folder points elsewhere; remove it",
        )
    return path
