"""``python -m refold_contract.cli``: the ``refold-contract`` command."""

from refold_contract.cli import main

raise SystemExit(main())
