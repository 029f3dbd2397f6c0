//! What tidy knows about the workspace: its members and their dependencies
//! (from `cargo metadata --no-deps`) and the crate directories and source
//! files the source checks scan.
//!
//! Invariants:
//! 1. Members come from Cargo itself, never from parsing `Cargo.toml`
//!    membership by hand, so tidy agrees with what `cargo build` sees.
//! 2. Paths in reports are relative to the workspace root, with `/`.
//!
//! It does not resolve third-party dependency trees (`--no-deps`): the rules
//! concern direct edges only.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::rules;
use crate::Error;

/// How a dependency is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyKind {
    /// `[dependencies]`: linked into the crate itself.
    Normal,
    /// `[dev-dependencies]`: tests, examples and benches only.
    Dev,
    /// `[build-dependencies]`: the build script.
    Build,
}

/// One direct dependency of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The package name depended on (not the local rename, if any).
    pub name: String,
    /// Normal, dev or build.
    pub kind: DependencyKind,
}

/// One workspace member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The package name (`mizzle-types`).
    pub name: String,
    /// The absolute path of its `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// Its direct dependencies.
    pub dependencies: Vec<Dependency>,
}

impl Package {
    /// The directory holding the package's `Cargo.toml`.
    pub fn dir(&self) -> &Path {
        self.manifest_path.parent().unwrap_or(&self.manifest_path)
    }
}

/// The workspace as Cargo sees it.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The absolute workspace root.
    pub root: PathBuf,
    /// Every member, sorted by name.
    pub packages: Vec<Package>,
}

impl Workspace {
    /// Runs `cargo metadata --format-version 1 --no-deps` for the workspace
    /// that contains this crate and parses its output.
    pub fn load() -> Result<Workspace, Error> {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let output = Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
            .arg(&manifest)
            .output()
            .map_err(|e| Error::Metadata { detail: format!("cannot run cargo: {e}") })?;
        if !output.status.success() {
            return Err(Error::Metadata {
                detail: format!("{}: {}", output.status, String::from_utf8_lossy(&output.stderr)),
            });
        }
        let json: Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| Error::Metadata { detail: format!("output is not JSON: {e}") })?;
        Workspace::from_metadata(&json)
    }

    /// Builds a workspace from parsed `cargo metadata` JSON.
    pub fn from_metadata(json: &Value) -> Result<Workspace, Error> {
        let root = json["workspace_root"].as_str().ok_or_else(|| missing("workspace_root"))?;
        let members: Vec<&str> = json["workspace_members"]
            .as_array()
            .ok_or_else(|| missing("workspace_members"))?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let mut packages = Vec::new();
        for p in json["packages"].as_array().ok_or_else(|| missing("packages"))? {
            let id = p["id"].as_str().ok_or_else(|| missing("packages[].id"))?;
            if !members.contains(&id) {
                continue;
            }
            let name = p["name"].as_str().ok_or_else(|| missing("packages[].name"))?;
            let manifest = p["manifest_path"].as_str().ok_or_else(|| missing("packages[].manifest_path"))?;
            let mut dependencies = Vec::new();
            for d in p["dependencies"].as_array().ok_or_else(|| missing("packages[].dependencies"))? {
                let dep_name = d["name"].as_str().ok_or_else(|| missing("dependencies[].name"))?;
                let kind = match d["kind"].as_str() {
                    None => DependencyKind::Normal,
                    Some("dev") => DependencyKind::Dev,
                    Some("build") => DependencyKind::Build,
                    Some(other) => {
                        return Err(Error::Metadata { detail: format!("unknown dependency kind {other:?}") })
                    }
                };
                dependencies.push(Dependency { name: dep_name.to_owned(), kind });
            }
            packages.push(Package { name: name.to_owned(), manifest_path: PathBuf::from(manifest), dependencies });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Workspace { root: PathBuf::from(root), packages })
    }

    /// Whether `name` is a workspace member.
    pub fn is_member(&self, name: &str) -> bool {
        self.packages.iter().any(|p| p.name == name)
    }

    /// The member whose directory is `dir`, if any.
    pub fn package_in(&self, dir: &Path) -> Option<&Package> {
        self.packages.iter().find(|p| p.dir() == dir)
    }

    /// Whether the package lives under the workspace's `plugins/` directory.
    pub fn is_plugin(&self, package: &Package) -> bool {
        package.dir().starts_with(self.root.join(rules::PLUGINS_DIR))
    }

    /// The workspace root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `path` relative to the workspace root, with `/` separators.
    pub fn relative(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
    }

    /// The crate directories the source checks scan: every directory with a
    /// `Cargo.toml` directly under one of [`rules::SOURCE_PARENTS`], member
    /// or not, sorted.
    pub fn crate_dirs(&self) -> Result<Vec<PathBuf>, Error> {
        let mut dirs = Vec::new();
        for parent in rules::SOURCE_PARENTS {
            let parent = self.root.join(parent);
            if !parent.is_dir() {
                continue;
            }
            for entry in read_dir_sorted(&parent)? {
                if entry.is_dir() && entry.join("Cargo.toml").is_file() {
                    dirs.push(entry);
                }
            }
        }
        Ok(dirs)
    }

    /// The package name of a crate directory: the member's name, or the
    /// directory name for a directory Cargo does not (yet) know.
    pub fn crate_name(&self, dir: &Path) -> String {
        match self.package_in(dir) {
            Some(p) => p.name.clone(),
            None => dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        }
    }
}

fn missing(field: &str) -> Error {
    Error::Metadata { detail: format!("field `{field}` missing or of the wrong type") }
}

/// The entries of `dir`, sorted by path.
fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |source| Error::Io { path: dir.to_path_buf(), source };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        entries.push(entry.map_err(io)?.path());
    }
    entries.sort();
    Ok(entries)
}

/// Every `.rs` file below `dir`, sorted, skipping `target/` and hidden
/// directories. A missing `dir` has none.
pub fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    if dir.is_dir() {
        collect_rust_files(dir, &mut files)?;
    }
    Ok(files)
}

fn collect_rust_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), Error> {
    for path in read_dir_sorted(dir)? {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                collect_rust_files(&path, files)?;
            }
        } else if name.ends_with(".rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// Reads a file as UTF-8 text.
pub fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_json_becomes_members_with_dependency_kinds() {
        let json: Value = serde_json::from_str(
            r#"{
              "workspace_root": "/w",
              "workspace_members": ["a 0.1.0 (path+file:///w/crates/a)"],
              "packages": [
                {"id": "a 0.1.0 (path+file:///w/crates/a)", "name": "a",
                 "manifest_path": "/w/crates/a/Cargo.toml",
                 "dependencies": [
                   {"name": "b", "kind": null},
                   {"name": "c", "kind": "dev"},
                   {"name": "d", "kind": "build"}]},
                {"id": "z", "name": "z", "manifest_path": "/elsewhere/Cargo.toml", "dependencies": []}
              ]
            }"#,
        )
        .expect("test JSON parses");
        let ws = Workspace::from_metadata(&json).expect("metadata is complete");
        assert_eq!(ws.packages.len(), 1);
        let kinds: Vec<_> = ws.packages[0].dependencies.iter().map(|d| d.kind).collect();
        assert_eq!(kinds, vec![DependencyKind::Normal, DependencyKind::Dev, DependencyKind::Build]);
        assert_eq!(ws.packages[0].dir(), Path::new("/w/crates/a"));
        assert_eq!(ws.relative(Path::new("/w/crates/a/src/lib.rs")), "crates/a/src/lib.rs");
    }

    #[test]
    fn incomplete_metadata_is_an_error() {
        let json: Value = serde_json::from_str(r#"{"workspace_root": "/w"}"#).expect("test JSON parses");
        assert!(Workspace::from_metadata(&json).is_err());
    }
}
