//! `wasm_engine_t`: compiles modules; shared by stores.

use crate::wasm_config_t;
use wasmjit::Engine;

/// An engine. Copies made with `wasmtime_engine_clone` share it.
#[derive(Clone)]
pub struct wasm_engine_t {
    pub(crate) engine: Engine,
}

/// An engine with the default configuration.
#[no_mangle]
pub extern "C" fn wasm_engine_new() -> Option<Box<wasm_engine_t>> {
    crate::abort_on_panic("wasm_engine_new", || {
        match Engine::new(&crate::config::c_api_config()) {
            Ok(engine) => Some(Box::new(wasm_engine_t { engine })),
            Err(e) => {
                eprintln!("wasmjit: wasm_engine_new: {e:#}");
                None
            }
        }
    })
}

/// An engine with `config`, which it consumes. Returns NULL, after printing why, when the
/// configuration asks for something wasmjit does not support.
#[no_mangle]
pub extern "C" fn wasm_engine_new_with_config(
    config: Box<wasm_config_t>,
) -> Option<Box<wasm_engine_t>> {
    crate::abort_on_panic("wasm_engine_new_with_config", || {
        let result = crate::config::check_supported(&config)
            .map_err(|e| e.error)
            .and_then(|()| Engine::new(&config.config));
        match result {
            Ok(engine) => Some(Box::new(wasm_engine_t { engine })),
            Err(e) => {
                eprintln!("wasmjit: wasm_engine_new_with_config: {e:#}");
                None
            }
        }
    })
}

/// Frees this handle to the engine.
#[no_mangle]
pub extern "C" fn wasm_engine_delete(_engine: Option<Box<wasm_engine_t>>) {}

/// Another handle to the same engine.
#[no_mangle]
pub extern "C" fn wasmtime_engine_clone(engine: &wasm_engine_t) -> Box<wasm_engine_t> {
    Box::new(engine.clone())
}

/// Advances the engine's epoch by one; callable from any thread.
#[no_mangle]
pub extern "C" fn wasmtime_engine_increment_epoch(engine: &wasm_engine_t) {
    engine.engine.increment_epoch();
}

/// Whether the engine interprets Pulley bytecode: never, wasmjit compiles to native code.
#[no_mangle]
pub extern "C" fn wasmtime_engine_is_pulley(_engine: &wasm_engine_t) -> bool {
    false
}
