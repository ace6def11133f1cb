//! Compiled modules: `wasmtime_module_t`, and `wasm_module_t` / `wasm_shared_module_t` of
//! `wasm.h`.
//!
//! Serialized modules hold machine code, placed without compiling when loaded (see the
//! runtime's `serialization` module).

use crate::ref_::{declare_ref, impl_as_ref, RefBase, RefKind};
use crate::{
    wasm_byte_vec_t, wasm_engine_t, wasm_exporttype_t, wasm_exporttype_vec_t, wasm_externtype_t,
    wasm_importtype_t, wasm_importtype_vec_t, wasm_ref_t, wasm_store_t, CError, WasmVec,
};
use anyhow::bail;
use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicU64, Ordering};
use wasmjit::Module;

/// A compiled module of the `wasmtime.h` API.
#[derive(Clone)]
pub struct wasmtime_module_t {
    pub(crate) module: Module,
}

fn imports_of(module: &Module) -> Vec<Option<Box<wasm_importtype_t>>> {
    module
        .imports()
        .filter(|i| !matches!(i.ty(), wasmjit::ExternType::Tag(_)))
        .map(|i| {
            let ty = wasm_externtype_t::from_ty(&i.ty());
            Some(Box::new(wasm_importtype_t::new(i.module(), i.name(), ty)))
        })
        .collect()
}

fn exports_of(module: &Module) -> Vec<Option<Box<wasm_exporttype_t>>> {
    module
        .exports()
        .filter(|e| !matches!(e.ty(), wasmjit::ExternType::Tag(_)))
        .map(|e| {
            let ty = wasm_externtype_t::from_ty(&e.ty());
            Some(Box::new(wasm_exporttype_t::new(e.name(), ty)))
        })
        .collect()
}

/// Compiles a module from its binary form.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_module_new(
    engine: &wasm_engine_t,
    wasm: *const u8,
    wasm_len: usize,
    ret: &mut *mut wasmtime_module_t,
) -> CError {
    crate::error::guard(|| {
        // SAFETY: C passes `wasm_len` readable bytes.
        let bytes = unsafe { crate::slice_from_raw(wasm, wasm_len) };
        let module = Module::from_binary(&engine.engine, bytes)?;
        *ret = Box::into_raw(Box::new(wasmtime_module_t { module }));
        Ok(())
    })
}

/// Frees a module handle.
#[no_mangle]
pub extern "C" fn wasmtime_module_delete(_m: Option<Box<wasmtime_module_t>>) {}

/// Another handle to the same module.
#[no_mangle]
pub extern "C" fn wasmtime_module_clone(m: &wasmtime_module_t) -> Box<wasmtime_module_t> {
    Box::new(m.clone())
}

/// The module's imports.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_module_imports(
    m: &wasmtime_module_t,
    out: *mut wasm_importtype_vec_t,
) {
    let v = crate::abort_on_panic("wasmtime_module_imports", || imports_of(&m.module));
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { WasmVec::write(out, v) }
}

/// The module's exports.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_module_exports(
    m: &wasmtime_module_t,
    out: *mut wasm_exporttype_vec_t,
) {
    let v = crate::abort_on_panic("wasmtime_module_exports", || exports_of(&m.module));
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { WasmVec::write(out, v) }
}

/// Validates a binary module without compiling it.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_module_validate(
    engine: &wasm_engine_t,
    wasm: *const u8,
    wasm_len: usize,
) -> CError {
    crate::error::guard(|| {
        // SAFETY: C passes `wasm_len` readable bytes.
        let bytes = unsafe { crate::slice_from_raw(wasm, wasm_len) };
        Module::validate(&engine.engine, bytes)
    })
}

/// The module's machine code in the form `wasmtime_module_deserialize` loads (see
/// `Module::serialize`).
#[no_mangle]
pub unsafe extern "C" fn wasmtime_module_serialize(
    m: &wasmtime_module_t,
    ret: *mut wasm_byte_vec_t,
) -> CError {
    crate::error::guard(|| {
        let bytes = m.module.serialize()?;
        // SAFETY: `ret` is an output pointer of the caller.
        unsafe { WasmVec::write(ret, bytes) };
        Ok(())
    })
}

/// Loads a module from `wasmtime_module_serialize`'s bytes without compiling it; other bytes,
/// and modules compiled with settings other than `engine`'s, are errors. As in Wasmtime, the
/// bytes are trusted: their code runs as is.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_module_deserialize(
    engine: &wasm_engine_t,
    bytes: *const u8,
    len: usize,
    ret: &mut *mut wasmtime_module_t,
) -> CError {
    crate::error::guard(|| {
        // SAFETY: C passes `len` readable bytes.
        let bytes = unsafe { crate::slice_from_raw(bytes, len) };
        // SAFETY: Wasmtime documents the bytes as trusted (from `wasmtime_module_serialize`)
        // and the caller vouches for them; their framing is checked.
        let module = unsafe { Module::deserialize(&engine.engine, bytes) }?;
        *ret = Box::into_raw(Box::new(wasmtime_module_t { module }));
        Ok(())
    })
}

/// Loads a module from a file written with `wasmtime_module_serialize`'s bytes.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_module_deserialize_file(
    engine: &wasm_engine_t,
    path: *const c_char,
    ret: &mut *mut wasmtime_module_t,
) -> CError {
    crate::error::guard(|| {
        if path.is_null() {
            bail!("the path is NULL");
        }
        // SAFETY: C passes a NUL-terminated string.
        let path = unsafe { CStr::from_ptr(path) }
            .to_str()
            .map_err(|_| anyhow::anyhow!("the path is not valid UTF-8"))?;
        // SAFETY: as in `wasmtime_module_deserialize`.
        let module = unsafe { Module::deserialize_file(&engine.engine, path) }?;
        *ret = Box::into_raw(Box::new(wasmtime_module_t { module }));
        Ok(())
    })
}

/// The address range of the module's compiled code. wasmjit does not expose it: both are
/// set to NULL.
#[no_mangle]
pub extern "C" fn wasmtime_module_image_range(
    _m: &wasmtime_module_t,
    start: &mut *mut c_void,
    end: &mut *mut c_void,
) {
    *start = std::ptr::null_mut();
    *end = std::ptr::null_mut();
}

static NEXT_MODULE_ID: AtomicU64 = AtomicU64::new(1);

/// A compiled module of the `wasm.h` API.
#[repr(C)]
pub struct wasm_module_t {
    pub(crate) base: RefBase,
    pub(crate) module: Module,
    /// Shared by copies, for `wasm_module_same`.
    id: u64,
}

impl Clone for wasm_module_t {
    fn clone(&self) -> Self {
        Self {
            base: self.base.copy(),
            module: self.module.clone(),
            id: self.id,
        }
    }
}

impl wasm_module_t {
    fn new(module: Module, id: u64) -> Box<Self> {
        Box::new(Self {
            base: RefBase::new(RefKind::Module),
            module,
            id,
        })
    }
    pub(crate) fn same(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl_as_ref!(wasm_module_t);

/// Compiles a module for `store`'s engine; NULL when it is invalid.
#[no_mangle]
pub extern "C" fn wasm_module_new(
    store: &wasm_store_t,
    binary: &wasm_byte_vec_t,
) -> Option<Box<wasm_module_t>> {
    let engine = store.store.with(|ctx| ctx.store.engine().clone());
    let module = crate::catch_panic(|| Module::from_binary(&engine, binary.as_slice())).ok()?;
    Some(wasm_module_t::new(
        module,
        NEXT_MODULE_ID.fetch_add(1, Ordering::Relaxed),
    ))
}

/// Whether `binary` is a valid module.
#[no_mangle]
pub extern "C" fn wasm_module_validate(store: &wasm_store_t, binary: &wasm_byte_vec_t) -> bool {
    let engine = store.store.with(|ctx| ctx.store.engine().clone());
    crate::catch_panic(|| Module::validate(&engine, binary.as_slice())).is_ok()
}

/// Frees a module handle.
#[no_mangle]
pub extern "C" fn wasm_module_delete(_m: Option<Box<wasm_module_t>>) {}

/// The module's imports.
#[no_mangle]
pub unsafe extern "C" fn wasm_module_imports(m: &wasm_module_t, out: *mut wasm_importtype_vec_t) {
    let v = crate::abort_on_panic("wasm_module_imports", || imports_of(&m.module));
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { WasmVec::write(out, v) }
}

/// The module's exports.
#[no_mangle]
pub unsafe extern "C" fn wasm_module_exports(m: &wasm_module_t, out: *mut wasm_exporttype_vec_t) {
    let v = crate::abort_on_panic("wasm_module_exports", || exports_of(&m.module));
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { WasmVec::write(out, v) }
}

/// The module in the form `wasm_module_deserialize` loads (empty if that fails).
#[no_mangle]
pub unsafe extern "C" fn wasm_module_serialize(m: &wasm_module_t, out: *mut wasm_byte_vec_t) {
    let bytes = crate::catch_panic(|| m.module.serialize()).unwrap_or_default();
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { WasmVec::write(out, bytes) }
}

/// Loads a module from `wasm_module_serialize`'s bytes for `store`'s engine; NULL for other
/// bytes.
#[no_mangle]
pub extern "C" fn wasm_module_deserialize(
    store: &wasm_store_t,
    binary: &wasm_byte_vec_t,
) -> Option<Box<wasm_module_t>> {
    let engine = store.store.with(|ctx| ctx.store.engine().clone());
    // SAFETY: the C API's `wasm_module_deserialize` takes `wasm_module_serialize`'s bytes,
    // trusted as in Wasmtime; their framing is checked.
    let module =
        crate::catch_panic(|| unsafe { Module::deserialize(&engine, binary.as_slice()) }).ok()?;
    Some(wasm_module_t::new(
        module,
        NEXT_MODULE_ID.fetch_add(1, Ordering::Relaxed),
    ))
}

declare_ref!(
    wasm_module_t,
    |r: &wasm_ref_t| r.base.kind == RefKind::Module,
    wasm_module_copy,
    wasm_module_same,
    wasm_module_get_host_info,
    wasm_module_set_host_info,
    wasm_module_set_host_info_with_finalizer,
    wasm_module_as_ref,
    wasm_module_as_ref_const,
    wasm_ref_as_module,
    wasm_ref_as_module_const
);

/// A module that can be sent to other threads and obtained in their stores.
pub struct wasm_shared_module_t {
    module: Module,
    id: u64,
}

/// Frees a shared module.
#[no_mangle]
pub extern "C" fn wasm_shared_module_delete(_m: Option<Box<wasm_shared_module_t>>) {}

/// A shareable handle to a module.
#[no_mangle]
pub extern "C" fn wasm_module_share(m: &wasm_module_t) -> Box<wasm_shared_module_t> {
    Box::new(wasm_shared_module_t {
        module: m.module.clone(),
        id: m.id,
    })
}

/// The module of a shared handle, for a store of the same engine (else NULL).
#[no_mangle]
pub extern "C" fn wasm_module_obtain(
    store: &wasm_store_t,
    shared: &wasm_shared_module_t,
) -> Option<Box<wasm_module_t>> {
    let same = store
        .store
        .with(|ctx| wasmjit::Engine::same(ctx.store.engine(), shared.module.engine()));
    same.then(|| wasm_module_t::new(shared.module.clone(), shared.id))
}
