//! The trap codes in compiled code's trap tables: Cranelift's reserved codes (the top five
//! byte values) and wasmjit's own (small numbers). The compiler emits them, the runtime reads
//! them; declared here so that a runtime without the compiler reads them too. The encoding
//! is Cranelift's `TrapCode::as_raw` (the compiler checks that the reserved ones agree).

use crate::trap::Trap;
use std::num::NonZeroU8;

/// A trap code as recorded in a trap table or passed to the `RaiseTrap` builtin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrapCode(NonZeroU8);

impl TrapCode {
    const fn new(raw: u8) -> TrapCode {
        match NonZeroU8::new(raw) {
            Some(raw) => TrapCode(raw),
            None => panic!("trap code 0"),
        }
    }

    /// The stack limit was reached.
    pub const STACK_OVERFLOW: TrapCode = TrapCode::new(251);
    /// Integer overflow (division, conversion).
    pub const INTEGER_OVERFLOW: TrapCode = TrapCode::new(252);
    /// An out-of-bounds memory access.
    pub const HEAP_OUT_OF_BOUNDS: TrapCode = TrapCode::new(253);
    /// Integer division by zero.
    pub const INTEGER_DIVISION_BY_ZERO: TrapCode = TrapCode::new(254);
    /// A float-to-int conversion of NaN.
    pub const BAD_CONVERSION_TO_INTEGER: TrapCode = TrapCode::new(255);

    /// The code of raw byte `raw`.
    pub const fn from_raw(raw: NonZeroU8) -> TrapCode {
        TrapCode(raw)
    }

    /// The raw byte.
    pub const fn as_raw(self) -> NonZeroU8 {
        self.0
    }
}

/// `unreachable` executed.
pub const UNREACHABLE: TrapCode = TrapCode::new(1);
/// Table access out of bounds (`table.get`/`set`, `call_indirect` index).
pub const TABLE_OUT_OF_BOUNDS: TrapCode = TrapCode::new(2);
/// `call_indirect` through a null element.
pub const INDIRECT_CALL_TO_NULL: TrapCode = TrapCode::new(3);
/// `call_indirect` whose callee has another type.
pub const BAD_SIGNATURE: TrapCode = TrapCode::new(4);
/// Misaligned atomic access.
pub const HEAP_MISALIGNED: TrapCode = TrapCode::new(5);
/// An epoch deadline passed.
pub const INTERRUPT: TrapCode = TrapCode::new(6);
/// Fuel ran out.
pub const OUT_OF_FUEL: TrapCode = TrapCode::new(7);
/// A builtin reported a trap: the runtime holds its pending trap code.
pub const BUILTIN_TRAP: TrapCode = TrapCode::new(8);
/// A host function returned an error or panicked: the runtime holds it as pending.
pub const HOST_ERROR: TrapCode = TrapCode::new(9);
/// Null reference dereferenced (typed function references).
pub const NULL_REFERENCE: TrapCode = TrapCode::new(10);
/// The `trap` after a call of the `RaiseTrap` builtin, which never returns: never executed
/// (code compiled without signals-based traps).
pub const AFTER_RAISE: TrapCode = TrapCode::new(11);
/// `ref.cast` of a reference of another type.
pub const CAST_FAILURE: TrapCode = TrapCode::new(12);

/// The trap a code stands for; `None` for the codes whose trap the runtime holds as pending
/// (`BUILTIN_TRAP`, `HOST_ERROR`) and for unknown codes.
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
