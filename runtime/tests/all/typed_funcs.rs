//! Typed and untyped calls: `typed::<P, R>()` checks the signature and errors on a mismatch,
//! `TypedFunc::call` returns single and multiple results, funcrefs and externrefs cross the
//! boundary in both directions (typed `Option<Func>`/`Option<ExternRef>` and untyped `Val`s,
//! with externref host data recovered by downcasting), and `Func::call` rejects wrong argument
//! counts, types, result slots and stores with an error instead of misbehaving.

use wasmjit::*;

const WAT: &str = r#"
(module
  (type $i_i (func (param i32) (result i32)))
  (table $t 4 funcref)
  (table $ext 4 externref)
  (global $held (mut externref) (ref.null extern))
  (elem declare func $triple)
  (func $triple (type $i_i) local.get 0 i32.const 3 i32.mul)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "nop"))
  (func (export "many") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    local.get 3 local.get 2 local.get 1 local.get 0)
  (func (export "swap64") (param i64 i64) (result i64 i64) local.get 1 local.get 0)
  (func (export "id_func") (param funcref) (result funcref) local.get 0)
  (func (export "id_extern") (param externref) (result externref) local.get 0)
  (func (export "get_triple") (result funcref) ref.func $triple)
  (func (export "is_null_func") (param funcref) (result i32) local.get 0 ref.is_null)
  (func (export "is_null_extern") (param externref) (result i32) local.get 0 ref.is_null)
  ;; Stores the funcref in the table and calls it through call_indirect.
  (func (export "call_via_table") (param funcref i32) (result i32)
    i32.const 0 local.get 0 table.set $t
    local.get 1 i32.const 0 call_indirect $t (type $i_i))
  (func (export "hold") (param externref) local.get 0 global.set $held)
  (func (export "held") (result externref) global.get $held)
  (func (export "put_ext") (param i32 externref) local.get 0 local.get 1 table.set $ext)
  (func (export "get_ext") (param i32) (result externref) local.get 0 table.get $ext)
)
"#;

fn setup() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn func(store: &mut Store<()>, instance: Instance, name: &str) -> Func {
    instance.get_func(store, name).unwrap()
}

#[test]
fn typed_with_wrong_param_or_result_types_is_an_error() {
    let (mut store, instance) = setup();
    let add = func(&mut store, instance, "add");
    assert!(add.typed::<(i32, i32), i32>(&store).is_ok());
    assert!(add.typed::<(i64, i32), i32>(&store).is_err());
    assert!(add.typed::<(i32, i32), i64>(&store).is_err());
    assert!(add.typed::<(i32, i32), f32>(&store).is_err());
    assert!(
        add.typed::<(u32, u32), u32>(&store).is_ok(),
        "u32 is an i32"
    );
    assert!(add.typed::<i32, i32>(&store).is_err(), "too few params");
    assert!(
        add.typed::<(i32, i32, i32), i32>(&store).is_err(),
        "too many params"
    );
    assert!(
        add.typed::<(i32, i32), ()>(&store).is_err(),
        "too few results"
    );
    assert!(
        add.typed::<(i32, i32), (i32, i32)>(&store).is_err(),
        "too many results"
    );
    assert!(add.typed::<(f32, f32), i32>(&store).is_err());
    let id_func = func(&mut store, instance, "id_func");
    assert!(id_func
        .typed::<Option<ExternRef>, Option<Func>>(&store)
        .is_err());
    assert!(id_func.typed::<i32, Option<Func>>(&store).is_err());
    assert!(id_func.typed::<Option<Func>, Option<Func>>(&store).is_ok());

    let err = instance
        .get_typed_func::<i64, i64>(&mut store, "add")
        .err()
        .expect("mismatch");
    assert!(format!("{err:#}").contains("add"), "{err:#}");
    assert!(instance
        .get_typed_func::<(), ()>(&mut store, "no_such_export")
        .is_err());
}

#[test]
fn typed_call_returns_single_and_multiple_results() {
    let (mut store, instance) = setup();
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "add")
        .unwrap();
    assert_eq!(add.call(&mut store, (40, 2)).unwrap(), 42);
    assert_eq!(add.call(&mut store, (i32::MAX, 1)).unwrap(), i32::MIN);
    let nop = instance
        .get_typed_func::<(), ()>(&mut store, "nop")
        .unwrap();
    nop.call(&mut store, ()).unwrap();
    let many = instance
        .get_typed_func::<(i32, i64, f32, f64), (f64, f32, i64, i32)>(&mut store, "many")
        .unwrap();
    assert_eq!(
        many.call(&mut store, (-1, i64::MIN, 2.5, -1e300)).unwrap(),
        (-1e300, 2.5, i64::MIN, -1)
    );
    let swap = instance
        .get_typed_func::<(u64, u64), (u64, u64)>(&mut store, "swap64")
        .unwrap();
    assert_eq!(swap.call(&mut store, (u64::MAX, 1)).unwrap(), (1, u64::MAX));
    // The untyped function behind a typed one is the same export.
    assert_eq!(*add.func(), func(&mut store, instance, "add"));
}

#[test]
fn funcref_round_trips_through_typed_calls() {
    let (mut store, instance) = setup();
    let id = instance
        .get_typed_func::<Option<Func>, Option<Func>>(&mut store, "id_func")
        .unwrap();
    let is_null = instance
        .get_typed_func::<Option<Func>, i32>(&mut store, "is_null_func")
        .unwrap();
    assert_eq!(id.call(&mut store, None).unwrap(), None);
    assert_eq!(is_null.call(&mut store, None).unwrap(), 1);

    // A host function goes in and comes back as the same Func, still callable.
    let host = Func::wrap(&mut store, |x: i32| x + 100);
    let back = id.call(&mut store, Some(host)).unwrap().expect("non-null");
    assert_eq!(back, host);
    assert_eq!(is_null.call(&mut store, Some(host)).unwrap(), 0);
    let back = back.typed::<i32, i32>(&store).unwrap();
    assert_eq!(back.call(&mut store, 1).unwrap(), 101);

    // A wasm export goes in and comes back as the same Func.
    let add = func(&mut store, instance, "add");
    assert_eq!(id.call(&mut store, Some(add)).unwrap(), Some(add));

    // A funcref made by wasm (`ref.func`) comes out callable, and is stable across calls.
    let get_triple = instance
        .get_typed_func::<(), Option<Func>>(&mut store, "get_triple")
        .unwrap();
    let triple = get_triple.call(&mut store, ()).unwrap().unwrap();
    assert_eq!(get_triple.call(&mut store, ()).unwrap(), Some(triple));
    assert_eq!(
        triple.ty(&store),
        FuncType::from_types([ValType::I32], [ValType::I32])
    );
    let triple = triple.typed::<i32, i32>(&store).unwrap();
    assert_eq!(triple.call(&mut store, 14).unwrap(), 42);

    // Funcrefs passed in can be called from wasm through a table.
    let via_table = instance
        .get_typed_func::<(Option<Func>, i32), i32>(&mut store, "call_via_table")
        .unwrap();
    assert_eq!(via_table.call(&mut store, (Some(host), 5)).unwrap(), 105);
    assert_eq!(
        via_table
            .call(&mut store, (Some(*triple.func()), 5))
            .unwrap(),
        15
    );
    let err = via_table.call(&mut store, (Some(add), 5)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::BadSignature));
    let err = via_table.call(&mut store, (None, 5)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::IndirectCallToNull));
}

#[test]
fn funcref_round_trips_through_untyped_calls() {
    let (mut store, instance) = setup();
    let id = func(&mut store, instance, "id_func");
    let host = Func::wrap(&mut store, |x: i32| x - 1);
    let mut out = [Val::I32(0)];
    id.call(&mut store, &[Val::FuncRef(Some(host))], &mut out)
        .unwrap();
    let back = *out[0].funcref().expect("a funcref").expect("non-null");
    assert_eq!(back, host);
    id.call(&mut store, &[Val::null_func_ref()], &mut out)
        .unwrap();
    assert_eq!(out[0].funcref(), Some(None));
    let get_triple = func(&mut store, instance, "get_triple");
    get_triple.call(&mut store, &[], &mut out).unwrap();
    let triple = *out[0].funcref().unwrap().unwrap();
    let mut r = [Val::I32(0)];
    triple.call(&mut store, &[Val::I32(7)], &mut r).unwrap();
    assert_eq!(r[0].unwrap_i32(), 21);
}

#[derive(Debug, PartialEq)]
struct Payload {
    name: String,
    numbers: Vec<u32>,
}

#[test]
fn externref_round_trips_host_data_through_typed_calls() {
    let (mut store, instance) = setup();
    let id = instance
        .get_typed_func::<Option<ExternRef>, Option<ExternRef>>(&mut store, "id_extern")
        .unwrap();
    let is_null = instance
        .get_typed_func::<Option<ExternRef>, i32>(&mut store, "is_null_extern")
        .unwrap();
    assert_eq!(id.call(&mut store, None).unwrap(), None);
    assert_eq!(is_null.call(&mut store, None).unwrap(), 1);

    let text = ExternRef::new(&mut store, String::from("hello externref")).unwrap();
    let payload = ExternRef::new(
        &mut store,
        Payload {
            name: "p".into(),
            numbers: vec![1, 2, 3],
        },
    )
    .unwrap();
    assert_eq!(is_null.call(&mut store, Some(text)).unwrap(), 0);
    let back = id.call(&mut store, Some(text)).unwrap().unwrap();
    assert_eq!(back, text);
    let data = back.data(&store).unwrap().unwrap();
    assert_eq!(
        data.downcast_ref::<String>().map(String::as_str),
        Some("hello externref")
    );
    assert!(
        data.downcast_ref::<Payload>().is_none(),
        "wrong type must not downcast"
    );

    let back = id.call(&mut store, Some(payload)).unwrap().unwrap();
    assert_eq!(
        back.data(&store)
            .unwrap()
            .unwrap()
            .downcast_ref::<Payload>(),
        Some(&Payload {
            name: "p".into(),
            numbers: vec![1, 2, 3]
        })
    );

    // Wasm can hold externrefs in globals and tables and hand them back later.
    let hold = instance
        .get_typed_func::<Option<ExternRef>, ()>(&mut store, "hold")
        .unwrap();
    let held = instance
        .get_typed_func::<(), Option<ExternRef>>(&mut store, "held")
        .unwrap();
    hold.call(&mut store, Some(payload)).unwrap();
    let put = instance
        .get_typed_func::<(i32, Option<ExternRef>), ()>(&mut store, "put_ext")
        .unwrap();
    let get = instance
        .get_typed_func::<i32, Option<ExternRef>>(&mut store, "get_ext")
        .unwrap();
    put.call(&mut store, (2, Some(text))).unwrap();
    assert_eq!(held.call(&mut store, ()).unwrap(), Some(payload));
    assert_eq!(get.call(&mut store, 2).unwrap(), Some(text));
    assert_eq!(get.call(&mut store, 1).unwrap(), None);
}

#[test]
fn externref_round_trips_through_untyped_calls_and_host_functions() {
    let (mut store, instance) = setup();
    let id = func(&mut store, instance, "id_extern");
    let r = ExternRef::new(&mut store, 1234u64).unwrap();
    let mut out = [Val::null_extern_ref()];
    id.call(&mut store, &[Val::from(r)], &mut out).unwrap();
    let back = *out[0].externref().unwrap().unwrap();
    assert_eq!(
        back.data(&store).unwrap().unwrap().downcast_ref::<u64>(),
        Some(&1234)
    );
    id.call(&mut store, &[Val::ExternRef(None)], &mut out)
        .unwrap();
    assert_eq!(out[0].externref(), Some(None));

    // A host function receives the externref as a typed parameter and reads its data.
    let read = Func::wrap(
        &mut store,
        |caller: Caller<'_, ()>, r: Option<ExternRef>| -> Result<u64> {
            Ok(match r {
                None => 0,
                Some(r) => *r.data(&caller)?.unwrap().downcast_ref::<u64>().unwrap(),
            })
        },
    );
    let read = read.typed::<Option<ExternRef>, u64>(&store).unwrap();
    assert_eq!(read.call(&mut store, Some(r)).unwrap(), 1234);
    assert_eq!(read.call(&mut store, None).unwrap(), 0);
}

#[test]
fn func_call_with_wrong_arity_or_types_is_an_error() {
    let (mut store, instance) = setup();
    let add = func(&mut store, instance, "add");
    let mut out = [Val::I32(0)];
    assert!(add.call(&mut store, &[Val::I32(1)], &mut out).is_err());
    assert!(add
        .call(
            &mut store,
            &[Val::I32(1), Val::I32(2), Val::I32(3)],
            &mut out
        )
        .is_err());
    assert!(add
        .call(&mut store, &[Val::I32(1), Val::I64(2)], &mut out)
        .is_err());
    assert!(add
        .call(&mut store, &[Val::F32(0), Val::I32(2)], &mut out)
        .is_err());
    assert!(add
        .call(&mut store, &[Val::null_func_ref(), Val::I32(2)], &mut out)
        .is_err());
    assert!(add
        .call(&mut store, &[Val::I32(1), Val::I32(2)], &mut [])
        .is_err());
    assert!(add
        .call(
            &mut store,
            &[Val::I32(1), Val::I32(2)],
            &mut [Val::I32(0), Val::I32(0)]
        )
        .is_err());
    // Reference types are checked too: an externref where a funcref is expected.
    let id_func = func(&mut store, instance, "id_func");
    let ext = ExternRef::new(&mut store, ()).unwrap();
    assert!(id_func
        .call(&mut store, &[Val::from(ext)], &mut [Val::null_func_ref()])
        .is_err());
    // None of the failures disturbed the store; the right call works and writes the result.
    add.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut out)
        .unwrap();
    assert_eq!(out[0].unwrap_i32(), 3);
}

#[test]
fn result_slots_are_overwritten_with_the_right_types() {
    let (mut store, instance) = setup();
    let many = func(&mut store, instance, "many");
    // Result slots start with values of other types; the call replaces them.
    let mut out = [Val::I32(0), Val::I32(0), Val::I32(0), Val::I64(0)];
    many.call(
        &mut store,
        &[
            Val::I32(1),
            Val::I64(2),
            Val::from(3.0f32),
            Val::from(4.0f64),
        ],
        &mut out,
    )
    .unwrap();
    assert_eq!(out[0].f64(), Some(4.0));
    assert_eq!(out[1].f32(), Some(3.0));
    assert_eq!(out[2].i64(), Some(2));
    assert_eq!(out[3].i32(), Some(1));
}

#[test]
fn objects_of_another_store_are_rejected() {
    let (mut store, instance) = setup();
    let (mut other, other_instance) = setup();
    let add = func(&mut store, instance, "add");
    assert!(add
        .call(&mut other, &[Val::I32(1), Val::I32(2)], &mut [Val::I32(0)])
        .is_err());
    let typed = add.typed::<(i32, i32), i32>(&store).unwrap();
    assert!(typed.call(&mut other, (1, 2)).is_err());
    // A funcref or externref of store A passed as an argument in store B.
    let id_func = func(&mut other, other_instance, "id_func");
    assert!(id_func
        .call(&mut other, &[Val::from(add)], &mut [Val::null_func_ref()])
        .is_err());
    let id_extern = other_instance
        .get_typed_func::<Option<ExternRef>, Option<ExternRef>>(&mut other, "id_extern")
        .unwrap();
    let ext = ExternRef::new(&mut store, 5i32).unwrap();
    assert!(id_extern.call(&mut other, Some(ext)).is_err());
    assert!(ext.data(&other).is_err());
    // Both stores still work.
    assert_eq!(typed.call(&mut store, (1, 2)).unwrap(), 3);
    let other_add = other_instance
        .get_typed_func::<(i32, i32), i32>(&mut other, "add")
        .unwrap();
    assert_eq!(other_add.call(&mut other, (2, 2)).unwrap(), 4);
}

#[test]
fn imported_functions_keep_their_identity_through_tables_exports_and_ref_func() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let host = Func::wrap(&mut store, |x: i32| x + 1000);
    let module = Module::new(
        &engine,
        r#"(module
            (import "" "f" (func $f (param i32) (result i32)))
            (table (export "t") 2 funcref)
            (elem (i32.const 0) $f $g)
            (func $g (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
            (func (export "ref_f") (result funcref) ref.func $f)
            (export "f_again" (func $f))
            (func (export "elem") (param i32) (result funcref) local.get 0 table.get 0))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[host.into()]).unwrap();
    let table = instance.get_table(&mut store, "t").unwrap();
    let from_table = *table
        .get(&mut store, 0)
        .unwrap()
        .as_func()
        .unwrap()
        .unwrap();
    assert_eq!(from_table, host);
    let ref_f = instance
        .get_typed_func::<(), Option<Func>>(&mut store, "ref_f")
        .unwrap();
    assert_eq!(ref_f.call(&mut store, ()).unwrap(), Some(host));
    assert_eq!(instance.get_func(&mut store, "f_again"), Some(host));
    let call = |store: &mut Store<()>, f: Func, x: i32| {
        f.typed::<i32, i32>(&*store)
            .unwrap()
            .call(store, x)
            .unwrap()
    };
    assert_eq!(call(&mut store, from_table, 1), 1001);

    // A wasm function taken out of one instance, imported into a second, and handed back
    // from there, is still the same function.
    let elem = instance
        .get_typed_func::<i32, Option<Func>>(&mut store, "elem")
        .unwrap();
    let g = elem.call(&mut store, 1).unwrap().unwrap();
    assert_eq!(call(&mut store, g, 21), 42);
    let second = Module::new(
        &engine,
        r#"(module
            (import "" "g" (func $g (param i32) (result i32)))
            (elem declare func $g)
            (func (export "ref_g") (result funcref) ref.func $g))"#,
    )
    .unwrap();
    let second = Instance::new(&mut store, &second, &[g.into()]).unwrap();
    let ref_g = second
        .get_typed_func::<(), Option<Func>>(&mut store, "ref_g")
        .unwrap();
    let g_again = ref_g.call(&mut store, ()).unwrap().unwrap();
    assert_eq!(g_again, g);
    assert_eq!(call(&mut store, g_again, 5), 10);
}

#[test]
fn sixteen_and_more_results() {
    let engine = Engine::default();
    let consts: String = (1..=20).map(|i| format!("i32.const {i} ")).collect();
    let wat = format!(
        r#"(module
            (func (export "r16") (result {r16}) {c16})
            (func (export "r20") (result {r20}) {consts}))"#,
        r16 = "i32 ".repeat(16),
        r20 = "i32 ".repeat(20),
        c16 = (1..=16)
            .map(|i| format!("i32.const {i} "))
            .collect::<String>(),
    );
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    type R16 = (
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
    );
    let r16 = instance
        .get_typed_func::<(), R16>(&mut store, "r16")
        .unwrap();
    let r = r16.call(&mut store, ()).unwrap();
    assert_eq!((r.0, r.7, r.15), (1, 8, 16));
    let r20 = instance.get_func(&mut store, "r20").unwrap();
    let mut out = vec![Val::I32(0); 20];
    r20.call(&mut store, &[], &mut out).unwrap();
    let got: Vec<i32> = out.iter().map(Val::unwrap_i32).collect();
    assert_eq!(got, (1..=20).collect::<Vec<_>>());
}
