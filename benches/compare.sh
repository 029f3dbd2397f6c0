#!/usr/bin/env bash
# Compares mizzle with SQLite on the embedded anchor workload (W1-W6 of
# shared/bench/WORKLOAD.md): builds the `workload` program in release, runs
# the engines alternately (mizzle mizzle-memory sqlite mizzle ..., ROUNDS
# rounds) and prints, per step, each engine's mean ops_per_s over its rounds
# and the ratios mizzle/sqlite (mizzle on its disk engine), mizzle-memory/
# sqlite, and disk/memory (above 1: the first is faster). Only ratios from
# one run mean anything; the machine is noisy.
#
# Usage: benches/compare.sh [workload arguments...]   (none: --quick)
#        e.g. benches/compare.sh --rows 1000000
# Environment: ROUNDS (default 2), ENGINES (default "mizzle mizzle-memory
# sqlite"), CARGO_TARGET_DIR (default <repo>/target).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
rounds=${ROUNDS:-2}
if [ $# -eq 0 ]; then
    set -- --quick
fi

(cd "$root" && cargo build -p mizzle-bench --release --bin workload)
bin="${CARGO_TARGET_DIR:-$root/target}/release/workload"

out=$(mktemp -d "${TMPDIR:-/tmp}/mizzle-compare.XXXXXX")
trap 'rm -rf "$out"' EXIT

engines=${ENGINES:-mizzle mizzle-memory sqlite}
for round in $(seq 1 "$rounds"); do
    for engine in $engines; do
        echo "== round $round: $engine $*"
        status=0
        "$bin" --engine "$engine" "$@" >"$out/run.txt" || status=$?
        cat "$out/run.txt"
        if [ "$status" -ne 0 ]; then
            echo "== $engine exited with status $status (round $round)"
        fi
        sed "s/^/$engine /" "$out/run.txt" >>"$out/all.txt"
    done
done

echo
echo "== ratios of ops_per_s (mean of $rounds rounds each; mizzle = disk engine)"
awk '
    $2 ~ /^#/ { next }
    {
        e = $1; id = $2
        if (!(id in seen)) { seen[id] = 1; order[++n] = id; name[id] = $3 }
        for (i = 4; i <= NF; i++) {
            split($i, kv, "=")
            if (kv[1] == "ops_per_s") { sum[e, id] += kv[2]; cnt[e, id]++ }
            else if (kv[1] == "skipped") { note[e, id] = "skipped" }
            else if (kv[1] == "error") { note[e, id] = "error"; break }
            else if (kv[1] == "check_failed") { note[e, id] = "check_failed"; break }
        }
    }
    function cell(e, id) {
        if (cnt[e, id] > 0) return sprintf("%.1f", sum[e, id] / cnt[e, id])
        return (e SUBSEP id) in note ? note[e, id] : "-"
    }
    function ratio(a, b, id,   x, y) {
        if (cnt[a, id] > 0 && cnt[b, id] > 0) {
            x = sum[a, id] / cnt[a, id]; y = sum[b, id] / cnt[b, id]
            if (x > 0 && y > 0) return sprintf("%.3f", x / y)
        }
        return "-"
    }
    END {
        printf "%-5s %-22s %12s %12s %12s %10s %10s %10s\n", "step", "name", "mizzle", "mizzle-mem", "sqlite", "disk/sql", "mem/sql", "disk/mem"
        logsum = 0; k = 0
        for (j = 1; j <= n; j++) {
            id = order[j]
            r = ratio("mizzle", "sqlite", id)
            if (r != "-") { logsum += log(r + 0); k++ }
            printf "%-5s %-22s %12s %12s %12s %10s %10s %10s\n", id, name[id], cell("mizzle", id), cell("mizzle-memory", id), cell("sqlite", id), r, ratio("mizzle-memory", "sqlite", id), ratio("mizzle", "mizzle-memory", id)
        }
        if (k > 0) printf "geometric mean of %d disk/sqlite ratios: %.3f\n", k, exp(logsum / k)
    }
' "$out/all.txt"
