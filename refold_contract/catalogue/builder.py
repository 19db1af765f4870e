"""Building an action from a catalogue file: every key checked, every problem located.

:class:`ActionBuilder` reads one file (strictly and bounded, :mod:`.files`), checks the action
object key by key (slug and action id against the file's place, access, position, evidence,
examples, the ``"state"`` block) and builds an :class:`~refold_contract.catalogue.model.Action`.
It collects every problem rather than stopping at the first, so that lint can report them all;
:func:`load_action` raises the first.

Example::

    action = load_action("fixtures/hubspot/get_contact.json")
    builder = ActionBuilder(Path("mine/acme/get_widget.json"), lint=True)
    builder.run(max_depth=64, max_bytes=1_000_000), builder.problems, builder.warnings
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from refold_contract._core import endpoint as ep
from refold_contract._core.json import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    JSONProblem,
    json_type,
)
from refold_contract._core.json import allowed_keys_hint as _allowed_keys_hint
from refold_contract._core.json import loads as _strict_loads
from refold_contract._core.json import pointer_escape as _escape
from refold_contract.access import Access, ReadWhen, access_from_name
from refold_contract.catalogue.files import (
    duplicate_keys,
    first_non_finite,
    json_problem,
    read_file,
)
from refold_contract.catalogue.model import (
    EVIDENCE_LEVELS,
    Action,
    Evidence,
    EvidenceLevel,
    Example,
    Parameter,
)
from refold_contract.catalogue.parameters import ParameterBuilder
from refold_contract.catalogue.state.model import StateBlock
from refold_contract.catalogue.state.parse import parse_state
from refold_contract.errors import CatalogueError, UnknownFieldType

__all__ = ["ActionBuilder", "extended_evidence", "extended_examples", "load_action"]

_ACTION_KEYS = (
    "slug",
    "action_id",
    "name",
    "description",
    "tag",
    "access",
    "read_when",
    "position",
    "evidence",
    "parameters",
    "examples",
    "state",
    "extends",
)
#: What an extending file (``"extends": true``) may hold: it adds examples, and evidence for them.
_EXTENDING_KEYS = ("slug", "action_id", "extends", "examples", "evidence")
_EVIDENCE_KEYS = ("schema", "reply", "sources", "notes")
_EXTENDING_EVIDENCE_KEYS = ("reply", "sources", "notes")
_ACTION_KEY_SET = frozenset(_ACTION_KEYS)
_EXAMPLE_KEYS = frozenset({"params", "response", "source", "recorded_at", "name", "match"})
#: What an example's match rule may say of a param (:attr:`Example.match`).
MATCH_RULES = ("any", "present")


class ActionBuilder(ParameterBuilder):
    """Reads one file and turns it into an Action, collecting every problem on the way.

    ``problems`` are errors (the file does not load); ``warnings`` are what lint reports but
    the loader accepts. ``lint=True`` adds the checks only lint makes (duplicate keys, numbers
    too large for a float); ``require_evidence=True`` makes a missing ``evidence`` an error.
    ``base`` is the action the earlier folders hold under the same slug and action id: an
    extending file (``"extends": true``) adds its examples to it (:meth:`build_extension`).

    Example::

        builder = ActionBuilder(Path("fixtures/hubspot/get_contact.json"))
        action = builder.run(max_depth=64, max_bytes=1_000_000)
        action.key if not builder.problems else builder.problems[0]
    """

    def __init__(
        self,
        path: Path,
        slug: str | None = None,
        *,
        lint: bool = False,
        require_evidence: bool = False,
        base: Action | None = None,
    ) -> None:
        super().__init__(path, slug)
        self.lint = lint
        self.require_evidence = require_evidence
        #: The action an extending file (``"extends": true``) adds examples to: the one the
        #: folders before this file's hold, or ``None`` when they hold none.
        self.base = base
        #: True once the file is known to be an extending file.
        self.extending = False
        self.raw = b""

    def run(self, *, max_depth: int, max_bytes: int) -> Action | None:
        """Read, parse and build the file; problems land in ``problems`` and ``warnings``."""
        try:
            raw = read_file(self.path, max_bytes)
        except CatalogueError as exc:
            self.problems.append(exc)
            return None
        self.raw = raw
        try:
            document = _strict_loads(raw, max_depth=max_depth, max_bytes=max_bytes)
        except JSONProblem as exc:
            self.problems.append(json_problem(exc, self.path, raw, max_depth, max_bytes))
            return None
        if self.lint:
            # Lint only: a literal such as 1e999 is JSON, but Python reads it as infinity, which
            # JSON cannot write back. Finding one needs a walk, too slow for every load.
            where = first_non_finite(document)
            if where is not None:
                self.error(
                    where,
                    "a number too large for a float: it reads as Infinity, which is not JSON",
                    hint="write it as a string, or as a smaller number",
                )
            for where, key in duplicate_keys(self.text_source):
                self.error(
                    f"{where}/{_escape(key)}",
                    f"duplicate key {key!r}: JSON keeps only the last of its values",
                    field=key,
                    hint=f"remove all but one {key!r} from that object",
                )
        return self.build(document)

    @cached_property
    def text_source(self) -> str:
        """The file's text, decoded again only for line numbers and the duplicate-key pass."""
        return self.raw.decode("utf-8-sig")

    def line_of_type(self, ptype: str) -> int:
        """Best effort: the line of the first ``"type": "<ptype>"`` in the file (else 1)."""
        found = re.search(rf'"type"\s*:\s*{re.escape(json.dumps(ptype))}', self.text_source)
        return self.text_source.count("\n", 0, found.start()) + 1 if found else 1

    def build(self, doc: Any) -> Action | None:
        """The action a parsed document describes, or ``None`` when it has an error."""
        if not isinstance(doc, dict):
            self.error(
                "",
                f"the file must hold a JSON object, got {json_type(doc)}",
                hint="one action per file: an object with slug, action_id, name, parameters",
            )
            return None
        slug = self.text(doc, "slug", "", required=True)
        action_id = self.text(doc, "action_id", "", required=True)
        if slug is not None and action_id is not None:
            self.action_key = f"{slug}/{action_id}"
        self.place(slug, action_id)
        extends = doc.get("extends", False)
        if extends is True:
            self.extending = True
            return self.build_extension(doc)
        if extends is not False:
            self.error(
                "/extends",
                f"'extends' must be true or false, got {extends!r:.60}",
                field="extends",
                hint='"extends": true adds this file\'s examples to the action the folders before '
                "it hold (the built-in one); leave it out to give the whole action",
            )
        name = self.text(doc, "name", "", required=True)
        description = self.text(doc, "description", "", required=False) or ""
        tag = self.text(doc, "tag", "", required=False)
        for key in () if doc.keys() <= _ACTION_KEY_SET else doc:
            if key not in _ACTION_KEY_SET:
                self.error(
                    f"/{_escape(key)}",
                    f"unknown key {key!r}",
                    field=key,
                    hint=_allowed_keys_hint(key, _ACTION_KEYS),
                )
        access: Access | None = None
        declared = doc.get("access")
        if declared is not None:
            if declared in ("read", "write"):
                access = declared
            else:
                self.error(
                    "/access",
                    f"access must be 'read' or 'write', got {declared!r}",
                    field="access",
                    hint="or leave it out and let the name decide",
                )
        position = self.position(doc.get("position"))
        evidence = self.evidence(doc.get("evidence"))
        parameters = self.parameters(doc.get("parameters"))
        read_when = self.read_when(doc.get("read_when"), parameters, access)
        state_raw = doc.get("state")
        state = self.state(state_raw, parameters) if state_raw is not None else None
        examples_raw = self.examples_list(doc)
        # Problems above do not stop the examples being checked: lint reports them all at once.
        action = Action(
            slug=slug or self.slug,
            action_id=action_id or self.path.stem,
            name=name or "",
            description=description,
            tag=tag,
            access=access or access_from_name(action_id or self.path.stem),
            access_declared=access is not None,
            read_when=read_when,
            parameters=tuple(parameters),
            path=self.path,
            position=position,
            evidence=evidence,
            state=state,
        )
        examples = [self.example(action, i, e) for i, e in enumerate(examples_raw)]
        if self.problems:
            return None
        # The action has not left the builder yet; setting the field beats a second __init__.
        object.__setattr__(action, "examples", tuple(e for e in examples if e))
        return action

    def build_extension(self, doc: Mapping[str, Any]) -> Action | None:
        """The base action with an extending file's examples added (``"extends": true``).

        The file holds ``slug``, ``action_id``, ``"extends": true``, ``examples`` and
        optionally ``evidence`` (``reply``, ``sources``, ``notes``: where its examples come
        from); everything else (name, parameters, access, state block) is the base action's,
        and the file may not give it. Its examples are checked against the base action's
        parameters, then added after the base's: one whose params equal a base example's
        takes that example's place.
        """
        for key in doc:
            if key in _EXTENDING_KEYS:
                continue
            if key in _ACTION_KEY_SET:
                self.error(
                    f"/{_escape(key)}",
                    f"an extending file adds examples only: {key!r} comes from the action it "
                    "extends",
                    field=key,
                    hint=f'drop {key!r}; to change it, leave out "extends" and give the '
                    "whole action (copy the base file, state block included)",
                )
            else:
                self.error(
                    f"/{_escape(key)}",
                    f"unknown key {key!r}",
                    field=key,
                    hint=_allowed_keys_hint(key, _EXTENDING_KEYS),
                )
        raw_evidence = doc.get("evidence")
        parts = (
            self.evidence_parts(raw_evidence, _EXTENDING_EVIDENCE_KEYS)
            if raw_evidence is not None
            else None
        )
        examples_raw = self.examples_list(doc)
        base = self.base
        if base is None:
            self.error(
                "/extends",
                f"extends {self.action_key or self.slug + '/' + self.path.stem}, but no "
                "catalogue folder before this one holds that action",
                field="extends",
                hint="check the slug and the action_id against `refold-contract actions "
                "--offline`; put the folder holding the action before this one (the built-in "
                'catalogue always comes first), or leave out "extends" and give the whole '
                "action (name, parameters)",
            )
            return None
        added = [self.example(base, i, e) for i, e in enumerate(examples_raw)]
        if self.problems:
            return None
        evidence = base.evidence
        if parts is not None:
            rated, sources, notes = parts
            evidence = extended_evidence(base.evidence, rated["reply"], sources, notes)
        return dataclasses.replace(
            base,
            examples=extended_examples(base.examples, [e for e in added if e]),
            path=self.path,
            base_path=base.base_path or base.path,
            evidence=evidence,
        )

    def examples_list(self, doc: Mapping[str, Any]) -> list[Any]:
        """The ``"examples"`` array (empty when absent; reported when not an array)."""
        examples_raw = doc.get("examples", [])
        if not isinstance(examples_raw, list):
            self.error(
                "/examples",
                f"'examples' must be an array, got {json_type(examples_raw)}",
                field="examples",
                hint='use "examples": [] for an action with no recorded reply',
            )
            return []
        return examples_raw

    def place(self, slug: str | None, action_id: str | None) -> None:
        """The slug must match the file's folder, and the action id its name."""
        if slug is not None and slug != self.slug:
            self.error(
                "/slug",
                f"slug {slug!r} does not match its folder {self.slug!r}",
                field="slug",
                hint=f"move the file to {slug}/ or fix the slug",
            )
        if action_id is not None and action_id != self.path.stem:
            self.error(
                "/action_id",
                f"action_id {action_id!r} does not match the file name {self.path.name!r}",
                field="action_id",
                hint=f"rename the file to {action_id}.json or fix the action_id",
            )

    def read_when(
        self, raw: Any, parameters: Sequence[Parameter], access: Access | None
    ) -> tuple[ReadWhen, ...]:
        """The ``"read_when"`` object: the parameters that make a write-by-default action a
        read, each named in the schema, every problem reported below ``/read_when``."""
        if raw is None:
            return ()
        hint = (
            '"read_when": {"method": ["GET", "HEAD"]}, {"query": "select"} or '
            '{"query": "graphql-query"}: a parameter of the schema, and what it must be'
        )
        if not isinstance(raw, dict) or not raw:
            self.error(
                "/read_when",
                f"'read_when' must be a non-empty object, got {json_type(raw)}",
                field="read_when",
                hint=hint,
            )
            return ()
        if access is None:
            self.error(
                "/read_when",
                "an action with 'read_when' must declare its access: \"read\" where it mostly "
                'reads (a query action), "write" where it mostly writes (httprequest); either '
                "way it goes live only when its parameters meet every condition",
                field="read_when",
                hint='add "access": "read" or "access": "write" to the file',
            )
        names = {p.name for p in parameters}
        found: list[ReadWhen] = []
        for name, condition in raw.items():
            pointer = f"/read_when/{_escape(name)}"
            if name not in names:
                self.error(
                    pointer,
                    f"read_when names {name!r}, which is not a parameter of the action",
                    field="read_when",
                    hint="name a parameter the action's schema lists",
                )
                continue
            if condition in ("select", "graphql-query"):
                found.append(ReadWhen(name, condition))
            elif (
                isinstance(condition, list)
                and condition
                and all(isinstance(v, str) and v.strip() for v in condition)
            ):
                found.append(ReadWhen(name, "one_of", tuple(condition)))
            else:
                self.error(
                    pointer,
                    f'read_when.{name} must be a non-empty array of strings, "select" or '
                    f'"graphql-query", got {condition!r:.60}',
                    field="read_when",
                    hint=hint,
                )
        return tuple(found)

    def state(self, raw: Any, parameters: Sequence[Parameter]) -> StateBlock | None:
        """The ``"state"`` block, every problem reported below ``/state``."""

        def report(pointer: str, message: str, hint: str) -> None:
            self.error(f"/state{pointer}", message, field="state", hint=hint)

        return parse_state(raw, parameters={p.name: p for p in parameters}, report=report)

    def position(self, raw: Any) -> int | None:
        """The action's place in Refold's documented list (from 1), if given."""
        if raw is None:
            return None
        if type(raw) is not int or raw < 1:
            self.error(
                "/position",
                f"'position' must be a whole number from 1, got {raw!r}",
                field="position",
                hint="the action's place in Refold's documented list for its app (1 is first); "
                "leave it out for an action Refold does not list",
            )
            return None
        return raw

    def evidence(self, raw: Any) -> Evidence | None:
        """The ``"evidence"`` object: a level for the schema and the reply, and the sources."""
        if raw is None:
            if self.require_evidence:
                self.error(
                    "/evidence",
                    "a built-in action must say where its facts come from: no 'evidence'",
                    field="evidence",
                    hint='add "evidence": {"schema": LEVEL, "reply": LEVEL, "sources": [...]}'
                    f" with LEVEL one of {', '.join(EVIDENCE_LEVELS)}",
                )
            return None
        parts = self.evidence_parts(raw, _EVIDENCE_KEYS)
        if parts is None:
            return None
        rated, sources, notes = parts
        return Evidence(rated["schema"], rated["reply"], sources, notes)

    def evidence_parts(
        self, raw: Any, keys: Sequence[str]
    ) -> tuple[dict[str, EvidenceLevel], tuple[str, ...], str | None] | None:
        """An evidence object's levels (those of ``schema`` and ``reply`` that ``keys`` allow,
        each required), sources and notes; ``None`` when it has an error."""
        levels = ", ".join(EVIDENCE_LEVELS)
        shown = ", ".join(f'"{k}": LEVEL' for k in keys if k in ("schema", "reply"))
        if not isinstance(raw, dict):
            self.error(
                "/evidence",
                f"'evidence' must be an object, got {json_type(raw)}",
                field="evidence",
                hint="{" + shown + ', "sources": [...], "notes": "..."}',
            )
            return None
        for key in raw:
            if key not in keys:
                self.error(
                    f"/evidence/{_escape(key)}",
                    f"unknown key {key!r} in evidence"
                    + (
                        ": an extending file keeps the schema of the action it extends"
                        if key == "schema"
                        else ""
                    ),
                    field="evidence",
                    hint=_allowed_keys_hint(key, keys),
                )
        wanted = [k for k in ("schema", "reply") if k in keys]
        rated: dict[str, EvidenceLevel] = {}
        for key in wanted:
            value = raw.get(key)
            if value in EVIDENCE_LEVELS:
                rated[key] = value
            else:
                self.error(
                    f"/evidence/{key}",
                    f"evidence {key!r} must be one of {levels}, got {value!r}"
                    if value is not None
                    else f"evidence has no {key!r}",
                    field="evidence",
                    hint="refold-docs: Refold's pages show it; observed: seen from the live API; "
                    "app-docs: from the app's API reference; assumed: no source",
                )
        sources = raw.get("sources")
        good_sources = isinstance(sources, list) and all(
            isinstance(s, str) and s.strip() for s in sources
        )
        if not good_sources:
            self.error(
                "/evidence/sources",
                "evidence 'sources' must be an array of URLs or citations (strings)",
                field="evidence",
                hint='e.g. "sources": ["https://docs.refold.ai/..."]',
            )
        elif not sources and any(level != "assumed" for level in rated.values()):
            self.error(
                "/evidence/sources",
                "evidence names no source for a level other than 'assumed'",
                field="evidence",
                hint="add the page or observation each level rests on, or rate it 'assumed'",
            )
        notes = raw.get("notes")
        bad_notes = notes is not None and not isinstance(notes, str)
        if bad_notes:
            self.error(
                "/evidence/notes",
                f"evidence 'notes' must be a string, got {json_type(notes)}",
                field="evidence",
                hint="say in words where sources disagree and what was chosen",
            )
        if len(rated) < len(wanted) or not good_sources or bad_notes:
            return None
        assert isinstance(sources, list)
        return rated, tuple(sources), notes

    def example(self, action: Action, i: int, raw: Any) -> Example | None:
        """Example ``i``: its params checked against the action, its reply's shape checked."""
        pointer = f"/examples/{i}"
        if not isinstance(raw, dict):
            self.error(
                pointer,
                f"an example must be an object, got {json_type(raw)}",
                hint='{"params": {...}, "response": {"node_status": ..., "data": ...}}',
            )
            return None
        for key in raw:
            if key not in _EXAMPLE_KEYS:
                self.error(
                    f"{pointer}/{_escape(key)}",
                    f"unknown key {key!r} in an example",
                    hint=_allowed_keys_hint(key, sorted(_EXAMPLE_KEYS)),
                )
        params = raw.get("params")
        response = raw.get("response")
        if not isinstance(params, dict):
            self.error(
                f"{pointer}/params",
                "'params' must be an object (the request body)",
                hint='use "params": {} for a call with no parameters',
            )
            params = None
        if not isinstance(response, dict):
            self.error(
                f"{pointer}/response",
                '\'response\' must be an object like {"node_status": "Success", "data": {...}}',
                hint="the execute reply as Refold sent it",
            )
            response = None
        else:
            self.response(pointer, response)
        if params is not None:
            self.example_params(action, pointer, params)
        match = self.example_match(action, pointer, raw.get("match", {}))
        source = raw.get("source", "")
        recorded_at = raw.get("recorded_at")
        ex_name = raw.get("name")
        if not isinstance(source, str):
            self.error(
                f"{pointer}/source",
                f"'source' must be a string, got {json_type(source)}",
                hint="say where the reply came from: a page, an API reference, 'recorded'",
            )
            return None
        if params is None or response is None:
            return None
        return Example(
            params=params,
            response=response,
            source=source,
            recorded_at=recorded_at if isinstance(recorded_at, str) else None,
            name=ex_name if isinstance(ex_name, str) else None,
            match=match,
        )

    def example_match(self, action: Action, pointer: str, raw: Any) -> dict[str, str]:
        """An example's match rules: ``{"<param>": "any" | "present"}``, each a param the
        action's schema names."""
        hint = '{"match": {"after": "any"}}: "any" (any value, or none) or "present" (any value)'
        if not isinstance(raw, dict):
            self.error(f"{pointer}/match", f"'match' must be an object, got {json_type(raw)}",
                       hint=hint)  # fmt: skip
            return {}
        out: dict[str, str] = {}
        for name, rule in raw.items():
            where = f"{pointer}/match/{_escape(name)}"
            if rule not in MATCH_RULES:
                self.error(where, f"match rule for {name!r} must be 'any' or 'present', got "
                           f"{rule!r}", hint=hint)  # fmt: skip
            elif action.parameters and name not in action.parameter_map:
                self.error(where, f"{name!r} is not a parameter of {action.key}",
                           hint="parameters: " + ", ".join(action.parameter_map))  # fmt: skip
            else:
                out[name] = rule
        return out

    def response(self, pointer: str, response: Mapping[str, Any]) -> None:
        """An example reply has a ``node_status``, ``data``, and an integer ``http_status``."""
        status = response.get(ep.KEY_NODE_STATUS)
        if not isinstance(status, str) or not status:
            self.error(
                f"{pointer}/response/node_status",
                "'node_status' must be a non-empty string such as 'Success' or 'Errored'",
                hint='add "node_status": "Success" (or "Errored" for a failure inside the app)',
            )
        if ep.KEY_DATA not in response:
            self.error(
                f"{pointer}/response/data",
                "missing 'data' (the app's native reply; null if it has none)",
                hint='add "data": null when the app answered with no body',
            )
        http_status = response.get(ep.KEY_HTTP_STATUS)
        if http_status is not None and (
            not isinstance(http_status, int) or isinstance(http_status, bool)
        ):
            self.error(
                f"{pointer}/response/http_status",
                f"'http_status' must be an integer, got {json_type(http_status)}",
                hint="the connected app's own HTTP status, e.g. 200; or leave it out",
            )

    def example_params(self, action: Action, pointer: str, params: Mapping[str, Any]) -> None:
        """Refold's own rule (required keys present) is an error; the strict extras warn.

        Refold accepts keys its schema does not name and checks no types, so a recorded body
        with either still loads; lint warns, since the strict mock would refuse it.
        """
        for problem in action.check(params, strict=True):
            where = f"{pointer}/params" + (f"/{_escape(problem.field)}" if problem.field else "")
            if problem.kind == "unknown_key":
                self.warning(
                    where,
                    f"example params name a key the schema does not: {problem.message}",
                    field=problem.field,
                    hint=f"Refold accepts extra keys, so the example loads; add {problem.field!r} "
                    "to the parameters if the action takes it, or drop it from the example",
                )
            elif problem.kind == "wrong_type":
                self.warning(
                    where,
                    f"example param is not of its declared type: {problem.message}",
                    field=problem.field,
                    hint="Refold checks no types, so the example loads; fix the value or the "
                    "parameter's type (the strict mock refuses this body)",
                )
            else:
                self.error(
                    where,
                    f"example params fail the action's own check: {problem.message}",
                    field=problem.field,
                    hint="make the example's params match the parameters list",
                )


def extended_examples(base: Sequence[Example], added: Sequence[Example]) -> tuple[Example, ...]:
    """The examples of an extended action: the base's, then the added ones; an added example
    whose params equal a base example's takes that example's place (so the first successful
    example, the default reply, changes only when an added one replaces it).

    Example::

        extended_examples(base.examples, [Example(params={"limit": "1"}, response=reply)])
    """
    out = list(base)
    where: dict[str, int] = {}
    for i, example in enumerate(base):
        where.setdefault(example.key, i)
    for example in added:
        at = where.pop(example.key, None)
        if at is None:
            out.append(example)
        else:
            out[at] = example
    return tuple(out)


def extended_evidence(
    base: Evidence | None, reply: EvidenceLevel, sources: Sequence[str], notes: str | None
) -> Evidence:
    """The evidence of an extended action: the base's schema level (``assumed`` when the base
    gives none), the less trusted of the two reply levels (the examples now hold both), the
    sources of both, and both notes.

    Example::

        extended_evidence(base.evidence, "observed", ["recorded 2026-01-05"], None).reply
    """
    if base is None:
        return Evidence("assumed", reply, tuple(sources), notes)
    worst = max(base.reply, reply, key=Evidence.rank)
    joined = tuple(dict.fromkeys((*base.sources, *sources)))
    both = "\n".join(n for n in (base.notes, notes) if n) or None
    return Evidence(base.schema, worst, joined, both)


def load_action(
    path: str | Path,
    *,
    slug: str | None = None,
    base: Action | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Action:
    """Load one action file; raise :class:`CatalogueError` for its first error.

    What lint would only warn about (example params the schema does not name or of another
    type) does not stop the load. An unknown field type loads as text with one
    :class:`~refold_contract.errors.UnknownFieldType` warning located at the file. ``base``
    is the action an extending file (``"extends": true``) adds its examples to; without one,
    such a file is an error.

    Example::

        load_action("fixtures/hubspot/get_contact.json")
        builtin = Catalogue.builtin().get("hubspot", "get_contact")
        load_action("mine/hubspot/get_contact.json", base=builtin)   # "extends": true
    """
    path = Path(path)
    builder = ActionBuilder(path, slug, base=base)
    action = builder.run(max_depth=max_depth, max_bytes=max_bytes)
    if builder.problems:
        raise builder.problems[0]
    if builder.unknown_types:
        warnings.warn_explicit(
            builder.unknown_types_message(),
            UnknownFieldType,
            str(path),
            builder.line_of_type(builder.unknown_types[0][1]),
        )
    assert action is not None
    return action


def suggest_base(
    problem: CatalogueError, slug: str, action_id: str, beneath: Iterable[tuple[str, str]]
) -> CatalogueError:
    """``problem`` with close names in its hint when it says an extending file has nothing
    beneath it (a misspelt action id, a slug in the wrong folder); else ``problem`` as it is.

    Example::

        suggest_base(exc, "hubspot", "search_contact", catalogue_keys).hint
        # "did you mean hubspot/search_contacts? check the slug and the action_id ..."
    """
    if problem.pointer != "/extends" or "holds that action" not in problem.message:
        return problem
    keys = list(beneath)
    same_app = [a for s, a in keys if s == slug]
    if same_app:  # a misspelt action id
        close = [f"{slug}/{a}" for a in difflib.get_close_matches(action_id, same_app, cutoff=0.8)]
    else:  # a misspelt app: the folder's name
        slugs = sorted({s for s, a in keys if a == action_id})
        close = [f"{s}/{action_id}" for s in difflib.get_close_matches(slug, slugs, cutoff=0.6)]
    if close:
        problem.hint = f"did you mean {', '.join(close)}? " + (problem.hint or "")
    return problem
