#!/usr/bin/env bash
# Compares mizzle with SQLite on the embedded anchor workload (W1-W6 of
# shared/bench/WORKLOAD.md): builds the `workload` program in release, runs
# the engines alternately (mizzle mizzle-memory sqlite mizzle ..., ROUNDS
# rounds) and prints, per step, each engine's median ops_per_s over its
# rounds and the ratios mizzle/sqlite (mizzle on its disk engine),
# mizzle-memory/sqlite and disk/memory (above 1: the first is faster), each
# the median over rounds of the ratio within a round (paired: the two runs
# of a pair are seconds apart, so slow drifts in the machine's load cancel).
# Only ratios from one run mean anything; the machine is noisy.
#
# Usage: benches/compare.sh [workload arguments...]   (none: --quick)
#        e.g. benches/compare.sh --rows 1000000
# Environment: ROUNDS (default 3), ENGINES (default "mizzle mizzle-memory
# sqlite"), CARGO_TARGET_DIR (default <repo>/target), TABLE (a file the
# ratio table is also written to, for scripts such as benches/report.sh),
# BENCH_FEATURES (cargo features of the workload program, e.g. "mimalloc":
# its Rust allocations through mimalloc, as mizzled's; SQLite's C code
# keeps malloc; default none, the system allocator).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
rounds=${ROUNDS:-3}
if [ $# -eq 0 ]; then
    set -- --quick
fi

(cd "$root" && cargo build -p mizzle-bench --release --bin workload ${BENCH_FEATURES:+--features "$BENCH_FEATURES"})
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
        sed "s/^/$engine $round /" "$out/run.txt" >>"$out/all.txt"
    done
done

echo
echo "== ratios of ops_per_s (median over $rounds rounds of the ratio within each round; mizzle = disk engine)"
awk -v rounds="$rounds" '
    $3 ~ /^#/ { next }
    {
        e = $1; r = $2; id = $3
        if (!(id in seen)) { seen[id] = 1; order[++n] = id; name[id] = $4 }
        for (i = 5; i <= NF; i++) {
            split($i, kv, "=")
            if (kv[1] == "ops_per_s") { ops[e, id, r] = kv[2] + 0 }
            else if (kv[1] == "skipped") { note[e, id] = "skipped" }
            else if (kv[1] == "error") { note[e, id] = "error"; break }
            else if (kv[1] == "check_failed") { note[e, id] = "check_failed"; break }
        }
    }
    function median(v, k,   i, j, t) {
        for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
    }
    function cell(e, id,   r, k, v) {
        k = 0
        for (r = 1; r <= rounds; r++) if ((e SUBSEP id SUBSEP r) in ops) v[++k] = ops[e, id, r]
        if (k > 0) return sprintf("%.1f", median(v, k))
        return (e SUBSEP id) in note ? note[e, id] : "-"
    }
    function ratio(a, b, id,   r, k, v) {
        k = 0
        for (r = 1; r <= rounds; r++)
            if ((a SUBSEP id SUBSEP r) in ops && (b SUBSEP id SUBSEP r) in ops && ops[a, id, r] > 0 && ops[b, id, r] > 0)
                v[++k] = ops[a, id, r] / ops[b, id, r]
        if (k > 0) return sprintf("%.3f", median(v, k))
        return "-"
    }
    END {
        printf "%-5s %-22s %12s %12s %12s %10s %10s %10s\n", "step", "name", "mizzle", "mizzle-mem", "sqlite", "disk/sql", "mem/sql", "disk/mem"
        logsum = 0; k = 0; mlogsum = 0; mk = 0
        for (j = 1; j <= n; j++) {
            id = order[j]
            r = ratio("mizzle", "sqlite", id)
            if (r != "-") { logsum += log(r + 0); k++ }
            m = ratio("mizzle-memory", "sqlite", id)
            if (m != "-") { mlogsum += log(m + 0); mk++ }
            printf "%-5s %-22s %12s %12s %12s %10s %10s %10s\n", id, name[id], cell("mizzle", id), cell("mizzle-memory", id), cell("sqlite", id), r, m, ratio("mizzle", "mizzle-memory", id)
        }
        if (k > 0) printf "geometric mean of %d disk/sqlite ratios: %.3f\n", k, exp(logsum / k)
        if (mk > 0) printf "geometric mean of %d memory/sqlite ratios: %.3f\n", mk, exp(mlogsum / mk)
    }
' "$out/all.txt" | tee "$out/table.txt"
if [ -n "${TABLE:-}" ]; then
    cp "$out/table.txt" "$TABLE"
fi
