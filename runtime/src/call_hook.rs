//! `Store::call_hook`: a callback told about every transition between the host and wasm.

use crate::store::{Store, StoreContextMut, StoreInner, StoreOpaque};
use anyhow::Result;
use std::panic::AssertUnwindSafe;

/// A transition between host and wasm code, as [`Store::call_hook`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallHook {
    /// The host is calling a function of the store (wasm, or a host function through
    /// `Func::call`).
    CallingWasm,
    /// That call returned (or trapped).
    ReturningFromWasm,
    /// Wasm is calling a host function.
    CallingHost,
    /// The host function returned.
    ReturningFromHost,
}

impl CallHook {
    /// Whether execution is entering host code.
    pub fn entering_host(&self) -> bool {
        matches!(self, CallHook::ReturningFromWasm | CallHook::CallingHost)
    }

    /// Whether execution is leaving host code.
    pub fn exiting_host(&self) -> bool {
        matches!(self, CallHook::ReturningFromHost | CallHook::CallingWasm)
    }
}

/// The installed hook, erased over the store's data type: it is given its own store.
pub(crate) type CallHookFn = Box<dyn FnMut(*mut StoreOpaque, CallHook) -> Result<()> + Send + Sync>;

impl<T: 'static> Store<T> {
    /// Installs `hook`, called at every transition between the host and wasm of this store
    /// (see [`CallHook`]). An error from it becomes the error of the call or of the host
    /// function being entered or left.
    pub fn call_hook(
        &mut self,
        mut hook: impl FnMut(StoreContextMut<'_, T>, CallHook) -> Result<()> + Send + Sync + 'static,
    ) {
        let erased: CallHookFn = Box::new(move |store: *mut StoreOpaque, kind| {
            // SAFETY: `StoreOpaque::call_hook` passes this store's own `StoreOpaque`, the
            // first field of the `repr(C)` `StoreInner<T>`, at a point where nothing else
            // borrows the store; the hook itself has been taken out of it meanwhile.
            let inner = unsafe { &mut *(store as *mut StoreInner<T>) };
            hook(StoreContextMut(inner), kind)
        });
        self.inner.opaque.call_hook = Some(erased);
    }
}

impl StoreOpaque {
    /// Runs the store's call hook, if it has one, for `kind`.
    #[inline]
    pub(crate) fn call_hook(&mut self, kind: CallHook) -> Result<()> {
        if self.call_hook.is_none() {
            return Ok(());
        }
        self.call_hook_slow(kind)
    }

    #[cold]
    fn call_hook_slow(&mut self, kind: CallHook) -> Result<()> {
        let Some(mut hook) = self.call_hook.take() else {
            return Ok(());
        };
        let store = self as *mut StoreOpaque;
        // Caught so that the hook goes back into the store even when it panics.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| hook(store, kind)));
        // A hook installed by the hook itself (through its context) wins.
        if self.call_hook.is_none() {
            self.call_hook = Some(hook);
        }
        result.unwrap_or_else(|payload| std::panic::resume_unwind(payload))
    }
}
