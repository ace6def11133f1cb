//! Calls: direct, to imported functions, `call_indirect`, `call_ref`, tail calls, `ref.func`
//! and `ref.as_non_null`.
//!
//! Every wasm function takes `(callee_vmctx, caller_vmctx, params...)`. A function of this
//! module is called directly with our own `vmctx` twice; an imported function (or a table
//! element) is a `VMFuncRef` providing the code pointer and the callee's context.

use super::{wasm_signature, FuncState};
use crate::module_info::{DefinedFuncIndex, FuncIndex, TypeIndex};
use crate::trap_codes;
use crate::vmoffsets::funcref;
use anyhow::Result;
use cranelift_codegen::ir::{
    self, types, ExtFuncData, ExternalName, InstBuilder, UserExternalName, Value,
};
use wasmparser::Operator;

/// Flags of loads from a `VMFuncRef`: immutable, but only valid after the null check that
/// precedes them, so they must not be hoisted (no `can_move`).
fn funcref_flags() -> ir::MemFlagsData {
    super::trusted().with_readonly()
}

/// Whether a call returns to its caller or replaces its frame (`return_call*`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum CallKind {
    Normal,
    Tail,
}

impl FuncState<'_, '_> {
    /// The signature of module type `type_index`, imported into the function.
    fn signature(&mut self, type_index: TypeIndex) -> ir::SigRef {
        if let Some(sig) = self.sigs.get(&type_index) {
            return *sig;
        }
        let sig = wasm_signature(
            &self.env.info.types[type_index],
            self.env.config.consume_fuel,
        );
        let sig = self.builder.import_signature(sig);
        self.sigs.insert(type_index, sig);
        sig
    }

    /// A direct reference to defined function `index`, resolved when the module is linked.
    fn direct_func(&mut self, index: DefinedFuncIndex) -> ir::FuncRef {
        if let Some(f) = self.direct_funcs.get(&index) {
            return *f;
        }
        let signature = self.signature(self.env.info.functions[self.env.info.func_index(index)]);
        let name = self
            .builder
            .func
            .declare_imported_user_function(UserExternalName::new(0, index.as_u32()));
        let f = self.builder.import_function(ExtFuncData {
            name: ExternalName::User(name),
            signature,
            // All functions of a module are linked into one contiguous region.
            colocated: true,
            patchable: false,
        });
        self.direct_funcs.insert(index, f);
        f
    }

    /// Calls the `VMFuncRef` at `func_ref` (code pointer and callee context).
    fn call_func_ref(
        &mut self,
        kind: CallKind,
        type_index: TypeIndex,
        func_ref: Value,
        args: &[Value],
    ) {
        let sig = self.signature(type_index);
        let ins = self.builder.ins();
        let code = ins.load(
            types::I64,
            funcref_flags(),
            func_ref,
            funcref::WASM_CALL as i32,
        );
        let callee_vmctx =
            self.builder
                .ins()
                .load(types::I64, funcref_flags(), func_ref, funcref::VMCTX as i32);
        let call_args = self.call_args(callee_vmctx, args);
        match kind {
            CallKind::Normal => {
                let call = self.builder.ins().call_indirect(sig, code, &call_args);
                let results = self.builder.inst_results(call).to_vec();
                let results = self.call_results(&results);
                self.check_pending_exception();
                self.stack.extend_from_slice(results);
            }
            CallKind::Tail => {
                self.builder
                    .ins()
                    .return_call_indirect(sig, code, &call_args);
                self.reachable = false;
            }
        }
    }

    fn call(&mut self, kind: CallKind, index: FuncIndex) {
        let type_index = self.env.info.functions[index];
        let n = self.env.info.types[type_index].params.len();
        let args = self.pop_n(n);
        let Some(defined) = self.env.info.defined_func_index(index) else {
            let offset = self.env.offsets.imported_func(index.as_u32());
            let func_ref = self.vmctx_ptr(offset);
            return self.call_func_ref(kind, type_index, func_ref, &args);
        };
        let f = self.direct_func(defined);
        let call_args = self.call_args(self.vmctx, &args);
        match kind {
            CallKind::Normal => {
                let call = self.builder.ins().call(f, &call_args);
                let results = self.builder.inst_results(call).to_vec();
                let results = self.call_results(&results);
                self.check_pending_exception();
                self.stack.extend_from_slice(results);
            }
            CallKind::Tail => {
                self.builder.ins().return_call(f, &call_args);
                self.reachable = false;
            }
        }
    }

    fn call_indirect(&mut self, kind: CallKind, type_index: TypeIndex, table: u32) {
        let index = self.pop();
        let n = self.env.info.types[type_index].params.len();
        let args = self.pop_n(n);
        let addr = self.table_element_addr(table, index);
        let func_ref = self
            .builder
            .ins()
            .load(types::I64, super::trusted(), addr, 0);
        self.trap_if_zero(func_ref, trap_codes::INDIRECT_CALL_TO_NULL);
        // Types are equal when their engine-wide ids are (the runtime canonicalizes them); a
        // function of a subtype fits too, which only a type that is not final can have.
        let fits = self.func_type_matches(func_ref, type_index);
        self.trap_if_zero(fits, trap_codes::BAD_SIGNATURE);
        self.call_func_ref(kind, type_index, func_ref, &args);
    }

    /// `call_ref`/`return_call_ref`: the callee is a typed funcref on top of the stack, so its
    /// type needs no check; null traps.
    fn call_ref(&mut self, kind: CallKind, type_index: TypeIndex) {
        let func_ref = self.pop();
        let n = self.env.info.types[type_index].params.len();
        let args = self.pop_n(n);
        self.trap_if_zero(func_ref, trap_codes::NULL_REFERENCE);
        self.call_func_ref(kind, type_index, func_ref, &args);
    }

    /// Translates a call operator, `ref.func` or `ref.as_non_null`; `false` if `op` is none.
    pub(crate) fn translate_call(&mut self, op: &Operator<'_>) -> Result<bool> {
        match op {
            Operator::Call { function_index } => {
                self.call(CallKind::Normal, FuncIndex::from_u32(*function_index))
            }
            Operator::ReturnCall { function_index } => {
                self.call(CallKind::Tail, FuncIndex::from_u32(*function_index))
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(
                CallKind::Normal,
                TypeIndex::from_u32(*type_index),
                *table_index,
            ),
            Operator::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(
                CallKind::Tail,
                TypeIndex::from_u32(*type_index),
                *table_index,
            ),
            Operator::CallRef { type_index } => {
                self.call_ref(CallKind::Normal, TypeIndex::from_u32(*type_index))
            }
            Operator::ReturnCallRef { type_index } => {
                self.call_ref(CallKind::Tail, TypeIndex::from_u32(*type_index))
            }
            Operator::RefAsNonNull => {
                let v = *self
                    .stack
                    .last()
                    .expect("validated: ref.as_non_null operand");
                self.trap_if_zero(v, trap_codes::NULL_REFERENCE);
            }
            Operator::RefFunc { function_index } => {
                let index = FuncIndex::from_u32(*function_index);
                let v = match self.env.info.defined_func_index(index) {
                    None => {
                        let offset = self.env.offsets.imported_func(index.as_u32());
                        self.vmctx_ptr(offset)
                    }
                    Some(defined) => {
                        let offset = self.env.offsets.defined_funcref(defined.as_u32());
                        self.builder.ins().iadd_imm_u(self.vmctx, i64::from(offset))
                    }
                };
                self.push(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
