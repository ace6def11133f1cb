//! Interruption checks, at function entry and loop headers: epoch deadlines (and, later,
//! fuel).

use super::{trusted, FuncState};
use crate::builtins::Builtin;
use crate::vmoffsets::{limits, vmctx};
use anyhow::{bail, Result};
use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder};

impl FuncState<'_, '_> {
    /// Emits the checks `CompileConfig` asks for at a function entry or loop header.
    pub(crate) fn interruption_check(&mut self) -> Result<()> {
        if self.env.config.consume_fuel {
            bail!("fuel metering is not supported by the compiler yet");
        }
        if self.env.config.epoch_interruption {
            self.epoch_check();
        }
        Ok(())
    }

    /// If the engine's epoch reached the store's deadline, calls the `NewEpoch` builtin
    /// (which traps, or extends the deadline) out of line.
    // TODO: call the slow path through a `preserve_all` stub so the fast path keeps its
    // registers (see DESIGN.md, "Fuel and epochs").
    fn epoch_check(&mut self) {
        let counter = self.vmctx_ptr(vmctx::EPOCH_COUNTER);
        // A relaxed read of the `AtomicU64`: an aligned 8-byte load is atomic on our targets.
        let epoch = self.builder.ins().load(types::I64, trusted(), counter, 0);
        let limits_ptr = self.vmctx_ptr(vmctx::RUNTIME_LIMITS);
        let deadline = self.builder.ins().load(
            types::I64,
            trusted(),
            limits_ptr,
            limits::EPOCH_DEADLINE as i32,
        );
        let reached = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        let slow = self.builder.create_block();
        let cont = self.builder.create_block();
        self.builder.set_cold_block(slow);
        self.builder.ins().brif(reached, slow, &[], cont, &[]);
        self.builder.seal_block(slow);
        self.builder.switch_to_block(slow);
        self.call_builtin_checked(Builtin::NewEpoch, &[]);
        self.builder.ins().jump(cont, &[]);
        self.builder.seal_block(cont);
        self.builder.switch_to_block(cont);
    }
}
