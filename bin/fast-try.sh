#!/usr/bin/env bash
# RocketMQ-on-DLedger's quick start: a name server and a three-node broker group on localhost.
#   bin/fast-try.sh start   name server on 9876, brokers n0..n2 (conf/dledger/broker-n*.conf),
#                           stores under /tmp/rmqstore/node00..02, logs and pid files under
#                           /tmp/rmqstore/logs and /tmp/rmqstore/pids
#   bin/fast-try.sh stop    stops exactly the processes it started (by their pid files)
# FAST_TRY_CONF_DIR, FAST_TRY_NAMESRV_CONF and FAST_TRY_HOME point elsewhere (tests use them).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
conf_dir="${FAST_TRY_CONF_DIR:-$root/conf/dledger}"
namesrv_conf="${FAST_TRY_NAMESRV_CONF:-$root/conf/namesrv.conf}"
home="${FAST_TRY_HOME:-/tmp/rmqstore}"
logs="$home/logs"
pids="$home/pids"
nodes=(n0 n1 n2)

die() { echo "fast-try: $*" >&2; exit 1; }

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# start NAME LOG READY_REGEX COMMAND...: background, pid file, wait for the ready line
start_one() {
  local name="$1" log="$2" ready="$3"; shift 3
  local pidf="$pids/$name.pid"
  if running "$pidf"; then echo "$name is already running (pid $(cat "$pidf"))"; return 0; fi
  : > "$log"
  nohup "$@" >> "$log" 2>&1 &
  echo $! > "$pidf"
  for _ in $(seq 1 600); do
    if grep -qE "$ready" "$log"; then echo "$name started (pid $(cat "$pidf")), log $log"; return 0; fi
    if ! kill -0 "$(cat "$pidf")" 2>/dev/null; then tail -n 20 "$log" >&2; rm -f "$pidf"; die "$name exited during start; see $log"; fi
    sleep 0.1
  done
  die "$name did not report a successful start within 60 s; see $log"
}

stop_one() {
  local name="$1" pidf="$pids/$1.pid"
  [ -f "$pidf" ] || return 0
  local pid; pid="$(cat "$pidf")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; echo "$name (pid $pid) killed after 10 s"; else echo "$name (pid $pid) stopped"; fi
  fi
  rm -f "$pidf"
}

case "${1:-}" in
  start)
    [ -f "$root/dist/server/cli/brokerMain.js" ] || die "not built: run npm ci && npm run build first"
    [ -f "$namesrv_conf" ] || die "missing $namesrv_conf"
    for n in "${nodes[@]}"; do [ -f "$conf_dir/broker-$n.conf" ] || die "missing $conf_dir/broker-$n.conf"; done
    mkdir -p "$logs" "$pids"
    start_one namesrv "$logs/namesrv.log" 'boot success' "$here/mqnamesrv" -c "$namesrv_conf"
    # the brokers start together: each waits for the others to form the Raft group
    starting=()
    for n in "${nodes[@]}"; do
      if running "$pids/broker-$n.pid"; then echo "broker $n is already running (pid $(cat "$pids/broker-$n.pid"))"; continue; fi
      nohup "$here/mqbroker" -c "$conf_dir/broker-$n.conf" > "$logs/broker-$n.log" 2>&1 &
      echo $! > "$pids/broker-$n.pid"
      starting+=("$n")
    done
    for n in ${starting[@]+"${starting[@]}"}; do
      for _ in $(seq 1 600); do
        grep -q 'boot success' "$logs/broker-$n.log" && break
        kill -0 "$(cat "$pids/broker-$n.pid")" 2>/dev/null || { tail -n 20 "$logs/broker-$n.log" >&2; die "broker $n exited during start; see $logs/broker-$n.log"; }
        sleep 0.1
      done
      grep -q 'boot success' "$logs/broker-$n.log" || die "broker $n did not start within 60 s; see $logs/broker-$n.log"
      echo "broker $n started (pid $(cat "$pids/broker-$n.pid")), log $logs/broker-$n.log"
    done
    echo "try: bin/mqadmin clusterList -n 127.0.0.1:$(sed -n 's/^listenPort *= *//p' "$namesrv_conf" | head -n1)"
    ;;
  stop)
    for n in "${nodes[@]}"; do stop_one "broker-$n" & done
    wait
    stop_one namesrv
    ;;
  *)
    echo "usage: bin/fast-try.sh start|stop" >&2
    exit 1
    ;;
esac
