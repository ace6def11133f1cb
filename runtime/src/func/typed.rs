//! Statically typed calls: `TypedFunc<Params, Results>` checks types once, then calls without
//! allocating.

use crate::externref::{ExternRef, ManuallyRooted};
use crate::func::Func;
use crate::store::{AsContextMut, StoreOpaque};
use crate::types::{HeapType, RefType, ValType};
use crate::values::V128;
use crate::vm::vmcontext::{VMFuncRef, ValRaw};
use anyhow::{bail, Result};
use std::marker::PhantomData;

/// Most parameters or results a typed call carries (the tuple impls stop at 16).
const MAX_TYPED_VALUES: usize = 16;

/// A Rust type that is also a wasm value type.
pub trait WasmTy: Send + Sized + 'static {
    /// The wasm type.
    fn valtype() -> ValType;
    /// Encodes for compiled code.
    #[doc(hidden)]
    fn to_raw(self, store: &StoreOpaque) -> Result<ValRaw>;
    /// Decodes what compiled code produced.
    #[doc(hidden)]
    fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Self;
}

macro_rules! num_ty {
    ($($t:ty => $vt:ident, $to:expr, $from:expr;)*) => {$(
        impl WasmTy for $t {
            fn valtype() -> ValType {
                ValType::$vt
            }
            fn to_raw(self, _: &StoreOpaque) -> Result<ValRaw> {
                Ok($to(self))
            }
            fn from_raw(_: &mut StoreOpaque, raw: ValRaw) -> Self {
                $from(raw)
            }
        }
    )*};
}

num_ty! {
    i32 => I32, ValRaw::i32, |r: ValRaw| r.get_i32();
    u32 => I32, |v: u32| ValRaw::i32(v as i32), |r: ValRaw| r.get_i32() as u32;
    i64 => I64, ValRaw::i64, |r: ValRaw| r.get_i64();
    u64 => I64, |v: u64| ValRaw::i64(v as i64), |r: ValRaw| r.get_i64() as u64;
    f32 => F32, |v: f32| ValRaw::f32(v.to_bits()), |r: ValRaw| f32::from_bits(r.get_f32());
    f64 => F64, |v: f64| ValRaw::f64(v.to_bits()), |r: ValRaw| f64::from_bits(r.get_f64());
    V128 => V128, |v: V128| ValRaw::u128(v.as_u128()), |r: ValRaw| V128::from(r.get_u128());
}

impl WasmTy for Option<Func> {
    fn valtype() -> ValType {
        ValType::FUNCREF
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<ValRaw> {
        crate::Val::FuncRef(self).to_raw_in(store)
    }
    fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Self {
        Func::from_funcref_word(store, raw.get_reference())
    }
}

impl WasmTy for Option<ExternRef> {
    fn valtype() -> ValType {
        ValType::EXTERNREF
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<ValRaw> {
        crate::Val::ExternRef(self).to_raw_in(store)
    }
    fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Self {
        ExternRef::from_word(store, raw.get_reference())
    }
}

impl WasmTy for Func {
    /// `(ref func)`.
    fn valtype() -> ValType {
        ValType::Ref(RefType::new(false, HeapType::Func))
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<ValRaw> {
        crate::Val::FuncRef(Some(self)).to_raw_in(store)
    }
    fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Self {
        Func::from_funcref_word(store, raw.get_reference())
            .expect("a non-null funcref type holds no null")
    }
}

impl WasmTy for ExternRef {
    /// `(ref extern)`.
    fn valtype() -> ValType {
        ValType::Ref(RefType::new(false, HeapType::Extern))
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<ValRaw> {
        crate::Val::ExternRef(Some(self)).to_raw_in(store)
    }
    fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Self {
        ExternRef::from_word(store, raw.get_reference())
            .expect("a non-null externref type holds no null")
    }
}

impl WasmTy for Option<crate::ExnRef> {
    fn valtype() -> ValType {
        ValType::EXNREF
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<ValRaw> {
        crate::Val::ExnRef(self).to_raw_in(store)
    }
    fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Self {
        store.exnref_for_host(raw.get_reference())
    }
}

impl WasmTy for crate::ExnRef {
    /// `(ref exn)`.
    fn valtype() -> ValType {
        ValType::Ref(RefType::new(false, HeapType::Exn))
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<ValRaw> {
        crate::Val::ExnRef(Some(self)).to_raw_in(store)
    }
    fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Self {
        store
            .exnref_for_host(raw.get_reference())
            .expect("a non-null exnref type holds no null")
    }
}

impl WasmTy for ManuallyRooted<ExternRef> {
    fn valtype() -> ValType {
        ExternRef::valtype()
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<ValRaw> {
        self.0.to_raw(store)
    }
    fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Self {
        ManuallyRooted(<ExternRef as WasmTy>::from_raw(store, raw))
    }
}

impl WasmTy for Option<ManuallyRooted<ExternRef>> {
    fn valtype() -> ValType {
        ValType::EXTERNREF
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<ValRaw> {
        self.map(|r| r.0).to_raw(store)
    }
    fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Self {
        Option::<ExternRef>::from_raw(store, raw).map(ManuallyRooted)
    }
}

/// A list of wasm values: `()`, one `WasmTy`, or a tuple of up to 16.
pub trait WasmParams: Send + Sized {
    /// Number of values.
    #[doc(hidden)]
    const COUNT: usize;
    /// The wasm types, in order.
    #[doc(hidden)]
    fn valtypes() -> Vec<ValType>;
    /// Checks against a function type's list.
    #[doc(hidden)]
    fn typecheck(actual: impl ExactSizeIterator<Item = ValType>) -> Result<()> {
        Self::typecheck_by(actual, |actual, expected| actual == expected)
    }
    /// Checks against a function type's results: each may be a subtype of the Rust type's
    /// (a `(ref $t)` result reads as an `Option<Func>`).
    #[doc(hidden)]
    fn typecheck_results(actual: impl ExactSizeIterator<Item = ValType>) -> Result<()> {
        Self::typecheck_by(actual, ValType::matches)
    }
    /// Checks each of `actual` against the Rust type's with `fits(actual, expected)`.
    #[doc(hidden)]
    fn typecheck_by(
        actual: impl ExactSizeIterator<Item = ValType>,
        fits: impl Fn(&ValType, &ValType) -> bool,
    ) -> Result<()> {
        let expected = Self::valtypes();
        let actual: Vec<ValType> = actual.collect();
        let ok =
            expected.len() == actual.len() && actual.iter().zip(&expected).all(|(a, e)| fits(a, e));
        if !ok {
            let show = |v: &[ValType]| {
                v.iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            bail!("expected [{}], found [{}]", show(&expected), show(&actual));
        }
        Ok(())
    }
    /// Encodes into `out[..COUNT]`.
    #[doc(hidden)]
    fn store_raw(self, store: &StoreOpaque, out: &mut [ValRaw]) -> Result<()>;
    /// Decodes from `raw[..COUNT]`.
    #[doc(hidden)]
    fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self;
}

/// Results of a typed call: the same lists as parameters.
pub trait WasmResults: WasmParams {}
impl<T: WasmParams> WasmResults for T {}

impl WasmParams for () {
    const COUNT: usize = 0;
    fn valtypes() -> Vec<ValType> {
        Vec::new()
    }
    fn store_raw(self, _: &StoreOpaque, _: &mut [ValRaw]) -> Result<()> {
        Ok(())
    }
    fn load_raw(_: &mut StoreOpaque, _: &[ValRaw]) -> Self {}
}

impl<A: WasmTy> WasmParams for A {
    const COUNT: usize = 1;
    fn valtypes() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn store_raw(self, store: &StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
        out[0] = self.to_raw(store)?;
        Ok(())
    }
    fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self {
        A::from_raw(store, raw[0])
    }
}

macro_rules! tuple_params {
    ($n:expr; $($t:ident $i:tt)*) => {
        impl<$($t: WasmTy),*> WasmParams for ($($t,)*) {
            const COUNT: usize = $n;
            fn valtypes() -> Vec<ValType> {
                vec![$($t::valtype()),*]
            }
            fn store_raw(self, store: &StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
                $(out[$i] = self.$i.to_raw(store)?;)*
                Ok(())
            }
            fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self {
                ($($t::from_raw(store, raw[$i]),)*)
            }
        }
    };
}

tuple_params!(1; A 0);
tuple_params!(2; A 0 B 1);
tuple_params!(3; A 0 B 1 C 2);
tuple_params!(4; A 0 B 1 C 2 D 3);
tuple_params!(5; A 0 B 1 C 2 D 3 E 4);
tuple_params!(6; A 0 B 1 C 2 D 3 E 4 F 5);
tuple_params!(7; A 0 B 1 C 2 D 3 E 4 F 5 G 6);
tuple_params!(8; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7);
tuple_params!(9; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8);
tuple_params!(10; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9);
tuple_params!(11; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10);
tuple_params!(12; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11);
tuple_params!(13; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11 M 12);
tuple_params!(14; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11 M 12 N 13);
tuple_params!(15; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11 M 12 N 13 O 14);
tuple_params!(16; A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11 M 12 N 13 O 14 P 15);

/// A function whose parameter and result types were checked once, so calls neither check
/// nor allocate.
pub struct TypedFunc<Params, Results> {
    func: Func,
    funcref: *const VMFuncRef,
    _marker: PhantomData<fn(Params) -> Results>,
}

// SAFETY: `funcref` is only dereferenced with the owning store, which calls require.
unsafe impl<P, R> Send for TypedFunc<P, R> {}
// SAFETY: as above.
unsafe impl<P, R> Sync for TypedFunc<P, R> {}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}

impl<Params: WasmParams, Results: WasmResults> TypedFunc<Params, Results> {
    pub(crate) fn new(func: Func, funcref: *const VMFuncRef) -> Self {
        const { assert!(MAX_TYPED_VALUES >= 16) };
        Self {
            func,
            funcref,
            _marker: PhantomData,
        }
    }

    /// A typed view of `func` without checking its type (see [`Func::typed`], which checks).
    ///
    /// # Safety
    /// `Params` and `Results` must match `func`'s type: calls pass and read raw values as
    /// those types.
    pub unsafe fn new_unchecked(store: impl crate::AsContext, func: Func) -> Self {
        let store = store.as_context();
        let opaque = &store.0.opaque;
        Self::new(func, opaque.funcs[func.0.check(opaque)].funcref)
    }

    /// The untyped function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function. Traps come back as errors that downcast to
    /// [`Trap`](crate::Trap).
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        opaque.check_sync_allowed()?;
        self.call_impl(opaque, params)
    }

    /// `call` without the sync check: shared by the sync and async entry points.
    pub(crate) fn call_impl(&self, opaque: &mut StoreOpaque, params: Params) -> Result<Results> {
        if !self.func.0.belongs_to(opaque) {
            bail!("function used with the wrong store");
        }
        let mut raw = [ValRaw::default(); MAX_TYPED_VALUES];
        params.store_raw(opaque, &mut raw)?;
        let len = Params::COUNT.max(Results::COUNT);
        // SAFETY: the types were checked when this TypedFunc was made, and `raw` is large
        // enough for the parameters and the results.
        unsafe { super::call_raw(opaque, self.func.0.index, &mut raw[..len.max(1)])? };
        let _ = self.funcref;
        Ok(Results::load_raw(opaque, &raw))
    }
}
