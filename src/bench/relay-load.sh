#!/bin/bash
# Relay throughput from a full queue, Postern beside Postfix in one run, both relaying to Postfix's
# smtp-sink on 127.0.0.1:2700 with C parallel deliveries:
#  - Postern: N messages for x@relay.test accepted with queue_only and a manualroute smarthost,
#    then "ETRN relay.test"; timed until no -H file is left.
#  - Postfix (../shared/bench/postfix-anchor.sh): N messages accepted on hold, then relayhost set,
#    released (postsuper -H, postqueue -f); timed until its queue is empty.
# Usage (from the repository, after mvn package): N=2000 C=10 [WARM=2000 [WARM_ROUNDS=4]] src/bench/relay-load.sh
# TLS=1: both relay over STARTTLS to TlsSmtpSink (test classes) on 127.0.0.1:2701 instead, since
#   smtp-sink has no STARTTLS. Postern with hosts_require_tls "*", Postfix with
#   smtp_tls_security_level encrypt; each shows how many deliveries/connections used TLS.
#   PF_TLS_REUSE=yes|no (default no) is Postfix's smtp_tls_connection_reuse: without it Postfix
#   makes one TLS handshake per message, while Postern keeps its connections for many.
#   The sink's JDK handshakes cost ~10 ms of CPU each, so with PF_TLS_REUSE=no it may be what
#   bounds Postfix: check its CPU (one event loop) before trusting that figure.
#   Usage: N=2000 C=10 TLS=1 PF_TLS_REUSE=yes src/bench/relay-load.sh
# PROFILE=/tmp/x.collapsed: async-profiler (AP=/tmp/ap, with Attach.class beside it) is attached to
#   Postern for the measured batch only and writes collapsed CPU stacks there.
# JAR=/path/to/postern.jar runs another build (e.g. the "before" of a change) instead of target/;
#   every build runs through src/dist/bin/postern -bd, with the launcher's JVM flags.
# Needs root, postfix (smtp-source, smtp-sink, postconf), bc and python3. Postern runs on 2525.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-2000}; C=${C:-10}; SINK=2700; TLS=${TLS:-0}; PF_TLS_REUSE=${PF_TLS_REUSE:-no}
BENCH=${BENCH:-$REPO/../shared/bench}; [ -d $BENCH ] || BENCH=/work/shared/bench; RUN=/tmp/postern-bench/postfix; SINKLOG=/tmp/postern-bench/tls-sink.log
TRANSPORT="{ driver: smtp }"
if [ "$TLS" = 1 ]; then
  SINK=2701; TRANSPORT='{ driver: smtp, hosts_require_tls: "*" }'
  mkdir -p /tmp/postern-bench
  java -cp $REPO/target/postern.jar:$REPO/target/test-classes org.postern.bench.TlsSmtpSink $SINK > $SINKLOG 2>&1 &
  SINKPID=$!
  # Its certificate is made at start, which takes a few seconds.
  for i in $(seq 1 150); do grep -q "tls sink listening" $SINKLOG && break; sleep 0.2; done
  # A cold JVM takes over a second for its first handshakes: warm the sink up, or Postern, which
  # is measured first, pays for it.
  python3 - <<PY
import smtplib, ssl
tls = ssl.create_default_context(); tls.check_hostname = False; tls.verify_mode = ssl.CERT_NONE
for i in range(200):
    s = smtplib.SMTP("127.0.0.1", $SINK); s.starttls(context=tls); s.ehlo(); s.quit()
PY
else
  pkill -f "smtp-sink" 2>/dev/null; sleep 0.3
  smtp-sink -u root 127.0.0.1:$SINK 512 >/dev/null 2>&1 &
  SINKPID=$!
fi
# --- Postern
rm -rf /tmp/relayq && mkdir -p /tmp/relayq && cp -r $REPO/conf /tmp/relayq/
cat >> /tmp/relayq/conf/postern.yaml <<YAML
queue_only: true
routers:
  - { name: local_user, driver: local }
  - { name: smarthost, driver: manualroute, domains: "!+local_domains", route_list: "* 127.0.0.1::$SINK", transport: remote_smtp }
transports:
  remote_smtp: $TRANSPORT
YAML
sed -i 's/^smtp_accept_max_per_host:.*/smtp_accept_max_per_host: 0/; s/^remote_max_parallel:.*/remote_max_parallel: '$C'/' /tmp/relayq/conf/postern.yaml
cd /tmp/relayq
# Through the launcher, so with the JVM flags the README's run command uses (whichever JAR).
POSTERN_JAR=${JAR:-$REPO/target/postern.jar} $REPO/src/dist/bin/postern -bd -C /tmp/relayq/conf/postern.yaml > /tmp/relayq/out.log 2>&1 &
PPID_=$!
for i in $(seq 1 100); do grep -q "listening for SMTP (smtp)" /tmp/relayq/out.log && break; sleep 0.2; done
# One batch: COUNT messages queued, then released by ETRN and timed until no -H file is left.
postern_batch() {
  smtp-source -s 20 -m $1 -l 10240 -f a@example.org -t x@relay.test 127.0.0.1:2525
  H=$(ls /tmp/relayq/data/spool/input | grep -c -- '-H$'); echo "postern queued: $H"
  [ -n "${PROFILING:-}" ] && java -cp ${AP:-/tmp/ap} Attach $PPID_ ${AP:-/tmp/ap}/linux-x64/libasyncProfiler.so start,event=cpu,interval=1ms
  C0=$(awk '{print $14+$15}' /proc/$PPID_/stat)
  T0=$(date +%s.%N)
  python3 - <<PY
import socket
s=socket.create_connection(("127.0.0.1",2525)); f=s.makefile("rb")
def rep():
    while True:
        l=f.readline()
        if l[3:4]!=b'-': return l
rep(); s.sendall(b"EHLO bench\r\n"); rep(); s.sendall(b"ETRN relay.test\r\n"); print("ETRN:", rep().decode().strip()); s.sendall(b"QUIT\r\n")
PY
  while [ "$(ls /tmp/relayq/data/spool/input | grep -c -- '-H$')" != 0 ]; do sleep 0.05; done
  T1=$(date +%s.%N)
  PT=$(echo "$T1 - $T0" | bc -l)
  CPU=$(( $(awk '{print $14+$15}' /proc/$PPID_/stat) - C0 ))
  [ -n "${PROFILING:-}" ] && java -cp ${AP:-/tmp/ap} Attach $PPID_ ${AP:-/tmp/ap}/linux-x64/libasyncProfiler.so stop,file=$PROFILING,collapsed
  echo "postern relayed $1 in $PT s: $(echo "$1 / $PT" | bc -l | cut -c1-7) msg/s (relay CPU $(echo "$CPU / 100" | bc -l | cut -c1-5) s)"
}
# WARM=n: a first batch of n messages, not counted, so the measured one runs on a JIT-compiled
# JVM, as a daemon does after its first minutes (a fresh JVM spends most of its CPU compiling).
# WARM_ROUNDS=k (default 1) such batches, each queued then relayed: after 10,000 messages queued
# and relayed in two batches, the C2 compiler still took 27 % of the measured batch's CPU (receiving
# and relaying alternate, and each phase's rarer paths reach the compile thresholds slowly).
if [ "${WARM:-0}" -gt 0 ]; then
  for w in $(seq 1 ${WARM_ROUNDS:-1}); do echo "warm-up $w:"; postern_batch $WARM; done
fi
PROFILING=${PROFILE:-}
postern_batch $N
grep -c " => x@relay.test" /tmp/relayq/data/log/mainlog
[ "$TLS" = 1 ] && echo "postern deliveries over TLS, by cipher:" && grep " => x@relay.test" /tmp/relayq/data/log/mainlog | grep -o " X=[^ ]*" | sort | uniq -c
kill $PPID_; sleep 1
# --- Postfix
PORT=2600 $BENCH/postfix-anchor.sh start >/dev/null
smtp-source -s 20 -m $N -l 10240 -f a@example.org -t x@relay.test 127.0.0.1:2600
sleep 1
echo "postfix queued: $(PORT=2600 $BENCH/postfix-anchor.sh count)"
postconf -c $RUN/etc -e "relayhost = [127.0.0.1]:$SINK" "default_destination_concurrency_limit = $C" "smtp_destination_concurrency_limit = $C" "initial_destination_concurrency = $C" "smtpd_end_of_data_restrictions ="
if [ "$TLS" = 1 ]; then
  postconf -c $RUN/etc -e "smtp_tls_security_level = encrypt" "smtp_tls_loglevel = 1" "smtp_tls_connection_reuse = $PF_TLS_REUSE"
  # Connection reuse goes through tlsproxy, which the anchor's master.cf lacks.
  postconf -c $RUN/etc -M "tlsproxy/unix=tlsproxy unix - - n - 0 tlsproxy"
fi
postfix -c $RUN/etc reload >/dev/null 2>&1
sleep 1
T0=$(date +%s.%N)
postsuper -c $RUN/etc -H ALL >/dev/null 2>&1; postqueue -c $RUN/etc -f
END=$(( $(date +%s) + 120 ))
while [ "$(PORT=2600 $BENCH/postfix-anchor.sh count)" != 0 ] && [ $(date +%s) -lt $END ]; do sleep 0.05; done
T1=$(date +%s.%N)
FT=$(echo "$T1 - $T0" | bc -l)
echo "postfix relayed $N in $FT s: $(echo "$N / $FT" | bc -l | cut -c1-7) msg/s"
grep -c "status=sent" $RUN/maillog; grep -v "status=sent" $RUN/maillog | grep -i "defer\|refused\|error" | head -3
# smtp(8) logs each delivery's TLS connection as established or reused (tlsproxy logs its own too).
[ "$TLS" = 1 ] && echo "postfix TLS connections (smtp_tls_connection_reuse = $PF_TLS_REUSE):" \
  "$(grep -c "postfix/smtp\[.*TLS connection established" $RUN/maillog) established," \
  "$(grep -c "postfix/smtp\[.*TLS connection reused" $RUN/maillog) reused"
PORT=2600 $BENCH/postfix-anchor.sh stop >/dev/null; rm -rf $RUN
kill $SINKPID
[ "$TLS" = 1 ] && { wait $SINKPID; tail -1 $SINKLOG; }
echo "ratio postern/postfix: $(echo "$FT / $PT" | bc -l | cut -c1-5)"
