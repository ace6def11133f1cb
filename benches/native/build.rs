//! Compiles the benchmark kernels (`benches/kernels/*.c`) natively with `-O2`: the `kernels`
//! bench runs them beside their wasm builds as the physical reference. A crate of its own, a
//! dev-dependency of the CLI package, so that building the `wasmjit` command compiles no C. Each kernel's
//! `<name>_run`/`<name>_init` is renamed `wasmjit_kernel_<name>_run`/`..._init` so that no
//! symbol can clash with another C object in the link.
//!
//! Without a working C compiler the build goes on and the benches leave the native rows out
//! (`cfg(native_kernels)` is then unset, and `native` answers `None`).

const KERNELS: [&str; 8] = [
    "fib", "loop", "sieve", "matmul", "sha256", "nbody", "simd", "atomics",
];

fn main() {
    println!("cargo::rerun-if-changed=../kernels");
    println!("cargo::rustc-check-cfg=cfg(native_kernels)");
    let mut build = cc::Build::new();
    build
        .opt_level(2)
        .flag_if_supported("-fno-math-errno")
        .flag_if_supported("-ffp-contract=off");
    for kernel in KERNELS {
        build.file(format!("../kernels/{kernel}.c"));
        for entry in ["run", "init"] {
            build.define(
                &format!("{kernel}_{entry}"),
                Some(format!("wasmjit_kernel_{kernel}_{entry}").as_str()),
            );
        }
    }
    // Linked into whatever links this crate (the benches).
    build.cargo_metadata(true);
    match build.try_compile("wasmjit_bench_kernels") {
        Ok(()) => println!("cargo::rustc-cfg=native_kernels"),
        Err(e) => println!("cargo::warning=benchmark kernels not built natively: {e}"),
    }
}
