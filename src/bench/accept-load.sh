#!/bin/bash
# accept-load.sh - accept only (queue_only), one or more Postern builds beside the Postfix hold
# anchor in one interleaved smtp-load.sh run, after a warm-up long enough for the JIT to finish:
# each Postern first gets WARM messages persist at c=50, WARM/5 one per connection at c=20 and 1,000
# at c=1 (with 6,000 at c=10, Postern was still compiling in the first measured cells).
#   TARGETS="base=/tmp/base.jar:4410 new=target/postern.jar:4420" [OPTS_new="-XX:..."] \
#     [WARM=20000] [MSGS=3000] [REPS=2] [CONCS="1 10 50"] [MODES="conn persist"] [FPORT=4030] \
#     flock /tmp/postern-bench.lock src/bench/accept-load.sh
# Every Postern runs through the launcher (src/dist/bin/postern -bd) on a copy of conf/ with its
# port, queue_only: true and queue_run_interval: 1h, under /tmp/postern-bench/accept-load/NAME.
# Needs root, postfix (smtp-source), python3, gcc.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=${BENCH:-$REPO/../shared/bench}; [ -d "$BENCH" ] || BENCH=/work/shared/bench
L=$REPO/src/dist/bin/postern; RUN=/tmp/postern-bench/accept-load
: "${TARGETS:?TARGETS=\"name=jar:port ...\"}"
WARM=${WARM:-20000}; FPORT=${FPORT:-4030}
export POSTFIX_RUN=$RUN/postfix
smtp() { smtp-source -l 10240 -f a@example.test -t postmaster@localhost "$@"; }
args=(); i=1
for t in $TARGETS; do
  n=${t%%=*}; rest=${t#*=}; jar=${rest%%:*}; port=${rest##*:}; ov=OPTS_$n
  pkill -f "java.*$RUN/$n/conf/postern.yaml"
  rm -rf "$RUN/$n" && mkdir -p "$RUN/$n" && cp -r "$REPO/conf" "$RUN/$n/"
  sed -i "s/^  smtp: .*/  smtp:       { address: 127.0.0.1, port: $port }/; /^  submission:/d; /^  smtps:/d; \
    s/^tls_on_connect_ports:.*/tls_on_connect_ports: $((port + 50))/; s/^smtp_accept_max_per_host:.*/smtp_accept_max_per_host: 0/; \
    s/^queue_run_interval:.*/queue_run_interval: 1h/" "$RUN/$n/conf/postern.yaml"
  echo "queue_only: true" >> "$RUN/$n/conf/postern.yaml"
  (cd "$RUN/$n" && JAVA_OPTS="${!ov:-}" POSTERN_JAR=$jar exec "$L" -bd -C "$RUN/$n/conf/postern.yaml" > "$RUN/$n/out.log" 2>&1) &
  for w in $(seq 1 150); do grep -q "listening for SMTP" "$RUN/$n/out.log" 2>/dev/null && break; sleep 0.2; done
  export NAME_$i=$n PIDCMD_$i="pgrep -f 'java.*$RUN/$n/conf/postern.yaml'"
  args+=(127.0.0.1 "$port"); i=$((i + 1))
done
PORT=$FPORT "$BENCH/postfix-anchor.sh" start >/dev/null || exit 1
export NAME_$i=postfix PIDCMD_$i="POSTFIX_RUN=$POSTFIX_RUN $BENCH/postfix-anchor.sh pid"
args+=(127.0.0.1 "$FPORT")
for t in $TARGETS; do
  port=${t##*:}
  smtp -s 50 -m "$WARM" -d 127.0.0.1:"$port"; smtp -s 20 -m $((WARM / 5)) 127.0.0.1:"$port"; smtp -s 1 -m 1000 127.0.0.1:"$port"
done
smtp -s 10 -m 6000 127.0.0.1:"$FPORT"
RCPT=postmaster@localhost MSGS=${MSGS:-3000} REPS=${REPS:-2} WARMUP=0 CONCS="${CONCS:-1 10 50}" MODES="${MODES:-conn persist}" \
  "$BENCH/smtp-load.sh" "${args[@]}"
rc=$?
for t in $TARGETS; do pkill -f "java.*$RUN/${t%%=*}/conf/postern.yaml"; done
"$BENCH/postfix-anchor.sh" stop >/dev/null 2>&1; "$BENCH/postfix-anchor.sh" clean >/dev/null 2>&1
exit $rc
