"""The state block's model: the parsed form of an action file's ``"state"`` key.

The dataclasses here (:class:`StateBlock` and its parts) and the names of the format (the
operations, paging styles, id formats, clocks and filter ops) are what the stateful sandbox
reads; :mod:`refold_contract.catalogue.state.parse` builds them from a file's JSON.

Example::

    block = Catalogue.builtin().get("hubspot", "get_contact_by_id").state
    block.object, block.operation, block.id_param     # ('contacts', 'get', 'contactId')
    block.record.id_format in ID_FORMATS              # True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final, Literal

from refold_contract.catalogue.template import Compiled, compile_template, placeholders

__all__ = [
    "CLOCKS",
    "FILTER_OPS",
    "ID_FORMATS",
    "LIST_QUERY_LANGUAGES",
    "NEXT_CURSOR_AT",
    "OPERATIONS",
    "PAGING_STYLES",
    "UNSET",
    "VIEW_STYLES",
    "FieldMap",
    "Filter",
    "Kinds",
    "Operation",
    "Paging",
    "Parent",
    "Properties",
    "QuerySpec",
    "RecordModel",
    "Reply",
    "Route",
    "Search",
    "SearchObject",
    "Select",
    "StateBlock",
    "Template",
    "View",
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
PAGING_STYLES: Final = ("hubspot", "slack", "gmail", "workday", "salesforce", "netsuite")
#: Query languages a ``list`` block's ``query`` may name: ``gmail`` (the subset of Gmail's
#: search box in :mod:`refold_contract.sandbox.gmail`), ``unmodelled`` (every non-empty query
#: is refused, naming the param: for an app whose query language the sandbox does not model).
LIST_QUERY_LANGUAGES: Final = ("gmail", "unmodelled")
#: How a reply's ``view`` param reshapes a record: ``gmail`` (users.messages.get's format).
VIEW_STYLES: Final = ("gmail",)
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

#: A filter's ``value`` when the block gives none (the param's value is compared instead).
UNSET: Final = object()

#: Where each paging convention puts the next page's cursor in the app's reply (below data).
NEXT_CURSOR_AT: Final[Mapping[str, tuple[str, ...]]] = {
    "hubspot": ("paging", "next", "after"),
    "slack": ("response_metadata", "next_cursor"),
    "gmail": ("nextPageToken",),
    "salesforce": ("nextRecordsUrl",),
}


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
    value: Any = UNSET
    when: str | None = None

    @property
    def has_value(self) -> bool:
        """True when the compared value is fixed by the block, not taken from the param."""
        return self.value is not UNSET


@dataclasses.dataclass(frozen=True)
class SearchObject:
    """One object type a HubSpot search body can name: the properties a result shows when the
    request names none, and the properties a free ``query`` looks in.

    Example::

        SearchObject(properties=("createdate", "domain", "hs_lastmodifieddate",
                                 "hs_object_id", "name"),
                     query=("website", "phone", "name", "domain"))
    """

    properties: tuple[str, ...]
    query: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Search:
    """HubSpot-style search.

    ``style="params"``: one filter built from three params, and an optional free query (the
    ``search_contacts`` action). ``style="body"``: HubSpot's whole CRM search body
    (``filterGroups``, ``query``, ``properties``, ``sorts``, ``limit``, ``after``) over the
    object types in ``objects`` (sent through ``httprequest``, with a ``route``).

    Example::

        Search(property_param="propertyName", operator_param="operator", value_param="value")
    """

    property_param: str = ""
    operator_param: str = ""
    value_param: str = ""
    query_param: str | None = None
    query_fields: tuple[str, ...] = ()
    style: str = "params"
    objects: Mapping[str, SearchObject] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Route:
    """Which requests of a generic HTTP action (``httprequest``) the block answers.

    ``method`` and ``path`` are what the request must carry in its ``method_param`` and
    ``path_param``; a ``{object}`` segment of ``path`` names the object type. The JSON object in
    ``body_param`` is what the operation reads as its params. A request the route does not
    match is not the sandbox's to answer.

    Example::

        Route(method="POST", path="/crm/v3/objects/{object}/search", method_param="method",
              path_param="url_path", body_param="body")
    """

    method: str
    path: str
    method_param: str
    path_param: str
    body_param: str


@dataclasses.dataclass(frozen=True)
class Properties:
    """HubSpot's checks of the properties a create or update writes.

    ``known``: the object type's properties besides those the action's schema names (HubSpot's
    default properties, and custom ones a catalogue declares); a property no block on the object
    type declares and no record holds is refused (``PROPERTY_DOESNT_EXIST``). ``emails``:
    properties that must hold an email address (``INVALID_EMAIL``). ``options``: properties whose
    value must be one of a list (``INVALID_OPTION``: deal stages, pipelines). ``portal_id``: the
    account number HubSpot writes in each problem.

    Example::

        Properties(known=("lifecyclestage",), emails=("email",),
                   options={"pipeline": ("default",)})
    """

    known: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    options: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    portal_id: int | None = None


@dataclasses.dataclass(frozen=True)
class QuerySpec:
    """Where a block finds its query text, and the language: ``soql`` for a ``query``
    operation, one of :data:`LIST_QUERY_LANGUAGES` for a ``list``; for SOQL, the fields each
    object type has beyond those the catalogue's records and actions show.

    Example::

        QuerySpec(param="query", fields={"Account": ("Rating", "Region__c")})
        QuerySpec(param="q", language="gmail")
    """

    param: str | None
    language: str = "soql"
    fields: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class View:
    """A param that reshapes each record in the reply, in one app's way (:data:`VIEW_STYLES`).

    ``param`` chooses the view (Gmail's ``format``: full, metadata, minimal, raw); ``headers``
    is the param listing the headers a ``metadata`` view keeps (``metadataHeaders``).

    Example::

        View(style="gmail", param="format", headers="metadataHeaders")
    """

    style: str
    param: str
    headers: str | None = None


@dataclasses.dataclass(frozen=True)
class Kinds:
    """A param choosing records by kind (Slack's ``types``), each kind a set of field values.

    ``param`` is a comma-separated list of kind names; ``default`` the kinds when the param is
    absent or empty. A record is of a kind when every field the kind names has its value; a
    ``false`` there also matches a record that leaves the field out (an unset flag).

    Example::

        Kinds(param="types", default=("public_channel",),
              of={"im": {"is_im": True}, "public_channel": {"is_private": False}})
    """

    param: str
    default: tuple[str, ...]
    of: Mapping[str, Mapping[str, Any]]


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
    kinds: Kinds | None = None
    view: View | None = None
    item: Template | None = None
    on_missing: Reply | Literal["succeed"] | None = None
    on_conflict: Reply | None = None
    on_invalid: Reply | None = None
    route: Route | None = None
    properties: Properties | None = None

    @property
    def reads(self) -> bool:
        """True for get, list, search and query."""
        return self.operation in ("get", "list", "search", "query")
