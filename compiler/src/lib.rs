//! wasmjit-compiler: WebAssembly to native code through Cranelift.
//!
//! Without its `cranelift` feature (on by default) only parsing and validation remain
//! (`parse`, `validate`, `CompileConfig`): what a runtime that loads precompiled code needs,
//! with no Cranelift code generator linked in.
//!
//! Knows nothing of stores or instances. Input: wasm bytes and a [`CompileConfig`].
//! Output: [`ModuleInfo`] (metadata) and [`CompiledCode`] (finalized machine code with trap
//! sites and wasm-offset maps), plus per-signature [`Trampolines`].
//!
//! The contract with the runtime (builtins, structure layouts, calling conventions, module
//! metadata) is `wasmjit-environ`'s, re-exported here under the same module names.
//!
//! Typical use: [`parse`] the bytes, ask the engine for the type ids of
//! [`ModuleInfo::types`], then [`compile`] the bodies.

#[cfg(feature = "cranelift")]
mod compile;
#[cfg(feature = "cranelift")]
mod isa;
#[cfg(feature = "cranelift")]
mod jit;
mod parse;
#[cfg(feature = "cranelift")]
mod stubs;
#[cfg(feature = "cranelift")]
mod trampoline;
#[cfg(feature = "cranelift")]
mod translate;
#[cfg(feature = "cranelift")]
pub mod trap_codes;

#[cfg(feature = "cranelift")]
pub use compile::{
    compile, compile_for_isa, compile_for_isa_with, compile_functions, CompiledCode,
    CompiledFunction,
};
#[cfg(feature = "cranelift")]
pub use isa::target_settings;
pub use module_info::*;
pub use parse::{parse, validate, FunctionBodyData};
#[cfg(feature = "cranelift")]
pub use trampoline::{compile_trampolines, compile_trampolines_unlinked, Trampolines};
pub use wasmjit_environ::{builtins, code, module_info, trap, vmoffsets};
pub use wasmparser::WasmFeatures;

/// Cranelift compilations in the process (functions, stubs, trampolines), so tests can check
/// that loading a precompiled module compiles nothing.
static COMPILATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many functions Cranelift compiled in this process so far (0 in a build without
/// Cranelift).
pub fn compilations() -> u64 {
    COMPILATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

/// The target settings generated code depends on, as a serialized module records them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TargetSettings {
    /// The target triple.
    pub triple: String,
    /// Cranelift's shared settings (optimization level, Spectre mitigations, NaN
    /// canonicalization, ...), as (name, value).
    pub shared: Vec<(String, String)>,
    /// The ISA's settings, chiefly the CPU features code may use, as (name, value).
    pub isa: Vec<(String, String)>,
}

/// How hard Cranelift optimizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptLevel {
    /// No optimizations: fastest compilation.
    None,
    /// Optimize for speed.
    #[default]
    Speed,
    /// Optimize for speed and code size.
    SpeedAndSize,
}

/// Everything that changes how a module is validated or compiled.
///
/// The runtime must allocate linear memories according to `memory_reservation` and
/// `memory_guard_size`: compiled code omits bounds checks that the guard region covers.
#[derive(Debug, Clone)]
pub struct CompileConfig {
    /// Cranelift optimization level.
    pub opt_level: OptLevel,
    /// Compile functions in parallel (rayon).
    pub parallel: bool,
    /// Wasm proposals the validator accepts. Operators the translator does not support yet
    /// (SIMD, GC, threads, exceptions...) make compilation fail with "unsupported operator".
    pub features: WasmFeatures,
    /// Bytes of address space reserved for each linear memory. With at least 4 GiB, 32-bit
    /// memories never move and their accesses need no explicit bounds check.
    pub memory_reservation: u64,
    /// Bytes of inaccessible guard region after each memory's reservation.
    pub memory_guard_size: u64,
    /// Meter execution with fuel: every operator but `nop`, `drop`, `block`, `loop`,
    /// `unreachable`, `return`, `else` and `end` costs 1, counted in
    /// `VMRuntimeLimits::fuel_consumed`; the `OutOfFuel` builtin runs when the counter is
    /// `>= 0` at a function entry or loop header.
    pub consume_fuel: bool,
    /// Check the epoch deadline at loop headers and before calls; the `NewEpoch` builtin
    /// runs once the engine's epoch reached it.
    pub epoch_interruption: bool,
    /// Target triple to compile for (`None`: the host). Code for another ISA can be compiled
    /// with [`compile_for_isa`] but never linked.
    pub isa: Option<String>,
    /// Replace every NaN a float operation produces with the canonical NaN (deterministic
    /// results across hosts, at some cost).
    pub nan_canonicalization: bool,
    /// Cranelift settings (name, value) applied after wasmjit's own, as the embedder asked.
    pub cranelift_flags: Vec<(String, String)>,
    /// Whether compiled code may trap through a signal (a faulting access, Cranelift's trap
    /// instruction, a faulting division). When `false` the code never does: every memory
    /// access is bounds-checked whatever the reservation, divisions and float-to-int
    /// conversions are checked first, the stack limit is compared explicitly, and every
    /// trap is a call to the `RaiseTrap` builtin, which never returns.
    pub signals_based_traps: bool,
}

impl Default for CompileConfig {
    fn default() -> Self {
        Self {
            opt_level: OptLevel::Speed,
            parallel: true,
            features: WasmFeatures::WASM2 | WasmFeatures::TAIL_CALL,
            memory_reservation: 4 << 30,
            memory_guard_size: 2 << 30,
            consume_fuel: false,
            epoch_interruption: false,
            isa: None,
            nan_canonicalization: false,
            cranelift_flags: Vec::new(),
            signals_based_traps: true,
        }
    }
}

/// Fails when `config` can't build a target ISA (an unknown Cranelift setting, for example),
/// so that engines report it when they are created rather than at the first compilation.
#[cfg(feature = "cranelift")]
pub fn check_config(config: &CompileConfig) -> anyhow::Result<()> {
    isa::build_isa(config, config.isa.as_deref()).map(drop)
}

/// Trap codes as recorded in compiled code's trap tables.
#[cfg(feature = "cranelift")]
pub use cranelift_codegen::ir::TrapCode;
