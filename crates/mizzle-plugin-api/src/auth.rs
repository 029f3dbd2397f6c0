//! Authentication plugins: where a server finds the accounts clients log
//! in as, and whether those accounts' privileges are checked.
//!
//! The server (`mizzled`) asks its plugin for the accounts of a user name
//! at each login, picks the one whose host pattern matches the client
//! best, and checks the client's answer against the account's stored
//! credential (the wire protocol's job: `mysql_native_password` scrambles
//! and `caching_sha2_password` fast-path digests, compared in constant
//! time). Two plugins exist: `native` (the grant table `mysql.user`,
//! written with `CREATE USER`, so accounts are transactional data) and
//! `file` (a fixed list read from a file named in the configuration).
//!
//! Invariants:
//! 1. A plugin hands out stored credentials (hashes), never passwords.
//! 2. [`Authenticator::accounts`] is called once per login attempt and
//!    may read storage; it must not block on other sessions.
//! 3. Privileges are not a plugin's: a plugin only says whether its
//!    accounts are checked against the grant tables
//!    ([`Authenticator::checks_privileges`]); the session checks them.
//!
//! Not here: the wire exchange (mizzle-protocol), failed-login delays
//! (the server's, per client address).

use crate::registry::{PluginDescriptor, PluginKind};

/// One account as a plugin stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// User name.
    pub user: String,
    /// Host pattern: `%`, `localhost` or an address.
    pub host: String,
    /// Credential method: `mysql_native_password` or
    /// `caching_sha2_password`.
    pub method: String,
    /// The stored credential (`*` + 40 hex digits, `$sha2$` + 64 hex
    /// digits, or empty for no password), invariant 1.
    pub stored: String,
}

/// An authentication plugin (object-safe, `Send + Sync`).
pub trait Authenticator: Send + Sync {
    /// How `SHOW PLUGINS` lists the plugin (kind [`PluginKind::Authentication`]).
    fn descriptor(&self) -> PluginDescriptor;

    /// Every account named `user`, whatever its host (invariant 2).
    fn accounts(&self, user: &str) -> Vec<AccountRecord>;

    /// Whether sessions of this plugin's accounts run with privilege checks
    /// (the account's grants); `false` makes every account an
    /// administrator (invariant 3).
    fn checks_privileges(&self) -> bool;
}

/// A compiled-in authentication plugin's descriptor.
pub fn compiled_in(name: &str, description: &str) -> PluginDescriptor {
    PluginDescriptor::compiled_in(PluginKind::Authentication, name, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<AccountRecord>);

    impl Authenticator for Fixed {
        fn descriptor(&self) -> PluginDescriptor {
            compiled_in("fixed", "a test list")
        }
        fn accounts(&self, user: &str) -> Vec<AccountRecord> {
            self.0.iter().filter(|a| a.user == user).cloned().collect()
        }
        fn checks_privileges(&self) -> bool {
            false
        }
    }

    #[test]
    fn a_plugin_is_usable_as_a_trait_object() {
        let a = AccountRecord {
            user: "u".into(),
            host: "%".into(),
            method: "mysql_native_password".into(),
            stored: String::new(),
        };
        let p: Box<dyn Authenticator> = Box::new(Fixed(vec![a.clone()]));
        assert_eq!(p.accounts("u"), vec![a]);
        assert!(p.accounts("v").is_empty());
        assert_eq!(p.descriptor().kind, PluginKind::Authentication);
    }
}
