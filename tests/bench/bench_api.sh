#!/usr/bin/env bash
# API benchmark (issue "Foundation"): requests/s and p50/p99 latency of
#   GET  /v1/agents/{id}              vs nginx serving a static JSON file of the same size
#   POST /v1/sessions/{id}/events     (a durable append: committed with synchronous=FULL
#                                      before the 200 is sent)
# measured with wrk on loopback in the same run. Prints figures and the GET ratio; exits
# non-zero only when the benchmark cannot run (targets are reported, not asserted).
#
# Durable appends (issue 17): always also measured at exactly 16 connections, with group commit
# (the default) and, for comparison in the same run on the same machine, with
# VIVARIUM_GROUP_COMMIT=off (one commit, one fsync, per append); target >= 5,000/s with group
# commit. The session's agent is busy meanwhile: its model (a local server that accepts and
# never answers, i.e. a model still thinking) holds the first turn open, so the posted
# messages queue behind it as they do for a working agent. Without that, each message would
# start and at once fail a turn of its own (no provider key here), and the figure would
# measure two runtime commits per message, not the append.
#
# usage: bench_api.sh [path/to/vivariumd]
#   BENCH_DURATION (s, default 5)  BENCH_CONNECTIONS (default 16)  BENCH_THREADS (default 2)
set -euo pipefail

vivariumd=${1:-build/bin/vivariumd}
duration=${BENCH_DURATION:-5}
connections=${BENCH_CONNECTIONS:-16}
threads=${BENCH_THREADS:-2}
for tool in wrk nginx curl python3; do
    command -v "$tool" >/dev/null || { echo "bench_api: $tool is not installed" >&2; exit 1; }
done
nginx_bin=$(command -v nginx)

work=$(mktemp -d /tmp/vivarium-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

key="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# --- a model that never answers (keeps the session's turn running) ---------------------------
python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print("listening on", s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept())
' >"$work/model.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q "listening on" "$work/model.log" && break; sleep 0.1; done
model_port=$(awk '/listening on/ { print $3 }' "$work/model.log")
[[ -n "$model_port" ]] || { echo "bench_api: the silent model server did not start"; exit 1; }

# --- vivariumd on an ephemeral loopback port ------------------------------------------------
# start_vivariumd <data dir> <log> [VAR=value ...]: starts it, sets $base
start_vivariumd() {
    local data=$1 log=$2
    shift 2
    env "$@" VIVARIUM_API_KEY="$key" ANTHROPIC_BASE_URL="http://127.0.0.1:$model_port" \
        ANTHROPIC_API_KEY="bench-model-key" "$vivariumd" --listen 127.0.0.1:0 --data-dir "$data" >"$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q "listening on" "$log" && break
        sleep 0.1
    done
    base=$(grep -o 'listening on http://[^ ]*' "$log" | tail -1 | sed 's/listening on //')
    [[ -n "$base" ]] || { echo "bench_api: vivariumd did not start"; cat "$log"; exit 1; }
}
start_vivariumd "$work/data" "$work/vivariumd.log"

api() { curl -sf -H "x-api-key: $key" -H "content-type: application/json" "$@"; }
# First id with the given prefix in a JSON document ("agent", "sesn").
first_id() { grep -o "\"id\":\"$1_[^\"]*\"" | head -1 | cut -d'"' -f4; }

# busy_session: a new session (sets $session_id) whose first turn is running (waiting for the model).
busy_session() {
    session_id=$(api -d "{\"agent\":\"$agent_id\",\"environment_id\":\"$env_id\"}" "$base/v1/sessions" | first_id sesn)
    [[ -n "$session_id" ]] || { echo "bench_api: could not create a session"; exit 1; }
    api -d '{"events":[{"type":"user.message","content":[{"type":"text","text":"think"}]}]}' \
        "$base/v1/sessions/$session_id/events" >/dev/null
    for _ in $(seq 100); do
        api "$base/v1/sessions/$session_id" | grep -q '"status":"running"' && return 0
        sleep 0.05
    done
    echo "bench_api: the session's turn did not start"; exit 1
}

agent_id=$(api -d '{"name":"bench agent","model":"claude-sonnet-4-6","system":"You are a benchmark.","tools":[{"type":"agent_toolset_20260401"}]}' \
    "$base/v1/agents" | first_id agent)
env_id=$(api -d '{"name":"bench environment"}' "$base/v1/environments" | first_id env)
[[ -n "$agent_id" && -n "$env_id" ]] || { echo "bench_api: could not create agent/environment"; exit 1; }
busy_session

# --- nginx serving the same bytes -------------------------------------------------------------
mkdir -p "$work/www" "$work/nginx"
api "$base/v1/agents/$agent_id" >"$work/www/agent.json"
chmod 644 "$work/www/agent.json"
size=$(stat -c %s "$work/www/agent.json")
nginx_port=""
for _ in $(seq 20); do
    candidate=$((20000 + RANDOM % 40000))
    cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
$( [[ $(id -u) -eq 0 ]] && echo "user root;" )
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    server {
        listen 127.0.0.1:$candidate;
        location = /agent.json { default_type application/json; root $work/www; }
    }
}
CONF
    "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" >/dev/null 2>&1 &
    npid=$!
    sleep 0.3
    if kill -0 "$npid" 2>/dev/null && curl -sf "http://127.0.0.1:$candidate/agent.json" >/dev/null; then
        nginx_port=$candidate; pids+=("$npid"); break
    fi
    kill "$npid" 2>/dev/null || true
done
[[ -n "$nginx_port" ]] || { echo "bench_api: nginx did not start"; cat "$work/nginx/error.log"; exit 1; }

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"events":[{"type":"user.message","content":[{"type":"text","text":"benchmark message"}]}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = "$key"
LUA

# wrk --latency → "rps p50_ms p99_ms" (MEASURE_CONNECTIONS overrides the connection count)
measure() {
    local out
    out=$(wrk -t"$threads" -c"${MEASURE_CONNECTIONS:-$connections}" -d"${duration}s" --latency "$@")
    if grep -q "Non-2xx" <<<"$out"; then
        echo "bench_api: non-2xx responses:" >&2; echo "$out" >&2; return 1
    fi
    awk '
        function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
        /Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        END { printf "%.0f %.3f %.3f\n", rps, p50, p99 }' <<<"$out"
}

echo "bench_api: body ${size} bytes, wrk ${threads} threads ${connections} connections ${duration}s each"
read -r v_rps v_p50 v_p99 < <(measure -H "x-api-key: $key" "$base/v1/agents/$agent_id")
read -r n_rps n_p50 n_p99 < <(measure "http://127.0.0.1:$nginx_port/agent.json")
read -r e_rps e_p50 e_p99 < <(measure -s "$work/post.lua" "$base/v1/sessions/$session_id/events")

printf 'bench_api: %-38s %8s req/s  p50 %7s ms  p99 %7s ms\n' \
    "GET /v1/agents/{id} (vivariumd)" "$v_rps" "$v_p50" "$v_p99" \
    "GET /agent.json (nginx, 1 worker)" "$n_rps" "$n_p50" "$n_p99" \
    "POST /v1/sessions/{id}/events (durable)" "$e_rps" "$e_p50" "$e_p99"
ratio=$(awk -v a="$v_rps" -v b="$n_rps" 'BEGIN { printf "%.2f", a / b }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.5) ? "met" : "NOT met" }')
echo "bench_api: GET ratio vivariumd/nginx = $ratio (target >= 0.50: $verdict)"
events=$(api "$base/v1/sessions/$session_id/events?limit=1" >/dev/null && echo ok)
[[ "$events" == ok ]]

# --- durable appends at 16 connections: group commit, then one commit per append -------------
busy_session
read -r g_rps g_p50 g_p99 < <(MEASURE_CONNECTIONS=16 measure -s "$work/post.lua" "$base/v1/sessions/$session_id/events")
start_vivariumd "$work/data-sync" "$work/vivariumd-sync.log" VIVARIUM_GROUP_COMMIT=off
agent_id=$(api -d '{"name":"bench agent","model":"claude-sonnet-4-6"}' "$base/v1/agents" | first_id agent)
env_id=$(api -d '{"name":"bench environment"}' "$base/v1/environments" | first_id env)
busy_session
read -r s_rps s_p50 s_p99 < <(MEASURE_CONNECTIONS=16 measure -s "$work/post.lua" "$base/v1/sessions/$session_id/events")
printf 'bench_api: %-38s %8s req/s  p50 %7s ms  p99 %7s ms\n' \
    "durable appends, 16 conns, group commit" "$g_rps" "$g_p50" "$g_p99" \
    "durable appends, 16 conns, commit each" "$s_rps" "$s_p50" "$s_p99"
verdict=$(awk -v r="$g_rps" 'BEGIN { print (r >= 5000) ? "met" : "NOT met" }')
echo "bench_api: durable appends at 16 connections = $g_rps/s (target >= 5000/s: $verdict)"
