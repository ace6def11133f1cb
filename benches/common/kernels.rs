//! The C kernels of `benches/kernels/`: their committed wasm builds and, when `build.rs`
//! could compile them (`cfg(native_kernels)`), their native builds.

/// One kernel: `run` returns a checksum that every engine and the native build must agree on.
pub struct Kernel {
    /// The name benches report it under.
    pub name: &'static str,
    pub wasm: &'static [u8],
    /// Export `() -> i32` that runs the kernel once.
    pub run: &'static str,
    /// Export `() -> ()` to call once after instantiation, if any.
    pub init: Option<&'static str>,
    /// The native build, if `build.rs` made one.
    pub native: Option<Native>,
}

/// A kernel's native entry points.
#[derive(Clone, Copy)]
pub struct Native {
    pub run: fn() -> i32,
    pub init: Option<fn()>,
}

/// Declares the native entry points of kernel `$c` and returns its `native` field.
macro_rules! native {
    ($c:ident, run) => {{
        #[cfg(native_kernels)]
        {
            extern "C" {
                #[link_name = concat!("wasmjit_kernel_", stringify!($c), "_run")]
                fn run() -> i32;
            }
            fn safe_run() -> i32 {
                // SAFETY: build.rs compiled the kernel's C source natively; `run` takes no
                // arguments and touches only the kernel's own static data.
                unsafe { run() }
            }
            Some(Native {
                run: safe_run,
                init: None,
            })
        }
        #[cfg(not(native_kernels))]
        {
            None
        }
    }};
    ($c:ident, run_init) => {{
        #[cfg(native_kernels)]
        {
            extern "C" {
                #[link_name = concat!("wasmjit_kernel_", stringify!($c), "_run")]
                fn run() -> i32;
                #[link_name = concat!("wasmjit_kernel_", stringify!($c), "_init")]
                fn init();
            }
            fn safe_run() -> i32 {
                // SAFETY: as above; `run` only reads what `init` wrote, or zeros.
                unsafe { run() }
            }
            fn safe_init() {
                // SAFETY: `init` takes no arguments and writes only the kernel's static data.
                unsafe { init() }
            }
            Some(Native {
                run: safe_run,
                init: Some(safe_init),
            })
        }
        #[cfg(not(native_kernels))]
        {
            None
        }
    }};
}

macro_rules! kernel {
    ($name:literal, $c:ident, run) => {
        Kernel {
            name: $name,
            wasm: include_bytes!(concat!("../kernels/", stringify!($c), ".wasm")),
            run: concat!(stringify!($c), "_run"),
            init: None,
            native: native!($c, run),
        }
    };
    ($name:literal, $c:ident, run_init) => {
        Kernel {
            name: $name,
            wasm: include_bytes!(concat!("../kernels/", stringify!($c), ".wasm")),
            run: concat!(stringify!($c), "_run"),
            init: Some(concat!(stringify!($c), "_init")),
            native: native!($c, run_init),
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
