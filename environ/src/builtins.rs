//! The runtime functions compiled code calls through the `VMContext`'s builtin table, declared
//! once.
//!
//! [`foreach_builtin!`] holds the list: each builtin's name, parameters and result. From it the
//! compiler builds the Cranelift signatures ([`Builtin::params`], [`Builtin::result`]) and the
//! runtime builds its `#[repr(C)]` table of function pointers and that table's initializer, so
//! a builtin is added, removed, reordered or re-typed by editing the list and writing its
//! runtime body; both sides follow, and the runtime does not compile if a body's signature
//! disagrees with the list.
//!
//! Each builtin is an `extern "C"` (SystemV / AAPCS64) function whose first parameter is the
//! calling instance's `vmctx`. Parameter kinds, as the list names them:
//! - `vmctx`: the caller's `VMContext` pointer;
//! - `u32`, `u64`: integers (`u32` indices are module-level indices);
//! - `vals`: a pointer to 16-byte `ValRaw` slots.
//!
//! Builtins that can trap return a status the compiled code checks: on failure the runtime has
//! recorded the trap code as pending, and the code executes `trap BUILTIN_TRAP` so that every
//! trap leaves through the same path. `out_of_fuel` and `new_epoch` are called through the
//! module's `preserve_all` stubs (`stubs.rs` in the compiler), which leave their status in
//! `VMRuntimeLimits::slow_path_status`.

/// Calls `$mac!` with the list of builtins, one `name(param: kind, ...) -> kind;` per line, in
/// table order.
#[macro_export]
macro_rules! foreach_builtin {
    ($mac:ident) => {
        $mac! {
            /// `memory.grow`: the old size in pages, `u64::MAX` when the memory cannot grow, or
            /// `GROW_TRAPPED` when the store's limiter made it
            /// a trap.
            memory_grow(vmctx: vmctx, mem: u32, delta_pages: u64) -> u64;
            /// `memory.fill`: 1 ok, 0 trap.
            memory_fill(vmctx: vmctx, mem: u32, dst: u64, byte: u32, len: u64) -> u32;
            /// `memory.copy`: 1 ok, 0 trap.
            memory_copy(vmctx: vmctx, dst_mem: u32, dst: u64, src_mem: u32, src: u64, len: u64) -> u32;
            /// `memory.init`: 1 ok, 0 trap.
            memory_init(vmctx: vmctx, mem: u32, data: u32, dst: u64, src: u32, len: u32) -> u32;
            /// `data.drop`.
            data_drop(vmctx: vmctx, data: u32);
            /// Whether a function of engine-wide type id `actual` may be used where type id
            /// `expected` is: 1 if `actual` declares `expected` as a (transitive) supertype,
            /// else 0. The slow path of `call_indirect`, `ref.test` and `ref.cast` when the
            /// ids differ and the expected type is not final.
            func_subtype(vmctx: vmctx, actual: u32, expected: u32) -> u32;
            /// `table.grow`: the old size, `u64::MAX`, or `GROW_TRAPPED`.
            table_grow(vmctx: vmctx, table: u32, delta: u64, init: u64) -> u64;
            /// `table.fill`: 1 ok, 0 trap.
            table_fill(vmctx: vmctx, table: u32, dst: u64, val: u64, len: u64) -> u32;
            /// `table.copy`: 1 ok, 0 trap.
            table_copy(vmctx: vmctx, dst_table: u32, src_table: u32, dst: u64, src: u64, len: u64) -> u32;
            /// `table.init`: 1 ok, 0 trap.
            table_init(vmctx: vmctx, table: u32, elem: u32, dst: u64, src: u32, len: u32) -> u32;
            /// `elem.drop`.
            elem_drop(vmctx: vmctx, elem: u32);
            /// Fuel slow path: 0 = trap.
            out_of_fuel(vmctx: vmctx) -> u32;
            /// Epoch slow path: 0 = trap.
            new_epoch(vmctx: vmctx) -> u32;
            /// `throw`: creates an exception of tag `tag` (module index) with the payload in
            /// `values` (one slot per tag parameter), makes it the pending exception and
            /// returns its exnref; 0 = trap (the store keeps no more exceptions alive, or the
            /// embedder code a collection ran panicked).
            throw(vmctx: vmctx, tag: u32, values: vals) -> u64;
            /// The store-wide identity of an exception's tag (the value in the `VMContext`'s
            /// tag slots), for `catch` clauses.
            exception_tag(vmctx: vmctx, exn: u64) -> u64;
            /// Copies an exception's payload into `values`, for `catch`/`catch_ref` clauses.
            exception_payload(vmctx: vmctx, exn: u64, values: vals);
            /// A clause caught the exception: clears the pending exception; `keep` (a `_ref`
            /// clause) marks it as referenced from wasm, otherwise the runtime may free it if
            /// it never was.
            exception_caught(vmctx: vmctx, exn: u64, keep: u32);
            /// Raises the trap `code` (a trap code's raw byte) and unwinds to the host without
            /// a signal; never returns. Only code compiled with `signals_based_traps` off calls
            /// it (see the compiler's `translate/traps.rs`), after its own checks; the call is
            /// followed by a `trap` that is never reached.
            raise_trap(vmctx: vmctx, code: u32);
            /// `memory.atomic.notify` at byte address `addr` (index + offset): how many
            /// waiters were woken, or `ATOMIC_TRAPPED`.
            memory_atomic_notify(vmctx: vmctx, mem: u32, addr: u64, count: u32) -> u64;
            /// `memory.atomic.wait32`: 0 woken, 1 the value was not `expected`, 2 timed out
            /// (`timeout` in nanoseconds, negative = none), or `ATOMIC_TRAPPED`.
            memory_atomic_wait32(vmctx: vmctx, mem: u32, addr: u64, expected: u32, timeout: u64) -> u64;
            /// `memory.atomic.wait64`: as `memory_atomic_wait32`.
            memory_atomic_wait64(vmctx: vmctx, mem: u32, addr: u64, expected: u64, timeout: u64) -> u64;
        }
    };
}

/// The kind of a builtin's parameter or result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinType {
    /// The caller's `VMContext` pointer.
    VmCtx,
    /// A 32-bit integer.
    U32,
    /// A 64-bit integer.
    U64,
    /// A pointer to `ValRaw` slots.
    Vals,
}

/// The [`BuiltinType`] a kind of the list names.
#[doc(hidden)]
#[macro_export]
macro_rules! builtin_type {
    (vmctx) => {
        $crate::builtins::BuiltinType::VmCtx
    };
    (u32) => {
        $crate::builtins::BuiltinType::U32
    };
    (u64) => {
        $crate::builtins::BuiltinType::U64
    };
    (vals) => {
        $crate::builtins::BuiltinType::Vals
    };
}

/// The result of a builtin: `None` when the list names none.
macro_rules! builtin_result {
    () => {
        None
    };
    ($kind:ident) => {
        Some(builtin_type!($kind))
    };
}

macro_rules! declare_builtins {
    ($( $(#[$doc:meta])* $name:ident($($param:ident: $kind:ident),*) $(-> $result:ident)?; )*) => {
        /// Table positions, in list order.
        #[allow(non_camel_case_types)]
        #[repr(u32)]
        enum Position {
            $($name,)*
            End,
        }

        impl Builtin {
            $(
                $(#[$doc])*
                pub const fn $name() -> Self {
                    Self(Position::$name as u32)
                }
            )*

            /// Number of builtins (length of the table).
            pub const COUNT: usize = Position::End as usize;

            const NAMES: [&'static str; Self::COUNT] = [$(stringify!($name)),*];
            const PARAMS: [&'static [BuiltinType]; Self::COUNT] =
                [$(&[$(builtin_type!($kind)),*]),*];
            const RESULTS: [Option<BuiltinType>; Self::COUNT] =
                [$(builtin_result!($($result)?)),*];
        }
    };
}

/// A builtin: its position in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Builtin(u32);

foreach_builtin!(declare_builtins);

impl Builtin {
    /// Every builtin, in table order.
    pub fn all() -> impl Iterator<Item = Self> {
        (0..Self::COUNT as u32).map(Self)
    }

    /// Position in the table.
    pub const fn index(self) -> u32 {
        self.0
    }

    /// Byte offset of this builtin's pointer in the table.
    pub const fn offset(self) -> u32 {
        self.0 * crate::vmoffsets::PTR
    }

    /// The name the list gives it.
    pub fn name(self) -> &'static str {
        Self::NAMES[self.0 as usize]
    }

    /// Its parameters, `vmctx` first.
    pub fn params(self) -> &'static [BuiltinType] {
        Self::PARAMS[self.0 as usize]
    }

    /// Its result, if it returns one.
    pub fn result(self) -> Option<BuiltinType> {
        Self::RESULTS[self.0 as usize]
    }
}

/// What `memory_grow` and `table_grow` return when the growth is to trap (the store's resource
/// limiter returned an error): the error is pending in the store and the compiled code traps
/// with `BUILTIN_TRAP`. No memory or table can have this size (`u64::MAX` is -1, "cannot
/// grow").
pub const GROW_TRAPPED: u64 = u64::MAX - 1;

/// What the wait/notify builtins return when the operation traps (misaligned or out of
/// bounds, a wait on an unshared memory): the trap is pending in the store and the compiled
/// code traps with `BUILTIN_TRAP`. Every other result fits an `i32`.
pub const ATOMIC_TRAPPED: u64 = u64::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_takes_its_vmctx_first_and_only_there() {
        for builtin in Builtin::all() {
            let params = builtin.params();
            assert_eq!(
                params.first(),
                Some(&BuiltinType::VmCtx),
                "{}",
                builtin.name()
            );
            assert!(
                !params[1..].contains(&BuiltinType::VmCtx),
                "{}",
                builtin.name()
            );
            assert_ne!(
                builtin.result(),
                Some(BuiltinType::VmCtx),
                "{}",
                builtin.name()
            );
        }
    }

    #[test]
    fn the_list_numbers_builtins_in_order() {
        assert_eq!(Builtin::memory_grow().index(), 0);
        assert_eq!(Builtin::memory_fill().offset(), 8);
        assert_eq!(
            Builtin::throw().params(),
            &[BuiltinType::VmCtx, BuiltinType::U32, BuiltinType::Vals]
        );
        assert_eq!(Builtin::data_drop().result(), None);
        assert_eq!(Builtin::table_grow().result(), Some(BuiltinType::U64));
        let names: Vec<_> = Builtin::all().map(Builtin::name).collect();
        assert_eq!(names.len(), Builtin::COUNT);
        assert_eq!(names.last(), Some(&"memory_atomic_wait64"));
    }
}
