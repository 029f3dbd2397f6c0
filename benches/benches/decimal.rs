//! Criterion micro-benchmarks of `Decimal` arithmetic: the narrow values
//! that SUM, AVG and money columns produce (a few to 30 digits), and, where
//! the type allows them, wide values of 40 to 65 digits.
//!
//! Invariants:
//! 1. Every operand is parsed once outside the timed loop; the loop times
//!    only the operation (and `black_box` keeps it from being folded).
//! 2. Results are checked once before timing.
//! 3. The whole file runs in well under a minute
//!    (`cargo bench -p mizzle-bench --bench decimal`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use mizzle::Decimal;

fn d(s: &str) -> Decimal {
    Decimal::parse(s).expect("benchmark operand parses")
}

/// A batch of narrow operands: integers and money-like values.
fn narrow() -> Vec<Decimal> {
    (0..256).map(|i| d(&format!("{}.{:02}", i * 7919 % 100_000, i % 100))).collect()
}

/// Keeps the last of a sequence, evaluating every element (as `last()`).
fn last<T>(_: Option<T>, x: T) -> Option<T> {
    Some(x)
}

fn bench(c: &mut Criterion) {
    let xs = narrow();
    let ys: Vec<Decimal> = xs.iter().rev().copied().collect();
    let big = d("12345678901234567890.123456789012345678");
    assert_eq!(d("1.25").checked_add(d("2.5")).map(|x| x.to_string()), Some("3.75".to_string()));

    let mut g = c.benchmark_group("decimal_narrow");
    g.bench_function("add", |b| {
        b.iter(|| {
            let mut acc = Decimal::ZERO;
            for x in &xs {
                acc = acc.checked_add(black_box(*x)).expect("fits");
            }
            acc
        })
    });
    g.bench_function("mul", |b| {
        b.iter(|| xs.iter().zip(&ys).map(|(x, y)| black_box(*x).checked_mul(*y).expect("fits")).fold(None, last))
    });
    g.bench_function("div", |b| {
        b.iter(|| xs.iter().zip(&ys).map(|(x, y)| black_box(*x).checked_div(*y, 6)).fold(None, last))
    });
    g.bench_function("cmp", |b| b.iter(|| xs.iter().zip(&ys).filter(|(x, y)| black_box(**x) < **y).count()));
    g.bench_function("to_string", |b| b.iter(|| xs.iter().map(|x| black_box(*x).to_string().len()).sum::<usize>()));
    g.bench_function("add_38_digits", |b| {
        b.iter(|| xs.iter().map(|x| black_box(big).checked_add(*x).expect("fits")).fold(None, last))
    });
    g.finish();
}

criterion_group! {
    name = decimal;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(decimal);
