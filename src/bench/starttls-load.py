#!/usr/bin/env python3
"""starttls-load.py - TLS sessions per second against one or more SMTP servers, interleaved.

usage: starttls-load.py [--procs P] [--nodelay] [--sessions N] [--conc C ...] [--reps R] [--size BYTES] [--resume] [--no-mail]
                        [--modes starttls|implicit ...] [--anchor NAME] [--warmup N] [--rcpt ADDR]
                        NAME=HOST:PORT[:PID[:TLSPORT]] [...]

starttls session: connect, EHLO, STARTTLS, handshake, EHLO, MAIL, RCPT, DATA (SIZE bytes), QUIT.
implicit session (RFC 8314, to TLSPORT): connect, handshake, 220, then the same from EHLO.
--no-mail leaves out MAIL..DATA (handshake and EHLO only). Certificates are not verified.
Nagle stays on (as in Python's smtplib) unless --nodelay (TCP_NODELAY on the client's socket).
--procs P spreads each cell's C sessions over P client processes (one Python process is held to
about one core by its GIL, and measured as the limit at c=50 here: see src/bench/README.md).
The client offers no session, so every handshake is full, unless --resume: then every worker
offers the TLS session of its previous connection and the share of resumed handshakes is reported.
With a PID, the server's CPU per session is reported: utime+stime of the whole process tree from
/proc, including the children it has reaped (for Postfix, pass the master's pid: smtpd, tlsmgr,
cleanup... are counted). The client's own CPU (this process) is reported too, as a share of one
core: near 100 % per core it may be the limit. With --anchor NAME, each cell also gives every
target's rate as a ratio to NAME's in the same rep. --warmup N sends N sessions at c=10 to each
target first, unmeasured (the JIT). Bounded: at most 100000 sessions and 600 s per run.
Loopback targets only. Run it under flock /tmp/postern-bench.lock when others benchmark.

Servers: src/bench/tls-targets.sh starts Postfix and Posterns (one per tls_engine) with the same
RSA-2048 certificate and prints the targets; figures in src/bench/README.md. This client leaves
Nagle on, as Python's smtplib does: a server that sends nothing after the client's Finished
(BoringSSL defers its TLS 1.3 tickets) makes its EHLO wait for the server's delayed ACK unless the
server acknowledges at once (Postern's PromptAck).
"""
import argparse
import multiprocessing
import os
import socket
import ssl
import statistics
import threading
import time


def tree_cpu(root):
    """CPU seconds of root and its descendants, live ones and the children they reaped."""
    tick = os.sysconf("SC_CLK_TCK")
    stat, kids = {}, {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stat[int(p)] = f
            kids.setdefault(int(f[1]), []).append(int(p))
    todo, total = [root], 0
    while todo:
        p = todo.pop()
        f = stat.get(p)
        if f:
            total += sum(int(x) for x in f[11:15])
            todo += kids.get(p, [])
    return total / tick


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


def session(host, port, ctx, body, rcpt, previous, implicit, mail, nodelay):
    raw = socket.create_connection((host, port), timeout=30)
    if nodelay:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        if implicit:
            tls = ctx.wrap_socket(raw, server_hostname=None, session=previous)
            r = Reader(tls)
            expect(r, 220)
        else:
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
        if mail:
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
        what = f"{tls.version()} {tls.cipher()[0]}"
        tls.close()
        return reused, sess, what
    finally:
        raw.close()


def sessions_in_threads(target, sessions, conc, size, rcpt, resume, implicit, mail, nodelay):
    """Runs SESSIONS sessions over CONC threads of this process; returns the counters."""
    host = target["host"]
    port = target["tlsport"] if implicit else target["port"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    line = b"x" * 76 + b"\r\n"
    body = b"Subject: starttls bench\r\n\r\n" + line * max(1, size // len(line)) + b".\r\n"
    lock = threading.Lock()
    counters = {"left": sessions, "done": 0, "resumed": 0, "errors": 0, "what": set()}
    deadline = time.time() + 600

    def worker():
        previous = None
        while True:
            with lock:
                if counters["left"] <= 0 or time.time() > deadline:
                    return
                counters["left"] -= 1
            try:
                reused, sess, what = session(host, port, ctx, body, rcpt, previous if resume else None,
                                             implicit, mail, nodelay)
                previous = sess
                with lock:
                    counters["done"] += 1
                    counters["resumed"] += 1 if reused else 0
                    counters["what"].add(what)
            except Exception as e:  # noqa: BLE001 - count and go on
                with lock:
                    counters["errors"] += 1
                    if counters["errors"] <= 3:
                        print(f"  {target['name']}: error: {e}")

    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counters


def _part(args):
    return sessions_in_threads(*args)


def run(target, sessions, conc, size, rcpt, resume, implicit, mail, nodelay=False, procs=1):
    """One cell: CONC sessions at a time, over PROCS client processes (Python's GIL caps one)."""
    procs = max(1, min(procs, conc))
    cpu0 = tree_cpu(target["pid"]) if target["pid"] else None
    own0 = os.times()
    start = time.time()
    if procs == 1:
        counters = sessions_in_threads(target, sessions, conc, size, rcpt, resume, implicit, mail, nodelay)
    else:
        parts = [(target, sessions // procs + (1 if i < sessions % procs else 0),
                  conc // procs + (1 if i < conc % procs else 0), size, rcpt, resume, implicit, mail, nodelay)
                 for i in range(procs)]
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            got = pool.map(_part, parts)
            pool.close()
            pool.join()
        counters = {"done": sum(c["done"] for c in got), "errors": sum(c["errors"] for c in got),
                    "resumed": sum(c["resumed"] for c in got), "what": set().union(*(c["what"] for c in got))}
    wall = time.time() - start
    own1 = os.times()  # children_*: the pool's processes, reaped by join
    cpu = tree_cpu(target["pid"]) - cpu0 if target["pid"] else None
    done = counters["done"]
    client = (own1.user - own0.user + own1.system - own0.system
              + own1.children_user - own0.children_user + own1.children_system - own0.children_system)
    return {"rate": done / wall, "done": done, "errors": counters["errors"],
            "resumed": counters["resumed"], "what": ", ".join(sorted(counters["what"])),
            "cpu_ms_per_session": (cpu * 1000 / done) if cpu is not None and done else None,
            "server_cores": cpu / wall if cpu is not None else None,
            "client_cores": client / wall}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--conc", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--size", type=int, default=10240)
    ap.add_argument("--rcpt", default="postmaster@localhost")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--no-mail", action="store_true")
    ap.add_argument("--nodelay", action="store_true")
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--modes", nargs="+", choices=["starttls", "implicit"], default=["starttls"])
    ap.add_argument("--anchor")
    ap.add_argument("--warmup", type=int, default=0)
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
                        "pid": int(parts[2]) if len(parts) > 2 and parts[2] else None,
                        "tlsport": int(parts[3]) if len(parts) > 3 else None})
    if "implicit" in a.modes and any(t["tlsport"] is None for t in targets):
        raise SystemExit("implicit mode needs NAME=HOST:PORT:PID:TLSPORT for every target")
    if a.anchor and a.anchor not in [t["name"] for t in targets]:
        raise SystemExit(f"--anchor {a.anchor}: no such target")
    mail = not a.no_mail
    for mode in a.modes:
        for t in targets:
            if a.warmup:
                r = run(t, a.warmup, 10, a.size, a.rcpt, a.resume, mode == "implicit", mail, a.nodelay, a.procs)
                print(f"warm-up {t['name']} {mode}: {r['rate']:.0f} sessions/s, errors {r['errors']}, {r['what']}",
                      flush=True)
    results = {}
    for rep in range(a.reps):
        for mode in a.modes:
            for conc in a.conc:
                rates = {}
                for t in targets:  # interleaved: every target sees the same machine "weather"
                    r = run(t, a.sessions, conc, a.size, a.rcpt, a.resume, mode == "implicit", mail, a.nodelay, a.procs)
                    results.setdefault((mode, conc, t["name"]), []).append(r)
                    rates[t["name"]] = r["rate"]
                    cpu = r["cpu_ms_per_session"]
                    print(f"rep {rep + 1} {mode:>8} {t['name']:>8} c={conc:<3} {r['rate']:8.1f} sessions/s  "
                          f"errors {r['errors']}  resumed {r['resumed']}/{r['done']}"
                          + (f"  server CPU {cpu:.2f} ms/session ({r['server_cores']:.2f} cores)"
                             if cpu is not None else "")
                          + f"  client {r['client_cores']:.2f} cores  [{r['what']}]", flush=True)
                if a.anchor:
                    for t in targets:
                        results[(mode, conc, t["name"])][-1]["ratio"] = rates[t["name"]] / rates[a.anchor] \
                            if rates[a.anchor] else None
    print("\n| mode | conc | target | median sessions/s | runs | ratio to anchor (median) "
          "| server CPU ms/session | server cores | client cores | resumed |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (mode, conc, name), rs in results.items():
        def med(key):
            xs = [r[key] for r in rs if r.get(key) is not None]
            return statistics.median(xs) if xs else None

        def fmt(x, f):
            return "-" if x is None else format(x, f)
        runs = " / ".join(format(r["rate"], ".0f") for r in rs)
        print(f"| {mode} | {conc} | {name} | {med('rate'):.0f} | {runs} "
              f"| {fmt(med('ratio'), '.2f')} | {fmt(med('cpu_ms_per_session'), '.2f')} | {fmt(med('server_cores'), '.2f')} "
              f"| {med('client_cores'):.2f} | {sum(r['resumed'] for r in rs)}/{sum(r['done'] for r in rs)} |")


if __name__ == "__main__":
    main()
