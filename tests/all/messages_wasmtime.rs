//! Error messages word for word as Wasmtime's (issue 17): traps with their backtraces,
//! `OutOfFuel`, `Interrupt`, stack overflow, host errors, unknown and incompatible imports,
//! invalid modules.
//!
//! [`define_cases!`] is expanded for wasmjit and, with the `compare` feature, for Wasmtime 48;
//! each case gives the error's `Display` and its alternate form (`{:#}`: the message and its
//! causes), which must be equal (`messages_match_wasmtime`). Without `compare`,
//! `messages_are_wasmtimes` pins the texts Wasmtime gives.

/// The cases, written once against `$rt`. Each returns `(case, "{e}", "{e:#}")`.
macro_rules! define_cases {
    ($rt:ident) => {
        use ::$rt as rt;

        fn call_error(
            config: &rt::Config,
            wat: impl AsRef<[u8]>,
            setup: impl Fn(&mut rt::Store<()>),
        ) -> rt::Error {
            let engine = rt::Engine::new(config).unwrap();
            let module = rt::Module::new(&engine, wat.as_ref()).unwrap();
            let mut store = rt::Store::new(&engine, ());
            setup(&mut store);
            let mut linker = rt::Linker::new(&engine);
            linker
                .func_wrap("host", "fail", || -> rt::Result<()> {
                    rt::bail!("the host says no")
                })
                .unwrap();
            let instance = linker.instantiate(&mut store, &module).unwrap();
            let run = instance
                .get_typed_func::<(), ()>(&mut store, "run")
                .unwrap();
            run.call(&mut store, ()).unwrap_err()
        }

        fn instantiate_error(
            wat: &str,
            define: impl Fn(&mut rt::Linker<()>, &mut rt::Store<()>),
        ) -> rt::Error {
            let engine = rt::Engine::default();
            let module = rt::Module::new(&engine, wat).unwrap();
            let mut store = rt::Store::new(&engine, ());
            let mut linker = rt::Linker::new(&engine);
            define(&mut linker, &mut store);
            linker.instantiate(&mut store, &module).unwrap_err()
        }

        pub fn cases() -> Vec<(&'static str, String, String)> {
            let mut out = Vec::new();
            let push = |out: &mut Vec<_>, name: &'static str, e: rt::Error| {
                out.push((name, format!("{e}"), format!("{e:#}")));
            };
            let plain = rt::Config::new();
            push(
                &mut out,
                "divide by zero, named functions",
                call_error(
                    &plain,
                    r#"(module $m
                      (func $div (param i32) (result i32) i32.const 1 local.get 0 i32.div_u)
                      (func $run (export "run") i32.const 0 call $div drop))"#,
                    |_| {},
                ),
            );
            push(
                &mut out,
                "unreachable, no names",
                call_error(
                    &plain,
                    wasm_encoder_free_names(
                        &wat::parse_str(r#"(module (func) (func (export "run") nop unreachable))"#)
                            .unwrap(),
                    ),
                    |_| {},
                ),
            );
            push(
                &mut out,
                "host error",
                call_error(
                    &plain,
                    r#"(module (import "host" "fail" (func $fail))
                      (func $run (export "run") call $fail))"#,
                    |_| {},
                ),
            );
            let mut fuel = rt::Config::new();
            fuel.consume_fuel(true);
            push(
                &mut out,
                "out of fuel",
                call_error(
                    &fuel,
                    r#"(module (func $run (export "run") (loop $l br $l)))"#,
                    |s| s.set_fuel(1000).unwrap(),
                ),
            );
            let mut epochs = rt::Config::new();
            epochs.epoch_interruption(true);
            let interrupt = call_error(
                &epochs,
                r#"(module (func $run (export "run") (loop $l br $l)))"#,
                |s| s.set_epoch_deadline(0),
            );
            // The cause only: wasmjit checks a deadline already passed at the host's entry,
            // before any wasm frame exists, where Wasmtime's backtrace shows the function.
            out.push((
                "interrupt",
                interrupt.chain().last().unwrap().to_string(),
                String::new(),
            ));
            let mut small_stack = rt::Config::new();
            small_stack.max_wasm_stack(64 * 1024);
            let overflow = call_error(
                &small_stack,
                r#"(module (func $run (export "run") call $run))"#,
                |_| {},
            );
            // The frames are many (their number depends on frame sizes): the cause only.
            out.push((
                "stack overflow",
                overflow.chain().last().unwrap().to_string(),
                String::new(),
            ));
            push(
                &mut out,
                "unknown import",
                instantiate_error(r#"(module (import "env" "f" (func)))"#, |_, _| {}),
            );
            push(
                &mut out,
                "import of another kind",
                instantiate_error(r#"(module (import "env" "f" (func)))"#, |l, s| {
                    let m = rt::Memory::new(&mut *s, rt::MemoryType::new(1, None)).unwrap();
                    l.define(&mut *s, "env", "f", m).unwrap();
                }),
            );
            push(
                &mut out,
                "memory too small",
                instantiate_error(r#"(module (import "env" "m" (memory 2)))"#, |l, s| {
                    let m = rt::Memory::new(&mut *s, rt::MemoryType::new(1, None)).unwrap();
                    l.define(&mut *s, "env", "m", m).unwrap();
                }),
            );
            push(
                &mut out,
                "global of another type",
                instantiate_error(r#"(module (import "env" "g" (global i32)))"#, |l, s| {
                    let g = rt::Global::new(
                        &mut *s,
                        rt::GlobalType::new(rt::ValType::I64, rt::Mutability::Const),
                        rt::Val::I64(1),
                    )
                    .unwrap();
                    l.define(&mut *s, "env", "g", g).unwrap();
                }),
            );
            push(
                &mut out,
                "global of another mutability",
                instantiate_error(
                    r#"(module (import "env" "g" (global (mut i32))))"#,
                    |l, s| {
                        let g = rt::Global::new(
                            &mut *s,
                            rt::GlobalType::new(rt::ValType::I32, rt::Mutability::Const),
                            rt::Val::I32(1),
                        )
                        .unwrap();
                        l.define(&mut *s, "env", "g", g).unwrap();
                    },
                ),
            );
            let engine = rt::Engine::default();
            push(
                &mut out,
                "invalid module",
                rt::Module::new(&engine, b"\0asm\x01\0\0\0\x01\x04\x01\x60\0").unwrap_err(),
            );
            out
        }
    };
}

/// `wasm` without its custom sections (the name section among them).
fn wasm_encoder_free_names(wasm: &[u8]) -> Vec<u8> {
    let mut out = wasm[..8].to_vec();
    let mut rest = &wasm[8..];
    while let Some((&id, tail)) = rest.split_first() {
        let (len, used) = leb(tail);
        let end = used + len as usize;
        if id != 0 {
            out.push(id);
            out.extend_from_slice(&tail[..end]);
        }
        rest = &tail[end..];
    }
    out
}

fn leb(bytes: &[u8]) -> (u64, usize) {
    let (mut v, mut shift) = (0u64, 0);
    for (i, &b) in bytes.iter().enumerate() {
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return (v, i + 1);
        }
        shift += 7;
    }
    (v, bytes.len())
}

mod on_wasmjit {
    use super::wasm_encoder_free_names;
    define_cases!(wasmjit);
}

#[cfg(feature = "compare")]
mod on_wasmtime {
    use super::wasm_encoder_free_names;
    define_cases!(wasmtime);
}

#[cfg(feature = "compare")]
#[test]
fn messages_match_wasmtime() {
    let ours = on_wasmjit::cases();
    let theirs = on_wasmtime::cases();
    let mut diffs = Vec::new();
    for (a, b) in ours.iter().zip(&theirs) {
        if a != b {
            diffs.push(format!(
                "{}:\n  wasmjit  {:?} / {:?}\n  wasmtime {:?} / {:?}",
                a.0, a.1, a.2, b.1, b.2
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// Wasmtime's texts, as `messages_match_wasmtime` found them, pinned for CI.
#[test]
fn messages_are_wasmtimes() {
    let expected: &[(&str, &str, &str)] = &[
        ("divide by zero, named functions", "error while executing at wasm backtrace:\n    0:     0x2a - m!div\n    1:     0x30 - m!run", "error while executing at wasm backtrace:\n    0:     0x2a - m!div\n    1:     0x30 - m!run: wasm trap: integer divide by zero"),
        ("unreachable, no names", "error while executing at wasm backtrace:\n    0:     0x25 - <unknown>!<wasm function 1>", "error while executing at wasm backtrace:\n    0:     0x25 - <unknown>!<wasm function 1>: wasm trap: wasm `unreachable` instruction executed"),
        ("host error", "error while executing at wasm backtrace:\n    0:     0x2f - <unknown>!run", "error while executing at wasm backtrace:\n    0:     0x2f - <unknown>!run: the host says no"),
        ("out of fuel", "error while executing at wasm backtrace:\n    0:     0x20 - <unknown>!run", "error while executing at wasm backtrace:\n    0:     0x20 - <unknown>!run: wasm trap: all fuel consumed by WebAssembly"),
        ("interrupt", "wasm trap: interrupt", ""),
        ("stack overflow", "wasm trap: call stack exhausted", ""),
        ("unknown import", "unknown import: `env::f` has not been defined", "unknown import: `env::f` has not been defined"),
        ("import of another kind", "incompatible import type for `env::f`", "incompatible import type for `env::f`: expected func, but found memory"),
        ("memory too small", "incompatible import type for `env::m`", "incompatible import type for `env::m`: memory types incompatible: expected memory limits (min: 2, max: none) doesn't match provided memory limits (min: 1, max: none)"),
        ("global of another type", "incompatible import type for `env::g`", "incompatible import type for `env::g`: global types incompatible: expected global of type `i32`, found global of type `i64`"),
        ("global of another mutability", "incompatible import type for `env::g`", "incompatible import type for `env::g`: global types incompatible: expected mutable global, found immutable global"),
        ("invalid module", "failed to parse WebAssembly module", "failed to parse WebAssembly module: unexpected end-of-file (at offset 0xa)"),
    ];
    let cases = on_wasmjit::cases();
    assert_eq!(cases.len(), expected.len());
    for ((name, display, alternate), want) in cases.iter().zip(expected) {
        assert_eq!((*name, display.as_str(), alternate.as_str()), *want);
    }
    assert_eq!(
        wasmjit_wasi::I32Exit(3).to_string(),
        "Exited with i32 exit status 3"
    );
}
