//! `global.get` / `global.set`: the `VMContext` holds a pointer to each global's definition.
//! An immutable global defined by a single constant is that constant, as in Wasmtime 48 (so a
//! bulk operator's count read from one is a constant for fuel accounting, see `fuel.rs`).

use super::{ir_type, readonly, trusted, FuncState};
use crate::module_info::{ConstOp, GlobalIndex};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{types, InstBuilder, Value};

impl FuncState<'_, '_> {
    /// Address of global `index`'s value.
    fn global_addr(&mut self, index: u32) -> cranelift_codegen::ir::Value {
        let offset = self.env.offsets.global(index);
        self.vmctx_ptr(offset)
    }

    /// The value of global `index` when it is known at compile time: immutable, defined here,
    /// and initialized by one constant operator.
    fn global_constant(&mut self, index: u32) -> Option<Value> {
        let info = &self.env.info;
        let index = GlobalIndex::from_u32(index);
        if info.globals[index].mutable {
            return None;
        }
        let defined = info.defined_global_index(index)?;
        let ins = self.builder.ins();
        match info.global_inits[defined].ops.as_slice() {
            [ConstOp::I32Const(x)] => Some(ins.iconst(types::I32, i64::from(*x))),
            [ConstOp::I64Const(x)] => Some(ins.iconst(types::I64, *x)),
            [ConstOp::F32Const(bits)] => Some(ins.f32const(Ieee32::with_bits(*bits))),
            [ConstOp::F64Const(bits)] => Some(ins.f64const(Ieee64::with_bits(*bits))),
            [ConstOp::V128Const(bits)] => {
                let bytes = bits.to_le_bytes().to_vec();
                let c = self.builder.func.dfg.constants.insert(bytes.into());
                Some(self.builder.ins().vconst(types::I8X16, c))
            }
            _ => None,
        }
    }

    pub(crate) fn global_get(&mut self, index: u32) {
        if let Some(v) = self.global_constant(index) {
            self.push(v);
            return;
        }
        let global = self.env.info.globals[GlobalIndex::from_u32(index)];
        let addr = self.global_addr(index);
        // An immutable global never changes once instantiated.
        let flags = if global.mutable {
            trusted()
        } else {
            readonly()
        };
        let v = self
            .builder
            .ins()
            .load(ir_type(global.content), flags, addr, 0);
        self.push(v);
    }

    pub(crate) fn global_set(&mut self, index: u32) {
        let v = self.pop();
        let addr = self.global_addr(index);
        self.builder.ins().store(trusted(), v, addr, 0);
    }
}
