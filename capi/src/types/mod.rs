//! Type descriptions of `wasm.h`: value, function, global, table, memory, extern, import
//! and export types.
//!
//! `wasm_functype_t`, `wasm_globaltype_t`, `wasm_tabletype_t` and `wasm_memorytype_t` are all
//! the same object as `wasm_externtype_t` (as in Wasmtime), so converting between them is a
//! pointer cast with a kind check.

mod externtype;
mod functype;
mod globaltype;
mod importexport;
mod memorytype;
mod tabletype;
mod valtype;

pub use externtype::*;
pub use functype::*;
pub use globaltype::*;
pub use importexport::*;
pub use memorytype::*;
pub use tabletype::*;
pub use valtype::*;

/// `wasm_limits_t`: a minimum and maximum (`0xffffffff`: no maximum).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct wasm_limits_t {
    pub min: u32,
    pub max: u32,
}

/// The `max` of limits without a maximum.
pub const WASM_LIMITS_MAX_DEFAULT: u32 = u32::MAX;

impl wasm_limits_t {
    pub(crate) fn new(min: u64, max: Option<u64>) -> Self {
        Self {
            min: u32::try_from(min).unwrap_or(u32::MAX),
            max: max.map_or(WASM_LIMITS_MAX_DEFAULT, |m| {
                u32::try_from(m).unwrap_or(u32::MAX)
            }),
        }
    }
    pub(crate) fn max(&self) -> Option<u32> {
        (self.max != WASM_LIMITS_MAX_DEFAULT).then_some(self.max)
    }
}
