//! Descriptions of plugins, as `SHOW PLUGINS` lists them.
//!
//! Invariants:
//! 1. A plugin is described by its name, kind, version and how it was loaded;
//!    compiled-in and dynamic plugins are described alike.
//! 2. One descriptor type for every kind; a name is unique within its kind
//!    (the kernel's registry is keyed by kind).
//!
//! The registry itself (which plugins a catalog uses) lives in
//! `mizzle-kernel`; this module only names the shared vocabulary.

use std::fmt;

/// What kind of plugin something is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PluginKind {
    /// A storage engine.
    Storage,
    /// A session scheduler: what runs sessions' steps on threads.
    Scheduler,
    /// An authentication method (accounts, credentials, privileges).
    Authentication,
}

impl PluginKind {
    /// Every kind, in the order `SHOW PLUGINS` lists them.
    pub const ALL: [PluginKind; 3] = [PluginKind::Storage, PluginKind::Scheduler, PluginKind::Authentication];
}

impl fmt::Display for PluginKind {
    /// The `Type` column of `SHOW PLUGINS` (MySQL's names where it has the
    /// kind; MySQL has no scheduler plugin type).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PluginKind::Storage => "STORAGE ENGINE",
            PluginKind::Scheduler => "SCHEDULER",
            PluginKind::Authentication => "AUTHENTICATION",
        })
    }
}

/// How a plugin came to be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginOrigin {
    /// Linked into the binary and registered at start-up.
    CompiledIn,
    /// Loaded from a shared library at run time.
    Dynamic { path: String },
}

/// One registered plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginDescriptor {
    /// Unique name within its kind.
    pub name: String,
    /// Kind.
    pub kind: PluginKind,
    /// The plugin's own version string.
    pub version: String,
    /// One-line description.
    pub description: String,
    /// Compiled in or loaded.
    pub origin: PluginOrigin,
}

impl PluginDescriptor {
    /// A plugin of `kind` compiled into this build (its version is the
    /// workspace's).
    pub fn compiled_in(kind: PluginKind, name: &str, description: &str) -> PluginDescriptor {
        PluginDescriptor {
            name: name.to_string(),
            kind,
            version: env!("CARGO_PKG_VERSION").to_string(),
            description: description.to_string(),
            origin: PluginOrigin::CompiledIn,
        }
    }
}
