//! A context for unit tests: a fresh transaction over an empty in-memory
//! engine, an empty dictionary, a fixed session and no system tables.

use std::sync::Arc;

use mizzle_dictionary::Dictionary;
use mizzle_txn::{TxnManager, TxnOptions};
use mizzle_types::{DateTime, TimeZone, Value, Warning};
use storage_memory::MemoryEngine;

use crate::ctx::{Ctx, SessionInfo, SystemInfo};

struct NoSystem;

impl SystemInfo for NoSystem {
    fn variables(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn status(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn previous_warnings(&self) -> Vec<Warning> {
        Vec::new()
    }
    fn engines(&self) -> Vec<(String, String, bool)> {
        Vec::new()
    }
    fn plugins(&self) -> Vec<(String, String, String)> {
        Vec::new()
    }
}

/// Runs `f` with a fresh context (`strict` as the session's SQL mode).
pub(crate) fn with_ctx<R>(params: &[Value], strict: bool, f: impl FnOnce(&mut Ctx<'_>) -> R) -> R {
    let mgr = TxnManager::new(Arc::new(MemoryEngine::new()));
    let txn = mgr.begin(TxnOptions::default());
    let dict = Dictionary::new();
    let tz = TimeZone::utc();
    let session = SessionInfo {
        database: None,
        last_insert_id: 0,
        row_count: 0,
        found_rows: 0,
        connection_id: 1,
        user: "u",
        current_user: "u@localhost",
        version: "8",
        now: DateTime::from_unix_micros(0).expect("the epoch"),
        time_zone: &tz,
        foreign_key_checks: true,
    };
    let mut ctx = Ctx::new(&txn, &dict, params, &session, &NoSystem);
    ctx.strict = strict;
    f(&mut ctx)
}
