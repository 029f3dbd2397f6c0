//! Sessions running as an account (`Database::session_as`): prepared
//! statements are checked at each execution, and the default session
//! stays all-powerful.

use mizzle::Database;

fn code(e: &mizzle::Error) -> u16 {
    e.number()
}

#[test]
fn prepared_statement_is_checked_at_each_execution() -> Result<(), mizzle::Error> {
    let db = Database::open_in_memory()?;
    let admin = db.session();
    admin.run("CREATE TABLE t (a INT PRIMARY KEY); INSERT INTO t VALUES (1), (2)")?;
    admin.run("CREATE USER u@localhost; GRANT SELECT ON main.t TO u@localhost")?;
    let s = db.session_as("u", "localhost");
    s.run("USE main")?;
    let mut p = s.prepare("SELECT COUNT(*) FROM t")?;
    assert_eq!(p.query(&[])?.get(0).map(|r| r.get::<i64>(0)).transpose()?, Some(2));
    admin.run("REVOKE SELECT ON main.t FROM u@localhost")?;
    let e = p.query(&[]).expect_err("revoked");
    assert_eq!(code(&e), 1142, "{e}");
    admin.run("GRANT SELECT ON main.* TO u@localhost")?;
    assert_eq!(p.query(&[])?.len(), 1);
    Ok(())
}

#[test]
fn default_session_may_do_anything_and_named_session_starts_without_a_database_it_may_not_use(
) -> Result<(), mizzle::Error> {
    let db = Database::open_in_memory()?;
    let admin = db.session();
    admin.run("CREATE DATABASE d; CREATE TABLE d.t (a INT); SET GLOBAL autocommit = 1")?;
    let s = db.session_as("ghost", "%");
    let e = s.run("SELECT * FROM t").expect_err("no database");
    assert_eq!(code(&e), 1046, "{e}");
    let e = s.run("SELECT * FROM d.t").expect_err("no account");
    assert_eq!(code(&e), 1142, "{e}");
    Ok(())
}
