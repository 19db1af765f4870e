"""Parsing the parts of a state block: record model, fields, filters, search, paging and the rest.

:class:`PartParser` holds the checks every part shares (unknown keys, names of the action's
parameters, one-of choices) and parses each part of a ``"state"`` object below its own pointer,
reporting every problem through one ``report(pointer, message, hint)`` callable. The block as a
whole (operation, replies, where records and cursors go) is parsed in
:mod:`refold_contract.catalogue.state.parse`.

Example::

    found = []
    parser = PartParser({"limit": ...}, lambda p, m, h: found.append((p, m)))
    parser.paging({"style": "hubspot", "limit": "limit"}, "list").default   # 10
    parser.record({"id": "hs_object_id"})                                   # None
    found[0]     # ('/record/ids', "missing required key 'ids'")
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from refold_contract._core.json import allowed_keys_hint, json_type, pointer_escape
from refold_contract.catalogue.state.model import (
    CLOCKS,
    FILTER_OPS,
    ID_FORMATS,
    LIST_QUERY_LANGUAGES,
    PAGING_STYLES,
    UNSET,
    VIEW_STYLES,
    FieldMap,
    Filter,
    Kinds,
    Paging,
    Parent,
    Properties,
    QuerySpec,
    RecordModel,
    Route,
    Search,
    SearchObject,
    Select,
    Template,
    View,
)
from refold_contract.catalogue.template import mark_problems, placeholders

__all__ = ["PartParser", "Report"]

#: Where problems go: ``report(pointer, message, hint)``, the pointer below ``/state``.
Report = Callable[[str, str, str], None]

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
_SEARCH_KEYS = (
    "property_param",
    "operator_param",
    "value_param",
    "query_param",
    "query_fields",
    "style",
    "objects",
)
_SEARCH_OBJECT_KEYS = ("properties", "query")
_ROUTE_KEYS = ("method", "path", "method_param", "path_param", "body_param")
_PROPERTIES_KEYS = ("known", "emails", "options", "portal_id")
_QUERY_KEYS = ("param", "language", "fields")
_SOQL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_PARENT_KEYS = ("object", "param", "field")
_KINDS_KEYS = ("param", "default", "of")
_VIEW_KEYS = ("style", "param", "headers")
_ORDER_KEYS = ("field", "direction")
_STYLE_PARAMS: Final[Mapping[str, tuple[str, ...]]] = {
    "hubspot": ("limit",),
    "slack": ("limit", "cursor"),
    "gmail": ("limit", "cursor"),
    "workday": ("limit", "offset"),
    "salesforce": (),
    "netsuite": ("limit", "offset"),
}
_STYLE_DEFAULTS: Final[Mapping[str, tuple[int, int]]] = {
    "hubspot": (10, 100),
    "slack": (100, 1000),
    "gmail": (100, 500),
    "workday": (20, 100),
    "salesforce": (2000, 2000),
    "netsuite": (1000, 1000),
}


class PartParser:
    """The shared checks of a state block and the parsers of its parts.

    Every problem goes to ``report`` and clears :attr:`ok`; a part with a problem parses as
    ``None`` (or its empty default) so that the rest can still be checked.

    Example::

        parser = PartParser({"channel": ...}, report)
        parser.parent({"object": "channels", "param": "channel"})
        # Parent(object='channels', param='channel', field=None)
    """

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
            out.append(Filter(param, field, op, doc.get("value", UNSET), when))
        return tuple(out)

    def search(self, raw: Any) -> Search | None:
        pointer = "/search"
        doc = self.obj(raw, pointer, '{"property_param": "propertyName", ...}')
        if doc is None:
            return None
        self.keys(doc, _SEARCH_KEYS, pointer)
        hint = "the request param that carries it"
        style = self.one_of(doc, "style", pointer, ("params", "body"), "params", "search style")
        if style == "body":
            for key in ("property_param", "operator_param", "value_param", "query_param"):
                if key in doc:
                    self.problem(
                        f"{pointer}/{key}",
                        f"a body search reads HubSpot's search body, not {key!r}",
                        "drop it: filterGroups, query, sorts, limit and after come in the body",
                    )
            objects = self.search_objects(doc.get("objects"), f"{pointer}/objects")
            return Search(style="body", objects=objects) if objects else None
        if "objects" in doc:
            self.problem(
                f"{pointer}/objects",
                "'objects' is for a body search",
                'add "style": "body", or drop it',
            )
        prop = self.param(doc, "property_param", pointer, required=True, hint=hint)
        operator = self.param(doc, "operator_param", pointer, required=True, hint=hint)
        value = self.param(doc, "value_param", pointer, required=True, hint=hint)
        query = self.param(doc, "query_param", pointer, required=False, hint=hint)
        fields = self.names(doc, "query_fields", pointer, "record fields a free query searches")
        if prop is None or operator is None or value is None or style is None:
            return None
        return Search(prop, operator, value, query, fields)

    def search_objects(self, raw: Any, pointer: str) -> dict[str, SearchObject]:
        example = '{"contacts": {"properties": ["email", ...], "query": ["email", ...]}}'
        doc = self.obj(raw, pointer, example)
        if not doc:
            self.problem(
                pointer, "a body search needs 'objects': the object types it serves", example
            )
            return {}
        out = {}
        for name, spec in doc.items():
            where = f"{pointer}/{pointer_escape(name)}"
            entry = self.obj(spec, where, '{"properties": [...], "query": [...]}')
            if entry is None:
                continue
            self.keys(entry, _SEARCH_OBJECT_KEYS, where)
            shown = self.names(entry, "properties", where, "the properties a result shows")
            if not shown:
                self.problem(
                    f"{where}/properties",
                    "missing the properties a result shows when the request names none",
                    '"properties": ["createdate", "hs_object_id", ...]',
                )
                continue
            query = self.names(entry, "query", where, "the properties a free query looks in")
            out[name] = SearchObject(shown, query)
        return out

    def route(self, raw: Any) -> Route | None:
        pointer = "/route"
        example = '{"method": "POST", "path": "/crm/v3/objects/{object}/search", ...}'
        doc = self.obj(raw, pointer, example)
        if doc is None:
            return None
        self.keys(doc, _ROUTE_KEYS, pointer)
        method = self.text(doc, "method", pointer, required=True, hint="an HTTP method: POST")
        path = self.text(doc, "path", pointer, required=True, hint="the path, with {object}")
        hint = "the request param that carries it"
        names = [
            self.param(doc, key, pointer, required=True, hint=hint)
            for key in ("method_param", "path_param", "body_param")
        ]
        if path is not None and (not path.startswith("/") or path.count("{object}") != 1):
            self.problem(
                f"{pointer}/path",
                f"the path must start with / and hold {{object}} once, got {path!r}",
                "e.g. /crm/v3/objects/{object}/search",
            )
            return None
        if method is None or path is None or None in names:
            return None
        method_param, path_param, body_param = (n or "" for n in names)
        return Route(method.upper(), path, method_param, path_param, body_param)

    def properties(self, raw: Any) -> Properties | None:
        pointer = "/properties"
        doc = self.obj(raw, pointer, '{"known": [...], "emails": ["email"]}')
        if doc is None:
            return None
        self.keys(doc, _PROPERTIES_KEYS, pointer)
        known = self.names(doc, "known", pointer, "the object type's property names")
        emails = self.names(doc, "emails", pointer, "properties that hold an email address")
        options: dict[str, tuple[str, ...]] = {}
        raw_options = doc.get("options", {})
        if not isinstance(raw_options, dict):
            self.problem(
                f"{pointer}/options",
                "'options' must map property names to lists of allowed values",
                '{"pipeline": ["default"]}',
            )
        else:
            for name in raw_options:
                allowed = self.names(
                    raw_options, name, f"{pointer}/options", "the values the property allows"
                )
                if allowed:
                    options[name] = allowed
        portal = doc.get("portal_id")
        if portal is not None and (type(portal) is not int or portal < 1):
            self.problem(
                f"{pointer}/portal_id",
                f"'portal_id' must be a whole number from 1, got {portal!r}",
                "the HubSpot account number written in each problem",
            )
            portal = None
        return Properties(known, emails, options, portal)

    def query(self, raw: Any, operation: str = "query") -> QuerySpec | None:
        pointer = "/query"
        doc = self.obj(raw, pointer, '{"param": "query", "language": "soql"}')
        if doc is None:
            return None
        self.keys(doc, _QUERY_KEYS, pointer)
        param = self.param(doc, "param", pointer, required=True, hint="the param with the query")
        if operation == "list":
            languages: tuple[str, ...] = LIST_QUERY_LANGUAGES
            hint = "a list block's query is one of " + ", ".join(LIST_QUERY_LANGUAGES)
            default = None
        else:
            languages, hint, default = ("soql",), "the sandbox answers SOQL only", "soql"
        language = self.one_of(doc, "language", pointer, languages, default, "query language", hint)
        if language is None:
            return None
        fields = self.query_fields(doc.get("fields"), pointer + "/fields")
        return QuerySpec(param, language, fields) if param is not None else None

    def query_fields(self, raw: Any, pointer: str) -> dict[str, tuple[str, ...]]:
        """``{"Account": ["Rating", "Region__c"]}``: fields a query may name on each object."""
        doc = self.obj(raw, pointer, '{"Account": ["Rating", "Region__c"]}')
        if doc is None:
            return {}
        hint = "SOQL names: a letter, then letters, digits and _ (custom ones end in __c)"
        out: dict[str, tuple[str, ...]] = {}
        for obj, names in doc.items():
            at = f"{pointer}/{pointer_escape(obj)}"
            if not _SOQL_NAME.fullmatch(obj):
                self.problem(at, f"{obj!r} is not an object name", hint)
                continue
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                self.problem(at, "must be an array of field names (strings)", hint)
                continue
            seen: set[str] = set()
            for i, name in enumerate(names):
                if not _SOQL_NAME.fullmatch(name):
                    self.problem(f"{at}/{i}", f"{name!r} is not a field name", hint)
                elif name.casefold() in seen:
                    self.problem(f"{at}/{i}", f"{name!r} is listed twice", "list it once")
                seen.add(name.casefold())
            out[obj] = tuple(names)
        return out

    def kinds(self, raw: Any) -> Kinds | None:
        pointer = "/kinds"
        example = '{"param": "types", "default": ["public_channel"], "of": {"im": {"is_im": true}}}'
        doc = self.obj(raw, pointer, example)
        if doc is None:
            return None
        self.keys(doc, _KINDS_KEYS, pointer)
        param = self.param(doc, "param", pointer, required=True, hint="the param naming kinds")
        of = doc.get("of")
        if not isinstance(of, dict) or not of:
            self.problem(
                f"{pointer}/of",
                "'of' must be an object: each kind's name and the field values that make it",
                '"of": {"im": {"is_im": true}}',
            )
            return None
        for name, fields in of.items():
            if not isinstance(fields, dict) or not fields:
                self.problem(
                    f"{pointer}/of/{pointer_escape(name)}",
                    f"kind {name!r} must be an object of record fields and their values",
                    '{"is_im": true}',
                )
        default = self.names(doc, "default", pointer, "the kinds when the param is absent")
        for i, name in enumerate(default):
            if name not in of:
                self.problem(
                    f"{pointer}/default/{i}",
                    f"default kind {name!r} is not one of 'of'",
                    "kinds: " + ", ".join(of),
                )
        if param is None or not self.ok:
            return None
        return Kinds(param, default or tuple(of), of)

    def view(self, raw: Any) -> View | None:
        pointer = "/view"
        doc = self.obj(raw, pointer, '{"style": "gmail", "param": "format"}')
        if doc is None:
            return None
        self.keys(doc, _VIEW_KEYS, pointer)
        style = self.one_of(doc, "style", pointer, VIEW_STYLES, None, "view style")
        param = self.param(doc, "param", pointer, required=True, hint="the param naming a view")
        headers = self.param(
            doc, "headers", pointer, required=False, hint="the param listing headers to keep"
        )
        if style is None or param is None:
            return None
        return View(style, param, headers)

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
        """A template whose placeholders name only the ``allowed`` namespaces and known params."""
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
        for where, message, hint in mark_problems(raw, pointer):
            self.problem(where, message, hint)
        return Template(raw)
