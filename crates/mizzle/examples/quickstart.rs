//! A tour of the embedded API: tables, parameters, prepared statements,
//! transactions and errors.

use mizzle::{params, Database};

fn main() -> Result<(), mizzle::Error> {
    let db = Database::open_in_memory()?;
    let s = db.session();
    s.execute("CREATE TABLE city (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL, pop BIGINT)", [])?;
    let mut ins = s.prepare("INSERT INTO city (name, pop) VALUES (?, ?)")?;
    for (name, pop) in [("Lisbon", 545_000i64), ("Porto", 232_000), ("Braga", 193_000)] {
        ins.execute(params![name, pop])?;
    }
    s.begin()?;
    s.execute("UPDATE city SET pop = pop + 1000 WHERE name = ?", params!["Braga"])?;
    s.rollback()?;
    for row in s.query("SELECT name, pop FROM city WHERE pop > ? ORDER BY pop DESC", params![200_000])? {
        println!("{:<8} {}", row.get::<String>(0)?, row.get::<i64>(1)?);
    }
    match s.execute("INSERT INTO city (id, name) VALUES (1, 'Faro')", []) {
        Err(e) => println!("{e}"),
        Ok(_) => println!("unexpected success"),
    }
    Ok(())
}
