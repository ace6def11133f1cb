//! The GC operators that need no GC heap: `i31` references (`ref.i31`, `i31.get_s/u`),
//! `ref.eq`, and the casts (`ref.test`, `ref.cast`, `br_on_cast`, `br_on_cast_fail`).
//!
//! A reference of the internal hierarchy (`anyref`) is 32 bits wide in an `i64`: 0 is null and
//! an odd value an `i31` (`value << 1 | 1`), so `ref.i31` allocates nothing. Until the GC heap
//! exists no struct or array can be made, so a non-null reference of that hierarchy is always
//! an `i31`: a cast to `struct`, `array` or a concrete struct or array type holds only for
//! null. A cast to a concrete function type compares the funcref's engine-wide type id with
//! the module's (`vmctx::TYPE_IDS`), as `call_indirect` does, and asks the `func_subtype`
//! builtin when they differ and the target type is not final.

use super::FuncState;
use crate::builtins::Builtin;
use crate::module_info::{CompositeType, TypeIndex};
use crate::trap_codes;
use crate::vmoffsets::{funcref, vmctx};
use anyhow::{bail, Result};
use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, Value};
use wasmparser::{AbstractHeapType, HeapType, Operator, WasmFeatures};

impl FuncState<'_, '_> {
    /// Translates a heap-free GC operator; `false` if `op` is none, or if GC is off (a module
    /// validated with GC's rules only for a constant `global.get`, see `parse_module`).
    pub(crate) fn translate_gc(&mut self, op: &Operator<'_>) -> Result<bool> {
        if !self.env.config.features.contains(WasmFeatures::GC) {
            return Ok(false);
        }
        match op {
            Operator::RefI31 => {
                let x = self.pop();
                let shifted = self.builder.ins().ishl_imm_u(x, 1);
                let tagged = self.builder.ins().bor_imm_u(shifted, 1);
                let v = self.builder.ins().uextend(types::I64, tagged);
                self.push(v);
            }
            Operator::I31GetS | Operator::I31GetU => {
                let r = self.pop();
                self.trap_if_zero(r, trap_codes::NULL_REFERENCE);
                let bits = self.builder.ins().ireduce(types::I32, r);
                let v = if matches!(op, Operator::I31GetS) {
                    self.builder.ins().sshr_imm_u(bits, 1)
                } else {
                    self.builder.ins().ushr_imm_u(bits, 1)
                };
                self.push(v);
            }
            Operator::RefEq => {
                let (a, b) = self.pop2();
                let eq = self.builder.ins().icmp(IntCC::Equal, a, b);
                let v = self.bool_to_i32(eq);
                self.push(v);
            }
            Operator::RefTestNonNull { hty } | Operator::RefTestNullable { hty } => {
                let nullable = matches!(op, Operator::RefTestNullable { .. });
                let r = self.pop();
                let v = self.ref_test(r, *hty, nullable)?;
                self.push(v);
            }
            Operator::RefCastNonNull { hty } | Operator::RefCastNullable { hty } => {
                let nullable = matches!(op, Operator::RefCastNullable { .. });
                let r = *self.stack.last().expect("validated: ref.cast operand");
                let fits = self.ref_test(r, *hty, nullable)?;
                self.trap_if_zero(fits, trap_codes::CAST_FAILURE);
            }
            Operator::BrOnCast {
                relative_depth,
                to_ref_type,
                ..
            }
            | Operator::BrOnCastFail {
                relative_depth,
                to_ref_type,
                ..
            } => {
                // The reference stays on the stack either way: the branch carries it (as its
                // target's last value), and so does the fall-through.
                let r = *self.stack.last().expect("validated: br_on_cast operand");
                let fits = self.ref_test(r, to_ref_type.heap_type(), to_ref_type.is_nullable())?;
                let on_success = matches!(op, Operator::BrOnCast { .. });
                self.conditional_branch(*relative_depth, fits, on_success);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Whether reference `r` is of type `(ref null? hty)`, as an `i32` 0 or 1 (the validator
    /// has checked that `r`'s static type is in `hty`'s hierarchy).
    fn ref_test(&mut self, r: Value, hty: HeapType, nullable: bool) -> Result<Value> {
        let nullable_bit = self.const_u32(u32::from(nullable));
        let is_null = self.builder.ins().icmp_imm_s(IntCC::Equal, r, 0);
        let non_null_fits = match hty {
            HeapType::Abstract { shared: false, ty } => match ty {
                AbstractHeapType::Any
                | AbstractHeapType::Eq
                | AbstractHeapType::Func
                | AbstractHeapType::Extern
                | AbstractHeapType::Exn => self.const_u32(1),
                AbstractHeapType::I31 => {
                    let bits = self.builder.ins().ireduce(types::I32, r);
                    self.builder.ins().band_imm_u(bits, 1)
                }
                AbstractHeapType::Struct
                | AbstractHeapType::Array
                | AbstractHeapType::None
                | AbstractHeapType::NoFunc
                | AbstractHeapType::NoExtern
                | AbstractHeapType::NoExn => self.const_u32(0),
                other => bail!("unsupported heap type {other:?}"),
            },
            HeapType::Concrete(index) => {
                let Some(index) = index.as_module_index() else {
                    bail!("unsupported heap type {hty:?}");
                };
                let index = TypeIndex::from_u32(index);
                match self.env.info.type_defs[index].composite {
                    CompositeType::Func => return Ok(self.func_ref_test(r, index, nullable)),
                    CompositeType::Struct(_) | CompositeType::Array(_) => self.const_u32(0),
                }
            }
            other => bail!("unsupported heap type {other:?}"),
        };
        Ok(self
            .builder
            .ins()
            .select(is_null, nullable_bit, non_null_fits))
    }

    /// [`Self::ref_test`] of a funcref against function type `index`: the type check of a
    /// funcref that is not null, which must not load from a null one.
    fn func_ref_test(&mut self, r: Value, index: TypeIndex, nullable: bool) -> Value {
        let done = self.builder.create_block();
        let result = self.builder.append_block_param(done, types::I32);
        let non_null = self.builder.create_block();
        let nullable_bit = self.const_u32(u32::from(nullable));
        self.builder
            .ins()
            .brif(r, non_null, &[], done, &[nullable_bit.into()]);
        self.builder.seal_block(non_null);
        self.builder.switch_to_block(non_null);
        let fits = self.func_type_matches(r, index);
        let fits = self.bool_to_i32(fits);
        self.builder.ins().jump(done, &[fits.into()]);
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
        result
    }

    /// Whether the non-null funcref `r`'s function is of type `index` or a subtype of it, as
    /// a Cranelift boolean (`i8` 0 or 1, straight from the compare for a final type).
    pub(crate) fn func_type_matches(&mut self, r: Value, index: TypeIndex) -> Value {
        let actual = self.builder.ins().load(
            types::I32,
            super::trusted().with_readonly(),
            r,
            funcref::TYPE_ID as i32,
        );
        let expected = self.expected_type_id(index);
        let same = self.builder.ins().icmp(IntCC::Equal, actual, expected);
        if self.env.info.type_defs[index].is_final {
            return same;
        }
        let done = self.builder.create_block();
        let result = self.builder.append_block_param(done, types::I8);
        let slow = self.builder.create_block();
        self.builder.set_cold_block(slow);
        self.builder
            .ins()
            .brif(same, done, &[same.into()], slow, &[]);
        self.builder.seal_block(slow);
        self.builder.switch_to_block(slow);
        let sub = self
            .call_builtin(Builtin::func_subtype(), &[actual, expected])
            .expect("func_subtype returns a value");
        let sub = self.builder.ins().icmp_imm_u(IntCC::NotEqual, sub, 0);
        self.builder.ins().jump(done, &[sub.into()]);
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
        result
    }

    /// The engine-wide id of module type `index`, from the context's table of the module's
    /// type ids (an immediate would tie the code to the process that compiled it).
    pub(crate) fn expected_type_id(&mut self, index: TypeIndex) -> Value {
        let type_ids = self.builder.ins().load(
            types::I64,
            super::readonly(),
            self.vmctx,
            vmctx::TYPE_IDS as i32,
        );
        self.builder.ins().load(
            types::I32,
            super::readonly(),
            type_ids,
            (index.as_u32() * 4) as i32,
        )
    }
}
