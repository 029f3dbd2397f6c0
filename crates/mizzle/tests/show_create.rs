//! SHOW CREATE TABLE round-trips: for varied tables (keys, foreign keys,
//! collations, defaults, CHECKs, comments, AUTO_INCREMENT, functional key
//! parts), the text it prints, run again after a DROP, makes a table whose
//! SHOW CREATE TABLE is the same text. Also: the server's default collation from
//! `OpenOptions`.

use mizzle::{Database, OpenOptions, Value};

fn show_create(db: &Database, table: &str) -> String {
    let r = db.session().query(&format!("SHOW CREATE TABLE {table}"), []).expect("SHOW CREATE TABLE");
    match r.iter().next().map(|row| row.values()[1].clone()) {
        Some(Value::Text(t)) => t.to_string(),
        other => panic!("SHOW CREATE TABLE {table} gave {other:?}"),
    }
}

const TABLES: &[(&str, &str)] = &[
    (
        "parent",
        "CREATE TABLE parent (id INT NOT NULL AUTO_INCREMENT, code VARCHAR(10) COLLATE utf8mb4_bin NOT NULL, \
         PRIMARY KEY (id), UNIQUE KEY uq_code (code)) ENGINE=InnoDB AUTO_INCREMENT=7 COMMENT='the parent'",
    ),
    (
        "kitchen",
        "CREATE TABLE kitchen (\
         a BIGINT UNSIGNED NOT NULL, b VARCHAR(20) NOT NULL DEFAULT 'it''s', \
         c DECIMAL(10,3) DEFAULT 1.5 COMMENT 'a ''quoted'' comment', d DATETIME(3) DEFAULT CURRENT_TIMESTAMP(3), \
         e TEXT COLLATE utf8mb4_general_ci, f DOUBLE, g DATE DEFAULT '2020-01-02', h BOOLEAN DEFAULT TRUE, \
         i VARBINARY(16), j CHAR(3) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT 'abc', k YEAR, \
         l TINYINT DEFAULT -1, \
         PRIMARY KEY (a, b), KEY ix_cd (c, d), UNIQUE KEY uq_j (j), \
         CONSTRAINT kitchen_pos CHECK (c > 0 AND l <> 5), CHECK (f IS NULL OR f < 100)) \
         COLLATE=utf8mb4_0900_as_cs COMMENT='varied'",
    ),
    (
        "child",
        "CREATE TABLE child (id INT PRIMARY KEY, pid INT, pcode VARCHAR(10) COLLATE utf8mb4_bin, \
         CONSTRAINT fk_pid FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE CASCADE ON UPDATE SET NULL, \
         FOREIGN KEY (pcode) REFERENCES parent (code)) DEFAULT CHARSET=utf8mb4",
    ),
    ("legacy", "CREATE TABLE legacy (s VARCHAR(5), n INT NULL DEFAULT NULL) COLLATE utf8mb4_0900_bin"),
    (
        "functional",
        "CREATE TABLE functional (id INT PRIMARY KEY, a INT, s VARCHAR(8), INDEX ((a + 1)),          UNIQUE KEY u ((lower(s)), a), KEY m (s, (CONCAT(s, '-', `a`)) DESC), KEY ((abs(a) * 2)))",
    ),
];

#[test]
fn show_create_table_text_recreates_the_same_table() {
    let db = Database::open_in_memory().expect("open");
    for (_, sql) in TABLES {
        db.session().execute(sql, []).expect(sql);
    }
    db.session().execute("INSERT INTO parent (code) VALUES ('x')", []).expect("insert");
    // Children first when dropping, parents first when creating.
    let mut texts = Vec::new();
    for (name, _) in TABLES {
        texts.push((*name, show_create(&db, name)));
    }
    assert!(texts[0].1.contains("AUTO_INCREMENT=8"), "{}", texts[0].1);
    assert!(texts[1].1.contains("COLLATE=utf8mb4_0900_as_cs"), "{}", texts[1].1);
    assert!(texts[3].1.contains("COLLATE=utf8mb4_0900_bin"), "{}", texts[3].1);
    assert!(texts[4].1.contains("UNIQUE KEY `u` ((lower(s)),`a`)"), "{}", texts[4].1);
    assert!(texts[4].1.contains("KEY `functional_index_2` ((abs(a) * 2))"), "{}", texts[4].1);
    for (name, _) in TABLES.iter().rev() {
        db.session().execute(&format!("DROP TABLE {name}"), []).expect("drop");
    }
    for (name, text) in &texts {
        db.session().execute(text, []).unwrap_or_else(|e| panic!("re-running SHOW CREATE TABLE {name}: {e}\n{text}"));
    }
    for (name, text) in &texts {
        assert_eq!(&show_create(&db, name), text, "SHOW CREATE TABLE {name} after re-creating it");
    }
}

#[test]
fn open_options_choose_the_server_collation() {
    let db =
        Database::open_in_memory_with(OpenOptions::default().collation_server("utf8mb4_general_ci")).expect("opens");
    let s = db.session();
    let r = s.query("SELECT @@collation_server, @@collation_database", []).expect("vars");
    let row: Vec<String> = r.iter().next().expect("a row").values().iter().map(|v| format!("{v:?}")).collect();
    assert!(row.iter().all(|v| v.contains("utf8mb4_general_ci")), "{row:?}");
    s.execute("CREATE TABLE t (a VARCHAR(5))", []).expect("create");
    s.execute("INSERT INTO t VALUES ('ß')", []).expect("insert");
    let n = s.query("SELECT COUNT(*) FROM t WHERE a = 's'", []).expect("count");
    assert_eq!(n.iter().next().map(|r| r.values()[0].clone()), Some(Value::Int(1)));
    let e = Database::open_in_memory_with(OpenOptions::default().collation_server("utf8mb4_klingon_ci"));
    assert_eq!(e.err().map(|e| e.number()), Some(1273));
}
