//! Runtime functions that compiled code calls through the `VMContext`'s builtin table.
//!
//! Each is an `extern "C"` (SystemV / AAPCS64) function whose first parameter is the calling
//! instance's `vmctx`. Builtins that can trap return a status the compiled code checks: on
//! failure the runtime has recorded the trap code as pending, and the code executes
//! `trap BUILTIN_TRAP` so that every trap leaves through the same signal path.
//!
//! Signatures (`u32` index parameters are the module-level indices):
//! - `MemoryGrow(vmctx, mem: u32, delta_pages: u64) -> u64`: old size in pages, `u64::MAX`
//!   when the memory cannot grow, or [`GROW_TRAPPED`] when the store's limiter made it a trap.
//! - `MemoryFill(vmctx, mem: u32, dst: u64, byte: u32, len: u64) -> u32`: 1 ok, 0 trap.
//! - `MemoryCopy(vmctx, dst_mem: u32, dst: u64, src_mem: u32, src: u64, len: u64) -> u32`.
//! - `MemoryInit(vmctx, mem: u32, data: u32, dst: u64, src: u32, len: u32) -> u32`.
//! - `DataDrop(vmctx, data: u32)`.
//! - `TableGrow(vmctx, table: u32, delta: u64, init: u64) -> u64`: old size, `u64::MAX`, or
//!   [`GROW_TRAPPED`].
//! - `TableFill(vmctx, table: u32, dst: u64, val: u64, len: u64) -> u32`.
//! - `TableCopy(vmctx, dst_table: u32, src_table: u32, dst: u64, src: u64, len: u64) -> u32`.
//! - `TableInit(vmctx, table: u32, elem: u32, dst: u64, src: u32, len: u32) -> u32`.
//! - `ElemDrop(vmctx, elem: u32)`.
//! - `OutOfFuel(vmctx) -> u32`: fuel slow path; 0 = trap.
//! - `NewEpoch(vmctx) -> u32`: epoch slow path; 0 = trap.
//!
//! - `Throw(vmctx, tag: u32, values: *const ValRaw) -> u64`: creates an exception of tag
//!   `tag` (module index) with the payload in `values` (one 16-byte slot per tag parameter),
//!   makes it the pending exception and returns its exnref; 0 = trap (the store keeps no
//!   more exceptions alive, or the embedder code a collection ran panicked).
//! - `ExceptionTag(vmctx, exn: u64) -> u64`: the store-wide identity of the exception's tag
//!   (the value in the `VMContext`'s tag slots).
//! - `ExceptionPayload(vmctx, exn: u64, values: *mut ValRaw)`: copies the exception's
//!   payload into `values`.
//! - `ExceptionCaught(vmctx, exn: u64, keep: u32)`: a clause caught the exception: clears the
//!   pending exception; `keep` (a `_ref` clause) marks it as referenced from wasm, otherwise
//!   the runtime may free it if it never was.
//!
//! - `RaiseTrap(vmctx, code: u32) -> !`: raises the trap `code` (a [`crate::TrapCode`]'s raw byte)
//!   and unwinds to the host without a signal; never returns. Only code compiled with
//!   `signals_based_traps` off calls it (see `translate/traps.rs`), after its own checks;
//!   the call is followed by a `trap` that is never reached.
//!
//! `OutOfFuel` and `NewEpoch` are called through the module's `preserve_all` stubs (see `stubs.rs`), which
//! leave the status in `VMRuntimeLimits::slow_path_status`.

/// Index into the builtin table.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// See the module docs for each signature.
    MemoryGrow,
    /// `memory.fill`.
    MemoryFill,
    /// `memory.copy`.
    MemoryCopy,
    /// `memory.init`.
    MemoryInit,
    /// `data.drop`.
    DataDrop,
    /// `table.grow`.
    TableGrow,
    /// `table.fill`.
    TableFill,
    /// `table.copy`.
    TableCopy,
    /// `table.init`.
    TableInit,
    /// `elem.drop`.
    ElemDrop,
    /// Fuel slow path.
    OutOfFuel,
    /// Epoch slow path.
    NewEpoch,
    /// `throw`.
    Throw,
    /// The tag of an exception, for `catch` clauses.
    ExceptionTag,
    /// The payload of an exception, for `catch`/`catch_ref` clauses.
    ExceptionPayload,
    /// A clause caught the exception.
    ExceptionCaught,
    /// Raises a trap without a signal.
    RaiseTrap,
}

impl Builtin {
    /// Number of builtins (length of the table).
    pub const COUNT: usize = 17;

    /// Byte offset of this builtin's pointer in the table.
    pub fn offset(self) -> u32 {
        self as u32 * 8
    }
}

/// What `MemoryGrow` and `TableGrow` return when the growth is to trap (the store's resource
/// limiter returned an error): the error is pending in the store and the compiled code traps
/// with `BUILTIN_TRAP`. No memory or table can have this size (`u64::MAX` is -1, "cannot
/// grow").
pub const GROW_TRAPPED: u64 = u64::MAX - 1;
