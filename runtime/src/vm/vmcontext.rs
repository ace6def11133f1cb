//! The `#[repr(C)]` structures compiled code reads and writes. Their layout is defined by
//! `wasmjit_compiler::vmoffsets`; the tests below hold the two together.

use std::cell::UnsafeCell;

/// Store-wide limits read by every prologue and by fuel and epoch checks.
#[repr(C)]
#[derive(Debug)]
pub struct VMRuntimeLimits {
    /// Lowest stack address wasm may use.
    pub stack_limit: UnsafeCell<usize>,
    /// Fuel consumed, counting up from `-fuel`.
    pub fuel_consumed: UnsafeCell<i64>,
    /// Epoch at which the slow path runs.
    pub epoch_deadline: UnsafeCell<u64>,
    /// Result of the last fuel/epoch slow path, written by compiled stubs (0 = trap pending).
    pub slow_path_status: UnsafeCell<u64>,
    /// The exnref of the exception being thrown, 0 when none.
    pub pending_exception: UnsafeCell<u64>,
}

impl Default for VMRuntimeLimits {
    fn default() -> Self {
        Self {
            stack_limit: UnsafeCell::new(usize::MAX),
            fuel_consumed: UnsafeCell::new(0),
            epoch_deadline: UnsafeCell::new(0),
            slow_path_status: UnsafeCell::new(0),
            pending_exception: UnsafeCell::new(0),
        }
    }
}

/// An instance's context, laid out as `wasmjit_environ::vmoffsets::vmctx` describes. Only
/// ever handled by pointer: its words are read and written through those offsets.
#[repr(C)]
pub struct VMContext {
    _opaque: [u8; 0],
}

/// The context a funcref passes its callee: a [`VMContext`] for a wasm function, a host
/// function's context (`wasmjit_environ::vmoffsets::host_ctx`) for a host function.
#[repr(C)]
pub struct VMOpaqueContext {
    _opaque: [u8; 0],
}

impl VMOpaqueContext {
    /// The callee context of a wasm function.
    pub fn from_vmctx(vmctx: *mut VMContext) -> *mut VMOpaqueContext {
        vmctx.cast()
    }
}

/// What a funcref points to.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMFuncRef {
    /// Entry with the wasm calling convention.
    pub wasm_call: *const u8,
    /// Entry with the array calling convention (host ABI).
    pub array_call: *const u8,
    /// Callee context: a `VMContext` or a host function context.
    pub vmctx: *mut VMOpaqueContext,
    /// Engine-wide type id.
    pub type_id: u32,
}

impl VMFuncRef {
    /// A funcref with no code yet (filled in during instantiation).
    pub const EMPTY: VMFuncRef = VMFuncRef {
        wasm_call: std::ptr::null(),
        array_call: std::ptr::null(),
        vmctx: std::ptr::null_mut(),
        type_id: u32::MAX,
    };
}

/// A linear memory as compiled code sees it.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDefinition {
    /// Base address.
    pub base: *mut u8,
    /// Accessible length in bytes.
    pub current_length: usize,
}

/// A table as compiled code sees it.
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDefinition {
    /// Elements (8 bytes each).
    pub base: *mut u64,
    /// Number of elements.
    pub current_elements: u64,
}

/// Storage of one global.
#[repr(C, align(16))]
#[derive(Debug, Default, Clone, Copy)]
pub struct VMGlobalDefinition {
    /// Little-endian bytes of the value.
    pub bytes: [u8; 16],
}

/// One 16-byte slot of an array-call buffer.
#[repr(C, align(16))]
#[derive(Clone, Copy, Default)]
pub struct ValRaw {
    bytes: [u8; 16],
}

impl std::fmt::Debug for ValRaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ValRaw({:#x})", u128::from_le_bytes(self.bytes))
    }
}

impl ValRaw {
    /// From an `i32`.
    pub fn i32(v: i32) -> Self {
        Self::u128(v as u32 as u128)
    }
    /// From an `i64`.
    pub fn i64(v: i64) -> Self {
        Self::u128(v as u64 as u128)
    }
    /// From `f32` bits.
    pub fn f32(bits: u32) -> Self {
        Self::u128(bits as u128)
    }
    /// From `f64` bits.
    pub fn f64(bits: u64) -> Self {
        Self::u128(bits as u128)
    }
    /// From all 128 bits.
    pub fn u128(v: u128) -> Self {
        Self {
            bytes: v.to_le_bytes(),
        }
    }
    /// From a reference word (funcref pointer or externref handle).
    pub fn reference(v: u64) -> Self {
        Self::u128(v as u128)
    }
    /// As `i32`.
    pub fn get_i32(&self) -> i32 {
        u32::from_le_bytes(self.bytes[..4].try_into().unwrap()) as i32
    }
    /// As `i64`.
    pub fn get_i64(&self) -> i64 {
        u64::from_le_bytes(self.bytes[..8].try_into().unwrap()) as i64
    }
    /// As `f32` bits.
    pub fn get_f32(&self) -> u32 {
        self.get_i32() as u32
    }
    /// As `f64` bits.
    pub fn get_f64(&self) -> u64 {
        self.get_i64() as u64
    }
    /// All 128 bits.
    pub fn get_u128(&self) -> u128 {
        u128::from_le_bytes(self.bytes)
    }
    /// As a reference word.
    pub fn get_reference(&self) -> u64 {
        self.get_i64() as u64
    }

    // Wasmtime's names for the same slots.

    /// A null reference (all zero).
    pub fn null() -> Self {
        Self::default()
    }
    /// From a `u32`.
    pub fn u32(v: u32) -> Self {
        Self::u128(v.into())
    }
    /// From a `u64`.
    pub fn u64(v: u64) -> Self {
        Self::u128(v.into())
    }
    /// From all 128 bits of a `v128`.
    pub fn v128(v: u128) -> Self {
        Self::u128(v)
    }
    /// From a funcref's raw form ([`Func::to_raw`](crate::Func::to_raw); null for none).
    pub fn funcref(f: *mut std::ffi::c_void) -> Self {
        Self::reference(f as u64)
    }
    /// From an externref's raw form ([`ExternRef::to_raw`](crate::ExternRef::to_raw); 0
    /// for null).
    pub fn externref(e: u32) -> Self {
        Self::u32(e)
    }
    /// From an anyref's raw form (wasmjit has no anyrefs: only null, 0, means anything).
    pub fn anyref(r: u32) -> Self {
        Self::u32(r)
    }
    /// From an exnref's raw form (an exception's index + 1; 0 for null).
    pub fn exnref(r: u32) -> Self {
        Self::u32(r)
    }
    /// As `u32`.
    pub fn get_u32(&self) -> u32 {
        self.get_i32() as u32
    }
    /// As `u64`.
    pub fn get_u64(&self) -> u64 {
        self.get_i64() as u64
    }
    /// All 128 bits of a `v128`.
    pub fn get_v128(&self) -> u128 {
        self.get_u128()
    }
    /// As a funcref's raw form.
    pub fn get_funcref(&self) -> *mut std::ffi::c_void {
        self.get_reference() as usize as *mut std::ffi::c_void
    }
    /// As an externref's raw form.
    pub fn get_externref(&self) -> u32 {
        self.get_u32()
    }
    /// As an anyref's raw form.
    pub fn get_anyref(&self) -> u32 {
        self.get_u32()
    }
    /// As an exnref's raw form.
    pub fn get_exnref(&self) -> u32 {
        self.get_u32()
    }
}

/// Each structure compiled code touches agrees with `wasmjit_environ::vmoffsets`, checked
/// when the runtime compiles (a layout that drifted does not build).
mod layout_checks {
    use super::*;
    use std::mem::{offset_of, size_of};
    use wasmjit_environ::vmoffsets::{funcref, global, limits, memory, table, VAL_RAW_SIZE};

    macro_rules! agree {
        ($($actual:expr => $expected:expr;)*) => {
            $(const _: () = assert!($actual as u32 == $expected);)*
        };
    }

    agree! {
        offset_of!(VMRuntimeLimits, stack_limit) => limits::STACK_LIMIT;
        offset_of!(VMRuntimeLimits, fuel_consumed) => limits::FUEL_CONSUMED;
        offset_of!(VMRuntimeLimits, epoch_deadline) => limits::EPOCH_DEADLINE;
        offset_of!(VMRuntimeLimits, slow_path_status) => limits::SLOW_PATH_STATUS;
        offset_of!(VMRuntimeLimits, pending_exception) => limits::PENDING_EXCEPTION;
        size_of::<VMRuntimeLimits>() => limits::SIZE;
        offset_of!(VMFuncRef, wasm_call) => funcref::WASM_CALL;
        offset_of!(VMFuncRef, array_call) => funcref::ARRAY_CALL;
        offset_of!(VMFuncRef, vmctx) => funcref::VMCTX;
        offset_of!(VMFuncRef, type_id) => funcref::TYPE_ID;
        size_of::<VMFuncRef>() => funcref::SIZE;
        offset_of!(VMMemoryDefinition, base) => memory::BASE;
        offset_of!(VMMemoryDefinition, current_length) => memory::CURRENT_LENGTH;
        size_of::<VMMemoryDefinition>() => memory::SIZE;
        offset_of!(VMTableDefinition, base) => table::BASE;
        offset_of!(VMTableDefinition, current_elements) => table::CURRENT_ELEMENTS;
        size_of::<VMTableDefinition>() => table::SIZE;
        size_of::<VMGlobalDefinition>() => global::SIZE;
        size_of::<ValRaw>() => VAL_RAW_SIZE;
    }
}
