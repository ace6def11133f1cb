//! `IntoFunc`: turning Rust closures into host functions with wasm types derived from the
//! closure's signature.

use crate::func::{Caller, HostFn, WasmParams, WasmTy};
use crate::instance::Instance;
use crate::store::{typed_store, StoreContextMut, StoreOpaque};
use crate::types::FuncType;
use crate::vm::vmcontext::ValRaw;
use anyhow::Result;
use std::sync::Arc;

/// What a host closure may return: values (`()`, one value, a tuple) or a `Result` of them.
pub trait WasmRet {
    /// The values.
    #[doc(hidden)]
    type Values: WasmParams;
    /// The values, or the host's error.
    #[doc(hidden)]
    fn into_result(self) -> Result<Self::Values>;
}

impl<R: WasmParams> WasmRet for R {
    type Values = R;
    fn into_result(self) -> Result<R> {
        Ok(self)
    }
}

impl<R: WasmParams> WasmRet for Result<R> {
    type Values = R;
    fn into_result(self) -> Result<R> {
        self
    }
}

/// A Rust closure usable as a host function of a `Store<T>`.
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    /// The function type and the erased body.
    #[doc(hidden)]
    fn into_host_fn(self) -> (FuncType, Arc<HostFn>);
}

macro_rules! into_func {
    ($($arg:ident $i:tt)*) => {
        impl<T: 'static, F, $($arg: WasmTy,)* R> IntoFunc<T, ($($arg,)*), R> for F
        where
            F: Fn($($arg),*) -> R + Send + Sync + 'static,
            R: WasmRet,
        {
            #[allow(non_snake_case)]
            fn into_host_fn(self) -> (FuncType, Arc<HostFn>) {
                let ty = FuncType::from_types([$($arg::valtype()),*], R::Values::valtypes());
                let body = move |store: *mut StoreOpaque, _caller: Option<Instance>, raw: &mut [ValRaw]| {
                    // SAFETY: the store is live and lent to this call.
                    let _inner = unsafe { typed_store::<T>(store) };
                    $(let $arg = $arg::from_raw(&mut _inner.opaque, raw[$i]);)*
                    let results = self($($arg),*).into_result()?;
                    results.store_raw(&_inner.opaque, raw)
                };
                (ty, Arc::new(body))
            }
        }

        impl<T: 'static, F, $($arg: WasmTy,)* R> IntoFunc<T, (Caller<'_, T>, $($arg,)*), R> for F
        where
            F: Fn(Caller<'_, T>, $($arg),*) -> R + Send + Sync + 'static,
            R: WasmRet,
        {
            #[allow(non_snake_case)]
            fn into_host_fn(self) -> (FuncType, Arc<HostFn>) {
                let ty = FuncType::from_types([$($arg::valtype()),*], R::Values::valtypes());
                let body = move |store: *mut StoreOpaque, caller: Option<Instance>, raw: &mut [ValRaw]| {
                    // SAFETY: the store is live and lent to this call.
                    let inner = unsafe { typed_store::<T>(store) };
                    $(let $arg = $arg::from_raw(&mut inner.opaque, raw[$i]);)*
                    let results = self(Caller { store: StoreContextMut(&mut *inner), caller }, $($arg),*)
                        .into_result()?;
                    results.store_raw(&inner.opaque, raw)
                };
                (ty, Arc::new(body))
            }
        }
    };
}

into_func!();
into_func!(A1 0);
into_func!(A1 0 A2 1);
into_func!(A1 0 A2 1 A3 2);
into_func!(A1 0 A2 1 A3 2 A4 3);
into_func!(A1 0 A2 1 A3 2 A4 3 A5 4);
into_func!(A1 0 A2 1 A3 2 A4 3 A5 4 A6 5);
into_func!(A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6);
into_func!(A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7);
into_func!(A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8);
into_func!(A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9);
into_func!(A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10);
into_func!(A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11);
into_func!(A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11 A13 12);
into_func!(A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11 A13 12 A14 13);
into_func!(A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11 A13 12 A14 13 A15 14);
into_func!(A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11 A13 12 A14 13 A15 14 A16 15);
