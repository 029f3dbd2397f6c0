//! Statements about the server rather than the database, answered by the
//! server itself: `SHOW [FULL] PROCESSLIST`, `KILL [QUERY | CONNECTION] id`,
//! the server's rows of `SHOW [GLOBAL | SESSION] STATUS [LIKE 'p']` and of
//! `SHOW PLUGINS` (its schedulers and authentication plugins).
//!
//! The session cannot see other connections or server counters, so these
//! are recognised in the query text before it reaches the session.
//!
//! Invariants:
//! 1. Only text that is exactly one such statement (an optional trailing
//!    `;`, any case and spacing) is recognised; anything else goes to the
//!    session unchanged, so its errors are the session's.
//! 2. `SHOW STATUS` is the session's result with the server's rows
//!    replacing or joining it, then filtered by the LIKE pattern
//!    (case-insensitive, `%` and `_`, `\` escapes), sorted by name.

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
    /// `SHOW [GLOBAL | SESSION] STATUS [LIKE 'pattern']`.
    Status {
        /// The LIKE pattern, unquoted.
        like: Option<String>,
    },
    /// `SHOW PLUGINS`.
    Plugins,
}

/// Recognises `sql` (invariant 1).
pub fn recognise(sql: &str) -> Option<AdminStmt> {
    let text = sql.trim().trim_end_matches(';').trim();
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
        ["SHOW", rest @ ..] => {
            let rest = match rest {
                ["GLOBAL" | "SESSION" | "LOCAL", r @ ..] => r,
                r => r,
            };
            match rest {
                ["STATUS"] => Some(AdminStmt::Status { like: None }),
                ["STATUS", "LIKE", ..] => {
                    // The pattern is a quoted literal; keep its original case.
                    let at = text.to_ascii_uppercase().find(" LIKE ")? + " LIKE ".len();
                    let lit = text.get(at..)?.trim();
                    let q = lit.chars().next().filter(|c| *c == '\'' || *c == '"')?;
                    let inner = lit.strip_prefix(q)?.strip_suffix(q)?;
                    if inner.contains(q) {
                        return None;
                    }
                    Some(AdminStmt::Status { like: Some(inner.to_owned()) })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// SQL LIKE, case-insensitive (ASCII), `%`, `_` and `\` escapes.
pub fn like(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| t.get(i..).is_some_and(|tail| go(rest, tail))),
            Some(('_', rest)) => t.split_first().is_some_and(|(_, tt)| go(rest, tt)),
            Some(('\\', rest)) if !rest.is_empty() => match (rest.split_first(), t.split_first()) {
                (Some((pc, pr)), Some((tc, tr))) => pc.eq_ignore_ascii_case(tc) && go(pr, tr),
                _ => false,
            },
            Some((pc, rest)) => t.split_first().is_some_and(|(tc, tr)| pc.eq_ignore_ascii_case(tc) && go(rest, tr)),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
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
/// Library, License): both schedulers (the one running ACTIVE), both
/// account stores (the one in use ACTIVE) and the two password methods of
/// the protocol.
pub fn server_plugins(pool: bool, account_store: &str) -> Vec<Vec<Value>> {
    let row = |name: &str, active: bool, kind: &str| {
        vec![
            Value::text(name),
            Value::text(if active { "ACTIVE" } else { "INACTIVE" }),
            Value::text(kind),
            Value::Null,
            Value::text("Apache-2.0"),
        ]
    };
    vec![
        row("pool", pool, "SCHEDULER"),
        row("thread", !pool, "SCHEDULER"),
        row("native", account_store == "native", "AUTHENTICATION"),
        row("file", account_store == "file", "AUTHENTICATION"),
        row("mysql_native_password", true, "AUTHENTICATION"),
        row("caching_sha2_password", true, "AUTHENTICATION"),
    ]
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

/// Merges server rows into the session's `SHOW STATUS` rows and applies
/// the pattern (invariant 2).
pub fn merge_status(
    session_rows: Vec<Vec<Value>>,
    server: Vec<(String, String)>,
    like_pattern: Option<&str>,
) -> Vec<Vec<Value>> {
    let mut map: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for r in session_rows {
        if let (Some(Value::Text(n)), Some(v)) = (r.first(), r.get(1)) {
            let mut s = Vec::new();
            v.write_text(&mut s);
            map.insert(n.to_string(), String::from_utf8_lossy(&s).into_owned());
        }
    }
    for (n, v) in server {
        map.insert(n, v);
    }
    map.into_iter()
        .filter(|(n, _)| like_pattern.is_none_or(|p| like(p, n)))
        .map(|(n, v)| vec![Value::text(&n), Value::text(&v)])
        .collect()
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
        assert_eq!(
            recognise("SHOW GLOBAL STATUS LIKE 'Threads%'"),
            Some(AdminStmt::Status { like: Some("Threads%".into()) })
        );
        assert_eq!(recognise("show status"), Some(AdminStmt::Status { like: None }));
        assert_eq!(recognise("SHOW plugins;"), Some(AdminStmt::Plugins));
        assert_eq!(recognise("SHOW STATUS WHERE x = 1"), None);
        assert_eq!(recognise("SELECT 1; KILL 3"), None);
    }

    #[test]
    fn like_matches_as_mysql() {
        assert!(like("threads%", "Threads_connected"));
        assert!(like("Threads\\_connected", "Threads_connected"));
        assert!(!like("Threads\\_connected", "ThreadsXconnected"));
        assert!(like("_ptime", "Uptime"));
        assert!(!like("Up", "Uptime"));
    }

    #[test]
    fn server_rows_replace_session_rows() {
        let session = vec![
            vec![Value::text("Threads_connected"), Value::text("1")],
            vec![Value::text("Uptime"), Value::text("0")],
        ];
        let merged = merge_status(session, vec![("Threads_connected".into(), "5".into())], Some("threads%"));
        assert_eq!(merged, vec![vec![Value::text("Threads_connected"), Value::text("5")]]);
    }
}
