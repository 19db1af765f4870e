"""The two roots every error and warning of refold-contract derives from.

Example::

    from refold_contract.errors import RefoldError, RefoldWarning

    warnings.simplefilter("error", RefoldWarning)   # every refold-contract warning fails
"""

from __future__ import annotations

__all__ = ["RefoldError", "RefoldWarning"]


class RefoldError(Exception):
    """Root of every refold-contract error. Example::

    try:
        client.execute("hubspot", "get_contact", {"limit": "1"})
    except RefoldError as exc:
        log.warning("Refold call failed: %s", exc)
    """

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        if hint is not None:
            self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class RefoldWarning(UserWarning):
    """Base of refold-contract's warnings. Example::

    warnings.simplefilter("error", RefoldWarning)   # make them fail your suite
    """
