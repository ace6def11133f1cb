//! Trap codes of the wasm-specific traps, beside Cranelift's reserved ones
//! (`STACK_OVERFLOW`, `HEAP_OUT_OF_BOUNDS`, `INTEGER_OVERFLOW`, `INTEGER_DIVISION_BY_ZERO`,
//! `BAD_CONVERSION_TO_INTEGER`).

use cranelift_codegen::ir::TrapCode;
use wasmjit_environ::trap::Trap;

/// `unreachable` executed.
pub const UNREACHABLE: TrapCode = TrapCode::unwrap_user(1);
/// Table access out of bounds (`table.get`/`set`, `call_indirect` index).
pub const TABLE_OUT_OF_BOUNDS: TrapCode = TrapCode::unwrap_user(2);
/// `call_indirect` through a null element.
pub const INDIRECT_CALL_TO_NULL: TrapCode = TrapCode::unwrap_user(3);
/// `call_indirect` whose callee has another type.
pub const BAD_SIGNATURE: TrapCode = TrapCode::unwrap_user(4);
/// Misaligned atomic access.
pub const HEAP_MISALIGNED: TrapCode = TrapCode::unwrap_user(5);
/// An epoch deadline passed.
pub const INTERRUPT: TrapCode = TrapCode::unwrap_user(6);
/// Fuel ran out.
pub const OUT_OF_FUEL: TrapCode = TrapCode::unwrap_user(7);
/// A builtin reported a trap: the runtime holds its pending trap code.
pub const BUILTIN_TRAP: TrapCode = TrapCode::unwrap_user(8);
/// A host function returned an error or panicked: the runtime holds it as pending.
pub const HOST_ERROR: TrapCode = TrapCode::unwrap_user(9);
/// Null reference dereferenced (reserved for typed function references).
pub const NULL_REFERENCE: TrapCode = TrapCode::unwrap_user(10);

/// `ref.cast` of a reference of another type.
pub const CAST_FAILURE: TrapCode = TrapCode::unwrap_user(12);

/// The trap a code in compiled code's trap tables stands for; `None` for the codes whose trap
/// the runtime holds as pending (`BUILTIN_TRAP`, `HOST_ERROR`).
pub fn to_trap(code: TrapCode) -> Option<Trap> {
    Some(match code {
        TrapCode::STACK_OVERFLOW => Trap::StackOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => Trap::MemoryOutOfBounds,
        TrapCode::INTEGER_OVERFLOW => Trap::IntegerOverflow,
        TrapCode::INTEGER_DIVISION_BY_ZERO => Trap::IntegerDivisionByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => Trap::BadConversionToInteger,
        UNREACHABLE => Trap::UnreachableCodeReached,
        TABLE_OUT_OF_BOUNDS => Trap::TableOutOfBounds,
        INDIRECT_CALL_TO_NULL => Trap::IndirectCallToNull,
        BAD_SIGNATURE => Trap::BadSignature,
        HEAP_MISALIGNED => Trap::HeapMisaligned,
        INTERRUPT => Trap::Interrupt,
        OUT_OF_FUEL => Trap::OutOfFuel,
        NULL_REFERENCE => Trap::NullReference,
        CAST_FAILURE => Trap::CastFailure,
        _ => return None,
    })
}

/// The `trap` after a call of the `RaiseTrap` builtin, which never returns: never executed
/// (code compiled without signals-based traps, see `translate/traps.rs`).
pub const AFTER_RAISE: TrapCode = TrapCode::unwrap_user(11);
