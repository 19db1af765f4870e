"""The catalogue's model: an action, its parameters, examples and evidence, and a body's problems.

These frozen dataclasses are what a catalogue file loads into (:mod:`.builder` builds them) and
what the mock, the client, the strategies and the sandbox read. :meth:`Action.check` is Refold's
own rule for a parameter body (every required parameter present), plus the strict type checks.

Example::

    action = Action(slug="acme", action_id="get_widget", name="Get widget", access="read",
                    parameters=(Parameter(name="id", required=True),))
    action.is_read                       # True
    action.check({})                     # [Problem(kind='missing_required', field='id', ...)]
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from refold_contract._core import endpoint as ep
from refold_contract._core.json import canonical_json, json_type
from refold_contract.access import Access, ReadWhen
from refold_contract.catalogue.state.model import StateBlock

__all__ = [
    "EVIDENCE_LEVELS",
    "FIELD_TYPES",
    "TEXT_TYPES",
    "Action",
    "Evidence",
    "EvidenceLevel",
    "Example",
    "Option",
    "Parameter",
    "Problem",
    "ProblemKind",
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
    #: Match rules: params whose value does not have to equal this example's. ``"any"``: any
    #: value, or none sent; ``"present"``: any value, but sent. Every other param must equal.
    match: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def matches(self, params: Mapping[str, Any]) -> bool:
        """True when ``params`` is this example's: equal on every param, except those its
        match rules free.

        Example::

            Example({"limit": "1"}, reply, match={"limit": "any"}).matches({})        # True
        """
        rules = self.match
        for name, value in self.params.items():
            if name not in rules and (name not in params or params[name] != value):
                return False
        for name in params:
            if name not in self.params and name not in rules:
                return False
        return all(rule != "present" or name in params for name, rule in rules.items())

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
        if self.match:
            out["match"] = dict(self.match)
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

    ``access`` comes from the file when it says, else from :func:`access_from_name`
    (``access_declared`` tells which); ``read_when`` makes a write a read for some parameters.
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
    #: The conditions under which the action reads (``"read_when"``): where there are any, it
    #: goes live only when the parameters sent meet them all
    #: (:func:`~refold_contract.access.access_of`); ``access`` is then its usual kind.
    read_when: tuple[ReadWhen, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    examples: tuple[Example, ...] = ()
    path: Path | None = dataclasses.field(default=None, compare=False)
    position: int | None = None
    evidence: Evidence | None = dataclasses.field(default=None, compare=False)
    state: StateBlock | None = dataclasses.field(default=None, compare=False)
    #: For an action an extending file (``"extends": true``) added examples to: the file of
    #: the whole action it extends (its schema and state block); ``path`` is then the last
    #: extending file. ``None`` for an action one whole file gives.
    base_path: Path | None = dataclasses.field(default=None, compare=False)

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

    @cached_property
    def ruled_examples(self) -> tuple[Example, ...]:
        """The examples that declare match rules, in file order."""
        return tuple(e for e in self.examples if e.match)

    def example_for(self, params: Any, key: str | None = None) -> Example | None:
        """The example that answers ``params``: the one with equal params (canonical JSON;
        ``key`` when the caller has it), else the first whose match rules take them.

        Example::

            action.example_for({"limit": "1"})      # the example recorded for {"limit": "1"}
        """
        example = self.examples_by_params.get(key if key is not None else canonical_json(params))
        if example is not None or not self.ruled_examples or not isinstance(params, Mapping):
            return example
        return next((e for e in self.ruled_examples if e.matches(params)), None)

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
