//! Interruption checks: fuel and epoch deadlines at function entry, at loop headers, and at
//! bulk operators that may do much work, the places where Wasmtime 48 checks, so that fuel
//! runs out and deadline callbacks run at the same points (the same number of callbacks for
//! the same ticks, observable as soon as a host function advances the epoch).
//!
//! Fast path: a compare and a branch to a cold block. The cold block calls the module's
//! `preserve_all` stub of the slow path (see `stubs.rs`), so the fast path keeps its values
//! in registers: the call clobbers nothing.
//!
//! A loop's checks sit at the top of its header, so every edge into the loop passes them and
//! a loop closed by `br_if` keeps the one conditional branch back (checks on the back edges
//! would add a block with a second branch and a jump to every iteration).
//!
//! An epoch check compares the engine's counter with the store's deadline. In a loop that
//! makes no call (`call_free_loops`), the deadline is read once where the loop is entered and
//! kept in a variable, and the counter's address is hoisted out of the loop: each iteration
//! pays one load, a compare and a branch. Only a slow path can change the deadline while such
//! a loop runs (host code is reached through calls), and it reloads the variable. Everywhere
//! else (function entry, loops that call, bulk operators) both are read from memory at the
//! check: a value kept across a call would take a callee-saved register that every
//! invocation of the function saves and restores.

use super::{trusted, FuncState};
use crate::stubs::{stub_signature, SlowPath};
use crate::trap_codes;
use crate::vmoffsets::{limits, vmctx};
use cranelift_codegen::ir::{
    self, condcodes::IntCC, types, ExtFuncData, ExternalName, InstBuilder, UserExternalName,
};
use wasmparser::{BinaryReader, Operator, OperatorsReader};

/// For each `loop` of a function body, in order: whether it runs no call operator (nested
/// blocks and loops included), so that its epoch checks can keep the deadline in a register.
pub(crate) fn call_free_loops(body: BinaryReader<'_>) -> Vec<bool> {
    let mut call_free = Vec::new();
    // The open constructs: the index in `call_free` of each open loop, `None` for others.
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut ops = OperatorsReader::new(body);
    while !ops.eof() {
        // A decoding error fails validation later; the loops seen so far are enough.
        let Ok(op) = ops.read() else { break };
        match op {
            Operator::Loop { .. } => {
                open.push(Some(call_free.len()));
                call_free.push(true);
            }
            Operator::Block { .. } | Operator::If { .. } | Operator::TryTable { .. } => {
                open.push(None)
            }
            Operator::End => {
                open.pop();
            }
            Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::CallRef { .. }
            | Operator::ReturnCall { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::ReturnCallRef { .. } => {
                for &i in open.iter().flatten() {
                    call_free[i] = false;
                }
            }
            _ => {}
        }
    }
    call_free
}

impl FuncState<'_, '_> {
    /// Whether the next `loop` of the body keeps the epoch deadline in a variable; moves on to
    /// the loop after it.
    fn next_loop_caches_deadline(&mut self) -> bool {
        let i = self.loops_seen;
        self.loops_seen += 1;
        self.epoch_deadline_var.is_some() && self.call_free_loops.get(i).copied() == Some(true)
    }

    /// A `loop` in unreachable code: not translated, but counted.
    pub(crate) fn skip_loop(&mut self) {
        self.next_loop_caches_deadline();
    }

    /// Before the jump into a loop's header: reads the deadline into its variable if the
    /// loop keeps it there. Returns whether it does (for `loop_header_check`).
    pub(crate) fn loop_entry(&mut self) -> bool {
        let cached = self.next_loop_caches_deadline();
        if cached {
            self.epoch_deadline_load();
        }
        cached
    }

    /// Emits the checks `CompileConfig` asks for at the top of a loop header; `cached` is
    /// what `loop_entry` returned.
    pub(crate) fn loop_header_check(&mut self, cached: bool) {
        if self.env.config.consume_fuel {
            self.fuel_check();
        }
        if self.env.config.epoch_interruption {
            self.epoch_check(cached);
        }
    }

    /// The checks of a loop header elsewhere (function entry, bulk operators), with the
    /// deadline read from memory.
    pub(crate) fn interruption_checks(&mut self) {
        self.loop_header_check(false);
    }

    /// Declares the deadline variable if some loop can keep the deadline there.
    pub(crate) fn epoch_function_entry(&mut self) {
        if self.env.config.epoch_interruption && self.call_free_loops.contains(&true) {
            self.epoch_deadline_var = Some(self.builder.declare_var(types::I64));
        }
    }

    /// Loads the store's deadline (this instance's copy of it).
    fn epoch_deadline(&mut self) -> ir::Value {
        self.builder.ins().load(
            types::I64,
            trusted(),
            self.vmctx,
            vmctx::EPOCH_DEADLINE as i32,
        )
    }

    /// Sets the deadline variable (if there is one) from memory.
    fn epoch_deadline_load(&mut self) {
        if let Some(var) = self.epoch_deadline_var {
            let deadline = self.epoch_deadline();
            self.builder.def_var(var, deadline);
        }
    }

    /// If the counter reached zero, calls the `OutOfFuel` slow path (which refills from the
    /// store's reserve or traps).
    pub(crate) fn fuel_check(&mut self) {
        // At function entry, the entry's own cost is pending.
        self.fuel_flush();
        let consumed = self.fuel_value().expect("fuel is metered");
        let out = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, consumed, 0);
        self.cold_slow_path(out, SlowPath::Fuel);
    }

    /// If the engine's epoch reached the store's deadline, calls the `NewEpoch` slow path
    /// (which traps, or extends the deadline). `cached`: in a call-free loop that keeps the
    /// deadline in its variable (see the module docs).
    fn epoch_check(&mut self, cached: bool) {
        let (counter, deadline) = match self.epoch_deadline_var {
            Some(var) if cached => {
                // Hoisted out of the loop: `readonly` and `can_move`.
                let counter = self.vmctx_ptr(vmctx::EPOCH_COUNTER);
                (counter, self.builder.use_var(var))
            }
            _ => {
                // Read here, so that nothing stays live across calls.
                let counter = self.builder.ins().load(
                    types::I64,
                    trusted().with_readonly(),
                    self.vmctx,
                    vmctx::EPOCH_COUNTER as i32,
                );
                (counter, self.epoch_deadline())
            }
        };
        // A relaxed read of the `AtomicU64`: an aligned 8-byte load is atomic on our targets.
        let epoch = self.builder.ins().load(types::I64, trusted(), counter, 0);
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
        // The fuel slow path reads and changes the counter in memory: store it before, reload
        // it after. The epoch slow path does neither, as in Wasmtime 48: a deadline callback
        // sees the counter as of its last store, what it sets is overwritten by the next
        // store, and a trap there leaves the last stored count.
        if path == SlowPath::Fuel {
            self.fuel_save();
        }
        let stub = self.stub_func(path);
        let vmctx = match path {
            // The context's copy of its own address (see `vmctx::SELF`).
            SlowPath::Epoch => {
                self.builder
                    .ins()
                    .load(types::I64, trusted(), self.vmctx, vmctx::SELF as i32)
            }
            SlowPath::Fuel => self.vmctx,
        };
        self.builder.ins().call(stub, &[vmctx]);
        let limits_ptr = self.limits_ptr();
        let status = self.builder.ins().load(
            types::I64,
            trusted(),
            limits_ptr,
            limits::SLOW_PATH_STATUS as i32,
        );
        self.trap_if_zero(status, trap_codes::BUILTIN_TRAP);
        if path == SlowPath::Fuel {
            self.fuel_load();
        }
        self.epoch_deadline_load();
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
        let num_defined = info.num_defined_funcs();
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
