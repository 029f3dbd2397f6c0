//! The runner's command line over the fake engine of the tests, to try the
//! runner without mizzle: `cargo run -p mizzle-slt --example fake_engine --
//! sql-tests/runner-tests`.

#[path = "../tests/fake/mod.rs"]
mod fake;

fn main() {
    std::process::exit(mizzle_slt::run_cli(std::sync::Arc::new(fake::FakeBackend)));
}
