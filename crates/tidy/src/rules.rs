//! Every table tidy enforces, in one place: changing a rule is one edit here
//! (and, for dependency edges, the matching ARCHITECTURE.md update that
//! STYLE.md §1 asks for in the same change).
//!
//! Invariants:
//! 1. Names are Cargo package names (`mizzle-types`), never lib names.
//! 2. A rule naming a package that is not (yet) a workspace member is
//!    skipped, so rules may be written ahead of the crate landing.
//!
//! This module holds data only; the logic is in [`crate::checks`].

/// The kernel crates, lowest layer first. Each may depend (normal or build
/// dependency) only on workspace crates listed before it (STYLE.md §1).
/// Inserting a crate into the order is one edit to this list.
pub const KERNEL_ORDER: &[&str] = &[
    "mizzle-types",
    "mizzle-plugin-api",
    "mizzle-txn",
    "mizzle-dictionary",
    "mizzle-sql",
    "mizzle-exec",
    "mizzle-session",
    "mizzle-kernel",
];

/// Kernel-side crates outside the linear order, with the only workspace
/// crates each may depend on.
pub const KERNEL_SIDE_CRATES: &[(&str, &[&str])] = &[("mizzle-protocol", &["mizzle-types"])];

/// The workspace crates a package under `plugins/` may depend on (STYLE.md
/// §1: "`plugins/*` depend on `mizzle-plugin-api` alone"); types come through
/// plugin-api's re-export.
pub const PLUGIN_MAY_DEPEND_ON: &[&str] = &["mizzle-plugin-api"];

/// Third-party crates that only the listed workspace packages may depend on,
/// in any dependency kind (normal, build or dev).
pub const EXCLUSIVE_DEPENDENCIES: &[(&str, &[&str])] =
    &[("sqlparser", &["mizzle-sql"]), ("rusqlite", &["mizzle-bench"])];

/// The one package whose code may name `sqlparser`; it re-exports none
/// of it (STYLE.md §1: "`sqlparser` appears only in `mizzle-sql`;
/// downstream sees bound plans").
pub const SQLPARSER_OWNER: &str = "mizzle-sql";

/// Packages allowed to contain `unsafe` code. Each must also be named in the
/// "Unsafe code" note of ARCHITECTURE.md (STYLE.md §7.2); a test checks that.
/// Today no crate is exempt.
pub const UNSAFE_ALLOWED: &[&str] = &[];

/// Module and file names STYLE.md §3 bans.
pub const BANNED_MODULE_NAMES: &[&str] = &["utils", "common", "helpers"];

/// The one file where MySQL error numbers may be written (STYLE.md §5),
/// relative to the workspace root.
pub const ERROR_TABLE_FILE: &str = "crates/mizzle-types/src/error.rs";

/// Directories (relative to the workspace root) whose subdirectories are
/// crates that the source checks scan.
pub const SOURCE_PARENTS: &[&str] = &["crates", "plugins"];

/// The directory (relative to the workspace root) whose packages are plugins.
pub const PLUGINS_DIR: &str = "plugins";

/// Workspace crates `name` may depend on, if a layering rule covers it.
pub fn allowed_workspace_dependencies(name: &str) -> Option<Vec<&'static str>> {
    if let Some(pos) = KERNEL_ORDER.iter().position(|k| *k == name) {
        return Some(KERNEL_ORDER[..pos].to_vec());
    }
    KERNEL_SIDE_CRATES.iter().find(|(k, _)| *k == name).map(|(_, allowed)| allowed.to_vec())
}

/// Whether `name` is a kernel crate (which must never depend on a plugin).
pub fn is_kernel_crate(name: &str) -> bool {
    allowed_workspace_dependencies(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_crate_may_use_only_crates_below_it() {
        assert_eq!(allowed_workspace_dependencies("mizzle-types"), Some(vec![]));
        assert_eq!(allowed_workspace_dependencies("mizzle-txn"), Some(vec!["mizzle-types", "mizzle-plugin-api"]));
        assert_eq!(allowed_workspace_dependencies("mizzle-protocol"), Some(vec!["mizzle-types"]));
        assert_eq!(allowed_workspace_dependencies("mizzle"), None);
    }
}
