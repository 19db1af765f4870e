"""The catalogue as a collection: layered folders loaded into actions, looked up by slug and id.

:class:`Catalogue` loads ``<slug>/<action_id>.json`` folders in order (a later folder's entry
replaces an earlier one with the same slug and action id, or, with ``"extends": true``, adds
its examples to it), keeps the actions in Refold's
documented order, finds one by key with close names suggested when it is missing, and lints
folders. :meth:`Catalogue.builtin` is the catalogue shipped with the package, loaded once.

Example::

    catalogue = Catalogue.load(Catalogue.builtin_path(), "tests/refold_fixtures")
    catalogue.get("hubspot", "create_contact").required     # ('email',)
    catalogue.suggest_app("hubspt")                          # ['hubspot']
"""

from __future__ import annotations

import difflib
import functools
import gc
import importlib.resources
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from refold_contract._core.json import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH
from refold_contract.access import Access
from refold_contract.catalogue.builder import load_action, suggest_base
from refold_contract.catalogue.files import list_folder, stray_problem
from refold_contract.catalogue.lint import LintReport, dropped_state_problem, lint_folders
from refold_contract.catalogue.model import Action
from refold_contract.errors import ActionNotInCatalogue, CatalogueError

__all__ = ["Catalogue"]


class Catalogue:
    """A set of actions by slug and action id, loaded from layered folders.

    ``actions(slug)`` (what the mock's list operation serves) is in Refold's documented order:
    actions with a ``position`` first, by position, then the others by id.

    Example::

        catalogue = Catalogue.builtin()
        catalogue.apps()                      # ['gmail', 'hubspot', ...]
        [a.action_id for a in catalogue.actions("slack")]
        catalogue.get("hubspot", "get_contact").examples[0].data
    """

    def __init__(self, actions: Iterable[Action] = (), *, folders: Sequence[Path] = ()) -> None:
        by_key: dict[tuple[str, str], Action] = {}
        for action in actions:
            by_key[(action.slug, action.action_id)] = action
        self._actions: dict[tuple[str, str], Action] = dict(
            sorted(by_key.items(), key=lambda item: (item[0][0], *_list_order(item[1])))
        )
        self._by_app: dict[str, list[Action]] = {}
        for (slug, _), action in self._actions.items():
            self._by_app.setdefault(slug, []).append(action)
        self.folders: tuple[Path, ...] = tuple(folders)
        #: Warnings for files that replaced an action and left out its state block (load).
        self.dropped_state: tuple[CatalogueError, ...] = ()

    @staticmethod
    def builtin_path() -> Path:
        """The folder of the catalogue shipped with the package.

        Inside a wheel it is package data; in a source checkout it is the top-level
        ``fixtures/``.

        Example::

            Catalogue.builtin_path() / "hubspot" / "get_contact.json"
        """
        packaged = importlib.resources.files("refold_contract") / "_builtin_fixtures"
        if packaged.is_dir():
            return Path(str(packaged))
        return Path(__file__).resolve().parent.parent.parent / "fixtures"

    @classmethod
    def builtin(cls) -> Catalogue:
        """The built-in catalogue, loaded once per process.

        Example::

            len(Catalogue.builtin())   # number of built-in actions
        """
        return _builtin()

    @classmethod
    def load(
        cls,
        *folders: str | Path,
        include_builtin: bool = False,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Catalogue:
        """Load catalogue folders in order; a later folder's action replaces an earlier one.

        A file with ``"extends": true`` adds its examples to the action the folders before it
        hold instead (the name, parameters and state block stay that action's); with no such
        action underneath, it is a :class:`CatalogueError` naming the file.

        Raises :class:`CatalogueError` for the first malformed file, naming the file and the
        JSON pointer (with line and column for JSON that does not parse), or the limit a file
        passes: ``max_depth`` levels of nesting, ``max_bytes`` bytes per file.

        Example::

            Catalogue.load("tests/refold_fixtures", include_builtin=True)
            Catalogue.load("big_recordings", max_bytes=100_000_000)
        """
        paths = [Path(f) for f in folders]
        if include_builtin:
            paths.insert(0, cls.builtin_path())
        actions: dict[tuple[str, str], Action] = {}
        dropped: list[CatalogueError] = []
        # Every object built here lives as long as the catalogue, so the cyclic collector's
        # passes during the load find nothing to free; pausing it makes large loads ~25% faster.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for folder in paths:
                files, strays = list_folder(folder)
                if strays:
                    raise stray_problem(folder, strays[0], files, max_depth, max_bytes)
                for file, slug in files:
                    # The file must name this slug and action id (it does not load otherwise).
                    replaced = actions.get((slug, file.stem))
                    try:
                        action = load_action(file, slug=slug, base=replaced,
                                             max_depth=max_depth, max_bytes=max_bytes)  # fmt: skip
                    except CatalogueError as exc:
                        raise suggest_base(exc, slug, file.stem, actions) from None
                    if replaced is not None and replaced.state is not None and not action.state:
                        dropped.append(dropped_state_problem(action, file))
                    actions[(action.slug, action.action_id)] = action
        finally:
            if collecting:
                gc.enable()
        catalogue = cls(actions.values(), folders=paths)
        catalogue.dropped_state = tuple(dropped)
        return catalogue

    @classmethod
    def lint(
        cls,
        *folders: str | Path,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> list[CatalogueError]:
        """Every problem in the given folders, errors and warnings, without stopping at the first.

        Each problem's ``severity`` is ``"error"`` or ``"warning"``; :meth:`lint_report` also
        counts the files.

        Example::

            for problem in Catalogue.lint("fixtures"):
                print(problem.severity, problem)
        """
        return list(cls.lint_report(*folders, max_depth=max_depth, max_bytes=max_bytes).problems)

    @classmethod
    def lint_report(
        cls,
        *folders: str | Path,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> LintReport:
        """Check folders as ``refold-contract lint`` does: every problem, and the files seen.

        Folders are layered as :meth:`load` layers them, over the built-in catalogue: an
        extending file (``"extends": true``) is checked against the action the built-in
        catalogue and the folders before it hold. Beyond what :meth:`load` refuses, lint
        reports duplicate keys, numbers too large for a float, an ``evidence`` object missing
        from a built-in file (one in :meth:`builtin_path`), state blocks on one object type
        with different ``record`` models, and, as warnings, example params the schema does not
        name or of the wrong type, unknown field types, two actions of one app at the same
        ``position``, and a file that replaces an action with a state block without one.

        Example::

            report = Catalogue.lint_report("tests/refold_fixtures")
            report.ok, len(report.errors), len(report.warnings), report.files
        """
        builtin = cls.builtin()
        return lint_folders(
            folders,
            builtin=cls.builtin_path(),
            max_depth=max_depth,
            max_bytes=max_bytes,
            bases={(a.slug, a.action_id): a for a in builtin},
        )

    def get(self, slug: str, action_id: str) -> Action:
        """The action, or :class:`ActionNotInCatalogue` with close names suggested.

        Example::

            catalogue.get("hubspot", "get_contact")
        """
        __tracebackhide__ = True
        action = self._actions.get((slug, action_id))
        if action is None:
            raise ActionNotInCatalogue(
                slug, action_id, self.suggest(slug, action_id), known_apps=self.apps()
            )
        return action

    def find(self, slug: str, action_id: str) -> Action | None:
        """The action, or ``None``.

        Example::

            catalogue.find("hubspot", "nope") is None
        """
        return self._actions.get((slug, action_id))

    def suggest(self, slug: str, action_id: str, n: int = 3) -> list[str]:
        """Up to ``n`` ``slug/action_id`` keys close to the one asked for.

        Example::

            catalogue.suggest("hubspot", "get_contacts")   # ['hubspot/get_contact', ...]
        """
        keys = [a.key for a in self._actions.values()]
        wanted = f"{slug}/{action_id}"
        close = difflib.get_close_matches(wanted, keys, n=n, cutoff=0.6)
        if not close and slug in self._by_app:
            ids = [a.action_id for a in self._by_app[slug]]
            close = [f"{slug}/{i}" for i in difflib.get_close_matches(action_id, ids, n=n)]
        return close

    def suggest_app(self, slug: str, n: int = 3) -> list[str]:
        """Up to ``n`` app slugs close to the one asked for.

        Example::

            Catalogue.builtin().suggest_app("hubspt")   # ['hubspot']
        """
        return difflib.get_close_matches(slug, self.apps(), n=n)

    def apps(self) -> list[str]:
        """The application slugs, sorted.

        Example::

            Catalogue.builtin().apps()   # ['gmail', 'hubspot', 'netsuite', ...]
        """
        return list(self._by_app)

    def has_app(self, slug: str) -> bool:
        """True when at least one action of ``slug`` is in the catalogue.

        Example::

            Catalogue.builtin().has_app("hubspot")   # True
        """
        return slug in self._by_app

    def actions(self, slug: str | None = None, *, access: Access | None = None) -> list[Action]:
        """The actions of one app (or all, app by app), optionally only reads or only writes.

        In Refold's documented order: actions with a ``position`` first, by position, then the
        others by id.

        Example::

            catalogue.actions("hubspot", access="read")
        """
        pool = self._by_app.get(slug, []) if slug is not None else self._actions.values()
        return [a for a in pool if access is None or a.access == access]

    def __len__(self) -> int:
        return len(self._actions)

    def __iter__(self) -> Iterator[Action]:
        return iter(self._actions.values())

    def __contains__(self, key: object) -> bool:
        return key in self._actions

    def __repr__(self) -> str:
        return f"<Catalogue {len(self)} actions in {len(self._by_app)} apps>"


def _list_order(action: Action) -> tuple[bool, int, str]:
    """Documented actions first, in Refold's order; the rest after them, by id."""
    position = action.position
    return (position is None, position or 0, action.action_id)


@functools.lru_cache(maxsize=1)
def _builtin() -> Catalogue:
    return Catalogue.load(Catalogue.builtin_path())
