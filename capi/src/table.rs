//! Tables: `wasm_table_t` of `wasm.h` and `wasmtime_table_*`.

use crate::extern_::declare_extern_kind;
use crate::store::{StoreData, StoreRef};
use crate::{
    tabletype_box, wasm_extern_t, wasm_ref_t, wasm_store_t, wasm_tabletype_t, wasm_val_t,
    wasmtime_context_t, wasmtime_table_t, wasmtime_val_t, CError, WASM_EXTERNREF,
    WASM_EXTERN_TABLE, WASM_FUNCREF,
};
use anyhow::{bail, Result};
use std::mem::ManuallyDrop;
use std::ptr;
use wasmjit::{Extern, HeapType, Ref, Table, TableType, Val};

declare_extern_kind!(
    wasm_table_t,
    WASM_EXTERN_TABLE,
    wasm_table_delete,
    wasm_table_as_extern,
    wasm_table_as_extern_const,
    wasm_extern_as_table,
    wasm_extern_as_table_const,
    wasm_table_copy,
    wasm_table_same,
    wasm_table_get_host_info,
    wasm_table_set_host_info,
    wasm_table_set_host_info_with_finalizer,
    wasm_table_as_ref,
    wasm_table_as_ref_const,
    wasm_ref_as_table,
    wasm_ref_as_table_const
);

impl wasm_extern_t {
    pub(crate) fn table(&self) -> Table {
        match self.which {
            Extern::Table(t) => t,
            _ => crate::fatal("wasm_table_t", "the extern is not a table"),
        }
    }
}

fn val_to_ref(v: Val) -> Result<Ref> {
    match v {
        Val::FuncRef(f) => Ok(Ref::Func(f)),
        Val::ExternRef(e) => Ok(Ref::Extern(e)),
        Val::AnyRef(e) => Ok(Ref::Any(e)),
        _ => bail!("a table element must be a reference"),
    }
}

fn ref_to_val(r: Ref) -> Val {
    match r {
        Ref::Func(f) => Val::FuncRef(f),
        Ref::Extern(e) => Val::ExternRef(e),
        Ref::Exn(e) => Val::ExnRef(e),
        Ref::Any(e) => Val::AnyRef(e),
    }
}

/// The runtime reference of a `wasm.h` one (NULL: null), for a table of element type `heap`.
fn wasm_ref_to_ref(store: &StoreRef, heap: HeapType, r: Option<&wasm_ref_t>) -> Result<Ref> {
    let kind = if heap.is_extern() {
        WASM_EXTERNREF
    } else {
        WASM_FUNCREF
    };
    let val = ManuallyDrop::new(wasm_val_t {
        kind,
        of: crate::wasm_val_union {
            ref_: r.map_or(ptr::null_mut(), |r| {
                r as *const wasm_ref_t as *mut wasm_ref_t
            }),
        },
    });
    // `val` only borrows the reference, so it is never dropped.
    val_to_ref(val.to_val(store)?)
}

fn heap_of(ty: &TableType) -> HeapType {
    ty.element().heap_type().clone()
}

/// A new table of type `ty` with every element `init` (NULL: null); NULL on failure.
#[no_mangle]
pub extern "C" fn wasm_table_new(
    store: &wasm_store_t,
    ty: &wasm_tabletype_t,
    init: Option<&wasm_ref_t>,
) -> Option<Box<wasm_table_t>> {
    let made = crate::catch_panic(|| {
        let tty = ty.table().ty.clone();
        let init = wasm_ref_to_ref(&store.store, heap_of(&tty), init)?;
        store
            .store
            .with(|ctx| Table::new(&mut ctx.store, tty, init))
    });
    wasm_extern_t::boxed(store.store.clone(), Extern::Table(made.ok()?))
}

/// The table's type.
#[no_mangle]
pub extern "C" fn wasm_table_type(t: &wasm_table_t) -> Box<wasm_tabletype_t> {
    crate::abort_on_panic("wasm_table_type", || {
        tabletype_box(&t.store.with(|ctx| t.table().ty(&ctx.store)))
    })
}

/// Element `index` as an owned reference; NULL for a null element or an index out of bounds.
#[no_mangle]
pub extern "C" fn wasm_table_get(t: &wasm_table_t, index: u32) -> Option<Box<wasm_ref_t>> {
    crate::abort_on_panic("wasm_table_get", || {
        let r = t
            .store
            .with(|ctx| t.table().get(&mut ctx.store, index.into()))?;
        let mut v = wasm_val_t::from_val(&t.store, ref_to_val(r)).ok()?;
        // SAFETY: reference values carry `ref_`, which the value owns and hands over here.
        let p = unsafe { std::mem::replace(&mut v.of.ref_, ptr::null_mut()) };
        // SAFETY: `p` is null or an owned reference made by `Box::into_raw`.
        (!p.is_null()).then(|| unsafe { Box::from_raw(p) })
    })
}

/// Sets element `index` to `r` (NULL: null); false on failure.
#[no_mangle]
pub extern "C" fn wasm_table_set(t: &mut wasm_table_t, index: u32, r: Option<&wasm_ref_t>) -> bool {
    crate::catch_panic(|| {
        let table = t.table();
        let heap = heap_of(&t.store.with(|ctx| table.ty(&ctx.store)));
        let r = wasm_ref_to_ref(&t.store, heap, r)?;
        t.store
            .with(|ctx| table.set(&mut ctx.store, index.into(), r))
    })
    .is_ok()
}

/// The number of elements.
#[no_mangle]
pub extern "C" fn wasm_table_size(t: &wasm_table_t) -> u32 {
    crate::abort_on_panic("wasm_table_size", || {
        let n = t.store.with(|ctx| t.table().size(&ctx.store));
        u32::try_from(n).unwrap_or(u32::MAX)
    })
}

/// Grows by `delta` elements set to `init`; false on failure.
#[no_mangle]
pub extern "C" fn wasm_table_grow(
    t: &mut wasm_table_t,
    delta: u32,
    init: Option<&wasm_ref_t>,
) -> bool {
    crate::catch_panic(|| {
        let table = t.table();
        let heap = heap_of(&t.store.with(|ctx| table.ty(&ctx.store)));
        let r = wasm_ref_to_ref(&t.store, heap, init)?;
        t.store
            .with(|ctx| table.grow(&mut ctx.store, delta.into(), r))
    })
    .is_ok()
}

impl StoreData {
    fn check_table_elements(&self, n: u64) -> Result<()> {
        if let Some(max) = self.limits.table_elements {
            if n > max {
                bail!("resource limit exceeded: table of {n} elements exceeds the store's limit of {max}");
            }
        }
        Ok(())
    }
}

/// A new table of type `ty` with every element `init`.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_table_new(
    context: &mut wasmtime_context_t,
    ty: &wasm_tabletype_t,
    init: &wasmtime_val_t,
    ret: *mut wasmtime_table_t,
) -> CError {
    crate::error::guard(|| {
        let data = context.data();
        let tty = ty.table().ty.clone();
        data.check_table_elements(tty.minimum())?;
        if let Some(max) = data.limits.tables {
            if data.host_tables >= max {
                bail!(
                    "resource limit exceeded: table count too high at {}",
                    data.host_tables + 1
                );
            }
        }
        let init = val_to_ref(data.val_from_c(init)?)?;
        let t = Table::new(&mut context.store, tty, init)?;
        let data = context.data_mut();
        data.host_tables += 1;
        let c = data.table_to_c(t);
        // SAFETY: `ret` is an output pointer of the caller.
        unsafe { ptr::write(ret, c) };
        Ok(())
    })
}

fn table_of(context: &wasmtime_context_t, table: &wasmtime_table_t, name: &str) -> Table {
    context
        .data()
        .table_from_c(table)
        .unwrap_or_else(|e| crate::fatal(name, &e.to_string()))
}

/// The table's type.
#[no_mangle]
pub extern "C" fn wasmtime_table_type(
    context: &wasmtime_context_t,
    table: &wasmtime_table_t,
) -> Box<wasm_tabletype_t> {
    crate::abort_on_panic("wasmtime_table_type", || {
        tabletype_box(&table_of(context, table, "wasmtime_table_type").ty(&context.store))
    })
}

/// Element `index`; false when out of bounds.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_table_get(
    context: &mut wasmtime_context_t,
    table: &wasmtime_table_t,
    index: u64,
    val: *mut wasmtime_val_t,
) -> bool {
    crate::abort_on_panic("wasmtime_table_get", || {
        let t = table_of(context, table, "wasmtime_table_get");
        let Some(r) = t.get(&mut context.store, index) else {
            return false;
        };
        let c = context.data_mut().val_to_c(ref_to_val(r));
        // SAFETY: `val` is an output pointer of the caller.
        unsafe { ptr::write(val, c) };
        true
    })
}

/// Sets element `index`.
#[no_mangle]
pub extern "C" fn wasmtime_table_set(
    context: &mut wasmtime_context_t,
    table: &wasmtime_table_t,
    index: u64,
    value: &wasmtime_val_t,
) -> CError {
    crate::error::guard(|| {
        let t = context.data().table_from_c(table)?;
        let r = val_to_ref(context.data().val_from_c(value)?)?;
        t.set(&mut context.store, index, r)
    })
}

/// The number of elements.
#[no_mangle]
pub extern "C" fn wasmtime_table_size(
    context: &wasmtime_context_t,
    table: &wasmtime_table_t,
) -> u64 {
    crate::abort_on_panic("wasmtime_table_size", || {
        table_of(context, table, "wasmtime_table_size").size(&context.store)
    })
}

/// Grows by `delta` elements set to `init`, writing the old size to `prev_size`.
#[no_mangle]
pub extern "C" fn wasmtime_table_grow(
    context: &mut wasmtime_context_t,
    table: &wasmtime_table_t,
    delta: u64,
    init: &wasmtime_val_t,
    prev_size: &mut u64,
) -> CError {
    crate::error::guard(|| {
        let t = context.data().table_from_c(table)?;
        let size = t.size(&context.store);
        context
            .data()
            .check_table_elements(size.saturating_add(delta))?;
        let r = val_to_ref(context.data().val_from_c(init)?)?;
        *prev_size = t.grow(&mut context.store, delta, r)?;
        Ok(())
    })
}
