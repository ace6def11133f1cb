//! Fuel metering.
//!
//! The store's counter (`VMRuntimeLimits::fuel_consumed`, counting up from `-fuel`) lives in
//! registers while wasm runs: every wasm function takes it as a parameter and returns it as
//! its first result (see `wasm_signature`), and keeps it in a Cranelift variable in between.
//! So a call passes the counter in a register and gets the callee's back in one, and the
//! store-to-load round trip through memory at every call and return (which chains every
//! operator of a recursion onto memory latency) is gone. The trampolines move it between
//! memory and registers where the host is involved: array→wasm loads it from the store and
//! writes the returned value back; wasm→array (a host function) writes it before calling the
//! host and reloads it afterwards (the host may have read or changed it).
//!
//! Memory is written where Wasmtime writes it, so that a trap leaves the same count: before
//! calls, throws and `unreachable` (a trap may follow), at every return, and around slow paths
//! (which reload it).
//!
//! Costs are Wasmtime's: entering a function costs 1; `nop`, `drop`, `block`, `loop`,
//! `unreachable`, `return`, `else` and `end` are free, every other operator costs 1. The translator sums the costs of a
//! straight-line run at compile time (`fuel_pending`) and adds them to the variable once,
//! where the run ends (before any branch, so that every block starts with nothing pending).
//!
//! Exactness: an operator is charged before it executes. The value in memory is exact where
//! the runtime or a host function can look at it while wasm runs:
//! - in a host function, everything executed before the call to it;
//! - at a check's slow path (function entry, loop header), everything executed before it;
//! - after the host's call into wasm returns, everything the call executed.
//!
//! At a trap, memory holds the value of the last store (the last call, return, `unreachable`
//! or slow path, in whatever frame): the counter is not stored before every operator that may
//! trap (a memory access, a division, a builtin), which would cost a store on each of them (as
//! in Wasmtime, whose stores these are). That is deterministic: the same module and calls leave the same remaining fuel
//! after the trap on every run and machine, because where the stores happen depends only on
//! the code and the path taken. Running out of fuel is unaffected: the checks compare the
//! exact counter.

use super::{trusted, FuncState};
use crate::vmoffsets::{limits, vmctx};
use cranelift_codegen::ir::{types, InstBuilder, Value};
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
        BrOnNull { .. } | BrOnNonNull { .. } | BrOnCast { .. } | BrOnCastFail { .. } => {
            FuelEffect::EndsRun
        }
        // Stored so that a trap in the callee leaves at least what preceded the call counted,
        // and where a function is left (a throw; returns are stored by `return_values`), where
        // Wasmtime stores it too: a trap later in the caller leaves the same count as there. Operators that merely may trap
        // (memory accesses, division, builtins) are not here: a trap leaves the counter as of
        // the last store (see the module docs).
        Call { .. }
        | CallIndirect { .. }
        | ReturnCall { .. }
        | ReturnCallIndirect { .. }
        | CallRef { .. }
        | ReturnCallRef { .. }
        | Unreachable
        | Throw { .. }
        | ThrowRef => FuelEffect::Observed,
        _ => FuelEffect::None,
    }
}

impl FuncState<'_, '_> {
    /// Whether fuel is metered.
    fn fuel_enabled(&self) -> bool {
        self.fuel_var.is_some()
    }

    /// Declares the counter variable, initialized with the fuel parameter (at function entry).
    pub(crate) fn fuel_function_entry(&mut self) {
        if !self.env.config.consume_fuel {
            return;
        }
        let var = self.builder.declare_var(types::I64);
        self.fuel_var = Some(var);
        let entry = self.builder.current_block().expect("entry block");
        let fuel = self.builder.block_params(entry)[2];
        self.builder.def_var(var, fuel);
        // Entering a function costs 1, as in Wasmtime (even an empty function consumes fuel);
        // the entry check adds it before comparing.
        self.fuel_pending = 1;
    }

    /// The arguments of a call: the two contexts, the counter when metered, then `args`.
    pub(crate) fn call_args(&mut self, callee_vmctx: Value, args: &[Value]) -> Vec<Value> {
        let mut call_args = Vec::with_capacity(args.len() + 3);
        call_args.extend([callee_vmctx, self.vmctx]);
        call_args.extend(self.fuel_value());
        call_args.extend_from_slice(args);
        call_args
    }

    /// The wasm results of a call returning `results`: takes the counter the callee returned.
    pub(crate) fn call_results<'r>(&mut self, results: &'r [Value]) -> &'r [Value] {
        match self.fuel_var {
            Some(var) => {
                self.builder.def_var(var, results[0]);
                &results[1..]
            }
            None => results,
        }
    }

    /// What a return of `results` returns: the counter first when metered. The counter is
    /// also stored, as Wasmtime does at every function exit (see `fuel_effect`).
    pub(crate) fn return_values(&mut self, results: &[Value]) -> Vec<Value> {
        self.fuel_flush();
        self.fuel_save();
        let mut values = Vec::with_capacity(results.len() + 1);
        values.extend(self.fuel_value());
        values.extend_from_slice(results);
        values
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

    /// The per-unit charge and the checks of a bulk operator, as in Wasmtime 48, whose default
    /// charges 1 per byte of `memory.copy`/`fill`/`init` and per element of `table.copy`/
    /// `fill`/`init`/`grow` (0 per page of `memory.grow`), on top of the operator's own 1:
    /// the count (the top operand) times that is added to the counter; then the fuel and the
    /// epoch are checked as at a loop header, unless the count is a constant and the charge
    /// at most 128 (then it is only added to what is pending). A `memory.grow` by a count not
    /// constant is checked too. The same rule with fuel off decides the epoch check.
    pub(crate) fn bulk_op_checks(&mut self, op: &Operator<'_>) {
        use Operator::*;
        let epochs = self.env.config.epoch_interruption;
        if !(self.fuel_enabled() || epochs) || !self.reachable {
            return;
        }
        let per_unit: u64 = match op {
            MemoryCopy { .. }
            | MemoryFill { .. }
            | MemoryInit { .. }
            | TableCopy { .. }
            | TableFill { .. }
            | TableInit { .. }
            | TableGrow { .. } => 1,
            MemoryGrow { .. } => 0,
            _ => return,
        };
        const SMALL_BULK_OP_COST: u64 = 128;
        let units = *self.peek_n(1).first().expect("a count operand");
        match (self.const_operand(units), self.fuel_var) {
            (Some(n), fuel) => {
                let cost = n.saturating_mul(per_unit);
                if fuel.is_some() {
                    self.fuel_pending = self.fuel_pending.saturating_add(cost);
                }
                if cost <= SMALL_BULK_OP_COST {
                    return;
                }
            }
            (None, None) => {}
            (None, Some(var)) => {
                self.fuel_flush();
                if per_unit > 0 {
                    let ty = self.builder.func.dfg.value_type(units);
                    let units = if ty == types::I32 {
                        self.builder.ins().uextend(types::I64, units)
                    } else {
                        // A 64-bit count beyond `i64::MAX` is charged `i64::MAX`.
                        let max = self.builder.ins().iconst(types::I64, i64::MAX);
                        let big = self.builder.ins().icmp_imm_u(
                            cranelift_codegen::ir::condcodes::IntCC::UnsignedGreaterThan,
                            units,
                            i64::MAX,
                        );
                        self.builder.ins().select(big, max, units)
                    };
                    let v = self.builder.use_var(var);
                    let v = self.builder.ins().iadd(v, units);
                    self.builder.def_var(var, v);
                }
            }
        }
        self.interruption_checks();
    }

    /// What `v` is in Wasmtime 48's translation, which passes block results in SSA variables:
    /// a block parameter to which every jump passes the same value is that value, once every
    /// jump is known (always, except for the header of a loop still open).
    fn as_wasmtime_sees_it(&self, v: Value) -> Value {
        use cranelift_codegen::ir::{BlockArg, ValueDef};
        let func = &self.builder.func;
        let dfg = &func.dfg;
        let ValueDef::Param(block, num) = dfg.value_def(v) else {
            return v;
        };
        let open_loop = self.control.iter().any(
            |f| matches!(f.kind, super::control::FrameKind::Loop { header } if header == block),
        );
        if open_loop {
            return v;
        }
        let mut incoming = None;
        for b in func.layout.blocks() {
            for inst in func.layout.block_insts(b) {
                let calls =
                    dfg.insts[inst].branch_destination(&dfg.jump_tables, &dfg.exception_tables);
                for call in calls.iter().filter(|c| c.block(&dfg.value_lists) == block) {
                    match call.args(&dfg.value_lists).nth(num) {
                        Some(BlockArg::Value(arg)) if incoming.is_none_or(|x| x == arg) => {
                            incoming = Some(arg)
                        }
                        _ => return v,
                    }
                }
            }
        }
        match incoming {
            Some(arg) if arg != v => self.as_wasmtime_sees_it(arg),
            _ => v,
        }
    }

    /// The value of `v` if it is an integer constant (as an unsigned count, saturated), as
    /// Wasmtime's translation sees it.
    fn const_operand(&self, v: Value) -> Option<u64> {
        let v = self.as_wasmtime_sees_it(v);
        let dfg = &self.builder.func.dfg;
        let inst = dfg.value_def(v).inst()?;
        match dfg.insts[inst] {
            cranelift_codegen::ir::InstructionData::UnaryImm {
                opcode: cranelift_codegen::ir::Opcode::Iconst,
                imm,
            } => {
                let raw = imm.bits();
                Some(if dfg.value_type(v) == types::I32 {
                    u64::from(raw as u32)
                } else {
                    raw as u64
                })
            }
            _ => None,
        }
    }

    /// Adds the pending cost of the current run to the variable.
    pub(crate) fn fuel_flush(&mut self) {
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
