//! `wasm_tabletype_t`.

use crate::{wasm_externtype_t, wasm_limits_t, wasm_valtype_t, CExternType};
use wasmjit::{TableType, ValType};

#[derive(Clone)]
pub(crate) struct CTableType {
    pub(crate) element: wasm_valtype_t,
    pub(crate) limits: wasm_limits_t,
    pub(crate) ty: TableType,
}

impl CTableType {
    pub(crate) fn new(ty: &TableType) -> Self {
        Self {
            element: wasm_valtype_t {
                ty: ValType::Ref(ty.element().clone()),
            },
            limits: wasm_limits_t::new(ty.minimum(), ty.maximum()),
            ty: ty.clone(),
        }
    }
}

/// A table type is an extern type of kind table.
pub type wasm_tabletype_t = wasm_externtype_t;

impl wasm_externtype_t {
    pub(crate) fn table(&self) -> &CTableType {
        match &self.which {
            CExternType::Table(t) => t,
            _ => crate::fatal("wasm_tabletype_t", "not a table type"),
        }
    }
}

pub(crate) fn tabletype_box(ty: &TableType) -> Box<wasm_tabletype_t> {
    Box::new(wasm_externtype_t::new(CExternType::Table(CTableType::new(
        ty,
    ))))
}

/// A table type; takes over `element`, which must be a reference type (else NULL).
#[no_mangle]
pub extern "C" fn wasm_tabletype_new(
    element: Box<wasm_valtype_t>,
    limits: &wasm_limits_t,
) -> Option<Box<wasm_tabletype_t>> {
    let ValType::Ref(r) = element.ty.clone() else {
        return None;
    };
    Some(tabletype_box(&TableType::new(r, limits.min, limits.max())))
}

/// The element type (owned by the table type).
#[no_mangle]
pub extern "C" fn wasm_tabletype_element(ty: &wasm_tabletype_t) -> &wasm_valtype_t {
    &ty.table().element
}

/// The limits (owned by the table type).
#[no_mangle]
pub extern "C" fn wasm_tabletype_limits(ty: &wasm_tabletype_t) -> &wasm_limits_t {
    &ty.table().limits
}

/// A copy of a table type.
#[no_mangle]
pub extern "C" fn wasm_tabletype_copy(ty: &wasm_tabletype_t) -> Box<wasm_tabletype_t> {
    Box::new(ty.clone())
}

/// Frees a table type.
#[no_mangle]
pub extern "C" fn wasm_tabletype_delete(_ty: Option<Box<wasm_tabletype_t>>) {}
