//! The trap codes of `wasmjit_environ::trap_codes` as Cranelift trap codes, for the
//! translator to emit.

use cranelift_codegen::ir::TrapCode;
use wasmjit_environ::trap_codes as env;

const fn cl(code: env::TrapCode) -> TrapCode {
    TrapCode::from_raw(code.as_raw())
}

// The environ's reserved codes are Cranelift's own.
const _: () = {
    let pairs = [
        (TrapCode::STACK_OVERFLOW, env::TrapCode::STACK_OVERFLOW),
        (TrapCode::INTEGER_OVERFLOW, env::TrapCode::INTEGER_OVERFLOW),
        (
            TrapCode::HEAP_OUT_OF_BOUNDS,
            env::TrapCode::HEAP_OUT_OF_BOUNDS,
        ),
        (
            TrapCode::INTEGER_DIVISION_BY_ZERO,
            env::TrapCode::INTEGER_DIVISION_BY_ZERO,
        ),
        (
            TrapCode::BAD_CONVERSION_TO_INTEGER,
            env::TrapCode::BAD_CONVERSION_TO_INTEGER,
        ),
    ];
    let mut i = 0;
    while i < pairs.len() {
        assert!(pairs[i].0.as_raw().get() == pairs[i].1.as_raw().get());
        i += 1;
    }
};

/// `unreachable` executed.
pub const UNREACHABLE: TrapCode = cl(env::UNREACHABLE);
/// Table access out of bounds (`table.get`/`set`, `call_indirect` index).
pub const TABLE_OUT_OF_BOUNDS: TrapCode = cl(env::TABLE_OUT_OF_BOUNDS);
/// `call_indirect` through a null element.
pub const INDIRECT_CALL_TO_NULL: TrapCode = cl(env::INDIRECT_CALL_TO_NULL);
/// `call_indirect` whose callee has another type.
pub const BAD_SIGNATURE: TrapCode = cl(env::BAD_SIGNATURE);
/// Misaligned atomic access.
pub const HEAP_MISALIGNED: TrapCode = cl(env::HEAP_MISALIGNED);
/// An epoch deadline passed.
pub const INTERRUPT: TrapCode = cl(env::INTERRUPT);
/// Fuel ran out.
pub const OUT_OF_FUEL: TrapCode = cl(env::OUT_OF_FUEL);
/// A builtin reported a trap: the runtime holds its pending trap code.
pub const BUILTIN_TRAP: TrapCode = cl(env::BUILTIN_TRAP);
/// A host function returned an error or panicked: the runtime holds it as pending.
pub const HOST_ERROR: TrapCode = cl(env::HOST_ERROR);
/// Null reference dereferenced (reserved for typed function references).
pub const NULL_REFERENCE: TrapCode = cl(env::NULL_REFERENCE);
/// `ref.cast` of a reference of another type.
pub const CAST_FAILURE: TrapCode = cl(env::CAST_FAILURE);
/// The `trap` after a call of the `RaiseTrap` builtin, which never returns: never executed
/// (code compiled without signals-based traps, see `translate/traps.rs`).
pub const AFTER_RAISE: TrapCode = cl(env::AFTER_RAISE);
