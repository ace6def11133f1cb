//! The cost of fuel metering and epoch checks: four kernels, each run plain, with fuel (a
//! huge amount, never exhausted) and with epochs (a deadline never reached).
//!
//! After criterion's runs, prints a table of ratios (fuel/plain, epochs/plain) from
//! criterion's medians (`<target>/criterion/<kernel>/<mode>/new/estimates.json`), falling back
//! to a quick timing of its own when those are missing. Targets: epochs ≤ 1.10×, fuel ≤ 1.30×.
//!
//! Run: `cargo bench --bench instrumentation -- --warm-up-time 1 --measurement-time 3`
//!
//! On a busy machine, `INSTRUMENTATION_ROUNDS=N cargo bench --bench instrumentation` skips
//! criterion and runs the three modes of each kernel interleaved, N rounds of batches of about
//! 20 ms each, timed in CPU time of the thread (on Linux; wall time elsewhere), and prints the
//! ratios of the minimums and of the medians: CPU time leaves out the time other processes
//! had the core, interleaving exposes every mode to the same background load (caches, the
//! other hyperthread), and the minimum is the run it disturbed least.
//! `INSTRUMENTATION_KERNELS=fib30,sieve1MiB` limits it to some kernels;
//! `INSTRUMENTATION_WAT=a.wat,b.wat` times those files instead (each exporting `run`, and
//! optionally `init`, like the kernels below).

use criterion::{black_box, Criterion};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wasmjit::{Config, Engine, Instance, Module, Store, TypedFunc};

/// fib(30), recursive: calls and returns, no loop.
const FIB: &str = r#"(module
  (func $fib (export "run") (result i32)
    i32.const 30
    call $f)
  (func $f (param i32) (result i32)
    local.get 0 i32.const 2 i32.lt_s
    if (result i32)
      local.get 0
    else
      local.get 0 i32.const 1 i32.sub call $f
      local.get 0 i32.const 2 i32.sub call $f
      i32.add
    end))"#;

/// A tight loop: the sum of 0..10^7.
const LOOP: &str = r#"(module
  (func (export "run") (result i32)
    (local $i i32) (local $acc i64)
    loop $l
      local.get $acc
      local.get $i
      i64.extend_i32_u
      i64.add
      local.set $acc
      local.get $i i32.const 1 i32.add local.tee $i
      i32.const 10000000
      i32.lt_u
      br_if $l
    end
    local.get $acc
    i64.const 1000000
    i64.rem_u
    i32.wrap_i64))"#;

/// The sieve of Eratosthenes over 1 MiB of linear memory (one byte per number); returns
/// the number of primes below 2^20.
const SIEVE: &str = r#"(module
  (memory 16)
  (func (export "run") (result i32)
    (local $i i32) (local $j i32) (local $count i32)
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 1048576))
    i32.const 2 local.set $i
    block $done
      loop $outer
        local.get $i local.get $i i32.mul
        i32.const 1048576 i32.ge_u
        br_if $done
        local.get $i i32.load8_u
        i32.eqz
        if
          local.get $i local.get $i i32.mul local.set $j
          block $jdone
            loop $inner
              local.get $j i32.const 1048576 i32.ge_u br_if $jdone
              local.get $j i32.const 1 i32.store8
              local.get $j local.get $i i32.add local.set $j
              br $inner
            end
          end
        end
        local.get $i i32.const 1 i32.add local.set $i
        br $outer
      end
    end
    i32.const 2 local.set $i
    loop $count
      local.get $count
      local.get $i i32.load8_u i32.eqz
      i32.add local.set $count
      local.get $i i32.const 1 i32.add local.tee $i
      i32.const 1048576 i32.lt_u
      br_if $count
    end
    local.get $count))"#;

/// C = A × B for 200×200 f64 matrices (A at 0, B at 320000, C at 640000); returns the trace
/// of C truncated to an integer. `init` fills A and B.
const MATMUL: &str = r#"(module
  (memory 15)
  (func (export "init")
    (local $i i32) (local $j i32) (local $at i32)
    loop $i_loop
      i32.const 0 local.set $j
      loop $j_loop
        local.get $i i32.const 200 i32.mul local.get $j i32.add
        i32.const 3 i32.shl local.set $at
        local.get $at
        local.get $i local.get $j i32.add i32.const 7 i32.rem_u f64.convert_i32_u
        f64.const 0.5 f64.mul
        f64.store
        local.get $at
        local.get $i local.get $j i32.mul i32.const 5 i32.rem_u f64.convert_i32_u
        f64.const 0.25 f64.add
        f64.store offset=320000
        local.get $j i32.const 1 i32.add local.tee $j
        i32.const 200 i32.lt_u br_if $j_loop
      end
      local.get $i i32.const 1 i32.add local.tee $i
      i32.const 200 i32.lt_u br_if $i_loop
    end)
  (func (export "run") (result i32)
    (local $i i32) (local $j i32) (local $k i32) (local $sum f64) (local $trace f64)
    loop $i_loop
      i32.const 0 local.set $j
      loop $j_loop
        f64.const 0 local.set $sum
        i32.const 0 local.set $k
        loop $k_loop
          local.get $sum
          local.get $i i32.const 1600 i32.mul
          local.get $k i32.const 3 i32.shl i32.add
          f64.load
          local.get $k i32.const 1600 i32.mul
          local.get $j i32.const 3 i32.shl i32.add
          f64.load offset=320000
          f64.mul
          f64.add
          local.set $sum
          local.get $k i32.const 1 i32.add local.tee $k
          i32.const 200 i32.lt_u br_if $k_loop
        end
        local.get $i i32.const 1600 i32.mul
        local.get $j i32.const 3 i32.shl i32.add
        local.get $sum
        f64.store offset=640000
        local.get $i local.get $j i32.eq
        if
          local.get $trace local.get $sum f64.add local.set $trace
        end
        local.get $j i32.const 1 i32.add local.tee $j
        i32.const 200 i32.lt_u br_if $j_loop
      end
      local.get $i i32.const 1 i32.add local.tee $i
      i32.const 200 i32.lt_u br_if $i_loop
    end
    local.get $trace
    i32.trunc_f64_u))"#;

const KERNELS: [(&str, &str); 4] = [
    ("fib30", FIB),
    ("loop1e7", LOOP),
    ("sieve1MiB", SIEVE),
    ("matmul200", MATMUL),
];

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

/// Never exhausted within a benchmark.
const HUGE_FUEL: u64 = u64::MAX / 2;

/// One kernel instantiated in one mode, ready to run.
struct Prepared {
    store: Store<()>,
    run: TypedFunc<(), i32>,
    mode: Mode,
}

impl Prepared {
    fn new(wat: &str, mode: Mode) -> Self {
        let mut config = Config::new();
        config.consume_fuel(mode == Mode::Fuel);
        config.epoch_interruption(mode == Mode::Epochs);
        let engine = Engine::new(&config).expect("engine");
        let module = Module::new(&engine, wat).expect("kernel compiles");
        let mut store = Store::new(&engine, ());
        match mode {
            Mode::Plain => {}
            Mode::Fuel => store.set_fuel(HUGE_FUEL).expect("fuel configured"),
            Mode::Epochs => store.set_epoch_deadline(u64::MAX / 2),
        }
        let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
        if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, "init") {
            init.call(&mut store, ()).expect("init runs");
        }
        let run = instance
            .get_typed_func::<(), i32>(&mut store, "run")
            .expect("run export");
        Self { store, run, mode }
    }

    fn run(&mut self) -> i32 {
        if self.mode == Mode::Fuel {
            self.store.set_fuel(HUGE_FUEL).expect("fuel configured");
        }
        self.run.call(&mut self.store, ()).expect("kernel runs")
    }
}

fn benches(c: &mut Criterion) {
    for (kernel, wat) in KERNELS {
        let mut group = c.benchmark_group(kernel);
        group.sample_size(10);
        let mut expected = None;
        for (mode, name) in MODES {
            let mut prepared = Prepared::new(wat, mode);
            let result = prepared.run();
            // Instrumentation must not change results.
            assert_eq!(*expected.get_or_insert(result), result, "{kernel} {name}");
            group.bench_function(name, |b| b.iter(|| black_box(prepared.run())));
        }
        group.finish();
    }
}

/// Criterion's median (ns) for `kernel/mode`, from its saved estimates.
fn criterion_median(dir: &Option<PathBuf>, kernel: &str, mode: &str) -> Option<f64> {
    let path = dir
        .as_ref()?
        .join(kernel)
        .join(mode)
        .join("new/estimates.json");
    let json = std::fs::read_to_string(path).ok()?;
    // `"median":{"confidence_interval":{...},"point_estimate":<ns>,...}`: no JSON parser needed.
    let median = &json[json.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

/// Where criterion keeps its results: `<target dir>/criterion` (the bench binary lives in
/// `<target dir>/<profile>/deps`), unless `CRITERION_HOME` says otherwise.
fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(home.into());
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// Median wall time of a few runs, our own measurement when criterion's is missing.
fn quick_median(wat: &str, mode: Mode) -> f64 {
    let mut prepared = Prepared::new(wat, mode);
    prepared.run();
    let mut times: Vec<Duration> = (0..9)
        .map(|_| {
            let start = Instant::now();
            black_box(prepared.run());
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2].as_nanos() as f64
}

fn print_ratio_table() {
    let dir = criterion_dir();
    println!();
    println!("kernel       plain (ms)  fuel (ms)  epochs (ms)  fuel/plain  epochs/plain  source");
    for (kernel, wat) in KERNELS {
        let from_criterion: Option<Vec<f64>> = MODES
            .iter()
            .map(|(_, name)| criterion_median(&dir, kernel, name))
            .collect();
        let (medians, source) = match from_criterion {
            Some(m) => (m, "criterion median"),
            None => (
                MODES
                    .iter()
                    .map(|(mode, _)| quick_median(wat, *mode))
                    .collect(),
                "own timing",
            ),
        };
        let ms = |ns: f64| ns / 1e6;
        println!(
            "{kernel:<12} {:>10.3} {:>10.3} {:>12.3} {:>10.3}x {:>12.3}x  {source}",
            ms(medians[0]),
            ms(medians[1]),
            ms(medians[2]),
            medians[1] / medians[0],
            medians[2] / medians[0],
        );
    }
    println!("targets: fuel/plain <= 1.30x, epochs/plain <= 1.10x");
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
    let kernels: Vec<(&str, &str)> = if files.is_empty() {
        KERNELS.to_vec()
    } else {
        files
            .iter()
            .map(|(f, w)| (f.as_str(), w.as_str()))
            .collect()
    };
    for (kernel, wat) in kernels {
        if only
            .as_ref()
            .is_some_and(|only| !only.split(',').any(|k| k == kernel))
        {
            continue;
        }
        let mut prepared: Vec<Prepared> = MODES
            .iter()
            .map(|(mode, _)| Prepared::new(wat, *mode))
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
    if let Some(rounds) = std::env::var("INSTRUMENTATION_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
    {
        if !std::env::args().any(|a| a == "--test") {
            interleaved(rounds);
        }
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
    // `cargo test --benches` runs each benchmark once in test mode: no table then.
    if !std::env::args().any(|a| a == "--test") {
        print_ratio_table();
    }
}
