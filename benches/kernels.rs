//! The C kernels of `benches/kernels/` (fib, a tight integer loop, sieve, matrix multiply,
//! sha256, nbody, an f32x4 dot product) on every engine of the build and natively (`cc -O2`,
//! built by `build.rs`), all in one process. Each case is `kernels/<kernel>` with one function
//! per engine (`wasmjit`, `wasmtime`, `native`).
//!
//! Prints ratio rows `wasmjit/wasmtime` and `wasmjit/native` per kernel and their geometric
//! means. Goals: geomean wasmjit/wasmtime ≤ 1.00, wasmjit/native ≤ 1.30.

#[macro_use]
mod common;

use common::kernels::Kernel;
use common::{geomean, median_ns, Goal, Ratios};
use criterion::measurement::WallTime;
use criterion::{black_box, BenchmarkGroup, Criterion};

per_engine! {
    /// One kernel instantiated, `init` run, ready to run.
    pub struct Prepared {
        store: rt::Store<()>,
        run: rt::TypedFunc<(), i32>,
    }

    impl Prepared {
        pub fn new(kernel: &Kernel, config: &rt::Config) -> Self {
            let engine = rt::Engine::new(config).expect("valid config");
            let module = rt::Module::new(&engine, kernel.wasm).expect("kernel compiles");
            let mut store = rt::Store::new(&engine, ());
            let instance = rt::Instance::new(&mut store, &module, &[]).expect("instantiates");
            if let Some(init) = kernel.init {
                instance
                    .get_typed_func::<(), ()>(&mut store, init)
                    .expect("init export")
                    .call(&mut store, ())
                    .expect("init runs");
            }
            let run = instance
                .get_typed_func::<(), i32>(&mut store, kernel.run)
                .expect("run export");
            Self { store, run }
        }


        pub fn run(&mut self) -> i32 {
            self.run.call(&mut self.store, ()).expect("kernel runs")
        }
    }

    /// Benchmarks `kernel` with the default configuration; its checksum must be `expected`.
    pub fn bench(group: &mut BenchmarkGroup<'_, WallTime>, kernel: &Kernel, expected: i32) {
        let mut prepared = Prepared::new(kernel, &rt::Config::new());
        assert_eq!(prepared.run(), expected, "{} on {ENGINE}", kernel.name);
        group.bench_function(ENGINE, |b| b.iter(|| black_box(prepared.run())));
    }
}

fn main() {
    common::mark_start();
    let mut c = Criterion::default().configure_from_args();
    let kernels = common::kernels::all();
    for kernel in &kernels {
        // The reference checksum: native if built, else wasmjit's.
        let expected = match kernel.native {
            Some(native) => {
                if let Some(init) = native.init {
                    init();
                }
                (native.run)()
            }
            None => on_wasmjit::Prepared::new(kernel, &wasmjit::Config::new()).run(),
        };
        let mut group = c.benchmark_group(format!("kernels/{}", kernel.name));
        group.sample_size(10);
        each_engine!(bench(&mut group, kernel, expected));
        if let Some(native) = kernel.native {
            group.bench_function("native", |b| b.iter(|| black_box((native.run)())));
        }
        group.finish();
    }
    c.final_summary();

    let mut table = Ratios::new("kernels");
    let mut vs_wasmtime = Vec::new();
    let mut vs_native = Vec::new();
    for kernel in &kernels {
        let group = format!("kernels/{}", kernel.name);
        let jit = median_ns(&group, "wasmjit");
        let wt = median_ns(&group, "wasmtime");
        let native = median_ns(&group, "native");
        table.row(&group, "wasmjit/wasmtime", jit, wt, None);
        table.row(&group, "wasmjit/native", jit, native, None);
        vs_wasmtime.push(jit.zip(wt).map(|(a, b)| a / b));
        vs_native.push(jit.zip(native).map(|(a, b)| a / b));
    }
    let all = || Some("all kernels".to_string());
    table.push(
        "kernels geomean",
        "wasmjit/wasmtime",
        all(),
        all(),
        geomean(&vs_wasmtime),
        Some(Goal(1.00)),
    );
    table.push(
        "kernels geomean",
        "wasmjit/native",
        all(),
        all(),
        geomean(&vs_native),
        Some(Goal(1.30)),
    );
    table.print();
}
