//! Accounts and privileges of a session: the account statements (`CREATE
//! USER`, `GRANT`, ...), run as SQL on the grant tables inside the
//! statement's transaction, and the privilege check of every statement.
//!
//! The grant tables are ordinary tables of the `mysql` schema, created by
//! the first account statement that writes ([`GRANT_TABLES`]):
//! `mysql.user (user, host, plugin, authentication_string, privileges)`,
//! `mysql.db (host, db, user, privileges)` and `mysql.tables_priv (host,
//! db, user, table_name, privileges)`, a privilege set stored as its names
//! (`mizzle_dictionary::grants`). So accounts and grants commit and roll
//! back with the transaction, like any DDL, and take effect when
//! committed (MySQL's GRANT commits implicitly; here it does not).
//!
//! Invariants:
//! 1. A session without an account (the embedded API's default, internal
//!    sessions) may do anything and pays one branch per statement.
//! 2. A session with an account checks every statement's bound form
//!    before it runs ([`Session::check_privileges`]), prepared statements
//!    at each execution, against a per-session cache of its privileges
//!    ([`PrivCache`]) read from the committed grant tables. The cache is
//!    valid while no commit wrote the grant tables or the dictionary after
//!    the snapshot it was read at (`SpaceWatch`es: a few atomic loads per
//!    statement, no table read).
//! 3. Views are checked with the invoker's rights: a query through a view
//!    needs SELECT on the tables the view reads (the view's own privileges
//!    are not consulted).
//! 4. Names of schemas and tables in grants match without case, and
//!    without wildcards (MySQL's `_` and `%` in schema grants are plain
//!    characters here).

use std::collections::HashMap;
use std::sync::Arc;

use mizzle_dictionary::grants::{auth_string, Priv, Privs, AUTH_PLUGINS};
use mizzle_dictionary::Relation;
use mizzle_exec::ctx::Ctx;
use mizzle_sql::account::{AccountStmt, AuthSpec, PrivLevel, UserRef};
use mizzle_sql::plan::{AlterOp, BoundStatement, Ddl, InsertSource, Plan, SessionStmt, VarScope};
use mizzle_txn::{IsolationLevel, SpaceWatch, Ts, Txn, TxnOptions};
use mizzle_types::{ErrorCode, SqlType, Value, Warning};

use super::{exec_bound, ColumnInfo, Session, StatementOutput, Sys};
use crate::error::SessionError;

/// The SQL creating the grant tables (each `IF NOT EXISTS`). Their names
/// compare byte for byte (`utf8mb4_0900_bin`, whatever the server's default
/// collation): account names are case-sensitive, as in MySQL's
/// `utf8mb3_bin` columns, and schema and table names are stored lower-cased
/// (invariant 4).
pub const GRANT_TABLES: [&str; 4] = [
    "CREATE DATABASE IF NOT EXISTS mysql",
    "CREATE TABLE IF NOT EXISTS mysql.user (user VARCHAR(32) NOT NULL, host VARCHAR(255) NOT NULL, \
     plugin VARCHAR(64) NOT NULL, authentication_string VARCHAR(255) NOT NULL, \
     privileges VARCHAR(1024) NOT NULL DEFAULT '', PRIMARY KEY (user, host)) COLLATE=utf8mb4_0900_bin",
    "CREATE TABLE IF NOT EXISTS mysql.db (host VARCHAR(255) NOT NULL, db VARCHAR(64) NOT NULL, \
     user VARCHAR(32) NOT NULL, privileges VARCHAR(1024) NOT NULL, PRIMARY KEY (host, db, user)) COLLATE=utf8mb4_0900_bin",
    "CREATE TABLE IF NOT EXISTS mysql.tables_priv (host VARCHAR(255) NOT NULL, db VARCHAR(64) NOT NULL, \
     user VARCHAR(32) NOT NULL, table_name VARCHAR(64) NOT NULL, privileges VARCHAR(1024) NOT NULL, \
     PRIMARY KEY (host, db, user, table_name)) COLLATE=utf8mb4_0900_bin",
];

/// The authentication plugin of `CREATE USER` without `WITH` (MariaDB's
/// default; MySQL 8's is `caching_sha2_password`, which some clients
/// built without its plugin cannot answer).
pub const DEFAULT_AUTH_PLUGIN: &str = "mysql_native_password";

/// The stored privileges of an administrator (`ALL PRIVILEGES ON *.*
/// WITH GRANT OPTION`), for a `mysql.user` row written directly.
pub fn administrator_privileges() -> String {
    Privs::global_all().to_stored()
}

/// An account: the user name and the host pattern of its `mysql.user` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountId {
    /// User name.
    pub user: String,
    /// Host pattern (`%`, `localhost`, an address).
    pub host: String,
}

impl AccountId {
    /// `'user'@'host'`, as MySQL's messages quote an account.
    fn quoted(&self) -> String {
        format!("'{}'@'{}'", self.user, self.host)
    }
}

/// The privileges of one account, read at one snapshot (invariant 2).
pub(crate) struct PrivCache {
    snapshot: Ts,
    watches: Vec<SpaceWatch>,
    exists: bool,
    global: Privs,
    schemas: HashMap<String, Privs>,
    tables: HashMap<(String, String), Privs>,
}

impl PrivCache {
    /// No commit wrote the grant tables or the dictionary since the read.
    #[inline]
    fn valid(&self) -> bool {
        self.watches.iter().all(|w| w.last_commit() <= self.snapshot)
    }

    fn schema(&self, db: &str) -> Privs {
        self.global.union(self.schemas.get(&db.to_lowercase()).copied().unwrap_or_default())
    }

    fn table(&self, db: &str, t: &str) -> Privs {
        let db = db.to_lowercase();
        let s = self.schemas.get(&db).copied().unwrap_or_default();
        let tb = self.tables.get(&(db, t.to_lowercase())).copied().unwrap_or_default();
        self.global.union(s).union(tb)
    }

    /// Some privilege on the schema or one of its tables.
    fn any_in_schema(&self, db: &str) -> bool {
        let db = db.to_lowercase();
        !self.schema(&db).is_empty() || self.tables.keys().any(|(d, _)| *d == db)
    }
}

/// What a statement needs.
enum Need {
    /// A global privilege (1227).
    Global(Priv),
    /// Privileges on a schema (1044).
    Schema(String, Privs),
    /// Some privilege on a schema (`USE`, 1044).
    AnyInSchema(String),
    /// Privileges on a table (1142).
    Table(String, String, Privs),
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Text(s)) => s.to_string(),
        Some(v) if !v.is_null() => v.to_text_lossy().to_string(),
        _ => String::new(),
    }
}

fn rows(out: StatementOutput) -> Vec<Vec<Value>> {
    match out {
        StatementOutput::Rows { rows, .. } => rows,
        StatementOutput::Done { .. } => Vec::new(),
    }
}

/// `ALL PRIVILEGES` or the names, for SHOW GRANTS.
fn priv_text(p: Privs, all: Privs) -> String {
    let p = p.minus(Privs::of(Priv::GrantOption));
    if p.is_empty() {
        return "USAGE".into();
    }
    if p == all.minus(Privs::of(Priv::GrantOption)) {
        return "ALL PRIVILEGES".into();
    }
    p.iter().map(Priv::name).collect::<Vec<_>>().join(", ")
}

fn user_failed(op: &str, who: &[AccountId]) -> SessionError {
    let list: Vec<String> = who.iter().map(AccountId::quoted).collect();
    SessionError::rule(ErrorCode::CannotUser, format!("Operation {op} failed for {}", list.join(",")))
}

impl Session {
    /// Runs the session as `user@host` (the account's host pattern, as
    /// `CURRENT_USER()` shows it): from now on every statement is checked
    /// against the account's privileges (invariant 2). `USER()` is set
    /// separately ([`Session::set_user`]). The current database stays
    /// only if the account may use it (1044 otherwise), else there is none.
    pub fn set_account(&mut self, user: &str, host: &str) {
        self.account = Some(AccountId { user: user.to_string(), host: host.to_string() });
        self.current_user = format!("{user}@{host}");
        self.privs = None;
        if let Some(db) = self.database.clone() {
            if self.check_use(&db).is_err() {
                self.database = None;
                self.set_database_vars(None);
            }
        }
    }

    /// The account privileges are checked against, if any (`None`: the
    /// session may do anything).
    pub fn account(&self) -> Option<&AccountId> {
        self.account.as_ref()
    }

    /// True if the session holds the global privilege named `name` (MySQL's
    /// spelling, e.g. `SUPER`, `PROCESS`); always true without an account.
    pub fn has_global_privilege(&mut self, name: &str) -> bool {
        let Some(p) = Priv::from_name(name) else { return false };
        if self.account.is_none() {
            return true;
        }
        self.privileges().is_ok_and(|c| c.global.has(p))
    }

    /// The session's privileges, read again if a commit may have changed
    /// them (invariant 2). Call only with an account.
    fn privileges(&mut self) -> Result<&PrivCache, SessionError> {
        if !self.privs.as_ref().is_some_and(|c| c.valid()) {
            let c = self.load_privileges()?;
            self.privs = Some(c);
        }
        self.privs
            .as_ref()
            .ok_or_else(|| SessionError::rule(ErrorCode::Internal, "internal error (a bug): no privilege cache"))
    }

    fn load_privileges(&mut self) -> Result<PrivCache, SessionError> {
        let Some(a) = self.account.clone() else {
            return Err(SessionError::rule(ErrorCode::Internal, "internal error (a bug): privileges of no account"));
        };
        let t = self.cat.txns.begin(TxnOptions { isolation: IsolationLevel::ReadCommitted, read_only: true });
        t.begin_statement()?;
        let r = self.load_privileges_in(&t, &a);
        t.rollback();
        r
    }

    fn load_privileges_in(&mut self, t: &Txn, a: &AccountId) -> Result<PrivCache, SessionError> {
        t.take_snapshot();
        let snapshot = t.snapshot_ts().unwrap_or(Ts(0));
        let mut watches = vec![self.cat.dict_watch.clone()];
        let mut c = PrivCache {
            snapshot,
            watches: Vec::new(),
            exists: false,
            global: Privs::NONE,
            schemas: HashMap::new(),
            tables: HashMap::new(),
        };
        for name in ["user", "db", "tables_priv"] {
            if let Some(Relation::Table(td)) = self.cat.dict.get_relation(t, "mysql", name)? {
                watches.push(self.cat.txns.watch_space(td.space));
            } else {
                // No grant tables: the account does not exist.
                c.watches = watches;
                return Ok(c);
            }
        }
        c.watches = watches;
        let p = [Value::text(&a.user), Value::text(&a.host)];
        let user = rows(self.internal(t, "SELECT privileges FROM mysql.user WHERE user = ? AND host = ?", &p)?);
        if let Some(r) = user.first() {
            c.exists = true;
            c.global = Privs::from_stored(&text(r.first()));
        }
        for r in rows(self.internal(t, "SELECT db, privileges FROM mysql.db WHERE user = ? AND host = ?", &p)?) {
            c.schemas.insert(text(r.first()).to_lowercase(), Privs::from_stored(&text(r.get(1))));
        }
        let sql = "SELECT db, table_name, privileges FROM mysql.tables_priv WHERE user = ? AND host = ?";
        for r in rows(self.internal(t, sql, &p)?) {
            let key = (text(r.first()).to_lowercase(), text(r.get(1)).to_lowercase());
            c.tables.insert(key, Privs::from_stored(&text(r.get(2))));
        }
        Ok(c)
    }

    /// Runs one internal statement (`sql` with `?` parameters) in `txn`,
    /// with no privilege check, and returns its output.
    pub(crate) fn internal(&mut self, txn: &Txn, sql: &str, params: &[Value]) -> Result<StatementOutput, SessionError> {
        let parsed = Arc::new(mizzle_sql::parse::parse(sql)?);
        let outer = self.source.replace(parsed.clone());
        let r = (|| {
            let stmt = parsed
                .get(0)
                .ok_or_else(|| SessionError::rule(ErrorCode::Internal, "internal error (a bug): empty internal SQL"))?;
            // Each internal statement sees what the previous ones wrote.
            txn.next_step();
            let (b, _) = self.plan(stmt, txn)?;
            if matches!(b, BoundStatement::Ddl(_)) {
                self.ddl_epoch += 1;
            }
            let info = self.info();
            let sys = Sys { s: self, previous: &[] };
            let mut ctx = Ctx::new(txn, &self.cat.dict, params, &info, &sys);
            Ok(exec_bound(&b, None, None, &mut ctx)?.0)
        })();
        self.source = outer;
        r
    }

    /// Creates the grant tables if missing, and adds the `privileges`
    /// column to a `mysql.user` made before it existed (whose accounts
    /// were all administrators, and stay so).
    fn ensure_grant_tables(&mut self, txn: &Txn) -> Result<(), SessionError> {
        let user = self.cat.dict.get_relation(txn, "mysql", "user")?;
        if let Some(Relation::Table(td)) = &user {
            if !td.columns.iter().any(|c| c.name.eq_ignore_ascii_case("privileges")) {
                self.internal(
                    txn,
                    "ALTER TABLE mysql.user ADD COLUMN privileges VARCHAR(1024) NOT NULL DEFAULT ''",
                    &[],
                )?;
                let all = Privs::global_all().to_stored();
                self.internal(txn, "UPDATE mysql.user SET privileges = ?", &[Value::text(&all)])?;
            }
        }
        for sql in GRANT_TABLES {
            self.internal(txn, sql, &[])?;
        }
        Ok(())
    }

    /// Creates the grant tables that are missing (and upgrades a
    /// `mysql.user` made before privileges), in a transaction of its own.
    pub fn install_grant_tables(&mut self) -> Result<(), SessionError> {
        let t = self.cat.txns.begin(TxnOptions::default());
        t.begin_statement()?;
        if let Err(e) = self.ensure_grant_tables(&t) {
            t.rollback();
            return Err(e);
        }
        t.end_statement(true)?;
        t.commit_blocking()?;
        Ok(())
    }

    /// The account a `UserRef` names.
    fn resolve(&self, u: &UserRef) -> AccountId {
        match u {
            UserRef::Named { user, host } => AccountId { user: user.clone(), host: host.clone() },
            UserRef::Current => {
                self.account.clone().unwrap_or_else(|| AccountId { user: "root".into(), host: "localhost".into() })
            }
        }
    }

    fn account_exists(&mut self, txn: &Txn, a: &AccountId) -> Result<bool, SessionError> {
        if !matches!(self.cat.dict.get_relation(txn, "mysql", "user")?, Some(Relation::Table(_))) {
            return Ok(false);
        }
        let p = [Value::text(&a.user), Value::text(&a.host)];
        Ok(!rows(self.internal(txn, "SELECT 1 FROM mysql.user WHERE user = ? AND host = ?", &p)?).is_empty())
    }

    /// The quoted current account, for messages.
    fn me(&self) -> String {
        self.resolve(&UserRef::Current).quoted()
    }

    fn denied_global(&self, what: &str) -> SessionError {
        SessionError::rule(
            ErrorCode::SpecificAccessDenied,
            format!("Access denied; you need (at least one of) the {what} privilege(s) for this operation"),
        )
    }

    fn require_global(&mut self, p: Priv) -> Result<(), SessionError> {
        if self.account.is_none() || self.privileges()?.global.has(p) {
            return Ok(());
        }
        Err(self.denied_global(p.name()))
    }

    /// Checks a bound statement against the session's privileges
    /// (invariant 2); nothing to do without an account.
    #[inline]
    pub(crate) fn check_privileges(&mut self, b: &BoundStatement) -> Result<(), SessionError> {
        if let BoundStatement::Ddl(d) = b {
            self.check_system_schemas(d)?;
        }
        if self.account.is_none() {
            return Ok(());
        }
        self.check_slow(b)
    }

    /// DDL that would create, change or drop anything in
    /// `information_schema` or `performance_schema`, the schemas themselves
    /// included, is refused for every account, the embedded session's too
    /// (1044, as MySQL refuses it to root): they hold only built-in
    /// tables. Reading them (`CREATE VIEW ... AS SELECT ... FROM
    /// information_schema.TABLES`) is allowed.
    #[inline(never)]
    fn check_system_schemas(&self, d: &Ddl) -> Result<(), SessionError> {
        // The `mysql` schema holds the accounts and grants: dropping it
        // would leave a server nobody can log in to (MySQL 8: 3552).
        if let Ddl::DropSchema { name, .. } = d {
            if name == "mysql" {
                return Err(SessionError::rule(
                    ErrorCode::NoSystemSchemaAccess,
                    "Access to system schema 'mysql' is rejected.".to_string(),
                ));
            }
        }
        let mut needs = Vec::new();
        ddl_needs(d, &mut needs);
        for n in &needs {
            let db = match n {
                Need::Schema(db, _) => db,
                Need::Table(db, _, p) if *p != Privs::of(Priv::Select) => db,
                _ => continue,
            };
            if let Some(sys) = mizzle_sql::plan::system_schema(db) {
                return Err(db_denied(&self.me(), sys));
            }
        }
        Ok(())
    }

    #[inline(never)]
    fn check_slow(&mut self, b: &BoundStatement) -> Result<(), SessionError> {
        let mut needs = Vec::new();
        needs_of(b, &mut needs);
        let me = self.me();
        // Loaded even with no needs: `may_see` reads it.
        let c = self.privileges()?;
        for n in needs {
            match n {
                Need::Global(p) => {
                    if !c.global.has(p) {
                        let what = if p == Priv::Super { "SUPER or SYSTEM_VARIABLES_ADMIN" } else { p.name() };
                        return Err(SessionError::rule(
                            ErrorCode::SpecificAccessDenied,
                            format!(
                                "Access denied; you need (at least one of) the {what} privilege(s) for this operation"
                            ),
                        ));
                    }
                }
                Need::Schema(db, p) => {
                    if !c.schema(&db).contains(p) {
                        return Err(db_denied(&me, &db));
                    }
                }
                Need::AnyInSchema(db) => {
                    if !db.eq_ignore_ascii_case("information_schema") && !c.any_in_schema(&db) {
                        return Err(db_denied(&me, &db));
                    }
                }
                Need::Table(db, t, p) => {
                    if db.eq_ignore_ascii_case("information_schema") {
                        continue;
                    }
                    let have = c.table(&db, &t);
                    if let Some(missing) = p.minus(have).iter().next() {
                        return Err(table_denied(missing.name(), &me, &t));
                    }
                }
            }
        }
        Ok(())
    }

    /// `USE db` / COM_INIT_DB: some privilege in the schema (1044).
    pub(crate) fn check_use(&mut self, db: &str) -> Result<(), SessionError> {
        if self.account.is_none() || db.eq_ignore_ascii_case("information_schema") {
            return Ok(());
        }
        let me = self.me();
        if self.privileges()?.any_in_schema(db) {
            Ok(())
        } else {
            Err(db_denied(&me, db))
        }
    }

    /// Whether the session may see a schema or table (`SystemInfo::visible`).
    pub(crate) fn may_see(&self, schema: &str, table: Option<&str>) -> bool {
        if self.account.is_none() || schema.eq_ignore_ascii_case("information_schema") {
            return true;
        }
        // The cache was made valid by the statement's check.
        let Some(c) = &self.privs else { return false };
        if c.global.has(Priv::ShowDatabases) && table.is_none() {
            return true;
        }
        match table {
            None => c.any_in_schema(schema),
            Some(t) => !c.table(schema, t).is_empty(),
        }
    }

    /// Runs an account statement in `txn`.
    pub(crate) fn run_account(
        &mut self,
        s: &AccountStmt<PrivLevel>,
        txn: &Txn,
    ) -> Result<(StatementOutput, Vec<Warning>), SessionError> {
        let mut warnings = Vec::new();
        let done = StatementOutput::Done { affected: 0, last_insert_id: 0, info: String::new() };
        match s {
            AccountStmt::CreateUser { if_not_exists, users } => {
                self.require_global(Priv::CreateUser)?;
                self.ensure_grant_tables(txn)?;
                let mut failed = Vec::new();
                for (u, auth) in users {
                    let a = self.resolve(u);
                    if self.account_exists(txn, &a)? {
                        if *if_not_exists {
                            warnings.push(Warning::new(
                                ErrorCode::UserAlreadyExists,
                                format!("Authorization ID {} already exists.", a.quoted()),
                            ));
                        } else {
                            failed.push(a);
                        }
                        continue;
                    }
                    let (plugin, stored) = credential(auth.as_ref())?;
                    let p = [Value::text(&a.user), Value::text(&a.host), Value::text(&plugin), Value::text(&stored)];
                    let sql = "INSERT INTO mysql.user (user, host, plugin, authentication_string, privileges) \
                               VALUES (?, ?, ?, ?, '')";
                    self.internal(txn, sql, &p)?;
                }
                if !failed.is_empty() {
                    return Err(user_failed("CREATE USER", &failed));
                }
            }
            AccountStmt::AlterUser { if_exists, users } => {
                let me = self.resolve(&UserRef::Current);
                let mut failed = Vec::new();
                for (u, auth) in users {
                    let a = self.resolve(u);
                    if a != me {
                        self.require_global(Priv::CreateUser)?;
                    }
                    if !self.account_exists(txn, &a)? {
                        missing_account(a, *if_exists, &mut warnings, &mut failed);
                        continue;
                    }
                    if let Some(auth) = auth {
                        let (plugin, stored) = credential(Some(auth))?;
                        let sql =
                            "UPDATE mysql.user SET plugin = ?, authentication_string = ? WHERE user = ? AND host = ?";
                        let p =
                            [Value::text(&plugin), Value::text(&stored), Value::text(&a.user), Value::text(&a.host)];
                        self.internal(txn, sql, &p)?;
                    }
                }
                if !failed.is_empty() {
                    return Err(user_failed("ALTER USER", &failed));
                }
            }
            AccountStmt::DropUser { if_exists, users } => {
                self.require_global(Priv::CreateUser)?;
                let mut failed = Vec::new();
                for u in users {
                    let a = self.resolve(u);
                    if !self.account_exists(txn, &a)? {
                        missing_account(a, *if_exists, &mut warnings, &mut failed);
                        continue;
                    }
                    let p = [Value::text(&a.user), Value::text(&a.host)];
                    for t in ["user", "db", "tables_priv"] {
                        self.internal(txn, &format!("DELETE FROM mysql.{t} WHERE user = ? AND host = ?"), &p)?;
                    }
                }
                if !failed.is_empty() {
                    return Err(user_failed("DROP USER", &failed));
                }
            }
            AccountStmt::RenameUser { pairs } => {
                self.require_global(Priv::CreateUser)?;
                let mut failed = Vec::new();
                for (from, to) in pairs {
                    let (a, b) = (self.resolve(from), self.resolve(to));
                    if !self.account_exists(txn, &a)? || self.account_exists(txn, &b)? {
                        failed.push(a);
                        continue;
                    }
                    let p = [Value::text(&b.user), Value::text(&b.host), Value::text(&a.user), Value::text(&a.host)];
                    for t in ["user", "db", "tables_priv"] {
                        let sql = format!("UPDATE mysql.{t} SET user = ?, host = ? WHERE user = ? AND host = ?");
                        self.internal(txn, &sql, &p)?;
                    }
                }
                if !failed.is_empty() {
                    return Err(user_failed("RENAME USER", &failed));
                }
            }
            AccountStmt::Grant { privs, level, users, grant_option } => {
                let mut set = privs.set();
                if *grant_option {
                    set = set.with(Priv::GrantOption);
                }
                self.check_grantor(level, set)?;
                self.ensure_grant_tables(txn)?;
                for u in users {
                    let a = self.resolve(u);
                    if !self.account_exists(txn, &a)? {
                        return Err(SessionError::rule(
                            ErrorCode::CantCreateUserWithGrant,
                            "You are not allowed to create a user with GRANT",
                        ));
                    }
                    let old = self.stored_privs(txn, &a, level)?;
                    self.write_privs(txn, &a, level, old.is_some(), old.unwrap_or_default().union(set))?;
                }
            }
            AccountStmt::Revoke { privs, level, users } => {
                let set = privs.set();
                self.check_grantor(level, set)?;
                for u in users {
                    let a = self.resolve(u);
                    let exists = self.account_exists(txn, &a)?;
                    let old = if exists { self.stored_privs(txn, &a, level)? } else { None };
                    let Some(old) = old else {
                        return Err(match level {
                            PrivLevel::Table(_, t) => SessionError::rule(
                                ErrorCode::NonexistingTableGrant,
                                format!(
                                    "There is no such grant defined for user '{}' on host '{}' on table '{t}'",
                                    a.user, a.host
                                ),
                            ),
                            _ => no_grant(&a),
                        });
                    };
                    self.write_privs(txn, &a, level, true, old.minus(set))?;
                }
            }
            AccountStmt::RevokeAll { users } => {
                self.require_global(Priv::CreateUser)?;
                let mut failed = Vec::new();
                for u in users {
                    let a = self.resolve(u);
                    if !self.account_exists(txn, &a)? {
                        failed.push(a);
                        continue;
                    }
                    let p = [Value::text(&a.user), Value::text(&a.host)];
                    self.internal(txn, "UPDATE mysql.user SET privileges = '' WHERE user = ? AND host = ?", &p)?;
                    for t in ["db", "tables_priv"] {
                        self.internal(txn, &format!("DELETE FROM mysql.{t} WHERE user = ? AND host = ?"), &p)?;
                    }
                }
                if !failed.is_empty() {
                    return Err(user_failed("REVOKE", &failed));
                }
            }
            AccountStmt::ShowGrants { user } => {
                return Ok((self.show_grants(txn, user.as_ref())?, warnings));
            }
        }
        Ok((done, warnings))
    }

    /// The grantor holds GRANT OPTION and the privileges it grants or
    /// revokes at the level: 1045 (global), 1044 (schema), 1142 (table),
    /// as MySQL 8 answers.
    fn check_grantor(&mut self, level: &PrivLevel, set: Privs) -> Result<(), SessionError> {
        if self.account.is_none() {
            return Ok(());
        }
        let me = self.resolve(&UserRef::Current);
        let c = self.privileges()?;
        let have = match level {
            PrivLevel::Global => c.global,
            PrivLevel::Schema(d) => c.schema(d),
            PrivLevel::Table(d, t) => c.table(d, t),
        };
        if have.has(Priv::GrantOption) && have.contains(set) {
            return Ok(());
        }
        Err(match level {
            PrivLevel::Global => SessionError::rule(
                ErrorCode::AccessDenied,
                format!("Access denied for user {} (using password: YES)", me.quoted()),
            ),
            PrivLevel::Schema(d) => db_denied(&me.quoted(), d),
            PrivLevel::Table(_, t) => table_denied("GRANT", &me.quoted(), t),
        })
    }

    /// The stored privileges of `a` at `level`; `None` when there is no
    /// row (the global level always has one for an existing account).
    fn stored_privs(&mut self, txn: &Txn, a: &AccountId, level: &PrivLevel) -> Result<Option<Privs>, SessionError> {
        let (sql, p) = level_where(a, level);
        let found = rows(self.internal(txn, &format!("SELECT privileges FROM {sql}"), &p)?);
        Ok(found.first().map(|r| Privs::from_stored(&text(r.first()))))
    }

    /// Stores `set` for `a` at `level`: updates the row (`exists`), inserts
    /// one, or deletes a schema or table row left empty.
    fn write_privs(
        &mut self,
        txn: &Txn,
        a: &AccountId,
        level: &PrivLevel,
        exists: bool,
        set: Privs,
    ) -> Result<(), SessionError> {
        let (from, p) = level_where(a, level);
        let stored = Value::text(&set.to_stored());
        if set.is_empty() && !matches!(level, PrivLevel::Global) {
            if exists {
                self.internal(txn, &format!("DELETE FROM {from}"), &p)?;
            }
            return Ok(());
        }
        if exists {
            let (table, cond) = from.split_once(" WHERE ").unwrap_or((&from, "FALSE"));
            let mut params = vec![stored];
            params.extend(p);
            self.internal(txn, &format!("UPDATE {table} SET privileges = ? WHERE {cond}"), &params)?;
            return Ok(());
        }
        let (sql, params) = match level {
            PrivLevel::Global => return Ok(()),
            PrivLevel::Schema(d) => (
                "INSERT INTO mysql.db (host, db, user, privileges) VALUES (?, ?, ?, ?)",
                vec![Value::text(&a.host), Value::text(d), Value::text(&a.user), stored],
            ),
            PrivLevel::Table(d, t) => (
                "INSERT INTO mysql.tables_priv (host, db, user, table_name, privileges) VALUES (?, ?, ?, ?, ?)",
                vec![Value::text(&a.host), Value::text(d), Value::text(&a.user), Value::text(t), stored],
            ),
        };
        self.internal(txn, sql, &params)?;
        Ok(())
    }

    fn show_grants(&mut self, txn: &Txn, user: Option<&UserRef>) -> Result<StatementOutput, SessionError> {
        let who = self.resolve(user.unwrap_or(&UserRef::Current));
        let me = self.resolve(&UserRef::Current);
        let column = |a: &AccountId| {
            Arc::new(vec![ColumnInfo {
                name: format!("Grants for {}@{}", a.user, a.host),
                table: None,
                origin: None,
                ty: SqlType::LONGTEXT,
                nullable: false,
            }])
        };
        let to = format!("`{}`@`{}`", who.user, who.host);
        if self.account.is_none() && who == me {
            let line = format!("GRANT ALL PRIVILEGES ON *.* TO {to} WITH GRANT OPTION");
            return Ok(StatementOutput::Rows { columns: column(&who), rows: vec![vec![Value::text(&line)]] });
        }
        if who != me && self.account.is_some() {
            let c = self.privileges()?;
            if !c.schema("mysql").has(Priv::Select) {
                return Err(db_denied(&me.quoted(), "mysql"));
            }
        }
        if !self.account_exists(txn, &who)? {
            return Err(no_grant(&who));
        }
        let with = |p: Privs| if p.has(Priv::GrantOption) { " WITH GRANT OPTION" } else { "" };
        let p = [Value::text(&who.user), Value::text(&who.host)];
        let mut lines = Vec::new();
        let user = rows(self.internal(txn, "SELECT privileges FROM mysql.user WHERE user = ? AND host = ?", &p)?);
        let g = Privs::from_stored(&text(user.first().and_then(|r| r.first())));
        lines.push(format!("GRANT {} ON *.* TO {to}{}", priv_text(g, Privs::global_all()), with(g)));
        let sql = "SELECT db, privileges FROM mysql.db WHERE user = ? AND host = ? ORDER BY db";
        for r in rows(self.internal(txn, sql, &p)?) {
            let s = Privs::from_stored(&text(r.get(1)));
            let db = text(r.first());
            lines.push(format!("GRANT {} ON `{db}`.* TO {to}{}", priv_text(s, Privs::schema_all()), with(s)));
        }
        let sql =
            "SELECT db, table_name, privileges FROM mysql.tables_priv WHERE user = ? AND host = ? ORDER BY db, table_name";
        for r in rows(self.internal(txn, sql, &p)?) {
            let s = Privs::from_stored(&text(r.get(2)));
            let (db, t) = (text(r.first()), text(r.get(1)));
            lines.push(format!("GRANT {} ON `{db}`.`{t}` TO {to}{}", priv_text(s, Privs::table_all()), with(s)));
        }
        Ok(StatementOutput::Rows {
            columns: column(&who),
            rows: lines.into_iter().map(|l| vec![Value::text(&l)]).collect(),
        })
    }
}

/// `FROM mysql.<table> WHERE ...` of `a`'s row at `level`, and its parameters.
fn level_where(a: &AccountId, level: &PrivLevel) -> (String, Vec<Value>) {
    let (u, h) = (Value::text(&a.user), Value::text(&a.host));
    match level {
        PrivLevel::Global => ("mysql.user WHERE user = ? AND host = ?".into(), vec![u, h]),
        PrivLevel::Schema(d) => ("mysql.db WHERE user = ? AND host = ? AND db = ?".into(), vec![u, h, Value::text(d)]),
        PrivLevel::Table(d, t) => (
            "mysql.tables_priv WHERE user = ? AND host = ? AND db = ? AND table_name = ?".into(),
            vec![u, h, Value::text(d), Value::text(t)],
        ),
    }
}

/// The plugin and stored credential of an `IDENTIFIED` clause (none: no
/// password, the default plugin).
fn credential(auth: Option<&AuthSpec>) -> Result<(String, String), SessionError> {
    let plugin = auth.and_then(|a| a.plugin.clone()).unwrap_or_else(|| DEFAULT_AUTH_PLUGIN.to_string());
    if !AUTH_PLUGINS.contains(&plugin.as_str()) {
        return Err(SessionError::rule(ErrorCode::PluginNotLoaded, format!("Plugin '{plugin}' is not loaded")));
    }
    if let Some(s) = auth.and_then(|a| a.stored.clone()) {
        return Ok((plugin, s));
    }
    let pw = auth.and_then(|a| a.password.clone()).unwrap_or_default();
    let stored = auth_string(&plugin, &pw)
        .ok_or_else(|| SessionError::rule(ErrorCode::PluginNotLoaded, format!("Plugin '{plugin}' is not loaded")))?;
    Ok((plugin, stored))
}

fn db_denied(me: &str, db: &str) -> SessionError {
    SessionError::rule(ErrorCode::DbAccessDenied, format!("Access denied for user {me} to database '{db}'"))
}

fn table_denied(command: &str, me: &str, table: &str) -> SessionError {
    SessionError::rule(
        ErrorCode::TableAccessDenied,
        format!("{command} command denied to user {me} for table '{table}'"),
    )
}

fn no_grant(a: &AccountId) -> SessionError {
    SessionError::rule(
        ErrorCode::NonexistingGrant,
        format!("There is no such grant defined for user '{}' on host '{}'", a.user, a.host),
    )
}

/// What `b` needs (invariant 3 for views: the plan reads base tables).
fn needs_of(b: &BoundStatement, out: &mut Vec<Need>) {
    let table = |s: &str, t: &str, p: Privs| Need::Table(s.to_string(), t.to_string(), p);
    let sel = Privs::of(Priv::Select);
    let reads = |p: &Plan, skip: Option<(&str, &str)>, out: &mut Vec<Need>| {
        p.visit_tables(&mut |t| {
            if skip.is_some_and(|(s, n)| s == t.schema && n == t.name) {
                return;
            }
            out.push(Need::Table(t.schema.clone(), t.name.clone(), sel));
        })
    };
    match b {
        BoundStatement::Query(p) => reads(p, None, out),
        BoundStatement::Insert(i) => {
            let mut p = Privs::of(Priv::Insert);
            if !i.on_duplicate.is_empty() {
                p = p.with(Priv::Update);
            }
            if i.replace {
                p = p.with(Priv::Delete);
            }
            out.push(table(&i.table.schema, &i.table.name, p));
            if let InsertSource::Query(q) = &i.source {
                reads(q, None, out);
            }
        }
        BoundStatement::Update(u) => {
            out.push(table(&u.table.schema, &u.table.name, Privs::of(Priv::Update)));
            reads(&u.input, Some((&u.table.schema, &u.table.name)), out);
        }
        BoundStatement::Delete(d) => {
            out.push(table(&d.table.schema, &d.table.name, Privs::of(Priv::Delete)));
            reads(&d.input, Some((&d.table.schema, &d.table.name)), out);
        }
        BoundStatement::Ddl(d) => ddl_needs(d, out),
        BoundStatement::Explain { stmt, .. } => needs_of(stmt, out),
        BoundStatement::Load(l) => {
            let mut p = Privs::of(Priv::Insert);
            if l.insert.replace {
                p = p.with(Priv::Delete);
            }
            out.push(table(&l.insert.table.schema, &l.insert.table.name, p));
            if !l.local {
                out.push(Need::Global(Priv::File));
            }
        }
        BoundStatement::Session(SessionStmt::Use(db)) => out.push(Need::AnyInSchema(db.clone())),
        BoundStatement::Session(SessionStmt::Set(items))
            if items.iter().any(|(scope, _, _)| *scope == VarScope::Global) =>
        {
            out.push(Need::Global(Priv::Super));
        }
        BoundStatement::Session(SessionStmt::SetTransaction { scope: VarScope::Global, .. }) => {
            out.push(Need::Global(Priv::Super));
        }
        // Account statements check their own needs; EXECUTE checks the
        // prepared statement when it runs.
        _ => {}
    }
}

fn ddl_needs(d: &Ddl, out: &mut Vec<Need>) {
    let p = Privs::of;
    let t = |s: &str, n: &str, ps: Privs| Need::Table(s.to_string(), n.to_string(), ps);
    match d {
        Ddl::CreateSchema { name, .. } => out.push(Need::Schema(name.clone(), p(Priv::Create))),
        Ddl::DropSchema { name, .. } => out.push(Need::Schema(name.clone(), p(Priv::Drop))),
        Ddl::CreateTable { spec, as_select, .. } => {
            out.push(t(&spec.schema, &spec.name, p(Priv::Create)));
            if let Some(q) = as_select {
                q.visit_tables(&mut |tb| out.push(t(&tb.schema, &tb.name, p(Priv::Select))));
            }
        }
        Ddl::DropTables { names, .. } | Ddl::DropViews { names, .. } => {
            for (s, n) in names {
                out.push(t(s, n, p(Priv::Drop)));
            }
        }
        Ddl::CreateIndex { schema, table, .. } | Ddl::DropIndex { schema, table, .. } => {
            out.push(t(schema, table, p(Priv::Index)));
        }
        Ddl::CreateView { schema, name, or_replace, .. } => {
            let mut ps = p(Priv::CreateView);
            if *or_replace {
                ps = ps.with(Priv::Drop);
            }
            out.push(t(schema, name, ps));
        }
        Ddl::AlterTable { schema, name, ops } => {
            out.push(t(schema, name, p(Priv::Alter)));
            for op in ops {
                if let AlterOp::RenameTable { schema: s2, name: n2 } = op {
                    out.push(t(schema, name, p(Priv::Drop)));
                    out.push(t(s2, n2, Privs::of_all(&[Priv::Create, Priv::Insert])));
                }
            }
        }
        Ddl::RenameTables { pairs } => {
            for ((s, n), (s2, n2)) in pairs {
                out.push(t(s, n, Privs::of_all(&[Priv::Alter, Priv::Drop])));
                out.push(t(s2, n2, Privs::of_all(&[Priv::Create, Priv::Insert])));
            }
        }
        Ddl::Truncate { schema, name } => out.push(t(schema, name, p(Priv::Drop))),
        Ddl::AlterSchema { name, .. } => out.push(Need::Schema(name.clone(), p(Priv::Alter))),
        // MySQL 8: CREATE TEMPORARY TABLES on the database (and SELECT on
        // what a `... SELECT` reads); dropping one's own temporary table
        // needs nothing.
        Ddl::CreateTemporaryTable { spec, as_select, .. } => {
            out.push(Need::Schema(spec.schema.clone(), p(Priv::CreateTemporaryTables)));
            if let Some(q) = as_select {
                q.visit_tables(&mut |tb| out.push(t(&tb.schema, &tb.name, p(Priv::Select))));
            }
        }
        Ddl::DropTemporaryTables { .. } => {}
    }
}

/// An ALTER / DROP USER target that does not exist: a warning (3162) with
/// IF EXISTS, else one more account the statement fails for (1396).
fn missing_account(a: AccountId, if_exists: bool, warnings: &mut Vec<Warning>, failed: &mut Vec<AccountId>) {
    if if_exists {
        warnings.push(Warning::new(
            ErrorCode::UserDoesNotExist,
            format!("Authorization ID {} does not exist.", a.quoted()),
        ));
    } else {
        failed.push(a);
    }
}
