"""The ``"state"`` block of an action file: parsed into :class:`StateBlock`, every problem named.

:func:`parse_state` is what the catalogue loader and ``lint`` call for a file's ``"state"`` key;
the stateful sandbox reads the :class:`StateBlock` it returns. The model (the dataclasses and the
names of the format) is in :mod:`~refold_contract.catalogue.state.model`, the parsers in
:mod:`~refold_contract.catalogue.state.parts` (each part) and
:mod:`~refold_contract.catalogue.state.parse` (the block). The format is described in the
package docstring (:mod:`refold_contract.sandbox`).

Example::

    problems = []
    block = parse_state(raw, parameters={"contactId": ...},
                        report=lambda pointer, message, hint: problems.append(pointer))
    block.operation, block.object, block.id_param     # ('get', 'contacts', 'contactId')
"""

from __future__ import annotations

from refold_contract.catalogue.state.model import (
    CLOCKS,
    FILTER_OPS,
    ID_FORMATS,
    LIST_QUERY_LANGUAGES,
    NEXT_CURSOR_AT,
    OPERATIONS,
    PAGING_STYLES,
    VIEW_STYLES,
    FieldMap,
    Filter,
    Kinds,
    Operation,
    Paging,
    Parent,
    Properties,
    QuerySpec,
    RecordModel,
    Reply,
    Route,
    Search,
    SearchObject,
    Select,
    StateBlock,
    Template,
    View,
)
from refold_contract.catalogue.state.parse import parse_state
from refold_contract.catalogue.state.parts import Report

__all__ = [
    "CLOCKS",
    "FILTER_OPS",
    "ID_FORMATS",
    "LIST_QUERY_LANGUAGES",
    "NEXT_CURSOR_AT",
    "OPERATIONS",
    "PAGING_STYLES",
    "VIEW_STYLES",
    "FieldMap",
    "Filter",
    "Kinds",
    "Operation",
    "Paging",
    "Parent",
    "Properties",
    "QuerySpec",
    "RecordModel",
    "Reply",
    "Report",
    "Route",
    "Search",
    "SearchObject",
    "Select",
    "StateBlock",
    "Template",
    "View",
    "parse_state",
]
