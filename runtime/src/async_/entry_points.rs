//! The async entry points: calls and instantiation run on a fiber and complete as futures.

use super::on_fiber;
use crate::externals::Extern;
use crate::func::{Func, TypedFunc, WasmParams, WasmResults};
use crate::instance::Instance;
use crate::linker::{InstancePre, Linker};
use crate::module::Module;
use crate::store::{AsContextMut, Store};
use crate::values::Val;
use anyhow::Result;

impl Func {
    /// Calls the function on a fiber: the future is pending whenever wasm yields (fuel or
    /// epoch yields, pending async host functions) and completes with the call's result.
    /// Works on engines with or without `async_support`.
    pub async fn call_async(
        &self,
        mut store: impl AsContextMut<Data: Send>,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let ctx = store.as_context_mut();
        let func = *self;
        on_fiber(&mut ctx.0.opaque, move |s| {
            func.call_impl(s, params, results)
        })
        .await
    }
}

impl<Params, Results> TypedFunc<Params, Results>
where
    Params: WasmParams,
    Results: WasmResults + Send,
{
    /// Calls the function on a fiber (see [`Func::call_async`]).
    pub async fn call_async(
        &self,
        mut store: impl AsContextMut<Data: Send>,
        params: Params,
    ) -> Result<Results> {
        let ctx = store.as_context_mut();
        let func = *self;
        on_fiber(&mut ctx.0.opaque, move |s| func.call_impl(s, params)).await
    }
}

impl Instance {
    /// Instantiates on a fiber, so that the start function may yield (see
    /// [`Func::call_async`]).
    pub async fn new_async(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let ctx = store.as_context_mut();
        on_fiber(&mut ctx.0.opaque, move |s| {
            Instance::new_raw(s, module, imports)
        })
        .await
    }
}

impl<T: Send + 'static> Linker<T> {
    /// Instantiates `module` on a fiber, resolving its imports by name.
    pub async fn instantiate_async(
        &self,
        store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let pre = self.instantiate_pre(module)?;
        pre.instantiate_async(store).await
    }
}

impl<T: Send + 'static> InstancePre<T> {
    /// Creates an instance on a fiber.
    pub async fn instantiate_async(
        &self,
        mut store: impl AsContextMut<Data = T>,
    ) -> Result<Instance> {
        let ctx = store.as_context_mut();
        on_fiber(&mut ctx.0.opaque, move |s| self.instantiate_impl(s)).await
    }
}

impl<T> Store<T> {
    /// With fuel on, suspend async calls every `interval` units of fuel instead of running
    /// until the tank is empty (`None` turns yielding off). Calls keep running, one interval
    /// per poll, until all fuel is consumed; then they trap with `OutOfFuel`.
    pub fn fuel_async_yield_interval(&mut self, interval: Option<u64>) -> Result<()> {
        self.inner.opaque.set_fuel_yield_interval(interval)
    }
}

impl<T> crate::StoreContextMut<'_, T> {
    /// See [`Store::fuel_async_yield_interval`].
    pub fn fuel_async_yield_interval(&mut self, interval: Option<u64>) -> Result<()> {
        self.0.opaque.set_fuel_yield_interval(interval)
    }
}

impl<T> crate::Caller<'_, T> {
    /// See [`Store::fuel_async_yield_interval`].
    pub fn fuel_async_yield_interval(&mut self, interval: Option<u64>) -> Result<()> {
        self.store.0.opaque.set_fuel_yield_interval(interval)
    }
}
