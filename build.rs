//! Compiles the benchmark kernels (`benches/kernels/*.c`) natively with `-O2`: the `kernels`
//! bench runs them beside their wasm builds as the physical reference. Each kernel's
//! `<name>_run`/`<name>_init` is renamed `wasmjit_kernel_<name>_run`/`..._init` so that no
//! symbol can clash with another C object in the link.
//!
//! Without a working C compiler the build goes on and the benches leave the native rows out
//! (`cfg(native_kernels)` is then unset).

const KERNELS: [&str; 8] = [
    "fib", "loop", "sieve", "matmul", "sha256", "nbody", "simd", "atomics",
];

fn main() {
    println!("cargo::rerun-if-changed=benches/kernels");
    println!("cargo::rustc-check-cfg=cfg(native_kernels)");
    let mut build = cc::Build::new();
    build
        .opt_level(2)
        .flag_if_supported("-fno-math-errno")
        .flag_if_supported("-ffp-contract=off");
    for kernel in KERNELS {
        build.file(format!("benches/kernels/{kernel}.c"));
        for entry in ["run", "init"] {
            build.define(
                &format!("{kernel}_{entry}"),
                Some(format!("wasmjit_kernel_{kernel}_{entry}").as_str()),
            );
        }
    }
    // Linked into the benches only (cargo would pass `-l` to the binary alone).
    build.cargo_metadata(false);
    match build.try_compile("wasmjit_bench_kernels") {
        Ok(()) => {
            let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
            println!("cargo::rustc-link-arg-benches={out}/libwasmjit_bench_kernels.a");
            println!("cargo::rustc-cfg=native_kernels");
        }
        Err(e) => println!("cargo::warning=benchmark kernels not built natively: {e}"),
    }
}
