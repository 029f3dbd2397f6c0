//! Packets of the connection phase: the server greeting (HandshakeV10), the
//! client's SSLRequest or HandshakeResponse41, and the authentication
//! exchange packets (AuthSwitchRequest, AuthMoreData).
//!
//! Invariants:
//! 1. Only the 4.1 protocol is spoken: a response without
//!    `CLIENT_PROTOCOL_41` is refused ([`ProtocolError::ClientTooOld`]).
//! 2. A client packet whose capabilities include `CLIENT_SSL` and which is
//!    exactly the 32-byte fixed part is an SSLRequest; anything longer is a
//!    HandshakeResponse41 (which, after TLS, also carries `CLIENT_SSL`).
//! 3. Decoded packets borrow from the payload; user and schema names must be
//!    UTF-8, connection attributes are taken lossily (a strange program name
//!    must not refuse a login).
//!
//! This module does not decide anything: which plugin to use and whether a
//! password is right live in `connection`.

use std::borrow::Cow;

use crate::auth::{Scramble, SCRAMBLE_LEN};
use crate::charset::Collation;
use crate::error::ProtocolError;
use crate::flags::{Capabilities, StatusFlags};
use crate::wire::{self, put_lenenc_bytes, put_nul_bytes, put_u16, put_u32, Reader};

/// The protocol version of the greeting.
pub const PROTOCOL_VERSION: u8 = 10;

/// Header byte of AuthSwitchRequest.
pub const AUTH_SWITCH_HEADER: u8 = 0xFE;
/// Header byte of AuthMoreData.
pub const AUTH_MORE_DATA_HEADER: u8 = 0x01;
/// `caching_sha2_password`: the client asks for the server's RSA key.
pub const SHA2_REQUEST_PUBLIC_KEY: u8 = 0x02;
/// `caching_sha2_password`: fast authentication succeeded.
pub const SHA2_FAST_AUTH_SUCCESS: u8 = 0x03;
/// `caching_sha2_password`: the server needs the password (full authentication).
pub const SHA2_PERFORM_FULL_AUTH: u8 = 0x04;

/// The length of the fixed part of HandshakeResponse41 (and of SSLRequest).
pub const RESPONSE_FIXED_LEN: usize = 32;

/// A connection id (the greeting's "thread id", `CONNECTION_ID()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionId(pub u32);

/// An authentication method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthPlugin {
    /// `mysql_native_password` (SHA1 challenge-response).
    NativePassword,
    /// `caching_sha2_password` (SHA256 challenge-response with a cache, MySQL 8's default).
    CachingSha2Password,
    /// Any other plugin name a client announced.
    Other(String),
}

impl AuthPlugin {
    /// The plugin name on the wire.
    pub fn name(&self) -> &str {
        match self {
            AuthPlugin::NativePassword => "mysql_native_password",
            AuthPlugin::CachingSha2Password => "caching_sha2_password",
            AuthPlugin::Other(s) => s,
        }
    }

    /// The plugin named `name`.
    pub fn from_name(name: &str) -> AuthPlugin {
        match name {
            "mysql_native_password" => AuthPlugin::NativePassword,
            "caching_sha2_password" => AuthPlugin::CachingSha2Password,
            other => AuthPlugin::Other(other.to_owned()),
        }
    }
}

/// The server greeting, Protocol::HandshakeV10.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// The version string clients show (`SELECT VERSION()` should agree).
    pub server_version: String,
    /// The connection id.
    pub connection_id: ConnectionId,
    /// The nonce.
    pub scramble: Scramble,
    /// The server's capabilities.
    pub capabilities: Capabilities,
    /// The server's default collation (only the low byte is sent).
    pub collation: Collation,
    /// Status flags.
    pub status: StatusFlags,
    /// The plugin the scramble is meant for.
    pub auth_plugin: AuthPlugin,
}

impl Greeting {
    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let caps = self.capabilities.bits().to_le_bytes();
        let s = self.scramble.as_bytes();
        out.push(PROTOCOL_VERSION);
        put_nul_bytes(out, self.server_version.as_bytes());
        put_u32(out, self.connection_id.0);
        out.extend_from_slice(&s[..8]);
        out.push(0);
        out.extend_from_slice(&caps[..2]);
        out.push(self.collation.low_byte());
        put_u16(out, self.status.bits());
        out.extend_from_slice(&caps[2..]);
        let plugin_auth = self.capabilities.contains(Capabilities::PLUGIN_AUTH);
        // The length counts the scramble and its NUL terminator, as MySQL sends it.
        out.push(if plugin_auth { SCRAMBLE_LEN as u8 + 1 } else { 0 });
        out.extend_from_slice(&[0; 10]);
        if self.capabilities.contains(Capabilities::SECURE_CONNECTION) {
            put_nul_bytes(out, &s[8..]);
        }
        if plugin_auth {
            put_nul_bytes(out, self.auth_plugin.name().as_bytes());
        }
    }

    /// Decodes a greeting (the client side; used by tests and tools).
    pub fn decode(payload: &[u8]) -> Result<Greeting, ProtocolError> {
        let mut r = Reader::new(payload);
        let version = r.u8("protocol version")?;
        if version != PROTOCOL_VERSION {
            return Err(ProtocolError::InvalidField { field: "protocol version", value: u64::from(version) });
        }
        let server_version = wire::utf8(r.nul_bytes("server version")?, "server version")?.to_owned();
        let connection_id = ConnectionId(r.u32("connection id")?);
        let part1 = r.bytes(8, "auth plugin data part 1")?;
        r.u8("filler")?;
        let low = r.u16("capability flags")?;
        let collation = Collation(u16::from(r.u8("character set")?));
        let status = StatusFlags(r.u16("status flags")?);
        let high = r.u16("capability flags (upper)")?;
        let capabilities = Capabilities(u32::from(low) | (u32::from(high) << 16));
        let data_len = r.u8("auth plugin data length")?;
        r.bytes(10, "reserved")?;
        let mut scramble = [0u8; SCRAMBLE_LEN];
        scramble[..8].copy_from_slice(part1);
        if capabilities.contains(Capabilities::SECURE_CONNECTION) {
            let len = usize::from(data_len).saturating_sub(8).max(13);
            let part2 = r.bytes(len, "auth plugin data part 2")?;
            let part2 = part2.strip_suffix(&[0]).unwrap_or(part2);
            let Some(dst) = scramble.get_mut(8..8 + part2.len()) else {
                return Err(ProtocolError::InvalidField {
                    field: "auth plugin data length",
                    value: u64::from(data_len),
                });
            };
            dst.copy_from_slice(part2);
        }
        let scramble = Scramble::from_bytes(scramble)
            .ok_or(ProtocolError::InvalidField { field: "auth plugin data", value: 0 })?;
        let auth_plugin = if capabilities.contains(Capabilities::PLUGIN_AUTH) {
            AuthPlugin::from_name(wire::utf8(r.nul_bytes_or_rest(), "auth plugin name")?)
        } else {
            AuthPlugin::NativePassword
        };
        Ok(Greeting { server_version, connection_id, scramble, capabilities, collation, status, auth_plugin })
    }
}

/// Protocol::SSLRequest: the fixed part of a handshake response, after
/// which the client starts TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SslRequest {
    /// The client's capabilities.
    pub capabilities: Capabilities,
    /// The client's largest packet.
    pub max_packet_size: u32,
    /// The client's collation.
    pub collation: Collation,
}

/// Connection attributes: (key, value) pairs, taken lossily as UTF-8.
pub type ConnectAttributes<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// Protocol::HandshakeResponse41.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeResponse<'a> {
    /// The client's capabilities (not yet intersected with the server's).
    pub capabilities: Capabilities,
    /// The client's largest packet.
    pub max_packet_size: u32,
    /// The client's collation.
    pub collation: Collation,
    /// The user name.
    pub user: &'a str,
    /// The auth response, computed for [`HandshakeResponse::auth_plugin`].
    pub auth_response: &'a [u8],
    /// The schema to use, with `CLIENT_CONNECT_WITH_DB`.
    pub database: Option<&'a str>,
    /// The plugin the auth response was computed for, with `CLIENT_PLUGIN_AUTH`.
    pub auth_plugin: Option<&'a str>,
    /// Connection attributes (`_client_name`, `program_name`, ...).
    pub attributes: ConnectAttributes<'a>,
}

/// What a client sends first: an SSLRequest or a full response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientHello<'a> {
    /// Start TLS, then send a [`HandshakeResponse`].
    SslRequest(SslRequest),
    /// The handshake response.
    Response(HandshakeResponse<'a>),
}

/// Reads connection attributes: a length-encoded total, then length-encoded
/// key/value strings within it.
pub(crate) fn read_attributes<'a>(r: &mut Reader<'a>) -> Result<ConnectAttributes<'a>, ProtocolError> {
    let mut attrs = Reader::new(r.lenenc_bytes("connection attributes")?);
    let mut out = Vec::new();
    while !attrs.is_empty() {
        let k = attrs.lenenc_bytes("connection attribute key")?;
        let v = attrs.lenenc_bytes("connection attribute value")?;
        out.push((String::from_utf8_lossy(k), String::from_utf8_lossy(v)));
    }
    Ok(out)
}

pub(crate) fn write_attributes(out: &mut Vec<u8>, attrs: &[(Cow<'_, str>, Cow<'_, str>)]) {
    let mut body = Vec::new();
    for (k, v) in attrs {
        put_lenenc_bytes(&mut body, k.as_bytes());
        put_lenenc_bytes(&mut body, v.as_bytes());
    }
    put_lenenc_bytes(out, &body);
}

impl<'a> ClientHello<'a> {
    /// Decodes the client's first packet (invariant 2).
    pub fn decode(payload: &'a [u8]) -> Result<ClientHello<'a>, ProtocolError> {
        let mut r = Reader::new(payload);
        let capabilities = Capabilities(r.u32("client capabilities")?);
        if !capabilities.contains(Capabilities::PROTOCOL_41) {
            return Err(ProtocolError::ClientTooOld);
        }
        let max_packet_size = r.u32("max packet size")?;
        let collation = Collation(u16::from(r.u8("character set")?));
        r.bytes(23, "filler")?;
        if capabilities.contains(Capabilities::SSL) && r.is_empty() {
            return Ok(ClientHello::SslRequest(SslRequest { capabilities, max_packet_size, collation }));
        }
        let user = wire::utf8(r.nul_bytes("user")?, "user")?;
        let auth_response = if capabilities.contains(Capabilities::PLUGIN_AUTH_LENENC_CLIENT_DATA) {
            r.lenenc_bytes("auth response")?
        } else if capabilities.contains(Capabilities::SECURE_CONNECTION) {
            let n = r.u8("auth response length")?;
            r.bytes(usize::from(n), "auth response")?
        } else {
            r.nul_bytes("auth response")?
        };
        let database = if capabilities.contains(Capabilities::CONNECT_WITH_DB) && !r.is_empty() {
            Some(wire::utf8(r.nul_bytes_or_rest(), "database")?).filter(|d| !d.is_empty())
        } else {
            None
        };
        let auth_plugin = if capabilities.contains(Capabilities::PLUGIN_AUTH) && !r.is_empty() {
            Some(wire::utf8(r.nul_bytes_or_rest(), "auth plugin name")?)
        } else {
            None
        };
        let attributes = if capabilities.contains(Capabilities::CONNECT_ATTRS) && !r.is_empty() {
            read_attributes(&mut r)?
        } else {
            Vec::new()
        };
        // A zstd compression level may follow; mizzle never offers zstd, and
        // MySQL ignores further bytes, so they are ignored here too.
        Ok(ClientHello::Response(HandshakeResponse {
            capabilities,
            max_packet_size,
            collation,
            user,
            auth_response,
            database,
            auth_plugin,
            attributes,
        }))
    }
}

impl SslRequest {
    /// Appends the payload (the client side).
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u32(out, (self.capabilities | Capabilities::SSL).bits());
        put_u32(out, self.max_packet_size);
        out.push(self.collation.low_byte());
        out.extend_from_slice(&[0; 23]);
    }
}

impl HandshakeResponse<'_> {
    /// Appends the payload (the client side; used by tests and tools).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let caps = self.capabilities;
        put_u32(out, caps.bits());
        put_u32(out, self.max_packet_size);
        out.push(self.collation.low_byte());
        out.extend_from_slice(&[0; 23]);
        put_nul_bytes(out, self.user.as_bytes());
        if caps.contains(Capabilities::PLUGIN_AUTH_LENENC_CLIENT_DATA) {
            put_lenenc_bytes(out, self.auth_response);
        } else if caps.contains(Capabilities::SECURE_CONNECTION) {
            let n = self.auth_response.len().min(255);
            out.push(n as u8);
            out.extend_from_slice(&self.auth_response[..n]);
        } else {
            put_nul_bytes(out, self.auth_response);
        }
        if caps.contains(Capabilities::CONNECT_WITH_DB) {
            put_nul_bytes(out, self.database.unwrap_or("").as_bytes());
        }
        if caps.contains(Capabilities::PLUGIN_AUTH) {
            put_nul_bytes(out, self.auth_plugin.unwrap_or("").as_bytes());
        }
        if caps.contains(Capabilities::CONNECT_ATTRS) {
            write_attributes(out, &self.attributes);
        }
    }
}

/// Appends an AuthSwitchRequest: switch to `plugin` with `data` (for the
/// two supported plugins, the scramble followed by NUL).
pub fn encode_auth_switch_request(out: &mut Vec<u8>, plugin: &AuthPlugin, data: &[u8]) {
    out.push(AUTH_SWITCH_HEADER);
    put_nul_bytes(out, plugin.name().as_bytes());
    out.extend_from_slice(data);
}

/// Appends AuthMoreData: `0x01` then `data`.
pub fn encode_auth_more_data(out: &mut Vec<u8>, data: &[u8]) {
    out.push(AUTH_MORE_DATA_HEADER);
    out.extend_from_slice(data);
}

/// Decodes an AuthSwitchRequest (the client side): plugin name and data.
pub fn decode_auth_switch_request(payload: &[u8]) -> Result<(AuthPlugin, &[u8]), ProtocolError> {
    let mut r = Reader::new(payload);
    let header = r.u8("auth switch header")?;
    if header != AUTH_SWITCH_HEADER {
        return Err(ProtocolError::InvalidField { field: "auth switch header", value: u64::from(header) });
    }
    let name = wire::utf8(r.nul_bytes("auth plugin name")?, "auth plugin name")?;
    Ok((AuthPlugin::from_name(name), r.rest()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::put_lenenc_int as lenenc;
    use crate::wire::testing::{assert_every_truncation_fails, hex};

    // The HandshakeV10 example of the MySQL protocol documentation (a 5.5
    // server without CLIENT_PLUGIN_AUTH).
    #[test]
    fn doc_example_greeting_decodes() {
        let bytes = hex("0a 35 2e 35 2e 32 2d 6d 32 00 0b 00 00 00 64 76 48 40 49 2d 43 4a 00 ff f7 08 02 00
             00 00 00 00 00 00 00 00 00 00 00 00 00 2a 34 64 7c 63 5a 77 6b 34 5e 5d 3a 00");
        let g = Greeting::decode(&bytes).expect("doc example");
        assert_eq!(g.server_version, "5.5.2-m2");
        assert_eq!(g.connection_id, ConnectionId(11));
        assert_eq!(&g.scramble.as_bytes()[..], b"dvH@I-CJ*4d|cZwk4^]:");
        assert_eq!(g.capabilities, Capabilities(0xf7ff));
        assert_eq!(g.collation, Collation::LATIN1_SWEDISH_CI);
        assert_eq!(g.status, StatusFlags::AUTOCOMMIT);
        assert_eq!(g.auth_plugin, AuthPlugin::NativePassword);
        assert_every_truncation_fails(&bytes, Greeting::decode);
    }

    fn greeting() -> Greeting {
        Greeting {
            server_version: "8.0.36-mizzle".into(),
            connection_id: ConnectionId(0x0102_0304),
            scramble: Scramble::from_bytes(*b"abcdefghijklmnopqrst").expect("no NUL"),
            capabilities: Capabilities(0xdfff_ffff) & !Capabilities::SSL,
            collation: Collation::UTF8MB4_0900_AI_CI,
            status: StatusFlags::AUTOCOMMIT,
            auth_plugin: AuthPlugin::CachingSha2Password,
        }
    }

    #[test]
    fn greeting_encodes_byte_exact() {
        let mut out = Vec::new();
        greeting().encode(&mut out);
        let mut expect = vec![0x0a];
        expect.extend_from_slice(b"8.0.36-mizzle\0");
        expect.extend_from_slice(&[4, 3, 2, 1]);
        expect.extend_from_slice(b"abcdefgh\0");
        expect.extend_from_slice(&[0xff, 0xf7, 0xff, 0x02, 0x00, 0xff, 0xdf, 21]);
        expect.extend_from_slice(&[0; 10]);
        expect.extend_from_slice(b"ijklmnopqrst\0caching_sha2_password\0");
        assert_eq!(out, expect);
        assert_eq!(Greeting::decode(&out), Ok(greeting()));
    }

    fn response() -> HandshakeResponse<'static> {
        HandshakeResponse {
            capabilities: Capabilities::PROTOCOL_41
                | Capabilities::SECURE_CONNECTION
                | Capabilities::PLUGIN_AUTH
                | Capabilities::PLUGIN_AUTH_LENENC_CLIENT_DATA
                | Capabilities::CONNECT_WITH_DB
                | Capabilities::CONNECT_ATTRS,
            max_packet_size: 16 * 1024 * 1024,
            collation: Collation::UTF8MB4_GENERAL_CI,
            user: "root",
            auth_response: &[1, 2, 3, 0, 5],
            database: Some("test"),
            auth_plugin: Some("mysql_native_password"),
            attributes: vec![("_client_name".into(), "libmariadb".into()), ("_pid".into(), "42".into())],
        }
    }

    #[test]
    fn handshake_response_round_trips_in_every_auth_encoding() {
        for extra in [
            Capabilities::empty(),
            !Capabilities::PLUGIN_AUTH_LENENC_CLIENT_DATA,
            !(Capabilities::PLUGIN_AUTH_LENENC_CLIENT_DATA | Capabilities::SECURE_CONNECTION),
        ] {
            let mut resp = response();
            if extra != Capabilities::empty() {
                resp.capabilities = resp.capabilities & extra;
            }
            if !resp.capabilities.contains(Capabilities::SECURE_CONNECTION) {
                resp.auth_response = b"abc"; // NUL-terminated form: no NUL inside
            }
            let mut out = Vec::new();
            resp.encode(&mut out);
            assert_eq!(ClientHello::decode(&out), Ok(ClientHello::Response(resp.clone())));
            assert_every_truncation_fails(&out[..out.len() - 1], |b| match ClientHello::decode(b) {
                // Optional trailing fields may be cut off: only the required
                // prefix (through the auth response) must fail when truncated.
                Ok(ClientHello::Response(r)) if r.auth_response == resp.auth_response => Err(()),
                Ok(other) => Ok(other),
                Err(_) => Err(()),
            });
        }
    }

    #[test]
    fn handshake_response_bytes_are_laid_out_as_documented() {
        let mut out = Vec::new();
        response().encode(&mut out);
        let mut expect = Vec::new();
        expect.extend_from_slice(&0x0038_8208u32.to_le_bytes()[..]);
        expect.extend_from_slice(&[0, 0, 0, 1, 45]);
        expect.extend_from_slice(&[0; 23]);
        expect.extend_from_slice(b"root\0\x05\x01\x02\x03\x00\x05test\0mysql_native_password\0");
        let mut attrs = Vec::new();
        for s in ["_client_name", "libmariadb", "_pid", "42"] {
            lenenc(&mut attrs, s.len() as u64);
            attrs.extend_from_slice(s.as_bytes());
        }
        lenenc(&mut expect, attrs.len() as u64);
        expect.extend_from_slice(&attrs);
        assert_eq!(out, expect);
    }

    // The HandshakeResponse41 example of the MySQL protocol documentation:
    // user "pam", a 20-byte native scramble, schema "test".
    #[test]
    fn doc_example_handshake_response_decodes_and_reencodes() {
        let bytes =
            hex("54 00 00 01 8d a6 0f 00 00 00 00 01 08 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
             00 00 00 00 70 61 6d 00 14 ab 09 ee f6 bc b1 32 3e 61 14 38 65 c0 99 1d 95 7d 75 d4 47 74 65 73
             74 00 6d 79 73 71 6c 5f 6e 61 74 69 76 65 5f 70 61 73 73 77 6f 72 64 00");
        assert_eq!(bytes.len(), 4 + 0x54);
        let Ok(ClientHello::Response(r)) = ClientHello::decode(&bytes[4..]) else { panic!("doc example") };
        assert_eq!(r.capabilities, Capabilities(0x000f_a68d));
        assert!(r.capabilities.contains(Capabilities::PROTOCOL_41 | Capabilities::SECURE_CONNECTION));
        assert_eq!(r.max_packet_size, 1 << 24);
        assert_eq!(r.collation, Collation::LATIN1_SWEDISH_CI);
        assert_eq!(r.user, "pam");
        assert_eq!(r.auth_response, &bytes[41..61]);
        assert_eq!(r.database, Some("test"));
        assert_eq!(r.auth_plugin, Some("mysql_native_password"));
        let mut out = Vec::new();
        r.encode(&mut out);
        assert_eq!(out, &bytes[4..]);
    }

    #[test]
    fn short_ssl_packet_is_an_ssl_request() {
        let req = SslRequest {
            capabilities: Capabilities::PROTOCOL_41 | Capabilities::SSL,
            max_packet_size: 1 << 24,
            collation: Collation::UTF8MB4_0900_AI_CI,
        };
        let mut out = Vec::new();
        req.encode(&mut out);
        assert_eq!(out.len(), RESPONSE_FIXED_LEN);
        assert_eq!(ClientHello::decode(&out), Ok(ClientHello::SslRequest(req)));
        assert_every_truncation_fails(&out, ClientHello::decode);
    }

    #[test]
    fn pre_41_clients_are_refused() {
        let mut out = Vec::new();
        put_u32(&mut out, Capabilities::SECURE_CONNECTION.bits());
        out.extend_from_slice(&[0; 28]);
        assert_eq!(ClientHello::decode(&out), Err(ProtocolError::ClientTooOld));
    }

    #[test]
    fn user_must_be_utf8() {
        let mut resp = response();
        resp.user = "x";
        let mut out = Vec::new();
        resp.encode(&mut out);
        out[32] = 0xff;
        assert!(matches!(ClientHello::decode(&out), Err(ProtocolError::InvalidUtf8 { field: "user", .. })));
    }

    #[test]
    fn auth_switch_request_round_trips() {
        let mut out = Vec::new();
        encode_auth_switch_request(&mut out, &AuthPlugin::NativePassword, b"abcdefghijklmnopqrst\0");
        assert_eq!(&out[..23], b"\xfemysql_native_password\0");
        let (p, data) = decode_auth_switch_request(&out).expect("valid");
        assert_eq!(p, AuthPlugin::NativePassword);
        assert_eq!(data, b"abcdefghijklmnopqrst\0");
        assert_every_truncation_fails(&out[..23], decode_auth_switch_request);
        let mut more = Vec::new();
        encode_auth_more_data(&mut more, &[SHA2_FAST_AUTH_SUCCESS]);
        assert_eq!(more, vec![0x01, 0x03]);
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic_the_handshake_decoders(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..120)) {
            let _ = ClientHello::decode(&bytes);
            let _ = Greeting::decode(&bytes);
            let _ = decode_auth_switch_request(&bytes);
            // With a valid fixed part, the variable part is what gets exercised.
            let mut b = vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 45];
            b.extend_from_slice(&[0; 23]);
            b.extend_from_slice(&bytes);
            let _ = ClientHello::decode(&b);
        }
    }
}
