"""The consumer-contract commands of ``refold-contract``: verify, and contract merge.

A consumer contract is what ``pytest --refold-consumer-contract PATH`` writes: the actions a
project's tests call, the parameters they send and the reply paths their code reads.

Example::

    $ refold-contract verify refold-consumer.json
    $ refold-contract contract merge worker-*.json -o refold-consumer.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from refold_contract.catalogue import Catalogue
from refold_contract.cli.context import project_fixtures, working_credentials
from refold_contract.cli.options import add_fixtures
from refold_contract.errors import ActionNotFound, ApplicationNotFound, RefoldError

__all__ = ["add_contract_commands"]


def _verify(args: argparse.Namespace) -> int:
    from refold_contract.consumer import verify_command

    # The project's own catalogue folders (its refold_fixtures ini key) first, as the plugin.
    fixtures = [*project_fixtures(Path.cwd()), *(Path(f) for f in args.fixtures)]
    if not args.live:
        return verify_command(args.path, fixtures=fixtures, as_json=args.json)
    from refold_contract.consumer import ConsumerContract
    from refold_contract.live.gateway import GatewayConfig, GatewayProcess

    settings, credentials = working_credentials(args.base_url, "verify --live needs")
    from refold_contract.client import RefoldClient

    contract = ConsumerContract.load(args.path)
    catalogue = Catalogue.load(*fixtures, include_builtin=True)
    folders = tuple(str(Path(f).resolve()) for f in fixtures)
    # Reads only, and through the read-only gateway: this command never holds a client that
    # could send a write with the working credentials.
    with (
        GatewayProcess.start(GatewayConfig(upstream=settings.base_url, fixtures=folders),
                             credentials) as gateway,
        RefoldClient(api_key="tk_refold_contract_placeholder", linked_account_id=(
            settings.linked_account_id), base_url=gateway.url, read_only=True,
            catalogue=catalogue, env={}) as client,
    ):  # fmt: skip

        def fetch(action: Any) -> list[Any]:
            entry = contract.find(action.slug, action.action_id)
            always = set(entry.always_sent or ()) if entry is not None else set()
            examples = [e for e in action.examples if always <= set(e.params)]
            params = dict(examples[0].params) if examples else {}
            try:
                return [client.execute(action.slug, action.action_id, params, check=False).json()]
            except (ActionNotFound, ApplicationNotFound):
                raise  # gone live: a breaking finding
            except RefoldError as exc:
                print(f"refold-contract: {action.key}: not fetched: {exc}", file=sys.stderr)
                return []

        return verify_command(args.path, fixtures=fixtures, as_json=args.json, live=fetch)


def _contract_merge(args: argparse.Namespace) -> int:
    from refold_contract.consumer import merge_command

    return merge_command(args.paths, args.output)


def add_contract_commands(sub: Any) -> None:
    """Register ``verify`` and ``contract merge`` (consumer contracts) on the parser.

    Example::

        sub = parser.add_subparsers()
        add_contract_commands(sub)
    """
    ver = sub.add_parser(
        "verify",
        help="check a consumer contract against the catalogue (or live): exit 1 if it breaks",
        description="Check a consumer contract (written by pytest --refold-consumer-contract "
        "PATH): does every action still exist, every parameter your tests send, is any "
        "parameter newly required that they do not always send, and do the replies still carry "
        "every path your code reads, with the same JSON type? Against the catalogue's examples "
        "(offline), or with --live against real replies, reads only, through the read-only "
        "gateway. Prints breaking and non-breaking findings; exits 1 on a breaking one.",
    )
    ver.add_argument("path", metavar="PATH", help="the consumer contract (JSON)")
    add_fixtures(ver)
    ver.add_argument(
        "--live",
        action="store_true",
        help="check against live replies (read actions only; credentials from REFOLD_API_KEY "
        "and REFOLD_LINKED_ACCOUNT_ID)",
    )
    ver.add_argument("--base-url", default=None, metavar="URL", help="Refold's base URL, --live")
    ver.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ver.set_defaults(func=_verify)

    con = sub.add_parser(
        "contract",
        help="work with consumer contracts: merge",
        description="Consumer contracts, as pytest --refold-consumer-contract writes them.",
    )
    con_sub = con.add_subparsers(dest="contract_command", metavar="COMMAND")
    con_sub.required = True
    mer = con_sub.add_parser(
        "merge",
        help="merge contracts: union of paths read, intersection of parameters always sent",
        description="Merge consumer contracts from several runs or xdist workers: the paths "
        "read are joined, the parameters always sent are those every contract always sends.",
    )
    mer.add_argument("paths", nargs="+", metavar="CONTRACT")
    mer.add_argument("-o", "--output", required=True, metavar="PATH", help="where to write")
    mer.set_defaults(func=_contract_merge)
