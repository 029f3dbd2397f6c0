//! Account-management statements, which sqlparser does not parse in
//! MySQL's form: `CREATE USER`, `DROP USER`, `ALTER USER`, `RENAME USER`,
//! `SET PASSWORD`, `GRANT`, `REVOKE` and `SHOW GRANTS`. A small lexer
//! splits a text at its top-level `;` ([`split`]) and a recursive-descent
//! parser reads these statements ([`parse_account`]); `parse` hands every
//! other statement of the text to sqlparser.
//!
//! Invariants:
//! 1. A statement is an account statement iff its first words are one of
//!    [`is_account_start`]'s; everything else is left to sqlparser
//!    untouched.
//! 2. Quoted strings, quoted identifiers and comments never split a text.
//! 3. Privilege names are MySQL's; `ALL [PRIVILEGES]` is resolved per
//!    level by the binder ([`crate::bind`]), not here.
//!
//! Does not check privileges or run anything: the session does.

use mizzle_dictionary::grants::{Priv, Privs};

use crate::error::BindError;

/// `'user'@'host'` (host `%` when omitted), or the current user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    /// A named account.
    Named {
        /// User name.
        user: String,
        /// Host pattern.
        host: String,
    },
    /// `CURRENT_USER` / `CURRENT_USER()` / `USER()`.
    Current,
}

/// How an account authenticates (`IDENTIFIED ...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSpec {
    /// `WITH plugin`, if given.
    pub plugin: Option<String>,
    /// `BY 'password'` (cleartext, hashed by the session).
    pub password: Option<String>,
    /// `AS 'stored string'` (already hashed).
    pub stored: Option<String>,
}

/// Where a grant applies, as written (the binder resolves the current
/// database).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LevelSpec {
    /// `*.*`
    Global,
    /// `*`: every table of the current database.
    CurrentSchema,
    /// `db.*`
    Schema(String),
    /// `[db.]table`
    Table(Option<String>, String),
}

/// A resolved grant level.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PrivLevel {
    /// `*.*`
    Global,
    /// `db.*`
    Schema(String),
    /// `db.table`
    Table(String, String),
}

/// The privileges a GRANT or REVOKE names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrivList {
    /// `ALL [PRIVILEGES]` (with whatever else is listed, e.g. GRANT OPTION).
    All(Privs),
    /// The listed privileges.
    Some(Privs),
}

/// A parsed account statement (`T` is the level: [`LevelSpec`] as
/// parsed, [`PrivLevel`] once bound).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountStmt<T> {
    /// CREATE USER [IF NOT EXISTS] u [auth], ...
    CreateUser { if_not_exists: bool, users: Vec<(UserRef, Option<AuthSpec>)> },
    /// ALTER USER [IF EXISTS] u [auth], ... (also SET PASSWORD)
    AlterUser { if_exists: bool, users: Vec<(UserRef, Option<AuthSpec>)> },
    /// DROP USER [IF EXISTS] u, ...
    DropUser { if_exists: bool, users: Vec<UserRef> },
    /// RENAME USER a TO b, ...
    RenameUser { pairs: Vec<(UserRef, UserRef)> },
    /// GRANT privs ON level TO u, ... [WITH GRANT OPTION]
    Grant { privs: PrivList, level: T, users: Vec<UserRef>, grant_option: bool },
    /// REVOKE privs ON level FROM u, ...
    Revoke { privs: PrivList, level: T, users: Vec<UserRef> },
    /// REVOKE ALL [PRIVILEGES], GRANT OPTION FROM u, ...
    RevokeAll { users: Vec<UserRef> },
    /// SHOW GRANTS [FOR u]
    ShowGrants { user: Option<UserRef> },
}

/// A token of the account lexer.
#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// A bare word (upper-cased copy kept for keywords).
    Word(String),
    /// `'...'` or `"..."`.
    Str(String),
    /// `` `...` ``.
    Quoted(String),
    /// Any other single character (`@ , . * ( ) = ;`).
    Sym(char),
}

/// Lexes `text` into tokens with their byte offsets (invariant 2).
/// Unterminated quotes and comments end the text.
fn lex(text: &str) -> Vec<(usize, Tok)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#'
            || (c == b'-' && b.get(i + 1) == Some(&b'-') && b.get(i + 2).is_none_or(|x| x.is_ascii_whitespace()))
        {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i = (i + 2).min(b.len());
        } else if c == b'\'' || c == b'"' || c == b'`' {
            let start = i;
            i += 1;
            let mut s = Vec::new();
            while i < b.len() {
                if b[i] == b'\\' && c != b'`' && i + 1 < b.len() {
                    s.push(match b[i + 1] {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'0' => 0,
                        x => x,
                    });
                    i += 2;
                } else if b[i] == c {
                    if b.get(i + 1) == Some(&c) {
                        s.push(c);
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                } else {
                    s.push(b[i]);
                    i += 1;
                }
            }
            let s = String::from_utf8_lossy(&s).into_owned();
            out.push((start, if c == b'`' { Tok::Quoted(s) } else { Tok::Str(s) }));
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80) {
                i += 1;
            }
            out.push((start, Tok::Word(text[start..i].to_string())));
        } else {
            // Multi-byte characters are words above; this is ASCII.
            out.push((i, Tok::Sym(c as char)));
            i += 1;
        }
    }
    out
}

/// The byte ranges of the `;`-separated statements of `text` (without the
/// `;`), empty ones included (invariant 2).
pub(crate) fn split(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (at, t) in lex(text) {
        if t == Tok::Sym(';') {
            out.push((start, at));
            start = at + 1;
        }
    }
    out.push((start, text.len()));
    out
}

/// True if `stmt` holds only blanks and comments.
pub(crate) fn is_blank(stmt: &str) -> bool {
    lex(stmt).is_empty()
}

/// True if `stmt` (one statement's text) begins like an account statement
/// (invariant 1).
pub(crate) fn is_account_start(stmt: &str) -> bool {
    let toks = lex(stmt);
    let w = |i: usize| match toks.get(i) {
        Some((_, Tok::Word(w))) => w.to_ascii_uppercase(),
        _ => String::new(),
    };
    match w(0).as_str() {
        "GRANT" | "REVOKE" => true,
        "CREATE" | "DROP" | "ALTER" | "RENAME" => w(1) == "USER",
        "SHOW" => w(1) == "GRANTS",
        "SET" => w(1) == "PASSWORD",
        _ => false,
    }
}

struct P {
    toks: Vec<Tok>,
    i: usize,
}

fn syntax(what: &str) -> BindError {
    BindError::Syntax(format!(
        "check the manual that corresponds to your MySQL server version for the right syntax to use near {what}"
    ))
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    fn peek_word(&self, n: usize) -> Option<String> {
        match self.toks.get(self.i + n) {
            Some(Tok::Word(w)) => Some(w.to_ascii_uppercase()),
            _ => None,
        }
    }

    fn near(&self) -> String {
        match self.peek() {
            None => "the end of the statement".to_string(),
            Some(Tok::Word(w)) => format!("'{w}'"),
            Some(Tok::Str(s)) => format!("'\\'{s}\\''"),
            Some(Tok::Quoted(s)) => format!("'`{s}`'"),
            Some(Tok::Sym(c)) => format!("'{c}'"),
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.peek_word(0).as_deref() == Some(w) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_words(&mut self, ws: &[&str]) -> bool {
        if ws.iter().enumerate().all(|(n, w)| self.peek_word(n).as_deref() == Some(*w)) {
            self.i += ws.len();
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, w: &str) -> Result<(), BindError> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(syntax(&self.near()))
        }
    }

    fn eat_sym(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Sym(c)) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn string(&mut self) -> Result<String, BindError> {
        match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.i += 1;
                Ok(s)
            }
            _ => Err(syntax(&self.near())),
        }
    }

    /// An identifier or string naming a user, host, schema or table.
    fn name(&mut self) -> Result<String, BindError> {
        match self.peek().cloned() {
            Some(Tok::Word(w) | Tok::Str(w) | Tok::Quoted(w)) => {
                self.i += 1;
                Ok(w)
            }
            _ => Err(syntax(&self.near())),
        }
    }

    fn at_end(&self) -> bool {
        self.i >= self.toks.len()
    }

    fn user(&mut self) -> Result<UserRef, BindError> {
        if self.eat_word("CURRENT_USER") || self.eat_word("USER") {
            if self.eat_sym('(') && !self.eat_sym(')') {
                return Err(syntax(&self.near()));
            }
            return Ok(UserRef::Current);
        }
        let user = self.name()?;
        let host = if self.eat_sym('@') { self.name()? } else { "%".to_string() };
        Ok(UserRef::Named { user, host })
    }

    fn users(&mut self) -> Result<Vec<UserRef>, BindError> {
        let mut v = vec![self.user()?];
        while self.eat_sym(',') {
            v.push(self.user()?);
        }
        Ok(v)
    }

    fn auth(&mut self) -> Result<Option<AuthSpec>, BindError> {
        if !self.eat_word("IDENTIFIED") {
            return Ok(None);
        }
        let mut a = AuthSpec { plugin: None, password: None, stored: None };
        if self.eat_word("WITH") {
            a.plugin = Some(self.name()?.to_ascii_lowercase());
        }
        if self.eat_word("BY") {
            if self.eat_words(&["RANDOM", "PASSWORD"]) {
                return Err(BindError::NotSupported("IDENTIFIED BY RANDOM PASSWORD".into()));
            }
            a.password = Some(self.string()?);
        } else if a.plugin.is_some() && self.eat_word("AS") {
            a.stored = Some(self.string()?);
        } else if a.plugin.is_none() {
            return Err(syntax(&self.near()));
        }
        Ok(Some(a))
    }

    fn users_with_auth(&mut self) -> Result<Vec<(UserRef, Option<AuthSpec>)>, BindError> {
        let mut v = Vec::new();
        loop {
            let u = self.user()?;
            let a = self.auth()?;
            v.push((u, a));
            if !self.eat_sym(',') {
                break;
            }
        }
        Ok(v)
    }

    /// Options after the accounts that change nothing here (`REQUIRE`,
    /// `WITH MAX_...`, `PASSWORD EXPIRE`, `ACCOUNT LOCK`, `COMMENT`):
    /// accepted only as MySQL spells them, then ignored.
    fn account_options(&mut self) -> Result<(), BindError> {
        while !self.at_end() {
            match self.peek_word(0).as_deref() {
                Some(
                    "REQUIRE"
                    | "WITH"
                    | "PASSWORD"
                    | "ACCOUNT"
                    | "COMMENT"
                    | "ATTRIBUTE"
                    | "DEFAULT"
                    | "FAILED_LOGIN_ATTEMPTS"
                    | "PASSWORD_LOCK_TIME",
                ) => {
                    // Skip the option's words and values.
                    self.i += 1;
                    while let Some(t) = self.peek() {
                        match t {
                            Tok::Word(w)
                                if matches!(
                                    w.to_ascii_uppercase().as_str(),
                                    "REQUIRE" | "WITH" | "PASSWORD" | "ACCOUNT" | "COMMENT" | "ATTRIBUTE"
                                ) =>
                            {
                                break
                            }
                            _ => self.i += 1,
                        }
                    }
                }
                _ => return Err(syntax(&self.near())),
            }
        }
        Ok(())
    }

    fn privs(&mut self) -> Result<PrivList, BindError> {
        if self.eat_word("ALL") {
            self.eat_word("PRIVILEGES");
            let mut extra = Privs::NONE;
            while self.eat_sym(',') {
                extra = extra.with(self.one_priv()?);
            }
            return Ok(PrivList::All(extra));
        }
        let mut s = Privs::NONE.with(self.one_priv()?);
        while self.eat_sym(',') {
            if self.eat_word("ALL") {
                self.eat_word("PRIVILEGES");
                return Err(syntax("'ALL'"));
            }
            s = s.with(self.one_priv()?);
        }
        Ok(PrivList::Some(s))
    }

    fn one_priv(&mut self) -> Result<Priv, BindError> {
        // The longest name that matches the next words.
        for n in [3usize, 2, 1] {
            let words: Option<Vec<String>> = (0..n).map(|k| self.peek_word(k)).collect();
            let Some(words) = words else { continue };
            if let Some(p) = Priv::from_name(&words.join(" ")) {
                self.i += n;
                if self.peek() == Some(&Tok::Sym('(')) {
                    return Err(BindError::NotSupported("column privileges".into()));
                }
                return Ok(p);
            }
        }
        Err(syntax(&self.near()))
    }

    fn level(&mut self) -> Result<LevelSpec, BindError> {
        // [TABLE] before the level is MySQL's optional object type.
        self.eat_word("TABLE");
        if self.eat_sym('*') {
            if self.eat_sym('.') {
                if !self.eat_sym('*') {
                    return Err(syntax(&self.near()));
                }
                return Ok(LevelSpec::Global);
            }
            return Ok(LevelSpec::CurrentSchema);
        }
        let first = self.name()?;
        if self.eat_sym('.') {
            if self.eat_sym('*') {
                return Ok(LevelSpec::Schema(first));
            }
            let t = self.name()?;
            return Ok(LevelSpec::Table(Some(first), t));
        }
        Ok(LevelSpec::Table(None, first))
    }
}

/// Privileges of a GRANT/REVOKE, where `USAGE` alone means none.
fn privs_or_usage(p: &mut P) -> Result<PrivList, BindError> {
    if p.peek_word(0).as_deref() == Some("USAGE") && matches!(p.peek_word(1).as_deref(), Some("ON")) {
        p.i += 1;
        return Ok(PrivList::Some(Privs::NONE));
    }
    p.privs()
}

/// Parses one account statement (its text without the `;`).
pub(crate) fn parse_account(text: &str) -> Result<AccountStmt<LevelSpec>, BindError> {
    let mut p = P { toks: lex(text).into_iter().map(|(_, t)| t).collect(), i: 0 };
    let stmt = if p.eat_words(&["CREATE", "USER"]) {
        let if_not_exists = p.eat_words(&["IF", "NOT", "EXISTS"]);
        let users = p.users_with_auth()?;
        p.account_options()?;
        AccountStmt::CreateUser { if_not_exists, users }
    } else if p.eat_words(&["ALTER", "USER"]) {
        let if_exists = p.eat_words(&["IF", "EXISTS"]);
        let users = p.users_with_auth()?;
        p.account_options()?;
        AccountStmt::AlterUser { if_exists, users }
    } else if p.eat_words(&["DROP", "USER"]) {
        let if_exists = p.eat_words(&["IF", "EXISTS"]);
        AccountStmt::DropUser { if_exists, users: p.users()? }
    } else if p.eat_words(&["RENAME", "USER"]) {
        let mut pairs = Vec::new();
        loop {
            let a = p.user()?;
            p.expect_word("TO")?;
            let b = p.user()?;
            pairs.push((a, b));
            if !p.eat_sym(',') {
                break;
            }
        }
        AccountStmt::RenameUser { pairs }
    } else if p.eat_words(&["SET", "PASSWORD"]) {
        let user = if p.eat_word("FOR") { p.user()? } else { UserRef::Current };
        if !p.eat_sym('=') {
            p.expect_word("TO")?;
        }
        let pw = p.string()?;
        AccountStmt::AlterUser {
            if_exists: false,
            users: vec![(user, Some(AuthSpec { plugin: None, password: Some(pw), stored: None }))],
        }
    } else if p.eat_word("GRANT") {
        let privs = privs_or_usage(&mut p)?;
        p.expect_word("ON")?;
        let level = p.level()?;
        p.expect_word("TO")?;
        let users = p.users()?;
        let grant_option = p.eat_words(&["WITH", "GRANT", "OPTION"]);
        AccountStmt::Grant { privs, level, users, grant_option }
    } else if p.eat_word("REVOKE") {
        p.eat_words(&["IF", "EXISTS"]);
        let save = p.i;
        if p.eat_word("ALL") {
            p.eat_word("PRIVILEGES");
            if p.eat_sym(',') && p.eat_words(&["GRANT", "OPTION"]) && p.eat_word("FROM") {
                let users = p.users()?;
                if !p.at_end() {
                    return Err(syntax(&p.near()));
                }
                return Ok(AccountStmt::RevokeAll { users });
            }
            p.i = save;
        }
        let privs = privs_or_usage(&mut p)?;
        p.expect_word("ON")?;
        let level = p.level()?;
        p.expect_word("FROM")?;
        let users = p.users()?;
        p.eat_words(&["IGNORE", "UNKNOWN", "USER"]);
        AccountStmt::Revoke { privs, level, users }
    } else if p.eat_words(&["SHOW", "GRANTS"]) {
        let user = if p.eat_word("FOR") { Some(p.user()?) } else { None };
        AccountStmt::ShowGrants { user }
    } else {
        return Err(syntax(&p.near()));
    };
    if !p.at_end() {
        return Err(syntax(&p.near()));
    }
    Ok(stmt)
}

/// Resolves the levels of an account statement against the current
/// database and the privileges named against their level: `ALL` is every
/// privilege of the level but GRANT OPTION; a schema grant may not hold
/// a global-only privilege (1221), a table grant only table privileges
/// (1144); a table grant names an existing table or view (1146).
pub(crate) fn bind_account(
    cat: &dyn crate::bind::Catalog,
    s: &AccountStmt<LevelSpec>,
) -> Result<AccountStmt<PrivLevel>, BindError> {
    let level = |l: &LevelSpec| -> Result<PrivLevel, BindError> {
        Ok(match l {
            LevelSpec::Global => PrivLevel::Global,
            LevelSpec::CurrentSchema => PrivLevel::Schema(cat.current_schema().ok_or(BindError::NoDatabaseSelected)?),
            LevelSpec::Schema(d) => PrivLevel::Schema(d.clone()),
            LevelSpec::Table(d, t) => {
                let d = match d {
                    Some(d) => d.clone(),
                    None => cat.current_schema().ok_or(BindError::NoDatabaseSelected)?,
                };
                match cat.relation(&d, t)? {
                    Some(r) => PrivLevel::Table(d, r.name().to_string()),
                    None => return Err(BindError::NoSuchTable { schema: d, name: t.clone() }),
                }
            }
        })
    };
    let privs = |p: &PrivList, l: &PrivLevel| -> Result<PrivList, BindError> {
        let (most, resolved) = match l {
            PrivLevel::Global => (Privs::global_all(), None),
            PrivLevel::Schema(_) => (Privs::schema_all(), Some(false)),
            PrivLevel::Table(..) => (Privs::table_all(), Some(true)),
        };
        let set = match p {
            PrivList::All(extra) => most.minus(Privs::of(Priv::GrantOption)).union(*extra),
            PrivList::Some(s) => *s,
        };
        if !most.contains(set) {
            return Err(match resolved {
                Some(true) => BindError::IllegalGrantForTable,
                _ => BindError::WrongUsage("DB GRANT and GLOBAL PRIVILEGES".into()),
            });
        }
        Ok(PrivList::Some(set))
    };
    Ok(match s {
        AccountStmt::CreateUser { if_not_exists, users } => {
            AccountStmt::CreateUser { if_not_exists: *if_not_exists, users: users.clone() }
        }
        AccountStmt::AlterUser { if_exists, users } => {
            AccountStmt::AlterUser { if_exists: *if_exists, users: users.clone() }
        }
        AccountStmt::DropUser { if_exists, users } => {
            AccountStmt::DropUser { if_exists: *if_exists, users: users.clone() }
        }
        AccountStmt::RenameUser { pairs } => AccountStmt::RenameUser { pairs: pairs.clone() },
        AccountStmt::Grant { privs: p, level: l, users, grant_option } => {
            let l = level(l)?;
            let p = privs(p, &l)?;
            AccountStmt::Grant { privs: p, level: l, users: users.clone(), grant_option: *grant_option }
        }
        AccountStmt::Revoke { privs: p, level: l, users } => {
            let l = match (l, level(l)) {
                // Revoking from a table dropped since is allowed.
                (LevelSpec::Table(d, t), Err(BindError::NoSuchTable { .. })) => PrivLevel::Table(
                    match d {
                        Some(d) => d.clone(),
                        None => cat.current_schema().ok_or(BindError::NoDatabaseSelected)?,
                    },
                    t.clone(),
                ),
                (_, r) => r?,
            };
            let p = privs(p, &l)?;
            AccountStmt::Revoke { privs: p, level: l, users: users.clone() }
        }
        AccountStmt::RevokeAll { users } => AccountStmt::RevokeAll { users: users.clone() },
        AccountStmt::ShowGrants { user } => AccountStmt::ShowGrants { user: user.clone() },
    })
}

impl PrivList {
    /// The privileges (after binding, always the resolved set).
    pub fn set(self) -> Privs {
        match self {
            PrivList::All(s) | PrivList::Some(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(u: &str, h: &str) -> UserRef {
        UserRef::Named { user: u.into(), host: h.into() }
    }

    #[test]
    fn create_user_forms() {
        let s = parse_account("CREATE USER IF NOT EXISTS 'a'@'localhost' IDENTIFIED BY 'p''w', b IDENTIFIED WITH caching_sha2_password BY \"x\"").expect("parses");
        let AccountStmt::CreateUser { if_not_exists, users } = s else { panic!("{s:?}") };
        assert!(if_not_exists);
        assert_eq!(users[0].0, named("a", "localhost"));
        assert_eq!(users[0].1.as_ref().and_then(|a| a.password.clone()).as_deref(), Some("p'w"));
        assert_eq!(users[1].0, named("b", "%"));
        assert_eq!(users[1].1.as_ref().and_then(|a| a.plugin.clone()).as_deref(), Some("caching_sha2_password"));
        assert!(parse_account("CREATE USER u@'%' PASSWORD EXPIRE NEVER ACCOUNT UNLOCK").is_ok());
        assert!(matches!(parse_account("CREATE USER 'a' IDENTIFIED"), Err(BindError::Syntax(_))));
        assert!(matches!(parse_account("CREATE USER 'a' junk"), Err(BindError::Syntax(_))));
    }

    #[test]
    fn grant_and_revoke_forms() {
        let s = parse_account("GRANT SELECT, INSERT, GRANT OPTION ON db.* TO `u`@`h`, v WITH GRANT OPTION")
            .expect("parses");
        assert_eq!(
            s,
            AccountStmt::Grant {
                privs: PrivList::Some(Privs::of_all(&[Priv::Select, Priv::Insert, Priv::GrantOption])),
                level: LevelSpec::Schema("db".into()),
                users: vec![named("u", "h"), named("v", "%")],
                grant_option: true,
            }
        );
        let s = parse_account("grant all privileges on *.* to r@localhost").expect("parses");
        assert!(matches!(s, AccountStmt::Grant { privs: PrivList::All(_), level: LevelSpec::Global, .. }));
        let s = parse_account("GRANT CREATE VIEW, SHOW VIEW ON TABLE t TO u").expect("parses");
        assert!(matches!(s, AccountStmt::Grant { level: LevelSpec::Table(None, _), .. }));
        assert!(matches!(
            parse_account("REVOKE ALL PRIVILEGES, GRANT OPTION FROM a, b@c").expect("parses"),
            AccountStmt::RevokeAll { .. }
        ));
        assert!(matches!(
            parse_account("REVOKE ALL ON * FROM a").expect("parses"),
            AccountStmt::Revoke { level: LevelSpec::CurrentSchema, .. }
        ));
        assert!(matches!(parse_account("GRANT USAGE ON *.* TO a").expect("parses"), AccountStmt::Grant { .. }));
        assert!(matches!(parse_account("GRANT SELECT (a) ON t TO u"), Err(BindError::NotSupported(_))));
        assert!(matches!(parse_account("GRANT FLY ON t TO u"), Err(BindError::Syntax(_))));
    }

    #[test]
    fn other_forms() {
        assert_eq!(
            parse_account("SHOW GRANTS FOR CURRENT_USER()").expect("parses"),
            AccountStmt::ShowGrants { user: Some(UserRef::Current) }
        );
        assert_eq!(parse_account("show grants").expect("parses"), AccountStmt::ShowGrants { user: None });
        assert!(matches!(
            parse_account("RENAME USER a TO b, 'c'@'d' TO e").expect("parses"),
            AccountStmt::RenameUser { pairs } if pairs.len() == 2
        ));
        assert!(matches!(parse_account("SET PASSWORD FOR u = 'x'").expect("parses"), AccountStmt::AlterUser { .. }));
        assert!(matches!(
            parse_account("DROP USER IF EXISTS a, b").expect("parses"),
            AccountStmt::DropUser { if_exists: true, .. }
        ));
    }

    #[test]
    fn splitting_respects_quotes_and_comments() {
        let t = "GRANT SELECT ON t TO 'a;b'; /* ; */ SELECT ';' -- ;\n; SELECT 1";
        let parts: Vec<&str> = split(t).into_iter().map(|(a, b)| &t[a..b]).collect();
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert!(is_account_start(parts[0]));
        assert!(!is_account_start(parts[1]));
        assert!(is_account_start("  /* c */ create user x"));
        assert!(!is_account_start("CREATE TABLE user (a INT)"));
    }
}
