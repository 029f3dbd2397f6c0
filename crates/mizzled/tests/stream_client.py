"""Streams a 2,000,000-row cross join from mizzled with PyMySQL's unbuffered
SSCursor, reading slowly at first, and checks that (1) the server's
resident memory stays bounded while it sends (it never builds the result),
(2) another client is answered while the reader lags (a worker is not stuck
behind the slow reader), and (3) every row arrives, in order of the join.

Usage: stream_client.py PORT PASSWORD SERVER_PID. Prints 'stream: ...' lines
and exits non-zero on a failed check.
"""

import sys
import threading
import time

import pymysql
import pymysql.cursors

port = int(sys.argv[1])
password = sys.argv[2]
pid = int(sys.argv[3])

A, B = 2000, 1000


def connect(**kw):
    return pymysql.connect(host="127.0.0.1", port=port, user="root", password=password,
                           charset="utf8mb4", autocommit=True, **kw)


def rss_kib():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fail(what):
    print("FAILED:", what, file=sys.stderr)
    sys.exit(1)


setup = connect()
cur = setup.cursor()
cur.execute("CREATE DATABASE s")
cur.execute("USE s")
cur.execute("SET cte_max_recursion_depth = 10000")
cur.execute("CREATE TABLE a (v INT NOT NULL)")
cur.execute("CREATE TABLE b (w INT NOT NULL)")
cur.execute("INSERT INTO a WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v < %d) SELECT v FROM n" % (A - 1))
cur.execute("INSERT INTO b WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v < %d) SELECT v FROM n" % (B - 1))
cur.execute("SELECT COUNT(*) FROM a, b")
if cur.fetchone()[0] != A * B:
    fail("cross join count")

base = rss_kib()
reader = connect(database="s")
ss = reader.cursor(pymysql.cursors.SSCursor)
ss.execute("SELECT a.v, b.w FROM a, b")

# The reader stalls: the server fills the socket buffers and must park the
# stream. Another client (a new connection, several queries) is answered.
time.sleep(0.5)
other = connect(database="s")
oc = other.cursor()
t0 = time.time()
for _ in range(20):
    oc.execute("SELECT COUNT(*) FROM b")
    if oc.fetchone()[0] != B:
        fail("other client's answer")
other_ms = (time.time() - t0) * 1000
if other_ms > 5000:
    fail("another client waited %.0f ms behind the slow reader" % other_ms)

peak = base
n = 0
total = 0
while True:
    rows = ss.fetchmany(10000)
    if not rows:
        break
    for r in rows:
        total += r[1]
    n += len(rows)
    if n % 200000 == 0:
        peak = max(peak, rss_kib())
ss.close()
peak = max(peak, rss_kib())
if n != A * B:
    fail("streamed %d rows, expected %d" % (n, A * B))
if total != A * (B * (B - 1) // 2):
    fail("sum of the streamed column")
growth = peak - base
print("stream: %d rows; server RSS %d KiB before, peak %d KiB (+%d KiB); other client: 20 queries in %.0f ms"
      % (n, base, peak, growth, other_ms))
# Materialized, 2,000,000 two-column rows take well over 100 MB in the
# server; streamed, a few operator batches and output chunks.
if growth > 48 * 1024:
    fail("server RSS grew by %d KiB while streaming" % growth)
# The connection goes on.
ss = reader.cursor()
ss.execute("SELECT COUNT(*) FROM a")
if ss.fetchone()[0] != A:
    fail("query after the stream")
print("stream: checks passed")
