//! Fuzz target `async`: one case of the sync/async comparison per input (see
//! `differential/src/sync_async.rs`): a wasm-smith module run through the synchronous entry
//! points and through `call_async` with a fuel yield every 1 to 64 units must agree on every
//! result, trap, fuel count and exported state.
#![cfg_attr(feature = "libfuzzer", no_main)]

#[cfg(not(feature = "libfuzzer"))]
mod standalone;

use wasmjit_differential as oracle;

fn run(data: &[u8]) {
    if let Err(d) = oracle::sync_async::run_fuzz_input(data) {
        panic!("sync and async runs disagree:\n{d}");
    }
}

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    standalone::main("async", run);
}
