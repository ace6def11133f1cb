//! The cost of fuel metering and epoch checks: the C kernels of `benches/kernels/` (among
//! them issue #4's four: recursive fib(30), a tight integer loop, a sieve over 1 MiB, a
//! 200×200 f64 matrix multiply), each run plain, with fuel (a huge amount, never exhausted)
//! and with epochs (a deadline never reached), on every engine of the build. Cases are
//! `instrumentation/<kernel>/<mode>` with one function per engine.
//!
//! After criterion's runs, prints ratio rows from criterion's medians: fuel/plain and
//! epochs/plain of each engine (goals for wasmjit: epochs ≤ 1.10×, fuel ≤ 1.30× on every
//! kernel; Wasmtime's rows are for reference).
//!
//! Besides the C kernels, `sieve_bytes1MiB` (`benches/kernels/sieve_bytes.wat`): issue #20's
//! byte sieve, whose inner loop (compare, branch out, store a byte, add, branch back) is the
//! tightest loop shape, and not one clang emits for `sieve.c`.
//!
//! Run: `cargo bench --bench instrumentation -- --warm-up-time 1 --measurement-time 3`
//!
//! On a busy machine, `INSTRUMENTATION_ROUNDS=N cargo bench --bench instrumentation` skips
//! criterion and runs the three modes of each kernel on wasmjit interleaved, N rounds of
//! batches of about 20 ms each, timed in CPU time of the thread (on Linux; wall time
//! elsewhere), and prints the ratios of the minimums and of the medians: CPU time leaves out
//! the time other processes had the core, interleaving exposes every mode to the same
//! background load (caches, the other hyperthread), and the minimum is the run it disturbed
//! least. `INSTRUMENTATION_KERNELS=fib30,sieve1MiB` limits it to some kernels;
//! `INSTRUMENTATION_WAT=a.wat,b.wat` times those files instead (each exporting `run`, and
//! optionally `init`).

#[macro_use]
mod common;

use common::kernels::Kernel;
use common::{median_ns, Goal, Ratios};
use criterion::{black_box, Criterion};
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Fuel,
    Epochs,
}

const MODES: [(Mode, &str); 3] = [
    (Mode::Plain, "plain"),
    (Mode::Fuel, "fuel"),
    (Mode::Epochs, "epochs"),
];

/// Every kernel this bench times: the C kernels, then the hand-written byte sieve.
fn kernels() -> Vec<Kernel> {
    let mut all = common::kernels::all();
    all.push(Kernel {
        name: "sieve_bytes1MiB",
        wasm: include_bytes!("kernels/sieve_bytes.wat"),
        run: "run",
        init: None,
        native: None,
    });
    all
}

/// Never exhausted within a benchmark.
const HUGE_FUEL: u64 = u64::MAX / 2;

per_engine! {
    /// One kernel instantiated in one mode, ready to run.
    pub struct Prepared {
        store: rt::Store<()>,
        run: rt::TypedFunc<(), i32>,
        mode: Mode,
    }

    impl Prepared {
        /// `wasm` (binary or text) exports `run: () -> i32` and optionally `init: () -> ()`.
        pub fn new(wasm: &[u8], run: &str, init: Option<&str>, mode: Mode) -> Self {
            let mut config = rt::Config::new();
            config.consume_fuel(mode == Mode::Fuel);
            config.epoch_interruption(mode == Mode::Epochs);
            let engine = rt::Engine::new(&config).expect("engine");
            let module = rt::Module::new(&engine, wasm).expect("kernel compiles");
            let mut store = rt::Store::new(&engine, ());
            match mode {
                Mode::Plain => {}
                Mode::Fuel => store.set_fuel(HUGE_FUEL).expect("fuel configured"),
                Mode::Epochs => store.set_epoch_deadline(u64::MAX / 2),
            }
            let instance = rt::Instance::new(&mut store, &module, &[]).expect("instantiates");
            if let Some(init) = init {
                instance
                    .get_typed_func::<(), ()>(&mut store, init)
                    .expect("init export")
                    .call(&mut store, ())
                    .expect("init runs");
            }
            let run = instance
                .get_typed_func::<(), i32>(&mut store, run)
                .expect("run export");
            Self { store, run, mode }
        }

        pub fn run(&mut self) -> i32 {
            if self.mode == Mode::Fuel {
                self.store.set_fuel(HUGE_FUEL).expect("fuel configured");
            }
            self.run.call(&mut self.store, ()).expect("kernel runs")
        }
    }

    /// The three modes of `kernel`; each must return `expected`.
    pub fn bench(c: &mut Criterion, kernel: &Kernel, expected: i32) {
        for (mode, name) in MODES {
            let mut prepared = Prepared::new(kernel.wasm, kernel.run, kernel.init, mode);
            // Instrumentation must not change results.
            assert_eq!(prepared.run(), expected, "{} {name} on {ENGINE}", kernel.name);
            let mut group = c.benchmark_group(format!("instrumentation/{}/{name}", kernel.name));
            group.sample_size(10);
            group.bench_function(ENGINE, |b| b.iter(|| black_box(prepared.run())));
            group.finish();
        }
    }
}

fn benches(c: &mut Criterion) {
    for kernel in kernels() {
        let expected =
            on_wasmjit::Prepared::new(kernel.wasm, kernel.run, kernel.init, Mode::Plain).run();
        each_engine!(bench(c, &kernel, expected));
    }
}

fn print_ratio_table() {
    let mut table = Ratios::new("instrumentation");
    for kernel in kernels() {
        for engine in common::engines() {
            let median =
                |mode: &str| median_ns(&format!("instrumentation/{}/{mode}", kernel.name), engine);
            let plain = median("plain");
            let own = *engine == "wasmjit";
            table.row(
                kernel.name,
                &format!("{engine} fuel/plain"),
                median("fuel"),
                plain,
                own.then_some(Goal(1.30)),
            );
            table.row(
                kernel.name,
                &format!("{engine} epochs/plain"),
                median("epochs"),
                plain,
                own.then_some(Goal(1.10)),
            );
        }
    }
    table.print();
}

/// Seconds of CPU time this thread has used (Linux), else of wall time since the first call.
fn cpu_seconds() -> f64 {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        #[repr(C)]
        struct Timespec {
            tv_sec: i64,
            tv_nsec: i64,
        }
        extern "C" {
            fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
        }
        const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
        let mut t = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid `struct timespec` (64-bit Linux layout) to write to.
        if unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9;
        }
    }
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// Interleaved timing (see the module docs): per kernel, `rounds` rounds of one batch per mode.
fn interleaved(rounds: usize) {
    println!("kernel         plain min/med (ms)   fuel/plain min  med   epochs/plain min  med");
    let only = std::env::var("INSTRUMENTATION_KERNELS").ok();
    let files: Vec<(String, String)> = std::env::var("INSTRUMENTATION_WAT")
        .map(|files| {
            files
                .split(',')
                .map(|f| {
                    (
                        f.to_string(),
                        std::fs::read_to_string(f).expect("readable WAT"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let kernels: Vec<(String, &[u8], String, Option<String>)> = if files.is_empty() {
        kernels()
            .iter()
            .map(|k| {
                (
                    k.name.to_string(),
                    k.wasm,
                    k.run.to_string(),
                    k.init.map(str::to_string),
                )
            })
            .collect()
    } else {
        files
            .iter()
            .map(|(f, w)| {
                let init = w.contains("\"init\"").then(|| "init".to_string());
                (f.clone(), w.as_bytes(), "run".to_string(), init)
            })
            .collect()
    };
    for (kernel, wasm, run, init) in &kernels {
        if only
            .as_ref()
            .is_some_and(|only| !only.split(',').any(|k| k == kernel.as_str()))
        {
            continue;
        }
        let mut prepared: Vec<on_wasmjit::Prepared> = MODES
            .iter()
            .map(|(mode, _)| on_wasmjit::Prepared::new(wasm, run, init.as_deref(), *mode))
            .collect();
        // Batch size: about 20 ms of the plain kernel.
        let start = cpu_seconds();
        black_box(prepared[0].run());
        let once = cpu_seconds() - start;
        let batch = ((0.02 / once).ceil() as usize).max(1);
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); MODES.len()];
        for _ in 0..rounds {
            for (p, t) in prepared.iter_mut().zip(&mut times) {
                let start = cpu_seconds();
                for _ in 0..batch {
                    black_box(p.run());
                }
                t.push((cpu_seconds() - start) * 1e3 / batch as f64);
            }
        }
        let stats: Vec<(f64, f64)> = times
            .iter_mut()
            .map(|t| {
                t.sort_by(f64::total_cmp);
                (t[0], t[t.len() / 2])
            })
            .collect();
        println!(
            "{kernel:<12} {:>9.3} {:>9.3} {:>14.3}x {:.3}x {:>15.3}x {:.3}x",
            stats[0].0,
            stats[0].1,
            stats[1].0 / stats[0].0,
            stats[1].1 / stats[0].1,
            stats[2].0 / stats[0].0,
            stats[2].1 / stats[0].1,
        );
    }
    println!("targets: fuel/plain <= 1.30x, epochs/plain <= 1.10x");
}

fn main() {
    common::mark_start();
    if let Some(rounds) = std::env::var("INSTRUMENTATION_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
    {
        if !common::test_mode() {
            interleaved(rounds);
        }
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
    print_ratio_table();
}
