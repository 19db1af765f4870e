"""The catalogue: action schemas and recorded replies, one JSON file per action.

A catalogue folder holds ``<slug>/<action_id>.json`` files (format in the README). Folders are
layered: :meth:`Catalogue.load` reads them in order and a later folder's entry replaces an earlier
one with the same slug and action id. The built-in catalogue ships inside the package.

Files are read with the strict, bounded JSON reader: only regular files, UTF-8 only, no NaN or
Infinity, at most ``max_depth`` levels of nesting and ``max_bytes`` bytes (defaults
:data:`DEFAULT_MAX_DEPTH` and :data:`DEFAULT_MAX_BYTES`). :meth:`Catalogue.lint_report` checks
more than the loader (duplicate keys, evidence, positions) and sorts what it finds into errors and
warnings.

Example::

    catalogue = Catalogue.load(Catalogue.builtin_path(), "tests/refold_fixtures")
    action = catalogue.get("hubspot", "create_contact")
    action.check({"firstname": "Ada"})   # [Problem(kind='missing_required', field='email', ...)]
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import gc
import importlib.resources
import json
import math
import os
import re
import stat
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from refold_contract._core import endpoint as ep
from refold_contract._core.json import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    JSONProblem,
    canonical_json,
    json_type,
)
from refold_contract._core.json import allowed_keys_hint as _allowed_keys_hint
from refold_contract._core.json import loads as _strict_loads
from refold_contract._core.json import pointer_escape as _escape
from refold_contract.access import Access, access_from_name
from refold_contract.catalogue.state import StateBlock, parse_state
from refold_contract.errors import (
    ActionNotInCatalogue,
    CatalogueError,
    ProtocolError,
    UnknownFieldType,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "EVIDENCE_LEVELS",
    "FIELD_TYPES",
    "TEXT_TYPES",
    "Access",
    "Action",
    "Catalogue",
    "Evidence",
    "EvidenceLevel",
    "Example",
    "LintReport",
    "Option",
    "Parameter",
    "Problem",
    "access_from_name",
    "canonical_json",
    "json_type",
    "load_action",
    "parse_parameters",
    "read_document",
    "validate_file",
]

ProblemKind = Literal["missing_required", "wrong_type", "unknown_key", "not_an_object"]

#: The field types that take a string. Strict checks hold only these, as declared, to strings:
#: an unknown type is validated as ``text`` but takes any value.
TEXT_TYPES: frozenset[str] = frozenset({"text", "textarea", "password"})
#: Field types refold-contract knows. Any other type is treated as ``text``, with a warning.
FIELD_TYPES: frozenset[str] = TEXT_TYPES | {"number", "email", "url", "json"}

EvidenceLevel = Literal["refold-docs", "observed", "app-docs", "assumed"]

#: Where a fact can come from, most trusted first: Refold's own pages, then what the live API was
#: seen to do (ours or a cited third party's), then the connected app's API reference, then
#: nothing at all.
EVIDENCE_LEVELS: tuple[EvidenceLevel, ...] = ("refold-docs", "observed", "app-docs", "assumed")

_ACTION_KEYS = (
    "slug",
    "action_id",
    "name",
    "description",
    "tag",
    "access",
    "position",
    "evidence",
    "parameters",
    "examples",
    "state",
)
_EVIDENCE_KEYS = ("schema", "reply", "sources", "notes")
_ACTION_KEY_SET = frozenset(_ACTION_KEYS)
_PLAIN_PARAMETER_KEYS = frozenset({"name", "label", "required", "type", "placeholder", "help_text"})
_PARAMETER_KEYS = _PLAIN_PARAMETER_KEYS | {"multiple", "options"}
_EXAMPLE_KEYS = frozenset({"params", "response", "source", "recorded_at", "name"})
_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


@dataclasses.dataclass(frozen=True)
class Problem:
    """One way a parameter body breaks an action's schema.

    ``message`` is the text Refold (or the strict mock) answers with.

    Example::

        [p.message for p in action.check({})]   # ["Required parameter 'email' is missing"]
    """

    kind: ProblemKind
    field: str | None
    message: str


@dataclasses.dataclass(frozen=True)
class Option:
    """One allowed value of a parameter with ``options``.

    Example::

        Option(name="Equals", value="EQ")
    """

    value: Any
    name: str | None = None


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One flat field descriptor of an action's parameter schema, as Refold's schema returns it.

    ``type`` is the declared type; :attr:`kind` is the type refold-contract validates against
    (``text`` for an unknown declared type).

    Example::

        Parameter(name="email", label="Enter Email", required=True, type="email")
    """

    name: str
    label: str = ""
    required: bool = False
    type: str = "text"
    placeholder: str | None = None
    help_text: str | None = None
    multiple: bool = False
    options: tuple[Option, ...] = ()
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @property
    def kind(self) -> str:
        """The validated type: the declared one if known, else ``text``."""
        return self.type if self.type in FIELD_TYPES else "text"

    def to_schema(self) -> dict[str, Any]:
        """The descriptor exactly as Refold's schema operation returns it."""
        if self.raw:
            return dict(self.raw)
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "required": self.required,
            "type": self.type,
        }
        return out

    def type_problem(self, value: Any) -> str | None:
        """Why ``value`` is not of this parameter's type, or ``None`` when it is.

        A field with ``options`` takes one of their values (a list of them when ``multiple``).
        """
        values = value if self.multiple and isinstance(value, list) else [value]
        if self.options:
            allowed = [o.value for o in self.options]
            if all(v in allowed for v in values):
                return None
            return f"must be one of {', '.join(map(repr, allowed))}, got {value!r}"
        kind = self.kind
        if self.type in TEXT_TYPES:  # declared so; unknown types are not
            if not all(isinstance(v, str) for v in values):
                return f"must be text (a string), got {json_type(value)}"
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                return f"must be a number, got {json_type(value)}"
            if isinstance(value, str) and not _NUMBER_RE.fullmatch(value.strip()):
                return f"must be a number, got {value!r}"
            if isinstance(value, float) and not math.isfinite(value):
                return f"must be a finite number, got {value!r}"
        elif kind == "email":
            if not isinstance(value, str) or not _EMAIL_RE.fullmatch(value):
                return f"must be an email address, got {_show(value)}"
        elif kind == "url":
            if not isinstance(value, str):
                return f"must be a URL, got {json_type(value)}"
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                return f"must be an http(s) URL, got {value!r}"
        elif kind == "json" and not isinstance(value, (dict, list)):
            if not isinstance(value, str):
                return f"must be a JSON object or array, got {json_type(value)}"
            try:
                decoded = json.loads(value)
            except ValueError:
                return f"must be JSON (an object, an array, or a string holding one), got {value!r}"
            if not isinstance(decoded, (dict, list)):
                return f"must be a JSON object or array, got a string holding {json_type(decoded)}"
        return None


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else json_type(value)


@dataclasses.dataclass(frozen=True)
class Example:
    """A recorded or documented call: the params sent and the reply Refold gave.

    Example::

        Example(params={"limit": "1"},
                response={"node_status": "Success", "data": {"results": []}},
                source="refold-docs")
    """

    params: Mapping[str, Any]
    response: Mapping[str, Any]
    source: str = ""
    recorded_at: str | None = None
    name: str | None = None

    @property
    def node_status(self) -> str:
        """The reply's ``node_status``."""
        return str(self.response.get(ep.KEY_NODE_STATUS, ""))

    @property
    def data(self) -> Any:
        """The connected app's native reply."""
        return self.response.get(ep.KEY_DATA)

    @property
    def http_status(self) -> int | None:
        """The connected app's own status, when the reply carries one."""
        value = self.response.get(ep.KEY_HTTP_STATUS)
        return value if isinstance(value, int) else None

    @cached_property
    def key(self) -> str:
        """The canonical JSON of :attr:`params`, used to match a request to this example."""
        return canonical_json(self.params)

    def to_json(self) -> dict[str, Any]:
        """The example as it is written in a catalogue file."""
        out: dict[str, Any] = {"params": dict(self.params), "response": dict(self.response)}
        if self.name:
            out["name"] = self.name
        out["source"] = self.source
        if self.recorded_at:
            out["recorded_at"] = self.recorded_at
        return out


@dataclasses.dataclass(frozen=True)
class Evidence:
    """Where an action's schema and replies come from: one level each, with the sources.

    ``schema`` rates the parameter list, ``reply`` the examples (the first successful one is
    the mock's default reply). Levels rank as :data:`EVIDENCE_LEVELS` lists them:
    ``refold-docs`` (Refold's own pages show it) > ``observed`` (seen from the live API) >
    ``app-docs`` (reasoned from the connected app's API reference) > ``assumed`` (no source).
    ``notes`` says where sources disagree and what was chosen. Every built-in action has one.

    Example::

        evidence = Catalogue.builtin().get("hubspot", "search_contacts").evidence
        evidence.schema, evidence.reply     # ('refold-docs', 'app-docs')
        evidence.sources[0]                 # a URL or a citation
    """

    schema: EvidenceLevel
    reply: EvidenceLevel
    sources: tuple[str, ...] = ()
    notes: str | None = None

    @staticmethod
    def rank(level: EvidenceLevel) -> int:
        """0 for the most trusted level (``refold-docs``), 3 for ``assumed``.

        >>> Evidence.rank("refold-docs") < Evidence.rank("app-docs")
        True
        """
        return EVIDENCE_LEVELS.index(level)

    def to_json(self) -> dict[str, Any]:
        """The evidence object as it is written in a catalogue file.

        Example::

            action.evidence.to_json()   # {"schema": "refold-docs", "reply": ..., "sources": [...]}
        """
        out: dict[str, Any] = {
            "schema": self.schema,
            "reply": self.reply,
            "sources": list(self.sources),
        }
        if self.notes is not None:
            out["notes"] = self.notes
        return out


@dataclasses.dataclass(frozen=True)
class Action:
    """One action of one application: its parameter schema, access and examples.

    ``access`` comes from the file when it says, else from :func:`access_from_name`.
    ``position`` is the action's place in Refold's documented list for its app (1 is first;
    ``None`` for an action Refold does not list), and ``evidence`` says where its facts come
    from (``None`` where a user catalogue leaves it out). ``state`` is the parsed ``"state"``
    block (:class:`~refold_contract.catalogue.state.StateBlock`): what the stateful sandbox does
    when the action runs; ``None`` for an action that is only replayed.

    Example::

        action = Catalogue.builtin().get("hubspot", "search_contacts")
        action.is_read                      # True
        action.required                     # ('propertyName', 'operator', 'value')
        action.check({"propertyName": "email"}, strict=True)
    """

    slug: str
    action_id: str
    name: str
    description: str = ""
    tag: str | None = None
    access: Access = "write"
    access_declared: bool = False
    parameters: tuple[Parameter, ...] = ()
    examples: tuple[Example, ...] = ()
    path: Path | None = dataclasses.field(default=None, compare=False)
    position: int | None = None
    evidence: Evidence | None = dataclasses.field(default=None, compare=False)
    state: StateBlock | None = dataclasses.field(default=None, compare=False)

    @property
    def key(self) -> str:
        """``slug/action_id``, the id used in test names and messages."""
        return f"{self.slug}/{self.action_id}"

    @property
    def is_read(self) -> bool:
        """True only for actions known to be reads; everything else is a write."""
        return self.access == "read"

    @cached_property
    def required(self) -> tuple[str, ...]:
        """Names of the required parameters, in schema order."""
        return tuple(p.name for p in self.parameters if p.required)

    @cached_property
    def parameter_map(self) -> Mapping[str, Parameter]:
        """Parameters by name."""
        return {p.name: p for p in self.parameters}

    @cached_property
    def examples_by_params(self) -> Mapping[str, Example]:
        """Examples by the canonical JSON of their params; the first of equal params wins."""
        out: dict[str, Example] = {}
        for example in self.examples:
            out.setdefault(example.key, example)
        return out

    def summary(self) -> dict[str, Any]:
        """The entry the list-actions operation returns for this action."""
        out: dict[str, Any] = {
            "name": self.name,
            "action_id": self.action_id,
            "description": self.description,
        }
        if self.tag is not None:
            out["tag"] = self.tag
        return out

    def schema(self) -> list[dict[str, Any]]:
        """The bare parameter array the schema operation returns."""
        return [p.to_schema() for p in self.parameters]

    def check(self, params: Any, *, strict: bool = False) -> list[Problem]:
        """The problems with a parameter body; an empty list means Refold would accept it.

        Refold's own rule is that every required parameter is present. ``strict=True`` adds
        type checks (``text``, ``textarea`` and ``password`` take strings; ``number``, ``email``,
        ``url`` and ``json`` their own forms) and refuses keys the schema does not name.

        Example::

            action.check({"firstname": "Ada"})
            # [Problem(kind='missing_required', field='email',
            #          message="Required parameter 'email' is missing")]
        """
        if not isinstance(params, dict):
            return [
                Problem(
                    "not_an_object",
                    None,
                    f"Request body must be a JSON object, got {json_type(params)}",
                )
            ]
        problems = [
            Problem("missing_required", name, f"Required parameter '{name}' is missing")
            for name in self.required
            if name not in params
        ]
        if strict:
            known = self.parameter_map
            for name, value in params.items():
                param = known.get(name)
                if param is None:
                    accepted = ", ".join(known) or "no parameters"
                    problems.append(
                        Problem(
                            "unknown_key",
                            name,
                            f"Unknown parameter '{name}' ({self.key} accepts: {accepted})",
                        )
                    )
                    continue
                why = param.type_problem(value)
                if why is not None:
                    problems.append(Problem("wrong_type", name, f"Parameter '{name}' {why}"))
        return problems

    def json_schema(self) -> dict[str, Any]:
        """A JSON Schema (draft 2020-12) for this action's parameter body.

        Refold's schemas are flat field lists, not JSON Schema; this is derived for users whose
        tools want one. Extra keys are allowed, as Refold allows them.

        Example::

            jsonschema.validate(body, action.json_schema())
        """
        properties: dict[str, Any] = {}
        for p in self.parameters:
            prop: dict[str, Any] = {"title": p.label or p.name}
            kind = p.kind
            if kind == "number":
                prop["anyOf"] = [
                    {"type": "string", "pattern": f"^{_NUMBER_RE.pattern}$"},
                    {"type": "number"},
                ]
            elif kind == "email":
                prop.update(type="string", format="email")
            elif kind == "url":
                prop.update(type="string", format="uri")
            elif kind == "json":
                prop["type"] = ["object", "array", "string"]
            else:
                prop["type"] = "string"
            if p.options:
                values = [o.value for o in p.options]
                prop["enum"] = values
                if p.multiple:
                    prop = {"title": prop["title"], "type": "array", "items": {"enum": values}}
            if p.help_text:
                prop["description"] = p.help_text
            properties[p.name] = prop
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"{self.key} parameters",
            "type": "object",
            "properties": properties,
            "required": list(self.required),
            "additionalProperties": True,
        }


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
        # Every object built here lives as long as the catalogue, so the cyclic collector's
        # passes during the load find nothing to free; pausing it makes large loads ~25% faster.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for folder in paths:
                files, strays = _list_folder(folder)
                if strays:
                    raise _stray_problem(folder, strays[0], files, max_depth, max_bytes)
                for file, slug in files:
                    action = load_action(file, slug=slug, max_depth=max_depth, max_bytes=max_bytes)
                    actions[(action.slug, action.action_id)] = action
        finally:
            if collecting:
                gc.enable()
        return cls(actions.values(), folders=paths)

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

        Beyond what :meth:`load` refuses, lint reports duplicate keys, numbers too large for a
        float, an ``evidence`` object missing from a built-in file (one in
        :meth:`builtin_path`), state blocks on one object type with different ``record``
        models, and, as warnings,
        example params the schema does not name or of the wrong type, unknown field types and
        two actions of one app at the same ``position``.

        Example::

            report = Catalogue.lint_report("tests/refold_fixtures")
            report.ok, len(report.errors), len(report.warnings), report.files
        """
        problems: list[CatalogueError] = []
        files_seen = 0
        paths = tuple(Path(f) for f in folders)
        builtin = cls.builtin_path().resolve()
        models: dict[tuple[str, str], tuple[Any, Path]] = {}
        for folder in paths:
            try:
                files, strays = _list_folder(folder)
            except CatalogueError as exc:
                problems.append(exc)
                continue
            files_seen += len(files) + len(strays)
            problems.extend(_stray_problem(folder, s, files, max_depth, max_bytes) for s in strays)
            is_builtin = folder.resolve() == builtin
            positions: dict[tuple[str, int], Path] = {}
            for file, slug in files:
                action, found = validate_file(
                    file,
                    slug=slug,
                    max_depth=max_depth,
                    max_bytes=max_bytes,
                    lint=True,
                    require_evidence=is_builtin,
                )
                problems.extend(found)
                if action is not None:
                    problems.extend(_record_model_clash(action, file, models))
                if action is None or action.position is None:
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
        return LintReport(problems=tuple(problems), files=files_seen, folders=paths)

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


def _list_order(action: Action) -> tuple[bool, int, str]:
    """Documented actions first, in Refold's order; the rest after them, by id."""
    position = action.position
    return (position is None, position or 0, action.action_id)


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


@functools.lru_cache(maxsize=1)
def _builtin() -> Catalogue:
    return Catalogue.load(Catalogue.builtin_path())


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


def _list_folder(folder: Path) -> tuple[list[tuple[Path, str]], list[Path]]:
    """The ``<slug>/<action_id>.json`` files of a folder, and ``.json`` files lying at its top."""
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


def _stray_problem(
    folder: Path,
    stray: Path,
    files: Sequence[tuple[Path, str]],
    max_depth: int,
    max_bytes: int,
) -> CatalogueError:
    """A ``.json`` file at the top of a catalogue folder, with the folder it belongs in."""
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


_UNKNOWN_TYPE_HINT = (
    "use one of " + ", ".join(sorted(FIELD_TYPES)) + "; unknown types are validated as text"
)
_LIMIT_HINT = (
    "raise the limit if the file is right: Catalogue.load(..., {name}=N), "
    "refold-contract lint --{option} N"
)


def load_action(
    path: str | Path,
    *,
    slug: str | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Action:
    """Load one action file; raise :class:`CatalogueError` for its first error.

    What lint would only warn about (example params the schema does not name or of another
    type) does not stop the load. An unknown field type loads as text with one
    :class:`~refold_contract.errors.UnknownFieldType` warning located at the file.

    Example::

        load_action("fixtures/hubspot/get_contact.json")
    """
    path = Path(path)
    builder = _Builder(path, slug)
    action = builder.run(max_depth=max_depth, max_bytes=max_bytes)
    if builder.problems:
        raise builder.problems[0]
    if builder.unknown_types:
        warnings.warn_explicit(
            builder.unknown_types_message(),
            UnknownFieldType,
            str(path),
            builder.line_of_type(builder.unknown_types[0][1]),
        )
    assert action is not None
    return action


def validate_file(
    path: str | Path,
    *,
    slug: str | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_bytes: int = DEFAULT_MAX_BYTES,
    lint: bool = False,
    require_evidence: bool = False,
) -> tuple[Action | None, list[CatalogueError]]:
    """Check one file: the action (``None`` on any error) and every problem found.

    Problems are errors and warnings (``problem.severity``). ``lint=True`` adds the checks
    only lint makes (duplicate keys); ``require_evidence=True`` makes a missing ``evidence``
    object an error, as for built-in files.

    Example::

        action, problems = validate_file("mine/acme/get_widget.json", lint=True)
        errors = [p for p in problems if p.severity == "error"]
    """
    builder = _Builder(Path(path), slug, lint=lint, require_evidence=require_evidence)
    action = builder.run(max_depth=max_depth, max_bytes=max_bytes)
    problems = builder.problems + builder.warnings
    return (action if not builder.problems else None), problems


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
    builder = _Builder(path)
    builder.raw = _read_file(path, max_bytes)
    try:
        return _strict_loads(builder.raw, max_depth=max_depth, max_bytes=max_bytes)
    except JSONProblem as exc:
        raise builder.json_problem(exc, max_depth, max_bytes) from None


_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _read_file(path: Path, max_bytes: int) -> bytes:
    """At most ``max_bytes`` bytes of a regular file; anything else is a one-line error.

    The file is checked with ``stat`` before it is opened, so a FIFO is never opened (which
    would wait for a writer) and a device such as ``/dev/zero`` is never read. A symlink to a
    regular file is read. Reads ask for the size ``stat`` gave plus one byte, and never for
    more than ``max_bytes + 1`` in all.
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
        raise _too_large(path, f"{info.st_size:,} bytes", max_bytes)
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
        raise _too_large(path, f"more than {max_bytes:,} bytes", max_bytes)
    return data


def _too_large(path: Path, size: str, max_bytes: int) -> CatalogueError:
    return CatalogueError(
        f"file is too large: {size}, over the limit of max_bytes={max_bytes:,}",
        path=str(path),
        hint="split its examples, or " + _LIMIT_HINT.format(name="max_bytes", option="max-bytes"),
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


def _first_non_finite(document: Any) -> str | None:
    """The pointer of the first float that is not finite (``1e999`` parses as infinity)."""
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


def _duplicate_keys(text: str) -> list[tuple[str, str]]:
    """``(pointer of the object, key)`` for every key given twice in one object.

    Only called on text the strict reader has accepted, so depth and size are already bounded.
    """
    found = [
        (where, key)
        for item, where in _walk(_DUPLICATE_DECODER.decode(text))
        if isinstance(item, _Duplicates)
        for key in item.duplicated
    ]
    return sorted(found)


class _Builder:
    """Reads one file and turns it into an Action, collecting every problem on the way.

    ``problems`` are errors (the file does not load); ``warnings`` are what lint reports but
    the loader accepts.
    """

    def __init__(
        self,
        path: Path,
        slug: str | None = None,
        *,
        lint: bool = False,
        require_evidence: bool = False,
    ) -> None:
        self.path = path
        self.slug = slug if slug is not None else path.parent.name
        self.problems: list[CatalogueError] = []
        self.warnings: list[CatalogueError] = []
        self.action_key: str | None = None
        self.lint = lint
        self.require_evidence = require_evidence
        self.raw = b""
        self.unknown_types: list[tuple[str, str]] = []  # (parameter name, declared type)

    def unknown_types_message(self) -> str:
        """The one warning's text for every parameter of an unknown field type."""
        listed = ", ".join(f"{name!r} ({ptype!r})" for name, ptype in self.unknown_types)
        return f"unknown field type for parameter(s) {listed}; treated as text"

    def error(
        self,
        pointer: str,
        message: str,
        *,
        field: str | None = None,
        hint: str | None = None,
        severity: Literal["error", "warning"] = "error",
    ) -> None:
        problem = CatalogueError(
            message,
            path=str(self.path),
            pointer=pointer,
            action=self.action_key,
            field=field,
            hint=hint,
            severity=severity,
        )
        (self.warnings if severity == "warning" else self.problems).append(problem)

    def warning(
        self, pointer: str, message: str, *, field: str | None = None, hint: str | None = None
    ) -> None:
        self.error(pointer, message, field=field, hint=hint, severity="warning")

    def run(self, *, max_depth: int, max_bytes: int) -> Action | None:
        """Read, parse and build the file; problems land in ``problems`` and ``warnings``."""
        try:
            raw = _read_file(self.path, max_bytes)
        except CatalogueError as exc:
            self.problems.append(exc)
            return None
        self.raw = raw
        try:
            document = _strict_loads(raw, max_depth=max_depth, max_bytes=max_bytes)
        except JSONProblem as exc:
            self.problems.append(self.json_problem(exc, max_depth, max_bytes))
            return None
        if self.lint:
            # Lint only: a literal such as 1e999 is JSON, but Python reads it as infinity, which
            # JSON cannot write back. Finding one needs a walk, too slow for every load.
            where = _first_non_finite(document)
            if where is not None:
                self.error(
                    where,
                    "a number too large for a float: it reads as Infinity, which is not JSON",
                    hint="write it as a string, or as a smaller number",
                )
            for where, key in _duplicate_keys(self.text_source):
                self.error(
                    f"{where}/{_escape(key)}",
                    f"duplicate key {key!r}: JSON keeps only the last of its values",
                    field=key,
                    hint=f"remove all but one {key!r} from that object",
                )
        return self.build(document)

    def json_problem(self, exc: JSONProblem, max_depth: int, max_bytes: int) -> CatalogueError:
        where = str(self.path)
        if exc.kind == "not_json":
            return CatalogueError(
                f"malformed JSON: {str(exc).removeprefix('not JSON: ')}",
                path=where,
                line=exc.line,
                column=exc.column,
                hint=(
                    "a trailing comma before the closing bracket: JSON allows none there; remove it"
                    if _after_trailing_comma(self.text_source, exc.line, exc.column)
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
            return _too_large(self.path, str(exc).partition(" is over")[0], max_bytes)
        return CatalogueError(
            str(exc).replace(" for integer string conversion", "").split(";")[0],
            path=where,
            hint="write a number this long as a string",
        )

    @cached_property
    def text_source(self) -> str:
        """The file's text, decoded again only for line numbers and the duplicate-key pass."""
        return self.raw.decode("utf-8-sig")

    def line_of_type(self, ptype: str) -> int:
        """Best effort: the line of the first ``"type": "<ptype>"`` in the file (else 1)."""
        found = re.search(rf'"type"\s*:\s*{re.escape(json.dumps(ptype))}', self.text_source)
        return self.text_source.count("\n", 0, found.start()) + 1 if found else 1

    def text(self, doc: Mapping[str, Any], key: str, pointer: str, *, required: bool) -> str | None:
        value = doc.get(key)
        if value is None:
            if required:
                self.error(
                    f"{pointer}/{key}",
                    f"missing required key {key!r}",
                    field=key,
                    hint=f'add "{key}": "..."',
                )
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.error(
                f"{pointer}/{key}",
                f"{key!r} must be a non-empty string, got {json_type(value)}"
                if required
                else f"{key!r} must be a string, got {json_type(value)}",
                field=key,
                hint=f'write it as "{key}": "..."',
            )
            return None
        return value

    def build(self, doc: Any) -> Action | None:
        if not isinstance(doc, dict):
            self.error(
                "",
                f"the file must hold a JSON object, got {json_type(doc)}",
                hint="one action per file: an object with slug, action_id, name, parameters",
            )
            return None
        slug = self.text(doc, "slug", "", required=True)
        action_id = self.text(doc, "action_id", "", required=True)
        if slug is not None and action_id is not None:
            self.action_key = f"{slug}/{action_id}"
        if slug is not None and slug != self.slug:
            self.error(
                "/slug",
                f"slug {slug!r} does not match its folder {self.slug!r}",
                field="slug",
                hint=f"move the file to {slug}/ or fix the slug",
            )
        if action_id is not None and action_id != self.path.stem:
            self.error(
                "/action_id",
                f"action_id {action_id!r} does not match the file name {self.path.name!r}",
                field="action_id",
                hint=f"rename the file to {action_id}.json or fix the action_id",
            )
        name = self.text(doc, "name", "", required=True)
        description = self.text(doc, "description", "", required=False) or ""
        tag = self.text(doc, "tag", "", required=False)
        for key in () if doc.keys() <= _ACTION_KEY_SET else doc:
            if key not in _ACTION_KEY_SET:
                self.error(
                    f"/{_escape(key)}",
                    f"unknown key {key!r}",
                    field=key,
                    hint=_allowed_keys_hint(key, _ACTION_KEYS),
                )
        access: Access | None = None
        declared = doc.get("access")
        if declared is not None:
            if declared in ("read", "write"):
                access = declared
            else:
                self.error(
                    "/access",
                    f"access must be 'read' or 'write', got {declared!r}",
                    field="access",
                    hint="or leave it out and let the name decide",
                )
        position = self.position(doc.get("position"))
        evidence = self.evidence(doc.get("evidence"))
        parameters = self.parameters(doc.get("parameters"))
        state_raw = doc.get("state")
        state = self.state(state_raw, parameters) if state_raw is not None else None
        examples_raw = doc.get("examples", [])
        if not isinstance(examples_raw, list):
            self.error(
                "/examples",
                f"'examples' must be an array, got {json_type(examples_raw)}",
                field="examples",
                hint='use "examples": [] for an action with no recorded reply',
            )
            examples_raw = []
        # Problems above do not stop the examples being checked: lint reports them all at once.
        action = Action(
            slug=slug or self.slug,
            action_id=action_id or self.path.stem,
            name=name or "",
            description=description,
            tag=tag,
            access=access or access_from_name(action_id or self.path.stem),
            access_declared=access is not None,
            parameters=tuple(parameters),
            path=self.path,
            position=position,
            evidence=evidence,
            state=state,
        )
        examples = [self.example(action, i, e) for i, e in enumerate(examples_raw)]
        if self.problems:
            return None
        # The action has not left the builder yet; setting the field beats a second __init__.
        object.__setattr__(action, "examples", tuple(e for e in examples if e))
        return action

    def state(self, raw: Any, parameters: Sequence[Parameter]) -> StateBlock | None:
        """The ``"state"`` block, every problem reported below ``/state``."""

        def report(pointer: str, message: str, hint: str) -> None:
            self.error(f"/state{pointer}", message, field="state", hint=hint)

        return parse_state(raw, parameters={p.name: p for p in parameters}, report=report)

    def position(self, raw: Any) -> int | None:
        if raw is None:
            return None
        if type(raw) is not int or raw < 1:
            self.error(
                "/position",
                f"'position' must be a whole number from 1, got {raw!r}",
                field="position",
                hint="the action's place in Refold's documented list for its app (1 is first); "
                "leave it out for an action Refold does not list",
            )
            return None
        return raw

    def evidence(self, raw: Any) -> Evidence | None:
        levels = ", ".join(EVIDENCE_LEVELS)
        if raw is None:
            if self.require_evidence:
                self.error(
                    "/evidence",
                    "a built-in action must say where its facts come from: no 'evidence'",
                    field="evidence",
                    hint='add "evidence": {"schema": LEVEL, "reply": LEVEL, "sources": [...]}'
                    f" with LEVEL one of {levels}",
                )
            return None
        if not isinstance(raw, dict):
            self.error(
                "/evidence",
                f"'evidence' must be an object, got {json_type(raw)}",
                field="evidence",
                hint='{"schema": LEVEL, "reply": LEVEL, "sources": [...], "notes": "..."}',
            )
            return None
        for key in raw:
            if key not in _EVIDENCE_KEYS:
                self.error(
                    f"/evidence/{_escape(key)}",
                    f"unknown key {key!r} in evidence",
                    field="evidence",
                    hint=_allowed_keys_hint(key, _EVIDENCE_KEYS),
                )
        rated: dict[str, EvidenceLevel] = {}
        for key in ("schema", "reply"):
            value = raw.get(key)
            if value in EVIDENCE_LEVELS:
                rated[key] = value
            else:
                self.error(
                    f"/evidence/{key}",
                    f"evidence {key!r} must be one of {levels}, got {value!r}"
                    if value is not None
                    else f"evidence has no {key!r}",
                    field="evidence",
                    hint="refold-docs: Refold's pages show it; observed: seen from the live API; "
                    "app-docs: from the app's API reference; assumed: no source",
                )
        sources = raw.get("sources")
        good_sources = isinstance(sources, list) and all(
            isinstance(s, str) and s.strip() for s in sources
        )
        if not good_sources:
            self.error(
                "/evidence/sources",
                "evidence 'sources' must be an array of URLs or citations (strings)",
                field="evidence",
                hint='e.g. "sources": ["https://docs.refold.ai/..."]',
            )
        elif not sources and any(level != "assumed" for level in rated.values()):
            self.error(
                "/evidence/sources",
                "evidence names no source for a level other than 'assumed'",
                field="evidence",
                hint="add the page or observation each level rests on, or rate it 'assumed'",
            )
        notes = raw.get("notes")
        bad_notes = notes is not None and not isinstance(notes, str)
        if bad_notes:
            self.error(
                "/evidence/notes",
                f"evidence 'notes' must be a string, got {json_type(notes)}",
                field="evidence",
                hint="say in words where sources disagree and what was chosen",
            )
        if len(rated) < 2 or not good_sources or bad_notes:
            return None
        assert isinstance(sources, list)
        return Evidence(rated["schema"], rated["reply"], tuple(sources), notes)

    def parameters(self, raw: Any) -> list[Parameter]:
        if raw is None:
            self.error(
                "/parameters",
                "missing required key 'parameters'",
                field="parameters",
                hint='add "parameters": [] for an action that takes none',
            )
            return []
        if not isinstance(raw, list):
            self.error(
                "/parameters",
                f"'parameters' must be an array, got {json_type(raw)}",
                field="parameters",
                hint='a list of {"name", "label", "required", "type"} objects',
            )
            return []
        out: list[Parameter] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(raw):
            param = self._fast_parameter(item) or self._parameter(item, i)
            if param is None:
                continue
            if param.name in seen:
                self.error(
                    f"/parameters/{i}/name",
                    f"duplicate parameter name {param.name!r} (first at "
                    f"/parameters/{seen[param.name]})",
                    field=param.name,
                    hint="each parameter name may appear once",
                )
                continue
            seen[param.name] = i
            if param.type not in FIELD_TYPES:
                self.unknown_types.append((param.name, param.type))
                self.warning(
                    f"/parameters/{i}/type",
                    f"unknown field type {param.type!r} for parameter {param.name!r}; "
                    "it is validated as text",
                    field=param.name,
                    hint=_UNKNOWN_TYPE_HINT,
                )
            out.append(param)
        return out

    @staticmethod
    def _fast_parameter(item: Any) -> Parameter | None:
        """The common case, checked cheaply: plain name, type, label and required."""
        if type(item) is not dict:
            return None
        name = item.get("name")
        ptype = item.get("type")
        label = item.get("label", "")
        required = item.get("required", False)
        if (
            type(name) is str
            and name.strip()
            and type(ptype) is str
            and ptype.strip()
            and type(label) is str
            and type(required) is bool
            and item.keys() <= _PLAIN_PARAMETER_KEYS
        ):
            placeholder = item.get("placeholder")
            help_text = item.get("help_text")
            if (placeholder is not None and type(placeholder) is not str) or (
                help_text is not None and type(help_text) is not str
            ):
                return None
            # Loading speed: a frozen dataclass's __init__ costs ~2 us per field set through
            # object.__setattr__; filling the fresh instance's __dict__ is several times cheaper
            # and builds the same object (every field is set, defaults included).
            param = object.__new__(Parameter)
            param.__dict__.update(
                name=name,
                label=label,
                required=required,
                type=ptype,
                placeholder=placeholder,
                help_text=help_text,
                multiple=False,
                options=(),
                raw=item,
            )
            return param
        return None

    def _parameter(self, item: Any, i: int) -> Parameter | None:
        """Any parameter, every problem reported; a parameter with a name is kept for the
        example checks even when other keys are wrong, so they do not report it as unknown."""
        pointer = f"/parameters/{i}"
        if not isinstance(item, dict):
            self.error(
                pointer,
                f"a parameter must be an object, got {json_type(item)}",
                hint='{"name": "email", "label": "Enter Email", "required": true, "type": "text"}',
            )
            return None
        name = self.text(item, "name", pointer, required=True)
        ptype = self.text(item, "type", pointer, required=True)
        label = self.text(item, "label", pointer, required=False) or ""
        for key in ("placeholder", "help_text"):
            value = item.get(key)
            if value is not None and not isinstance(value, str):
                # A warning: the loader (and the client, for a live schema reply) drops it.
                self.warning(
                    f"{pointer}/{key}",
                    f"{key!r} must be a string, got {json_type(value)}; it is ignored",
                    field=name,
                    hint=f'write it as "{key}": "..."',
                )
        for key in item:
            if key not in _PARAMETER_KEYS:
                # A warning, not an error: a live schema may carry keys this project does not
                # know yet. A misspelt one ("requried") would otherwise change nothing, silently.
                self.warning(
                    f"{pointer}/{_escape(str(key))}",
                    f"unknown key {key!r} in a parameter; it is ignored",
                    field=name,
                    hint=_allowed_keys_hint(
                        str(key), sorted(_PARAMETER_KEYS), lead="a parameter takes"
                    ),
                )
        required = item.get("required", False)
        if not isinstance(required, bool):
            self.error(
                f"{pointer}/required",
                f"'required' must be true or false, got {json_type(required)}",
                field=name,
                hint=f'write "required": true or "required": false, not {json.dumps(required)}',
            )
        multiple = item.get("multiple", False)
        if not isinstance(multiple, bool):
            self.error(
                f"{pointer}/multiple",
                f"'multiple' must be true or false, got {json_type(multiple)}",
                field=name,
                hint='write "multiple": true for a field that takes a list of option values',
            )
        options = self.options(item.get("options"), pointer, name)
        if name is None:
            return None
        return Parameter(
            name=name,
            label=label,
            required=required is True,
            type=ptype or "text",
            placeholder=_opt_str(item.get("placeholder")),
            help_text=_opt_str(item.get("help_text")),
            multiple=multiple is True,
            options=options or (),
            raw=item,
        )

    def options(self, raw: Any, pointer: str, name: str | None) -> tuple[Option, ...] | None:
        if raw is None:
            return ()
        hint = 'e.g. "options": [{"name": "Equals", "value": "EQ"}]'
        if not isinstance(raw, list):
            self.error(
                f"{pointer}/options",
                "'options' must be an array of {name?, value}",
                field=name,
                hint=hint,
            )
            return None
        out = []
        for j, opt in enumerate(raw):
            if not isinstance(opt, dict) or "value" not in opt:
                self.error(
                    f"{pointer}/options/{j}",
                    "an option must be an object with a 'value'",
                    field=name,
                    hint=hint,
                )
                return None
            out.append(Option(value=opt["value"], name=_opt_str(opt.get("name"))))
        return tuple(out)

    def example(self, action: Action, i: int, raw: Any) -> Example | None:
        pointer = f"/examples/{i}"
        if not isinstance(raw, dict):
            self.error(
                pointer,
                f"an example must be an object, got {json_type(raw)}",
                hint='{"params": {...}, "response": {"node_status": ..., "data": ...}}',
            )
            return None
        for key in raw:
            if key not in _EXAMPLE_KEYS:
                self.error(
                    f"{pointer}/{_escape(key)}",
                    f"unknown key {key!r} in an example",
                    hint=_allowed_keys_hint(key, sorted(_EXAMPLE_KEYS)),
                )
        params = raw.get("params")
        response = raw.get("response")
        if not isinstance(params, dict):
            self.error(
                f"{pointer}/params",
                "'params' must be an object (the request body)",
                hint='use "params": {} for a call with no parameters',
            )
            params = None
        if not isinstance(response, dict):
            self.error(
                f"{pointer}/response",
                '\'response\' must be an object like {"node_status": "Success", "data": {...}}',
                hint="the execute reply as Refold sent it",
            )
            response = None
        else:
            self.response(pointer, response)
        if params is not None:
            self.example_params(action, pointer, params)
        source = raw.get("source", "")
        recorded_at = raw.get("recorded_at")
        ex_name = raw.get("name")
        if not isinstance(source, str):
            self.error(
                f"{pointer}/source",
                f"'source' must be a string, got {json_type(source)}",
                hint="say where the reply came from: a page, an API reference, 'recorded'",
            )
            return None
        if params is None or response is None:
            return None
        return Example(
            params=params,
            response=response,
            source=source,
            recorded_at=recorded_at if isinstance(recorded_at, str) else None,
            name=ex_name if isinstance(ex_name, str) else None,
        )

    def response(self, pointer: str, response: Mapping[str, Any]) -> None:
        status = response.get(ep.KEY_NODE_STATUS)
        if not isinstance(status, str) or not status:
            self.error(
                f"{pointer}/response/node_status",
                "'node_status' must be a non-empty string such as 'Success' or 'Errored'",
                hint='add "node_status": "Success" (or "Errored" for a failure inside the app)',
            )
        if ep.KEY_DATA not in response:
            self.error(
                f"{pointer}/response/data",
                "missing 'data' (the app's native reply; null if it has none)",
                hint='add "data": null when the app answered with no body',
            )
        http_status = response.get(ep.KEY_HTTP_STATUS)
        if http_status is not None and (
            not isinstance(http_status, int) or isinstance(http_status, bool)
        ):
            self.error(
                f"{pointer}/response/http_status",
                f"'http_status' must be an integer, got {json_type(http_status)}",
                hint="the connected app's own HTTP status, e.g. 200; or leave it out",
            )

    def example_params(self, action: Action, pointer: str, params: Mapping[str, Any]) -> None:
        """Refold's own rule (required keys present) is an error; the strict extras warn.

        Refold accepts keys its schema does not name and checks no types, so a recorded body
        with either still loads; lint warns, since the strict mock would refuse it.
        """
        for problem in action.check(params, strict=True):
            where = f"{pointer}/params" + (f"/{_escape(problem.field)}" if problem.field else "")
            if problem.kind == "unknown_key":
                self.warning(
                    where,
                    f"example params name a key the schema does not: {problem.message}",
                    field=problem.field,
                    hint=f"Refold accepts extra keys, so the example loads; add {problem.field!r} "
                    "to the parameters if the action takes it, or drop it from the example",
                )
            elif problem.kind == "wrong_type":
                self.warning(
                    where,
                    f"example param is not of its declared type: {problem.message}",
                    field=problem.field,
                    hint="Refold checks no types, so the example loads; fix the value or the "
                    "parameter's type (the strict mock refuses this body)",
                )
            else:
                self.error(
                    where,
                    f"example params fail the action's own check: {problem.message}",
                    field=problem.field,
                    hint="make the example's params match the parameters list",
                )


def parse_parameters(raw: Any, *, where: str) -> list[Parameter]:
    """Parse a schema reply (a bare parameter array) into :class:`Parameter` objects.

    Raises :class:`~refold_contract.errors.ProtocolError` when the reply is not the documented
    shape; an unknown field type gives one
    :class:`~refold_contract.errors.UnknownFieldType` warning.

    Example::

        parse_parameters([{"name": "email", "type": "text", "required": True}], where="reply")
    """
    builder = _Builder(Path(where), slug="")
    params = builder.parameters(raw)
    if builder.problems:
        first = builder.problems[0]
        raise ProtocolError(
            f"{where}: {first.message} at {first.pointer}",
            status_code=200,
            content_type=ep.JSON_CONTENT_TYPE,
            snippet=json.dumps(raw)[:200],
        )
    if builder.unknown_types:
        warnings.warn(
            f"{where}: {builder.unknown_types_message()}",
            UnknownFieldType,
            stacklevel=2,
        )
    return params


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
