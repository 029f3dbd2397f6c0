//! Fuzzes parse + bind + execute: any SQL text on a small schema must give
//! rows or a typed error, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else { return };
    if sql.len() > 4096 {
        return;
    }
    let Ok(db) = mizzle::Database::open_in_memory() else { return };
    let s = db.session();
    let _ = s.run("CREATE TABLE t (a INT PRIMARY KEY, b VARCHAR(10), c DECIMAL(6,2), KEY kb (b))");
    let _ = s.run("INSERT INTO t VALUES (1, 'x', 1.5), (2, 'y', NULL), (3, NULL, -2)");
    let _ = s.run(sql);
});
