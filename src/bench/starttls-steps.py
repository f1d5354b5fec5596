#!/usr/bin/env python3
"""starttls-steps.py - where the wall time of one STARTTLS session goes, step by step, per server.

usage: starttls-steps.py SESSIONS NAME=PORT [NAME=PORT ...]

One session at a time (c=1), the servers interleaved session by session on 127.0.0.1: connect and
banner, EHLO, STARTTLS (until the 220), the TLS handshake (Python's wrap_socket: until the
client has the server's Finished), EHLO in TLS (the server's side of the handshake ends here: it
reads the client's Finished, and BoringSSL sends its TLS 1.3 tickets with this reply), QUIT.
Prints each step's median in microseconds. Certificates are not verified; the client offers no
session, so every handshake is full. At c=1 a session's rate is the inverse of its total, so this
says which round trip makes a server slower than another. Run it under flock
/tmp/postern-bench.lock; targets from src/bench/tls-targets.sh (figures in src/bench/README.md).
"""
import socket
import ssl
import statistics
import sys
import time

STEPS = ['connect+banner', 'EHLO', 'STARTTLS 220', 'handshake', 'EHLO (TLS)', 'QUIT', 'total']


def reply(f):
    while True:
        line = f.readline()
        if not line:
            raise EOFError('server closed')
        if line[3:4] != b'-':
            return line


def session(ctx, port, times):
    marks = [time.perf_counter()]

    def step(sock, f, command):
        """One command (none: the banner), its whole reply, and the time it was all in."""
        if command:
            sock.sendall(command)
        reply(f)
        marks.append(time.perf_counter())

    s = socket.create_connection(('127.0.0.1', port))
    f = s.makefile('rb')
    step(s, f, None)
    step(s, f, b'EHLO bench.example\r\n')
    step(s, f, b'STARTTLS\r\n')
    t = ctx.wrap_socket(s, server_hostname='bench.example.test')
    marks.append(time.perf_counter())
    g = t.makefile('rb')
    step(t, g, b'EHLO bench.example\r\n')
    step(t, g, b'QUIT\r\n')
    t.close()
    for i in range(len(marks) - 1):
        times[i].append((marks[i + 1] - marks[i]) * 1e6)
    times[-1].append((marks[-1] - marks[0]) * 1e6)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    n = min(int(sys.argv[1]), 20000)
    targets = [(a.split('=')[0], int(a.split('=')[1])) for a in sys.argv[2:]]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    results = {name: [[] for _ in STEPS] for name, _ in targets}
    for _ in range(n):
        for name, port in targets:
            session(ctx, port, results[name])
    print('median us       ' + '  '.join(f'{name:>10}' for name, _ in targets))
    for i, step in enumerate(STEPS):
        print(f'{step:15} ' + '  '.join(f'{statistics.median(results[name][i]):10.0f}' for name, _ in targets))


if __name__ == '__main__':
    main()
