//! Interruption checks: fuel at function entry and loop headers, epoch deadlines at loop
//! headers and before calls.
//!
//! Fast path: a compare and a branch to a cold block. The cold block calls the module's
//! `preserve_all` stub of the slow path (see `stubs.rs`), so the fast path keeps its values
//! in registers: the call clobbers nothing.
//!
//! A loop header's checks are not emitted in the header itself but on every edge into it:
//! before the jump that enters the loop, and on each branch back to it (`br`, and a block of
//! its own for the taken side of `br_if` and for each loop a `br_table` targets). The checks
//! run exactly as often and at the same points of the count as header checks would (the
//! counter and the epoch are the same on the edge as at the header), but the header holds
//! no extra block, so the loop body starts right at the header.
//!
//! Both the fuel counter and the epoch deadline are cached in variables: only a slow path or
//! host code (reached through a call) changes the deadline, so it is reloaded after those,
//! and an epoch check in a loop is one load of the engine's counter compared with a register.
//! Functions without loops read the deadline where they check.
//!
//! # Where epochs are checked
//!
//! Epoch interruption only has to stop executions that would otherwise run unboundedly long,
//! and code can only run unboundedly long by looping or by making unboundedly many calls. So
//! the deadline is checked at every loop header, and in every invocation that makes a call,
//! once before its first call (on every path to a call operator, some check comes first):
//! - a function without loops and calls runs for a time bounded by its size: it has no check
//!   at all, its caller's check covers it;
//! - recursion and call chains go through call operators, each preceded by a check in the
//!   calling frame (`fib`'s leaves, half of its invocations, check nothing);
//! - `return_call` is a call operator too, so tail recursion checks on every step.
//!
//! Wasmtime checks at every function entry instead. The one place where the difference would
//! show, entering wasm from the host once the deadline has passed, checks in the runtime
//! (`vm::call::invoke_wasm`), so a call made with the deadline reached still traps (or runs the
//! deadline callback) before running anything.
//!
//! Fuel checks stay at every function entry and loop header, as in Wasmtime: where fuel runs
//! out is observable (the remaining fuel, the operators executed), so its checks follow the
//! hand-countable rule of Wasmtime.

use super::{trusted, FuncState};
use crate::stubs::{stub_signature, SlowPath};
use crate::trap_codes;
use crate::vmoffsets::{limits, vmctx};
use cranelift_codegen::ir::{
    self, condcodes::IntCC, types, ExtFuncData, ExternalName, InstBuilder, UserExternalName,
};
use wasmparser::Operator;

impl FuncState<'_, '_> {
    /// Whether loops are checked (fuel or epochs configured).
    pub(crate) fn loop_checks_needed(&self) -> bool {
        self.env.config.consume_fuel || self.env.config.epoch_interruption
    }

    /// Emits the checks `CompileConfig` asks for at a loop header, on one edge into it: the
    /// entry, or a branch back to it (see the module docs).
    pub(crate) fn loop_edge_check(&mut self) {
        if self.env.config.consume_fuel {
            self.fuel_check();
        }
        if self.env.config.epoch_interruption {
            self.epoch_check();
        }
    }

    /// At a loop header: every edge into it checked, so the checks dominate the loop body.
    pub(crate) fn loop_header_checked(&mut self) {
        if self.env.config.epoch_interruption {
            self.epoch_checked = true;
        }
    }

    /// Emits the checks `CompileConfig` asks for at function entry: fuel only (the epoch is
    /// checked before the first call, see the module docs).
    pub(crate) fn entry_check(&mut self) {
        if self.env.config.consume_fuel {
            self.fuel_check();
        }
    }

    /// Before a call operator: checks the epoch unless a check already dominates this point.
    /// Runs after `fuel_before_op`, so the counter in memory includes the call operator.
    pub(crate) fn epoch_before_op(&mut self, op: &Operator<'_>) {
        if !self.env.config.epoch_interruption || !self.reachable || self.epoch_checked {
            return;
        }
        if matches!(
            op,
            Operator::Call { .. }
                | Operator::CallIndirect { .. }
                | Operator::ReturnCall { .. }
                | Operator::ReturnCallIndirect { .. }
                | Operator::CallRef { .. }
                | Operator::ReturnCallRef { .. }
        ) {
            self.epoch_check();
            self.epoch_checked = true;
        }
    }

    /// Declares the cached deadline and loads it (at function entry of a function with
    /// loops).
    pub(crate) fn epoch_function_entry(&mut self) {
        if !self.cache_deadline {
            return;
        }
        let var = self.builder.declare_var(types::I64);
        self.epoch_deadline_var = Some(var);
        self.epoch_deadline_load();
    }

    fn epoch_deadline_load(&mut self) {
        let Some(var) = self.epoch_deadline_var else {
            return;
        };
        let limits_ptr = self.vmctx_ptr(vmctx::RUNTIME_LIMITS);
        let deadline = self.builder.ins().load(
            types::I64,
            trusted(),
            limits_ptr,
            limits::EPOCH_DEADLINE as i32,
        );
        self.builder.def_var(var, deadline);
    }

    /// Reloads the deadline after a call operator (a host function or a slow path in the
    /// callee may have changed it; the fuel counter comes back as a result).
    pub(crate) fn after_op(&mut self, op: &Operator<'_>) {
        if self.reachable
            && matches!(
                op,
                Operator::Call { .. } | Operator::CallIndirect { .. } | Operator::CallRef { .. }
            )
        {
            self.epoch_deadline_load();
        }
    }

    /// Reloads the cached fuel counter and epoch deadline from memory.
    fn reload_cached_limits(&mut self) {
        self.fuel_load();
        self.epoch_deadline_load();
    }

    /// If the counter reached zero, calls the `OutOfFuel` slow path (which refills from the
    /// store's reserve or traps).
    fn fuel_check(&mut self) {
        let consumed = self.fuel_value().expect("fuel is metered");
        let out = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, consumed, 0);
        self.cold_slow_path(out, SlowPath::Fuel);
    }

    /// If the engine's epoch reached the store's deadline, calls the `NewEpoch` slow path
    /// (which traps, or extends the deadline).
    fn epoch_check(&mut self) {
        let counter = self.vmctx_ptr(vmctx::EPOCH_COUNTER);
        // A relaxed read of the `AtomicU64`: an aligned 8-byte load is atomic on our targets.
        let epoch = self.builder.ins().load(types::I64, trusted(), counter, 0);
        let deadline = match self.epoch_deadline_var {
            Some(var) => self.builder.use_var(var),
            None => {
                let limits_ptr = self.vmctx_ptr(vmctx::RUNTIME_LIMITS);
                self.builder.ins().load(
                    types::I64,
                    trusted(),
                    limits_ptr,
                    limits::EPOCH_DEADLINE as i32,
                )
            }
        };
        // A load, a `cmp` and a `jae`. (Cranelift never folds a load into the compare of a
        // branch, whatever the operand order: branches are lowered after the block's other
        // instructions, where loads can no longer be sunk.)
        let reached = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        self.cold_slow_path(reached, SlowPath::Epoch);
    }

    /// Branches to a cold block calling `path`'s stub when `cond` holds, and continues in a
    /// new block.
    fn cold_slow_path(&mut self, cond: ir::Value, path: SlowPath) {
        let slow = self.builder.create_block();
        let cont = self.builder.create_block();
        self.builder.set_cold_block(slow);
        self.builder.ins().brif(cond, slow, &[], cont, &[]);
        self.builder.seal_block(slow);
        self.builder.switch_to_block(slow);
        // The slow path may read or change the fuel (a deadline callback can), and a trap
        // leaves with what is in memory.
        self.fuel_save();
        let stub = self.stub_func(path);
        let vmctx = self.vmctx;
        self.builder.ins().call(stub, &[vmctx]);
        let limits_ptr = self.vmctx_ptr(vmctx::RUNTIME_LIMITS);
        let status = self.builder.ins().load(
            types::I64,
            trusted(),
            limits_ptr,
            limits::SLOW_PATH_STATUS as i32,
        );
        self.builder.ins().trapz(status, trap_codes::BUILTIN_TRAP);
        self.reload_cached_limits();
        self.builder.ins().jump(cont, &[]);
        self.builder.seal_block(cont);
        self.builder.switch_to_block(cont);
    }

    /// A direct reference to the module's stub of `path`, linked after its functions.
    fn stub_func(&mut self, path: SlowPath) -> ir::FuncRef {
        let slot = path.index() as usize;
        if let Some(f) = self.stub_funcs[slot] {
            return f;
        }
        let info = self.env.info;
        let num_defined = info.functions.len() as u32 - info.num_imported_funcs;
        let signature = self.builder.import_signature(stub_signature());
        let name = self
            .builder
            .func
            .declare_imported_user_function(UserExternalName::new(0, num_defined + path.index()));
        let f = self.builder.import_function(ExtFuncData {
            name: ExternalName::User(name),
            signature,
            // Linked into the same region as the module's functions.
            colocated: true,
            patchable: false,
        });
        self.stub_funcs[slot] = Some(f);
        f
    }
}
