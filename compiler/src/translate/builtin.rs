//! Calls to runtime builtins through the `VMContext`'s builtin table.

use super::{readonly, FuncState};
use crate::builtins::{Builtin, BuiltinType};
use crate::trap_codes;
use crate::vmoffsets::vmctx;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, Signature, Type, Value};
use cranelift_codegen::isa::CallConv;

/// The Cranelift type of a builtin parameter or result kind.
fn clif_type(kind: BuiltinType) -> Type {
    match kind {
        BuiltinType::U32 => types::I32,
        BuiltinType::U64 | BuiltinType::VmCtx | BuiltinType::Vals => types::I64,
    }
}

/// The native signature of `builtin`, as the list in `wasmjit_environ::builtins` declares it.
pub(crate) fn builtin_signature(builtin: Builtin, call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    let params = builtin.params().iter();
    sig.params
        .extend(params.map(|kind| AbiParam::new(clif_type(*kind))));
    sig.returns
        .extend(builtin.result().map(|kind| AbiParam::new(clif_type(kind))));
    sig
}

impl FuncState<'_, '_> {
    /// Calls `builtin(vmctx, args...)` and returns its result, if it has one.
    pub(crate) fn call_builtin(&mut self, builtin: Builtin, args: &[Value]) -> Option<Value> {
        let params = builtin.params();
        debug_assert_eq!(params.len(), args.len() + 1, "{}", builtin.name());
        let sig = match self.builtin_sigs.get(&builtin) {
            Some(sig) => *sig,
            None => {
                let sig = builtin_signature(builtin, self.env.host_call_conv);
                let sig = self.builder.import_signature(sig);
                self.builtin_sigs.insert(builtin, sig);
                sig
            }
        };
        let table = self.vmctx_ptr(vmctx::BUILTINS);
        let callee =
            self.builder
                .ins()
                .load(types::I64, readonly(), table, builtin.offset() as i32);
        let mut call_args = Vec::with_capacity(args.len() + 1);
        call_args.push(self.vmctx);
        call_args.extend_from_slice(args);
        let call = self.builder.ins().call_indirect(sig, callee, &call_args);
        self.builder.inst_results(call).first().copied()
    }

    /// Calls a builtin that returns a status, trapping with `BUILTIN_TRAP` when it is 0.
    pub(crate) fn call_builtin_checked(&mut self, builtin: Builtin, args: &[Value]) {
        let status = self
            .call_builtin(builtin, args)
            .expect("status-returning builtin");
        self.trap_if_zero(status, trap_codes::BUILTIN_TRAP);
    }

    /// Traps with `BUILTIN_TRAP` when a `MemoryGrow`/`TableGrow` result is
    /// [`GROW_TRAPPED`](crate::builtins::GROW_TRAPPED).
    pub(crate) fn trap_if_grow_trapped(&mut self, result: Value) {
        let trapped = self.builder.ins().icmp_imm_s(
            IntCC::Equal,
            result,
            crate::builtins::GROW_TRAPPED as i64,
        );
        self.trap_if(trapped, trap_codes::BUILTIN_TRAP);
    }

    /// A `u32` immediate argument (an index) of a builtin.
    pub(crate) fn const_u32(&mut self, v: u32) -> Value {
        self.builder.ins().iconst(types::I32, i64::from(v))
    }
}
