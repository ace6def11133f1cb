//! The threads proposal's operators: atomic loads, stores, read-modify-writes and
//! compare-exchanges, `atomic.fence`, and `memory.atomic.wait32/64` / `memory.atomic.notify`.
//!
//! Every access is sequentially consistent (Cranelift's `atomic_*` instructions and `fence`
//! are). An access narrower than its value type works on the low bits and zero-extends what
//! it reads. The effective address must be a multiple of the access size: that is checked
//! first, then the bounds, as Wasmtime 48 orders them (a misaligned access that is also out
//! of bounds traps with `HEAP_MISALIGNED`). Wait and notify are builtins, which check both in
//! the runtime with the same order. Atomics work on any memory; only a wait on a memory that
//! is not shared traps.

use super::memory::heap_flags;
use super::FuncState;
use crate::builtins::{Builtin, ATOMIC_TRAPPED};
use crate::trap_codes;
use anyhow::Result;
use cranelift_codegen::ir::{
    condcodes::IntCC, types, AtomicRmwOp, InstBuilder, MemFlagsData, TrapCode, Type, Value,
};
use wasmparser::{MemArg, Operator};

/// The wasm value type and the accessed width of an atomic operator.
#[derive(Clone, Copy)]
struct Access {
    /// Type of the operand and result on the wasm stack (`I32` or `I64`).
    value: Type,
    /// Type of the memory access (`I8` to `I64`, never wider than `value`).
    width: Type,
}

impl FuncState<'_, '_> {
    /// Translates an atomic operator; `false` if `op` is not one.
    pub(crate) fn translate_atomic(&mut self, op: &Operator<'_>) -> Result<bool> {
        use types::{I16, I32, I64, I8};
        use AtomicRmwOp::{Add, And, Or, Sub, Xchg, Xor};
        use Operator::*;
        let acc = |value, width| Access { value, width };
        match op {
            I32AtomicLoad { memarg } => self.atomic_load(memarg, acc(I32, I32)),
            I64AtomicLoad { memarg } => self.atomic_load(memarg, acc(I64, I64)),
            I32AtomicLoad8U { memarg } => self.atomic_load(memarg, acc(I32, I8)),
            I32AtomicLoad16U { memarg } => self.atomic_load(memarg, acc(I32, I16)),
            I64AtomicLoad8U { memarg } => self.atomic_load(memarg, acc(I64, I8)),
            I64AtomicLoad16U { memarg } => self.atomic_load(memarg, acc(I64, I16)),
            I64AtomicLoad32U { memarg } => self.atomic_load(memarg, acc(I64, I32)),

            I32AtomicStore { memarg } => self.atomic_store(memarg, acc(I32, I32)),
            I64AtomicStore { memarg } => self.atomic_store(memarg, acc(I64, I64)),
            I32AtomicStore8 { memarg } => self.atomic_store(memarg, acc(I32, I8)),
            I32AtomicStore16 { memarg } => self.atomic_store(memarg, acc(I32, I16)),
            I64AtomicStore8 { memarg } => self.atomic_store(memarg, acc(I64, I8)),
            I64AtomicStore16 { memarg } => self.atomic_store(memarg, acc(I64, I16)),
            I64AtomicStore32 { memarg } => self.atomic_store(memarg, acc(I64, I32)),

            I32AtomicRmwAdd { memarg } => self.atomic_rmw(memarg, acc(I32, I32), Add),
            I64AtomicRmwAdd { memarg } => self.atomic_rmw(memarg, acc(I64, I64), Add),
            I32AtomicRmw8AddU { memarg } => self.atomic_rmw(memarg, acc(I32, I8), Add),
            I32AtomicRmw16AddU { memarg } => self.atomic_rmw(memarg, acc(I32, I16), Add),
            I64AtomicRmw8AddU { memarg } => self.atomic_rmw(memarg, acc(I64, I8), Add),
            I64AtomicRmw16AddU { memarg } => self.atomic_rmw(memarg, acc(I64, I16), Add),
            I64AtomicRmw32AddU { memarg } => self.atomic_rmw(memarg, acc(I64, I32), Add),

            I32AtomicRmwSub { memarg } => self.atomic_rmw(memarg, acc(I32, I32), Sub),
            I64AtomicRmwSub { memarg } => self.atomic_rmw(memarg, acc(I64, I64), Sub),
            I32AtomicRmw8SubU { memarg } => self.atomic_rmw(memarg, acc(I32, I8), Sub),
            I32AtomicRmw16SubU { memarg } => self.atomic_rmw(memarg, acc(I32, I16), Sub),
            I64AtomicRmw8SubU { memarg } => self.atomic_rmw(memarg, acc(I64, I8), Sub),
            I64AtomicRmw16SubU { memarg } => self.atomic_rmw(memarg, acc(I64, I16), Sub),
            I64AtomicRmw32SubU { memarg } => self.atomic_rmw(memarg, acc(I64, I32), Sub),

            I32AtomicRmwAnd { memarg } => self.atomic_rmw(memarg, acc(I32, I32), And),
            I64AtomicRmwAnd { memarg } => self.atomic_rmw(memarg, acc(I64, I64), And),
            I32AtomicRmw8AndU { memarg } => self.atomic_rmw(memarg, acc(I32, I8), And),
            I32AtomicRmw16AndU { memarg } => self.atomic_rmw(memarg, acc(I32, I16), And),
            I64AtomicRmw8AndU { memarg } => self.atomic_rmw(memarg, acc(I64, I8), And),
            I64AtomicRmw16AndU { memarg } => self.atomic_rmw(memarg, acc(I64, I16), And),
            I64AtomicRmw32AndU { memarg } => self.atomic_rmw(memarg, acc(I64, I32), And),

            I32AtomicRmwOr { memarg } => self.atomic_rmw(memarg, acc(I32, I32), Or),
            I64AtomicRmwOr { memarg } => self.atomic_rmw(memarg, acc(I64, I64), Or),
            I32AtomicRmw8OrU { memarg } => self.atomic_rmw(memarg, acc(I32, I8), Or),
            I32AtomicRmw16OrU { memarg } => self.atomic_rmw(memarg, acc(I32, I16), Or),
            I64AtomicRmw8OrU { memarg } => self.atomic_rmw(memarg, acc(I64, I8), Or),
            I64AtomicRmw16OrU { memarg } => self.atomic_rmw(memarg, acc(I64, I16), Or),
            I64AtomicRmw32OrU { memarg } => self.atomic_rmw(memarg, acc(I64, I32), Or),

            I32AtomicRmwXor { memarg } => self.atomic_rmw(memarg, acc(I32, I32), Xor),
            I64AtomicRmwXor { memarg } => self.atomic_rmw(memarg, acc(I64, I64), Xor),
            I32AtomicRmw8XorU { memarg } => self.atomic_rmw(memarg, acc(I32, I8), Xor),
            I32AtomicRmw16XorU { memarg } => self.atomic_rmw(memarg, acc(I32, I16), Xor),
            I64AtomicRmw8XorU { memarg } => self.atomic_rmw(memarg, acc(I64, I8), Xor),
            I64AtomicRmw16XorU { memarg } => self.atomic_rmw(memarg, acc(I64, I16), Xor),
            I64AtomicRmw32XorU { memarg } => self.atomic_rmw(memarg, acc(I64, I32), Xor),

            I32AtomicRmwXchg { memarg } => self.atomic_rmw(memarg, acc(I32, I32), Xchg),
            I64AtomicRmwXchg { memarg } => self.atomic_rmw(memarg, acc(I64, I64), Xchg),
            I32AtomicRmw8XchgU { memarg } => self.atomic_rmw(memarg, acc(I32, I8), Xchg),
            I32AtomicRmw16XchgU { memarg } => self.atomic_rmw(memarg, acc(I32, I16), Xchg),
            I64AtomicRmw8XchgU { memarg } => self.atomic_rmw(memarg, acc(I64, I8), Xchg),
            I64AtomicRmw16XchgU { memarg } => self.atomic_rmw(memarg, acc(I64, I16), Xchg),
            I64AtomicRmw32XchgU { memarg } => self.atomic_rmw(memarg, acc(I64, I32), Xchg),

            I32AtomicRmwCmpxchg { memarg } => self.atomic_cmpxchg(memarg, acc(I32, I32)),
            I64AtomicRmwCmpxchg { memarg } => self.atomic_cmpxchg(memarg, acc(I64, I64)),
            I32AtomicRmw8CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, acc(I32, I8)),
            I32AtomicRmw16CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, acc(I32, I16)),
            I64AtomicRmw8CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, acc(I64, I8)),
            I64AtomicRmw16CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, acc(I64, I16)),
            I64AtomicRmw32CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, acc(I64, I32)),

            AtomicFence { .. } => {
                self.builder.ins().fence();
            }
            MemoryAtomicNotify { memarg } => {
                let count = self.pop();
                let addr = self.pop();
                let addr = self.effective_address(memarg, addr);
                let mem = self.const_u32(memory_of(memarg));
                let result = self
                    .call_builtin(Builtin::memory_atomic_notify(), &[mem, addr, count])
                    .expect("notify result");
                self.push_atomic_result(result);
            }
            MemoryAtomicWait32 { memarg } => {
                self.atomic_wait(memarg, Builtin::memory_atomic_wait32())
            }
            MemoryAtomicWait64 { memarg } => {
                self.atomic_wait(memarg, Builtin::memory_atomic_wait64())
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Pops the index and returns the native address of an atomic access of `width`, with the
    /// immediate offset folded in (atomic instructions take none); `None` when the access
    /// always traps (the rest of the block is then unreachable).
    fn atomic_address(&mut self, memarg: &MemArg, width: Type) -> Option<Value> {
        let index = self.pop();
        let bytes = width.bytes();
        if bytes > 1 {
            let index_ty = self.builder.func.dfg.value_type(index);
            // The low bits of `index + offset` do not depend on a wrap of the sum.
            let effective = self.builder.ins().iadd_imm_u(index, memarg.offset as i64);
            let low = self
                .builder
                .ins()
                .band_imm_u(effective, i64::from(bytes - 1));
            let misaligned = self.builder.ins().icmp_imm_s(IntCC::NotEqual, low, 0);
            debug_assert!(index_ty == types::I32 || index_ty == types::I64);
            self.trap_if(misaligned, trap_codes::HEAP_MISALIGNED);
        }
        let (addr, offset) = self.heap_address(memarg, index, bytes)?;
        Some(if offset == 0 {
            addr
        } else {
            self.builder.ins().iadd_imm_s(addr, i64::from(offset))
        })
    }

    fn atomic_load(&mut self, memarg: &MemArg, acc: Access) {
        let Some(addr) = self.atomic_address(memarg, acc.width) else {
            return;
        };
        let v = self
            .builder
            .ins()
            .atomic_load(acc.width, atomic_flags(), addr);
        let v = self.widen(v, acc);
        self.push(v);
    }

    fn atomic_store(&mut self, memarg: &MemArg, acc: Access) {
        let value = self.pop();
        let value = self.narrow(value, acc);
        let Some(addr) = self.atomic_address(memarg, acc.width) else {
            return;
        };
        self.builder.ins().atomic_store(atomic_flags(), value, addr);
    }

    fn atomic_rmw(&mut self, memarg: &MemArg, acc: Access, op: AtomicRmwOp) {
        let operand = self.pop();
        let operand = self.narrow(operand, acc);
        let Some(addr) = self.atomic_address(memarg, acc.width) else {
            return;
        };
        let old = self
            .builder
            .ins()
            .atomic_rmw(acc.width, atomic_flags(), op, addr, operand);
        let old = self.widen(old, acc);
        self.push(old);
    }

    fn atomic_cmpxchg(&mut self, memarg: &MemArg, acc: Access) {
        let (expected, replacement) = self.pop2();
        let expected = self.narrow(expected, acc);
        let replacement = self.narrow(replacement, acc);
        let Some(addr) = self.atomic_address(memarg, acc.width) else {
            return;
        };
        let old = self
            .builder
            .ins()
            .atomic_cas(atomic_flags(), addr, expected, replacement);
        let old = self.widen(old, acc);
        self.push(old);
    }

    /// `memory.atomic.wait32/64`: `(addr, expected, timeout) -> 0 ok | 1 not-equal | 2
    /// timed-out`, by the runtime.
    fn atomic_wait(&mut self, memarg: &MemArg, builtin: Builtin) {
        let (addr, expected, timeout) = self.pop3();
        let addr = self.effective_address(memarg, addr);
        let mem = self.const_u32(memory_of(memarg));
        let result = self
            .call_builtin(builtin, &[mem, addr, expected, timeout])
            .expect("wait result");
        self.push_atomic_result(result);
    }

    /// `index + offset` as a 64-bit byte address for the wait/notify builtins, which check
    /// it; trapping out of bounds when the sum overflows (a 64-bit memory's).
    fn effective_address(&mut self, memarg: &MemArg, index: Value) -> Value {
        let is64 = self.builder.func.dfg.value_type(index) == types::I64;
        let index = self.index_to_u64(index);
        if memarg.offset == 0 {
            return index;
        }
        let offset = self.builder.ins().iconst(types::I64, memarg.offset as i64);
        if is64 {
            self.uadd_or_trap(index, offset, TrapCode::HEAP_OUT_OF_BOUNDS)
        } else {
            // A 32-bit index plus a 32-bit offset cannot overflow.
            self.builder.ins().iadd(index, offset)
        }
    }

    /// Traps with `BUILTIN_TRAP` on [`ATOMIC_TRAPPED`], else pushes the result as an `i32`.
    fn push_atomic_result(&mut self, result: Value) {
        let trapped = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::Equal, result, ATOMIC_TRAPPED as i64);
        self.trap_if(trapped, trap_codes::BUILTIN_TRAP);
        let result = self.builder.ins().ireduce(types::I32, result);
        self.push(result);
    }

    /// The operand's low `acc.width` bits.
    fn narrow(&mut self, v: Value, acc: Access) -> Value {
        if acc.width == acc.value {
            v
        } else {
            self.builder.ins().ireduce(acc.width, v)
        }
    }

    /// A value read at `acc.width`, zero-extended to the wasm type.
    fn widen(&mut self, v: Value, acc: Access) -> Value {
        if acc.width == acc.value {
            v
        } else {
            self.builder.ins().uextend(acc.value, v)
        }
    }
}

/// The memory index an access names.
fn memory_of(memarg: &MemArg) -> u32 {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(mem) => mem,
        _ => unreachable!("GC array accesses are rejected by the validator"),
    }
}

/// Flags of atomic accesses: those of any heap access (little-endian, out-of-bounds trap
/// code); the address is known aligned by then.
fn atomic_flags() -> MemFlagsData {
    heap_flags().with_aligned()
}
