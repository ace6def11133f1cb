//! `wasm_valtype_t`.

use wasmjit::ValType;

/// `wasm_valkind_t` values (`WASMTIME_V128` is Wasmtime's addition).
pub const WASM_I32: u8 = 0;
pub const WASM_I64: u8 = 1;
pub const WASM_F32: u8 = 2;
pub const WASM_F64: u8 = 3;
pub const WASM_V128: u8 = 4;
pub const WASM_EXTERNREF: u8 = 128;
pub const WASM_FUNCREF: u8 = 129;

/// A value type.
#[derive(Clone)]
pub struct wasm_valtype_t {
    pub(crate) ty: ValType,
}

impl wasm_valtype_t {
    pub(crate) fn boxed(ty: ValType) -> Option<Box<wasm_valtype_t>> {
        Some(Box::new(wasm_valtype_t { ty }))
    }
}

pub(crate) fn valtype_from_kind(kind: u8) -> Option<ValType> {
    Some(match kind {
        WASM_I32 => ValType::I32,
        WASM_I64 => ValType::I64,
        WASM_F32 => ValType::F32,
        WASM_F64 => ValType::F64,
        WASM_V128 => ValType::V128,
        WASM_EXTERNREF => ValType::EXTERNREF,
        WASM_FUNCREF => ValType::FUNCREF,
        _ => return None,
    })
}

pub(crate) fn kind_of_valtype(ty: &ValType) -> u8 {
    match ty {
        ValType::I32 => WASM_I32,
        ValType::I64 => WASM_I64,
        ValType::F32 => WASM_F32,
        ValType::F64 => WASM_F64,
        ValType::V128 => WASM_V128,
        ValType::Ref(r) if r.heap_type().is_extern() => WASM_EXTERNREF,
        ValType::Ref(_) => WASM_FUNCREF,
    }
}

/// A value type of kind `kind`; NULL for an unknown kind.
#[no_mangle]
pub extern "C" fn wasm_valtype_new(kind: u8) -> Option<Box<wasm_valtype_t>> {
    wasm_valtype_t::boxed(valtype_from_kind(kind)?)
}

/// The kind of a value type.
#[no_mangle]
pub extern "C" fn wasm_valtype_kind(ty: &wasm_valtype_t) -> u8 {
    kind_of_valtype(&ty.ty)
}

/// A copy of a value type.
#[no_mangle]
pub extern "C" fn wasm_valtype_copy(ty: &wasm_valtype_t) -> Box<wasm_valtype_t> {
    Box::new(ty.clone())
}

/// Frees a value type.
#[no_mangle]
pub extern "C" fn wasm_valtype_delete(_ty: Option<Box<wasm_valtype_t>>) {}
