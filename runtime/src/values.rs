//! Values crossing between the host and wasm.

use crate::anyref::AnyRef;
use crate::exnref::ExnRef;
use crate::externref::ExternRef;
use crate::func::Func;
use crate::store::{AsContextMut, StoreOpaque};
use crate::types::{HeapType, RefType, ValType};
use crate::vm::vmcontext::ValRaw;
use anyhow::{bail, Result};

/// A 128-bit vector value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct V128(u128);

impl V128 {
    /// The bits as an integer.
    pub fn as_u128(&self) -> u128 {
        self.0
    }
}

impl From<u128> for V128 {
    fn from(v: u128) -> Self {
        V128(v)
    }
}

impl From<V128> for u128 {
    fn from(v: V128) -> u128 {
        v.0
    }
}

/// A reference value.
#[derive(Debug, Clone, Copy)]
pub enum Ref {
    /// A function reference (or null).
    Func(Option<Func>),
    /// An external reference (or null).
    Extern(Option<ExternRef>),
    /// An exception reference (or null).
    Exn(Option<ExnRef>),
    /// A reference of the internal hierarchy (GC; or null).
    Any(Option<AnyRef>),
}

impl Ref {
    /// The null reference of `heap_type`'s hierarchy.
    pub fn null(heap_type: &HeapType) -> Ref {
        match heap_type.top() {
            HeapType::Extern => Ref::Extern(None),
            HeapType::Exn => Ref::Exn(None),
            HeapType::Any => Ref::Any(None),
            _ => Ref::Func(None),
        }
    }

    /// The reference's most precise type (see [`Val::ty`]): a function's concrete type, the
    /// bottom type for null.
    pub fn ty(&self, store: impl crate::AsContext) -> Result<RefType> {
        Ok(Val::from(*self).ty(store)?.unwrap_ref().clone())
    }

    /// Whether the reference is of type `ty` (or a subtype of it).
    pub fn matches_ty(&self, store: impl crate::AsContext, ty: &RefType) -> Result<bool> {
        Val::from(*self).matches_ty(store, &ValType::Ref(ty.clone()))
    }

    /// Whether this is a null reference.
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Ref::Func(None) | Ref::Extern(None) | Ref::Exn(None) | Ref::Any(None)
        )
    }

    /// Whether this is not a null reference.
    pub fn is_non_null(&self) -> bool {
        !self.is_null()
    }
    /// The function, if this is a non-null funcref.
    pub fn as_func(&self) -> Option<Option<&Func>> {
        match self {
            Ref::Func(f) => Some(f.as_ref()),
            _ => None,
        }
    }
    /// The externref, if this is an externref.
    pub fn as_extern(&self) -> Option<Option<&ExternRef>> {
        match self {
            Ref::Extern(e) => Some(e.as_ref()),
            _ => None,
        }
    }
    /// The exnref, if this is an exnref.
    pub fn as_exn(&self) -> Option<Option<&ExnRef>> {
        match self {
            Ref::Exn(e) => Some(e.as_ref()),
            _ => None,
        }
    }
    /// The anyref, if this is one.
    pub fn as_any(&self) -> Option<Option<&AnyRef>> {
        match self {
            Ref::Any(e) => Some(e.as_ref()),
            _ => None,
        }
    }
    /// Whether this is an anyref (null or not).
    pub fn is_any(&self) -> bool {
        matches!(self, Ref::Any(_))
    }
    /// The anyref; panics for another reference.
    pub fn unwrap_any(&self) -> Option<&AnyRef> {
        self.as_any().expect("Ref::unwrap_any on a non-anyref")
    }
    /// Whether this is an exnref (null or not).
    pub fn is_exn(&self) -> bool {
        matches!(self, Ref::Exn(_))
    }
    /// The exnref; panics for another reference.
    pub fn unwrap_exn(&self) -> Option<&ExnRef> {
        self.as_exn().expect("Ref::unwrap_exn on a non-exnref")
    }
    /// Whether this is a funcref (null or not).
    pub fn is_func(&self) -> bool {
        matches!(self, Ref::Func(_))
    }
    /// Whether this is an externref (null or not).
    pub fn is_extern(&self) -> bool {
        matches!(self, Ref::Extern(_))
    }
    /// The funcref; panics for an externref.
    pub fn unwrap_func(&self) -> Option<&Func> {
        self.as_func().expect("Ref::unwrap_func on a non-funcref")
    }
    /// The externref; panics for a funcref.
    pub fn unwrap_extern(&self) -> Option<&ExternRef> {
        self.as_extern()
            .expect("Ref::unwrap_extern on a non-externref")
    }
    pub(crate) fn to_word(self, store: &StoreOpaque) -> Result<u64> {
        Val::from(self).to_raw_in(store).map(|r| r.get_reference())
    }
    pub(crate) fn from_word(store: &mut StoreOpaque, heap: &HeapType, word: u64) -> Ref {
        if heap.is_exn() {
            Ref::Exn(store.exnref_for_host(word))
        } else if heap.is_any() {
            Ref::Any(AnyRef::from_word(word))
        } else if heap.is_extern() {
            Ref::Extern(ExternRef::from_word(store, word))
        } else {
            Ref::Func(Func::from_funcref_word(store, word))
        }
    }
}

impl From<Func> for Ref {
    fn from(f: Func) -> Ref {
        Ref::Func(Some(f))
    }
}
impl From<Option<Func>> for Ref {
    fn from(f: Option<Func>) -> Ref {
        Ref::Func(f)
    }
}
impl From<ExternRef> for Ref {
    fn from(e: ExternRef) -> Ref {
        Ref::Extern(Some(e))
    }
}
impl From<Option<ExternRef>> for Ref {
    fn from(e: Option<ExternRef>) -> Ref {
        Ref::Extern(e)
    }
}
impl From<AnyRef> for Ref {
    fn from(e: AnyRef) -> Ref {
        Ref::Any(Some(e))
    }
}
impl From<Option<AnyRef>> for Ref {
    fn from(e: Option<AnyRef>) -> Ref {
        Ref::Any(e)
    }
}
impl From<ExnRef> for Ref {
    fn from(e: ExnRef) -> Ref {
        Ref::Exn(Some(e))
    }
}
impl From<Option<ExnRef>> for Ref {
    fn from(e: Option<ExnRef>) -> Ref {
        Ref::Exn(e)
    }
}

/// A wasm value.
#[derive(Debug, Clone, Copy)]
pub enum Val {
    /// 32-bit integer.
    I32(i32),
    /// 64-bit integer.
    I64(i64),
    /// 32-bit float, as its bits.
    F32(u32),
    /// 64-bit float, as its bits.
    F64(u64),
    /// 128-bit vector.
    V128(V128),
    /// A function reference.
    FuncRef(Option<Func>),
    /// An external reference.
    ExternRef(Option<ExternRef>),
    /// An exception reference.
    ExnRef(Option<ExnRef>),
    /// A reference of the internal hierarchy (GC).
    AnyRef(Option<AnyRef>),
}

impl Val {
    /// The null reference of a reference type, or zero of a numeric type.
    pub fn default_for_ty(ty: &ValType) -> Option<Val> {
        Some(match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(V128(0)),
            // Null even for a non-nullable type: a placeholder that must be overwritten.
            ValType::Ref(r) if r.heap_type().is_extern() => Val::ExternRef(None),
            ValType::Ref(r) if r.heap_type().is_exn() => Val::ExnRef(None),
            ValType::Ref(r) if r.heap_type().is_any() => Val::AnyRef(None),
            ValType::Ref(_) => Val::FuncRef(None),
        })
    }

    /// A null funcref.
    pub fn null_func_ref() -> Val {
        Val::FuncRef(None)
    }

    /// A null externref.
    pub fn null_extern_ref() -> Val {
        Val::ExternRef(None)
    }

    /// The value's most precise type: a function's reference type names its function type,
    /// null is of the bottom type of its hierarchy (`nullfuncref`, `nullexternref`).
    /// A `Result`, as in Wasmtime (whose GC references can fail to load their type); always
    /// `Ok` here.
    pub fn ty(&self, store: impl crate::AsContext) -> anyhow::Result<ValType> {
        let store = store.as_context();
        Ok(match self {
            Val::FuncRef(None) => ValType::NULLFUNCREF,
            Val::FuncRef(Some(f)) => {
                ValType::Ref(RefType::new(false, HeapType::ConcreteFunc(f.ty(&store))))
            }
            Val::ExternRef(None) => ValType::NULLEXTERNREF,
            Val::ExternRef(Some(_)) => ValType::Ref(RefType::new(false, HeapType::Extern)),
            Val::ExnRef(None) => ValType::NULLEXNREF,
            Val::ExnRef(Some(_)) => ValType::Ref(RefType::new(false, HeapType::Exn)),
            Val::AnyRef(None) => ValType::NULLREF,
            Val::AnyRef(Some(_)) => ValType::Ref(RefType::new(false, HeapType::I31)),
            _ => self.static_ty(),
        })
    }

    pub(crate) fn static_ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FUNCREF,
            Val::ExternRef(_) => ValType::EXTERNREF,
            Val::ExnRef(_) => ValType::EXNREF,
            Val::AnyRef(_) => ValType::ANYREF,
        }
    }

    /// Whether the value is of type `ty` (or of a subtype: a function matches `funcref` and its
    /// own concrete type, null matches every nullable reference type of its hierarchy).
    pub fn matches_ty(&self, store: impl crate::AsContext, ty: &ValType) -> Result<bool> {
        let store = store.as_context();
        Ok(crate::matching::val_matches(
            &store.0.opaque,
            self,
            ty.to_wasm(),
        ))
    }

    /// The `i32`, if this is one.
    pub fn i32(&self) -> Option<i32> {
        match self {
            Val::I32(v) => Some(*v),
            _ => None,
        }
    }
    /// The `i64`, if this is one.
    pub fn i64(&self) -> Option<i64> {
        match self {
            Val::I64(v) => Some(*v),
            _ => None,
        }
    }
    /// The `f32`, if this is one.
    pub fn f32(&self) -> Option<f32> {
        match self {
            Val::F32(v) => Some(f32::from_bits(*v)),
            _ => None,
        }
    }
    /// The `f64`, if this is one.
    pub fn f64(&self) -> Option<f64> {
        match self {
            Val::F64(v) => Some(f64::from_bits(*v)),
            _ => None,
        }
    }
    /// The `v128`, if this is one.
    pub fn v128(&self) -> Option<V128> {
        match self {
            Val::V128(v) => Some(*v),
            _ => None,
        }
    }
    /// The funcref, if this is one.
    pub fn funcref(&self) -> Option<Option<&Func>> {
        match self {
            Val::FuncRef(f) => Some(f.as_ref()),
            _ => None,
        }
    }
    /// The externref, if this is one.
    pub fn externref(&self) -> Option<Option<&ExternRef>> {
        match self {
            Val::ExternRef(e) => Some(e.as_ref()),
            _ => None,
        }
    }
    /// The exnref, if this is one.
    pub fn exnref(&self) -> Option<Option<&ExnRef>> {
        match self {
            Val::ExnRef(e) => Some(e.as_ref()),
            _ => None,
        }
    }
    /// The anyref, if this is one.
    pub fn anyref(&self) -> Option<Option<&AnyRef>> {
        match self {
            Val::AnyRef(e) => Some(e.as_ref()),
            _ => None,
        }
    }
    /// The anyref, or a panic.
    pub fn unwrap_anyref(&self) -> Option<&AnyRef> {
        self.anyref().expect("expected anyref")
    }
    /// The exnref, or a panic.
    pub fn unwrap_exnref(&self) -> Option<&ExnRef> {
        self.exnref().expect("expected exnref")
    }
    /// The `i32`, or a panic.
    pub fn unwrap_i32(&self) -> i32 {
        self.i32().expect("expected i32")
    }
    /// The `i64`, or a panic.
    pub fn unwrap_i64(&self) -> i64 {
        self.i64().expect("expected i64")
    }
    /// The `f32`, or a panic.
    pub fn unwrap_f32(&self) -> f32 {
        self.f32().expect("expected f32")
    }
    /// The `f64`, or a panic.
    pub fn unwrap_f64(&self) -> f64 {
        self.f64().expect("expected f64")
    }
    /// The `v128`, or a panic.
    pub fn unwrap_v128(&self) -> V128 {
        self.v128().expect("expected v128")
    }
    /// The funcref, or a panic.
    pub fn unwrap_funcref(&self) -> Option<&Func> {
        self.funcref().expect("expected funcref")
    }
    /// The externref, or a panic.
    pub fn unwrap_externref(&self) -> Option<&ExternRef> {
        self.externref().expect("expected externref")
    }
    /// The reference, if this is one.
    pub fn ref_(self) -> Option<Ref> {
        match self {
            Val::FuncRef(f) => Some(Ref::Func(f)),
            Val::ExternRef(e) => Some(Ref::Extern(e)),
            Val::ExnRef(e) => Some(Ref::Exn(e)),
            Val::AnyRef(e) => Some(Ref::Any(e)),
            _ => None,
        }
    }
    /// Whether this is a reference value.
    pub fn is_ref(&self) -> bool {
        matches!(
            self,
            Val::FuncRef(_) | Val::ExternRef(_) | Val::ExnRef(_) | Val::AnyRef(_)
        )
    }

    /// The value's raw form, as [`ValRaw`] slots hold it (for [`Func::call_unchecked`] and
    /// [`Func::new_unchecked`]); errors for a reference of another store.
    pub fn to_raw(&self, mut store: impl AsContextMut) -> Result<ValRaw> {
        self.to_raw_in(&store.as_context_mut().0.opaque)
    }

    /// The value of type `ty` whose raw form is `raw`.
    ///
    /// # Safety
    /// `raw` must be a value of type `ty`; a reference must be one of `store`'s raw
    /// references (a funcref pointer or externref index this store gave out). A funcref
    /// pointer that is no function of the store reads as null.
    pub unsafe fn from_raw(mut store: impl AsContextMut, raw: ValRaw, ty: ValType) -> Val {
        let opaque = &mut store.as_context_mut().0.opaque;
        match &ty {
            ValType::Ref(r) if r.heap_type().top() == HeapType::Func => {
                Val::FuncRef(Func::try_from_funcref_word(opaque, raw.get_reference()))
            }
            _ => Val::from_raw_in(opaque, raw, ty),
        }
    }

    /// A null reference of `heap_type`'s hierarchy.
    pub fn null_ref(heap_type: &HeapType) -> Val {
        Ref::null(heap_type).into()
    }

    /// Encodes the value for compiled code; errors for objects of another store.
    pub(crate) fn to_raw_in(self, store: &StoreOpaque) -> Result<ValRaw> {
        Ok(match self {
            Val::I32(v) => ValRaw::i32(v),
            Val::I64(v) => ValRaw::i64(v),
            Val::F32(v) => ValRaw::f32(v),
            Val::F64(v) => ValRaw::f64(v),
            Val::V128(v) => ValRaw::u128(v.0),
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None) => {
                ValRaw::reference(0)
            }
            Val::AnyRef(Some(a)) => ValRaw::reference(a.to_word()),
            Val::ExnRef(Some(e)) => {
                if !e.0.belongs_to(store) {
                    bail!("exnref used with the wrong store");
                }
                ValRaw::reference(e.0.index as u64 + 1)
            }
            Val::FuncRef(Some(f)) => {
                if !f.0.belongs_to(store) {
                    bail!("function used with the wrong store");
                }
                ValRaw::reference(store.funcs[f.0.index].funcref as u64)
            }
            Val::ExternRef(Some(e)) => {
                if !e.0.belongs_to(store) {
                    bail!("externref used with the wrong store");
                }
                ValRaw::reference(e.0.index as u64 + 1)
            }
        })
    }

    /// Decodes a value of type `ty` produced by compiled code.
    pub(crate) fn from_raw_in(store: &mut StoreOpaque, raw: ValRaw, ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw.get_i32()),
            ValType::I64 => Val::I64(raw.get_i64()),
            ValType::F32 => Val::F32(raw.get_f32()),
            ValType::F64 => Val::F64(raw.get_f64()),
            ValType::V128 => Val::V128(V128(raw.get_u128())),
            // The raw form of an externref is 32 bits wide (see `ExternRef::to_raw`).
            ValType::Ref(r) if r.heap_type().is_extern() => Val::ExternRef(ExternRef::from_word(
                store,
                raw.get_reference() as u32 as u64,
            )),
            ValType::Ref(r) if r.heap_type().is_exn() => {
                Val::ExnRef(store.exnref_for_host(raw.get_reference()))
            }
            // Like an externref's, the raw form of an anyref is 32 bits wide.
            ValType::Ref(r) if r.heap_type().is_any() => {
                Val::AnyRef(AnyRef::from_word(raw.get_reference() as u32 as u64))
            }
            ValType::Ref(_) => Val::FuncRef(Func::from_funcref_word(store, raw.get_reference())),
        }
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}
impl From<V128> for Val {
    fn from(v: V128) -> Val {
        Val::V128(v)
    }
}
impl From<Func> for Val {
    fn from(f: Func) -> Val {
        Val::FuncRef(Some(f))
    }
}
impl From<Option<Func>> for Val {
    fn from(f: Option<Func>) -> Val {
        Val::FuncRef(f)
    }
}
impl From<ExternRef> for Val {
    fn from(e: ExternRef) -> Val {
        Val::ExternRef(Some(e))
    }
}
impl From<Option<ExternRef>> for Val {
    fn from(e: Option<ExternRef>) -> Val {
        Val::ExternRef(e)
    }
}
impl From<AnyRef> for Val {
    fn from(e: AnyRef) -> Val {
        Val::AnyRef(Some(e))
    }
}
impl From<Option<AnyRef>> for Val {
    fn from(e: Option<AnyRef>) -> Val {
        Val::AnyRef(e)
    }
}
impl From<ExnRef> for Val {
    fn from(e: ExnRef) -> Val {
        Val::ExnRef(Some(e))
    }
}
impl From<Option<ExnRef>> for Val {
    fn from(e: Option<ExnRef>) -> Val {
        Val::ExnRef(e)
    }
}
impl From<Ref> for Val {
    fn from(r: Ref) -> Val {
        match r {
            Ref::Func(f) => Val::FuncRef(f),
            Ref::Extern(e) => Val::ExternRef(e),
            Ref::Exn(e) => Val::ExnRef(e),
            Ref::Any(e) => Val::AnyRef(e),
        }
    }
}
