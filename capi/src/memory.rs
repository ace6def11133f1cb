//! Linear memories: `wasm_memory_t` of `wasm.h` and `wasmtime_memory_*`.

use crate::extern_::declare_extern_kind;
use crate::{
    memorytype_box, wasm_extern_t, wasm_memorytype_t, wasm_store_t, wasmtime_context_t,
    wasmtime_memory_t, CError, WASM_EXTERN_MEMORY,
};
use anyhow::bail;
use std::ptr;
use wasmjit::{Extern, Memory};

/// Bytes in a wasm page.
const PAGE_SIZE: u64 = 0x10000;

declare_extern_kind!(
    wasm_memory_t,
    WASM_EXTERN_MEMORY,
    wasm_memory_delete,
    wasm_memory_as_extern,
    wasm_memory_as_extern_const,
    wasm_extern_as_memory,
    wasm_extern_as_memory_const,
    wasm_memory_copy,
    wasm_memory_same,
    wasm_memory_get_host_info,
    wasm_memory_set_host_info,
    wasm_memory_set_host_info_with_finalizer,
    wasm_memory_as_ref,
    wasm_memory_as_ref_const,
    wasm_ref_as_memory,
    wasm_ref_as_memory_const
);

impl wasm_extern_t {
    pub(crate) fn memory(&self) -> Memory {
        match self.which {
            Extern::Memory(m) => m,
            _ => crate::fatal("wasm_memory_t", "the extern is not a memory"),
        }
    }
}

/// A new memory of type `ty`; NULL on failure.
#[no_mangle]
pub extern "C" fn wasm_memory_new(
    store: &wasm_store_t,
    ty: &wasm_memorytype_t,
) -> Option<Box<wasm_memory_t>> {
    let ty = ty.memory().ty.clone();
    let m = crate::catch_panic(|| store.store.with(|ctx| Memory::new(&mut ctx.store, ty))).ok()?;
    wasm_extern_t::boxed(store.store.clone(), Extern::Memory(m))
}

/// The memory's type (its minimum is the current size).
#[no_mangle]
pub extern "C" fn wasm_memory_type(m: &wasm_memory_t) -> Box<wasm_memorytype_t> {
    crate::abort_on_panic("wasm_memory_type", || {
        memorytype_box(&m.store.with(|ctx| m.memory().ty(&ctx.store)))
    })
}

/// The base address of the memory's bytes (valid until it grows).
#[no_mangle]
pub extern "C" fn wasm_memory_data(m: &mut wasm_memory_t) -> *mut u8 {
    crate::abort_on_panic("wasm_memory_data", || {
        m.store.with(|ctx| m.memory().data_ptr(&ctx.store))
    })
}

/// The memory's size in bytes.
#[no_mangle]
pub extern "C" fn wasm_memory_data_size(m: &wasm_memory_t) -> usize {
    crate::abort_on_panic("wasm_memory_data_size", || {
        m.store.with(|ctx| m.memory().data_size(&ctx.store))
    })
}

/// The memory's size in pages.
#[no_mangle]
pub extern "C" fn wasm_memory_size(m: &wasm_memory_t) -> u32 {
    crate::abort_on_panic("wasm_memory_size", || {
        let pages = m.store.with(|ctx| m.memory().size(&ctx.store));
        u32::try_from(pages).unwrap_or(u32::MAX)
    })
}

/// Grows by `delta` pages; false on failure.
#[no_mangle]
pub extern "C" fn wasm_memory_grow(m: &mut wasm_memory_t, delta: u32) -> bool {
    crate::catch_panic(|| {
        m.store
            .with(|ctx| m.memory().grow(&mut ctx.store, delta.into()))
    })
    .is_ok()
}

/// A new memory of type `ty`.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_memory_new(
    context: &mut wasmtime_context_t,
    ty: &wasm_memorytype_t,
    ret: *mut wasmtime_memory_t,
) -> CError {
    crate::error::guard(|| {
        let ty = ty.memory().ty.clone();
        let data = context.data();
        if let Some(max) = data.limits.memories {
            if data.host_memories >= max {
                bail!(
                    "resource limit exceeded: memory count too high at {}",
                    data.host_memories + 1
                );
            }
        }
        if let Some(max) = data.limits.memory_size {
            if ty.minimum().saturating_mul(PAGE_SIZE) > max {
                bail!("resource limit exceeded: memory of {} pages exceeds the store's limit of {max} bytes", ty.minimum());
            }
        }
        let m = Memory::new(&mut context.store, ty)?;
        let data = context.data_mut();
        data.host_memories += 1;
        let c = data.memory_to_c(m);
        // SAFETY: `ret` is an output pointer of the caller.
        unsafe { ptr::write(ret, c) };
        Ok(())
    })
}

fn memory_of(context: &wasmtime_context_t, memory: &wasmtime_memory_t, name: &str) -> Memory {
    context
        .data()
        .memory_from_c(memory)
        .unwrap_or_else(|e| crate::fatal(name, &e.to_string()))
}

/// The memory's type (its minimum is the current size).
#[no_mangle]
pub extern "C" fn wasmtime_memory_type(
    context: &wasmtime_context_t,
    memory: &wasmtime_memory_t,
) -> Box<wasm_memorytype_t> {
    crate::abort_on_panic("wasmtime_memory_type", || {
        memorytype_box(&memory_of(context, memory, "wasmtime_memory_type").ty(&context.store))
    })
}

/// The base address of the memory's bytes (valid until it grows).
#[no_mangle]
pub extern "C" fn wasmtime_memory_data(
    context: &wasmtime_context_t,
    memory: &wasmtime_memory_t,
) -> *mut u8 {
    crate::abort_on_panic("wasmtime_memory_data", || {
        memory_of(context, memory, "wasmtime_memory_data").data_ptr(&context.store)
    })
}

/// The memory's size in bytes.
#[no_mangle]
pub extern "C" fn wasmtime_memory_data_size(
    context: &wasmtime_context_t,
    memory: &wasmtime_memory_t,
) -> usize {
    crate::abort_on_panic("wasmtime_memory_data_size", || {
        memory_of(context, memory, "wasmtime_memory_data_size").data_size(&context.store)
    })
}

/// The memory's size in pages.
#[no_mangle]
pub extern "C" fn wasmtime_memory_size(
    context: &wasmtime_context_t,
    memory: &wasmtime_memory_t,
) -> u64 {
    crate::abort_on_panic("wasmtime_memory_size", || {
        memory_of(context, memory, "wasmtime_memory_size").size(&context.store)
    })
}

/// Grows by `delta` pages, writing the old size in pages to `prev_size`.
#[no_mangle]
pub extern "C" fn wasmtime_memory_grow(
    context: &mut wasmtime_context_t,
    memory: &wasmtime_memory_t,
    delta: u64,
    prev_size: &mut u64,
) -> CError {
    crate::error::guard(|| {
        let m = context.data().memory_from_c(memory)?;
        if let Some(max) = context.data().limits.memory_size {
            let pages = m.size(&context.store).saturating_add(delta);
            if pages.saturating_mul(PAGE_SIZE) > max {
                bail!("resource limit exceeded: growing to {pages} pages exceeds the store's limit of {max} bytes");
            }
        }
        *prev_size = m.grow(&mut context.store, delta)?;
        Ok(())
    })
}
