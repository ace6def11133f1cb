//! Engine-wide settings, named like Wasmtime's `Config`.

use anyhow::{bail, Result};

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
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) opt_level: OptLevel,
    pub(crate) parallel_compilation: bool,
    pub(crate) max_wasm_stack: usize,
    pub(crate) memory_reservation: u64,
    pub(crate) memory_guard_size: u64,
    pub(crate) consume_fuel: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) features: wasmparser::WasmFeatures,
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
    /// The defaults: every Wasm 2.0 feature on, optimized for speed, 512 KiB of wasm stack,
    /// 4 GiB memory reservations with 2 GiB guards (no explicit bounds checks).
    pub fn new() -> Self {
        use wasmparser::WasmFeatures as F;
        // Wasm 2.0 (SIMD included) plus the proposals it builds on internally (GC types
        // carry funcref/externref in wasmparser).
        let features = F::WASM2;
        Self {
            opt_level: OptLevel::Speed,
            parallel_compilation: true,
            max_wasm_stack: 512 * 1024,
            memory_reservation: 1 << 32,
            memory_guard_size: 2 << 30,
            consume_fuel: false,
            epoch_interruption: false,
            features,
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
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.max_wasm_stack == 0 {
            bail!("max_wasm_stack must be greater than zero");
        }
        Ok(())
    }
}
