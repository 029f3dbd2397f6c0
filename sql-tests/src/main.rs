//! `mizzle-slt`: runs sqllogictest files against a fresh mizzle database
//! per file (engine labels `mysql` and `mizzle`).
//!
//! `--engine memory` (the default) runs each file on an in-memory
//! database; `--engine disk` on the disk engine, in a fresh temporary
//! directory removed afterwards, with commits synced per `MIZZLE_SLT_SYNC`
//! (`normal` by default: the log is written, not fsynced, which keeps the
//! corpus fast; `full` fsyncs every commit) and a small page cache
//! (`MIZZLE_SLT_CACHE`, default 4 MiB) so the tree is read from the file.
//! The option is passed to the worker processes through the environment
//! variable `MIZZLE_SLT_ENGINE`.
//!
//! `--server HOST:PORT` runs the files over the MySQL protocol against a
//! running server instead (see `wire`), logging in as `MIZZLE_SLT_USER`
//! (default `root`) with `MIZZLE_SLT_PASSWORD` (default empty); passed to
//! workers as `MIZZLE_SLT_SERVER`.

mod wire;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use mizzle_slt::{Backend, Cell, Connection, Database, ResultSet};

const ENGINE_ENV: &str = "MIZZLE_SLT_ENGINE";
const SERVER_ENV: &str = "MIZZLE_SLT_SERVER";

struct MizzleBackend {
    engine: String,
}

/// A database and, on disk, the directory removed when it drops.
struct Db {
    db: Option<mizzle::Database>,
    dir: Option<PathBuf>,
}

impl Drop for Db {
    fn drop(&mut self) {
        // Close the database (sessions are gone by now), then remove it.
        drop(self.db.take());
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

struct Conn(mizzle::Session);

static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

impl Backend for MizzleBackend {
    fn open(&self) -> Result<Box<dyn Database>, String> {
        if self.engine == "memory" {
            return mizzle::Database::open_in_memory()
                .map(|d| Box::new(Db { db: Some(d), dir: None }) as Box<dyn Database>)
                .map_err(|e| e.to_string());
        }
        let sync = std::env::var("MIZZLE_SLT_SYNC").unwrap_or_else(|_| "normal".into());
        let sync =
            mizzle::SyncMode::parse(&sync).ok_or_else(|| format!("MIZZLE_SLT_SYNC: unknown sync mode '{sync}'"))?;
        let cache = std::env::var("MIZZLE_SLT_CACHE").ok().and_then(|c| c.parse().ok()).unwrap_or(4u64 << 20);
        let dir = std::env::temp_dir().join(format!(
            "mizzle-slt-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let opts = mizzle::OpenOptions::new().engine(&self.engine).sync(sync).cache_bytes(cache);
        mizzle::Database::open_with(&dir, opts)
            .map(|d| Box::new(Db { db: Some(d), dir: Some(dir) }) as Box<dyn Database>)
            .map_err(|e| e.to_string())
    }

    fn labels(&self) -> Vec<String> {
        vec!["mysql".into(), "mizzle".into()]
    }
}

impl Database for Db {
    fn connect(&self) -> Result<Box<dyn Connection>, String> {
        let db = self.db.as_ref().ok_or("the database is closed")?;
        Ok(Box::new(Conn(db.session())))
    }

    fn connect_as(&self, login: &mizzle_slt::Login) -> Result<Box<dyn Connection>, String> {
        let db = self.db.as_ref().ok_or("the database is closed")?;
        // In the file's database (main) if the account may use it.
        Ok(Box::new(Conn(db.session_as(&login.user, &login.host))))
    }

    fn lock_waits_begun(&self) -> Option<u64> {
        self.db.as_ref().map(|d| d.lock_stats().waits)
    }
}

impl Connection for Conn {
    fn run(&mut self, sql: &str) -> Result<Option<ResultSet>, String> {
        let outs = self.0.run(sql).map_err(|e| e.to_string())?;
        match outs.into_iter().last() {
            Some(mizzle::Output::Rows(rows)) => {
                let columns = rows.columns().len();
                let types: Vec<mizzle::SqlType> = rows.columns().iter().map(|c| c.ty).collect();
                let rows = rows
                    .iter()
                    .map(|r| {
                        r.values()
                            .iter()
                            .enumerate()
                            .map(|(i, v)| -> Cell {
                                if v.is_null() {
                                    None
                                } else {
                                    // As a MySQL client shows it (fractional
                                    // digits of the column's type).
                                    let mut b = Vec::new();
                                    match types.get(i) {
                                        Some(t) => v.write_text_as(*t, &mut b),
                                        None => v.write_text(&mut b),
                                    }
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
    // `--engine NAME` (or `--engine=NAME`) is taken out here and handed to
    // the worker processes through the environment.
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    let mut it = std::env::args_os();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy().into_owned();
        if s == "--engine" {
            if let Some(v) = it.next() {
                std::env::set_var(ENGINE_ENV, v);
            }
        } else if let Some(v) = s.strip_prefix("--engine=") {
            std::env::set_var(ENGINE_ENV, v);
        } else if s == "--server" {
            if let Some(v) = it.next() {
                std::env::set_var(SERVER_ENV, v);
            }
        } else if let Some(v) = s.strip_prefix("--server=") {
            std::env::set_var(SERVER_ENV, v);
        } else {
            args.push(a);
        }
    }
    if let Ok(addr) = std::env::var(SERVER_ENV) {
        let options = wire::ServerOptions {
            addr,
            user: std::env::var("MIZZLE_SLT_USER").unwrap_or_else(|_| "root".into()),
            password: std::env::var("MIZZLE_SLT_PASSWORD").unwrap_or_default(),
        };
        std::process::exit(mizzle_slt::run_cli_with_args(Arc::new(wire::ServerBackend { options }), args));
    }
    let engine = std::env::var(ENGINE_ENV).unwrap_or_else(|_| "memory".into()).to_lowercase();
    if engine != "memory" && engine != "disk" {
        eprintln!("mizzle-slt: unknown engine '{engine}' (memory or disk)");
        std::process::exit(2);
    }
    std::process::exit(mizzle_slt::run_cli_with_args(Arc::new(MizzleBackend { engine }), args));
}
