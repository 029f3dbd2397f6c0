#!/usr/bin/env bash
# Compares mizzle with SQLite on the embedded anchor workload (W1-W6 of
# shared/bench/WORKLOAD.md): builds the `workload` program in release, runs
# the two engines alternately (mizzle sqlite mizzle sqlite ..., ROUNDS rounds)
# and prints, per step, each engine's mean ops_per_s over its rounds and the
# ratio mizzle/sqlite (above 1: mizzle is faster). Only ratios from one run
# mean anything; the machine is noisy.
#
# Usage: benches/compare.sh [workload arguments...]   (none: --quick)
# Environment: ROUNDS (default 2), CARGO_TARGET_DIR (default <repo>/target).
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

for round in $(seq 1 "$rounds"); do
    for engine in mizzle sqlite; do
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
echo "== ratios mizzle/sqlite of ops_per_s (mean of $rounds rounds each)"
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
    END {
        printf "%-5s %-22s %14s %14s %8s\n", "step", "name", "mizzle", "sqlite", "ratio"
        logsum = 0; k = 0
        for (j = 1; j <= n; j++) {
            id = order[j]
            ratio = "-"
            if (cnt["mizzle", id] > 0 && cnt["sqlite", id] > 0) {
                m = sum["mizzle", id] / cnt["mizzle", id]
                s = sum["sqlite", id] / cnt["sqlite", id]
                if (m > 0 && s > 0) { ratio = sprintf("%.3f", m / s); logsum += log(m / s); k++ }
            }
            printf "%-5s %-22s %14s %14s %8s\n", id, name[id], cell("mizzle", id), cell("sqlite", id), ratio
        }
        if (k > 0) printf "geometric mean of %d ratios: %.3f\n", k, exp(logsum / k)
    }
' "$out/all.txt"
