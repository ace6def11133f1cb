//! Values: `wasm_val_t` (`wasm.h`), `wasmtime_val_t` and `wasmtime_val_raw_t`, and the
//! externref/anyref functions of `wasmtime/val.h`.
//!
//! Raw values (`wasmtime_val_raw_t`) only travel through this API, so their reference encodings
//! are ours: an externref is its 1-based handle index in the store (0: null) and a funcref is
//! its 1-based handle index as a pointer (NULL: null).

use crate::store::{StoreData, StoreRef};
use crate::{
    wasm_extern_t, wasm_foreign_t, wasm_ref_t, wasmtime_context_t, wasmtime_func_t, Finalizer,
    ForeignData, RefBase, RefKind, WASM_EXTERNREF, WASM_F32, WASM_F64, WASM_FUNCREF, WASM_I32,
    WASM_I64,
};
use anyhow::{anyhow, bail, Result};
use std::ffi::c_void;
use std::ptr;
use wasmjit::{AnyRef, AsContextMut, Extern, ExternRef, Func, Val, ValType, I31};

/// The payload of `wasm_val_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union wasm_val_union {
    pub i32: i32,
    pub i64: i64,
    pub f32: f32,
    pub f64: f64,
    pub ref_: *mut wasm_ref_t,
}

/// `wasm_val_t`: a kind and a payload. A reference payload is owned.
#[repr(C)]
pub struct wasm_val_t {
    pub kind: u8,
    pub of: wasm_val_union,
}

impl Default for wasm_val_t {
    fn default() -> Self {
        Self {
            kind: WASM_I32,
            of: wasm_val_union { i64: 0 },
        }
    }
}

impl wasm_val_t {
    fn is_ref(&self) -> bool {
        self.kind == WASM_EXTERNREF || self.kind == WASM_FUNCREF
    }

    /// The reference payload (NULL for null or non-reference values).
    fn ref_ptr(&self) -> *mut wasm_ref_t {
        if self.is_ref() {
            // SAFETY: reference kinds carry `ref_`.
            unsafe { self.of.ref_ }
        } else {
            ptr::null_mut()
        }
    }

    /// A `wasm.h` value of runtime value `v` from `store`.
    pub(crate) fn from_val(store: &StoreRef, v: Val) -> Result<Self> {
        let (kind, of) = match c_visible_val(v) {
            Val::I32(x) => (WASM_I32, wasm_val_union { i32: x }),
            Val::I64(x) => (WASM_I64, wasm_val_union { i64: x }),
            Val::F32(x) => (
                WASM_F32,
                wasm_val_union {
                    f32: f32::from_bits(x),
                },
            ),
            Val::F64(x) => (
                WASM_F64,
                wasm_val_union {
                    f64: f64::from_bits(x),
                },
            ),
            Val::V128(_) => bail!("v128 values cannot be represented as a wasm_val_t"),
            Val::FuncRef(f) => {
                let r = f.map_or(ptr::null_mut(), |f| {
                    Box::into_raw(Box::new(wasm_extern_t::new(store.clone(), Extern::Func(f))))
                        .cast()
                });
                (WASM_FUNCREF, wasm_val_union { ref_: r })
            }
            Val::ExternRef(e) => {
                let r = e.map_or(ptr::null_mut(), |externref| {
                    crate::externref_roots::root_forever(store, externref);
                    Box::into_raw(Box::new(wasm_foreign_t {
                        base: RefBase::new(RefKind::Foreign),
                        store: store.clone(),
                        externref,
                    }))
                    .cast()
                });
                (WASM_EXTERNREF, wasm_val_union { ref_: r })
            }
            // `wasm.h` has no anyref kind (Wasmtime aborts here); it reads as a null funcref,
            // as an exnref does.
            Val::AnyRef(_) => (
                WASM_FUNCREF,
                wasm_val_union {
                    ref_: ptr::null_mut(),
                },
            ),
            Val::ExnRef(_) => unreachable!("exception references read as null funcrefs"),
        };
        Ok(Self { kind, of })
    }

    /// The runtime value; references must belong to `store`.
    pub(crate) fn to_val(&self, store: &StoreRef) -> Result<Val> {
        // SAFETY: each arm reads the union field its kind says C initialized.
        unsafe {
            Ok(match self.kind {
                WASM_I32 => Val::I32(self.of.i32),
                WASM_I64 => Val::I64(self.of.i64),
                WASM_F32 => Val::F32(self.of.f32.to_bits()),
                WASM_F64 => Val::F64(self.of.f64.to_bits()),
                WASM_EXTERNREF | WASM_FUNCREF => {
                    let r = self.of.ref_;
                    if r.is_null() {
                        if self.kind == WASM_FUNCREF {
                            Val::FuncRef(None)
                        } else {
                            Val::ExternRef(None)
                        }
                    } else {
                        ref_to_val(&*r, store)?
                    }
                }
                k => bail!("unknown wasm_valkind_t value {k}"),
            })
        }
    }
}

/// The runtime value of a non-null `wasm.h` reference.
fn ref_to_val(r: &wasm_ref_t, store: &StoreRef) -> Result<Val> {
    let p: *const wasm_ref_t = r;
    match r.base.kind {
        RefKind::Extern => {
            // SAFETY: the base says this is a `wasm_extern_t`.
            let e = unsafe { &*(p as *const wasm_extern_t) };
            if !e.store.same(store) {
                bail!("reference used with the wrong store");
            }
            match e.which {
                Extern::Func(f) => Ok(Val::FuncRef(Some(f))),
                _ => bail!("only functions and foreign objects can be passed as references"),
            }
        }
        RefKind::Foreign => {
            // SAFETY: the base says this is a `wasm_foreign_t`.
            let f = unsafe { &*(p as *const wasm_foreign_t) };
            if !f.store.same(store) {
                bail!("reference used with the wrong store");
            }
            Ok(Val::ExternRef(Some(f.externref)))
        }
        _ => bail!("only functions and foreign objects can be passed as references"),
    }
}

impl Clone for wasm_val_t {
    fn clone(&self) -> Self {
        let mut of = self.of;
        if self.is_ref() {
            // SAFETY: a non-null reference payload points to a live reference object.
            let r = unsafe { self.ref_ptr().as_ref() };
            of.ref_ = crate::wasm_ref_copy(r).map_or(ptr::null_mut(), Box::into_raw);
        }
        Self {
            kind: self.kind,
            of,
        }
    }
}

impl Drop for wasm_val_t {
    fn drop(&mut self) {
        let r = self.ref_ptr();
        if !r.is_null() {
            // SAFETY: the value owns its reference, made by `Box::into_raw`.
            crate::wasm_ref_delete(Some(unsafe { Box::from_raw(r) }));
        }
    }
}

/// Frees what the value owns (its reference, if any).
#[no_mangle]
pub unsafe extern "C" fn wasm_val_delete(v: *mut wasm_val_t) {
    if !v.is_null() {
        // SAFETY: C passes an initialized value it owns; it is left as a plain i32.
        drop(unsafe { ptr::replace(v, wasm_val_t::default()) });
    }
}

/// A deep copy of `src` into `out`.
#[no_mangle]
pub unsafe extern "C" fn wasm_val_copy(out: *mut wasm_val_t, src: &wasm_val_t) {
    let v = crate::abort_on_panic("wasm_val_copy", || src.clone());
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { ptr::write(out, v) }
}

/// `wasmtime_anyref_t`: a reference of the GC proposal: `store_id` 0 is null, otherwise
/// `private1` holds the reference's raw form (an `i31`, the only anyref there is yet).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct wasmtime_anyref_t {
    pub store_id: u64,
    pub private1: u32,
    pub private2: u32,
}

/// `wasmtime_externref_t`: `store_id` 0 is null; `private1` is the 1-based handle index.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct wasmtime_externref_t {
    pub store_id: u64,
    pub private1: u32,
    pub private2: u32,
}

/// `wasmtime_valkind_t` values.
pub const WASMTIME_I32: u8 = 0;
pub const WASMTIME_I64: u8 = 1;
pub const WASMTIME_F32: u8 = 2;
pub const WASMTIME_F64: u8 = 3;
pub const WASMTIME_V128: u8 = 4;
pub const WASMTIME_FUNCREF: u8 = 5;
pub const WASMTIME_EXTERNREF: u8 = 6;
pub const WASMTIME_ANYREF: u8 = 7;

/// `wasmtime_valunion_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union wasmtime_valunion_t {
    pub i32: i32,
    pub i64: i64,
    pub f32: f32,
    pub f64: f64,
    pub anyref: wasmtime_anyref_t,
    pub externref: wasmtime_externref_t,
    pub funcref: wasmtime_func_t,
    pub v128: [u8; 16],
}

/// `wasmtime_val_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct wasmtime_val_t {
    pub kind: u8,
    pub of: wasmtime_valunion_t,
}

impl Default for wasmtime_val_t {
    fn default() -> Self {
        Self {
            kind: WASMTIME_I32,
            of: wasmtime_valunion_t { v128: [0; 16] },
        }
    }
}

/// `wasmtime_val_raw_t`: an untyped value slot.
#[repr(C)]
#[derive(Clone, Copy)]
pub union wasmtime_val_raw_t {
    pub i32: i32,
    pub i64: i64,
    pub f32: f32,
    pub f64: f64,
    pub v128: [u8; 16],
    pub anyref: u32,
    pub externref: u32,
    pub funcref: *mut c_void,
}

impl Default for wasmtime_val_raw_t {
    fn default() -> Self {
        Self { v128: [0; 16] }
    }
}

const _: () = {
    assert!(std::mem::size_of::<wasmtime_valunion_t>() == 16);
    assert!(std::mem::align_of::<wasmtime_valunion_t>() == 8);
    assert!(std::mem::size_of::<wasmtime_val_raw_t>() == 16);
    assert!(std::mem::size_of::<wasmtime_val_t>() == 24);
    assert!(std::mem::size_of::<wasm_val_t>() == 16);
};

impl StoreData {
    /// The runtime value of a C value of this store.
    pub(crate) fn val_from_c(&self, v: &wasmtime_val_t) -> Result<Val> {
        // SAFETY: each arm reads the union field its kind says C initialized.
        unsafe {
            Ok(match v.kind {
                WASMTIME_I32 => Val::I32(v.of.i32),
                WASMTIME_I64 => Val::I64(v.of.i64),
                WASMTIME_F32 => Val::F32(v.of.f32.to_bits()),
                WASMTIME_F64 => Val::F64(v.of.f64.to_bits()),
                WASMTIME_V128 => Val::V128(u128::from_le_bytes(v.of.v128).into()),
                WASMTIME_FUNCREF => {
                    let f = v.of.funcref;
                    if f.store_id == 0 {
                        Val::FuncRef(None)
                    } else {
                        Val::FuncRef(Some(self.func_from_c(&f)?))
                    }
                }
                WASMTIME_EXTERNREF => Val::ExternRef(self.externref_from_c(&v.of.externref)?),
                WASMTIME_ANYREF => Val::AnyRef(self.anyref_from_c(&v.of.anyref)?),
                k => bail!("unknown wasmtime_valkind_t value {k}"),
            })
        }
    }

    /// The C value of a runtime value of this store.
    pub(crate) fn val_to_c(&mut self, v: Val) -> wasmtime_val_t {
        let (kind, of) = match c_visible_val(v) {
            Val::I32(x) => (WASMTIME_I32, wasmtime_valunion_t { i32: x }),
            Val::I64(x) => (WASMTIME_I64, wasmtime_valunion_t { i64: x }),
            Val::F32(x) => (
                WASMTIME_F32,
                wasmtime_valunion_t {
                    f32: f32::from_bits(x),
                },
            ),
            Val::F64(x) => (
                WASMTIME_F64,
                wasmtime_valunion_t {
                    f64: f64::from_bits(x),
                },
            ),
            Val::V128(x) => (
                WASMTIME_V128,
                wasmtime_valunion_t {
                    v128: x.as_u128().to_le_bytes(),
                },
            ),
            Val::FuncRef(f) => (
                WASMTIME_FUNCREF,
                wasmtime_valunion_t {
                    funcref: match f {
                        Some(f) => self.func_to_c(f),
                        None => wasmtime_func_t {
                            store_id: 0,
                            index: 0,
                        },
                    },
                },
            ),
            Val::ExternRef(e) => (
                WASMTIME_EXTERNREF,
                wasmtime_valunion_t {
                    externref: match e {
                        Some(e) => self.externref_to_c(e),
                        None => wasmtime_externref_t {
                            store_id: 0,
                            private1: 0,
                            private2: 0,
                        },
                    },
                },
            ),
            Val::AnyRef(a) => (
                WASMTIME_ANYREF,
                wasmtime_valunion_t {
                    anyref: self.anyref_to_c(a),
                },
            ),
            Val::ExnRef(_) => unreachable!("exception references read as null funcrefs"),
        };
        wasmtime_val_t { kind, of }
    }
}

/// The runtime value of type `ty` in a raw slot. Raw references are the runtime's own raw
/// forms (`Func::to_raw`, `ExternRef::to_raw`), so raw buffers pass to and from compiled code
/// unchanged.
pub(crate) fn val_from_raw(
    mut store: impl AsContextMut<Data = StoreData>,
    raw: &wasmtime_val_raw_t,
    ty: &ValType,
) -> Result<Val> {
    // SAFETY: every field of the union is plain data of at most 16 bytes, and a raw slot is
    // always 16 initialized bytes.
    unsafe {
        Ok(match ty {
            ValType::I32 => Val::I32(raw.i32),
            ValType::I64 => Val::I64(raw.i64),
            ValType::F32 => Val::F32(raw.f32.to_bits()),
            ValType::F64 => Val::F64(raw.f64.to_bits()),
            ValType::V128 => Val::V128(u128::from_le_bytes(raw.v128).into()),
            ValType::Ref(r) if r.heap_type().is_extern() => {
                if raw.externref == 0 {
                    Val::ExternRef(None)
                } else {
                    Val::ExternRef(Some(
                        ExternRef::from_raw(&mut store, raw.externref)
                            .ok_or_else(|| anyhow!("invalid raw externref"))?,
                    ))
                }
            }
            ValType::Ref(_) if raw.funcref.is_null() => Val::FuncRef(None),
            ValType::Ref(_) => Val::FuncRef(Some(
                Func::from_raw(&mut store, raw.funcref)
                    .ok_or_else(|| anyhow!("invalid raw funcref"))?,
            )),
        })
    }
}

/// The raw slot of a runtime value of `store`.
pub(crate) fn val_to_raw(
    mut store: impl AsContextMut<Data = StoreData>,
    v: Val,
) -> Result<wasmtime_val_raw_t> {
    let mut raw = wasmtime_val_raw_t::default();
    match c_visible_val(v) {
        Val::I32(x) => raw.i32 = x,
        Val::I64(x) => raw.i64 = x,
        Val::F32(x) => raw.f32 = f32::from_bits(x),
        Val::F64(x) => raw.f64 = f64::from_bits(x),
        Val::V128(x) => raw.v128 = x.as_u128().to_le_bytes(),
        Val::FuncRef(f) => raw.funcref = f.map_or(ptr::null_mut(), |f| f.to_raw(&mut store)),
        Val::ExternRef(None) => raw.externref = 0,
        Val::ExternRef(Some(e)) => raw.externref = e.to_raw(&mut store)?,
        Val::AnyRef(a) => raw.anyref = a.map_or(0, |a| a.to_raw_unrooted()),
        Val::ExnRef(_) => unreachable!("exception references read as null funcrefs"),
    }
    Ok(raw)
}

/// Releases the value's externref, if it holds one (see `externref_roots`).
#[no_mangle]
pub unsafe extern "C" fn wasmtime_val_unroot(
    context: &mut wasmtime_context_t,
    val: *mut wasmtime_val_t,
) {
    // SAFETY: C passes a value it owns (or NULL).
    let Some(val) = (unsafe { val.as_mut() }) else {
        return;
    };
    if val.kind == WASMTIME_EXTERNREF {
        // SAFETY: the kind says which member is set.
        unsafe { wasmtime_externref_unroot(context, &mut val.of.externref) };
    }
}

/// Copies a value; a copied externref is a new root.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_val_clone(
    context: &mut wasmtime_context_t,
    src: &wasmtime_val_t,
    dst: *mut wasmtime_val_t,
) {
    let mut copy = *src;
    if src.kind == WASMTIME_EXTERNREF {
        // SAFETY: the kind says which member is set; `copy.of.externref` is writable.
        unsafe { wasmtime_externref_clone(context, &src.of.externref, &mut copy.of.externref) };
    }
    // SAFETY: `dst` is an output pointer of the caller.
    unsafe { ptr::write(dst, copy) }
}

/// The data of an externref made through the C API.
pub(crate) struct CExternRefData(ForeignData);

/// A new externref holding `data`; `finalizer` runs with `data` when the externref is
/// freed: once unrooted and unreachable from wasm (see `externref_roots`), or with the store.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_externref_new(
    context: &mut wasmtime_context_t,
    data: *mut c_void,
    finalizer: Finalizer,
    out: *mut wasmtime_externref_t,
) -> bool {
    let payload = CExternRefData(ForeignData::new(data, finalizer));
    let made = crate::catch_panic(|| {
        // Externrefs made and unrooted in a loop are freed here, from time to time.
        crate::externref_roots::maybe_collect(context);
        ExternRef::new(&mut context.store, payload)
    });
    match made {
        Ok(r) => {
            let c = context.data_mut().externref_to_c(r);
            // SAFETY: `out` is an output pointer of the caller.
            unsafe { ptr::write(out, c) };
            true
        }
        Err(_) => false,
    }
}

/// The data an externref was made with (NULL for a null externref or one made otherwise).
#[no_mangle]
pub extern "C" fn wasmtime_externref_data(
    context: &mut wasmtime_context_t,
    r: &wasmtime_externref_t,
) -> *mut c_void {
    crate::abort_on_panic("wasmtime_externref_data", || {
        let Ok(Some(e)) = context.data().externref_from_c(r) else {
            return ptr::null_mut();
        };
        match e.data(&context.store) {
            Ok(Some(any)) => any
                .downcast_ref::<CExternRefData>()
                .map_or(ptr::null_mut(), |d| d.0.data),
            _ => ptr::null_mut(),
        }
    })
}

/// Copies an externref handle: a new root of the same externref.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_externref_clone(
    context: &mut wasmtime_context_t,
    r: &wasmtime_externref_t,
    out: *mut wasmtime_externref_t,
) {
    let copy = crate::abort_on_panic("wasmtime_externref_clone", || {
        match context.data().externref_from_c(r) {
            Ok(Some(e)) => context.data_mut().externref_to_c(e),
            // Null, or not a live handle of this store: a plain copy.
            _ => *r,
        }
    });
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { ptr::write(out, copy) }
}

/// Releases a handle (a root; see `externref_roots`) and makes it null. The externref is
/// freed by a later collection once nothing else holds it.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_externref_unroot(
    context: &mut wasmtime_context_t,
    r: *mut wasmtime_externref_t,
) {
    // SAFETY: C passes a handle it owns (or NULL).
    let Some(r) = (unsafe { r.as_mut() }) else {
        return;
    };
    crate::abort_on_panic("wasmtime_externref_unroot", || {
        let data = context.data_mut();
        if r.store_id == data.id {
            if let Some(i) = (r.private1 as usize).checked_sub(1) {
                data.externrefs.unroot(i);
            }
        }
    });
    *r = wasmtime_externref_t {
        store_id: 0,
        private1: 0,
        private2: 0,
    };
}

/// The externref of a raw value (null for 0 or an unknown value).
#[no_mangle]
pub unsafe extern "C" fn wasmtime_externref_from_raw(
    context: &mut wasmtime_context_t,
    raw: u32,
    out: *mut wasmtime_externref_t,
) {
    let c = crate::abort_on_panic("wasmtime_externref_from_raw", || match ExternRef::from_raw(
        &mut context.store,
        raw,
    ) {
        Some(e) => context.data_mut().externref_to_c(e),
        None => wasmtime_externref_t {
            store_id: 0,
            private1: 0,
            private2: 0,
        },
    });
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { ptr::write(out, c) }
}

/// The raw value of an externref (0 for null or another store's reference).
#[no_mangle]
pub extern "C" fn wasmtime_externref_to_raw(
    context: &mut wasmtime_context_t,
    r: &wasmtime_externref_t,
) -> u32 {
    crate::abort_on_panic("wasmtime_externref_to_raw", || {
        match context.data().externref_from_c(r) {
            Ok(Some(e)) => e.to_raw(&mut context.store).unwrap_or(0),
            _ => 0,
        }
    })
}

const NULL_ANYREF: wasmtime_anyref_t = wasmtime_anyref_t {
    store_id: 0,
    private1: 0,
    private2: 0,
};

impl StoreData {
    /// The C handle of an anyref: the store's id and the reference's raw form (an `i31`
    /// needs no root: it is its own value).
    pub(crate) fn anyref_to_c(&self, r: Option<AnyRef>) -> wasmtime_anyref_t {
        match r {
            Some(r) => wasmtime_anyref_t {
                store_id: self.id,
                private1: r.to_raw_unrooted(),
                private2: 0,
            },
            None => NULL_ANYREF,
        }
    }

    /// The anyref of a C handle (`None` for null).
    pub(crate) fn anyref_from_c(&self, r: &wasmtime_anyref_t) -> Result<Option<AnyRef>> {
        if r.store_id == 0 {
            return Ok(None);
        }
        if r.store_id != self.id {
            bail!("anyref used with the wrong store");
        }
        match AnyRef::from_raw_unrooted(r.private1) {
            Some(a) => Ok(Some(a)),
            None => bail!("not an anyref of this store"),
        }
    }
}

/// Copies an anyref handle (an `i31` handle is its value: nothing to root).
#[no_mangle]
pub unsafe extern "C" fn wasmtime_anyref_clone(
    _context: &mut wasmtime_context_t,
    r: &wasmtime_anyref_t,
    out: *mut wasmtime_anyref_t,
) {
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { ptr::write(out, *r) }
}

/// Releases an anyref handle: nothing to release (every anyref is an `i31` until the GC
/// heap exists), but the handle becomes null, as after Wasmtime's unroot.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_anyref_unroot(
    _context: &mut wasmtime_context_t,
    r: *mut wasmtime_anyref_t,
) {
    if !r.is_null() {
        // SAFETY: a non-null `r` points to the caller's handle.
        unsafe { ptr::write(r, NULL_ANYREF) }
    }
}

/// The anyref of a raw value (`wasmtime_val_raw_t::anyref`); null for 0 and for a value
/// that is no anyref of the store.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_anyref_from_raw(
    context: &mut wasmtime_context_t,
    raw: u32,
    out: *mut wasmtime_anyref_t,
) {
    let r = crate::abort_on_panic("wasmtime_anyref_from_raw", || {
        let any = AnyRef::from_raw(&mut context.store, raw);
        context.data().anyref_to_c(any)
    });
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { ptr::write(out, r) }
}

/// The raw value of an anyref (0 for null or another store's reference).
#[no_mangle]
pub extern "C" fn wasmtime_anyref_to_raw(
    context: &mut wasmtime_context_t,
    r: &wasmtime_anyref_t,
) -> u32 {
    crate::abort_on_panic("wasmtime_anyref_to_raw", || {
        match context.data().anyref_from_c(r) {
            Ok(Some(a)) => a.to_raw(&mut context.store).unwrap_or(0),
            _ => 0,
        }
    })
}

/// The `i31ref` of the low 31 bits of `i31`.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_anyref_from_i31(
    context: &mut wasmtime_context_t,
    i31: u32,
    out: *mut wasmtime_anyref_t,
) {
    let r = crate::abort_on_panic("wasmtime_anyref_from_i31", || {
        let any = AnyRef::from_i31(&mut context.store, I31::wrapping_u32(i31));
        context.data().anyref_to_c(Some(any))
    });
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { ptr::write(out, r) }
}

/// The `i31` of an anyref, if it is an `i31ref`.
fn anyref_i31(context: &mut wasmtime_context_t, r: &wasmtime_anyref_t) -> Option<I31> {
    let any = context.data().anyref_from_c(r).ok()??;
    any.as_i31(&context.store).ok()?
}

/// Writes the zero-extended value of an `i31ref` to `dst`; false (and nothing written) for
/// null or another reference.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_anyref_i31_get_u(
    context: &mut wasmtime_context_t,
    r: &wasmtime_anyref_t,
    dst: *mut u32,
) -> bool {
    let v = crate::abort_on_panic("wasmtime_anyref_i31_get_u", || anyref_i31(context, r));
    match v {
        Some(v) => {
            // SAFETY: `dst` is an output pointer of the caller.
            unsafe { ptr::write(dst, v.get_u32()) };
            true
        }
        None => false,
    }
}

/// Writes the sign-extended value of an `i31ref` to `dst`; false (and nothing written) for
/// null or another reference.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_anyref_i31_get_s(
    context: &mut wasmtime_context_t,
    r: &wasmtime_anyref_t,
    dst: *mut i32,
) -> bool {
    let v = crate::abort_on_panic("wasmtime_anyref_i31_get_s", || anyref_i31(context, r));
    match v {
        Some(v) => {
            // SAFETY: `dst` is an output pointer of the caller.
            unsafe { ptr::write(dst, v.get_i32()) };
            true
        }
        None => false,
    }
}

/// `v` as the 29 API shows it: that API has no exception references, and the host reads
/// them as null funcrefs, as it did before wasmjit's Rust API had them.
fn c_visible_val(v: Val) -> Val {
    match v {
        Val::ExnRef(_) => Val::FuncRef(None),
        v => v,
    }
}
