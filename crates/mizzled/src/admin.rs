//! Statements about the server rather than the database, answered by the
//! server itself: `SHOW [FULL] PROCESSLIST`, `KILL [QUERY | CONNECTION] id`,
//! and the server's rows of `SHOW PLUGINS` (its schedulers and
//! authentication plugins). The server's rows of `SHOW STATUS` reach every
//! session through the catalog instead (`Engine::register_status`), so
//! `SHOW STATUS WHERE …` and `performance_schema.global_status` have them
//! too.
//!
//! The session cannot see other connections or the server's plugins, so
//! these are recognised in the query text before it reaches the session.
//!
//! Invariants:
//! 1. Only text that is exactly one such statement (an optional trailing
//!    `;`, any case and spacing) is recognised; anything else goes to the
//!    session unchanged, so its errors are the session's.

use std::sync::Arc;

use mizzle_session::ColumnInfo;
use mizzle_types::{IntWidth, SqlType, Value};

/// A recognised server statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminStmt {
    /// `SHOW [FULL] PROCESSLIST`.
    ProcessList {
        /// FULL: the whole statement text.
        full: bool,
    },
    /// `KILL [QUERY | CONNECTION] id`.
    Kill {
        /// The connection id.
        id: u64,
        /// `KILL QUERY`.
        query_only: bool,
    },
    /// `SHOW PLUGINS`.
    Plugins,
}

/// Recognises `sql` (invariant 1).
pub fn recognise(sql: &str) -> Option<AdminStmt> {
    let text = sql.trim().trim_end_matches(';').trim();
    // Every text query passes here: look at the first word before
    // splitting (and upper-casing) the whole text.
    let first = text.split_whitespace().next().unwrap_or("");
    if !first.eq_ignore_ascii_case("SHOW") && !first.eq_ignore_ascii_case("KILL") {
        return None;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let u: Vec<&str> = upper.iter().map(String::as_str).collect();
    match u.as_slice() {
        ["SHOW", "PROCESSLIST"] => Some(AdminStmt::ProcessList { full: false }),
        ["SHOW", "PLUGINS"] => Some(AdminStmt::Plugins),
        ["SHOW", "FULL", "PROCESSLIST"] => Some(AdminStmt::ProcessList { full: true }),
        ["KILL", id] => id.parse().ok().map(|id| AdminStmt::Kill { id, query_only: false }),
        ["KILL", "CONNECTION", id] => id.parse().ok().map(|id| AdminStmt::Kill { id, query_only: false }),
        ["KILL", "QUERY", id] => id.parse().ok().map(|id| AdminStmt::Kill { id, query_only: true }),
        _ => None,
    }
}

fn col(name: &str, ty: SqlType, nullable: bool) -> ColumnInfo {
    ColumnInfo { name: name.to_owned(), table: None, origin: None, ty, nullable }
}

/// The columns of `SHOW PROCESSLIST`.
pub fn processlist_columns() -> Arc<Vec<ColumnInfo>> {
    let big = SqlType::Int { width: IntWidth::Big, unsigned: true };
    Arc::new(vec![
        col("Id", big, false),
        col("User", SqlType::Varchar(32), false),
        col("Host", SqlType::Varchar(261), false),
        col("db", SqlType::Varchar(64), true),
        col("Command", SqlType::Varchar(16), false),
        col("Time", SqlType::Int { width: IntWidth::Int, unsigned: false }, false),
        col("State", SqlType::Varchar(64), true),
        col("Info", SqlType::Text(65535), true),
    ])
}

/// The server's plugins as `SHOW PLUGINS` rows (Name, Status, Type,
/// Library, License): the scheduler plugins (the one running, named
/// `scheduler`, ACTIVE), both account stores (the one in use ACTIVE) and
/// the two password methods of the protocol.
pub fn server_plugins(scheduler: &str, account_store: &str) -> Vec<Vec<Value>> {
    let row = |name: &str, active: bool, kind: &str| {
        vec![
            Value::text(name),
            Value::text(if active { "ACTIVE" } else { "INACTIVE" }),
            Value::text(kind),
            Value::Null,
            Value::text("Apache-2.0"),
        ]
    };
    let mut rows: Vec<Vec<Value>> = crate::server::scheduler_plugins()
        .iter()
        .map(|p| {
            let name = p.descriptor().name;
            row(&name, name == scheduler, "SCHEDULER")
        })
        .collect();
    rows.extend([
        row("native", account_store == "native", "AUTHENTICATION"),
        row("file", account_store == "file", "AUTHENTICATION"),
        row("mysql_native_password", true, "AUTHENTICATION"),
        row("caching_sha2_password", true, "AUTHENTICATION"),
    ]);
    rows
}

/// The session's `SHOW PLUGINS` rows with the server's joined: the
/// embedded facade's schedulers are listed INACTIVE (the server's run).
pub fn merge_plugins(session_rows: Vec<Vec<Value>>, server: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    // The server's rows are authoritative for the plugins it names (its
    // account store is also registered with the session's registry).
    let name = |r: &Vec<Value>| match r.first() {
        Some(Value::Text(n)) => n.to_ascii_lowercase(),
        _ => String::new(),
    };
    let named: std::collections::HashSet<String> = server.iter().map(name).collect();
    let mut rows: Vec<Vec<Value>> = session_rows
        .into_iter()
        .filter(|r| !named.contains(&name(r)))
        .map(|mut r| {
            if matches!(r.get(2), Some(Value::Text(k)) if k.as_ref() == "SCHEDULER") {
                if let Some(s) = r.get_mut(1) {
                    *s = Value::text("INACTIVE");
                }
            }
            r
        })
        .collect();
    rows.extend(server);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_whole_admin_statements() {
        assert_eq!(recognise("show full processlist;"), Some(AdminStmt::ProcessList { full: true }));
        assert_eq!(recognise("KILL 7"), Some(AdminStmt::Kill { id: 7, query_only: false }));
        assert_eq!(recognise("kill  query 9 ;"), Some(AdminStmt::Kill { id: 9, query_only: true }));
        assert_eq!(recognise("KILL CONNECTION x"), None);
        assert_eq!(recognise("SHOW GLOBAL STATUS LIKE 'Threads%'"), None);
        assert_eq!(recognise("SHOW plugins;"), Some(AdminStmt::Plugins));
        assert_eq!(recognise("SHOW STATUS WHERE x = 1"), None);
        assert_eq!(recognise("SELECT 1; KILL 3"), None);
    }
}
