//! TLS for client connections: the server's certificate and key (given
//! with `--ssl-cert` / `--ssl-key`, or a self-signed pair made in the data
//! directory on first start), the `rustls` configuration, and the per
//! connection TLS layer [`TlsLayer`] that `conn` puts under the protocol
//! once a client sends an SSLRequest.
//!
//! Invariants:
//! 1. The generated key file is created with mode 0600 and never
//!    overwritten: a pair in the data directory is reused on every start,
//!    so clients that pinned the certificate keep working.
//! 2. The layer is sans-IO like `conn`: ciphertext in
//!    ([`TlsLayer::read_ciphertext`]), plaintext out, plaintext in
//!    ([`TlsLayer::encrypt`]), ciphertext out; a TLS error ends the
//!    connection (after the alert is queued).
//!
//! Not done here: client certificates (`REQUIRE X509`), certificate
//! reload without restart.

use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};

/// File names of the generated pair in the data directory.
pub const CERT_FILE: &str = "server-cert.pem";
/// See [`CERT_FILE`].
pub const KEY_FILE: &str = "server-key.pem";

/// Where the certificate came from (for the start-up log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertSource {
    /// `--ssl-cert` / `--ssl-key`.
    Given(PathBuf),
    /// The data directory's pair, made now.
    Generated(PathBuf),
    /// The data directory's pair, made on an earlier start.
    Existing(PathBuf),
}

/// The server's TLS configuration: from `cert` and `key` if given (both or
/// neither), else from the pair in `datadir`, generated if missing
/// (invariant 1).
pub fn server_config(
    datadir: &Path,
    cert: Option<&Path>,
    key: Option<&Path>,
) -> anyhow::Result<(Arc<ServerConfig>, CertSource)> {
    let (cert_path, key_path, source) = match (cert, key) {
        (Some(c), Some(k)) => (c.to_path_buf(), k.to_path_buf(), CertSource::Given(c.to_path_buf())),
        (None, None) => {
            let c = datadir.join(CERT_FILE);
            let k = datadir.join(KEY_FILE);
            if c.exists() && k.exists() {
                (c.clone(), k, CertSource::Existing(c))
            } else {
                generate(&c, &k)?;
                (c.clone(), k, CertSource::Generated(c))
            }
        }
        _ => anyhow::bail!("--ssl-cert and --ssl-key go together"),
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| anyhow::anyhow!("cannot read certificate {}: {e}", cert_path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("bad certificate {}: {e}", cert_path.display()))?;
    if certs.is_empty() {
        anyhow::bail!("no certificate in {}", cert_path.display());
    }
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| anyhow::anyhow!("cannot read private key {}: {e}", key_path.display()))?;
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow::anyhow!("TLS set-up: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| anyhow::anyhow!("TLS certificate {} and key {}: {e}", cert_path.display(), key_path.display()))?;
    Ok((Arc::new(config), source))
}

/// A self-signed certificate for `localhost` / `127.0.0.1` and its key.
fn generate(cert_path: &Path, key_path: &Path) -> anyhow::Result<()> {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(|e| anyhow::anyhow!("cannot generate a TLS certificate: {e}"))?;
    write_new(key_path, ck.key_pair.serialize_pem().as_bytes(), true)?;
    write_new(cert_path, ck.cert.pem().as_bytes(), false)?;
    Ok(())
}

fn write_new(path: &Path, bytes: &[u8], secret: bool) -> anyhow::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = o.open(path).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

/// One connection's TLS session (invariant 2).
pub struct TlsLayer {
    conn: ServerConnection,
}

/// What reading ciphertext gave.
pub struct Decrypted {
    /// The client sent close_notify (or the stream ended in TLS terms).
    pub closed: bool,
}

impl TlsLayer {
    /// A server-side TLS session.
    pub fn new(config: Arc<ServerConfig>) -> Option<TlsLayer> {
        let mut conn = ServerConnection::new(config).ok()?;
        // The protocol layer bounds what it writes (a streamed result is
        // flushed at `conn::STREAM_FLUSH`).
        conn.set_buffer_limit(None);
        Some(TlsLayer { conn })
    }

    /// Feeds ciphertext from the client, appending the plaintext it held to
    /// `plain`. `Err` on a TLS error (an alert may be queued: send
    /// [`TlsLayer::encrypt`]'s output, then close).
    pub fn read_ciphertext(&mut self, mut bytes: &[u8], plain: &mut Vec<u8>) -> Result<Decrypted, rustls::Error> {
        let mut closed = false;
        loop {
            if !bytes.is_empty() {
                if let Err(e) = self.conn.read_tls(&mut bytes) {
                    return Err(rustls::Error::General(format!("reading TLS records: {e}")));
                }
            }
            self.conn.process_new_packets()?;
            let mut buf = [0u8; 16 * 1024];
            loop {
                match self.conn.reader().read(&mut buf) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => plain.extend_from_slice(buf.get(..n).unwrap_or_default()),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return Err(rustls::Error::General(format!("TLS stream: {e}"))),
                }
            }
            if bytes.is_empty() || closed {
                return Ok(Decrypted { closed });
            }
        }
    }

    /// Whether the TLS handshake is still running.
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Encrypts `plain` (cleared) and appends every pending TLS record
    /// (handshake messages included) to `wire`.
    pub fn encrypt(&mut self, plain: &mut Vec<u8>, wire: &mut Vec<u8>) {
        if !plain.is_empty() {
            // Unbounded buffer (see `new`): this never writes short.
            let _ = self.conn.writer().write_all(plain);
            plain.clear();
        }
        while self.conn.wants_write() {
            match self.conn.write_tls(wire) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_pair_is_kept_and_reused() {
        let dir = std::env::temp_dir().join(format!("mizzled-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let (_, first) = server_config(&dir, None, None).expect("generated");
        assert!(matches!(first, CertSource::Generated(_)));
        let pem = std::fs::read(dir.join(CERT_FILE)).expect("cert written");
        let (_, second) = server_config(&dir, None, None).expect("reused");
        assert!(matches!(second, CertSource::Existing(_)));
        assert_eq!(std::fs::read(dir.join(CERT_FILE)).expect("cert"), pem, "not regenerated");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE)).expect("key").permissions().mode();
            assert_eq!(mode & 0o077, 0, "the key is private");
        }
        assert!(server_config(&dir, Some(&dir.join(CERT_FILE)), None).is_err(), "cert without key");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
