//! Upgrade in place: `tests/fixtures/format-v1.tar.gz` is a small database
//! written by the first released build of the disk format (disk format 1,
//! MVCC records version 2; made with `tests/fixtures/format-v1.sql` through
//! `mizzle shell`, then closed cleanly). Every later build must open it
//! without export or import, read exactly these rows, and keep writing to it.
//! A build that changes a format adds the upgrade code that keeps this test
//! passing (and a fixture of the new version beside this one).

use std::path::{Path, PathBuf};
use std::process::Command;

use mizzle::Database;

fn unpack(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mizzle-fixture-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(format!("{name}.tar.gz"));
    let st = Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(&dir).status().expect("tar runs");
    assert!(st.success(), "unpacking {}", archive.display());
    dir
}

fn rows(db: &Database, sql: &str) -> Vec<Vec<String>> {
    let r = db.session().query(sql, []).expect(sql);
    r.iter()
        .map(|row| {
            row.values()
                .iter()
                .map(|v| {
                    if v.is_null() {
                        "NULL".to_string()
                    } else {
                        let mut b = Vec::new();
                        v.write_text(&mut b);
                        String::from_utf8_lossy(&b).into_owned()
                    }
                })
                .collect()
        })
        .collect()
}

fn strs(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect()
}

#[test]
fn a_format_1_database_opens_reads_and_takes_writes() {
    let dir = unpack("format-v1");
    {
        let db = Database::open(&dir).expect("the format-1 fixture opens");
        assert_eq!(
            rows(&db, "SELECT id, name, born, height, balance, note, HEX(photo), seen FROM people ORDER BY id"),
            strs(&[
                &["1", "Ada", "1815-12-10", "1.65", "1234.50", "first programmer", "00FF10", "2026-12-02 10:11:12"],
                &["2", "Émile", "1900-01-01", "NULL", "-0.01", "accented name: ÉMILE ü 日本 🙂", "NULL", "NULL"],
                &["3", "Grace", "1906-12-09", "1.6", "99999999.99", "NULL", "", "1999-12-31 23:59:59"],
            ])
        );
        assert_eq!(
            rows(&db, "SELECT sku, qty, price FROM shop.items ORDER BY sku"),
            strs(&[&["A-1", "15", "1.500"], &["B-2", "0", "NULL"], &["C-3", "18446744073709551615", "999.999"]])
        );
        assert_eq!(rows(&db, "SELECT name FROM adults ORDER BY name"), strs(&[&["Ada"], &["Émile"]]));
        // The secondary index answers.
        assert_eq!(rows(&db, "SELECT id FROM people WHERE name = 'Grace'"), strs(&[&["3"]]));
        // Records from before collations mean utf8mb4_0900_bin, whatever
        // the default is now (utf8mb4_0900_ai_ci): byte comparison, as
        // the database was written.
        assert_eq!(rows(&db, "SELECT id FROM people WHERE name = 'GRACE'"), strs(&[]));
        assert_eq!(rows(&db, "SELECT COUNT(*) FROM shop.items WHERE sku = 'a-1'"), strs(&[&["0"]]));
        assert_eq!(
            rows(
                &db,
                "SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES \
                 WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN ('shop', DATABASE()) ORDER BY TABLE_NAME"
            ),
            strs(&[&["items", "utf8mb4_0900_bin"], &["people", "utf8mb4_0900_bin"]])
        );
        assert_eq!(
            rows(&db, "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_NAME = 'people' AND COLUMN_NAME = 'name'"),
            strs(&[&["utf8mb4_0900_bin"]])
        );
        // So do their databases (schema records of version 1): a new table
        // in one takes utf8mb4_0900_bin too, so the database stays of one
        // collation.
        assert_eq!(
            rows(&db, "SELECT SCHEMA_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'shop'"),
            strs(&[&["shop", "utf8mb4_0900_bin"]])
        );
        assert_eq!(rows(&db, "SELECT @@collation_database"), strs(&[&["utf8mb4_0900_bin"]]));
        db.session().execute("CREATE TABLE shop.later_text (s VARCHAR(5))", []).expect("new table in an old database");
        assert_eq!(
            rows(&db, "SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_NAME = 'later_text'"),
            strs(&[&["utf8mb4_0900_bin"]])
        );
        // A new database takes the server's default.
        db.session().execute("CREATE DATABASE fresh", []).expect("new database");
        assert_eq!(
            rows(&db, "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'fresh'"),
            strs(&[&["utf8mb4_0900_ai_ci"]])
        );
        // Writes continue: AUTO_INCREMENT resumes after the deleted row 4.
        let e = db.session().execute("INSERT INTO people (name) VALUES ('Hedy')", []).expect("insert");
        assert_eq!(e.last_insert_id, 5);
        db.session().execute("CREATE TABLE later (x INT PRIMARY KEY)", []).expect("new table");
        db.session().execute("INSERT INTO later VALUES (1)", []).expect("row");
    }
    let db = Database::open(&dir).expect("and reopens after being written by this build");
    assert_eq!(rows(&db, "SELECT COUNT(*) FROM people"), strs(&[&["4"]]));
    assert_eq!(rows(&db, "SELECT x FROM later"), strs(&[&["1"]]));
    assert_eq!(db.session().query("SELECT 1", []).map(|r| r.len()).ok(), Some(1));
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}
