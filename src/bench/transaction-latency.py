#!/usr/bin/env python3
"""RCPT and end-of-DATA latency of an SMTP server: C sessions, each EHLO then N messages in a row.

usage: transaction-latency.py HOST PORT [--conc 1] [--count 500] [--warmup 50] [--size 2000]
                              [--rcpt alice@test.example] [--sender sender@example.org]
                              [--source 127.0.0.2]

Each message is MAIL, RCPT (timed: the command's round trip, through the rcpt ACL and any
plugin condition such as greylist, and any session filter such as a milter), DATA, a body of
--size bytes and the final dot (timed: from the dot to the 250, which includes the data ACL,
the milters' header/body/end-of-message exchanges and the spool fsync). Prints p50/p99/max in
microseconds for both, and the message rate.

Compare Postern without plugins, with the greylist plugin (its delay 0s, so every retry passes
and only the lookup is measured) and with OpenDKIM behind the milter client, by changing
verticles.json between runs. Every RCPT must get 250: a greylisted one stops the run, so with
greylisting repeat one attempt until it passes first (--prime) and connect from an address that is not in
relay_from_hosts (--source 127.0.0.2), which greylisting exempts.
"""
import argparse
import asyncio
import statistics
import time


async def session(a, rcpt_samples, data_samples, ready, start):
    reader, writer = await asyncio.open_connection(a.host, a.port,
                                                   local_addr=(a.source, 0) if a.source else None)

    async def reply():
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("server closed the connection")
            if line[3:4] != b"-":
                return line

    async def command(text, expect):
        writer.write(text)
        line = await reply()
        if not line.startswith(expect):
            raise RuntimeError("%r answered %r" % (text[:40], line))

    body = b"Subject: latency\r\nFrom: <%s>\r\n\r\n" % a.sender.encode() + (b"x" * 70 + b"\r\n") * max(1, a.size // 72)
    await reply()
    await command(b"EHLO bench.example\r\n", b"250")
    ready.set()
    await start.wait()
    for i in range(a.warmup + a.count):
        await command(b"MAIL FROM:<%s>\r\n" % a.sender.encode(), b"250")
        t0 = time.perf_counter_ns()
        await command(b"RCPT TO:<%s>\r\n" % a.rcpt.encode(), b"250")
        t1 = time.perf_counter_ns()
        await command(b"DATA\r\n", b"354")
        writer.write(body)
        t2 = time.perf_counter_ns()
        await command(b".\r\n", b"250")
        t3 = time.perf_counter_ns()
        if i >= a.warmup:
            rcpt_samples.append((t1 - t0) / 1000)
            data_samples.append((t3 - t2) / 1000)
    await command(b"QUIT\r\n", b"221")
    writer.close()


def summary(name, samples):
    samples.sort()
    q = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))]
    return "%s p50=%.0fus p99=%.0fus max=%.0fus mean=%.0fus" % (
        name, q(0.50), q(0.99), samples[-1], statistics.mean(samples))


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--conc", type=int, default=1)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--size", type=int, default=2000)
    ap.add_argument("--rcpt", default="alice@test.example")
    ap.add_argument("--sender", default="sender@example.org")
    ap.add_argument("--source", default=None, help="local address to connect from")
    ap.add_argument("--prime", action="store_true", help="first repeat one RCPT until it passes (greylisting)")
    a = ap.parse_args()
    if a.prime:
        # Until one RCPT passes: greylisting's first attempt is refused (and, while the plugin is
        # still being deployed after the listener, so are the attempts before it).
        for attempt in range(100):
            reader, writer = await asyncio.open_connection(a.host, a.port,
                                                           local_addr=(a.source, 0) if a.source else None)
            # The greeting, then EHLO's reply, before the pipelined rest: input sent too soon is a
            # synchronisation error (smtp_enforce_sync), which ends the session before the RCPT.
            await reader.readline()
            writer.write(b"EHLO bench.example\r\n")
            while (await reader.readline())[3:4] == b"-":
                pass
            for line in (b"MAIL FROM:<%s>\r\n" % a.sender.encode(), b"RCPT TO:<%s>\r\n" % a.rcpt.encode(),
                         b"QUIT\r\n"):
                writer.write(line)
            answers = []
            while line := await reader.readline():
                answers.append(line)
            writer.close()
            if any(x.startswith(b"250 2.1.5") for x in answers):
                break
            await asyncio.sleep(0.1)
    rcpt, data = [], []
    start = asyncio.Event()
    ready = [asyncio.Event() for _ in range(min(a.conc, 1000))]
    tasks = [asyncio.create_task(session(a, rcpt, data, r, start)) for r in ready]
    await asyncio.gather(*(r.wait() for r in ready))
    t0 = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    print("conc=%d messages=%d %s | %s | rate=%.0f/s" % (
        a.conc, len(rcpt), summary("rcpt", rcpt), summary("data", data), len(rcpt) / wall))


asyncio.run(main())
