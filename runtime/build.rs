//! Compiles the C half of the trap handlers: the `sigsetjmp` entry point that
//! Rust cannot express (see `src/vm/traphandlers/setjmp.c`); names the target triple.

fn main() {
    // The target triple, which a runtime built without Cranelift records as its host's.
    if let Ok(target) = std::env::var("TARGET") {
        println!("cargo:rustc-env=WASMJIT_TARGET={target}");
    }
    let setjmp = "src/vm/traphandlers/setjmp.c";
    println!("cargo:rerun-if-changed={setjmp}");
    cc::Build::new()
        .file(setjmp)
        .warnings(true)
        .extra_warnings(true)
        .compile("wasmjit_traphandlers");
}
