//! Evaluation of constant expressions (global initializers, segment offsets, element items).

use anyhow::{bail, Result};
use wasmjit_compiler::{ConstExpr, ConstOp, FuncIndex, GlobalIndex};

/// What a constant expression may read.
pub(crate) trait ConstEnv {
    /// The raw 16 bytes of global `index`.
    fn global(&self, index: GlobalIndex) -> u128;
    /// The funcref word of function `index`.
    fn func_ref(&self, index: FuncIndex) -> u64;
}

/// Evaluates `expr` to its raw value (the low bits hold the value, as in a `ValRaw`).
pub(crate) fn eval(expr: &ConstExpr, env: &dyn ConstEnv) -> Result<u128> {
    let mut stack: Vec<u128> = Vec::with_capacity(2);
    for op in &expr.ops {
        let v = match *op {
            ConstOp::I32Const(v) => v as u32 as u128,
            ConstOp::I64Const(v) => v as u64 as u128,
            ConstOp::F32Const(bits) => bits as u128,
            ConstOp::F64Const(bits) => bits as u128,
            ConstOp::V128Const(bits) => bits,
            ConstOp::GlobalGet(i) => env.global(i),
            ConstOp::RefNull(_) => 0,
            ConstOp::RefFunc(i) => env.func_ref(i) as u128,
            // An `i31` reference is the value tagged with a low 1 bit (see the compiler's
            // `translate/gc.rs`).
            ConstOp::RefI31 => ((pop(&mut stack)? as u32) << 1 | 1) as u128,
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let (b, a) = (pop(&mut stack)? as u32, pop(&mut stack)? as u32);
                let r = match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                };
                r as u128
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let (b, a) = (pop(&mut stack)? as u64, pop(&mut stack)? as u64);
                let r = match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                };
                r as u128
            }
        };
        stack.push(v);
    }
    match (stack.pop(), stack.is_empty()) {
        (Some(v), true) => Ok(v),
        _ => bail!("constant expression does not leave exactly one value"),
    }
}

fn pop(stack: &mut Vec<u128>) -> Result<u128> {
    match stack.pop() {
        Some(v) => Ok(v),
        None => bail!("constant expression stack underflow"),
    }
}
