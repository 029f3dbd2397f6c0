#!/usr/bin/env bash
# The one test command: formatting, lints, unit and integration tests, our
# sqllogictest suites, and the SQLite corpus (when present) against its
# recorded baseline pass count.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
# A hung test fails the run (cargo names tests running over 60 s) instead
# of running CI out of time; the whole step takes a few minutes.
timeout 2700 cargo test --workspace || { echo "cargo test failed or ran past 45 minutes"; exit 1; }

echo "== release build of the sqllogictest runner"
cargo build --release -p mizzle-slt
SLT=./target/release/mizzle-slt

COUNTS_DIR=$(mktemp -d /tmp/mizzle-counts.XXXXXX)
for engine in memory disk; do
    echo "== sql-tests/suite and sql-tests/isolation on the $engine engine (every record must pass)"
    "$SLT" --engine "$engine" --jobs 2 --quiet sql-tests/suite sql-tests/isolation | tee "$COUNTS_DIR/$engine"
done

echo "== sql-tests/suite and sql-tests/isolation over the wire (release mizzled on a free loopback port)"
cargo build --release -p mizzled
# A hang fails the run within minutes, with the server's threads printed,
# instead of running CI out of time.
dump_threads() {
    echo "mizzled (pid $1) is stuck; its threads:"
    if command -v gdb >/dev/null 2>&1; then
        gdb -p "$1" -batch -ex "thread apply all bt 25" 2>/dev/null | grep -E '^(Thread|#)' | head -400 || true
    else
        echo "(gdb is not installed: no stacks)"
    fi
}
WIRE_DIR=$(mktemp -d /tmp/mizzle-wire.XXXXXX)
./target/release/mizzled --datadir "$WIRE_DIR/data" --bind 127.0.0.1 --port 0 --initial-password slt-pw \
    --max-connections 500 --secure-file-priv sql-tests --local-infile --log warn >"$WIRE_DIR/out" 2>"$WIRE_DIR/err" &
WIRE_PID=$!
for _ in $(seq 1 300); do grep -q "ready for connections" "$WIRE_DIR/out" && break; sleep 0.1; done
WIRE_ADDR=$(sed -n 's/^mizzled: ready for connections on //p' "$WIRE_DIR/out")
wire_status=0
MIZZLE_SLT_PASSWORD=slt-pw timeout 900 "$SLT" --server "$WIRE_ADDR" --jobs 2 --quiet sql-tests/suite sql-tests/isolation \
    | tee "$COUNTS_DIR/wire" || wire_status=$?
# The same records pass and skip over the wire as embedded (a record that
# differs by front end has an `onlyif server` counterpart).
if [ "$wire_status" -eq 0 ] && [ "$(tail -1 "$COUNTS_DIR/wire")" != "$(tail -1 "$COUNTS_DIR/memory")" ]; then
    echo "over the wire the suites counted '$(tail -1 "$COUNTS_DIR/wire")', embedded '$(tail -1 "$COUNTS_DIR/memory")'"
    wire_status=1
fi
CORPUS="${MIZZLE_SLT_CORPUS:-../shared/sqllogictest}"
if [ "$wire_status" -eq 0 ] && [ -d "$CORPUS" ]; then
    BASELINE=$(grep -v '^#' sql-tests/corpus-baseline.txt | tr -d '[:space:]')
    echo "== corpus $CORPUS over the wire (baseline: $BASELINE passed records)"
    MIZZLE_SLT_PASSWORD=slt-pw timeout 2400 "$SLT" --server "$WIRE_ADDR" --jobs 2 --quiet --min-passed "$BASELINE" "$CORPUS" \
        || wire_status=$?
fi
[ "$wire_status" -ne 124 ] || { echo "the over-the-wire run timed out"; dump_threads "$WIRE_PID"; }
# Clean shutdown within a minute, or the threads are printed and it fails.
kill -TERM "$WIRE_PID"
for _ in $(seq 1 600); do kill -0 "$WIRE_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$WIRE_PID" 2>/dev/null; then
    echo "mizzled did not stop within 60 s of SIGTERM"
    dump_threads "$WIRE_PID"
    kill -KILL "$WIRE_PID"
    wire_status=1
fi
wait "$WIRE_PID" || wire_status=1
rm -rf "$WIRE_DIR" "$COUNTS_DIR"
[ "$wire_status" -eq 0 ] || { echo "over-the-wire run failed"; exit 1; }

# A short slice of the chaos clients (scripts/chaos.sh: lock waits, DDL,
# temporary tables, KILL QUERY, vanishing clients) on a one-worker server.
if python3 -c 'import pymysql' >/dev/null 2>&1; then
    echo "== chaos clients against mizzled (one worker, 15 s)"
    DUR=15 THREADS=12 ./scripts/chaos.sh
elif [ -n "${CI:-}" ]; then
    echo "PyMySQL is missing (needed by scripts/chaos.sh)"; exit 1
else
    echo "== chaos clients skipped (no PyMySQL)"
fi

CORPUS="${MIZZLE_SLT_CORPUS:-../shared/sqllogictest}"
if [ -d "$CORPUS" ]; then
    BASELINE=$(grep -v '^#' sql-tests/corpus-baseline.txt | tr -d '[:space:]')
    for engine in memory disk; do
        echo "== corpus $CORPUS on the $engine engine (baseline: $BASELINE passed records)"
        "$SLT" --engine "$engine" --jobs 2 --quiet --min-passed "$BASELINE" "$CORPUS"
    done
else
    echo "== corpus not found at $CORPUS; skipped (set MIZZLE_SLT_CORPUS)"
fi
echo "== all tests passed"
