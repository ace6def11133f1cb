//! Slow-path stubs of fuel and epoch checks.
//!
//! A check's fast path is a compare and a branch to a cold block. If that cold block called
//! the builtin (a SystemV function) directly, every caller-saved register — on x86_64 all
//! float registers — would be clobbered there, and the register allocator would keep values
//! that live across the check (a loop's accumulators, pointers) in callee-saved registers or
//! stack slots for the whole loop. Instead the cold block calls a stub with
//! `CallConv::PreserveAll`, which clobbers nothing: the stub saves what the builtin may
//! clobber, calls it, and leaves its status in `VMRuntimeLimits::slow_path_status` (a
//! `preserve_all` function cannot return a value). The caller then re-reads the status and the
//! fuel counter from memory.
//!
//! The stubs are compiled with each module and linked after its functions (they are not
//! part of [`crate::CompiledCode::functions`]); they never trap.

use crate::builtins::Builtin;
use crate::translate::builtin_signature;
use crate::vmoffsets::{limits, vmctx};
use cranelift_codegen::ir::{
    types, AbiParam, Function, InstBuilder, MemFlagsData, Signature, UserFuncName,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

/// The slow paths that have a stub, in the order the stubs are linked after the module's
/// functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlowPath {
    /// Out of fuel: calls [`Builtin::out_of_fuel()`].
    Fuel,
    /// Epoch deadline reached: calls [`Builtin::new_epoch()`].
    Epoch,
}

impl SlowPath {
    /// Every stub, in link order.
    pub(crate) const ALL: [SlowPath; 2] = [SlowPath::Fuel, SlowPath::Epoch];

    /// The builtin the stub calls.
    fn builtin(self) -> Builtin {
        match self {
            SlowPath::Fuel => Builtin::out_of_fuel(),
            SlowPath::Epoch => Builtin::new_epoch(),
        }
    }

    /// Position of the stub among the bodies linked after the defined functions.
    pub(crate) fn index(self) -> u32 {
        self as u32
    }
}

/// Whether a module compiled with `config` needs the stubs.
pub(crate) fn needed(config: &crate::CompileConfig) -> bool {
    config.consume_fuel || config.epoch_interruption
}

/// The signature of a stub: `preserve_all fn(vmctx)`.
pub(crate) fn stub_signature() -> Signature {
    let mut sig = Signature::new(CallConv::PreserveAll);
    sig.params.push(AbiParam::new(types::I64));
    sig
}

/// Builds the stub of `path`, to be linked as user function `(0, index)`.
pub(crate) fn build_stub(
    path: SlowPath,
    index: u32,
    isa: &dyn TargetIsa,
    ctx: &mut FunctionBuilderContext,
) -> Function {
    let mut func = Function::with_name_signature(UserFuncName::user(0, index), stub_signature());
    let mut b = FunctionBuilder::new(&mut func, ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let vmctx_ptr = b.block_params(entry)[0];

    let flags = MemFlagsData::trusted();
    let table = b
        .ins()
        .load(types::I64, flags, vmctx_ptr, vmctx::BUILTINS as i32);
    let builtin = path.builtin();
    let callee = b
        .ins()
        .load(types::I64, flags, table, builtin.offset() as i32);
    let sig = b.import_signature(builtin_signature(builtin, isa.default_call_conv()));
    let call = b.ins().call_indirect(sig, callee, &[vmctx_ptr]);
    let status = b.inst_results(call)[0];
    let status = b.ins().uextend(types::I64, status);
    let limits_ptr = b
        .ins()
        .load(types::I64, flags, vmctx_ptr, vmctx::RUNTIME_LIMITS as i32);
    b.ins()
        .store(flags, status, limits_ptr, limits::SLOW_PATH_STATUS as i32);
    b.ins().return_(&[]);
    b.finalize(isa.frontend_config());
    func
}
