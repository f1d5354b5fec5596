#!/usr/bin/env python3
"""big-rcpt.py - one message with many recipients: blocked event loop, peak RSS, delay of other mail.

usage: big-rcpt.py --jar target/postern.jar [--conf conf] [--dir DIR] [--rcpts 50000]
                   [--to admin@localhost] [--port 2525]

Copies the shipped conf/ into DIR (a fresh directory) and starts `java -jar JAR` there: the server
runs on its defaults (port 2525, recipients_max 50000, spool and maildir under DIR/data); --port
moves its three listeners to PORT, PORT+1, PORT+2 when the default ports are taken. Sends one message with --rcpts RCPTs (pipelined, all to
--to), then, once the big one's first delivery is logged, a second, one-recipient message to the
same mailbox on another connection, and waits until both are delivered (main-log lines). Prints one JSON line:
  big_accept_s     time from the first RCPT to the 250 after the big message's DATA
  big_delivered_s  time from that 250 to the big message's "Completed"
  other_delay_s    time from the second message's 250 to its "=>" line (the delay of other mail)
  blocked_max_ms   the longest "Thread ... has been blocked for N ms" Vert.x reported (0 if none)
  blocked_warnings how many such warnings
  peak_rss_mb      the JVM's VmHWM after both deliveries
  maildir_files    files in the mailbox's new/ directory
Then stops the server it started. Loopback only; bounded by 600 s.
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time


def reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise IOError("connection closed")
        lines.append(line)
        if line[3:4] != b"-":
            return int(line[:3]), b"".join(lines)


def send(port, rcpts, sender="bench@example.org"):
    """Sends one message to the recipients (RCPTs pipelined in batches); returns (id, seconds)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=600)
    f = s.makefile("rb")
    reply(f)
    s.sendall(b"EHLO bench.example\r\n")
    reply(f)
    s.sendall(b"MAIL FROM:<%s>\r\n" % sender.encode())
    code, text = reply(f)
    assert code == 250, text
    start = time.monotonic()
    batch = 1000
    for i in range(0, len(rcpts), batch):
        chunk = rcpts[i:i + batch]
        s.sendall(b"".join(b"RCPT TO:<%s>\r\n" % r.encode() for r in chunk))
        for _ in chunk:
            code, text = reply(f)
            assert code == 250, text
    s.sendall(b"DATA\r\n")
    code, text = reply(f)
    assert code == 354, text
    s.sendall(b"Subject: big-rcpt bench\r\n\r\nHello.\r\n.\r\n")
    code, text = reply(f)
    assert code == 250, text
    elapsed = time.monotonic() - start
    s.sendall(b"QUIT\r\n")
    s.close()
    return re.search(rb"id=(\S+)", text).group(1).decode(), elapsed


def wait_for(log, pattern, deadline):
    while time.monotonic() < deadline:
        if os.path.exists(log):
            with open(log, "rb") as f:
                m = re.search(pattern, f.read())
                if m:
                    return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError(pattern)


def rss_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jar", required=True)
    p.add_argument("--conf", default="conf")
    p.add_argument("--dir", default="big-rcpt-run")
    p.add_argument("--rcpts", type=int, default=50000)
    p.add_argument("--to", default="admin@localhost")
    p.add_argument("--port", type=int, default=2525)
    a = p.parse_args()
    jar = os.path.abspath(a.jar)
    shutil.copytree(a.conf, os.path.join(a.dir, "conf"))
    ports = {2525: a.port, 2587: a.port + 1, 2465: a.port + 2}
    for port in ports.values():
        socket.create_server(("127.0.0.1", port)).close()  # fails when another server holds it
    main = os.path.join(a.dir, "conf", "postern.yaml")
    text = open(main).read()
    text = re.sub(r"\b(2525|2587|2465)\b", lambda m: str(ports[int(m.group(1))]), text)
    open(main, "w").write(text)
    out = open(os.path.join(a.dir, "server.out"), "wb")
    server = subprocess.Popen(["java", "-jar", jar], cwd=a.dir, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                socket.create_connection(("127.0.0.1", a.port), timeout=1).close()
                if server.poll() is not None:
                    raise OSError("the server exited")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        log = os.path.join(a.dir, "data", "log", "mainlog")
        big, accept_s = send(a.port, [a.to] * a.rcpts)
        big_at = time.monotonic()
        # The other message goes in once the big one's delivery is under way (its first "=>").
        wait_for(log, rb"%s => " % big.encode(), deadline)
        other, _ = send(a.port, [a.to])
        other_at = time.monotonic()
        other_done = wait_for(log, rb"%s => " % other.encode(), deadline)
        big_done = wait_for(log, rb"%s Completed" % big.encode(), deadline)
        server_out = open(os.path.join(a.dir, "server.out"), "rb").read()
        blocked = [int(x) for x in re.findall(rb"has been blocked for (\d+) ms", server_out)]
        mailbox = os.path.join(a.dir, "data", "maildir", a.to.split("@")[0], "new")
        print(json.dumps({
            "rcpts": a.rcpts,
            "big_accept_s": round(accept_s, 2),
            "big_delivered_s": round(big_done - big_at, 2),
            "other_delay_s": round(other_done - other_at, 2),
            "blocked_max_ms": max(blocked, default=0),
            "blocked_warnings": len(blocked),
            "peak_rss_mb": rss_hwm_kb(server.pid) // 1024,
            "maildir_files": len(os.listdir(mailbox)) if os.path.isdir(mailbox) else 0,
        }))
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    sys.exit(main())
