//! The `wasmjit` command: `run --timeout` and `run --fuel` on a guest that never stops.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const SPIN: &str = r#"(module
  (func (export "spin")
    loop $l br $l end)
  (func (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add))"#;

/// Writes `SPIN` to a file of its own for this test.
fn spin_file(test: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{test}.wat"));
    std::fs::write(&path, SPIN).unwrap();
    path
}

fn wasmjit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmjit"))
        .args(args)
        .output()
        .expect("the wasmjit binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn timeout_interrupts_an_infinite_loop() {
    let file = spin_file("timeout");
    let start = Instant::now();
    let output = wasmjit(&[
        "run",
        file.to_str().unwrap(),
        "--invoke",
        "spin",
        "--timeout",
        "200ms",
    ]);
    let elapsed = start.elapsed();
    let err = stderr(&output);
    assert!(!output.status.success(), "{err}");
    assert!(err.contains("interrupt"), "{err}");
    assert!(err.contains("timeout of 200ms"), "{err}");
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn fuel_stops_an_infinite_loop() {
    let file = spin_file("fuel");
    let output = wasmjit(&[
        "run",
        file.to_str().unwrap(),
        "--invoke",
        "spin",
        "--fuel",
        "1000",
    ]);
    let err = stderr(&output);
    assert!(!output.status.success(), "{err}");
    assert!(err.contains("all fuel consumed"), "{err}");
    assert!(err.contains("fuel consumed: 1000"), "{err}");
}

#[test]
fn fuel_consumed_is_reported_after_a_normal_return() {
    let file = spin_file("fuel-return");
    let output = wasmjit(&[
        "run",
        file.to_str().unwrap(),
        "--fuel=100",
        "--timeout=5s",
        "--invoke",
        "add",
        "2",
        "3",
    ]);
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "5");
    // The entry, local.get, local.get, i32.add.
    assert!(err.contains("fuel consumed: 4"), "{err}");
}

#[test]
fn exceptions_need_dash_w_exceptions() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-exceptions.wat");
    std::fs::write(
        &path,
        r#"(module (tag $e (param i32))
  (func $thrower (param i32) (throw $e (local.get 0)))
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (call $thrower (local.get 0)))
      (i32.const -1))))"#,
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let refused = wasmjit(&["run", file, "--invoke", "catch", "7"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("-W exceptions=y"),
        "{}",
        stderr(&refused)
    );

    let caught = wasmjit(&["run", "-W", "exceptions=y", file, "--invoke", "catch", "7"]);
    assert!(caught.status.success(), "{}", stderr(&caught));
    assert_eq!(String::from_utf8_lossy(&caught.stdout).trim(), "7");

    let unknown = wasmjit(&["run", "-W", "gc=y", file]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("-W exceptions"),
        "{}",
        stderr(&unknown)
    );
}

/// `;;!` configuration comments at the top of a script are honoured, as Wasmtime's test runner
/// reads them (`tests/wast/config_comments.wast` needs them to pass); an unknown key fails
/// the script with a message naming it and its line.
#[test]
fn wast_honours_configuration_comments() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wast");
    let ok = wasmjit(&["wast", dir.join("config_comments.wast").to_str().unwrap()]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let bad = wasmjit(&[
        "wast",
        dir.join("config_unknown_key.wast").to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
    let out = format!("{}{}", String::from_utf8_lossy(&bad.stdout), stderr(&bad));
    assert!(
        out.contains("unknown key `no_such_setting`") && out.contains("line 2"),
        "{out}"
    );
}

#[test]
fn compile_writes_a_precompiled_module_that_run_loads_with_allow_precompiled() {
    let wat = spin_file("precompiled");
    let cwasm = wat.with_extension("cwasm");
    let _ = std::fs::remove_file(&cwasm);
    let output = wasmjit(&["compile", wat.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let bytes = std::fs::read(&cwasm).expect("compile wrote FILE.cwasm");
    assert!(bytes.starts_with(b"\0wasmjit"));

    let run = |extra: &[&str]| {
        let mut args = vec!["run", cwasm.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--invoke", "add", "2", "40"]);
        wasmjit(&args)
    };
    let refused = run(&[]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("requires the `--allow-precompiled` flag"),
        "{}",
        stderr(&refused)
    );
    let ran = run(&["--allow-precompiled"]);
    assert!(ran.status.success(), "{}", stderr(&ran));
    assert_eq!(String::from_utf8_lossy(&ran.stdout).trim(), "42");
    // Settings that change code must be those it was compiled with.
    let fuel = run(&["--allow-precompiled", "--fuel", "1000"]);
    assert!(!fuel.status.success());
    assert!(stderr(&fuel).contains("fuel support"), "{}", stderr(&fuel));

    // `-o` and `-W`: compiled with fuel, it runs with `--fuel`.
    let with_fuel = wat.with_file_name("cli-precompiled-fuel.cwasm");
    let output = wasmjit(&[
        "compile",
        "-W",
        "fuel=1",
        wat.to_str().unwrap(),
        "-o",
        with_fuel.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let spin = wasmjit(&[
        "run",
        "--allow-precompiled",
        "--fuel",
        "10000",
        with_fuel.to_str().unwrap(),
        "--invoke",
        "spin",
    ]);
    assert!(!spin.status.success());
    assert!(stderr(&spin).contains("fuel"), "{}", stderr(&spin));
    std::fs::remove_file(&cwasm).unwrap();
    std::fs::remove_file(&with_fuel).unwrap();
}
