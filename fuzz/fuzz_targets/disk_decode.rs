//! Fuzzes the disk engine's decoders on arbitrary bytes: pages of every
//! kind, meta slots, log records, and whole files opened by recovery (a
//! data file and a log segment in an in-memory file system). Damaged bytes
//! must give errors, never panics or hangs.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use mizzle_plugin_api::storage::SyncMode;
use storage_disk::ids::{Lsn, PageNo};
use storage_disk::page::{self, BranchView, FreeListView, LeafView, OverflowView, PAGE_SIZE};
use storage_disk::vfs::faulty::FaultyFs;
use storage_disk::vfs::{OpenMode, Vfs};
use storage_disk::wal::{Wal, WalOptions};

fuzz_target!(|data: &[u8]| {
    // One page, padded or cut to the page size.
    let mut p = data.to_vec();
    p.resize(PAGE_SIZE, 0);
    let _ = page::decode_meta(&p, 0);
    let _ = page::check_page(&p, PageNo(2));
    if let Ok(leaf) = LeafView::new(&p, PageNo(2)) {
        for i in 0..leaf.len().min(64) {
            let _ = leaf.entry(i);
        }
        let _ = leaf.search(b"key");
    }
    if let Ok(b) = BranchView::new(&p, PageNo(2)) {
        let _ = b.child_for(b"key");
    }
    let _ = OverflowView::new(&p, PageNo(2));
    if let Ok(f) = FreeListView::new(&p, PageNo(2)) {
        let _ = f.ids().count();
    }
    let _ = storage_disk::record::decode(data);
    // Whole files through recovery.
    let fs = FaultyFs::new();
    let dir = Path::new("/db");
    if let Ok(f) = fs.open(&dir.join("wal-0000000000000001.log"), OpenMode::CreateNew) {
        let _ = f.write_all_at(data, 0);
    }
    let opts = WalOptions { sync: SyncMode::Off, segment_bytes: 1 << 16, ..WalOptions::default() };
    if let Ok(w) = Wal::open(Arc::new(fs.clone()), dir, Lsn(0), opts, &mut |_, rec| {
        storage_disk::record::decode(rec).map(drop)
    }) {
        let _ = w.close();
    }
    if let Ok(f) = fs.open(&dir.join("data.mzd"), OpenMode::CreateNew) {
        let _ = f.write_all_at(data, 0);
    }
    let _ = storage_disk::pager::Pager::open(Arc::new(fs), &dir.join("data.mzd"), 1 << 20);
});
