//! `wasm_importtype_t` and `wasm_exporttype_t`.

use crate::vec::OwnedVec;
use crate::{wasm_externtype_t, wasm_name_t};

/// An import: module name, field name and type.
#[derive(Clone)]
pub struct wasm_importtype_t {
    pub(crate) module: OwnedVec<u8>,
    pub(crate) name: OwnedVec<u8>,
    pub(crate) ty: wasm_externtype_t,
}

/// An export: name and type.
#[derive(Clone)]
pub struct wasm_exporttype_t {
    pub(crate) name: OwnedVec<u8>,
    pub(crate) ty: wasm_externtype_t,
}

impl wasm_importtype_t {
    pub(crate) fn new(module: &str, name: &str, ty: wasm_externtype_t) -> Self {
        Self {
            module: OwnedVec::new(module.as_bytes().to_vec()),
            name: OwnedVec::new(name.as_bytes().to_vec()),
            ty,
        }
    }
}

impl wasm_exporttype_t {
    pub(crate) fn new(name: &str, ty: wasm_externtype_t) -> Self {
        Self {
            name: OwnedVec::new(name.as_bytes().to_vec()),
            ty,
        }
    }
}

/// An import type; takes over the names and the type.
#[no_mangle]
pub extern "C" fn wasm_importtype_new(
    module: &mut wasm_name_t,
    name: &mut wasm_name_t,
    ty: Box<wasm_externtype_t>,
) -> Box<wasm_importtype_t> {
    Box::new(wasm_importtype_t {
        module: OwnedVec::new(module.take()),
        name: OwnedVec::new(name.take()),
        ty: *ty,
    })
}

/// The module name (owned by the import type).
#[no_mangle]
pub extern "C" fn wasm_importtype_module(ty: &wasm_importtype_t) -> &wasm_name_t {
    ty.module.as_c()
}

/// The field name (owned by the import type).
#[no_mangle]
pub extern "C" fn wasm_importtype_name(ty: &wasm_importtype_t) -> &wasm_name_t {
    ty.name.as_c()
}

/// The imported item's type (owned by the import type).
#[no_mangle]
pub extern "C" fn wasm_importtype_type(ty: &wasm_importtype_t) -> &wasm_externtype_t {
    &ty.ty
}

/// A copy of an import type.
#[no_mangle]
pub extern "C" fn wasm_importtype_copy(ty: &wasm_importtype_t) -> Box<wasm_importtype_t> {
    Box::new(ty.clone())
}

/// Frees an import type.
#[no_mangle]
pub extern "C" fn wasm_importtype_delete(_ty: Option<Box<wasm_importtype_t>>) {}

/// An export type; takes over the name and the type.
#[no_mangle]
pub extern "C" fn wasm_exporttype_new(
    name: &mut wasm_name_t,
    ty: Box<wasm_externtype_t>,
) -> Box<wasm_exporttype_t> {
    Box::new(wasm_exporttype_t {
        name: OwnedVec::new(name.take()),
        ty: *ty,
    })
}

/// The export's name (owned by the export type).
#[no_mangle]
pub extern "C" fn wasm_exporttype_name(ty: &wasm_exporttype_t) -> &wasm_name_t {
    ty.name.as_c()
}

/// The exported item's type (owned by the export type).
#[no_mangle]
pub extern "C" fn wasm_exporttype_type(ty: &wasm_exporttype_t) -> &wasm_externtype_t {
    &ty.ty
}

/// A copy of an export type.
#[no_mangle]
pub extern "C" fn wasm_exporttype_copy(ty: &wasm_exporttype_t) -> Box<wasm_exporttype_t> {
    Box::new(ty.clone())
}

/// Frees an export type.
#[no_mangle]
pub extern "C" fn wasm_exporttype_delete(_ty: Option<Box<wasm_exporttype_t>>) {}
