//! Page encode/decode round trips, lookups inside one page, and detection
//! of every corruption of a page's bytes.

#[path = "tree_model.rs"]
mod model;

use mizzle_plugin_api::storage::StorageError;
use model::Rng;
use storage_disk::ids::{Generation, Lsn, PageNo};
use storage_disk::page::{
    self, check_page, common_prefix, decode_meta, encode_branch, encode_free_list, encode_leaf, encode_meta,
    encode_overflow, BranchView, FreeListView, LeafView, Meta, MetaSlot, OverflowView, PageKind, ValueRef, CRC_OFFSET,
    FREE_LIST_CAPACITY, MAX_KEY_LEN, OVERFLOW_CAPACITY, PAGE_SIZE,
};

type Entry = (Vec<u8>, Vec<u8>);

fn leaf_page(no: u64, entries: &[Entry]) -> Vec<u8> {
    let p = match (entries.first(), entries.last()) {
        (Some(a), Some(b)) => common_prefix(&a.0, &b.0),
        _ => 0,
    };
    let prefix = entries.first().map(|e| e.0[..p].to_vec()).unwrap_or_default();
    let mut page = vec![0u8; PAGE_SIZE];
    let it = entries.iter().enumerate().map(|(i, (k, v))| {
        let value = if i % 5 == 4 {
            ValueRef::Overflow { first: PageNo(1000 + i as u64), len: 70_000 }
        } else {
            ValueRef::Inline(v)
        };
        (k.as_slice(), value)
    });
    encode_leaf(&mut page, PageNo(no), Generation(5), &prefix, entries.len(), it).expect("encode leaf");
    page
}

/// Sorted unique entries sharing a prefix, with binary and empty suffixes.
fn entries(rng: &mut Rng, n: usize, prefix: &[u8]) -> Vec<Entry> {
    let mut m = std::collections::BTreeMap::new();
    while m.len() < n {
        let mut k = prefix.to_vec();
        let tail = rng.bytes_len(0, 6);
        k.extend_from_slice(&tail);
        let v = rng.bytes_len(0, 40);
        m.insert(k, v);
    }
    m.into_iter().collect()
}

#[test]
fn leaf_round_trips_and_searches_with_prefix_compression() {
    let mut rng = Rng::new(1);
    for (case, prefix) in [&b""[..], b"user/00", b"\x00\xff\x00", b"zz"].iter().enumerate() {
        let es = entries(&mut rng, 200, prefix);
        let page = leaf_page(7, &es);
        let h = check_page(&page, PageNo(7)).expect("check");
        assert_eq!(h.kind, PageKind::Leaf);
        assert_eq!(h.generation, Generation(5));
        let leaf = LeafView::new(&page, PageNo(7)).expect("view");
        assert_eq!(leaf.len(), es.len());
        assert!(leaf.prefix().starts_with(prefix), "case {case}");
        for (i, (k, v)) in es.iter().enumerate() {
            let e = leaf.entry(i).expect("entry");
            let mut full = leaf.prefix().to_vec();
            full.extend_from_slice(e.suffix);
            assert_eq!(&full, k);
            if i % 5 == 4 {
                assert_eq!(e.value, ValueRef::Overflow { first: PageNo(1000 + i as u64), len: 70_000 });
            } else {
                assert_eq!(e.value, ValueRef::Inline(v));
            }
            assert_eq!(leaf.search(k).expect("search"), Ok(i));
        }
        // Probes: random keys, keys below and above the prefix, prefixes of
        // the prefix, and the empty key.
        let mut probes: Vec<Vec<u8>> = (0..300).map(|_| rng.bytes_len(0, 5)).collect();
        for (k, _) in es.iter().take(50) {
            let mut p = k.clone();
            p.push(0);
            probes.push(p);
            probes.push(k[..k.len() / 2].to_vec());
        }
        probes.push(Vec::new());
        probes.push(b"\xff\xff\xff\xff".to_vec());
        for p in 0..=prefix.len() {
            probes.push(prefix[..p].to_vec());
        }
        for probe in probes {
            let want = es.binary_search_by(|(k, _)| k.as_slice().cmp(&probe));
            assert_eq!(leaf.search(&probe).expect("search"), want, "case {case} probe {probe:?}");
        }
    }
}

#[test]
fn a_single_empty_key_leaf_works() {
    let page = leaf_page(3, &[(Vec::new(), b"v".to_vec())]);
    let leaf = LeafView::new(&page, PageNo(3)).expect("view");
    assert_eq!(leaf.search(b"").expect("s"), Ok(0));
    assert_eq!(leaf.search(b"\x00").expect("s"), Err(1));
}

#[test]
fn branch_round_trips_and_routes_keys() {
    let mut rng = Rng::new(2);
    for prefix in [&b""[..], b"sep/"] {
        let keys: Vec<Vec<u8>> = entries(&mut rng, 120, prefix).into_iter().map(|e| e.0).collect();
        // Child i covers [keys[i-1], keys[i]) with child 0 from -inf.
        let mut seps: Vec<Vec<u8>> = vec![Vec::new()];
        seps.extend(keys.iter().skip(1).cloned());
        let p = common_prefix(&seps[1], &seps[seps.len() - 1]);
        let bprefix = seps[1][..p].to_vec();
        let mut page = vec![0u8; PAGE_SIZE];
        encode_branch(
            &mut page,
            PageNo(11),
            Generation(2),
            &bprefix,
            seps.len(),
            seps.iter().enumerate().map(|(i, s)| (s.as_slice(), PageNo(100 + i as u64))),
        )
        .expect("encode");
        check_page(&page, PageNo(11)).expect("check");
        let b = BranchView::new(&page, PageNo(11)).expect("view");
        assert_eq!(b.len(), seps.len());
        for i in 0..seps.len() {
            assert_eq!(b.child(i).expect("child"), PageNo(100 + i as u64));
        }
        assert_eq!(b.sep_suffix(0).expect("sep 0"), b"");
        let mut probes: Vec<Vec<u8>> = (0..400).map(|_| rng.bytes_len(0, 6)).collect();
        probes.extend(keys.iter().cloned());
        probes.extend(keys.iter().map(|k| {
            let mut k = k.clone();
            k.push(0);
            k
        }));
        probes.push(Vec::new());
        probes.push(prefix.to_vec());
        probes.push(b"\xff".to_vec());
        for probe in probes {
            // The last i with sep[i] <= probe (sep[0] = -inf).
            let want = seps.iter().skip(1).take_while(|s| s.as_slice() <= probe.as_slice()).count();
            assert_eq!(b.child_for(&probe).expect("child_for"), want, "probe {probe:?}");
        }
    }
}

#[test]
fn overflow_and_free_list_pages_round_trip() {
    let mut rng = Rng::new(3);
    let data = rng.bytes(OVERFLOW_CAPACITY);
    let mut page = vec![0u8; PAGE_SIZE];
    encode_overflow(&mut page, PageNo(4), Generation(1), PageNo(9), &data).expect("encode");
    check_page(&page, PageNo(4)).expect("check");
    let o = OverflowView::new(&page, PageNo(4)).expect("view");
    assert_eq!((o.next, o.data), (PageNo(9), data.as_slice()));
    assert!(encode_overflow(&mut page, PageNo(4), Generation(1), PageNo(9), &rng.bytes(OVERFLOW_CAPACITY + 1)).is_err());

    let ids: Vec<PageNo> = (0..FREE_LIST_CAPACITY as u64).map(|i| PageNo(i * 3 + 2)).collect();
    encode_free_list(&mut page, PageNo(5), Generation(1), PageNo(0), &ids).expect("encode");
    check_page(&page, PageNo(5)).expect("check");
    let f = FreeListView::new(&page, PageNo(5)).expect("view");
    assert_eq!(f.ids().collect::<Vec<_>>(), ids);
    assert_eq!(f.next, PageNo(0));
}

#[test]
fn meta_round_trips_and_slots_are_classified() {
    let meta = Meta {
        generation: Generation(7),
        root: PageNo(12),
        height: 3,
        page_count: 40,
        free_head: PageNo(13),
        free_count: 5,
        checkpoint_lsn: Lsn(99),
        entries: 1000,
        bytes: 12345,
    };
    let page = encode_meta(&meta).expect("encode");
    assert_eq!(&page[..8], b"MIZZLEDB");
    assert_eq!(decode_meta(&page, 1), MetaSlot::Valid(meta));
    assert!(
        matches!(decode_meta(&page, 0), MetaSlot::Damaged(w) if w.contains("slot")),
        "generation 7 belongs in slot 1"
    );
    assert_eq!(decode_meta(&vec![0u8; PAGE_SIZE], 1), MetaSlot::Zero);
    let mut foreign = vec![0u8; PAGE_SIZE];
    foreign[..4].copy_from_slice(b"SQLi");
    assert_eq!(decode_meta(&foreign, 0), MetaSlot::Foreign);
    // A newer format keeps the magic, the version and the trailing CRC.
    let mut newer = page.clone();
    newer[8..12].copy_from_slice(&2u32.to_le_bytes());
    page::seal(&mut newer).expect("seal");
    assert_eq!(decode_meta(&newer, 1), MetaSlot::Newer(2));
    // A bit flip in the version field is damage, not a newer format.
    let mut flipped = page.clone();
    flipped[9] ^= 1;
    assert!(matches!(decode_meta(&flipped, 1), MetaSlot::Damaged(_)));
    // Inconsistent fields under a valid checksum are damage.
    let mut bad = meta;
    bad.root = PageNo(40);
    assert!(matches!(decode_meta(&encode_meta(&bad).expect("e"), 1), MetaSlot::Damaged(w) if w.contains("root")));
    assert!(matches!(decode_meta(&page[..100], 1), MetaSlot::Damaged(_)));
}

fn sample_pages() -> Vec<(&'static str, Vec<u8>)> {
    let mut rng = Rng::new(4);
    let es = entries(&mut rng, 150, b"pre/");
    let leaf = leaf_page(21, &es);
    let mut branch = vec![0u8; PAGE_SIZE];
    let seps: Vec<Vec<u8>> = (0..100u32).map(|i| format!("s{i:05}").into_bytes()).collect();
    encode_branch(
        &mut branch,
        PageNo(21),
        Generation(1),
        b"s0",
        100,
        seps.iter().enumerate().map(|(i, s)| (s.as_slice(), PageNo(i as u64 + 2))),
    )
    .expect("branch");
    let mut overflow = vec![0u8; PAGE_SIZE];
    encode_overflow(&mut overflow, PageNo(21), Generation(1), PageNo(22), &rng.bytes(9000)).expect("overflow");
    let mut free = vec![0u8; PAGE_SIZE];
    let ids: Vec<PageNo> = (2..500).map(PageNo).collect();
    encode_free_list(&mut free, PageNo(21), Generation(1), PageNo(0), &ids).expect("free");
    vec![("leaf", leaf), ("branch", branch), ("overflow", overflow), ("free list", free)]
}

#[test]
fn every_flipped_byte_of_a_page_is_detected() {
    for (name, page) in sample_pages() {
        check_page(&page, PageNo(21)).expect("sample is valid");
        for off in 0..PAGE_SIZE {
            let mut bad = page.clone();
            bad[off] ^= 1 << (off % 8);
            assert!(check_page(&bad, PageNo(21)).is_err(), "{name}: flip at byte {off} not detected");
        }
        // Read at the wrong number: a misdirected write.
        let e = check_page(&page, PageNo(22)).expect_err("wrong page number");
        assert!(e.what.contains("names page 21"), "{}", e.what);
        // A short read.
        assert!(check_page(&page[..PAGE_SIZE - 1], PageNo(21)).is_err());
    }
}

#[test]
fn the_corruption_error_names_the_file_and_page() {
    let (_, page) = sample_pages().swap_remove(0);
    let mut bad = page;
    bad[100] ^= 4;
    let e = check_page(&bad, PageNo(21)).expect_err("detected").into_error("/x/data.mzd");
    assert_eq!(e, StorageError::Corrupt("data file '/x/data.mzd' page 21: checksum mismatch".into()));
}

/// Damage re-sealed with a valid checksum (a bug, or a hostile file) must
/// give errors, never panics, from every accessor.
#[test]
fn resealed_garbage_never_panics() {
    let mut rng = Rng::new(5);
    for (name, page) in sample_pages() {
        for round in 0..3000 {
            let mut bad = page.clone();
            for _ in 0..1 + rng.below(4) {
                let off = if rng.chance(60) { rng.below(400) } else { rng.below(CRC_OFFSET as u64) } as usize;
                bad[off] = rng.next_u64() as u8;
            }
            page::seal(&mut bad).expect("seal");
            let no = PageNo(21);
            let _ = check_page(&bad, no);
            if let Ok(l) = LeafView::new(&bad, no) {
                for i in 0..l.len() + 1 {
                    let _ = l.entry(i);
                    let _ = l.suffix(i);
                }
                let _ = l.search(b"pre/abc");
                let _ = l.search(b"");
            }
            if let Ok(b) = BranchView::new(&bad, no) {
                for i in 0..b.len() + 1 {
                    let _ = b.child(i);
                    let _ = b.sep_suffix(i);
                }
                let _ = b.child_for(b"s00050");
            }
            if let Ok(o) = OverflowView::new(&bad, no) {
                assert!(o.data.len() <= OVERFLOW_CAPACITY, "{name} round {round}");
            }
            if let Ok(f) = FreeListView::new(&bad, no) {
                let _ = f.ids().count();
            }
        }
    }
}

#[test]
fn keys_longer_than_the_limit_are_refused_clearly() {
    assert!(page::check_key(&vec![1u8; MAX_KEY_LEN]).is_ok());
    match page::check_key(&vec![1u8; MAX_KEY_LEN + 1]) {
        Err(StorageError::KeyTooLong(m)) => assert!(m.contains("4000") && m.contains("4001"), "{m}"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(page::needs_overflow(0, 4075));
    assert!(!page::needs_overflow(4000, 74));
}
