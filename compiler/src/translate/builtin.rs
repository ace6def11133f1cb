//! Calls to runtime builtins through the `VMContext`'s builtin table.

use super::{readonly, FuncState};
use crate::builtins::Builtin;
use crate::trap_codes;
use crate::vmoffsets::vmctx;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, Signature, Type, Value};

/// Parameter types after `vmctx`, and the result type, of each builtin (see `builtins.rs`).
fn builtin_signature(builtin: Builtin) -> (&'static [Type], Option<Type>) {
    use types::{I32, I64};
    match builtin {
        Builtin::MemoryGrow => (&[I32, I64], Some(I64)),
        Builtin::MemoryFill => (&[I32, I64, I32, I64], Some(I32)),
        Builtin::MemoryCopy => (&[I32, I64, I32, I64, I64], Some(I32)),
        Builtin::MemoryInit => (&[I32, I32, I64, I32, I32], Some(I32)),
        Builtin::DataDrop => (&[I32], None),
        Builtin::TableGrow => (&[I32, I64, I64], Some(I64)),
        Builtin::TableFill => (&[I32, I64, I64, I64], Some(I32)),
        Builtin::TableCopy => (&[I32, I32, I64, I64, I64], Some(I32)),
        Builtin::TableInit => (&[I32, I32, I64, I32, I32], Some(I32)),
        Builtin::ElemDrop => (&[I32], None),
        Builtin::OutOfFuel | Builtin::NewEpoch => (&[], Some(I32)),
        Builtin::Throw => (&[I32, I64], Some(I64)),
        Builtin::ExceptionTag => (&[I64], Some(I64)),
        Builtin::ExceptionPayload => (&[I64, I64], None),
        Builtin::ExceptionCaught => (&[I64, I32], None),
        Builtin::RaiseTrap => (&[I32], None),
    }
}

impl FuncState<'_, '_> {
    /// Calls `builtin(vmctx, args...)` and returns its result, if it has one.
    pub(crate) fn call_builtin(&mut self, builtin: Builtin, args: &[Value]) -> Option<Value> {
        let (params, result) = builtin_signature(builtin);
        debug_assert_eq!(params.len(), args.len());
        let sig = match self.builtin_sigs.get(&(builtin as u32)) {
            Some(sig) => *sig,
            None => {
                let mut sig = Signature::new(self.env.host_call_conv);
                sig.params.push(AbiParam::new(types::I64));
                sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
                sig.returns.extend(result.map(AbiParam::new));
                let sig = self.builder.import_signature(sig);
                self.builtin_sigs.insert(builtin as u32, sig);
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
