//! TLS: the stock `mariadb` client with `--ssl` and the Rust `mysql` crate
//! over TLS (rustls) against the self-signed certificate mizzled makes on
//! first start; `caching_sha2_password` full authentication (the password
//! over TLS, checked against the salted stored hash, then cached so that
//! the next login takes the fast path, even without TLS); an account whose
//! cache is empty cannot log in without TLS; `--require-secure-transport`
//! refuses plain connections with 3159.

mod harness;

use std::process::Command;

use harness::{Server, ROOT_PASSWORD};
use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder, SslOpts};

fn opts(server: &Server, user: &str, password: &str, tls: bool) -> OptsBuilder {
    let o = OptsBuilder::new()
        .ip_or_hostname(Some("127.0.0.1"))
        .tcp_port(server.port())
        .user(Some(user))
        .pass(Some(password))
        .prefer_socket(false);
    if tls {
        // The certificate is self-signed (made on first start).
        o.ssl_opts(SslOpts::default().with_danger_accept_invalid_certs(true).with_danger_skip_domain_validation(true))
    } else {
        o
    }
}

fn full_auths(c: &mut Conn) -> u64 {
    let row: Option<(String, String)> =
        c.query_first("SHOW STATUS LIKE 'Mizzle_sha2_full_authentications'").expect("status");
    row.expect("row").1.parse().expect("number")
}

fn add_sha2_account(root: &mut Conn, user: &str, password: &str) {
    let stored = mizzled::accounts::auth_string("caching_sha2_password", password);
    assert!(stored.starts_with("$mzsha2$"), "salted: {stored}");
    assert!(!stored.contains(password));
    root.exec_drop("INSERT INTO mysql.user (user, host, plugin, authentication_string) VALUES (?, '%', 'caching_sha2_password', ?)", (user, stored))
        .expect("add account");
}

#[test]
fn rust_client_over_tls_and_caching_sha2_full_authentication() {
    let server = Server::start("tls-rust");
    assert!(server.datadir.join("server-cert.pem").exists(), "certificate generated on first start");
    let mut root = Conn::new(opts(&server, "root", ROOT_PASSWORD, true)).expect("root over TLS");
    let v: Option<String> = root.query_first("SELECT CONCAT('tls', ' ok')").expect("query over TLS");
    assert_eq!(v.as_deref(), Some("tls ok"));
    // A large result over TLS (many TLS records).
    let big: Option<String> = root.query_first("SELECT REPEAT('x', 300000)").expect("big value");
    assert_eq!(big.map(|s| s.len()), Some(300_000));
    add_sha2_account(&mut root, "sha", "sha-pw");
    // Made by SQL: CREATE USER stores the same salted form.
    root.query_drop("CREATE USER cold IDENTIFIED WITH caching_sha2_password BY 'cold-pw'").expect("create user");
    let stored: Option<String> =
        root.query_first("SELECT authentication_string FROM mysql.user WHERE user = 'cold'").expect("stored");
    assert!(stored.as_deref().is_some_and(|s| s.starts_with("$mzsha2$")), "salted: {stored:?}");
    assert_eq!(full_auths(&mut root), 0);

    // The cache is empty: without TLS the password cannot be sent (no RSA
    // key exchange), so the login fails.
    assert!(Conn::new(opts(&server, "cold", "cold-pw", false)).is_err(), "full authentication needs TLS");

    // First login over TLS: full authentication.
    let mut a = Conn::new(opts(&server, "sha", "sha-pw", true)).expect("sha over TLS");
    let who: Option<String> = a.query_first("SELECT USER()").expect("user");
    assert!(who.is_some_and(|w| w.starts_with("sha@")));
    assert_eq!(full_auths(&mut root), 1);
    // Next logins take the fast path, with or without TLS.
    Conn::new(opts(&server, "sha", "sha-pw", true)).expect("fast path over TLS");
    Conn::new(opts(&server, "sha", "sha-pw", false)).expect("fast path without TLS");
    assert_eq!(full_auths(&mut root), 1, "the cached entry served both");
    // A wrong password fails, over TLS too.
    assert!(Conn::new(opts(&server, "sha", "wrong", true)).is_err());
    assert!(Conn::new(opts(&server, "cold", "wrong", true)).is_err());
    assert_eq!(full_auths(&mut root), 1);
    // The account CREATE USER made logs in by full authentication.
    Conn::new(opts(&server, "cold", "cold-pw", true)).expect("cold over TLS");
    assert_eq!(full_auths(&mut root), 2);
    Conn::new(opts(&server, "cold", "cold-pw", false)).expect("fast path without TLS");
}

#[test]
fn change_user_over_tls_may_do_full_authentication() {
    let server = Server::start("tls-change-user");
    let mut root = Conn::new(opts(&server, "root", ROOT_PASSWORD, true)).expect("root over TLS");
    add_sha2_account(&mut root, "cu", "cu-pw");
    let mut c = Conn::new(opts(&server, "root", ROOT_PASSWORD, true)).expect("second TLS connection");
    c.change_user(mysql::ChangeUserOpts::default().with_user(Some("cu".into())).with_pass(Some("cu-pw".into())))
        .expect("COM_CHANGE_USER to a cold caching_sha2 account over TLS");
    let who: Option<String> = c.query_first("SELECT USER()").expect("user");
    assert!(who.is_some_and(|w| w.starts_with("cu@")));
    assert_eq!(full_auths(&mut root), 1);
}

#[test]
fn mariadb_client_with_ssl() {
    if !harness::require("mariadb") {
        return;
    }
    let server = Server::start("tls-mariadb");
    let port = server.port().to_string();
    let run = |user: &str, pw: &str, extra: &[&str], sql: &str| {
        Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-P", &port, "-u", user, &format!("-p{pw}"), "--batch"])
            .args(extra)
            .args(["-e", sql])
            .output()
            .expect("run mariadb")
    };
    let out = run("root", ROOT_PASSWORD, &["--ssl"], "SELECT 40 + 2 AS answer; \\s");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text} {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("42"), "{text}");
    assert!(text.contains("Cipher in use is"), "the session is encrypted: {text}");
    // caching_sha2_password through libmariadb's plugin, full
    // authentication over TLS.
    let stored = mizzled::accounts::auth_string("caching_sha2_password", "m-pw");
    let out = run(
        "root",
        ROOT_PASSWORD,
        &["--ssl"],
        &format!("INSERT INTO mysql.user (user, host, plugin, authentication_string) VALUES ('m', '%', 'caching_sha2_password', '{stored}')"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run("m", "m-pw", &["--ssl"], "SELECT CURRENT_USER() IS NOT NULL");
    assert!(out.status.success(), "sha2 over TLS: {}", String::from_utf8_lossy(&out.stderr));
    let out = run("m", "m-pw", &["--skip-ssl"], "SELECT 1");
    assert!(out.status.success(), "fast path without TLS: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn require_secure_transport_refuses_plain_connections() {
    let server = Server::start_with("tls-required", &["--require-secure-transport"]);
    match Conn::new(opts(&server, "root", ROOT_PASSWORD, false)) {
        Err(mysql::Error::MySqlError(e)) => assert_eq!(e.code, 3159, "{e}"),
        Err(other) => panic!("expected ERR 3159, got {other}"),
        Ok(_) => panic!("a plain connection was accepted"),
    }
    let mut c = Conn::new(opts(&server, "root", ROOT_PASSWORD, true)).expect("TLS is accepted");
    let one: Option<i64> = c.query_first("SELECT 1").expect("query");
    assert_eq!(one, Some(1));
}
