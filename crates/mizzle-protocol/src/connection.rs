//! The connection phase as a sans-IO state machine: greeting, optional TLS
//! upgrade, handshake response, authentication (with plugin switch and the
//! `caching_sha2_password` fast and full paths), then OK or ERR.
//!
//! The server feeds bytes ([`ServerHandshake::feed`]), calls
//! [`ServerHandshake::step`] and sends whatever was appended to its output
//! buffer. Password decisions are delegated to a [`CredentialStore`].
//!
//! States and transitions (the function performing each in brackets):
//!
//! ```text
//! AwaitingResponse ──SSLRequest──▶ AwaitingTls ──[tls_established]──▶ AwaitingResponseAfterTls
//!        │                                                                   │
//!        └──────────────── HandshakeResponse41 [step] ◀──────────────────────┘
//!                                   │
//!     client plugin ≠ account plugin├──▶ AwaitingSwitchResponse ──[step]──┐
//!                                   ▼                                    │
//!                              verify ◀───────────────────────────────────┘
//!      native / sha2 fast ok ──▶ Authenticated ──[accept]──▶ (OK written, Established)
//!      sha2 cache miss (0x04) ──▶ AwaitingPassword ──[step]──▶ Authenticated
//!      any failure ──▶ Failed (ERR written; the caller closes)
//! ```
//!
//! Invariants:
//! 1. Every packet written carries the sequence id after the last one read
//!    or written, and the decoder expects the one after that; after
//!    [`ServerHandshake::accept`] the decoder expects 0 (command phase).
//! 2. A password (full authentication) is accepted only over a secure
//!    transport (TLS, or a local socket the server declares secure); RSA
//!    key exchange is not offered, so a public key request fails with
//!    [`ProtocolError::SecureTransportRequired`].
//! 3. No bytes may be buffered between an SSLRequest and the TLS handshake
//!    (they would be plaintext injected into the encrypted session).
//! 4. An unknown user goes through the same exchange as a known one with
//!    the server's default plugin and fails at verification, so the
//!    response does not reveal whether the account exists.
//! 5. After an error the machine is `Failed`, an ERR is in the output, and
//!    every further call fails.
//!
//! This module does not read sockets, do TLS, generate randomness (the
//! scramble is given), or check the requested schema (the caller does, then
//! calls [`ServerHandshake::accept`] or [`ServerHandshake::reject`]).

use std::borrow::Cow;

use mizzle_types::SqlError;

use crate::auth::{self, NativeHash, Scramble, Sha2CacheEntry};
use crate::charset::Collation;
use crate::command::ChangeUser;
use crate::error::ProtocolError;
use crate::flags::{Capabilities, StatusFlags};
use crate::frame::{FrameDecoder, PacketWriter, SequenceId, DEFAULT_MAX_ALLOWED_PACKET};
use crate::handshake::{
    encode_auth_more_data, encode_auth_switch_request, AuthPlugin, ClientHello, ConnectionId, Greeting,
    HandshakeResponse, SHA2_FAST_AUTH_SUCCESS, SHA2_PERFORM_FULL_AUTH, SHA2_REQUEST_PUBLIC_KEY,
};
use crate::response::{ErrPacket, OkPacket};

/// Capabilities mizzle can honour. QUERY_ATTRIBUTES is parsed but not
/// offered by default (the engine has no use for attributes yet);
/// compression, optional metadata, multi-factor auth and LOCAL INFILE are
/// never offered.
pub const SUPPORTED_CAPABILITIES: Capabilities = Capabilities(
    Capabilities::LONG_PASSWORD.bits()
        | Capabilities::FOUND_ROWS.bits()
        | Capabilities::LONG_FLAG.bits()
        | Capabilities::LOCAL_FILES.bits()
        | Capabilities::CONNECT_WITH_DB.bits()
        | Capabilities::NO_SCHEMA.bits()
        | Capabilities::ODBC.bits()
        | Capabilities::IGNORE_SPACE.bits()
        | Capabilities::PROTOCOL_41.bits()
        | Capabilities::INTERACTIVE.bits()
        | Capabilities::SSL.bits()
        | Capabilities::IGNORE_SIGPIPE.bits()
        | Capabilities::TRANSACTIONS.bits()
        | Capabilities::RESERVED.bits()
        | Capabilities::SECURE_CONNECTION.bits()
        | Capabilities::MULTI_STATEMENTS.bits()
        | Capabilities::MULTI_RESULTS.bits()
        | Capabilities::PS_MULTI_RESULTS.bits()
        | Capabilities::PLUGIN_AUTH.bits()
        | Capabilities::CONNECT_ATTRS.bits()
        | Capabilities::PLUGIN_AUTH_LENENC_CLIENT_DATA.bits()
        | Capabilities::CAN_HANDLE_EXPIRED_PASSWORDS.bits()
        | Capabilities::SESSION_TRACK.bits()
        | Capabilities::DEPRECATE_EOF.bits()
        | Capabilities::QUERY_ATTRIBUTES.bits(),
);

/// What a server offers by default: everything supported except TLS (added
/// when the server has a certificate) and query attributes.
pub const DEFAULT_CAPABILITIES: Capabilities =
    Capabilities(SUPPORTED_CAPABILITIES.bits() & !Capabilities::SSL.bits() & !Capabilities::QUERY_ATTRIBUTES.bits());

/// The server's side of the handshake, fixed per listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeConfig {
    /// The version string (MySQL clients parse its leading `8.0.x`).
    pub server_version: String,
    /// Capabilities offered; masked with [`SUPPORTED_CAPABILITIES`], and
    /// SSL is offered only when `tls_available`.
    pub capabilities: Capabilities,
    /// The server's default collation.
    pub collation: Collation,
    /// The plugin named in the greeting (and used for unknown users).
    pub default_auth_plugin: AuthPlugin,
    /// Whether the server can upgrade to TLS.
    pub tls_available: bool,
    /// Status flags in the greeting and the final OK.
    pub status: StatusFlags,
    /// The payload limit for client packets.
    pub max_allowed_packet: usize,
}

impl Default for HandshakeConfig {
    fn default() -> HandshakeConfig {
        HandshakeConfig {
            server_version: "8.0.36-mizzle".to_owned(),
            capabilities: DEFAULT_CAPABILITIES,
            collation: Collation::UTF8MB4_0900_AI_CI,
            default_auth_plugin: AuthPlugin::CachingSha2Password,
            tls_available: false,
            status: StatusFlags::AUTOCOMMIT,
            max_allowed_packet: DEFAULT_MAX_ALLOWED_PACKET,
        }
    }
}

impl HandshakeConfig {
    /// The capabilities the greeting carries.
    pub fn server_capabilities(&self) -> Capabilities {
        let mut c = self.capabilities & SUPPORTED_CAPABILITIES;
        c.set(Capabilities::SSL, self.tls_available);
        // Required for everything this crate speaks.
        c | Capabilities::PROTOCOL_41 | Capabilities::SECURE_CONNECTION | Capabilities::PLUGIN_AUTH
    }
}

/// An account's stored credential, as the server's authentication plugins
/// keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `mysql_native_password`; `None` for an account without a password.
    NativePassword(Option<NativeHash>),
    /// `caching_sha2_password`. `cached` is the fast-path entry
    /// (`SHA256(SHA256(pw))`) if the server has one; a store may keep it
    /// permanently, at the cost of storing an unsalted hash (as
    /// `mysql_native_password` does).
    CachingSha2Password {
        /// The fast-path cache entry, if any.
        cached: Option<Sha2CacheEntry>,
        /// True for an account without a password.
        empty_password: bool,
    },
}

impl Credential {
    fn plugin(&self) -> AuthPlugin {
        match self {
            Credential::NativePassword(_) => AuthPlugin::NativePassword,
            Credential::CachingSha2Password { .. } => AuthPlugin::CachingSha2Password,
        }
    }
}

/// The server's accounts, as the handshake needs them.
pub trait CredentialStore {
    /// The credential of `user` connecting from `host`, or `None` if there
    /// is no such account.
    fn credential(&mut self, user: &str, host: &str) -> Option<Credential>;

    /// Full `caching_sha2_password` authentication: whether `password` is
    /// right for the account. On success a store typically caches
    /// [`Sha2CacheEntry::of_password`] for later fast authentication.
    fn verify_password(&mut self, user: &str, host: &str, password: &[u8]) -> bool;
}

/// What an authenticated client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The user name.
    pub user: String,
    /// The schema to use, which the caller must check before accepting.
    pub database: Option<String>,
    /// The negotiated capabilities (client's ∩ server's).
    pub capabilities: Capabilities,
    /// The client's collation.
    pub collation: Collation,
    /// The client's largest packet.
    pub max_packet_size: u32,
    /// Connection attributes.
    pub attributes: Vec<(String, String)>,
    /// The plugin that authenticated the client.
    pub auth_plugin: AuthPlugin,
    /// Whether the transport is TLS or declared secure.
    pub secure: bool,
}

/// The result of authentication, handed over to the command phase.
#[derive(Debug)]
pub struct Established {
    /// The client.
    pub client: ClientInfo,
    /// The frame decoder, expecting sequence id 0, with any bytes the client
    /// pipelined after its last handshake packet.
    pub decoder: FrameDecoder,
}

/// What [`ServerHandshake::step`] achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeStep {
    /// Output (if any) was written; more client bytes are needed.
    NeedMore,
    /// Flush the output, run the TLS handshake, then call
    /// [`ServerHandshake::tls_established`] and feed decrypted bytes.
    StartTls,
    /// Authentication succeeded: check [`ClientInfo::database`], then call
    /// [`ServerHandshake::accept`] (OK) or [`ServerHandshake::reject`] (ERR).
    Authenticated(Box<ClientInfo>),
}

#[derive(Debug)]
enum State {
    AwaitingResponse,
    AwaitingTls,
    AwaitingResponseAfterTls,
    AwaitingSwitchResponse { client: Box<ClientInfo>, credential: Option<Credential> },
    AwaitingPassword { client: Box<ClientInfo> },
    Authenticated { client: Box<ClientInfo> },
    Failed,
    Done,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::AwaitingResponse => "AwaitingResponse",
            State::AwaitingTls => "AwaitingTls",
            State::AwaitingResponseAfterTls => "AwaitingResponseAfterTls",
            State::AwaitingSwitchResponse { .. } => "AwaitingSwitchResponse",
            State::AwaitingPassword { .. } => "AwaitingPassword",
            State::Authenticated { .. } => "Authenticated",
            State::Failed => "Failed",
            State::Done => "Done",
        }
    }
}

/// The server side of one connection's handshake (see the module docs).
#[derive(Debug)]
pub struct ServerHandshake {
    config: HandshakeConfig,
    scramble: Scramble,
    peer_host: String,
    secure: bool,
    decoder: FrameDecoder,
    seq: SequenceId,
    caps: Capabilities,
    state: State,
    /// Whether an ERR was written (invariant 5: at most one).
    err_sent: bool,
    payload: Vec<u8>,
}

impl ServerHandshake {
    /// Starts a handshake and appends the greeting to `out`. `secure` says
    /// whether the transport is already secure (a Unix socket); `peer_host`
    /// appears in access-denied messages and is passed to the store.
    pub fn new(
        config: HandshakeConfig,
        connection_id: ConnectionId,
        scramble: Scramble,
        peer_host: &str,
        secure: bool,
        out: &mut Vec<u8>,
    ) -> ServerHandshake {
        let caps = config.server_capabilities();
        let greeting = Greeting {
            server_version: config.server_version.clone(),
            connection_id,
            scramble,
            capabilities: caps,
            collation: config.collation,
            status: config.status,
            auth_plugin: config.default_auth_plugin.clone(),
        };
        let mut w = PacketWriter::new(out, SequenceId::ZERO);
        w.packet(|o| greeting.encode(o));
        let seq = w.sequence();
        let mut decoder = FrameDecoder::new(config.max_allowed_packet);
        decoder.expect_sequence(seq);
        ServerHandshake {
            config,
            scramble,
            peer_host: peer_host.to_owned(),
            secure,
            decoder,
            seq,
            caps,
            state: State::AwaitingResponse,
            err_sent: false,
            payload: Vec::new(),
        }
    }

    /// Re-authentication for COM_CHANGE_USER (whose packet had sequence id
    /// `seq`): verifies its auth response, computed with the connection's
    /// original `scramble`, and continues like a handshake. `caps` are the
    /// connection's negotiated capabilities.
    #[allow(clippy::too_many_arguments)]
    pub fn change_user(
        config: HandshakeConfig,
        scramble: Scramble,
        peer_host: &str,
        secure: bool,
        caps: Capabilities,
        seq: SequenceId,
        request: &ChangeUser<'_>,
        store: &mut dyn CredentialStore,
        out: &mut Vec<u8>,
    ) -> Result<(ServerHandshake, HandshakeStep), ProtocolError> {
        let mut decoder = FrameDecoder::new(config.max_allowed_packet);
        decoder.expect_sequence(seq.next());
        let mut hs = ServerHandshake {
            config,
            scramble,
            peer_host: peer_host.to_owned(),
            secure,
            decoder,
            seq: seq.next(),
            caps,
            state: State::Failed,
            err_sent: false,
            payload: Vec::new(),
        };
        let client = ClientInfo {
            user: request.user.to_owned(),
            database: request.database.map(str::to_owned),
            capabilities: caps,
            collation: request.collation.unwrap_or(hs.config.collation),
            max_packet_size: 0,
            attributes: owned_attributes(&request.attributes),
            auth_plugin: AuthPlugin::NativePassword,
            secure,
        };
        let client_plugin = request.auth_plugin.map(AuthPlugin::from_name);
        let result = hs.authenticate(Box::new(client), client_plugin, request.auth_response, store, out);
        let step = hs.fail_on_error(result, out)?;
        Ok((hs, step))
    }

    /// Appends bytes received from the client (decrypted, after TLS).
    pub fn feed(&mut self, bytes: &[u8]) {
        self.decoder.feed(bytes);
    }

    /// Whether feeding `more` would give [`ServerHandshake::step`] a whole
    /// packet to act on ([`FrameDecoder::ready_with`]).
    pub fn ready_with(&self, more: &[u8]) -> bool {
        self.decoder.ready_with(more)
    }

    /// Processes buffered client packets, appending responses to `out`.
    pub fn step(&mut self, store: &mut dyn CredentialStore, out: &mut Vec<u8>) -> Result<HandshakeStep, ProtocolError> {
        let result = self.step_inner(store, out);
        self.fail_on_error(result, out)
    }

    /// Tells the machine the TLS handshake completed.
    pub fn tls_established(&mut self) -> Result<(), ProtocolError> {
        match self.state {
            State::AwaitingTls => {
                self.secure = true;
                self.state = State::AwaitingResponseAfterTls;
                Ok(())
            }
            ref other => Err(ProtocolError::UnexpectedPacket { state: other.name() }),
        }
    }

    /// Writes the final OK and hands over to the command phase (invariant 1).
    pub fn accept(mut self, out: &mut Vec<u8>) -> Result<Established, ProtocolError> {
        let State::Authenticated { client } = std::mem::replace(&mut self.state, State::Done) else {
            return Err(ProtocolError::UnexpectedPacket { state: self.state.name() });
        };
        let ok = OkPacket { status: self.config.status, ..OkPacket::default() };
        let mut w = PacketWriter::new(out, self.seq);
        w.packet(|o| ok.encode(self.caps, o));
        self.decoder.expect_sequence(SequenceId::ZERO);
        Ok(Established { client: *client, decoder: self.decoder })
    }

    /// Writes an ERR instead of the final OK (an unknown schema, too many
    /// connections...); the caller then closes.
    pub fn reject(mut self, error: &dyn SqlError, out: &mut Vec<u8>) {
        let mut w = PacketWriter::new(out, self.seq);
        w.packet(|o| ErrPacket::from_error(error).encode(self.caps | Capabilities::PROTOCOL_41, o));
        self.state = State::Failed;
        self.err_sent = true;
    }

    fn fail_on_error(
        &mut self,
        result: Result<HandshakeStep, ProtocolError>,
        out: &mut Vec<u8>,
    ) -> Result<HandshakeStep, ProtocolError> {
        if let Err(e) = &result {
            if !self.err_sent {
                let caps = if matches!(e, ProtocolError::ClientTooOld) {
                    Capabilities::empty()
                } else {
                    self.caps | Capabilities::PROTOCOL_41
                };
                let mut w = PacketWriter::new(out, self.seq);
                w.packet(|o| ErrPacket::from_error(e).encode(caps, o));
                self.seq = w.sequence();
                self.err_sent = true;
            }
            self.state = State::Failed;
        }
        result
    }

    fn write(&mut self, out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
        let mut w = PacketWriter::new(out, self.seq);
        w.packet(f);
        self.seq = w.sequence();
        self.decoder.expect_sequence(self.seq);
    }

    fn step_inner(
        &mut self,
        store: &mut dyn CredentialStore,
        out: &mut Vec<u8>,
    ) -> Result<HandshakeStep, ProtocolError> {
        match self.state {
            State::Failed | State::Done | State::Authenticated { .. } => {
                return Err(ProtocolError::UnexpectedPacket { state: self.state.name() })
            }
            State::AwaitingTls => return Ok(HandshakeStep::StartTls),
            _ => {}
        }
        let mut payload = std::mem::take(&mut self.payload);
        let Some(seq) = self.decoder.decode(&mut payload)? else {
            self.payload = payload;
            return Ok(HandshakeStep::NeedMore);
        };
        self.seq = seq.next();
        let step = self.on_packet(&payload, store, out);
        self.payload = payload;
        step
    }

    fn on_packet(
        &mut self,
        payload: &[u8],
        store: &mut dyn CredentialStore,
        out: &mut Vec<u8>,
    ) -> Result<HandshakeStep, ProtocolError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::AwaitingResponse | State::AwaitingResponseAfterTls => self.on_response(payload, store, out),
            State::AwaitingSwitchResponse { client, credential } => {
                self.verify(client, credential, payload, store, out)
            }
            State::AwaitingPassword { client } => self.on_password(client, payload, store, out),
            other => Err(ProtocolError::UnexpectedPacket { state: other.name() }),
        }
    }

    fn on_response(
        &mut self,
        payload: &[u8],
        store: &mut dyn CredentialStore,
        out: &mut Vec<u8>,
    ) -> Result<HandshakeStep, ProtocolError> {
        let response = match ClientHello::decode(payload)? {
            ClientHello::SslRequest(_) => {
                if self.secure {
                    return Err(ProtocolError::BadHandshake { reason: "SSLRequest on a secure transport" });
                }
                if !self.config.tls_available {
                    return Err(ProtocolError::BadHandshake { reason: "TLS requested but not available" });
                }
                // Invariant 3.
                if self.decoder.buffered() != 0 {
                    return Err(ProtocolError::BadHandshake { reason: "data sent before the TLS handshake" });
                }
                self.state = State::AwaitingTls;
                return Ok(HandshakeStep::StartTls);
            }
            ClientHello::Response(r) => r,
        };
        let HandshakeResponse {
            capabilities,
            max_packet_size,
            collation,
            user,
            auth_response,
            database,
            auth_plugin,
            ..
        } = &response;
        self.caps = *capabilities & self.config.server_capabilities();
        let client = ClientInfo {
            user: (*user).to_owned(),
            database: database.map(str::to_owned),
            capabilities: self.caps,
            collation: *collation,
            max_packet_size: *max_packet_size,
            attributes: owned_attributes(&response.attributes),
            auth_plugin: AuthPlugin::NativePassword,
            secure: self.secure,
        };
        // A client without CLIENT_PLUGIN_AUTH answers with the native scramble.
        let client_plugin = if capabilities.contains(Capabilities::PLUGIN_AUTH) {
            auth_plugin.map(AuthPlugin::from_name)
        } else {
            Some(AuthPlugin::NativePassword)
        };
        self.authenticate(Box::new(client), client_plugin, auth_response, store, out)
    }

    /// Picks the account's plugin; verifies at once if the client used it,
    /// or asks the client to switch.
    fn authenticate(
        &mut self,
        mut client: Box<ClientInfo>,
        client_plugin: Option<AuthPlugin>,
        auth_response: &[u8],
        store: &mut dyn CredentialStore,
        out: &mut Vec<u8>,
    ) -> Result<HandshakeStep, ProtocolError> {
        let credential = store.credential(&client.user, &self.peer_host);
        // Invariant 4: unknown users get the default plugin.
        let plugin = credential.as_ref().map_or_else(|| self.config.default_auth_plugin.clone(), Credential::plugin);
        client.auth_plugin = plugin.clone();
        if client_plugin.as_ref() == Some(&plugin) {
            return self.verify(client, credential, auth_response, store, out);
        }
        if !self.caps.contains(Capabilities::PLUGIN_AUTH) {
            return Err(self.denied(&client, !auth_response.is_empty()));
        }
        let mut data = self.scramble.as_bytes().to_vec();
        data.push(0);
        self.write(out, |o| encode_auth_switch_request(o, &plugin, &data));
        self.state = State::AwaitingSwitchResponse { client, credential };
        Ok(HandshakeStep::NeedMore)
    }

    fn verify(
        &mut self,
        client: Box<ClientInfo>,
        credential: Option<Credential>,
        response: &[u8],
        _store: &mut dyn CredentialStore,
        out: &mut Vec<u8>,
    ) -> Result<HandshakeStep, ProtocolError> {
        // Some clients send a lone NUL for an empty password.
        let response = if response == [0] { &[][..] } else { response };
        let using_password = !response.is_empty();
        match credential {
            None => Err(self.denied(&client, using_password)),
            Some(Credential::NativePassword(stored)) => {
                if auth::verify_native(&self.scramble, response, stored.as_ref()) {
                    self.authenticated(client)
                } else {
                    Err(self.denied(&client, using_password))
                }
            }
            Some(Credential::CachingSha2Password { cached, empty_password }) => {
                if empty_password || !using_password {
                    return if empty_password && !using_password {
                        self.authenticated(client)
                    } else {
                        Err(self.denied(&client, using_password))
                    };
                }
                if cached.is_some_and(|c| auth::verify_sha2_fast(&self.scramble, response, &c)) {
                    self.write(out, |o| encode_auth_more_data(o, &[SHA2_FAST_AUTH_SUCCESS]));
                    return self.authenticated(client);
                }
                // Cache miss or mismatch: ask for the password, as MySQL does.
                self.write(out, |o| encode_auth_more_data(o, &[SHA2_PERFORM_FULL_AUTH]));
                self.state = State::AwaitingPassword { client };
                Ok(HandshakeStep::NeedMore)
            }
        }
    }

    fn on_password(
        &mut self,
        client: Box<ClientInfo>,
        payload: &[u8],
        store: &mut dyn CredentialStore,
        _out: &mut Vec<u8>,
    ) -> Result<HandshakeStep, ProtocolError> {
        // Invariant 2.
        if !self.secure {
            return Err(if payload == [SHA2_REQUEST_PUBLIC_KEY] {
                ProtocolError::SecureTransportRequired { user: client.user.clone() }
            } else {
                self.denied(&client, true)
            });
        }
        let password = payload.strip_suffix(&[0]).unwrap_or(payload);
        if store.verify_password(&client.user, &self.peer_host, password) {
            self.authenticated(client)
        } else {
            Err(self.denied(&client, !password.is_empty()))
        }
    }

    fn authenticated(&mut self, client: Box<ClientInfo>) -> Result<HandshakeStep, ProtocolError> {
        let info = client.clone();
        self.state = State::Authenticated { client };
        Ok(HandshakeStep::Authenticated(info))
    }

    fn denied(&self, client: &ClientInfo, using_password: bool) -> ProtocolError {
        ProtocolError::AccessDenied { user: client.user.clone(), host: self.peer_host.clone(), using_password }
    }
}

fn owned_attributes(attrs: &[(Cow<'_, str>, Cow<'_, str>)]) -> Vec<(String, String)> {
    attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;
    use crate::handshake::{decode_auth_switch_request, SslRequest};
    use crate::response::ErrPacket;
    use mizzle_types::ErrorCode;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Store {
        accounts: HashMap<String, (Credential, Vec<u8>)>,
        full_auths: usize,
    }

    impl Store {
        fn with(user: &str, c: Credential, password: &[u8]) -> Store {
            let mut s = Store::default();
            s.accounts.insert(user.to_owned(), (c, password.to_vec()));
            s
        }
    }

    impl CredentialStore for Store {
        fn credential(&mut self, user: &str, _host: &str) -> Option<Credential> {
            self.accounts.get(user).map(|(c, _)| c.clone())
        }
        fn verify_password(&mut self, user: &str, _host: &str, password: &[u8]) -> bool {
            self.full_auths += 1;
            let Some((c, pw)) = self.accounts.get_mut(user) else { return false };
            if pw.as_slice() != password {
                return false;
            }
            if let Credential::CachingSha2Password { cached, .. } = c {
                *cached = Some(Sha2CacheEntry::of_password(password));
            }
            true
        }
    }

    /// A scripted client: reads server packets, writes its own.
    struct Client {
        dec: FrameDecoder,
        seq: SequenceId,
        scramble: Option<Scramble>,
    }

    impl Client {
        fn new() -> Client {
            Client { dec: FrameDecoder::new(1 << 24), seq: SequenceId::ZERO, scramble: None }
        }
        fn read(&mut self, bytes: &mut Vec<u8>) -> Vec<Vec<u8>> {
            self.dec.expect_sequence(self.seq);
            self.dec.feed(bytes);
            bytes.clear();
            let mut all = Vec::new();
            let mut p = Vec::new();
            while let Some(s) = self.dec.decode(&mut p).expect("server frames") {
                self.seq = s.next();
                all.push(p.clone());
            }
            all
        }
        fn greet(&mut self, bytes: &mut Vec<u8>) -> Greeting {
            let p = self.read(bytes);
            let g = Greeting::decode(&p[0]).expect("greeting");
            self.scramble = Some(g.scramble);
            g
        }
        fn send(&mut self, payload: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            let mut w = PacketWriter::new(&mut out, self.seq);
            w.write(payload);
            self.seq = w.sequence();
            out
        }
        fn response(&mut self, user: &str, plugin: &str, auth: &[u8], extra: Capabilities) -> Vec<u8> {
            let r = HandshakeResponse {
                capabilities: Capabilities::PROTOCOL_41
                    | Capabilities::SECURE_CONNECTION
                    | Capabilities::PLUGIN_AUTH
                    | Capabilities::PLUGIN_AUTH_LENENC_CLIENT_DATA
                    | Capabilities::CONNECT_WITH_DB
                    | Capabilities::DEPRECATE_EOF
                    | extra,
                max_packet_size: 1 << 24,
                collation: Collation::UTF8MB4_GENERAL_CI,
                user,
                auth_response: auth,
                database: Some("db1"),
                auth_plugin: Some(plugin),
                attributes: vec![],
            };
            let mut p = Vec::new();
            r.encode(&mut p);
            self.send(&p)
        }
    }

    fn start(config: HandshakeConfig, secure: bool) -> (ServerHandshake, Client, Vec<u8>) {
        let mut out = Vec::new();
        let hs = ServerHandshake::new(
            config,
            ConnectionId(7),
            Scramble::from_random(*b"0123456789abcdefghij"),
            "localhost",
            secure,
            &mut out,
        );
        (hs, Client::new(), out)
    }

    fn native_store() -> Store {
        Store::with("bob", Credential::NativePassword(Some(NativeHash::of_password(b"pw"))), b"pw")
    }

    #[test]
    fn native_password_first_try() {
        let config = HandshakeConfig { default_auth_plugin: AuthPlugin::NativePassword, ..HandshakeConfig::default() };
        let (mut hs, mut c, mut out) = start(config, false);
        let g = c.greet(&mut out);
        assert_eq!(g.auth_plugin, AuthPlugin::NativePassword);
        assert!(!g.capabilities.contains(Capabilities::SSL));
        let resp = auth::native_response(b"pw", &g.scramble);
        hs.feed(&c.response("bob", "mysql_native_password", &resp, Capabilities::empty()));
        let mut store = native_store();
        let step = hs.step(&mut store, &mut out).expect("authenticated");
        let HandshakeStep::Authenticated(info) = step else { panic!("{step:?}") };
        assert_eq!(info.user, "bob");
        assert_eq!(info.database.as_deref(), Some("db1"));
        assert!(info.capabilities.contains(Capabilities::DEPRECATE_EOF));
        assert!(out.is_empty());
        let est = hs.accept(&mut out).expect("accepted");
        let p = c.read(&mut out);
        assert_eq!(p, vec![vec![0, 0, 0, 2, 0, 0, 0]]);
        assert_eq!(est.decoder.expected_sequence(), SequenceId::ZERO);
    }

    #[test]
    fn wrong_native_password_is_access_denied_with_err_packet() {
        let config = HandshakeConfig { default_auth_plugin: AuthPlugin::NativePassword, ..HandshakeConfig::default() };
        let (mut hs, mut c, mut out) = start(config, false);
        let g = c.greet(&mut out);
        let resp = auth::native_response(b"nope", &g.scramble);
        hs.feed(&c.response("bob", "mysql_native_password", &resp, Capabilities::empty()));
        let err = hs.step(&mut native_store(), &mut out).expect_err("denied");
        assert_eq!(
            err,
            ProtocolError::AccessDenied { user: "bob".into(), host: "localhost".into(), using_password: true }
        );
        let p = c.read(&mut out);
        let e = ErrPacket::decode(&p[0], Capabilities::PROTOCOL_41).expect("err");
        assert_eq!(e.number, ErrorCode::AccessDenied.number());
        assert_eq!(&e.sqlstate, b"28000");
        assert!(hs.step(&mut native_store(), &mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn client_with_other_plugin_is_switched() {
        // Server default is caching_sha2; the account is native; the client
        // answered for caching_sha2 and must switch.
        let (mut hs, mut c, mut out) = start(HandshakeConfig::default(), false);
        let g = c.greet(&mut out);
        let first = auth::sha2_response(b"pw", &g.scramble);
        hs.feed(&c.response("bob", "caching_sha2_password", &first, Capabilities::empty()));
        let mut store = native_store();
        assert_eq!(hs.step(&mut store, &mut out), Ok(HandshakeStep::NeedMore));
        let p = c.read(&mut out);
        let (plugin, data) = decode_auth_switch_request(&p[0]).expect("switch");
        assert_eq!(plugin, AuthPlugin::NativePassword);
        assert_eq!(&data[..20], g.scramble.as_bytes());
        assert_eq!(data[20], 0);
        hs.feed(&c.send(&auth::native_response(b"pw", &g.scramble)));
        assert!(matches!(hs.step(&mut store, &mut out), Ok(HandshakeStep::Authenticated(_))));
        hs.accept(&mut out).expect("ok");
        assert_eq!(c.read(&mut out).len(), 1);
        assert_eq!(c.seq, SequenceId(5));
    }

    fn sha2_store(cached: bool) -> Store {
        Store::with(
            "amy",
            Credential::CachingSha2Password {
                cached: cached.then(|| Sha2CacheEntry::of_password(b"secret")),
                empty_password: false,
            },
            b"secret",
        )
    }

    #[test]
    fn caching_sha2_fast_path_sends_0x03_then_ok() {
        let (mut hs, mut c, mut out) = start(HandshakeConfig::default(), false);
        let g = c.greet(&mut out);
        hs.feed(&c.response(
            "amy",
            "caching_sha2_password",
            &auth::sha2_response(b"secret", &g.scramble),
            Capabilities::empty(),
        ));
        let mut store = sha2_store(true);
        assert!(matches!(hs.step(&mut store, &mut out), Ok(HandshakeStep::Authenticated(_))));
        hs.accept(&mut out).expect("ok");
        let p = c.read(&mut out);
        assert_eq!(p, vec![vec![0x01, 0x03], vec![0, 0, 0, 2, 0, 0, 0]]);
        assert_eq!(store.full_auths, 0);
    }

    #[test]
    fn caching_sha2_cache_miss_without_tls_refuses_the_public_key_request() {
        let (mut hs, mut c, mut out) = start(HandshakeConfig::default(), false);
        let g = c.greet(&mut out);
        hs.feed(&c.response(
            "amy",
            "caching_sha2_password",
            &auth::sha2_response(b"secret", &g.scramble),
            Capabilities::empty(),
        ));
        let mut store = sha2_store(false);
        assert_eq!(hs.step(&mut store, &mut out), Ok(HandshakeStep::NeedMore));
        assert_eq!(c.read(&mut out), vec![vec![0x01, 0x04]]);
        hs.feed(&c.send(&[0x02]));
        assert_eq!(hs.step(&mut store, &mut out), Err(ProtocolError::SecureTransportRequired { user: "amy".into() }));
        let p = c.read(&mut out);
        assert_eq!(p[0][0], 0xFF);
        assert_eq!(store.full_auths, 0);
    }

    #[test]
    fn cleartext_password_over_an_insecure_transport_is_never_checked() {
        let (mut hs, mut c, mut out) = start(HandshakeConfig::default(), false);
        let g = c.greet(&mut out);
        hs.feed(&c.response(
            "amy",
            "caching_sha2_password",
            &auth::sha2_response(b"secret", &g.scramble),
            Capabilities::empty(),
        ));
        let mut store = sha2_store(false);
        hs.step(&mut store, &mut out).expect("asks for full auth");
        assert_eq!(c.read(&mut out), vec![vec![0x01, 0x04]]);
        hs.feed(&c.send(b"secret\0"));
        assert!(matches!(hs.step(&mut store, &mut out), Err(ProtocolError::AccessDenied { .. })));
        assert_eq!(store.full_auths, 0);
    }

    #[test]
    fn tls_upgrade_then_caching_sha2_full_authentication() {
        let config = HandshakeConfig { tls_available: true, ..HandshakeConfig::default() };
        let (mut hs, mut c, mut out) = start(config, false);
        let g = c.greet(&mut out);
        assert!(g.capabilities.contains(Capabilities::SSL));
        let mut ssl = Vec::new();
        SslRequest {
            capabilities: Capabilities::PROTOCOL_41 | Capabilities::SSL,
            max_packet_size: 1 << 24,
            collation: Collation::UTF8MB4_0900_AI_CI,
        }
        .encode(&mut ssl);
        hs.feed(&c.send(&ssl));
        let mut store = sha2_store(false);
        assert_eq!(hs.step(&mut store, &mut out), Ok(HandshakeStep::StartTls));
        assert!(out.is_empty());
        assert_eq!(hs.step(&mut store, &mut out), Ok(HandshakeStep::StartTls));
        hs.tls_established().expect("was waiting");
        let resp = auth::sha2_response(b"secret", &g.scramble);
        hs.feed(&c.response("amy", "caching_sha2_password", &resp, Capabilities::SSL));
        assert_eq!(hs.step(&mut store, &mut out), Ok(HandshakeStep::NeedMore));
        assert_eq!(c.read(&mut out), vec![vec![0x01, 0x04]]);
        hs.feed(&c.send(b"secret\0"));
        let HandshakeStep::Authenticated(info) = hs.step(&mut store, &mut out).expect("ok") else { panic!() };
        assert!(info.secure);
        assert!(info.capabilities.contains(Capabilities::SSL));
        hs.accept(&mut out).expect("ok");
        assert_eq!(c.read(&mut out), vec![vec![0, 0, 0, 2, 0, 0, 0]]);
        // Sequence: greeting 0, SSLRequest 1, response 2, 0x04 3, password 4, OK 5.
        assert_eq!(c.seq, SequenceId(6));
        assert_eq!(store.full_auths, 1);
        // The entry is now cached: the next connection takes the fast path.
        let (mut hs, mut c, mut out) = start(HandshakeConfig::default(), false);
        let g = c.greet(&mut out);
        hs.feed(&c.response(
            "amy",
            "caching_sha2_password",
            &auth::sha2_response(b"secret", &g.scramble),
            Capabilities::empty(),
        ));
        assert!(matches!(hs.step(&mut store, &mut out), Ok(HandshakeStep::Authenticated(_))));
    }

    #[test]
    fn bytes_smuggled_after_ssl_request_are_refused() {
        let config = HandshakeConfig { tls_available: true, ..HandshakeConfig::default() };
        let (mut hs, mut c, mut out) = start(config, false);
        c.greet(&mut out);
        let mut ssl = Vec::new();
        SslRequest {
            capabilities: Capabilities::PROTOCOL_41 | Capabilities::SSL,
            max_packet_size: 1 << 24,
            collation: Collation::UTF8MB4_0900_AI_CI,
        }
        .encode(&mut ssl);
        let mut bytes = c.send(&ssl);
        bytes.extend_from_slice(&c.send(&[0x0e]));
        hs.feed(&bytes);
        assert_eq!(
            hs.step(&mut Store::default(), &mut out),
            Err(ProtocolError::BadHandshake { reason: "data sent before the TLS handshake" })
        );
    }

    #[test]
    fn ssl_request_without_tls_is_refused() {
        let (mut hs, mut c, mut out) = start(HandshakeConfig::default(), false);
        c.greet(&mut out);
        let mut ssl = Vec::new();
        SslRequest { capabilities: Capabilities::PROTOCOL_41, max_packet_size: 0, collation: Collation::BINARY }
            .encode(&mut ssl);
        hs.feed(&c.send(&ssl));
        assert!(matches!(hs.step(&mut Store::default(), &mut out), Err(ProtocolError::BadHandshake { .. })));
        assert!(hs.tls_established().is_err());
    }

    #[test]
    fn unknown_user_fails_only_after_the_exchange() {
        let (mut hs, mut c, mut out) = start(HandshakeConfig::default(), false);
        let g = c.greet(&mut out);
        // Client uses native; unknown users get the default plugin (sha2), so
        // the server switches exactly as for a real sha2 account.
        hs.feed(&c.response(
            "ghost",
            "mysql_native_password",
            &auth::native_response(b"x", &g.scramble),
            Capabilities::empty(),
        ));
        assert_eq!(hs.step(&mut Store::default(), &mut out), Ok(HandshakeStep::NeedMore));
        let p = c.read(&mut out);
        assert_eq!(decode_auth_switch_request(&p[0]).expect("switch").0, AuthPlugin::CachingSha2Password);
        hs.feed(&c.send(&auth::sha2_response(b"x", &g.scramble)));
        assert!(matches!(hs.step(&mut Store::default(), &mut out), Err(ProtocolError::AccessDenied { .. })));
    }

    #[test]
    fn empty_passwords() {
        let mut store = Store::with("e", Credential::CachingSha2Password { cached: None, empty_password: true }, b"");
        store.accounts.insert("n".into(), (Credential::NativePassword(None), vec![]));
        for (user, plugin) in [("e", "caching_sha2_password"), ("n", "mysql_native_password")] {
            let (mut hs, mut c, mut out) = start(HandshakeConfig::default(), false);
            c.greet(&mut out);
            hs.feed(&c.response(user, plugin, b"", Capabilities::empty()));
            assert!(matches!(hs.step(&mut store, &mut out), Ok(HandshakeStep::Authenticated(_))), "{user}");
            // A password for a password-less account is refused.
            let (mut hs, mut c, mut out) = start(HandshakeConfig::default(), false);
            let g = c.greet(&mut out);
            hs.feed(&c.response(user, plugin, &auth::sha2_response(b"x", &g.scramble)[..20], Capabilities::empty()));
            assert!(hs.step(&mut store, &mut out).is_err(), "{user}");
        }
    }

    #[test]
    fn reject_sends_err_with_the_next_sequence_id() {
        let config = HandshakeConfig { default_auth_plugin: AuthPlugin::NativePassword, ..HandshakeConfig::default() };
        let (mut hs, mut c, mut out) = start(config, false);
        let g = c.greet(&mut out);
        hs.feed(&c.response(
            "bob",
            "mysql_native_password",
            &auth::native_response(b"pw", &g.scramble),
            Capabilities::empty(),
        ));
        hs.step(&mut native_store(), &mut out).expect("authenticated");
        hs.reject(&ProtocolError::UnknownCommand { code: 1 }, &mut out);
        let p = c.read(&mut out);
        assert_eq!(p[0][0], 0xFF);
    }

    #[test]
    fn packets_split_across_feeds_and_bad_sequence() {
        let config = HandshakeConfig { default_auth_plugin: AuthPlugin::NativePassword, ..HandshakeConfig::default() };
        let (mut hs, mut c, mut out) = start(config, false);
        let g = c.greet(&mut out);
        let bytes = c.response(
            "bob",
            "mysql_native_password",
            &auth::native_response(b"pw", &g.scramble),
            Capabilities::empty(),
        );
        let mut store = native_store();
        for b in &bytes[..bytes.len() - 1] {
            hs.feed(std::slice::from_ref(b));
            assert_eq!(hs.step(&mut store, &mut out), Ok(HandshakeStep::NeedMore));
        }
        hs.feed(&bytes[bytes.len() - 1..]);
        assert!(matches!(hs.step(&mut store, &mut out), Ok(HandshakeStep::Authenticated(_))));

        let (mut hs, _c, mut out) = start(HandshakeConfig::default(), false);
        out.clear();
        hs.feed(&[1, 0, 0, 5, 0]);
        assert_eq!(hs.step(&mut store, &mut out), Err(ProtocolError::BadSequence { got: 5, expected: 1 }));
        assert_eq!(out[4], 0xFF);
    }

    #[test]
    fn change_user_reauthenticates_with_the_connection_scramble() {
        let scramble = Scramble::from_random([3; 20]);
        let caps = DEFAULT_CAPABILITIES;
        let mut payload = vec![crate::command::COM_CHANGE_USER];
        payload.extend_from_slice(b"bob\0\x14");
        payload.extend_from_slice(&auth::native_response(b"pw", &scramble));
        payload.extend_from_slice(b"db2\0\xff\x00mysql_native_password\0");
        let Ok(Command::ChangeUser(req)) = Command::parse(&payload, caps) else { panic!() };
        let mut out = Vec::new();
        let (hs, step) = ServerHandshake::change_user(
            HandshakeConfig::default(),
            scramble,
            "localhost",
            false,
            caps,
            SequenceId::ZERO,
            &req,
            &mut native_store(),
            &mut out,
        )
        .expect("authenticated");
        let HandshakeStep::Authenticated(info) = step else { panic!() };
        assert_eq!(info.database.as_deref(), Some("db2"));
        hs.accept(&mut out).expect("ok");
        assert_eq!(&out[..4], &[7, 0, 0, 1]);
    }
}
