//! The C kernels of `benches/kernels/`: their committed wasm builds and, when a C compiler
//! was at hand, their native builds (crate `wasmjit-bench-native`).

/// One kernel: `run` returns a checksum that every engine and the native build must agree on.
pub struct Kernel {
    /// The name benches report it under.
    pub name: &'static str,
    pub wasm: &'static [u8],
    /// Export `() -> i32` that runs the kernel once.
    pub run: &'static str,
    /// Export `() -> ()` to call once after instantiation, if any.
    pub init: Option<&'static str>,
    /// The native build, if there is one.
    pub native: Option<Native>,
}

pub use wasmjit_bench_native::Native;

macro_rules! kernel {
    ($name:literal, $c:ident, run) => {
        Kernel {
            name: $name,
            wasm: include_bytes!(concat!("../kernels/", stringify!($c), ".wasm")),
            run: concat!(stringify!($c), "_run"),
            init: None,
            native: wasmjit_bench_native::native(stringify!($c)),
        }
    };
    ($name:literal, $c:ident, run_init) => {
        Kernel {
            name: $name,
            wasm: include_bytes!(concat!("../kernels/", stringify!($c), ".wasm")),
            run: concat!(stringify!($c), "_run"),
            init: Some(concat!(stringify!($c), "_init")),
            native: wasmjit_bench_native::native(stringify!($c)),
        }
    };
}

/// Every kernel. The first four are issue #4's instrumentation kernels (same names).
pub fn all() -> Vec<Kernel> {
    vec![
        kernel!("fib30", fib, run),
        kernel!("loop1e7", loop, run),
        kernel!("sieve1MiB", sieve, run),
        kernel!("matmul200", matmul, run_init),
        kernel!("sha256_1MiB", sha256, run_init),
        kernel!("nbody100k", nbody, run),
        kernel!("simd_dot", simd, run_init),
    ]
}

/// The uncontended atomic read-modify-write loop (`benches/atomics.rs`; not one of `all`, so
/// that the kernels' geometric means keep their meaning).
pub fn atomics() -> Kernel {
    kernel!("atomics1e7", atomics, run)
}

/// SQLite's amalgamation built for wasm32 (about 1 MB; imports its libc): the compile bench's
/// real program.
pub const SQLITE3_WASM: &[u8] = include_bytes!("../kernels/sqlite3.wasm");
