use wasmjit::*;

#[test]
fn add_and_fib() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
            (func $fib (export "fib") (param i32) (result i32)
              local.get 0 i32.const 2 i32.lt_s
              if (result i32) local.get 0
              else local.get 0 i32.const 1 i32.sub call $fib
                   local.get 0 i32.const 2 i32.sub call $fib i32.add end))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
    assert_eq!(add.call(&mut store, (2, 3))?, 5);
    let fib = instance.get_func(&mut store, "fib").unwrap();
    let mut out = [Val::I32(0)];
    fib.call(&mut store, &[Val::I32(20)], &mut out)?;
    assert_eq!(out[0].unwrap_i32(), 6765);
    Ok(())
}
