//! `mizzle-slt`: runs sqllogictest files against a fresh in-memory mizzle
//! database per file (engine labels `mysql` and `mizzle`).

use std::sync::Arc;

use mizzle_slt::{Backend, Cell, Connection, Database, ResultSet};

struct MizzleBackend;

struct Db(mizzle::Database);

struct Conn(mizzle::Session);

impl Backend for MizzleBackend {
    fn open(&self) -> Result<Box<dyn Database>, String> {
        mizzle::Database::open_in_memory().map(|d| Box::new(Db(d)) as Box<dyn Database>).map_err(|e| e.to_string())
    }

    fn labels(&self) -> Vec<String> {
        vec!["mysql".into(), "mizzle".into()]
    }
}

impl Database for Db {
    fn connect(&self) -> Result<Box<dyn Connection>, String> {
        Ok(Box::new(Conn(self.0.session())))
    }
}

impl Connection for Conn {
    fn run(&mut self, sql: &str) -> Result<Option<ResultSet>, String> {
        let outs = self.0.run(sql).map_err(|e| e.to_string())?;
        match outs.into_iter().last() {
            Some(mizzle::Output::Rows(rows)) => {
                let columns = rows.columns().len();
                let rows = rows
                    .iter()
                    .map(|r| {
                        r.values()
                            .iter()
                            .map(|v| -> Cell {
                                if v.is_null() {
                                    None
                                } else {
                                    let mut b = Vec::new();
                                    v.write_text(&mut b);
                                    Some(b)
                                }
                            })
                            .collect()
                    })
                    .collect();
                Ok(Some(ResultSet { columns, rows }))
            }
            _ => Ok(None),
        }
    }
}

fn main() {
    std::process::exit(mizzle_slt::run_cli(Arc::new(MizzleBackend)));
}
