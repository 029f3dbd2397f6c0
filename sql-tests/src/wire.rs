//! The `--server HOST:PORT` backend: runs files over the MySQL protocol
//! against a running server (`mizzled`, or any MySQL-compatible server).
//!
//! Each file gets a fresh database `slt_<pid>_<n>`, created on an admin
//! connection, current on every connection of the file, and dropped when
//! the file ends. The client is a minimal text-protocol one built from
//! `mizzle_protocol`'s client-side codecs: `mysql_native_password` login,
//! COM_QUERY with multi-statements, results read to the last one.
//!
//! Invariants:
//! 1. Errors are rendered as the mysql client prints them,
//!    `ERROR n (state): message`, so `statement error <n>` matches.
//! 2. Cells are the text-protocol bytes the server sent (NULL as `None`).
//!
//! Differences from embedded runs (why a file's counts may differ): the
//! database is named `slt_...` rather than `main`, and the server has
//! other schemas (`mysql`) that `SHOW DATABASES` lists.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use mizzle_protocol::auth::native_response;
use mizzle_protocol::handshake::{Greeting, HandshakeResponse};
use mizzle_protocol::response::{decode_text_row, EofPacket, ErrPacket, OkPacket};
use mizzle_protocol::{Capabilities, Collation, StatusFlags};
use mizzle_slt::{Backend, Cell, Connection, Database, ResultSet};

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// `host:port`.
    pub addr: String,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

/// The backend.
pub struct ServerBackend {
    pub options: ServerOptions,
}

static NEXT_DB: AtomicU64 = AtomicU64::new(0);

const CAPS: Capabilities = Capabilities(
    Capabilities::PROTOCOL_41.bits()
        | Capabilities::SECURE_CONNECTION.bits()
        | Capabilities::PLUGIN_AUTH.bits()
        | Capabilities::TRANSACTIONS.bits()
        | Capabilities::MULTI_STATEMENTS.bits()
        | Capabilities::MULTI_RESULTS.bits()
        | Capabilities::LONG_PASSWORD.bits()
        | Capabilities::LONG_FLAG.bits()
        | Capabilities::LOCAL_FILES.bits()
        | Capabilities::CONNECT_WITH_DB.bits(),
);

/// One client connection.
pub struct WireConn {
    s: TcpStream,
}

fn io(e: std::io::Error) -> String {
    format!("connection error: {e}")
}

impl WireConn {
    fn read_packet(&mut self) -> Result<Vec<u8>, String> {
        let mut payload = Vec::new();
        loop {
            let mut h = [0u8; 4];
            self.s.read_exact(&mut h).map_err(io)?;
            let len = usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16;
            let at = payload.len();
            payload.resize(at + len, 0);
            self.s.read_exact(&mut payload[at..]).map_err(io)?;
            if len < 0xFF_FFFF {
                return Ok(payload);
            }
        }
    }

    fn write_packet(&mut self, mut seq: u8, payload: &[u8]) -> Result<(), String> {
        let mut out = Vec::with_capacity(payload.len() + 8);
        let mut chunks = payload.chunks(0xFF_FFFF).peekable();
        if payload.is_empty() {
            out.extend_from_slice(&[0, 0, 0, seq]);
        }
        while let Some(c) = chunks.next() {
            let n = c.len();
            out.extend_from_slice(&[(n & 0xff) as u8, (n >> 8 & 0xff) as u8, (n >> 16 & 0xff) as u8, seq]);
            out.extend_from_slice(c);
            seq = seq.wrapping_add(1);
            if chunks.peek().is_none() && n == 0xFF_FFFF {
                out.extend_from_slice(&[0, 0, 0, seq]);
            }
        }
        self.s.write_all(&out).map_err(io)
    }

    /// Connects and logs in, with `db` current if given.
    pub fn connect(o: &ServerOptions, db: Option<&str>) -> Result<WireConn, String> {
        let s = TcpStream::connect(&o.addr).map_err(|e| format!("cannot connect to {}: {e}", o.addr))?;
        let _ = s.set_nodelay(true);
        let mut c = WireConn { s };
        let greeting = c.read_packet()?;
        if greeting.first() == Some(&0xFF) {
            return Err(err_text(&greeting));
        }
        let g = Greeting::decode(&greeting).map_err(|e| e.to_string())?;
        let auth = native_response(o.password.as_bytes(), &g.scramble);
        let resp = HandshakeResponse {
            capabilities: CAPS,
            max_packet_size: 1 << 24,
            // MySQL 8's default, so literals compare as they do embedded.
            collation: Collation::UTF8MB4_0900_AI_CI,
            user: &o.user,
            auth_response: &auth,
            database: db,
            auth_plugin: Some("mysql_native_password"),
            attributes: Vec::new(),
        };
        let mut body = Vec::new();
        resp.encode(&mut body);
        c.write_packet(1, &body)?;
        let reply = c.read_packet()?;
        match reply.first() {
            Some(0x00) => Ok(c),
            Some(0xFF) => Err(err_text(&reply)),
            _ => Err("the server asked for another authentication method (use a mysql_native_password account)".into()),
        }
    }

    /// Runs text; returns the last result (invariants 1 and 2).
    pub fn query(&mut self, sql: &str) -> Result<Option<ResultSet>, String> {
        let mut p = Vec::with_capacity(sql.len() + 1);
        p.push(0x03);
        p.extend_from_slice(sql.as_bytes());
        self.write_packet(0, &p)?;
        loop {
            let first = self.read_packet()?;
            let last;
            let status = match first.first() {
                Some(0x00) => {
                    last = None;
                    OkPacket::decode(&first, CAPS).map_err(|e| e.to_string())?.status
                }
                Some(0xFF) => return Err(err_text(&first)),
                Some(0xFB) => {
                    // LOAD DATA LOCAL: send the named file (relative to
                    // this process's working directory), then an empty
                    // packet; the server's answer follows.
                    self.send_local_file(&first[1..])?;
                    continue;
                }
                _ => {
                    let columns = first.first().map(|&b| usize::from(b)).unwrap_or(0);
                    let columns = if columns >= 0xFB { lenenc(&first)? } else { columns };
                    for _ in 0..columns {
                        self.read_packet()?;
                    }
                    self.read_packet()?; // EOF after the definitions
                    let mut rows = Vec::new();
                    let status = loop {
                        let r = self.read_packet()?;
                        match r.first() {
                            Some(0xFE) if r.len() < 9 => {
                                break EofPacket::decode(&r, CAPS).map_err(|e| e.to_string())?.status
                            }
                            Some(0xFF) => return Err(err_text(&r)),
                            _ => {
                                let cells = decode_text_row(&r, columns).map_err(|e| e.to_string())?;
                                rows.push(cells.into_iter().map(|c| -> Cell { c.map(<[u8]>::to_vec) }).collect());
                            }
                        }
                    };
                    last = Some(ResultSet { columns, rows });
                    status
                }
            };
            if !status.contains(StatusFlags::MORE_RESULTS_EXISTS) {
                return Ok(last);
            }
        }
    }
}

impl WireConn {
    /// Answers a LOCAL INFILE request (sequence 1) with the file's bytes
    /// from sequence 2 on, and an empty packet; an unreadable file is sent
    /// as empty, as the mysql client does.
    fn send_local_file(&mut self, name: &[u8]) -> Result<(), String> {
        let data = std::fs::read(String::from_utf8_lossy(name).as_ref()).unwrap_or_default();
        let mut seq = 2u8;
        for chunk in data.chunks(16 * 1024) {
            self.write_packet(seq, chunk)?;
            seq = seq.wrapping_add(1);
        }
        self.write_packet(seq, &[])
    }
}

fn lenenc(p: &[u8]) -> Result<usize, String> {
    let mut r = mizzle_protocol::wire::Reader::new(p);
    let n = r.lenenc_int("column count").map_err(|e| e.to_string())?;
    usize::try_from(n).map_err(|_| "column count out of range".to_owned())
}

fn err_text(p: &[u8]) -> String {
    match ErrPacket::decode(p, CAPS) {
        Ok(e) => format!("ERROR {} ({}): {}", e.number, String::from_utf8_lossy(&e.sqlstate), e.message),
        Err(e) => format!("malformed error packet: {e}"),
    }
}

impl Connection for WireConn {
    fn run(&mut self, sql: &str) -> Result<Option<ResultSet>, String> {
        self.query(sql)
    }
}

/// One file's database on the server.
pub struct ServerDb {
    options: ServerOptions,
    name: String,
    admin: Mutex<WireConn>,
}

impl Drop for ServerDb {
    fn drop(&mut self) {
        if let Ok(mut a) = self.admin.lock() {
            let _ = a.query(&format!("DROP DATABASE IF EXISTS `{}`", self.name));
        }
    }
}

impl Database for ServerDb {
    fn connect(&self) -> Result<Box<dyn Connection>, String> {
        Ok(Box::new(WireConn::connect(&self.options, Some(&self.name))?))
    }

    fn connect_as(&self, login: &mizzle_slt::Login) -> Result<Box<dyn Connection>, String> {
        let o = ServerOptions { user: login.user.clone(), password: login.password.clone(), ..self.options.clone() };
        let mut c = WireConn::connect(&o, None)?;
        // In the file's database if the account may use it.
        let _ = c.query(&format!("USE `{}`", self.name));
        Ok(Box::new(c))
    }

    fn lock_waits_begun(&self) -> Option<u64> {
        let mut a = self.admin.lock().ok()?;
        let rs = a.query("SHOW STATUS LIKE 'Innodb_row_lock_waits'").ok()??;
        let cell = rs.rows.first()?.get(1)?.clone()?;
        String::from_utf8(cell).ok()?.parse().ok()
    }
}

impl Backend for ServerBackend {
    fn open(&self) -> Result<Box<dyn Database>, String> {
        let name = format!("slt_{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::Relaxed));
        let mut admin = WireConn::connect(&self.options, None)?;
        admin.query(&format!("DROP DATABASE IF EXISTS `{name}`"))?;
        admin.query(&format!("CREATE DATABASE `{name}`"))?;
        Ok(Box::new(ServerDb { options: self.options.clone(), name, admin: Mutex::new(admin) }))
    }

    fn labels(&self) -> Vec<String> {
        vec!["mysql".into(), "mizzle".into(), "server".into()]
    }
}
