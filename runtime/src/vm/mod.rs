//! The runtime's machinery below the public API: the structures compiled code touches,
//! memories, tables, instantiation, builtins, trap handling.

pub(crate) mod builtins;
pub(crate) mod call;
pub(crate) mod code_registry;
pub(crate) mod const_eval;
pub(crate) mod instance;
pub(crate) mod memory;
pub(crate) mod stack_scan;
pub(crate) mod table;
pub mod traphandlers;
pub(crate) mod type_registry;
pub(crate) mod vmcontext;

use crate::config::{Config, OptLevel};
use wasmjit_compiler as c;

/// What the compiler needs to know of the engine's configuration.
pub(crate) fn compile_config(config: &Config) -> c::CompileConfig {
    c::CompileConfig {
        opt_level: match config.opt_level {
            OptLevel::None => c::OptLevel::None,
            OptLevel::Speed => c::OptLevel::Speed,
            OptLevel::SpeedAndSize => c::OptLevel::SpeedAndSize,
        },
        parallel: config.parallel_compilation,
        features: config.features,
        memory_reservation: config.memory_reservation,
        memory_guard_size: config.memory_guard_size,
        consume_fuel: config.consume_fuel,
        epoch_interruption: config.epoch_interruption,
        isa: None,
        nan_canonicalization: config.nan_canonicalization,
        cranelift_flags: config.cranelift_flags.clone(),
        signals_based_traps: config.signals_based_traps,
    }
}
