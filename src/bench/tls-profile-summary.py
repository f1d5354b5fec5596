#!/usr/bin/env python3
"""Where a STARTTLS session's server CPU goes, from an async-profiler collapsed cpu profile.

    python3 src/bench/tls-profile-summary.py FILE SESSIONS [INTERVAL_MS]

Each stack goes to the first rule whose frames it holds (a write inside the handshake's flush is a
socket write; the handshake is BoringSSL's or JSSE's whatever called it). Prints each cost's share
and the sampled ms per session (INTERVAL_MS is the sampling interval, 1 ms unless given).
"""
import collections
import sys

RULES = [
    ('JIT compiler', ['CompileBroker', 'C2Compiler', 'C1Compiler']),
    ('GC', ['VM_GenCollect', 'GenCollectedHeap', 'DefNewGeneration', 'VMThread']),
    ('handshake crypto (SSL.doHandshake / JSSE handshaker)', ['io/netty/internal/tcnative/SSL.doHandshake',
                                                              'sun/security/ssl/SSLHandshake']),
    ('socket write (syscalls)', ['AbstractEpollChannel.doWriteBytes', 'writevAddresses', 'Socket.sendAddress',
                                 'FileDescriptor.write']),
    ('socket read (syscalls)', ['AbstractEpollChannel.doReadBytes', 'FileDescriptor.read', 'Socket.recv']),
    ('TLS records (encrypt/decrypt)', ['SSL.readFromSSL', 'SSL.writeToSSL', 'SslHandler.wrap',
                                       'ReferenceCountedOpenSslEngine.unwrap']),
    ('accept and register', ['EpollServerSocketUnsafe', 'AbstractUnsafe.register0', 'ChannelInitializer',
                             'NetSocketInitializer']),
    ('STARTTLS upgrade: engine, SslHandler, TLS facts', ['NetSocketImpl.sslUpgrade', 'SslChannelProvider',
                                                          'ReferenceCountedOpenSslEngine.<init>',
                                                          'org/postern/tls/TlsFacts', 'StartTlsGuard',
                                                          'SslHandler.setHandshakeSuccess']),
    ('close', ['AbstractUnsafe.close', 'channelInactive', 'doClose', 'SslHandler.close']),
    ('session tier (state machine, ACLs)', ['org/postern/session', 'org/postern/acl', 'org/postern/policy']),
    ('main log', ['logback', 'org/postern/log']),
    ('listener (SmtpConnection, decoder)', ['org/postern/listener']),
    ('event bus, futures', ['io/vertx/core/eventbus', 'io/vertx/core/impl/future']),
    ('epoll wait, wake-ups', ['epollWait', 'epoll_wait', 'futex', 'park', 'finish_task_switch']),
    ('netty/vert.x other', ['io/netty', 'io/vertx']),
]


def main():
    path, sessions = sys.argv[1], int(sys.argv[2])
    interval = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    costs = collections.Counter()
    total = 0
    for line in open(path):
        stack, _, n = line.rstrip('\n').rpartition(' ')
        n = int(n)
        total += n
        for name, keys in RULES:
            if any(k in stack for k in keys):
                costs[name] += n
                break
        else:
            costs['other (JVM, kernel)'] += n
    print(f'{total} samples, {total * interval / sessions:.3f} ms sampled per session')
    for name, n in costs.most_common():
        print(f'{100 * n / total:5.1f} %  {n * interval / sessions:.3f} ms  {name}')


if __name__ == '__main__':
    main()
