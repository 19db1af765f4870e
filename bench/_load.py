"""A small HTTP/1.1 keep-alive load generator, for machines without wrk.

N connections, each sending the same request again as soon as the reply is whole (like wrk),
for a fixed time, on one asyncio loop in a process of its own. Prints one line: requests per
second, the p50 and p99 latency in milliseconds, and the count of non-2xx replies.

    python bench/_load.py PORT PATH BODY --seconds 8 --connections 16 [--header 'name: value']
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time


class _Connection(asyncio.Protocol):
    def __init__(self, request: bytes, stop_at: float, done: asyncio.Future[None]) -> None:
        self.request = request
        self.stop_at = stop_at
        self.done = done
        self.buffer = bytearray()
        self.latencies: list[float] = []
        self.errors = 0
        self.sent = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.sent = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            start = head.find(b"content-length:") + 15
            stop = head.find(b"\r\n", start)
            length = int(head[start : stop if stop >= 0 else len(head)])
            whole = end + 4 + length
            if len(self.buffer) < whole:
                return
            now = time.perf_counter()
            self.latencies.append(now - self.sent)
            if not head.startswith(b"http/1.1 2"):
                self.errors += 1
            del self.buffer[:whole]
            if now >= self.stop_at:
                assert self.transport is not None
                self.transport.close()
                return
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def drive(
    port: int, request: bytes, seconds: float, connections: int
) -> tuple[float, list[float], int]:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    stop_at = started + seconds
    protocols = []
    waits = []
    for _ in range(connections):
        done: asyncio.Future[None] = loop.create_future()
        _, protocol = await loop.create_connection(
            lambda done=done: _Connection(request, stop_at, done),  # type: ignore[misc]
            "127.0.0.1",
            port,
        )
        protocols.append(protocol)
        waits.append(done)
    await asyncio.wait_for(asyncio.gather(*waits), seconds + 30)
    elapsed = time.perf_counter() - started
    latencies = [x for p in protocols for x in p.latencies]
    return len(latencies) / elapsed, latencies, sum(p.errors for p in protocols)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("path")
    parser.add_argument("body")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    body = args.body.encode()
    head = [f"POST {args.path} HTTP/1.1", f"host: 127.0.0.1:{args.port}"]
    head += args.header
    head += ["content-type: application/json", f"content-length: {len(body)}"]
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    rate, latencies, errors = asyncio.run(drive(args.port, request, args.seconds, args.connections))
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    print(f"{rate:.1f} {statistics.median(latencies) * 1000:.3f} {p99:.3f} {errors}")


if __name__ == "__main__":
    main()
