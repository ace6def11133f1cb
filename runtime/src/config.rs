//! Engine-wide settings, named like Wasmtime's `Config`.

use crate::ProfilingStrategy;
use anyhow::{bail, Result};
use std::sync::Arc;
use wasmjit_compiler as c;
use wasmjit_fiber::StackCreator;

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
    pub(crate) async_support: bool,
    pub(crate) async_stack_size: usize,
    pub(crate) async_stack_zeroing: bool,
    pub(crate) stack_creator: Option<Arc<dyn StackCreator>>,
    pub(crate) signals_based_traps: bool,
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
            .finish_non_exhaustive()
    }
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
            | F::FUNCTION_REFERENCES;
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
            async_support: false,
            async_stack_size: 2 << 20,
            async_stack_zeroing: false,
            stack_creator: None,
            signals_based_traps: true,
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

    feature_setters! {
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
        /// host as an error ([`crate::UncaughtException`]). Only engines with it on pay for
        /// it: compiled code then checks for a pending exception after every call.
        wasm_exceptions => EXCEPTIONS,
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
        self
    }

    /// Turns a boolean Cranelift setting on (see [`Config::cranelift_flag_set`]).
    ///
    /// # Safety
    /// As [`Config::cranelift_flag_set`].
    pub unsafe fn cranelift_flag_enable(&mut self, name: &str) -> &mut Self {
        // SAFETY: forwarded from the caller.
        unsafe { self.cranelift_flag_set(name, "true") }
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
