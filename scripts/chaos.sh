#!/usr/bin/env bash
# Starts a release mizzled (one worker unless WORKERS is set) on a free
# loopback port, runs scripts/chaos.py against it (DUR seconds, THREADS
# clients), then requires a clean stop within 30 s of SIGTERM; a stuck
# server's threads are printed (gdb) and it fails. Needs PyMySQL.
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p mizzled
W=$(mktemp -d /tmp/mizzle-chaos.XXXXXX)
./target/release/mizzled --datadir "$W/d" --bind 127.0.0.1 --port 0 --initial-password pw --log warn \
    --workers "${WORKERS:-1}" --max-connections 500 >"$W/out" 2>"$W/err" &
PID=$!
for _ in $(seq 1 100); do grep -q "ready for connections" "$W/out" && break; sleep 0.1; done
PORT=$(sed -n 's/^mizzled: ready for connections on .*://p' "$W/out")
status=0
out=$(timeout "$(( ${DUR:-30} + 120 ))" python3 scripts/chaos.py "$PORT" "${DUR:-30}" "${THREADS:-12}") || status=1
echo "$out"
echo "$out" | grep -q "errors 0 " || status=1
kill -TERM "$PID"
for _ in $(seq 1 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then
    echo "mizzled did not stop within 30 s of SIGTERM; its threads:"
    if command -v gdb >/dev/null 2>&1; then
        gdb -p "$PID" -batch -ex "thread apply all bt 20" 2>/dev/null | grep -E '^(Thread|#)' | head -300
    else
        echo "(gdb is not installed: no stacks)"
    fi
    kill -KILL "$PID"
    status=1
fi
wait "$PID" || status=1
rm -rf "$W"
[ "$status" -eq 0 ] && echo "chaos: passed" || echo "chaos: FAILED"
exit "$status"
