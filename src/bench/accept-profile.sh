#!/bin/sh
# accept-profile.sh - async-profiler (cpu and alloc) over one persist and one conn run of
# smtp-source against a running Postern (queue_only: true), attached only for the measured runs.
#
#   PID=<postern pid> PORT=<its smtp port> OUT=/tmp/x src/bench/accept-profile.sh
#
# Writes $OUT-{persist,conn}-{cpu,alloc}.collapsed and prints the server's CPU ticks (utime+stime,
# 1/100 s) and wall time of each run. Env: WARM (messages sent first, persist c=50, then a fifth
# of them one per connection; 0 = none), N_PERSIST [5000], N_CONN [3000], C [50],
# AP [/tmp/ap/linux-x64/libasyncProfiler.so], ATTACH [/tmp/ap: a class Attach(pid, lib, options)
# calling VirtualMachine.loadAgentPath]. Run it under the machine's benchmark lock.
# Summarise with src/bench/profile-summary.py FILE [MESSAGES].
set -eu
: "${PID:?}" "${PORT:?}" "${OUT:?}"
AP=${AP:-/tmp/ap/linux-x64/libasyncProfiler.so}; ATTACH=${ATTACH:-/tmp/ap}
WARM=${WARM:-10000}; N_PERSIST=${N_PERSIST:-5000}; N_CONN=${N_CONN:-3000}; C=${C:-50}
SRC="smtp-source -l 10240 -f sender@example.test -t postmaster@localhost"
if [ "$WARM" -gt 0 ]; then
  $SRC -s "$C" -m "$WARM" -d 127.0.0.1:"$PORT"
  $SRC -s "$C" -m $((WARM / 5)) 127.0.0.1:"$PORT"
fi
ticks() { awk '{print $14 + $15}' /proc/"$PID"/stat; }
for mode in persist conn; do
  for ev in cpu alloc; do
    if [ $ev = cpu ]; then opt="event=cpu,interval=1ms"; else opt="event=alloc"; fi
    java -cp "$ATTACH" Attach "$PID" "$AP" "start,$opt,threads"
    t0=$(ticks); s=$(date +%s.%N)
    if [ $mode = persist ]; then $SRC -s "$C" -m "$N_PERSIST" -d 127.0.0.1:"$PORT"; else $SRC -s "$C" -m "$N_CONN" 127.0.0.1:"$PORT"; fi
    e=$(date +%s.%N); t1=$(ticks)
    java -cp "$ATTACH" Attach "$PID" "$AP" "stop,file=$OUT-$mode-$ev.collapsed,collapsed"
    echo "$mode $ev: server ticks $((t1 - t0)) wall $(echo "$e - $s" | bc)"
  done
done
