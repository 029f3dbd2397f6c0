//! LOAD DATA through the embedded API: a file larger than any buffer,
//! the FILE privilege, `secure_file_priv`, and a server session that
//! never reads its own files for a client's LOCAL load.

use std::io::Write;

use mizzle::{Database, Value};

fn temp_file(tag: &str, body: impl FnOnce(&mut dyn Write)) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("mizzle-load-{}-{tag}", std::process::id()));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).expect("create"));
    body(&mut f);
    f.flush().expect("flush");
    p
}

#[test]
fn a_large_file_loads_in_one_statement() {
    let rows = 100_000u64;
    let path = temp_file("large", |f| {
        for i in 1..=rows {
            writeln!(f, "{i},\"row, {i}\",{}", i * 2).expect("write");
        }
    });
    let db = Database::open_in_memory().unwrap();
    let s = db.session();
    s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(30), k BIGINT)", []).unwrap();
    let sql = format!("LOAD DATA INFILE '{}' INTO TABLE t FIELDS TERMINATED BY ',' ENCLOSED BY '\"'", path.display());
    let r = s.execute(&sql, []).unwrap();
    assert_eq!(r.rows_affected, rows);
    let got = s.query("SELECT COUNT(*), SUM(k), MIN(name) FROM t", []).unwrap();
    let row = got.get(0).unwrap();
    assert_eq!(row.get::<i64>(0).unwrap() as u64, rows);
    assert_eq!(row.get::<i64>(1).unwrap() as u64, rows * (rows + 1));
    assert_eq!(row.get::<String>(2).unwrap(), "row, 1");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn server_side_files_need_file_privilege_and_secure_file_priv() {
    let path = temp_file("priv", |f| writeln!(f, "1\ta").unwrap());
    let db = Database::open_in_memory().unwrap();
    let root = db.session();
    root.run(
        "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); CREATE USER u@localhost; GRANT INSERT ON main.* TO u@localhost",
    )
    .unwrap();
    let u = db.session_as("u", "localhost");
    let sql = format!("LOAD DATA INFILE '{}' INTO TABLE t", path.display());
    let e = u.execute(&sql, []).unwrap_err();
    assert_eq!(e.number(), 1227, "{e}");
    // LOCAL needs only INSERT.
    let local = format!("LOAD DATA LOCAL INFILE '{}' INTO TABLE t", path.display());
    assert_eq!(u.execute(&local, []).unwrap().rows_affected, 1);
    // secure_file_priv: NULL refuses, a directory confines.
    db.set_server_option("secure_file_priv", &Value::Null).unwrap();
    let e = root.execute(&sql, []).unwrap_err();
    assert_eq!(e.number(), 1290, "{e}");
    let elsewhere = std::env::temp_dir().join(format!("mizzle-load-dir-{}", std::process::id()));
    std::fs::create_dir_all(&elsewhere).unwrap();
    db.set_server_option("secure_file_priv", &Value::text(&elsewhere.to_string_lossy())).unwrap();
    let e = root.execute(&sql, []).unwrap_err();
    assert_eq!(e.number(), 1290, "{e}");
    let inside = elsewhere.join("in.tsv");
    std::fs::write(&inside, "2\tb\n").unwrap();
    root.execute(&format!("LOAD DATA INFILE '{}' INTO TABLE t", inside.display()), []).unwrap();
    assert_eq!(root.query("SELECT v FROM t WHERE id = 2", []).unwrap().get(0).unwrap().get::<String>(0).unwrap(), "b");
    let _ = std::fs::remove_dir_all(&elsewhere);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_server_session_never_reads_its_own_files_for_local() {
    let path = temp_file("server", |f| writeln!(f, "1\tsecret").unwrap());
    let db = Database::open_in_memory().unwrap();
    db.session().execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)", []).unwrap();
    let mut s = db.session().into_kernel_session();
    s.set_local_files(mizzle_session::LocalFiles::Client(None));
    let sql = format!("LOAD DATA LOCAL INFILE '{}' INTO TABLE t", path.display());
    let run = |s: &mut mizzle_session::Session, sql: &str| -> Result<(), mizzle_session::SessionError> {
        let ex = s.execute(sql, &[])?;
        s.block_on(ex, None)?.finish().map(|_| ())
    };
    let e = run(&mut s, &sql).expect_err("refused");
    assert_eq!(mizzle_types::SqlError::code(&e).number(), 1148, "{e}");
    // The file the client sent (spooled elsewhere) is what loads.
    let spool = temp_file("spool", |f| writeln!(f, "2\tsent").unwrap());
    s.set_local_files(mizzle_session::LocalFiles::Client(Some((path.display().to_string(), spool.clone()))));
    run(&mut s, &sql).unwrap();
    let got = db.session().query("SELECT id, v FROM t", []).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got.get(0).unwrap().get::<String>(1).unwrap(), "sent");
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&spool);
}
