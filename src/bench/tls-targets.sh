#!/bin/bash
# tls-targets.sh start|stop — the servers src/bench/starttls-load.py compares, all with one RSA-2048
# key and certificate (generated once into $RUN/tls) and TLS 1.2 + 1.3:
#  - Postfix 3.7, the shared anchor (../shared/bench/postfix-anchor.sh, its own instance under
#    $RUN/postfix) with smtpd_tls_security_level=may on $FPORT (STARTTLS) and a second smtpd with
#    smtpd_tls_wrappermode=yes on $((FPORT+1)) (implicit TLS). Its hold queue keeps every message
#    after the fsync'ed queue-file write, as the anchor always does.
#  - one Postern per entry of POSTERNS="NAME:ENGINE:PORT[:JAR] ...", queue_only, STARTTLS on PORT and
#    tls_on_connect_ports PORT+1, on the shipped configuration otherwise. JAVA_OPTS goes to every
#    Postern, JAVA_OPTS_NAME (e.g. JAVA_OPTS_c1="-XX:TieredStopAtLevel=1") to Postern NAME only.
# Neither server is given a client session to resume (the load script offers none unless --resume),
# so every handshake is full; both still issue TLS 1.3 tickets, as they do by default.
# start prints the target arguments for starttls-load.py (STARTTLS and implicit ports, root pid).
# Usage (from the repository, after mvn package; needs root and postfix):
#   POSTERNS="openssl:openssl:2851 jdk:jdk:2861" src/bench/tls-targets.sh start
#   flock /tmp/postern-bench.lock python3 src/bench/starttls-load.py --modes starttls implicit \
#     --anchor postfix $(cat /tmp/postern-bench/tls/targets)
#   src/bench/tls-targets.sh stop
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
RUN=${RUN:-/tmp/postern-bench/tls}
FPORT=${FPORT:-2871}
POSTERNS=${POSTERNS:-"openssl:openssl:2851 jdk:jdk:2861"}
JAR=${JAR:-$REPO/target/postern.jar}
ANCHOR=${ANCHOR:-$REPO/../shared/bench/postfix-anchor.sh}
[ -x "$ANCHOR" ] || ANCHOR=/work/shared/bench/postfix-anchor.sh
PF=$RUN/postfix

stop() {
  for f in "$RUN"/*.pid; do
    [ -s "$f" ] || continue
    p=$(cat "$f"); kill "$p" 2>/dev/null || true
    for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    rm -f "$f"
  done
  [ -d "$PF/etc" ] && POSTFIX_RUN=$PF "$ANCHOR" stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start)
    stop
    mkdir -p "$RUN"
    if [ ! -s "$RUN/key.pem" ]; then
      openssl req -x509 -newkey rsa:2048 -nodes -keyout "$RUN/key.pem" -out "$RUN/cert.pem" -days 30 \
        -subj /CN=bench.example.test -addext subjectAltName=DNS:bench.example.test 2>/dev/null
      chmod 644 "$RUN/key.pem"   # postfix's smtpd reads it as root at start; Postern as this user
    fi
    # --- Postfix: the shared anchor, then TLS on, then a wrapper-mode smtpd on FPORT+1.
    POSTFIX_RUN=$PF PORT=$FPORT "$ANCHOR" start >/dev/null
    postconf -c "$PF/etc" -e \
      smtpd_tls_security_level=may \
      "smtpd_tls_cert_file=$RUN/cert.pem" "smtpd_tls_key_file=$RUN/key.pem" \
      "smtpd_tls_protocols=>=TLSv1.2" "smtpd_tls_mandatory_protocols=>=TLSv1.2" \
      smtpd_tls_loglevel=0 smtpd_tls_received_header=no
    echo "$((FPORT + 1)) inet n - n - 6000 smtpd -o smtpd_tls_wrappermode=yes" >> "$PF/etc/master.cf"
    postfix -c "$PF/etc" reload >/dev/null 2>&1
    targets="postfix=127.0.0.1:$FPORT:$(POSTFIX_RUN=$PF "$ANCHOR" pid):$((FPORT + 1))"
    # --- Posterns.
    for spec in $POSTERNS; do
      IFS=: read -r name engine port jar <<<"$spec"
      jar=${jar:-$JAR}; dir=$RUN/postern-$name
      rm -rf "$dir" && mkdir -p "$dir" && cp -r "$REPO/conf" "$dir/"
      sed -i "s/^  smtp: .*/  smtp:       { address: 127.0.0.1, port: $port }/; /^  submission:/d; \
        s/^  smtps: .*/  smtps:      { address: 127.0.0.1, port: $((port + 1)) }/; \
        s/^tls_on_connect_ports:.*/tls_on_connect_ports: $((port + 1))/; \
        s/^smtp_accept_max_per_host:.*/smtp_accept_max_per_host: 0/" "$dir/conf/postern.yaml"
      cat >> "$dir/conf/postern.yaml" <<CF
tls_certificate: $RUN/cert.pem
tls_privatekey: $RUN/key.pem
tls_engine: $engine
queue_only: true
CF
      # The launcher's JVM flags (src/dist/bin/postern), -bd keeping the full JIT.
      own="JAVA_OPTS_$name"
      (cd "$dir" && exec java -Xms32m -Xmx256m -XX:+UseSerialGC -Xss512k -XX:ReservedCodeCacheSize=64m \
        -XX:MaxDirectMemorySize=128m -Dfile.encoding=UTF-8 ${JAVA_OPTS:-} ${!own:-} -jar "$jar" -bd \
        -C "$dir/conf/postern.yaml" > "$dir/out.log" 2>&1) &
      echo $! > "$RUN/$name.pid"
      for i in $(seq 1 150); do grep -q "listening for SMTP" "$dir/out.log" 2>/dev/null && break; sleep 0.2; done
      grep -q "listening for SMTP" "$dir/out.log" || { echo "postern $name did not start: $dir/out.log"; exit 1; }
      targets="$targets $name=127.0.0.1:$port:$(cat "$RUN/$name.pid"):$((port + 1))"
    done
    echo "$targets" | tee "$RUN/targets" ;;
  stop) stop ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
