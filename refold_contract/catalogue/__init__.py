"""The catalogue: action schemas and recorded replies, one JSON file per action.

A catalogue folder holds ``<slug>/<action_id>.json`` files (format in the README). Folders are
layered: :meth:`Catalogue.load` reads them in order and a later folder's entry replaces an earlier
one with the same slug and action id. The built-in catalogue ships inside the package.

Files are read with the strict, bounded JSON reader: only regular files, UTF-8 only, no NaN or
Infinity, at most ``max_depth`` levels of nesting and ``max_bytes`` bytes (defaults
:data:`DEFAULT_MAX_DEPTH` and :data:`DEFAULT_MAX_BYTES`). :meth:`Catalogue.lint_report` checks
more than the loader (duplicate keys, evidence, positions) and sorts what it finds into errors and
warnings.

The package is split by concern: :mod:`.model` (the dataclasses), :mod:`.files` (strict, bounded
reading and folder listing), :mod:`.parameters` and :mod:`.builder` (a file into an action),
:mod:`.lint` (every problem of a folder), :mod:`.collection` (:class:`Catalogue`), and
:mod:`.state` and :mod:`.template` (the ``"state"`` block the stateful sandbox runs).

Example::

    catalogue = Catalogue.load(Catalogue.builtin_path(), "tests/refold_fixtures")
    action = catalogue.get("hubspot", "create_contact")
    action.check({"firstname": "Ada"})   # [Problem(kind='missing_required', field='email', ...)]
"""

from __future__ import annotations

from refold_contract._core.json import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    canonical_json,
    json_type,
)
from refold_contract.access import Access, access_from_name
from refold_contract.catalogue.builder import load_action
from refold_contract.catalogue.collection import Catalogue
from refold_contract.catalogue.files import read_document
from refold_contract.catalogue.lint import LintReport, validate_file
from refold_contract.catalogue.model import (
    EVIDENCE_LEVELS,
    FIELD_TYPES,
    TEXT_TYPES,
    Action,
    Evidence,
    EvidenceLevel,
    Example,
    Option,
    Parameter,
    Problem,
)
from refold_contract.catalogue.parameters import parse_parameters

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "EVIDENCE_LEVELS",
    "FIELD_TYPES",
    "TEXT_TYPES",
    "Access",
    "Action",
    "Catalogue",
    "Evidence",
    "EvidenceLevel",
    "Example",
    "LintReport",
    "Option",
    "Parameter",
    "Problem",
    "access_from_name",
    "canonical_json",
    "json_type",
    "load_action",
    "parse_parameters",
    "read_document",
    "validate_file",
]
