#!/usr/bin/env bash
# Serve normviz to many visitors: K Streamlit processes on local ports behind HAProxy on one port.
#
#   bash deploy/serve.sh --replicas 2 --port 8501
#
# Runs in the foreground. Ctrl-C or SIGTERM stops everything it started. A replica that exits is
# started again on its port (HAProxy sends no new visitor to it meanwhile). Installs nothing:
# it needs the `haproxy` program (Debian/Ubuntu: apt-get install haproxy) and a Python with the
# packages of requirements.txt (./.venv if present, else python3; override with PYTHON=...).
# HAPROXY=... names the haproxy program if it is not on PATH.
set -uo pipefail

usage() {
  cat <<'USAGE'
usage: bash deploy/serve.sh [--replicas K] [--port P] [--address A] [--logs DIR]

  --replicas K   Streamlit processes to run (default 2); each uses about one core and up to
                 NORMVIZ_MEMORY_MB (default 2048) MB of tensors plus about 1 GB.
  --port P       the one port visitors open (default 8501)
  --address A    where the proxy listens (default 0.0.0.0: every interface)
  --logs DIR     keep the replicas' logs and the proxy config in DIR (default: a temporary
                 directory, removed on exit)
USAGE
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPLICAS=2
PORT=8501
ADDRESS=0.0.0.0
LOGS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) REPLICAS=${2:-}; shift 2 ;;
    --port) PORT=${2:-}; shift 2 ;;
    --address) ADDRESS=${2:-}; shift 2 ;;
    --logs) LOGS=${2:-}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "serve.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if ! [[ "$REPLICAS" =~ ^[0-9]+$ ]] || [ "$REPLICAS" -lt 1 ] || [ "$REPLICAS" -gt 64 ]; then
  echo "serve.sh: --replicas must be a whole number from 1 to 64; got '$REPLICAS'." >&2; exit 2
fi
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
  echo "serve.sh: --port must be a port number from 1 to 65535; got '$PORT'." >&2; exit 2
fi

HAPROXY=${HAPROXY:-$(command -v haproxy || { [ -x /usr/sbin/haproxy ] && echo /usr/sbin/haproxy; } || true)}
if [ -z "$HAPROXY" ] || ! [ -x "$HAPROXY" ]; then
  cat >&2 <<'MISSING'
serve.sh: haproxy is not installed. Install it and run this again:
  Debian/Ubuntu:  sudo apt-get install haproxy
  Fedora/RHEL:    sudo dnf install haproxy
  macOS:          brew install haproxy
(To serve a single process without it: streamlit run app.py)
MISSING
  exit 1
fi
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c "import streamlit, numpy, plotly" 2>/dev/null; then
  echo "serve.sh: $PYTHON cannot import streamlit, numpy and plotly. Install the app first:" >&2
  echo "  python3 -m venv .venv && .venv/bin/pip install -r requirements.txt   (or set PYTHON=...)" >&2
  exit 1
fi

# Each replica's memory budget for tensors (NORMVIZ_MEMORY_MB), checked once here.
if ! (cd "$ROOT" && "$PYTHON" -c "
import sys
from normviz import NormvizError
from normviz.budget import limit_from_env
try:
    print(f'serve.sh: memory budget per replica: {limit_from_env() / 2**20:,.0f} MB of tensors (NORMVIZ_MEMORY_MB)')
except NormvizError as err:
    sys.exit(f'serve.sh: {err}')
"); then
  exit 2
fi

# K free local ports for the replicas; the proxy's port must be free too.
PORTS=$("$PYTHON" - "$REPLICAS" "$ADDRESS" "$PORT" <<'PY'
import socket, sys
count, address, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
probe = socket.socket()
try:
    probe.bind((address, port))
except OSError as err:
    sys.exit(f"serve.sh: cannot listen on {address}:{port} ({err.strerror}); choose another --port.")
finally:
    probe.close()
held = []
for _ in range(count):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
PY
) || exit 1
read -r -a REPLICA_PORTS <<<"$PORTS"

if [ -n "$LOGS" ]; then
  mkdir -p "$LOGS" && RUNDIR=$(cd "$LOGS" && pwd) || { echo "serve.sh: cannot create $LOGS" >&2; exit 1; }
  KEEP_RUNDIR=1
else
  RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/normviz-serve.XXXXXX")
  KEEP_RUNDIR=0
fi

SERVERS=""
for i in "${!REPLICA_PORTS[@]}"; do
  SERVERS+="    server r$((i + 1)) 127.0.0.1:${REPLICA_PORTS[$i]} cookie r$((i + 1))"$'\n'
done
CONFIG="$RUNDIR/haproxy.cfg"
while IFS= read -r line; do
  if [ "$line" = "@SERVERS@" ]; then
    printf '%s' "$SERVERS"
  else
    line=${line//@BIND@/$ADDRESS}; line=${line//@PORT@/$PORT}; line=${line//@RUNDIR@/$RUNDIR}
    printf '%s\n' "$line"
  fi
done <"$ROOT/deploy/haproxy.cfg.in" >"$CONFIG"
if ! "$HAPROXY" -c -q -f "$CONFIG"; then
  echo "serve.sh: haproxy rejected the generated config $CONFIG" >&2; exit 1
fi

declare -a PIDS STARTED QUICK_DEATHS
HAPROXY_PID=""
READY_PID=""
STOPPING=0

start_replica() {  # $1: index
  local i=$1
  (cd "$ROOT" && exec "$PYTHON" -m streamlit run app.py \
    --server.headless true --server.address 127.0.0.1 --server.port "${REPLICA_PORTS[$i]}" \
    --server.fileWatcherType none --browser.gatherUsageStats false) >>"$RUNDIR/replica-$((i + 1)).log" 2>&1 &
  PIDS[$i]=$!
  STARTED[$i]=$SECONDS
  echo "serve.sh: replica r$((i + 1)) pid ${PIDS[$i]} port ${REPLICA_PORTS[$i]}"
}

stop_all() {
  local pids=("${PIDS[@]}") pid deadline
  [ -n "$HAPROXY_PID" ] && pids+=("$HAPROXY_PID")
  [ -n "$READY_PID" ] && pids+=("$READY_PID")
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  deadline=$((SECONDS + 10))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  [ "$KEEP_RUNDIR" = 1 ] || rm -rf "$RUNDIR"
}

on_signal() {
  STOPPING=1
}
trap on_signal INT TERM
trap 'stop_all' EXIT

for i in "${!REPLICA_PORTS[@]}"; do
  QUICK_DEATHS[$i]=0
  start_replica "$i"
done
# Start the proxy once every replica answers its health check (or after 120 s, whatever is up).
"$PYTHON" - "${REPLICA_PORTS[@]}" <<'PY' &
import sys, time, urllib.request
pending = set(sys.argv[1:])
deadline = time.monotonic() + 120
while pending and time.monotonic() < deadline:
    for port in sorted(pending):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    pending.discard(port)
        except OSError:
            pass
    time.sleep(0.3)
if pending:
    print(f"serve.sh: replicas on ports {' '.join(sorted(pending))} are not up after 120 s; see their logs",
          flush=True)
PY
READY_PID=$!
echo "serve.sh: waiting for the replicas to start…"
while kill -0 "$READY_PID" 2>/dev/null; do
  wait "$READY_PID" 2>/dev/null
  if [ "$STOPPING" = 1 ]; then echo "serve.sh: stopping"; exit 0; fi
done
READY_PID=""
"$HAPROXY" -db -f "$CONFIG" &
HAPROXY_PID=$!
echo "serve.sh: haproxy pid $HAPROXY_PID; config and logs in $RUNDIR"
if [ "$ADDRESS" = 0.0.0.0 ]; then SHOWN=localhost; else SHOWN=$ADDRESS; fi
echo "serve.sh: serving normviz with $REPLICAS replica(s) on http://$SHOWN:$PORT — Ctrl-C stops"

while [ "$STOPPING" = 0 ]; do
  ended=""
  wait -n -p ended "${PIDS[@]}" "$HAPROXY_PID" 2>/dev/null
  rc=$?
  [ "$STOPPING" = 1 ] && break
  [ -z "$ended" ] && continue
  if [ "$ended" = "$HAPROXY_PID" ]; then
    HAPROXY_PID=""
    KEEP_RUNDIR=1
    echo "serve.sh: haproxy exited (status $rc); stopping the replicas. Logs kept in $RUNDIR" >&2
    exit 1
  fi
  for i in "${!PIDS[@]}"; do
    [ "${PIDS[$i]}" = "$ended" ] || continue
    log="$RUNDIR/replica-$((i + 1)).log"
    echo "serve.sh: replica r$((i + 1)) (port ${REPLICA_PORTS[$i]}) exited with status $rc; its log ends:" >&2
    tail -n 5 "$log" | sed 's/^/    /' >&2
    if [ $((SECONDS - STARTED[i])) -lt 30 ]; then
      QUICK_DEATHS[$i]=$((QUICK_DEATHS[i] + 1))
    else
      QUICK_DEATHS[$i]=0
    fi
    if [ "${QUICK_DEATHS[$i]}" -ge 5 ]; then
      KEEP_RUNDIR=1
      echo "serve.sh: replica r$((i + 1)) failed 5 times in a row within 30 s of starting; stopping. See $log" >&2
      exit 1
    fi
    sleep 1
    [ "$STOPPING" = 1 ] && break
    echo "serve.sh: restarting replica r$((i + 1))" >&2
    start_replica "$i"
  done
done
echo "serve.sh: stopping"
exit 0
