#!/usr/bin/env python3
"""auth-load.py - SMTP AUTH authentications per second, and event-loop latency while they run.

usage: auth-load.py HOST PORT --user U --password P [--mech PLAIN|CRAM-MD5] [--conc C]
                    [--count N] [--probe]

Each worker loops: connect, EHLO, AUTH (PLAIN with initial response, or CRAM-MD5), QUIT; the rate of
successful authentications is printed. With --probe, one more session sends NOOP every 20 ms
for the whole run and prints the p50/p99/max round-trip: if password hashing (bcrypt) blocked an
event loop, NOOP latency would show it. Loopback only; bounded by --count and 300 s.
"""
import argparse
import base64
import hashlib
import hmac
import socket
import statistics
import threading
import time


def reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise IOError("closed")
        lines.append(line)
        if line[3:4] != b"-":
            return int(line[:3]), lines


def one_auth(host, port, mech, user, password):
    s = socket.create_connection((host, port), timeout=30)
    f = s.makefile("rb")
    try:
        reply(f)
        s.sendall(b"EHLO bench.example\r\n")
        reply(f)
        if mech == "PLAIN":
            token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode())
            s.sendall(b"AUTH PLAIN " + token + b"\r\n")
            code, _ = reply(f)
        else:
            s.sendall(b"AUTH CRAM-MD5\r\n")
            code, lines = reply(f)
            if code != 334:
                return False
            challenge = base64.b64decode(lines[-1][4:].strip())
            digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
            s.sendall(base64.b64encode(f"{user} {digest}".encode()) + b"\r\n")
            code, _ = reply(f)
        s.sendall(b"QUIT\r\n")
        return code == 235
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--mech", default="PLAIN", choices=["PLAIN", "CRAM-MD5"])
    ap.add_argument("--conc", type=int, default=20)
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--probe", action="store_true")
    a = ap.parse_args()
    if not a.host.startswith("127.") and a.host not in ("localhost", "::1"):
        raise SystemExit("loopback only")
    left = [min(a.count, 100000)]
    ok = [0]
    bad = [0]
    lock = threading.Lock()
    deadline = time.time() + 300
    done = threading.Event()
    rtts = []

    def worker():
        while True:
            with lock:
                if left[0] <= 0 or time.time() > deadline:
                    return
                left[0] -= 1
            try:
                good = one_auth(a.host, a.port, a.mech, a.user, a.password)
            except Exception:  # noqa: BLE001 - counted
                good = False
            with lock:
                if good:
                    ok[0] += 1
                else:
                    bad[0] += 1

    def probe():
        s = socket.create_connection((a.host, a.port), timeout=30)
        f = s.makefile("rb")
        reply(f)
        s.sendall(b"EHLO probe.example\r\n")
        reply(f)
        while not done.is_set():
            t = time.perf_counter()
            s.sendall(b"NOOP\r\n")
            reply(f)
            rtts.append((time.perf_counter() - t) * 1000)
            time.sleep(0.02)
        s.close()

    p = threading.Thread(target=probe) if a.probe else None
    if p:
        p.start()
        time.sleep(0.2)
    start = time.time()
    threads = [threading.Thread(target=worker) for _ in range(a.conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - start
    done.set()
    if p:
        p.join()
    print(f"{a.mech} user={a.user} conc={a.conc}: {ok[0] / wall:.1f} auth/s ({ok[0]} ok, {bad[0]} failed, {wall:.1f} s)")
    if rtts:
        q = statistics.quantiles(rtts, n=100)
        print(f"NOOP during the run: n={len(rtts)} p50={statistics.median(rtts):.2f} ms p99={q[98]:.2f} ms "
              f"max={max(rtts):.2f} ms")


if __name__ == "__main__":
    main()
