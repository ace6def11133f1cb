//! `wasm_functype_t`.

use crate::vec::OwnedVec;
use crate::{wasm_externtype_t, wasm_valtype_t, wasm_valtype_vec_t, CExternType};
use wasmjit::FuncType;

/// A function type as C sees it: vectors of value types it can lend out.
#[derive(Clone)]
pub(crate) struct CFuncType {
    pub(crate) params: OwnedVec<Option<Box<wasm_valtype_t>>>,
    pub(crate) results: OwnedVec<Option<Box<wasm_valtype_t>>>,
}

impl CFuncType {
    pub(crate) fn new(ty: &FuncType) -> Self {
        Self {
            params: OwnedVec::new(ty.params().map(wasm_valtype_t::boxed).collect()),
            results: OwnedVec::new(ty.results().map(wasm_valtype_t::boxed).collect()),
        }
    }

    /// The runtime type; NULL entries in the vectors are a caller bug.
    pub(crate) fn ty(&self) -> FuncType {
        let tys = |v: &OwnedVec<Option<Box<wasm_valtype_t>>>| {
            v.as_slice()
                .iter()
                .map(|t| match t {
                    Some(t) => t.ty.clone(),
                    None => crate::fatal("wasm_functype_t", "a value type in the vector is NULL"),
                })
                .collect::<Vec<_>>()
        };
        FuncType::from_types(tys(&self.params), tys(&self.results))
    }
}

/// A function type is an extern type of kind function.
pub type wasm_functype_t = wasm_externtype_t;

impl wasm_externtype_t {
    pub(crate) fn func(&self) -> &CFuncType {
        match &self.which {
            CExternType::Func(f) => f,
            _ => crate::fatal("wasm_functype_t", "not a function type"),
        }
    }
}

pub(crate) fn functype_box(ty: &FuncType) -> Box<wasm_functype_t> {
    Box::new(wasm_externtype_t::new(CExternType::Func(CFuncType::new(
        ty,
    ))))
}

/// A function type; takes over both vectors.
#[no_mangle]
pub extern "C" fn wasm_functype_new(
    params: &mut wasm_valtype_vec_t,
    results: &mut wasm_valtype_vec_t,
) -> Box<wasm_functype_t> {
    let f = CFuncType {
        params: OwnedVec::new(params.take()),
        results: OwnedVec::new(results.take()),
    };
    Box::new(wasm_externtype_t::new(CExternType::Func(f)))
}

/// The parameter types (owned by the function type).
#[no_mangle]
pub extern "C" fn wasm_functype_params(ty: &wasm_functype_t) -> &wasm_valtype_vec_t {
    ty.func().params.as_c()
}

/// The result types (owned by the function type).
#[no_mangle]
pub extern "C" fn wasm_functype_results(ty: &wasm_functype_t) -> &wasm_valtype_vec_t {
    ty.func().results.as_c()
}

/// A copy of a function type.
#[no_mangle]
pub extern "C" fn wasm_functype_copy(ty: &wasm_functype_t) -> Box<wasm_functype_t> {
    Box::new(ty.clone())
}

/// Frees a function type.
#[no_mangle]
pub extern "C" fn wasm_functype_delete(_ty: Option<Box<wasm_functype_t>>) {}
