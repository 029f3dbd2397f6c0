//! A fake engine for the runner's tests. It speaks a tiny command language
//! instead of SQL (the whole record text, trimmed, is one command):
//!
//! | command                 | result                                              |
//! |-------------------------|-----------------------------------------------------|
//! | `ok [anything]`         | no result set                                       |
//! | `fail <n> <message>`    | error `ERROR <n> (HY000): <message>`                |
//! | `rows <cols> [v|v|...]` | a result set; `NULL`, `''` (empty), `\xHH` escapes  |
//! | `set <name> <value>`    | sets a variable of this connection                  |
//! | `get <name>`            | one row: the connection's variable, or NULL         |
//! | `put <key> <value>`     | stores into the database, shared by connections     |
//! | `read <key>`            | one row: the stored value, or NULL                  |
//! | `calls`                 | one row: how many commands this database has run    |
//! | `panic`                 | panics                                              |
//! | `hang`                  | sleeps forever                                      |
//! | `overflow`              | recurses until the stack overflows                  |
//! | `block <name> [cmd]`    | counts a lock wait, waits until `release <name>`,   |
//! |                         | then runs `cmd` (default `ok`)                      |
//! | `release <name>`        | lets `block <name>` go on                           |
//!
//! Invariants: 1. every `Backend::open` gives an empty database; 2. nothing
//! here is shared between databases. It does not parse SQL.

#![allow(dead_code)] // each test target uses a different part

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex};

use mizzle_slt::{Backend, Cell, Connection, Database, ResultSet};

pub struct FakeBackend;

impl Backend for FakeBackend {
    fn open(&self) -> Result<Box<dyn Database>, String> {
        Ok(Box::new(FakeDatabase::default()))
    }

    fn labels(&self) -> Vec<String> {
        vec!["mysql".into(), "mizzle".into()]
    }
}

/// A backend whose databases cannot be opened.
pub struct BrokenBackend;

impl Backend for BrokenBackend {
    fn open(&self) -> Result<Box<dyn Database>, String> {
        Err("no storage".into())
    }

    fn labels(&self) -> Vec<String> {
        vec!["mysql".into()]
    }
}

#[derive(Default)]
struct Shared {
    store: HashMap<String, String>,
    calls: u64,
}

/// Named gates for `block` / `release`, and the count of blocks begun.
#[derive(Default)]
struct Gates {
    released: HashSet<String>,
    waits: u64,
}

#[derive(Default)]
pub struct FakeDatabase {
    shared: Arc<Mutex<Shared>>,
    gates: Arc<(Mutex<Gates>, Condvar)>,
}

impl Database for FakeDatabase {
    fn connect(&self) -> Result<Box<dyn Connection>, String> {
        Ok(Box::new(FakeConnection {
            shared: Arc::clone(&self.shared),
            gates: Arc::clone(&self.gates),
            vars: HashMap::new(),
        }))
    }

    fn lock_waits_begun(&self) -> Option<u64> {
        Some(self.gates.0.lock().expect("fake: gates").waits)
    }
}

struct FakeConnection {
    shared: Arc<Mutex<Shared>>,
    gates: Arc<(Mutex<Gates>, Condvar)>,
    vars: HashMap<String, String>,
}

fn one(value: Option<&String>) -> Result<Option<ResultSet>, String> {
    Ok(Some(ResultSet { columns: 1, rows: vec![vec![value.map(|v| v.clone().into_bytes())]] }))
}

fn cell(token: &str) -> Cell {
    match token {
        "NULL" => None,
        "''" => Some(Vec::new()),
        text => {
            let mut out = Vec::new();
            let bytes = text.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'x') && i + 3 < bytes.len() {
                    let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).expect("fake: ASCII escape");
                    out.push(u8::from_str_radix(hex, 16).expect("fake: hex escape"));
                    i += 4;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            Some(out)
        }
    }
}

#[allow(unconditional_recursion)]
fn overflow(depth: u64) -> u64 {
    let pad = [depth; 64];
    std::hint::black_box(&pad);
    overflow(depth + 1) + pad[0]
}

impl Connection for FakeConnection {
    fn run(&mut self, sql: &str) -> Result<Option<ResultSet>, String> {
        let text = sql.trim();
        let (command, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let rest = rest.trim();
        let arg = |n: usize| rest.split_whitespace().nth(n).unwrap_or("").to_owned();
        if command == "block" {
            let (name, then) = rest.split_once(char::is_whitespace).unwrap_or((rest, "ok"));
            {
                let (gates, cv) = &*self.gates;
                let mut g = gates.lock().expect("fake: gates");
                g.waits += 1;
                while !g.released.contains(name) {
                    g = cv.wait(g).expect("fake: gates");
                }
            }
            return self.run(then);
        }
        if command == "release" {
            let (gates, cv) = &*self.gates;
            gates.lock().expect("fake: gates").released.insert(arg(0));
            cv.notify_all();
            return Ok(None);
        }
        let mut shared = self.shared.lock().expect("fake: lock");
        shared.calls += 1;
        match command {
            "ok" => Ok(None),
            "fail" => {
                let (code, message) = rest.split_once(' ').unwrap_or((rest, ""));
                Err(format!("ERROR {code} (HY000): {message}"))
            }
            "rows" => {
                let (columns, values) = rest.split_once(' ').unwrap_or((rest, ""));
                let columns: usize = columns.parse().map_err(|_| "fake: bad column count".to_owned())?;
                let cells: Vec<Cell> = if values.trim().is_empty() {
                    Vec::new()
                } else {
                    values.split('|').map(|v| cell(v.trim())).collect()
                };
                if columns == 0 || !cells.chunks_exact(columns).remainder().is_empty() {
                    return Err("fake: values do not fill the rows".into());
                }
                Ok(Some(ResultSet { columns, rows: cells.chunks(columns).map(<[Cell]>::to_vec).collect() }))
            }
            "set" => {
                self.vars.insert(arg(0), arg(1));
                Ok(None)
            }
            "get" => one(self.vars.get(&arg(0))),
            "put" => {
                shared.store.insert(arg(0), arg(1));
                Ok(None)
            }
            "read" => one(shared.store.get(&arg(0))),
            "calls" => one(Some(&shared.calls.to_string())),
            "panic" => panic!("fake engine panics on purpose"),
            "hang" => {
                drop(shared);
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            }
            "overflow" => {
                Ok(Some(ResultSet { columns: 1, rows: vec![vec![Some(overflow(0).to_string().into_bytes())]] }))
            }
            other => Err(format!("ERROR 1064 (42000): fake engine does not know '{other}'")),
        }
    }
}
