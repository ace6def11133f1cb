//! Instantiation cost of a small module with one memory (with a data segment), a funcref
//! table (with an element segment) and a few globals, in a fresh store each time; through
//! `Instance::new` and through a pre-resolved `InstancePre`, on every engine of the build.
//! Store creation and teardown are outside the measured time (and measured on their own);
//! `instance_new_store_cycle` times the whole cycle (new store, instantiate, drop the store),
//! which includes whatever a runtime defers to teardown (unmapping or resetting memories).
//!
//! `instantiate/data_*` instantiate a module whose one memory starts with 64 KiB, 4 MiB or
//! 16 MiB of active data: with copy-on-write images (the default), and with
//! `Config::memory_init_cow(false)` (`_copy`, each segment copied in); `data_4m_store_cycle`
//! adds store creation and teardown (where a mapped image is undone).
//!
//! Prints ratio rows `wasmjit/wasmtime`.

#[macro_use]
mod common;

use common::{median_ns, Ratios};
use criterion::{black_box, Criterion};
use std::time::{Duration, Instant};

const WAT: &str = r#"(module
  (memory (export "memory") 1)
  (table (export "table") 8 funcref)
  (global $a (export "a") (mut i32) (i32.const 1))
  (global $b (mut i64) (i64.const 2))
  (global $c f64 (f64.const 3.5))
  (global $d (mut funcref) (ref.null func))
  (data (i32.const 64) "instantiate me")
  (elem (i32.const 0) $f0 $f1 $f2)
  (func $f0 (result i32) global.get $a)
  (func $f1 (result i64) global.get $b)
  (func $f2 (result f64) global.get $c)
  (func (export "run") (result i32) i32.const 64 i32.load8_u))"#;

/// One small function and a memory of `pages` initial pages: the store cycle should not cost
/// more as the memory's initial size grows.
fn sized_memory_wat(pages: u32) -> String {
    format!(r#"(module (memory {pages}) (func (export "run") (result i32) i32.const 1))"#)
}

/// Initial sizes of `instantiate/store_cycle_pages_N`: 64 KiB, 1 MiB, 16 MiB.
const MEMORY_PAGES: [u32; 3] = [1, 16, 256];

/// A module of one memory whose first `bytes` bytes (a multiple of 64 KiB) come from one
/// active data segment of non-zero bytes, with one page to spare; written as a binary, since
/// 16 MiB of escaped text would take longer to parse than the bench runs.
fn data_module(bytes: usize) -> Vec<u8> {
    fn leb(mut v: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
        out.push(id);
        leb(body.len(), out);
        out.extend_from_slice(body);
    }
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    let mut memory = vec![1, 0]; // one memory, no maximum
    leb(bytes / 65536 + 1, &mut memory);
    section(5, &memory, &mut wasm);
    // One active segment of memory 0 at `i32.const 0`.
    let mut data = vec![1, 0, 0x41, 0, 0x0b];
    leb(bytes, &mut data);
    data.extend((0..bytes).map(|i| (i % 251 + 1) as u8));
    section(11, &data, &mut wasm);
    wasm
}

/// Data sizes of `instantiate/data_*`: 64 KiB, 4 MiB, 16 MiB.
const DATA_BYTES: [usize; 3] = [64 << 10, 4 << 20, 16 << 20];

const CASES: [&str; 14] = [
    "instantiate/instance_new",
    "instantiate/instance_pre",
    "instantiate/store_new_and_drop",
    "instantiate/instance_new_store_cycle",
    "instantiate/store_cycle_pages_1",
    "instantiate/store_cycle_pages_16",
    "instantiate/store_cycle_pages_256",
    "instantiate/data_64k",
    "instantiate/data_4m",
    "instantiate/data_16m",
    "instantiate/data_64k_copy",
    "instantiate/data_4m_copy",
    "instantiate/data_16m_copy",
    "instantiate/data_4m_store_cycle",
];

per_engine! {
    /// Times `instantiate` alone, `iters` times, each in a fresh store.
    fn time_instantiations(
        engine: &rt::Engine,
        iters: u64,
        mut instantiate: impl FnMut(&mut rt::Store<()>) -> rt::Instance,
    ) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let mut store = rt::Store::new(engine, ());
            let start = Instant::now();
            let instance = instantiate(&mut store);
            total += start.elapsed();
            black_box(instance);
            drop(store);
        }
        total
    }

    pub fn bench(c: &mut Criterion) {
        let engine = rt::Engine::default();
        let module = rt::Module::new(&engine, WAT).expect("valid module");

        c.benchmark_group(CASES[0]).bench_function(ENGINE, |b| {
            b.iter_custom(|iters| {
                time_instantiations(&engine, iters, |store| {
                    rt::Instance::new(store, &module, &[]).expect("instantiates")
                })
            })
        });

        let pre = rt::Linker::<()>::new(&engine)
            .instantiate_pre(&module)
            .expect("no imports to resolve");
        c.benchmark_group(CASES[1]).bench_function(ENGINE, |b| {
            b.iter_custom(|iters| {
                time_instantiations(&engine, iters, |store| {
                    pre.instantiate(store).expect("instantiates")
                })
            })
        });

        c.benchmark_group(CASES[2]).bench_function(ENGINE, |b| {
            b.iter(|| black_box(rt::Store::new(&engine, ())))
        });

        c.benchmark_group(CASES[3]).bench_function(ENGINE, |b| {
            b.iter(|| {
                let mut store = rt::Store::new(&engine, ());
                black_box(rt::Instance::new(&mut store, &module, &[]).expect("instantiates"));
                drop(store);
            })
        });

        for (case, pages) in CASES[4..7].iter().zip(MEMORY_PAGES) {
            let module = rt::Module::new(&engine, sized_memory_wat(pages)).expect("valid module");
            c.benchmark_group(*case).bench_function(ENGINE, |b| {
                b.iter(|| {
                    let mut store = rt::Store::new(&engine, ());
                    black_box(rt::Instance::new(&mut store, &module, &[]).expect("instantiates"));
                    drop(store);
                })
            });
        }

        let mut copying = rt::Config::new();
        copying.memory_init_cow(false);
        let copying = rt::Engine::new(&copying).expect("valid config");
        let data_cases = CASES[7..10].iter().zip(DATA_BYTES).map(|(c, b)| (c, b, &engine));
        let copy_cases = CASES[10..13].iter().zip(DATA_BYTES).map(|(c, b)| (c, b, &copying));
        for (case, bytes, engine) in data_cases.chain(copy_cases) {
            let module = rt::Module::new(engine, data_module(bytes)).expect("valid module");
            c.benchmark_group(*case).bench_function(ENGINE, |b| {
                b.iter_custom(|iters| {
                    time_instantiations(engine, iters, |store| {
                        rt::Instance::new(store, &module, &[]).expect("instantiates")
                    })
                })
            });
        }

        // With teardown: whatever undoing the image costs when the memory is dropped.
        let module = rt::Module::new(&engine, data_module(DATA_BYTES[1])).expect("valid module");
        c.benchmark_group(CASES[13]).bench_function(ENGINE, |b| {
            b.iter(|| {
                let mut store = rt::Store::new(&engine, ());
                black_box(rt::Instance::new(&mut store, &module, &[]).expect("instantiates"));
                drop(store);
            })
        });
    }
}

fn main() {
    common::mark_start();
    let mut c = Criterion::default().configure_from_args();
    each_engine!(bench(&mut c));
    c.final_summary();

    let mut table = Ratios::new("instantiate");
    for case in CASES {
        table.row(
            case,
            "wasmjit/wasmtime",
            median_ns(case, "wasmjit"),
            median_ns(case, "wasmtime"),
            None,
        );
    }
    table.print();
}
