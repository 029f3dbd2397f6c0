#!/usr/bin/env python3
"""Writes sql-tests/isolation/*.slt: the hermitage catalogue of isolation
anomalies (Martin Kleppmann, https://github.com/ept/hermitage), one file per
anomaly and isolation level, with the outcome mizzle must show at that level.

Each scenario is a list of steps (connection, kind, sql, expectation) whose
expectations may differ by level. Run from the repository root:

    python3 scripts/hermitage.py

and review the diff. The outcome table in ARCHITECTURE.md is generated from
the same data (printed by this script).
"""

import os

LEVELS = {"rc": "READ COMMITTED", "rr": "REPEATABLE READ", "ser": "SERIALIZABLE"}

SETUP = [
    "CREATE TABLE test (id INT PRIMARY KEY, value INT)",
    "INSERT INTO test VALUES (1, 10), (2, 20)",
]


def ok(conn, sql):
    return (conn, "ok", sql, None)


def err(conn, sql):
    """A statement that fails with 1213 / 40001 at every level."""
    return (conn, "err", sql, None)


def q(conn, sql, rows, by_level=None):
    """A query; rows is a list of rows, or per level a dict."""
    return (conn, "query", sql, by_level if by_level is not None else {l: rows for l in LEVELS})


def lv(conn, sql, outcomes):
    """A statement whose outcome depends on the level: 'ok', 'err' (1213)
    or an error number."""
    return (conn, "level", sql, outcomes)


def blk(conn, sql):
    """A statement that waits for another transaction's lock (`statement
    blocks`); a later `unb` on the same connection checks how it ended."""
    return (conn, "blocks", sql, None)


def unb(conn, outcomes):
    """How the blocked statement of `conn` ended, per level: 'ok', 'err'
    (1213) or an error number."""
    return (conn, "unblocked", "", outcomes)


ALL_OK = {"rc": "ok", "rr": "ok", "ser": "ok"}

# name: (title, explanation, {level: prevented?}, steps)
SCENARIOS = {
    "g0": (
        "G0 write cycles",
        "Two transactions update the same rows in the same order. T2's update of\n"
        "row 1 waits for T1; when T1 commits, T2's statement runs again (under\n"
        "REPEATABLE READ and SERIALIZABLE on a newer snapshot: it is T2's first\n"
        "statement) and T2 then writes row 2 after T1: both rows end with T2's\n"
        "values, so no write cycle forms.",
        {"rc": True, "rr": True, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            ok("t1", "UPDATE test SET value = 11 WHERE id = 1"),
            blk("t2", "UPDATE test SET value = 12 WHERE id = 1"),
            ok("t1", "UPDATE test SET value = 21 WHERE id = 2"),
            ok("t1", "COMMIT"),
            unb("t2", ALL_OK),
            q("t1", "SELECT id, value FROM test ORDER BY id", [(1, 11), (2, 21)]),
            ok("t2", "UPDATE test SET value = 22 WHERE id = 2"),
            ok("t2", "COMMIT"),
            q("t1", "SELECT id, value FROM test ORDER BY id", [(1, 12), (2, 22)]),
        ],
    ),
    "g1a": (
        "G1a aborted reads",
        "T2 must never see a value written by T1, which aborts.",
        {"rc": True, "rr": True, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            ok("t1", "UPDATE test SET value = 101 WHERE id = 1"),
            q("t2", "SELECT id, value FROM test ORDER BY id", [(1, 10), (2, 20)]),
            ok("t1", "ROLLBACK"),
            q("t2", "SELECT id, value FROM test ORDER BY id", [(1, 10), (2, 20)]),
            ok("t2", "COMMIT"),
        ],
    ),
    "g1b": (
        "G1b intermediate reads",
        "T2 must never see T1's intermediate value 101, only its final one (or none).",
        {"rc": True, "rr": True, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            ok("t1", "UPDATE test SET value = 101 WHERE id = 1"),
            q("t2", "SELECT value FROM test WHERE id = 1", [(10,)]),
            ok("t1", "UPDATE test SET value = 11 WHERE id = 1"),
            ok("t1", "COMMIT"),
            q("t2", "SELECT value FROM test WHERE id = 1", None, {"rc": [(11,)], "rr": [(10,)], "ser": [(10,)]}),
            ok("t2", "COMMIT"),
        ],
    ),
    "g1c": (
        "G1c circular information flow",
        "Each transaction writes one row and reads the other's; neither may see\n"
        "the other's uncommitted write (readers never wait). SERIALIZABLE also\n"
        "refuses the second commit: each read what the other overwrote (a\n"
        "write-skew cycle).",
        {"rc": True, "rr": True, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            ok("t1", "UPDATE test SET value = 11 WHERE id = 1"),
            ok("t2", "UPDATE test SET value = 22 WHERE id = 2"),
            q("t1", "SELECT value FROM test WHERE id = 2", [(20,)]),
            q("t2", "SELECT value FROM test WHERE id = 1", [(10,)]),
            ok("t1", "COMMIT"),
            lv("t2", "COMMIT", {"rc": "ok", "rr": "ok", "ser": "err"}),
        ],
    ),
    "otv": (
        "OTV observed transaction vanishes",
        "T1 writes both rows; T2's update of row 1 waits for T1, then runs after\n"
        "T1's commit and T2 writes row 2 too. T3 reads row 1 after T1 committed;\n"
        "it must not then see T1's row 2 vanish under T2's uncommitted write, and\n"
        "once T2 commits it sees T2's pair (READ COMMITTED) or still T1's pair\n"
        "(its snapshot), never a mix.",
        {"rc": True, "rr": True, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"), ok("t3", "BEGIN"),
            ok("t1", "UPDATE test SET value = 11 WHERE id = 1"),
            ok("t1", "UPDATE test SET value = 19 WHERE id = 2"),
            blk("t2", "UPDATE test SET value = 12 WHERE id = 1"),
            ok("t1", "COMMIT"),
            unb("t2", ALL_OK),
            q("t3", "SELECT value FROM test WHERE id = 1", [(11,)]),
            ok("t2", "UPDATE test SET value = 18 WHERE id = 2"),
            q("t3", "SELECT value FROM test WHERE id = 2", [(19,)]),
            ok("t2", "COMMIT"),
            q("t3", "SELECT value FROM test WHERE id = 2", None, {"rc": [(18,)], "rr": [(19,)], "ser": [(19,)]}),
            q("t3", "SELECT value FROM test WHERE id = 1", None, {"rc": [(12,)], "rr": [(11,)], "ser": [(11,)]}),
            ok("t3", "COMMIT"),
        ],
    ),
    "pmp": (
        "PMP predicate-many-preceders (read predicate)",
        "T1 reads a predicate twice while T2 inserts a matching row. Under READ\n"
        "COMMITTED the second read sees the phantom (the anomaly happens); a\n"
        "snapshot prevents it.",
        {"rc": False, "rr": True, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            q("t1", "SELECT id FROM test WHERE value = 30", []),
            ok("t2", "INSERT INTO test VALUES (3, 30)"),
            ok("t2", "COMMIT"),
            q("t1", "SELECT id FROM test WHERE value % 3 = 0", None, {"rc": [(3,)], "rr": [], "ser": []}),
            ok("t1", "COMMIT"),
        ],
    ),
    "pmp_write": (
        "PMP predicate-many-preceders (write predicate)",
        "T2 deletes by a predicate over rows T1 is updating: the delete waits for\n"
        "T1, then runs again as a whole on a snapshot that includes T1's commit\n"
        "(READ COMMITTED always; otherwise because it is T2's first statement):\n"
        "it deletes row 1, whose value is 20 now, and not row 2 (30). The delete\n"
        "saw one consistent state, after T1 (PostgreSQL re-checks only the row it\n"
        "waited for and deletes nothing).",
        {"rc": True, "rr": True, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            ok("t1", "UPDATE test SET value = value + 10"),
            blk("t2", "DELETE FROM test WHERE value = 20"),
            ok("t1", "COMMIT"),
            unb("t2", ALL_OK),
            q("t2", "SELECT id, value FROM test ORDER BY id", [(2, 30)]),
            ok("t2", "COMMIT"),
            q("t1", "SELECT id, value FROM test ORDER BY id", [(2, 30)]),
        ],
    ),
    "p4": (
        "P4 lost update",
        "Both read row 1 (10) and write back the value they computed from it\n"
        "(11). T2's write waits for T1. Under READ COMMITTED it then runs on T1's\n"
        "committed row and sets 11 again: T1's update is lost (the anomaly\n"
        "happens, as in PostgreSQL and InnoDB; use SELECT ... FOR UPDATE or SET\n"
        "value = value + 1). Under a snapshot T2 has read the row, so the first\n"
        "committer wins: T2 fails (1213) and is rolled back.",
        {"rc": False, "rr": True, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            q("t1", "SELECT value FROM test WHERE id = 1", [(10,)]),
            q("t2", "SELECT value FROM test WHERE id = 1", [(10,)]),
            ok("t1", "UPDATE test SET value = 11 WHERE id = 1"),
            blk("t2", "UPDATE test SET value = 11 WHERE id = 1"),
            ok("t1", "COMMIT"),
            unb("t2", {"rc": "ok", "rr": "err", "ser": "err"}),
            ok("t2", "ROLLBACK"),
            q("t2", "SELECT value FROM test WHERE id = 1", [(11,)]),
        ],
    ),
    "p4_committed": (
        "P4 lost update (first writer already committed)",
        "T2 read the row before T1 committed its increment. Under a snapshot\n"
        "T2's increment then fails (1213: first committer wins), its transaction\n"
        "is rolled back, and its COMMIT fails too (3101) instead of pretending.\n"
        "Under READ COMMITTED the statement snapshot is newer than T1's commit,\n"
        "so T2's increment applies to T1's value: nothing is lost either.",
        {"rc": True, "rr": True, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            q("t1", "SELECT value FROM test WHERE id = 1", [(10,)]),
            q("t2", "SELECT value FROM test WHERE id = 1", [(10,)]),
            ok("t1", "UPDATE test SET value = value + 1 WHERE id = 1"),
            ok("t1", "COMMIT"),
            lv("t2", "UPDATE test SET value = value + 1 WHERE id = 1", {"rc": "ok", "rr": "err", "ser": "err"}),
            lv("t2", "COMMIT", {"rc": "ok", "rr": "3101", "ser": "3101"}),
            q("t2", "SELECT value FROM test WHERE id = 1", None, {"rc": [(12,)], "rr": [(11,)], "ser": [(11,)]}),
        ],
    ),
    "g_single": (
        "G-single read skew",
        "T1 reads row 1, T2 changes both rows and commits, T1 reads row 2.\n"
        "Under READ COMMITTED T1 sees the new row 2 beside the old row 1 (the\n"
        "anomaly happens); a snapshot prevents it.",
        {"rc": False, "rr": True, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            q("t1", "SELECT value FROM test WHERE id = 1", [(10,)]),
            q("t2", "SELECT value FROM test WHERE id = 1", [(10,)]),
            q("t2", "SELECT value FROM test WHERE id = 2", [(20,)]),
            ok("t2", "UPDATE test SET value = 12 WHERE id = 1"),
            ok("t2", "UPDATE test SET value = 18 WHERE id = 2"),
            ok("t2", "COMMIT"),
            q("t1", "SELECT value FROM test WHERE id = 2", None, {"rc": [(18,)], "rr": [(20,)], "ser": [(20,)]}),
            ok("t1", "COMMIT"),
        ],
    ),
    "g_single_dependencies": (
        "G-single read skew with predicate dependencies",
        "T1 reads the rows whose value is a multiple of 5; T2 changes 10 into 12\n"
        "and commits; T1 reads the multiples of 3. Under READ COMMITTED T1 finds\n"
        "12, a row its first read saw as 10 (the anomaly happens); a snapshot\n"
        "finds nothing.",
        {"rc": False, "rr": True, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            q("t1", "SELECT id, value FROM test WHERE value % 5 = 0 ORDER BY id", [(1, 10), (2, 20)]),
            ok("t2", "UPDATE test SET value = 12 WHERE value = 10"),
            ok("t2", "COMMIT"),
            q("t1", "SELECT id FROM test WHERE value % 3 = 0", None, {"rc": [(1,)], "rr": [], "ser": []}),
            ok("t1", "COMMIT"),
        ],
    ),
    "g_single_write": (
        "G-single read skew on a write predicate",
        "T1 read row 1; T2 changes both rows; T1 deletes by a predicate on the old\n"
        "value of row 2 and waits for T2, which commits. Under a snapshot T1 has\n"
        "read before, so the delete meets the newer commit and fails (1213).\n"
        "Under READ COMMITTED it runs again, finds nothing to delete, and T1 goes\n"
        "on with a view mixing old and new values (the anomaly happens).",
        {"rc": False, "rr": True, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            q("t1", "SELECT value FROM test WHERE id = 1", [(10,)]),
            q("t2", "SELECT id, value FROM test ORDER BY id", [(1, 10), (2, 20)]),
            ok("t2", "UPDATE test SET value = 12 WHERE id = 1"),
            ok("t2", "UPDATE test SET value = 18 WHERE id = 2"),
            blk("t1", "DELETE FROM test WHERE value = 20"),
            ok("t2", "COMMIT"),
            unb("t1", {"rc": "ok", "rr": "err", "ser": "err"}),
            ok("t1", "ROLLBACK"),
            q("t1", "SELECT id, value FROM test ORDER BY id", [(1, 12), (2, 18)]),
        ],
    ),
    "g2_item": (
        "G2-item write skew",
        "Each reads both rows and updates a different one. Snapshot isolation\n"
        "lets both commit (the anomaly happens under READ COMMITTED and\n"
        "REPEATABLE READ); SERIALIZABLE fails the second commit (1213).",
        {"rc": False, "rr": False, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            q("t1", "SELECT id, value FROM test WHERE id IN (1, 2) ORDER BY id", [(1, 10), (2, 20)]),
            q("t2", "SELECT id, value FROM test WHERE id IN (1, 2) ORDER BY id", [(1, 10), (2, 20)]),
            ok("t1", "UPDATE test SET value = 11 WHERE id = 1"),
            ok("t2", "UPDATE test SET value = 21 WHERE id = 2"),
            ok("t1", "COMMIT"),
            lv("t2", "COMMIT", {"rc": "ok", "rr": "ok", "ser": "err"}),
            q("t1", "SELECT id, value FROM test ORDER BY id", None,
              {"rc": [(1, 11), (2, 21)], "rr": [(1, 11), (2, 21)], "ser": [(1, 11), (2, 20)]}),
        ],
    ),
    "g2": (
        "G2 anti-dependency cycles (predicate)",
        "Each reads a predicate that matches nothing and inserts a row the other's\n"
        "predicate would match. SERIALIZABLE fails the second commit (1213).",
        {"rc": False, "rr": False, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"),
            q("t1", "SELECT id FROM test WHERE value % 3 = 0", []),
            q("t2", "SELECT id FROM test WHERE value % 3 = 0", []),
            ok("t1", "INSERT INTO test VALUES (3, 30)"),
            ok("t2", "INSERT INTO test VALUES (4, 42)"),
            ok("t1", "COMMIT"),
            lv("t2", "COMMIT", {"rc": "ok", "rr": "ok", "ser": "err"}),
            q("t1", "SELECT id FROM test WHERE value % 3 = 0 ORDER BY id", None,
              {"rc": [(3,), (4,)], "rr": [(3,), (4,)], "ser": [(3,)]}),
        ],
    ),
    "g2_two_edges": (
        "G2 with two anti-dependency edges (Fekete et al.'s read-only anomaly)",
        "T1 reads both rows; T2 changes row 2 and commits; read-only T3 sees T2's\n"
        "change but not T1's; T1 then writes row 1. Only SERIALIZABLE refuses T1's\n"
        "commit (1213); the read-only T3 is never aborted.",
        {"rc": False, "rr": False, "ser": True},
        [
            ok("t1", "BEGIN"), ok("t2", "BEGIN"), ok("t3", "BEGIN"),
            q("t1", "SELECT id, value FROM test ORDER BY id", [(1, 10), (2, 20)]),
            ok("t2", "UPDATE test SET value = value + 5 WHERE id = 2"),
            ok("t2", "COMMIT"),
            q("t3", "SELECT id, value FROM test ORDER BY id", [(1, 10), (2, 25)]),
            ok("t3", "COMMIT"),
            ok("t1", "UPDATE test SET value = 0 WHERE id = 1"),
            lv("t1", "COMMIT", {"rc": "ok", "rr": "ok", "ser": "err"}),
            q("t3", "SELECT id, value FROM test ORDER BY id", None,
              {"rc": [(1, 0), (2, 25)], "rr": [(1, 0), (2, 25)], "ser": [(1, 10), (2, 25)]}),
        ],
    ),
}


def outcome_header(word, exp):
    """`<word> ok` or `<word> error <n>` for an outcome 'ok', 'err' or a number."""
    if exp == "ok":
        return f"{word} ok"
    return f"{word} error {'1213' if exp == 'err' else exp}"


def record(conn, kind, sql, exp, level):
    lines = [f"connection {conn}"]
    if kind == "ok":
        lines += ["statement ok", sql]
    elif kind == "err":
        lines += ["statement error 1213", sql]
    elif kind == "level":
        lines += [outcome_header("statement", exp[level]), sql]
    elif kind == "blocks":
        lines += ["statement blocks", sql]
    elif kind == "unblocked":
        lines += [outcome_header("unblocked", exp[level])]
    else:
        rows = exp[level]
        width = len(rows[0]) if rows else sql.split(" FROM ")[0].count(",") + 1
        lines += [f"query {'I' * width} nosort", sql, "----"]
        for r in rows:
            lines += [str(v) for v in r]
    return "\n".join(lines)


def main():
    out_dir = os.path.join("sql-tests", "isolation")
    os.makedirs(out_dir, exist_ok=True)
    table = []
    for name, (title, text, prevented, steps) in SCENARIOS.items():
        row = [title]
        for lvl, lvl_sql in LEVELS.items():
            header = [
                f"# hermitage {title} at {lvl_sql}.",
                "# Generated by scripts/hermitage.py; edit the generator, not this file.",
                "#",
            ] + ["# " + l for l in text.split("\n")] + [
                "#",
                f"# Expected at {lvl_sql}: {'prevented' if prevented[lvl] else 'the anomaly happens'}.",
                "",
                "hash-threshold 0",
            ]
            recs = [f"statement ok\n{s}" for s in SETUP]
            for c in ("t1", "t2", "t3"):
                recs.append(f"connection {c}\nstatement ok\nSET SESSION TRANSACTION ISOLATION LEVEL {lvl_sql}")
            for (conn, kind, sql, exp) in steps:
                recs.append(record(conn, kind, sql, exp, lvl))
            with open(os.path.join(out_dir, f"{name}_{lvl}.slt"), "w") as fh:
                fh.write("\n".join(header) + "\n\n" + "\n\n".join(recs) + "\n")
            row.append("prevented" if prevented[lvl] else "**happens**")
        table.append(row)
    print("| anomaly | READ COMMITTED | REPEATABLE READ | SERIALIZABLE |")
    print("|---|---|---|---|")
    for r in table:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
