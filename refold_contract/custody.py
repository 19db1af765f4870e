"""Moved to :mod:`refold_contract._guard.custody`; this name stays for existing imports (the
warning itself lives in :mod:`refold_contract.errors` with every other).

Example::

    import warnings
    from refold_contract.custody import CredentialKeptOut   # same as refold_contract.errors's

    warnings.simplefilter("error", CredentialKeptOut)
"""

from refold_contract._guard.custody import *  # noqa: F403
from refold_contract._guard.custody import __all__ as __all__
