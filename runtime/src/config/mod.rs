//! Engine-wide settings, named like Wasmtime's `Config`.

mod accepted;

pub use accepted::{
    Cache, Collector, Enabled, Inlining, InstanceAllocationStrategy, ModuleVersionStrategy,
    PoolingAllocationConfig, RegallocAlgorithm, Strategy, WasmBacktraceDetails,
};

use crate::ProfilingStrategy;
use anyhow::{bail, Result};
use std::sync::Arc;
use wasmjit_compiler as c;
use wasmjit_fiber::StackCreator;

/// The set of WebAssembly proposals an engine enables (wasmparser's type, as in Wasmtime).
pub use wasmparser::WasmFeatures;

/// How hard Cranelift optimizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptLevel {
    /// No optimization.
    None,
    /// Optimize for speed (the default).
    #[default]
    Speed,
    /// Optimize for speed and size.
    SpeedAndSize,
}

/// Global configuration of an [`Engine`](crate::Engine).
#[derive(Clone)]
pub struct Config {
    pub(crate) opt_level: OptLevel,
    pub(crate) parallel_compilation: bool,
    pub(crate) max_wasm_stack: usize,
    pub(crate) memory_reservation: u64,
    pub(crate) memory_guard_size: u64,
    pub(crate) consume_fuel: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) features: wasmparser::WasmFeatures,
    pub(crate) relaxed_simd_deterministic: bool,
    pub(crate) profiler: ProfilingStrategy,
    pub(crate) nan_canonicalization: bool,
    pub(crate) cranelift_flags: Vec<(String, String)>,
    /// The flags the embedder named, in order: `None` for `cranelift_flag_enable`, the value
    /// for `cranelift_flag_set` (reported by `Engine::get_cranelift_flags_*`).
    pub(crate) cranelift_user_flags: Vec<(String, Option<String>)>,
    /// The pooling allocator's limits, when that strategy was chosen (recorded only).
    pub(crate) pooling: Option<crate::PoolingAllocationConfig>,
    pub(crate) async_support: bool,
    pub(crate) async_stack_size: usize,
    pub(crate) async_stack_zeroing: bool,
    pub(crate) stack_creator: Option<Arc<dyn StackCreator>>,
    pub(crate) signals_based_traps: bool,
    /// Makes linear memories instead of wasmjit (`Config::with_host_memory`).
    pub(crate) memory_creator: Option<Arc<dyn crate::MemoryCreator>>,
    /// Recorded for `Engine::get_memory_guaranteed_dense_image_size` (wasmjit makes no
    /// memory images).
    pub(crate) memory_guaranteed_dense_image_size: u64,
    pub(crate) shared_memory: bool,
    /// Whether defined memories start from a copy-on-write image of their data segments.
    pub(crate) memory_init_cow: bool,
    /// The version serialized modules carry and must carry to load.
    pub(crate) module_version: crate::ModuleVersionStrategy,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("opt_level", &self.opt_level)
            .field("parallel_compilation", &self.parallel_compilation)
            .field("max_wasm_stack", &self.max_wasm_stack)
            .field("memory_reservation", &self.memory_reservation)
            .field("memory_guard_size", &self.memory_guard_size)
            .field("consume_fuel", &self.consume_fuel)
            .field("epoch_interruption", &self.epoch_interruption)
            .field("features", &self.features)
            .field(
                "relaxed_simd_deterministic",
                &self.relaxed_simd_deterministic,
            )
            .field("async_support", &self.async_support)
            .field("async_stack_size", &self.async_stack_size)
            .field("custom_stack_creator", &self.stack_creator.is_some())
            .field("signals_based_traps", &self.signals_based_traps)
            .field("custom_memory_creator", &self.memory_creator.is_some())
            .field("shared_memory", &self.shared_memory)
            .field("memory_init_cow", &self.memory_init_cow)
            .finish_non_exhaustive()
    }
}

/// The proposals the compiler implements: what `Config::wasm_features` may turn on.
fn supported_features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::RELAXED_SIMD
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::MEMORY64
        | WasmFeatures::FUNCTION_REFERENCES
        | WasmFeatures::EXCEPTIONS
        | WasmFeatures::THREADS
        | WasmFeatures::WIDE_ARITHMETIC
        | WasmFeatures::GC
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! feature_setters {
    ($($(#[$doc:meta])* $name:ident => $flag:ident,)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&mut self, enable: bool) -> &mut Self {
                self.features.set(wasmparser::WasmFeatures::$flag, enable);
                self
            }
        )*
    };
}

impl Config {
    /// The defaults: every Wasm 2.0 feature and the Wasm 3.0 features other than GC and
    /// exceptions on (SIMD, relaxed SIMD, tail calls, extended constant expressions,
    /// multiple memories, 64-bit memories, typed function references), as in Wasmtime (which
    /// enables function references only with GC); optimized for speed, 512 KiB of
    /// wasm stack, 4 GiB memory reservations with 2 GiB guards (no explicit bounds checks
    /// for 32-bit memories).
    pub fn new() -> Self {
        use wasmparser::WasmFeatures as F;
        // Wasm 2.0 (SIMD included) plus the proposals it builds on internally (GC types
        // carry funcref/externref in wasmparser).
        let features = F::WASM2
            | F::RELAXED_SIMD
            | F::TAIL_CALL
            | F::EXTENDED_CONST
            | F::MULTI_MEMORY
            | F::MEMORY64
            | F::FUNCTION_REFERENCES
            | F::THREADS;
        Self {
            opt_level: OptLevel::Speed,
            parallel_compilation: true,
            max_wasm_stack: 512 * 1024,
            memory_reservation: 1 << 32,
            memory_guard_size: 2 << 30,
            consume_fuel: false,
            epoch_interruption: false,
            features,
            relaxed_simd_deterministic: false,
            profiler: ProfilingStrategy::None,
            nan_canonicalization: false,
            cranelift_flags: Vec::new(),
            cranelift_user_flags: Vec::new(),
            pooling: None,
            async_support: false,
            async_stack_size: 2 << 20,
            async_stack_zeroing: false,
            stack_creator: None,
            signals_based_traps: true,
            memory_creator: None,
            memory_guaranteed_dense_image_size: 16 << 20,
            shared_memory: false,
            memory_init_cow: true,
            module_version: crate::ModuleVersionStrategy::default(),
        }
    }

    /// Cranelift's optimization level.
    pub fn cranelift_opt_level(&mut self, level: OptLevel) -> &mut Self {
        self.opt_level = level;
        self
    }

    /// Compile a module's functions on several threads.
    pub fn parallel_compilation(&mut self, enable: bool) -> &mut Self {
        self.parallel_compilation = enable;
        self
    }

    /// Bytes of native stack wasm may use in one call from the host before it traps with
    /// stack overflow.
    pub fn max_wasm_stack(&mut self, size: usize) -> &mut Self {
        self.max_wasm_stack = size;
        self
    }

    /// Bytes of address space reserved for each linear memory. At 4 GiB or more, 32-bit
    /// memories need no explicit bounds checks; smaller reservations add them.
    pub fn memory_reservation(&mut self, bytes: u64) -> &mut Self {
        self.memory_reservation = bytes;
        self
    }

    /// Whether a module's defined memories start from a copy-on-write image of their active
    /// data segments, laid out once when the module is created and mapped privately into
    /// each new instance's memory instead of copying the segments (on by default, as in
    /// Wasmtime). Memories whose segments do not allow an image (offsets read from globals,
    /// segments past the minimum size), imported, shared and host-made memories, and memories
    /// of a reservation under 4 GiB are initialized by copying either way.
    pub fn memory_init_cow(&mut self, enable: bool) -> &mut Self {
        self.memory_init_cow = enable;
        self
    }

    /// Bytes of inaccessible guard region after each linear memory.
    pub fn memory_guard_size(&mut self, bytes: u64) -> &mut Self {
        self.memory_guard_size = bytes;
        self
    }

    /// Whether compiled code may trap through signals (on by default): memory accesses
    /// that leave the memory fault on its guard region, and Cranelift's trap instructions
    /// and divisions fault, and the runtime's handlers for `SIGSEGV`, `SIGBUS`, `SIGILL` and
    /// `SIGFPE` (installed by the first engine with this on) turn the faults into traps.
    ///
    /// Off, for hosts that own those signals, as in Wasmtime: the engine installs no
    /// handler, and its code never raises a signal. Every memory access is bounds-checked
    /// (whatever [`Config::memory_reservation`] and [`Config::memory_guard_size`] say),
    /// divisions and float-to-int conversions are checked before they run, the stack limit
    /// is compared at every function entry, and every trap calls into the runtime, which
    /// unwinds without a signal. Code is slower; traps and their backtraces are the same.
    /// Async stacks keep their guard pages: host code overflowing one still crashes.
    pub fn signals_based_traps(&mut self, enable: bool) -> &mut Self {
        self.signals_based_traps = enable;
        self
    }

    /// Meter execution with fuel.
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.consume_fuel = enable;
        self
    }

    /// Check epoch deadlines at function entries and loop headers.
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Self {
        self.epoch_interruption = enable;
        self
    }

    /// Enables the async entry points (`call_async`, `instantiate_async`, async host
    /// functions). Stores of such an engine must be driven through them: the sync entry points
    /// return an error.
    pub fn async_support(&mut self, enable: bool) -> &mut Self {
        self.async_support = enable;
        self
    }

    /// Size of the stacks async calls run on (default 2 MiB). Host code on such a stack is
    /// guaranteed `async_stack_size - max_wasm_stack` bytes, and never less than 64 KiB:
    /// wasm on a fiber gets less than `max_wasm_stack` when the stack is too small for both.
    /// With `async_support`, [`Engine::new`](crate::Engine::new) refuses a size smaller than
    /// `max_wasm_stack`.
    pub fn async_stack_size(&mut self, size: usize) -> &mut Self {
        self.async_stack_size = size;
        self
    }

    /// Zero async stacks before each reuse.
    pub fn async_stack_zeroing(&mut self, enable: bool) -> &mut Self {
        self.async_stack_zeroing = enable;
        self
    }

    /// Allocates async stacks with `creator` instead of the built-in pool of mmap'd stacks.
    pub fn with_host_stack(&mut self, creator: Arc<dyn StackCreator>) -> &mut Self {
        self.stack_creator = Some(creator);
        self
    }

    /// Turns the proposals in `flag` on or off, as the `wasm_*` setters do. Proposals wasmjit
    /// does not implement (GC, stack switching, custom page sizes,
    /// the component model, ...) are left off whatever `enable` says, as their own setters
    /// leave them (modules using them fail validation);
    /// [`Engine::get_wasm_features`](crate::Engine::get_wasm_features) reports the result.
    pub fn wasm_features(&mut self, flag: WasmFeatures, enable: bool) -> &mut Self {
        self.features.set(flag & supported_features(), enable);
        self
    }

    feature_setters! {
        /// The GC proposal's types: recursion groups, subtypes, struct and array type
        /// definitions, and the internal hierarchy's heap types (`any`, `eq`, `i31`,
        /// `struct`, `array`, `none`) wherever a type may be written. Off by default, unlike
        /// Wasmtime 48, because the operators that allocate and inspect GC objects are not
        /// built yet: a module using one fails to compile. Needs typed function references
        /// (on by default).
        wasm_gc => GC,
        /// The multi-value proposal.
        wasm_multi_value => MULTI_VALUE,
        /// Bulk memory operations.
        wasm_bulk_memory => BULK_MEMORY,
        /// Reference types.
        wasm_reference_types => REFERENCE_TYPES,
        /// 128-bit SIMD.
        wasm_simd => SIMD,
        /// Relaxed SIMD.
        wasm_relaxed_simd => RELAXED_SIMD,
        /// Tail calls.
        wasm_tail_call => TAIL_CALL,
        /// Extended constant expressions.
        wasm_extended_const => EXTENDED_CONST,
        /// Several memories per module.
        wasm_multi_memory => MULTI_MEMORY,
        /// 64-bit memories.
        wasm_memory64 => MEMORY64,
        /// Typed function references: `(ref $t)`, `call_ref`, `br_on_null`, non-nullable
        /// locals and tables (on by default, unlike Wasmtime, which ties it to GC).
        wasm_function_references => FUNCTION_REFERENCES,
        /// Exception handling (Wasm 3.0): tags, `throw`, `throw_ref`, `try_table` and
        /// `exnref`. Off by default. An exception that no `try_table` catches reaches the
        /// host as an error ([`crate::ThrownException`]). Only engines with it on pay for
        /// it: compiled code then checks for a pending exception after every call.
        wasm_exceptions => EXCEPTIONS,
        /// The threads proposal: shared memories, atomic operators, `memory.atomic.wait`
        /// and `notify` (on by default, as in Wasmtime). Creating a shared memory also needs
        /// [`Config::shared_memory`]. Spawning threads is not part of it.
        wasm_threads => THREADS,
        /// The wide-arithmetic proposal: `i64.add128`, `i64.sub128`, `i64.mul_wide_s` and
        /// `i64.mul_wide_u`, compiled to the host's add-with-carry and widening multiply.
        /// Off by default, as in Wasmtime 48.
        wasm_wide_arithmetic => WIDE_ARITHMETIC,
    }

    /// Allows creating shared memories ([`crate::SharedMemory::new`], and instantiating a
    /// module that defines one). Off by default, as in Wasmtime 48. A shared memory is
    /// always a reservation of wasmjit's own, of its maximum size: a
    /// [`MemoryCreator`](crate::MemoryCreator) is not asked for one.
    pub fn shared_memory(&mut self, enable: bool) -> &mut Self {
        self.shared_memory = enable;
        self
    }

    /// Requires relaxed SIMD operators to produce the same results on every host (the
    /// specification's deterministic profile).
    ///
    /// The compiler currently lowers every relaxed operator to its deterministic form on
    /// all hosts (the result of the matching non-relaxed operator, fused multiply-add for
    /// `relaxed_madd`/`relaxed_nmadd`), so both settings give deterministic results; `false`
    /// only permits faster host-specific lowerings in the future.
    pub fn relaxed_simd_deterministic(&mut self, enable: bool) -> &mut Self {
        self.relaxed_simd_deterministic = enable;
        self
    }

    /// Make every NaN produced by a float operation the canonical NaN, so that results are the
    /// same on every host (relaxed SIMD is deterministic in wasmjit anyway).
    pub fn cranelift_nan_canonicalization(&mut self, enable: bool) -> &mut Self {
        self.nan_canonicalization = enable;
        self
    }

    /// Sets a Cranelift setting by name (`Engine::new` fails for an unknown name or value).
    ///
    /// # Safety
    /// As in Wasmtime: settings can change code generation in ways wasmjit relies on (frame
    /// pointers, for example), so only settings known to be harmless should be passed.
    pub unsafe fn cranelift_flag_set(&mut self, name: &str, value: &str) -> &mut Self {
        self.cranelift_flags
            .push((name.to_string(), value.to_string()));
        self.cranelift_user_flags
            .push((name.to_string(), Some(value.to_string())));
        self
    }

    /// Turns a boolean Cranelift setting on (see [`Config::cranelift_flag_set`]).
    ///
    /// # Safety
    /// As [`Config::cranelift_flag_set`].
    pub unsafe fn cranelift_flag_enable(&mut self, name: &str) -> &mut Self {
        self.cranelift_flags
            .push((name.to_string(), "true".to_string()));
        self.cranelift_user_flags.push((name.to_string(), None));
        self
    }

    /// Which profiler to tell about compiled code. Only [`ProfilingStrategy::PerfMap`] (and
    /// `None`) are supported; the others make [`Engine::new`](crate::Engine::new) fail.
    pub fn profiler(&mut self, strategy: ProfilingStrategy) -> &mut Self {
        self.profiler = strategy;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if matches!(
            self.profiler,
            ProfilingStrategy::JitDump | ProfilingStrategy::VTune
        ) {
            bail!(
                "the {:?} profiler is not supported by wasmjit",
                self.profiler
            );
        }
        if self.async_support && self.max_wasm_stack > self.async_stack_size {
            bail!("max_wasm_stack size cannot exceed the async_stack_size");
        }
        if self.max_wasm_stack == 0 {
            bail!("max_wasm_stack size cannot be zero");
        }
        Ok(())
    }
}

impl Config {
    /// What the compiler needs to know of the engine's configuration.
    pub(crate) fn compile_config(&self) -> c::CompileConfig {
        c::CompileConfig {
            opt_level: match self.opt_level {
                OptLevel::None => c::OptLevel::None,
                OptLevel::Speed => c::OptLevel::Speed,
                OptLevel::SpeedAndSize => c::OptLevel::SpeedAndSize,
            },
            parallel: self.parallel_compilation,
            features: self.features,
            memory_reservation: self.memory_reservation,
            memory_guard_size: self.memory_guard_size,
            consume_fuel: self.consume_fuel,
            epoch_interruption: self.epoch_interruption,
            isa: None,
            nan_canonicalization: self.nan_canonicalization,
            cranelift_flags: self.cranelift_flags.clone(),
            signals_based_traps: self.signals_based_traps,
        }
    }
}

/// The settings an engine was made with, reported back as Wasmtime 48's `Engine::get_*`
/// report them. Settings wasmjit accepts without acting on them report what wasmjit does
/// (no debug information, signals for traps, ...).
impl crate::Engine {
    fn settings(&self) -> &Config {
        &self.inner.config
    }

    /// The size [`Config::memory_guaranteed_dense_image_size`] recorded (wasmjit makes no
    /// memory images).
    pub fn get_memory_guaranteed_dense_image_size(&self) -> u64 {
        self.settings().memory_guaranteed_dense_image_size
    }

    /// How far compiled code inlines functions: wasmjit inlines no wasm function.
    pub fn get_compiler_inlining(&self) -> crate::Inlining {
        crate::Inlining::No
    }

    /// Whether linear memories may move when they grow: they may (32-bit memories within a
    /// 4 GiB reservation never do; others move when they outgrow their reservation).
    pub fn get_memory_may_move(&self) -> bool {
        true
    }

    /// [`Config::memory_reservation`].
    pub fn get_memory_reservation(&self) -> u64 {
        self.settings().memory_reservation
    }

    /// Extra address space reserved for growth: none beyond `memory_reservation`.
    pub fn get_memory_reservation_for_growth(&self) -> u64 {
        0
    }

    /// [`Config::memory_guard_size`].
    pub fn get_memory_guard_size(&self) -> u64 {
        self.settings().memory_guard_size
    }

    /// Whether memories have a guard region before them: never in wasmjit.
    pub fn get_guard_before_linear_memory(&self) -> bool {
        false
    }

    /// Whether funcref tables are initialized lazily: never in wasmjit.
    pub fn get_table_lazy_init(&self) -> bool {
        false
    }

    /// [`Config::memory_init_cow`].
    pub fn get_memory_init_cow(&self) -> bool {
        self.settings().memory_init_cow
    }

    /// [`Config::cranelift_opt_level`].
    pub fn get_cranelift_opt_level(&self) -> Option<OptLevel> {
        Some(self.settings().opt_level)
    }

    /// Cranelift's register allocator: always the backtracking one in wasmjit.
    pub fn get_cranelift_regalloc_algorithm(&self) -> Option<crate::RegallocAlgorithm> {
        Some(crate::RegallocAlgorithm::Backtracking)
    }

    /// The compiler: always Cranelift.
    pub fn get_strategy(&self) -> Option<crate::Strategy> {
        Some(crate::Strategy::Cranelift)
    }

    /// The garbage collector: `None`, as Wasmtime built without GC reports, since wasmjit
    /// has no collector.
    pub fn get_collector(&self) -> Option<crate::Collector> {
        None
    }

    /// Whether Cranelift's verifier runs ([`Config::cranelift_debug_verifier`], or the
    /// `enable_verifier` flag; off by default).
    pub fn get_cranelift_debug_verifier(&self) -> Option<bool> {
        Some(self.cranelift_bool_flag("enable_verifier").unwrap_or(false))
    }

    /// Whether native unwind tables are emitted: never in wasmjit.
    pub fn get_native_unwind_info(&self) -> Option<bool> {
        Some(false)
    }

    /// [`Config::parallel_compilation`].
    pub fn get_parallel_compilation(&self) -> bool {
        self.settings().parallel_compilation
    }

    /// Whether compiled code carries metadata for internal assertions: never in wasmjit.
    pub fn get_metadata_for_internal_asserts(&self) -> bool {
        false
    }

    /// The pooling allocator's limits, if that strategy was chosen (wasmjit records them
    /// and enforces none).
    pub fn get_pooling_config(&self) -> Option<&crate::PoolingAllocationConfig> {
        self.settings().pooling.as_ref()
    }

    /// The proposals this engine enables.
    pub fn get_wasm_features(&self) -> WasmFeatures {
        self.settings().features
    }

    /// [`Config::async_stack_size`].
    pub fn get_async_stack_size(&self) -> usize {
        self.settings().async_stack_size
    }

    /// [`Config::async_stack_zeroing`].
    pub fn get_async_stack_zeroing(&self) -> bool {
        self.settings().async_stack_zeroing
    }

    /// Whether branch hints shape code layout: never in wasmjit.
    pub fn get_wasm_branch_hinting(&self) -> bool {
        false
    }

    /// [`Config::epoch_interruption`].
    pub fn get_epoch_interruption(&self) -> bool {
        self.settings().epoch_interruption
    }

    /// [`Config::consume_fuel`].
    pub fn get_consume_fuel(&self) -> bool {
        self.settings().consume_fuel
    }

    /// [`Config::max_wasm_stack`].
    pub fn get_max_wasm_stack(&self) -> usize {
        self.settings().max_wasm_stack
    }

    /// [`Config::cranelift_nan_canonicalization`] (or the `enable_nan_canonicalization`
    /// flag).
    pub fn get_cranelift_nan_canonicalization(&self) -> Option<bool> {
        let flag = self.cranelift_bool_flag("enable_nan_canonicalization");
        Some(flag.unwrap_or(false) || self.settings().nan_canonicalization)
    }

    /// [`Config::relaxed_simd_deterministic`].
    pub fn get_relaxed_simd_deterministic(&self) -> bool {
        self.settings().relaxed_simd_deterministic
    }

    /// Whether the code-offset → wasm-offset map is kept: always in wasmjit.
    pub fn get_generate_address_map(&self) -> bool {
        true
    }

    /// Whether native debug information is emitted: never in wasmjit.
    pub fn get_debug_info(&self) -> bool {
        false
    }

    /// Whether guest debugging is instrumented: never in wasmjit.
    pub fn get_guest_debug(&self) -> bool {
        false
    }

    /// Whether symbols are kept for compiled code: never in wasmjit.
    pub fn get_debug_symbols(&self) -> bool {
        false
    }

    /// The most frames a backtrace records: 0, no limit (wasmjit records every frame).
    pub fn get_wasm_backtrace_max_frames(&self) -> usize {
        0
    }

    /// The target compiled for: the host, as a triple (`x86_64-unknown-linux-gnu`).
    pub fn get_target(&self) -> Option<String> {
        let env = std::env::consts::OS;
        let abi = if cfg!(target_env = "musl") {
            "-musl"
        } else if cfg!(target_env = "gnu") {
            "-gnu"
        } else {
            ""
        };
        Some(format!("{}-unknown-{env}{abi}", std::env::consts::ARCH))
    }

    /// The Cranelift flags turned on with [`Config::cranelift_flag_enable`], in order.
    pub fn get_cranelift_flags_enabled(&self) -> impl Iterator<Item = &str> {
        self.settings()
            .cranelift_user_flags
            .iter()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.as_str())
    }

    /// The Cranelift settings given with [`Config::cranelift_flag_set`], in order.
    pub fn get_cranelift_flags_set(&self) -> impl Iterator<Item = (&str, &str)> {
        self.settings()
            .cranelift_user_flags
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.as_deref()?)))
    }

    /// Whether code runs on the Pulley interpreter: never, wasmjit compiles to native code.
    pub fn is_pulley(&self) -> bool {
        false
    }

    /// Whether execution is being recorded for replay: never in wasmjit.
    pub fn is_recording(&self) -> bool {
        false
    }

    /// Whether execution is being replayed: never in wasmjit.
    pub fn is_replaying(&self) -> bool {
        false
    }

    /// The last value a boolean Cranelift flag was given, if any.
    fn cranelift_bool_flag(&self, name: &str) -> Option<bool> {
        self.settings()
            .cranelift_flags
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v == "true")
    }
}

/// Settings Wasmtime spells on `Config` that wasmjit honours in its own way.
impl Config {
    /// The version serialized modules carry;
    /// [`Module::deserialize`](crate::Module::deserialize) refuses one of another version,
    /// unless the strategy is `None`. A custom version longer than 255 bytes is refused, as in
    /// Wasmtime.
    pub fn module_version(&mut self, strategy: ModuleVersionStrategy) -> Result<&mut Self> {
        if let ModuleVersionStrategy::Custom(v) = &strategy {
            if v.len() > 255 {
                bail!("custom module version cannot be more than 255 bytes");
            }
        }
        self.module_version = strategy;
        Ok(self)
    }

    /// Runs Cranelift's IR verifier on every function (slower compilation).
    pub fn cranelift_debug_verifier(&mut self, enable: bool) -> &mut Self {
        let value = if enable { "true" } else { "false" };
        self.cranelift_flags
            .push(("enable_verifier".to_string(), value.to_string()));
        self
    }

    /// The target to compile for. wasmjit compiles for the host only: its architecture name
    /// (`x86_64`, `aarch64`) or a triple starting with it is accepted, anything else is an
    /// error.
    pub fn target(&mut self, target: &str) -> Result<&mut Self> {
        let arch = target.split('-').next().unwrap_or_default();
        if arch != std::env::consts::ARCH {
            bail!(
                "wasmjit compiles for the host ({}) only, not for `{target}`",
                std::env::consts::ARCH
            );
        }
        Ok(self)
    }

    /// How instances are allocated. wasmjit allocates every instance on demand; a pooling
    /// configuration is accepted and its limits are not enforced.
    pub fn allocation_strategy(
        &mut self,
        strategy: impl Into<InstanceAllocationStrategy>,
    ) -> &mut Self {
        self.pooling = match strategy.into() {
            InstanceAllocationStrategy::Pooling(config) => Some(config),
            InstanceAllocationStrategy::OnDemand => None,
        };
        self
    }
}
