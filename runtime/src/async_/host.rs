//! Async host functions: closures returning futures, awaited on the calling fiber.

use super::block_on;
use crate::func::{Caller, Func, HostFn, WasmParams, WasmRet};
use crate::instance::Instance;
use crate::linker::{Definition, Linker};
use crate::store::{typed_store, AsContextMut, StoreContextMut, StoreOpaque};
use crate::types::FuncType;
use crate::values::Val;
use crate::vm::vmcontext::ValRaw;
use anyhow::{bail, Result};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

fn async_cx_of(store: *mut StoreOpaque) -> Result<*const super::AsyncCx> {
    // SAFETY: host functions get their own live store.
    match unsafe { (*store).current_fiber() } {
        Some(cx) => Ok(cx),
        None => {
            bail!("an async host function was called from a synchronous call: use `call_async`")
        }
    }
}

/// The async call a host function runs in, for waiting on a future there without boxing it:
/// what the C API's async host functions use, whose operation is a C continuation polled in
/// place. Only made from the [`Caller`] of a host function of an async call, and tied to it:
/// it cannot outlive the host call, nor leave its thread.
#[doc(hidden)]
pub struct AsyncHostCall<'a> {
    cx: *const super::AsyncCx,
    _call: PhantomData<&'a mut ()>,
}

impl<'a, T> Caller<'a, T> {
    /// The async call this host function runs in; the same error as an async host function
    /// called from a synchronous call when there is none.
    #[doc(hidden)]
    pub fn async_host_call(&mut self) -> Result<AsyncHostCall<'a>> {
        let cx = async_cx_of(&mut self.store.0.opaque)?;
        Ok(AsyncHostCall {
            cx,
            _call: PhantomData,
        })
    }
}

impl AsyncHostCall<'_> {
    /// Polls `future` to completion, suspending the call (the fiber) whenever it is pending,
    /// as an async host function's future is awaited. Fails when the call is cancelled.
    pub fn block_on<F: Future + ?Sized>(&self, future: Pin<&mut F>) -> Result<F::Output> {
        // SAFETY: made during a host function of an async call, and bound to it (its
        // lifetime is the call's borrow of the store; not `Send`), so this runs on that
        // call's fiber, inside a poll of its future.
        unsafe { block_on(self.cx, future) }
    }
}

/// The erased body of an async host function with typed parameters and results.
fn wrap_async_body<T, P, R, F>(func: F) -> (FuncType, Arc<HostFn>)
where
    T: 'static,
    P: WasmParams,
    R: WasmRet,
    F: for<'a> Fn(Caller<'a, T>, P) -> Box<dyn Future<Output = R> + Send + 'a>
        + Send
        + Sync
        + 'static,
{
    let ty = FuncType::from_types(P::valtypes(), <R::Values as WasmParams>::valtypes());
    let body = move |store: *mut StoreOpaque, caller: Option<Instance>, raw: &mut [ValRaw]| {
        let cx = async_cx_of(store)?;
        let output = {
            // SAFETY: the store is live and lent to this call.
            let inner = unsafe { typed_store::<T>(store) };
            let params = P::load_raw(&mut inner.opaque, raw);
            let future = func(
                Caller {
                    store: StoreContextMut(inner),
                    caller,
                },
                params,
            );
            let mut future = Pin::from(future);
            // SAFETY: async_cx is set, so this runs on the store's fiber inside a poll.
            unsafe { block_on(cx, future.as_mut())? }
        };
        let values = output.into_result()?;
        // SAFETY: the future (and its borrow of the store) is gone.
        let inner = unsafe { typed_store::<T>(store) };
        values.store_raw(&inner.opaque, raw)
    };
    (ty, Arc::new(body))
}

/// The erased body of an async host function working on `Val`s.
fn new_async_body<T, F>(ty: FuncType, func: F) -> Arc<HostFn>
where
    T: 'static,
    F: for<'a> Fn(
            Caller<'a, T>,
            &'a [Val],
            &'a mut [Val],
        ) -> Box<dyn Future<Output = Result<()>> + Send + 'a>
        + Send
        + Sync
        + 'static,
{
    Arc::new(
        move |store: *mut StoreOpaque, caller: Option<Instance>, raw: &mut [ValRaw]| {
            let cx = async_cx_of(store)?;
            // SAFETY: the store is live and lent to this call.
            let inner = unsafe { typed_store::<T>(store) };
            let params: Vec<Val> = ty
                .params()
                .enumerate()
                .map(|(i, t)| Val::from_raw_in(&mut inner.opaque, raw[i], t))
                .collect();
            let mut results: Vec<Val> = ty
                .results()
                .map(|t| Val::default_for_ty(&t).expect("every type has a default"))
                .collect();
            {
                let future = func(
                    Caller {
                        store: StoreContextMut(inner),
                        caller,
                    },
                    &params,
                    &mut results,
                );
                let mut future = Pin::from(future);
                // SAFETY: async_cx is set, so this runs on the store's fiber inside a poll.
                unsafe { block_on(cx, future.as_mut())?? };
            }
            // SAFETY: the future (and its borrow of the store) is gone.
            let inner = unsafe { typed_store::<T>(store) };
            for (i, (r, t)) in results.iter().zip(ty.results()).enumerate() {
                if r.static_ty() != t {
                    bail!(
                    "function attempted to return an incompatible value: result {i} is {}, expected {t}",
                    r.static_ty()
                );
                }
                raw[i] = r.to_raw_in(&inner.opaque)?;
            }
            Ok(())
        },
    )
}

impl Func {
    /// An async host function of type `ty` working on `Val`s. Callable only from calls made
    /// through the async entry points.
    pub fn new_async<T, F>(mut store: impl AsContextMut<Data = T>, ty: FuncType, func: F) -> Func
    where
        T: 'static,
        F: for<'a> Fn(
                Caller<'a, T>,
                &'a [Val],
                &'a mut [Val],
            ) -> Box<dyn Future<Output = Result<()>> + Send + 'a>
            + Send
            + Sync
            + 'static,
    {
        let host = new_async_body(ty.clone(), func);
        let ctx = store.as_context_mut();
        Func::from_host_fn(&mut ctx.0.opaque, &ty, host)
            .expect("registering a function type cannot fail")
    }

    /// An async host function from a closure taking a `Caller` and a tuple of parameters and
    /// returning a boxed future of its results.
    pub fn wrap_async<T, F, P, R>(mut store: impl AsContextMut<Data = T>, func: F) -> Func
    where
        T: 'static,
        P: WasmParams,
        R: WasmRet,
        F: for<'a> Fn(Caller<'a, T>, P) -> Box<dyn Future<Output = R> + Send + 'a>
            + Send
            + Sync
            + 'static,
    {
        let (ty, host) = wrap_async_body(func);
        let ctx = store.as_context_mut();
        Func::from_host_fn(&mut ctx.0.opaque, &ty, host)
            .expect("registering a function type cannot fail")
    }
}

impl<T: 'static> Linker<T> {
    /// Defines `module::name` as an async host function (see [`Func::wrap_async`]).
    pub fn func_wrap_async<F, Params, Args>(
        &mut self,
        module: &str,
        name: &str,
        func: F,
    ) -> Result<&mut Self>
    where
        Params: WasmParams,
        Args: WasmRet,
        F: for<'a> Fn(Caller<'a, T>, Params) -> Box<dyn Future<Output = Args> + Send + 'a>
            + Send
            + Sync
            + 'static,
    {
        let (ty, host) = wrap_async_body(func);
        self.insert(module, name, Definition::HostFunc(ty, host))?;
        Ok(self)
    }

    /// Defines `module::name` as an async host function of type `ty` (see
    /// [`Func::new_async`]).
    pub fn func_new_async<F>(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: F,
    ) -> Result<&mut Self>
    where
        F: for<'a> Fn(
                Caller<'a, T>,
                &'a [Val],
                &'a mut [Val],
            ) -> Box<dyn Future<Output = Result<()>> + Send + 'a>
            + Send
            + Sync
            + 'static,
    {
        let host = new_async_body(ty.clone(), func);
        self.insert(module, name, Definition::HostFunc(ty, host))?;
        Ok(self)
    }
}
