//! Shared memories (`WASMTIME_FEATURE_THREADS`): a `wasmtime_sharedmemory_t` is a boxed
//! handle to a [`SharedMemory`], owned by C until `wasmtime_sharedmemory_delete`. Any number
//! of handles, stores and threads may use the same memory.

use crate::{memorytype_box, wasm_engine_t, wasm_memorytype_t, CError};
use wasmjit::SharedMemory;

/// A handle to a shared memory.
pub struct wasmtime_sharedmemory_t {
    pub(crate) memory: SharedMemory,
}

impl wasmtime_sharedmemory_t {
    /// A new C-owned handle to `memory`.
    pub(crate) fn boxed(memory: SharedMemory) -> *mut wasmtime_sharedmemory_t {
        Box::into_raw(Box::new(wasmtime_sharedmemory_t { memory }))
    }
}

/// Creates a shared memory of type `ty` into `*ret`; an error (and `*ret` untouched) for a
/// type without the `shared` flag.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_new(
    engine: Option<&wasm_engine_t>,
    ty: Option<&wasm_memorytype_t>,
    ret: Option<&mut *mut wasmtime_sharedmemory_t>,
) -> CError {
    crate::error::guard(|| {
        let (Some(engine), Some(ty), Some(ret)) = (engine, ty, ret) else {
            anyhow::bail!("wasmtime_sharedmemory_new: NULL engine, type or result pointer");
        };
        let memory = SharedMemory::new(&engine.engine, ty.memory().ty.clone())?;
        *ret = wasmtime_sharedmemory_t::boxed(memory);
        Ok(())
    })
}

/// Frees a handle (the memory lives on while other handles or instances use it).
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_delete(memory: Option<Box<wasmtime_sharedmemory_t>>) {
    crate::abort_on_panic("wasmtime_sharedmemory_delete", || drop(memory));
}

/// Another handle to the same memory.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_clone(
    memory: &wasmtime_sharedmemory_t,
) -> Box<wasmtime_sharedmemory_t> {
    crate::abort_on_panic("wasmtime_sharedmemory_clone", || {
        Box::new(wasmtime_sharedmemory_t {
            memory: memory.memory.clone(),
        })
    })
}

/// The type it was created with.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_type(
    memory: &wasmtime_sharedmemory_t,
) -> Box<wasm_memorytype_t> {
    crate::abort_on_panic("wasmtime_sharedmemory_type", || {
        memorytype_box(&memory.memory.ty())
    })
}

/// The first byte; it never moves, even when the memory grows.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_data(memory: &wasmtime_sharedmemory_t) -> *mut u8 {
    crate::abort_on_panic("wasmtime_sharedmemory_data", || {
        memory.memory.data().as_ptr() as *mut u8
    })
}

/// The current size in bytes.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_data_size(memory: &wasmtime_sharedmemory_t) -> usize {
    crate::abort_on_panic("wasmtime_sharedmemory_data_size", || {
        memory.memory.data_size()
    })
}

/// The current size in pages.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_size(memory: &wasmtime_sharedmemory_t) -> u64 {
    crate::abort_on_panic("wasmtime_sharedmemory_size", || memory.memory.size())
}

/// Grows by `delta` pages, writing the old size in pages to `*prev_size`.
#[no_mangle]
pub extern "C" fn wasmtime_sharedmemory_grow(
    memory: &wasmtime_sharedmemory_t,
    delta: u64,
    prev_size: Option<&mut u64>,
) -> CError {
    crate::error::guard(|| {
        let old = memory.memory.grow(delta)?;
        if let Some(prev_size) = prev_size {
            *prev_size = old;
        }
        Ok(())
    })
}
