//! The library behind the `mizzle` command-line tool: statement splitting,
//! result formatting and the shell driver, kept apart from the terminal so
//! they can be tested without one.
//!
//! Invariants:
//! 1. Nothing here reads standard input or touches a terminal; the binary
//!    (`src/main.rs`) owns argument parsing, line editing and history.
//! 2. Output imitates the `mysql` client so its users feel at home.
//!
//! It does not talk to a server: it drives an embedded [`mizzle::Database`].

#![forbid(unsafe_code)]

pub mod format;
pub mod shell;
pub mod split;
