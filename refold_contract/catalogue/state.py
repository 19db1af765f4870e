"""The ``"state"`` block of an action file: parsed into :class:`StateBlock`, every problem named.

:func:`parse_state` is what the catalogue loader and ``lint`` call for a file's ``"state"`` key.
It checks everything that can be checked in one file (unknown keys, the operation, parameter
names, the paging convention, the record model, each template's placeholders) and reports each
problem with the JSON pointer below ``/state`` and a hint. The format is described in the
package docstring (:mod:`refold_contract.sandbox`).

Example::

    problems = []
    block = parse_state(raw, parameters={"contactId": ...},
                        report=lambda pointer, message, hint: problems.append(pointer))
    block.operation, block.object, block.id_param     # ('get', 'contacts', 'contactId')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

from refold_contract._core.json import allowed_keys_hint, json_type, pointer_escape
from refold_contract.catalogue.template import (
    Compiled,
    at,
    compile_template,
    exact_placeholder,
    find,
    placeholders,
)

__all__ = [
    "CLOCKS",
    "FILTER_OPS",
    "ID_FORMATS",
    "OPERATIONS",
    "PAGING_STYLES",
    "FieldMap",
    "Filter",
    "Paging",
    "Parent",
    "QuerySpec",
    "RecordModel",
    "Reply",
    "Search",
    "Select",
    "StateBlock",
    "Template",
    "parse_state",
]

Operation = Literal["create", "get", "list", "search", "update", "delete", "query"]
#: What a state block can do to its object type.
OPERATIONS: Final[tuple[Operation, ...]] = (
    "create",
    "get",
    "list",
    "search",
    "update",
    "delete",
    "query",
)
#: The paging conventions, each named after the app whose API defines it.
PAGING_STYLES: Final = ("hubspot", "slack", "gmail", "workday", "salesforce")
#: How new record ids look. ``salesforce`` takes the key prefix: ``salesforce:001``.
ID_FORMATS: Final = (
    "hubspot",
    "salesforce",
    "slack-channel",
    "slack-ts",
    "gmail",
    "zendesk",
    "workday",
    "uuid",
    "counter",
)
#: How timestamps look: ``iso-ms`` 2025-07-08T14:05:33.812Z, ``iso`` 2024-07-02T16:20:11Z,
#: ``salesforce`` 2024-06-03T13:05:52.000+0000, ``unix`` 1596722400, ``unix-ms`` "1719950412000",
#: ``slack-ts`` "1719950412.006900".
CLOCKS: Final = ("iso-ms", "iso", "salesforce", "unix", "unix-ms", "slack-ts")
#: Comparisons a filter (or HubSpot's search) can make.
FILTER_OPS: Final = (
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "PREFIX",
    "IN",
    "CONTAINS_ALL",
)

_UNSET: Final = object()

_STATE_KEYS = (
    "object",
    "operation",
    "id_param",
    "record",
    "fields",
    "unique",
    "parent",
    "filters",
    "search",
    "query",
    "select",
    "order",
    "paging",
    "only_with",
    "item",
    "reply",
    "on_missing",
    "on_conflict",
    "on_invalid",
)
_RECORD_KEYS = ("id", "ids", "created", "updated", "clock")
_FIELD_KEYS = ("exclude", "merge", "rename", "values", "defaults")
_PAGING_KEYS = (
    "style",
    "limit",
    "cursor",
    "offset",
    "batch",
    "default",
    "max",
    "after",
    "order",
    "prefix",
)
_SELECT_KEYS = ("param", "default", "always", "missing", "written", "sort", "omit")
_FILTER_KEYS = ("param", "field", "op", "value", "when")
_SEARCH_KEYS = ("property_param", "operator_param", "value_param", "query_param", "query_fields")
_QUERY_KEYS = ("param", "language")
_PARENT_KEYS = ("object", "param", "field")
_ORDER_KEYS = ("field", "direction")
_REPLY_KEYS = ("http_status", "node_status", "data")

#: Where each paging convention puts the next page's cursor in the app's reply (below data).
NEXT_CURSOR_AT: Final[Mapping[str, tuple[str, ...]]] = {
    "hubspot": ("paging", "next", "after"),
    "slack": ("response_metadata", "next_cursor"),
    "gmail": ("nextPageToken",),
    "salesforce": ("nextRecordsUrl",),
}
_STYLE_PARAMS: Final[Mapping[str, tuple[str, ...]]] = {
    "hubspot": ("limit",),
    "slack": ("limit", "cursor"),
    "gmail": ("limit", "cursor"),
    "workday": ("limit", "offset"),
    "salesforce": (),
}
_STYLE_DEFAULTS: Final[Mapping[str, tuple[int, int]]] = {
    "hubspot": (10, 100),
    "slack": (100, 1000),
    "gmail": (100, 500),
    "workday": (20, 100),
    "salesforce": (2000, 2000),
}

# Namespaces each template may name.
_ITEM_NS = frozenset({"record", "selected", "object", "params", "now"})
_ONE_NS = frozenset({"item", "record", "params", "object", "id", "uuid", "now"})
_MANY_NS = frozenset({"items", "paging", "params", "object", "uuid", "now"})
_MISSING_NS = frozenset({"params", "object", "id", "uuid", "now"})
_CONFLICT_NS = frozenset({"existing", "params", "object", "uuid", "now"})
_INVALID_NS = frozenset({"message", "code", "params", "object", "uuid", "now"})

Report = Callable[[str, str, str], None]


class Template:
    """A reply template: the raw JSON from the file, compiled on first use.

    Example::

        Template({"ticket": "{item}"}).render(Context(item={"id": 1}))
    """

    __slots__ = ("_compiled", "needs", "raw")

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._compiled: Compiled | None = None
        #: The namespaces the template names (the sandbox fills only those it must).
        self.needs = frozenset(ph.namespace for _, ph in placeholders(raw))

    @property
    def compiled(self) -> Compiled:
        """The template as a function of a context (:func:`compile_template`), compiled once."""
        if self._compiled is None:
            self._compiled = compile_template(self.raw)
        return self._compiled

    def render(self, ctx: Any) -> Any:
        """The JSON this template gives for ``ctx`` (:data:`MISSING` when nothing is left)."""
        return self.compiled(ctx)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Template) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(repr(self.raw))

    def __repr__(self) -> str:
        return f"Template({self.raw!r})"


@dataclasses.dataclass(frozen=True)
class RecordModel:
    """How one object type's records are kept: the id field, how ids and timestamps look.

    Example::

        RecordModel(id="hs_object_id", ids="hubspot", created="createdate",
                    updated="lastmodifieddate", clock="iso-ms")
    """

    id: str
    ids: str
    created: str | None = None
    updated: str | None = None
    clock: str = "iso-ms"

    @property
    def id_format(self) -> str:
        """``ids`` without a Salesforce key prefix."""
        return self.ids.partition(":")[0]

    @property
    def prefix(self) -> str:
        """The Salesforce key prefix (``001`` for Account), or ``""``."""
        return self.ids.partition(":")[2]


@dataclasses.dataclass(frozen=True)
class FieldMap:
    """How a create or update request's params become record fields.

    Every param the action's schema names becomes the field of the same name, except the id
    param, ``exclude``d ones, and ``merge``d ones (JSON objects whose keys become fields).
    ``rename`` maps a param to another field name. ``values``: ``"as-sent"``, ``"strings"``
    (every scalar stored as text, as HubSpot keeps properties) or ``"numbers"`` (params of type
    ``number`` stored as JSON numbers, as Salesforce does). ``defaults`` fill fields a create
    leaves unset.

    Example::

        FieldMap(exclude=("associations",), merge=("additional_fields",), values="strings")
    """

    exclude: tuple[str, ...] = ()
    merge: tuple[str, ...] = ()
    rename: Mapping[str, str] = dataclasses.field(default_factory=dict)
    values: str = "as-sent"
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Filter:
    """A condition a list or search applies when its param is in the request.

    The record's ``field`` is compared (``op``) with ``value`` if given, else the param's
    value. ``when`` limits it to one param value (``exclude_archived`` = ``"true"``).

    Example::

        Filter(param="exclude_archived", field="is_archived", op="NEQ", value=True, when="true")
    """

    param: str
    field: str
    op: str = "EQ"
    value: Any = _UNSET
    when: str | None = None

    @property
    def has_value(self) -> bool:
        """True when the compared value is fixed by the block, not taken from the param."""
        return self.value is not _UNSET


@dataclasses.dataclass(frozen=True)
class Search:
    """HubSpot-style search: one filter built from three params, and an optional free query.

    Example::

        Search(property_param="propertyName", operator_param="operator", value_param="value")
    """

    property_param: str
    operator_param: str
    value_param: str
    query_param: str | None = None
    query_fields: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class QuerySpec:
    """Where a ``query`` operation finds its query text, and the language (SOQL only).

    Example::

        QuerySpec(param="query")
    """

    param: str | None
    language: str = "soql"


@dataclasses.dataclass(frozen=True)
class Parent:
    """The record a request names that must exist first (a Slack channel for its history).

    ``field``, when given, is the record field that holds the parent's id.

    Example::

        Parent(object="channels", param="channel", field="channel")
    """

    object: str
    param: str
    field: str | None = None


@dataclasses.dataclass(frozen=True)
class Select:
    """Which record fields a reply carries (``{selected}``).

    ``param`` names a comma-separated list of fields in the request; without it, ``default``
    (or every field). ``always`` are added to any choice; ``written`` makes a create or update
    reply carry only the fields it wrote (plus ``always``). ``missing``: a chosen field the
    record lacks is ``"null"`` or ``"omit"``ted. ``sort`` orders fields by name; ``omit`` are
    never shown.

    Example::

        Select(param="properties", always=("hs_object_id",), sort=True)
    """

    param: str | None = None
    default: tuple[str, ...] | None = None
    always: tuple[str, ...] = ()
    missing: str = "omit"
    written: bool = False
    sort: bool = False
    omit: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Paging:
    """One app's paging convention, with the action's param names.

    ``style`` is one of :data:`PAGING_STYLES`. ``limit`` is the page-size param, ``cursor``
    the param carrying the previous reply's cursor (for ``salesforce``, the param carrying a
    ``nextRecordsUrl``), ``offset`` the zero-based start (``workday``), ``batch`` the batch-size
    param (``salesforce``). ``default`` and ``max`` bound the page size. ``after`` (``hubspot``)
    is ``"id"`` when the cursor is the next record's id, ``"offset"`` when it is a position.
    ``order`` is ``"asc"`` or ``"desc"`` by record id; ``prefix`` (``slack``) goes before the
    id inside the base64 cursor.

    Example::

        Paging(style="hubspot", limit="limit", cursor="after", default=10, max=100)
    """

    style: str
    limit: str | None = None
    cursor: str | None = None
    offset: str | None = None
    batch: str | None = None
    default: int = 10
    max: int = 100
    after: str = "id"
    order: str = "asc"
    prefix: str = ""


@dataclasses.dataclass(frozen=True)
class Reply:
    """One reply: the app's status (``None`` leaves ``http_status`` out), node status, data.

    Example::

        Reply(http_status=404, node_status="Errored", data=Template({"error": "RecordNotFound"}))
    """

    data: Template
    http_status: int | None = None
    node_status: str = "Success"
    status_given: bool = True


@dataclasses.dataclass(frozen=True)
class StateBlock:
    """An action's ``"state"`` block, parsed: what the sandbox does when the action runs.

    Example::

        block = Catalogue.builtin().get("hubspot", "get_contact_by_id").state
        block.object, block.operation, block.id_param     # ('contacts', 'get', 'contactId')
    """

    object: str
    operation: Operation
    reply: Reply
    id_param: str | None = None
    record: RecordModel | None = None
    fields: FieldMap = FieldMap()
    unique: tuple[str, ...] = ()
    parent: Parent | None = None
    filters: tuple[Filter, ...] = ()
    search: Search | None = None
    query: QuerySpec | None = None
    select: Select | None = None
    order: tuple[str, bool] | None = None
    paging: Paging | None = None
    only_with: tuple[str, ...] = ()
    item: Template | None = None
    on_missing: Reply | Literal["succeed"] | None = None
    on_conflict: Reply | None = None
    on_invalid: Reply | None = None

    @property
    def reads(self) -> bool:
        """True for get, list, search and query."""
        return self.operation in ("get", "list", "search", "query")


class _Parser:
    def __init__(self, parameters: Mapping[str, Any], report: Report) -> None:
        self.parameters = parameters
        self.report = report
        self.ok = True

    def problem(self, pointer: str, message: str, hint: str) -> None:
        self.ok = False
        self.report(pointer, message, hint)

    def keys(self, raw: Mapping[str, Any], allowed: tuple[str, ...], pointer: str) -> None:
        for key in raw:
            if key not in allowed:
                self.problem(
                    f"{pointer}/{pointer_escape(key)}",
                    f"unknown key {key!r} in {pointer or 'the state block'}",
                    allowed_keys_hint(key, allowed),
                )

    def one_of(
        self,
        doc: Mapping[str, Any],
        key: str,
        pointer: str,
        choices: tuple[str, ...],
        default: str | None,
        what: str,
        hint: str | None = None,
    ) -> Any:
        """``doc[key]`` (``default`` when absent) if it is one of ``choices``; else ``None``,
        with ``unknown {what} ...`` reported and the choices as the hint unless one is given."""
        value = doc.get(key, default)
        if value in choices:
            return value
        hint = hint or "one of " + ", ".join(choices)
        self.problem(f"{pointer}/{key}", f"unknown {what} {value!r}", hint)
        return None

    def obj(self, raw: Any, pointer: str, example: str) -> dict[str, Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.problem(pointer, f"must be an object, got {json_type(raw)}", f"e.g. {example}")
            return None
        return raw

    def text(
        self, raw: Mapping[str, Any], key: str, pointer: str, *, required: bool, hint: str
    ) -> str | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.problem(f"{pointer}/{key}", f"missing required key {key!r}", hint)
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(
                f"{pointer}/{key}",
                f"{key!r} must be a non-empty string, got {json_type(value)}",
                hint,
            )
            return None
        return value

    def names(self, raw: Mapping[str, Any], key: str, pointer: str, hint: str) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem(f"{pointer}/{key}", f"{key!r} must be an array of names (strings)", hint)
            return ()
        return tuple(value)

    def param(
        self, raw: Mapping[str, Any], key: str, pointer: str, *, required: bool, hint: str
    ) -> str | None:
        name = self.text(raw, key, pointer, required=required, hint=hint)
        if name is not None and name not in self.parameters:
            known = ", ".join(self.parameters) or "none"
            self.problem(
                f"{pointer}/{key}",
                f"{key} {name!r} is not one of the action's parameters",
                f"name one of the action's parameters ({known})",
            )
            return None
        return name

    def params_list(self, raw: Mapping[str, Any], key: str, pointer: str) -> tuple[str, ...]:
        names = self.names(raw, key, pointer, "name the action's parameters")
        for i, name in enumerate(names):
            if name not in self.parameters:
                self.problem(
                    f"{pointer}/{key}/{i}",
                    f"{name!r} is not one of the action's parameters",
                    "known parameters: " + (", ".join(self.parameters) or "none"),
                )
        return tuple(n for n in names if n in self.parameters)

    # ------------------------------------------------------------------ parts

    def record(self, raw: Any) -> RecordModel | None:
        pointer = "/record"
        example = '{"id": "hs_object_id", "ids": "hubspot", "created": "createdate"}'
        doc = self.obj(raw, pointer, example)
        if doc is None:
            return None
        self.keys(doc, _RECORD_KEYS, pointer)
        hint = "the field that holds each record's id, in the app's own name"
        id_field = self.text(doc, "id", pointer, required=True, hint=hint)
        ids = self.text(doc, "ids", pointer, required=True, hint="one of " + ", ".join(ID_FORMATS))
        if ids is not None:
            kind, _, prefix = ids.partition(":")
            if kind not in ID_FORMATS:
                self.problem(
                    f"{pointer}/ids",
                    f"unknown id format {ids!r}",
                    "one of " + ", ".join(ID_FORMATS) + " (salesforce:PFX with the object's "
                    "3-character key prefix, e.g. salesforce:001)",
                )
                ids = None
            elif kind == "salesforce" and not (len(prefix) == 3 and prefix.isalnum()):
                self.problem(
                    f"{pointer}/ids",
                    f"salesforce ids need the object's 3-character key prefix, got {ids!r}",
                    "e.g. salesforce:001 (Account), salesforce:003 (Contact), salesforce:00Q",
                )
                ids = None
            elif kind != "salesforce" and prefix:
                self.problem(
                    f"{pointer}/ids",
                    f"only salesforce ids take a prefix: {ids!r}",
                    "drop the part after ':'",
                )
                ids = None
        created = self.text(doc, "created", pointer, required=False, hint="a field name")
        updated = self.text(doc, "updated", pointer, required=False, hint="a field name")
        clock = self.one_of(doc, "clock", pointer, CLOCKS, "iso-ms", "clock")
        if id_field is None or ids is None or clock is None:
            return None
        return RecordModel(id_field, ids, created, updated, clock)

    def fields(self, raw: Any) -> FieldMap:
        pointer = "/fields"
        doc = self.obj(raw, pointer, '{"exclude": ["associations"], "merge": ["extra"]}')
        if doc is None:
            return FieldMap()
        self.keys(doc, _FIELD_KEYS, pointer)
        exclude = self.params_list(doc, "exclude", pointer)
        merge = self.params_list(doc, "merge", pointer)
        rename_raw = doc.get("rename", {})
        rename: dict[str, str] = {}
        if not isinstance(rename_raw, dict):
            self.problem(
                f"{pointer}/rename",
                "'rename' must map param names to field names",
                'e.g. {"ticket_subject": "subject"}',
            )
        else:
            for key, value in rename_raw.items():
                if key not in self.parameters:
                    self.problem(
                        f"{pointer}/rename/{pointer_escape(key)}",
                        f"{key!r} is not one of the action's parameters",
                        "rename maps a parameter to a record field",
                    )
                elif not isinstance(value, str) or not value:
                    self.problem(
                        f"{pointer}/rename/{pointer_escape(key)}",
                        "a renamed field must be a non-empty string",
                        "the record field the param is stored as",
                    )
                else:
                    rename[key] = value
        rules = ("as-sent", "strings", "numbers")
        hint = "as-sent, strings (HubSpot) or numbers (Salesforce)"
        values = self.one_of(doc, "values", pointer, rules, "as-sent", "values rule", hint)
        defaults = doc.get("defaults", {})
        if not isinstance(defaults, dict):
            self.problem(
                f"{pointer}/defaults",
                "'defaults' must be an object of field values",
                'e.g. {"type": "message"}',
            )
            defaults = {}
        else:
            self.template(defaults, f"{pointer}/defaults", frozenset({"params", "now"}))
        return FieldMap(exclude, merge, rename, values or "as-sent", defaults)

    def filters(self, raw: Any) -> tuple[Filter, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.problem(
                "/filters",
                "'filters' must be an array of filter objects",
                '[{"param": "channel", "field": "channel", "op": "EQ"}]',
            )
            return ()
        out = []
        for i, item in enumerate(raw):
            pointer = f"/filters/{i}"
            doc = self.obj(item, pointer, '{"param": "channel", "field": "channel", "op": "EQ"}')
            if doc is None:
                continue
            self.keys(doc, _FILTER_KEYS, pointer)
            param = self.param(doc, "param", pointer, required=True, hint="the request param")
            field = self.text(doc, "field", pointer, required=True, hint="the record field")
            op = self.one_of(doc, "op", pointer, FILTER_OPS, "EQ", "filter op")
            if op is None:
                continue
            when = doc.get("when")
            if when is not None and not isinstance(when, str):
                self.problem(
                    f"{pointer}/when",
                    "'when' must be a string (a param value)",
                    'e.g. "when": "true"',
                )
                continue
            if param is None or field is None:
                continue
            out.append(Filter(param, field, op, doc.get("value", _UNSET), when))
        return tuple(out)

    def search(self, raw: Any) -> Search | None:
        pointer = "/search"
        doc = self.obj(raw, pointer, '{"property_param": "propertyName", ...}')
        if doc is None:
            return None
        self.keys(doc, _SEARCH_KEYS, pointer)
        hint = "the request param that carries it"
        prop = self.param(doc, "property_param", pointer, required=True, hint=hint)
        operator = self.param(doc, "operator_param", pointer, required=True, hint=hint)
        value = self.param(doc, "value_param", pointer, required=True, hint=hint)
        query = self.param(doc, "query_param", pointer, required=False, hint=hint)
        fields = self.names(doc, "query_fields", pointer, "record fields a free query searches")
        if prop is None or operator is None or value is None:
            return None
        return Search(prop, operator, value, query, fields)

    def query(self, raw: Any) -> QuerySpec | None:
        pointer = "/query"
        doc = self.obj(raw, pointer, '{"param": "query", "language": "soql"}')
        if doc is None:
            return None
        self.keys(doc, _QUERY_KEYS, pointer)
        param = self.param(doc, "param", pointer, required=True, hint="the param with the query")
        hint = "the sandbox answers SOQL only"
        if self.one_of(doc, "language", pointer, ("soql",), "soql", "query language", hint) is None:
            return None
        return QuerySpec(param) if param is not None else None

    def parent(self, raw: Any) -> Parent | None:
        pointer = "/parent"
        doc = self.obj(raw, pointer, '{"object": "channels", "param": "channel"}')
        if doc is None:
            return None
        self.keys(doc, _PARENT_KEYS, pointer)
        obj = self.text(doc, "object", pointer, required=True, hint="the parent's object type")
        param = self.param(doc, "param", pointer, required=True, hint="the param with its id")
        field = self.text(doc, "field", pointer, required=False, hint="the field with its id")
        if obj is None or param is None:
            return None
        return Parent(obj, param, field)

    def select(self, raw: Any) -> Select | None:
        pointer = "/select"
        doc = self.obj(raw, pointer, '{"param": "properties", "always": ["hs_object_id"]}')
        if doc is None:
            return None
        self.keys(doc, _SELECT_KEYS, pointer)
        param = self.param(doc, "param", pointer, required=False, hint="a comma-separated list")
        default = doc.get("default")
        default_names = None
        if default is not None:
            default_names = self.names(doc, "default", pointer, "field names")
        always = self.names(doc, "always", pointer, "field names always in the reply")
        omit = self.names(doc, "omit", pointer, "field names never in the reply")
        missing = doc.get("missing", "omit")
        if missing not in ("omit", "null"):
            self.problem(
                f"{pointer}/missing",
                f"'missing' must be omit or null, got {missing!r}",
                "null writes a chosen field the record lacks as null",
            )
            missing = "omit"
        flags = {}
        for key in ("written", "sort"):
            value = doc.get(key, False)
            if not isinstance(value, bool):
                self.problem(f"{pointer}/{key}", f"'{key}' must be true or false", f'"{key}": true')
                value = False
            flags[key] = value
        return Select(param, default_names, always, missing, flags["written"], flags["sort"], omit)

    def order(self, raw: Any) -> tuple[str, bool] | None:
        pointer = "/order"
        doc = self.obj(raw, pointer, '{"field": "Name", "direction": "asc"}')
        if doc is None:
            return None
        self.keys(doc, _ORDER_KEYS, pointer)
        field = self.text(doc, "field", pointer, required=True, hint="the record field")
        direction = doc.get("direction", "asc")
        if direction not in ("asc", "desc"):
            self.problem(
                f"{pointer}/direction",
                f"direction must be asc or desc, got {direction!r}",
                '"direction": "desc"',
            )
            return None
        return (field, direction == "desc") if field else None

    def paging(self, raw: Any, operation: str) -> Paging | None:
        pointer = "/paging"
        doc = self.obj(raw, pointer, '{"style": "hubspot", "limit": "limit", "cursor": "after"}')
        if doc is None:
            return None
        self.keys(doc, _PAGING_KEYS, pointer)
        style = self.one_of(doc, "style", pointer, PAGING_STYLES, None, "paging convention")
        if style is None:
            return None
        hint = "the request param that carries it"
        names = {
            key: self.param(doc, key, pointer, required=key in _STYLE_PARAMS[style], hint=hint)
            for key in ("limit", "cursor", "offset", "batch")
        }
        default, maximum = _STYLE_DEFAULTS[style]
        sizes = {}
        for key, fallback in (("default", default), ("max", maximum)):
            value = doc.get(key, fallback)
            if type(value) is not int or value < 1:
                self.problem(
                    f"{pointer}/{key}",
                    f"'{key}' must be a whole number from 1, got {value!r}",
                    "a page size",
                )
                value = fallback
            sizes[key] = value
        if sizes["default"] > sizes["max"]:
            self.problem(
                f"{pointer}/default",
                "the default page size is over the maximum",
                "lower default or raise max",
            )
        after = doc.get("after", "offset" if operation == "search" else "id")
        if "after" in doc and style != "hubspot":
            self.problem(
                f"{pointer}/after",
                "'after' is for hubspot paging only",
                "drop it: other conventions define their own cursor",
            )
        elif after not in ("id", "offset"):
            self.problem(
                f"{pointer}/after",
                f"'after' must be id or offset, got {after!r}",
                "id: the cursor is the next record's id; offset: a position",
            )
            after = "id"
        order = doc.get("order", "asc")
        if order not in ("asc", "desc"):
            self.problem(
                f"{pointer}/order",
                f"order must be asc or desc, got {order!r}",
                "the direction records are paged in, by id",
            )
            order = "asc"
        prefix = doc.get("prefix", "")
        if not isinstance(prefix, str):
            self.problem(f"{pointer}/prefix", "'prefix' must be a string", '"prefix": "team:"')
            prefix = ""
        if style == "salesforce" and operation not in ("query", "list"):
            self.problem(
                f"{pointer}/style",
                "salesforce paging is for list and query operations",
                "Salesforce pages query results with nextRecordsUrl",
            )
        return Paging(
            style,
            names["limit"],
            names["cursor"],
            names["offset"],
            names["batch"],
            sizes["default"],
            sizes["max"],
            after,
            order,
            prefix,
        )

    def template(self, raw: Any, pointer: str, allowed: frozenset[str]) -> Template:
        for where, ph in placeholders(raw, pointer):
            if ph.namespace not in allowed:
                self.problem(
                    where,
                    f"placeholder {{{ph.namespace}}} cannot be used here",
                    "here a template may use: " + ", ".join(sorted(allowed)),
                )
            elif ph.namespace == "params" and ph.path and ph.path[0] not in self.parameters:
                self.problem(
                    where,
                    f"{{params/{ph.path[0]}}} names no parameter of the action",
                    "known parameters: " + (", ".join(self.parameters) or "none"),
                )
        return Template(raw)

    def reply(
        self, raw: Any, pointer: str, allowed: frozenset[str], *, success: bool
    ) -> Reply | None:
        doc = self.obj(raw, pointer, '{"http_status": 404, "data": {...}}')
        if doc is None:
            return None
        self.keys(doc, _REPLY_KEYS, pointer)
        status = doc.get("http_status", _UNSET)
        if (
            status is not _UNSET
            and status is not None
            and (type(status) is not int or not 100 <= status <= 599)
        ):
            self.problem(
                f"{pointer}/http_status",
                f"'http_status' must be an HTTP status or null, got {status!r}",
                "the app's own status, e.g. 404",
            )
            status = _UNSET
        node_status = doc.get("node_status", "Success" if success else "Errored")
        if not isinstance(node_status, str) or not node_status:
            self.problem(
                f"{pointer}/node_status",
                "'node_status' must be a non-empty string",
                "Success, or Errored for a failure inside the app",
            )
            node_status = "Errored"
        elif not success and node_status == "Success":
            self.problem(
                f"{pointer}/node_status",
                "an app error cannot have node_status Success",
                "Refold answers a failure inside the app with node_status Errored",
            )
        if "data" not in doc:
            self.problem(
                f"{pointer}/data",
                "missing 'data' (the app's reply, as a template)",
                '"data": null for an app that answers with no body',
            )
        data = self.template(doc.get("data"), f"{pointer}/data", allowed)
        if status is _UNSET:
            return Reply(data, None, node_status, status_given=False)
        assert status is None or isinstance(status, int)
        return Reply(data, status, node_status)

    # ------------------------------------------------------------------ the block

    def block(self, raw: Any) -> StateBlock | None:
        if not isinstance(raw, dict):
            self.problem(
                "",
                f"'state' must be an object, got {json_type(raw)}",
                '{"object": "contacts", "operation": "get", ...}',
            )
            return None
        self.keys(raw, _STATE_KEYS, "")
        operation = self.one_of(raw, "operation", "", OPERATIONS, None, "operation")
        if operation is None:
            return None
        query = self.query(raw.get("query"))
        obj = self.text(
            raw,
            "object",
            "",
            required=operation != "query",
            hint="the object type, in the app's own plural: contacts, Account",
        )
        paging = self.paging(raw.get("paging"), operation)
        continues = paging is not None and paging.style == "salesforce" and paging.cursor
        if operation == "query" and raw.get("query") is None and not continues:
            self.problem(
                "/query",
                "a query operation needs 'query' (the param holding the SOQL), or salesforce "
                "paging with a 'cursor' param to continue one",
                '"query": {"param": "query"}',
            )
        id_param = self.param(
            raw,
            "id_param",
            "",
            required=operation in ("get", "update", "delete"),
            hint="the param that names the record",
        )
        record = self.record(raw.get("record"))
        if record is None and operation != "query" and raw.get("record") is None:
            self.problem(
                "/record",
                "missing required key 'record'",
                '"record": {"id": "<id field>", "ids": "<id format>"} (the same in '
                "every block on this object type)",
            )
        fields = self.fields(raw.get("fields"))
        unique = self.names(raw, "unique", "", "record fields no two records may share")
        parent = self.parent(raw.get("parent"))
        filters = self.filters(raw.get("filters"))
        search = self.search(raw.get("search"))
        if operation == "search" and search is None and raw.get("search") is None:
            self.problem(
                "/search",
                "a search operation needs 'search'",
                '{"property_param": ..., "operator_param": ..., "value_param": ...}',
            )
        select = self.select(raw.get("select"))
        order = self.order(raw.get("order"))
        if (
            order is not None
            and paging is not None
            and (
                paging.style in ("slack", "gmail")
                or (paging.style == "hubspot" and paging.after == "id")
            )
        ):
            self.problem(
                "/order",
                f"{paging.style if paging else ''} cursors walk records in id "
                "order; 'order' cannot change it",
                "use paging.order (asc or desc) for the direction",
            )
        only_with = self.params_list(raw, "only_with", "")
        item = None
        if "item" in raw:
            item = self.template(raw["item"], "/item", _ITEM_NS)
        many = operation in ("list", "search", "query")
        reply = self.reply(raw.get("reply"), "/reply", _MANY_NS if many else _ONE_NS, success=True)
        if reply is None and raw.get("reply") is None:
            self.problem(
                "/reply",
                "missing required key 'reply'",
                '"reply": {"data": <template>} (the app\'s reply)',
            )
        on_missing: Reply | Literal["succeed"] | None = None
        if raw.get("on_missing") == "succeed":
            on_missing = "succeed"
        elif "on_missing" in raw:
            on_missing = self.reply(raw["on_missing"], "/on_missing", _MISSING_NS, success=False)
        elif operation in ("get", "update", "delete") or parent is not None:
            self.problem(
                "/on_missing",
                f"a {operation} needs 'on_missing': the app's reply when the record does not exist",
                '{"http_status": 404, "data": {...}} or "succeed"',
            )
        on_conflict = None
        if "on_conflict" in raw:
            on_conflict = self.reply(
                raw["on_conflict"], "/on_conflict", _CONFLICT_NS, success=False
            )
        elif unique:
            self.problem(
                "/on_conflict",
                "'unique' needs 'on_conflict': the app's reply when a "
                "record already holds the value",
                '{"http_status": 409, "data": ...}',
            )
        on_invalid = None
        if "on_invalid" in raw:
            on_invalid = self.reply(raw["on_invalid"], "/on_invalid", _INVALID_NS, success=False)
        if reply is not None:
            self.placement(operation, reply, item, paging)
        if not self.ok or reply is None:
            return None
        return StateBlock(
            object=obj or "",
            operation=operation,
            reply=reply,
            id_param=id_param,
            record=record,
            fields=fields,
            unique=unique,
            parent=parent,
            filters=filters,
            search=search,
            query=query,
            select=select,
            order=order,
            paging=paging,
            only_with=only_with,
            item=item,
            on_missing=on_missing,
            on_conflict=on_conflict,
            on_invalid=on_invalid,
        )

    def placement(
        self,
        operation: str,
        reply: Reply,
        item: Template | None,
        paging: Paging | None,
    ) -> None:
        """Replies put records where the operation gives them, and cursors where the
        convention reads them."""
        data = reply.data.raw
        many = operation in ("list", "search", "query")
        names = reply.data.needs
        if many and find(data, "items") is None:
            self.problem(
                "/reply/data",
                f"a {operation} reply must hold the page of records as "
                'a string that is exactly "{items}"',
                '"results": "{items}"',
            )
        if ("item" in names or "items" in names) and item is None:
            self.problem(
                "/item",
                "the reply names {item} or {items} but the block has no 'item' template",
                '"item": "{record}" to show records as stored',
            )
        if paging is not None and paging.style in NEXT_CURSOR_AT:
            path = NEXT_CURSOR_AT[paging.style]
            ph = exact_placeholder(at(data, path))
            if ph is None or ph != ("paging", ("next",)):
                self.problem(
                    "/reply/data",
                    f"{paging.style} paging puts the next cursor at "
                    f"/{'/'.join(path)}; the reply template does not",
                    f'put "{{paging/next}}" at /{"/".join(path)} in reply.data',
                )
        if paging is not None and paging.style == "workday" and "paging" not in names:
            self.problem(
                "/reply/data",
                "workday paging needs the total in the reply",
                '"total": "{paging/total}"',
            )


def parse_state(raw: Any, *, parameters: Mapping[str, Any], report: Report) -> StateBlock | None:
    """Parse and check an action file's ``"state"`` value; ``None`` if it has any problem.

    ``parameters`` are the action's parameters by name. ``report(pointer, message, hint)`` is
    called once per problem, ``pointer`` relative to the state block (``""`` is the block).

    Example::

        found = []
        parse_state({"operation": "fetch"}, parameters={},
                    report=lambda p, m, h: found.append((p, m)))
        found[0]      # ('/operation', "unknown operation 'fetch'")
    """
    return _Parser(parameters, report).block(raw)
