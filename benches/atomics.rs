//! Atomics: the uncontended read-modify-write loop of `benches/kernels/atomics.c` (10^7
//! sequentially consistent `fetch_add`s on one counter) on every engine and natively, and a
//! contended counter: four threads, each with its own store and instance over one shared
//! memory, each doing 10^6 `i32.atomic.rmw.add`s on the same word, beside four native
//! threads doing `AtomicU32::fetch_add` on one counter.
//!
//! Goal: uncontended wasmjit/native ≤ 1.2.

#[macro_use]
mod common;

use common::{median_ns, Goal, Ratios};
use criterion::{black_box, Criterion};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};

per_engine! {
    /// The kernel instantiated, ready to run.
    pub struct Prepared {
        store: rt::Store<()>,
        run: rt::TypedFunc<(), i32>,
    }

    impl Prepared {
        pub fn new(kernel: &common::kernels::Kernel) -> Self {
            let engine = rt::Engine::new(&rt::Config::new()).expect("valid config");
            let module = rt::Module::new(&engine, kernel.wasm).expect("kernel compiles");
            let mut store = rt::Store::new(&engine, ());
            let instance = rt::Instance::new(&mut store, &module, &[]).expect("instantiates");
            let run = instance
                .get_typed_func::<(), i32>(&mut store, kernel.run)
                .expect("run export");
            Self { store, run }
        }

        pub fn run(&mut self) -> i32 {
            self.run.call(&mut self.store, ()).expect("kernel runs")
        }
    }

    /// Benchmarks the kernel; its checksum must be `expected`.
    pub fn bench(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        kernel: &common::kernels::Kernel,
        expected: i32,
    ) {
        let mut prepared = Prepared::new(kernel);
        assert_eq!(prepared.run(), expected, "checksum on {ENGINE}");
        group.bench_function(ENGINE, |b| b.iter(|| black_box(prepared.run())));
    }
}

/// Increments per thread in the contended case.
const CONTENDED_N: i32 = 1_000_000;
const THREADS: usize = 4;

const CONTENDED_WAT: &str = r#"(module
  (import "env" "memory" (memory 1 1 shared))
  (func (export "add") (param $n i32)
    (loop $l
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#;

/// Four threads with a store each, released together, each adding `CONTENDED_N` to the
/// shared counter; returns once all are done.
fn contended_wasm(engine: &wasmjit::Engine, module: &wasmjit::Module) {
    let memory =
        wasmjit::SharedMemory::new(engine, wasmjit::MemoryType::shared(1, 1)).expect("memory");
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut store = wasmjit::Store::new(&engine, ());
                let instance = wasmjit::Instance::new(&mut store, &module, &[memory.into()])
                    .expect("instantiates");
                let add = instance
                    .get_typed_func::<i32, ()>(&mut store, "add")
                    .expect("add export");
                barrier.wait();
                add.call(&mut store, CONTENDED_N).expect("runs");
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
}

fn contended_native() {
    let counter = Arc::new(AtomicU32::new(0));
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (counter, barrier) = (counter.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..CONTENDED_N {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    black_box(counter.load(Ordering::SeqCst));
}

fn main() {
    common::mark_start();
    let mut c = Criterion::default().configure_from_args();
    let kernel = common::kernels::atomics();
    let expected = match kernel.native {
        Some(native) => (native.run)(),
        None => on_wasmjit::Prepared::new(&kernel).run(),
    };
    let group_name = format!("atomics/{}", kernel.name);
    let mut group = c.benchmark_group(&group_name);
    group.sample_size(10);
    each_engine!(bench(&mut group, &kernel, expected));
    if let Some(native) = kernel.native {
        group.bench_function("native", |b| b.iter(|| black_box((native.run)())));
    }
    group.finish();

    let mut config = wasmjit::Config::new();
    config.shared_memory(true);
    let engine = wasmjit::Engine::new(&config).expect("engine");
    let module = wasmjit::Module::new(&engine, CONTENDED_WAT).expect("compiles");
    let mut group = c.benchmark_group("atomics/contended4x1e6");
    group.sample_size(10);
    group.bench_function("wasmjit", |b| b.iter(|| contended_wasm(&engine, &module)));
    group.bench_function("native", |b| b.iter(contended_native));
    group.finish();
    c.final_summary();

    let mut table = Ratios::new("atomics");
    let jit = median_ns(&group_name, "wasmjit");
    table.row(
        &group_name,
        "wasmjit/native",
        jit,
        median_ns(&group_name, "native"),
        Some(Goal(1.2)),
    );
    table.row(
        &group_name,
        "wasmjit/wasmtime",
        jit,
        median_ns(&group_name, "wasmtime"),
        None,
    );
    table.row(
        "atomics/contended4x1e6",
        "wasmjit/native",
        median_ns("atomics/contended4x1e6", "wasmjit"),
        median_ns("atomics/contended4x1e6", "native"),
        None,
    );
    table.print();
}
