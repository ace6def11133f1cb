//! Fuzz target `api_sequences`: one random sequence of embedder API calls per input (see
//! `runtime/tests/all/api_sequences/mod.rs`): sync and async calls, futures polled partially and
//! then finished, dropped or leaked, traps, failing and panicking host functions and
//! limiters, on two stores. The process must survive, and finished calls must return what the
//! guest computes.
#![cfg_attr(feature = "libfuzzer", no_main)]

#[cfg(not(feature = "libfuzzer"))]
mod standalone;

#[path = "../../runtime/tests/all/api_sequences/mod.rs"]
mod api_sequences;

fn run(data: &[u8]) {
    if let Err(wrong) = api_sequences::run(data) {
        panic!("wrong result: {wrong}");
    }
}

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    // Host functions and limiters panic on purpose; only a wrong result or a crash counts.
    std::panic::set_hook(Box::new(|_| {}));
    standalone::main("api_sequences", run);
}
