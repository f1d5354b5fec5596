#!/usr/bin/env python3
"""NOOP round-trip latency of an SMTP server: C sessions, each EHLO then N NOOPs one after the other.

usage: noop-latency.py HOST PORT [--conc 1] [--count 2000] [--warmup 200]

Every NOOP waits for its 250 before the next one is sent, so each sample is one full command
round trip through the server's session machinery (for Postern: listener -> session -> reply),
with C sessions doing the same at once. Prints p50/p90/p99/max in microseconds and the rate.
"""
import argparse
import asyncio
import statistics
import time


async def session(host, port, count, warmup, samples, ready, start):
    reader, writer = await asyncio.open_connection(host, port)

    async def reply():
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("server closed the connection")
            if line[3:4] != b"-":
                return line

    await reply()
    writer.write(b"EHLO bench.example\r\n")
    await reply()
    ready.set()
    await start.wait()
    for i in range(warmup + count):
        t0 = time.perf_counter_ns()
        writer.write(b"NOOP\r\n")
        line = await reply()
        t1 = time.perf_counter_ns()
        if not line.startswith(b"250"):
            raise RuntimeError("NOOP answered %r" % line)
        if i >= warmup:
            samples.append((t1 - t0) / 1000)
    writer.write(b"QUIT\r\n")
    await reply()
    writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--conc", type=int, default=1)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    a = ap.parse_args()
    samples = []
    start = asyncio.Event()
    ready = [asyncio.Event() for _ in range(min(a.conc, 1000))]
    tasks = [asyncio.create_task(session(a.host, a.port, min(a.count, 100000), min(a.warmup, 100000), samples, r,
                                         start)) for r in ready]
    await asyncio.gather(*(r.wait() for r in ready))
    t0 = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    samples.sort()
    q = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))]
    print("conc=%d noops=%d p50=%.0fus p90=%.0fus p99=%.0fus max=%.0fus mean=%.0fus rate=%.0f/s" % (
        a.conc, len(samples), q(0.50), q(0.90), q(0.99), samples[-1], statistics.mean(samples),
        len(samples) / wall))


asyncio.run(main())
