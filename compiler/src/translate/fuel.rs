//! Fuel metering.
//!
//! The store's counter (`VMRuntimeLimits::fuel_consumed`, counting up from `-fuel`) lives in a
//! Cranelift variable while a function runs: loaded at entry, written back where anything
//! else may look at it (before calls, returns, slow paths and operators that may trap) and
//! reloaded after calls (the callee consumed fuel, a host function may have added some).
//!
//! Costs are Wasmtime's: `nop`, `drop`, `block`, `loop`, `unreachable`, `return`, `else` and
//! `end` are free, every other operator costs 1. The translator sums the costs of a
//! straight-line run at compile time (`fuel_pending`) and adds them to the variable once,
//! where the run ends (before any branch, so that every block starts with nothing pending).
//!
//! Exactness: an operator is charged before it executes. So the value in memory is exact at
//! every point where it can be observed:
//! - at a call, the caller's operators up to and including the call are counted;
//! - at a trap, everything executed up to and including the trapping operator is counted,
//!   because every operator that may trap first adds what is pending and stores the counter
//!   (one add and one store; no more cost on operators that cannot trap);
//! - at a check (function entry, loop header), everything executed before it is counted.

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
    /// Leaves the function, calls out or may trap: also store the variable to memory.
    Observed,
}

fn fuel_effect(op: &Operator<'_>) -> FuelEffect {
    use Operator::*;
    match op {
        Loop { .. } | If { .. } | Else | End | Br { .. } | BrIf { .. } | BrTable { .. } => {
            FuelEffect::EndsRun
        }
        // Calls (the callee reads the counter; a host function may trap), exits, and builtins
        // that may trap.
        Call { .. }
        | CallIndirect { .. }
        | ReturnCall { .. }
        | ReturnCallIndirect { .. }
        | Return
        | Unreachable
        | MemoryFill { .. }
        | MemoryCopy { .. }
        | MemoryInit { .. }
        | TableFill { .. }
        | TableCopy { .. }
        | TableInit { .. }
        // Inline traps: out-of-bounds table accesses, division, float-to-int conversion.
        | TableGet { .. }
        | TableSet { .. }
        | I32DivS
        | I32DivU
        | I32RemS
        | I32RemU
        | I64DivS
        | I64DivU
        | I64RemS
        | I64RemU
        | I32TruncF32S
        | I32TruncF32U
        | I32TruncF64S
        | I32TruncF64U
        | I64TruncF32S
        | I64TruncF32U
        | I64TruncF64S
        | I64TruncF64U => FuelEffect::Observed,
        // Linear-memory accesses fault (or are bounds-checked) when out of bounds.
        I32Load { .. }
        | I64Load { .. }
        | F32Load { .. }
        | F64Load { .. }
        | I32Load8S { .. }
        | I32Load8U { .. }
        | I32Load16S { .. }
        | I32Load16U { .. }
        | I64Load8S { .. }
        | I64Load8U { .. }
        | I64Load16S { .. }
        | I64Load16U { .. }
        | I64Load32S { .. }
        | I64Load32U { .. }
        | I32Store { .. }
        | I64Store { .. }
        | F32Store { .. }
        | F64Store { .. }
        | I32Store8 { .. }
        | I32Store16 { .. }
        | I64Store8 { .. }
        | I64Store16 { .. }
        | I64Store32 { .. } => FuelEffect::Observed,
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
        let limits_ptr = self.vmctx_ptr(vmctx::RUNTIME_LIMITS);
        self.builder
            .ins()
            .store(trusted(), v, limits_ptr, limits::FUEL_CONSUMED as i32);
    }

    /// Loads the variable from `VMRuntimeLimits::fuel_consumed`.
    pub(crate) fn fuel_load(&mut self) {
        let Some(var) = self.fuel_var else { return };
        let limits_ptr = self.vmctx_ptr(vmctx::RUNTIME_LIMITS);
        let v = self.builder.ins().load(
            types::I64,
            trusted(),
            limits_ptr,
            limits::FUEL_CONSUMED as i32,
        );
        self.builder.def_var(var, v);
    }

    /// The counter's current value (nothing may be pending), or `None` without fuel.
    pub(crate) fn fuel_value(&mut self) -> Option<cranelift_codegen::ir::Value> {
        let var = self.fuel_var?;
        debug_assert_eq!(self.fuel_pending, 0);
        Some(self.builder.use_var(var))
    }
}
