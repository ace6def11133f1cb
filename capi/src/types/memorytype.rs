//! `wasm_memorytype_t` and Wasmtime's 64-bit-aware accessors.

use crate::{wasm_externtype_t, wasm_limits_t, CExternType};
use wasmjit::MemoryType;

#[derive(Clone)]
pub(crate) struct CMemoryType {
    pub(crate) limits: wasm_limits_t,
    pub(crate) ty: MemoryType,
}

impl CMemoryType {
    pub(crate) fn new(ty: &MemoryType) -> Self {
        Self {
            limits: wasm_limits_t::new(ty.minimum(), ty.maximum()),
            ty: ty.clone(),
        }
    }
}

/// A memory type is an extern type of kind memory.
pub type wasm_memorytype_t = wasm_externtype_t;

impl wasm_externtype_t {
    pub(crate) fn memory(&self) -> &CMemoryType {
        match &self.which {
            CExternType::Memory(m) => m,
            _ => crate::fatal("wasm_memorytype_t", "not a memory type"),
        }
    }
}

pub(crate) fn memorytype_box(ty: &MemoryType) -> Box<wasm_memorytype_t> {
    Box::new(wasm_externtype_t::new(CExternType::Memory(
        CMemoryType::new(ty),
    )))
}

/// A 32-bit memory type with limits in pages.
#[no_mangle]
pub extern "C" fn wasm_memorytype_new(limits: &wasm_limits_t) -> Box<wasm_memorytype_t> {
    memorytype_box(&MemoryType::new(limits.min, limits.max()))
}

/// The limits in pages (owned by the memory type).
#[no_mangle]
pub extern "C" fn wasm_memorytype_limits(ty: &wasm_memorytype_t) -> &wasm_limits_t {
    &ty.memory().limits
}

/// A copy of a memory type.
#[no_mangle]
pub extern "C" fn wasm_memorytype_copy(ty: &wasm_memorytype_t) -> Box<wasm_memorytype_t> {
    Box::new(ty.clone())
}

/// Frees a memory type.
#[no_mangle]
pub extern "C" fn wasm_memorytype_delete(_ty: Option<Box<wasm_memorytype_t>>) {}

/// A memory type with 64-bit limits, shared or not. NULL when the limits are invalid (a
/// maximum below the minimum, beyond the index type, or a shared memory without one).
#[no_mangle]
pub extern "C" fn wasmtime_memorytype_new(
    min: u64,
    max_present: bool,
    max: u64,
    is_64: bool,
    shared: bool,
) -> Option<Box<wasm_memorytype_t>> {
    let max = max_present.then_some(max);
    if !is_64 && (min > u64::from(u32::MAX) || max.is_some_and(|m| m > u64::from(u32::MAX))) {
        return None;
    }
    let ty = MemoryType::builder()
        .min(min)
        .max(max)
        .memory64(is_64)
        .shared(shared)
        .build()
        .ok()?;
    Some(memorytype_box(&ty))
}

/// The minimum in pages.
#[no_mangle]
pub extern "C" fn wasmtime_memorytype_minimum(ty: &wasm_memorytype_t) -> u64 {
    ty.memory().ty.minimum()
}

/// Whether there is a maximum, written to `max` in pages.
#[no_mangle]
pub extern "C" fn wasmtime_memorytype_maximum(ty: &wasm_memorytype_t, max: &mut u64) -> bool {
    match ty.memory().ty.maximum() {
        Some(m) => {
            *max = m;
            true
        }
        None => false,
    }
}

/// Whether the memory is indexed with 64-bit addresses.
#[no_mangle]
pub extern "C" fn wasmtime_memorytype_is64(ty: &wasm_memorytype_t) -> bool {
    ty.memory().ty.is_64()
}

/// Whether the memory is shared.
#[no_mangle]
pub extern "C" fn wasmtime_memorytype_isshared(ty: &wasm_memorytype_t) -> bool {
    ty.memory().ty.is_shared()
}
