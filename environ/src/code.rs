//! Machine code before it is placed in memory: what the compiler produces for each function
//! and what a serialized module stores. Nothing here depends on Cranelift, so a loader can
//! hold, place and relocate it without the compiler.

/// One function's code as compiled, position-independent but for its relocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCode {
    /// The machine code.
    pub bytes: Vec<u8>,
    /// Required alignment of the first byte (a power of two).
    pub alignment: u32,
    /// Places in `bytes` to patch with an address once the code is placed.
    pub relocs: Vec<Relocation>,
    /// Code offset of each instruction that may trap, with its raw (non-zero) trap code
    /// (`trap_codes::TrapCode`). Sorted by offset.
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
    /// How the address is encoded.
    pub kind: RelocKind,
    /// What the address is of.
    pub target: RelocTarget,
    /// Added to the target's address.
    pub addend: i64,
}

/// How a relocation encodes its address: the kinds Cranelift emits for code that is not
/// position-independent (`is_pic` off), as the ELF relocations of the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RelocKind {
    /// The absolute address, 8 bytes.
    Abs8 = 0,
    /// x86-64: the address minus the patched bytes' address, 4 bytes (signed).
    X86PcRel4 = 1,
    /// x86-64 `call`: as [`RelocKind::X86PcRel4`].
    X86CallPcRel4 = 2,
    /// AArch64 `bl`: the distance in instructions, in the low 26 bits.
    Arm64Call = 3,
    /// AArch64 `adrp`: the distance between the 4 KiB pages of the address and the
    /// instruction, in its 21-bit immediate.
    Aarch64AdrPrelPgHi21 = 4,
    /// AArch64 `add`: the address's offset in its 4 KiB page, in the 12-bit immediate.
    Aarch64AddAbsLo12Nc = 5,
}

impl RelocKind {
    /// Every kind, indexed by its number (what a serialized module stores).
    pub const ALL: [RelocKind; 6] = [
        RelocKind::Abs8,
        RelocKind::X86PcRel4,
        RelocKind::X86CallPcRel4,
        RelocKind::Arm64Call,
        RelocKind::Aarch64AdrPrelPgHi21,
        RelocKind::Aarch64AddAbsLo12Nc,
    ];

    /// The kind numbered `n`.
    pub fn from_u8(n: u8) -> Option<RelocKind> {
        RelocKind::ALL.get(usize::from(n)).copied()
    }

    /// How many bytes at the relocation's offset it patches.
    pub fn width(self) -> usize {
        match self {
            RelocKind::Abs8 => 8,
            _ => 4,
        }
    }

    /// Whether the patched value depends only on the distance between the code and the
    /// target (and, for the AArch64 page kinds, on a 4 KiB-aligned placement): such a
    /// relocation between functions of one contiguous unit can be applied once, when the
    /// unit is laid out, whatever address it is later placed at.
    pub fn is_relative(self) -> bool {
        self != RelocKind::Abs8
    }
}

/// What a relocation points at. Builtins are not here: compiled code reaches them through
/// its `VMContext`, so nothing else of the process is ever in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocTarget {
    /// Another function of the same unit (its index among the unit's functions).
    Function(u32),
    /// An offset into a function of the same unit.
    FunctionOffset(u32, u32),
    /// A runtime library routine (float rounding, ...).
    LibCall(LibCall),
}

/// The library routines compiled code may call by absolute address, where the target lacks
/// an instruction for the operation (rounding without SSE4.1, fused multiply-add without FMA).
/// The runtime provides each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum LibCall {
    /// `f32::floor`.
    FloorF32 = 0,
    /// `f64::floor`.
    FloorF64 = 1,
    /// `f32::ceil`.
    CeilF32 = 2,
    /// `f64::ceil`.
    CeilF64 = 3,
    /// `f32::trunc`.
    TruncF32 = 4,
    /// `f64::trunc`.
    TruncF64 = 5,
    /// Round to nearest, ties to even (`f32::round_ties_even`).
    NearestF32 = 6,
    /// Round to nearest, ties to even (`f64::round_ties_even`).
    NearestF64 = 7,
    /// `f32::mul_add`.
    FmaF32 = 8,
    /// `f64::mul_add`.
    FmaF64 = 9,
}

impl LibCall {
    /// Every routine, indexed by its number (what a serialized module stores).
    pub const ALL: [LibCall; 10] = [
        LibCall::FloorF32,
        LibCall::FloorF64,
        LibCall::CeilF32,
        LibCall::CeilF64,
        LibCall::TruncF32,
        LibCall::TruncF64,
        LibCall::NearestF32,
        LibCall::NearestF64,
        LibCall::FmaF32,
        LibCall::FmaF64,
    ];

    /// The routine numbered `n`.
    pub fn from_u8(n: u8) -> Option<LibCall> {
        LibCall::ALL.get(usize::from(n)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for (i, k) in RelocKind::ALL.iter().enumerate() {
            assert_eq!(*k as u8 as usize, i);
            assert_eq!(RelocKind::from_u8(i as u8), Some(*k));
        }
        for (i, c) in LibCall::ALL.iter().enumerate() {
            assert_eq!(*c as u8 as usize, i);
            assert_eq!(LibCall::from_u8(i as u8), Some(*c));
        }
        assert_eq!(RelocKind::from_u8(6), None);
        assert_eq!(LibCall::from_u8(10), None);
    }
}
