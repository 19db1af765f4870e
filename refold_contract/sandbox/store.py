"""The store: records per linked account, app and object type; one store per test.

A :class:`Store` built from a catalogue knows every object type a state block declares (its
:class:`~refold_contract.catalogue.state.RecordModel`) and starts each linked account from the
records in the catalogue's own examples, so stateful answers begin where stateless replay is.
Records are JSON objects in the app's own field names. Everything here is pure: no I/O, and the
only clock is the one the store is given.

Example::

    store = Store(Catalogue.builtin())
    store.seed("hubspot", "contacts", [{"email": "ada@example.com", "firstname": "Ada"}])
    [c["email"] for c in store.records("hubspot", "contacts")][-1]   # 'ada@example.com'
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import hashlib
import re
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from refold_contract.catalogue.state import RecordModel, StateBlock
from refold_contract.catalogue.template import MISSING, at, find, json_copy, unify
from refold_contract.config import MOCK_LINKED_ACCOUNT
from refold_contract.errors import InvalidRecord, UnknownObjectType
from refold_contract.sandbox.lag import SearchLag
from refold_contract.sandbox.matching import as_number, norm

if TYPE_CHECKING:
    from refold_contract.catalogue import Action, Catalogue

__all__ = ["DEFAULT_ACCOUNT", "Clock", "SearchLag", "Store", "Table"]

#: The linked account a store uses when a call or a seed names none: the mock's own default.
DEFAULT_ACCOUNT: Final = MOCK_LINKED_ACCOUNT
_MAX_LOCATORS: Final = 50
_VIEW_CACHE: Final = 16
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SF_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


class Clock:
    """The store's time: UTC, never going backwards; ``start`` and ``tick`` make it repeatable.

    With ``start``, the first reading is ``start`` and each later one is ``tick`` after the one
    before; without it, readings are the wall clock (but never earlier than the last one).

    Example::

        clock = Clock(start=datetime.datetime(2025, 7, 8, 14, 5, tzinfo=datetime.timezone.utc))
        clock.format(clock.now(), "iso-ms")       # '2025-07-08T14:05:00.000Z'
    """

    def __init__(
        self, start: dt.datetime | None = None, tick: dt.timedelta = dt.timedelta(milliseconds=1)
    ) -> None:
        self._next = start.astimezone(dt.timezone.utc) if start is not None else None
        self._tick = tick
        self._last: dt.datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        """The next reading."""
        with self._lock:
            if self._next is not None:
                moment = self._next
                self._next = moment + self._tick
            else:
                moment = dt.datetime.now(dt.timezone.utc)
                if self._last is not None and moment < self._last:
                    moment = self._last
            self._last = moment
            return moment

    @staticmethod
    def format(moment: dt.datetime, style: str) -> Any:
        """A moment in one of :data:`~refold_contract.catalogue.state.CLOCKS`' styles.

        Example::

            Clock.format(moment, "salesforce")     # '2024-06-03T13:05:52.000+0000'
        """
        moment = moment.astimezone(dt.timezone.utc)
        if style == "unix":
            return int(moment.timestamp())
        if style == "unix-ms":
            return str(int(moment.timestamp() * 1000))
        if style == "slack-ts":
            return f"{moment.timestamp():.6f}"
        millis = f"{moment.microsecond // 1000:03d}"
        base = moment.strftime("%Y-%m-%dT%H:%M:%S")
        if style == "iso":
            return base + "Z"
        if style == "salesforce":
            return f"{base}.{millis}+0000"
        return f"{base}.{millis}Z"


def salesforce_id(prefix: str, body: str) -> str:
    """An 18-character Salesforce id: prefix, instance ``Hs``, body, and the case checksum.

    >>> salesforce_id("001", "00002pLm3K")
    '001Hs00002pLm3KIAS'
    """
    short = (prefix + "Hs" + body)[:15].ljust(15, "0")
    suffix = ""
    for start in range(0, 15, 5):
        chunk = short[start : start + 5]
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _SF_SUFFIX[bits]
    return short + suffix


def _base62(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        out.append(_B62[digit])
    return "".join(reversed(out))


def id_key(value: Any) -> str:
    """The store's key for a record id: its text (``35436`` and ``"35436"`` are one record).

    >>> id_key(35436), id_key("001Hs00002pLm3KIAS")
    ('35436', '001Hs00002pLm3KIAS')
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sort_id(key: str, fmt: str) -> tuple[int, Any]:
    """How ids of one format sort: numbers as numbers, Gmail's hex ids as numbers, else text.

    >>> sort_id("51", "hubspot") < sort_id("1510745", "hubspot")
    True
    """
    if fmt == "gmail":
        try:
            return (0, int(key, 16))
        except ValueError:
            return (1, key)
    number = as_number(key)
    if number is not None:
        return (0, number)
    return (1, key)


class Table:
    """One linked account's records of one object type, with the indexes that keep reads fast.

    Records are kept by id (as text) in insertion order. An equality index per field is built
    the first time a search asks for that field, and kept up to date by every write; ordered
    views (a sort order and a set of filters) are cached until the next write.

    Example::

        table = store.table("hubspot", "contacts")
        table.get("1510745")["email"]
    """

    def __init__(self, model: RecordModel, on_change: Callable[[], None] | None = None) -> None:
        self.model = model
        self.on_change = on_change
        self.rows: dict[str, dict[str, Any]] = {}
        self._indexes: dict[str, dict[Hashable, set[str]]] = {}
        self._views: collections.OrderedDict[Hashable, tuple[list[str], list[Any]]] = (
            collections.OrderedDict()
        )
        self._serial = 0
        # Highest numeric (or, for Gmail, hexadecimal) id ever held: new ids go above it and
        # are never reused, as the apps do.
        self._top = 0.0
        self._names: dict[str, str] = {}
        #: Records written through the sandbox: id -> (sandbox call number, timer reading),
        #: for the search lag.
        self.written: dict[str, tuple[int, float]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: str) -> dict[str, Any] | None:
        """The record with this id, or ``None``; the store's own object (do not change it)."""
        return self.rows.get(key)

    def put(self, record: dict[str, Any]) -> str:
        """Insert or replace a record (by its id field); its id, as text."""
        key = id_key(record[self.model.id])
        kind, value = sort_id(key, self.model.id_format)
        if kind == 0 and value > self._top:
            self._top = value
        old = self.rows.get(key)
        names = self._names
        for field in record:
            if field not in names:
                names.setdefault(field.casefold(), field)
                names[field] = field
        for field, index in self._indexes.items():
            if old is not None:
                bucket = index.get(norm(old.get(field)))
                if bucket is not None:
                    bucket.discard(key)
            index.setdefault(norm(record.get(field)), set()).add(key)
        self.rows[key] = record
        self._changed()
        return key

    def delete(self, key: str) -> dict[str, Any] | None:
        """Remove a record; the record removed, or ``None``."""
        old = self.rows.pop(key, None)
        self.written.pop(key, None)
        if old is not None:
            for field, index in self._indexes.items():
                bucket = index.get(norm(old.get(field)))
                if bucket is not None:
                    bucket.discard(key)
            self._changed()
        return old

    def clear(self) -> None:
        """Remove every record."""
        self.rows.clear()
        self._indexes.clear()
        self.written.clear()
        self._changed()

    def _changed(self) -> None:
        self._views.clear()
        if self.on_change is not None:
            self.on_change()

    def spelling(self, name: str) -> str | None:
        """The field name records use for ``name``, matched without case; ``None`` if no
        record ever had such a field (SOQL names fields without regard to case)."""
        return self._names.get(name) or self._names.get(name.casefold())

    def equal(self, field: str, value: Any) -> set[str]:
        """Ids of the records whose ``field`` equals ``value`` (as :func:`norm` compares)."""
        index = self._indexes.get(field)
        if index is None:
            index = {}
            for key, record in self.rows.items():
                index.setdefault(norm(record.get(field)), set()).add(key)
            self._indexes[field] = index
        return set(index.get(norm(value), ()))

    def view(
        self,
        cache_key: Hashable,
        select: Callable[[dict[str, Any]], bool] | None,
        sort: Callable[[str, dict[str, Any]], Any],
        *,
        reverse: bool = False,
        candidates: Iterable[str] | None = None,
    ) -> tuple[list[str], list[Any]]:
        """Ids of the records ``select`` keeps, sorted, with their sort keys; cached by key.

        ``candidates`` narrows the records looked at (an index lookup).
        """
        cached = self._views.get(cache_key)
        if cached is not None:
            self._views.move_to_end(cache_key)
            return cached
        pool = self.rows.keys() if candidates is None else candidates
        keyed = [
            (sort(k, self.rows[k]), k)
            for k in pool
            if k in self.rows and (select is None or select(self.rows[k]))
        ]
        keyed.sort(reverse=reverse)
        result = ([k for _, k in keyed], [s for s, _ in keyed])
        self._views[cache_key] = result
        if len(self._views) > _VIEW_CACHE:
            self._views.popitem(last=False)
        return result

    def ordered_by_id(self, descending: bool = False) -> tuple[list[str], list[Any]]:
        """Every id in id order (numbers as numbers), with the sort keys, for cursor paging."""
        fmt = self.model.id_format
        return self.view(
            ("by-id", descending), None, lambda k, _: sort_id(k, fmt), reverse=descending
        )

    # ------------------------------------------------------------------ new ids

    def mint(self, clock: Clock, slug: str, object_type: str) -> Any:
        """A fresh id in the model's format, never one the table holds."""
        fmt, model = self.model.id_format, self.model
        attempt = 0
        while True:
            attempt += 1
            self._serial += 1
            n = self._serial
            candidate: Any
            if fmt in ("hubspot", "counter", "zendesk"):
                base = {"hubspot": 1510800, "zendesk": 35500, "counter": 0}[fmt]
                value = max(int(self._top), base) + attempt
                candidate = value if fmt == "zendesk" else str(value)
            elif fmt == "salesforce":
                # Spread over the id space (a multiplicative hash of the serial), as real ids
                # look, and repeatable from run to run.
                candidate = salesforce_id(model.prefix, "0000" + _base62(n * 2654435761 % 62**6, 6))
            elif fmt == "slack-channel":
                candidate = "C" + _base62(62**6 * 7 + n, 10).upper()
            elif fmt == "slack-ts":
                moment = clock.now().timestamp()
                candidate = f"{max(moment, self._top + 0.0001 * attempt):.6f}"
            elif fmt == "gmail":
                now_ms = int(clock.now().timestamp() * 1000)
                candidate = f"{max(int(self._top) + attempt, now_ms << 20):016x}"
            elif fmt == "workday":
                seed = f"{slug}/{object_type}/{n}".encode()
                candidate = hashlib.sha256(seed).hexdigest()[:32]
            else:
                candidate = str(uuid.uuid4())
            if id_key(candidate) not in self.rows:
                return candidate


class Store:
    """Records per (linked account, app, object type): what the stateful sandbox reads and
    writes. Thread-safe; one per test.

    ``catalogue`` declares the object types (from its state blocks) and supplies the starting
    records (from its examples). ``default_account`` is the linked account for calls and seeds
    that name none; ``clock`` stamps ids and timestamps; ``search_lag`` keeps new writes out of
    search results for a while (:class:`SearchLag`), timed by ``timer``.

    ``short_pages`` (default ``False``): Slack documents that a page may hold fewer items than
    ``limit`` even when more remain. When true, every cursor-paged Slack list
    (``conversations.list``, history, replies) answers a page that is not the last with one
    item less than asked (never none), so code that stops at a short page instead of at an
    empty ``next_cursor`` is caught; every item still comes exactly once across the pages.

    Example::

        store = Store(Catalogue.builtin(), default_account="user_1")
        store.seed("salesforce", "Account", [{"Name": "Acme"}])
        store.records("salesforce", "Account")[-1]["Id"]      # '001Hs...' (18 characters)
        Store(Catalogue.builtin(), short_pages=True).short_pages     # True
    """

    #: Slack pages that are not the last hold fewer items than ``limit`` (see above).
    short_pages: bool = False

    def __init__(
        self,
        catalogue: Catalogue | None = None,
        *,
        default_account: str = DEFAULT_ACCOUNT,
        clock: Clock | None = None,
        short_pages: bool = False,
        search_lag: SearchLag | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.short_pages = short_pages
        self.lock = threading.RLock()
        #: How long a record written through the sandbox stays out of search results
        #: (:class:`SearchLag`); ``None``: searches see every write at once.
        self.search_lag = search_lag
        #: Seconds, for the search lag's ``seconds`` (monotonic; a test may pass its own).
        self.timer = timer
        #: Sandbox calls answered so far, for the search lag's ``calls``.
        self.calls = 0
        self.default_account = default_account
        #: (linked account, app) pairs records were seeded into: a request for the app from
        #: another account alone finds none of them (the plugin warns at teardown).
        self.seeded: set[tuple[str, str]] = set()
        self.clock = clock or Clock()
        #: The catalogue the store was built from (``None``: object types declared by hand).
        self.catalogue = catalogue
        models, base = _from_catalogue(catalogue) if catalogue is not None else ({}, {})
        self._models: dict[tuple[str, str], RecordModel] = dict(models)
        self._known = declared_properties(catalogue) if catalogue is not None else {}
        self._base = base
        self._tables: dict[tuple[str, str, str], Table] = {}
        self._locators: dict[str, collections.OrderedDict[str, Any]] = {}
        self._writes: dict[str, int] = {}

    # ------------------------------------------------------------------ object types

    def declare(self, slug: str, object_type: str, model: RecordModel) -> None:
        """Make an object type known without a catalogue (the first model given is kept).

        Example::

            store.declare("acme", "widgets", RecordModel(id="id", ids="counter"))
        """
        with self.lock:
            self._models.setdefault((slug, object_type), model)

    def objects(self, slug: str | None = None) -> list[tuple[str, str]]:
        """The declared ``(slug, object type)`` pairs, sorted.

        Example::

            store.objects("slack")     # [('slack', 'channels'), ('slack', 'messages')]
        """
        return sorted(k for k in self._models if slug is None or k[0] == slug)

    def model(self, slug: str, object_type: str) -> RecordModel:
        """The record model of a declared object type; :class:`UnknownObjectType` if none."""
        found = self._models.get((slug, object_type))
        if found is None:
            raise UnknownObjectType(slug, object_type, [o for _, o in self.objects(slug)])
        return found

    def known_properties(self, slug: str, object_type: str) -> frozenset[str]:
        """The properties the catalogue declares for an object type: every block's
        ``properties.known`` and the fields its creates and updates write from parameters.

        Example::

            "lifecyclestage" in store.known_properties("hubspot", "contacts")     # True
        """
        return self._known.get((slug, object_type), frozenset())

    def resolve(self, slug: str, object_type: str) -> str | None:
        """The declared spelling of an object type, matched without case (SOQL's ``FROM``)."""
        return _resolve(self._models, slug, object_type)

    # ------------------------------------------------------------------ tables

    def account(self, linked_account_id: str | None) -> str:
        """The linked account a call or seed acts for."""
        return linked_account_id if linked_account_id else self.default_account

    def table(self, slug: str, object_type: str, linked_account_id: str | None = None) -> Table:
        """One account's table of an object type, filled from the catalogue on first use."""
        account = self.account(linked_account_id)
        key = (account, slug, object_type)
        table = self._tables.get(key)
        if table is None:
            with self.lock:
                table = self._tables.get(key)
                if table is None:
                    table = Table(self.model(slug, object_type))
                    for record in self._base.get((slug, object_type), ()):
                        table.put(self._stamped(table.model, json_copy(record)))
                    # Filling a table from the catalogue is where it starts, not a change.
                    table.on_change = self._counter(account)
                    self._tables[key] = table
        return table

    def _counter(self, account: str) -> Callable[[], None]:
        def bump() -> None:
            self._writes[account] = self._writes.get(account, 0) + 1

        return bump

    def writes(self, linked_account_id: str | None) -> int:
        """How many changes an account's records have had (any object type): answers read
        before and after an unchanged count are the same.

        Example::

            before = store.writes(None); ...; store.writes(None) == before   # nothing changed
        """
        return self._writes.get(self.account(linked_account_id), 0)

    def _stamped(self, model: RecordModel, record: dict[str, Any]) -> dict[str, Any]:
        if (model.created and model.created not in record) or (
            model.updated and model.updated not in record
        ):
            moment = self.clock.format(self.clock.now(), model.clock)
            for field in (model.created, model.updated):
                if field:
                    record.setdefault(field, moment)
        return record

    def new_record(
        self, slug: str, object_type: str, fields: Mapping[str, Any], table: Table
    ) -> dict[str, Any]:
        """A record ready to insert: the fields, a fresh id unless given, and the timestamps."""
        model = table.model
        record = dict(fields)
        if record.get(model.id) in (None, ""):
            record[model.id] = table.mint(self.clock, slug, object_type)
        return self._stamped(model, record)

    # ------------------------------------------------------------------ the search lag

    def call_made(self) -> int:
        """Count one sandbox call; its number (the first is 1). :class:`Sandbox` calls it.

        Example::

            store.call_made()      # 1, then 2, ...
        """
        with self.lock:
            self.calls += 1
            return self.calls

    def wrote(self, table: Table, key: str) -> None:
        """Note that the current sandbox call created or updated ``key``, for the search lag.

        Example::

            store.wrote(table, "1510801")
        """
        table.written[key] = (self.calls, self.timer() if self.search_lag is not None else 0.0)

    def searchable(self, table: Table, ids: list[str]) -> list[str]:
        """``ids`` without the records the search lag still hides (all of them without one).

        Example::

            ids = store.searchable(table, ids)
        """
        lag = self.search_lag
        if lag is None or not table.written:
            return ids
        written = table.written
        call, now = self.calls, self.timer()
        return [k for k in ids if k not in written or not lag.hides(written[k], call, now)]

    # ------------------------------------------------------------------ seeding and reading

    def seed(
        self,
        slug: str,
        object_type: str,
        records: Iterable[Mapping[str, Any]],
        *,
        linked_account_id: str | None = None,
        replace: bool = False,
    ) -> list[str]:
        """Add records (in the app's own field names); the ids they were stored under.

        A record without an id gets a fresh one in the app's style, and the created and
        updated timestamps the object type keeps; one with an id replaces the record that has
        it. ``replace=True`` removes every record first, the catalogue's own included.

        Example::

            store.seed("hubspot", "contacts", [{"email": "ada@example.com"}], replace=True)
        """
        items = list(records)
        with self.lock:
            self.seeded.add((self.account(linked_account_id), slug))
            table = self.table(slug, object_type, linked_account_id)
            for i, record in enumerate(items):
                if not isinstance(record, Mapping):
                    raise InvalidRecord(
                        slug,
                        object_type,
                        i,
                        f"a record must be an object, got {type(record).__name__}",
                    )
                given = record.get(table.model.id)
                if given is not None and not isinstance(given, (str, int)):
                    raise InvalidRecord(
                        slug,
                        object_type,
                        i,
                        f"its id {table.model.id!r} must be text or a whole number",
                        hint="leave the id out to have one made in the app's style",
                    )
            if replace:
                table.clear()
            return [
                table.put(self.new_record(slug, object_type, json_copy(dict(r)), table))
                for r in items
            ]

    def records(
        self, slug: str, object_type: str, *, linked_account_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The current records, oldest first; copies, safe to change.

        Example::

            emails = {c["email"] for c in store.records("hubspot", "contacts")}
        """
        with self.lock:
            table = self.table(slug, object_type, linked_account_id)
            return [json_copy(r) for r in table.rows.values()]

    def reset(self) -> None:
        """Forget every account's changes: the next read starts from the catalogue again.

        Example::

            store.reset()     # between hypothesis examples
        """
        with self.lock:
            for account in {a for a, _, _ in self._tables}:
                self._counter(account)()
            self._tables.clear()
            self._locators.clear()
            self.seeded.clear()

    # ------------------------------------------------------------------ query locators

    def remember(self, linked_account_id: str | None, value: Any) -> str:
        """Keep a query's remaining results; a Salesforce-style locator id for them."""
        with self.lock:
            held: collections.OrderedDict[str, Any] = self._locators.setdefault(
                self.account(linked_account_id), collections.OrderedDict()
            )
            digest = hashlib.sha256(f"{len(held)}/{id(value)}/{uuid.uuid4()}".encode()).digest()
            locator = "01g" + base64.b32encode(digest).decode()[:15].replace("=", "A")
            held[locator] = value
            if len(held) > _MAX_LOCATORS:
                held.popitem(last=False)
            return locator

    def recall(self, linked_account_id: str | None, locator: str) -> Any:
        """A locator's results, or :data:`MISSING` when unknown or expired."""
        with self.lock:
            held = self._locators.get(self.account(linked_account_id))
            return MISSING if held is None else held.get(locator, MISSING)

    def __repr__(self) -> str:
        return f"<Store {len(self._models)} object types, {len(self._tables)} tables>"


def _resolve(models: Mapping[tuple[str, str], Any], slug: str, object_type: str) -> str | None:
    if (slug, object_type) in models:
        return object_type
    wanted = object_type.casefold()
    return next((o for s, o in models if s == slug and o.casefold() == wanted), None)


_DECLARED: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], RecordModel]] = (
    weakref.WeakKeyDictionary()
)
_CACHE: weakref.WeakKeyDictionary[Any, tuple[Mapping[Any, Any], dict[Any, Any]]] = (
    weakref.WeakKeyDictionary()
)


def declared_models(catalogue: Catalogue) -> Mapping[tuple[str, str], RecordModel]:
    """The ``(slug, object type)`` pairs a catalogue's state blocks declare, with the record
    model of each (the first block's), in catalogue order; computed once per catalogue.

    Example::

        declared_models(Catalogue.builtin())[("hubspot", "contacts")].id     # 'hs_object_id'
    """
    models = _DECLARED.get(catalogue)
    if models is None:
        models = {}
        for action in catalogue:
            block = action.state
            if block is not None and block.record is not None and block.object:
                models.setdefault((action.slug, block.object), block.record)
        _DECLARED[catalogue] = models
    return models


_PROPERTIES: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], frozenset[str]]] = (
    weakref.WeakKeyDictionary()
)


def declared_properties(catalogue: Catalogue) -> Mapping[tuple[str, str], frozenset[str]]:
    """Per ``(slug, object type)``: the property names its blocks declare (``properties.known``)
    and the fields its creates and updates write from their parameters; computed once per
    catalogue.

    Example::

        "dealstage" in declared_properties(Catalogue.builtin())[("hubspot", "deals")]   # True
    """
    found = _PROPERTIES.get(catalogue)
    if found is None:
        names: dict[tuple[str, str], set[str]] = {}
        for action in catalogue:
            block = action.state
            if block is None or not block.object:
                continue
            held = names.setdefault((action.slug, block.object), set())
            if block.properties is not None:
                held.update(block.properties.known)
            if block.operation not in ("create", "update"):
                continue
            fields = block.fields
            skip = {*fields.exclude, *fields.merge, block.id_param}
            if block.parent is not None:
                skip.add(block.parent.param)
            held.update(
                fields.rename.get(p.name, p.name) for p in action.parameters if p.name not in skip
            )
        found = {key: frozenset(value) for key, value in names.items()}
        _PROPERTIES[catalogue] = found
    return found


def _from_catalogue(
    catalogue: Catalogue,
) -> tuple[Mapping[tuple[str, str], RecordModel], dict[tuple[str, str], list[dict[str, Any]]]]:
    """Object types and starting records of a catalogue, computed once per catalogue."""
    cached = _CACHE.get(catalogue)
    if cached is not None:
        return cached
    models = declared_models(catalogue)
    found: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for action in catalogue:
        block = action.state
        if block is None or not block.reads:
            continue
        for obj, record in _example_records(action, block, models):
            model = models.get((action.slug, obj))
            if model is None or record.get(model.id) in (None, ""):
                continue
            merged = found.setdefault((action.slug, obj), {}).setdefault(
                id_key(record[model.id]), {}
            )
            for key, value in record.items():
                merged.setdefault(key, value)
    base = {key: list(rows.values()) for key, rows in found.items()}
    _CACHE[catalogue] = (models, base)
    return models, base


def _example_records(
    action: Action, block: StateBlock, models: Mapping[tuple[str, str], RecordModel]
) -> Iterable[tuple[str, dict[str, Any]]]:
    """The records a read action's successful examples show, in the block's field names."""
    from refold_contract.sandbox.soql import parse_soql

    item = block.item.raw if block.item is not None else "{record}"
    data_template = block.reply.data.raw
    for example in action.examples:
        if example.node_status != "Success" or not isinstance(example.data, (dict, list)):
            continue
        params = dict(example.params)
        if block.only_with and not any(p in params for p in block.only_with):
            continue
        obj = block.object
        if block.operation == "query":
            if block.query is None or not isinstance(params.get(block.query.param or ""), str):
                continue
            try:
                obj = parse_soql(params[block.query.param or ""]).object
            except ValueError:
                continue
            obj = _resolve(models, action.slug, obj) or obj
        many = block.operation != "get"
        path = find(data_template, "items" if many else "item")
        if path is None:
            continue
        held = at(example.data, path)
        if held is MISSING:
            continue
        shown = held if many and isinstance(held, list) else [held]
        for entry in shown:
            record: dict[str, Any] = {}
            unify(item, entry, record)
            if block.operation == "query":
                record.pop("attributes", None)
                yield from _parents(record)
            for flt in block.filters:
                if flt.param in params and not flt.has_value and flt.op in ("EQ", "CONTAINS_ALL"):
                    wanted = params[flt.param]
                    if flt.op == "EQ":
                        record.setdefault(flt.field, wanted)
                    else:
                        have = record.setdefault(flt.field, [])
                        if isinstance(have, list):
                            for label in str(wanted).split(","):
                                if label.strip() and label.strip() not in have:
                                    have.append(label.strip())
            if block.parent is not None and block.parent.field and block.parent.param in params:
                record.setdefault(block.parent.field, params[block.parent.param])
            yield obj, record


_SOBJECT_URL = re.compile(r"/services/data/v[\d.]+/sobjects/(\w+)/(\w{15,18})")


def _parents(record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A query row's nested parents (``"Account": {"attributes": ..., "Name": ...}``): moved
    out of the record, which keeps the parent's id in its lookup field (``AccountId``)."""
    from refold_contract.sandbox.soql import parent_link

    found = []
    for key, value in list(record.items()):
        if not (isinstance(value, dict) and isinstance(value.get("attributes"), dict)):
            continue
        del record[key]
        located = _SOBJECT_URL.search(str(value["attributes"].get("url", "")))
        if located is None:
            continue
        obj_name, parent_id = located.groups()
        record.setdefault(parent_link(key)[0], parent_id)
        fields = {k: v for k, v in value.items() if k != "attributes"}
        fields.setdefault("Id", parent_id)
        found.append((obj_name, fields))
    return found
