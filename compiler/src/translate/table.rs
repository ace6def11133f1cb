//! Tables: `table.get`/`set`/`size` inline, the rest through builtins. Elements are 8 bytes
//! (funcref: `*const VMFuncRef`, externref: a handle; null = 0).

use super::{trusted, FuncState};
use crate::builtins::Builtin;
use crate::module_info::TableIndex;
use crate::trap_codes;
use crate::vmoffsets::table;
use anyhow::Result;
use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, Value};
use wasmparser::Operator;

impl FuncState<'_, '_> {
    /// Pointer to table `index`'s `VMTableDefinition`.
    fn table_definition(&mut self, index: u32) -> Value {
        let offset = self.env.offsets.table(index);
        self.vmctx_ptr(offset)
    }

    /// Address of element `index` of `table`, trapping with `TABLE_OUT_OF_BOUNDS` when the
    /// index is not below the current size.
    pub(crate) fn table_element_addr(&mut self, table: u32, index: Value) -> Value {
        let def = self.table_definition(table);
        let index = self.index_to_u64(index);
        let size =
            self.builder
                .ins()
                .load(types::I64, trusted(), def, table::CURRENT_ELEMENTS as i32);
        let oob = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, size);
        self.trap_if(oob, trap_codes::TABLE_OUT_OF_BOUNDS);
        // Elements move when the table grows: load the base after the check.
        let base = self
            .builder
            .ins()
            .load(types::I64, trusted(), def, table::BASE as i32);
        let offset = self.builder.ins().ishl_imm_u(index, 3);
        let addr = self.builder.ins().iadd(base, offset);
        if !self.env.spectre_table {
            return addr;
        }
        // A CPU speculating past the bounds check reads element 0, not memory past the table.
        self.builder.ins().select_spectre_guard(oob, base, addr)
    }

    /// Converts a 64-bit size to table `index`'s index type.
    fn u64_to_table_index(&mut self, table: u32, v: Value) -> Value {
        if self.env.info.tables[TableIndex::from_u32(table)].table64 {
            v
        } else {
            self.builder.ins().ireduce(types::I32, v)
        }
    }

    /// Translates a table operator; `false` if `op` is not one.
    pub(crate) fn translate_table(&mut self, op: &Operator<'_>) -> Result<bool> {
        use Operator::*;
        match op {
            TableGet { table } => {
                let index = self.pop();
                let addr = self.table_element_addr(*table, index);
                let v = self.builder.ins().load(types::I64, trusted(), addr, 0);
                self.push(v);
            }
            TableSet { table } => {
                let (index, value) = self.pop2();
                let addr = self.table_element_addr(*table, index);
                self.builder.ins().store(trusted(), value, addr, 0);
            }
            TableSize { table } => {
                // A table whose minimum is its maximum never changes size: a constant, as in
                // Wasmtime 48 (which matters to fuel: a bulk operator's count may be it).
                let ty = self.env.info.tables[TableIndex::from_u32(*table)];
                if ty.maximum == Some(ty.minimum) {
                    let index_ty = if ty.table64 { types::I64 } else { types::I32 };
                    let size = self.builder.ins().iconst(index_ty, ty.minimum as i64);
                    self.push(size);
                    return Ok(true);
                }
                let def = self.table_definition(*table);
                let size = self.builder.ins().load(
                    types::I64,
                    trusted(),
                    def,
                    table::CURRENT_ELEMENTS as i32,
                );
                let size = self.u64_to_table_index(*table, size);
                self.push(size);
            }
            TableGrow { table } => {
                let (init, delta) = self.pop2();
                let delta = self.index_to_u64(delta);
                let table_arg = self.const_u32(*table);
                let old = self
                    .call_builtin(Builtin::table_grow(), &[table_arg, delta, init])
                    .expect("table.grow result");
                self.trap_if_grow_trapped(old);
                // u64::MAX (failure) truncates to -1 for 32-bit tables.
                let old = self.u64_to_table_index(*table, old);
                self.push(old);
            }
            TableFill { table } => {
                let (dst, value, len) = self.pop3();
                let dst = self.index_to_u64(dst);
                let len = self.index_to_u64(len);
                let table = self.const_u32(*table);
                self.call_builtin_checked(Builtin::table_fill(), &[table, dst, value, len]);
            }
            TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                let dst = self.index_to_u64(dst);
                let src = self.index_to_u64(src);
                let len = self.index_to_u64(len);
                let dst_table = self.const_u32(*dst_table);
                let src_table = self.const_u32(*src_table);
                self.call_builtin_checked(
                    Builtin::table_copy(),
                    &[dst_table, src_table, dst, src, len],
                );
            }
            TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let dst = self.index_to_u64(dst);
                let table = self.const_u32(*table);
                let elem = self.const_u32(*elem_index);
                self.call_builtin_checked(Builtin::table_init(), &[table, elem, dst, src, len]);
            }
            ElemDrop { elem_index } => {
                let elem = self.const_u32(*elem_index);
                self.call_builtin(Builtin::elem_drop(), &[elem]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
