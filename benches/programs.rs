//! The real programs of `benches/programs/` (Rust crates compiled to `wasm32-wasip1`: deflate,
//! JSON, regex, Markdown, SHA-256/BLAKE3, the Rhai interpreter, SQLite in memory) run through WASI preview 1 on
//! every engine of the build, in one process: `wasmjit-wasi` on wasmjit, `wasmtime-wasi`'s
//! synchronous preview 1 on Wasmtime (`--features compare`).
//!
//! Cases are `programs/<program>/<phase>` with one function per engine, the phases being
//! - `compile`: `Module::new` on the `.wasm` bytes;
//! - `instantiate`: a WASI context (stdout to memory), a store and `Linker::instantiate`;
//! - `run`, `run_fuel`, `run_epochs`: `_start` on a fresh instance (made outside the timing),
//!   plain, with fuel (never exhausted) and with epochs (a deadline never reached).
//!
//! With `BENCH_PERFMAP` set, both engines write `/tmp/perf-<pid>.map` for `perf report`.
//!
//! Every run's stdout must equal `<program>.expected`. `scripts/benchmarks-table.py` turns
//! criterion's medians into `docs/benchmarks.md`'s table and chart; the bench also prints a
//! ratio table.

#[macro_use]
mod common;

use common::{geomean, median_ns, Goal, Ratios};
use criterion::{BatchSize, Criterion};

/// One program: its module and the stdout every run must print.
struct Program {
    name: &'static str,
    wasm: &'static [u8],
    expected: &'static str,
}

macro_rules! program {
    ($name:literal) => {
        Program {
            name: $name,
            wasm: include_bytes!(concat!("programs/", $name, ".wasm")),
            expected: include_str!(concat!("programs/", $name, ".expected")),
        }
    };
}

fn programs() -> [Program; 7] {
    [
        program!("deflate"),
        program!("json"),
        program!("regex"),
        program!("markdown"),
        program!("hashes"),
        program!("rhai"),
        program!("sqlite"),
    ]
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plain,
    Fuel,
    Epochs,
}

const RUNS: [(Mode, &str); 3] = [
    (Mode::Plain, "run"),
    (Mode::Fuel, "run_fuel"),
    (Mode::Epochs, "run_epochs"),
];

/// Never exhausted within a run.
const HUGE_FUEL: u64 = u64::MAX / 2;

per_engine! {
    pub struct Host {
        wasi: shim::WasiCtx,
    }

    /// A program compiled for one mode, with its linker.
    pub struct Loaded {
        module: rt::Module,
        linker: rt::Linker<Host>,
        mode: Mode,
    }

    /// A fresh instance, ready for `_start`, and its captured stdout.
    pub struct Ready {
        store: rt::Store<Host>,
        start: rt::TypedFunc<(), ()>,
        stdout: shim::MemoryOutputPipe,
    }

    fn engine(mode: Mode) -> rt::Engine {
        let mut config = rt::Config::new();
        config.consume_fuel(mode == Mode::Fuel);
        config.epoch_interruption(mode == Mode::Epochs);
        // `perf record` of the bench: names the compiled wasm functions of both engines.
        if std::env::var_os("BENCH_PERFMAP").is_some() {
            config.profiler(rt::ProfilingStrategy::PerfMap);
        }
        rt::Engine::new(&config).expect("engine")
    }

    impl Loaded {
        pub fn new(wasm: &[u8], mode: Mode) -> Self {
            let engine = engine(mode);
            let module = rt::Module::new(&engine, wasm).expect("program compiles");
            let mut linker = rt::Linker::new(&engine);
            shim::add_wasi(&mut linker, |h: &mut Host| &mut h.wasi);
            Self { module, linker, mode }
        }

        pub fn instantiate(&self) -> Ready {
            let stdout = shim::MemoryOutputPipe::new(1 << 20);
            let wasi = shim::WasiCtxBuilder::new().stdout(stdout.clone()).build_p1();
            let mut store = rt::Store::new(self.module.engine(), Host { wasi });
            match self.mode {
                Mode::Plain => {}
                Mode::Fuel => store.set_fuel(HUGE_FUEL).expect("fuel configured"),
                Mode::Epochs => store.set_epoch_deadline(u64::MAX / 2),
            }
            let instance = self
                .linker
                .instantiate(&mut store, &self.module)
                .expect("program instantiates");
            let start = instance
                .get_typed_func::<(), ()>(&mut store, "_start")
                .expect("_start export");
            Ready { store, start, stdout }
        }
    }

    impl Ready {
        /// Runs `_start`; hands the store back so that dropping it is not timed.
        pub fn run(mut self) -> (rt::Store<Host>, shim::MemoryOutputPipe) {
            self.start.call(&mut self.store, ()).expect("program runs");
            (self.store, self.stdout)
        }
    }

    /// Every phase of `program` on this engine.
    pub fn bench(c: &mut Criterion, program: &Program) {
        let loaded = Loaded::new(program.wasm, Mode::Plain);
        let mut group = c.benchmark_group(format!("programs/{}/compile", program.name));
        group.sample_size(10);
        let engine = engine(Mode::Plain);
        group.bench_function(ENGINE, |b| {
            b.iter(|| rt::Module::new(&engine, program.wasm).expect("program compiles"))
        });
        group.finish();

        let mut group = c.benchmark_group(format!("programs/{}/instantiate", program.name));
        group.sample_size(10);
        group.bench_function(ENGINE, |b| b.iter(|| loaded.instantiate()));
        group.finish();

        for (mode, phase) in RUNS {
            let loaded = Loaded::new(program.wasm, mode);
            let (_, stdout) = loaded.instantiate().run();
            assert_eq!(
                String::from_utf8_lossy(&stdout.contents()),
                program.expected,
                "{} {phase} on {ENGINE}",
                program.name
            );
            let mut group = c.benchmark_group(format!("programs/{}/{phase}", program.name));
            group.sample_size(10);
            group.bench_function(ENGINE, |b| {
                b.iter_batched(|| loaded.instantiate(), Ready::run, BatchSize::PerIteration)
            });
            group.finish();
        }
    }
}

fn print_ratio_table(programs: &[Program]) {
    let mut table = Ratios::new("programs");
    let median = |program: &str, phase: &str, engine: &str| {
        median_ns(&format!("programs/{program}/{phase}"), engine)
    };
    let mut by_phase: Vec<(&str, Vec<Option<f64>>)> = Vec::new();
    for phase in ["compile", "instantiate", "run"] {
        let mut ratios = Vec::new();
        for program in programs {
            let (a, b) = (
                median(program.name, phase, "wasmjit"),
                median(program.name, phase, "wasmtime"),
            );
            let goal = (phase == "run").then_some(Goal(1.02));
            table.row(
                program.name,
                &format!("{phase} wasmjit/wasmtime"),
                a,
                b,
                goal,
            );
            ratios.push(a.zip(b).map(|(a, b)| a / b));
        }
        by_phase.push((phase, ratios));
    }
    for engine in common::engines() {
        for (mode, over) in [("run_fuel", 1.30), ("run_epochs", 1.10)] {
            for program in programs {
                let what = format!("{engine} {mode}/run");
                let (a, b) = (
                    median(program.name, mode, engine),
                    median(program.name, "run", engine),
                );
                let goal = (*engine == "wasmjit").then_some(Goal(over));
                table.row(program.name, &what, a, b, goal);
            }
        }
    }
    for (phase, ratios) in &by_phase {
        let goal = match *phase {
            "run" => Some(Goal(0.95)),
            "compile" => Some(Goal(0.9)),
            _ => None,
        };
        let all = Some("all programs".to_string());
        let what = format!("{phase} wasmjit/wasmtime");
        table.push("geomean", &what, all.clone(), all, geomean(ratios), goal);
    }
    table.print();
}

fn main() {
    common::mark_start();
    let mut c = Criterion::default().configure_from_args();
    let programs = programs();
    for program in &programs {
        each_engine!(bench(&mut c, program));
    }
    c.final_summary();
    print_ratio_table(&programs);
}
