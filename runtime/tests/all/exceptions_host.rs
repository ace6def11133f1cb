//! Exceptions as Wasmtime 48 shows them to a core-wasm embedder: tags are `Extern`s (in
//! imports, exports and `Linker::define`), `exnref` values reach the host as `ExnRef`s and
//! go back, an exception wasm leaves uncaught is a `ThrownException` error whose exception the
//! host takes from the store, and the host throws exceptions into wasm with `throw`.

use wasmjit::*;

fn engine() -> Engine {
    let mut config = Config::new();
    config.wasm_exceptions(true);
    Engine::new(&config).unwrap()
}

const MODULE: &str = r#"
(module
  (import "host" "t" (tag $t (param i64)))
  (tag $e (export "e") (param i32))
  (global $g (export "g") (mut exnref) (ref.null exn))
  (func (export "throw") (param i32) (throw $e (local.get 0)))
  ;; Catches an exception of $e with its reference and keeps it in $g.
  (func (export "keep") (param i32)
    (global.set $g
      (block $h (result exnref)
        (try_table (catch_all_ref $h) (throw $e (local.get 0)))
        unreachable)))
  (func (export "get") (result exnref) (global.get $g))
  ;; The payload of the exception in $g, thrown again and caught.
  (func (export "payload") (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (throw_ref (global.get $g)))
      unreachable))
  (func (export "throw_t") (param i64) (throw $t (local.get 0)))
)
"#;

fn instantiate(store: &mut Store<()>) -> Result<(Instance, Tag)> {
    let ty = TagType::new(FuncType::new(store.engine(), [ValType::I64], []));
    let t = Tag::new(&mut *store, &ty)?;
    let module = Module::new(store.engine(), MODULE)?;
    let instance = Instance::new(&mut *store, &module, &[Extern::Tag(t)])?;
    Ok((instance, t))
}

#[test]
fn tags_are_externs_in_imports_exports_and_linkers() -> Result<()> {
    let engine = engine();
    let module = Module::new(&engine, MODULE)?;
    let import = module.imports().next().unwrap();
    assert_eq!((import.module(), import.name()), ("host", "t"));
    let ExternType::Tag(ty) = import.ty() else {
        panic!("{:?}", import.ty())
    };
    assert_eq!(ty.ty().params().collect::<Vec<_>>(), [ValType::I64]);
    let e = module.get_export("e").unwrap();
    assert_eq!(
        e.unwrap_tag().ty().params().collect::<Vec<_>>(),
        [ValType::I32]
    );
    assert_eq!(module.exports().len(), 7);

    let mut store = Store::new(&engine, ());
    let (instance, t) = instantiate(&mut store)?;
    let exported = instance.get_export(&mut store, "e").unwrap();
    assert!(exported.ty(&store).tag().is_some());
    let tag = exported.into_tag().unwrap();
    assert_eq!(instance.get_tag(&mut store, "e"), Some(tag));
    let names: Vec<_> = instance
        .exports(&mut store)
        .filter_map(|e| Some((e.name().to_string(), e.into_tag()?)))
        .collect();
    assert_eq!(names, [("e".to_string(), tag)]);

    // Through a linker: `define` takes a tag, `instance` registers the exported one, and a
    // tag of another type is refused with Wasmtime's words.
    let mut linker = Linker::new(&engine);
    linker.define(&store, "host", "t", t)?;
    linker.instance(&mut store, "first", instance)?;
    assert_eq!(linker.get(&mut store, "first", "e")?.into_tag(), Some(tag));
    linker.instantiate(&mut store, &module)?;
    let mut wrong = Linker::new(&engine);
    wrong.define(&store, "host", "t", tag)?;
    let err = wrong.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "incompatible import type for `host::t`: incompatible tag types"
    );
    // A missing tag is an `UnknownImportError` with the tag's type.
    let err = Linker::<()>::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap_err();
    let unknown = err.downcast_ref::<UnknownImportError>().unwrap();
    assert!(unknown.ty().tag().is_some());
    Ok(())
}

#[test]
fn exnref_values_round_trip_through_the_host() -> Result<()> {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let (instance, _) = instantiate(&mut store)?;
    let g = instance.get_global(&mut store, "g").unwrap();
    assert!(matches!(g.get(&mut store), Val::ExnRef(None)));
    assert_eq!(g.get(&mut store).ty(&store)?, ValType::NULLEXNREF);

    instance
        .get_typed_func::<i32, ()>(&mut store, "keep")?
        .call(&mut store, 42)?;
    let Val::ExnRef(Some(exn)) = g.get(&mut store) else {
        panic!("the global holds an exception")
    };
    let tag = instance.get_tag(&mut store, "e").unwrap();
    assert_eq!(exn.tag(&mut store)?, tag);
    assert_eq!(exn.field(&mut store, 0)?.unwrap_i32(), 42);
    assert!(exn.field(&mut store, 1).is_err());
    assert_eq!(exn.fields(&mut store)?.len(), 1);
    assert!(exn.ty(&store)?.tag_type().ty() == tag.ty(&store).ty());
    assert_eq!(
        Val::ExnRef(Some(exn)).ty(&store)?,
        ValType::Ref(RefType::new(false, HeapType::Exn))
    );
    assert!(exn.matches_ty(&store, &HeapType::Exn)?);

    // The same exception through a typed result and a raw value.
    let get = instance.get_typed_func::<(), Option<ExnRef>>(&mut store, "get")?;
    assert_eq!(get.call(&mut store, ())?, Some(exn));
    let raw = ExnRef::to_raw(&exn, &mut store)?;
    assert_eq!(ExnRef::from_raw(&mut store, raw), Some(exn));
    assert_eq!(ExnRef::from_raw(&mut store, 0), None);

    // Back into wasm: the host puts it in the global, wasm throws it again.
    g.set(&mut store, Val::ExnRef(None))?;
    g.set(&mut store, Val::ExnRef(Some(exn)))?;
    let payload = instance.get_typed_func::<(), i32>(&mut store, "payload")?;
    assert_eq!(payload.call(&mut store, ())?, 42);
    // A funcref is no exnref.
    assert!(g.set(&mut store, Val::FuncRef(None)).is_err());
    Ok(())
}

#[test]
fn an_uncaught_exception_is_the_stores_pending_exception() -> Result<()> {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let (instance, t) = instantiate(&mut store)?;
    assert!(!store.has_pending_exception());
    let throw = instance.get_typed_func::<i32, ()>(&mut store, "throw")?;
    let err = throw.call(&mut store, 7).unwrap_err();
    assert!(err.is::<ThrownException>(), "{err:?}");
    assert_eq!(ThrownException.to_string(), "thrown Wasm exception");
    assert!(store.has_pending_exception());
    let exn = store.take_pending_exception().unwrap();
    assert!(!store.has_pending_exception());
    assert_eq!(store.take_pending_exception(), None);
    assert_eq!(exn.field(&mut store, 0)?.unwrap_i32(), 7);
    assert_eq!(
        exn.tag(&mut store)?,
        instance.get_tag(&mut store, "e").unwrap()
    );

    // An imported (host) tag is the exception's tag.
    let throw_t = instance.get_typed_func::<i64, ()>(&mut store, "throw_t")?;
    assert!(throw_t.call(&mut store, -5).is_err());
    let exn = store.take_pending_exception().unwrap();
    assert_eq!(exn.tag(&mut store)?, t);
    assert_eq!(exn.field(&mut store, 0)?.unwrap_i64(), -5);
    // An exception the host does not take is replaced by the next one.
    assert!(throw.call(&mut store, 1).is_err());
    assert!(throw.call(&mut store, 2).is_err());
    let exn = store.take_pending_exception().unwrap();
    assert_eq!(exn.field(&mut store, 0)?.unwrap_i32(), 2);
    Ok(())
}

#[test]
fn the_host_throws_into_wasm_and_wasm_catches() -> Result<()> {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let e_ty = TagType::new(FuncType::new(&engine, [ValType::I32], []));
    let e = Tag::new(&mut store, &e_ty)?;
    let exn_ty = ExnType::from_tag_type(&e_ty)?;
    assert_eq!(exn_ty.fields().len(), 1);
    let pre = ExnRefPre::new(&mut store, ExnType::new(&engine, [ValType::I32])?);
    // Field and tag mismatches are errors.
    assert!(ExnRef::new(&mut store, &pre, &e, &[Val::I64(1)]).is_err());
    assert!(ExnRef::new(&mut store, &pre, &e, &[]).is_err());
    let other = Tag::new(
        &mut store,
        &TagType::new(FuncType::new(&engine, [ValType::I64], [])),
    )?;
    assert!(ExnRef::new(&mut store, &pre, &other, &[Val::I32(1)]).is_err());

    // A host function that throws an exception it makes, and one that lets through the
    // exception of the wasm it calls.
    let mut linker = Linker::new(&engine);
    linker.define(&store, "host", "e", e)?;
    linker.func_wrap(
        "host",
        "throw",
        move |mut caller: Caller<'_, ()>, n: i32| {
            let pre = ExnRefPre::new(&mut caller, ExnType::from_tag_type(&e_ty)?);
            let exn = ExnRef::new(&mut caller, &pre, &e, &[Val::I32(n)])?;
            caller.as_context_mut().throw::<()>(exn)
        },
    )?;
    linker.func_wrap(
        "host",
        "call",
        |mut caller: Caller<'_, ()>, f: Option<Func>, n: i32| -> Result<()> {
            f.unwrap().typed::<i32, ()>(&caller)?.call(&mut caller, n)
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module
          (import "host" "e" (tag $e (param i32)))
          (import "host" "throw" (func $throw (param i32)))
          (import "host" "call" (func $call (param funcref i32)))
          (func $wasm_throw (param i32) (throw $e (local.get 0)))
          (elem declare func $wasm_throw)
          (func (export "catch_host") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $e $h) (call $throw (local.get 0)))
              (i32.const -1)))
          (func (export "catch_through_host") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $e $h)
                (call $call (ref.func $wasm_throw) (local.get 0)))
              (i32.const -1)))
          (func (export "uncaught") (param i32) (call $throw (local.get 0))))"#,
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    let catch_host = instance.get_typed_func::<i32, i32>(&mut store, "catch_host")?;
    assert_eq!(catch_host.call(&mut store, 11)?, 11);
    let through = instance.get_typed_func::<i32, i32>(&mut store, "catch_through_host")?;
    assert_eq!(through.call(&mut store, 12)?, 12);
    assert!(!store.has_pending_exception());
    // Not caught in wasm: back to the host as its error, the exception pending.
    let uncaught = instance.get_typed_func::<i32, ()>(&mut store, "uncaught")?;
    let err = uncaught.call(&mut store, 13).unwrap_err();
    assert!(err.is::<ThrownException>(), "{err:?}");
    let exn = store.take_pending_exception().unwrap();
    assert_eq!(exn.field(&mut store, 0)?.unwrap_i32(), 13);
    // Thrown by the host outside wasm: the error of a direct call, and the same exception.
    let host_throw = linker
        .get(&mut store, "host", "throw")?
        .into_func()
        .unwrap();
    assert!(host_throw
        .call(&mut store, &[Val::I32(14)], &mut [])
        .unwrap_err()
        .is::<ThrownException>());
    let exn = store.take_pending_exception().unwrap();
    assert_eq!(exn.field(&mut store, 0)?.unwrap_i32(), 14);
    assert!(store.throw::<()>(exn).unwrap_err().is::<ThrownException>());
    assert_eq!(store.take_pending_exception(), Some(exn));
    Ok(())
}
