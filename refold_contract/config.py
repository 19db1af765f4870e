"""Settings, resolved from layered sources.

Precedence, highest first: explicit arguments > pytest command-line options > ``REFOLD_*``
environment variables > ini keys > defaults. Credentials are read from arguments and the
environment only, never from a command-line flag or an ini file, and never appear in ``repr``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from refold_contract._core import endpoint as ep
from refold_contract._core.pacing import REFOLD_BURST, REFOLD_RATE
from refold_contract.errors import ConfigurationError

__all__ = [
    "DEFAULT_EXAMPLES",
    "ENV_VARS",
    "MOCK_API_KEY",
    "MOCK_LINKED_ACCOUNT",
    "MOCK_SERVERS",
    "REFOLD_BURST",
    "REFOLD_RATE",
    "Limits",
    "Settings",
    "is_secret_key",
    "normalise_base_url",
]

#: Environment variables read by :meth:`Settings.resolve`, by setting name.
ENV_VARS: Mapping[str, str] = {
    "api_key": "REFOLD_API_KEY",
    "linked_account_id": "REFOLD_LINKED_ACCOUNT_ID",
    "session_token": "REFOLD_SESSION_TOKEN",
    "base_url": "REFOLD_BASE_URL",
    "live": "REFOLD_LIVE",
}

_SECRETS = frozenset({"api_key", "session_token"})
_SECRET_KEY = re.compile(
    r"(?i)(?:token|secret|password|passwd|api[_-]?key|authorization|private[_-]?key|credential)"
)
# Paging tokens say "token" but are cursors, not credentials.
_PAGE_TOKEN_KEYS = frozenset({"pageToken", "nextPageToken", "page_token", "next_page_token"})


def is_secret_key(key: str) -> bool:
    """True for keys whose values are redacted wherever refold-contract stores or shows data.

    >>> is_secret_key("access_token"), is_secret_key("Authorization"), is_secret_key("pageToken")
    (True, True, False)
    """
    return key not in _PAGE_TOKEN_KEYS and _SECRET_KEY.search(key) is not None


#: Generated bodies per action and kind in the contract suite and the ``refold`` profile.
DEFAULT_EXAMPLES = 25
#: The credentials the mock-mode client fixtures send. Not secrets: the mock accepts any key.
MOCK_API_KEY = "tk_refold_contract_mock"
MOCK_LINKED_ACCOUNT = "linked_account_mock"
#: The HTTP servers ``refold-contract serve`` runs on: granian (the ``fast`` extra) first,
#: uvicorn (the ``server`` extra).
MOCK_SERVERS = ("granian", "uvicorn")


@dataclasses.dataclass(frozen=True)
class Limits:
    """How big and how deep refold-contract lets outside JSON be, and where it applies.

    ``max_depth`` counts nested objects and arrays. Past a limit, a catalogue file is a
    ``CatalogueError``, a request body gets Refold's 400 ``VALIDATION_ERROR`` envelope (413 for
    size), and a reply is a ``ProtocolError``. Change one by passing your own:

    Example::

        RefoldClient(limits=Limits(max_reply_bytes=256 * 1024 * 1024))
        RefoldMock(limits=Limits(max_body_bytes=1024 * 1024))
    """

    #: Deepest nesting of a document, in objects and arrays.
    max_depth: int = 128
    #: Largest request body the mock and the servers accept (413 past it).
    max_body_bytes: int = 10 * 1024 * 1024
    #: Largest reply the client reads.
    max_reply_bytes: int = 32 * 1024 * 1024

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigurationError(
                    f"Limits.{field.name}={value!r} must be a whole number of at least 1"
                )


_FROM_OPTIONS_OR_INI = frozenset(
    {"base_url", "live", "record", "drift", "fixtures", "strict", "timeout", "retries"}
)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def normalise_base_url(value: object) -> str:
    """A base URL checked and tidied: http or https, a host, no credentials, no query.

    The scheme and host are lower-cased and a trailing ``/`` dropped; a path is kept (the
    read-only gateway uses one per test). Raises :class:`ConfigurationError` otherwise.

    >>> normalise_base_url("HTTP://127.0.0.1:8700/")
    'http://127.0.0.1:8700'
    """
    text = str(value).strip()
    hint = "use a full URL such as https://app.refold.ai or http://127.0.0.1:8700"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigurationError(
            f"base URL {_show_url(text)!r} is not a valid URL", hint=hint
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"base URL {_show_url(text)!r} is not an http(s) URL with a host", hint=hint
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            f"base URL {_show_url(text)!r} holds credentials",
            hint="credentials go in REFOLD_API_KEY or REFOLD_SESSION_TOKEN, never in the URL",
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(f"base URL {_show_url(text)!r} has a query or fragment", hint=hint)
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path}".rstrip("/")


def _show_url(text: str) -> str:
    """A URL fit for an error message: any user:password@ part masked, and cut short."""
    masked = re.sub(r"(?<=//)[^/@]*@", "<credentials>@", text)
    return masked if len(masked) <= 120 else masked[:117] + "..."


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(
        f"{name}={value!r} is not a yes/no value", hint="use 1/0, true/false, yes/no or on/off"
    )


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything refold-contract needs to know about where and how to call Refold.

    Build it with :meth:`resolve` to apply the precedence rules; construct it directly when you
    want exactly what you pass.

    Example::

        settings = Settings.resolve(base_url="http://127.0.0.1:8700")
        settings.api_key            # from REFOLD_API_KEY, if set
        repr(settings)              # api_key='<set>' -- secrets never show
    """

    api_key: str | None = None
    linked_account_id: str | None = None
    session_token: str | None = None
    base_url: str = ep.DEFAULT_BASE_URL
    timeout: float = 30.0
    retries: int = 3
    fixtures: tuple[Path, ...] = ()
    strict: bool = False
    live: bool = False
    record: bool = False
    drift: str = "report"

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalise_base_url(self.base_url))
        if self.drift not in ("report", "fail") and not (
            self.drift.startswith("contract:") and len(self.drift) > len("contract:")
        ):
            raise ConfigurationError(
                f"--refold-drift={self.drift!r} is not report, fail or contract:PATH",
                hint="use --refold-drift=report, =fail, or =contract:consumer-contract.json",
            )
        if self.timeout <= 0:
            raise ConfigurationError(f"timeout={self.timeout!r} must be positive")
        if self.retries < 0:
            raise ConfigurationError(f"retries={self.retries!r} must be 0 or more")

    @property
    def drift_contract(self) -> str | None:
        """The consumer contract path of ``--refold-drift=contract:PATH``, else ``None``."""
        return self.drift[len("contract:") :] if self.drift.startswith("contract:") else None

    def __repr__(self) -> str:
        parts = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in _SECRETS or field.name == "linked_account_id":
                # The linked account names a customer: like the secrets, only whether it is set.
                parts.append(f"{field.name}={'<set>' if value else None!r}")
            else:
                parts.append(f"{field.name}={value!r}")
        return f"Settings({', '.join(parts)})"

    @property
    def has_credentials(self) -> bool:
        """True when an API key (with or without linked account) or a session token is set."""
        return bool(self.api_key or self.session_token)

    @property
    def missing_credentials(self) -> list[str]:
        """The variables live mode still needs: empty with a session token, or key and account.

        Example::

            Settings.resolve(env={"REFOLD_API_KEY": "tk_1"}).missing_credentials
            # ['REFOLD_LINKED_ACCOUNT_ID']
        """
        if self.session_token:
            return []
        return [
            ENV_VARS[name] for name in ("api_key", "linked_account_id") if not getattr(self, name)
        ]

    def require_credentials(
        self, needs: str, *, where: str = "in the environment", hint: str | None = None
    ) -> None:
        """Raise :class:`ConfigurationError` unless :attr:`missing_credentials` is empty.

        ``needs`` starts the message (who needs them), ``where`` says where to set them, and
        ``hint`` replaces the default hint (export them).

        Example::

            Settings.resolve().require_credentials("live commands need")
            # ConfigurationError: live commands need REFOLD_API_KEY and ... (missing: ...)
        """
        missing = self.missing_credentials
        if missing:
            raise ConfigurationError(
                f"{needs} REFOLD_API_KEY and REFOLD_LINKED_ACCOUNT_ID (or REFOLD_SESSION_TOKEN) "
                f"{where} (missing: {', '.join(missing)})",
                hint=hint or "credentials are never taken from the command line; export them first",
            )

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret values set, for redaction. Empty strings are left out."""
        return tuple(s for s in (self.api_key, self.session_token) if s)

    @classmethod
    def resolve(
        cls,
        *,
        options: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        ini: Mapping[str, Any] | None = None,
        **explicit: Any,
    ) -> Settings:
        """Merge the sources by precedence; ``None`` in a layer means "not given there".

        Example::

            Settings.resolve(options={"base_url": "http://127.0.0.1:8700"}, env=os.environ)
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(explicit) - fields
        if unknown:
            raise ConfigurationError(
                f"unknown setting(s): {', '.join(sorted(unknown))}",
                hint=f"settings are: {', '.join(sorted(fields))}",
            )
        env = os.environ if env is None else env
        env_layer = {name: env.get(var) for name, var in ENV_VARS.items()}
        env_layer = {k: v for k, v in env_layer.items() if v not in (None, "")}
        layers: list[Mapping[str, Any]] = [
            {k: v for k, v in (ini or {}).items() if k in _FROM_OPTIONS_OR_INI},
            env_layer,
            {k: v for k, v in (options or {}).items() if k in _FROM_OPTIONS_OR_INI},
            explicit,
        ]
        merged: dict[str, Any] = {}
        for layer in layers:
            merged.update({k: v for k, v in layer.items() if v is not None})
        return cls(**_coerce(merged))


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for name in ("live", "record", "strict"):
        if name in out:
            out[name] = _as_bool(name, out[name])
    if "timeout" in out:
        out["timeout"] = float(out["timeout"])
    if "retries" in out:
        out["retries"] = int(out["retries"])
    if "fixtures" in out:
        raw = out["fixtures"]
        items: Sequence[Any] = [raw] if isinstance(raw, (str, os.PathLike)) else raw
        out["fixtures"] = tuple(Path(p) for p in items)
    return out
