//! Collations of `utf8mb4` text: how two strings compare, and the weight
//! string (sort key) whose byte order is that comparison.
//!
//! Invariants:
//! 1. For every collation `c` and strings `a`, `b`:
//!    `c.compare(a, b) == c.sort_key(a).cmp(&c.sort_key(b))`, so index keys
//!    encoded from sort keys keep the collation's order and equality.
//! 2. `Utf8mb4_0900Bin` compares bytes exactly as mizzle did before
//!    collations existed (code-point order, NO PAD); columns of records
//!    written before collations were stored read back with it, so their
//!    index keys are unchanged.
//! 3. PAD SPACE collations ignore trailing U+0020 spaces; NO PAD ones
//!    (the `_0900_` family) do not.
//!
//! The Unicode collations come from ICU4X (`icu_collator`, root locale,
//! CLDR's version of the Unicode Collation Algorithm, alternate
//! handling non-ignorable), by strength:
//!
//! | MySQL collation       | ICU4X strength | pad      |
//! |-----------------------|----------------|----------|
//! | `utf8mb4_0900_ai_ci`  | primary        | NO PAD   |
//! | `utf8mb4_0900_as_ci`  | secondary      | NO PAD   |
//! | `utf8mb4_0900_as_cs`  | tertiary       | NO PAD   |
//! | `utf8mb4_unicode_ci`  | primary        | PAD SPACE|
//!
//! MySQL's `utf8mb4_unicode_ci` follows UCA 4.0.0; ICU4X follows a newer
//! UCA, so characters added or reweighted since then may compare
//! differently. `utf8mb4_general_ci` is MySQL's simple one-weight-per-code-
//! point folding: a BMP character weighs as the upper case of the base
//! character of its canonical decomposition where MySQL folds accents
//! (Latin, Greek, Cyrillic; so `é` = `E`), `ß` weighs as `S` (MySQL's
//! table, so `ß` = `s`, while `ß` = `ss` under the UCA collations), and
//! every character outside the BMP weighs U+FFFD, as in MySQL. No
//! expansions, no contractions. These rules give MariaDB 10.11's
//! `WEIGHT_STRING(c COLLATE utf8mb4_general_ci)` for about 99% of BMP code
//! points; most of the rest are letters whose case pairs arrived after
//! Unicode 3 (MySQL's table predates them, and mizzle folds them).
//!
//! PAD SPACE is implemented as "strip trailing spaces, then compare", which
//! agrees with MySQL except when, after the common prefix, one string
//! continues with spaces followed by a character that sorts below a space
//! (a control character): MySQL orders `'a'` after `'a\t'`, mizzle before.
//!
//! Not here: character sets other than utf8mb4 (DDL converts them), LIKE
//! matching (the executor matches per character with [`Collation::char_eq`]).

use std::cmp::Ordering;
use std::sync::OnceLock;

use icu_collator::options::{CollatorOptions, Strength};
use icu_collator::{CollatorBorrowed, CollatorPreferences};

/// A collation of the `utf8mb4` character set.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Collation {
    /// `utf8mb4_bin`: code-point order, PAD SPACE.
    Utf8mb4Bin,
    /// `utf8mb4_0900_bin`: code-point order, NO PAD.
    Utf8mb4_0900Bin,
    /// `utf8mb4_general_ci`: one folded weight per character, PAD SPACE.
    Utf8mb4GeneralCi,
    /// `utf8mb4_unicode_ci`: UCA primary strength, PAD SPACE.
    Utf8mb4UnicodeCi,
    /// `utf8mb4_0900_ai_ci`: UCA primary strength, NO PAD.
    Utf8mb4_0900AiCi,
    /// `utf8mb4_0900_as_ci`: UCA secondary strength, NO PAD.
    Utf8mb4_0900AsCi,
    /// `utf8mb4_0900_as_cs`: UCA tertiary strength, NO PAD.
    Utf8mb4_0900AsCs,
}

/// The only character set text has.
pub const CHARSET: &str = "utf8mb4";

/// What a collation or character set name names, once other character
/// sets are folded into utf8mb4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved<T> {
    /// A utf8mb4 name.
    Native(T),
    /// A name of another character set (`latin1`, `utf8mb3`, `utf8`),
    /// replaced by the utf8mb4 equivalent (the caller warns).
    Converted(T),
}

impl<T> Resolved<T> {
    /// The utf8mb4 value.
    pub fn value(self) -> T {
        match self {
            Resolved::Native(t) | Resolved::Converted(t) => t,
        }
    }
}

impl Collation {
    /// Every collation, in `SHOW COLLATION` order (by name).
    pub const ALL: &'static [Collation] = &[
        Collation::Utf8mb4_0900AiCi,
        Collation::Utf8mb4_0900AsCi,
        Collation::Utf8mb4_0900AsCs,
        Collation::Utf8mb4_0900Bin,
        Collation::Utf8mb4Bin,
        Collation::Utf8mb4GeneralCi,
        Collation::Utf8mb4UnicodeCi,
    ];

    /// MySQL's default collation of utf8mb4.
    pub const MYSQL_DEFAULT: Collation = Collation::Utf8mb4_0900AiCi;

    /// The collation a column gets when neither it, its table nor its
    /// database names one: byte order, mizzle's behaviour before
    /// collations (invariant 2).
    pub const LEGACY: Collation = Collation::Utf8mb4_0900Bin;

    /// MySQL 8's default: `@@collation_server` of a new catalog, and the
    /// collation of character set utf8mb4 named without COLLATE.
    pub const SERVER_DEFAULT: Collation = Collation::Utf8mb4_0900AiCi;

    /// The MySQL name.
    pub fn name(self) -> &'static str {
        match self {
            Collation::Utf8mb4Bin => "utf8mb4_bin",
            Collation::Utf8mb4_0900Bin => "utf8mb4_0900_bin",
            Collation::Utf8mb4GeneralCi => "utf8mb4_general_ci",
            Collation::Utf8mb4UnicodeCi => "utf8mb4_unicode_ci",
            Collation::Utf8mb4_0900AiCi => "utf8mb4_0900_ai_ci",
            Collation::Utf8mb4_0900AsCi => "utf8mb4_0900_as_ci",
            Collation::Utf8mb4_0900AsCs => "utf8mb4_0900_as_cs",
        }
    }

    /// MySQL's collation id (`information_schema.COLLATIONS.ID`); also the
    /// stored form in dictionary records.
    pub fn id(self) -> u16 {
        match self {
            Collation::Utf8mb4GeneralCi => 45,
            Collation::Utf8mb4Bin => 46,
            Collation::Utf8mb4UnicodeCi => 224,
            Collation::Utf8mb4_0900AiCi => 255,
            Collation::Utf8mb4_0900AsCs => 278,
            Collation::Utf8mb4_0900AsCi => 305,
            Collation::Utf8mb4_0900Bin => 309,
        }
    }

    /// The collation with MySQL id `id`.
    pub fn from_id(id: u16) -> Option<Collation> {
        Collation::ALL.iter().copied().find(|c| c.id() == id)
    }

    /// The utf8mb4 collation named `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Collation> {
        Collation::ALL.iter().copied().find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// Resolves a collation name of any accepted character set: utf8mb4
    /// names as themselves, and the common `latin1_*`, `utf8mb3_*` and
    /// `utf8_*` collations as the utf8mb4 collation with the same rules.
    /// `None` for an unknown name.
    pub fn resolve(name: &str) -> Option<Resolved<Collation>> {
        if let Some(c) = Collation::from_name(name) {
            return Some(Resolved::Native(c));
        }
        let lower = name.to_ascii_lowercase();
        let (cs, rest) = lower.split_once('_')?;
        resolve_charset(cs)?;
        let c = match rest {
            "bin" => Collation::Utf8mb4Bin,
            "general_ci" | "swedish_ci" | "general_cs" => Collation::Utf8mb4GeneralCi,
            "unicode_ci" | "unicode_520_ci" => Collation::Utf8mb4UnicodeCi,
            _ => return None,
        };
        Some(Resolved::Converted(c))
    }

    /// The character set of every collation.
    pub fn charset(self) -> &'static str {
        CHARSET
    }

    /// True for the PAD SPACE collations (invariant 3).
    pub fn pad_space(self) -> bool {
        matches!(self, Collation::Utf8mb4Bin | Collation::Utf8mb4GeneralCi | Collation::Utf8mb4UnicodeCi)
    }

    /// True when strings compare by their bytes (after padding).
    pub fn is_binary(self) -> bool {
        matches!(self, Collation::Utf8mb4Bin | Collation::Utf8mb4_0900Bin)
    }

    /// True when case differences are ignored.
    pub fn case_insensitive(self) -> bool {
        matches!(
            self,
            Collation::Utf8mb4GeneralCi
                | Collation::Utf8mb4UnicodeCi
                | Collation::Utf8mb4_0900AiCi
                | Collation::Utf8mb4_0900AsCi
        )
    }

    fn icu(self) -> Option<&'static CollatorBorrowed<'static>> {
        match self {
            Collation::Utf8mb4UnicodeCi | Collation::Utf8mb4_0900AiCi => {
                Some(icu_collator(&PRIMARY, Strength::Primary))
            }
            Collation::Utf8mb4_0900AsCi => Some(icu_collator(&SECONDARY, Strength::Secondary)),
            Collation::Utf8mb4_0900AsCs => Some(icu_collator(&TERTIARY, Strength::Tertiary)),
            Collation::Utf8mb4Bin | Collation::Utf8mb4_0900Bin | Collation::Utf8mb4GeneralCi => None,
        }
    }

    fn trim(self, s: &str) -> &str {
        if self.pad_space() {
            s.trim_end_matches(' ')
        } else {
            s
        }
    }

    /// Compares two strings.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            // The fast path: bytes of UTF-8 order as code points.
            Collation::Utf8mb4_0900Bin => a.as_bytes().cmp(b.as_bytes()),
            Collation::Utf8mb4Bin => self.trim(a).as_bytes().cmp(self.trim(b).as_bytes()),
            Collation::Utf8mb4GeneralCi => {
                let t = general_table();
                let wa = self.trim(a).chars().map(|c| general_weight(t, c));
                let wb = self.trim(b).chars().map(|c| general_weight(t, c));
                wa.cmp(wb)
            }
            _ => match self.icu() {
                Some(c) => {
                    if self.has_ascii_order(a) && self.has_ascii_order(b) {
                        return self.compare_ascii(a, b);
                    }
                    c.compare(self.trim(a), self.trim(b))
                }
                None => a.cmp(b),
            },
        }
    }

    /// True when `s` orders under this collation by the per-character rank
    /// table of printable ASCII (an accent- and case-insensitive Unicode
    /// collation, `s` printable ASCII after its trailing pad): a sort can
    /// check this once per value and then use [`Collation::compare_ascii`].
    pub fn has_ascii_order(self, s: &str) -> bool {
        matches!(self, Collation::Utf8mb4UnicodeCi | Collation::Utf8mb4_0900AiCi)
            && ascii_primary_ranks().is_some()
            && printable_ascii(self.trim(s).as_bytes())
    }

    /// [`Collation::compare`] of two strings that both have
    /// [`Collation::has_ascii_order`], without checking their bytes again
    /// (the same result; a string that does not qualify is compared the
    /// general way).
    pub fn compare_ascii(self, a: &str, b: &str) -> Ordering {
        let Some(r) = ascii_primary_ranks() else { return self.compare(a, b) };
        if !matches!(self, Collation::Utf8mb4UnicodeCi | Collation::Utf8mb4_0900AiCi) {
            return self.compare(a, b);
        }
        let (ta, tb) = (self.trim(a).as_bytes(), self.trim(b).as_bytes());
        for (x, y) in ta.iter().zip(tb) {
            match (r.get(usize::from(*x)), r.get(usize::from(*y))) {
                (Some(p), Some(q)) if *p != 0 && *q != 0 => {
                    if p != q {
                        return p.cmp(q);
                    }
                }
                _ => return self.compare(a, b),
            }
        }
        // Equal up to the shorter one: the longer is greater, provided its
        // rest is printable ASCII too (each such character has a weight).
        let n = ta.len().min(tb.len());
        let rest = if ta.len() > n { &ta[n..] } else { &tb[n..] };
        if rest.iter().all(|x| r.get(usize::from(*x)).is_some_and(|&k| k != 0)) {
            ta.len().cmp(&tb.len())
        } else {
            self.compare(a, b)
        }
    }

    /// The primary ranks of the first eight characters of a string that
    /// has [`Collation::has_ascii_order`], one byte each, big-endian and
    /// zero-padded (every printable character's rank is at least 1): for
    /// two such strings whose prefixes differ, `a.cmp(b)` of the prefixes
    /// is [`Collation::compare_ascii`]'s answer; equal prefixes say
    /// nothing. 0 for a collation without the ASCII order.
    pub fn ascii_prefix(self, s: &str) -> u64 {
        let Some(r) = ascii_primary_ranks() else { return 0 };
        if !matches!(self, Collation::Utf8mb4UnicodeCi | Collation::Utf8mb4_0900AiCi) {
            return 0;
        }
        let mut p = [0u8; 8];
        for (slot, b) in p.iter_mut().zip(self.trim(s).as_bytes()) {
            *slot = r.get(usize::from(*b)).copied().unwrap_or(0);
        }
        u64::from_be_bytes(p)
    }

    /// How `s`'s weight string ([`Collation::sort_key`]) orders against the
    /// weight string `key`, without building it when the collation can
    /// compare in place: the binary collations compare bytes, and a
    /// printable-ASCII string under an accent- and case-insensitive
    /// Unicode collation is compared character key by character key,
    /// stopping at the first difference.
    pub fn compare_to_sort_key(self, s: &str, key: &[u8]) -> Ordering {
        match self {
            Collation::Utf8mb4Bin | Collation::Utf8mb4_0900Bin => return self.trim(s).as_bytes().cmp(key),
            _ => {}
        }
        if self.has_ascii_order(s) {
            if let Some(keys) = ascii_primary_keys() {
                let mut pos = 0;
                // `has_ascii_order` vouched for every byte: each has a key.
                for b in self.trim(s).bytes() {
                    let (n, k) = keys[usize::from(b & 0x7F)];
                    let k = &k[..usize::from(n)];
                    let rest = key.get(pos..).unwrap_or(&[]);
                    match rest.get(..k.len()) {
                        Some(seg) if seg == k => pos += k.len(),
                        // The first difference decides; a key that ends
                        // inside this character's weight is a prefix of
                        // ours, so ours is greater (slice order says so).
                        Some(seg) => return k.cmp(seg),
                        None => return k.cmp(rest),
                    }
                }
                return pos.cmp(&key.len());
            }
        }
        let mut w = Vec::with_capacity(s.len() * 2);
        self.sort_key(s, &mut w);
        w.as_slice().cmp(key)
    }

    /// True when the two strings are equal under this collation.
    pub fn eq(self, a: &str, b: &str) -> bool {
        if a == b {
            return true;
        }
        match self {
            Collation::Utf8mb4_0900Bin => false,
            _ => self.compare(a, b) == Ordering::Equal,
        }
    }

    /// True when the two characters are equal under this collation (one
    /// character against one, as LIKE matches).
    pub fn char_eq(self, a: char, b: char) -> bool {
        if a == b {
            return true;
        }
        match self {
            Collation::Utf8mb4_0900Bin | Collation::Utf8mb4Bin => false,
            Collation::Utf8mb4GeneralCi => {
                let t = general_table();
                general_weight(t, a) == general_weight(t, b)
            }
            _ => {
                let mut ba = [0u8; 4];
                let mut bb = [0u8; 4];
                self.compare(a.encode_utf8(&mut ba), b.encode_utf8(&mut bb)) == Ordering::Equal
            }
        }
    }

    /// Appends the weight string of `s` (invariant 1). For the binary
    /// collations it is the (trimmed) UTF-8 bytes themselves.
    pub fn sort_key(self, s: &str, out: &mut Vec<u8>) {
        let s = self.trim(s);
        match self {
            Collation::Utf8mb4Bin | Collation::Utf8mb4_0900Bin => out.extend_from_slice(s.as_bytes()),
            Collation::Utf8mb4GeneralCi => {
                let t = general_table();
                for c in s.chars() {
                    out.extend_from_slice(&general_weight(t, c).to_be_bytes());
                }
            }
            _ => {
                if let Some(c) = self.icu() {
                    if matches!(self, Collation::Utf8mb4UnicodeCi | Collation::Utf8mb4_0900AiCi)
                        && ascii_primary_sort_key(s, out)
                    {
                        return;
                    }
                    let Ok(()) = c.write_sort_key_to(s, out);
                }
            }
        }
    }

    /// The weight string as a new vector.
    pub fn sort_key_vec(self, s: &str) -> Vec<u8> {
        let mut v = Vec::with_capacity(s.len() * 2);
        self.sort_key(s, &mut v);
        v
    }
}

impl std::fmt::Display for Collation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Resolves a character set name: `utf8mb4` (also `binary`? no: only text
/// sets) as itself; `utf8mb3`, `utf8` and `latin1` (and `ascii`) as
/// utf8mb4, converted. `None` for an unknown name.
pub fn resolve_charset(name: &str) -> Option<Resolved<&'static str>> {
    match name.to_ascii_lowercase().as_str() {
        "utf8mb4" => Some(Resolved::Native(CHARSET)),
        "utf8mb3" | "utf8" | "latin1" | "ascii" => Some(Resolved::Converted(CHARSET)),
        _ => None,
    }
}

static PRIMARY: OnceLock<CollatorBorrowed<'static>> = OnceLock::new();
static SECONDARY: OnceLock<CollatorBorrowed<'static>> = OnceLock::new();
static TERTIARY: OnceLock<CollatorBorrowed<'static>> = OnceLock::new();

/// The root collator of one strength, built once from ICU4X's compiled
/// data (immutable, so sharing it is not state).
fn icu_collator(
    cell: &'static OnceLock<CollatorBorrowed<'static>>,
    strength: Strength,
) -> &'static CollatorBorrowed<'static> {
    cell.get_or_init(|| {
        let mut o = CollatorOptions::default();
        o.strength = Some(strength);
        CollatorBorrowed::try_new(CollatorPreferences::default(), o)
            .expect("invariant: ICU4X's compiled root collation data loads")
    })
}

static ASCII_PRIMARY: OnceLock<Option<[u8; 128]>> = OnceLock::new();

/// The primary-strength rank of each printable ASCII character (0x20..0x7E)
/// under the root collation, read from ICU itself once: characters that
/// compare equal share a rank. In the root collation every such character
/// is one non-ignorable collation element (no contractions, no
/// expansions), so comparing two printable-ASCII strings at primary
/// strength is comparing their rank sequences. `None` (no fast path) if
/// ICU's data ever disagrees: a printable character that is ignorable.
fn ascii_primary_ranks() -> Option<&'static [u8; 128]> {
    ASCII_PRIMARY
        .get_or_init(|| {
            let c = icu_collator(&PRIMARY, Strength::Primary);
            let one = |b: u8| char::from(b).to_string();
            let mut chars: Vec<u8> = (0x20..0x7F).collect();
            if chars.iter().any(|&b| c.compare(&one(b), "") == Ordering::Equal) {
                return None;
            }
            chars.sort_by(|&x, &y| c.compare(&one(x), &one(y)));
            let mut ranks = [0u8; 128];
            let mut rank = 1u8;
            for (i, &b) in chars.iter().enumerate() {
                if i > 0 && c.compare(&one(chars[i - 1]), &one(b)) != Ordering::Equal {
                    rank += 1;
                }
                ranks[usize::from(b)] = rank;
            }
            Some(ranks)
        })
        .as_ref()
}

/// Each printable ASCII character's primary-strength sort key under the
/// root collation, as ICU writes it: `(length, bytes)`.
type AsciiKeys = [(u8, [u8; 3]); 128];

static ASCII_KEYS: OnceLock<Option<Box<AsciiKeys>>> = OnceLock::new();

/// The primary sort key of every printable ASCII character, read from ICU
/// once. ICU's primary sort key of a printable-ASCII string is the
/// concatenation of its characters' keys (each character is one
/// non-ignorable collation element, and the root collation's primaries for
/// them are written without lead-byte compression), so a string's key can
/// be assembled from this table byte for byte equal to ICU's — which
/// matters, because index keys stored by earlier versions were written by
/// ICU. That property is checked here against ICU on every two-character
/// string before the table is used: `None` (no fast path) if ICU's data
/// ever breaks it.
fn ascii_primary_keys() -> Option<&'static AsciiKeys> {
    ASCII_KEYS
        .get_or_init(|| {
            let c = icu_collator(&PRIMARY, Strength::Primary);
            let mut keys: AsciiKeys = [(0, [0; 3]); 128];
            let mut buf = Vec::new();
            for b in 0x20u8..0x7F {
                buf.clear();
                let Ok(()) = c.write_sort_key_to(char::from(b).encode_utf8(&mut [0; 4]), &mut buf);
                if buf.is_empty() || buf.len() > 3 {
                    return None;
                }
                let mut k = [0u8; 3];
                k[..buf.len()].copy_from_slice(&buf);
                keys[usize::from(b)] = (buf.len() as u8, k);
            }
            let key = |b: u8| {
                let (n, k) = &keys[usize::from(b)];
                &k[..usize::from(*n)]
            };
            for a in 0x20u8..0x7F {
                for b in 0x20u8..0x7F {
                    buf.clear();
                    let Ok(()) = c.write_sort_key_to(&String::from_utf8_lossy(&[a, b]), &mut buf);
                    if buf[..] != [key(a), key(b)].concat()[..] {
                        return None;
                    }
                }
            }
            Some(Box::new(keys))
        })
        .as_deref()
}

/// Appends the primary sort key of a printable-ASCII string without ICU's
/// per-character machinery; false (nothing appended) when `s` has another
/// byte or the fast path is off.
fn ascii_primary_sort_key(s: &str, out: &mut Vec<u8>) -> bool {
    if !s.bytes().all(|x| (0x20..0x7F).contains(&x)) {
        return false;
    }
    let Some(keys) = ascii_primary_keys() else {
        return false;
    };
    // Each key is written whole (3 bytes, zero-padded) and the write
    // position moves by its length: no per-character length check or
    // growth. The buffer has room for 3 bytes per character.
    let start = out.len();
    out.resize(start + 3 * s.len(), 0);
    let mut w = start;
    for b in s.bytes() {
        let (n, k) = &keys[usize::from(b)];
        if let Some(dst) = out.get_mut(w..w + 3) {
            dst.copy_from_slice(k);
        }
        w += usize::from(*n);
    }
    out.truncate(w);
    true
}

static GENERAL: OnceLock<Vec<u16>> = OnceLock::new();

/// The weight of every BMP code point under `utf8mb4_general_ci`.
fn general_table() -> &'static [u16] {
    GENERAL.get_or_init(|| {
        let nfd = icu_normalizer::DecomposingNormalizerBorrowed::new_nfd();
        let mut t = Vec::with_capacity(0x10000);
        let mut buf = [0u8; 4];
        for cp in 0u32..0x10000 {
            let w = match char::from_u32(cp) {
                None => cp,
                Some('\u{DF}') => 'S' as u32,
                // MySQL keeps the short i (Й, й) apart from И.
                Some('\u{419}' | '\u{439}') => 0x419,
                Some(c) => {
                    // MySQL folds accents only in the Latin, Greek and
                    // Cyrillic blocks and Latin Extended Additional / Greek
                    // Extended; a singleton decomposition is not an accent.
                    let foldable = cp < 0x500 || (0x1E00..0x2000).contains(&cp);
                    let d = nfd.normalize(c.encode_utf8(&mut buf));
                    let mut parts = d.chars();
                    let base = match (parts.next(), parts.next()) {
                        (Some(b), Some(_)) if foldable => b,
                        _ => c,
                    };
                    let mut up = base.to_uppercase();
                    match (up.next(), up.next()) {
                        (Some(u), None) if (u as u32) < 0x10000 => u as u32,
                        _ => base as u32,
                    }
                }
            };
            t.push(u16::try_from(w).unwrap_or(0xFFFD));
        }
        t
    })
}

fn general_weight(t: &[u16], c: char) -> u16 {
    t.get(c as usize).copied().unwrap_or(0xFFFD)
}

/// True when every byte is printable ASCII (0x20..0x7F). Checked 32 bytes
/// at a time by a loop without an early exit, which the compiler turns into
/// vector compares (a sort checks every key once: ~8x fewer instructions
/// than a byte-at-a-time `all`).
fn printable_ascii(b: &[u8]) -> bool {
    b.chunks(32).all(|c| c.iter().fold(true, |ok, &x| ok & (x.wrapping_sub(0x20) < 0x5F)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_is_exactly_the_bytes_0x20_to_0x7e() {
        for x in 0u8..=255 {
            let one = [x];
            assert_eq!(printable_ascii(&one), (0x20..0x7F).contains(&x), "byte {x:#x}");
            // In a long string, at every position of a 32-byte chunk.
            let mut long = vec![b'a'; 70];
            long[x as usize % 70] = x;
            assert_eq!(printable_ascii(&long), (0x20..0x7F).contains(&x), "byte {x:#x} in a long string");
        }
        assert!(printable_ascii(b""));
    }
    use proptest::prelude::*;

    use Collation as C;

    #[test]
    fn names_and_ids_round_trip() {
        for &c in C::ALL {
            assert_eq!(C::from_name(c.name()), Some(c));
            assert_eq!(C::from_name(&c.name().to_uppercase()), Some(c));
            assert_eq!(C::from_id(c.id()), Some(c));
        }
        assert_eq!(C::from_name("utf8mb4_klingon_ci"), None);
        assert_eq!(C::resolve("latin1_swedish_ci"), Some(Resolved::Converted(C::Utf8mb4GeneralCi)));
        assert_eq!(C::resolve("utf8mb3_bin"), Some(Resolved::Converted(C::Utf8mb4Bin)));
        assert_eq!(C::resolve("utf8_unicode_ci"), Some(Resolved::Converted(C::Utf8mb4UnicodeCi)));
        assert_eq!(C::resolve("koi8r_general_ci"), None);
        assert_eq!(resolve_charset("LATIN1"), Some(Resolved::Converted("utf8mb4")));
        assert_eq!(resolve_charset("koi8r"), None);
    }

    #[test]
    fn accent_and_case_insensitive_collations_fold_both() {
        for c in [C::Utf8mb4_0900AiCi, C::Utf8mb4UnicodeCi, C::Utf8mb4GeneralCi] {
            assert!(c.eq("ÉMILE", "emile"), "{c}");
            assert!(c.eq("Straße", "STRASSE") != (c == C::Utf8mb4GeneralCi), "{c}");
            assert_eq!(c.compare("apple", "Banana"), Ordering::Less, "{c}");
            assert!(!c.eq("a", "b"), "{c}");
        }
    }

    #[test]
    fn general_ci_folds_sharp_s_to_s_without_expansion() {
        let c = C::Utf8mb4GeneralCi;
        assert!(c.eq("ß", "s"));
        assert!(!c.eq("ß", "ss"));
        assert!(C::Utf8mb4_0900AiCi.eq("ß", "ss"));
        assert!(!C::Utf8mb4_0900AiCi.eq("ß", "s"));
        // Checked against MariaDB: accents fold in Latin, not every letter.
        assert!(c.eq("é", "E"));
        assert!(!c.eq("ø", "o"));
        assert!(!c.eq("й", "и"));
        assert!(c.eq("й", "Й"));
        assert!(c.eq("ё", "Е"));
        assert!(!c.eq("が", "か"));
        // Outside the BMP every character weighs the same.
        assert!(c.eq("😀", "😺"));
        assert!(!C::Utf8mb4_0900AiCi.eq("😀", "😺"));
    }

    #[test]
    fn strengths_separate_accents_and_case() {
        assert!(C::Utf8mb4_0900AsCi.eq("resume", "RESUME"));
        assert!(!C::Utf8mb4_0900AsCi.eq("resume", "résumé"));
        assert!(!C::Utf8mb4_0900AsCs.eq("resume", "RESUME"));
        assert_eq!(C::Utf8mb4_0900AsCs.compare("a", "A"), Ordering::Less);
        assert!(!C::Utf8mb4Bin.eq("a", "A"));
    }

    #[test]
    fn pad_space_ignores_trailing_spaces_and_no_pad_does_not() {
        for &c in C::ALL {
            assert_eq!(c.eq("a", "a  "), c.pad_space(), "{c}");
            assert!(!c.eq("a", " a"), "{c}");
        }
    }

    #[test]
    fn binary_collations_order_by_code_point() {
        assert_eq!(C::Utf8mb4_0900Bin.compare("Z", "a"), Ordering::Less);
        assert_eq!(C::Utf8mb4Bin.compare("é", "z"), Ordering::Greater);
        assert_eq!(C::Utf8mb4_0900AiCi.compare("é", "z"), Ordering::Less);
    }

    #[test]
    fn like_characters_match_one_to_one() {
        assert!(C::Utf8mb4_0900AiCi.char_eq('É', 'e'));
        assert!(!C::Utf8mb4_0900AiCi.char_eq('ß', 's'));
        assert!(C::Utf8mb4GeneralCi.char_eq('ß', 's'));
        assert!(!C::Utf8mb4Bin.char_eq('a', 'A'));
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('a'),
                Just('A'),
                Just('é'),
                Just('E'),
                Just(' '),
                Just('ß'),
                Just('s'),
                Just('\t'),
                Just('😀'),
                any::<char>()
            ],
            0..6,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn sort_keys_order_as_compare(a in text(), b in text()) {
            for &c in C::ALL {
                let (ka, kb) = (c.sort_key_vec(&a), c.sort_key_vec(&b));
                prop_assert_eq!(ka.cmp(&kb), c.compare(&a, &b), "{} {:?} {:?}", c, a, b);
                prop_assert_eq!(c.eq(&a, &b), ka == kb);
            }
        }
    }

    #[test]
    fn compare_to_sort_key_agrees_with_built_weight_strings() {
        let words =
            ["", "a", "A", "ab", "aB ", "a-b", "a b", "abc", "9-1", "9_1", "Zz", "zZ", "é", "ab\u{301}", "a\tb", "a  "];
        for &c in C::ALL {
            for a in words {
                for b in words {
                    let kb = c.sort_key_vec(b);
                    assert_eq!(c.compare_to_sort_key(a, &kb), c.sort_key_vec(a).cmp(&kb), "{c} {a:?} {b:?}");
                    // A key cut anywhere (inside a character's weight too).
                    for cut in 0..kb.len() {
                        let part = &kb[..cut];
                        assert_eq!(
                            c.compare_to_sort_key(a, part),
                            c.sort_key_vec(a).as_slice().cmp(part),
                            "{c} {a:?} {part:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn compare_ascii_agrees_with_compare() {
        let words =
            ["", "a", "A", "ab", "aB ", "a-b", "a b", "abc", "9-1", "9_1", "Zz", "zZ", "é", "ab\u{301}", "a\tb"];
        for &c in C::ALL {
            for a in words {
                for b in words {
                    assert_eq!(c.compare_ascii(a, b), c.compare(a, b), "{c} {a:?} {b:?}");
                    if c.has_ascii_order(a) && c.has_ascii_order(b) {
                        assert_eq!(c.compare_ascii(a, b), c.sort_key_vec(a).cmp(&c.sort_key_vec(b)), "{c} {a:?} {b:?}");
                    }
                }
            }
        }
    }

    /// A xorshift generator from `seed`: each call gives a number below
    /// its argument.
    fn xorshift(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        }
    }

    #[test]
    fn ascii_prefixes_that_differ_order_as_compare_ascii() {
        // Lengths around the prefix's eight characters, trailing spaces
        // (trimmed under PAD SPACE), case and punctuation.
        let alphabet = [b'a', b'A', b'b', b'z', b'0', b'9', b'-', b' ', b'_', b'~'];
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut decided = 0;
        for _ in 0..50_000 {
            let mut word = || -> String { (0..next(12)).map(|_| char::from(alphabet[next(alphabet.len())])).collect() };
            let (a, b) = (word(), word());
            for c in [C::Utf8mb4_0900AiCi, C::Utf8mb4UnicodeCi] {
                if !(c.has_ascii_order(&a) && c.has_ascii_order(&b)) {
                    continue;
                }
                let (pa, pb) = (c.ascii_prefix(&a), c.ascii_prefix(&b));
                if pa != pb {
                    decided += 1;
                    assert_eq!(pa.cmp(&pb), c.compare(&a, &b), "{c} {a:?} {b:?}");
                }
            }
        }
        assert!(decided > 50_000, "most pairs differ in their first eight characters ({decided})");
        assert_eq!(C::Utf8mb4Bin.ascii_prefix("abc"), 0);
    }

    #[test]
    fn the_ascii_fast_path_agrees_with_icu() {
        let icu = icu_collator(&PRIMARY, Strength::Primary);
        let alphabet: Vec<char> = (0x20u8..0x7F).map(char::from).collect();
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let word = |next: &mut dyn FnMut(usize) -> usize| -> String {
            let len = next(6);
            (0..len).map(|_| alphabet[next(alphabet.len())]).collect()
        };
        assert!(ascii_primary_ranks().is_some(), "printable ASCII is non-ignorable in the root collation");
        for _ in 0..200_000 {
            let a = word(&mut next);
            let b = if next(3) == 0 { a.to_ascii_uppercase() } else { word(&mut next) };
            let c = C::Utf8mb4_0900AiCi;
            assert!(c.has_ascii_order(&a) && c.has_ascii_order(&b));
            assert_eq!(c.compare_ascii(&a, &b), icu.compare(&a, &b), "{a:?} vs {b:?}");
        }
        assert!(!C::Utf8mb4_0900AiCi.has_ascii_order("é"));
        assert!(ascii_primary_keys().is_some(), "ICU's primary keys of printable ASCII concatenate");
        let mut fast = Vec::new();
        let mut slow = Vec::new();
        for _ in 0..200_000 {
            let len = next(24);
            let s: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            fast.clear();
            slow.clear();
            assert!(ascii_primary_sort_key(&s, &mut fast));
            let Ok(()) = icu.write_sort_key_to(s.as_str(), &mut slow);
            assert_eq!(fast, slow, "{s:?}");
        }
        assert!(!ascii_primary_sort_key("é", &mut fast));
        assert_eq!(Collation::Utf8mb4_0900AiCi.compare("abc-1", "ABC-1"), Ordering::Equal);
    }
}
