"""The one rule deciding whether an action reads or writes: deny by default.

Refold marks no action as read or write. refold-contract calls an action a read only when the
catalogue in force (the built-in actions plus the user's folders) has it and its entry makes it
a read; an action the catalogue does not know is a write. An entry's access is what its file
says (``"access": "read"``), and, only where a file leaves it out, what the name says: a read
verb first (``get``, ``list``, ``search``, ``query``, ``read``, ``fetch``), no write word
anywhere, and no joining word (``and``, ``or``, ``then``), so a compound name such as
``get_and_increment`` or ``fetchAndLock`` is never inferred as a read. Names are split into
words at every non-alphanumeric character, at camelCase humps and at letter/digit boundaries. A
name with anything but ASCII letters, digits, ``_``, ``-`` and ``.`` is a write.

An entry may make an action a read only for some parameters (``"read_when"``,
:class:`ReadWhen`): ``httprequest`` with ``method`` GET or HEAD, a GraphQL action whose document
holds no mutation or subscription, a query action whose statement is one SELECT. Such an action
goes live only when the parameters sent meet every condition, whatever its ``access`` says
(which is what lists and selections use).

Example::

    from refold_contract.access import access_from_name, name_words

    name_words("get_contactAndDelete")      # ('get', 'contact', 'and', 'delete')
    access_from_name("get_contactAndDelete") # 'write'
    access_from_name("listChannels")         # 'read'
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from typing import Protocol

    class _Declared(Protocol):
        @property
        def access(self) -> Access: ...

        @property
        def read_when(self) -> tuple[ReadWhen, ...]: ...

    class _Catalogue(Protocol):
        def find(self, slug: str, action_id: str) -> _Declared | None: ...


__all__ = [
    "JOINING_WORDS",
    "READ_VERBS",
    "WRITE_WORDS",
    "Access",
    "ReadWhen",
    "access_from_name",
    "access_of",
    "live_refusal",
    "name_words",
    "read_conditions",
    "read_only_hint",
    "read_only_reason",
]

Access = Literal["read", "write"]

#: The first word of a read action's name.
READ_VERBS: Final = frozenset({"get", "list", "search", "query", "read", "fetch"})

#: Any of these words anywhere in a name makes the action a write, whatever its first word.
#: Words that are mostly nouns in read names (message, email, label, request, start, leave)
#: are left out: a read verb must still come first, so ``send_message`` is a write anyway.
WRITE_WORDS: Final = frozenset(
    {
        # create, change, remove
        "create", "add", "insert", "upsert", "make", "generate", "register", "update", "edit",
        "modify", "change", "set", "put", "patch", "replace", "rename", "save", "write",
        "upload", "import", "sync", "merge", "move", "copy", "clone", "duplicate", "convert",
        "transfer", "assign", "unassign", "attach", "detach", "unlink", "mark", "delete", "del",
        "remove", "destroy", "drop", "erase", "purge", "clear", "wipe", "truncate", "archive",
        "unarchive", "restore", "trash", "untrash", "void", "cancel", "close", "reopen",
        "complete", "resolve", "approve", "reject", "deny", "enable", "disable", "activate",
        "deactivate", "suspend", "unlock", "reset",
        # send, run, pay
        "send", "post", "publish", "share", "invite", "notify", "reply", "forward", "respond",
        "react", "submit", "execute", "exec", "run", "trigger", "invoke", "apply", "pay",
        "authorize", "grant", "revoke", "subscribe", "unsubscribe", "kick", "ban", "upvote",
        "unfollow", "http", "httprequest",
        # take, hold, count: reads with a side effect
        "increment", "decrement", "lock", "acquire", "claim", "consume", "pop", "dequeue",
        "ack", "acknowledge", "reserve", "checkout", "follow", "like", "star", "pin", "vote",
    }
)  # fmt: skip

#: Words that join two actions in one name (``get_and_increment``): never inferred as a read.
JOINING_WORDS: Final = frozenset({"and", "or", "then", "plus"})

_SAFE_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]+")
# Words: runs of capitals followed by a capitalised word (HTTPRequest -> HTTP, Request),
# capitalised or lower-case runs, and digit runs.
_WORD: Final = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def name_words(action_id: str) -> tuple[str, ...]:
    """The words of an action name, lower-cased, split at separators, humps and digits.

    >>> name_words("get_contactAndDelete")
    ('get', 'contact', 'and', 'delete')
    >>> name_words("listHTTPRequests2")
    ('list', 'http', 'requests', '2')
    """
    return tuple(w.lower() for w in _WORD.findall(action_id))


def access_from_name(action_id: str) -> Access:
    """The access an action has when its catalogue entry does not say: deny by default.

    >>> access_from_name("get_contact"), access_from_name("get_or_create_contact")
    ('read', 'write')
    >>> access_from_name("httprequest"), access_from_name("get_and_sendEmail")
    ('write', 'write')
    >>> access_from_name("fetchAndLock"), access_from_name("search_and_follow")
    ('write', 'write')
    """
    if not _SAFE_NAME.fullmatch(action_id):
        return "write"  # non-ASCII letters, spaces, slashes: nothing known about it
    words = name_words(action_id)
    if not words or words[0] not in READ_VERBS:
        return "write"
    for word in words[1:]:
        if word in WRITE_WORDS or word in JOINING_WORDS:
            return "write"
    return "read"


_SQL_WRITES: Final = frozenset(
    {"insert", "update", "delete", "merge", "upsert", "replace", "create", "alter", "drop",
     "truncate", "grant", "revoke", "call", "exec", "execute", "into", "copy", "lock", "set",
     "for"}  # SELECT ... FOR UPDATE locks rows
)  # fmt: skip
# Strings and comments, matched left to right in one pass: what keywords are looked for outside.
_SQL_SKIPPED: Final = re.compile(
    r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.)*\"|--[^\n]*|/\*.*?\*/", re.DOTALL
)
_GRAPHQL_SKIPPED: Final = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*', re.DOTALL
)
_KEYWORD: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _is_select(statement: str) -> bool:
    bare = _SQL_SKIPPED.sub(" ", statement).strip().removesuffix(";")
    if any(c in bare for c in ";'\"") or "/*" in bare:
        return False  # two statements, or a string or comment that does not close
    words = [w.lower() for w in _KEYWORD.findall(bare)]
    return bool(words) and words[0] == "select" and not _SQL_WRITES.intersection(words)


def _is_graphql_query(document: str) -> bool:
    bare = _GRAPHQL_SKIPPED.sub(" ", document)
    if '"' in bare:
        return False  # a string that does not close
    words = {w.lower() for w in _KEYWORD.findall(bare)}
    return "{" in bare and not words & {"mutation", "subscription"}


@dataclasses.dataclass(frozen=True)
class ReadWhen:
    """One condition of a catalogue entry's ``"read_when"``: the action reads only when it holds.

    ``kind`` is ``"one_of"`` (the parameter is one of ``values``, case-insensitively),
    ``"graphql-query"`` (a GraphQL document with no mutation or subscription) or ``"select"``
    (one SQL or SOQL SELECT statement, nothing that writes or locks). A missing parameter never
    holds.

    >>> ReadWhen("method", "one_of", ("GET", "HEAD")).holds({"method": "get"})
    True
    >>> ReadWhen("query", "graphql-query").holds({"query": "mutation { delete(id: 1) }"})
    False
    >>> ReadWhen("query", "select").holds({"query": "SELECT Id FROM Account"})
    True
    """

    parameter: str
    kind: Literal["one_of", "graphql-query", "select"] = "one_of"
    values: tuple[str, ...] = ()

    def holds(self, params: Mapping[str, Any] | None) -> bool:
        """True when ``params`` meet this condition."""
        value = (params or {}).get(self.parameter)
        if not isinstance(value, str):
            return False
        if self.kind == "one_of":
            return value.strip().upper() in {v.upper() for v in self.values}
        if self.kind == "graphql-query":
            return _is_graphql_query(value)
        return _is_select(value)

    def as_json(self) -> list[str] | str:
        """The condition as a catalogue file writes it.

        >>> ReadWhen("method", "one_of", ("GET", "HEAD")).as_json()
        ['GET', 'HEAD']
        """
        return list(self.values) if self.kind == "one_of" else self.kind

    def describe(self) -> str:
        """The condition in words.

        >>> ReadWhen("method", "one_of", ("GET", "HEAD")).describe()
        "'method' is GET or HEAD"
        """
        if self.kind == "one_of":
            return f"{self.parameter!r} is " + " or ".join(self.values)
        if self.kind == "graphql-query":
            return f"{self.parameter!r} is a GraphQL query (no mutation or subscription)"
        return f"{self.parameter!r} is one SELECT statement"


def read_conditions(read_when: tuple[ReadWhen, ...], params: Mapping[str, Any] | None) -> str:
    """The conditions ``params`` fail (all of them when there are no params), in words.

    >>> read_conditions((ReadWhen("method", "one_of", ("GET",)),), {"method": "POST"})
    "'method' is GET"
    """
    failing = [c for c in read_when if not c.holds(params)] if params is not None else []
    return " and ".join(c.describe() for c in failing or read_when)


def live_refusal(
    catalogue: _Catalogue | None,
    slug: str,
    action_id: str,
    params: Mapping[str, Any] | None = None,
) -> str | None:
    """Why ``slug/action_id`` with ``params`` may not go live, or ``None`` when it reads.

    An entry with ``read_when`` reads only when ``params`` meet every condition; any other entry
    reads when its ``access`` is ``"read"``; an action the catalogue lacks never reads.

    ``params`` ``None`` means not known yet: an action that reads only for some parameters is
    then refused.

    Example::

        live_refusal(Catalogue.builtin(), "hubspot", "get_contact", {})   # None
        live_refusal(Catalogue.builtin(), "acme", "get_widget")
        # 'it is not in the catalogue in force (the built-in actions and your folders)'
    """
    action = catalogue.find(slug, action_id) if catalogue is not None else None
    if action is None:
        return "it is not in the catalogue in force (the built-in actions and your folders)"
    if action.read_when:
        failing = [c for c in action.read_when if not c.holds(params)]
        if not failing and params is not None:
            return None
        return "it reads only when " + read_conditions(action.read_when, params)
    if action.access == "read":
        return None
    return read_only_reason(action_id)


def access_of(
    catalogue: _Catalogue | None,
    slug: str,
    action_id: str,
    params: Mapping[str, Any] | None = None,
) -> Access:
    """The access of ``slug/action_id`` (sent with ``params``): deny by default.

    A read only when the catalogue has the action and its entry makes it a read (for these
    parameters, where it says ``"read_when"``); an action the catalogue does not know is a
    write, whatever its name.

    Example::

        access_of(Catalogue.builtin(), "hubspot", "search_contacts")   # 'read'
        access_of(None, "hubspot", "get_contact")                      # 'write': no catalogue
        access_of(Catalogue.builtin(), "salesforce", "httprequest",
                  {"method": "GET", "url_path": "/query"})             # 'read'
    """
    return "read" if live_refusal(catalogue, slug, action_id, params) is None else "write"


def _write_word(action_id: str | None) -> str | None:
    """The first word of the action's name that makes it a write, if any."""
    return next((w for w in name_words(action_id or "") if w in WRITE_WORDS), None)


def read_only_reason(action_id: str | None) -> str:
    """Why an action is not sent live, in words: its name says write, or nothing says read.

    >>> read_only_reason("create_contact")
    "it is a write (its name says 'create')"
    """
    written = _write_word(action_id)
    if written:
        return f"it is a write (its name says {written!r})"
    return "it is not known to be a read action"


def read_only_hint(
    slug: str | None, action_id: str | None, *, known: bool = True, conditions: str = ""
) -> str:
    """What to do about a refused action: test a write on the mock; declare a true read; pull an
    action the catalogue does not know (``known=False``) and check the access it gets; meet the
    ``conditions`` of an action that reads only for some parameters.

    >>> read_only_hint("hubspot", "create_contact")[:44]
    'test writes on the mock (pytest tests not ma'
    >>> read_only_hint("acme", "get_widget", known=False)[:34]
    'refold-contract pull acme adds it '
    """
    if conditions:
        return (
            f"it goes live only when {conditions}; test its other uses on the mock (pytest tests "
            "not marked refold_live, or refold-contract serve)"
        )
    if not known:
        return (
            f"refold-contract pull {slug or '<slug>'} adds it (and the app's other actions) to "
            "your last catalogue folder; then check the access it was given: refold-contract "
            'lint lists every access inferred from a name, and "access": "read" in the file '
            "confirms one"
        )
    if _write_word(action_id):
        return (
            "test writes on the mock (pytest tests not marked refold_live, or refold-contract "
            "serve), never live"
        )
    return (
        f'if it really only reads, declare it: put "access": "read" in '
        f"{slug or '<slug>'}/{action_id or '<action_id>'}.json in your own catalogue folder "
        "(--refold-fixtures, or --fixtures for the commands)"
    )
