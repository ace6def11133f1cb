//! Constants and numeric operators: integer and float arithmetic, comparisons, conversions,
//! sign extension, saturating truncation, the wide-arithmetic proposal's 128-bit operators,
//! and the reference operators' `ref.null`/`is_null`.
//!
//! Most map to one Cranelift instruction with wasm's semantics already: shifts and rotates
//! take the count modulo the width, `sdiv` traps on overflow, `fmin`/`fmax` propagate NaN and
//! order zeros, `fcvt_to_*int` trap with `BAD_CONVERSION_TO_INTEGER` on NaN and
//! `INTEGER_OVERFLOW` out of range, as wasm requires. Without signals-based traps, divisions
//! and conversions are checked first instead (`traps.rs`).

use super::FuncState;
use anyhow::Result;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

type Builder<'b, 'a> = &'b mut FunctionBuilder<'a>;

impl FuncState<'_, '_> {
    fn unop(&mut self, f: impl FnOnce(Builder<'_, '_>, Value) -> Value) {
        let x = self.pop();
        let v = f(&mut self.builder, x);
        self.push(v);
    }

    fn binop(&mut self, f: impl FnOnce(Builder<'_, '_>, Value, Value) -> Value) {
        let (x, y) = self.pop2();
        let v = f(&mut self.builder, x, y);
        self.push(v);
    }

    fn icmp(&mut self, cc: IntCC) {
        let (x, y) = self.pop2();
        let b = self.builder.ins().icmp(cc, x, y);
        let v = self.bool_to_i32(b);
        self.push(v);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (x, y) = self.pop2();
        let b = self.builder.ins().fcmp(cc, x, y);
        let v = self.bool_to_i32(b);
        self.push(v);
    }

    /// `eqz` and `ref.is_null`: compare with zero.
    fn is_zero(&mut self) {
        let x = self.pop();
        let b = self.builder.ins().icmp_imm_s(IntCC::Equal, x, 0);
        let v = self.bool_to_i32(b);
        self.push(v);
    }

    /// A division or remainder (`signed` division: `INT_MIN / -1` overflows), with the checks
    /// that code without signals-based traps needs first.
    fn division(&mut self, f: impl FnOnce(Builder<'_, '_>, Value, Value) -> Value, signed: bool) {
        let (x, y) = self.pop2();
        self.guard_division(x, y, signed);
        let v = f(&mut self.builder, x, y);
        self.push(v);
    }

    /// A trapping float-to-int conversion (see `traps.rs`).
    fn trunc(&mut self, to: Type, signed: bool) {
        let x = self.pop();
        let v = self.float_to_int(x, to, signed);
        self.push(v);
    }

    /// Signed remainder. Cranelift leaves `INT_MIN % -1` to the target (x86 `idiv` faults);
    /// wasm wants 0. Any `x % -1` is 0, so divide by 1 instead.
    fn srem(&mut self) {
        let (x, y) = self.pop2();
        self.guard_division(x, y, false);
        let ins = self.builder.ins();
        let minus_one = ins.icmp_imm_s(IntCC::Equal, y, -1);
        let ty = self.builder.func.dfg.value_type(y);
        let one = self.builder.ins().iconst(ty, 1);
        let y = self.builder.ins().select(minus_one, one, y);
        let v = self.builder.ins().srem(x, y);
        self.push(v);
    }

    /// Sign-extends the low `from` bits of the operand to `to`.
    fn sign_extend(&mut self, from: Type, to: Type) {
        self.unop(|b, x| {
            let narrow = b.ins().ireduce(from, x);
            b.ins().sextend(to, narrow)
        });
    }

    /// `i64.add128`/`i64.sub128`: two 128-bit operands, each as `(low, high)` halves, give the
    /// low and high halves of the result. Done on Cranelift's `i128` so that the backend
    /// emits an add/sub with carry (borrow) between the halves.
    fn op128(&mut self, f: impl FnOnce(Builder<'_, '_>, Value, Value) -> Value) {
        let (x_hi, y_lo, y_hi) = self.pop3();
        let x_lo = self.pop();
        let b = &mut self.builder;
        let x = b.ins().iconcat(x_lo, x_hi);
        let y = b.ins().iconcat(y_lo, y_hi);
        let r = f(b, x, y);
        let (lo, hi) = b.ins().isplit(r);
        self.push(lo);
        self.push(hi);
    }

    /// `i64.mul_wide_s`/`_u`: the full 128-bit product of two `i64`s as `(low, high)`. A
    /// multiply of two extended 64-bit values, which backends lower to one widening
    /// multiply (x86-64's `mul`/`imul`, aarch64's `mul` with `umulh`/`smulh`).
    fn mul_wide(&mut self, signed: bool) {
        let (x, y) = self.pop2();
        let b = &mut self.builder;
        let (x, y) = if signed {
            (
                b.ins().sextend(types::I128, x),
                b.ins().sextend(types::I128, y),
            )
        } else {
            (
                b.ins().uextend(types::I128, x),
                b.ins().uextend(types::I128, y),
            )
        };
        let r = b.ins().imul(x, y);
        let (lo, hi) = b.ins().isplit(r);
        self.push(lo);
        self.push(hi);
    }

    /// Translates a constant or numeric operator; `false` if `op` is not one.
    pub(crate) fn translate_numeric(&mut self, op: &Operator<'_>) -> Result<bool> {
        use types::{F32, F64, I16, I32, I64, I8};
        use Operator::*;
        match op {
            // Constants. An `iconst.i32` immediate holds the zero-extended bits.
            I32Const { value } => {
                let v = self.builder.ins().iconst(I32, i64::from(*value as u32));
                self.push(v);
            }
            I64Const { value } => {
                let v = self.builder.ins().iconst(I64, *value);
                self.push(v);
            }
            F32Const { value } => {
                let v = self.builder.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            F64Const { value } => {
                let v = self.builder.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }
            RefNull { hty } => {
                crate::parse::check_body_heap_type(*hty, self.env.config.features)?;
                let v = self.builder.ins().iconst(I64, 0);
                self.push(v);
            }
            RefIsNull | I32Eqz | I64Eqz => self.is_zero(),

            // Integer comparisons.
            I32Eq | I64Eq => self.icmp(IntCC::Equal),
            I32Ne | I64Ne => self.icmp(IntCC::NotEqual),
            I32LtS | I64LtS => self.icmp(IntCC::SignedLessThan),
            I32LtU | I64LtU => self.icmp(IntCC::UnsignedLessThan),
            I32GtS | I64GtS => self.icmp(IntCC::SignedGreaterThan),
            I32GtU | I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            I32LeS | I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            I32LeU | I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            I32GeS | I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            I32GeU | I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),

            // Float comparisons: false on NaN except `ne`.
            F32Eq | F64Eq => self.fcmp(FloatCC::Equal),
            F32Ne | F64Ne => self.fcmp(FloatCC::NotEqual),
            F32Lt | F64Lt => self.fcmp(FloatCC::LessThan),
            F32Gt | F64Gt => self.fcmp(FloatCC::GreaterThan),
            F32Le | F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            F32Ge | F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),

            // Integer arithmetic.
            I32Clz | I64Clz => self.unop(|b, x| b.ins().clz(x)),
            I32Ctz | I64Ctz => self.unop(|b, x| b.ins().ctz(x)),
            I32Popcnt | I64Popcnt => self.unop(|b, x| b.ins().popcnt(x)),
            I32Add | I64Add => self.binop(|b, x, y| b.ins().iadd(x, y)),
            I32Sub | I64Sub => self.binop(|b, x, y| b.ins().isub(x, y)),
            I32Mul | I64Mul => self.binop(|b, x, y| b.ins().imul(x, y)),
            I32DivS | I64DivS => self.division(|b, x, y| b.ins().sdiv(x, y), true),
            I32DivU | I64DivU => self.division(|b, x, y| b.ins().udiv(x, y), false),
            I32RemS | I64RemS => self.srem(),
            I32RemU | I64RemU => self.division(|b, x, y| b.ins().urem(x, y), false),
            I32And | I64And => self.binop(|b, x, y| b.ins().band(x, y)),
            I32Or | I64Or => self.binop(|b, x, y| b.ins().bor(x, y)),
            I32Xor | I64Xor => self.binop(|b, x, y| b.ins().bxor(x, y)),
            I32Shl | I64Shl => self.binop(|b, x, y| b.ins().ishl(x, y)),
            I32ShrS | I64ShrS => self.binop(|b, x, y| b.ins().sshr(x, y)),
            I32ShrU | I64ShrU => self.binop(|b, x, y| b.ins().ushr(x, y)),
            I32Rotl | I64Rotl => self.binop(|b, x, y| b.ins().rotl(x, y)),
            I32Rotr | I64Rotr => self.binop(|b, x, y| b.ins().rotr(x, y)),

            // Wide arithmetic.
            I64Add128 => self.op128(|b, x, y| b.ins().iadd(x, y)),
            I64Sub128 => self.op128(|b, x, y| b.ins().isub(x, y)),
            I64MulWideS => self.mul_wide(true),
            I64MulWideU => self.mul_wide(false),

            // Float arithmetic.
            F32Abs | F64Abs => self.unop(|b, x| b.ins().fabs(x)),
            F32Neg | F64Neg => self.unop(|b, x| b.ins().fneg(x)),
            F32Ceil | F64Ceil => self.unop(|b, x| b.ins().ceil(x)),
            F32Floor | F64Floor => self.unop(|b, x| b.ins().floor(x)),
            F32Trunc | F64Trunc => self.unop(|b, x| b.ins().trunc(x)),
            F32Nearest | F64Nearest => self.unop(|b, x| b.ins().nearest(x)),
            F32Sqrt | F64Sqrt => self.unop(|b, x| b.ins().sqrt(x)),
            F32Add | F64Add => self.binop(|b, x, y| b.ins().fadd(x, y)),
            F32Sub | F64Sub => self.binop(|b, x, y| b.ins().fsub(x, y)),
            F32Mul | F64Mul => self.binop(|b, x, y| b.ins().fmul(x, y)),
            F32Div | F64Div => self.binop(|b, x, y| b.ins().fdiv(x, y)),
            F32Min | F64Min => self.binop(|b, x, y| b.ins().fmin(x, y)),
            F32Max | F64Max => self.binop(|b, x, y| b.ins().fmax(x, y)),
            F32Copysign | F64Copysign => self.binop(|b, x, y| b.ins().fcopysign(x, y)),

            // Integer width changes.
            I32WrapI64 => self.unop(|b, x| b.ins().ireduce(I32, x)),
            I64ExtendI32S => self.unop(|b, x| b.ins().sextend(I64, x)),
            I64ExtendI32U => self.unop(|b, x| b.ins().uextend(I64, x)),
            I32Extend8S => self.sign_extend(I8, I32),
            I32Extend16S => self.sign_extend(I16, I32),
            I64Extend8S => self.sign_extend(I8, I64),
            I64Extend16S => self.sign_extend(I16, I64),
            I64Extend32S => self.sign_extend(I32, I64),

            // Float to integer, trapping.
            I32TruncF32S | I32TruncF64S => self.trunc(I32, true),
            I32TruncF32U | I32TruncF64U => self.trunc(I32, false),
            I64TruncF32S | I64TruncF64S => self.trunc(I64, true),
            I64TruncF32U | I64TruncF64U => self.trunc(I64, false),

            // Float to integer, saturating (NaN is 0).
            I32TruncSatF32S | I32TruncSatF64S => self.unop(|b, x| b.ins().fcvt_to_sint_sat(I32, x)),
            I32TruncSatF32U | I32TruncSatF64U => self.unop(|b, x| b.ins().fcvt_to_uint_sat(I32, x)),
            I64TruncSatF32S | I64TruncSatF64S => self.unop(|b, x| b.ins().fcvt_to_sint_sat(I64, x)),
            I64TruncSatF32U | I64TruncSatF64U => self.unop(|b, x| b.ins().fcvt_to_uint_sat(I64, x)),

            // Integer to float, float to float.
            F32ConvertI32S | F32ConvertI64S => self.unop(|b, x| b.ins().fcvt_from_sint(F32, x)),
            F32ConvertI32U | F32ConvertI64U => self.unop(|b, x| b.ins().fcvt_from_uint(F32, x)),
            F64ConvertI32S | F64ConvertI64S => self.unop(|b, x| b.ins().fcvt_from_sint(F64, x)),
            F64ConvertI32U | F64ConvertI64U => self.unop(|b, x| b.ins().fcvt_from_uint(F64, x)),
            F32DemoteF64 => self.unop(|b, x| b.ins().fdemote(F32, x)),
            F64PromoteF32 => self.unop(|b, x| b.ins().fpromote(F64, x)),

            // Reinterpretations keep the bits.
            I32ReinterpretF32 => self.unop(|b, x| b.ins().bitcast(I32, MemFlagsData::new(), x)),
            I64ReinterpretF64 => self.unop(|b, x| b.ins().bitcast(I64, MemFlagsData::new(), x)),
            F32ReinterpretI32 => self.unop(|b, x| b.ins().bitcast(F32, MemFlagsData::new(), x)),
            F64ReinterpretI64 => self.unop(|b, x| b.ins().bitcast(F64, MemFlagsData::new(), x)),

            _ => return Ok(false),
        }
        Ok(true)
    }
}
