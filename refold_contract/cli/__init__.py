"""The ``refold-contract`` command.

Its modules: :mod:`~refold_contract.cli.main` (the entry point), :mod:`~refold_contract.cli.parser`
(the argument parser), and one per command group: :mod:`~refold_contract.cli.catalogue_cmds`
(lint, test), :mod:`~refold_contract.cli.serve` (serve, gateway),
:mod:`~refold_contract.cli.contracts` (verify, contract merge), :mod:`~refold_contract.cli.live`
(actions, schema, pull, record, drift).

Example::

    $ refold-contract lint                 # the built-in catalogue
    $ refold-contract lint tests/refold_fixtures
"""

from __future__ import annotations

from refold_contract.cli.context import project_fixtures
from refold_contract.cli.main import main
from refold_contract.cli.parser import build_parser

__all__ = ["build_parser", "main", "project_fixtures"]
