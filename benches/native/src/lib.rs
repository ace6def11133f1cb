//! The native builds of the benchmark kernels (`benches/kernels/*.c`, compiled by this
//! crate's `build.rs`), looked up by kernel name.

/// A kernel's native entry points.
#[derive(Clone, Copy)]
pub struct Native {
    /// Runs the kernel once; its checksum.
    pub run: fn() -> i32,
    /// Prepares the kernel's data, for the kernels that have such a step.
    pub init: Option<fn()>,
}

/// Declares the safe native entry points of a kernel: `run`, and `init` where it has one.
#[cfg(native_kernels)]
macro_rules! entries {
    ($c:ident, run) => {{
        extern "C" {
            #[link_name = concat!("wasmjit_kernel_", stringify!($c), "_run")]
            fn run() -> i32;
        }
        fn safe_run() -> i32 {
            // SAFETY: build.rs compiled the kernel's C source natively; `run` takes no
            // arguments and touches only the kernel's own static data.
            unsafe { run() }
        }
        Native {
            run: safe_run,
            init: None,
        }
    }};
    ($c:ident, run_init) => {{
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
        Native {
            run: safe_run,
            init: Some(safe_init),
        }
    }};
}

/// The native build of kernel `name` (its C file's stem); `None` for an unknown kernel or
/// when no C compiler was at hand to build them.
pub fn native(name: &str) -> Option<Native> {
    #[cfg(native_kernels)]
    {
        Some(match name {
            "fib" => entries!(fib, run),
            "loop" => entries!(loop, run),
            "sieve" => entries!(sieve, run),
            "matmul" => entries!(matmul, run_init),
            "sha256" => entries!(sha256, run_init),
            "nbody" => entries!(nbody, run),
            "simd" => entries!(simd, run_init),
            _ => return None,
        })
    }
    #[cfg(not(native_kernels))]
    {
        let _ = name;
        None
    }
}
