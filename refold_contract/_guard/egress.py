"""The egress guard: no socket from the test process reaches Refold.

Installed by the plugin for every pytest session. It refuses, with
:class:`~refold_contract.errors.EgressBlocked`, any attempt to resolve a blocked host name or to
connect to a blocked address, whichever Python client makes it. It is a ``sys.addaudithook``
hook on Python's socket events (``getaddrinfo``, ``gethostbyname``, ``connect``, and ``sendto``
and ``sendmsg`` with an address, with which TCP Fast Open connects), so requests, urllib3,
urllib, http.client, aiohttp, httpx (any transport), asyncio and code using ``_socket`` directly
are all seen.

What is blocked:

- always: ``app.refold.ai`` and the legacy ``api.gocobalt.io`` (and their subdomains);
- mock mode: the configured base URL's host, unless it is loopback (your own
  ``refold-contract serve`` stays reachable);
- live mode: the configured base URL's host and port, loopback or not: only the read-only
  gateway, a separate process, talks to Refold.

After the session the guard stays installed until the process exits (:meth:`EgressGuard.linger`),
so a thread, an executor job or an ``atexit`` handler still running then is refused too.

Limits: a connection by bare IP address to a blocked host name is not recognised (the guard
does not resolve names itself); an event loop that bypasses Python's sockets (uvloop) is not
seen; and child processes are not guarded (they hold no working credential).

Example::

    guard = EgressGuard(hosts={"app.refold.ai"}, hint="use the refold_mock fixture")
    with guard.installed():
        requests.get("https://app.refold.ai/")     # ConnectionError caused by EgressBlocked
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from refold_contract._guard.audit import subscribe
from refold_contract.errors import EgressBlocked

__all__ = ["REFOLD_HOSTS", "EgressGuard", "is_loopback"]

#: Refold's own hosts: never reachable from a test process.
REFOLD_HOSTS = frozenset({"app.refold.ai", "api.gocobalt.io"})

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("app.refold.ai")
    (True, True, False)
    """
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_of(address: Any) -> tuple[str, int | None] | None:
    if isinstance(address, tuple) and len(address) >= 2 and isinstance(address[0], str):
        return address[0].lower(), int(address[1])
    return None  # a Unix socket path, or something we do not know


class EgressGuard:
    """Refuses name look-ups and connections to the blocked hosts, from any Python client.

    ``hosts`` are names (a subdomain of one is blocked too); ``addresses`` are
    ``(ip, port)`` pairs (``port=None`` for every port). ``hint`` says what to do instead.
    Every refusal is kept in :attr:`attempts` until :meth:`take_attempts`.

    Example::

        guard = EgressGuard.for_settings("https://app.refold.ai", live=False)
        guard.install()
        ...
        guard.uninstall()
    """

    def __init__(
        self,
        *,
        hosts: Iterable[str] = REFOLD_HOSTS,
        addresses: Iterable[tuple[str, int | None]] = (),
        hint: str,
    ) -> None:
        self.hosts = frozenset(h.lower().strip("[]") for h in hosts)
        self.addresses = frozenset((h.lower().strip("[]"), p) for h, p in addresses)
        self.hint = hint
        self.attempts: list[str] = []
        #: True once the session is over: the guard stays, and records no attempts.
        self.lingering = False
        self._lock = threading.Lock()

    @classmethod
    def for_settings(
        cls, base_url: str, *, live: bool, gateway_url: str | None = None
    ) -> EgressGuard:
        """The guard for a session: what to block, and the hint, for mock or live mode.

        Example::

            EgressGuard.for_settings("http://127.0.0.1:9999", live=True,
                                     gateway_url="http://127.0.0.1:50000")
        """
        parts = urlsplit(base_url)
        host = (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        hosts = set(REFOLD_HOSTS)
        addresses: set[tuple[str, int | None]] = set()
        if live:
            if _is_address(host):
                addresses.add((host, port))
            elif not is_loopback(host):
                hosts.add(host)
            else:  # localhost:PORT: block the port on every loopback address
                addresses.update({("127.0.0.1", port), ("::1", port), ("localhost", port)})
            hint = (
                "in live mode only the read-only gateway talks to Refold: point the client at "
                f"REFOLD_BASE_URL ({gateway_url or 'the gateway'}), which it already holds unless "
                "your code fixed another URL"
            )
        else:
            if host and not is_loopback(host):
                if _is_address(host):
                    addresses.add((host, None))
                else:
                    hosts.add(host)
            hint = (
                "tests never reach Refold: answer httpx code with the refold_mock fixture, and "
                "requests, urllib, aiohttp or another process with the refold_server fixture "
                "(point the code at refold_server.url)"
            )
        return cls(hosts=hosts, addresses=addresses, hint=hint)

    # ------------------------------------------------------------------ decisions

    def blocks_host(self, host: str) -> bool:
        """True when a name look-up of ``host`` is refused."""
        host = host.lower().rstrip(".").strip("[]")
        return any(host == h or host.endswith("." + h) for h in self.hosts) or any(
            host == h and p is None for h, p in self.addresses
        )

    def blocks_address(self, host: str, port: int | None) -> bool:
        """True when a connection to ``(host, port)`` is refused.

        An address is compared in its standard spelling (``127.1`` is ``127.0.0.1``, an
        IPv4-mapped IPv6 address is its IPv4 one), and a loopback address blocked on one port
        blocks that port on every address that reaches this machine (any loopback address,
        ``0.0.0.0``, ``::``).
        """
        host = _standard(host)
        if self.blocks_host(host):
            return True
        if (host, port) in self.addresses or (host, None) in self.addresses:
            return True
        return (
            port is not None
            and _is_local(host)
            and any(p == port and _is_local(h) for h, p in self.addresses)
        )

    def _refuse(self, host: str, port: int | None) -> EgressBlocked:
        error = EgressBlocked(host, port, hint=self.hint)
        if not self.lingering:  # after the session nobody reads them: they would only pile up
            with self._lock:
                self.attempts.append(error.message)
        return error

    def take_attempts(self) -> list[str]:
        """The refusals since the last call, oldest first; forgets them."""
        with self._lock:
            taken, self.attempts = self.attempts, []
        return taken

    # ------------------------------------------------------------------ patching

    def install(self) -> None:
        """Start refusing, process-wide. Installing twice is an error; nest guards instead."""
        with _ACTIVE_LOCK:
            if self in _ACTIVE:
                raise RuntimeError("this egress guard is already installed")
            # An audit hook sees every socket operation, whoever calls it: the socket module, a
            # name imported from it earlier, or the C type ``_socket.socket`` itself.
            subscribe(_SOCKET_EVENTS, _audit)
            _ACTIVE.append(self)

    def uninstall(self) -> None:
        """Undo :meth:`install`."""
        with _ACTIVE_LOCK:
            if self in _ACTIVE:
                _ACTIVE.remove(self)

    def linger(self, *, also: Iterable[tuple[str, int | None]] = (), hint: str) -> None:
        """The session is over: stay installed until the process exits, refusing the same hosts
        and addresses plus ``also`` (the stopped gateway's), with ``hint``.

        A lingering guard is asked after every guard still in use, so a refusal during a later
        session in the same process (pytester's in-process runs) is charged to that session's
        guard and fails its test.

        Example::

            guard.linger(also=[("127.0.0.1", 50000)], hint="the session is over")
        """
        with _ACTIVE_LOCK:
            self.addresses = self.addresses | {(_standard(h), p) for h, p in also}
            self.hint = hint
            self.lingering = True
            self.attempts = []
            if self in _ACTIVE:
                _ACTIVE.remove(self)
            _ACTIVE.insert(0, self)

    def forget_local(self) -> None:
        """Stop refusing loopback addresses; uninstall when only Refold's own hosts are left.

        For a lingering guard of a session run inside another one's test (pytester's
        in-process runs), once that test is over: its stand-in servers are closed, and a later
        server in the same process may be given the same port. Refold's own hosts stay refused
        by the enclosing session's guard.

        Example::

            inner_guard.forget_local()    # the enclosing test is over
        """
        with _ACTIVE_LOCK:
            self.addresses = frozenset((h, p) for h, p in self.addresses if not _is_local(h))
            if not self.addresses and self.hosts <= REFOLD_HOSTS and self in _ACTIVE:
                _ACTIVE.remove(self)

    def _check(self, event: str, args: tuple[Any, ...]) -> None:
        """Raise :class:`EgressBlocked` when the socket operation ``event`` is refused."""
        if event == "socket.getaddrinfo" or event == "socket.gethostbyname":
            host = args[0]
            name = host.decode() if isinstance(host, bytes) else host
            if not isinstance(name, str):
                return
            port = _port(args[1]) if event == "socket.getaddrinfo" else None
            if self.blocks_host(name):
                raise self._refuse(name, port)
            if _is_address(_standard(name)) and self.blocks_address(name, port):
                raise self._refuse(_standard(name), port)
        elif event in _CONNECTING:
            # connect and connect_ex; sendto and sendmsg given an address (TCP Fast Open
            # connects with them).
            found = _host_of(args[1])
            if found is not None and self.blocks_address(*found):
                raise self._refuse(*found)

    @contextlib.contextmanager
    def installed(self) -> Iterator[EgressGuard]:
        """Install for the ``with`` block."""
        self.install()
        try:
            yield self
        finally:
            self.uninstall()

    def __repr__(self) -> str:
        return (
            f"<EgressGuard hosts={sorted(self.hosts)} addresses={sorted(self.addresses, key=str)}>"
        )


_CONNECTING = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})
_SOCKET_EVENTS = _CONNECTING | {"socket.getaddrinfo", "socket.gethostbyname"}
_ACTIVE: list[EgressGuard] = []
_ACTIVE_LOCK = threading.Lock()


# Not mutated: mutation testing's own set-up runs sockets through it before any guard exists.
# The decisions are in EgressGuard._check, which is mutated.
def _audit(event: str, args: tuple[Any, ...]) -> None:  # pragma: no mutate block
    """Asks every installed guard, the most recently installed (the innermost) first, so a
    refusal is charged to it."""
    for guard in reversed(tuple(_ACTIVE)):
        guard._check(event, args)


def _standard(host: str) -> str:
    """``host`` lower-cased without brackets; an address in its one standard spelling.

    >>> _standard("127.1"), _standard("[::FFFF:7f00:1]"), _standard("0:0::1"), _standard("A.b")
    ('127.0.0.1', '127.0.0.1', '::1', 'a.b')
    """
    host = host.lower().strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:  # the forms the C library still reads as IPv4: 127.1, 2130706433, 0x7f.1
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _is_local(host: str) -> bool:
    """True for a name or address a connection on this machine reaches: loopback, or the
    unspecified ``0.0.0.0`` and ``::``, which Linux connects to the machine itself."""
    if is_loopback(host):
        return True
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _port(port: Any) -> int | None:
    try:
        return int(port)
    except (TypeError, ValueError):
        return None
