//! The worked examples of `docs/format/disk.md` section 7 decode as the
//! specification says, and this build encodes the same values to exactly
//! those bytes. The hex is read from the document itself, so the document
//! and the code cannot drift apart.

use storage_disk::ids::{Generation, Lsn, PageNo};
use storage_disk::page::{self, LeafView, Meta, MetaSlot, ValueRef, PAGE_SIZE};

/// The bytes of the fenced block tagged `tag` in disk.md: lines
/// `offset: hex hex ...`; every byte not listed is zero; a page-sized block.
fn spec_page(tag: &str) -> Vec<u8> {
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/format/disk.md"))
        .expect("docs/format/disk.md");
    let start = spec.find(&format!("```text {tag}\n")).unwrap_or_else(|| panic!("example `{tag}` in disk.md"));
    let body = &spec[start..];
    let body = &body[body.find('\n').expect("fence line") + 1..];
    let body = &body[..body.find("```").expect("closing fence")];
    let mut page = vec![0u8; PAGE_SIZE];
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        let (off, hex) = line.split_once(':').expect("offset: bytes");
        let off = usize::from_str_radix(off.trim(), 16).expect("hex offset");
        for (i, b) in hex.split_whitespace().enumerate() {
            page[off + i] = u8::from_str_radix(b, 16).expect("hex byte");
        }
    }
    page
}

/// The page as the spec would list it: 16 bytes per line, zero lines left
/// out (printed when `MIZZLE_PRINT_SPEC` is set, to regenerate the doc).
fn listing(page: &[u8]) -> String {
    let mut out = String::new();
    for (i, line) in page.chunks(16).enumerate() {
        if line.iter().any(|&b| b != 0) {
            let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
            out.push_str(&format!("{:04x}: {}\n", i * 16, hex.join(" ")));
        }
    }
    out
}

fn example_meta() -> Meta {
    Meta {
        generation: Generation(3),
        root: PageNo(5),
        height: 1,
        page_count: 7,
        free_head: PageNo(6),
        free_count: 2,
        checkpoint_lsn: Lsn(42),
        entries: 2,
        bytes: 21,
    }
}

#[test]
fn spec_example_bytes_decode() {
    // 7.1: a meta page.
    let meta_bytes = page::encode_meta(&example_meta()).expect("encode meta");
    if std::env::var_os("MIZZLE_PRINT_SPEC").is_some() {
        println!("meta:\n{}", listing(&meta_bytes));
    }
    let spec_meta = spec_page("meta-example");
    match page::decode_meta(&spec_meta, 1) {
        MetaSlot::Valid(m) => assert_eq!(m, example_meta()),
        other => panic!("the spec's meta page does not decode: {other:?}"),
    }
    assert_eq!(listing(&spec_meta), listing(&meta_bytes), "this build encodes the spec's meta bytes");

    // 7.2: a leaf page holding `user:ann` = `1` and `user:bob` = `22`.
    let mut leaf = vec![0u8; PAGE_SIZE];
    let entries: [(&[u8], ValueRef<'_>); 2] =
        [(b"user:ann", ValueRef::Inline(b"1")), (b"user:bob", ValueRef::Inline(b"22"))];
    page::encode_leaf(&mut leaf, PageNo(5), Generation(3), b"user:", 2, entries).expect("encode leaf");
    if std::env::var_os("MIZZLE_PRINT_SPEC").is_some() {
        println!("leaf:\n{}", listing(&leaf));
    }
    let spec_leaf = spec_page("leaf-example");
    let view = LeafView::new(&spec_leaf, PageNo(5)).expect("the spec's leaf decodes");
    assert_eq!(view.len(), 2);
    assert_eq!(view.prefix(), b"user:");
    let e0 = view.entry(0).expect("entry 0");
    assert_eq!((e0.suffix, e0.value), (b"ann".as_ref(), ValueRef::Inline(b"1")));
    let e1 = view.entry(1).expect("entry 1");
    assert_eq!((e1.suffix, e1.value), (b"bob".as_ref(), ValueRef::Inline(b"22")));
    assert_eq!(listing(&spec_leaf), listing(&leaf), "this build encodes the spec's leaf bytes");
}
