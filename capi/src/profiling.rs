//! The guest profiler (`wasmtime/profiling.h`). wasmjit has no profiler, so the header keeps
//! its declarations behind `WASMTIME_FEATURE_PROFILING`, which `conf.h` leaves undefined. The
//! functions are still exported, as in Wasmtime 29's default build (bindings resolve every
//! name when they load): `wasmtime_guestprofiler_new` returns NULL, so no profiler exists,
//! and the others accept NULL and refuse anything else as misuse.

use crate::{wasm_byte_vec_t, wasm_name_t, wasmtime_module_t, wasmtime_store_t, CError};

/// A guest profiler; never created by wasmjit.
pub struct wasmtime_guestprofiler_t {
    _never: std::convert::Infallible,
}

/// A module to symbolize, with the name to record for it.
#[repr(C)]
pub struct wasmtime_guestprofiler_modules_t {
    pub name: *const wasm_name_t,
    pub module: *const wasmtime_module_t,
}

const NONE: &str = "guest profiling is not supported by wasmjit, so there is no profiler";

/// No profiler: NULL.
#[no_mangle]
pub extern "C" fn wasmtime_guestprofiler_new(
    _module_name: *const wasm_name_t,
    _interval_nanos: u64,
    _modules: *const wasmtime_guestprofiler_modules_t,
    _modules_len: usize,
) -> *mut wasmtime_guestprofiler_t {
    std::ptr::null_mut()
}

/// Frees a profiler (there are none; NULL is accepted).
#[no_mangle]
pub extern "C" fn wasmtime_guestprofiler_delete(profiler: *mut wasmtime_guestprofiler_t) {
    if !profiler.is_null() {
        crate::fatal("wasmtime_guestprofiler_delete", NONE);
    }
}

/// Samples nothing (NULL is accepted).
#[no_mangle]
pub extern "C" fn wasmtime_guestprofiler_sample(
    profiler: *mut wasmtime_guestprofiler_t,
    _store: *const wasmtime_store_t,
    _delta_nanos: u64,
) {
    if !profiler.is_null() {
        crate::fatal("wasmtime_guestprofiler_sample", NONE);
    }
}

/// Fails: there is no profile. `out` is left alone.
#[no_mangle]
pub extern "C" fn wasmtime_guestprofiler_finish(
    profiler: *mut wasmtime_guestprofiler_t,
    _out: *mut wasm_byte_vec_t,
) -> CError {
    if !profiler.is_null() {
        crate::fatal("wasmtime_guestprofiler_finish", NONE);
    }
    crate::error::guard(|| anyhow::bail!("guest profiling is not supported by wasmjit"))
}
