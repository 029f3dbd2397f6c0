//! Page layouts of the data file (`docs/format/disk.md`, section 3): the
//! meta page, and the leaf, branch, overflow and free-list pages; their
//! encoders, the checks a page read from disk must pass, and the lookups
//! inside one leaf or branch page.
//!
//! Invariants:
//! 1. A page's content is read only after [`check_page`] accepted it: its
//!    length, its CRC32, its own page number, its reserved bytes and its
//!    type. A page read at number N whose header says M is corruption.
//! 2. Even then every offset and length read from a page is bounds-checked;
//!    a bad one is a [`PageFault`] naming the page, never a panic.
//! 3. Encoders compute a page's size before writing it; content that would
//!    not fit is an internal error, never a partial page.
//! 4. Lookups inside a page ([`LeafView::search`], [`BranchView::child_for`])
//!    allocate nothing; they compare the searched key's suffix with the
//!    stored suffixes, and handle keys that do not start with the page's
//!    prefix without touching the entries.
//!
//! This module does no I/O, keeps no cache and does not decide which entries
//! go into which page (that is `btree`).

use std::borrow::Cow;
use std::cmp::Ordering;

use mizzle_plugin_api::storage::StorageError;

use crate::ids::{Generation, Lsn, PageNo};

/// Bytes in a page (format version 1).
pub const PAGE_SIZE: usize = 16_384;
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The magic number at the start of a meta page.
pub const MAGIC: [u8; 8] = *b"MIZZLEDB";
/// Bytes of the common header of tree, overflow and free-list pages.
pub const HEADER_LEN: usize = 24;
/// Where the CRC32 of a page is stored (its last 4 bytes).
pub const CRC_OFFSET: usize = PAGE_SIZE - 4;
/// The longest key the engine stores.
pub const MAX_KEY_LEN: usize = 4000;
/// The longest value the engine stores (the high bit of `value_field`
/// flags an overflow chain).
pub const MAX_VALUE_LEN: usize = 0x7fff_ffff;
/// An entry whose `6 + key_len + value_len` exceeds this keeps its value in
/// an overflow chain.
pub const INLINE_LIMIT: usize = 4080;
/// Data bytes one overflow page holds.
pub const OVERFLOW_CAPACITY: usize = PAGE_SIZE - HEADER_LEN - 8 - 4;
/// Page numbers one free-list page holds.
pub const FREE_LIST_CAPACITY: usize = (PAGE_SIZE - HEADER_LEN - 8 - 4) / 8;
/// The tallest tree a meta page may describe (a 16 KiB page holds at least
/// four children, so 32 levels is far beyond any file).
pub const MAX_HEIGHT: u8 = 32;

/// Fixed bytes of a leaf or branch page besides its entries: header,
/// `prefix_len` and CRC.
const NODE_FIXED: usize = HEADER_LEN + 2 + 4;
/// Bytes of a leaf entry besides its suffix and value: offset slot,
/// `suffix_len`, `value_field`.
pub const LEAF_ENTRY_OVERHEAD: usize = 2 + 2 + 4;
/// Bytes of a branch entry besides its suffix: offset slot, child,
/// `suffix_len`.
pub const BRANCH_ENTRY_OVERHEAD: usize = 2 + 8 + 2;
const OVERFLOW_FLAG: u32 = 0x8000_0000;

/// The kind of a non-meta page (header byte 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    /// A B+tree leaf: keys and values.
    Leaf,
    /// A B+tree branch: separators and children.
    Branch,
    /// A page of an overflow chain (one large value).
    Overflow,
    /// A page of the free list.
    FreeList,
}

impl PageKind {
    fn code(self) -> u8 {
        match self {
            PageKind::Leaf => 1,
            PageKind::Branch => 2,
            PageKind::Overflow => 3,
            PageKind::FreeList => 4,
        }
    }

    fn from_code(c: u8) -> Option<PageKind> {
        match c {
            1 => Some(PageKind::Leaf),
            2 => Some(PageKind::Branch),
            3 => Some(PageKind::Overflow),
            4 => Some(PageKind::FreeList),
            _ => None,
        }
    }

    /// The kind's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            PageKind::Leaf => "leaf",
            PageKind::Branch => "branch",
            PageKind::Overflow => "overflow",
            PageKind::FreeList => "free-list",
        }
    }
}

/// A page failed a check: which page and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFault {
    /// The page.
    pub page: PageNo,
    /// What was wrong with it.
    pub what: Cow<'static, str>,
}

impl PageFault {
    /// A fault of `page`.
    pub fn new(page: PageNo, what: impl Into<Cow<'static, str>>) -> PageFault {
        PageFault { page, what: what.into() }
    }

    /// The corruption error naming the data file and the page.
    pub fn into_error(self, file: &str) -> StorageError {
        StorageError::Corrupt(format!("data file '{file}' page {}: {}", self.page.0, self.what))
    }
}

/// An internal error (a bug in this crate).
pub(crate) fn internal(what: impl std::fmt::Display) -> StorageError {
    StorageError::Io(format!("internal error in the disk engine (a bug): {what}"))
}

/// Refuses keys longer than [`MAX_KEY_LEN`].
pub fn check_key(key: &[u8]) -> Result<(), StorageError> {
    if key.len() > MAX_KEY_LEN {
        return Err(StorageError::KeyTooLong(format!(
            "Specified key was too long; max key length is {MAX_KEY_LEN} bytes (the disk engine got a key of {} bytes)",
            key.len()
        )));
    }
    Ok(())
}

/// Refuses values longer than [`MAX_VALUE_LEN`].
pub fn check_value(value: &[u8]) -> Result<(), StorageError> {
    if value.len() > MAX_VALUE_LEN {
        return Err(StorageError::Unsupported(format!(
            "value of {} bytes is larger than the disk engine's limit of {MAX_VALUE_LEN} bytes",
            value.len()
        )));
    }
    Ok(())
}

/// True when a value of `value_len` bytes under a key of `key_len` bytes is
/// stored in an overflow chain (section 3.2; the full key length, so the
/// decision does not depend on the page the entry lands in).
pub fn needs_overflow(key_len: usize, value_len: usize) -> bool {
    6 + key_len + value_len > INLINE_LIMIT
}

/// Overflow pages a value of `len` bytes needs.
pub fn overflow_pages(len: usize) -> usize {
    len.div_ceil(OVERFLOW_CAPACITY)
}

// ---------------------------------------------------------------------------
// Little-endian field access (checked).

fn get_u16(p: &[u8], off: usize) -> Option<u16> {
    let b = p.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn get_u32(p: &[u8], off: usize) -> Option<u32> {
    let b: [u8; 4] = p.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

fn get_u64(p: &[u8], off: usize) -> Option<u64> {
    let b: [u8; 8] = p.get(off..off.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

/// A cursor writing into a page buffer; every write is checked.
struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    fn at(buf: &'a mut [u8], pos: usize) -> Writer<'a> {
        Writer { buf, pos }
    }

    fn bytes(&mut self, b: &[u8]) -> Result<(), StorageError> {
        let end = self.pos + b.len();
        let dst = self.buf.get_mut(self.pos..end).ok_or_else(|| internal("page encoder wrote past the page"))?;
        dst.copy_from_slice(b);
        self.pos = end;
        Ok(())
    }

    fn u8(&mut self, v: u8) -> Result<(), StorageError> {
        self.bytes(&[v])
    }

    fn u16(&mut self, v: u16) -> Result<(), StorageError> {
        self.bytes(&v.to_le_bytes())
    }

    fn u32(&mut self, v: u32) -> Result<(), StorageError> {
        self.bytes(&v.to_le_bytes())
    }

    fn u64(&mut self, v: u64) -> Result<(), StorageError> {
        self.bytes(&v.to_le_bytes())
    }
}

fn to_u16(n: usize, what: &str) -> Result<u16, StorageError> {
    u16::try_from(n).map_err(|_| internal(format!("{what} {n} does not fit in 16 bits")))
}

/// Writes the CRC32 of `page[..CRC_OFFSET]` into its last 4 bytes.
pub fn seal(page: &mut [u8]) -> Result<(), StorageError> {
    if page.len() != PAGE_SIZE {
        return Err(internal(format!("sealing a buffer of {} bytes as a page", page.len())));
    }
    let crc = crc32fast::hash(&page[..CRC_OFFSET]);
    page[CRC_OFFSET..].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

fn crc_ok(page: &[u8]) -> bool {
    match (page.get(..CRC_OFFSET), get_u32(page, CRC_OFFSET)) {
        (Some(body), Some(stored)) => page.len() == PAGE_SIZE && crc32fast::hash(body) == stored,
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Meta pages.

/// The content of a meta page (section 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// The checkpoint generation (0 for a new database).
    pub generation: Generation,
    /// Root page of the tree (0: empty).
    pub root: PageNo,
    /// Tree height (0: empty; 1: the root is a leaf).
    pub height: u8,
    /// Pages `[0, page_count)` are in use or free.
    pub page_count: u64,
    /// First free-list page (0: none).
    pub free_head: PageNo,
    /// Pages the free list lists.
    pub free_count: u64,
    /// Every log record at or below this LSN is in the tree.
    pub checkpoint_lsn: Lsn,
    /// Key/value pairs in the tree.
    pub entries: u64,
    /// Bytes of keys and values in the tree.
    pub bytes: u64,
}

impl Meta {
    /// The meta of a new database: generation 0, empty tree, pages 0 and 1.
    pub fn empty() -> Meta {
        Meta {
            generation: Generation(0),
            root: PageNo(0),
            height: 0,
            page_count: 2,
            free_head: PageNo(0),
            free_count: 0,
            checkpoint_lsn: Lsn(0),
            entries: 0,
            bytes: 0,
        }
    }

    /// The meta slot (page 0 or 1) this meta is written to.
    pub fn slot(&self) -> PageNo {
        PageNo(self.generation.0 % 2)
    }

    /// Checks the fields against each other; `None` if they agree.
    fn inconsistency(&self) -> Option<String> {
        let pc = self.page_count;
        let in_file = |p: PageNo| p.0 >= 2 && p.0 < pc;
        if pc < 2 {
            return Some(format!("page count {pc} is below 2"));
        }
        if (self.root.0 == 0) != (self.height == 0) {
            return Some(format!("root page {} does not agree with height {}", self.root.0, self.height));
        }
        if self.root.0 != 0 && !in_file(self.root) {
            return Some(format!("root page {} is outside pages 2..{pc}", self.root.0));
        }
        if self.height > MAX_HEIGHT {
            return Some(format!("height {} is above the limit {MAX_HEIGHT}", self.height));
        }
        if self.root.0 == 0 && (self.entries != 0 || self.bytes != 0) {
            return Some(format!("an empty tree with {} entries", self.entries));
        }
        if self.free_head.0 != 0 && !in_file(self.free_head) {
            return Some(format!("free-list page {} is outside pages 2..{pc}", self.free_head.0));
        }
        if (self.free_head.0 == 0) != (self.free_count == 0) || self.free_count > pc {
            return Some(format!(
                "free-list head {} does not agree with {} free pages",
                self.free_head.0, self.free_count
            ));
        }
        None
    }
}

/// Encodes `meta` as a sealed meta page.
pub fn encode_meta(meta: &Meta) -> Result<Vec<u8>, StorageError> {
    let mut page = vec![0u8; PAGE_SIZE];
    let mut w = Writer::at(&mut page, 0);
    w.bytes(&MAGIC)?;
    w.u32(FORMAT_VERSION)?;
    w.u32(PAGE_SIZE as u32)?;
    w.u64(meta.generation.0)?;
    w.u64(meta.root.0)?;
    w.u8(meta.height)?;
    w.bytes(&[0; 7])?;
    w.u64(meta.page_count)?;
    w.u64(meta.free_head.0)?;
    w.u64(meta.free_count)?;
    w.u64(meta.checkpoint_lsn.0)?;
    w.u64(meta.entries)?;
    w.u64(meta.bytes)?;
    seal(&mut page)?;
    Ok(page)
}

/// What one meta slot holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaSlot {
    /// A valid meta page.
    Valid(Meta),
    /// Zeros only, or (partly) past the end of the file: a new
    /// database's page 1, or never written.
    Zero,
    /// Not a mizzle meta page (wrong magic).
    Foreign,
    /// A mizzle meta page of a newer format version (its checksum holds).
    Newer(u32),
    /// A damaged meta page (torn write, bit flip, truncation); the reason.
    Damaged(String),
}

/// Classifies the bytes of meta slot `slot` (0 or 1). `page` may be
/// shorter than a page when the file is truncated.
pub fn decode_meta(page: &[u8], slot: u64) -> MetaSlot {
    if page.iter().all(|&b| b == 0) {
        return MetaSlot::Zero;
    }
    match page.get(..8) {
        Some(m) if m == MAGIC => {}
        Some(_) => return MetaSlot::Foreign,
        None => return MetaSlot::Damaged(format!("only {} bytes are in the file", page.len())),
    }
    if page.len() != PAGE_SIZE {
        return MetaSlot::Damaged(format!("only {} of its {PAGE_SIZE} bytes are in the file", page.len()));
    }
    let version = get_u32(page, 8).unwrap_or(0);
    if !crc_ok(page) {
        return MetaSlot::Damaged("checksum mismatch".into());
    }
    if version > FORMAT_VERSION {
        return MetaSlot::Newer(version);
    }
    if version != FORMAT_VERSION {
        return MetaSlot::Damaged(format!("format version {version} is not valid"));
    }
    let field = |off| get_u64(page, off).unwrap_or(0);
    let page_size = get_u32(page, 12).unwrap_or(0);
    if page_size as usize != PAGE_SIZE {
        return MetaSlot::Damaged(format!("page size {page_size} is not {PAGE_SIZE}"));
    }
    let height = page.get(32).copied().unwrap_or(0);
    if page.get(33..40).is_none_or(|z| z.iter().any(|&b| b != 0))
        || page.get(88..CRC_OFFSET).is_none_or(|z| z.iter().any(|&b| b != 0))
    {
        return MetaSlot::Damaged("reserved bytes are not zero".into());
    }
    let meta = Meta {
        generation: Generation(field(16)),
        root: PageNo(field(24)),
        height,
        page_count: field(40),
        free_head: PageNo(field(48)),
        free_count: field(56),
        checkpoint_lsn: Lsn(field(64)),
        entries: field(72),
        bytes: field(80),
    };
    if meta.generation.0 % 2 != slot {
        return MetaSlot::Damaged(format!("generation {} does not belong in slot {slot}", meta.generation.0));
    }
    if let Some(why) = meta.inconsistency() {
        return MetaSlot::Damaged(why);
    }
    MetaSlot::Valid(meta)
}

// ---------------------------------------------------------------------------
// The common header.

/// The common header of a non-meta page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The page's kind.
    pub kind: PageKind,
    /// Entries (leaf), children (branch), ids (free list); 0 for overflow.
    pub count: u16,
    /// Data bytes (overflow); 0 otherwise.
    pub data_len: u32,
    /// The page's own number.
    pub page_no: PageNo,
    /// The generation of the checkpoint that wrote it.
    pub generation: Generation,
}

fn write_header(
    page: &mut [u8],
    kind: PageKind,
    count: u16,
    data_len: u32,
    no: PageNo,
    generation: Generation,
) -> Result<(), StorageError> {
    let mut w = Writer::at(page, 0);
    w.u8(kind.code())?;
    w.u8(0)?;
    w.u16(count)?;
    w.u32(data_len)?;
    w.u64(no.0)?;
    w.u64(generation.0)
}

/// Reads the header of a page that [`check_page`] accepted.
pub fn header(page: &[u8], no: PageNo) -> Result<Header, PageFault> {
    let kind = page.first().and_then(|&c| PageKind::from_code(c));
    match (kind, page.get(1), get_u16(page, 2), get_u32(page, 4), get_u64(page, 8), get_u64(page, 16)) {
        (Some(kind), Some(0), Some(count), Some(data_len), Some(own), Some(generation)) => {
            Ok(Header { kind, count, data_len, page_no: PageNo(own), generation: Generation(generation) })
        }
        (None, ..) => Err(PageFault::new(no, format!("unknown page type {}", page.first().copied().unwrap_or(0)))),
        _ => Err(PageFault::new(no, "malformed page header")),
    }
}

/// The checks every non-meta page read from disk passes before anything
/// else is read from it (invariant 1): length, checksum, type, reserved
/// bytes, and that its header names `no`.
pub fn check_page(page: &[u8], no: PageNo) -> Result<Header, PageFault> {
    if page.len() != PAGE_SIZE {
        return Err(PageFault::new(no, format!("page buffer of {} bytes", page.len())));
    }
    if !crc_ok(page) {
        return Err(PageFault::new(no, "checksum mismatch"));
    }
    let h = header(page, no)?;
    if h.page_no != no {
        return Err(PageFault::new(no, format!("header names page {} (a misdirected write)", h.page_no.0)));
    }
    match h.kind {
        PageKind::Overflow if h.count != 0 => return Err(PageFault::new(no, "overflow page with a non-zero count")),
        PageKind::Leaf | PageKind::Branch | PageKind::FreeList if h.data_len != 0 => {
            return Err(PageFault::new(no, "reserved header bytes are not zero"))
        }
        _ => {}
    }
    Ok(h)
}

/// Checks that a checked page has the kind the caller expects.
pub fn expect_kind(h: &Header, kind: PageKind) -> Result<(), PageFault> {
    if h.kind == kind {
        Ok(())
    } else {
        Err(PageFault::new(h.page_no, format!("expected a {} page, found a {} page", kind.name(), h.kind.name())))
    }
}

// ---------------------------------------------------------------------------
// Leaf pages.

/// Where a value is: in the page, or in an overflow chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef<'a> {
    /// The value bytes, stored in the leaf.
    Inline(&'a [u8]),
    /// The value is `len` bytes in the overflow chain starting at `first`.
    Overflow {
        /// First page of the chain.
        first: PageNo,
        /// The value's length.
        len: u32,
    },
}

impl ValueRef<'_> {
    /// The value's length in bytes.
    pub fn len(&self) -> usize {
        match self {
            ValueRef::Inline(v) => v.len(),
            ValueRef::Overflow { len, .. } => *len as usize,
        }
    }

    /// True for an empty value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the value takes in the leaf.
    pub fn stored_len(&self) -> usize {
        match self {
            ValueRef::Inline(v) => v.len(),
            ValueRef::Overflow { .. } => 8,
        }
    }
}

/// One entry of a leaf page: the key's suffix (the key minus the page's
/// prefix) and where the value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafEntry<'a> {
    /// The key minus the page's prefix.
    pub suffix: &'a [u8],
    /// The value.
    pub value: ValueRef<'a>,
}

/// The bytes a leaf page takes when it holds `count` entries whose
/// `Σ (LEAF_ENTRY_OVERHEAD + key_len + stored value_len)` is `raw`, with a
/// prefix of `prefix_len` bytes.
pub fn leaf_size(count: usize, raw: usize, prefix_len: usize) -> usize {
    NODE_FIXED + raw + prefix_len - count * prefix_len
}

/// The longest common prefix of two byte strings, in bytes.
pub fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Encodes a leaf page into `page` (a zeroed or reused buffer of
/// [`PAGE_SIZE`] bytes) and seals it. `entries` are in ascending key order
/// and all start with `prefix`.
pub fn encode_leaf<'a, I>(
    page: &mut [u8],
    no: PageNo,
    generation: Generation,
    prefix: &[u8],
    count: usize,
    entries: I,
) -> Result<(), StorageError>
where
    I: IntoIterator<Item = (&'a [u8], ValueRef<'a>)>,
{
    if page.len() != PAGE_SIZE {
        return Err(internal("leaf buffer is not a page"));
    }
    page.fill(0);
    write_header(page, PageKind::Leaf, to_u16(count, "leaf entry count")?, 0, no, generation)?;
    let mut head = Writer::at(page, HEADER_LEN);
    head.u16(to_u16(prefix.len(), "prefix length")?)?;
    head.bytes(prefix)?;
    let offsets_at = head.pos;
    let mut pos = offsets_at + 2 * count;
    let mut n = 0;
    for (key, value) in entries {
        let suffix =
            key.strip_prefix(prefix).ok_or_else(|| internal("leaf key does not start with the page prefix"))?;
        if pos + 6 + suffix.len() + value.stored_len() > CRC_OFFSET || n >= count {
            return Err(internal("leaf entries do not fit in the page"));
        }
        Writer::at(page, offsets_at + 2 * n).u16(to_u16(pos, "entry offset")?)?;
        let mut w = Writer::at(page, pos);
        w.u16(to_u16(suffix.len(), "suffix length")?)?;
        match value {
            ValueRef::Inline(v) => {
                let len = u32::try_from(v.len()).ok().filter(|l| l & OVERFLOW_FLAG == 0);
                w.u32(len.ok_or_else(|| internal("inline value too long"))?)?;
                w.bytes(suffix)?;
                w.bytes(v)?;
            }
            ValueRef::Overflow { first, len } => {
                if len & OVERFLOW_FLAG != 0 {
                    return Err(internal("overflow value length has the flag bit"));
                }
                w.u32(len | OVERFLOW_FLAG)?;
                w.bytes(suffix)?;
                w.u64(first.0)?;
            }
        }
        pos = w.pos;
        n += 1;
    }
    if n != count {
        return Err(internal(format!("leaf encoder got {n} entries, expected {count}")));
    }
    seal(page)
}

/// A leaf page, parsed for reading. Cheap to make (no allocation).
#[derive(Debug, Clone, Copy)]
pub struct LeafView<'a> {
    page: &'a [u8],
    no: PageNo,
    prefix: &'a [u8],
    count: usize,
    offsets_at: usize,
}

impl<'a> LeafView<'a> {
    /// Parses a page that [`check_page`] accepted as page `no`.
    pub fn new(page: &'a [u8], no: PageNo) -> Result<LeafView<'a>, PageFault> {
        let h = header(page, no)?;
        expect_kind(&h, PageKind::Leaf)?;
        let (prefix, offsets_at) = node_prefix(page, no)?;
        let count = usize::from(h.count);
        if offsets_at + 2 * count > CRC_OFFSET {
            return Err(PageFault::new(no, format!("{count} entry offsets do not fit in the page")));
        }
        Ok(LeafView { page, no, prefix, count, offsets_at })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if the leaf holds no entry.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The prefix every key of the page starts with.
    pub fn prefix(&self) -> &'a [u8] {
        self.prefix
    }

    /// The page number.
    pub fn page_no(&self) -> PageNo {
        self.no
    }

    fn fault(&self, what: &'static str, i: usize) -> PageFault {
        PageFault::new(self.no, format!("entry {i}: {what}"))
    }

    fn entry_at(&self, i: usize) -> Result<usize, PageFault> {
        let off =
            get_u16(self.page, self.offsets_at + 2 * i).ok_or_else(|| self.fault("offset outside the page", i))?;
        let off = usize::from(off);
        if off < self.offsets_at + 2 * self.count || off + 6 > CRC_OFFSET {
            return Err(self.fault("offset points outside the entry area", i));
        }
        Ok(off)
    }

    /// The key suffix of entry `i` (cheaper than [`LeafView::entry`]).
    pub fn suffix(&self, i: usize) -> Result<&'a [u8], PageFault> {
        let off = self.entry_at(i)?;
        let len = get_u16(self.page, off).map(usize::from).ok_or_else(|| self.fault("truncated entry", i))?;
        self.page
            .get(off + 6..off + 6 + len)
            .filter(|_| off + 6 + len <= CRC_OFFSET)
            .ok_or_else(|| self.fault("key suffix runs past the page", i))
    }

    /// Entry `i`.
    pub fn entry(&self, i: usize) -> Result<LeafEntry<'a>, PageFault> {
        if i >= self.count {
            return Err(self.fault("index out of range", i));
        }
        let off = self.entry_at(i)?;
        let (Some(slen), Some(field)) = (get_u16(self.page, off), get_u32(self.page, off + 2)) else {
            return Err(self.fault("truncated entry", i));
        };
        let key_at = off + 6;
        let val_at = key_at + usize::from(slen);
        if val_at > CRC_OFFSET {
            return Err(self.fault("key suffix runs past the page", i));
        }
        let suffix = self.page.get(key_at..val_at).ok_or_else(|| self.fault("key suffix runs past the page", i))?;
        let value = if field & OVERFLOW_FLAG == 0 {
            let end = val_at + field as usize;
            if end > CRC_OFFSET {
                return Err(self.fault("value runs past the page", i));
            }
            ValueRef::Inline(self.page.get(val_at..end).ok_or_else(|| self.fault("value runs past the page", i))?)
        } else {
            if val_at + 8 > CRC_OFFSET {
                return Err(self.fault("overflow reference runs past the page", i));
            }
            let first =
                get_u64(self.page, val_at).ok_or_else(|| self.fault("overflow reference runs past the page", i))?;
            ValueRef::Overflow { first: PageNo(first), len: field & !OVERFLOW_FLAG }
        };
        Ok(LeafEntry { suffix, value })
    }

    /// Binary search for `key`: `Ok(i)` if entry `i` holds it, `Err(i)`
    /// with the position it would take otherwise. Allocates nothing.
    pub fn search(&self, key: &[u8]) -> Result<Result<usize, usize>, PageFault> {
        let rest = match split_prefix(key, self.prefix) {
            PrefixCmp::Below => return Ok(Err(0)),
            PrefixCmp::Above => return Ok(Err(self.count)),
            PrefixCmp::Within(rest) => rest,
        };
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.suffix(mid)?.cmp(rest) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Ok(Ok(mid)),
            }
        }
        Ok(Err(lo))
    }
}

/// How a key relates to a page's prefix.
enum PrefixCmp<'k> {
    /// The key sorts before every key starting with the prefix.
    Below,
    /// The key sorts after every key starting with the prefix.
    Above,
    /// The key starts with the prefix; the rest of it.
    Within(&'k [u8]),
}

fn split_prefix<'k>(key: &'k [u8], prefix: &[u8]) -> PrefixCmp<'k> {
    match key.strip_prefix(prefix) {
        Some(rest) => PrefixCmp::Within(rest),
        None => {
            let n = key.len().min(prefix.len());
            // `key` is not an extension of `prefix`: either a proper prefix
            // of it (below) or different at some byte before both end.
            match key.get(..n).cmp(&prefix.get(..n)) {
                Ordering::Greater => PrefixCmp::Above,
                _ => PrefixCmp::Below,
            }
        }
    }
}

/// Reads `prefix_len` and the prefix of a leaf or branch page; returns the
/// prefix and where the offset array starts.
fn node_prefix(page: &[u8], no: PageNo) -> Result<(&[u8], usize), PageFault> {
    let len =
        get_u16(page, HEADER_LEN).map(usize::from).ok_or_else(|| PageFault::new(no, "truncated prefix length"))?;
    let start = HEADER_LEN + 2;
    if start + len > CRC_OFFSET {
        return Err(PageFault::new(no, format!("prefix of {len} bytes runs past the page")));
    }
    let prefix = page.get(start..start + len).ok_or_else(|| PageFault::new(no, "prefix runs past the page"))?;
    Ok((prefix, start + len))
}

// ---------------------------------------------------------------------------
// Branch pages.

/// The bytes a branch page takes with `count` children, when the
/// separators of children `1..count` have `sep_bytes` bytes in all and
/// share a prefix of `prefix_len` bytes (child 0's separator is not stored).
pub fn branch_size(count: usize, sep_bytes: usize, prefix_len: usize) -> usize {
    let stored = count.saturating_sub(1);
    NODE_FIXED + count * BRANCH_ENTRY_OVERHEAD + sep_bytes + prefix_len - stored * prefix_len
}

/// Encodes a branch page into `page` and seals it. `children` are
/// `(separator, child)` in order; the first separator is ignored (it
/// stands for the lower bound of the page) and the others all start with
/// `prefix`.
pub fn encode_branch<'a, I>(
    page: &mut [u8],
    no: PageNo,
    generation: Generation,
    prefix: &[u8],
    count: usize,
    children: I,
) -> Result<(), StorageError>
where
    I: IntoIterator<Item = (&'a [u8], PageNo)>,
{
    if page.len() != PAGE_SIZE {
        return Err(internal("branch buffer is not a page"));
    }
    page.fill(0);
    write_header(page, PageKind::Branch, to_u16(count, "branch child count")?, 0, no, generation)?;
    let mut head = Writer::at(page, HEADER_LEN);
    head.u16(to_u16(prefix.len(), "prefix length")?)?;
    head.bytes(prefix)?;
    let offsets_at = head.pos;
    let mut pos = offsets_at + 2 * count;
    let mut n = 0;
    for (sep, child) in children {
        let suffix: &[u8] = if n == 0 {
            &[]
        } else {
            sep.strip_prefix(prefix).ok_or_else(|| internal("separator does not start with the page prefix"))?
        };
        if pos + 10 + suffix.len() > CRC_OFFSET || n >= count {
            return Err(internal("branch entries do not fit in the page"));
        }
        Writer::at(page, offsets_at + 2 * n).u16(to_u16(pos, "entry offset")?)?;
        let mut w = Writer::at(page, pos);
        w.u64(child.0)?;
        w.u16(to_u16(suffix.len(), "suffix length")?)?;
        w.bytes(suffix)?;
        pos = w.pos;
        n += 1;
    }
    if n != count {
        return Err(internal(format!("branch encoder got {n} children, expected {count}")));
    }
    seal(page)
}

/// A branch page, parsed for reading. Cheap to make (no allocation).
#[derive(Debug, Clone, Copy)]
pub struct BranchView<'a> {
    page: &'a [u8],
    no: PageNo,
    prefix: &'a [u8],
    count: usize,
    offsets_at: usize,
}

impl<'a> BranchView<'a> {
    /// Parses a page that [`check_page`] accepted as page `no`.
    pub fn new(page: &'a [u8], no: PageNo) -> Result<BranchView<'a>, PageFault> {
        let h = header(page, no)?;
        expect_kind(&h, PageKind::Branch)?;
        let (prefix, offsets_at) = node_prefix(page, no)?;
        let count = usize::from(h.count);
        if count == 0 {
            return Err(PageFault::new(no, "branch page without children"));
        }
        if offsets_at + 2 * count > CRC_OFFSET {
            return Err(PageFault::new(no, format!("{count} child offsets do not fit in the page")));
        }
        Ok(BranchView { page, no, prefix, count, offsets_at })
    }

    /// Number of children.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Always false: a branch has at least one child.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The prefix every separator but the first starts with.
    pub fn prefix(&self) -> &'a [u8] {
        self.prefix
    }

    /// The page number.
    pub fn page_no(&self) -> PageNo {
        self.no
    }

    fn fault(&self, what: &'static str, i: usize) -> PageFault {
        PageFault::new(self.no, format!("child {i}: {what}"))
    }

    fn entry_at(&self, i: usize) -> Result<usize, PageFault> {
        if i >= self.count {
            return Err(self.fault("index out of range", i));
        }
        let off =
            get_u16(self.page, self.offsets_at + 2 * i).ok_or_else(|| self.fault("offset outside the page", i))?;
        let off = usize::from(off);
        if off < self.offsets_at + 2 * self.count || off + 10 > CRC_OFFSET {
            return Err(self.fault("offset points outside the entry area", i));
        }
        Ok(off)
    }

    /// Child `i`'s page.
    pub fn child(&self, i: usize) -> Result<PageNo, PageFault> {
        let off = self.entry_at(i)?;
        get_u64(self.page, off).map(PageNo).ok_or_else(|| self.fault("truncated entry", i))
    }

    /// The stored suffix of child `i`'s separator (empty for child 0).
    pub fn sep_suffix(&self, i: usize) -> Result<&'a [u8], PageFault> {
        let off = self.entry_at(i)?;
        let len = get_u16(self.page, off + 8).map(usize::from).ok_or_else(|| self.fault("truncated entry", i))?;
        if off + 10 + len > CRC_OFFSET {
            return Err(self.fault("separator runs past the page", i));
        }
        self.page.get(off + 10..off + 10 + len).ok_or_else(|| self.fault("separator runs past the page", i))
    }

    /// The child whose key range holds `key`: the last `i` with
    /// `sep[i] <= key` (child 0 when there is none). Allocates nothing.
    pub fn child_for(&self, key: &[u8]) -> Result<usize, PageFault> {
        let rest = match split_prefix(key, self.prefix) {
            PrefixCmp::Below => return Ok(0),
            PrefixCmp::Above => return Ok(self.count - 1),
            PrefixCmp::Within(rest) => rest,
        };
        // First i in [1, count) with sep[i] > key; the answer is i - 1.
        let (mut lo, mut hi) = (1, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.sep_suffix(mid)? <= rest {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo - 1)
    }
}

// ---------------------------------------------------------------------------
// Overflow pages.

/// Encodes one overflow page holding `data` (at most
/// [`OVERFLOW_CAPACITY`] bytes), followed by page `next` (0: last).
pub fn encode_overflow(
    page: &mut [u8],
    no: PageNo,
    generation: Generation,
    next: PageNo,
    data: &[u8],
) -> Result<(), StorageError> {
    if page.len() != PAGE_SIZE || data.len() > OVERFLOW_CAPACITY {
        return Err(internal("overflow data does not fit in a page"));
    }
    page.fill(0);
    let len = u32::try_from(data.len()).map_err(|_| internal("overflow data length"))?;
    write_header(page, PageKind::Overflow, 0, len, no, generation)?;
    let mut w = Writer::at(page, HEADER_LEN);
    w.u64(next.0)?;
    w.bytes(data)?;
    seal(page)
}

/// An overflow page, parsed: the next page of the chain and the data.
#[derive(Debug, Clone, Copy)]
pub struct OverflowView<'a> {
    /// The next page of the chain (0: this is the last).
    pub next: PageNo,
    /// The data bytes this page holds.
    pub data: &'a [u8],
}

impl<'a> OverflowView<'a> {
    /// Parses a page that [`check_page`] accepted as page `no`.
    pub fn new(page: &'a [u8], no: PageNo) -> Result<OverflowView<'a>, PageFault> {
        let h = header(page, no)?;
        expect_kind(&h, PageKind::Overflow)?;
        let len = h.data_len as usize;
        if len > OVERFLOW_CAPACITY {
            return Err(PageFault::new(no, format!("overflow page claims {len} data bytes")));
        }
        let next = get_u64(page, HEADER_LEN).ok_or_else(|| PageFault::new(no, "truncated overflow page"))?;
        let data = page
            .get(HEADER_LEN + 8..HEADER_LEN + 8 + len)
            .ok_or_else(|| PageFault::new(no, "overflow data runs past the page"))?;
        Ok(OverflowView { next: PageNo(next), data })
    }
}

// ---------------------------------------------------------------------------
// Free-list pages.

/// Encodes one free-list page listing `ids` (at most
/// [`FREE_LIST_CAPACITY`]), followed by page `next` (0: last).
pub fn encode_free_list(
    page: &mut [u8],
    no: PageNo,
    generation: Generation,
    next: PageNo,
    ids: &[PageNo],
) -> Result<(), StorageError> {
    if page.len() != PAGE_SIZE || ids.len() > FREE_LIST_CAPACITY {
        return Err(internal("free-list ids do not fit in a page"));
    }
    page.fill(0);
    write_header(page, PageKind::FreeList, to_u16(ids.len(), "free-list count")?, 0, no, generation)?;
    let mut w = Writer::at(page, HEADER_LEN);
    w.u64(next.0)?;
    for id in ids {
        w.u64(id.0)?;
    }
    seal(page)
}

/// A free-list page, parsed.
#[derive(Debug, Clone, Copy)]
pub struct FreeListView<'a> {
    /// The next page of the list (0: this is the last).
    pub next: PageNo,
    ids: &'a [u8],
}

impl<'a> FreeListView<'a> {
    /// Parses a page that [`check_page`] accepted as page `no`.
    pub fn new(page: &'a [u8], no: PageNo) -> Result<FreeListView<'a>, PageFault> {
        let h = header(page, no)?;
        expect_kind(&h, PageKind::FreeList)?;
        let count = usize::from(h.count);
        if count > FREE_LIST_CAPACITY {
            return Err(PageFault::new(no, format!("free-list page claims {count} ids")));
        }
        let next = get_u64(page, HEADER_LEN).ok_or_else(|| PageFault::new(no, "truncated free-list page"))?;
        let ids = page
            .get(HEADER_LEN + 8..HEADER_LEN + 8 + 8 * count)
            .ok_or_else(|| PageFault::new(no, "free-list ids run past the page"))?;
        Ok(FreeListView { next: PageNo(next), ids })
    }

    /// The listed page numbers.
    pub fn ids(&self) -> impl Iterator<Item = PageNo> + 'a {
        self.ids.chunks_exact(8).map(|c| PageNo(u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))))
    }

    /// Number of listed pages.
    pub fn len(&self) -> usize {
        self.ids.len() / 8
    }

    /// True when the page lists nothing.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
        let prefix_len = match (entries.first(), entries.last()) {
            (Some(a), Some(b)) => common_prefix(a.0, b.0),
            _ => 0,
        };
        let prefix = entries.first().map(|e| &e.0[..prefix_len]).unwrap_or(&[]);
        let mut page = vec![0u8; PAGE_SIZE];
        encode_leaf(
            &mut page,
            PageNo(9),
            Generation(3),
            prefix,
            entries.len(),
            entries.iter().map(|(k, v)| (*k, ValueRef::Inline(v))),
        )
        .expect("encode");
        page
    }

    #[test]
    fn split_prefix_orders_keys_outside_the_prefix() {
        assert!(matches!(split_prefix(b"ab", b"abc"), PrefixCmp::Below));
        assert!(matches!(split_prefix(b"", b"abc"), PrefixCmp::Below));
        assert!(matches!(split_prefix(b"abb", b"abc"), PrefixCmp::Below));
        assert!(matches!(split_prefix(b"abd", b"abc"), PrefixCmp::Above));
        assert!(matches!(split_prefix(b"b", b"abc"), PrefixCmp::Above));
        assert!(matches!(split_prefix(b"abcx", b"abc"), PrefixCmp::Within(b"x")));
        assert!(matches!(split_prefix(b"x", b""), PrefixCmp::Within(b"x")));
    }

    #[test]
    fn leaf_size_matches_the_encoded_layout() {
        let entries: Vec<(&[u8], &[u8])> = vec![(b"key-001", b"v1"), (b"key-002", b"value-2"), (b"key-013", b"")];
        let page = leaf(&entries);
        let view = LeafView::new(&page, PageNo(9)).expect("view");
        assert_eq!(view.prefix(), b"key-0");
        let raw: usize = entries.iter().map(|(k, v)| LEAF_ENTRY_OVERHEAD + k.len() + v.len()).sum();
        let size = leaf_size(3, raw, 5);
        let last = view.entry(2).expect("entry");
        let end = last.suffix.as_ptr() as usize - page.as_ptr() as usize + last.suffix.len();
        assert_eq!(size, end + 4, "size = end of the last entry + CRC");
    }
}
