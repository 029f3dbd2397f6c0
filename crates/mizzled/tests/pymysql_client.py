"""PyMySQL against mizzled: text and parameterised queries, transactions,
errors, streaming a large result (SSCursor) and 4-byte Unicode round trips.

Usage: pymysql_client.py PORT PASSWORD. Exits non-zero on the first failed
check; prints 'pymysql: N checks passed' at the end.
"""

import sys

import pymysql
import pymysql.cursors

port = int(sys.argv[1])
password = sys.argv[2]
checks = 0


def check(cond, what):
    global checks
    if not cond:
        print("FAILED:", what, file=sys.stderr)
        sys.exit(1)
    checks += 1


def connect(**kw):
    return pymysql.connect(host="127.0.0.1", port=port, user="root", password=password,
                           charset="utf8mb4", **kw)


conn = connect()
cur = conn.cursor()
cur.execute("CREATE DATABASE py")
cur.execute("USE py")
cur.execute("CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100), score DOUBLE, data VARBINARY(64))")
conn.commit()

# Parameterised (client-side interpolation, as PyMySQL does).
cur.execute("INSERT INTO t (name, score, data) VALUES (%s, %s, %s)", ("o'brien", 1.5, b"\x00\x01\xff"))
check(cur.lastrowid == 1, "lastrowid after first insert: %r" % cur.lastrowid)
cur.executemany("INSERT INTO t (name, score) VALUES (%s, %s)", [("a", 1), ("b", 2), ("c", 3)])
check(cur.rowcount == 3, "executemany rowcount: %r" % cur.rowcount)
conn.commit()
cur.execute("SELECT name, score, data FROM t WHERE id = %s", (1,))
row = cur.fetchone()
check(row == ("o'brien", 1.5, b"\x00\x01\xff"), "row round trip: %r" % (row,))
cur.execute("SELECT COUNT(*) FROM t")
check(cur.fetchone()[0] == 4, "count")

# Transactions: PyMySQL turns autocommit off at connect.
cur.execute("INSERT INTO t (name) VALUES ('rolled back')")
conn.rollback()
cur.execute("SELECT COUNT(*) FROM t WHERE name = 'rolled back'")
check(cur.fetchone()[0] == 0, "rollback undoes")
conn.begin()
cur.execute("UPDATE t SET score = score + 10 WHERE name = 'a'")
check(cur.rowcount == 1, "update rowcount")
conn.commit()
other = connect(database="py")
ocur = other.cursor()
ocur.execute("SELECT score FROM t WHERE name = 'a'")
check(ocur.fetchone()[0] == 11.0, "commit visible to another connection")
other.close()

# Errors.
try:
    cur.execute("SELECT * FROM missing")
    check(False, "missing table must fail")
except pymysql.err.ProgrammingError as e:
    check(e.args[0] == 1146, "error number 1146: %r" % (e.args,))
try:
    cur.execute("INSERT INTO t (id, name) VALUES (1, 'dup')")
    check(False, "duplicate must fail")
except pymysql.err.IntegrityError as e:
    check(e.args[0] == 1062, "error number 1062: %r" % (e.args,))
try:
    cur.execute("SELEC 1")
    check(False, "syntax error must fail")
except pymysql.err.ProgrammingError as e:
    check(e.args[0] == 1064, "error number 1064: %r" % (e.args,))
cur.execute("SELECT 1")
check(cur.fetchone()[0] == 1, "connection usable after errors")
conn.rollback()

# 4-byte Unicode.
texts = ["h\u00e9llo", "\u65e5\u672c\u8a9e", "emoji \U0001F600\U0001F680", "\U00010348 gothic"]
for s in texts:
    cur.execute("INSERT INTO t (name) VALUES (%s)", (s,))
conn.commit()
cur.execute("SELECT name FROM t WHERE id > 4 ORDER BY id")
got = [r[0] for r in cur.fetchall()]
check(got == texts, "unicode round trip: %r" % (got,))
cur.execute("SELECT CHAR_LENGTH(%s), %s", ("\U0001F600", "\U0001F600"))
check(cur.fetchone() == (1, "\U0001F600"), "4-byte character is one character")

# Streaming a large result with an unbuffered cursor.
cur.execute("CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(100))")
rows = 20000
for start in range(0, rows, 1000):
    values = ",".join("(%d, REPEAT('x', 50))" % i for i in range(start, start + 1000))
    cur.execute("INSERT INTO big VALUES " + values)
conn.commit()
ss = conn.cursor(pymysql.cursors.SSCursor)
ss.execute("SELECT id, pad FROM big ORDER BY id")
n = 0
total = 0
for r in ss:
    n += 1
    total += r[0]
ss.close()
check(n == rows, "streamed row count %d" % n)
check(total == rows * (rows - 1) // 2, "streamed ids sum")

# Multi-statement text with CLIENT_MULTI_STATEMENTS.
mconn = connect(database="py", client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)
mcur = mconn.cursor()
mcur.execute("SELECT 1; SELECT 2, 3")
first = mcur.fetchall()
check(mcur.nextset() is True, "second result exists")
second = mcur.fetchall()
check(first == ((1,),) and second == ((2, 3),), "multi results: %r %r" % (first, second))
mconn.close()

conn.close()
print("pymysql: %d checks passed" % checks)
