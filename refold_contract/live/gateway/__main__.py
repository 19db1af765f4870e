"""``python -m refold_contract.live.gateway``: the gateway child process, started by the plugin."""

from refold_contract.live.gateway import child_main

raise SystemExit(child_main())
