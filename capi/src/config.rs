//! `wasm_config_t` and the `wasmtime_config_*_set` functions.
//!
//! Settings the runtime supports go straight into its [`Config`]. Settings that only tune
//! things the runtime does not have (debug info, unwind tables, copy-on-write images...) are
//! accepted and have no effect. Settings asking for something the runtime cannot do (GC
//! proposals, other targets, custom memories...) are remembered, and creating an engine from
//! the configuration then fails with a message naming them.

use crate::{wasmtime_error_t, CError, Finalizer, ForeignData};
use std::ffi::{c_char, c_void, CStr};
use std::os::unix::ffi::OsStrExt;
use wasmjit::{Config, OptLevel, ProfilingStrategy};

/// An engine configuration; consumed by `wasm_engine_new_with_config`.
pub struct wasm_config_t {
    pub(crate) config: Config,
    /// Requests the runtime cannot honour, reported when an engine is made.
    pub(crate) unsupported: Vec<String>,
    /// A custom memory creator; unsupported, kept so its finalizer runs.
    pub(crate) memory_creator: Option<ForeignData>,
}

impl wasm_config_t {
    fn require(&mut self, what: &str, enable: bool) {
        let msg = format!("{what} is not supported by wasmjit");
        self.unsupported.retain(|m| *m != msg);
        if enable {
            self.unsupported.push(msg);
        }
    }
}

/// The C API's default configuration: the Rust defaults, with shared memories allowed, since
/// Wasmtime 29 (whose C API this is) had no switch for them.
pub(crate) fn c_api_config() -> Config {
    let mut config = Config::new();
    config.shared_memory(true);
    config
}

/// A configuration with every default.
#[no_mangle]
pub extern "C" fn wasm_config_new() -> Box<wasm_config_t> {
    Box::new(wasm_config_t {
        config: c_api_config(),
        unsupported: Vec::new(),
        memory_creator: None,
    })
}

/// Frees a configuration that was not given to an engine.
#[no_mangle]
pub extern "C" fn wasm_config_delete(_config: Option<Box<wasm_config_t>>) {}

macro_rules! config_setters {
    ($($(#[$doc:meta])* $name:ident($ty:ty) => |$c:ident, $v:ident| $body:block)*) => {
        $(
            $(#[$doc])*
            #[no_mangle]
            pub extern "C" fn $name($c: &mut wasm_config_t, $v: $ty) $body
        )*
    };
}

config_setters! {
    /// Accepted; wasmjit emits no DWARF for guest code.
    wasmtime_config_debug_info_set(bool) => |_c, _v| {}
    /// Meter execution with fuel.
    wasmtime_config_consume_fuel_set(bool) => |c, v| {
        c.config.consume_fuel(v);
    }
    /// Check epoch deadlines in guest code.
    wasmtime_config_epoch_interruption_set(bool) => |c, v| {
        c.config.epoch_interruption(v);
    }
    /// Native stack wasm may use per call from the host.
    wasmtime_config_max_wasm_stack_set(usize) => |c, v| {
        c.config.max_wasm_stack(v);
    }
    /// The tail-call proposal.
    wasmtime_config_wasm_tail_call_set(bool) => |c, v| {
        c.config.wasm_tail_call(v);
    }
    /// The reference-types proposal.
    wasmtime_config_wasm_reference_types_set(bool) => |c, v| {
        c.config.wasm_reference_types(v);
    }
    /// Typed function references.
    wasmtime_config_wasm_function_references_set(bool) => |c, v| {
        c.config.wasm_function_references(v);
    }
    /// The threads proposal (shared memories, atomics, wait/notify).
    wasmtime_config_wasm_threads_set(bool) => |c, v| {
        c.config.wasm_threads(v);
    }
    /// Exception handling (tags, `throw`, `try_table`, exnref).
    wasmtime_config_wasm_exceptions_set(bool) => |c, v| {
        c.config.wasm_exceptions(v);
    }
    /// The GC proposal's types and heap-free references (`Config::wasm_gc`).
    wasmtime_config_wasm_gc_set(bool) => |c, v| {
        c.config.wasm_gc(v);
    }
    /// 128-bit SIMD.
    wasmtime_config_wasm_simd_set(bool) => |c, v| {
        c.config.wasm_simd(v);
    }
    /// Relaxed SIMD.
    wasmtime_config_wasm_relaxed_simd_set(bool) => |c, v| {
        c.config.wasm_relaxed_simd(v);
    }
    /// Relaxed SIMD with the same results on every host (wasmjit's relaxed SIMD always is).
    wasmtime_config_wasm_relaxed_simd_deterministic_set(bool) => |c, v| {
        c.config.relaxed_simd_deterministic(v);
    }
    /// Bulk memory operations.
    wasmtime_config_wasm_bulk_memory_set(bool) => |c, v| {
        c.config.wasm_bulk_memory(v);
    }
    /// Multiple results and block parameters.
    wasmtime_config_wasm_multi_value_set(bool) => |c, v| {
        c.config.wasm_multi_value(v);
    }
    /// Several memories per module.
    wasmtime_config_wasm_multi_memory_set(bool) => |c, v| {
        c.config.wasm_multi_memory(v);
    }
    /// 64-bit memories.
    wasmtime_config_wasm_memory64_set(bool) => |c, v| {
        c.config.wasm_memory64(v);
    }
    /// Wide arithmetic: 128-bit add/sub and widening multiply of `i64`s.
    wasmtime_config_wasm_wide_arithmetic_set(bool) => |c, v| {
        c.config.wasm_wide_arithmetic(v);
    }
    /// The compiler: `WASMTIME_STRATEGY_AUTO` or `WASMTIME_STRATEGY_CRANELIFT`.
    wasmtime_config_strategy_set(u8) => |c, v| {
        c.require("a compilation strategy other than Cranelift", v > 1);
    }
    /// Compile a module's functions on several threads.
    wasmtime_config_parallel_compilation_set(bool) => |c, v| {
        c.config.parallel_compilation(v);
    }
    /// Accepted; wasmjit runs no extra IR verifier.
    wasmtime_config_cranelift_debug_verifier_set(bool) => |_c, _v| {}
    /// NaN canonicalization: not supported (enabling it makes engine creation fail).
    wasmtime_config_cranelift_nan_canonicalization_set(bool) => |c, v| {
        c.config.cranelift_nan_canonicalization(v);
    }
    /// Cranelift's optimization level.
    wasmtime_config_cranelift_opt_level_set(u8) => |c, v| {
        let level = match v {
            0 => OptLevel::None,
            1 => OptLevel::Speed,
            2 => OptLevel::SpeedAndSize,
            _ => {
                c.require(&format!("optimization level {v}"), true);
                return;
            }
        };
        c.config.cranelift_opt_level(level);
    }
    /// Profiling: `WASMTIME_PROFILING_STRATEGY_NONE` or `_PERFMAP` (others make engine
    /// creation fail).
    wasmtime_config_profiler_set(u8) => |c, v| {
        match v {
            0 => c.config.profiler(ProfilingStrategy::None),
            3 => c.config.profiler(ProfilingStrategy::PerfMap),
            _ => {
                c.require(&format!("profiling strategy {v}"), true);
                return;
            }
        };
    }
    /// Accepted; memories with the default reservation never move, smaller ones may.
    wasmtime_config_memory_may_move_set(bool) => |_c, _v| {}
    /// Address space reserved for each linear memory.
    wasmtime_config_memory_reservation_set(u64) => |c, v| {
        c.config.memory_reservation(v);
    }
    /// Guard region after each linear memory.
    wasmtime_config_memory_guard_size_set(u64) => |c, v| {
        c.config.memory_guard_size(v);
    }
    /// Accepted; memories that move are reallocated at their new size.
    wasmtime_config_memory_reservation_for_growth_set(u64) => |_c, _v| {}
    /// Accepted; wasmjit registers no unwind tables for guest code.
    wasmtime_config_native_unwind_info_set(bool) => |_c, _v| {}
    /// Accepted; there are no Mach ports on this platform.
    wasmtime_config_macos_use_mach_ports_set(bool) => |_c, _v| {}
    /// Copy-on-write images of memories' data segments.
    wasmtime_config_memory_init_cow_set(bool) => |c, v| {
        c.config.memory_init_cow(v);
    }
}

/// Compiling for another target is not supported; the host's own triple is accepted.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_config_target_set(
    _c: &mut wasm_config_t,
    target: *const c_char,
) -> CError {
    crate::error::guard(|| {
        // SAFETY: C passes a NUL-terminated string.
        let target = unsafe { CStr::from_ptr(target) }.to_str()?;
        let arch = target.split('-').next().unwrap_or("");
        if arch == std::env::consts::ARCH && target.contains(std::env::consts::OS) {
            Ok(())
        } else {
            anyhow::bail!("compiling for target `{target}` is not supported: wasmjit only compiles for the host")
        }
    })
}

/// Turns a boolean Cranelift setting on; an unknown name makes engine creation fail.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_config_cranelift_flag_enable(
    c: &mut wasm_config_t,
    flag: *const c_char,
) {
    // SAFETY: C passes a NUL-terminated string.
    let flag = unsafe { CStr::from_ptr(flag) }.to_string_lossy();
    // SAFETY: as in Wasmtime, the embedder vouches for the setting.
    unsafe { c.config.cranelift_flag_enable(&flag) };
}

/// Sets a Cranelift setting; an unknown name or value makes engine creation fail.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_config_cranelift_flag_set(
    c: &mut wasm_config_t,
    key: *const c_char,
    value: *const c_char,
) {
    // SAFETY: C passes NUL-terminated strings.
    let (key, value) = unsafe {
        (
            CStr::from_ptr(key).to_string_lossy(),
            CStr::from_ptr(value).to_string_lossy(),
        )
    };
    // SAFETY: as in Wasmtime, the embedder vouches for the setting.
    unsafe { c.config.cranelift_flag_set(&key, &value) };
}

/// The C layout of `wasmtime_memory_creator_t`.
#[repr(C)]
pub struct wasmtime_memory_creator_t {
    pub env: *mut c_void,
    pub new_memory: Option<unsafe extern "C" fn()>,
    pub finalizer: Finalizer,
}

/// Custom linear memories are not supported: setting a creator makes engine creation fail.
/// Its finalizer runs when the configuration is freed.
#[no_mangle]
pub extern "C" fn wasmtime_config_host_memory_creator_set(
    c: &mut wasm_config_t,
    creator: &wasmtime_memory_creator_t,
) {
    c.memory_creator = Some(ForeignData::new(creator.env, creator.finalizer));
    c.require("a host memory creator", true);
}

/// The error for a configuration the runtime cannot honour, if any.
pub(crate) fn check_supported(c: &wasm_config_t) -> Result<(), wasmtime_error_t> {
    if c.unsupported.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!("invalid configuration: {}", c.unsupported.join("; ")).into())
    }
}

/// Loads a compilation cache configuration: `NULL` for the defaults, or a file that must be
/// readable. wasmjit caches nothing, so the settings are not used.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_config_cache_config_load(
    _c: &mut wasm_config_t,
    path: *const c_char,
) -> CError {
    crate::error::guard(|| {
        if path.is_null() {
            return Ok(());
        }
        // SAFETY: C passes a NUL-terminated string.
        let path = unsafe { CStr::from_ptr(path) };
        let path = std::path::Path::new(std::ffi::OsStr::from_bytes(path.to_bytes()));
        std::fs::read(path).map_err(|e| {
            anyhow::anyhow!("failed to read cache config file {}: {e}", path.display())
        })?;
        Ok(())
    })
}
