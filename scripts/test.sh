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
cargo test --workspace

echo "== release build of the sqllogictest runner"
cargo build --release -p mizzle-slt
SLT=./target/release/mizzle-slt

for engine in memory disk; do
    echo "== sql-tests/suite and sql-tests/isolation on the $engine engine (every record must pass)"
    "$SLT" --engine "$engine" --jobs 2 --quiet sql-tests/suite sql-tests/isolation
done

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
