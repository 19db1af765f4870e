"""Every exception refold-contract raises, rooted at :class:`RefoldError`.

::

    RefoldError
    ├── ConfigurationError (ValueError)         settings missing or contradictory
    │   └── InvalidIdentifier                   a slug or action id outside Refold's alphabet
    ├── CatalogueError (ValueError)             a catalogue file is malformed
    │   └── ActionNotInCatalogue (LookupError)  Catalogue.get() found no such action
    ├── ContractFileError (ValueError)          a consumer contract file that cannot be read
    ├── TransportError                          nothing usable came back
    │   ├── RefoldTimeout (TimeoutError)
    │   └── RefoldConnectionError (ConnectionError)
    ├── EgressBlocked (ConnectionRefusedError)  a test process tried to open a socket to Refold
    ├── ProtocolError                           a reply that is not JSON or not the documented shape
    ├── ActionFailed                            HTTP 200 but node_status is not "Success"
    ├── ReadOnlyViolation (PermissionError)     a write refused before it reached Refold
    ├── UnmatchedRequest (AssertionError)       a request the mock cannot place
    ├── UnusedStub (AssertionError)             a stub never used (teardown)
    ├── SnapshotDataError (TypeError)           a value that cannot go into a JSON snapshot
    ├── JSONProblem (ValueError)                a document that is not strict JSON, or too big
    ├── PathSyntaxError (ValueError)            a consumer-contract read path out of dialect
    ├── PagingProblem (ValueError)              a page size or cursor the app would refuse
    ├── ReplyTooLarge, ReplyWithheld            replies the read-only gateway does not pass on
    ├── SandboxError                            the sandbox cannot do what it was asked
    │   ├── UnknownObjectType (LookupError)     seed/records for an object no state block names
    │   ├── InvalidRecord (ValueError)          a seeded record the store cannot hold
    │   ├── UnsupportedQuery (ValueError)       valid SOQL outside the sandbox's subset
    │   ├── MalformedQuery (ValueError)         SOQL Salesforce itself refuses (MALFORMED_QUERY)
    │   └── UnsupportedSearch (ValueError)      an app's search query outside the sandbox's subset
    └── RefoldAPIError                          Refold's documented error envelope
        ├── InvalidParams (ValueError)          400
        │   └── InvalidLinkedAccount            400 INVALID_LINKED_ACCOUNT_ID
        ├── AuthenticationError                 401
        ├── PermissionDeniedError               403
        ├── NotFoundError (LookupError)         404
        │   ├── ActionNotFound                  unknown action (or slug) on schema/execute
        │   ├── ApplicationNotFound             unknown slug on list actions
        │   └── LinkedAccountRequired           API key sent without linked_account_id
        ├── RateLimitError                      429, with retry_after
        └── ServerError                         5xx

Warnings derive from :class:`RefoldWarning`: :class:`UnknownFieldType`, :class:`NotInCatalogue`,
:class:`CredentialKeptOut`, :class:`BaseURLChanged`.

Every error carries data as attributes and a ``hint`` saying what to do next; ``str(error)`` is
the message followed by the hint. No error ever holds an API key or a session token.

Example::

    try:
        client.execute("hubspot", "create_contact", {"firstname": "Ada"})
    except InvalidParams as exc:
        print(exc.status_code, exc.error_code, exc.message)   # 400 VALIDATION_ERROR ...
"""

from __future__ import annotations

import errno
from typing import Any, Literal

from refold_contract.access import read_only_hint, read_only_reason
from refold_contract.errors._base import RefoldError, RefoldWarning
from refold_contract.errors.api import (
    ActionNotFound,
    ApplicationNotFound,
    AuthenticationError,
    InvalidLinkedAccount,
    InvalidParams,
    LinkedAccountRequired,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RefoldAPIError,
    ServerError,
)

__all__ = [
    "ActionFailed", "ActionNotFound", "ActionNotInCatalogue", "ApplicationNotFound",
    "AuthenticationError", "BaseURLChanged", "CatalogueError", "ConfigurationError",
    "ContractFileError", "CredentialKeptOut", "EgressBlocked", "InvalidIdentifier",
    "InvalidLinkedAccount", "InvalidParams", "InvalidRecord", "JSONProblem",
    "LinkedAccountRequired", "MalformedQuery", "NotFoundError",
    "NotInCatalogue", "PagingProblem", "PathSyntaxError", "PermissionDeniedError",
    "ProtocolError", "RateLimitError", "ReadOnlyViolation", "RefoldAPIError",
    "RefoldConnectionError", "RefoldError", "RefoldTimeout", "RefoldWarning", "ReplyTooLarge",
    "ReplyWithheld", "SandboxError", "ServerError", "SnapshotDataError", "TransportError",
    "UnknownFieldType", "UnknownObjectType", "UnmatchedRequest", "UnsupportedQuery",
    "UnsupportedSearch", "UnusedStub"
]  # fmt: skip


class ConfigurationError(RefoldError, ValueError):
    """A setting is missing or contradictory, such as a client with no credentials. Example::

    RefoldClient()  # no REFOLD_API_KEY in the environment -> ConfigurationError
    """


class InvalidIdentifier(ConfigurationError):
    """A slug or action id outside Refold's alphabet, refused before anything is sent.

    Slugs and action ids use letters, digits, ``_``, ``-`` and ``.`` (never ``..``), at most
    128 characters; so an id can never change the path it is put in.

    Example::

        client.execute("hubspot", "get_contact/../delete_contact")   # raises, sends nothing
    """

    def __init__(self, kind: str, value: object) -> None:
        self.kind = kind
        text = repr(value)
        self.value = text if len(text) <= 60 else text[:57] + "..."
        super().__init__(
            f"{kind} {self.value} is not a Refold id",
            hint="slugs and action ids use letters, digits, _, - and . (not ..), at most 128 "
            "characters; check where this one came from",
        )


class _LocatedError(RefoldError, ValueError):
    """A problem in a file, placed by line and column or by JSON pointer (the shared half of
    :class:`CatalogueError` and the consumer contract's ``ContractFileError``)."""

    _unnamed = "<file>"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        pointer: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = path
        self.pointer = pointer
        self.line = line
        self.column = column
        super().__init__(message, hint=hint)

    @property
    def location(self) -> str:
        """``file:line:column`` or ``file#/json/pointer``, whichever is known."""
        where = self.path or self._unnamed
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        if self.pointer is not None:
            where += f"#{self.pointer}"
        return where

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class CatalogueError(_LocatedError):
    """A catalogue file is malformed: names the file, the JSON pointer and the field.

    ``line`` and ``column`` are set for JSON that does not parse. ``severity`` is ``"error"``,
    except for the problems ``Catalogue.lint`` reports as ``"warning"``: things the loader
    accepts but a careful author would fix (an example param the schema does not name, an
    unknown field type).

    Example::

        try:
            Catalogue.load("my_fixtures")
        except CatalogueError as exc:
            print(exc.path, exc.pointer, exc.message)
    """

    _unnamed = "<catalogue>"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        pointer: str | None = None,
        line: int | None = None,
        column: int | None = None,
        action: str | None = None,
        field: str | None = None,
        hint: str | None = None,
        severity: Literal["error", "warning"] = "error",
    ) -> None:
        self.action = action
        self.field = field
        self.severity = severity
        super().__init__(message, path=path, pointer=pointer, line=line, column=column, hint=hint)


class ActionNotInCatalogue(CatalogueError, LookupError):
    """``Catalogue.get`` found no such action; ``suggestions`` holds close names. Example::

    try:
        catalogue.get("hubspot", "get_contacts")
    except ActionNotInCatalogue as exc:
        print(exc.suggestions)   # ['hubspot/get_contact', ...]
    """

    def __init__(
        self, slug: str, action_id: str, suggestions: list[str], *, known_apps: list[str]
    ) -> None:
        self.slug = slug
        self.action_id = action_id
        self.suggestions = suggestions
        if suggestions:
            hint = "did you mean " + ", ".join(suggestions) + "?"
        else:
            hint = (
                f"put {slug}/{action_id}.json in your own catalogue folder and pass it with "
                "--refold-fixtures DIR (or the refold_fixtures ini key); apps known: "
                + (", ".join(known_apps) or "none")
            )
        super().__init__(
            f"no action {slug}/{action_id} in the catalogue",
            action=f"{slug}/{action_id}",
            hint=hint,
        )


class TransportError(RefoldError):
    """No usable reply: the request timed out or the connection failed. Example::

    except TransportError as exc:
        print(exc.url)
    """

    def __init__(self, message: str, *, url: str | None = None, hint: str | None = None) -> None:
        self.url = url
        super().__init__(message, hint=hint)


class RefoldTimeout(TransportError, TimeoutError):
    """The request did not complete within the client's ``timeout``. Example::

    RefoldClient(timeout=30.0)  # raise the limit if a slow app needs it
    """

    hint = "raise the client's timeout= or check that the base URL answers"


class RefoldConnectionError(TransportError, ConnectionError):
    """The connection to Refold failed (refused, reset, DNS). Example::

    except RefoldConnectionError:
        ...  # check REFOLD_BASE_URL
    """

    hint = "check the base URL (REFOLD_BASE_URL or base_url=) and the network"


class ProtocolError(RefoldError):
    """A reply that is not JSON, or not the documented shape.

    Carries ``status_code``, ``content_type`` and ``snippet`` (the first 200 characters).

    Example::

        except ProtocolError as exc:
            print(exc.status_code, exc.content_type, exc.snippet)  # 502 text/html <html>...
    """

    hint = "a proxy or gateway may have answered instead of Refold; retry later or check base_url"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        content_type: str | None,
        snippet: str,
        slug: str | None = None,
        action_id: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.content_type = content_type
        self.snippet = snippet
        self.slug = slug
        self.action_id = action_id
        super().__init__(
            f"{message} (HTTP {status_code}, content-type {content_type or 'none'}): {snippet!r}"
        )


class ActionFailed(RefoldError):
    """Refold answered HTTP 200 but the connected app failed: ``node_status`` is not ``Success``.

    Carries ``node_status``, ``http_status`` (the app's own status) and ``data`` (the app's body).

    Example::

        try:
            client.execute("hubspot", "get_contact", {"limit": "1"})
        except ActionFailed as exc:
            print(exc.node_status, exc.http_status, exc.data)   # Errored 401 {...}
    """

    def __init__(
        self,
        *,
        slug: str,
        action_id: str,
        node_status: str,
        http_status: int | None,
        data: Any,
    ) -> None:
        self.slug = slug
        self.action_id = action_id
        self.node_status = node_status
        self.http_status = http_status
        self.data = data
        detail = _short(data)
        status = f" (app status {http_status})" if http_status is not None else ""
        super().__init__(
            f"{slug}/{action_id}: the connected app failed, node_status {node_status!r}{status}: "
            f"{detail}",
            hint="the failure is inside the connected app; check the linked account's connection "
            "and the parameters, or pass check=False to inspect the reply yourself",
        )


class EgressBlocked(RefoldError, ConnectionRefusedError):
    """A socket from the test process to Refold, refused by the plugin's egress guard.

    In every pytest session with the plugin, nothing in the test process connects to Refold:
    mock mode answers through ``refold_mock`` or ``refold_server``; live mode goes through the
    read-only gateway at ``REFOLD_BASE_URL``. ``host`` and ``port`` say what was blocked.

    Example::

        requests.get("https://app.refold.ai/api/v2/...")   # ConnectionError from this
    """

    def __init__(self, host: str, port: int | None, *, hint: str) -> None:
        self.host = host
        self.port = port
        where = f"{host}:{port}" if port is not None else host
        RefoldError.__init__(
            self,
            f"refold-contract blocked a connection to {where} from the test process",
            hint=hint,
        )
        self.errno = errno.ECONNREFUSED
        self.strerror = str(self)


class ReadOnlyViolation(RefoldError, PermissionError):
    """A write was refused before it reached Refold (live mode, or ``read_only=True``).

    Raised by ``RefoldClient(read_only=True)`` before sending, and for the read-only gateway's
    403 ``READ_ONLY_VIOLATION`` reply in live mode.

    Example::

        client = RefoldClient(read_only=True)
        client.execute("hubspot", "create_contact", {"email": "a@example.com"})  # raises
    """

    def __init__(
        self,
        *,
        slug: str | None,
        action_id: str | None,
        method: str,
        path: str,
        reason: str | None = None,
        known: bool = True,
        conditions: str = "",
        detail: str | None = None,
    ) -> None:
        self.slug = slug
        self.action_id = action_id
        self.method = method
        self.path = path
        what = f"{slug}/{action_id}" if slug and action_id else f"{method} {path}"
        if detail:
            # The read-only gateway's own words (one line, cut short): they say why and what to
            # do, which the client alone cannot know (a parameter not in the schema, say).
            shown = " ".join(detail.split())
            super().__init__(shown if len(shown) <= 600 else shown[:597] + "...")
            return
        super().__init__(
            f"refused to send {what}: {reason or read_only_reason(action_id)}, and live mode "
            "only sends reads",
            hint=read_only_hint(slug, action_id, known=known, conditions=conditions),
        )


class SandboxError(RefoldError):
    """The stateful sandbox was asked for something it cannot do. Example::

    try:
        store.seed("hubspot", "contact", [{"email": "ada@example.com"}])
    except SandboxError as exc:
        print(exc.hint)   # names the object types the catalogue declares
    """


class UnknownObjectType(SandboxError, LookupError):
    """No state block in the catalogue acts on this app's object type.

    Carries ``slug``, ``object_type`` and ``known`` (the object types declared for the app).

    Example::

        store.records("hubspot", "contact")   # raises: did you mean 'contacts'?
    """

    def __init__(self, slug: str, object_type: str, known: list[str]) -> None:
        self.slug = slug
        self.object_type = object_type
        self.known = known
        if known:
            hint = f"object types with a state block for {slug}: " + ", ".join(known)
        else:
            hint = (
                f'no action of {slug} has a "state" block; add one to an action file to make '
                "its records stateful"
            )
        super().__init__(f"no state block acts on {slug} object type {object_type!r}", hint=hint)


class InvalidRecord(SandboxError, ValueError):
    """A record handed to ``seed`` that the store cannot hold: not an object, or a clashing id.

    Carries ``slug``, ``object_type``, ``index`` (the record's place in the list) and ``reason``.

    Example::

        store.seed("hubspot", "contacts", ["ada@example.com"])   # raises: not an object
    """

    def __init__(
        self, slug: str, object_type: str, index: int, reason: str, *, hint: str | None = None
    ) -> None:
        self.slug = slug
        self.object_type = object_type
        self.index = index
        self.reason = reason
        super().__init__(
            f"{slug}/{object_type} record {index}: {reason}",
            hint=hint or "records are JSON objects in the app's own field names",
        )


def _shown_query(query: str) -> str:
    """A query for an error message: on one line, at most 200 characters."""
    flat = " ".join(query.split())
    return flat if len(flat) <= 200 else flat[:197] + "..."


class UnsupportedQuery(SandboxError, ValueError):
    """Valid SOQL outside the subset the sandbox answers; ``subset`` spells the subset out.

    Carries ``query``, ``position`` (0-based character offset of the problem) and ``detail``.
    Salesforce would answer such a query, so the mock does not invent an app error for it: the
    sandbox raises this, and it reaches the test that sent the query (a failure that names the
    subset). Stub the action (``refold_mock.stub(...)``) for a reply to a query outside it.

    Example::

        parse_soql("SELECT COUNT() FROM Account")   # raises: functions are outside the subset
    """

    subset = (
        "SELECT fields FROM Object [WHERE conditions] "
        "[ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n]"
    )

    def __init__(self, query: str, position: int, detail: str) -> None:
        self.query = query
        self.position = position
        self.detail = detail
        super().__init__(
            f"{detail} (character {position + 1} of the query {_shown_query(query)!r}); "
            "Salesforce would answer it, the sandbox cannot",
            hint="the sandbox answers the SOQL subset " + self.subset + "; a condition is "
            "f op v with op one of =, !=, <, <=, >, >=, LIKE, IN (...), NOT IN (...), joined "
            "by AND or OR (parentheses to mix them) or negated with NOT; values are 'text', "
            "numbers, true, false, null, dates, date-times and the date literals TODAY, "
            "YESTERDAY, TOMORROW, THIS_MONTH, LAST_MONTH, NEXT_MONTH and LAST_N_DAYS:n; a field "
            "may name one parent (Account.Name). For anything else, stub the action: "
            "refold_mock.stub('salesforce', 'get_entity_with_soql', data=..., params=...)",
        )


class MalformedQuery(SandboxError, ValueError):
    """SOQL that Salesforce itself refuses as ``MALFORMED_QUERY`` (a syntax error).

    Carries ``query``, ``position`` (0-based character offset of the problem), ``detail`` (what
    is wrong, in the sandbox's words) and ``said`` (the line Salesforce's message gives, such as
    ``unexpected token: 'OR'``). Through the mock it is Salesforce's own 400 reply,
    ``[{"message": ..., "errorCode": "MALFORMED_QUERY"}]``, as an ``Errored`` node.

    Example::

        parse_soql("SELECT Id FROM Account WHERE Name = 'a' AND Type = 'b' OR Type = 'c'")
        # raises: AND and OR need parentheses to be mixed
    """

    def __init__(self, query: str, position: int, detail: str, *, said: str | None = None) -> None:
        self.query = query
        self.position = position
        self.detail = detail
        self.said = said or detail
        super().__init__(
            f"{detail} (character {position + 1} of the query {_shown_query(query)!r})",
            hint="Salesforce refuses this query as MALFORMED_QUERY; see the SOQL reference: "
            "https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/"
            "sforce_api_calls_soql_select.htm",
        )


# ---------------------------------------------------------------------- app search queries
# (Gmail's q and other list searches; SOQL has UnsupportedQuery above.)


class UnsupportedSearch(SandboxError, ValueError):
    """An app's search query (Gmail's ``q``) that the sandbox does not answer: it names the part
    it cannot model and the ``subset`` it does, instead of guessing which records match.

    Carries ``app``, ``query``, ``term`` (the part refused) and ``subset``. Through the mock, it
    is the app's own bad-request reply, whose message says the same.

    Example::

        parse_gmail_query("has:attachment")   # raises: has: is not in the subset
    """

    def __init__(self, app: str, query: str, term: str, subset: str, *, why: str = "") -> None:
        self.app = app
        self.query = query
        self.term = term
        self.subset = subset
        super().__init__(
            f"refold-contract's sandbox does not answer the {app} search term {term!r}"
            + (f" ({why})" if why else ""),
            hint=f"the sandbox answers only {subset}; stub this request (refold_mock.stub) or "
            "add an example with these exact params to the catalogue",
        )


class NotInCatalogue(RefoldWarning):
    """A test asked the mock for an app or action the catalogue lacks; says what was meant.

    The mock's reply keeps Refold's exact 404 text; this warning, at the test's teardown, is for
    the person reading the output.

    Example::

        # hubspott/get_contact: no app 'hubspott' in the catalogue; did you mean hubspot?
    """


class UnmatchedExample(RefoldWarning):
    """The mock answered an execute with an example recorded for other params: no example
    matches the request, so the reply is unrelated to it (a search "finds" someone, a query
    over one object returns another's rows). Given at the test's teardown, once per action and
    params; under ``refold_strict = true`` or ``@pytest.mark.refold(strict=True)`` the test
    fails instead.

    Example::

        # refold_mock: hubspot/search_contacts with params {'query': 'nobody@x.invalid'}: no
        # example has these params; answered with its first successful example
    """


class SeededElsewhere(RefoldWarning):
    """Records were seeded into one linked account, and every request to that app came from
    another, which sees none of them. Given at the test's teardown, naming both accounts.

    Example::

        # refold_mock: records were seeded into hubspot for linked account 'acct_1', but every
        # request to hubspot came from 'acct_2', which sees none of them: ...
    """


class UnknownParameter(RefoldWarning):
    """An execute sent a parameter the action's schema does not name. Refold's documented
    schema is what its actions take, so such a parameter may be dropped without a word (a
    pager that sends HubSpot's ``after`` back would see page one again). Given at the test's
    teardown, naming the action and the parameters; strict mocks refuse the body with 400.

    Example::

        # refold_mock: hubspot/search_contacts was sent 'after', which its schema does not name
    """


class StateBlockDropped(RefoldWarning):
    """A file in your catalogue folder replaces an action whose earlier file (the built-in one)
    has a state block, and leaves the block out: stateful mode then replays the action instead
    of computing it. Given once at the session's start; ``refold-contract lint`` reports it too.

    Example::

        # refold-contract: mine/hubspot/search_contacts.json: replaces the built-in
        # hubspot/search_contacts without its state block, ...
    """


class UnknownFieldType(RefoldWarning):
    """A parameter has a ``type`` refold-contract does not know; it is treated as ``text``.

    Example::

        {"name": "colour", "type": "color"}   # loads, warns once, validated as free text
    """


def _short(data: Any, limit: int = 200) -> str:
    text = repr(data)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class UnmatchedRequest(RefoldError, AssertionError):
    """A request under the Refold base URL that is none of the three operations. Example::

    httpx.get("https://app.refold.ai/api/v2/nope")   # raises, listing what the mock serves
    """


class UnusedStub(RefoldError, AssertionError):
    """A stub registered on the mock was never used (checked at teardown). Example::

    @pytest.mark.refold(assert_all_called=False)   # when unused stubs are fine
    """


class ContractFileError(_LocatedError):
    """A consumer contract file that cannot be read: names the file, the place and the problem.

    ``pointer`` is a JSON pointer into the file; ``line`` and ``column`` are set for text that
    is not JSON.

    Example::

        try:
            ConsumerContract.load("consumer-contract.json")
        except ContractFileError as exc:
            print(exc.path, exc.pointer, exc.message)
    """

    hint = (
        "the file is written by `pytest --refold-consumer-contract PATH`; record it again, or fix "
        "the entry named"
    )
    _unnamed = "<consumer contract>"


class PathSyntaxError(RefoldError, ValueError):
    """A read path that is not in the dialect; ``position`` is where it goes wrong. Example::

    parse_path("data.x")    # PathSyntaxError: a path starts with '$'
    """

    def __init__(self, message: str, position: int) -> None:
        self.position = position
        super().__init__(message)


class JSONProblem(RefoldError, ValueError):
    """A document is not strict JSON, or passes a limit. ``kind`` says which.

    ``kind`` is one of ``not_utf8``, ``not_json``, ``too_deep``, ``too_large``,
    ``not_finite``, ``number_too_long``, ``duplicate_key`` (then ``key`` is the key given twice).
    Callers turn it into their own error (a ``CatalogueError``, Refold's 400 envelope, a
    ``ProtocolError``, the gateway's 502).

    Example::

        try:
            loads(b"[" * 1000, max_depth=128)
        except JSONProblem as exc:
            exc.kind      # 'too_deep'
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
    ) -> None:
        self.kind = kind
        self.line = line
        self.column = column
        self.key = key
        super().__init__(message)


class PagingProblem(RefoldError, ValueError):
    """A page size or cursor the app would refuse: ``code`` and ``http_status`` are the app's.

    Example::

        PagingProblem("slack", "invalid_cursor", "the cursor is not one this app gave")
    """

    def __init__(self, style: str, code: str, message: str, http_status: int = 400) -> None:
        self.style = style
        self.code = code
        self.http_status = http_status
        self.message = message
        super().__init__(message)


class CredentialKeptOut(RefoldWarning):
    """Test code set a working credential in the environment; the placeholder was set instead.

    Example::

        os.environ["REFOLD_API_KEY"] = real_key   # CredentialKeptOut; the placeholder is set
    """


class BaseURLChanged(RefoldWarning):
    """``REFOLD_BASE_URL`` changed after the plugin fixed the base URL at its first hook, before
    any conftest file ran; the change is ignored. The mock answers, the egress guard refuses and
    the read-only gateway sends to the URL fixed at start, so a conftest file cannot send the
    gateway's reads, and the key with them, elsewhere.

    Example::

        # conftest.py
        os.environ["REFOLD_BASE_URL"] = "http://127.0.0.1:9999"   # BaseURLChanged; ignored
    """


class SnapshotDataError(RefoldError, TypeError):
    """A value that cannot go into a JSON snapshot; names its path. Example::

    assert refold_snapshot == {"when": datetime.now()}
    # SnapshotDataError: $.when: datetime is not JSON; convert it first (e.g. .isoformat())
    """


class ReplyTooLarge(RefoldError):
    """Refold's reply passed the gateway's size limit; the gateway answers 502. Example::

    raise ReplyTooLarge
    """

    def __init__(self, message: str = "Refold's reply passed the gateway's size limit") -> None:
        super().__init__(message)


class ReplyWithheld(RefoldError):
    """A reply the gateway cannot parse fully and scrub (not JSON, too deep, an object that gives
    a key twice); the gateway withholds it whole and answers 502. Example::

    raise ReplyWithheld
    """

    def __init__(
        self, message: str = "a reply the gateway could not parse and scrub was withheld"
    ) -> None:
        super().__init__(message)
