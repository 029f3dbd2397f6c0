"""Chaos clients against a running mizzled: N threads for D seconds mix
transactions on 20 shared rows (lock waits, deadlocks, 2 s lock-wait
timeouts), upserts, reads, SELECT ... FOR UPDATE, transactional DDL,
temporary tables, KILL QUERY of random connections, and connections
that close or vanish (socket closed) mid-transaction. Expected errors
(lock wait timeout, deadlock, interrupted, lost connection, DDL races)
make the thread reconnect; anything else is counted as an error. At the
end the server must still answer. Usage: chaos.py PORT SECONDS THREADS
(root's password: pw). scripts/chaos.sh starts a server and runs it."""
import pymysql, random, threading, time, sys, socket
port = int(sys.argv[1]); dur = float(sys.argv[2]); nthreads = int(sys.argv[3])
def conn():
    return pymysql.connect(host='127.0.0.1', port=port, user='root', password='pw', database='chaos', autocommit=True, read_timeout=60, write_timeout=60)
c = pymysql.connect(host='127.0.0.1', port=port, user='root', password='pw', autocommit=True)
cur = c.cursor()
cur.execute("CREATE DATABASE IF NOT EXISTS chaos")
cur.execute("USE chaos")
cur.execute("CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v INT)")
cur.execute("DELETE FROM t")
cur.execute("INSERT INTO t VALUES " + ",".join(f"({i},0)" for i in range(20)))
errors = []; ops = [0]
def worker(k):
    rnd = random.Random(k)
    end = time.time() + dur
    c = None
    while time.time() < end:
        try:
            if c is None:
                c = conn()
                cur = c.cursor()
                cur.execute("SET SESSION innodb_lock_wait_timeout = 2")
                if rnd.random() < 0.5:
                    cur.execute("CREATE TEMPORARY TABLE tt (a INT PRIMARY KEY)")
                    cur.execute("INSERT INTO tt VALUES (1),(2)")
            r = rnd.random()
            if r < 0.3:
                cur.execute("BEGIN")
                for _ in range(rnd.randint(1, 3)):
                    cur.execute("UPDATE t SET v = v + 1 WHERE id = %s", (rnd.randint(0, 19),))
                if rnd.random() < 0.15:
                    # vanish mid-transaction
                    c.close() if rnd.random() < 0.5 else c._sock.close()
                    c = None; continue
                cur.execute("COMMIT" if rnd.random() < 0.8 else "ROLLBACK")
            elif r < 0.5:
                cur.execute("INSERT INTO t VALUES (%s, 1) ON DUPLICATE KEY UPDATE v = v + 1", (rnd.randint(0, 40),))
            elif r < 0.7:
                cur.execute("SELECT SUM(v) FROM t"); cur.fetchall()
            elif r < 0.8:
                cur.execute("SELECT * FROM t WHERE id = %s FOR UPDATE", (rnd.randint(0, 19),)); cur.fetchall()
            elif r < 0.9:
                # drop the connection (session ends on the server)
                c.close(); c = None
            elif r < 0.93:
                cur.execute("BEGIN")
                cur.execute(f"CREATE TABLE IF NOT EXISTS x{k} (a INT PRIMARY KEY)")
                cur.execute(f"INSERT INTO x{k} VALUES (%s) ON DUPLICATE KEY UPDATE a = a", (rnd.randint(0, 5),))
                if rnd.random() < 0.5:
                    cur.execute(f"ALTER TABLE x{k} ADD COLUMN b INT")
                    cur.execute(f"DROP TABLE x{k}")
                cur.execute("COMMIT" if rnd.random() < 0.7 else "ROLLBACK")
            elif r < 0.96:
                cur.execute("SHOW PROCESSLIST"); rows = cur.fetchall()
                if rows:
                    victim = rnd.choice(rows)[0]
                    try:
                        cur.execute(f"KILL QUERY {victim}")
                    except pymysql.err.OperationalError:
                        pass
            else:
                cur.execute("SHOW STATUS LIKE 'Threads%'"); cur.fetchall()
            ops[0] += 1
        except pymysql.err.OperationalError as e:
            code = e.args[0]
            if code in (1205, 1213, 2013, 2006, 1317, 1094, 1050, 1060, 1146, 1091):
                try:
                    if c: c.close()
                except Exception: pass
                c = None
                continue
            errors.append(repr(e)); c = None
        except (pymysql.err.InterfaceError, BrokenPipeError, ConnectionResetError, OSError) as e:
            c = None
        except Exception as e:
            errors.append(repr(e)); c = None
ts = [threading.Thread(target=worker, args=(k,)) for k in range(nthreads)]
for t in ts: t.start()
for t in ts: t.join()
c2 = pymysql.connect(host='127.0.0.1', port=port, user='root', password='pw', database='chaos', read_timeout=30)
cu = c2.cursor(); cu.execute("SELECT COUNT(*) FROM t"); print("rows", cu.fetchone(), "ops", ops[0], "errors", len(errors), errors[:5])
