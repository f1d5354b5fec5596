#!/bin/bash
# Peak RSS of the daemon under load, started the way the README's run command starts it (the
# launcher, the shipped configuration: accept + local maildir delivery), on its own port and data
# directory. Each round sends 3,000 x 10 KB messages over 50 sessions (smtp-source) and prints
# the process's VmHWM/VmRSS and its anonymous and file-backed parts; then the thread count.
# Usage (after mvn package): [LAUNCHER=src/dist/bin/postern] [JAR=target/postern.jar] [ROUNDS=3]
#   [PORT=2810] [NMT=1: also the JVM's native memory summary] src/bench/peak-rss.sh [JAVA_OPTS...]
# Needs postfix (smtp-source) and bc. Run it through the machine's benchmark lock when shared.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
LAUNCHER=${LAUNCHER:-$REPO/src/dist/bin/postern}; JAR=${JAR:-$REPO/target/postern.jar}
ROUNDS=${ROUNDS:-3}; PORT=${PORT:-2810}; NMT=${NMT:-0}
RUN=/tmp/postern-bench/peak-rss
pkill -f "java.*$RUN/conf/postern.yaml"
rm -rf $RUN && mkdir -p $RUN && cp -r $REPO/conf $RUN/
sed -i "s/^  smtp: .*/  smtp:       { address: 127.0.0.1, port: $PORT }/; /^  submission:/d; /^  smtps:/d; \
  s/^tls_on_connect_ports:.*/tls_on_connect_ports: $((PORT + 50))/; s/^smtp_accept_max_per_host:.*/smtp_accept_max_per_host: 0/" \
  $RUN/conf/postern.yaml
opts="$*"; [ "$NMT" = 1 ] && opts="$opts -XX:NativeMemoryTracking=summary"
(cd $RUN && POSTERN_JAR=$JAR JAVA_OPTS="$opts" exec $LAUNCHER -bd -C $RUN/conf/postern.yaml > $RUN/out.log 2>&1) &
for i in $(seq 1 150); do grep -q "listening for SMTP" $RUN/out.log 2>/dev/null && break; sleep 0.2; done
PID=$(pgrep -f "java.*$RUN/conf/postern.yaml" | head -1)
[ -n "$PID" ] || { echo "no daemon"; cat $RUN/out.log; exit 1; }
memory() { grep -E "VmHWM|VmRSS|RssAnon|RssFile" /proc/$PID/status | tr -s ' \n' ' '; }
echo "started: $(memory)"
for r in $(seq 1 $ROUNDS); do
  s=$(date +%s.%N); smtp-source -s 50 -m 3000 -l 10240 -f a@example.test -t admin@localhost 127.0.0.1:$PORT; e=$(date +%s.%N)
  echo "round $r: $(echo "3000/($e-$s)" | bc) msg/s, $(memory)"
done
echo "threads: $(ls /proc/$PID/task | wc -l)"
[ "$NMT" = 1 ] && jcmd $PID VM.native_memory summary | grep -E "^-|Total" | sed -E 's/reserved=[0-9]+KB, //' | sort -t= -k2 -rn | head -12
kill $PID
