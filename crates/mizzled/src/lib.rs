//! `mizzled`, the mizzle server: MySQL clients (the `mariadb` and `mysql`
//! command-line clients, PyMySQL, sysbench, the Rust `mysql` crate...)
//! connect over TCP to an on-disk mizzle database.
//!
//! Modules, from the socket in:
//! 1. [`server`]: listener, connection table, shutdown on SIGTERM /
//!    SIGINT, and the host the scheduler plugins run connections for;
//!    [`pool`] and [`per_thread`]: the `pool` and `thread` schedulers
//!    (`mizzle_plugin_api::scheduler`; they see connections only through
//!    that API).
//! 2. [`conn`]: one connection's handshake and commands over
//!    `mizzle_protocol` (sans-IO).
//! 3. [`accounts`]: the `native` (`mysql.user`) and `file` account
//!    plugins, failed-login delays.
//! 4. [`exec`]: the only module that calls `mizzle_session`.
//! 5. [`config`]: flags, config file, defaults.
//!
//! Invariants:
//! 1. Only [`exec`] names `mizzle_session` types other than `ColumnInfo`
//!    and `SessionError` (so the session's step API changes one module).
//! 2. Nothing a client sends panics the server: protocol decoding is
//!    checked (`mizzle_protocol` invariant 1), and a panic inside one
//!    connection's step is caught by its scheduler, logged, and ends that
//!    connection only.
//! 3. The schedulers use nothing of this crate: only the plugin API.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod admin;
pub mod config;
pub mod conn;
pub mod exec;
pub mod per_thread;
pub mod pool;
pub mod server;
pub mod tls;
