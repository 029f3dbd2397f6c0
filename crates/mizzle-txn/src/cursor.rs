//! Snapshot reads: a cursor that turns the engine's stream of versions into
//! the stream of visible (user key, value) pairs, in batches.
//!
//! Invariants:
//! 1. For each user key at most one pair is produced: the newest visible
//!    version's, and nothing when that version is a tombstone.
//! 2. The cursor holds no lock and no borrow of the transaction; it copies
//!    the read view when opened.
//!
//! Skipping old versions: after a key is decided, its remaining versions
//! are skipped; when many remain, the cursor seeks past them instead.
//!
//! Descending cursors ([`TxnCursor::open_desc`]) read the engine's versions
//! in descending order (its descending cursor, or, for an engine without
//! one, the whole range read ascending and consumed from its end), gather
//! each user key's versions — which then arrive oldest first — and judge
//! them newest first, as the ascending cursor does (invariant 1 holds
//! alike). They copy what they return into their own batch.

use std::ops::Bound;
use std::sync::Arc;

use mizzle_plugin_api::storage::{Cursor, KeyRange, KvBatch};

use crate::error::TxnError;
use crate::ids::{SpaceId, Ts, TxnId};
use crate::manager::{ReadView, Shared, SlotHandle};
use crate::version::{self, Kind};

/// Versions of one key passed over before the cursor seeks instead.
const SEEK_AFTER: usize = 16;

/// A cursor over visible pairs of one space.
pub struct TxnCursor {
    shared: Arc<SlotHandle>,
    view: ReadView,
    inner: Box<dyn Cursor>,
    buf: KvBatch,
    pos: usize,
    current: Vec<u8>,
    decided: bool,
    skipped: usize,
    /// Where to seek before the next engine batch (past a key with many
    /// old versions); cleared when the scan reaches another key.
    seek_to: Option<Vec<u8>>,
    exhausted: bool,
    /// Positions in `buf` of the pairs `next_visible` returned.
    visible: Vec<usize>,
    /// The last writer whose visibility is final for this view (committed
    /// or pruned), and that visibility: rows written together skip the
    /// status lookup.
    known: Option<(TxnId, bool)>,
    /// Versions asked of the engine at the next refill of `next_visible`:
    /// [`FULL_BATCH`], or fewer at first when the reader wants few rows
    /// ([`TxnCursor::first_batch`]), growing fourfold per refill.
    batch: usize,
    /// The state of a descending cursor (`None`: ascending).
    desc: Option<Box<Desc>>,
}

/// A descending cursor's state.
struct Desc {
    /// The engine's cursor runs ascending (no descending one): `buf` then
    /// holds the whole range and is consumed from its end.
    reversed: bool,
    /// Versions of the user key being gathered, as read (oldest first),
    /// copied: an engine batch may end inside a key's versions.
    group: KvBatch,
    /// The user key of `group`.
    user: Vec<u8>,
    /// The (version key, version value) pairs of the current call.
    out: KvBatch,
}

/// Versions asked of the engine per refill once a cursor is under way.
const FULL_BATCH: usize = 1024;

fn engine_bound(space: SpaceId, b: Bound<&[u8]>, lower: bool) -> Bound<Vec<u8>> {
    let mut p = Vec::new();
    match b {
        Bound::Unbounded => {
            version::space_prefix(space, &mut p);
            if lower {
                Bound::Included(p)
            } else {
                mizzle_types::key::prefix_successor(&p).map_or(Bound::Unbounded, Bound::Excluded)
            }
        }
        Bound::Included(k) => {
            version::user_prefix(space, k, &mut p);
            if lower {
                Bound::Included(p)
            } else {
                // Every version of k sorts after k's prefix: include them all.
                mizzle_types::key::prefix_successor(&p).map_or(Bound::Unbounded, Bound::Excluded)
            }
        }
        Bound::Excluded(k) => {
            version::user_prefix(space, k, &mut p);
            if lower {
                mizzle_types::key::prefix_successor(&p).map_or(Bound::Unbounded, Bound::Included)
            } else {
                Bound::Excluded(p)
            }
        }
    }
}

impl TxnCursor {
    /// A cursor over the user keys of `space` between the bounds, in
    /// descending key order when `desc` (module documentation).
    pub(crate) fn open(
        shared: Arc<SlotHandle>,
        view: ReadView,
        space: SpaceId,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        desc: bool,
    ) -> Result<TxnCursor, TxnError> {
        let range = KeyRange { start: engine_bound(space, lo, true), end: engine_bound(space, hi, false) };
        if !desc {
            let inner = shared.engine.scan(range)?;
            return Ok(TxnCursor::over(shared, view, inner));
        }
        let (inner, reversed) = match shared.engine.scan_rev(range.clone())? {
            Some(c) => (c, false),
            None => (shared.engine.scan(range)?, true),
        };
        let mut c = TxnCursor::over(shared, view, inner);
        c.desc = Some(Box::new(Desc { reversed, group: KvBatch::new(), user: Vec::new(), out: KvBatch::new() }));
        Ok(c)
    }

    fn over(shared: Arc<SlotHandle>, view: ReadView, inner: Box<dyn Cursor>) -> TxnCursor {
        TxnCursor {
            shared,
            view,
            inner,
            buf: spare_batch(),
            pos: 0,
            current: Vec::new(),
            decided: false,
            skipped: 0,
            seek_to: None,
            exhausted: false,
            visible: Vec::new(),
            known: None,
            batch: FULL_BATCH,
            desc: None,
        }
    }

    /// The position in `buf` of the next version in descending key order;
    /// `None` at the end.
    fn next_desc(&mut self) -> Result<Option<usize>, TxnError> {
        let reversed = self.desc.as_ref().is_some_and(|d| d.reversed);
        if reversed {
            if !self.exhausted {
                // The whole range, ascending, then read from its end.
                let mut all = KvBatch::new();
                while self.inner.next_batch(&mut self.buf, FULL_BATCH)? {
                    for (k, v) in self.buf.iter() {
                        all.push(k, v);
                    }
                }
                self.buf = all;
                self.pos = self.buf.len();
                self.exhausted = true;
            }
            if self.pos == 0 {
                return Ok(None);
            }
            self.pos -= 1;
            return Ok(Some(self.pos));
        }
        if self.pos >= self.buf.len() {
            let n = self.batch;
            self.batch = n.saturating_mul(4).min(FULL_BATCH);
            if self.exhausted || !self.inner.next_batch(&mut self.buf, n)? {
                self.exhausted = true;
                return Ok(None);
            }
            self.pos = 0;
        }
        self.pos += 1;
        Ok(Some(self.pos - 1))
    }

    /// [`TxnCursor::next_visible`] of a descending cursor.
    fn next_visible_desc(&mut self) -> Result<Option<Visible<'_>>, TxnError> {
        self.visible.clear();
        let want = self.batch.max(16);
        if let Some(d) = self.desc.as_deref_mut() {
            d.out.clear();
        }
        loop {
            let next = self.next_desc()?;
            let Some(d) = self.desc.as_deref_mut() else { break };
            let Some(i) = next else {
                judge_group(d, &self.shared, &self.view, &mut self.known)?;
                break;
            };
            let (k, v) = (self.buf.key(i), self.buf.value(i));
            let user = version::parse_key(k)?.user_key;
            if d.user.as_slice() != user && !d.group.is_empty() {
                judge_group(d, &self.shared, &self.view, &mut self.known)?;
            }
            d.user.clear();
            d.user.extend_from_slice(user);
            d.group.push(k, v);
            // The group just begun stays for the next call.
            if d.out.len() >= want {
                break;
            }
        }
        let Some(d) = self.desc.as_ref() else { return Ok(None) };
        self.visible.extend(0..d.out.len());
        Ok((!self.visible.is_empty()).then_some(Visible { buf: &d.out, idx: &self.visible }))
    }

    /// Clears `out` and fills it with up to about `max_pairs` visible
    /// (user key, value) pairs; returns `false` once nothing is left.
    pub fn next_batch(&mut self, out: &mut KvBatch, max_pairs: usize) -> Result<bool, TxnError> {
        out.clear();
        if self.desc.is_some() {
            if let Some(v) = self.next_visible()? {
                for n in 0..v.len() {
                    let (k, val) = v.get(n)?;
                    out.push(k, val);
                }
            }
            return Ok(!out.is_empty());
        }
        let max_pairs = max_pairs.max(1);
        while out.len() < max_pairs {
            if self.pos >= self.buf.len() && !self.refill(max_pairs.clamp(16, 1024))? {
                break;
            }
            if let Some(i) = self.step()? {
                let (k, v) = entry(&self.buf, i)?;
                out.push(k, v);
            }
        }
        Ok(!out.is_empty())
    }

    /// Asks the engine for about `versions` versions (at least 16) at the
    /// first refill of [`TxnCursor::next_visible`] instead of 1,024, four
    /// times more at each later one: a reader that wants few rows (a LIMIT)
    /// does not copy and judge a thousand.
    pub fn first_batch(&mut self, versions: usize) {
        self.batch = versions.clamp(16, FULL_BATCH);
    }

    /// The next visible (user key, value) pairs, read in place from the
    /// cursor's engine batch (no copy); `None` once nothing is left.
    pub fn next_visible(&mut self) -> Result<Option<Visible<'_>>, TxnError> {
        if self.desc.is_some() {
            return self.next_visible_desc();
        }
        self.visible.clear();
        loop {
            if self.pos >= self.buf.len() && !self.visible.is_empty() {
                break;
            }
            if self.pos >= self.buf.len() {
                let n = self.batch;
                self.batch = n.saturating_mul(4).min(FULL_BATCH);
                if !self.refill(n)? {
                    break;
                }
            }
            if let Some(i) = self.step()? {
                self.visible.push(i);
            }
        }
        Ok((!self.visible.is_empty()).then_some(Visible { buf: &self.buf, idx: &self.visible }))
    }

    /// Reads the next engine batch into `buf`; `false` at the end.
    fn refill(&mut self, n: usize) -> Result<bool, TxnError> {
        if self.exhausted {
            return Ok(false);
        }
        self.pos = 0;
        if let Some(k) = self.seek_to.take() {
            self.inner.seek(&k);
        }
        if !self.inner.next_batch(&mut self.buf, n)? {
            self.exhausted = true;
            return Ok(false);
        }
        Ok(true)
    }

    /// Judges the version at `pos` and moves past it: `Some(pos)` when it
    /// is the visible put of its key.
    fn step(&mut self) -> Result<Option<usize>, TxnError> {
        let i = self.pos;
        let k = self.buf.key(i);
        let v = self.buf.value(i);
        self.pos += 1;
        let vk = version::parse_key(k)?;
        if vk.user_key == self.current.as_slice() && !self.current.is_empty() {
            if self.decided {
                self.skipped += 1;
                if self.skipped == SEEK_AFTER {
                    // Seek only past the buffered batch: keys after this
                    // one may already be in it.
                    let mut p = Vec::new();
                    version::user_prefix(vk.space, vk.user_key, &mut p);
                    self.seek_to = mizzle_types::key::prefix_successor(&p);
                }
                return Ok(None);
            }
        } else {
            self.current.clear();
            self.current.extend_from_slice(vk.user_key);
            self.decided = false;
            self.skipped = 0;
            self.seek_to = None;
        }
        let vv = version::parse_value(v)?;
        if visible(&self.shared, &self.view, &mut self.known, vv.writer, vk.seq) {
            self.decided = true;
            if vv.kind == Kind::Put {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }
}

/// Judges the versions `d` gathered for one user key newest first, keeps
/// the visible put, if any, in `d.out`, and empties the group.
fn judge_group(
    d: &mut Desc,
    shared: &SlotHandle,
    view: &ReadView,
    known: &mut Option<(TxnId, bool)>,
) -> Result<(), TxnError> {
    for n in (0..d.group.len()).rev() {
        let (k, v) = (d.group.key(n), d.group.value(n));
        let vk = version::parse_key(k)?;
        let vv = version::parse_value(v)?;
        if visible(shared, view, known, vv.writer, vk.seq) {
            if vv.kind == Kind::Put {
                d.out.push(k, v);
            }
            break;
        }
    }
    d.group.clear();
    Ok(())
}

/// Whether a version by `writer` at `seq` is visible to `view`; `known`
/// keeps the last writer whose visibility is final, so rows written
/// together skip the status lookup.
fn visible(shared: &SlotHandle, view: &ReadView, known: &mut Option<(TxnId, bool)>, writer: TxnId, seq: Ts) -> bool {
    match *known {
        Some((w, vis)) if w == writer => vis,
        _ => {
            let (vis, settled) = shared.visibility(view, writer, seq);
            if settled {
                *known = Some((writer, vis));
            }
            vis
        }
    }
}

/// (user key, payload) of the version at `i` of an engine batch.
fn entry(buf: &KvBatch, i: usize) -> Result<(&[u8], &[u8]), TxnError> {
    let vk = version::parse_key(buf.key(i))?;
    let vv = version::parse_value(buf.value(i))?;
    Ok((vk.user_key, vv.payload))
}

/// Visible pairs of one engine batch, borrowed from the cursor.
pub struct Visible<'c> {
    buf: &'c KvBatch,
    idx: &'c [usize],
}

impl<'c> Visible<'c> {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.idx.len()
    }

    /// True when there are none (never, for a batch `next_visible` returns).
    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }

    /// The `n`th (user key, value) pair.
    pub fn get(&self, n: usize) -> Result<(&'c [u8], &'c [u8]), TxnError> {
        let i = *self.idx.get(n).ok_or(TxnError::Corrupt("visible pair index out of range"))?;
        entry(self.buf, i)
    }
}

/// `f` of the visible value of one key, read in place from the engine's
/// batch (no copy of the value).
pub(crate) fn point_get<R>(
    shared: &Shared,
    view: &ReadView,
    space: SpaceId,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>, TxnError> {
    let mut batch = spare_batch();
    let r = point_find(shared, view, space, key, &mut batch)
        .and_then(|found| found.map(|i| Ok(f(version::parse_value(batch.value(i))?.payload))).transpose());
    give_back_batch(batch);
    r
}

thread_local! {
    /// Engine batches kept for reuse on this thread: a point read or a
    /// short scan (the hot paths of OLTP statements) would otherwise grow
    /// fresh buffers, reallocating them a dozen times, on every call.
    static SPARE_BATCHES: std::cell::RefCell<Vec<KvBatch>> = const { std::cell::RefCell::new(Vec::new()) };
}

thread_local! {
    /// The version-key prefix of the key a point read looks up, reused.
    static PREFIX: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Calls `f` with the prefix of every version of `key` in `space`, built
/// in a buffer this thread reuses (a point read allocates none).
pub(crate) fn with_version_prefix<R>(space: SpaceId, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    let mut p = PREFIX.try_with(std::cell::Cell::take).unwrap_or_default();
    version::user_prefix(space, key, &mut p);
    let r = f(&p);
    if p.capacity() <= 1024 {
        let _ = PREFIX.try_with(|c| c.set(p));
    }
    r
}

/// Batches kept per thread, and the largest kept (a batch that grew for a
/// big scan is freed, so idle threads hold little).
const SPARE_MAX: usize = 8;
const SPARE_MAX_BYTES: usize = 256 << 10;

/// An empty batch, reused when this thread has one.
pub(crate) fn spare_batch() -> KvBatch {
    SPARE_BATCHES.try_with(|s| s.borrow_mut().pop()).ok().flatten().unwrap_or_default()
}

/// Keeps `batch` for reuse on this thread (or frees it).
pub(crate) fn give_back_batch(mut batch: KvBatch) {
    if batch.capacity_bytes() > SPARE_MAX_BYTES {
        return;
    }
    batch.clear();
    let _ = SPARE_BATCHES.try_with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < SPARE_MAX {
            s.push(batch);
        }
    });
}

impl Drop for TxnCursor {
    fn drop(&mut self) {
        give_back_batch(std::mem::take(&mut self.buf));
    }
}

/// The position in `batch` of the visible version of `key` (a put), or
/// `None` (no version visible, or a tombstone).
fn point_find(
    shared: &Shared,
    view: &ReadView,
    space: SpaceId,
    key: &[u8],
    batch: &mut KvBatch,
) -> Result<Option<usize>, TxnError> {
    let range = || {
        let mut p = Vec::with_capacity(key.len() + 5);
        version::user_prefix(space, key, &mut p);
        KeyRange::prefix_owned(p)
    };
    // Fast path: the newest few versions usually decide.
    let more = with_version_prefix(space, key, |p| shared.engine.scan_prefix_first(p, batch, 4))?;
    if let Some(found) = first_visible(shared, view, key, batch)? {
        return Ok(found);
    }
    if !more {
        return Ok(None);
    }
    let mut cur = shared.engine.scan(range())?;
    while cur.next_batch(batch, 64)? {
        if let Some(found) = first_visible(shared, view, key, batch)? {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The position of the first version of `key` in `batch` (newest first)
/// that is visible to `view` (`Some(None)` for a tombstone); `None` when
/// no version in the batch decides.
fn first_visible(
    shared: &Shared,
    view: &ReadView,
    key: &[u8],
    batch: &KvBatch,
) -> Result<Option<Option<usize>>, TxnError> {
    for (i, (k, v)) in batch.iter().enumerate() {
        let vk = version::parse_key(k)?;
        if vk.user_key != key {
            continue;
        }
        let vv = version::parse_value(v)?;
        if shared.is_visible(view, vv.writer, vk.seq) {
            return Ok(Some(match vv.kind {
                Kind::Put => Some(i),
                Kind::Tombstone => None,
            }));
        }
    }
    Ok(None)
}
