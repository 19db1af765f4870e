"""Moved to :mod:`refold_contract.mock.server`; this name stays for existing imports.

Example::

    from refold_contract.server import running_server   # same as refold_contract.mock.server
"""

from refold_contract.mock.server import *  # noqa: F403
from refold_contract.mock.server import __all__ as __all__
