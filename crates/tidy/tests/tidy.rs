//! The tidy checks over the real workspace (STYLE.md §1, §3, §4, §5, §7).
//! Each test lists every offender it finds, so one run shows all the work.
//! Rules live in `tidy::rules`; the logic in `tidy::checks`.

use std::sync::OnceLock;

use tidy::workspace::{self, Workspace};
use tidy::{checks, rules};

fn ws() -> &'static Workspace {
    static WS: OnceLock<Workspace> = OnceLock::new();
    WS.get_or_init(|| Workspace::load().expect("cargo metadata describes the workspace"))
}

fn architecture() -> String {
    workspace::read_text(&ws().root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md exists at the workspace root")
}

#[track_caller]
fn assert_none(what: &str, violations: Vec<String>) {
    assert!(violations.is_empty(), "{what} ({} found):\n  {}\n", violations.len(), violations.join("\n  "));
}

#[test]
fn kernel_crates_depend_only_on_crates_below_them() {
    assert_none(
        "dependency edges not allowed by tidy::rules::KERNEL_ORDER / KERNEL_SIDE_CRATES (STYLE.md §1)",
        checks::layering_violations(ws()),
    );
}

#[test]
fn kernel_crates_never_depend_on_a_plugin() {
    assert_none(
        "kernel crates with a normal or build dependency on a plugins/ package (dev-dependencies are fine)",
        checks::kernel_plugin_violations(ws()),
    );
}

#[test]
fn plugins_depend_on_plugin_api_alone() {
    assert_none(
        "plugins depending on workspace crates other than mizzle-plugin-api (use its re-exports)",
        checks::plugin_dependency_violations(ws()),
    );
}

#[test]
fn sqlparser_and_rusqlite_stay_in_their_one_crate() {
    assert_none(
        "dependencies on crates that tidy::rules::EXCLUSIVE_DEPENDENCIES reserves for another package",
        checks::exclusive_dependency_violations(ws()),
    );
}

#[test]
fn no_crate_but_mizzle_sql_names_sqlparser_and_it_reexports_none() {
    assert_none(
        "code naming sqlparser outside tidy::rules::SQLPARSER_OWNER, or re-exporting it from there",
        checks::sqlparser_violations(ws()).expect("sources are readable"),
    );
}

#[test]
fn every_source_file_opens_with_a_module_doc() {
    assert_none(
        "files under crates/*/src or plugins/*/src that do not open with a `//!` module doc (STYLE.md §4)",
        checks::module_doc_violations(ws()).expect("sources are readable"),
    );
}

#[test]
fn the_disk_engine_reaches_files_only_through_its_file_layer() {
    assert_none(
        "`std::fs` in plugins/storage-disk/src outside vfs.rs and vfs/ (faults are injected through the Vfs trait)",
        checks::direct_file_access_violations(ws()).expect("sources are readable"),
    );
}

#[test]
fn no_unsafe_code_outside_allowed_crates() {
    assert_none(
        "`unsafe` in crates not listed in tidy::rules::UNSAFE_ALLOWED and ARCHITECTURE.md (STYLE.md §7.2)",
        checks::unsafe_violations(ws()).expect("sources are readable"),
    );
}

#[test]
fn crates_allowed_unsafe_are_named_in_architecture_md() {
    assert_none(
        "unsafe exemptions not documented in ARCHITECTURE.md",
        checks::unsafe_allowlist_violations(&architecture()),
    );
}

#[test]
fn every_member_inherits_the_workspace_lints() {
    assert_none(
        "members that do not inherit `unsafe_code = \"forbid\"` from the workspace",
        checks::lint_inheritance_violations(ws()).expect("manifests are readable"),
    );
}

#[test]
fn workspace_forbids_unsafe_code() {
    let manifest = workspace::read_text(&ws().root.join("Cargo.toml")).expect("the root Cargo.toml is readable");
    assert!(
        checks::workspace_forbids_unsafe(&manifest),
        "the root Cargo.toml must set `unsafe_code = \"forbid\"` under [workspace.lints.rust]"
    );
}

#[test]
fn architecture_code_map_names_every_member() {
    assert_none(
        "workspace members missing from ARCHITECTURE.md's code map (add a paragraph per crate)",
        checks::code_map_violations(ws(), &architecture()),
    );
}

#[test]
fn no_module_is_named_utils_common_or_helpers() {
    assert_none(
        &format!("files or modules named {} (STYLE.md §3)", rules::BANNED_MODULE_NAMES.join("/")),
        checks::banned_module_violations(ws()).expect("sources are readable"),
    );
}

#[test]
fn error_numbers_appear_only_in_the_error_code_table() {
    assert_none(
        &format!(
            "MySQL error numbers outside {} and test code: use an ErrorCode variant (STYLE.md §5)",
            rules::ERROR_TABLE_FILE
        ),
        checks::error_number_violations(ws()).expect("sources are readable"),
    );
}
