#!/bin/bash
# NOOP round-trip latency at c=50, idle and under full load, Postern beside Postfix in one run.
# Postern runs as the README's run command starts it (the launcher, the shipped configuration:
# accept + local maildir delivery) on $PORT; Postfix is a private copy of the shared anchor
# (hold queue) on $PORT+10. For each server in turn: 3,000 warm-up messages, the NOOP client
# (noop-latency.c, compiled here) idle, then again while smtp-source sends 20,000 x 10 KB over
# 50 sessions to that same server. Usage (after mvn package):
#   [LAUNCHER=src/dist/bin/postern] [JAR=target/postern.jar] [PORT=2820] [REPS=2] src/bench/noop-load.sh
# Needs root, postfix (smtp-source), gcc. Run it through the machine's benchmark lock when shared.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
LAUNCHER=${LAUNCHER:-$REPO/src/dist/bin/postern}; JAR=${JAR:-$REPO/target/postern.jar}
PORT=${PORT:-2820}; FPORT=$((PORT + 10)); REPS=${REPS:-2}
RUN=/tmp/postern-bench/noop-load
BENCH=${BENCH:-$REPO/../shared/bench}; [ -d $BENCH ] || BENCH=/work/shared/bench
export POSTFIX_RUN=$RUN/postfix
mkdir -p $RUN && gcc -O2 -o $RUN/noop-latency $REPO/src/bench/noop-latency.c || exit 1
pkill -f "java.*$RUN/conf/postern.yaml"
rm -rf $RUN/conf $RUN/data $RUN/postfix && cp -r $REPO/conf $RUN/
sed -i "s/^  smtp: .*/  smtp:       { address: 127.0.0.1, port: $PORT }/; /^  submission:/d; /^  smtps:/d; \
  s/^tls_on_connect_ports:.*/tls_on_connect_ports: $((PORT + 50))/; s/^smtp_accept_max_per_host:.*/smtp_accept_max_per_host: 0/" \
  $RUN/conf/postern.yaml
(cd $RUN && POSTERN_JAR=$JAR exec $LAUNCHER -bd -C $RUN/conf/postern.yaml > $RUN/out.log 2>&1) &
for i in $(seq 1 150); do grep -q "listening for SMTP" $RUN/out.log 2>/dev/null && break; sleep 0.2; done
PORT=$FPORT $BENCH/postfix-anchor.sh start >/dev/null || exit 1
# NOOP counts against smtpd_junk_command_limit (100): Postfix would end each session after 100.
postconf -c $POSTFIX_RUN/etc -e smtpd_junk_command_limit=100000 && postfix -c $POSTFIX_RUN/etc reload >/dev/null 2>&1
load() { smtp-source -s 50 -m $2 -l 10240 -f a@example.test -t postmaster@localhost 127.0.0.1:$1 2>/dev/null; }
for name in postern postfix; do
  port=$PORT; [ $name = postfix ] && port=$FPORT
  load $port 3000
done
PID=$(pgrep -f "java.*$RUN/conf/postern.yaml" | head -1)
# Postern delivers what it received (the shipped configuration): wait until it has caught up,
# i.e. used under 5 % of a core over a second (at most 3 minutes), so "idle" is idle.
quiet() {
  for i in $(seq 1 180); do
    t0=$(awk '{print $14 + $15}' /proc/$PID/stat); sleep 1; t1=$(awk '{print $14 + $15}' /proc/$PID/stat)
    [ $((t1 - t0)) -lt 5 ] && return
  done
}
for r in $(seq 1 $REPS); do
  for name in postern postfix; do
    port=$PORT; [ $name = postfix ] && port=$FPORT
    quiet
    echo "$name rep $r idle:  $($RUN/noop-latency 127.0.0.1 $port 50 400 50)"
    load $port 20000 & L=$!
    sleep 2   # let the load reach its steady state before sampling
    echo "$name rep $r load:  $($RUN/noop-latency 127.0.0.1 $port 50 400 50)"
    kill $L 2>/dev/null; wait $L 2>/dev/null
  done
done
pkill -f "java.*$RUN/conf/postern.yaml"
$BENCH/postfix-anchor.sh stop >/dev/null 2>&1; $BENCH/postfix-anchor.sh clean >/dev/null 2>&1
