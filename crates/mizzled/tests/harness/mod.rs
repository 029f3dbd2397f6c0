//! Starts a `mizzled` binary on a free loopback port with a fresh data
//! directory, and stops it (SIGTERM, then waits) when dropped. A server
//! that does not stop within `STOP_DEADLINE` is killed and reported, so a
//! stuck server fails its test instead of hanging the test run.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const ROOT_PASSWORD: &str = "s3cret-pw";

pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub datadir: PathBuf,
    pub stdout_lines: Vec<String>,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

pub fn temp_dir(tag: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("mizzled-test-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

impl Server {
    /// Starts a server with root's password set to [`ROOT_PASSWORD`].
    pub fn start(tag: &str) -> Server {
        Server::start_with(tag, &[])
    }

    pub fn start_with(tag: &str, extra: &[&str]) -> Server {
        let datadir = temp_dir(tag);
        Server::start_in(datadir, extra)
    }

    pub fn start_in(datadir: PathBuf, extra: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mizzled"));
        cmd.arg("--datadir")
            .arg(&datadir)
            .args(["--bind", "127.0.0.1", "--port", "0", "--log", "warn"])
            .args(extra)
            .env("MIZZLE_ROOT_PASSWORD", ROOT_PASSWORD)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start mizzled");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut lines = Vec::new();
        let addr = loop {
            let mut line = String::new();
            let n = reader.read_line(&mut line).expect("read mizzled stdout");
            assert!(n > 0, "mizzled exited before it was ready: {lines:?}");
            lines.push(line.trim_end().to_owned());
            if let Some(a) = line.trim().strip_prefix("mizzled: ready for connections on ") {
                break a.parse::<SocketAddr>().expect("address");
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Server { child: Some(child), addr, datadir, stdout_lines: lines }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A `mysql` crate connection as root over TCP, in database `db`.
    pub fn connect_root(&self, db: Option<&str>) -> mysql::Conn {
        let opts = mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(self.port())
            .user(Some("root"))
            .pass(Some(ROOT_PASSWORD))
            .db_name(db)
            .prefer_socket(false);
        mysql::Conn::new(opts).expect("connect")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Sends SIGTERM and waits; returns whether it exited successfully
    /// (false if it had to be killed after `STOP_DEADLINE`).
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return true };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        wait_or_kill(&mut child) == Stopped::Exited(true)
    }
}

/// How long a server may take to stop after SIGTERM.
const STOP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, PartialEq, Eq)]
enum Stopped {
    /// It exited by itself (successfully or not).
    Exited(bool),
    /// It was still running at `STOP_DEADLINE` and was killed.
    Killed,
}

/// Waits for `child` to exit; after `STOP_DEADLINE` kills it.
fn wait_or_kill(child: &mut Child) -> Stopped {
    let deadline = std::time::Instant::now() + STOP_DEADLINE;
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Stopped::Exited(s.success()),
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            _ => {
                eprintln!("mizzled (pid {}) did not stop within {STOP_DEADLINE:?} of SIGTERM: killed", child.id());
                let _ = child.kill();
                let _ = child.wait();
                return Stopped::Killed;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
            let stopped = wait_or_kill(&mut c);
            let _ = std::fs::remove_dir_all(&self.datadir);
            if stopped == Stopped::Killed && !std::thread::panicking() {
                // Stopping within the deadline is part of every test.
                panic!("mizzled did not stop within {STOP_DEADLINE:?} of SIGTERM (killed)");
            }
        }
        let _ = std::fs::remove_dir_all(&self.datadir);
    }
}

/// Whether an external program is installed (tests that need one say so
/// and pass without it only outside CI).
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Fails in CI when a tool is missing (CI installs them), skips elsewhere.
pub fn require(program: &str) -> bool {
    if have(program) {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "{program} is not installed (.ci/run installs it)");
    eprintln!("skipped: {program} is not installed");
    false
}

/// Logs in as root with `mysql_native_password` over a raw socket and
/// returns the socket, ready for commands (or the server's reply on failure).
pub fn raw_login(addr: SocketAddr, password: &str) -> Result<std::net::TcpStream, Vec<u8>> {
    use mizzle_protocol::auth::native_response;
    use mizzle_protocol::handshake::{Greeting, HandshakeResponse};
    use mizzle_protocol::{Capabilities, Collation};
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| e.to_string().into_bytes())?;
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(60)));
    let read = |s: &mut std::net::TcpStream| -> Result<Vec<u8>, Vec<u8>> {
        let mut h = [0u8; 4];
        s.read_exact(&mut h).map_err(|e| e.to_string().into_bytes())?;
        let len = usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16;
        let mut p = vec![0u8; len];
        s.read_exact(&mut p).map_err(|e| e.to_string().into_bytes())?;
        Ok(p)
    };
    let greeting = read(&mut s)?;
    let g = Greeting::decode(&greeting).map_err(|e| e.to_string().into_bytes())?;
    let auth = native_response(password.as_bytes(), &g.scramble);
    let resp = HandshakeResponse {
        capabilities: Capabilities::PROTOCOL_41
            | Capabilities::SECURE_CONNECTION
            | Capabilities::PLUGIN_AUTH
            | Capabilities::TRANSACTIONS
            | Capabilities::LONG_PASSWORD,
        max_packet_size: 1 << 24,
        collation: Collation::UTF8MB4_GENERAL_CI,
        user: "root",
        auth_response: &auth,
        database: None,
        auth_plugin: Some("mysql_native_password"),
        attributes: Vec::new(),
    };
    let mut body = Vec::new();
    resp.encode(&mut body);
    let n = body.len();
    let mut packet = vec![(n & 0xff) as u8, (n >> 8 & 0xff) as u8, (n >> 16 & 0xff) as u8, 1];
    packet.extend_from_slice(&body);
    s.write_all(&packet).map_err(|e| e.to_string().into_bytes())?;
    let reply = read(&mut s)?;
    if reply.first() == Some(&0) {
        Ok(s)
    } else {
        Err(reply)
    }
}

/// A process's thread count and resident memory in KiB, from /proc.
pub fn threads_and_rss_kib(pid: u32) -> (usize, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("Threads:") as usize, field("VmRSS:"))
}
