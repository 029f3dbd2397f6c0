//! Functions that fit no family: UUID (ISNULL is a one-liner in `mod.rs`).
//!
//! Invariants:
//! 1. UUID draws its randomness from `FuncCtx::rand_state`, so a seeded
//!    session produces the same identifiers every run.
//! 2. UUIDs have the version-4 layout: version nibble 4, variant bits 10.
//!
//! MySQL's own UUID() is version 1 (time and node based); mizzle does not
//! imitate that layout.

use std::fmt::Write;

use mizzle_types::Value;

use super::FuncCtx;

/// UUID(): `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx` in lower-case hex.
pub(super) fn uuid(ctx: &mut FuncCtx<'_>) -> Value {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&ctx.next_random().to_be_bytes());
    b[8..].copy_from_slice(&ctx.next_random().to_be_bytes());
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{byte:02x}");
    }
    Value::text(&s)
}
