"""Redaction of the credentials custody guards, by value where this process holds them and by
fingerprint where it does not (an xdist worker, which knows the controller's only by a length and
a SHA-256).

Example::

    from refold_contract._guard.redaction import holds_secret, redact_held

    if holds_secret(text):
        text = redact_held(text)      # every held or fingerprinted credential is <redacted>
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Final

from refold_contract._core.json import REDACTED, Redactor
from refold_contract._guard.custody import fingerprinted, held_secrets

__all__ = ["holds_secret", "redact_held"]

# A credential is one run of these characters (API keys, JWTs, base64): a fingerprint is looked
# for in the windows of its length inside such runs, not at every offset of a text.
_RUN: Final = re.compile(r"[A-Za-z0-9_\-.~+/=]{4,}")


def _fingerprint_spans(text: str, prints: frozenset[str]) -> list[tuple[int, int]]:
    wanted: dict[int, set[str]] = {}
    for entry in prints:
        size, _, digest = entry.partition(":")
        if size.isascii() and size.isdigit() and int(size) >= 4:
            wanted.setdefault(int(size), set()).add(digest)
    if not wanted:
        return []
    spans = []
    for run in _RUN.finditer(text):
        start, end = run.span()
        for length, digests in wanted.items():
            for i in range(start, end - length + 1):
                window = text[i : i + length]
                if hashlib.sha256(window.encode("utf-8", "surrogatepass")).hexdigest() in digests:
                    spans.append((i, i + length))
    return spans


def _cut_spans(text: str, secrets: Iterable[str]) -> list[tuple[int, int]]:
    """Where a credential shows cut short around ``...``, as pytest's assertion messages and
    reprs cut a long string (``'tk_live_1234...cdef'``): its head before, or its tail after."""
    spans = []
    for secret in secrets:
        at = text.find("...")
        while at != -1:
            head = next(
                (
                    j
                    for j in range(len(secret) - 1, 3, -1)
                    if text[max(0, at - j) : at] == secret[:j]
                ),
                0,
            )
            tail = next(
                (
                    k
                    for k in range(len(secret) - 1, 3, -1)
                    if text[at + 3 : at + 3 + k] == secret[-k:]
                ),
                0,
            )
            if head or tail:
                spans.append((at - head, at + 3 + tail))
            at = text.find("...", at + 3)
    return spans


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    out, at = [], 0
    for start, end in sorted(spans):
        if start < at:  # overlapping windows: one replacement
            continue
        out.append(text[at:start])
        out.append(REDACTED)
        at = end
    out.append(text[at:])
    return "".join(out)


def redact_held(text: str, also: Iterable[str] = ()) -> str:
    """``text`` with every credential custody guards in this process (and those fingerprinted
    in ``also``) replaced by ``<redacted>``.

    Example::

        redact_held("key tk_live_1 in a message")   # 'key <redacted> in a message' when held
    """
    held = held_secrets()
    if held:
        text = Redactor(held).text(text)
        if "..." in text:
            text = _replace(text, _cut_spans(text, held))
    prints = fingerprinted() | frozenset(also)
    if not prints:
        return text
    spans = _fingerprint_spans(text, prints)
    return _replace(text, spans) if spans else text


def holds_secret(text: str, also: Iterable[str] = ()) -> bool:
    """True when ``text`` holds a credential custody guards in this process (or one
    fingerprinted in ``also``).

    Example::

        holds_secret(report_text)    # False in a session with no credential taken
    """
    held = held_secrets()
    if any(secret in text for secret in held):
        return True
    if held and "..." in text and _cut_spans(text, held):
        return True
    prints = fingerprinted() | frozenset(also)
    return bool(prints) and bool(_fingerprint_spans(text, prints))
