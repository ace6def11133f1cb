//! Fuzz target `differential`: one case of `tests/all/differential.rs` per input. The first byte
//! picks the wasmjit configuration, the rest drives wasm-smith and then the calls; any
//! disagreement with wasmi panics with a description and the module in hex.
#![cfg_attr(feature = "libfuzzer", no_main)]

#[cfg(not(feature = "libfuzzer"))]
mod standalone;

use wasmjit_differential as oracle;

fn run(data: &[u8]) {
    if let Err(d) = oracle::run_fuzz_input(data) {
        panic!("wasmjit and wasmi disagree:\n{d}");
    }
}

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    standalone::main("differential", run);
}
