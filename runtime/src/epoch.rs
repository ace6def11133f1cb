//! Epoch interruption: another thread advances the engine's epoch; wasm checks it against the
//! store's deadline where Wasmtime does (function entries, loop headers, bulk operators; see
//! the compiler's `translate/interrupt.rs`), and calls the slow path
//! ([`StoreOpaque::new_epoch`]) once it is reached.

use crate::store::{Store, StoreContextMut, StoreInner, StoreOpaque};
use crate::Trap;
use anyhow::Result;
use std::panic::AssertUnwindSafe;

/// What to do when the epoch deadline is reached, returned by a deadline callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateDeadline {
    /// Stop: the call traps with [`Trap::Interrupt`] and the deadline stays as it is.
    Interrupt,
    /// Continue running; the new deadline is this many epochs after the current one.
    Continue(u64),
    /// Yield to the async caller, then continue with the deadline this many epochs ahead.
    /// Only for calls made through the async entry points.
    Yield(u64),
}

/// An erased deadline callback: the store pointer is the store's own `StoreOpaque`.
pub(crate) type DeadlineCallback =
    Box<dyn FnMut(*mut StoreOpaque) -> Result<UpdateDeadline> + Send + Sync>;

/// What the store does when the deadline is reached.
pub(crate) enum EpochDeadlineBehavior {
    /// Trap with `Interrupt` (the default).
    Trap,
    /// Ask the embedder.
    Callback(DeadlineCallback),
    /// Yield to the async caller and extend the deadline.
    YieldAndUpdate(u64),
}

impl StoreOpaque {
    pub(crate) fn set_epoch_deadline(&mut self, delta: u64) {
        let deadline = self.engine.current_epoch().saturating_add(delta);
        // SAFETY: the limits are only accessed from the thread that holds the store.
        unsafe { *self.limits.epoch_deadline.get() = deadline };
        // Compiled code reads each instance's copy.
        for instance in &mut self.instances {
            instance.set_epoch_deadline_copy(deadline);
        }
    }

    /// The epoch slow path. Returns whether execution may continue; otherwise a trap or an
    /// error is pending.
    pub(crate) fn new_epoch(&mut self) -> bool {
        let now = self.engine.current_epoch();
        // SAFETY: as in `set_epoch_deadline`.
        if now < unsafe { *self.limits.epoch_deadline.get() } {
            return true;
        }
        let update = match &mut self.epoch_behavior {
            EpochDeadlineBehavior::Trap => {
                self.pending_trap = Some(Trap::Interrupt);
                return false;
            }
            EpochDeadlineBehavior::YieldAndUpdate(delta) => Ok(UpdateDeadline::Yield(*delta)),
            EpochDeadlineBehavior::Callback(_) => {
                // Take the callback out while it runs: it gets the whole store.
                let EpochDeadlineBehavior::Callback(mut cb) =
                    std::mem::replace(&mut self.epoch_behavior, EpochDeadlineBehavior::Trap)
                else {
                    unreachable!()
                };
                let store = self as *mut StoreOpaque;
                // Caught so that the callback goes back into the store even when it panics.
                let r = std::panic::catch_unwind(AssertUnwindSafe(|| cb(store)));
                if matches!(self.epoch_behavior, EpochDeadlineBehavior::Trap) {
                    self.epoch_behavior = EpochDeadlineBehavior::Callback(cb);
                }
                r.unwrap_or_else(|payload| std::panic::resume_unwind(payload))
            }
        };
        match update {
            Ok(UpdateDeadline::Interrupt) => {
                self.pending_trap = Some(Trap::Interrupt);
                false
            }
            Ok(UpdateDeadline::Continue(delta)) => {
                self.set_epoch_deadline(delta);
                true
            }
            Ok(UpdateDeadline::Yield(delta)) => match self.async_yield() {
                Ok(()) => {
                    self.set_epoch_deadline(delta);
                    true
                }
                Err(e) => {
                    self.pending_error = Some(crate::store::PendingError::Error(e));
                    false
                }
            },
            Err(e) => {
                self.pending_error = Some(crate::store::PendingError::Error(e));
                false
            }
        }
    }
}

impl<T: 'static> Store<T> {
    /// Sets the deadline to `delta` epochs after the current one.
    pub fn set_epoch_deadline(&mut self, delta: u64) {
        self.inner.opaque.set_epoch_deadline(delta);
    }

    /// Trap with [`Trap::Interrupt`] when the deadline is reached (the default).
    pub fn epoch_deadline_trap(&mut self) {
        self.inner.opaque.epoch_behavior = EpochDeadlineBehavior::Trap;
    }

    /// Yield to the async caller when the deadline is reached, then continue with the deadline
    /// `delta` epochs ahead. Only for calls made through the async entry points; a sync call
    /// that reaches the deadline fails.
    pub fn epoch_deadline_async_yield_and_update(&mut self, delta: u64) {
        self.inner.opaque.epoch_behavior = EpochDeadlineBehavior::YieldAndUpdate(delta);
    }

    /// Call `callback` when the deadline is reached; it decides whether to continue (with a
    /// new deadline) or fail (its error becomes the call's error).
    pub fn epoch_deadline_callback(
        &mut self,
        mut callback: impl FnMut(StoreContextMut<'_, T>) -> Result<UpdateDeadline>
            + Send
            + Sync
            + 'static,
    ) {
        let erased: DeadlineCallback = Box::new(move |store: *mut StoreOpaque| {
            // SAFETY: the callback is only ever called by `new_epoch` with this store's own
            // `StoreOpaque`, the first field of the `repr(C)` `StoreInner<T>`.
            let inner = unsafe { &mut *(store as *mut StoreInner<T>) };
            callback(StoreContextMut(inner))
        });
        self.inner.opaque.epoch_behavior = EpochDeadlineBehavior::Callback(erased);
    }
}

impl<T> StoreContextMut<'_, T> {
    /// See [`Store::set_epoch_deadline`].
    pub fn set_epoch_deadline(&mut self, delta: u64) {
        self.0.opaque.set_epoch_deadline(delta);
    }

    /// See [`Store::epoch_deadline_trap`].
    pub fn epoch_deadline_trap(&mut self) {
        self.0.opaque.epoch_behavior = EpochDeadlineBehavior::Trap;
    }

    /// See [`Store::epoch_deadline_async_yield_and_update`].
    pub fn epoch_deadline_async_yield_and_update(&mut self, delta: u64) {
        self.0.opaque.epoch_behavior = EpochDeadlineBehavior::YieldAndUpdate(delta);
    }
}
