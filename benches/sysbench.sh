#!/usr/bin/env bash
# sysbench against mizzled and a private MariaDB, cell by cell.
#
# Starts mizzled (release build) and a private mariadbd, each with its own
# data directory under a temporary folder, on 127.0.0.1 and a free port;
# runs oltp_point_select, oltp_read_only, oltp_read_write and oltp_insert
# (default prepared-statement mode) with 1, 8 and 32 threads against each;
# prints tps, p95 latency and the mizzled/MariaDB ratios; stops both servers.
#
# Usage: benches/sysbench.sh [--time S] [--table-size N] [--tests "a b"] [--threads "1 8"]
# Defaults: --time 30 --table-size 100000, all four tests, threads 1 8 32.
# A smoke run: benches/sysbench.sh --time 2 --table-size 1000 --tests oltp_point_select --threads 1
# MIZZLED=path/to/mizzled uses that binary instead of building a release one.
# Needs: sysbench, mariadb-server (mariadbd, mariadb-install-db), mariadb-client.
set -euo pipefail
cd "$(dirname "$0")/.."

TIME=30
TABLE_SIZE=100000
TESTS="oltp_point_select oltp_read_only oltp_read_write oltp_insert"
THREADS="1 8 32"
while [ $# -gt 0 ]; do
    case "$1" in
        --time) TIME="$2"; shift 2 ;;
        --table-size) TABLE_SIZE="$2"; shift 2 ;;
        --tests) TESTS="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

for tool in sysbench mariadb; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)
[ -x "$MARIADBD" ] || { echo "missing: mariadbd" >&2; exit 2; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

WORK=$(mktemp -d /tmp/mizzle-sysbench.XXXXXX)
PW=bench-pw
MZ_PID=""
MDB_PID=""
cleanup() {
    [ -n "$MZ_PID" ] && kill -TERM "$MZ_PID" 2>/dev/null && wait "$MZ_PID" 2>/dev/null || true
    [ -n "$MDB_PID" ] && kill -TERM "$MDB_PID" 2>/dev/null && wait "$MDB_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

MIZZLED="${MIZZLED:-}"
if [ -z "$MIZZLED" ]; then
    echo "== building mizzled (release)"
    cargo build --release -p mizzled >/dev/null
    MIZZLED=./target/release/mizzled
fi

MZ_PORT=$(free_port)
"$MIZZLED" --datadir "$WORK/mizzle" --bind 127.0.0.1 --port "$MZ_PORT" \
    --initial-password "$PW" --max-connections 200 --log warn >"$WORK/mizzled.out" 2>"$WORK/mizzled.err" &
MZ_PID=$!

MDB_PORT=$(free_port)
mariadb-install-db --datadir="$WORK/mariadb" --auth-root-authentication-method=normal >/dev/null 2>&1
"$MARIADBD" --no-defaults --datadir="$WORK/mariadb" --socket="$WORK/mariadb.sock" --port="$MDB_PORT" \
    --bind-address=127.0.0.1 --user="$(id -un)" --pid-file="$WORK/mariadb.pid" \
    --innodb-buffer-pool-size=256M --max-connections=200 >"$WORK/mariadb.log" 2>&1 &
MDB_PID=$!

for i in $(seq 1 100); do
    if grep -q "ready for connections" "$WORK/mizzled.out" 2>/dev/null \
        && mariadb --no-defaults -S "$WORK/mariadb.sock" -u root -e "SELECT 1" >/dev/null 2>&1; then
        break
    fi
    sleep 0.2
done
mariadb --no-defaults -S "$WORK/mariadb.sock" -u root -e \
    "CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY '$PW'; GRANT ALL ON *.* TO 'bench'@'127.0.0.1'; CREATE DATABASE sbtest"
mariadb --no-defaults -h 127.0.0.1 -P "$MZ_PORT" -u root -p"$PW" --skip-ssl -e "CREATE DATABASE sbtest"

sb() { # server port user test threads action
    sysbench "$4" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$2" --mysql-user="$3" \
        --mysql-password="$PW" --mysql-db=sbtest --tables=1 --table-size="$TABLE_SIZE" \
        --threads="$5" --time="$TIME" --report-interval=0 "$6"
}

declare -A TPS P95
for test in $TESTS; do
    for server in mizzled mariadb; do
        if [ "$server" = mizzled ]; then port=$MZ_PORT; user=root; else port=$MDB_PORT; user=bench; fi
        sb "$server" "$port" "$user" "$test" 8 cleanup >/dev/null 2>&1 || true
        sb "$server" "$port" "$user" "$test" 8 prepare >"$WORK/prepare.log" 2>&1 \
            || { echo "prepare failed on $server:"; tail -5 "$WORK/prepare.log"; exit 1; }
        for t in $THREADS; do
            out=$(sb "$server" "$port" "$user" "$test" "$t" run 2>&1) || { echo "$out" | tail -5; exit 1; }
            TPS[$server,$test,$t]=$(echo "$out" | awk '/transactions:/ {gsub(/\(/,"",$3); print $3}')
            P95[$server,$test,$t]=$(echo "$out" | awk '/95th percentile:/ {print $3}')
            echo "$server $test threads=$t tps=${TPS[$server,$test,$t]} p95_ms=${P95[$server,$test,$t]}"
        done
        sb "$server" "$port" "$user" "$test" 8 cleanup >/dev/null 2>&1 || true
    done
done

echo
printf '%-18s %7s %12s %12s %8s %12s %12s %8s\n' test threads mizzled_tps mariadb_tps ratio mizzled_p95 mariadb_p95 ratio
for test in $TESTS; do
    for t in $THREADS; do
        a=${TPS[mizzled,$test,$t]:-0}; b=${TPS[mariadb,$test,$t]:-0}
        pa=${P95[mizzled,$test,$t]:-0}; pb=${P95[mariadb,$test,$t]:-0}
        r=$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
        rp=$(awk -v a="$pa" -v b="$pb" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
        printf '%-18s %7s %12s %12s %8s %12s %12s %8s\n' "$test" "$t" "$a" "$b" "$r" "$pa" "$pb" "$rp"
    done
done
echo "(tps ratio = mizzled / MariaDB, higher is better; p95 ratio = mizzled / MariaDB, lower is better)"
