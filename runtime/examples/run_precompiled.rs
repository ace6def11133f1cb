//! Compiles `precompiled.wat` to a precompiled module, or runs one: what a runtime built
//! without the compiler (`cargo run -p wasmjit --no-default-features --example
//! run_precompiled -- run FILE.cwasm`) can do. CI runs both halves (`.ci/run`).
//!
//! - `run_precompiled compile IN.wat OUT.cwasm` (needs the default `cranelift` feature);
//! - `run_precompiled run FILE.cwasm`: loads it with `Module::deserialize_file`, checks its
//!   exports' results and a trap, and, without a compiler, that `Module::new` fails.

use anyhow::{bail, ensure, Context, Result};
use wasmjit::{Caller, Engine, Linker, Module, Store, Trap};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let engine = Engine::default();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["compile", input, output] => {
            let wat = std::fs::read(input).with_context(|| format!("reading {input}"))?;
            std::fs::write(output, engine.precompile_module(&wat)?)?;
            println!("compiled {input} into {output}");
        }
        ["run", file] => run(&engine, file)?,
        _ => bail!("usage: run_precompiled compile IN.wat OUT.cwasm | run FILE.cwasm"),
    }
    Ok(())
}

fn run(engine: &Engine, file: &str) -> Result<()> {
    if !cfg!(feature = "cranelift") {
        let err = Module::new(engine, "(module)").expect_err("no compiler, no compilation");
        ensure!(
            err.to_string() == "Engine was not configured with a compiler",
            "unexpected error: {err}"
        );
    }
    // SAFETY: the file is a module this wasmjit precompiled, not changed while it runs.
    let module = unsafe { Module::deserialize_file(engine, file) }?;
    let mut store = Store::new(engine, 0u32);
    let mut linker = Linker::new(engine);
    linker.func_wrap(
        "host",
        "add",
        |mut caller: Caller<'_, u32>, a: i32, b: i32| -> i32 {
            *caller.data_mut() += 1;
            a + b
        },
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    // Odd i are tripled, even ones doubled: 3*(1+3+5+7+9) + 2*(2+4+6+8+10).
    ensure!(run.call(&mut store, 10)? == 135, "wrong sum");
    ensure!(
        *store.data() == 10,
        "the host function ran {} times",
        store.data()
    );
    let first = instance.get_typed_func::<(), i32>(&mut store, "first_byte")?;
    ensure!(
        first.call(&mut store, ())? == i32::from(b'p'),
        "data not initialized"
    );
    let boom = instance.get_typed_func::<(), ()>(&mut store, "boom")?;
    let err = boom.call(&mut store, ()).expect_err("traps");
    ensure!(
        err.downcast_ref::<Trap>() == Some(&Trap::UnreachableCodeReached),
        "unexpected error: {err:?}"
    );
    println!(
        "{file}: ran without a compiler: {}",
        if cfg!(feature = "cranelift") {
            "no (this build has one)"
        } else {
            "yes"
        }
    );
    Ok(())
}
