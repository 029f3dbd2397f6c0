//! Password scrambles of the two supported authentication plugins, and
//! their verification against stored hashes.
//!
//! * `mysql_native_password`: the client sends
//!   `SHA1(pw) XOR SHA1(nonce ‖ SHA1(SHA1(pw)))`; the server stores
//!   `SHA1(SHA1(pw))`, recovers `SHA1(pw)` from the response and checks
//!   that its SHA1 equals the stored hash.
//! * `caching_sha2_password` fast path: the client sends
//!   `SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) ‖ nonce)`; the server keeps
//!   a cache entry `SHA256(SHA256(pw))` and checks the same way. Full
//!   authentication (cache miss) receives the password itself over a
//!   secure transport and leaves its verification to the caller.
//!
//! Invariants:
//! 1. Comparisons of secrets take time independent of where they differ
//!    ([`constant_time_eq`]: no early exit, fixed-size inputs).
//! 2. The nonce is 20 bytes, each in `1..=127` and never `$` (as MySQL's
//!    `generate_user_salt`): it travels NUL-terminated in the handshake.
//! 3. Randomness comes from the caller ([`Scramble::from_random`]); nothing
//!    here reads a clock or an RNG.
//!
//! This module does not store credentials or cache entries, and does not
//! parse MySQL's `authentication_string` formats.

use sha1::{Digest, Sha1};
use sha2::Sha256;

/// Length of the nonce ("scramble", "auth plugin data").
pub const SCRAMBLE_LEN: usize = 20;

/// The 20-byte nonce a server sends in its greeting.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Scramble([u8; SCRAMBLE_LEN]);

impl std::fmt::Debug for Scramble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scramble(..)")
    }
}

impl Scramble {
    /// A nonce from 20 random bytes, mapped into `1..=127` without `$`
    /// (invariant 2). The caller supplies the randomness (STYLE.md §7.4).
    pub fn from_random(bytes: [u8; SCRAMBLE_LEN]) -> Scramble {
        Scramble(bytes.map(|b| match b & 0x7F {
            0 => 1,
            b'$' => b'$' + 1,
            v => v,
        }))
    }

    /// A nonce exactly as given (for tests and client-side use); `None` if a
    /// byte is NUL, which could not travel in the greeting.
    pub fn from_bytes(bytes: [u8; SCRAMBLE_LEN]) -> Option<Scramble> {
        bytes.iter().all(|&b| b != 0).then_some(Scramble(bytes))
    }

    /// The nonce bytes.
    pub fn as_bytes(&self) -> &[u8; SCRAMBLE_LEN] {
        &self.0
    }
}

/// Compares two equal-length secrets in time independent of their
/// contents; different lengths compare unequal at once (lengths are public).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn xor<const N: usize>(a: [u8; N], b: [u8; N]) -> [u8; N] {
    let mut out = a;
    for (o, x) in out.iter_mut().zip(b) {
        *o ^= x;
    }
    out
}

/// The stored form of a `mysql_native_password` password: `SHA1(SHA1(pw))`
/// (MySQL shows it as `*` and 40 upper-case hex digits).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NativeHash(pub [u8; 20]);

impl std::fmt::Debug for NativeHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NativeHash(..)")
    }
}

impl NativeHash {
    /// The stored hash of `password`.
    pub fn of_password(password: &[u8]) -> NativeHash {
        NativeHash(sha1(&[&sha1(&[password])]))
    }
}

/// What a client sends for `password` under `mysql_native_password` (empty
/// for an empty password).
pub fn native_response(password: &[u8], scramble: &Scramble) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = sha1(&[password]);
    let stage2 = sha1(&[&stage1]);
    xor(stage1, sha1(&[scramble.as_bytes(), &stage2])).to_vec()
}

/// Verifies a `mysql_native_password` response. `stored` is `None` for an
/// account without a password, which accepts only an empty response.
pub fn verify_native(scramble: &Scramble, response: &[u8], stored: Option<&NativeHash>) -> bool {
    let Some(stored) = stored else { return response.is_empty() };
    let Ok(response) = <[u8; 20]>::try_from(response) else { return false };
    let stage1 = xor(response, sha1(&[scramble.as_bytes(), &stored.0]));
    constant_time_eq(&sha1(&[&stage1]), &stored.0)
}

/// A `caching_sha2_password` cache entry: `SHA256(SHA256(pw))`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sha2CacheEntry(pub [u8; 32]);

impl std::fmt::Debug for Sha2CacheEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sha2CacheEntry(..)")
    }
}

impl Sha2CacheEntry {
    /// The cache entry for `password` (the caller makes one after a
    /// successful full authentication).
    pub fn of_password(password: &[u8]) -> Sha2CacheEntry {
        Sha2CacheEntry(sha256(&[&sha256(&[password])]))
    }
}

/// What a client sends for `password` under `caching_sha2_password` (empty
/// for an empty password).
pub fn sha2_response(password: &[u8], scramble: &Scramble) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = sha256(&[password]);
    let stage2 = sha256(&[&stage1]);
    xor(stage1, sha256(&[&stage2, scramble.as_bytes()])).to_vec()
}

/// Verifies a `caching_sha2_password` fast-path response against a cache entry.
pub fn verify_sha2_fast(scramble: &Scramble, response: &[u8], cached: &Sha2CacheEntry) -> bool {
    let Ok(response) = <[u8; 32]>::try_from(response) else { return false };
    let stage1 = xor(response, sha256(&[&cached.0, scramble.as_bytes()]));
    constant_time_eq(&sha256(&[&stage1]), &cached.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scramble(b: [u8; 20]) -> Scramble {
        Scramble::from_bytes(b).expect("no NUL")
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    // Vectors from go-sql-driver/mysql's auth_test.go (TestAuthFastNativePassword).
    #[test]
    fn native_response_matches_go_driver_vector() {
        let s = scramble([70, 114, 92, 94, 1, 38, 11, 116, 63, 114, 23, 101, 126, 103, 26, 95, 81, 17, 24, 21]);
        assert_eq!(
            native_response(b"secret", &s),
            vec![53, 177, 140, 159, 251, 189, 127, 53, 109, 252, 172, 50, 211, 192, 240, 164, 26, 48, 207, 45]
        );
    }

    // Vectors from go-sql-driver/mysql's auth_test.go (TestScrambleSHA256Pass
    // and TestAuthFastCachingSHA256PasswordCached).
    #[test]
    fn sha2_response_matches_go_driver_vectors() {
        let s = scramble([10, 47, 74, 111, 75, 73, 34, 48, 88, 76, 114, 74, 37, 13, 3, 80, 82, 2, 23, 21]);
        assert_eq!(
            hex(&sha2_response(b"secret", &s)),
            "f490e76f66d9d86665ce54d98c78d0acfe2fb0b08b423da807144873d30b312c"
        );
        assert_eq!(
            hex(&sha2_response(b"secret2", &s)),
            "abc3934a012cf342e876071c8ee202de51785b430258a7a0138bc79c4d800bc6"
        );
        let s = scramble([90, 105, 74, 126, 30, 48, 37, 56, 3, 23, 115, 127, 69, 22, 41, 84, 32, 123, 43, 118]);
        assert_eq!(
            sha2_response(b"secret", &s),
            vec![
                102, 32, 5, 35, 143, 161, 140, 241, 171, 232, 56, 139, 43, 14, 107, 196, 249, 170, 147, 60, 220, 204,
                120, 178, 214, 15, 184, 150, 26, 61, 57, 235
            ]
        );
    }

    // The same formulas computed independently, step by step.
    #[test]
    fn responses_follow_the_documented_formulas() {
        let s = Scramble::from_random([0x80, 0, b'$', 200, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
        assert!(s.as_bytes().iter().all(|&b| (1..=127).contains(&b) && b != b'$'));
        let pw = b"p4ss w\xc3\xb6rd";
        let h1: [u8; 20] = Sha1::digest(pw).into();
        let h2: [u8; 20] = Sha1::digest(h1).into();
        let mut m = Sha1::new();
        m.update(s.as_bytes());
        m.update(h2);
        let k: [u8; 20] = m.finalize().into();
        let expect: Vec<u8> = h1.iter().zip(k).map(|(a, b)| a ^ b).collect();
        assert_eq!(native_response(pw, &s), expect);
        assert_eq!(NativeHash::of_password(pw).0, h2);

        let g1: [u8; 32] = Sha256::digest(pw).into();
        let g2: [u8; 32] = Sha256::digest(g1).into();
        let mut m = Sha256::new();
        m.update(g2);
        m.update(s.as_bytes());
        let k: [u8; 32] = m.finalize().into();
        let expect: Vec<u8> = g1.iter().zip(k).map(|(a, b)| a ^ b).collect();
        assert_eq!(sha2_response(pw, &s), expect);
        assert_eq!(Sha2CacheEntry::of_password(pw).0, g2);
    }

    #[test]
    fn native_verification_accepts_only_the_right_password() {
        let s = Scramble::from_random([7; 20]);
        let stored = NativeHash::of_password(b"secret");
        assert!(verify_native(&s, &native_response(b"secret", &s), Some(&stored)));
        assert!(!verify_native(&s, &native_response(b"Secret", &s), Some(&stored)));
        assert!(!verify_native(&s, b"", Some(&stored)));
        assert!(!verify_native(&s, &[0; 19], Some(&stored)));
        assert!(verify_native(&s, b"", None));
        assert!(!verify_native(&s, &native_response(b"x", &s), None));
        let other = Scramble::from_random([9; 20]);
        assert!(!verify_native(&other, &native_response(b"secret", &s), Some(&stored)));
    }

    #[test]
    fn sha2_fast_verification_accepts_only_the_right_password() {
        let s = Scramble::from_random([42; 20]);
        let cached = Sha2CacheEntry::of_password(b"secret");
        assert!(verify_sha2_fast(&s, &sha2_response(b"secret", &s), &cached));
        assert!(!verify_sha2_fast(&s, &sha2_response(b"secreT", &s), &cached));
        assert!(!verify_sha2_fast(&s, &[0; 31], &cached));
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
