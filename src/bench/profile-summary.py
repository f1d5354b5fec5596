#!/usr/bin/env python3
"""Summarise an async-profiler collapsed cpu profile of the receive path (accept-profile.sh).

    python3 src/bench/profile-summary.py FILE [MESSAGES]

Prints the share of samples per thread group and per cost, and with MESSAGES the sampled ms per
message (1 ms sampling interval). A stack goes to the first of the PRIORITY rules whose frames it
holds (a context switch inside fsync is the fsync's cost), else to the rule of its deepest frame
that any of the other rules names (the listener runs inside the bus's reply dispatch, so "holds a
bus frame" would say nothing).
"""
import collections
import re
import sys

PRIORITY = [
    ('JIT compiler', ['CompileBroker', 'C2Compiler', 'C1Compiler']),
    ('GC', ['VM_GenCollect', 'GenCollectedHeap', 'DefNewGeneration', 'VMThread']),
    ('spool: fsync/fdatasync', ['force0', 'fdatasync', 'fsync']),
    ('spool: open (new files)', ['openNewData', 'UnixNativeDispatcher.open', 'FileChannelImpl.open']),
    ('spool: rename/write/other', ['org/postern/spool']),
    ('main log (logback)', ['logback', 'org/postern/log']),
    ('socket read/write (syscalls)', ['io/netty/channel/unix/Socket', 'io/netty/channel/unix/FileDescriptor']),
    ('accept/close (syscalls)', ['EpollServerSocketChannel', 'doClose', 'ServerSocket']),
]
RULES = [
    ('epoll/futex/park (hand-offs)', ['epoll', 'futex', 'park', 'Unpark', 'finish_task_switch']),
    ('line decoder', ['SmtpLineDecoder']),
    ('header scan, Received, message-id', ['HeaderSection', 'MimeScanner', 'ReceivedHeader', 'MessageIds']),
    ('ACL evaluation', ['org/postern/policy', 'org/postern/acl/', 'org/postern/expand', 'org/postern/lists']),
    ('metrics (bus interceptor)', ['org/postern/metrics']),
    ('session state machine', ['org/postern/session']),
    ('event bus, futures', ['io/vertx/core/eventbus', 'io/vertx/core/impl/future']),
    ('listener', ['org/postern/listener']),
    ('vert.x/netty other', ['io/vertx', 'io/netty']),
]


def classify(stack, frames):
    for name, keys in PRIORITY:
        if any(k in stack for k in keys):
            return name
    for frame in reversed(frames):
        for name, keys in RULES:
            if any(k in frame for k in keys):
                return name
    return 'other (kernel, JDK)'


def main():
    path = sys.argv[1]
    messages = float(sys.argv[2]) if len(sys.argv) > 2 else 0
    total = 0
    costs = collections.Counter()
    threads = collections.Counter()
    for line in open(path):
        stack, _, n = line.rstrip().rpartition(' ')
        n = int(n)
        total += n
        threads[re.sub(r'\d+', 'N', stack.split(';')[0].split(' tid')[0])] += n
        frames = stack.split(';')
        costs[classify(stack, frames)] += n
    per = (lambda v: '  %.3f ms/msg' % (v / messages)) if messages else (lambda v: '')
    print('%d samples%s' % (total, per(total)))
    for k, v in threads.most_common(8):
        print('%5.1f%% %s%s' % (100 * v / total, k, per(v)))
    print('--')
    for k, v in costs.most_common():
        print('%5.1f%% %s%s' % (100 * v / total, k, per(v)))


if __name__ == '__main__':
    main()
