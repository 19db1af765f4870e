"""One audit hook for the process, shared by the egress guard and credential custody.

Python cannot remove an audit hook, and every audited event of the process (about 80 a test)
passes through each one: so there is one, added on first use, and it looks the event up in a
dict of handlers. Python drops a new hook silently when an existing hook refuses it; the hook is
probed once, and :func:`subscribe` raises rather than leave a guard that does nothing.

Example::

    subscribe({"socket.connect"}, lambda event, args: check(args[1]))
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["subscribe"]

Handler = Callable[[str, tuple[Any, ...]], None]

_PROBE = "refold_contract.audit.hooked"
_HANDLERS: dict[str, tuple[Handler, ...]] = {}
_LOCK = threading.Lock()
_hooked = False


def subscribe(events: Iterable[str], handler: Handler) -> None:
    """Call ``handler(event, args)`` for each of ``events`` from now on, in this process.

    A handler that raises aborts the audited operation. Raises ``RuntimeError`` when another
    audit hook keeps this one out.
    """
    global _hooked
    with _LOCK:
        if not _hooked:
            sys.addaudithook(_hook)
            sys.audit(_PROBE)
            if not _hooked:
                raise RuntimeError(
                    "refold-contract cannot guard sockets or credentials: another audit hook in "
                    "this process refused its hook (sys.addaudithook); remove that hook to run "
                    "the tests"
                )
        for event in events:
            if handler not in _HANDLERS.get(event, ()):
                _HANDLERS[event] = (*_HANDLERS.get(event, ()), handler)


def _mark_hooked(event: str, args: tuple[Any, ...]) -> None:
    global _hooked
    _hooked = True


_HANDLERS[_PROBE] = (_mark_hooked,)


# Not mutated: mutation testing's own set-up sets environment variables, an audited event.
# Every audited event of the process comes here: one dict lookup, bound once, and out.
def _hook(  # pragma: no mutate block
    event: str, args: tuple[Any, ...], _handlers: Callable[[str], Any] = _HANDLERS.get
) -> None:
    handlers = _handlers(event)
    if handlers is not None:
        __tracebackhide__ = True
        for handler in handlers:
            handler(event, args)
