//! 128-bit SIMD (`v128`) and relaxed SIMD operators.
//!
//! A `v128` travels between operators, locals, globals, blocks and calls as an `i8x16`
//! ([`ir_type`](super::ir_type)); each operator views its operands with the lane type it
//! needs (a `bitcast` with little-endian lane order, which costs nothing on the targets) and
//! pushes its result back as `i8x16`.
//!
//! Most operators map to one Cranelift instruction that already has wasm's semantics:
//! vector shifts take the count modulo the lane width, `swizzle` yields 0 for out-of-range
//! indices, `fmin`/`fmax` propagate NaN and order zeros, `unarrow` saturates signed inputs,
//! `sqmul_round_sat` is `q15mulr_sat_s`, `fcvt_to_*int_sat` saturate and map NaN to 0.
//! Compound operators (pmin/pmax, extended multiplies, pairwise additions, dot products, the
//! `f64x2` truncations) are written in the shapes the backends match to single instructions
//! (`minps`, `pmaddwd`, `cvttpd2dq`...).
//!
//! Relaxed SIMD is compiled deterministically: each relaxed operator computes one of the
//! results its specification allows, the same on every host (the result of the corresponding
//! non-relaxed operator where there is one, fused multiply-add for `relaxed_madd`).
//!
//! Memory accesses use the scalar accesses' addressing and bounds checks
//! ([`heap_address`](FuncState::heap_address)).

use super::memory::heap_flags;
use super::FuncState;
use anyhow::Result;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, Endianness, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{MemArg, Operator};

type Builder<'b, 'a> = &'b mut FunctionBuilder<'a>;

/// The canonical type of a `v128` value.
const V128: Type = types::I8X16;

/// Flags of the `bitcast`s between vector types: lanes in wasm's (little-endian) order.
fn lanes_le() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

impl FuncState<'_, '_> {
    /// `v` viewed as a vector of type `ty`.
    fn as_vector(&mut self, v: Value, ty: Type) -> Value {
        if self.builder.func.dfg.value_type(v) == ty {
            v
        } else {
            self.builder.ins().bitcast(ty, lanes_le(), v)
        }
    }

    /// Pops a `v128` viewed as `ty`.
    fn pop_vector(&mut self, ty: Type) -> Value {
        let v = self.pop();
        self.as_vector(v, ty)
    }

    /// Pushes a vector of any type as a `v128`.
    fn push_vector(&mut self, v: Value) {
        let v = self.as_vector(v, V128);
        self.push(v);
    }

    fn v_unop(&mut self, ty: Type, f: impl FnOnce(Builder<'_, '_>, Value) -> Value) {
        let x = self.pop_vector(ty);
        let v = f(&mut self.builder, x);
        self.push_vector(v);
    }

    fn v_binop(&mut self, ty: Type, f: impl FnOnce(Builder<'_, '_>, Value, Value) -> Value) {
        let y = self.pop_vector(ty);
        let x = self.pop_vector(ty);
        let v = f(&mut self.builder, x, y);
        self.push_vector(v);
    }

    fn v_ternop(
        &mut self,
        ty: Type,
        f: impl FnOnce(Builder<'_, '_>, Value, Value, Value) -> Value,
    ) {
        let z = self.pop_vector(ty);
        let y = self.pop_vector(ty);
        let x = self.pop_vector(ty);
        let v = f(&mut self.builder, x, y, z);
        self.push_vector(v);
    }

    /// Lane-wise integer comparison: all ones where `cc` holds.
    fn v_icmp(&mut self, ty: Type, cc: IntCC) {
        self.v_binop(ty, |b, x, y| b.ins().icmp(cc, x, y));
    }

    /// Lane-wise float comparison: all ones where `cc` holds.
    fn v_fcmp(&mut self, ty: Type, cc: FloatCC) {
        self.v_binop(ty, |b, x, y| b.ins().fcmp(cc, x, y));
    }

    /// Shift of every lane by a scalar count (taken modulo the lane width by Cranelift).
    fn v_shift(&mut self, ty: Type, f: impl FnOnce(Builder<'_, '_>, Value, Value) -> Value) {
        let count = self.pop();
        let x = self.pop_vector(ty);
        let v = f(&mut self.builder, x, count);
        self.push_vector(v);
    }

    /// `any_true`, `all_true` and `bitmask`: a vector reduced to an `i32`.
    fn v_reduce(&mut self, ty: Type, f: impl FnOnce(Builder<'_, '_>, Value) -> Value) {
        let x = self.pop_vector(ty);
        let r = f(&mut self.builder, x);
        let r = if self.builder.func.dfg.value_type(r) == types::I32 {
            r
        } else {
            self.builder.ins().uextend(types::I32, r)
        };
        self.push(r);
    }

    /// `splat` of a scalar, narrowed to the lane type first for `i8x16`/`i16x8`.
    fn v_splat(&mut self, ty: Type) {
        let x = self.pop();
        let x = self.narrow_to_lane(x, ty);
        let v = self.builder.ins().splat(ty, x);
        self.push_vector(v);
    }

    /// An `i32` operand truncated to the 8- or 16-bit lanes of `ty` (other types unchanged).
    fn narrow_to_lane(&mut self, x: Value, ty: Type) -> Value {
        let lane = ty.lane_type();
        if lane.is_int() && lane.bits() < 32 {
            self.builder.ins().ireduce(lane, x)
        } else {
            x
        }
    }

    fn v_extract_lane(&mut self, ty: Type, lane: u8, signed: Option<bool>) {
        let v = self.pop_vector(ty);
        let x = self.builder.ins().extractlane(v, lane);
        let x = match signed {
            Some(true) => self.builder.ins().sextend(types::I32, x),
            Some(false) => self.builder.ins().uextend(types::I32, x),
            None => x,
        };
        self.push(x);
    }

    fn v_replace_lane(&mut self, ty: Type, lane: u8) {
        let x = self.pop();
        let v = self.pop_vector(ty);
        let x = self.narrow_to_lane(x, ty);
        let v = self.builder.ins().insertlane(v, x, lane);
        self.push_vector(v);
    }

    /// A load of `size` bytes producing a vector with `f(builder, flags, address, offset)`.
    fn v_load(
        &mut self,
        memarg: &MemArg,
        size: u32,
        f: impl FnOnce(Builder<'_, '_>, MemFlagsData, Value, i32) -> Value,
    ) {
        let index = self.pop();
        let Some((addr, offset)) = self.heap_address(memarg, index, size) else {
            return;
        };
        let v = f(&mut self.builder, heap_flags(), addr, offset);
        self.push_vector(v);
    }

    /// `v128.loadN_splat`, `v128.loadN_zero`: a scalar load of the lane type of `ty`.
    fn v_load_scalar(&mut self, memarg: &MemArg, ty: Type, zero: bool) {
        let lane = ty.lane_type();
        self.v_load(memarg, lane.bytes(), |b, flags, addr, offset| {
            let x = b.ins().load(lane, flags, addr, offset);
            if zero {
                b.ins().scalar_to_vector(ty, x)
            } else {
                b.ins().splat(ty, x)
            }
        });
    }

    /// `v128.loadN_lane`: replaces one lane with a value loaded from memory.
    fn v_load_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) {
        let v = self.pop_vector(ty);
        let index = self.pop();
        let lane_ty = ty.lane_type();
        let Some((addr, offset)) = self.heap_address(memarg, index, lane_ty.bytes()) else {
            return;
        };
        let x = self.builder.ins().load(lane_ty, heap_flags(), addr, offset);
        let v = self.builder.ins().insertlane(v, x, lane);
        self.push_vector(v);
    }

    /// `v128.storeN_lane`: stores one lane.
    fn v_store_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) {
        let v = self.pop_vector(ty);
        let index = self.pop();
        let lane_ty = ty.lane_type();
        let Some((addr, offset)) = self.heap_address(memarg, index, lane_ty.bytes()) else {
            return;
        };
        let x = self.builder.ins().extractlane(v, lane);
        self.builder.ins().store(heap_flags(), x, addr, offset);
    }

    /// `v128.store`.
    fn v_store(&mut self, memarg: &MemArg) {
        let v = self.pop_vector(V128);
        let index = self.pop();
        let Some((addr, offset)) = self.heap_address(memarg, index, 16) else {
            return;
        };
        self.builder.ins().store(heap_flags(), v, addr, offset);
    }

    /// A vector constant of type `ty`.
    fn v_const(&mut self, ty: Type, bytes: [u8; 16]) -> Value {
        let c = self
            .builder
            .func
            .dfg
            .constants
            .insert(bytes.to_vec().into());
        self.builder.ins().vconst(ty, c)
    }

    /// Extended multiplication of the low or high halves (`extmul_{low,high}_*`).
    fn v_extmul(&mut self, ty: Type, high: bool, signed: bool) {
        self.v_binop(ty, |b, x, y| {
            let (x, y) = match (high, signed) {
                (false, true) => (b.ins().swiden_low(x), b.ins().swiden_low(y)),
                (true, true) => (b.ins().swiden_high(x), b.ins().swiden_high(y)),
                (false, false) => (b.ins().uwiden_low(x), b.ins().uwiden_low(y)),
                (true, false) => (b.ins().uwiden_high(x), b.ins().uwiden_high(y)),
            };
            b.ins().imul(x, y)
        });
    }

    /// `extadd_pairwise`: sums of adjacent lanes, widened.
    fn v_extadd_pairwise(&mut self, ty: Type, signed: bool) {
        self.v_unop(ty, |b, x| {
            let (lo, hi) = if signed {
                (b.ins().swiden_low(x), b.ins().swiden_high(x))
            } else {
                (b.ins().uwiden_low(x), b.ins().uwiden_high(x))
            };
            b.ins().iadd_pairwise(lo, hi)
        });
    }

    /// `extend_{low,high}`.
    fn v_extend(&mut self, ty: Type, high: bool, signed: bool) {
        self.v_unop(ty, |b, x| match (high, signed) {
            (false, true) => b.ins().swiden_low(x),
            (true, true) => b.ins().swiden_high(x),
            (false, false) => b.ins().uwiden_low(x),
            (true, false) => b.ins().uwiden_high(x),
        });
    }

    /// `pmin` (`y < x ? y : x`) and `pmax` (`x < y ? y : x`): no NaN or zero-sign rules.
    fn v_pminmax(&mut self, ty: Type, max: bool) {
        self.v_binop(ty, |b, x, y| {
            let take_y = if max {
                b.ins().fcmp(FloatCC::LessThan, x, y)
            } else {
                b.ins().fcmp(FloatCC::LessThan, y, x)
            };
            let mask = b.ins().bitcast(ty, lanes_le(), take_y);
            b.ins().bitselect(mask, y, x)
        });
    }

    /// `i32x4.trunc_sat_f64x2_{s,u}_zero`: two saturated conversions and two zero lanes.
    fn v_trunc_sat_f64x2_zero(&mut self, signed: bool) {
        let x = self.pop_vector(types::F64X2);
        let zero = self.v_const(types::I64X2, [0; 16]);
        let v = if signed {
            let wide = self.builder.ins().fcvt_to_sint_sat(types::I64X2, x);
            self.builder.ins().snarrow(wide, zero)
        } else {
            let wide = self.builder.ins().fcvt_to_uint_sat(types::I64X2, x);
            self.builder.ins().uunarrow(wide, zero)
        };
        self.push_vector(v);
    }

    /// Products of the signed bytes of `x` and `y`, summed in adjacent pairs (`i16x8`).
    fn dot_i8x16(b: Builder<'_, '_>, x: Value, y: Value) -> Value {
        let lo = {
            let (xl, yl) = (b.ins().swiden_low(x), b.ins().swiden_low(y));
            b.ins().imul(xl, yl)
        };
        let hi = {
            let (xh, yh) = (b.ins().swiden_high(x), b.ins().swiden_high(y));
            b.ins().imul(xh, yh)
        };
        b.ins().iadd_pairwise(lo, hi)
    }

    /// Translates a SIMD or relaxed-SIMD operator; `false` if `op` is not one.
    pub(crate) fn translate_simd(&mut self, op: &Operator<'_>) -> Result<bool> {
        use types::{F32X4, F64X2, I16X8, I32, I32X4, I64X2, I8X16};
        use Operator::*;
        match op {
            // Constants, loads and stores.
            V128Const { value } => {
                let v = self.v_const(V128, *value.bytes());
                self.push(v);
            }
            V128Load { memarg } => self.v_load(memarg, 16, |b, flags, addr, offset| {
                b.ins().load(V128, flags, addr, offset)
            }),
            V128Load8x8S { memarg } => {
                self.v_load(memarg, 8, |b, f, a, o| b.ins().sload8x8(f, a, o))
            }
            V128Load8x8U { memarg } => {
                self.v_load(memarg, 8, |b, f, a, o| b.ins().uload8x8(f, a, o))
            }
            V128Load16x4S { memarg } => {
                self.v_load(memarg, 8, |b, f, a, o| b.ins().sload16x4(f, a, o))
            }
            V128Load16x4U { memarg } => {
                self.v_load(memarg, 8, |b, f, a, o| b.ins().uload16x4(f, a, o))
            }
            V128Load32x2S { memarg } => {
                self.v_load(memarg, 8, |b, f, a, o| b.ins().sload32x2(f, a, o))
            }
            V128Load32x2U { memarg } => {
                self.v_load(memarg, 8, |b, f, a, o| b.ins().uload32x2(f, a, o))
            }
            V128Load8Splat { memarg } => self.v_load_scalar(memarg, I8X16, false),
            V128Load16Splat { memarg } => self.v_load_scalar(memarg, I16X8, false),
            V128Load32Splat { memarg } => self.v_load_scalar(memarg, I32X4, false),
            V128Load64Splat { memarg } => self.v_load_scalar(memarg, I64X2, false),
            V128Load32Zero { memarg } => self.v_load_scalar(memarg, I32X4, true),
            V128Load64Zero { memarg } => self.v_load_scalar(memarg, I64X2, true),
            V128Load8Lane { memarg, lane } => self.v_load_lane(memarg, I8X16, *lane),
            V128Load16Lane { memarg, lane } => self.v_load_lane(memarg, I16X8, *lane),
            V128Load32Lane { memarg, lane } => self.v_load_lane(memarg, I32X4, *lane),
            V128Load64Lane { memarg, lane } => self.v_load_lane(memarg, I64X2, *lane),
            V128Store { memarg } => self.v_store(memarg),
            V128Store8Lane { memarg, lane } => self.v_store_lane(memarg, I8X16, *lane),
            V128Store16Lane { memarg, lane } => self.v_store_lane(memarg, I16X8, *lane),
            V128Store32Lane { memarg, lane } => self.v_store_lane(memarg, I32X4, *lane),
            V128Store64Lane { memarg, lane } => self.v_store_lane(memarg, I64X2, *lane),

            // Lanes.
            I8x16ExtractLaneS { lane } => self.v_extract_lane(I8X16, *lane, Some(true)),
            I8x16ExtractLaneU { lane } => self.v_extract_lane(I8X16, *lane, Some(false)),
            I16x8ExtractLaneS { lane } => self.v_extract_lane(I16X8, *lane, Some(true)),
            I16x8ExtractLaneU { lane } => self.v_extract_lane(I16X8, *lane, Some(false)),
            I32x4ExtractLane { lane } => self.v_extract_lane(I32X4, *lane, None),
            I64x2ExtractLane { lane } => self.v_extract_lane(I64X2, *lane, None),
            F32x4ExtractLane { lane } => self.v_extract_lane(F32X4, *lane, None),
            F64x2ExtractLane { lane } => self.v_extract_lane(F64X2, *lane, None),
            I8x16ReplaceLane { lane } => self.v_replace_lane(I8X16, *lane),
            I16x8ReplaceLane { lane } => self.v_replace_lane(I16X8, *lane),
            I32x4ReplaceLane { lane } => self.v_replace_lane(I32X4, *lane),
            I64x2ReplaceLane { lane } => self.v_replace_lane(I64X2, *lane),
            F32x4ReplaceLane { lane } => self.v_replace_lane(F32X4, *lane),
            F64x2ReplaceLane { lane } => self.v_replace_lane(F64X2, *lane),
            I8x16Splat => self.v_splat(I8X16),
            I16x8Splat => self.v_splat(I16X8),
            I32x4Splat => self.v_splat(I32X4),
            I64x2Splat => self.v_splat(I64X2),
            F32x4Splat => self.v_splat(F32X4),
            F64x2Splat => self.v_splat(F64X2),
            I8x16Shuffle { lanes } => {
                let b = self.pop_vector(I8X16);
                let a = self.pop_vector(I8X16);
                let mask = self.builder.func.dfg.immediates.push(lanes.to_vec().into());
                let v = self.builder.ins().shuffle(a, b, mask);
                self.push_vector(v);
            }
            I8x16Swizzle | I8x16RelaxedSwizzle => {
                self.v_binop(I8X16, |b, x, y| b.ins().swizzle(x, y))
            }

            // Bitwise operators.
            V128Not => self.v_unop(V128, |b, x| b.ins().bnot(x)),
            V128And => self.v_binop(V128, |b, x, y| b.ins().band(x, y)),
            V128AndNot => self.v_binop(V128, |b, x, y| b.ins().band_not(x, y)),
            V128Or => self.v_binop(V128, |b, x, y| b.ins().bor(x, y)),
            V128Xor => self.v_binop(V128, |b, x, y| b.ins().bxor(x, y)),
            V128Bitselect => self.v_ternop(V128, |b, x, y, c| b.ins().bitselect(c, x, y)),
            I8x16RelaxedLaneselect
            | I16x8RelaxedLaneselect
            | I32x4RelaxedLaneselect
            | I64x2RelaxedLaneselect => {
                self.v_ternop(V128, |b, x, y, c| b.ins().bitselect(c, x, y))
            }
            V128AnyTrue => self.v_reduce(V128, |b, x| b.ins().vany_true(x)),

            // Integer comparisons.
            I8x16Eq => self.v_icmp(I8X16, IntCC::Equal),
            I8x16Ne => self.v_icmp(I8X16, IntCC::NotEqual),
            I8x16LtS => self.v_icmp(I8X16, IntCC::SignedLessThan),
            I8x16LtU => self.v_icmp(I8X16, IntCC::UnsignedLessThan),
            I8x16GtS => self.v_icmp(I8X16, IntCC::SignedGreaterThan),
            I8x16GtU => self.v_icmp(I8X16, IntCC::UnsignedGreaterThan),
            I8x16LeS => self.v_icmp(I8X16, IntCC::SignedLessThanOrEqual),
            I8x16LeU => self.v_icmp(I8X16, IntCC::UnsignedLessThanOrEqual),
            I8x16GeS => self.v_icmp(I8X16, IntCC::SignedGreaterThanOrEqual),
            I8x16GeU => self.v_icmp(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            I16x8Eq => self.v_icmp(I16X8, IntCC::Equal),
            I16x8Ne => self.v_icmp(I16X8, IntCC::NotEqual),
            I16x8LtS => self.v_icmp(I16X8, IntCC::SignedLessThan),
            I16x8LtU => self.v_icmp(I16X8, IntCC::UnsignedLessThan),
            I16x8GtS => self.v_icmp(I16X8, IntCC::SignedGreaterThan),
            I16x8GtU => self.v_icmp(I16X8, IntCC::UnsignedGreaterThan),
            I16x8LeS => self.v_icmp(I16X8, IntCC::SignedLessThanOrEqual),
            I16x8LeU => self.v_icmp(I16X8, IntCC::UnsignedLessThanOrEqual),
            I16x8GeS => self.v_icmp(I16X8, IntCC::SignedGreaterThanOrEqual),
            I16x8GeU => self.v_icmp(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            I32x4Eq => self.v_icmp(I32X4, IntCC::Equal),
            I32x4Ne => self.v_icmp(I32X4, IntCC::NotEqual),
            I32x4LtS => self.v_icmp(I32X4, IntCC::SignedLessThan),
            I32x4LtU => self.v_icmp(I32X4, IntCC::UnsignedLessThan),
            I32x4GtS => self.v_icmp(I32X4, IntCC::SignedGreaterThan),
            I32x4GtU => self.v_icmp(I32X4, IntCC::UnsignedGreaterThan),
            I32x4LeS => self.v_icmp(I32X4, IntCC::SignedLessThanOrEqual),
            I32x4LeU => self.v_icmp(I32X4, IntCC::UnsignedLessThanOrEqual),
            I32x4GeS => self.v_icmp(I32X4, IntCC::SignedGreaterThanOrEqual),
            I32x4GeU => self.v_icmp(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            I64x2Eq => self.v_icmp(I64X2, IntCC::Equal),
            I64x2Ne => self.v_icmp(I64X2, IntCC::NotEqual),
            I64x2LtS => self.v_icmp(I64X2, IntCC::SignedLessThan),
            I64x2GtS => self.v_icmp(I64X2, IntCC::SignedGreaterThan),
            I64x2LeS => self.v_icmp(I64X2, IntCC::SignedLessThanOrEqual),
            I64x2GeS => self.v_icmp(I64X2, IntCC::SignedGreaterThanOrEqual),

            // Float comparisons: false on NaN except `ne`.
            F32x4Eq => self.v_fcmp(F32X4, FloatCC::Equal),
            F32x4Ne => self.v_fcmp(F32X4, FloatCC::NotEqual),
            F32x4Lt => self.v_fcmp(F32X4, FloatCC::LessThan),
            F32x4Gt => self.v_fcmp(F32X4, FloatCC::GreaterThan),
            F32x4Le => self.v_fcmp(F32X4, FloatCC::LessThanOrEqual),
            F32x4Ge => self.v_fcmp(F32X4, FloatCC::GreaterThanOrEqual),
            F64x2Eq => self.v_fcmp(F64X2, FloatCC::Equal),
            F64x2Ne => self.v_fcmp(F64X2, FloatCC::NotEqual),
            F64x2Lt => self.v_fcmp(F64X2, FloatCC::LessThan),
            F64x2Gt => self.v_fcmp(F64X2, FloatCC::GreaterThan),
            F64x2Le => self.v_fcmp(F64X2, FloatCC::LessThanOrEqual),
            F64x2Ge => self.v_fcmp(F64X2, FloatCC::GreaterThanOrEqual),

            // Integer lane-wise arithmetic, by lane type.
            I8x16Abs => self.v_unop(I8X16, |b, x| b.ins().iabs(x)),
            I16x8Abs => self.v_unop(I16X8, |b, x| b.ins().iabs(x)),
            I32x4Abs => self.v_unop(I32X4, |b, x| b.ins().iabs(x)),
            I64x2Abs => self.v_unop(I64X2, |b, x| b.ins().iabs(x)),
            I8x16Neg => self.v_unop(I8X16, |b, x| b.ins().ineg(x)),
            I16x8Neg => self.v_unop(I16X8, |b, x| b.ins().ineg(x)),
            I32x4Neg => self.v_unop(I32X4, |b, x| b.ins().ineg(x)),
            I64x2Neg => self.v_unop(I64X2, |b, x| b.ins().ineg(x)),
            I8x16Popcnt => self.v_unop(I8X16, |b, x| b.ins().popcnt(x)),
            I8x16AllTrue => self.v_reduce(I8X16, |b, x| b.ins().vall_true(x)),
            I16x8AllTrue => self.v_reduce(I16X8, |b, x| b.ins().vall_true(x)),
            I32x4AllTrue => self.v_reduce(I32X4, |b, x| b.ins().vall_true(x)),
            I64x2AllTrue => self.v_reduce(I64X2, |b, x| b.ins().vall_true(x)),
            I8x16Bitmask => self.v_reduce(I8X16, |b, x| b.ins().vhigh_bits(I32, x)),
            I16x8Bitmask => self.v_reduce(I16X8, |b, x| b.ins().vhigh_bits(I32, x)),
            I32x4Bitmask => self.v_reduce(I32X4, |b, x| b.ins().vhigh_bits(I32, x)),
            I64x2Bitmask => self.v_reduce(I64X2, |b, x| b.ins().vhigh_bits(I32, x)),
            I8x16Shl => self.v_shift(I8X16, |b, x, n| b.ins().ishl(x, n)),
            I16x8Shl => self.v_shift(I16X8, |b, x, n| b.ins().ishl(x, n)),
            I32x4Shl => self.v_shift(I32X4, |b, x, n| b.ins().ishl(x, n)),
            I64x2Shl => self.v_shift(I64X2, |b, x, n| b.ins().ishl(x, n)),
            I8x16ShrS => self.v_shift(I8X16, |b, x, n| b.ins().sshr(x, n)),
            I16x8ShrS => self.v_shift(I16X8, |b, x, n| b.ins().sshr(x, n)),
            I32x4ShrS => self.v_shift(I32X4, |b, x, n| b.ins().sshr(x, n)),
            I64x2ShrS => self.v_shift(I64X2, |b, x, n| b.ins().sshr(x, n)),
            I8x16ShrU => self.v_shift(I8X16, |b, x, n| b.ins().ushr(x, n)),
            I16x8ShrU => self.v_shift(I16X8, |b, x, n| b.ins().ushr(x, n)),
            I32x4ShrU => self.v_shift(I32X4, |b, x, n| b.ins().ushr(x, n)),
            I64x2ShrU => self.v_shift(I64X2, |b, x, n| b.ins().ushr(x, n)),
            I8x16Add => self.v_binop(I8X16, |b, x, y| b.ins().iadd(x, y)),
            I16x8Add => self.v_binop(I16X8, |b, x, y| b.ins().iadd(x, y)),
            I32x4Add => self.v_binop(I32X4, |b, x, y| b.ins().iadd(x, y)),
            I64x2Add => self.v_binop(I64X2, |b, x, y| b.ins().iadd(x, y)),
            I8x16Sub => self.v_binop(I8X16, |b, x, y| b.ins().isub(x, y)),
            I16x8Sub => self.v_binop(I16X8, |b, x, y| b.ins().isub(x, y)),
            I32x4Sub => self.v_binop(I32X4, |b, x, y| b.ins().isub(x, y)),
            I64x2Sub => self.v_binop(I64X2, |b, x, y| b.ins().isub(x, y)),
            I16x8Mul => self.v_binop(I16X8, |b, x, y| b.ins().imul(x, y)),
            I32x4Mul => self.v_binop(I32X4, |b, x, y| b.ins().imul(x, y)),
            I64x2Mul => self.v_binop(I64X2, |b, x, y| b.ins().imul(x, y)),
            I8x16AddSatS => self.v_binop(I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
            I8x16AddSatU => self.v_binop(I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
            I8x16SubSatS => self.v_binop(I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
            I8x16SubSatU => self.v_binop(I8X16, |b, x, y| b.ins().usub_sat(x, y)),
            I16x8AddSatS => self.v_binop(I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
            I16x8AddSatU => self.v_binop(I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
            I16x8SubSatS => self.v_binop(I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
            I16x8SubSatU => self.v_binop(I16X8, |b, x, y| b.ins().usub_sat(x, y)),
            I8x16MinS => self.v_binop(I8X16, |b, x, y| b.ins().smin(x, y)),
            I8x16MinU => self.v_binop(I8X16, |b, x, y| b.ins().umin(x, y)),
            I8x16MaxS => self.v_binop(I8X16, |b, x, y| b.ins().smax(x, y)),
            I8x16MaxU => self.v_binop(I8X16, |b, x, y| b.ins().umax(x, y)),
            I16x8MinS => self.v_binop(I16X8, |b, x, y| b.ins().smin(x, y)),
            I16x8MinU => self.v_binop(I16X8, |b, x, y| b.ins().umin(x, y)),
            I16x8MaxS => self.v_binop(I16X8, |b, x, y| b.ins().smax(x, y)),
            I16x8MaxU => self.v_binop(I16X8, |b, x, y| b.ins().umax(x, y)),
            I32x4MinS => self.v_binop(I32X4, |b, x, y| b.ins().smin(x, y)),
            I32x4MinU => self.v_binop(I32X4, |b, x, y| b.ins().umin(x, y)),
            I32x4MaxS => self.v_binop(I32X4, |b, x, y| b.ins().smax(x, y)),
            I32x4MaxU => self.v_binop(I32X4, |b, x, y| b.ins().umax(x, y)),
            I8x16AvgrU => self.v_binop(I8X16, |b, x, y| b.ins().avg_round(x, y)),
            I16x8AvgrU => self.v_binop(I16X8, |b, x, y| b.ins().avg_round(x, y)),
            I16x8Q15MulrSatS | I16x8RelaxedQ15mulrS => {
                self.v_binop(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y))
            }

            // Width changes.
            I8x16NarrowI16x8S => self.v_binop(I16X8, |b, x, y| b.ins().snarrow(x, y)),
            I8x16NarrowI16x8U => self.v_binop(I16X8, |b, x, y| b.ins().unarrow(x, y)),
            I16x8NarrowI32x4S => self.v_binop(I32X4, |b, x, y| b.ins().snarrow(x, y)),
            I16x8NarrowI32x4U => self.v_binop(I32X4, |b, x, y| b.ins().unarrow(x, y)),
            I16x8ExtendLowI8x16S => self.v_extend(I8X16, false, true),
            I16x8ExtendHighI8x16S => self.v_extend(I8X16, true, true),
            I16x8ExtendLowI8x16U => self.v_extend(I8X16, false, false),
            I16x8ExtendHighI8x16U => self.v_extend(I8X16, true, false),
            I32x4ExtendLowI16x8S => self.v_extend(I16X8, false, true),
            I32x4ExtendHighI16x8S => self.v_extend(I16X8, true, true),
            I32x4ExtendLowI16x8U => self.v_extend(I16X8, false, false),
            I32x4ExtendHighI16x8U => self.v_extend(I16X8, true, false),
            I64x2ExtendLowI32x4S => self.v_extend(I32X4, false, true),
            I64x2ExtendHighI32x4S => self.v_extend(I32X4, true, true),
            I64x2ExtendLowI32x4U => self.v_extend(I32X4, false, false),
            I64x2ExtendHighI32x4U => self.v_extend(I32X4, true, false),
            I16x8ExtMulLowI8x16S => self.v_extmul(I8X16, false, true),
            I16x8ExtMulHighI8x16S => self.v_extmul(I8X16, true, true),
            I16x8ExtMulLowI8x16U => self.v_extmul(I8X16, false, false),
            I16x8ExtMulHighI8x16U => self.v_extmul(I8X16, true, false),
            I32x4ExtMulLowI16x8S => self.v_extmul(I16X8, false, true),
            I32x4ExtMulHighI16x8S => self.v_extmul(I16X8, true, true),
            I32x4ExtMulLowI16x8U => self.v_extmul(I16X8, false, false),
            I32x4ExtMulHighI16x8U => self.v_extmul(I16X8, true, false),
            I64x2ExtMulLowI32x4S => self.v_extmul(I32X4, false, true),
            I64x2ExtMulHighI32x4S => self.v_extmul(I32X4, true, true),
            I64x2ExtMulLowI32x4U => self.v_extmul(I32X4, false, false),
            I64x2ExtMulHighI32x4U => self.v_extmul(I32X4, true, false),
            I16x8ExtAddPairwiseI8x16S => self.v_extadd_pairwise(I8X16, true),
            I16x8ExtAddPairwiseI8x16U => self.v_extadd_pairwise(I8X16, false),
            I32x4ExtAddPairwiseI16x8S => self.v_extadd_pairwise(I16X8, true),
            I32x4ExtAddPairwiseI16x8U => self.v_extadd_pairwise(I16X8, false),
            I32x4DotI16x8S => self.v_binop(I16X8, |b, x, y| {
                let lo = {
                    let (xl, yl) = (b.ins().swiden_low(x), b.ins().swiden_low(y));
                    b.ins().imul(xl, yl)
                };
                let hi = {
                    let (xh, yh) = (b.ins().swiden_high(x), b.ins().swiden_high(y));
                    b.ins().imul(xh, yh)
                };
                b.ins().iadd_pairwise(lo, hi)
            }),
            I16x8RelaxedDotI8x16I7x16S => self.v_binop(I8X16, Self::dot_i8x16),
            I32x4RelaxedDotI8x16I7x16AddS => {
                let acc = self.pop_vector(I32X4);
                let y = self.pop_vector(I8X16);
                let x = self.pop_vector(I8X16);
                let b = &mut self.builder;
                let dot = Self::dot_i8x16(b, x, y);
                let (lo, hi) = (b.ins().swiden_low(dot), b.ins().swiden_high(dot));
                let sum = b.ins().iadd_pairwise(lo, hi);
                let v = b.ins().iadd(sum, acc);
                self.push_vector(v);
            }

            // Float lane-wise arithmetic.
            F32x4Ceil => self.v_unop(F32X4, |b, x| b.ins().ceil(x)),
            F32x4Floor => self.v_unop(F32X4, |b, x| b.ins().floor(x)),
            F32x4Trunc => self.v_unop(F32X4, |b, x| b.ins().trunc(x)),
            F32x4Nearest => self.v_unop(F32X4, |b, x| b.ins().nearest(x)),
            F32x4Abs => self.v_unop(F32X4, |b, x| b.ins().fabs(x)),
            F32x4Neg => self.v_unop(F32X4, |b, x| b.ins().fneg(x)),
            F32x4Sqrt => self.v_unop(F32X4, |b, x| b.ins().sqrt(x)),
            F32x4Add => self.v_binop(F32X4, |b, x, y| b.ins().fadd(x, y)),
            F32x4Sub => self.v_binop(F32X4, |b, x, y| b.ins().fsub(x, y)),
            F32x4Mul => self.v_binop(F32X4, |b, x, y| b.ins().fmul(x, y)),
            F32x4Div => self.v_binop(F32X4, |b, x, y| b.ins().fdiv(x, y)),
            F32x4Min | F32x4RelaxedMin => self.v_binop(F32X4, |b, x, y| b.ins().fmin(x, y)),
            F32x4Max | F32x4RelaxedMax => self.v_binop(F32X4, |b, x, y| b.ins().fmax(x, y)),
            F32x4PMin => self.v_pminmax(F32X4, false),
            F32x4PMax => self.v_pminmax(F32X4, true),
            F64x2Ceil => self.v_unop(F64X2, |b, x| b.ins().ceil(x)),
            F64x2Floor => self.v_unop(F64X2, |b, x| b.ins().floor(x)),
            F64x2Trunc => self.v_unop(F64X2, |b, x| b.ins().trunc(x)),
            F64x2Nearest => self.v_unop(F64X2, |b, x| b.ins().nearest(x)),
            F64x2Abs => self.v_unop(F64X2, |b, x| b.ins().fabs(x)),
            F64x2Neg => self.v_unop(F64X2, |b, x| b.ins().fneg(x)),
            F64x2Sqrt => self.v_unop(F64X2, |b, x| b.ins().sqrt(x)),
            F64x2Add => self.v_binop(F64X2, |b, x, y| b.ins().fadd(x, y)),
            F64x2Sub => self.v_binop(F64X2, |b, x, y| b.ins().fsub(x, y)),
            F64x2Mul => self.v_binop(F64X2, |b, x, y| b.ins().fmul(x, y)),
            F64x2Div => self.v_binop(F64X2, |b, x, y| b.ins().fdiv(x, y)),
            F64x2Min | F64x2RelaxedMin => self.v_binop(F64X2, |b, x, y| b.ins().fmin(x, y)),
            F64x2Max | F64x2RelaxedMax => self.v_binop(F64X2, |b, x, y| b.ins().fmax(x, y)),
            F64x2PMin => self.v_pminmax(F64X2, false),
            F64x2PMax => self.v_pminmax(F64X2, true),
            F32x4RelaxedMadd => self.v_ternop(F32X4, |b, x, y, z| b.ins().fma(x, y, z)),
            F64x2RelaxedMadd => self.v_ternop(F64X2, |b, x, y, z| b.ins().fma(x, y, z)),
            F32x4RelaxedNmadd => self.v_ternop(F32X4, |b, x, y, z| {
                let x = b.ins().fneg(x);
                b.ins().fma(x, y, z)
            }),
            F64x2RelaxedNmadd => self.v_ternop(F64X2, |b, x, y, z| {
                let x = b.ins().fneg(x);
                b.ins().fma(x, y, z)
            }),

            // Conversions.
            I32x4TruncSatF32x4S | I32x4RelaxedTruncF32x4S => {
                self.v_unop(F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x))
            }
            I32x4TruncSatF32x4U | I32x4RelaxedTruncF32x4U => {
                self.v_unop(F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x))
            }
            I32x4TruncSatF64x2SZero | I32x4RelaxedTruncF64x2SZero => {
                self.v_trunc_sat_f64x2_zero(true)
            }
            I32x4TruncSatF64x2UZero | I32x4RelaxedTruncF64x2UZero => {
                self.v_trunc_sat_f64x2_zero(false)
            }
            F32x4ConvertI32x4S => self.v_unop(I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x)),
            F32x4ConvertI32x4U => self.v_unop(I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x)),
            F64x2ConvertLowI32x4S => self.v_unop(I32X4, |b, x| {
                let x = b.ins().swiden_low(x);
                b.ins().fcvt_from_sint(F64X2, x)
            }),
            F64x2ConvertLowI32x4U => self.v_unop(I32X4, |b, x| {
                let x = b.ins().uwiden_low(x);
                b.ins().fcvt_from_uint(F64X2, x)
            }),
            F32x4DemoteF64x2Zero => self.v_unop(F64X2, |b, x| b.ins().fvdemote(x)),
            F64x2PromoteLowF32x4 => self.v_unop(F32X4, |b, x| b.ins().fvpromote_low(x)),

            _ => return Ok(false),
        }
        Ok(true)
    }
}
