"""The catalogue: action schemas and recorded replies, one JSON file per action.

A catalogue folder holds ``<slug>/<action_id>.json`` files (format in the README). Folders are
layered: :meth:`Catalogue.load` reads them in order and a later folder's entry replaces an earlier
one with the same slug and action id. The built-in catalogue ships inside the package.

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
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from refold_contract import _endpoint as ep
from refold_contract._json import canonical_json, json_type
from refold_contract.access import Access, access_from_name
from refold_contract.errors import (
    ActionNotInCatalogue,
    CatalogueError,
    ProtocolError,
    UnknownFieldType,
)

__all__ = [
    "FIELD_TYPES",
    "Access",
    "Action",
    "Catalogue",
    "Example",
    "Option",
    "Parameter",
    "Problem",
    "access_from_name",
    "canonical_json",
    "json_type",
    "load_action",
    "parse_parameters",
]

ProblemKind = Literal["missing_required", "wrong_type", "unknown_key", "not_an_object"]

#: Field types refold-contract knows. Any other type is treated as ``text``, with a warning.
FIELD_TYPES: frozenset[str] = frozenset(
    {"text", "textarea", "password", "number", "email", "url", "json"}
)

_ACTION_KEYS = (
    "slug",
    "action_id",
    "name",
    "description",
    "tag",
    "access",
    "parameters",
    "examples",
)
_ACTION_KEY_SET = frozenset(_ACTION_KEYS)
_PLAIN_PARAMETER_KEYS = frozenset({"name", "label", "required", "type", "placeholder", "help_text"})
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
        if self.options:
            allowed = [o.value for o in self.options]
            chosen = value if self.multiple and isinstance(value, list) else [value]
            if all(v in allowed for v in chosen):
                return None
            return f"must be one of {', '.join(map(repr, allowed))}, got {value!r}"
        kind = self.kind
        if kind == "number":
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
class Action:
    """One action of one application: its parameter schema, access and examples.

    ``access`` comes from the file when it says, else from :func:`access_from_name`.

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
        type checks for ``number``, ``email``, ``url`` and ``json`` fields and refuses keys the
        schema does not name.

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

    Example::

        catalogue = Catalogue.builtin()
        catalogue.apps()                      # ['gmail', 'hubspot', ...]
        [a.action_id for a in catalogue.actions("slack")]
        catalogue.get("hubspot", "get_contact").examples[0].data
    """

    def __init__(self, actions: Iterable[Action] = (), *, folders: Sequence[Path] = ()) -> None:
        self._actions: dict[tuple[str, str], Action] = {}
        for action in actions:
            self._actions[(action.slug, action.action_id)] = action
        self._actions = dict(sorted(self._actions.items()))
        self._by_app: dict[str, list[Action]] = {}
        for (slug, _), action in self._actions.items():
            self._by_app.setdefault(slug, []).append(action)
        self.folders: tuple[Path, ...] = tuple(folders)

    @staticmethod
    def builtin_path() -> Path:
        """The folder of the catalogue shipped with the package.

        Inside a wheel it is package data; in a source checkout it is the top-level
        ``fixtures/``.
        """
        packaged = importlib.resources.files("refold_contract") / "_builtin_fixtures"
        if packaged.is_dir():
            return Path(str(packaged))
        return Path(__file__).resolve().parent.parent / "fixtures"

    @classmethod
    def builtin(cls) -> Catalogue:
        """The built-in catalogue, loaded once per process.

        Example::

            len(Catalogue.builtin())   # number of built-in actions
        """
        return _builtin()

    @classmethod
    def load(cls, *folders: str | Path, include_builtin: bool = False) -> Catalogue:
        """Load catalogue folders in order; a later folder's action replaces an earlier one.

        Raises :class:`CatalogueError` for the first malformed file, naming the file and the
        JSON pointer (with line and column for JSON that does not parse).

        Example::

            Catalogue.load("tests/refold_fixtures", include_builtin=True)
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
                for file, slug in _catalogue_files(folder):
                    action = load_action(file, slug=slug)
                    actions[(action.slug, action.action_id)] = action
        finally:
            if collecting:
                gc.enable()
        return cls(actions.values(), folders=paths)

    @classmethod
    def lint(cls, *folders: str | Path) -> list[CatalogueError]:
        """Every problem in the given folders, without stopping at the first.

        Example::

            for problem in Catalogue.lint("fixtures"):
                print(problem)
        """
        problems: list[CatalogueError] = []
        for folder in (Path(f) for f in folders):
            try:
                files = list(_catalogue_files(folder))
            except CatalogueError as exc:
                problems.append(exc)
                continue
            for file, slug in files:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", UnknownFieldType)
                    problems.extend(validate_file(file, slug=slug)[1])
                problems.extend(
                    CatalogueError(
                        str(w.message).removeprefix(f"{file}: "),
                        path=str(file),
                        pointer="/parameters",
                        hint=_UNKNOWN_TYPE_HINT,
                    )
                    for w in caught
                    if issubclass(w.category, UnknownFieldType)
                )
        return problems

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
        """Up to ``n`` ``slug/action_id`` keys close to the one asked for."""
        keys = [a.key for a in self._actions.values()]
        wanted = f"{slug}/{action_id}"
        close = difflib.get_close_matches(wanted, keys, n=n, cutoff=0.6)
        if not close and slug in self._by_app:
            ids = [a.action_id for a in self._by_app[slug]]
            close = [f"{slug}/{i}" for i in difflib.get_close_matches(action_id, ids, n=n)]
        return close

    def apps(self) -> list[str]:
        """The application slugs, sorted."""
        return list(self._by_app)

    def has_app(self, slug: str) -> bool:
        """True when at least one action of ``slug`` is in the catalogue."""
        return slug in self._by_app

    def actions(self, slug: str | None = None, *, access: Access | None = None) -> list[Action]:
        """The actions of one app (or all), optionally only reads or only writes, sorted.

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


@functools.lru_cache(maxsize=1)
def _builtin() -> Catalogue:
    return Catalogue.load(Catalogue.builtin_path())


def _catalogue_files(folder: Path) -> Iterator[tuple[Path, str]]:
    if not folder.is_dir():
        raise CatalogueError(
            "catalogue folder does not exist or is not a folder",
            path=str(folder),
            hint="pass a folder holding <slug>/<action_id>.json files",
        )
    with os.scandir(folder) as entries:
        listing = sorted((e.name, e.is_dir()) for e in entries)
    for name, is_dir in listing:
        if name.startswith((".", "_")):
            continue
        entry = folder / name
        if is_dir:
            with os.scandir(entry) as files:
                names = sorted(f.name for f in files if f.name.endswith(".json"))
            for file in names:
                if not file.startswith((".", "_")):
                    yield entry / file, name
        elif name.endswith(".json"):
            raise CatalogueError(
                "catalogue files belong one folder down, in <slug>/<action_id>.json",
                path=str(entry),
                hint=f"pass {folder.parent} (the folder above this app folder) instead"
                if any(n.endswith(".json") for n, d in listing if not d)
                and not any(d for _, d in listing)
                else f"move it to {folder / '<slug>' / name}",
            )


_UNKNOWN_TYPE_HINT = (
    "use one of " + ", ".join(sorted(FIELD_TYPES)) + "; unknown types are validated as text"
)


def load_action(path: str | Path, *, slug: str | None = None) -> Action:
    """Load one action file; raise :class:`CatalogueError` for its first problem.

    Example::

        load_action("fixtures/hubspot/get_contact.json")
    """
    action, problems = validate_file(Path(path), slug=slug)
    if problems:
        raise problems[0]
    assert action is not None
    return action


def validate_file(
    path: Path, *, slug: str | None = None
) -> tuple[Action | None, list[CatalogueError]]:
    """Parse and check one file: the action (when it could be built) and every problem found."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        return None, [CatalogueError(f"cannot read file: {exc.strerror}", path=str(path))]
    try:
        document = json.loads(raw)
    except UnicodeDecodeError:
        return None, [
            CatalogueError("file is not UTF-8", path=str(path), hint="save it as UTF-8 JSON")
        ]
    except json.JSONDecodeError as exc:
        return None, [
            CatalogueError(
                f"malformed JSON: {exc.msg}",
                path=str(path),
                line=exc.lineno,
                column=exc.colno,
                hint="fix the JSON syntax at that line and column",
            )
        ]
    return _Builder(path, slug if slug is not None else path.parent.name).build(document)


class _Builder:
    """Turns one parsed document into an Action, collecting every problem on the way."""

    def __init__(self, path: Path, slug: str) -> None:
        self.path = path
        self.slug = slug
        self.problems: list[CatalogueError] = []
        self.action_key: str | None = None

    def error(
        self, pointer: str, message: str, *, field: str | None = None, hint: str | None = None
    ) -> None:
        self.problems.append(
            CatalogueError(
                message,
                path=str(self.path),
                pointer=pointer,
                action=self.action_key,
                field=field,
                hint=hint,
            )
        )

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
                f"{key!r} must be a non-empty string, got {json_type(value)}",
                field=key,
            )
            return None
        return value

    def build(self, doc: Any) -> tuple[Action | None, list[CatalogueError]]:
        if not isinstance(doc, dict):
            self.error("", f"the file must hold a JSON object, got {json_type(doc)}")
            return None, self.problems
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
                    hint="allowed keys: " + ", ".join(_ACTION_KEYS),
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
        before = len(self.problems)
        parameters = self.parameters(doc.get("parameters"))
        parameters_ok = len(self.problems) == before
        examples_raw = doc.get("examples", [])
        if not isinstance(examples_raw, list):
            self.error(
                "/examples",
                f"'examples' must be an array, got {json_type(examples_raw)}",
                field="examples",
            )
            examples_raw = []
        if not parameters_ok:
            return None, self.problems
        # Other problems above do not stop the examples being checked: lint reports them all.
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
        )
        examples = [self.example(action, i, e) for i, e in enumerate(examples_raw)]
        if self.problems:
            return None, self.problems
        # The action has not left the builder yet; setting the field beats a second __init__.
        object.__setattr__(action, "examples", tuple(e for e in examples if e))
        return action, []

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
            )
            return []
        out: list[Parameter] = []
        seen: dict[str, int] = {}
        unknown: list[str] = []
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
                unknown.append(f"{param.name!r} ({param.type!r})")
            out.append(param)
        if unknown:
            warnings.warn(
                f"{self.path}: unknown field type for parameter(s) {', '.join(unknown)}; "
                "treated as text",
                UnknownFieldType,
                stacklevel=2,
            )
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
            # Loading speed: a frozen dataclass's __init__ costs ~2 us per field set through
            # object.__setattr__; filling the fresh instance's __dict__ is several times cheaper
            # and builds the same object (every field is set, defaults included).
            param = object.__new__(Parameter)
            param.__dict__.update(
                name=name,
                label=label,
                required=required,
                type=ptype,
                placeholder=placeholder if type(placeholder) is str else None,
                help_text=help_text if type(help_text) is str else None,
                multiple=False,
                options=(),
                raw=item,
            )
            return param
        return None

    def _parameter(self, item: Any, i: int) -> Parameter | None:
        pointer = f"/parameters/{i}"
        if not isinstance(item, dict):
            self.error(pointer, f"a parameter must be an object, got {json_type(item)}")
            return None
        name = self.text(item, "name", pointer, required=True)
        ptype = self.text(item, "type", pointer, required=True)
        label = self.text(item, "label", pointer, required=False) or ""
        required = item.get("required", False)
        if not isinstance(required, bool):
            self.error(
                f"{pointer}/required",
                f"'required' must be true or false, got {json_type(required)}",
                field=name,
            )
            return None
        multiple = item.get("multiple", False)
        if not isinstance(multiple, bool):
            self.error(f"{pointer}/multiple", "'multiple' must be true or false", field=name)
            return None
        options = self.options(item.get("options"), pointer, name)
        if name is None or ptype is None or options is None:
            return None
        return Parameter(
            name=name,
            label=label,
            required=required,
            type=ptype,
            placeholder=_opt_str(item.get("placeholder")),
            help_text=_opt_str(item.get("help_text")),
            multiple=multiple,
            options=options,
            raw=item,
        )

    def options(self, raw: Any, pointer: str, name: str | None) -> tuple[Option, ...] | None:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.error(
                f"{pointer}/options", "'options' must be an array of {name?, value}", field=name
            )
            return None
        out = []
        for j, opt in enumerate(raw):
            if not isinstance(opt, dict) or "value" not in opt:
                self.error(
                    f"{pointer}/options/{j}",
                    "an option must be an object with a 'value'",
                    field=name,
                )
                return None
            out.append(Option(value=opt["value"], name=_opt_str(opt.get("name"))))
        return tuple(out)

    def example(self, action: Action, i: int, raw: Any) -> Example | None:
        pointer = f"/examples/{i}"
        if not isinstance(raw, dict):
            self.error(pointer, f"an example must be an object, got {json_type(raw)}")
            return None
        for key in raw:
            if key not in _EXAMPLE_KEYS:
                self.error(
                    f"{pointer}/{_escape(key)}",
                    f"unknown key {key!r} in an example",
                    hint="allowed keys: " + ", ".join(sorted(_EXAMPLE_KEYS)),
                )
        params = raw.get("params")
        response = raw.get("response")
        if not isinstance(params, dict):
            self.error(
                f"{pointer}/params",
                "'params' must be an object (the request body)",
                hint='use "params": {} for a call with no parameters',
            )
            return None
        if not isinstance(response, dict):
            self.error(
                f"{pointer}/response",
                '\'response\' must be an object like {"node_status": "Success", "data": {...}}',
            )
            return None
        status = response.get(ep.KEY_NODE_STATUS)
        if not isinstance(status, str) or not status:
            self.error(
                f"{pointer}/response/node_status",
                "'node_status' must be a non-empty string such as 'Success' or 'Errored'",
            )
        if ep.KEY_DATA not in response:
            self.error(
                f"{pointer}/response/data",
                "missing 'data' (the app's native reply; null if it has none)",
            )
        http_status = response.get(ep.KEY_HTTP_STATUS)
        if http_status is not None and (
            not isinstance(http_status, int) or isinstance(http_status, bool)
        ):
            self.error(f"{pointer}/response/http_status", "'http_status' must be an integer")
        for problem in action.check(params, strict=True):
            where = f"{pointer}/params" + (f"/{_escape(problem.field)}" if problem.field else "")
            self.error(
                where,
                f"example params fail the action's own check: {problem.message}",
                field=problem.field,
                hint="make the example's params match the parameters list",
            )
        source = raw.get("source", "")
        recorded_at = raw.get("recorded_at")
        ex_name = raw.get("name")
        if not isinstance(source, str):
            self.error(f"{pointer}/source", "'source' must be a string")
            return None
        return Example(
            params=params,
            response=response,
            source=source,
            recorded_at=recorded_at if isinstance(recorded_at, str) else None,
            name=ex_name if isinstance(ex_name, str) else None,
        )


def parse_parameters(raw: Any, *, where: str) -> list[Parameter]:
    """Parse a schema reply (a bare parameter array) into :class:`Parameter` objects.

    Raises :class:`~refold_contract.errors.ProtocolError` when the reply is not the documented
    shape.

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
    return params


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
