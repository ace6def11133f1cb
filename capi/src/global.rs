//! Globals: `wasm_global_t` of `wasm.h` and `wasmtime_global_*`.

use crate::extern_::declare_extern_kind;
use crate::{
    globaltype_box, wasm_extern_t, wasm_globaltype_t, wasm_store_t, wasm_val_t, wasmtime_context_t,
    wasmtime_global_t, wasmtime_val_t, CError, WASM_EXTERN_GLOBAL,
};
use std::ptr;
use wasmjit::{Extern, Global};

declare_extern_kind!(
    wasm_global_t,
    WASM_EXTERN_GLOBAL,
    wasm_global_delete,
    wasm_global_as_extern,
    wasm_global_as_extern_const,
    wasm_extern_as_global,
    wasm_extern_as_global_const,
    wasm_global_copy,
    wasm_global_same,
    wasm_global_get_host_info,
    wasm_global_set_host_info,
    wasm_global_set_host_info_with_finalizer,
    wasm_global_as_ref,
    wasm_global_as_ref_const,
    wasm_ref_as_global,
    wasm_ref_as_global_const
);

impl wasm_extern_t {
    pub(crate) fn global(&self) -> Global {
        match self.which {
            Extern::Global(g) => g,
            _ => crate::fatal("wasm_global_t", "the extern is not a global"),
        }
    }
}

/// A new global of type `ty` holding `val`; NULL when the value does not fit the type.
#[no_mangle]
pub extern "C" fn wasm_global_new(
    store: &wasm_store_t,
    ty: &wasm_globaltype_t,
    val: &wasm_val_t,
) -> Option<Box<wasm_global_t>> {
    let made = crate::catch_panic(|| {
        let v = val.to_val(&store.store)?;
        store
            .store
            .with(|ctx| Global::new(&mut ctx.store, ty.global().ty(), v))
    });
    wasm_extern_t::boxed(store.store.clone(), Extern::Global(made.ok()?))
}

/// The global's type.
#[no_mangle]
pub extern "C" fn wasm_global_type(g: &wasm_global_t) -> Box<wasm_globaltype_t> {
    crate::abort_on_panic("wasm_global_type", || {
        globaltype_box(&g.store.with(|ctx| g.global().ty(&ctx.store)))
    })
}

/// The global's value, written to `out` (which the caller then owns).
#[no_mangle]
pub unsafe extern "C" fn wasm_global_get(g: &wasm_global_t, out: *mut wasm_val_t) {
    let v = crate::abort_on_panic("wasm_global_get", || {
        let v = g.store.with(|ctx| g.global().get(&mut ctx.store));
        wasm_val_t::from_val(&g.store, v)
            .unwrap_or_else(|e| crate::fatal("wasm_global_get", &e.to_string()))
    });
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { ptr::write(out, v) }
}

/// Sets the global. A value that cannot be stored (wrong type, immutable global) is reported
/// on stderr and ignored, as `wasm.h` gives no way to return an error.
#[no_mangle]
pub extern "C" fn wasm_global_set(g: &mut wasm_global_t, val: &wasm_val_t) {
    let r = crate::catch_panic(|| {
        let v = val.to_val(&g.store)?;
        g.store.with(|ctx| g.global().set(&mut ctx.store, v))
    });
    if let Err(e) = r {
        eprintln!("wasmjit: wasm_global_set: {e:#}");
    }
}

/// A new global of type `ty` holding `val`.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_global_new(
    context: &mut wasmtime_context_t,
    ty: &wasm_globaltype_t,
    val: &wasmtime_val_t,
    ret: *mut wasmtime_global_t,
) -> CError {
    crate::error::guard(|| {
        let v = context.data().val_from_c(val)?;
        let g = Global::new(&mut context.store, ty.global().ty(), v)?;
        let c = context.data_mut().global_to_c(g);
        // SAFETY: `ret` is an output pointer of the caller.
        unsafe { ptr::write(ret, c) };
        Ok(())
    })
}

/// The global's type.
#[no_mangle]
pub extern "C" fn wasmtime_global_type(
    context: &wasmtime_context_t,
    global: &wasmtime_global_t,
) -> Box<wasm_globaltype_t> {
    crate::abort_on_panic("wasmtime_global_type", || {
        let g = context
            .data()
            .global_from_c(global)
            .unwrap_or_else(|e| crate::fatal("wasmtime_global_type", &e.to_string()));
        globaltype_box(&g.ty(&context.store))
    })
}

/// The global's value.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_global_get(
    context: &mut wasmtime_context_t,
    global: &wasmtime_global_t,
    out: *mut wasmtime_val_t,
) {
    let v = crate::abort_on_panic("wasmtime_global_get", || {
        let g = context
            .data()
            .global_from_c(global)
            .unwrap_or_else(|e| crate::fatal("wasmtime_global_get", &e.to_string()));
        let v = g.get(&mut context.store);
        context.data_mut().val_to_c(v)
    });
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { ptr::write(out, v) }
}

/// Sets the global; errors for an immutable global or a value of another type.
#[no_mangle]
pub extern "C" fn wasmtime_global_set(
    context: &mut wasmtime_context_t,
    global: &wasmtime_global_t,
    val: &wasmtime_val_t,
) -> CError {
    crate::error::guard(|| {
        let g = context.data().global_from_c(global)?;
        let v = context.data().val_from_c(val)?;
        g.set(&mut context.store, v)
    })
}
