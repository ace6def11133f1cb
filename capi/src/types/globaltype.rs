//! `wasm_globaltype_t`.

use crate::{wasm_externtype_t, wasm_valtype_t, CExternType};
use wasmjit::{GlobalType, Mutability};

/// `wasm_mutability_t` values.
pub const WASM_CONST: u8 = 0;
pub const WASM_VAR: u8 = 1;

#[derive(Clone)]
pub(crate) struct CGlobalType {
    pub(crate) content: wasm_valtype_t,
    pub(crate) mutability: u8,
}

impl CGlobalType {
    pub(crate) fn new(ty: &GlobalType) -> Self {
        Self {
            content: wasm_valtype_t {
                ty: ty.content().clone(),
            },
            mutability: match ty.mutability() {
                Mutability::Const => WASM_CONST,
                Mutability::Var => WASM_VAR,
            },
        }
    }
    pub(crate) fn ty(&self) -> GlobalType {
        let m = if self.mutability == WASM_VAR {
            Mutability::Var
        } else {
            Mutability::Const
        };
        GlobalType::new(self.content.ty.clone(), m)
    }
}

/// A global type is an extern type of kind global.
pub type wasm_globaltype_t = wasm_externtype_t;

impl wasm_externtype_t {
    pub(crate) fn global(&self) -> &CGlobalType {
        match &self.which {
            CExternType::Global(g) => g,
            _ => crate::fatal("wasm_globaltype_t", "not a global type"),
        }
    }
}

pub(crate) fn globaltype_box(ty: &GlobalType) -> Box<wasm_globaltype_t> {
    Box::new(wasm_externtype_t::new(CExternType::Global(
        CGlobalType::new(ty),
    )))
}

/// A global type; takes over `content`. NULL for an unknown mutability.
#[no_mangle]
pub extern "C" fn wasm_globaltype_new(
    content: Box<wasm_valtype_t>,
    mutability: u8,
) -> Option<Box<wasm_globaltype_t>> {
    if mutability > WASM_VAR {
        return None;
    }
    let g = CGlobalType {
        content: *content,
        mutability,
    };
    Some(Box::new(wasm_externtype_t::new(CExternType::Global(g))))
}

/// The content type (owned by the global type).
#[no_mangle]
pub extern "C" fn wasm_globaltype_content(ty: &wasm_globaltype_t) -> &wasm_valtype_t {
    &ty.global().content
}

/// `WASM_CONST` or `WASM_VAR`.
#[no_mangle]
pub extern "C" fn wasm_globaltype_mutability(ty: &wasm_globaltype_t) -> u8 {
    ty.global().mutability
}

/// A copy of a global type.
#[no_mangle]
pub extern "C" fn wasm_globaltype_copy(ty: &wasm_globaltype_t) -> Box<wasm_globaltype_t> {
    Box::new(ty.clone())
}

/// Frees a global type.
#[no_mangle]
pub extern "C" fn wasm_globaltype_delete(_ty: Option<Box<wasm_globaltype_t>>) {}
