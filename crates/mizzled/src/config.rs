//! The server's settings: command-line flags, a config file with the same
//! keys, and defaults, in that order of precedence.
//!
//! The config file holds `key = value` lines (`#` and `;` start comments;
//! a `[section]` line is ignored, so a `my.cnf`-style `[mizzled]` header
//! is fine). Keys are the long flag names, with `-` or `_`.
//!
//! Invariants:
//! 1. An unknown key or a malformed value in the file is an error naming
//!    the file and line; the server does not start on a half-read config.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use clap::Parser;

/// Which scheduler runs sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedulerKind {
    /// A fixed pool of workers that take turns watching every connection.
    Pool,
    /// One thread per connection.
    Thread,
}

/// Which account plugin authenticates clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `mysql.user` in the database.
    Native,
    /// A file named by `accounts-file`.
    File,
}

/// Command-line flags (each also a config-file key).
#[derive(Debug, Parser, Default)]
#[command(name = "mizzled", version, about = "The mizzle server: MySQL clients connect to an on-disk mizzle database")]
pub struct Flags {
    /// Data directory (created on first start).
    #[arg(long)]
    pub datadir: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long)]
    pub bind: Option<IpAddr>,
    /// TCP port (0: any free port; the chosen one is printed).
    #[arg(long)]
    pub port: Option<u16>,
    /// Worker threads of the pool scheduler (default: cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Most client connections at once.
    #[arg(long)]
    pub max_connections: Option<usize>,
    /// `pool` or `thread`.
    #[arg(long)]
    pub scheduler: Option<String>,
    /// Largest client packet in bytes.
    #[arg(long)]
    pub max_allowed_packet: Option<usize>,
    /// `native` (accounts in mysql.user) or `file`.
    #[arg(long)]
    pub auth: Option<String>,
    /// Accounts file of the `file` plugin.
    #[arg(long)]
    pub accounts_file: Option<PathBuf>,
    /// Password of `root` created on first start (else
    /// MIZZLE_ROOT_PASSWORD; else root has no password and may log in
    /// from loopback addresses only).
    #[arg(long)]
    pub initial_password: Option<String>,
    /// Log filter (`info`, `debug`, `mizzled=debug`...; else RUST_LOG).
    #[arg(long)]
    pub log: Option<String>,
    /// Config file with the same keys.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// TLS certificate chain (PEM); else `server-cert.pem` in the data
    /// directory, generated (self-signed) on first start.
    #[arg(long)]
    pub ssl_cert: Option<PathBuf>,
    /// TLS private key (PEM), with `--ssl-cert`.
    #[arg(long)]
    pub ssl_key: Option<PathBuf>,
    /// Refuse clients that do not use TLS (MySQL's
    /// `require_secure_transport`).
    #[arg(long)]
    pub require_secure_transport: bool,
    /// The server's default collation (`@@collation_server`, which new
    /// databases take; default `utf8mb4_0900_ai_ci`).
    #[arg(long)]
    pub collation_server: Option<String>,
    /// The time zone sessions start in (`@@global.time_zone`, MySQL's
    /// `--default-time-zone`): `SYSTEM` (UTC), `+HH:MM` or an IANA name.
    #[arg(long)]
    pub default_time_zone: Option<String>,
    /// The isolation level sessions start at (`@@global.transaction_isolation`,
    /// MySQL's `--transaction-isolation`): `READ-COMMITTED`,
    /// `REPEATABLE-READ` (default) or `SERIALIZABLE`.
    #[arg(long)]
    pub transaction_isolation: Option<String>,
    /// Directory server-side `LOAD DATA INFILE` may read files under
    /// (`""`: anywhere the server may read; unset: server-side loads are
    /// refused with 1290, MySQL 8's NULL).
    #[arg(long)]
    pub secure_file_priv: Option<PathBuf>,
    /// Allow `LOAD DATA LOCAL INFILE` (the client sends the file; MySQL 8
    /// has it off by default, and so does mizzled).
    #[arg(long)]
    pub local_infile: bool,
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory.
    pub datadir: PathBuf,
    /// Listen address.
    pub bind: IpAddr,
    /// Port.
    pub port: u16,
    /// Pool workers.
    pub workers: usize,
    /// Connection limit.
    pub max_connections: usize,
    /// Scheduler.
    pub scheduler: SchedulerKind,
    /// Client packet limit.
    pub max_allowed_packet: usize,
    /// Account plugin.
    pub auth: AuthKind,
    /// Accounts file (`file` plugin).
    pub accounts_file: Option<PathBuf>,
    /// Root's first password.
    pub initial_password: Option<String>,
    /// Log filter.
    pub log: Option<String>,
    /// TLS certificate (else the data directory's).
    pub ssl_cert: Option<PathBuf>,
    /// TLS key.
    pub ssl_key: Option<PathBuf>,
    /// Refuse clients without TLS.
    pub require_secure_transport: bool,
    /// The server's default collation (else MySQL 8's).
    pub collation_server: Option<String>,
    /// The sessions' initial time zone (else `SYSTEM`).
    pub default_time_zone: Option<String>,
    /// The sessions' initial isolation level (else REPEATABLE READ).
    pub transaction_isolation: Option<String>,
    /// `secure_file_priv` (`None`: NULL).
    pub secure_file_priv: Option<PathBuf>,
    /// `local_infile`.
    pub local_infile: bool,
}

fn parse_scheduler(s: &str) -> anyhow::Result<SchedulerKind> {
    match s {
        "pool" => Ok(SchedulerKind::Pool),
        "thread" => Ok(SchedulerKind::Thread),
        other => anyhow::bail!("unknown scheduler '{other}' (pool or thread)"),
    }
}

fn parse_auth(s: &str) -> anyhow::Result<AuthKind> {
    match s {
        "native" => Ok(AuthKind::Native),
        "file" => Ok(AuthKind::File),
        other => anyhow::bail!("unknown auth plugin '{other}' (native or file)"),
    }
}

/// Reads a config file into `flags` where the command line left a value unset.
fn merge_file(flags: &mut Flags, path: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split(['#', ';']).next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('[') {
            continue;
        }
        let at = || format!("{}:{}", path.display(), n + 1);
        let Some((k, v)) = line.split_once('=') else { anyhow::bail!("{}: expected key = value", at()) };
        let key = k.trim().replace('_', "-");
        let v = v.trim().trim_matches('"');
        let bad = |e: &dyn std::fmt::Display| anyhow::anyhow!("{}: {key}: {e}", at());
        match key.as_str() {
            "datadir" => {
                flags.datadir.get_or_insert_with(|| v.into());
            }
            "bind" | "bind-address" => {
                if flags.bind.is_none() {
                    flags.bind = Some(v.parse().map_err(|e| bad(&e))?);
                }
            }
            "port" => {
                if flags.port.is_none() {
                    flags.port = Some(v.parse().map_err(|e| bad(&e))?);
                }
            }
            "workers" => {
                if flags.workers.is_none() {
                    flags.workers = Some(v.parse().map_err(|e| bad(&e))?);
                }
            }
            "max-connections" => {
                if flags.max_connections.is_none() {
                    flags.max_connections = Some(v.parse().map_err(|e| bad(&e))?);
                }
            }
            "max-allowed-packet" => {
                if flags.max_allowed_packet.is_none() {
                    flags.max_allowed_packet = Some(v.parse().map_err(|e| bad(&e))?);
                }
            }
            "scheduler" => {
                flags.scheduler.get_or_insert_with(|| v.to_owned());
            }
            "auth" => {
                flags.auth.get_or_insert_with(|| v.to_owned());
            }
            "accounts-file" => {
                flags.accounts_file.get_or_insert_with(|| v.into());
            }
            "initial-password" => {
                flags.initial_password.get_or_insert_with(|| v.to_owned());
            }
            "log" => {
                flags.log.get_or_insert_with(|| v.to_owned());
            }
            "ssl-cert" => {
                flags.ssl_cert.get_or_insert_with(|| v.into());
            }
            "ssl-key" => {
                flags.ssl_key.get_or_insert_with(|| v.into());
            }
            "require-secure-transport" => {
                let on = match v.to_ascii_lowercase().as_str() {
                    "1" | "on" | "true" | "yes" => true,
                    "0" | "off" | "false" | "no" => false,
                    other => return Err(bad(&format!("expected ON or OFF, not '{other}'"))),
                };
                flags.require_secure_transport |= on;
            }
            "collation-server" => {
                flags.collation_server.get_or_insert_with(|| v.to_owned());
            }
            "secure-file-priv" => {
                flags.secure_file_priv.get_or_insert_with(|| v.into());
            }
            "default-time-zone" => {
                flags.default_time_zone.get_or_insert_with(|| v.to_owned());
            }
            "transaction-isolation" => {
                flags.transaction_isolation.get_or_insert_with(|| v.to_owned());
            }
            "local-infile" => {
                let on = match v.to_ascii_lowercase().as_str() {
                    "1" | "on" | "true" | "yes" => true,
                    "0" | "off" | "false" | "no" => false,
                    other => return Err(bad(&format!("expected ON or OFF, not '{other}'"))),
                };
                flags.local_infile |= on;
            }
            other => anyhow::bail!("{}: unknown key '{other}'", at()),
        }
    }
    Ok(())
}

impl Config {
    /// The settings from flags, the config file they name, the
    /// environment (`MIZZLE_ROOT_PASSWORD`) and defaults.
    pub fn load(mut flags: Flags) -> anyhow::Result<Config> {
        if let Some(path) = flags.config.clone() {
            merge_file(&mut flags, &path)?;
        }
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let auth = parse_auth(flags.auth.as_deref().unwrap_or("native"))?;
        if auth == AuthKind::File && flags.accounts_file.is_none() {
            anyhow::bail!("auth = file needs accounts-file");
        }
        let initial_password =
            flags.initial_password.or_else(|| std::env::var("MIZZLE_ROOT_PASSWORD").ok()).filter(|p| !p.is_empty());
        Ok(Config {
            datadir: flags.datadir.unwrap_or_else(|| PathBuf::from("./mizzle-data")),
            bind: flags.bind.unwrap_or(IpAddr::from([127, 0, 0, 1])),
            port: flags.port.unwrap_or(3306),
            workers: flags.workers.unwrap_or(cores).max(1),
            max_connections: flags.max_connections.unwrap_or(151).max(1),
            scheduler: parse_scheduler(flags.scheduler.as_deref().unwrap_or("pool"))?,
            max_allowed_packet: flags.max_allowed_packet.unwrap_or(64 << 20).clamp(1024, 1 << 30),
            auth,
            accounts_file: flags.accounts_file,
            initial_password,
            log: flags.log,
            ssl_cert: flags.ssl_cert,
            ssl_key: flags.ssl_key,
            require_secure_transport: flags.require_secure_transport,
            collation_server: flags.collation_server,
            default_time_zone: flags.default_time_zone,
            transaction_isolation: flags.transaction_isolation,
            secure_file_priv: flags.secure_file_priv,
            local_infile: flags.local_infile,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mizzled-config-{}-{}", std::process::id(), text.len()));
        std::fs::write(&dir, text).expect("write temp config");
        dir
    }

    #[test]
    fn file_fills_what_flags_leave_unset() {
        let path = write(
            "[mizzled]\nport = 4000\nmax_connections = 7 # comment\nscheduler = thread\ncollation_server = utf8mb4_bin\n\
             default_time_zone = Europe/Paris\ntransaction-isolation = READ-COMMITTED\n",
        );
        let flags = Flags { port: Some(5000), config: Some(path.clone()), ..Flags::default() };
        let c = Config::load(flags).expect("loads");
        assert_eq!(c.port, 5000);
        assert_eq!(c.max_connections, 7);
        assert_eq!(c.scheduler, SchedulerKind::Thread);
        assert_eq!(c.collation_server.as_deref(), Some("utf8mb4_bin"));
        assert_eq!(c.default_time_zone.as_deref(), Some("Europe/Paris"));
        assert_eq!(c.transaction_isolation.as_deref(), Some("READ-COMMITTED"));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let path = write("port = 1\nbogus = 2\n");
        let e = Config::load(Flags { config: Some(path.clone()), ..Flags::default() }).expect_err("fails");
        assert!(e.to_string().contains(":2: unknown key 'bogus'"), "{e}");
        let _ = std::fs::remove_file(path);
    }
}
