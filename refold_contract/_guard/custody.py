"""Credential custody: the working credentials leave the test process before any test code runs.

At its earliest hook, before any conftest file is imported, the plugin takes
``REFOLD_API_KEY`` and ``REFOLD_SESSION_TOKEN`` out of the environment and puts placeholders in
their place, in mock and live mode alike. Tests, xdist workers and child processes see only the
placeholders (code that must read ``REFOLD_API_KEY`` still finds a value). The mock accepts any
key; in live mode only the read-only gateway, a separate process, receives the real values, over
a pipe.

On Linux the process's initial environment block (what ``/proc/self/environ`` shows) is
overwritten too, so a test cannot read the key back from there; and while it holds a key the
process is not dumpable (:mod:`~refold_contract._guard.dumpable`), so another process of the
same user cannot read its memory or attach a debugger to it. :meth:`Custody.restore` makes it
dumpable again.

The plugin never puts the credentials back: the placeholders stay in ``os.environ`` after the
session, until the process exits, so a thread, an executor job or an ``atexit`` handler still
running then finds no working key there.

Example::

    custody = Custody.take()           # os.environ now holds placeholders
    custody.credentials().api_key      # the real key, for the gateway only
    custody.restore()                  # as it was (for direct use; the plugin never does this)
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import hashlib
import os
import sys
import threading
import warnings
from collections.abc import Iterable, MutableMapping
from typing import Any, Final

from refold_contract._core import endpoint as ep
from refold_contract._guard.audit import subscribe
from refold_contract._guard.dumpable import set_dumpable
from refold_contract.errors import CredentialKeptOut

__all__ = [
    "PLACEHOLDERS",
    "SECRET_VARIABLES",
    "CredentialKeptOut",
    "Credentials",
    "Custody",
    "held_secrets",
    "is_placeholder",
]

#: The variables whose values never stay in a test process.
SECRET_VARIABLES: Final = ("REFOLD_API_KEY", "REFOLD_SESSION_TOKEN")
#: What tests find in their place. Not secrets: the mock accepts any key, Refold none of these.
PLACEHOLDERS: Final = {
    "REFOLD_API_KEY": "tk_refold_contract_placeholder",
    "REFOLD_SESSION_TOKEN": "refold_contract_placeholder_session_token",
}


@dataclasses.dataclass(frozen=True)
class Credentials:
    """The working credentials; only the gateway process holds them in a live run.

    Their repr never shows them.

    Example::

        Credentials(api_key=os.environ["REFOLD_API_KEY"], linked_account_id="user_1")
    """

    api_key: str | None = None
    linked_account_id: str | None = None
    session_token: str | None = None

    def __repr__(self) -> str:
        return (
            f"Credentials(api_key={'<set>' if self.api_key else None}, "
            f"linked_account_id={'<set>' if self.linked_account_id else None}, "
            f"session_token={'<set>' if self.session_token else None})"
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret values, for redaction."""
        return tuple(s for s in (self.api_key, self.session_token) if s)

    def headers(self) -> dict[str, str]:
        """The credential headers Refold expects."""
        if self.session_token:
            return {ep.HEADER_AUTHORIZATION: f"Bearer {self.session_token}"}
        out = {ep.HEADER_API_KEY: self.api_key or ""}
        if self.linked_account_id:
            out[ep.HEADER_LINKED_ACCOUNT] = self.linked_account_id
        return out


# Every credential taken in this process, so what it prints or stores can still be scrubbed of
# one that test code got from elsewhere (a settings file) and echoed.
_HELD: frozenset[str] = frozenset()


def held_secrets() -> frozenset[str]:
    """The credentials custody took in this process, for redaction.

    Example::

        text = Redactor(held_secrets()).text(text)
    """
    return _HELD


def is_placeholder(value: str | None) -> bool:
    """True for a value refold-contract put in place of a credential.

    >>> is_placeholder("tk_refold_contract_placeholder"), is_placeholder("tk_live_1")
    (True, False)
    """
    return value in PLACEHOLDERS.values()


class Custody:
    """The credentials taken from the environment, and how to put them back.

    Its repr never shows them.

    Example::

        custody = Custody.take()
        gateway = GatewayProcess.start(config, custody.credentials())
    """

    def __init__(self, taken: dict[str, str], environ: MutableMapping[str, str]) -> None:
        self._taken = taken
        self._environ = environ
        # Fingerprints of credentials held elsewhere (an xdist worker holds none, but knows the
        # controller's by these): recognised, never stored.
        self._fingerprints: frozenset[str] = frozenset()

    def fingerprints(self) -> list[str]:
        """SHA-256 fingerprints of the credentials held, for a process that must recognise them
        without holding them (:meth:`lock`'s ``also``).

        Example::

            node.workerinput["refold_custody"] = custody.fingerprints()
        """
        return sorted(_fingerprint(v) for v in self._taken.values())

    @classmethod
    def take(cls, environ: MutableMapping[str, str] | None = None) -> Custody:
        """Move the credentials out of ``environ`` (``os.environ``), leaving placeholders."""
        env = os.environ if environ is None else environ
        taken = _take(env)
        custody = cls(taken, env)
        if taken and env is os.environ:
            _overwrite_initial_environment(taken)
            custody._hold()
        return custody

    def _hold(self) -> None:
        """Not dumpable while any custody of this process holds a key."""
        global _DUMPABLE_BEFORE
        with _LOCK:
            if self in _HOLDING:
                return
            if not _HOLDING:
                _DUMPABLE_BEFORE = set_dumpable(False)
            _HOLDING.append(self)

    def _let_go(self) -> None:
        with _LOCK:
            if self not in _HOLDING:
                return
            _HOLDING.remove(self)
            if not _HOLDING and _DUMPABLE_BEFORE:
                set_dumpable(True)

    def lock(self, also: Iterable[str] = ()) -> None:
        """From now on, keep a credential this custody holds out of the environment: a fixture's
        ``load_dotenv(override=True)`` sets the placeholder instead (with a
        :class:`CredentialKeptOut` warning), so no child process started after it inherits the
        key; a bare ``os.putenv`` of it raises
        :class:`~refold_contract.errors.ConfigurationError`. ``also`` adds credentials known by
        their :meth:`fingerprints` (an xdist worker's, from the controller). Values neither held
        nor fingerprinted (a test's own fake key) pass.

        Example::

            custody.lock()       # after the conftest files are imported
            custody.unlock()     # a session run inside a test (pytester) ends
        """
        self._fingerprints = frozenset(also)
        if not self._taken and not self._fingerprints:
            return
        with _LOCK:
            subscribe({"os.putenv"}, _audit)
            for mapping in (os.environ, getattr(os, "environb", None)):
                if mapping is not None and type(mapping) is os._Environ:
                    mapping.__class__ = _KeptOut
            _LOCKED.append(self)

    def unlock(self) -> None:
        """Undo :meth:`lock`."""
        with _LOCK:
            if self in _LOCKED:
                _LOCKED.remove(self)

    def retake(self) -> bool:
        """Take again a credential code put back since (a conftest's
        ``load_dotenv(override=True)``); the latest value wins. True when one was taken.

        Example::

            custody.retake()   # after the conftest files are imported
        """
        again = _take(self._environ)
        self._taken.update(again)
        if again and self._environ is os.environ:
            self._hold()
        return bool(again)

    @property
    def holds_credentials(self) -> bool:
        """True when a real credential was taken."""
        return bool(self._taken)

    def credentials(self) -> Credentials:
        """The working credentials, with the linked account from the environment."""
        return Credentials(
            api_key=self._taken.get("REFOLD_API_KEY"),
            linked_account_id=self._environ.get("REFOLD_LINKED_ACCOUNT_ID") or None,
            session_token=self._taken.get("REFOLD_SESSION_TOKEN"),
        )

    def env_view(self) -> dict[str, str]:
        """The environment as it was before :meth:`take`, for resolving settings."""
        view = dict(self._environ)
        view.update(self._taken)
        return view

    def restore(self) -> None:
        """Put the credentials back where placeholders still stand, and let go of them: the
        process is dumpable again, as it was before :meth:`take`. The plugin never calls it: a
        thread or an ``atexit`` handler running after the session would find them."""
        self.unlock()
        self._let_go()
        for name, value in self._taken.items():
            if self._environ.get(name) == PLACEHOLDERS[name]:
                self._environ[name] = value

    def __repr__(self) -> str:
        return f"<Custody holding {', '.join(self._taken) or 'nothing'}>"


def _held(key: object, value: object) -> str | None:
    """The variable's name when ``value`` is a credential a locked custody holds."""
    name = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    if not _LOCKED or name not in SECRET_VARIABLES:
        return None
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    for custody in tuple(_LOCKED):
        if text in custody._taken.values() or (
            custody._fingerprints and _fingerprint(text) in custody._fingerprints
        ):
            return name
    return None


def _fingerprint(value: str) -> str:
    # The length too: a process that knows a credential only by this finds it inside a text
    # (a snapshot an xdist worker writes) by hashing the windows of that length.
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{len(value)}:{digest}"


def fingerprinted() -> frozenset[str]:
    """Fingerprints (``"<length>:<sha256>"``) of credentials held by another process that this
    one must recognise: an xdist worker's, from its controller.

    Example::

        redact_held(text)   # refold_contract._guard.redaction uses these and held_secrets()
    """
    found: set[str] = set()
    for custody in _LOCKED:
        found |= custody._fingerprints
    return frozenset(found)


class _KeptOut(os._Environ):  # type: ignore[type-arg]
    """``os.environ`` while a custody is locked: a held credential becomes its placeholder."""

    def __setitem__(self, key: Any, value: Any) -> None:
        __tracebackhide__ = True  # the frame holds the value; pytest never shows it
        name = _held(key, value)
        if name is not None:
            placeholder = PLACEHOLDERS[name]
            value = placeholder.encode() if isinstance(value, bytes) else placeholder
            warnings.warn(
                f"refold-contract kept {name} out of the environment: test code set the working "
                "credential there (load_dotenv(override=True) in a fixture or test?), and tests "
                "and their child processes see the placeholder; load it before pytest or in a "
                "conftest file",
                CredentialKeptOut,
                stacklevel=2,
            )
        super().__setitem__(key, value)


_LOCKED: list[Custody] = []
_LOCK = threading.Lock()
# The custodies holding a key in this process, and whether it was dumpable before the first.
_HOLDING: list[Custody] = []
_DUMPABLE_BEFORE: bool | None = None


# Not mutated: mutation testing's own set-up sets environment variables, this very event.
def _audit(event: str, args: tuple[object, ...]) -> None:  # pragma: no mutate block
    """The audit hook behind :meth:`Custody.lock`: a bare ``os.putenv`` of a held credential
    (``os.environ`` sets the placeholder before it gets here)."""
    __tracebackhide__ = True
    name = _held(args[0], args[1])
    if name is not None:
        from refold_contract.errors import ConfigurationError

        raise ConfigurationError(
            f"refold-contract keeps the working credential out of the test process, and test "
            f"code just put {name} back into its environment (a fixture's or a test's "
            "load_dotenv(override=True)?), where child processes would inherit it",
            hint="load it before pytest starts or in a conftest file (taken into custody there); "
            "the gateway already holds it, and tests see a placeholder",
        )


def _take(env: MutableMapping[str, str]) -> dict[str, str]:
    """The real credentials in ``env``, replaced there by placeholders."""
    taken: dict[str, str] = {}
    for name in SECRET_VARIABLES:
        value = env.get(name)
        if value and not is_placeholder(value):
            taken[name] = value
            env[name] = PLACEHOLDERS[name]
    global _HELD
    if taken:
        _HELD = _HELD | frozenset(taken.values())
    return taken


def _overwrite_initial_environment(taken: dict[str, str]) -> None:
    """Blank the values in the environment block the process started with (Linux).

    ``os.environ`` changes do not reach that block, and ``/proc/self/environ`` reads it. Best
    effort: any surprise leaves it as it was.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        with open("/proc/self/stat", "rb") as handle:
            stat = handle.read()
        fields = stat[stat.rindex(b")") + 2 :].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50, 51)
        if not 0 < start < end or end - start > 1 << 20:
            return
        block = ctypes.string_at(start, end - start)
        for name, value in taken.items():
            needle = f"{name}={value}".encode()
            at = block.find(b"\0" + needle)
            at = at + 1 if at >= 0 else (0 if block.startswith(needle) else -1)
            while at >= 0:
                offset = at + len(name) + 1
                ctypes.memset(start + offset, ord("x"), len(value.encode()))
                block = ctypes.string_at(start, end - start)
                found = block.find(b"\0" + needle)
                at = found + 1 if found >= 0 else -1
