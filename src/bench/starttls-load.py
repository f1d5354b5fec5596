#!/usr/bin/env python3
"""starttls-load.py - STARTTLS sessions per second against one or more SMTP servers, interleaved.

usage: starttls-load.py [--sessions N] [--conc C ...] [--reps R] [--size BYTES] [--resume]
                        [--rcpt ADDR] NAME=HOST:PORT[:PID] [NAME=HOST:PORT[:PID] ...]

Each session: connect, EHLO, STARTTLS, handshake, EHLO, MAIL, RCPT, DATA (SIZE bytes), QUIT.
Certificates are not verified (self-signed test servers). With --resume every worker offers the
TLS session of its previous connection (TLS 1.3 tickets / TLS 1.2 ids) and the share of resumed
handshakes is reported. With a PID, the server's CPU seconds per session are reported (utime+stime
of the process tree from /proc), which approximates the handshake's CPU cost when compared with
plaintext runs. Bounded: at most 100000 sessions and 600 s per run. Loopback targets only.

Engines: run one Postern per tls_engine (jdk, openssl), same RSA-2048 certificate, queue_only, and
give both as targets; figures in src/bench/README.md. This client leaves Nagle on, as Python's
smtplib does: a server that sends nothing after the client's Finished (BoringSSL defers its TLS
1.3 tickets) makes its EHLO wait for the server's delayed ACK unless the server acknowledges at
once (Postern's PromptAck).
"""
import argparse
import os
import socket
import ssl
import statistics
import threading
import time


def tree_cpu(pid):
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        for child in open(f"/proc/{pid}/task/{pid}/children").read().split():
            pids.append(int(child))
    except OSError:
        pass
    for p in pids:
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def reply(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    raise IOError("connection closed")
                self.buf += data
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line)
            if len(line) == 3 or line[3:4] == b" ":
                return int(line[:3]), lines


def expect(reader, code):
    got, lines = reader.reply()
    if got != code:
        raise IOError(f"expected {code}, got {got} {lines[-1][:80]!r}")


def session(host, port, ctx, body, rcpt, previous):
    raw = socket.create_connection((host, port), timeout=30)
    try:
        r = Reader(raw)
        expect(r, 220)
        raw.sendall(b"EHLO bench.example\r\n")
        expect(r, 250)
        raw.sendall(b"STARTTLS\r\n")
        expect(r, 220)
        tls = ctx.wrap_socket(raw, server_hostname=None, session=previous)
        r = Reader(tls)
        tls.sendall(b"EHLO bench.example\r\n")
        expect(r, 250)
        tls.sendall(b"MAIL FROM:<bench@example.test>\r\n")
        expect(r, 250)
        tls.sendall(f"RCPT TO:<{rcpt}>\r\n".encode())
        expect(r, 250)
        tls.sendall(b"DATA\r\n")
        expect(r, 354)
        tls.sendall(body)
        expect(r, 250)
        tls.sendall(b"QUIT\r\n")
        expect(r, 221)
        reused = tls.session_reused
        sess = tls.session
        tls.close()
        return reused, sess
    finally:
        raw.close()


def run(target, sessions, conc, size, rcpt, resume):
    host, port = target["host"], target["port"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    line = b"x" * 76 + b"\r\n"
    body = b"Subject: starttls bench\r\n\r\n" + line * max(1, size // len(line)) + b".\r\n"
    lock = threading.Lock()
    counters = {"left": sessions, "done": 0, "resumed": 0, "errors": 0}
    deadline = time.time() + 600

    def worker():
        previous = None
        while True:
            with lock:
                if counters["left"] <= 0 or time.time() > deadline:
                    return
                counters["left"] -= 1
            try:
                reused, sess = session(host, port, ctx, body, rcpt, previous if resume else None)
                previous = sess
                with lock:
                    counters["done"] += 1
                    counters["resumed"] += 1 if reused else 0
            except Exception as e:  # noqa: BLE001 - count and go on
                with lock:
                    counters["errors"] += 1
                    if counters["errors"] <= 3:
                        print(f"  {target['name']}: error: {e}")

    cpu0 = tree_cpu(target["pid"]) if target["pid"] else None
    start = time.time()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - start
    cpu = tree_cpu(target["pid"]) - cpu0 if target["pid"] else None
    return {"rate": counters["done"] / wall, "done": counters["done"], "errors": counters["errors"],
            "resumed": counters["resumed"], "cpu_ms_per_session": (cpu * 1000 / counters["done"])
            if cpu is not None and counters["done"] else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--conc", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--size", type=int, default=10240)
    ap.add_argument("--rcpt", default="postmaster@localhost")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("targets", nargs="+")
    a = ap.parse_args()
    a.sessions = min(a.sessions, 100000)
    targets = []
    for t in a.targets:
        name, addr = t.split("=", 1)
        parts = addr.split(":")
        if not parts[0].startswith("127.") and parts[0] not in ("localhost", "::1"):
            raise SystemExit("loopback targets only")
        targets.append({"name": name, "host": parts[0], "port": int(parts[1]),
                        "pid": int(parts[2]) if len(parts) > 2 else None})
    results = {}
    for rep in range(a.reps):
        for conc in a.conc:
            for t in targets:  # interleaved: every target sees the same machine "weather"
                r = run(t, a.sessions, conc, a.size, a.rcpt, a.resume)
                results.setdefault((t["name"], conc), []).append(r)
                cpu = r["cpu_ms_per_session"]
                print(f"rep {rep + 1} {t['name']:>8} c={conc:<3} {r['rate']:8.1f} sessions/s  "
                      f"errors {r['errors']}  resumed {r['resumed']}/{r['done']}"
                      + (f"  server CPU {cpu:.2f} ms/session" if cpu is not None else ""), flush=True)
    print("\n| target | conc | median sessions/s | runs | server CPU ms/session | resumed |")
    print("|---|---|---|---|---|---|")
    for (name, conc), rs in results.items():
        rates = [r["rate"] for r in rs]
        cpus = [r["cpu_ms_per_session"] for r in rs if r["cpu_ms_per_session"] is not None]
        print(f"| {name} | {conc} | {statistics.median(rates):.0f} | {' / '.join(f'{x:.0f}' for x in rates)} | "
              f"{statistics.median(cpus):.2f} | {sum(r['resumed'] for r in rs)}/{sum(r['done'] for r in rs)} |"
              if cpus else f"| {name} | {conc} | {statistics.median(rates):.0f} | - | - | - |")


if __name__ == "__main__":
    main()
