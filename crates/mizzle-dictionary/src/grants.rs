//! Accounts and privileges as data: the privilege set [`Privs`] stored in
//! the grant tables (`mysql.user`, `mysql.db`, `mysql.tables_priv`, which
//! are ordinary tables, so account changes commit and roll back like any
//! write), and the stored credential forms ([`auth_string`]).
//!
//! Invariants:
//! 1. A privilege set is stored as the comma-separated names of its
//!    privileges (MySQL's spelling, e.g. `SELECT,GRANT OPTION`), so the
//!    stored form does not depend on the bit order here; unknown names are
//!    ignored when read.
//! 2. Only hashes are stored, never a password: `mysql_native_password`
//!    keeps `*` and the 40 upper-case hex digits of `SHA1(SHA1(pw))` (as
//!    MySQL does); `caching_sha2_password` keeps mizzle's salted form
//!    `$mzsha2$ROUNDS$SALT$HASH`: 16 random salt bytes and
//!    [`SHA2_ROUNDS`] chained SHA-256 (`h1 = SHA256(salt | pw)`, `hN =
//!    SHA256(hN-1 | salt | pw)`), in lower-case hex ([`salted_sha2`]; not
//!    MySQL's `$A$005$` sha256crypt). An older unsalted form, `$sha2$`
//!    and the 64 hex digits of `SHA256(SHA256(pw))`, is still read by the
//!    server, never written. An empty string means no password.
//!
//! Does not read or write the tables: the session does, through SQL.

use sha1::{Digest, Sha1};
use sha2::Sha256;

/// Chained SHA-256 rounds of the salted `caching_sha2_password` form.
pub const SHA2_ROUNDS: u32 = 5000;
/// The prefix of the salted `caching_sha2_password` form (invariant 2).
pub const SALTED_SHA2_PREFIX: &str = "$mzsha2$";

/// One privilege MySQL names (static privileges of MySQL 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Priv {
    /// SELECT
    Select,
    /// INSERT
    Insert,
    /// UPDATE
    Update,
    /// DELETE
    Delete,
    /// CREATE
    Create,
    /// DROP
    Drop,
    /// RELOAD
    Reload,
    /// SHUTDOWN
    Shutdown,
    /// PROCESS
    Process,
    /// FILE
    File,
    /// GRANT OPTION
    GrantOption,
    /// REFERENCES
    References,
    /// INDEX
    Index,
    /// ALTER
    Alter,
    /// SHOW DATABASES
    ShowDatabases,
    /// SUPER
    Super,
    /// CREATE TEMPORARY TABLES
    CreateTemporaryTables,
    /// LOCK TABLES
    LockTables,
    /// EXECUTE
    Execute,
    /// REPLICATION SLAVE
    ReplicationSlave,
    /// REPLICATION CLIENT
    ReplicationClient,
    /// CREATE VIEW
    CreateView,
    /// SHOW VIEW
    ShowView,
    /// CREATE ROUTINE
    CreateRoutine,
    /// ALTER ROUTINE
    AlterRoutine,
    /// CREATE USER
    CreateUser,
    /// EVENT
    Event,
    /// TRIGGER
    Trigger,
    /// CREATE TABLESPACE
    CreateTablespace,
    /// CREATE ROLE
    CreateRole,
    /// DROP ROLE
    DropRole,
}

/// Every privilege, in MySQL's display order (`SHOW GRANTS`).
pub const ALL_PRIVS: [Priv; 31] = [
    Priv::Select,
    Priv::Insert,
    Priv::Update,
    Priv::Delete,
    Priv::Create,
    Priv::Drop,
    Priv::Reload,
    Priv::Shutdown,
    Priv::Process,
    Priv::File,
    Priv::GrantOption,
    Priv::References,
    Priv::Index,
    Priv::Alter,
    Priv::ShowDatabases,
    Priv::Super,
    Priv::CreateTemporaryTables,
    Priv::LockTables,
    Priv::Execute,
    Priv::ReplicationSlave,
    Priv::ReplicationClient,
    Priv::CreateView,
    Priv::ShowView,
    Priv::CreateRoutine,
    Priv::AlterRoutine,
    Priv::CreateUser,
    Priv::Event,
    Priv::Trigger,
    Priv::CreateTablespace,
    Priv::CreateRole,
    Priv::DropRole,
];

impl Priv {
    /// MySQL's name, upper case.
    pub fn name(self) -> &'static str {
        match self {
            Priv::Select => "SELECT",
            Priv::Insert => "INSERT",
            Priv::Update => "UPDATE",
            Priv::Delete => "DELETE",
            Priv::Create => "CREATE",
            Priv::Drop => "DROP",
            Priv::Reload => "RELOAD",
            Priv::Shutdown => "SHUTDOWN",
            Priv::Process => "PROCESS",
            Priv::File => "FILE",
            Priv::GrantOption => "GRANT OPTION",
            Priv::References => "REFERENCES",
            Priv::Index => "INDEX",
            Priv::Alter => "ALTER",
            Priv::ShowDatabases => "SHOW DATABASES",
            Priv::Super => "SUPER",
            Priv::CreateTemporaryTables => "CREATE TEMPORARY TABLES",
            Priv::LockTables => "LOCK TABLES",
            Priv::Execute => "EXECUTE",
            Priv::ReplicationSlave => "REPLICATION SLAVE",
            Priv::ReplicationClient => "REPLICATION CLIENT",
            Priv::CreateView => "CREATE VIEW",
            Priv::ShowView => "SHOW VIEW",
            Priv::CreateRoutine => "CREATE ROUTINE",
            Priv::AlterRoutine => "ALTER ROUTINE",
            Priv::CreateUser => "CREATE USER",
            Priv::Event => "EVENT",
            Priv::Trigger => "TRIGGER",
            Priv::CreateTablespace => "CREATE TABLESPACE",
            Priv::CreateRole => "CREATE ROLE",
            Priv::DropRole => "DROP ROLE",
        }
    }

    /// The privilege named `name` (upper or lower case, words separated by
    /// single blanks).
    pub fn from_name(name: &str) -> Option<Priv> {
        ALL_PRIVS.iter().copied().find(|p| p.name().eq_ignore_ascii_case(name))
    }
}

/// A set of privileges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Privs(u32);

/// Privileges that may be granted on one table (MySQL's table-level list).
const TABLE_LEVEL: [Priv; 13] = [
    Priv::Select,
    Priv::Insert,
    Priv::Update,
    Priv::Delete,
    Priv::Create,
    Priv::Drop,
    Priv::GrantOption,
    Priv::References,
    Priv::Index,
    Priv::Alter,
    Priv::CreateView,
    Priv::ShowView,
    Priv::Trigger,
];

/// Privileges that exist only globally (`*.*`).
const GLOBAL_ONLY: [Priv; 13] = [
    Priv::Reload,
    Priv::Shutdown,
    Priv::Process,
    Priv::File,
    Priv::ShowDatabases,
    Priv::Super,
    Priv::ReplicationSlave,
    Priv::ReplicationClient,
    Priv::CreateUser,
    Priv::CreateTablespace,
    Priv::CreateRole,
    Priv::DropRole,
    Priv::CreateUser,
];

impl Privs {
    /// No privilege.
    pub const NONE: Privs = Privs(0);

    /// The set holding `p` alone.
    pub const fn of(p: Priv) -> Privs {
        Privs(1 << p as u8)
    }

    /// The set of `ps`.
    pub fn of_all(ps: &[Priv]) -> Privs {
        ps.iter().fold(Privs::NONE, |s, p| s.with(*p))
    }

    /// Every privilege (`ALL PRIVILEGES` on `*.*`, with GRANT OPTION).
    pub fn global_all() -> Privs {
        Privs::of_all(&ALL_PRIVS)
    }

    /// Every privilege a schema grant may hold.
    pub fn schema_all() -> Privs {
        Privs(Privs::global_all().0 & !Privs::of_all(&GLOBAL_ONLY).0)
    }

    /// Every privilege a table grant may hold.
    pub fn table_all() -> Privs {
        Privs::of_all(&TABLE_LEVEL)
    }

    /// True if `p` is in the set.
    pub fn has(self, p: Priv) -> bool {
        self.0 & (1 << p as u8) != 0
    }

    /// The set with `p` added.
    #[must_use]
    pub fn with(self, p: Priv) -> Privs {
        Privs(self.0 | (1 << p as u8))
    }

    /// Union.
    #[must_use]
    pub fn union(self, o: Privs) -> Privs {
        Privs(self.0 | o.0)
    }

    /// The privileges of `self` not in `o`.
    #[must_use]
    pub fn minus(self, o: Privs) -> Privs {
        Privs(self.0 & !o.0)
    }

    /// Intersection.
    #[must_use]
    pub fn and(self, o: Privs) -> Privs {
        Privs(self.0 & o.0)
    }

    /// True if every privilege of `o` is in `self`.
    pub fn contains(self, o: Privs) -> bool {
        self.0 & o.0 == o.0
    }

    /// True if the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The privileges, in display order.
    pub fn iter(self) -> impl Iterator<Item = Priv> {
        ALL_PRIVS.into_iter().filter(move |p| self.has(*p))
    }

    /// The stored form (invariant 1).
    pub fn to_stored(self) -> String {
        self.iter().map(Priv::name).collect::<Vec<_>>().join(",")
    }

    /// Reads a stored form (invariant 1).
    pub fn from_stored(text: &str) -> Privs {
        text.split(',').filter_map(|n| Priv::from_name(n.trim())).fold(Privs::NONE, Privs::with)
    }
}

/// Credential methods an account may use.
pub const AUTH_PLUGINS: [&str; 2] = ["mysql_native_password", "caching_sha2_password"];

/// The stored credential of `password` for `plugin` (invariant 2); `None`
/// for a plugin not in [`AUTH_PLUGINS`].
pub fn auth_string(plugin: &str, password: &str) -> Option<String> {
    if !AUTH_PLUGINS.contains(&plugin) {
        return None;
    }
    if password.is_empty() {
        return Some(String::new());
    }
    Some(if plugin == "caching_sha2_password" {
        // A salt from the operating system; without one (never seen on
        // Linux) the zero salt still leaves the 5,000 rounds.
        let mut salt = [0u8; 16];
        let _ = getrandom::fill(&mut salt);
        let h = salted_sha2(SHA2_ROUNDS, &salt, password.as_bytes());
        format!("{SALTED_SHA2_PREFIX}{SHA2_ROUNDS}${}${}", hex(&salt, false), hex(&h, false))
    } else {
        let once = Sha1::digest(password.as_bytes());
        format!("*{}", hex(&Sha1::digest(once), true))
    })
}

/// The salted hash of `password` (invariant 2).
pub fn salted_sha2(rounds: u32, salt: &[u8], password: &[u8]) -> [u8; 32] {
    let mut h: [u8; 32] = Sha256::new().chain_update(salt).chain_update(password).finalize().into();
    for _ in 1..rounds {
        h = Sha256::new().chain_update(h).chain_update(salt).chain_update(password).finalize().into();
    }
    h
}

/// The rounds, salt and hash of a salted stored string; `None` if `auth`
/// is not one (or is malformed, or asks for more than a million rounds).
pub fn parse_salted_sha2(auth: &str) -> Option<(u32, [u8; 16], [u8; 32])> {
    let rest = auth.strip_prefix(SALTED_SHA2_PREFIX)?;
    let mut parts = rest.split('$');
    let rounds: u32 = parts.next()?.parse().ok().filter(|r| (1..=1_000_000).contains(r))?;
    let salt = unhex::<16>(parts.next()?)?;
    let hash = unhex::<32>(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    Some((rounds, salt, hash))
}

/// `N` bytes from `2 * N` hex digits (either case); `None` otherwise.
pub fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let bytes = s.as_bytes();
    if bytes.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(bytes.chunks(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

fn hex(b: &[u8], upper: bool) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = if upper { write!(s, "{x:02X}") } else { write!(s, "{x:02x}") };
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_and_ignores_unknown_names() {
        let p = Privs::of_all(&[Priv::Select, Priv::GrantOption, Priv::CreateView]);
        assert_eq!(p.to_stored(), "SELECT,GRANT OPTION,CREATE VIEW");
        assert_eq!(Privs::from_stored(&p.to_stored()), p);
        assert_eq!(Privs::from_stored("select, BOGUS,insert"), Privs::of_all(&[Priv::Select, Priv::Insert]));
        assert_eq!(Privs::from_stored(""), Privs::NONE);
    }

    #[test]
    fn levels_nest() {
        assert!(Privs::global_all().contains(Privs::schema_all()));
        assert!(Privs::schema_all().contains(Privs::table_all()));
        assert!(!Privs::schema_all().has(Priv::CreateUser));
        assert!(!Privs::table_all().has(Priv::Execute));
        assert!(Privs::schema_all().has(Priv::Execute));
    }

    #[test]
    fn credentials_are_mysql_hashes() {
        // MySQL: SELECT CONCAT('*', UPPER(SHA1(UNHEX(SHA1('secret'))))).
        assert_eq!(
            auth_string("mysql_native_password", "secret").as_deref(),
            Some("*14E65567ABDB5135D0CFD9A70B3032C179A49EE7")
        );
        assert_eq!(auth_string("mysql_native_password", "").as_deref(), Some(""));
        let s = auth_string("caching_sha2_password", "pw").unwrap_or_default();
        let (rounds, salt, hash) = parse_salted_sha2(&s).unwrap_or_else(|| panic!("not salted: {s}"));
        assert_eq!(rounds, SHA2_ROUNDS);
        assert_eq!(hash, salted_sha2(rounds, &salt, b"pw"));
        assert_ne!(hash, salted_sha2(rounds, &salt, b"pW"));
        let again = auth_string("caching_sha2_password", "pw").unwrap_or_default();
        assert_ne!(s, again, "a new salt each time");
        assert!(!s.contains(&hex(&Sha256::digest(Sha256::digest(b"pw")), false)), "no unsalted hash in {s}");
        assert_eq!(auth_string("sha256_password", "pw"), None);
    }

    #[test]
    fn malformed_salted_strings_are_refused() {
        let good = auth_string("caching_sha2_password", "pw").unwrap_or_default();
        assert!(parse_salted_sha2(&good).is_some());
        for bad in [
            "",
            "$sha2$00",
            "$mzsha2$",
            "$mzsha2$0$00000000000000000000000000000000$",
            "$mzsha2$2000000$00000000000000000000000000000000$0000000000000000000000000000000000000000000000000000000000000000",
            "$mzsha2$5000$zz000000000000000000000000000000$0000000000000000000000000000000000000000000000000000000000000000",
            "$mzsha2$5000$00000000000000000000000000000000$00",
            &format!("{good}$extra"),
        ] {
            assert!(parse_salted_sha2(bad).is_none(), "{bad}");
        }
        assert_eq!(unhex::<2>("0aFf"), Some([0x0a, 0xff]));
        assert_eq!(unhex::<2>("0aF"), None);
    }
}
