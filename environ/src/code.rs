//! Machine code before it is placed in memory: what the compiler produces for each function
//! and what a serialized module stores. Nothing here depends on Cranelift, so a loader can
//! hold and check it without the compiler.

/// One function's code as compiled, position-independent but for its relocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCode {
    /// The machine code.
    pub bytes: Vec<u8>,
    /// Required alignment of the first byte (a power of two).
    pub alignment: u32,
    /// Places in `bytes` to patch with an address once the code is placed.
    pub relocs: Vec<Relocation>,
    /// Code offset of each instruction that may trap, with its raw (non-zero) trap code.
    /// Sorted by offset.
    pub traps: Vec<(u32, u8)>,
    /// Code offset where a run of instructions of one wasm operator starts, and that
    /// operator's offset in the module binary. Sorted by code offset.
    pub addr_map: Vec<(u32, u32)>,
}

/// A place in a function's code that holds an address known only once code is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relocation {
    /// Offset of the patched bytes in the function's code.
    pub offset: u32,
    /// How the address is encoded: an index into the compiler's table of relocation kinds.
    pub kind: u8,
    /// What the address is of.
    pub target: RelocTarget,
    /// Added to the target's address.
    pub addend: i64,
}

/// What a relocation points at. Builtins are not here: compiled code reaches them through
/// its `VMContext`, so nothing else of the process is ever in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocTarget {
    /// Another function of the same unit (its index among the unit's functions).
    Function(u32),
    /// An offset into a function of the same unit.
    FunctionOffset(u32, u32),
    /// A runtime library routine (float rounding, ...), by its index in the compiler's list.
    LibCall(u8),
}
