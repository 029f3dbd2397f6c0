//! System variables: the ones mizzle implements and the ones clients set
//! that it accepts (recording the value, behaviour unchanged).
//!
//! Invariants:
//! 1. Names are lower case; an unknown name is error 1193, never ignored.
//! 2. Every variable has a default; a session starts with the global values.

use mizzle_types::Value;

/// How a variable's value is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    /// ON/OFF, 1/0, TRUE/FALSE.
    Bool,
    /// A non-negative integer.
    Int,
    /// Any text.
    Text,
    /// One of the isolation level names.
    Isolation,
    /// An integer in an inclusive range.
    IntRange(u64, u64),
    /// A utf8mb4 collation name (`mizzle_types::Collation`).
    Collation,
    /// Text, or NULL (stored as the text `NULL`; server options such as
    /// `secure_file_priv`).
    NullableText,
}

/// One known variable: name, kind, default, read-only.
pub struct VarDef {
    /// Name, lower case.
    pub name: &'static str,
    /// Kind.
    pub kind: VarKind,
    /// Default value as text.
    pub default: &'static str,
    /// Cannot be SET.
    pub read_only: bool,
}

const fn v(name: &'static str, kind: VarKind, default: &'static str) -> VarDef {
    VarDef { name, kind, default, read_only: false }
}

const fn ro(name: &'static str, kind: VarKind, default: &'static str) -> VarDef {
    VarDef { name, kind, default, read_only: true }
}

/// The server's version string.
pub const VERSION: &str = "8.0.36-mizzle-0.1.0";

/// Every known variable, sorted by name.
pub const VARS: &[VarDef] = &[
    v("auto_increment_increment", VarKind::Int, "1"),
    v("auto_increment_offset", VarKind::Int, "1"),
    v("autocommit", VarKind::Bool, "ON"),
    v("big_tables", VarKind::Bool, "OFF"),
    ro("character_set_client", VarKind::Text, "utf8mb4"),
    ro("character_set_connection", VarKind::Text, "utf8mb4"),
    ro("character_set_database", VarKind::Text, "utf8mb4"),
    ro("character_set_results", VarKind::Text, "utf8mb4"),
    ro("character_set_server", VarKind::Text, "utf8mb4"),
    ro("character_set_system", VarKind::Text, "utf8mb3"),
    // Literals, parameters and text made from other values take
    // collation_connection (coercible), as in MySQL 8; new tables without
    // COLLATE take collation_database, or collation_server while
    // collation_database is left at its default.
    v("collation_connection", VarKind::Collation, "utf8mb4_0900_ai_ci"),
    v("collation_database", VarKind::Collation, "utf8mb4_0900_ai_ci"),
    v("collation_server", VarKind::Collation, "utf8mb4_0900_ai_ci"),
    v("cte_max_recursion_depth", VarKind::IntRange(0, 4294967295), "1000"),
    v("default_storage_engine", VarKind::Text, "memory"),
    ro("div_precision_increment", VarKind::Int, "4"),
    v("foreign_key_checks", VarKind::Bool, "ON"),
    v("group_concat_max_len", VarKind::Int, "1024"),
    ro("have_ssl", VarKind::Text, "DISABLED"),
    v("innodb_flush_log_at_trx_commit", VarKind::IntRange(0, 2), "1"),
    v("innodb_lock_wait_timeout", VarKind::IntRange(1, 1_073_741_824), "50"),
    v("innodb_rollback_on_timeout", VarKind::Bool, "OFF"),
    v("interactive_timeout", VarKind::Int, "28800"),
    v("local_infile", VarKind::Bool, "OFF"),
    v("lock_wait_timeout", VarKind::IntRange(1, 31_536_000), "31536000"),
    ro("lower_case_table_names", VarKind::Int, "0"),
    v("max_allowed_packet", VarKind::Int, "67108864"),
    v("max_execution_time", VarKind::Int, "0"),
    v("net_read_timeout", VarKind::Int, "30"),
    v("net_write_timeout", VarKind::Int, "60"),
    ro("secure_file_priv", VarKind::NullableText, ""),
    v("sql_auto_is_null", VarKind::Bool, "OFF"),
    v("sql_mode", VarKind::Text, "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"),
    v("sql_notes", VarKind::Bool, "ON"),
    v("sql_quote_show_create", VarKind::Bool, "ON"),
    v("sql_safe_updates", VarKind::Bool, "OFF"),
    v("sql_select_limit", VarKind::Int, "18446744073709551615"),
    ro("system_time_zone", VarKind::Text, "UTC"),
    v("time_zone", VarKind::Text, "SYSTEM"),
    v("transaction_isolation", VarKind::Isolation, "REPEATABLE-READ"),
    v("transaction_read_only", VarKind::Bool, "OFF"),
    v("tx_isolation", VarKind::Isolation, "REPEATABLE-READ"),
    v("tx_read_only", VarKind::Bool, "OFF"),
    v("unique_checks", VarKind::Bool, "ON"),
    ro("version", VarKind::Text, VERSION),
    ro("version_comment", VarKind::Text, "mizzle embedded SQL engine"),
    ro("version_compile_os", VarKind::Text, "Linux"),
    v("wait_timeout", VarKind::Int, "28800"),
];

/// The definition of a variable.
pub fn find(name: &str) -> Option<&'static VarDef> {
    VARS.iter().find(|d| d.name == name)
}

/// Normalises a value for a variable, or `None` if it is not acceptable.
pub fn normalise(d: &VarDef, v: &Value) -> Option<String> {
    match d.kind {
        VarKind::Bool => {
            let t = v.to_text_lossy().to_ascii_uppercase();
            match t.as_str() {
                "1" | "ON" | "TRUE" => Some("ON".into()),
                "0" | "OFF" | "FALSE" => Some("OFF".into()),
                _ => None,
            }
        }
        VarKind::Int => match v {
            Value::Int(i) if *i >= 0 => Some(i.to_string()),
            Value::UInt(u) => Some(u.to_string()),
            Value::Text(s) => s.trim().parse::<u64>().ok().map(|n| n.to_string()),
            Value::Decimal(d) if d.scale() == 0 && d.signum() >= 0 => Some(d.to_string()),
            _ => None,
        },
        VarKind::IntRange(lo, hi) => normalise(&VarDef { kind: VarKind::Int, ..*d }, v)
            .filter(|t| t.parse::<u64>().is_ok_and(|n| n >= lo && n <= hi)),
        VarKind::Text => Some(v.to_text_lossy()),
        VarKind::NullableText if v.is_null() => Some("NULL".into()),
        VarKind::NullableText => Some(v.to_text_lossy()),
        VarKind::Collation => mizzle_types::Collation::from_name(&v.to_text_lossy()).map(|c| c.name().to_string()),
        VarKind::Isolation => {
            let t = v.to_text_lossy().to_ascii_uppercase().replace(' ', "-");
            match t.as_str() {
                "READ-UNCOMMITTED" | "READ-COMMITTED" | "REPEATABLE-READ" | "SERIALIZABLE" => Some(t),
                _ => None,
            }
        }
    }
}

/// A variable's value as SQL sees it (`SELECT @@x`).
pub fn to_value(d: &VarDef, text: &str) -> Value {
    match d.kind {
        VarKind::Bool => Value::Int((text == "ON") as i64),
        VarKind::Int | VarKind::IntRange(..) => match text.parse::<u64>() {
            Ok(n) => Value::UInt(n),
            Err(_) => Value::text(text),
        },
        VarKind::NullableText if text == "NULL" => Value::Null,
        _ => Value::text(text),
    }
}
