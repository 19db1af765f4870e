"""Linting catalogue folders: every problem in every file, errors and warnings, and the count.

:func:`validate_file` checks one file without stopping at its first problem;
:func:`lint_folders` (what :meth:`Catalogue.lint_report
<refold_contract.catalogue.collection.Catalogue.lint_report>` and ``refold-contract lint`` run)
checks folders, adding the rules that span files: two actions of one app at the same
``position``, state blocks on one object type with different ``record`` models, and extending
files (``"extends": true``) checked against the action the folders before them hold.

Example::

    report = lint_folders(["tests/refold_fixtures"], builtin=Catalogue.builtin_path())
    report.ok, len(report.errors), len(report.warnings), report.files
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from refold_contract._core.json import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH
from refold_contract.catalogue.builder import ActionBuilder, suggest_base
from refold_contract.catalogue.files import list_folder, stray_problem
from refold_contract.catalogue.model import Action
from refold_contract.errors import CatalogueError

__all__ = ["LintReport", "lint_folders", "validate_file"]


@dataclasses.dataclass(frozen=True)
class LintReport:
    """What ``refold-contract lint`` found: every problem, and how many files it looked at.

    Warnings do not fail a lint; ``ok`` is true when there is no error.

    Example::

        report = Catalogue.lint_report("tests/refold_fixtures")
        for problem in report.problems:
            print(problem.severity, problem.location, problem.message)
        raise SystemExit(0 if report.ok else 1)
    """

    problems: tuple[CatalogueError, ...]
    files: int
    folders: tuple[Path, ...] = ()
    #: The actions whose file does not say their access, which the name decided:
    #: ``(file, action, access)``, for a person to review (``refold-contract lint`` lists them).
    inferred: tuple[tuple[Path, Action, str], ...] = ()

    @property
    def errors(self) -> list[CatalogueError]:
        """The problems that fail a lint."""
        return [p for p in self.problems if p.severity != "warning"]

    @property
    def warnings(self) -> list[CatalogueError]:
        """The problems worth fixing that the loader accepts."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when no problem is an error."""
        return not self.errors


def validate_file(
    path: str | Path,
    *,
    slug: str | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_bytes: int = DEFAULT_MAX_BYTES,
    lint: bool = False,
    require_evidence: bool = False,
    base: Action | None = None,
) -> tuple[Action | None, list[CatalogueError]]:
    """Check one file: the action (``None`` on any error) and every problem found.

    Problems are errors and warnings (``problem.severity``). ``lint=True`` adds the checks
    only lint makes (duplicate keys); ``require_evidence=True`` makes a missing ``evidence``
    object an error, as for built-in files. ``base`` is the action an extending file
    (``"extends": true``) adds its examples to, whose parameters check them.

    Example::

        action, problems = validate_file("mine/acme/get_widget.json", lint=True)
        errors = [p for p in problems if p.severity == "error"]
        base = Catalogue.builtin().get("hubspot", "get_contact")
        validate_file("mine/hubspot/get_contact.json", lint=True, base=base)
    """
    builder = ActionBuilder(
        Path(path), slug, lint=lint, require_evidence=require_evidence, base=base
    )
    action = builder.run(max_depth=max_depth, max_bytes=max_bytes)
    problems = builder.problems + builder.warnings
    return (action if not builder.problems else None), problems


def dropped_state_problem(action: Action, file: Path) -> CatalogueError:
    """The warning for a user file that replaces a built-in action and leaves out its state
    block: stateful mode then replays that action instead of computing it.

    Example::

        dropped_state_problem(action, Path("mine/hubspot/search_contacts.json")).severity
        # "warning"
    """
    return CatalogueError(
        f"replaces the built-in {action.key} without its state block, so stateful mode "
        "replays this action instead of computing it (paging, filtering, records)",
        path=str(file),
        pointer="/state",
        action=action.key,
        field="state",
        hint='to add examples only, write "extends": true in your file and keep just slug, '
        "action_id and examples (the built-in name, parameters and state block stay); else copy "
        'the built-in file\'s "state" block into yours (the built-in folder is '
        "refold_contract.Catalogue.builtin_path())",
        severity="warning",
    )


def lint_folders(
    folders: Iterable[str | Path],
    *,
    builtin: Path,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stateful_builtins: frozenset[tuple[str, str]] = frozenset(),
    bases: Mapping[tuple[str, str], Action] | None = None,
) -> LintReport:
    """Check folders as ``refold-contract lint`` does: every problem, and the files seen.

    A file in the folder ``builtin`` (the built-in catalogue) must carry an ``evidence``
    object. The folders are layered in order over ``bases`` (the actions beneath them, by
    ``(slug, action_id)``: the built-in catalogue's): an extending file (``"extends": true``)
    is checked against the action beneath it, and one with none is an error; a file that
    replaces an action with a state block (one of ``bases``, of an earlier folder, or of
    ``stateful_builtins``) without one is warned of. See
    :meth:`Catalogue.lint_report <refold_contract.catalogue.collection.Catalogue.lint_report>`
    for what is checked.

    Example::

        report = lint_folders(["fixtures"], builtin=Catalogue.builtin_path())
        raise SystemExit(0 if report.ok else 1)
    """
    problems: list[CatalogueError] = []
    files_seen = 0
    paths = tuple(Path(f) for f in folders)
    builtin = builtin.resolve()
    models: dict[tuple[str, str], tuple[Any, Path]] = {}
    inferred: list[tuple[Path, Action, str]] = []
    layered: dict[tuple[str, str], Action] = dict(bases or {})
    broken: dict[tuple[str, str], Path] = {}
    for folder in paths:
        try:
            files, strays = list_folder(folder)
        except CatalogueError as exc:
            problems.append(exc)
            continue
        files_seen += len(files) + len(strays)
        problems.extend(stray_problem(folder, s, files, max_depth, max_bytes) for s in strays)
        is_builtin = folder.resolve() == builtin
        positions: dict[tuple[str, int], Path] = {}
        for file, slug in files:
            key = (slug, file.stem)
            beneath = layered.get(key)
            action, found = validate_file(
                file,
                slug=slug,
                max_depth=max_depth,
                max_bytes=max_bytes,
                lint=True,
                require_evidence=is_builtin,
                base=beneath,
            )
            if beneath is None and key in broken:
                found = [_base_broken(p, broken[key]) for p in found]
            found = [suggest_base(p, slug, file.stem, layered) for p in found]
            problems.extend(found)
            if action is None:
                broken[key] = file
                continue
            layered[key] = action
            broken.pop(key, None)
            if action.path == file and action.base_path is not None:
                # An extending file: the name, access, position and state are the base's,
                # checked where that file is.
                continue
            problems.extend(_record_model_clash(action, file, models))
            if (
                not is_builtin
                and action.state is None
                and (
                    key in stateful_builtins or (beneath is not None and beneath.state is not None)
                )
            ):
                problems.append(dropped_state_problem(action, file))
            if not action.access_declared:
                inferred.append((file, action, action.access))
                if is_builtin:
                    problems.append(
                        CatalogueError(
                            "a built-in action must declare its access",
                            path=str(file),
                            pointer="/access",
                            action=action.key,
                            field="access",
                            hint=f"check it against the app's documentation and add "
                            f'"access": "{action.access}" (or "write")',
                        )
                    )
            if action.position is None:
                continue
            first = positions.setdefault((action.slug, action.position), file)
            if first != file:
                problems.append(
                    CatalogueError(
                        f"position {action.position} is also given to {first.name}",
                        path=str(file),
                        pointer="/position",
                        action=action.key,
                        field="position",
                        hint="give each documented action of an app its own place in "
                        "Refold's list (1 is first)",
                        severity="warning",
                    )
                )
    return LintReport(
        problems=tuple(problems), files=files_seen, folders=paths, inferred=tuple(inferred)
    )


def _base_broken(problem: CatalogueError, base_file: Path) -> CatalogueError:
    """An extending file's "no action beneath" error, when the file beneath does not load."""
    if problem.field != "extends" or problem.pointer != "/extends":
        return problem
    return CatalogueError(
        f"extends {problem.action or 'an action'}, whose file in an earlier folder "
        f"({base_file}) does not load",
        path=problem.path,
        pointer=problem.pointer,
        action=problem.action,
        field="extends",
        hint="fix the errors reported for that file first",
    )


def _record_model_clash(
    action: Action, file: Path, seen: dict[tuple[str, str], tuple[Any, Path]]
) -> list[CatalogueError]:
    """Every state block on one object type must keep its records the same way."""
    block = action.state
    if block is None or block.record is None or not block.object:
        return []
    first = seen.setdefault((action.slug, block.object), (block.record, file))
    if first[0] == block.record:
        return []
    return [
        CatalogueError(
            f"the record model of {action.slug} object type {block.object!r} differs from the "
            f"one in {first[1].name}",
            path=str(file),
            pointer="/state/record",
            action=action.key,
            field="state",
            hint="every state block on one object type shares its records: give them the same "
            '"record" (id field, id format, timestamp fields, clock)',
        )
    ]
