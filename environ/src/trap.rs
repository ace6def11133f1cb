//! The ways wasm code traps, and their messages (Wasmtime's words).

use std::fmt;

/// Why wasm code trapped. Errors returned by calls downcast to this type.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trap {
    /// The call stack was exhausted.
    StackOverflow,
    /// A linear memory access was out of bounds.
    MemoryOutOfBounds,
    /// A misaligned atomic access.
    HeapMisaligned,
    /// A table access was out of bounds.
    TableOutOfBounds,
    /// `call_indirect` through a null element.
    IndirectCallToNull,
    /// `call_indirect` to a function of another type.
    BadSignature,
    /// Integer overflow in division or conversion.
    IntegerOverflow,
    /// Integer division by zero.
    IntegerDivisionByZero,
    /// Conversion of NaN to an integer.
    BadConversionToInteger,
    /// `unreachable` executed.
    UnreachableCodeReached,
    /// An epoch deadline passed.
    Interrupt,
    /// Fuel ran out.
    OutOfFuel,
    /// A null reference was used.
    NullReference,
    /// `memory.atomic.wait32/64` on a memory that is not shared.
    AtomicWaitNonSharedMemory,
    /// `ref.cast` of a reference that is not of the target type.
    CastFailure,
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            Trap::StackOverflow => "call stack exhausted",
            Trap::MemoryOutOfBounds => "out of bounds memory access",
            Trap::HeapMisaligned => "unaligned atomic",
            Trap::TableOutOfBounds => "undefined element: out of bounds table access",
            Trap::IndirectCallToNull => "uninitialized element",
            Trap::BadSignature => "indirect call type mismatch",
            Trap::IntegerOverflow => "integer overflow",
            Trap::IntegerDivisionByZero => "integer divide by zero",
            Trap::BadConversionToInteger => "invalid conversion to integer",
            Trap::UnreachableCodeReached => "wasm `unreachable` instruction executed",
            Trap::Interrupt => "interrupt",
            Trap::OutOfFuel => "all fuel consumed by WebAssembly",
            Trap::NullReference => "null reference",
            Trap::AtomicWaitNonSharedMemory => "atomic wait on non-shared memory",
            Trap::CastFailure => "cast failure",
        };
        write!(f, "wasm trap: {msg}")
    }
}

impl std::error::Error for Trap {}
