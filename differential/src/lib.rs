//! Differential execution of one module on wasmjit and on wasmi (the reference interpreter).
//!
//! A crate of its own, shared by `tests/all/differential.rs` (seeded smoke run in CI),
//! `tests/all/fuel_wasmtime.rs` and the cargo-fuzz targets in `fuzz/`.
//!
//! One case: a module (usually from `wasm-smith`, see [`smith_config`]) is compiled and
//! instantiated on both engines, then its exported functions are called with arguments drawn
//! from an `arbitrary::Unstructured`. After instantiation and after every call the outcome
//! (results, or the kind of trap) and the state of every exported global, memory and table are
//! compared. Both engines run on fuel; their costs differ, so once either side runs out of fuel
//! or stack, that call is not compared, and the calls after it go to fresh instances.
//!
//! The reference is wasmi 1.1, not 2.0: wasmi 2.0.0 computes wrong results for some
//! `select`/`local.set`/`local.tee` sequences that wasm-smith emits around guarded divisions
//! (e.g. `(local.set 2 (select (i32.const 1) (local.get 2) (i32.eqz (local.get 2))))` followed by
//! `local.get 3 local.get 2 local.set 2 local.tee 3 drop ... i32.div_s` divides by the wrong
//! value), which showed up as false divergences. wasmi 1.1 reports an out-of-bounds `table.copy`
//! as a table error without a trap code; [`wasmi_trap`] maps it.

use arbitrary::Unstructured;
use std::collections::BTreeMap;
use std::fmt;

pub mod sync_async;

/// Fuel for wasmjit per call (and for instantiation). Wasmtime-style costs: one per
/// non-structural operator.
pub const WASMJIT_FUEL: u64 = 100_000;
/// Fuel for wasmi per call. wasmi charges differently (per translated instruction, plus per byte
/// for bulk operations); it gets a wider margin so that it rarely runs out first.
pub const WASMI_FUEL: u64 = 400_000;
/// Largest memory a generated module may declare (pages of 64 KiB), as maximum.
pub const MAX_MEMORY_PAGES: u64 = 4;
/// Most calls made in one case.
pub const MAX_CALLS: usize = 24;

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

/// A small deterministic PRNG (splitmix64) for seeded byte streams.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// `len` pseudo-random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// wasm-smith settings for modules whose execution is deterministic and within what wasmjit
/// implements: MVP + mutable globals, sign extension, saturating float-to-int, multi-value,
/// bulk memory and reference types. No imports, canonical NaNs, small bounded sizes, every
/// entity exported.
pub fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        // Features.
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        gc_enabled: false,
        exceptions_enabled: false,
        tail_call_enabled: false,
        memory64_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        custom_descriptors_enabled: false,
        compact_imports_enabled: false,
        acquire_release_atomics_enabled: false,
        multibyte_array_access_enabled: false,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        // Determinism.
        canonicalize_nans: true,
        max_imports: 0,
        min_imports: 0,
        available_imports: None,
        max_tags: 0,
        // Shape.
        export_everything: true,
        allow_start_export: true,
        max_types: 12,
        max_funcs: 12,
        max_globals: 12,
        max_exports: 64,
        max_memories: 1,
        max_tables: 2,
        max_data_segments: 6,
        max_element_segments: 6,
        max_elements: 24,
        max_table_elements: 64,
        table_max_size_required: true,
        max_memory32_bytes: MAX_MEMORY_PAGES * 65536,
        memory_max_size_required: true,
        max_instructions: 200,
        max_nesting_depth: 8,
        max_values: 8,
        max_type_size: 200,
        generate_custom_sections: false,
        ..wasm_smith::Config::default()
    }
}

/// [`smith_config`] with some lower bounds drawn from `u`, so that most modules have
/// functions, and many a memory, a table and globals (from unstructured random bytes wasm-smith
/// alone mostly makes near-empty modules).
pub fn arbitrary_smith_config(u: &mut Unstructured<'_>) -> arbitrary::Result<wasm_smith::Config> {
    let mut c = smith_config();
    let knobs: u32 = u.arbitrary()?;
    // 1..=8 functions; a memory and a table 3 times in 4; 0..=3 globals.
    c.min_funcs = 1 + (knobs & 7) as usize;
    c.min_memories = u32::from(knobs & 0x18 != 0);
    c.min_tables = u32::from(knobs & 0x60 != 0);
    c.min_globals = ((knobs >> 7) & 3) as usize;
    c.max_instructions = [50, 100, 200, 400][((knobs >> 9) & 3) as usize];
    c.min_data_segments = ((knobs >> 11) & 1) as usize * c.min_memories as usize;
    c.min_element_segments = ((knobs >> 12) & 1) as usize * c.min_tables as usize;
    // Without a type there are no functions: 1..=4 types.
    c.min_types = 1 + ((knobs >> 13) & 3) as usize;
    // Half of the modules guard every trapping operator: longer runs that compute values
    // instead of trapping early.
    c.disallow_traps = (knobs >> 15) & 1 == 0;
    Ok(c)
}

/// A wasm-smith module (binary) from `u`.
pub fn generate(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    let config = arbitrary_smith_config(u)?;
    let module = wasm_smith::Module::new(config, u)?;
    Ok(module.to_bytes())
}

// ---------------------------------------------------------------------------------------------
// Values, outcomes, divergences
// ---------------------------------------------------------------------------------------------

/// An argument passed to both engines.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    /// Null, or the n-th exported function of the instance (in export order among functions).
    FuncRef(Option<usize>),
    /// Null, or a host value `n` wrapped as an externref.
    ExternRef(Option<u32>),
}

/// A value observed on either engine, comparable across them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    /// Whether the funcref is non-null (identities are not comparable across engines).
    FuncRef(bool),
    /// Null, or the host value an externref wraps (as passed in an [`Arg::ExternRef`]).
    ExternRef(Option<u32>),
    /// A value of a type the harness does not model.
    Other(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(b) => write!(f, "f32:{:#010x}({})", b, f32::from_bits(*b)),
            Value::F64(b) => write!(f, "f64:{:#018x}({})", b, f64::from_bits(*b)),
            Value::FuncRef(nn) => write!(f, "funcref:{}", if *nn { "non-null" } else { "null" }),
            Value::ExternRef(None) => write!(f, "externref:null"),
            Value::ExternRef(Some(n)) => write!(f, "externref:{n}"),
            Value::Other(s) => write!(f, "other:{s}"),
        }
    }
}

/// Why execution stopped with a trap, in engine-neutral terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrapKind {
    Unreachable,
    MemoryOutOfBounds,
    TableOutOfBounds,
    IndirectCallToNull,
    BadSignature,
    IntegerOverflow,
    IntegerDivisionByZero,
    BadConversionToInteger,
    NullReference,
    /// Anything else: a trap without a counterpart, or a non-trap error (text).
    Other(String),
}

/// Outcome of one call (or of instantiation, with no values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Returned(Vec<Value>),
    Trapped(TrapKind),
    /// Out of fuel or stack: not comparable, and neither is anything after it.
    Inconclusive(&'static str),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Returned(vals) => {
                write!(f, "returned [")?;
                for (i, v) in vals.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            Outcome::Trapped(k) => write!(f, "trapped {k:?}"),
            Outcome::Inconclusive(why) => write!(f, "inconclusive ({why})"),
        }
    }
}

/// State of the exported globals, memories and tables, in export order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub globals: Vec<(String, Value)>,
    pub memories: Vec<(String, Vec<u8>)>,
    /// Size, and which elements are non-null.
    pub tables: Vec<(String, Vec<bool>)>,
}

/// Describes how the two snapshots differ (first difference of each entity), or `None`.
pub fn snapshot_diff(a: &Snapshot, b: &Snapshot) -> Option<String> {
    if a == b {
        return None;
    }
    let mut out = String::new();
    for (x, y) in a.globals.iter().zip(&b.globals) {
        if x != y {
            out += &format!("  global {:?}: wasmjit {} vs wasmi {}\n", x.0, x.1, y.1);
        }
    }
    for (x, y) in a.memories.iter().zip(&b.memories) {
        if x.1.len() != y.1.len() {
            out += &format!(
                "  memory {:?}: wasmjit {} bytes vs wasmi {} bytes\n",
                x.0,
                x.1.len(),
                y.1.len()
            );
        } else if let Some(i) = x.1.iter().zip(&y.1).position(|(p, q)| p != q) {
            let n = x.1.iter().zip(&y.1).filter(|(p, q)| p != q).count();
            let end = (i + 16).min(x.1.len());
            out += &format!(
                "  memory {:?}: {n} bytes differ, first at {i:#x}: wasmjit {:02x?} vs wasmi {:02x?}\n",
                x.0,
                &x.1[i..end],
                &y.1[i..end]
            );
        }
    }
    for (x, y) in a.tables.iter().zip(&b.tables) {
        if x != y {
            out += &format!(
                "  table {:?}: wasmjit size {} non-null {:?} vs wasmi size {} non-null {:?}\n",
                x.0,
                x.1.len(),
                nonnull_indices(&x.1),
                y.1.len(),
                nonnull_indices(&y.1)
            );
        }
    }
    if out.is_empty() {
        out = format!("  export lists differ: {a:?} vs {b:?}\n");
    }
    Some(out)
}

fn nonnull_indices(v: &[bool]) -> Vec<usize> {
    v.iter()
        .enumerate()
        .filter(|(_, b)| **b)
        .map(|(i, _)| i)
        .collect()
}

/// The two engines disagreed.
#[derive(Debug, Clone)]
pub struct Divergence {
    /// What differed, with the calls made so far.
    pub message: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Counters of one or more cases.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub cases: u64,
    /// Both instantiated (or failed alike).
    pub instantiated: u64,
    pub instantiation_failed_alike: u64,
    /// Instantiation inconclusive (start function ran out of fuel or stack).
    pub instantiation_inconclusive: u64,
    /// wasmi rejected a module wasmjit accepted (not compared further).
    pub reference_rejected: u64,
    pub calls_compared: u64,
    pub calls_trapped: u64,
    /// Calls that ran out of fuel/stack on either side, and planned calls not made after
    /// [`MAX_REINSTANTIATIONS`].
    pub calls_skipped: u64,
    /// Compared calls that trapped (alike), by kind.
    pub traps: BTreeMap<&'static str, u64>,
    /// Skipped calls, by reason.
    pub inconclusive: BTreeMap<&'static str, u64>,
    /// Suspensions of async calls (the sync/async comparison only).
    pub suspensions: u64,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.cases += o.cases;
        self.instantiated += o.instantiated;
        self.instantiation_failed_alike += o.instantiation_failed_alike;
        self.instantiation_inconclusive += o.instantiation_inconclusive;
        self.reference_rejected += o.reference_rejected;
        self.calls_compared += o.calls_compared;
        self.calls_trapped += o.calls_trapped;
        self.calls_skipped += o.calls_skipped;
        self.suspensions += o.suspensions;
        for (k, v) in &o.traps {
            *self.traps.entry(k).or_default() += v;
        }
        for (k, v) in &o.inconclusive {
            *self.inconclusive.entry(k).or_default() += v;
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} cases: {} instantiated, {} failed to instantiate on both, {} instantiation \
             inconclusive, {} rejected by wasmi; {} calls compared ({} trapped), {} skipped \
             (out of fuel/stack)",
            self.cases,
            self.instantiated,
            self.instantiation_failed_alike,
            self.instantiation_inconclusive,
            self.reference_rejected,
            self.calls_compared,
            self.calls_trapped,
            self.calls_skipped
        )?;
        if self.suspensions > 0 {
            write!(f, "; {} async suspensions", self.suspensions)?;
        }
        write!(
            f,
            "\n  traps: {:?}\n  skipped: {:?}",
            self.traps, self.inconclusive
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Engines
// ---------------------------------------------------------------------------------------------

/// wasmjit configurations a case may run under; each exercises a different code path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Defaults: optimized, 4 GiB reservation + 2 GiB guard (no explicit bounds checks).
    Default,
    /// No Cranelift optimization.
    NoOpt,
    /// A 64 KiB reservation and no guard: explicit bounds checks, memories that move on grow.
    BoundsChecked,
    /// 4 GiB reservation with a 64 KiB guard: large offsets checked, small ones not.
    SmallGuard,
    /// No fuel (the code embedders run by default): wasmi runs each call first and wasmjit
    /// runs it only if wasmi finished within its fuel, with an epoch deadline as a watchdog.
    Epoch,
}

impl Variant {
    pub const ALL: [Variant; 5] = [
        Variant::Default,
        Variant::NoOpt,
        Variant::BoundsChecked,
        Variant::SmallGuard,
        Variant::Epoch,
    ];

    pub fn from_index(i: u64) -> Variant {
        Self::ALL[(i % Self::ALL.len() as u64) as usize]
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|v| *v == self).unwrap()
    }

    pub fn config(self) -> wasmjit::Config {
        let mut c = wasmjit::Config::new();
        c.consume_fuel(self != Variant::Epoch)
            .parallel_compilation(false);
        match self {
            Variant::Default => {}
            Variant::NoOpt => {
                c.cranelift_opt_level(wasmjit::OptLevel::None);
            }
            Variant::BoundsChecked => {
                c.memory_reservation(1 << 16).memory_guard_size(0);
            }
            Variant::SmallGuard => {
                c.memory_guard_size(1 << 16);
            }
            Variant::Epoch => {
                c.epoch_interruption(true);
            }
        }
        c
    }
}

thread_local! {
    static WASMJIT_ENGINES: Vec<wasmjit::Engine> = {
        let engines: Vec<wasmjit::Engine> = Variant::ALL
            .iter()
            .map(|v| wasmjit::Engine::new(&v.config()).expect("wasmjit engine"))
            .collect();
        watched().lock().unwrap().push(engines[Variant::Epoch.index()].clone());
        engines
    };
    static WASMI_ENGINE: wasmi::Engine = wasmi::Engine::new(&wasmi_config());
}

fn wasmi_config() -> wasmi::Config {
    let mut c = wasmi::Config::default();
    c.consume_fuel(true)
        .wasm_tail_call(false)
        .wasm_extended_const(false)
        .wasm_multi_memory(false)
        .wasm_custom_page_sizes(false)
        .wasm_wide_arithmetic(false);
    c
}

/// Epoch ticks of [`Variant::Epoch`] engines.
const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(50);
/// Ticks a call of [`Variant::Epoch`] may take before it is interrupted (and not compared):
/// about 5 s, far more than any call wasmi finishes within its fuel needs.
const EPOCH_DEADLINE: u64 = 100;

/// Engines whose epoch a background thread (started on first use) increments every
/// [`EPOCH_TICK`].
fn watched() -> &'static std::sync::Mutex<Vec<wasmjit::Engine>> {
    use std::sync::{Mutex, OnceLock};
    static WATCHED: OnceLock<Mutex<Vec<wasmjit::Engine>>> = OnceLock::new();
    WATCHED.get_or_init(|| {
        std::thread::spawn(|| loop {
            std::thread::sleep(EPOCH_TICK);
            for e in watched().lock().unwrap().iter() {
                e.increment_epoch();
            }
        });
        Mutex::new(Vec::new())
    })
}

/// The wasmjit engine of `variant` (one set per thread, kept for the whole run: an engine
/// frees what unused signatures held, see `engine_releases_unused_signatures`).
pub fn wasmjit_engine(variant: Variant) -> wasmjit::Engine {
    WASMJIT_ENGINES.with(|engines| engines[variant.index()].clone())
}

/// The cached wasmi engine.
pub fn wasmi_engine() -> wasmi::Engine {
    WASMI_ENGINE.with(|e| e.clone())
}

fn wasmjit_trap(err: &wasmjit::Error) -> Outcome {
    use wasmjit::Trap;
    let Some(trap) = err.downcast_ref::<Trap>() else {
        return Outcome::Trapped(TrapKind::Other(format!("{err:#}")));
    };
    Outcome::Trapped(match trap {
        Trap::StackOverflow => return Outcome::Inconclusive("wasmjit stack overflow"),
        Trap::OutOfFuel => return Outcome::Inconclusive("wasmjit out of fuel"),
        Trap::Interrupt => return Outcome::Inconclusive("wasmjit interrupted (epoch deadline)"),
        Trap::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
        Trap::TableOutOfBounds => TrapKind::TableOutOfBounds,
        Trap::IndirectCallToNull => TrapKind::IndirectCallToNull,
        Trap::BadSignature => TrapKind::BadSignature,
        Trap::IntegerOverflow => TrapKind::IntegerOverflow,
        Trap::IntegerDivisionByZero => TrapKind::IntegerDivisionByZero,
        Trap::BadConversionToInteger => TrapKind::BadConversionToInteger,
        Trap::UnreachableCodeReached => TrapKind::Unreachable,
        Trap::NullReference => TrapKind::NullReference,
        other => TrapKind::Other(format!("{other:?}")),
    })
}

fn wasmi_trap(err: &wasmi::Error) -> Outcome {
    use wasmi::errors::{ErrorKind, TableError};
    use wasmi::TrapCode as T;
    // wasmi 1.1 reports an out-of-bounds `table.copy` as a table error without a trap code.
    if let ErrorKind::Table(TableError::CopyOutOfBounds) = err.kind() {
        return Outcome::Trapped(TrapKind::TableOutOfBounds);
    }
    let Some(code) = err.as_trap_code() else {
        return Outcome::Trapped(TrapKind::Other(format!("{err}")));
    };
    Outcome::Trapped(match code {
        T::StackOverflow => return Outcome::Inconclusive("wasmi stack overflow"),
        T::OutOfFuel => return Outcome::Inconclusive("wasmi out of fuel"),
        T::UnreachableCodeReached => TrapKind::Unreachable,
        T::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
        T::TableOutOfBounds => TrapKind::TableOutOfBounds,
        T::IndirectCallToNull => TrapKind::IndirectCallToNull,
        T::IntegerDivisionByZero => TrapKind::IntegerDivisionByZero,
        T::IntegerOverflow => TrapKind::IntegerOverflow,
        T::BadConversionToInteger => TrapKind::BadConversionToInteger,
        T::BadSignature => TrapKind::BadSignature,
        other => TrapKind::Other(format!("{other:?}")),
    })
}

/// One export of the module, as the harness sees it.
#[derive(Clone, Debug)]
pub enum ExportKind {
    Func {
        params: Vec<wasmjit::ValType>,
        results: usize,
    },
    Global,
    Memory,
    Table,
}

/// The module on wasmjit.
pub struct WasmjitSide {
    variant: Variant,
    store: wasmjit::Store<()>,
    module: wasmjit::Module,
    instance: Option<wasmjit::Instance>,
    /// Driven through the async entry points (see [`sync_async`]).
    is_async: bool,
    /// Times an async call or instantiation was suspended (polled `Pending`).
    pub suspensions: u64,
}

/// The module on wasmi.
pub struct WasmiSide {
    store: wasmi::Store<()>,
    module: wasmi::Module,
    instance: Option<wasmi::Instance>,
}

impl WasmjitSide {
    pub fn compile(variant: Variant, wasm: &[u8]) -> wasmjit::Result<Self> {
        let engine = wasmjit_engine(variant);
        let module = wasmjit::Module::new(&engine, wasm)?;
        let store = wasmjit::Store::new(&engine, ());
        Ok(WasmjitSide {
            variant,
            store,
            module,
            instance: None,
            is_async: false,
            suspensions: 0,
        })
    }

    /// The module in an async store (fuel on) that yields every `yield_interval` units of
    /// fuel; instantiation and calls go through `Instance::new_async` and `Func::call_async`.
    pub fn compile_async(wasm: &[u8], yield_interval: u64) -> wasmjit::Result<Self> {
        let engine = sync_async::engine();
        let module = wasmjit::Module::new(&engine, wasm)?;
        let mut store = wasmjit::Store::new(&engine, ());
        store.fuel_async_yield_interval(Some(yield_interval))?;
        Ok(WasmjitSide {
            variant: Variant::Default,
            store,
            module,
            instance: None,
            is_async: true,
            suspensions: 0,
        })
    }

    /// Fuel left in the store.
    pub fn fuel(&self) -> u64 {
        self.store.get_fuel().unwrap_or(u64::MAX)
    }

    pub fn exports(&self) -> Vec<(String, ExportKind)> {
        self.module
            .exports()
            .filter_map(|e| {
                let kind = match e.ty() {
                    wasmjit::ExternType::Func(f) => ExportKind::Func {
                        params: f.params().collect(),
                        results: f.results().len(),
                    },
                    wasmjit::ExternType::Global(_) => ExportKind::Global,
                    wasmjit::ExternType::Memory(_) => ExportKind::Memory,
                    wasmjit::ExternType::Table(_) => ExportKind::Table,
                    wasmjit::ExternType::Tag(_) => return None,
                };
                Some((e.name().to_string(), kind))
            })
            .collect()
    }

    pub fn instantiate(&mut self) -> Outcome {
        self.set_budget();
        let instance = if self.is_async {
            let (r, pending) = sync_async::block_on(wasmjit::Instance::new_async(
                &mut self.store,
                &self.module,
                &[],
            ));
            self.suspensions += pending;
            r
        } else {
            wasmjit::Instance::new(&mut self.store, &self.module, &[])
        };
        match instance {
            Ok(i) => {
                self.instance = Some(i);
                Outcome::Returned(vec![])
            }
            Err(e) => wasmjit_trap(&e),
        }
    }

    /// Fuel, or (for [`Variant::Epoch`]) the epoch deadline, for one call or instantiation.
    fn set_budget(&mut self) {
        if self.variant == Variant::Epoch {
            self.store.set_epoch_deadline(EPOCH_DEADLINE);
        } else {
            self.store.set_fuel(WASMJIT_FUEL).unwrap();
        }
    }

    fn export(&mut self, name: &str) -> wasmjit::Extern {
        let inst = self.instance.expect("instantiated");
        inst.get_export(&mut self.store, name).expect("export")
    }

    fn func_export(&mut self, n: usize, exports: &[(String, ExportKind)]) -> wasmjit::Func {
        let name = func_export_name(n, exports);
        self.export(&name).into_func().unwrap()
    }

    fn arg(&mut self, a: &Arg, exports: &[(String, ExportKind)]) -> wasmjit::Val {
        use wasmjit::Val;
        match a {
            Arg::I32(v) => Val::I32(*v),
            Arg::I64(v) => Val::I64(*v),
            Arg::F32(b) => Val::F32(*b),
            Arg::F64(b) => Val::F64(*b),
            Arg::FuncRef(None) => Val::FuncRef(None),
            Arg::FuncRef(Some(n)) => Val::FuncRef(Some(self.func_export(*n, exports))),
            Arg::ExternRef(None) => Val::ExternRef(None),
            Arg::ExternRef(Some(n)) => {
                Val::ExternRef(Some(wasmjit::ExternRef::new(&mut self.store, *n).unwrap()))
            }
        }
    }

    fn value(&self, v: &wasmjit::Val) -> Value {
        use wasmjit::Val;
        match v {
            Val::I32(x) => Value::I32(*x),
            Val::I64(x) => Value::I64(*x),
            Val::F32(b) => Value::F32(*b),
            Val::F64(b) => Value::F64(*b),
            Val::FuncRef(f) => Value::FuncRef(f.is_some()),
            Val::ExternRef(None) => Value::ExternRef(None),
            Val::ExternRef(Some(r)) => {
                let data = r.data(&self.store).ok().flatten().expect("externref data");
                Value::ExternRef(Some(*data.downcast_ref::<u32>().expect("u32 externref")))
            }
            other => Value::Other(format!("{other:?}")),
        }
    }

    pub fn call(&mut self, name: &str, args: &[Arg], exports: &[(String, ExportKind)]) -> Outcome {
        let func = self.export(name).into_func().unwrap();
        let params: Vec<wasmjit::Val> = args.iter().map(|a| self.arg(a, exports)).collect();
        let nresults = func.ty(&self.store).results().len();
        let mut results = vec![wasmjit::Val::I32(0); nresults];
        self.set_budget();
        let outcome = if self.is_async {
            let (r, pending) =
                sync_async::block_on(func.call_async(&mut self.store, &params, &mut results));
            self.suspensions += pending;
            r
        } else {
            func.call(&mut self.store, &params, &mut results)
        };
        match outcome {
            Ok(()) => Outcome::Returned(results.iter().map(|v| self.value(v)).collect()),
            Err(e) => wasmjit_trap(&e),
        }
    }

    /// Runs `f`, except with [`Variant::Epoch`] when wasmi's outcome `reference` is
    /// inconclusive (without fuel, wasmjit might run for as long as the watchdog allows).
    pub fn run_unless_inconclusive(
        &mut self,
        reference: &Outcome,
        f: impl FnOnce(&mut Self) -> Outcome,
    ) -> Outcome {
        if self.variant == Variant::Epoch && matches!(reference, Outcome::Inconclusive(_)) {
            Outcome::Inconclusive("not run: wasmi was inconclusive")
        } else {
            f(self)
        }
    }

    pub fn snapshot(&mut self, exports: &[(String, ExportKind)]) -> Snapshot {
        let mut s = Snapshot::default();
        for (name, kind) in exports {
            match kind {
                ExportKind::Func { .. } => {}
                ExportKind::Global => {
                    let g = self.export(name).into_global().unwrap();
                    let v = g.get(&mut self.store);
                    s.globals.push((name.clone(), self.value(&v)));
                }
                ExportKind::Memory => {
                    let m = self.export(name).into_memory().unwrap();
                    s.memories
                        .push((name.clone(), m.data(&self.store).to_vec()));
                }
                ExportKind::Table => {
                    let t = self.export(name).into_table().unwrap();
                    let size = t.size(&self.store);
                    let elems = (0..size)
                        .map(|i| !t.get(&mut self.store, i).expect("in bounds").is_null())
                        .collect();
                    s.tables.push((name.clone(), elems));
                }
            }
        }
        s
    }
}

impl WasmiSide {
    pub fn compile(wasm: &[u8]) -> Result<Self, wasmi::Error> {
        let engine = wasmi_engine();
        let module = wasmi::Module::new(&engine, wasm)?;
        let store = wasmi::Store::new(&engine, ());
        Ok(WasmiSide {
            store,
            module,
            instance: None,
        })
    }

    pub fn instantiate(&mut self) -> Outcome {
        self.store.set_fuel(WASMI_FUEL).unwrap();
        match wasmi::Instance::new(&mut self.store, &self.module, &[]) {
            Ok(i) => {
                self.instance = Some(i);
                Outcome::Returned(vec![])
            }
            Err(e) => wasmi_trap(&e),
        }
    }

    fn export(&self, name: &str) -> wasmi::Extern {
        let inst = self.instance.expect("instantiated");
        inst.get_export(&self.store, name).expect("export")
    }

    fn arg(&mut self, a: &Arg, exports: &[(String, ExportKind)]) -> wasmi::Val {
        use wasmi::{Ref, Val};
        match a {
            Arg::I32(v) => Val::I32(*v),
            Arg::I64(v) => Val::I64(*v),
            Arg::F32(b) => Val::F32(wasmi::F32::from_bits(*b)),
            Arg::F64(b) => Val::F64(wasmi::F64::from_bits(*b)),
            Arg::FuncRef(None) => Val::FuncRef(Ref::Null),
            Arg::FuncRef(Some(n)) => {
                let name = func_export_name(*n, exports);
                Val::FuncRef(Ref::Val(self.export(&name).into_func().unwrap()))
            }
            Arg::ExternRef(None) => Val::ExternRef(Ref::Null),
            Arg::ExternRef(Some(n)) => {
                Val::ExternRef(Ref::Val(wasmi::ExternRef::new(&mut self.store, *n)))
            }
        }
    }

    fn value(&self, v: &wasmi::Val) -> Value {
        use wasmi::Val;
        match v {
            Val::I32(x) => Value::I32(*x),
            Val::I64(x) => Value::I64(*x),
            Val::F32(x) => Value::F32(x.to_bits()),
            Val::F64(x) => Value::F64(x.to_bits()),
            Val::FuncRef(f) => Value::FuncRef(!f.is_null()),
            Val::ExternRef(r) => match r.val() {
                None => Value::ExternRef(None),
                Some(r) => Value::ExternRef(Some(
                    *r.data(&self.store)
                        .downcast_ref::<u32>()
                        .expect("u32 externref"),
                )),
            },
            other => Value::Other(format!("{other:?}")),
        }
    }

    pub fn call(&mut self, name: &str, args: &[Arg], exports: &[(String, ExportKind)]) -> Outcome {
        let func = self.export(name).into_func().unwrap();
        let params: Vec<wasmi::Val> = args.iter().map(|a| self.arg(a, exports)).collect();
        let nresults = func.ty(&self.store).results().len();
        let mut results = vec![wasmi::Val::I32(0); nresults];
        self.store.set_fuel(WASMI_FUEL).unwrap();
        match func.call(&mut self.store, &params, &mut results) {
            Ok(()) => Outcome::Returned(results.iter().map(|v| self.value(v)).collect()),
            Err(e) => wasmi_trap(&e),
        }
    }

    pub fn snapshot(&mut self, exports: &[(String, ExportKind)]) -> Snapshot {
        let mut s = Snapshot::default();
        for (name, kind) in exports {
            match kind {
                ExportKind::Func { .. } => {}
                ExportKind::Global => {
                    let g = self.export(name).into_global().unwrap();
                    let v = g.get(&self.store);
                    s.globals.push((name.clone(), self.value(&v)));
                }
                ExportKind::Memory => {
                    let m = self.export(name).into_memory().unwrap();
                    s.memories
                        .push((name.clone(), m.data(&self.store).to_vec()));
                }
                ExportKind::Table => {
                    let t = self.export(name).into_table().unwrap();
                    let size = t.size(&self.store);
                    let elems = (0..size)
                        .map(|i| {
                            let v = t.get(&self.store, i).expect("in bounds");
                            match v {
                                wasmi::Val::FuncRef(r) => !r.is_null(),
                                wasmi::Val::ExternRef(r) => !r.is_null(),
                                _ => true,
                            }
                        })
                        .collect();
                    s.tables.push((name.clone(), elems));
                }
            }
        }
        s
    }
}

fn func_export_name(n: usize, exports: &[(String, ExportKind)]) -> String {
    exports
        .iter()
        .filter(|(_, k)| matches!(k, ExportKind::Func { .. }))
        .nth(n)
        .map(|(name, _)| name.clone())
        .expect("function export")
}

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

fn pick<T: Copy>(
    u: &mut Unstructured<'_>,
    interesting: &[T],
    random: impl FnOnce(&mut Unstructured<'_>) -> T,
) -> T {
    // Half of the time an edge value, otherwise whatever the input says.
    let i = u.int_in_range(0..=2 * interesting.len() - 1).unwrap_or(0);
    if i < interesting.len() {
        interesting[i]
    } else {
        random(u)
    }
}

fn arbitrary_arg(u: &mut Unstructured<'_>, ty: &wasmjit::ValType, nfuncs: usize) -> Arg {
    use wasmjit::ValType;
    match ty {
        ValType::I32 => Arg::I32(pick(
            u,
            &[
                0,
                1,
                -1,
                2,
                7,
                8,
                16,
                31,
                32,
                255,
                0xffff,
                0x1_0000,
                i32::MIN,
                i32::MAX,
            ],
            |u| u.arbitrary().unwrap_or(0),
        )),
        ValType::I64 => Arg::I64(pick(
            u,
            &[
                0,
                1,
                -1,
                2,
                31,
                32,
                63,
                64,
                0xffff_ffff,
                0x1_0000_0000,
                i64::MIN,
                i64::MAX,
            ],
            |u| u.arbitrary().unwrap_or(0),
        )),
        ValType::F32 => Arg::F32(pick(
            u,
            &[
                0.0f32.to_bits(),
                (-0.0f32).to_bits(),
                1.0f32.to_bits(),
                (-1.0f32).to_bits(),
                0.5f32.to_bits(),
                f32::INFINITY.to_bits(),
                f32::NEG_INFINITY.to_bits(),
                0x7fc0_0000, // canonical NaN
                f32::MIN_POSITIVE.to_bits(),
                1, // smallest subnormal
                2147483648.0f32.to_bits(),
                (-2147483904.0f32).to_bits(),
                4294967296.0f32.to_bits(),
            ],
            |u| u.arbitrary().unwrap_or(0),
        )),
        ValType::F64 => Arg::F64(pick(
            u,
            &[
                0.0f64.to_bits(),
                (-0.0f64).to_bits(),
                1.0f64.to_bits(),
                (-1.0f64).to_bits(),
                0.5f64.to_bits(),
                f64::INFINITY.to_bits(),
                f64::NEG_INFINITY.to_bits(),
                0x7ff8_0000_0000_0000, // canonical NaN
                f64::MIN_POSITIVE.to_bits(),
                1,
                2147483648.0f64.to_bits(),
                (-2147483649.0f64).to_bits(),
                9223372036854775808.0f64.to_bits(),
                18446744073709551616.0f64.to_bits(),
            ],
            |u| u.arbitrary().unwrap_or(0),
        )),
        ValType::Ref(r) => match r.heap_type() {
            heap if !heap.is_extern() => {
                if nfuncs == 0 || !u.arbitrary::<bool>().unwrap_or(false) {
                    Arg::FuncRef(None)
                } else {
                    Arg::FuncRef(Some(u.choose_index(nfuncs).unwrap_or(0)))
                }
            }
            _ => {
                if u.arbitrary::<bool>().unwrap_or(false) {
                    Arg::ExternRef(Some(u.int_in_range(1..=1000).unwrap_or(1)))
                } else {
                    Arg::ExternRef(None)
                }
            }
        },
        // Not generated (no SIMD); the call will be rejected alike on both sides.
        ValType::V128 => Arg::I32(0),
    }
}

/// The calls of one case: every exported function once in export order, then random ones
/// while `u` has data.
pub fn plan_calls(
    u: &mut Unstructured<'_>,
    exports: &[(String, ExportKind)],
) -> Vec<(String, Vec<Arg>)> {
    let funcs: Vec<(&String, &Vec<wasmjit::ValType>)> = exports
        .iter()
        .filter_map(|(n, k)| match k {
            ExportKind::Func { params, .. } => Some((n, params)),
            _ => None,
        })
        .collect();
    let mut calls = Vec::new();
    if funcs.is_empty() {
        return calls;
    }
    let make = |u: &mut Unstructured<'_>, i: usize| {
        let (name, params) = funcs[i];
        let args = params
            .iter()
            .map(|t| arbitrary_arg(u, t, funcs.len()))
            .collect();
        (name.clone(), args)
    };
    for i in 0..funcs.len().min(MAX_CALLS) {
        calls.push(make(u, i));
    }
    let extra = u.int_in_range(0..=MAX_CALLS - calls.len()).unwrap_or(0);
    for _ in 0..extra {
        if u.is_empty() {
            break;
        }
        let i = u.choose_index(funcs.len()).unwrap_or(0);
        calls.push(make(u, i));
    }
    calls
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

fn fmt_args(args: &[Arg]) -> String {
    args.iter()
        .map(|a| match a {
            Arg::I32(v) => format!("i32:{v}"),
            Arg::I64(v) => format!("i64:{v}"),
            Arg::F32(b) => format!("f32:{b:#010x}"),
            Arg::F64(b) => format!("f64:{b:#018x}"),
            Arg::FuncRef(None) => "funcref:null".into(),
            Arg::FuncRef(Some(n)) => format!("funcref:export-func#{n}"),
            Arg::ExternRef(None) => "externref:null".into(),
            Arg::ExternRef(Some(n)) => format!("externref:{n}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `wasm` on both engines with calls drawn from `u`; `Err` describes the first
/// disagreement.
pub fn run_case(
    wasm: &[u8],
    variant: Variant,
    u: &mut Unstructured<'_>,
) -> Result<Stats, Divergence> {
    let mut stats = Stats {
        cases: 1,
        ..Stats::default()
    };
    let mut log = String::new();
    let diverge = |log: &str, what: String| Divergence {
        message: format!("variant {variant:?}\n{log}DIVERGENCE: {what}"),
    };

    let mut jit = match WasmjitSide::compile(variant, wasm) {
        Ok(s) => s,
        Err(e) => {
            return match WasmiSide::compile(wasm) {
                Ok(_) => Err(diverge(
                    &log,
                    format!("wasmjit rejected a module wasmi accepts: {e:#}"),
                )),
                // Both reject: not something this harness compares.
                Err(_) => {
                    stats.reference_rejected += 1;
                    Ok(stats)
                }
            };
        }
    };
    let mut wi = match WasmiSide::compile(wasm) {
        Ok(s) => s,
        Err(_) => {
            stats.reference_rejected += 1;
            return Ok(stats);
        }
    };

    let exports = jit.exports();
    let calls = plan_calls(u, &exports);
    log += &format!(
        "module: {} bytes, {} exports, {} calls planned\n",
        wasm.len(),
        exports.len(),
        calls.len()
    );

    // wasmi first: with `Variant::Epoch` wasmjit runs only what wasmi finished.
    let b = wi.instantiate();
    let a = jit.run_unless_inconclusive(&b, |jit| jit.instantiate());
    log += &format!("instantiate: wasmjit {a}, wasmi {b}\n");
    match (&a, &b) {
        (Outcome::Inconclusive(_), _) | (_, Outcome::Inconclusive(_)) => {
            stats.instantiation_inconclusive += 1;
            stats.calls_skipped += calls.len() as u64;
            return Ok(stats);
        }
        (Outcome::Returned(_), Outcome::Returned(_)) => stats.instantiated += 1,
        (Outcome::Trapped(x), Outcome::Trapped(y)) => {
            // Instantiation errors that are not traps (e.g. a segment out of bounds reported
            // as a plain error) carry engine-specific text: only failure itself must agree.
            let comparable = !matches!(x, TrapKind::Other(_)) && !matches!(y, TrapKind::Other(_));
            if comparable && x != y {
                return Err(diverge(&log, "instantiation trapped differently".into()));
            }
            stats.instantiation_failed_alike += 1;
            return Ok(stats);
        }
        _ => {
            return Err(diverge(
                &log,
                "instantiation succeeded on one side only".into(),
            ))
        }
    }

    let sa = jit.snapshot(&exports);
    let sb = wi.snapshot(&exports);
    if let Some(d) = snapshot_diff(&sa, &sb) {
        return Err(diverge(
            &log,
            format!("state after instantiation differs:\n{d}"),
        ));
    }

    // After a call that ran out of fuel or stack the two instances may differ legitimately
    // (each stopped somewhere else): the rest of the calls go to fresh instances (in the same
    // stores), at most `MAX_REINSTANTIATIONS` times.
    let mut live = true;
    let mut reinstantiations = 0;
    for (i, (name, args)) in calls.iter().enumerate() {
        if !live {
            if reinstantiations == MAX_REINSTANTIATIONS {
                stats.calls_skipped += (calls.len() - i) as u64;
                break;
            }
            reinstantiations += 1;
            let b = wi.instantiate();
            let a = jit.run_unless_inconclusive(&b, |jit| jit.instantiate());
            log += &format!("re-instantiate: wasmjit {a}, wasmi {b}\n");
            if !matches!((&a, &b), (Outcome::Returned(_), Outcome::Returned(_))) {
                // It succeeded the first time; the start function is deterministic.
                return Err(diverge(&log, "re-instantiation failed".into()));
            }
            let sa = jit.snapshot(&exports);
            let sb = wi.snapshot(&exports);
            if let Some(d) = snapshot_diff(&sa, &sb) {
                return Err(diverge(
                    &log,
                    format!("state after re-instantiation differs:\n{d}"),
                ));
            }
            live = true;
        }
        let b = wi.call(name, args, &exports);
        let a = jit.run_unless_inconclusive(&b, |jit| jit.call(name, args, &exports));
        log += &format!(
            "call {name:?} ({}): wasmjit {a}, wasmi {b}\n",
            fmt_args(args)
        );
        if matches!(a, Outcome::Inconclusive(_)) || matches!(b, Outcome::Inconclusive(_)) {
            stats.calls_skipped += 1;
            *stats
                .inconclusive
                .entry(inconclusive_reason(&a, &b))
                .or_default() += 1;
            live = false;
            continue;
        }
        if a != b {
            return Err(diverge(&log, format!("call {i} ({name:?}) differs")));
        }
        stats.calls_compared += 1;
        if let Outcome::Trapped(k) = &a {
            stats.calls_trapped += 1;
            *stats.traps.entry(trap_name(k)).or_default() += 1;
        }
        let sa = jit.snapshot(&exports);
        let sb = wi.snapshot(&exports);
        if let Some(d) = snapshot_diff(&sa, &sb) {
            return Err(diverge(
                &log,
                format!("state after call {i} ({name:?}) differs:\n{d}"),
            ));
        }
    }
    if std::env::var_os("DIFF_LOG").is_some() {
        eprintln!("{log}");
    }
    Ok(stats)
}

/// How often a case starts over on fresh instances after an inconclusive call.
pub const MAX_REINSTANTIATIONS: usize = 3;

fn trap_name(k: &TrapKind) -> &'static str {
    match k {
        TrapKind::Unreachable => "unreachable",
        TrapKind::MemoryOutOfBounds => "memory-out-of-bounds",
        TrapKind::TableOutOfBounds => "table-out-of-bounds",
        TrapKind::IndirectCallToNull => "indirect-call-to-null",
        TrapKind::BadSignature => "bad-signature",
        TrapKind::IntegerOverflow => "integer-overflow",
        TrapKind::IntegerDivisionByZero => "integer-division-by-zero",
        TrapKind::BadConversionToInteger => "bad-conversion-to-integer",
        TrapKind::NullReference => "null-reference",
        TrapKind::Other(_) => "other",
    }
}

fn inconclusive_reason(a: &Outcome, b: &Outcome) -> &'static str {
    let side = |o: &Outcome| match o {
        Outcome::Inconclusive(w) if w.contains("not run") => "not run",
        Outcome::Inconclusive(w) if w.contains("interrupted") => "interrupted",
        Outcome::Inconclusive(w) if w.contains("fuel") => "fuel",
        Outcome::Inconclusive(_) => "stack",
        _ => "ok",
    };
    match (side(a), side(b)) {
        ("not run", "fuel") => "wasmi out of fuel (wasmjit not run)",
        ("not run", _) => "wasmi out of stack (wasmjit not run)",
        ("interrupted", _) => "wasmjit interrupted (epoch deadline)",
        ("fuel", "fuel") => "both out of fuel",
        ("stack", "stack") => "both out of stack",
        ("fuel", "stack") => "wasmjit out of fuel, wasmi out of stack",
        ("stack", "fuel") => "wasmjit out of stack, wasmi out of fuel",
        ("fuel", _) => "only wasmjit out of fuel",
        ("stack", _) => "only wasmjit out of stack",
        (_, "fuel") => "only wasmi out of fuel",
        _ => "only wasmi out of stack",
    }
}

/// The inputs of one seeded case: wasm-smith bytes and call bytes from one splitmix64
/// stream, and the wasmjit variant.
pub fn seed_inputs(seed: u64) -> (Vec<u8>, Vec<u8>, Variant) {
    let mut rng = SplitMix64::new(seed);
    // Vary the amount of input: small inputs give small modules.
    let len = 256 + (rng.next_u64() % 8192) as usize;
    let module_bytes = rng.bytes(len);
    let call_bytes = rng.bytes(4096);
    (module_bytes, call_bytes, Variant::from_index(seed))
}

/// One seeded case. Returns the module too, so that a failing case can be saved.
pub fn run_seed(seed: u64) -> (Vec<u8>, Variant, Result<Stats, Divergence>) {
    let (module_bytes, call_bytes, variant) = seed_inputs(seed);
    let mut u = Unstructured::new(&module_bytes);
    let wasm = match generate(&mut u) {
        Ok(w) => w,
        Err(e) => {
            return (
                Vec::new(),
                variant,
                Err(Divergence {
                    message: format!("wasm-smith failed: {e}"),
                }),
            )
        }
    };
    let mut u = Unstructured::new(&call_bytes);
    let r = run_case(&wasm, variant, &mut u);
    (wasm, variant, r)
}

/// One fuzz input: the first byte picks the variant, the rest drives wasm-smith and then the
/// calls.
pub fn run_fuzz_input(data: &[u8]) -> Result<Stats, Divergence> {
    let Some((&first, rest)) = data.split_first() else {
        return Ok(Stats::default());
    };
    let variant = Variant::from_index(u64::from(first));
    let mut u = Unstructured::new(rest);
    let Ok(wasm) = generate(&mut u) else {
        return Ok(Stats::default());
    };
    run_case(&wasm, variant, &mut u).map_err(|mut d| {
        d.message = format!("module (hex): {}\n{}", hex(&wasm), d.message);
        d
    })
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
