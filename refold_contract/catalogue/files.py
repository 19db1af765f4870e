"""Reading catalogue files strictly and bounded, and listing catalogue folders.

Only regular files are opened (a FIFO never is, a device is never read), at most ``max_bytes``
bytes are read, and the text must be strict UTF-8 JSON within ``max_depth``; every refusal is one
:class:`~refold_contract.errors.CatalogueError` naming the file, with a hint. The walks that only
lint makes (duplicate keys, numbers too large for a float) are here too, as is the listing of a
catalogue folder's ``<slug>/<action_id>.json`` files.

Example::

    document = read_document("fixtures/hubspot/get_contact.json")
    files, strays = list_folder(Path("fixtures"))
    files[0]                  # (PosixPath('fixtures/gmail/get_message.json'), 'gmail')
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from refold_contract._core.json import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, JSONProblem
from refold_contract._core.json import loads as _strict_loads
from refold_contract._core.json import pointer_escape as _escape
from refold_contract.errors import CatalogueError

__all__ = [
    "duplicate_keys",
    "first_non_finite",
    "json_problem",
    "list_folder",
    "read_document",
    "read_file",
    "stray_problem",
    "too_large",
]

_LIMIT_HINT = (
    "raise the limit if the file is right: Catalogue.load(..., {name}=N), "
    "refold-contract lint --{option} N"
)


def read_document(
    path: str | Path,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Any:
    """Read a catalogue file's JSON as the loader does, without building an action.

    Only a regular file is opened (checked with ``stat`` first: a FIFO never is, a device is
    never read), at most ``max_bytes + 1`` bytes are read, and the text must be strict UTF-8
    JSON within ``max_depth``. Anything else raises one :class:`CatalogueError` naming the file.
    For code that rewrites catalogue files, such as a recorder.

    Example::

        document = read_document("tests/refold_fixtures/acme/get_widget.json")
        document["examples"].append(new_example)
    """
    path = Path(path)
    raw = read_file(path, max_bytes)
    try:
        return _strict_loads(raw, max_depth=max_depth, max_bytes=max_bytes)
    except JSONProblem as exc:
        raise json_problem(exc, path, raw, max_depth, max_bytes) from None


_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_file(path: Path, max_bytes: int) -> bytes:
    """At most ``max_bytes`` bytes of a regular file; anything else is a one-line error.

    The file is checked with ``stat`` before it is opened, so a FIFO is never opened (which
    would wait for a writer) and a device such as ``/dev/zero`` is never read. A symlink to a
    regular file is read. Reads ask for the size ``stat`` gave plus one byte, and never for
    more than ``max_bytes + 1`` in all.

    Example::

        raw = read_file(Path("fixtures/hubspot/get_contact.json"), DEFAULT_MAX_BYTES)
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise CatalogueError(
            f"cannot read file: {exc.strerror}",
            path=str(path),
            hint="check that the file exists and is readable (a dangling symlink cannot be read)",
        ) from None
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "not a file")
        raise CatalogueError(
            f"{kind}, not a regular file: only regular files are read as catalogue files",
            path=str(path),
            hint="replace it with a regular JSON file, or rename it so it does not end in .json",
        )
    if info.st_size > max_bytes:
        raise too_large(path, f"{info.st_size:,} bytes", max_bytes)
    try:
        # O_NONBLOCK: should a FIFO replace the file after the stat, opening it cannot hang.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        try:
            data = os.read(fd, info.st_size + 1)
            # Short (a signal) or longer than the stat said (the file grew): read on, bounded.
            while len(data) != info.st_size and len(data) <= max_bytes:
                chunk = os.read(fd, max_bytes + 1 - len(data))
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(fd)
    except OSError as exc:
        raise CatalogueError(
            f"cannot read file: {exc.strerror}", path=str(path), hint="check its permissions"
        ) from None
    if len(data) > max_bytes:
        raise too_large(path, f"more than {max_bytes:,} bytes", max_bytes)
    return data


def too_large(path: Path, size: str, max_bytes: int) -> CatalogueError:
    """The error for a file over ``max_bytes``, with the options that raise the limit.

    Example::

        too_large(path, "2,000,000 bytes", 1_000_000).hint   # 'split its examples, or ...'
    """
    return CatalogueError(
        f"file is too large: {size}, over the limit of max_bytes={max_bytes:,}",
        path=str(path),
        hint="split its examples, or " + _LIMIT_HINT.format(name="max_bytes", option="max-bytes"),
    )


def json_problem(
    exc: JSONProblem, path: Path, raw: bytes, max_depth: int, max_bytes: int
) -> CatalogueError:
    """The error for a file whose bytes ``raw`` the strict reader refused, with a hint.

    Example::

        try:
            loads(raw, max_depth=64, max_bytes=1_000_000)
        except JSONProblem as exc:
            raise json_problem(exc, path, raw, 64, 1_000_000) from None
    """
    where = str(path)
    if exc.kind == "not_json":
        return CatalogueError(
            f"malformed JSON: {str(exc).removeprefix('not JSON: ')}",
            path=where,
            line=exc.line,
            column=exc.column,
            hint=(
                "a trailing comma before the closing bracket: JSON allows none there; remove it"
                if _after_trailing_comma(raw.decode("utf-8-sig"), exc.line, exc.column)
                else "fix the JSON syntax at that line and column"
            ),
        )
    if exc.kind == "not_utf8":
        return CatalogueError(
            f"file is not UTF-8: {exc}",
            path=where,
            hint="save it as UTF-8 JSON (not UTF-16 or UTF-32)",
        )
    if exc.kind == "not_finite":
        return CatalogueError(
            str(exc), path=where, hint='write a number, null, or a string such as "NaN"'
        )
    if exc.kind == "too_deep":
        detail = str(exc).replace(f"limit of {max_depth}", f"limit of max_depth={max_depth}")
        return CatalogueError(
            f"JSON too deep: {detail}",
            path=where,
            hint="flatten the example, or "
            + _LIMIT_HINT.format(name="max_depth", option="max-depth"),
        )
    if exc.kind == "too_large":
        return too_large(path, str(exc).partition(" is over")[0], max_bytes)
    return CatalogueError(
        str(exc).replace(" for integer string conversion", "").split(";")[0],
        path=where,
        hint="write a number this long as a string",
    )


def _after_trailing_comma(text: str | None, line: int | None, column: int | None) -> bool:
    """True when a parse error sits at a closing bracket that follows a comma."""
    if not text or line is None or column is None:
        return False
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return False
    at = sum(len(x) + 1 for x in lines[: line - 1]) + column - 1
    rest = text[at:].lstrip()
    before = text[:at].rstrip()
    return before.endswith(",") and rest[:1] in ("}", "]")


def list_folder(folder: Path) -> tuple[list[tuple[Path, str]], list[Path]]:
    """The ``<slug>/<action_id>.json`` files of a folder, and ``.json`` files lying at its top.

    Files come with their app folder's name (the slug they must declare), sorted; names starting
    with ``.`` or ``_`` are skipped. A missing folder, or a file, raises :class:`CatalogueError`.

    Example::

        files, strays = list_folder(Path("fixtures"))
        files[0]     # (PosixPath('fixtures/gmail/get_message.json'), 'gmail')
    """
    if not folder.is_dir():
        if folder.is_file():
            raise CatalogueError(
                "is a file; catalogue folders are expected",
                path=str(folder),
                hint="pass the folder holding <slug>/<action_id>.json files (every file under it "
                f"is checked), e.g. {folder.parent.parent}",
            )
        raise CatalogueError(
            "catalogue folder does not exist",
            path=str(folder),
            hint="pass a folder holding <slug>/<action_id>.json files",
        )
    with os.scandir(folder) as entries:
        listing = sorted((e.name, e.is_dir()) for e in entries)
    files: list[tuple[Path, str]] = []
    strays: list[Path] = []
    for name, is_dir in listing:
        if name.startswith((".", "_")):
            continue
        entry = folder / name
        if is_dir:
            with os.scandir(entry) as inner:
                names = sorted(f.name for f in inner if f.name.endswith(".json"))
            files.extend((entry / n, name) for n in names if not n.startswith((".", "_")))
        elif name.endswith(".json"):
            strays.append(entry)
    return files, strays


_SAFE_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def stray_problem(
    folder: Path,
    stray: Path,
    files: Sequence[tuple[Path, str]],
    max_depth: int,
    max_bytes: int,
) -> CatalogueError:
    """A ``.json`` file at the top of a catalogue folder, with the folder it belongs in.

    Example::

        files, strays = list_folder(folder)
        problems = [stray_problem(folder, s, files, 64, 1_000_000) for s in strays]
    """
    slug: str | None = None
    try:
        document = read_document(stray, max_depth=max_depth, max_bytes=max_bytes)
    except CatalogueError:
        document = None
    if isinstance(document, dict):
        value = document.get("slug")
        if isinstance(value, str) and _SAFE_SLUG.fullmatch(value):
            slug = value
    if slug is None:
        hint = f"move it to {folder}/<slug>/, the folder named after its app's slug"
    elif slug == folder.name and not files:
        hint = f"pass {folder.parent} (the folder above this app folder) instead"
    else:
        hint = f"move it to {folder / slug}/ (its slug is {slug!r})"
    return CatalogueError(
        "catalogue files belong one folder down, in <slug>/<action_id>.json",
        path=str(stray),
        hint=hint,
    )


def _walk(document: Any) -> Iterator[tuple[Any, str]]:
    """Every value of a parsed document with its JSON pointer, without recursion."""
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        item, where = stack.pop()
        yield item, where
        if isinstance(item, dict):
            stack.extend((v, f"{where}/{_escape(str(k))}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{where}/{i}") for i, v in enumerate(item))


def first_non_finite(document: Any) -> str | None:
    """The pointer of the first float that is not finite (``1e999`` parses as infinity).

    Example::

        first_non_finite({"a": [1, float("inf")]})   # '/a/1'
    """
    for item, where in _walk(document):
        if isinstance(item, float) and not math.isfinite(item):
            return where
    return None


class _Duplicates(dict[str, Any]):
    """An object in which the same key appeared more than once."""

    duplicated: list[str]


def _pairs_with_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    duplicated = []
    for key, _ in pairs:
        if key in seen and key not in duplicated:
            duplicated.append(key)
        seen.add(key)
    marked = _Duplicates(result)
    marked.duplicated = duplicated
    return marked


_DUPLICATE_DECODER = json.JSONDecoder(object_pairs_hook=_pairs_with_duplicates)


def duplicate_keys(text: str) -> list[tuple[str, str]]:
    """``(pointer of the object, key)`` for every key given twice in one object.

    Only called on text the strict reader has accepted, so depth and size are already bounded.

    Example::

        duplicate_keys('{"a": {"b": 1, "b": 2}}')   # [('/a', 'b')]
    """
    found = [
        (where, key)
        for item, where in _walk(_DUPLICATE_DECODER.decode(text))
        if isinstance(item, _Duplicates)
        for key in item.duplicated
    ]
    return sorted(found)
