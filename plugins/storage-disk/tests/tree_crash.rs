//! Crashes during a checkpoint (D1–D3): whatever point the power fails
//! at, and whatever the medium keeps of the unsynced writes, the file
//! reopens to the previous or the new generation with exactly that
//! generation's contents, and the next checkpoint works.

#[path = "tree_model.rs"]
mod model;

use model::{apply, assert_matches, checkpoint, faulty, fs_path, reopen, Changes, Model, Rng};
use storage_disk::page::PAGE_SIZE;
use storage_disk::pager::Pager;
use storage_disk::vfs::faulty::{CrashMode, FaultKind, FaultyFs};

const CACHE: u64 = 32 * PAGE_SIZE as u64;

fn round_changes(rng: &mut Rng, model: &Model, n: usize) -> Changes {
    let keys: Vec<Vec<u8>> = model.keys().cloned().collect();
    let mut c = Changes::new();
    for _ in 0..n {
        let key = if !keys.is_empty() && rng.chance(50) {
            keys[rng.below(keys.len() as u64) as usize].clone()
        } else {
            format!("key/{:06}", rng.below(100_000)).into_bytes()
        };
        let value = match rng.below(20) {
            0 => Some(rng.bytes_len(5_000, 30_000)),
            1..=5 => None,
            _ => Some(rng.bytes_len(0, 100)),
        };
        c.insert(key, value);
    }
    c
}

/// A database with generations 1..=3 committed; returns the file system,
/// the model of each generation, and the changes of generation 4.
fn setup(seed: u64) -> (FaultyFs, Vec<Model>, Changes) {
    let (fs, vfs) = faulty();
    let p = Pager::create(vfs, &fs_path(), CACHE).expect("create");
    let mut rng = Rng::new(seed);
    let mut models = vec![Model::new()];
    for g in 1..=3u64 {
        let c = round_changes(&mut rng, models.last().unwrap_or(&Model::new()), 600);
        checkpoint(&p, &c, g * 10).expect("setup checkpoint");
        let mut m = models.last().cloned().unwrap_or_default();
        apply(&mut m, &c);
        models.push(m);
    }
    let c4 = round_changes(&mut rng, &models[3], 600);
    let mut m4 = models[3].clone();
    apply(&mut m4, &c4);
    models.push(m4);
    (fs, models, c4)
}

/// Reopens after a crash, checks the generation's contents, and that a
/// further checkpoint works on the recovered file.
fn check_recovered(fs: &FaultyFs, models: &[Model], allowed: &[u64], what: &str) -> u64 {
    let vfs: std::sync::Arc<dyn storage_disk::vfs::Vfs> = std::sync::Arc::new(fs.clone());
    let p = Pager::open(vfs.clone(), &fs_path(), CACHE).unwrap_or_else(|e| panic!("{what}: reopen failed: {e}"));
    let v = p.current();
    let g = v.generation().0;
    assert!(allowed.contains(&g), "{what}: reopened generation {g}, allowed {allowed:?}");
    assert_eq!(v.checkpoint_lsn().0, g * 10, "{what}");
    let mut rng = Rng::new(g);
    assert_matches(&v, &models[g as usize], &mut rng);
    drop(v);
    // The recovered free list is sound: a new checkpoint reuses it.
    let mut c = Changes::new();
    c.insert(b"after-crash".to_vec(), Some(vec![7; 9000]));
    let v = checkpoint(&p, &c, 1000).unwrap_or_else(|e| panic!("{what}: checkpoint after recovery: {e}"));
    let mut m = models[g as usize].clone();
    apply(&mut m, &c);
    assert_matches(&v, &m, &mut rng);
    drop(v);
    drop(p);
    let p = reopen(&vfs, &fs_path(), CACHE);
    assert_matches(&p.current(), &m, &mut rng);
    g
}

/// Write and sync calls of the fourth checkpoint.
fn checkpoint_calls(seed: u64) -> (u64, u64) {
    let (fs, _, c4) = setup(seed);
    let vfs: std::sync::Arc<dyn storage_disk::vfs::Vfs> = std::sync::Arc::new(fs.clone());
    let p = reopen(&vfs, &fs_path(), CACHE);
    let (w0, s0) = fs.counts();
    checkpoint(&p, &c4, 40).expect("checkpoint 4");
    let (w1, s1) = fs.counts();
    (w1 - w0, s1 - s0)
}

#[test]
fn power_loss_after_any_write_keeps_a_whole_generation() {
    let seed = 1;
    let (writes, syncs) = checkpoint_calls(seed);
    assert_eq!(syncs, 2, "pages, then the meta");
    assert!(writes > 20, "{writes} writes");
    for n in 0..=writes {
        for (mi, mode) in
            [CrashMode::DropUnsynced, CrashMode::KeepAll, CrashMode::Random(n * 31 + 7)].into_iter().enumerate()
        {
            let (fs, models, c4) = setup(seed);
            let vfs: std::sync::Arc<dyn storage_disk::vfs::Vfs> = std::sync::Arc::new(fs.clone());
            let p = reopen(&vfs, &fs_path(), CACHE);
            // Every write from the n-th on fails: the process stops there.
            fs.fail_write(n, FaultKind::Io, true);
            let r = checkpoint(&p, &c4, 40);
            assert_eq!(r.is_ok(), n == writes, "n={n}");
            fs.crash(mode);
            fs.clear_faults();
            // The meta is the last write; before it, only generation 3.
            let allowed: &[u64] = if n == writes { &[4] } else { &[3] };
            check_recovered(&fs, &models, allowed, &format!("write {n}, mode {mi}"));
        }
    }
}

#[test]
fn power_loss_at_each_sync_keeps_a_whole_generation() {
    for seed in 0..3 {
        for k in 0..2u64 {
            for (mi, mode) in
                [CrashMode::DropUnsynced, CrashMode::KeepAll, CrashMode::Random(seed * 100 + k)].into_iter().enumerate()
            {
                let (fs, models, c4) = setup(seed);
                let vfs: std::sync::Arc<dyn storage_disk::vfs::Vfs> = std::sync::Arc::new(fs.clone());
                let p = reopen(&vfs, &fs_path(), CACHE);
                fs.fail_sync(k, FaultKind::Io, true);
                let e = checkpoint(&p, &c4, 40).expect_err("sync fails");
                assert!(e.to_string().contains("no further checkpoints"), "{e}");
                assert!(checkpoint(&p, &Changes::new(), 41).is_err(), "refused after a failed sync");
                fs.crash(mode);
                fs.clear_faults();
                // The first sync precedes the meta write: generation 3.
                // After the meta write, a crash may keep it or not.
                let allowed: &[u64] = match (k, mode) {
                    (0, _) | (1, CrashMode::DropUnsynced) => &[3],
                    (1, CrashMode::KeepAll) => &[4],
                    _ => &[3, 4],
                };
                check_recovered(&fs, &models, allowed, &format!("seed {seed} sync {k} mode {mi}"));
            }
        }
    }
}

#[test]
fn random_crash_points_over_many_seeds() {
    let mut seen = [0u32; 5];
    for seed in 0..120u64 {
        let (fs, models, c4) = setup(seed % 6);
        let vfs: std::sync::Arc<dyn storage_disk::vfs::Vfs> = std::sync::Arc::new(fs.clone());
        let p = reopen(&vfs, &fs_path(), CACHE);
        let mut rng = Rng::new(seed);
        // Stop at a random write or at the meta's sync, then lose power
        // with a random outcome for each unsynced write (torn or not).
        if rng.chance(30) {
            fs.fail_sync(1, FaultKind::Io, true);
        } else {
            fs.fail_write(rng.below(60), FaultKind::Io, true);
        }
        let _ = checkpoint(&p, &c4, 40);
        fs.crash(CrashMode::Random(seed));
        fs.clear_faults();
        let g = check_recovered(&fs, &models, &[3, 4], &format!("seed {seed}"));
        seen[g as usize] += 1;
    }
    assert!(seen[3] > 0 && seen[4] > 0, "both outcomes happen: {seen:?}");
}

#[test]
fn a_failed_write_without_a_crash_leaves_the_previous_generation() {
    let (writes, _) = checkpoint_calls(2);
    for n in (0..writes).step_by(3) {
        let (fs, models, c4) = setup(2);
        let vfs: std::sync::Arc<dyn storage_disk::vfs::Vfs> = std::sync::Arc::new(fs.clone());
        let p = reopen(&vfs, &fs_path(), CACHE);
        fs.fail_write(n, FaultKind::NoSpace, false);
        assert!(checkpoint(&p, &c4, 40).is_err());
        drop(p);
        check_recovered(&fs, &models, &[3], &format!("write {n}"));
    }
}

#[test]
fn a_torn_meta_falls_back_to_the_intact_previous_generation() {
    for seed in 0..20u64 {
        let (fs, models, c4) = setup(seed % 4);
        let before = fs.read_file(&fs_path()).expect("read");
        let vfs: std::sync::Arc<dyn storage_disk::vfs::Vfs> = std::sync::Arc::new(fs.clone());
        let p = reopen(&vfs, &fs_path(), CACHE);
        checkpoint(&p, &c4, 40).expect("checkpoint 4");
        drop(p);
        // Generation 4's meta is in page 0; put back a random, non-empty
        // strict subset of its old sectors, as a torn write would.
        let mut rng = Rng::new(seed);
        let sectors = PAGE_SIZE / 512;
        // Only the first sector (the fields) and the last (the CRC) differ
        // between the two metas; a tear takes them from different writes.
        let mut keep_old: Vec<bool> = (0..sectors).map(|_| rng.chance(50)).collect();
        keep_old[sectors - 1] = !keep_old[0];
        for (s, old) in keep_old.iter().enumerate() {
            if *old {
                fs.poke(&fs_path(), (s * 512) as u64, &before[s * 512..(s + 1) * 512]).expect("poke");
            }
        }
        check_recovered(&fs, &models, &[3], &format!("seed {seed}"));
    }
}

#[test]
fn a_crash_while_a_reader_pins_an_old_version_recovers_its_pages() {
    for n in [0u64, 1, 3] {
        let (fs, models, c4) = setup(3);
        let vfs: std::sync::Arc<dyn storage_disk::vfs::Vfs> = std::sync::Arc::new(fs.clone());
        let p = reopen(&vfs, &fs_path(), CACHE);
        // A reader pins generation 3 while generation 4 commits and 5 fails:
        // the pages 4 retired are still listed free on disk (after a crash
        // no reader is left), and verify finds no leak.
        let old = p.current();
        checkpoint(&p, &c4, 40).expect("checkpoint 4");
        assert!(p.stats().pending_pages > 0);
        let mut c5 = Changes::new();
        for k in models[4].keys().take(300) {
            c5.insert(k.clone(), Some(vec![5; 30]));
        }
        fs.fail_write(n, FaultKind::Io, true);
        assert!(checkpoint(&p, &c5, 50).is_err());
        assert_matches(&old, &models[3], &mut Rng::new(0));
        fs.crash(CrashMode::Random(n));
        fs.clear_faults();
        drop(old);
        check_recovered(&fs, &models, &[4], &format!("n {n}"));
    }
}
