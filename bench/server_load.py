"""``refold-contract serve`` under load, against bare apps on the same servers, like for like.

Four servers, each in its own process, one at a time: ``serve`` on its default server (granian
when the fast extra is installed), ``serve --server uvicorn``, and two bare apps that answer
every request with the same constant bytes the mock sends for ``hubspot/get_contact``: one on
uvicorn, one on granian run as ``serve`` runs it (embedded, one worker). The load comes from
``_load.py`` in a process of its own: 16 keep-alive connections (like wrk, which is not needed),
each sending the next request once the reply is whole, for ``--seconds``. Rounds rotate which
server goes first. Each round prints ratios of requests per second measured in that round, and
serve's p99 latency, so a journal or log that grows shows up as a p99 that climbs.

Targets: serve (default server) / bare uvicorn at least 1.0x; each serve / the bare app on the
same server at least 0.7x; p99 at most 50 ms and flat.

    python bench/server_load.py [--rounds 3] [--seconds 8] [--connections 16] [--access-log]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import free_port

PATH = "/api/v2/integration-schema/hubspot/actions/get_contact/execute"
BODY = '{"limit":"1"}'
HEADERS = ["x-api-key: tk_bench", "linked_account_id: acct_bench"]
BARE = """
import asyncio, signal, sys
from refold_contract.mock import RefoldMock
from refold_contract.mock.emulator import Emulator
action = RefoldMock().catalogue.get("hubspot", "get_contact")
body = Emulator(RefoldMock().catalogue).replay(action, '{"limit":"1"}')[0].body
headers = [(b"content-type", b"application/json; charset=utf-8"),
           (b"content-length", str(len(body)).encode())]

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})

port = int(sys.argv[2])
if sys.argv[1] == "uvicorn":
    import uvicorn
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
else:
    # As serve runs it: granian's embedded server, one worker, on this process's loop.
    from granian.constants import Interfaces
    from granian.server.embed import Server
    server = Server(app, address="127.0.0.1", port=port, interface=Interfaces.ASGINL,
                    websockets=False, log_level="error")

    async def main():
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, server.stop)
        await server.serve()

    asyncio.run(main())
"""


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listened on {port}")


def load(port: int, args: argparse.Namespace) -> tuple[float, float]:
    """Requests per second and p99 latency (ms), from the load generator's own process."""
    command = [sys.executable, str(Path(__file__).with_name("_load.py")), str(port), PATH, BODY,
               "--seconds", str(args.seconds), "--connections", str(args.connections)]  # fmt: skip
    for header in HEADERS:
        command += ["--header", header]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate, _, p99, errors = out.split()
    if int(errors):
        raise SystemExit(f"{errors} replies were not 2xx on port {port}")
    return float(rate), float(p99)


def run(command: list[str], port: int, args: argparse.Namespace) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFOLD_")}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(port)
        return load(port, args)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--access-log", action="store_true", help="serve with its access log")
    args = parser.parse_args()
    granian = importlib.util.find_spec("granian") is not None
    default = "granian" if granian else "uvicorn"
    with tempfile.TemporaryDirectory() as tmp:
        bare_file = Path(tmp, "bare.py")
        bare_file.write_text(BARE)

        def serve(port: int, *server: str) -> list[str]:
            command = [sys.executable, "-m", "refold_contract.cli", "serve", "--port", str(port)]
            return [*command, *server, *([] if args.access_log else ["--no-access-log"])]

        commands = {
            "serve": lambda port: serve(port),
            "serve uvicorn": lambda port: serve(port, "--server", "uvicorn"),
            "bare uvicorn": lambda port: [sys.executable, str(bare_file), "uvicorn", str(port)],
        }
        if granian:
            commands["bare granian"] = lambda port: [
                sys.executable, str(bare_file), "granian", str(port)
            ]  # fmt: skip
        print(f"{args.connections} keep-alive connections, {args.seconds} s each, POST {PATH}; "
              f"serve's default server here: {default}; serve "
              f"{'with' if args.access_log else 'without'} its access log")  # fmt: skip
        names = list(commands)
        ratios: dict[str, list[float]] = {}
        for i in range(args.rounds):
            rate: dict[str, float] = {}
            p99: dict[str, float] = {}
            for name in names[i % len(names) :] + names[: i % len(names)]:
                port = free_port()
                rate[name], p99[name] = run(commands[name](port), port, args)
            pairs = [(f"serve ({default}, default) / bare uvicorn", "serve", "bare uvicorn")]
            if granian:
                pairs.append(("serve (granian) / bare granian", "serve", "bare granian"))
            pairs.append(("serve --server uvicorn / bare uvicorn", "serve uvicorn", "bare uvicorn"))
            print(f"round {i + 1}: " + ", ".join(f"{n} {rate[n]:.0f}" for n in names) + " req/s")
            for label, ours, theirs in pairs:
                ratios.setdefault(label, []).append(rate[ours] / rate[theirs])
                print(f"  {label}: {rate[ours] / rate[theirs]:.2f}x")
            print(f"  p99: serve {p99['serve']:.1f} ms, serve uvicorn {p99['serve uvicorn']:.1f} "
                  f"ms, bare uvicorn {p99['bare uvicorn']:.1f} ms")  # fmt: skip
        print("median over rounds: " + "; ".join(
            f"{label} {statistics.median(values):.2f}x" for label, values in ratios.items()
        ))  # fmt: skip
        print("targets: serve (default) / bare uvicorn >= 1.0x; serve / bare app on the same "
              "server >= 0.7x; serve p99 <= 50 ms and flat from round to round")  # fmt: skip


if __name__ == "__main__":
    main()
