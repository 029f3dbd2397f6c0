//! The checks: each returns one human-readable line per violation (empty
//! when the tree is tidy), so a failing test can list every offender at once.
//!
//! Invariants:
//! 1. Workspace-level functions read the tree; the `pure` helpers they use
//!    take text and are unit-tested here on small inputs.
//! 2. Violations are reported in a stable order (sorted members and paths).
//!
//! Checks never modify files and never stop at the first violation.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::lexer::{self, find_word, line_of, Lexed};
use crate::rules;
use crate::workspace::{self, DependencyKind, Workspace};
use crate::Error;

// ---------------------------------------------------------------------------
// 1. Dependency edges (STYLE.md §1)
// ---------------------------------------------------------------------------

fn kind_name(kind: DependencyKind) -> &'static str {
    match kind {
        DependencyKind::Normal => "dependency",
        DependencyKind::Dev => "dev-dependency",
        DependencyKind::Build => "build-dependency",
    }
}

/// Kernel crates whose normal or build dependencies on workspace crates are
/// not allowed by [`rules::KERNEL_ORDER`] / [`rules::KERNEL_SIDE_CRATES`].
/// Dev-dependencies are not checked: tests may pull in anything.
pub fn layering_violations(ws: &Workspace) -> Vec<String> {
    let mut out = Vec::new();
    for p in &ws.packages {
        let Some(allowed) = rules::allowed_workspace_dependencies(&p.name) else { continue };
        for d in &p.dependencies {
            if d.kind != DependencyKind::Dev && ws.is_member(&d.name) && !allowed.contains(&d.name.as_str()) {
                let allowed = if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") };
                out.push(format!(
                    "{} -> {} ({}); {} may depend only on: {allowed}",
                    p.name,
                    d.name,
                    kind_name(d.kind),
                    p.name
                ));
            }
        }
    }
    out
}

/// Kernel crates with a normal or build dependency on a package under
/// `plugins/` (dev-dependencies used by tests are allowed).
pub fn kernel_plugin_violations(ws: &Workspace) -> Vec<String> {
    let plugins: BTreeSet<&str> = ws.packages.iter().filter(|p| ws.is_plugin(p)).map(|p| p.name.as_str()).collect();
    let mut out = Vec::new();
    for p in ws.packages.iter().filter(|p| rules::is_kernel_crate(&p.name)) {
        for d in &p.dependencies {
            if d.kind != DependencyKind::Dev && plugins.contains(d.name.as_str()) {
                out.push(format!(
                    "{} -> {} ({}): kernel crates never name a plugin",
                    p.name,
                    d.name,
                    kind_name(d.kind)
                ));
            }
        }
    }
    out
}

/// Plugins with a normal or build dependency on a workspace crate other than
/// [`rules::PLUGIN_MAY_DEPEND_ON`].
pub fn plugin_dependency_violations(ws: &Workspace) -> Vec<String> {
    let mut out = Vec::new();
    for p in ws.packages.iter().filter(|p| ws.is_plugin(p)) {
        for d in &p.dependencies {
            if d.kind != DependencyKind::Dev
                && ws.is_member(&d.name)
                && !rules::PLUGIN_MAY_DEPEND_ON.contains(&d.name.as_str())
            {
                out.push(format!(
                    "{} -> {} ({}); plugins may depend only on: {}",
                    p.name,
                    d.name,
                    kind_name(d.kind),
                    rules::PLUGIN_MAY_DEPEND_ON.join(", ")
                ));
            }
        }
    }
    out
}

/// Packages depending (in any kind) on a third-party crate that
/// [`rules::EXCLUSIVE_DEPENDENCIES`] reserves for other packages.
pub fn exclusive_dependency_violations(ws: &Workspace) -> Vec<String> {
    let mut out = Vec::new();
    for p in &ws.packages {
        for d in &p.dependencies {
            for (krate, users) in rules::EXCLUSIVE_DEPENDENCIES {
                if d.name == *krate && !users.contains(&p.name.as_str()) {
                    out.push(format!(
                        "{} -> {} ({}); only {} may depend on {krate}",
                        p.name,
                        d.name,
                        kind_name(d.kind),
                        users.join(", ")
                    ));
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// 2. Module docs (STYLE.md §4)
// ---------------------------------------------------------------------------

/// Whether `source` opens with a `//!` comment, allowing blank lines and
/// inner attributes (`#![...]`, possibly spanning lines) before it.
pub fn opens_with_module_doc(source: &str) -> bool {
    let mut open_brackets = 0usize;
    for line in source.trim_start_matches('\u{feff}').lines() {
        let t = line.trim();
        if open_brackets > 0 {
            open_brackets = bracket_balance(open_brackets, t);
            continue;
        }
        if t.is_empty() {
            continue;
        }
        if t.starts_with("#![") {
            open_brackets = bracket_balance(0, t);
            continue;
        }
        return t.starts_with("//!");
    }
    false
}

fn bracket_balance(start: usize, line: &str) -> usize {
    line.chars().fold(start, |depth, c| match c {
        '[' => depth + 1,
        ']' => depth.saturating_sub(1),
        _ => depth,
    })
}

/// Source files under `crates/*/src` and `plugins/*/src` that do not open
/// with a `//!` module doc.
pub fn module_doc_violations(ws: &Workspace) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for dir in ws.crate_dirs()? {
        for file in workspace::rust_files(&dir.join("src"))? {
            if !opens_with_module_doc(&workspace::read_text(&file)?) {
                out.push(ws.relative(&file));
            }
        }
    }
    Ok(out)
}

/// Files of the disk engine (`plugins/storage-disk/src`) other than its file
/// layer (`vfs.rs` and `vfs/`) that name `std::fs` in code: every file
/// access must go through the `Vfs` trait so tests can inject faults.
pub fn direct_file_access_violations(ws: &Workspace) -> Result<Vec<String>, Error> {
    let src = ws.root().join("plugins/storage-disk/src");
    let mut out = Vec::new();
    for file in workspace::rust_files(&src)? {
        let rel = ws.relative(&file);
        if rel.ends_with("src/vfs.rs") || rel.contains("src/vfs/") {
            continue;
        }
        let lexed = lexer::lex(&workspace::read_text(&file)?);
        for at in lexed.code.match_indices("std::fs").map(|(i, _)| i) {
            out.push(format!("{rel}:{}", line_of(&lexed.code, at)));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// 3. No unsafe (STYLE.md §7.2)
// ---------------------------------------------------------------------------

/// Lines of lexed code holding the `unsafe` keyword (blocks, fns, impls,
/// traits, extern blocks alike).
pub fn unsafe_lines(lexed: &Lexed) -> Vec<usize> {
    let lines: BTreeSet<usize> =
        find_word(&lexed.code, "unsafe").into_iter().map(|at| line_of(&lexed.code, at)).collect();
    lines.into_iter().collect()
}

/// `unsafe` code in any `.rs` file (sources, tests, benches, examples, build
/// scripts) of a crate under `crates/` or `plugins/` that is not in
/// [`rules::UNSAFE_ALLOWED`].
pub fn unsafe_violations(ws: &Workspace) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for dir in ws.crate_dirs()? {
        if rules::UNSAFE_ALLOWED.contains(&ws.crate_name(&dir).as_str()) {
            continue;
        }
        for file in workspace::rust_files(&dir)? {
            let lexed = lexer::lex(&workspace::read_text(&file)?);
            for line in unsafe_lines(&lexed) {
                out.push(format!("{}:{line}", ws.relative(&file)));
            }
        }
    }
    Ok(out)
}

/// The "**Unsafe code.**" paragraph of ARCHITECTURE.md, if present.
pub fn unsafe_note(architecture: &str) -> Option<String> {
    let start = architecture.find("**Unsafe code.**")?;
    let rest = &architecture[start..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// Entries of [`rules::UNSAFE_ALLOWED`] that ARCHITECTURE.md's "Unsafe code"
/// note does not name (the exemption must be documented there).
pub fn unsafe_allowlist_violations(architecture: &str) -> Vec<String> {
    let note = unsafe_note(architecture).unwrap_or_default();
    rules::UNSAFE_ALLOWED
        .iter()
        .filter(|name| !mentions_name(&note, name))
        .map(|name| {
            format!("{name} is in rules::UNSAFE_ALLOWED but not named in ARCHITECTURE.md's \"Unsafe code\" note")
        })
        .collect()
}

/// Whether a manifest's text has `[lints]` with `workspace = true` (or the
/// dotted/inline forms `lints.workspace = true`, `lints = { workspace = true }`).
pub fn inherits_workspace_lints(manifest: &str) -> bool {
    let mut table = String::new();
    for line in manifest.lines() {
        let compact: String = line.split('#').next().unwrap_or("").chars().filter(|c| !c.is_whitespace()).collect();
        if compact.starts_with('[') {
            table = compact.trim_matches(|c| c == '[' || c == ']').to_owned();
            continue;
        }
        let inherits = match table.as_str() {
            "lints" => compact == "workspace=true",
            "" => compact == "lints.workspace=true" || compact == "lints={workspace=true}",
            _ => false,
        };
        if inherits {
            return true;
        }
    }
    false
}

/// Members whose `Cargo.toml` does not inherit the workspace lints (so the
/// workspace's `unsafe_code = "forbid"` would not apply to them). Crates in
/// [`rules::UNSAFE_ALLOWED`] are exempt: they must set their own lints.
pub fn lint_inheritance_violations(ws: &Workspace) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for p in ws.packages.iter().filter(|p| !rules::UNSAFE_ALLOWED.contains(&p.name.as_str())) {
        if !inherits_workspace_lints(&workspace::read_text(&p.manifest_path)?) {
            out.push(format!("{} ({}) lacks `[lints] workspace = true`", p.name, ws.relative(&p.manifest_path)));
        }
    }
    Ok(out)
}

/// Whether the root manifest's `[workspace.lints.rust]` forbids unsafe code.
pub fn workspace_forbids_unsafe(root_manifest: &str) -> bool {
    let mut table = String::new();
    for line in root_manifest.lines() {
        let compact: String = line.split('#').next().unwrap_or("").chars().filter(|c| !c.is_whitespace()).collect();
        if compact.starts_with('[') {
            table = compact.trim_matches(|c| c == '[' || c == ']').to_owned();
        } else if table == "workspace.lints.rust"
            && compact.starts_with("unsafe_code=")
            && compact.contains("\"forbid\"")
        {
            return true;
        }
    }
    false
}

// ---------------------------------------------------------------------------
// 4. ARCHITECTURE.md names every crate
// ---------------------------------------------------------------------------

/// The "Code map" section of ARCHITECTURE.md: from its `## … Code map`
/// heading to the next `## ` heading.
pub fn code_map_section(architecture: &str) -> Option<&str> {
    let mut start = None;
    let mut offset = 0;
    for line in architecture.split_inclusive('\n') {
        if line.starts_with("## ") {
            if let Some(s) = start {
                return Some(&architecture[s..offset]);
            }
            if line.to_lowercase().contains("code map") {
                start = Some(offset);
            }
        }
        offset += line.len();
    }
    start.map(|s| &architecture[s..])
}

/// Whether `name` occurs in `text` as a whole package name: not as part of a
/// longer name (`mizzle` does not match inside `mizzle-types`).
pub fn mentions_name(text: &str, name: &str) -> bool {
    let is_name_char = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        before.is_none_or(|c| !is_name_char(c)) && after.is_none_or(|c| !is_name_char(c))
    })
}

/// Members that ARCHITECTURE.md's code map does not name.
pub fn code_map_violations(ws: &Workspace, architecture: &str) -> Vec<String> {
    let Some(map) = code_map_section(architecture) else {
        return vec!["ARCHITECTURE.md has no `## … Code map` section".to_owned()];
    };
    ws.packages
        .iter()
        .filter(|p| !mentions_name(map, &p.name))
        .map(|p| format!("{} ({}) is not named in ARCHITECTURE.md's code map", p.name, ws.relative(p.dir())))
        .collect()
}

// ---------------------------------------------------------------------------
// 5. Banned module names (STYLE.md §3)
// ---------------------------------------------------------------------------

/// `(line, name)` for every `mod <banned name>` declaration in lexed code.
pub fn banned_module_declarations(lexed: &Lexed) -> Vec<(usize, &'static str)> {
    let mut out = Vec::new();
    for at in find_word(&lexed.code, "mod") {
        let rest = lexed.code[at + 3..].trim_start();
        let ident: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if let Some(banned) = rules::BANNED_MODULE_NAMES.iter().find(|b| **b == ident) {
            out.push((line_of(&lexed.code, at), *banned));
        }
    }
    out
}

/// Files, directories and `mod` declarations named `utils`, `common` or
/// `helpers` in crates under `crates/` or `plugins/` (all targets).
pub fn banned_module_violations(ws: &Workspace) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for dir in ws.crate_dirs()? {
        for file in workspace::rust_files(&dir)? {
            let rel = file.strip_prefix(&dir).unwrap_or(&file);
            let banned_path = rel.components().any(|c| {
                let part = c.as_os_str().to_string_lossy();
                let stem = part.strip_suffix(".rs").unwrap_or(&part);
                rules::BANNED_MODULE_NAMES.contains(&stem)
            });
            if banned_path {
                out.push(format!("{}: banned file or directory name", ws.relative(&file)));
            }
            let lexed = lexer::lex(&workspace::read_text(&file)?);
            for (line, name) in banned_module_declarations(&lexed) {
                out.push(format!("{}:{line}: `mod {name}`", ws.relative(&file)));
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// 6. Error numbers only in the ErrorCode table (STYLE.md §5)
// ---------------------------------------------------------------------------

/// What `#[cfg(test)]` marks in one file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TestRegions {
    /// The whole file is test-only (`#![cfg(test)]`).
    pub whole_file: bool,
    /// Inclusive line ranges of inline `#[cfg(test)] mod x { … }` modules.
    pub lines: Vec<(usize, usize)>,
    /// Names of out-of-line test modules: `#[cfg(test)] mod x;`.
    pub child_modules: Vec<String>,
}

impl TestRegions {
    /// Whether `line` lies inside test-only code.
    pub fn contains(&self, line: usize) -> bool {
        self.whole_file || self.lines.iter().any(|(a, b)| (*a..=*b).contains(&line))
    }
}

/// Finds the `#[cfg(test)]` modules of a lexed file. Only modules are
/// recognised (the workspace's convention); a `#[cfg(test)]` fn or impl
/// outside a test module is checked like normal code.
pub fn test_regions(lexed: &Lexed) -> TestRegions {
    let code = &lexed.code;
    let mut regions = TestRegions { whole_file: code.contains("#![cfg(test)]"), ..TestRegions::default() };
    for (at, attr) in code.match_indices("#[cfg(test)]") {
        let mut rest = &code[at + attr.len()..];
        // Further attributes, then an optional visibility.
        loop {
            rest = rest.trim_start();
            if rest.starts_with("#[") {
                rest = rest.find(']').map_or("", |end| &rest[end + 1..]);
            } else {
                break;
            }
        }
        if let Some(r) = rest.strip_prefix("pub") {
            rest = r.trim_start();
            if rest.starts_with('(') {
                rest = rest.find(')').map_or("", |end| &rest[end + 1..]);
            }
        }
        let Some(r) = rest.trim_start().strip_prefix("mod") else { continue };
        if !r.starts_with(char::is_whitespace) {
            continue;
        }
        let r = r.trim_start();
        let name: String = r.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let after = r[name.len()..].trim_start();
        if after.starts_with(';') {
            regions.child_modules.push(name);
        } else if after.starts_with('{') {
            let open = code.len() - after.len();
            let close = matching_brace(code, open).unwrap_or(code.len());
            regions.lines.push((line_of(code, at), line_of(code, close)));
        }
    }
    regions
}

/// The offset of the `}` matching the `{` at `open` in lexed code (where
/// braces inside literals and comments are already gone).
fn matching_brace(code: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in code[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The directory holding the out-of-line child modules of `file`
/// (`src/lib.rs` → `src/`, `src/a.rs` → `src/a/`, `src/a/mod.rs` → `src/a/`).
fn child_module_dir(file: &Path) -> PathBuf {
    let parent = file.parent().unwrap_or(Path::new(""));
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    // Crate roots and `mod.rs` keep their children beside them.
    let children_beside = matches!(stem.as_str(), "lib" | "main" | "mod")
        || parent.file_name().is_some_and(|n| n == "bin" && parent.parent().is_some_and(|p| p.ends_with("src")));
    if children_beside {
        parent.to_path_buf()
    } else {
        parent.join(stem)
    }
}

/// Where a file's literals or code mention a MySQL error number, as
/// `(line, what)`: a string literal starting `ERROR <digit>` (the rendered
/// `ERROR 1062 (23000): …` form), or a comparison of `number()` with an
/// integer literal on either side (`e.number() == 1062`, `1062 != e.number()`).
/// Lines inside `regions` are skipped.
pub fn error_number_hits(lexed: &Lexed, regions: &TestRegions) -> Vec<(usize, String)> {
    let mut hits = Vec::new();
    for s in &lexed.strings {
        let mut chars = s.text.strip_prefix("ERROR ").unwrap_or("").chars();
        if chars.next().is_some_and(|c| c.is_ascii_digit()) && !regions.contains(s.line) {
            let shown: String = s.text.chars().take(40).collect();
            hits.push((s.line, format!("string literal \"{shown}\"")));
        }
    }
    let code = &lexed.code;
    for (at, call) in code.match_indices("number()") {
        let rest = code[at + call.len()..].trim_start();
        let Some(rest) = rest.strip_prefix("==").or_else(|| rest.strip_prefix("!=")) else { continue };
        if rest.trim_start().starts_with(|c: char| c.is_ascii_digit()) {
            hits.push((line_of(code, at), "`number()` compared with an integer literal".to_owned()));
        }
    }
    for (at, c) in code.char_indices() {
        let starts_number = c.is_ascii_digit() && code[..at].chars().next_back().is_none_or(|p| !lexer_ident(p));
        if !starts_number {
            continue;
        }
        let digits = code[at..].chars().take_while(char::is_ascii_digit).count();
        let rest = code[at + digits..].trim_start();
        let Some(rest) = rest.strip_prefix("==").or_else(|| rest.strip_prefix("!=")) else { continue };
        let end = rest.find(['\n', ';', '{', ',']).unwrap_or(rest.len());
        let operand = &rest[..end];
        let operand = operand.split("&&").next().unwrap_or("").split("||").next().unwrap_or("");
        if operand.contains(".number()") {
            hits.push((line_of(code, at), "integer literal compared with `number()`".to_owned()));
        }
    }
    hits.retain(|(line, _)| !regions.contains(*line));
    hits.sort();
    hits.dedup();
    hits
}

fn lexer_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.'
}

/// Error-number literals in `crates/*/src` and `plugins/*/src` outside
/// [`rules::ERROR_TABLE_FILE`] and outside test code (`#[cfg(test)]`
/// modules, inline or in their own files). Integration tests, benches and
/// examples are not scanned: tests legitimately assert numbers.
pub fn error_number_violations(ws: &Workspace) -> Result<Vec<String>, Error> {
    let table = ws.root.join(rules::ERROR_TABLE_FILE);
    let mut lexed_files = Vec::new();
    let mut test_only: Vec<PathBuf> = Vec::new();
    for dir in ws.crate_dirs()? {
        for file in workspace::rust_files(&dir.join("src"))? {
            let lexed = lexer::lex(&workspace::read_text(&file)?);
            let regions = test_regions(&lexed);
            let children = child_module_dir(&file);
            for name in &regions.child_modules {
                test_only.push(children.join(format!("{name}.rs")));
                test_only.push(children.join(name));
            }
            lexed_files.push((file, lexed, regions));
        }
    }
    let mut out = Vec::new();
    for (file, lexed, regions) in &lexed_files {
        if *file == table || test_only.iter().any(|t| file == t || file.starts_with(t)) {
            continue;
        }
        for (line, what) in error_number_hits(lexed, regions) {
            out.push(format!("{}:{line}: {what}", ws.relative(file)));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// 7. sqlparser stays behind mizzle-sql's API (STYLE.md §1)
// ---------------------------------------------------------------------------

/// Lines of lexed code (comments and string contents excluded) that name
/// the `sqlparser` crate.
pub fn sqlparser_lines(lexed: &Lexed) -> Vec<usize> {
    let lines: BTreeSet<usize> =
        find_word(&lexed.code, "sqlparser").into_iter().map(|at| line_of(&lexed.code, at)).collect();
    lines.into_iter().collect()
}

/// Lines of lexed code that hand a `sqlparser` item to other crates: a
/// `pub use` or `pub type` whose line names `sqlparser`.
pub fn sqlparser_reexport_lines(lexed: &Lexed) -> Vec<usize> {
    let names = sqlparser_lines(lexed);
    lexed
        .code
        .lines()
        .enumerate()
        .filter(|(i, _)| names.contains(&(i + 1)))
        .filter(|(_, l)| {
            let l = l.trim_start();
            l.starts_with("pub use") || l.starts_with("pub type")
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// No crate but [`rules::SQLPARSER_OWNER`] names `sqlparser` in its code
/// (sources, tests, benches, examples), and the owner re-exports none of
/// it: no sqlparser type crosses its API, so downstream sees bound plans
/// only.
pub fn sqlparser_violations(ws: &Workspace) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for dir in ws.crate_dirs()? {
        let owner = ws.crate_name(&dir) == rules::SQLPARSER_OWNER;
        for file in workspace::rust_files(&dir)? {
            let lexed = lexer::lex(&workspace::read_text(&file)?);
            let lines = if owner { sqlparser_reexport_lines(&lexed) } else { sqlparser_lines(&lexed) };
            for line in lines {
                out.push(format!("{}:{line}", ws.relative(&file)));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlparser_is_found_in_code_not_in_comments_and_reexports_are_told_apart() {
        let lexed = lexer::lex(
            "// sqlparser in a comment\nuse sqlparser::ast::Statement;\npub use sqlparser::ast::Expr;\n\
             pub type T = sqlparser::ast::Query;\nlet s = \"sqlparser\";\n",
        );
        assert_eq!(sqlparser_lines(&lexed), vec![2, 3, 4]);
        assert_eq!(sqlparser_reexport_lines(&lexed), vec![3, 4]);
    }

    use super::*;
    use crate::lexer::lex;
    use crate::workspace::{Dependency, Package};

    fn package(dir: &str, name: &str, deps: &[(&str, DependencyKind)]) -> Package {
        Package {
            name: name.to_owned(),
            manifest_path: PathBuf::from(format!("/w/{dir}/Cargo.toml")),
            dependencies: deps.iter().map(|(n, kind)| Dependency { name: (*n).to_owned(), kind: *kind }).collect(),
        }
    }

    #[test]
    fn forbidden_dependency_edges_are_each_reported() {
        use DependencyKind::{Build, Dev, Normal};
        let ws = Workspace {
            root: PathBuf::from("/w"),
            packages: vec![
                package("crates/mizzle-types", "mizzle-types", &[("proptest", Dev)]),
                package("crates/mizzle-plugin-api", "mizzle-plugin-api", &[("mizzle-types", Normal)]),
                package(
                    "crates/mizzle-txn",
                    "mizzle-txn",
                    &[("mizzle-plugin-api", Normal), ("mizzle-sql", Build), ("storage-memory", Dev)],
                ),
                package("crates/mizzle-sql", "mizzle-sql", &[("sqlparser", Normal), ("storage-memory", Normal)]),
                package("crates/mizzle-exec", "mizzle-exec", &[("sqlparser", Dev)]),
                package("plugins/storage-memory", "storage-memory", &[("mizzle-types", Normal)]),
                package("benches", "mizzle-bench", &[("rusqlite", Normal), ("storage-memory", Normal)]),
            ],
        };
        assert_eq!(
            layering_violations(&ws),
            vec![
                "mizzle-txn -> mizzle-sql (build-dependency); mizzle-txn may depend only on: mizzle-types, mizzle-plugin-api",
                "mizzle-sql -> storage-memory (dependency); mizzle-sql may depend only on: mizzle-types, \
                 mizzle-plugin-api, mizzle-txn, mizzle-dictionary",
            ]
        );
        assert_eq!(
            kernel_plugin_violations(&ws),
            vec!["mizzle-sql -> storage-memory (dependency): kernel crates never name a plugin"]
        );
        assert_eq!(
            plugin_dependency_violations(&ws),
            vec!["storage-memory -> mizzle-types (dependency); plugins may depend only on: mizzle-plugin-api"]
        );
        assert_eq!(
            exclusive_dependency_violations(&ws),
            vec!["mizzle-exec -> sqlparser (dev-dependency); only mizzle-sql may depend on sqlparser"]
        );
    }

    #[test]
    fn module_doc_may_follow_blank_lines_and_inner_attributes() {
        assert!(opens_with_module_doc("//! Doc.\nfn f() {}"));
        assert!(opens_with_module_doc("\n#![allow(x)]\n#![cfg_attr(\n  test,\n  allow(y)\n)]\n\n//! Doc."));
        assert!(!opens_with_module_doc("// Not a doc.\n//! Late."));
        assert!(!opens_with_module_doc("/// Item doc.\nfn f() {}"));
        assert!(!opens_with_module_doc("use x;\n"));
        assert!(!opens_with_module_doc(""));
    }

    #[test]
    fn unsafe_is_found_in_code_but_not_in_prose() {
        let lexed =
            lex("// unsafe here\nlet s = \"unsafe\";\n#![forbid(unsafe_code)]\nunsafe { f() }\nunsafe fn g() {}");
        assert_eq!(unsafe_lines(&lexed), vec![4, 5]);
    }

    #[test]
    fn lint_inheritance_is_read_from_the_lints_table() {
        assert!(inherits_workspace_lints("[package]\nname = \"a\"\n\n[lints]\nworkspace = true\n"));
        assert!(inherits_workspace_lints("lints.workspace = true\n[package]\n"));
        assert!(!inherits_workspace_lints("[package]\nworkspace = true\n[lints]\n# workspace = true\n"));
        assert!(!inherits_workspace_lints("[package]\nname = \"a\"\n"));
    }

    #[test]
    fn workspace_unsafe_forbid_is_recognised() {
        assert!(workspace_forbids_unsafe("[workspace.lints.rust]\nunsafe_code = \"forbid\"\n"));
        assert!(!workspace_forbids_unsafe("[workspace.lints.rust]\nunsafe_code = \"deny\"\n"));
        assert!(!workspace_forbids_unsafe("[lints.rust]\nunsafe_code = \"forbid\"\n"));
    }

    #[test]
    fn code_map_is_the_section_under_its_heading() {
        let doc = "# T\n## 2. Life\nmizzle-x\n## 3. Code map\n### mizzle-types\n### mizzle\n## 4. Notes\nmizzle-y\n";
        let map = code_map_section(doc).expect("section exists");
        assert!(mentions_name(map, "mizzle-types"));
        assert!(mentions_name(map, "mizzle"));
        assert!(!mentions_name(map, "mizzle-x"));
        assert!(!mentions_name(map, "mizzle-y"));
        assert!(!mentions_name("### mizzle-types", "mizzle"));
        assert!(mentions_name("plugins/storage-memory", "storage-memory"));
        assert_eq!(code_map_section("# no map\n"), None);
    }

    #[test]
    fn banned_module_declarations_are_found() {
        let lexed = lex("mod a;\npub(crate) mod utils;\nmod helpers {\n}\n// mod common;\nmod commons;");
        assert_eq!(banned_module_declarations(&lexed), vec![(2, "utils"), (3, "helpers")]);
    }

    #[test]
    fn cfg_test_modules_are_test_regions() {
        let src = "fn a() {}\n#[cfg(test)]\nmod tests {\n    fn b() { if x { } }\n}\nfn c() {}\n#[cfg(test)]\npub(crate) mod more;\n";
        let regions = test_regions(&lex(src));
        assert_eq!(regions.lines, vec![(2, 5)]);
        assert_eq!(regions.child_modules, vec!["more".to_owned()]);
        assert!(!regions.contains(6));
        assert!(test_regions(&lex("#![cfg(test)]\nfn a() {}")).whole_file);
    }

    #[test]
    fn error_numbers_are_flagged_outside_tests_only() {
        let src =
            "fn f(e: E) -> bool {\n    e.number() == 1062\n}\nfn g() -> &'static str { \"ERROR 1146 (42S02): x\" }\n\
                   fn h(e: E) -> bool { 1213 != e.code.number() && true }\n\
                   // e.number() == 1062 in a comment\n\
                   fn i(e: E) -> bool { e.number() == limit || \"Error 1\" == \"ERROR x\" }\n\
                   #[cfg(test)]\nmod tests {\n    fn t() { assert!(e.number() == 1062); let _ = \"ERROR 1062\"; }\n}\n";
        let lexed = lex(src);
        let hits: Vec<usize> = error_number_hits(&lexed, &test_regions(&lexed)).into_iter().map(|(l, _)| l).collect();
        assert_eq!(hits, vec![2, 4, 5]);
    }

    #[test]
    fn child_modules_live_beside_roots_and_under_other_files() {
        assert_eq!(child_module_dir(Path::new("c/src/lib.rs")), Path::new("c/src"));
        assert_eq!(child_module_dir(Path::new("c/src/func/mod.rs")), Path::new("c/src/func"));
        assert_eq!(child_module_dir(Path::new("c/src/shell.rs")), Path::new("c/src/shell"));
        assert_eq!(child_module_dir(Path::new("c/src/bin/tool.rs")), Path::new("c/src/bin"));
    }
}
