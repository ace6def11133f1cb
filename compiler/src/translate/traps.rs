//! How compiled code traps.
//!
//! With `signals_based_traps` (the default) a trap is Cranelift's: a `trap`/`trapz`/`trapnz`
//! instruction (`ud2`, `udf`) or an instruction that faults (an access past a memory into its
//! guard region, a division the CPU refuses), and the runtime's signal handler unwinds it.
//!
//! Without it, nothing the code does may raise a signal. Each trap is a branch to a cold block
//! that calls the `RaiseTrap` builtin with the trap code; the builtin unwinds to the host from
//! ordinary context and never returns, so the block ends with a `trap` that is never reached.
//! The conditions the hardware would have caught are checked first: divisors (zero, and
//! `INT_MIN / -1`), float-to-int conversions (NaN, out of range), every memory access (see
//! `memory.rs`) and the stack limit at function entry.

use super::FuncState;
use crate::builtins::Builtin;
use crate::trap_codes::AFTER_RAISE;
use crate::vmoffsets::vmctx;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, MemFlagsData, Signature, TrapCode};
use cranelift_codegen::ir::{Type, Value};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;

/// Emits a call of the `RaiseTrap` builtin (found through `vmctx`'s builtin table) with
/// `code`, and the `trap` that ends the block: for the trampolines, which have no
/// [`FuncState`].
fn emit_raise(
    builder: &mut FunctionBuilder<'_>,
    call_conv: CallConv,
    vmctx: Value,
    code: TrapCode,
) {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I32));
    let sig = builder.import_signature(sig);
    let flags = MemFlagsData::trusted().with_readonly();
    let table = builder
        .ins()
        .load(types::I64, flags, vmctx, vmctx::BUILTINS as i32);
    let raise = builder.ins().load(
        types::I64,
        flags,
        table,
        Builtin::raise_trap().offset() as i32,
    );
    let code = builder
        .ins()
        .iconst(types::I32, i64::from(code.as_raw().get()));
    builder.ins().call_indirect(sig, raise, &[vmctx, code]);
    builder.ins().trap(AFTER_RAISE);
}

/// Branches to a cold block that raises `code` when `cond` is non-zero, and continues in a new
/// block otherwise ([`FuncState::trap_if`] for the trampolines). Only for code compiled
/// without signals-based traps.
pub(crate) fn emit_raise_if(
    builder: &mut FunctionBuilder<'_>,
    call_conv: CallConv,
    vmctx: Value,
    cond: Value,
    code: TrapCode,
) {
    let raise = builder.create_block();
    let cont = builder.create_block();
    builder.set_cold_block(raise);
    builder.ins().brif(cond, raise, &[], cont, &[]);
    builder.seal_block(raise);
    builder.seal_block(cont);
    builder.switch_to_block(raise);
    emit_raise(builder, call_conv, vmctx, code);
    builder.switch_to_block(cont);
}

/// Exclusive bounds of the `f64` values that truncate to an integer of `bits` bits: a value
/// `v` converts iff `low < v < high` (truncation happens towards zero, so `-0.9` becomes an
/// unsigned 0, and `high` is the first power of two out of range).
fn float_to_int_bounds(signed: bool, bits: u32) -> (f64, f64) {
    match (signed, bits) {
        (true, 32) => (-2147483649.0, 2147483648.0),
        (false, 32) => (-1.0, 4294967296.0),
        // -2^63 - 1 is not an f64: the next one below -2^63 is -2^63 - 2048.
        (true, 64) => (-9223372036854777856.0, 9223372036854775808.0),
        (false, 64) => (-1.0, 18446744073709551616.0),
        _ => unreachable!("wasm converts to 32 or 64 bits only"),
    }
}

impl FuncState<'_, '_> {
    /// Whether traps may be raised by signals (see the module docs).
    pub(crate) fn signals_based_traps(&self) -> bool {
        self.env.config.signals_based_traps
    }

    /// Traps unconditionally with `code`; the current block ends.
    pub(crate) fn trap(&mut self, code: TrapCode) {
        if self.signals_based_traps() {
            self.builder.ins().trap(code);
            return;
        }
        let code = self.const_u32(u32::from(code.as_raw().get()));
        self.call_builtin(Builtin::raise_trap(), &[code]);
        self.builder.ins().trap(AFTER_RAISE);
    }

    /// Traps with `code` when `cond` is non-zero.
    pub(crate) fn trap_if(&mut self, cond: Value, code: TrapCode) {
        if self.signals_based_traps() {
            self.builder.ins().trapnz(cond, code);
            return;
        }
        let raise = self.builder.create_block();
        let cont = self.builder.create_block();
        self.builder.set_cold_block(raise);
        self.builder.ins().brif(cond, raise, &[], cont, &[]);
        self.builder.seal_block(raise);
        self.builder.seal_block(cont);
        self.builder.switch_to_block(raise);
        self.trap(code);
        self.builder.switch_to_block(cont);
    }

    /// Traps with `code` when `value` is zero.
    pub(crate) fn trap_if_zero(&mut self, value: Value, code: TrapCode) {
        if self.signals_based_traps() {
            self.builder.ins().trapz(value, code);
        } else {
            let zero = self.builder.ins().icmp_imm_s(IntCC::Equal, value, 0);
            self.trap_if(zero, code);
        }
    }

    /// `lhs + rhs`, trapping with `code` when it overflows.
    pub(crate) fn uadd_or_trap(&mut self, lhs: Value, rhs: Value, code: TrapCode) -> Value {
        if self.signals_based_traps() {
            return self.builder.ins().uadd_overflow_trap(lhs, rhs, code);
        }
        let (sum, overflow) = self.builder.ins().uadd_overflow(lhs, rhs);
        self.trap_if(overflow, code);
        sum
    }

    /// Without signals-based traps, checks what a division by `divisor` would fault on:
    /// zero, and for a signed division `INT_MIN / -1` (`check_overflow`). With them, the
    /// division instruction itself traps.
    pub(crate) fn guard_division(&mut self, dividend: Value, divisor: Value, check_overflow: bool) {
        if self.signals_based_traps() {
            return;
        }
        self.trap_if_zero(divisor, TrapCode::INTEGER_DIVISION_BY_ZERO);
        if !check_overflow {
            return;
        }
        let ty = self.builder.func.dfg.value_type(divisor);
        let min = if ty == types::I32 {
            i64::from(i32::MIN)
        } else {
            i64::MIN
        };
        let minus_one = self.builder.ins().icmp_imm_s(IntCC::Equal, divisor, -1);
        let is_min = self.builder.ins().icmp_imm_s(IntCC::Equal, dividend, min);
        let overflow = self.builder.ins().band(minus_one, is_min);
        self.trap_if(overflow, TrapCode::INTEGER_OVERFLOW);
    }

    /// Converts the float `x` to the integer type `to`, trapping as wasm's `trunc` does: NaN
    /// is a bad conversion, a value out of range an overflow. With signals-based traps that
    /// is Cranelift's trapping conversion; without, explicit checks, then the saturating
    /// conversion (which cannot trap, and agrees with the other on every value left).
    pub(crate) fn float_to_int(&mut self, x: Value, to: Type, signed: bool) -> Value {
        if self.signals_based_traps() {
            return if signed {
                self.builder.ins().fcvt_to_sint(to, x)
            } else {
                self.builder.ins().fcvt_to_uint(to, x)
            };
        }
        let is_nan = self.builder.ins().fcmp(FloatCC::Unordered, x, x);
        self.trap_if(is_nan, TrapCode::BAD_CONVERSION_TO_INTEGER);
        // Every f32 is exactly an f64.
        let wide = if self.builder.func.dfg.value_type(x) == types::F32 {
            self.builder.ins().fpromote(types::F64, x)
        } else {
            x
        };
        let (low, high) = float_to_int_bounds(signed, to.bits());
        let low = self.builder.ins().f64const(low);
        let high = self.builder.ins().f64const(high);
        let too_low = self.builder.ins().fcmp(FloatCC::LessThanOrEqual, wide, low);
        let too_high = self
            .builder
            .ins()
            .fcmp(FloatCC::GreaterThanOrEqual, wide, high);
        let out_of_range = self.builder.ins().bor(too_low, too_high);
        self.trap_if(out_of_range, TrapCode::INTEGER_OVERFLOW);
        if signed {
            self.builder.ins().fcvt_to_sint_sat(to, x)
        } else {
            self.builder.ins().fcvt_to_uint_sat(to, x)
        }
    }

    /// Without signals-based traps, compares the stack pointer with the store's stack limit
    /// at function entry (Cranelift's own check, in the prologue, would trap with `ud2`).
    /// The frame is allocated by then; the limit leaves headroom below it for host code.
    pub(crate) fn explicit_stack_check(&mut self) {
        if self.signals_based_traps() {
            return;
        }
        let limits = self.vmctx_ptr(vmctx::RUNTIME_LIMITS);
        let limit = self.builder.ins().load(
            types::I64,
            super::trusted(),
            limits,
            crate::vmoffsets::limits::STACK_LIMIT as i32,
        );
        let sp = self.builder.ins().get_stack_pointer(types::I64);
        let overflow = self.builder.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        self.trap_if(overflow, TrapCode::STACK_OVERFLOW);
    }
}

#[cfg(test)]
mod tests {
    use crate::compile::translated_ir;
    use crate::CompileConfig;

    /// One function per kind of trap.
    const MODULE: &str = r#"(module
        (memory 1)
        (table 2 funcref)
        (type $t (func (result i32)))
        (func (export "unreachable") unreachable)
        (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
        (func (export "rem") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
        (func (export "srem") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
        (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
        (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
        (func (export "load64") (param i64) (result i64) (i64.load (i32.wrap_i64 (local.get 0))))
        (func (export "indirect") (param i32) (result i32) (call_indirect (type $t) (local.get 0)))
        (func (export "get") (param i32) (result funcref) (table.get (local.get 0)))
        (func (export "fill") (param i32) (memory.fill (local.get 0) (i32.const 0) (i32.const 1)))
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

    fn ir(signals: bool) -> Vec<String> {
        let wasm = wat::parse_str(MODULE).unwrap();
        let config = CompileConfig {
            signals_based_traps: signals,
            ..CompileConfig::default()
        };
        translated_ir(&wasm, &config).unwrap()
    }

    /// Instructions that trap through a signal, whatever their operands.
    const SIGNALLING: [&str; 6] = [
        " trapz ",
        " trapnz ",
        " uadd_overflow_trap ",
        " fcvt_to_sint.",
        " fcvt_to_uint.",
        "stack_limit =",
    ];

    #[test]
    fn without_signals_every_trap_follows_a_raise_call() {
        for func in ir(false) {
            let lines: Vec<&str> = func.lines().map(str::trim).collect();
            for bad in SIGNALLING {
                assert!(!func.contains(bad), "`{bad}` in:\n{func}");
            }
            for (i, line) in lines.iter().enumerate() {
                if line.starts_with("trap ") {
                    assert!(
                        lines[i - 1].starts_with("call_indirect") && line.ends_with("user11"),
                        "a trap not after a raise call:\n{func}"
                    );
                }
            }
            // The stack check at entry.
            assert!(func.contains("get_stack_pointer"), "{func}");
        }
    }

    #[test]
    fn without_signals_memory_accesses_are_bounds_checked() {
        let with = ir(true);
        let without = ir(false);
        // `load` and `load64` (index 5 and 6): no check with the 4 GiB reservation and
        // guard, a check (and its spectre guard) without signals.
        for i in [5, 6] {
            assert!(!with[i].contains("select_spectre_guard"), "{}", with[i]);
            assert!(
                without[i].contains("select_spectre_guard"),
                "{}",
                without[i]
            );
        }
    }

    #[test]
    fn with_signals_traps_are_cranelift_instructions() {
        let all = ir(true).concat();
        for expected in [
            " trapz ",
            " trapnz ",
            " fcvt_to_sint.",
            "stack_limit =",
            "trap user1",
        ] {
            assert!(all.contains(expected), "no `{expected}` in:\n{all}");
        }
        assert!(!all.contains("get_stack_pointer"));
    }
}
