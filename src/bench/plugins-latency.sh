#!/bin/bash
# RCPT and end-of-DATA latency of Postern without plugins, with the greylist plugin and with
# OpenDKIM behind the milter client, at C=1 and C=50 (transaction-latency.py, one run each).
# Usage (from the repository, after mvn package): N=500 src/bench/plugins-latency.sh
# Needs opendkim and opendkim-tools. Postern runs on 127.0.0.1:2625 with queue_only (nothing is
# delivered: the figures are the session's and the spool's), OpenDKIM on 127.0.0.1:8891. Clients
# connect from 127.0.0.2, which is not a relay host, so greylisting looks every RCPT up (its delay
# is 0s and the triplet is made once first, so every RCPT passes).
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-500}; DIR=/tmp/postern-plugins-bench; PORT=2625
rm -rf $DIR && mkdir -p $DIR/dkim && cp -r $REPO/conf $DIR/
sed -i "s/port: 2525/port: $PORT/; s/port: 2587/port: 2687/; s/port: 2465/port: 2665/; s/^tls_on_connect_ports: 2465/tls_on_connect_ports: 2665/" $DIR/conf/postern.yaml
echo "queue_only: true" >> $DIR/conf/postern.yaml
cp $DIR/conf/acl.yaml $DIR/acl.none.yaml
python3 - "$REPO" "$DIR" <<'PY'
import json, sys
repo, d = sys.argv[1], sys.argv[2]
base = json.load(open(repo + "/verticles.json"))
plugins = {"none": None,
           "greylist": {"name": "org.postern.plugins.greylist.GreylistVerticle", "config": {"delay": "0s"}},
           "milter": {"name": "org.postern.plugins.milter.MilterVerticle",
                      "config": {"milters": ["inet:127.0.0.1:8891"]}}}
for name, entry in plugins.items():
    v = json.loads(json.dumps(base))
    if entry:
        v["verticles"].append(entry)
    json.dump(v, open("%s/verticles.%s.json" % (d, name), "w"), indent=1)
acl = open(d + "/acl.none.yaml").read()
open(d + "/acl.greylist.yaml", "w").write(acl.replace('  - accept:  { hosts: ":" }\n',
    '  - accept:  { hosts: ":" }\n  - defer:   { plugin: greylist, message: "451 4.7.1 Greylisted, please try later" }\n', 1))
PY
cp $DIR/acl.none.yaml $DIR/acl.milter.yaml
(cd $DIR/dkim && opendkim-genkey -D . -d example.org -s test)
printf 'Mode s\nDomain example.org\nSelector test\nKeyFile %s\nSocket inet:8891@127.0.0.1\nBackground no\nSyslog no\nRequireSafeKeys no\nInternalHosts 127.0.0.0/8\n' \
  $DIR/dkim/test.private > $DIR/dkim/opendkim.conf
opendkim -f -x $DIR/dkim/opendkim.conf > $DIR/dkim/out.log 2>&1 &
DKIM=$!
for variant in none greylist milter; do
  cp $DIR/verticles.$variant.json $DIR/verticles.json
  cp $DIR/acl.$variant.yaml $DIR/conf/acl.yaml
  rm -rf $DIR/data
  (cd $DIR && exec java -jar $REPO/target/postern.jar -C $DIR/conf/postern.yaml > $DIR/out.$variant.log 2>&1) &
  PID=$!
  for i in $(seq 1 100); do grep -qs "listening for SMTP (smtp)" $DIR/out.$variant.log && break; sleep 0.2; done
  for c in 1 50; do
    echo -n "$variant: "
    python3 $REPO/src/bench/transaction-latency.py 127.0.0.1 $PORT --conc $c --count $((c == 1 ? N : N / 10)) \
      --warmup 20 --rcpt postmaster@localhost --source 127.0.0.2 --prime
  done
  kill $PID; wait $PID 2>/dev/null
done
kill $DKIM; wait $DKIM 2>/dev/null
