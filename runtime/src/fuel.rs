//! Fuel: deterministic metering of wasm execution.
//!
//! Compiled code counts consumption in `VMRuntimeLimits::fuel_consumed`, which starts at
//! `-active` and runs toward zero; fuel beyond what fits there waits in the store's [`FuelTank`]. When the
//! counter reaches zero the compiled code calls the fuel slow path ([`StoreOpaque::out_of_fuel`]).

use crate::store::{Store, StoreContextMut, StoreOpaque};
use crate::Trap;
use anyhow::{bail, Result};

/// The store's fuel outside the active counter (its room of `StoreOpaque`).
#[derive(Default)]
pub(crate) struct FuelTank {
    /// Fuel not yet moved into `limits.fuel_consumed`.
    reserve: u64,
    /// With async calls: yield every this many units of fuel.
    yield_interval: Option<u64>,
}

impl StoreOpaque {
    fn check_fuel_enabled(&self) -> Result<()> {
        if !self.engine.config().consume_fuel {
            bail!("fuel is not configured in this store");
        }
        Ok(())
    }

    fn fuel_consumed(&self) -> i64 {
        // SAFETY: the limits are only accessed from the thread that holds the store.
        unsafe { *self.limits.fuel_consumed.get() }
    }

    fn set_fuel_consumed(&mut self, v: i64) {
        // SAFETY: as in `fuel_consumed`.
        unsafe { *self.limits.fuel_consumed.get() = v }
    }

    pub(crate) fn get_fuel(&self) -> Result<u64> {
        self.check_fuel_enabled()?;
        Ok(self.fuel_left())
    }

    /// Async calls yield every `interval` units of fuel (none: never for fuel).
    pub(crate) fn set_fuel_yield_interval(&mut self, interval: Option<u64>) -> Result<()> {
        self.check_fuel_enabled()?;
        if interval == Some(0) {
            bail!("fuel yield interval cannot be 0");
        }
        self.fuel.yield_interval = interval;
        // Re-split the tank so the active part is at most one interval.
        let fuel = self.get_fuel()?;
        self.set_fuel(fuel)
    }

    pub(crate) fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.check_fuel_enabled()?;
        self.fuel.reserve = fuel;
        self.set_fuel_consumed(0);
        self.refuel();
        Ok(())
    }

    /// Fuel left: the reserve plus what the active counter still holds, minus any overshoot
    /// (consumption past zero, charged before the next check noticed).
    fn fuel_left(&self) -> u64 {
        let active = self.fuel_consumed();
        if active < 0 {
            self.fuel.reserve.saturating_add(active.unsigned_abs())
        } else {
            self.fuel.reserve.saturating_sub(active as u64)
        }
    }

    /// Moves fuel from the reserve into the active counter: all of it, or one yield interval's
    /// worth when async yielding is configured, after paying any overshoot. Returns whether the
    /// counter is below zero.
    pub(crate) fn refuel(&mut self) -> bool {
        let left = self.fuel_left();
        let chunk = match self.fuel.yield_interval {
            Some(interval) => interval.min(left),
            None => left,
        }
        .min(i64::MAX as u64);
        self.fuel.reserve = left - chunk;
        if chunk == 0 {
            // Keep the overshoot visible: nothing is left either way.
            return false;
        }
        self.set_fuel_consumed(-(chunk as i64));
        true
    }

    /// Charges what calling a module's start function costs in Wasmtime, before it is called.
    /// Wasmtime 48 compiles a module's startup into a function of its own, which pays 1 on
    /// entry and checks the fuel and the epoch there like any function entry (it may yield,
    /// refill, run out, or run the deadline callback), then pays 1 for the call of the start
    /// function. As in compiled code, the entry's 1 is in memory during the epoch slow path
    /// only if the fuel slow path ran, and what a deadline callback sets is overwritten.
    /// (Its other work, deferred global initializers and segments, also costs there and is
    /// not charged here: see `docs/wasmtime-api-notes.md`.)
    pub(crate) fn charge_start_call(&mut self) -> Result<()> {
        let config = self.engine.config();
        let (fuel, epochs) = (config.consume_fuel, config.epoch_interruption);
        let mut counter = None;
        if fuel {
            let mut consumed = self.fuel_consumed().saturating_add(1);
            if consumed >= 0 {
                self.set_fuel_consumed(consumed);
                if !self.out_of_fuel() {
                    return Err(self.take_slow_path_failure());
                }
                consumed = self.fuel_consumed();
            }
            counter = Some(consumed);
        }
        // SAFETY: the limits are only accessed from the thread that holds the store.
        let deadline = unsafe { *self.limits.epoch_deadline.get() };
        if epochs && self.engine.current_epoch() >= deadline && !self.new_epoch() {
            return Err(self.take_slow_path_failure());
        }
        if let Some(consumed) = counter {
            self.set_fuel_consumed(consumed.saturating_add(1));
        }
        Ok(())
    }

    /// The trap or error a slow path that returned `false` left pending.
    fn take_slow_path_failure(&mut self) -> anyhow::Error {
        if let Some(trap) = self.pending_trap.take() {
            return trap.into();
        }
        match self.pending_error.take() {
            Some(crate::store::PendingError::Error(e)) => e,
            Some(crate::store::PendingError::Panic(p)) => std::panic::resume_unwind(p),
            None => anyhow::anyhow!("interrupted"),
        }
    }

    /// The fuel slow path, called by compiled code when `fuel_consumed >= 0`. Returns whether
    /// execution may continue; otherwise the trap is pending.
    pub(crate) fn out_of_fuel(&mut self) -> bool {
        if self.fuel.yield_interval.is_some()
            && self.fuel_left() > 0
            && self.current_fiber().is_some()
        {
            if let Err(e) = self.async_yield() {
                self.pending_error = Some(crate::store::PendingError::Error(e));
                return false;
            }
        }
        if self.refuel() {
            return true;
        }
        self.pending_trap = Some(Trap::OutOfFuel);
        false
    }
}

impl<T> Store<T> {
    /// Sets the fuel available to wasm in this store. Errors unless
    /// [`Config::consume_fuel`](crate::Config::consume_fuel) is on.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.inner.opaque.set_fuel(fuel)
    }

    /// The fuel left. Exact: the same module and calls leave the same fuel on every run.
    pub fn get_fuel(&self) -> Result<u64> {
        self.inner.opaque.get_fuel()
    }
}

impl<T> StoreContextMut<'_, T> {
    /// See [`Store::set_fuel`].
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.0.opaque.set_fuel(fuel)
    }

    /// See [`Store::get_fuel`].
    pub fn get_fuel(&self) -> Result<u64> {
        self.0.opaque.get_fuel()
    }
}

impl<T> crate::StoreContext<'_, T> {
    /// See [`Store::get_fuel`].
    pub fn get_fuel(&self) -> Result<u64> {
        self.0.opaque.get_fuel()
    }
}

impl<T> crate::Caller<'_, T> {
    /// See [`Store::set_fuel`].
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.store.0.opaque.set_fuel(fuel)
    }

    /// See [`Store::get_fuel`].
    pub fn get_fuel(&self) -> Result<u64> {
        self.store.0.opaque.get_fuel()
    }
}
