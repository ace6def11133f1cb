//! The real programs of `benches/programs/` (the `programs` bench times them) run once each
//! on wasmjit through WASI, their output checked against `<program>.expected` (the same
//! program built for the host and run by `benches/programs/build.sh`).

use std::path::Path;
use wasmjit::{Engine, Linker, Module, Store};
use wasmjit_wasi::{add_to_linker, MemoryOutputPipe, WasiCtx, WasiCtxBuilder};

struct Host {
    wasi: WasiCtx,
}

/// Runs `benches/programs/<name>.wasm` and returns what it printed to stdout.
fn run(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/programs");
    let engine = Engine::default();
    let module = Module::from_file(&engine, dir.join(format!("{name}.wasm"))).unwrap();
    let mut linker = Linker::<Host>::new(&engine);
    add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi).unwrap();
    let stdout = MemoryOutputPipe::new(1 << 20);
    let wasi = WasiCtxBuilder::new().stdout(stdout.clone()).build();
    let mut store = Store::new(&engine, Host { wasi });
    let instance = linker.instantiate(&mut store, &module).unwrap();
    instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap()
        .call(&mut store, ())
        .unwrap_or_else(|e| panic!("{name} failed: {e:?}"));
    String::from_utf8(stdout.contents()).unwrap()
}

fn expected(name: &str) -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("benches/programs/{name}.expected"));
    std::fs::read_to_string(path).unwrap()
}

macro_rules! programs {
    ($($name:ident)*) => {$(
        #[test]
        fn $name() {
            let name = stringify!($name);
            assert_eq!(run(name), expected(name));
        }
    )*};
}

programs!(deflate json regex markdown hashes rhai sqlite);
