//! Linear memory: loads, stores, `memory.size`/`grow`, and bulk memory operators.
//!
//! Address of an access: `base + zero-extended index + offset`. A 32-bit memory in a
//! reservation of at least 4 GiB never moves and needs no bounds check when `offset + size`
//! stays within the guard region: any out-of-bounds access lands in inaccessible pages and
//! faults, and the runtime reports the fault as `HEAP_OUT_OF_BOUNDS` (every access is a trap
//! site with that code). Other accesses, and all of them without signals-based traps, compare
//! `index + offset + size` with the current length first.

use super::{readonly, trusted, FuncState};
use crate::builtins::Builtin;
use crate::module_info::MemoryIndex;
use crate::vmoffsets::memory;
use anyhow::Result;
use cranelift_codegen::ir::{
    condcodes::IntCC, types, Endianness, InstBuilder, MemFlagsData, TrapCode, Type, Value,
};
use wasmparser::{MemArg, Operator};

/// Flags of linear-memory accesses: may trap (out of bounds), wasm is little-endian.
pub(super) fn heap_flags() -> MemFlagsData {
    MemFlagsData::new()
        .with_endianness(Endianness::Little)
        .with_trap_code(Some(TrapCode::HEAP_OUT_OF_BOUNDS))
}

/// How a load extends a narrow value.
#[derive(Clone, Copy)]
enum Load {
    /// Full width of the result type.
    Plain,
    /// Narrow load of `bits`, sign- or zero-extended.
    Extend { bits: u8, signed: bool },
}

impl FuncState<'_, '_> {
    /// Translates a memory operator; `false` if `op` is not one.
    pub(crate) fn translate_memory(&mut self, op: &Operator<'_>) -> Result<bool> {
        use types::{F32, F64, I16, I32, I64, I8};
        use Operator::*;
        let ext = |bits, signed| Load::Extend { bits, signed };
        match op {
            I32Load { memarg } => self.load(memarg, I32, Load::Plain),
            I64Load { memarg } => self.load(memarg, I64, Load::Plain),
            F32Load { memarg } => self.load(memarg, F32, Load::Plain),
            F64Load { memarg } => self.load(memarg, F64, Load::Plain),
            I32Load8S { memarg } => self.load(memarg, I32, ext(8, true)),
            I32Load8U { memarg } => self.load(memarg, I32, ext(8, false)),
            I32Load16S { memarg } => self.load(memarg, I32, ext(16, true)),
            I32Load16U { memarg } => self.load(memarg, I32, ext(16, false)),
            I64Load8S { memarg } => self.load(memarg, I64, ext(8, true)),
            I64Load8U { memarg } => self.load(memarg, I64, ext(8, false)),
            I64Load16S { memarg } => self.load(memarg, I64, ext(16, true)),
            I64Load16U { memarg } => self.load(memarg, I64, ext(16, false)),
            I64Load32S { memarg } => self.load(memarg, I64, ext(32, true)),
            I64Load32U { memarg } => self.load(memarg, I64, ext(32, false)),
            I32Store { memarg }
            | I64Store { memarg }
            | F32Store { memarg }
            | F64Store { memarg } => self.store(memarg, None),
            I32Store8 { memarg } | I64Store8 { memarg } => self.store(memarg, Some(I8)),
            I32Store16 { memarg } | I64Store16 { memarg } => self.store(memarg, Some(I16)),
            I64Store32 { memarg } => self.store(memarg, Some(I32)),
            MemorySize { mem } => {
                let def = self.memory_definition(*mem);
                let len =
                    self.builder
                        .ins()
                        .load(I64, trusted(), def, memory::CURRENT_LENGTH as i32);
                let pages = self.builder.ins().ushr_imm_u(len, 16);
                let pages = self.u64_to_memory_index(*mem, pages);
                self.push(pages);
            }
            MemoryGrow { mem } => {
                let delta = self.pop();
                let delta = self.index_to_u64(delta);
                let mem_arg = self.const_u32(*mem);
                let old = self
                    .call_builtin(Builtin::memory_grow(), &[mem_arg, delta])
                    .expect("memory.grow result");
                self.trap_if_grow_trapped(old);
                // u64::MAX (failure) truncates to -1 for 32-bit memories, as wasm wants.
                let old = self.u64_to_memory_index(*mem, old);
                self.push(old);
            }
            MemoryFill { mem } => {
                let (dst, byte, len) = self.pop3();
                let dst = self.index_to_u64(dst);
                let len = self.index_to_u64(len);
                let mem = self.const_u32(*mem);
                self.call_builtin_checked(Builtin::memory_fill(), &[mem, dst, byte, len]);
            }
            MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                let dst = self.index_to_u64(dst);
                let src = self.index_to_u64(src);
                let len = self.index_to_u64(len);
                let dst_mem = self.const_u32(*dst_mem);
                let src_mem = self.const_u32(*src_mem);
                self.call_builtin_checked(
                    Builtin::memory_copy(),
                    &[dst_mem, dst, src_mem, src, len],
                );
            }
            MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                let dst = self.index_to_u64(dst);
                let mem = self.const_u32(*mem);
                let data = self.const_u32(*data_index);
                self.call_builtin_checked(Builtin::memory_init(), &[mem, data, dst, src, len]);
            }
            DataDrop { data_index } => {
                let data = self.const_u32(*data_index);
                self.call_builtin(Builtin::data_drop(), &[data]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Pointer to memory `index`'s `VMMemoryDefinition`.
    fn memory_definition(&mut self, index: u32) -> Value {
        let offset = self.env.offsets.memory(index);
        self.vmctx_ptr(offset)
    }

    /// Converts a 64-bit size/page count to memory `mem`'s index type.
    fn u64_to_memory_index(&mut self, mem: u32, v: Value) -> Value {
        if self.env.info.memories[MemoryIndex::from_u32(mem)].memory64 {
            v
        } else {
            self.builder.ins().ireduce(types::I32, v)
        }
    }

    /// Whether accesses of memory `mem` with `offset + size <= limit` need no bounds check.
    fn guard_covers(&self, mem: u32, offset: u64, size: u32) -> bool {
        let ty = &self.env.info.memories[MemoryIndex::from_u32(mem)];
        let config = self.env.config;
        // Without signals-based traps an access past the memory must never fault: every one
        // is checked.
        config.signals_based_traps
            && !ty.memory64
            && config.memory_reservation >= 1 << 32
            && offset.saturating_add(u64::from(size)) <= config.memory_guard_size
    }

    /// Whether an access of `size` bytes at `offset` of memory `mem` traps whatever the index,
    /// by Wasmtime 48's rule: when `offset + size` exceeds the memory's largest possible byte
    /// size (its maximum, else 4 GiB for a 32-bit memory and 2^64 - 64 KiB for a 64-bit one).
    /// An offset beyond `u32::MAX` (memory64) is first added to the index, so only `size`
    /// is compared then. Depends on the module alone, not on the engine's memory settings.
    fn always_out_of_bounds(&self, mem: u32, offset: u64, size: u32) -> bool {
        let ty = &self.env.info.memories[MemoryIndex::from_u32(mem)];
        let max_bytes = match ty.maximum {
            Some(pages) => pages.saturating_mul(65536),
            None if ty.memory64 => 0u64.wrapping_sub(65536),
            None => 1 << 32,
        };
        let static_part = if offset > u64::from(u32::MAX) {
            0
        } else {
            offset
        };
        static_part + u64::from(size) > max_bytes
    }

    /// Computes the native address of an access of `size` bytes at `index` (popped by the
    /// caller) and returns it with the immediate offset to use on the load/store; `None` when
    /// the access always traps (see `always_out_of_bounds`): then the trap is emitted and the
    /// rest of the block is unreachable, as in Wasmtime, so the caller emits no access.
    pub(super) fn heap_address(
        &mut self,
        memarg: &MemArg,
        index: Value,
        size: u32,
    ) -> Option<(Value, i32)> {
        let wasmparser::MemArgTarget::Memory(mem) = memarg.target else {
            unreachable!("GC array accesses are rejected by the validator")
        };
        if self.always_out_of_bounds(mem, memarg.offset, size) {
            // Wasmtime stores the fuel counter and traps at once, and translates nothing up to
            // the end of the block: the operators there cost nothing and, since no branch
            // there is translated, a local set there does not reach the code after the block
            // (a `memory.grow` by it may then be one by a constant, which is not checked).
            self.fuel_flush();
            self.fuel_save();
            self.trap(TrapCode::HEAP_OUT_OF_BOUNDS);
            self.reachable = false;
            return None;
        }
        let index = self.index_to_u64(index);
        let def = self.memory_definition(mem);
        let base = if self.guard_covers(mem, memarg.offset, size) {
            // The base of a static memory never changes: load once, hoist freely.
            self.builder
                .ins()
                .load(types::I64, readonly(), def, memory::BASE as i32)
        } else {
            let length =
                self.builder
                    .ins()
                    .load(types::I64, trusted(), def, memory::CURRENT_LENGTH as i32);
            // `offset + size` overflowing u64 can only be out of bounds: saturate.
            let bound = memarg.offset.saturating_add(u64::from(size));
            let bound = self.builder.ins().iconst(types::I64, bound as i64);
            let end = if self.env.info.memories[MemoryIndex::from_u32(mem)].memory64 {
                self.uadd_or_trap(index, bound, TrapCode::HEAP_OUT_OF_BOUNDS)
            } else {
                // A 32-bit index plus a 32-bit offset plus size cannot overflow.
                self.builder.ins().iadd(index, bound)
            };
            let oob = self
                .builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThan, end, length);
            self.trap_if(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
            // The base may move when the memory grows: reload it after the check.
            let base = self
                .builder
                .ins()
                .load(types::I64, trusted(), def, memory::BASE as i32);
            if self.env.spectre_heap {
                return Some(self.spectre_guarded_address(base, index, memarg.offset, oob));
            }
            base
        };
        let addr = self.builder.ins().iadd(base, index);
        Some(match i32::try_from(memarg.offset) {
            Ok(offset) => (addr, offset),
            Err(_) => {
                let addr = self.builder.ins().iadd_imm_u(addr, memarg.offset as i64);
                (addr, 0)
            }
        })
    }

    /// The whole address `base + index + offset`, replaced by null when `oob` is set, so that
    /// a CPU speculating past the bounds check's branch loads from address 0, not from
    /// outside the memory (the branch itself still traps architecturally).
    fn spectre_guarded_address(
        &mut self,
        base: Value,
        index: Value,
        offset: u64,
        oob: Value,
    ) -> (Value, i32) {
        let addr = self.builder.ins().iadd(base, index);
        let addr = self.builder.ins().iadd_imm_u(addr, offset as i64);
        let null = self.builder.ins().iconst(types::I64, 0);
        let guarded = self.builder.ins().select_spectre_guard(oob, null, addr);
        (guarded, 0)
    }

    fn load(&mut self, memarg: &MemArg, ty: Type, kind: Load) {
        let index = self.pop();
        let size = match kind {
            Load::Plain => ty.bytes(),
            Load::Extend { bits, .. } => u32::from(bits / 8),
        };
        let Some((addr, offset)) = self.heap_address(memarg, index, size) else {
            return;
        };
        let flags = heap_flags();
        let ins = self.builder.ins();
        let v = match kind {
            Load::Plain => ins.load(ty, flags, addr, offset),
            Load::Extend {
                bits: 8,
                signed: true,
            } => ins.sload8(ty, flags, addr, offset),
            Load::Extend { bits: 8, .. } => ins.uload8(ty, flags, addr, offset),
            Load::Extend {
                bits: 16,
                signed: true,
            } => ins.sload16(ty, flags, addr, offset),
            Load::Extend { bits: 16, .. } => ins.uload16(ty, flags, addr, offset),
            Load::Extend { signed: true, .. } => ins.sload32(flags, addr, offset),
            Load::Extend { .. } => ins.uload32(flags, addr, offset),
        };
        self.push(v);
    }

    /// Stores the popped value, truncated to `narrow` if given.
    fn store(&mut self, memarg: &MemArg, narrow: Option<Type>) {
        let (index, value) = self.pop2();
        let ty = self.builder.func.dfg.value_type(value);
        let size = narrow.unwrap_or(ty).bytes();
        let Some((addr, offset)) = self.heap_address(memarg, index, size) else {
            return;
        };
        let flags = heap_flags();
        let ins = self.builder.ins();
        match narrow.map(|t| t.bits()) {
            None => ins.store(flags, value, addr, offset),
            Some(8) => ins.istore8(flags, value, addr, offset),
            Some(16) => ins.istore16(flags, value, addr, offset),
            Some(_) => ins.istore32(flags, value, addr, offset),
        };
    }
}
