//! Shared memories. wasmjit has no threads proposal, so `wasmtime_sharedmemory_new` is not
//! declared (`WASMTIME_FEATURE_THREADS` is off) and no `wasmtime_sharedmemory_t` can exist.
//! It is still exported, as in Wasmtime 29's default build (bindings resolve every name when
//! they load), and fails with an error; the remaining functions can only be reached by
//! misuse, and say so.

use crate::{wasm_engine_t, wasm_memorytype_t, CError};

/// Fails: with Wasmtime's error for a type without the `shared` flag, otherwise because
/// wasmjit has no shared memories. `*ret` is left alone.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_new(
    _engine: Option<&wasm_engine_t>,
    ty: Option<&wasm_memorytype_t>,
    _ret: *mut *mut wasmtime_sharedmemory_t,
) -> CError {
    crate::error::guard(|| match ty {
        Some(ty) if !ty.memory().ty.is_shared() => {
            anyhow::bail!("shared memory must have the `shared` flag enabled on its memory type")
        }
        _ => anyhow::bail!("shared memories are not supported by wasmjit"),
    })
}

/// A shared memory; never created by wasmjit.
pub struct wasmtime_sharedmemory_t {
    _never: std::convert::Infallible,
}

const NONE: &str = "shared memories are not supported by wasmjit, so there is none to use";

/// Frees a shared memory (there are none).
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_delete(memory: *mut wasmtime_sharedmemory_t) {
    if !memory.is_null() {
        crate::fatal("wasmtime_sharedmemory_delete", NONE);
    }
}

/// Cannot be called with a shared memory: there are none.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_clone(
    _memory: *const wasmtime_sharedmemory_t,
) -> *mut wasmtime_sharedmemory_t {
    crate::fatal("wasmtime_sharedmemory_clone", NONE)
}

/// Cannot be called with a shared memory: there are none.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_type(
    _memory: *const wasmtime_sharedmemory_t,
) -> *mut wasm_memorytype_t {
    crate::fatal("wasmtime_sharedmemory_type", NONE)
}

/// Cannot be called with a shared memory: there are none.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_data(_memory: *const wasmtime_sharedmemory_t) -> *mut u8 {
    crate::fatal("wasmtime_sharedmemory_data", NONE)
}

/// Cannot be called with a shared memory: there are none.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_data_size(
    _memory: *const wasmtime_sharedmemory_t,
) -> usize {
    crate::fatal("wasmtime_sharedmemory_data_size", NONE)
}

/// Cannot be called with a shared memory: there are none.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_size(_memory: *const wasmtime_sharedmemory_t) -> u64 {
    crate::fatal("wasmtime_sharedmemory_size", NONE)
}

/// Fails: shared memories are not supported.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_grow(
    _memory: *const wasmtime_sharedmemory_t,
    _delta: u64,
    _prev_size: *mut u64,
) -> CError {
    crate::error::guard(|| anyhow::bail!("shared memories are not supported by wasmjit"))
}
