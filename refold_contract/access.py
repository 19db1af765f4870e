"""The one rule deciding whether an action reads or writes: deny by default.

Refold marks no action as read or write. refold-contract calls an action a read only when its
catalogue entry says ``"access": "read"``, or, for an action the catalogue does not declare,
when its name says so: a read verb first (``get``, ``list``, ``search``, ``query``, ``read``,
``fetch``) and no write word anywhere. Names are split into words at every non-alphanumeric
character, at camelCase humps and at letter/digit boundaries, so ``get_contactAndDelete`` and
``get_and_sendEmail`` are writes. A name with anything but ASCII letters, digits, ``_``, ``-``
and ``.`` is a write. ``httprequest``, and everything unknown, is a write.

Example::

    from refold_contract.access import access_from_name, name_words

    name_words("get_contactAndDelete")      # ('get', 'contact', 'and', 'delete')
    access_from_name("get_contactAndDelete") # 'write'
    access_from_name("listChannels")         # 'read'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from typing import Protocol

    class _Declared(Protocol):
        @property
        def access(self) -> Access: ...

    class _Catalogue(Protocol):
        def find(self, slug: str, action_id: str) -> _Declared | None: ...


__all__ = [
    "READ_VERBS",
    "WRITE_WORDS",
    "Access",
    "access_from_name",
    "access_of",
    "name_words",
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
    }
)  # fmt: skip

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
    """
    if not _SAFE_NAME.fullmatch(action_id):
        return "write"  # non-ASCII letters, spaces, slashes: nothing known about it
    words = name_words(action_id)
    if not words or words[0] not in READ_VERBS:
        return "write"
    for word in words[1:]:
        if word in WRITE_WORDS:
            return "write"
    return "read"


def access_of(catalogue: _Catalogue | None, slug: str, action_id: str) -> Access:
    """The access of ``slug/action_id``: the catalogue's entry when it has one, else the name.

    Example::

        access_of(Catalogue.builtin(), "hubspot", "search_contacts")   # 'read'
        access_of(None, "hubspot", "create_contact")                   # 'write'
    """
    action = catalogue.find(slug, action_id) if catalogue is not None else None
    return action.access if action is not None else access_from_name(action_id)


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


def read_only_hint(slug: str | None, action_id: str | None) -> str:
    """What to do about a refused action: test a write on the mock; declare a true read.

    >>> read_only_hint("hubspot", "create_contact")[:44]
    'test writes on the mock (pytest tests not ma'
    """
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
