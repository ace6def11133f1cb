//! Fuel metering.
//!
//! The store's counter (`VMRuntimeLimits::fuel_consumed`, counting up from `-fuel`) lives in a
//! Cranelift variable while a function runs: loaded at entry, written back where anything
//! else may look at it (before calls, returns, `unreachable` and slow paths) and reloaded
//! after calls (the callee consumed fuel, a host function may have added some).
//!
//! Costs are Wasmtime's: `nop`, `drop`, `block`, `loop`, `unreachable`, `return`, `else` and
//! `end` are free, every other operator costs 1. The translator sums the costs of a
//! straight-line run at compile time (`fuel_pending`) and adds them to the variable once,
//! where the run ends (before any branch, so that every block starts with nothing pending).
//!
//! Exactness: an operator is charged before it executes. The value in memory is exact where
//! the runtime or a host function can look at it while wasm runs:
//! - at a call, the caller's operators up to and including the call are counted;
//! - at a check's slow path (function entry, loop header), everything executed before it;
//! - after a normal return, everything the call executed.
//!
//! At a trap the accounting is Wasmtime's: the counter is not stored before every operator
//! that may trap (a memory access, a division, a builtin), which would cost a store on each of
//! them; memory holds the value of the last store (the last call, return, `unreachable` or slow
//! path, in whatever frame), and the operators of the trapping frame since then are not
//! counted. That is still deterministic: the same module and calls leave the same remaining
//! fuel after the trap on every run and machine, because where the stores happen depends only
//! on the code and the path taken. Running out of fuel is unaffected: the checks compare the
//! exact counter.

use super::{trusted, FuncState};
use crate::vmoffsets::{limits, vmctx};
use cranelift_codegen::ir::{types, InstBuilder};
use wasmparser::Operator;

/// The fuel cost of `op`.
pub(crate) fn op_cost(op: &Operator<'_>) -> u64 {
    use Operator::*;
    match op {
        Nop | Drop | Block { .. } | Loop { .. } | Unreachable | Return | Else | End => 0,
        _ => 1,
    }
}

/// Where an operator stands for fuel accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FuelEffect {
    /// Straight-line code: its cost is only added to what is pending.
    None,
    /// Ends a run (a branch or a merge point follows): add what is pending to the variable.
    EndsRun,
    /// Leaves the function or calls out: also store the variable to memory.
    Observed,
}

fn fuel_effect(op: &Operator<'_>) -> FuelEffect {
    use Operator::*;
    match op {
        Loop { .. } | If { .. } | Else | End | Br { .. } | BrIf { .. } | BrTable { .. } => {
            FuelEffect::EndsRun
        }
        BrOnNull { .. } | BrOnNonNull { .. } => FuelEffect::EndsRun,
        // The callee reads the counter (a host function may also change it), and the frame
        // ends. Operators that merely may trap (memory accesses, division, builtins) are not
        // here: a trap leaves the counter as of the last store (see the module docs).
        Call { .. }
        | CallIndirect { .. }
        | ReturnCall { .. }
        | ReturnCallIndirect { .. }
        | CallRef { .. }
        | ReturnCallRef { .. }
        | Return
        | Unreachable => FuelEffect::Observed,
        _ => FuelEffect::None,
    }
}

impl FuncState<'_, '_> {
    /// Whether fuel is metered.
    fn fuel_enabled(&self) -> bool {
        self.fuel_var.is_some()
    }

    /// Declares the counter variable and loads it (at function entry).
    pub(crate) fn fuel_function_entry(&mut self) {
        if !self.env.config.consume_fuel {
            return;
        }
        let var = self.builder.declare_var(types::I64);
        self.fuel_var = Some(var);
        self.fuel_load();
    }

    /// Accounts for `op` before it is translated.
    pub(crate) fn fuel_before_op(&mut self, op: &Operator<'_>) {
        if !self.fuel_enabled() || !self.reachable {
            // Unreachable code is not translated and costs nothing; every run ended (with
            // nothing pending) where control was lost.
            debug_assert_eq!(self.fuel_pending, 0);
            return;
        }
        self.fuel_pending += op_cost(op);
        match fuel_effect(op) {
            FuelEffect::None => {}
            FuelEffect::EndsRun => self.fuel_flush(),
            FuelEffect::Observed => {
                self.fuel_flush();
                self.fuel_save();
            }
        }
    }

    /// Adds the pending cost of the current run to the variable.
    fn fuel_flush(&mut self) {
        let Some(var) = self.fuel_var else { return };
        if self.fuel_pending == 0 {
            return;
        }
        let pending = std::mem::take(&mut self.fuel_pending);
        let v = self.builder.use_var(var);
        let v = self.builder.ins().iadd_imm_s(v, pending as i64);
        self.builder.def_var(var, v);
    }

    /// Stores the variable into `VMRuntimeLimits::fuel_consumed` (nothing may be pending).
    pub(crate) fn fuel_save(&mut self) {
        let Some(var) = self.fuel_var else { return };
        debug_assert_eq!(self.fuel_pending, 0);
        let v = self.builder.use_var(var);
        let limits_ptr = self.limits_ptr();
        self.builder
            .ins()
            .store(trusted(), v, limits_ptr, limits::FUEL_CONSUMED as i32);
    }

    /// Loads the variable from `VMRuntimeLimits::fuel_consumed`.
    pub(crate) fn fuel_load(&mut self) {
        let Some(var) = self.fuel_var else { return };
        let limits_ptr = self.limits_ptr();
        let v = self.builder.ins().load(
            types::I64,
            trusted(),
            limits_ptr,
            limits::FUEL_CONSUMED as i32,
        );
        self.builder.def_var(var, v);
    }

    /// `VMContext::runtime_limits`, loaded where it is used (see below).
    ///
    /// Not with `vmctx_ptr`'s flags: a `can_move` load is merged with every other one in the
    /// function, so the pointer would stay live from the entry across every call, in a
    /// callee-saved register saved and restored by every invocation (in `fib`, leaves
    /// included). Reloading it from the `VMContext` (live anyway: calls pass it) after a
    /// call is one load that hits L1 and is off any dependency chain.
    pub(crate) fn limits_ptr(&mut self) -> cranelift_codegen::ir::Value {
        self.builder.ins().load(
            types::I64,
            trusted().with_readonly(),
            self.vmctx,
            vmctx::RUNTIME_LIMITS as i32,
        )
    }

    /// The counter's current value (nothing may be pending), or `None` without fuel.
    pub(crate) fn fuel_value(&mut self) -> Option<cranelift_codegen::ir::Value> {
        let var = self.fuel_var?;
        debug_assert_eq!(self.fuel_pending, 0);
        Some(self.builder.use_var(var))
    }
}
