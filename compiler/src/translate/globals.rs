//! `global.get` / `global.set`: the `VMContext` holds a pointer to each global's definition.

use super::{ir_type, readonly, trusted, FuncState};
use cranelift_codegen::ir::InstBuilder;

impl FuncState<'_, '_> {
    /// Address of global `index`'s value.
    fn global_addr(&mut self, index: u32) -> cranelift_codegen::ir::Value {
        let offset = self.env.offsets.global(index);
        self.vmctx_ptr(offset)
    }

    pub(crate) fn global_get(&mut self, index: u32) {
        let global = self.env.info.globals[index as usize];
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
