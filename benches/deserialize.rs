//! Loading precompiled modules, on every engine of the build: SQLite's amalgamation built for
//! wasm32 (`benches/kernels/sqlite3.wasm`, about 1 MB, 1 400 functions), each engine loading
//! its own artifact of it (`Engine::precompile_module`):
//! - `aot/sqlite3_deserialize`: `Module::deserialize` of the bytes in memory;
//! - `aot/sqlite3_deserialize_file`: `Module::deserialize_file` of the artifact on disk;
//! - `aot/sqlite3_compile`: `Module::from_binary` of the wasm, what loading saves.
//!
//! Prints ratio rows: `wasmjit/wasmtime` for each load (goal ≤ 1.00), and wasmjit's
//! deserialize over its own compile (goal ≤ 0.01).

#[macro_use]
mod common;

use common::{median_ns, Goal, Ratios};
use criterion::measurement::WallTime;
use criterion::{black_box, BenchmarkGroup, Criterion};
use std::path::Path;

per_engine! {
    /// Times this engine's loads of its artifact of `wasm`, and its compilation of `wasm`.
    pub fn bench(c: &mut Criterion, wasm: &[u8], dir: &Path) {
        let engine = rt::Engine::default();
        let artifact = engine.precompile_module(wasm).expect("compiles");
        let path = dir.join(format!("sqlite3-{ENGINE}.cwasm"));
        std::fs::write(&path, &artifact).expect("writes the artifact");
        group(c, GROUPS[0]).bench_function(ENGINE, |b| {
            b.iter(|| {
                // SAFETY: the artifact comes from this engine's `precompile_module`.
                unsafe { rt::Module::deserialize(&engine, black_box(&artifact)) }.expect("loads")
            })
        });
        group(c, GROUPS[1]).bench_function(ENGINE, |b| {
            b.iter(|| {
                // SAFETY: as above.
                unsafe { rt::Module::deserialize_file(&engine, black_box(&path)) }.expect("loads")
            })
        });
        group(c, GROUPS[2]).bench_function(ENGINE, |b| {
            b.iter(|| rt::Module::from_binary(&engine, black_box(wasm)).expect("compiles"))
        });
        std::fs::remove_file(&path).expect("removes the artifact");
    }
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group
}

const GROUPS: [&str; 3] = [
    "aot/sqlite3_deserialize",
    "aot/sqlite3_deserialize_file",
    "aot/sqlite3_compile",
];

fn main() {
    common::mark_start();
    let mut c = Criterion::default().configure_from_args();
    let dir = std::env::temp_dir();
    each_engine!(bench(&mut c, common::kernels::SQLITE3_WASM, &dir));
    c.final_summary();

    let mut table = Ratios::new("deserialize");
    for name in &GROUPS[..2] {
        table.row(
            name,
            "wasmjit/wasmtime",
            median_ns(name, "wasmjit"),
            median_ns(name, "wasmtime"),
            Some(Goal(1.00)),
        );
    }
    table.row(
        "aot/sqlite3",
        "wasmjit deserialize/compile",
        median_ns(GROUPS[0], "wasmjit"),
        median_ns(GROUPS[2], "wasmjit"),
        Some(Goal(0.01)),
    );
    table.print();
}
