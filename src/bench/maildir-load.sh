#!/bin/bash
# Accept + local maildir delivery, end to end, Postern beside Postfix in one interleaved run:
#  - Postern on its shipped configuration (local delivery into maildir_directory), on $PPORT;
#  - Postfix 3.7 (Debian package) with its virtual(8) delivery agent writing every message for
#    @example.test into one maildir, on $FPORT (a private instance beside ../shared/bench's anchor,
#    rendered from its main.cf.in/master.cf.in without the hold queue).
# Each cell sends N x 10 KB messages with smtp-source (C sessions, one message per connection or
# all over the same connections) and is timed from the first message sent to the last message in
# the maildir's new/; server CPU is that of the whole process tree over the same span.
# Usage (from the repository, after mvn package):
#   N=2000 CONCS="1 10 50" MODES="conn persist" REPS=2 src/bench/maildir-load.sh
# JARS="base=/tmp/base.jar after=target/postern.jar": several Postern builds, each on its own port
#   (PPORT, PPORT+10, ...) and data directory, interleaved cell by cell with Postfix (default: one,
#   JAR or target/postern.jar). Every Postern runs through the launcher (src/dist/bin/postern -bd),
#   so with the JVM flags the README's run command uses.
# PROFILE=/tmp/prefix: async-profiler (AP=/tmp/ap, Attach.class beside it) is attached to each
#   Postern after the warm-up and writes its collapsed CPU stacks to /tmp/prefix-NAME.collapsed at
#   the end (the measured cells then include the profiler's own cost: use such a run for the
#   profile, not for the figures).
# Needs root, postfix (smtp-source), python3. Ports: PPORT (2710) for Postern, FPORT (2711).
# ANCHOR_DIR: the shared anchor's postfix/ templates (default ../shared/bench/postfix beside the repository).
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-2000}; CONCS=${CONCS:-"1 10 50"}; MODES=${MODES:-"conn persist"}; REPS=${REPS:-2}
PPORT=${PPORT:-2710}; FPORT=${FPORT:-2711}; WARM=${WARM:-2000}
JAR=${JAR:-$REPO/target/postern.jar}
JARS=${JARS:-"postern=$JAR"}
AP=${AP:-/tmp/ap}; PROFILE=${PROFILE:-}
SHARED=${ANCHOR_DIR:-$REPO/../shared/bench/postfix}
RUN=/tmp/postern-bench/maildir-load
PF=$RUN/postfix; PQ=$PF/queue; PBOX=$PF/maildir

mkdir -p $RUN
# --- Postfix: the shared anchor's configuration, delivering instead of holding.
postfix -c $PF/etc stop >/dev/null 2>&1
rm -rf $PF && mkdir -p $PF/etc $PQ $PF/data $PBOX
sed "s#@RUN@#$PF#g" $SHARED/main.cf.in | grep -v '^smtpd_end_of_data_restrictions\|^mydestination' > $PF/etc/main.cf
sed "s#@PORT@#$FPORT#" $SHARED/master.cf.in > $PF/etc/master.cf
cat >> $PF/etc/main.cf <<CF
# Every recipient @example.test into the maildir $PBOX/user/ (trailing slash: maildir format).
mydestination = localhost
virtual_mailbox_domains = example.test
virtual_mailbox_base = $PBOX
virtual_mailbox_maps = static:user/
virtual_uid_maps = static:$(id -u postfix)
virtual_gid_maps = static:$(id -g postfix)
virtual_minimum_uid = 1
CF
chown postfix $PF/data $PBOX
postfix -c $PF/etc start >/dev/null || exit 1
# --- Postern: the shipped configuration on its own port and data directory, one per build.
NAMES=(); PORTS=(); PIDS=(); i=0
for spec in $JARS; do
  name=${spec%%=*}; jar=${spec#*=}; [ "${jar#/}" = "$jar" ] && jar=$REPO/$jar
  port=$((PPORT + 10 * i)); dir=$RUN/postern-$name
  [ -s $dir.pid ] && kill "$(cat $dir.pid)" 2>/dev/null
  rm -rf $dir && mkdir -p $dir && cp -r $REPO/conf $dir/
  sed -i "s/^  smtp: .*/  smtp:       { address: 127.0.0.1, port: $port }/; /^  submission:/d; /^  smtps:/d; \
    s/^tls_on_connect_ports:.*/tls_on_connect_ports: $((port + 50))/; s/^smtp_accept_max_per_host:.*/smtp_accept_max_per_host: 0/" \
    $dir/conf/postern.yaml
  (cd $dir && POSTERN_JAR=$jar exec $REPO/src/dist/bin/postern -bd -C $dir/conf/postern.yaml > $dir/out.log 2>&1) &
  echo $! > $dir.pid
  for t in $(seq 1 150); do grep -q "listening for SMTP" $dir/out.log && break; sleep 0.2; done
  NAMES+=($name); PORTS+=($port); PIDS+=($(cat $dir.pid)); i=$((i + 1))
done
PFMASTER=$(tr -d ' ' < $PQ/pid/master.pid)

# CPU seconds of a process tree (live processes and the children they reaped).
tree_cpu() {
  python3 - "$1" <<'PY'
import os, sys
root = int(sys.argv[1]); tick = os.sysconf('SC_CLK_TCK'); kids = {}; stat = {}
for p in os.listdir('/proc'):
    if p.isdigit():
        try:
            f = open('/proc/%s/stat' % p).read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        stat[int(p)] = f; kids.setdefault(int(f[1]), []).append(int(p))
todo, total = [root], 0
while todo:
    p = todo.pop(); f = stat.get(p)
    if f:
        total += sum(int(x) for x in f[11:15]); todo += kids.get(p, [])
print('%.2f' % (total / tick))
PY
}
count() { find "$1" -path '*/new/*' -type f 2>/dev/null | wc -l; }

# cell NAME PORT RCPT BOX ROOTPID C MODE: prints msg/s, seconds, CPU ms per message
cell() {
  local name=$1 port=$2 rcpt=$3 box=$4 pid=$5 c=$6 mode=$7 before target t0 t1 cpu0 cpu1 now flag=""
  [ "$mode" = persist ] && flag=-d
  before=$(count $box); target=$((before + N))
  cpu0=$(tree_cpu $pid); t0=$(date +%s.%N)
  smtp-source $flag -s $c -m $N -l 10240 -f sender@example.test -t $rcpt 127.0.0.1:$port || echo "$name: smtp-source failed"
  for i in $(seq 1 6000); do now=$(count $box); [ "$now" -ge "$target" ] && break; sleep 0.05; done
  t1=$(date +%s.%N); cpu1=$(tree_cpu $pid)
  python3 -c "import sys; w=$t1-$t0; print('%-8s %-7s c=%-3s %8.1f msg/s  %6.2f s  %5.2f ms CPU/msg  delivered %d/%d' % ('$name','$mode',$c,$N/w,w,($cpu1-$cpu0)*1000/$N,$now-$before,$N))"
}

echo "maildir-load: N=$N CONCS='$CONCS' MODES='$MODES' REPS=$REPS posterns ${NAMES[*]} (pids ${PIDS[*]}), postfix master $PFMASTER"
# Warm-up (both servers' JIT, caches, first maildir creation), not measured.
for k in "${!NAMES[@]}"; do
  smtp-source -s 10 -m $WARM -l 10240 -f sender@example.test -t admin@localhost 127.0.0.1:${PORTS[$k]}
done
smtp-source -s 10 -m $WARM -l 10240 -f sender@example.test -t user@example.test 127.0.0.1:$FPORT
if [ -n "$PROFILE" ]; then
  for k in "${!NAMES[@]}"; do
    java -cp $AP Attach ${PIDS[$k]} $AP/linux-x64/libasyncProfiler.so start,event=cpu,interval=1ms
  done
fi
for r in $(seq 1 $REPS); do
  for mode in $MODES; do
    for c in $CONCS; do
      for k in "${!NAMES[@]}"; do
        cell ${NAMES[$k]} ${PORTS[$k]} admin@localhost $RUN/postern-${NAMES[$k]}/data/maildir ${PIDS[$k]} $c $mode
      done
      cell postfix $FPORT user@example.test $PBOX $PFMASTER $c $mode
    done
  done
done
for k in "${!NAMES[@]}"; do
  [ -n "$PROFILE" ] && java -cp $AP Attach ${PIDS[$k]} $AP/linux-x64/libasyncProfiler.so stop,file=$PROFILE-${NAMES[$k]}.collapsed,collapsed
  kill ${PIDS[$k]}; rm -f $RUN/postern-${NAMES[$k]}.pid
done
postfix -c $PF/etc stop >/dev/null 2>&1
