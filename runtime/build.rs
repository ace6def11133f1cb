//! Compiles the C half of the trap handlers: the `sigsetjmp` entry point that
//! Rust cannot express (see `src/vm/traphandlers/setjmp.c`).

fn main() {
    let setjmp = "src/vm/traphandlers/setjmp.c";
    println!("cargo:rerun-if-changed={setjmp}");
    cc::Build::new()
        .file(setjmp)
        .warnings(true)
        .extra_warnings(true)
        .compile("wasmjit_traphandlers");
}
