//! Accounts and their credentials: the `native` plugin (rows of the system
//! table `mysql.user`, ordinary dictionary data written through an internal
//! session, so account changes are transactional like any other write) and
//! the `file` plugin (accounts read from a file named in the config).
//!
//! Stored forms (`authentication_string`, never a password):
//! - `mysql_native_password`: `*` and 40 upper-case hex digits of
//!   `SHA1(SHA1(pw))`, as MySQL stores it;
//! - `caching_sha2_password`: `$mzsha2$ROUNDS$SALT$HASH` (what
//!   [`auth_string`] and `CREATE USER` make, through
//!   `mizzle_dictionary::grants`): 16 random salt bytes and `ROUNDS`
//!   (5,000) chained SHA-256 (`h1 = SHA256(salt | pw)`, `hN = SHA256(hN-1
//!   | salt | pw)`), in hex; mizzle's own salted form, not MySQL's
//!   `$A$005$` sha256crypt. The fast-path entry `SHA256(SHA256(pw))` is then kept
//!   only in memory (`Accounts::sha2_cache`), filled by a full
//!   authentication (the password over TLS), as MySQL's cache is; a
//!   restart empties it. The older `$sha2$` + hex `SHA256(SHA256(pw))`
//!   form (a permanent fast-path entry, unsalted) is still read;
//! - empty: no password.
//!
//! Invariants:
//! 1. A password-less account never logs in from a non-loopback address
//!    ([`Accounts::credential`] hides it, so the login fails as for an
//!    unknown user).
//! 2. Each failed login is logged and answered only after a delay that
//!    doubles with each consecutive failure from the same address (from
//!    250 ms up to 8 s), reset by a successful login.
//! 3. Scrambles are compared in constant time (`mizzle_protocol::auth`).
//! 4. A fast-path cache entry is keyed by the account's user, host and
//!    stored string, so changing the password (a new string) makes the
//!    old entry unreachable.
//!
//! A `native` login runs its session as the account it matched
//! ([`Accounts::privileged_host`]), so the session checks the account's
//! privileges (grant tables, `CREATE USER` / `GRANT`: `mizzle_session`).
//!
//! Not yet: privileges for `file` accounts (they are administrators);
//! account host patterns other than `%`, `localhost` and exact addresses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use mizzle_dictionary::grants;
use mizzle_plugin_api::auth::{compiled_in, AccountRecord, Authenticator};
use mizzle_plugin_api::registry::PluginDescriptor;
use mizzle_protocol::{AuthPlugin, Credential, CredentialStore, NativeHash, Sha2CacheEntry};
use mizzle_types::Value;
use parking_lot::Mutex;

use crate::exec::{Engine, Output};

/// One account as stored (the plugin API's record).
pub type AccountRow = AccountRecord;

/// The `native` plugin: accounts are rows of the grant table
/// `mysql.user`, read through an internal session at each login.
pub struct NativePlugin {
    engine: Engine,
}

impl Authenticator for NativePlugin {
    fn descriptor(&self) -> PluginDescriptor {
        compiled_in("native", "accounts in the grant table mysql.user (CREATE USER, GRANT); privileges checked")
    }

    fn accounts(&self, user: &str) -> Vec<AccountRecord> {
        let sql = "SELECT user, host, plugin, authentication_string FROM mysql.user WHERE user = ?";
        let Ok(out) = self.engine.internal(sql, &[Value::text(user)]) else { return Vec::new() };
        let mut rows = Vec::new();
        for o in out.outputs {
            if let Output::Rows { rows: rs, .. } = o {
                for r in rs {
                    let text = |i: usize| match r.get(i) {
                        Some(Value::Text(s)) => s.to_string(),
                        _ => String::new(),
                    };
                    rows.push(AccountRecord { user: text(0), host: text(1), method: text(2), stored: text(3) });
                }
            }
        }
        rows
    }

    fn checks_privileges(&self) -> bool {
        true
    }
}

/// The `file` plugin: a fixed list of accounts read at start.
pub struct FilePlugin {
    rows: Vec<AccountRecord>,
}

impl Authenticator for FilePlugin {
    fn descriptor(&self) -> PluginDescriptor {
        compiled_in("file", "accounts listed in the accounts file; every account is an administrator")
    }

    fn accounts(&self, user: &str) -> Vec<AccountRecord> {
        self.rows.iter().filter(|r| r.user == user).cloned().collect()
    }

    fn checks_privileges(&self) -> bool {
        false
    }
}

/// The server's accounts and its failed-login bookkeeping.
pub struct Accounts {
    plugin: Box<dyn Authenticator>,
    /// The database of the `native` plugin (bootstrap).
    engine: Option<Engine>,
    failures: Mutex<HashMap<IpAddr, u32>>,
    /// `caching_sha2_password` fast-path entries made by full
    /// authentications, by (user, host, stored string) (invariant 4).
    sha2_cache: Mutex<HashMap<(String, String, String), Sha2CacheEntry>>,
    /// Full `caching_sha2_password` authentications that succeeded.
    pub sha2_full_auths: std::sync::atomic::AtomicU64,
}
/// The `authentication_string` of `password` under `plugin`
/// (`mizzle_dictionary::grants::auth_string`, which `CREATE USER` uses
/// too; an unknown plugin gets `mysql_native_password`'s form).
pub fn auth_string(plugin: &str, password: &str) -> String {
    grants::auth_string(plugin, password)
        .or_else(|| grants::auth_string("mysql_native_password", password))
        .unwrap_or_default()
}

/// The credential of a stored row, or `None` if its string is malformed.
pub fn parse_credential(plugin: &str, auth: &str) -> Option<Credential> {
    match plugin {
        "mysql_native_password" => {
            if auth.is_empty() {
                return Some(Credential::NativePassword(None));
            }
            let h = grants::unhex::<20>(auth.strip_prefix('*')?)?;
            Some(Credential::NativePassword(Some(NativeHash(h))))
        }
        "caching_sha2_password" => {
            if auth.is_empty() {
                return Some(Credential::CachingSha2Password { cached: None, empty_password: true });
            }
            if grants::parse_salted_sha2(auth).is_some() {
                // The fast-path entry lives in the server's cache.
                return Some(Credential::CachingSha2Password { cached: None, empty_password: false });
            }
            let h = grants::unhex::<32>(auth.strip_prefix("$sha2$")?)?;
            Some(Credential::CachingSha2Password { cached: Some(Sha2CacheEntry(h)), empty_password: false })
        }
        _ => None,
    }
}

fn has_password(c: &Credential) -> bool {
    match c {
        Credential::NativePassword(h) => h.is_some(),
        Credential::CachingSha2Password { empty_password, .. } => !empty_password,
    }
}

/// How well an account host matches a peer: exact address 3, `localhost`
/// for a loopback peer 2, `%` 1, else no match.
fn host_rank(pattern: &str, ip: IpAddr) -> Option<u8> {
    if pattern == "%" {
        return Some(1);
    }
    if pattern.eq_ignore_ascii_case("localhost") && ip.is_loopback() {
        return Some(2);
    }
    match pattern.parse::<IpAddr>() {
        Ok(p) if p == ip => Some(3),
        _ => None,
    }
}

/// What [`Accounts::bootstrap`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// The account table existed.
    Existing,
    /// First start: `root` was created at `host`, with a password or not.
    Created {
        /// `localhost` (no password) or `%`.
        host: String,
        /// Whether a password was set.
        with_password: bool,
    },
}

impl Accounts {
    /// Accounts in `mysql.user` of `engine`.
    pub fn native(engine: Engine) -> Accounts {
        Accounts::make(Box::new(NativePlugin { engine: engine.clone() }), Some(engine))
    }

    fn make(plugin: Box<dyn Authenticator>, engine: Option<Engine>) -> Accounts {
        Accounts {
            plugin,
            engine,
            failures: Mutex::new(HashMap::new()),
            sha2_cache: Mutex::new(HashMap::new()),
            sha2_full_auths: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The account store's plugin name (`SHOW PLUGINS`).
    pub fn store_name(&self) -> String {
        self.plugin.descriptor().name
    }

    /// Accounts from any plugin (tests, and plugins of the future).
    pub fn with_plugin(plugin: Box<dyn Authenticator>) -> Accounts {
        Accounts::make(plugin, None)
    }

    /// The plugin's descriptor, for `SHOW PLUGINS`.
    pub fn descriptor(&self) -> PluginDescriptor {
        self.plugin.descriptor()
    }

    /// Accounts read from `path`: one per line, `user host plugin
    /// auth_string` separated by blanks (auth_string `-` or absent for no
    /// password); `#` starts a comment.
    pub fn from_file(path: &Path) -> anyhow::Result<Accounts> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read accounts file {}: {e}", path.display()))?;
        let mut rows = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            let (user, host, plugin) = match (f.first(), f.get(1), f.get(2)) {
                (Some(u), Some(h), Some(p)) => (*u, *h, *p),
                _ => anyhow::bail!("{}:{}: expected `user host plugin [auth_string]`", path.display(), n + 1),
            };
            let auth = match f.get(3) {
                Some(&"-") | None => "",
                Some(a) => a,
            };
            if parse_credential(plugin, auth).is_none() {
                anyhow::bail!("{}:{}: unknown plugin or malformed auth string", path.display(), n + 1);
            }
            rows.push(AccountRecord {
                user: user.to_owned(),
                host: host.to_owned(),
                method: plugin.to_owned(),
                stored: auth.to_owned(),
            });
        }
        Ok(Accounts::with_plugin(Box::new(FilePlugin { rows })))
    }

    /// Creates `mysql.user` and `root` on first start (`native` only).
    /// Without a password `root` may log in from loopback addresses only
    /// (`root@localhost`); with one, from anywhere (`root@%`).
    pub fn bootstrap(&self, root_password: Option<&str>) -> anyhow::Result<Bootstrap> {
        let Some(engine) = &self.engine else { return Ok(Bootstrap::Existing) };
        if engine.internal("SELECT COUNT(*) FROM mysql.user", &[]).is_ok() {
            // A data directory from before privileges: add what is missing
            // (its accounts stay administrators).
            engine.install_grant_tables().map_err(|e| anyhow::anyhow!("upgrading the grant tables: {e}"))?;
            return Ok(Bootstrap::Existing);
        }
        let pw = root_password.unwrap_or("");
        let host = if pw.is_empty() { "localhost" } else { "%" };
        let plugin = "mysql_native_password";
        // The grant tables and the administrator in one transaction: a
        // crash leaves none.
        let tables = mizzle_session::GRANT_TABLES.join("; ");
        let all = mizzle_session::administrator_privileges();
        let sql = format!("BEGIN; {tables}; INSERT INTO mysql.user VALUES (?, ?, ?, ?, ?); COMMIT");
        let params = [
            Value::text("root"),
            Value::text(host),
            Value::text(plugin),
            Value::text(&auth_string(plugin, pw)),
            Value::text(&all),
        ];
        engine.internal(&sql, &params).map_err(|e| anyhow::anyhow!("creating the account table: {e}"))?;
        Ok(Bootstrap::Created { host: host.to_owned(), with_password: !pw.is_empty() })
    }

    fn rows_for(&self, user: &str) -> Vec<AccountRow> {
        self.plugin.accounts(user)
    }

    /// The account `user` connecting from `ip` logs in as: the row whose
    /// host matches best.
    fn best_row(&self, user: &str, ip: IpAddr) -> Option<AccountRow> {
        self.rows_for(user)
            .into_iter()
            .filter_map(|r| host_rank(&r.host, ip).map(|k| (k, r)))
            .max_by_key(|(k, _)| *k)
            .map(|(_, r)| r)
    }

    /// The host pattern of the account whose privileges a login of `user`
    /// from `ip` gets (`native`); `None` for the `file` plugin, whose
    /// accounts are administrators (privileges live in the grant tables).
    pub fn privileged_host(&self, user: &str, ip: IpAddr) -> Option<String> {
        if !self.plugin.checks_privileges() {
            return None;
        }
        self.best_row(user, ip).map(|r| r.host)
    }

    /// The credential of `user` connecting from `ip`: the best-matching
    /// host wins (invariant 1 applies).
    pub fn credential(&self, user: &str, ip: IpAddr) -> Option<Credential> {
        self.account(user, ip).map(|(_, c)| c)
    }

    /// The best-matching row and its credential (with the cached fast-path
    /// entry of a salted `caching_sha2_password` string, if any).
    fn account(&self, user: &str, ip: IpAddr) -> Option<(AccountRow, Credential)> {
        let row = self.best_row(user, ip)?;
        let mut c = parse_credential(&row.method, &row.stored)?;
        if !has_password(&c) && !ip.is_loopback() {
            return None;
        }
        if let Credential::CachingSha2Password { cached: cached @ None, empty_password: false } = &mut c {
            let key = (row.user.clone(), row.host.clone(), row.stored.clone());
            *cached = self.sha2_cache.lock().get(&key).copied();
        }
        Some((row, c))
    }
    /// Full authentication: whether `password` is the account's; a right
    /// `caching_sha2_password` one fills the fast-path cache.
    fn verify_password(&self, user: &str, ip: IpAddr, password: &[u8]) -> bool {
        let Some((row, c)) = self.account(user, ip) else { return false };
        match c {
            Credential::CachingSha2Password { empty_password: false, .. } => {
                let ok = match grants::parse_salted_sha2(&row.stored) {
                    Some((rounds, salt, hash)) => {
                        mizzle_protocol::auth::constant_time_eq(&hash, &grants::salted_sha2(rounds, &salt, password))
                    }
                    None => match grants::unhex::<32>(row.stored.strip_prefix("$sha2$").unwrap_or("")) {
                        Some(h) => {
                            mizzle_protocol::auth::constant_time_eq(&h, &Sha2CacheEntry::of_password(password).0)
                        }
                        None => false,
                    },
                };
                if ok {
                    let key = (row.user, row.host, row.stored);
                    self.sha2_cache.lock().insert(key, Sha2CacheEntry::of_password(password));
                    self.sha2_full_auths.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                ok
            }
            Credential::NativePassword(Some(h)) => {
                mizzle_protocol::auth::constant_time_eq(&h.0, &NativeHash::of_password(password).0)
            }
            _ => false,
        }
    }

    /// Records a failed login from `ip` and returns how long to wait before
    /// answering (invariant 2).
    pub fn login_failed(&self, user: &str, ip: IpAddr) -> Duration {
        let mut f = self.failures.lock();
        let n = f.entry(ip).or_insert(0);
        *n = n.saturating_add(1);
        let delay = Duration::from_millis(250u64 << (*n - 1).min(5));
        tracing::warn!(user, client = %ip, consecutive_failures = *n, "login failed");
        delay
    }

    /// Records a successful login from `ip`.
    pub fn login_succeeded(&self, ip: IpAddr) {
        self.failures.lock().remove(&ip);
    }

    /// The handshake's view of these accounts for one peer.
    pub fn store(&self, ip: IpAddr) -> Store<'_> {
        Store { accounts: self, ip }
    }
}

/// [`CredentialStore`] for one connection.
pub struct Store<'a> {
    accounts: &'a Accounts,
    ip: IpAddr,
}

impl CredentialStore for Store<'_> {
    fn credential(&mut self, user: &str, _host: &str) -> Option<Credential> {
        self.accounts.credential(user, self.ip)
    }

    fn verify_password(&mut self, user: &str, _host: &str, password: &[u8]) -> bool {
        self.accounts.verify_password(user, self.ip, password)
    }
}

/// The plugin a stored row names, for the greeting of a file-only setup.
pub fn plugin_of(name: &str) -> AuthPlugin {
    AuthPlugin::from_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_auth_string_is_mysql_format() {
        // MySQL: SELECT CONCAT('*', UPPER(SHA1(UNHEX(SHA1('secret'))))).
        assert_eq!(auth_string("mysql_native_password", "secret"), "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7");
        assert_eq!(auth_string("mysql_native_password", ""), "");
    }

    #[test]
    fn salted_sha2_is_checked_and_then_cached() {
        let stored = auth_string("caching_sha2_password", "pw");
        assert_ne!(stored, auth_string("caching_sha2_password", "pw"), "salted: a new string each time");
        let row = AccountRow { user: "s".into(), host: "%".into(), method: "caching_sha2_password".into(), stored };
        let a = Accounts::with_plugin(Box::new(FilePlugin { rows: vec![row] }));
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        let cold = Credential::CachingSha2Password { cached: None, empty_password: false };
        assert_eq!(a.credential("s", ip), Some(cold));
        assert!(!a.verify_password("s", ip, b"nope"));
        assert_eq!(
            a.credential("s", ip),
            Some(Credential::CachingSha2Password { cached: None, empty_password: false })
        );
        assert!(a.verify_password("s", ip, b"pw"));
        let warm =
            Credential::CachingSha2Password { cached: Some(Sha2CacheEntry::of_password(b"pw")), empty_password: false };
        assert_eq!(a.credential("s", ip), Some(warm));
        assert_eq!(a.sha2_full_auths.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert!(grants::parse_salted_sha2("$mzsha2$0$00$00").is_none());
    }

    #[test]
    fn stored_strings_parse_back() {
        for plugin in ["mysql_native_password", "caching_sha2_password"] {
            let s = auth_string(plugin, "pw");
            let c = parse_credential(plugin, &s).expect("parses");
            assert!(has_password(&c));
        }
        assert!(parse_credential("mysql_native_password", "*12").is_none());
        assert!(parse_credential("nope", "").is_none());
    }

    #[test]
    fn passwordless_account_is_hidden_from_remote_peers() {
        let rows = vec![AccountRow {
            user: "root".into(),
            host: "%".into(),
            method: "mysql_native_password".into(),
            stored: String::new(),
        }];
        let a = Accounts::with_plugin(Box::new(FilePlugin { rows }));
        assert!(a.credential("root", "127.0.0.1".parse().expect("ip")).is_some());
        assert!(a.credential("root", "10.1.2.3".parse().expect("ip")).is_none());
    }

    #[test]
    fn best_host_match_wins() {
        let row = |host: &str, pw: &str| AccountRow {
            user: "u".into(),
            host: host.into(),
            method: "mysql_native_password".into(),
            stored: auth_string("mysql_native_password", pw),
        };
        let a = Accounts::with_plugin(Box::new(FilePlugin { rows: vec![row("%", "any"), row("localhost", "")] }));
        assert_eq!(a.credential("u", "127.0.0.1".parse().expect("ip")), Some(Credential::NativePassword(None)));
        assert!(matches!(
            a.credential("u", "10.0.0.1".parse().expect("ip")),
            Some(Credential::NativePassword(Some(_)))
        ));
    }

    #[test]
    fn failed_login_delay_grows_and_resets() {
        let a = Accounts::with_plugin(Box::new(FilePlugin { rows: Vec::new() }));
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        let d1 = a.login_failed("x", ip);
        let d2 = a.login_failed("x", ip);
        assert!(d2 > d1);
        a.login_succeeded(ip);
        assert_eq!(a.login_failed("x", ip), d1);
    }
}
