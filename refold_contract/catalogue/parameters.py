"""Parsing an action's parameter list: every descriptor checked, every problem collected.

:class:`ParameterBuilder` is the part of the catalogue loader that reads the ``"parameters"``
array (of a catalogue file, or of a live schema reply, through :func:`parse_parameters`) into
:class:`~refold_contract.catalogue.model.Parameter` objects. It collects errors (the file does
not load) and warnings (lint reports them, the loader accepts them) located by JSON pointer;
:class:`~refold_contract.catalogue.builder.ActionBuilder` builds the rest of an action on it.

Example::

    parse_parameters([{"name": "email", "type": "text", "required": True}], where="reply")
    # [Parameter(name='email', label='', required=True, type='text', ...)]
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from refold_contract._core import endpoint as ep
from refold_contract._core.json import allowed_keys_hint as _allowed_keys_hint
from refold_contract._core.json import json_type
from refold_contract._core.json import pointer_escape as _escape
from refold_contract.catalogue.model import FIELD_TYPES, Option, Parameter
from refold_contract.errors import CatalogueError, ProtocolError, UnknownFieldType

__all__ = ["ParameterBuilder", "parse_parameters"]

_PLAIN_PARAMETER_KEYS = frozenset({"name", "label", "required", "type", "placeholder", "help_text"})
_PARAMETER_KEYS = _PLAIN_PARAMETER_KEYS | {"multiple", "options"}
_UNKNOWN_TYPE_HINT = (
    "use one of " + ", ".join(sorted(FIELD_TYPES)) + "; unknown types are validated as text"
)


class ParameterBuilder:
    """Collects a file's problems and turns its ``"parameters"`` array into parameters.

    ``problems`` are errors (the file does not load); ``warnings`` are what lint reports but
    the loader accepts; ``unknown_types`` are the ``(name, declared type)`` of parameters whose
    type refold-contract does not know (they are validated as text).

    Example::

        builder = ParameterBuilder(Path("reply"), slug="")
        builder.parameters([{"name": "q", "type": "text"}, {"name": "q", "type": "text"}])
        builder.problems[0].message    # "duplicate parameter name 'q' (first at /parameters/0)"
    """

    def __init__(self, path: Path, slug: str | None = None) -> None:
        self.path = path
        self.slug = slug if slug is not None else path.parent.name
        self.problems: list[CatalogueError] = []
        self.warnings: list[CatalogueError] = []
        self.action_key: str | None = None
        self.unknown_types: list[tuple[str, str]] = []  # (parameter name, declared type)

    def unknown_types_message(self) -> str:
        """The one warning's text for every parameter of an unknown field type."""
        listed = ", ".join(f"{name!r} ({ptype!r})" for name, ptype in self.unknown_types)
        return f"unknown field type for parameter(s) {listed}; treated as text"

    def error(
        self,
        pointer: str,
        message: str,
        *,
        field: str | None = None,
        hint: str | None = None,
        severity: Literal["error", "warning"] = "error",
    ) -> None:
        """Record a problem at ``pointer``: an error (the file does not load) or a warning."""
        problem = CatalogueError(
            message,
            path=str(self.path),
            pointer=pointer,
            action=self.action_key,
            field=field,
            hint=hint,
            severity=severity,
        )
        (self.warnings if severity == "warning" else self.problems).append(problem)

    def warning(
        self, pointer: str, message: str, *, field: str | None = None, hint: str | None = None
    ) -> None:
        """Record a problem lint reports but the loader accepts."""
        self.error(pointer, message, field=field, hint=hint, severity="warning")

    def text(self, doc: Mapping[str, Any], key: str, pointer: str, *, required: bool) -> str | None:
        """``doc[key]`` if it is a string (non-empty when ``required``), else ``None`` reported."""
        value = doc.get(key)
        if value is None:
            if required:
                self.error(
                    f"{pointer}/{key}",
                    f"missing required key {key!r}",
                    field=key,
                    hint=f'add "{key}": "..."',
                )
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.error(
                f"{pointer}/{key}",
                f"{key!r} must be a non-empty string, got {json_type(value)}"
                if required
                else f"{key!r} must be a string, got {json_type(value)}",
                field=key,
                hint=f'write it as "{key}": "..."',
            )
            return None
        return value

    def parameters(self, raw: Any) -> list[Parameter]:
        """The ``"parameters"`` array parsed; a duplicate or broken descriptor is left out."""
        if raw is None:
            self.error(
                "/parameters",
                "missing required key 'parameters'",
                field="parameters",
                hint='add "parameters": [] for an action that takes none',
            )
            return []
        if not isinstance(raw, list):
            self.error(
                "/parameters",
                f"'parameters' must be an array, got {json_type(raw)}",
                field="parameters",
                hint='a list of {"name", "label", "required", "type"} objects',
            )
            return []
        out: list[Parameter] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(raw):
            param = self._fast_parameter(item) or self._parameter(item, i)
            if param is None:
                continue
            if param.name in seen:
                self.error(
                    f"/parameters/{i}/name",
                    f"duplicate parameter name {param.name!r} (first at "
                    f"/parameters/{seen[param.name]})",
                    field=param.name,
                    hint="each parameter name may appear once",
                )
                continue
            seen[param.name] = i
            if param.type not in FIELD_TYPES:
                self.unknown_types.append((param.name, param.type))
                self.warning(
                    f"/parameters/{i}/type",
                    f"unknown field type {param.type!r} for parameter {param.name!r}; "
                    "it is validated as text",
                    field=param.name,
                    hint=_UNKNOWN_TYPE_HINT,
                )
            out.append(param)
        return out

    @staticmethod
    def _fast_parameter(item: Any) -> Parameter | None:
        """The common case, checked cheaply: plain name, type, label and required."""
        if type(item) is not dict:
            return None
        name = item.get("name")
        ptype = item.get("type")
        label = item.get("label", "")
        required = item.get("required", False)
        if (
            type(name) is str
            and name.strip()
            and type(ptype) is str
            and ptype.strip()
            and type(label) is str
            and type(required) is bool
            and item.keys() <= _PLAIN_PARAMETER_KEYS
        ):
            placeholder = item.get("placeholder")
            help_text = item.get("help_text")
            if (placeholder is not None and type(placeholder) is not str) or (
                help_text is not None and type(help_text) is not str
            ):
                return None
            # Loading speed: a frozen dataclass's __init__ costs ~2 us per field set through
            # object.__setattr__; filling the fresh instance's __dict__ is several times cheaper
            # and builds the same object (every field is set, defaults included).
            param = object.__new__(Parameter)
            param.__dict__.update(
                name=name,
                label=label,
                required=required,
                type=ptype,
                placeholder=placeholder,
                help_text=help_text,
                multiple=False,
                options=(),
                raw=item,
            )
            return param
        return None

    def _parameter(self, item: Any, i: int) -> Parameter | None:
        """Any parameter, every problem reported; a parameter with a name is kept for the
        example checks even when other keys are wrong, so they do not report it as unknown."""
        pointer = f"/parameters/{i}"
        if not isinstance(item, dict):
            self.error(
                pointer,
                f"a parameter must be an object, got {json_type(item)}",
                hint='{"name": "email", "label": "Enter Email", "required": true, "type": "text"}',
            )
            return None
        name = self.text(item, "name", pointer, required=True)
        ptype = self.text(item, "type", pointer, required=True)
        label = self.text(item, "label", pointer, required=False) or ""
        for key in ("placeholder", "help_text"):
            value = item.get(key)
            if value is not None and not isinstance(value, str):
                # A warning: the loader (and the client, for a live schema reply) drops it.
                self.warning(
                    f"{pointer}/{key}",
                    f"{key!r} must be a string, got {json_type(value)}; it is ignored",
                    field=name,
                    hint=f'write it as "{key}": "..."',
                )
        for key in item:
            if key not in _PARAMETER_KEYS:
                # A warning, not an error: a live schema may carry keys this project does not
                # know yet. A misspelt one ("requried") would otherwise change nothing, silently.
                self.warning(
                    f"{pointer}/{_escape(str(key))}",
                    f"unknown key {key!r} in a parameter; it is ignored",
                    field=name,
                    hint=_allowed_keys_hint(
                        str(key), sorted(_PARAMETER_KEYS), lead="a parameter takes"
                    ),
                )
        required = item.get("required", False)
        if not isinstance(required, bool):
            self.error(
                f"{pointer}/required",
                f"'required' must be true or false, got {json_type(required)}",
                field=name,
                hint=f'write "required": true or "required": false, not {json.dumps(required)}',
            )
        multiple = item.get("multiple", False)
        if not isinstance(multiple, bool):
            self.error(
                f"{pointer}/multiple",
                f"'multiple' must be true or false, got {json_type(multiple)}",
                field=name,
                hint='write "multiple": true for a field that takes a list of option values',
            )
        options = self.options(item.get("options"), pointer, name)
        if name is None:
            return None
        return Parameter(
            name=name,
            label=label,
            required=required is True,
            type=ptype or "text",
            placeholder=_opt_str(item.get("placeholder")),
            help_text=_opt_str(item.get("help_text")),
            multiple=multiple is True,
            options=options or (),
            raw=item,
        )

    def options(self, raw: Any, pointer: str, name: str | None) -> tuple[Option, ...] | None:
        """A parameter's ``"options"`` (``()`` when absent, ``None`` when malformed)."""
        if raw is None:
            return ()
        hint = 'e.g. "options": [{"name": "Equals", "value": "EQ"}]'
        if not isinstance(raw, list):
            self.error(
                f"{pointer}/options",
                "'options' must be an array of {name?, value}",
                field=name,
                hint=hint,
            )
            return None
        out = []
        for j, opt in enumerate(raw):
            if not isinstance(opt, dict) or "value" not in opt:
                self.error(
                    f"{pointer}/options/{j}",
                    "an option must be an object with a 'value'",
                    field=name,
                    hint=hint,
                )
                return None
            out.append(Option(value=opt["value"], name=_opt_str(opt.get("name"))))
        return tuple(out)


def parse_parameters(raw: Any, *, where: str) -> list[Parameter]:
    """Parse a schema reply (a bare parameter array) into :class:`Parameter` objects.

    Raises :class:`~refold_contract.errors.ProtocolError` when the reply is not the documented
    shape; an unknown field type gives one
    :class:`~refold_contract.errors.UnknownFieldType` warning.

    Example::

        parse_parameters([{"name": "email", "type": "text", "required": True}], where="reply")
    """
    builder = ParameterBuilder(Path(where), slug="")
    params = builder.parameters(raw)
    if builder.problems:
        first = builder.problems[0]
        raise ProtocolError(
            f"{where}: {first.message} at {first.pointer}",
            status_code=200,
            content_type=ep.JSON_CONTENT_TYPE,
            snippet=json.dumps(raw)[:200],
        )
    if builder.unknown_types:
        warnings.warn(
            f"{where}: {builder.unknown_types_message()}",
            UnknownFieldType,
            stacklevel=2,
        )
    return params


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
