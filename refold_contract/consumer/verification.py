"""Checking a consumer contract: against the catalogue offline, or against live replies.

A :class:`Finding` is *breaking* when the code under test would likely fail: an action it calls
is gone, a parameter became required that it does not always send, or a path it reads is gone
or changed type. Everything else is reported and not breaking: a parameter it sends that the
action no longer lists (Refold passes extra keys through, so the call still succeeds), a path
read with ``.get()`` or ``in`` that is gone (the code handles its absence), a type seen beside
the one it read, and what could not be checked.

Against the catalogue, whose example replies the tests may not all have been served, a path
counts as carried when at least one example reply with the same ``node_status`` carries it, or
when the action's state block can produce it (its ``reply``, ``item`` and ``on_*`` templates, as
the sandbox fills them in stateful mode: :mod:`refold_contract.consumer._replies`), and a type
is breaking only when none of the types the code read is left there. A placeholder whose type
is not known (a record field) is a path present but untyped: no type finding is made there.
Against a live reply (:func:`verify_reply`, :func:`verify_live`) any type the code never read is
breaking, and so is a path read with ``[]`` that some of the reply's objects lack (one
element of ``results`` without ``id``).

Example::

    findings = verify(ConsumerContract.load("consumer-contract.json"), Catalogue.builtin())
    for row in finding_rows(findings):
        print(*row)
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import reduce
from pathlib import Path
from typing import IO, Any, Final

from refold_contract._core import endpoint as ep
from refold_contract.catalogue import Action, Catalogue
from refold_contract.consumer._paths import ITEM, MEMBER, ROOT, child_path, parse_path
from refold_contract.consumer._replies import ANY, reply_shapes
from refold_contract.consumer.model import (
    ActionContract,
    ConsumerContract,
    StatusContract,
    merge,
    merge_shapes,
)

__all__ = [
    "FINDING_HEADERS",
    "KINDS",
    "Finding",
    "finding_rows",
    "findings_json",
    "merge_command",
    "verify",
    "verify_command",
    "verify_live",
    "verify_reply",
]

#: Every finding kind, and whether it is breaking.
KINDS: Final[dict[str, bool]] = {
    "action_gone": True,
    "parameter_required": True,
    "path_gone": True,
    "type_changed": True,
    "parameter_gone": False,
    "optional_gone": False,
    "presence_gone": False,
    "type_widened": False,
    "unchecked": False,
    "opaque": False,
    "status_not_handled": False,
}

FINDING_HEADERS: Final = ["", "action", "kind", "path", "detail"]

_GONE: Final = {
    "value": ("path_gone", "read"),
    "optional": ("optional_gone", "read with .get()"),
    "presence": ("presence_gone", "tested with `in`"),
}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One difference between a consumer contract and what Refold offers now.

    ``action`` is ``slug/action_id``; ``kind`` one of :data:`KINDS`; ``path`` the reply path
    or parameter name concerned (``None`` for the action itself).

    Example::

        Finding("hubspot/get_contact", "path_gone", "$.data.results[*].properties.email",
                "read by your code; in no example reply with node_status 'Success'", True)
    """

    action: str
    kind: str
    path: str | None
    detail: str
    breaking: bool

    def __str__(self) -> str:
        where = f" {self.path}" if self.path else ""
        label = "BREAKING" if self.breaking else "note"
        return f"{label} {self.action} {self.kind}{where}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        """The finding as a JSON object, for ``--json`` output."""
        return dataclasses.asdict(self)


def _finding(action: str, kind: str, path: str | None, detail: str) -> Finding:
    return Finding(action, kind, path, detail, KINDS[kind])


def verify(contract: ConsumerContract, catalogue: Catalogue) -> list[Finding]:
    """Check a contract against a catalogue, offline; breaking findings first.

    For each action in the contract: does it still exist; does each parameter sent still
    exist; is each required parameter always sent; do the example replies with each
    ``node_status`` the code handled still carry every path it reads, with the same JSON
    type, and every field of the values it read whole?

    Example::

        findings = verify(contract, Catalogue.load("tests/refold_fixtures", include_builtin=True))
        assert not [f for f in findings if f.breaking], findings
    """
    findings: list[Finding] = []
    for entry, action in _actions(contract, catalogue, findings):
        findings += _example_findings(entry, action)
    return _ordered(findings)


def verify_live(
    contract: ConsumerContract,
    catalogue: Catalogue,
    fetch: Callable[[Action], Iterable[Any]],
) -> list[Finding]:
    """Check a contract against live replies: ``fetch(action)`` gives the reply bodies to check.

    Actions and parameters are checked against the catalogue, as :func:`verify` does; the
    replies of read actions come from ``fetch`` (through the read-only gateway, paced) and
    are each checked with :func:`verify_reply`. Write actions are never fetched: their
    replies are checked against the catalogue's examples, and a note says so.

    Example::

        findings = verify_live(contract, catalogue,
                               lambda action: [gateway_execute(action, action.examples[0].params)])
    """
    findings: list[Finding] = []
    for entry, action in _actions(contract, catalogue, findings):
        if not action.is_read:
            detail = (
                "a write action: live mode sends reads only, so its example replies were checked"
            )
            findings.append(_finding(entry.key, "unchecked", None, detail))
            findings += _example_findings(entry, action)
            continue
        try:
            replies = list(fetch(action))
        except LookupError as exc:  # Refold's 404 for the action or the app: gone live
            detail = f"Refold no longer has it live: {str(exc).splitlines()[0]}"
            findings.append(_finding(entry.key, "action_gone", None, detail))
            continue
        if not replies:
            detail = "no live reply was fetched, so its reads were not checked"
            findings.append(_finding(entry.key, "unchecked", None, detail))
        for reply in replies:
            findings += verify_reply(entry, reply)
    return _ordered(set(findings))


def _actions(
    contract: ConsumerContract, catalogue: Catalogue, findings: list[Finding]
) -> Iterator[tuple[ActionContract, Action]]:
    """Each action of the contract that the catalogue still has, noting the parameter findings
    and the actions gone in ``findings``."""
    for key in sorted(contract.actions):
        entry = contract.actions[key]
        action = catalogue.find(entry.slug, entry.action_id)
        if action is None:
            close = catalogue.suggest(entry.slug, entry.action_id)
            also = f"; close names: {', '.join(close)}" if close else ""
            detail = f"your code calls it; not in the catalogue{also}"
            findings.append(_finding(key, "action_gone", None, detail))
            continue
        findings += _parameter_findings(entry, action)
        yield entry, action


def _example_findings(entry: ActionContract, action: Action) -> list[Finding]:
    from refold_contract.contract import shape_of

    findings: list[Finding] = []
    templates = reply_shapes(action)
    for status in entry.statuses:
        replies = [e.response for e in action.examples if e.node_status == status]
        shapes = [shape_of(replies).to_json()] if replies else []
        template = templates.get(status)
        if template is not None:
            shapes.append(template)
        where = "example reply nor state-block reply" if template is not None else "example reply"
        scope = _Scope(
            f"in no {where} with node_status {status!r}",
            f"the {'example and state-block' if template is not None else 'example'} replies "
            f"with node_status {status!r} have",
            f"no example reply with node_status {status!r}",
        )
        observed = reduce(merge_shapes, shapes) if shapes else None
        findings += _status_findings(entry.key, status, entry.replies[status], observed, scope)
    return findings


def verify_reply(contract_action: ActionContract, reply: Any) -> list[Finding]:
    """Check one reply (the JSON envelope, such as a live one) against one action's contract.

    The reply's ``node_status`` picks the reads to check; a status the code never handled
    gives one non-breaking finding. Any type the code never read there is breaking.

    Example::

        entry = contract.find("hubspot", "get_contact")
        if entry is not None:
            problems = [f for f in verify_reply(entry, response.json()) if f.breaking]
    """
    key = contract_action.key
    status = reply.get(ep.KEY_NODE_STATUS) if isinstance(reply, Mapping) else None
    entry = contract_action.replies.get(status) if isinstance(status, str) else None
    if entry is None or not isinstance(status, str):
        handled = ", ".join(map(repr, contract_action.statuses)) or "none"
        return [
            _finding(
                key,
                "status_not_handled",
                f"$.{ep.KEY_NODE_STATUS}",
                f"the reply has node_status {status!r}; your tests handled {handled}",
            )
        ]
    from refold_contract.contract import shape_of

    scope = _Scope("not in the reply", "the reply has", "", strict=True)
    observed = shape_of([reply]).to_json()
    return _ordered(_status_findings(key, status, entry, observed, scope))


def _ordered(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (not f.breaking, f.action, f.path or "", f.kind))


def _parameter_findings(entry: ActionContract, action: Action) -> list[Finding]:
    out = []
    known = action.parameter_map
    for name in sorted(entry.sent - set(known)):
        out.append(
            _finding(
                entry.key,
                "parameter_gone",
                name,
                "your code sends it; the action no longer lists it. Refold passes extra keys "
                "through, so the call still succeeds, but the app may ignore it",
            )
        )
    if entry.always_sent is not None:
        for name in action.required:
            if name in entry.always_sent:
                continue
            how = "sends it in only some calls" if name in entry.sent else "never sends it"
            out.append(
                _finding(
                    entry.key,
                    "parameter_required",
                    name,
                    f"now required; your code {how}, and Refold refuses a call without it (400)",
                )
            )
    return out


@dataclasses.dataclass(frozen=True)
class _Scope:
    """How the findings name what was checked; ``strict``: any new type is breaking."""

    absent: str  # "in no example reply with node_status 'Success'"
    have: str  # "the example replies with node_status 'Success' have"
    none: str  # "no example reply with node_status 'Success'"
    strict: bool = False


def _status_findings(
    key: str,
    status: str,
    entry: StatusContract,
    observed: Mapping[str, Any] | None,
    scope: _Scope,
) -> list[Finding]:
    """The findings for one ``node_status``'s reads against ``observed``, the shape of the
    replies offered (``None``: there are none)."""
    out: list[Finding] = []
    if entry.opaque:
        out.append(
            _finding(
                key,
                "opaque",
                "$",
                f"node_status {status!r}: replies were served over HTTP (refold_server), where "
                "reads cannot be seen, so every field of the reply counts",
            )
        )
    if observed is None:
        checked = len(entry.leaf_reads()) + len(entry.whole)
        out.append(
            _finding(
                key,
                "unchecked",
                None,
                f"{scope.none}: {checked} read(s) not checked",
            )
        )
        return out
    empty: list[str] = []
    for path in sorted(entry.reads):
        read = entry.reads[path]
        state, node = _navigate(observed, path)
        if state == "empty":
            empty.append(path)
            continue
        if state == "parent" or (read.mode == "presence" and state == "found"):
            continue
        if state == "gone":
            kind, how = _GONE[read.mode]
            out.append(_finding(key, kind, path, f"{how} by your code; {scope.absent}"))
            continue
        assert node is not None
        if scope.strict and read.mode == "value" and node.get("required") is False:
            detail = "read by your code; missing from some of the objects there in the reply"
            out.append(_finding(key, "path_gone", path, detail))
        out += _type_findings(key, path, read.types, set(node["types"]), scope)
    for path in sorted(entry.whole):
        state, node = _navigate(observed, path)
        if state == "gone":
            detail = f"read as a whole value by your code; {scope.absent}"
            out.append(_finding(key, "path_gone", path, detail))
        elif state == "empty":
            empty.append(path)
        elif state == "found":
            assert node is not None
            # An opaque reply is recorded whole at the root: what it held was served, not read.
            who = "your tests were served" if entry.opaque and path == ROOT else "your code read"
            out += _shape_findings(key, path, entry.whole[path], node, scope, who)
    if empty:
        shown = ", ".join(empty[:3]) + (f" and {len(empty) - 3} more" if len(empty) > 3 else "")
        out.append(
            _finding(
                key,
                "unchecked",
                empty[0],
                f"{scope.have} no elements or members there, so {len(empty)} read(s) could not "
                f"be checked: {shown}",
            )
        )
    return out


def _allowed(types: Iterable[str]) -> set[str]:
    allowed = set(types)
    if "number" in allowed:
        allowed.add("integer")  # JSON does not tell 1 from 1.0
    return allowed


def _type_findings(
    key: str,
    path: str,
    read: Iterable[str],
    seen: set[str],
    scope: _Scope,
    who: str = "your code read",
) -> list[Finding]:
    allowed = _allowed(read)
    if not allowed or seen <= allowed or ANY in seen:
        return []
    was = " or ".join(sorted(set(read)))
    new = " or ".join(sorted(seen - allowed))
    if allowed == {"null"}:
        # Only null was ever there: the tests say nothing of what the code does with a value,
        # so a value now is news, not a break.
        detail = f"{who} only null; {scope.have} {new}, which your tests never served"
        return [_finding(key, "type_widened", path, detail)]
    if scope.strict or not seen & allowed:
        detail = f"{who} {was}; {scope.have} {new}"
        return [_finding(key, "type_changed", path, detail)]
    detail = f"{who} {was}; {scope.have} {new} too, which your tests never served"
    return [_finding(key, "type_widened", path, detail)]


def _shape_findings(
    key: str,
    path: str,
    recorded: Mapping[str, Any],
    observed: Mapping[str, Any],
    scope: _Scope,
    who: str = "your code read",
) -> list[Finding]:
    seen = set(observed.get("types", ()))
    if ANY in seen:
        return []  # present, of a type nobody can say: nothing to check under it
    out = _type_findings(key, path, recorded.get("types", ()), seen, scope, who)
    recorded_types = set(recorded.get("types", ()))
    if "object" in recorded_types and "object" in seen:
        present = observed.get("keys", {})
        for name, child in sorted(recorded.get("keys", {}).items()):
            child_at = child_path(path, name)
            if name in present:
                out += _shape_findings(key, child_at, child, present[name], scope, who)
            elif child.get("required") and not observed.get("open"):
                detail = (
                    f"in every reply your tests were served; {scope.absent}"
                    if who != "your code read"
                    else f"inside a value your code read whole; {scope.absent}"
                )
                out.append(_finding(key, "path_gone", child_at, detail))
    if "array" in recorded_types and "array" in seen:
        items, seen_items = recorded.get("items"), observed.get("items")
        if items is not None and seen_items is not None:
            out += _shape_findings(key, path + "[*]", items, seen_items, scope, who)
    return out


def _navigate(shape: Mapping[str, Any], path: str) -> tuple[str, Mapping[str, Any] | None]:
    """Follow a read path through an observed shape.

    Returns ``("found", node)``; ``("gone", None)`` when the last step is a member no object
    there has; ``("empty", None)`` when an array or object on the way never had anything in
    it; ``("parent", None)`` when a step before the last is missing or of another type (the
    check of that shorter path reports it). Below a value of unknown type (:data:`ANY`), and
    for a member an open object does not name, the path is found, untyped.
    """
    node: Mapping[str, Any] = shape
    segments = parse_path(path)
    last = len(segments) - 1
    for i, segment in enumerate(segments):
        types = node.get("types", ())
        if ANY in types:
            return "found", _UNTYPED
        if segment is ITEM:
            if "array" not in types:
                return "parent", None
            items = node.get("items")
            if items is None:
                return "empty", None
            node = items
            continue
        if "object" not in types:
            return "parent", None
        keys: Mapping[str, Any] = node.get("keys", {})
        if node.get("open") and (segment is MEMBER or segment not in keys):
            return "found", _UNTYPED
        if segment is MEMBER:
            if not keys:
                return "empty", None
            node = reduce(merge_shapes, keys.values())
        elif segment in keys:
            node = keys[segment]  # type: ignore[index]
        else:
            return ("gone" if i == last else "parent"), None
    return "found", node


#: What a path below a value of unknown type, or an open object's unnamed member, leads to.
_UNTYPED: Final[Mapping[str, Any]] = {"types": [ANY]}


def finding_rows(findings: Iterable[Finding]) -> list[list[str]]:
    """Table rows under :data:`FINDING_HEADERS`: severity, action, kind, path, detail.

    Example::

        for row in [FINDING_HEADERS, *finding_rows(findings)]:
            print("  ".join(row))
    """
    return [
        ["BREAKING" if f.breaking else "note", f.action, f.kind, f.path or "-", f.detail]
        for f in findings
    ]


def findings_json(findings: Sequence[Finding]) -> dict[str, Any]:
    """The findings as one JSON document: counts, then each finding.

    Example::

        print(json.dumps(findings_json(findings), indent=2))
    """
    breaking = sum(f.breaking for f in findings)
    return {
        "breaking": breaking,
        "findings": [f.to_json() for f in findings],
        "non_breaking": len(findings) - breaking,
    }


def _table(rows: list[list[str]], out: IO[str]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    rows = [rows[0], ["-" * max(w, 1) for w in widths] + ["-" * 6], *rows[1:]]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip(), file=out)


def verify_command(
    path: str | Path,
    *,
    fixtures: Sequence[str | Path] = (),
    as_json: bool = False,
    include_builtin: bool = True,
    live: Callable[[Action], Iterable[Any]] | None = None,
    out: IO[str] | None = None,
) -> int:
    """The body of ``refold-contract verify PATH [--fixtures DIR ...] [--live] [--json]``.

    Checks against the catalogue, or with ``live`` (a fetch function, see
    :func:`verify_live`) against live replies. Prints a table (or JSON with ``as_json``) and
    returns 1 when a finding is breaking, else 0. A malformed contract or catalogue raises
    its :class:`~refold_contract.RefoldError`.

    Example::

        raise SystemExit(verify_command("consumer-contract.json", fixtures=["tests/fixtures"]))
    """
    out = out or sys.stdout
    contract = ConsumerContract.load(path)
    catalogue = Catalogue.load(*fixtures, include_builtin=include_builtin)
    if live is None:
        findings = verify(contract, catalogue)
    else:
        findings = verify_live(contract, catalogue, live)
    breaking = sum(f.breaking for f in findings)
    if as_json:
        print(json.dumps(findings_json(findings), indent=2, ensure_ascii=False), file=out)
    else:
        if findings:
            _table([FINDING_HEADERS, *finding_rows(findings)], out)
        print(
            f"{breaking} breaking, {len(findings) - breaking} non-breaking finding(s) for "
            f"{len(contract)} action(s) in {path}",
            file=out,
        )
    return 1 if breaking else 0


def merge_command(
    paths: Sequence[str | Path], output: str | Path, *, out: IO[str] | None = None
) -> int:
    """The body of ``refold-contract contract merge A B ... -o C``; returns 0.

    Reads every contract (a malformed one raises
    :class:`~refold_contract.consumer.ContractFileError`), merges them, writes the result
    atomically and says what it wrote. The output may be one of the inputs.

    Example::

        merge_command(["gw0.json", "gw1.json"], "consumer-contract.json")
    """
    out = out or sys.stdout
    merged = merge(*(ConsumerContract.load(p) for p in paths))
    written = merged.save(output)
    reads = sum(len(s.leaf_reads()) for a in merged.actions.values() for s in a.replies.values())
    print(
        f"wrote {written}: {len(merged)} action(s), {reads} read path(s), merged from "
        f"{len(paths)} file(s)",
        file=out,
    )
    return 0
