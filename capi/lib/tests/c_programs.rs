//! Compiles the C and C++ programs of `tests/capi/` and the examples of `examples/c/` against
//! the headers in `capi/include/` and the library built next to this test, runs them, and
//! checks that they succeed and print what `tests/capi/<name>.stdout` says.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo_root() -> PathBuf {
    // This package is capi/lib/.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

fn include_dir() -> PathBuf {
    repo_root().join("capi/include")
}

/// The directory holding `libwasmjit.so` / `libwasmjit.a`: the profile directory of this
/// test's build, where they are built first. `cargo test` does not build a library of C crate
/// types for its package's tests (it cannot link them), so this runs `cargo build` with the
/// test's own profile, target and target directory: the programs always link the library of
/// the code under test, never one a previous build left there. It selects what `cargo test
/// --workspace` builds (libraries, binaries, tests of every package), so that cargo resolves
/// the same features and finds everything but the C library already built.
fn lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        // `<target dir>/[<triple>/]<profile>/deps/<test binary>`.
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
        let profile = profile_dir
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let above = profile_dir.parent().unwrap();
        // Cargo marks its target directory with CACHEDIR.TAG; otherwise `above` is a triple.
        let (target_dir, triple) = if above.join("CACHEDIR.TAG").exists() {
            (above.to_path_buf(), None)
        } else {
            let triple = above.file_name().unwrap().to_str().unwrap().to_string();
            (above.parent().unwrap().to_path_buf(), Some(triple))
        };
        let mut build = Command::new(env!("CARGO"));
        build
            .current_dir(repo_root())
            .args([
                "build",
                "--workspace",
                "--lib",
                "--bins",
                "--tests",
                "--profile",
            ])
            .arg(if profile == "debug" { "dev" } else { &profile })
            .arg("--target-dir")
            .arg(&target_dir);
        if let Some(triple) = triple {
            build.args(["--target", &triple]);
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building libwasmjit failed: {status}");
        for lib in ["libwasmjit.so", "libwasmjit.a"] {
            assert!(
                profile_dir.join(lib).exists(),
                "{lib} not found in {}",
                profile_dir.display()
            );
        }
        profile_dir
    })
}

fn out_dir() -> PathBuf {
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("capi-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A command running a built C program. Cargo's `LD_LIBRARY_PATH` also lists the profile
/// directory, whose `libwasmjit.so` is whatever `cargo build` last put there and would win over
/// the program's rpath: the directory of the library under test goes first.
fn program(exe: &Path) -> Command {
    let mut paths = vec![lib_dir().to_path_buf()];
    if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
        paths.extend(std::env::split_paths(&old));
    }
    let mut cmd = Command::new(exe);
    cmd.env("LD_LIBRARY_PATH", std::env::join_paths(paths).unwrap());
    cmd
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed with {}\n--- stdout\n{}--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

#[derive(Clone, Copy)]
enum Link {
    Shared,
    Static,
}

/// Compiles `src` (C11, or C++17 for `.cc`) warning-free and links it with the library.
fn build(src: &Path, link: Link) -> PathBuf {
    let cpp = src.extension().is_some_and(|e| e == "cc");
    let stem = src.file_stem().unwrap().to_str().unwrap();
    let suffix = match link {
        Link::Shared => "",
        Link::Static => "-static",
    };
    let exe = out_dir().join(format!("{stem}{}{suffix}", if cpp { "-cc" } else { "" }));
    let mut cmd = Command::new(if cpp { "c++" } else { "cc" });
    cmd.arg(if cpp { "-std=c++17" } else { "-std=c11" })
        .args(["-Wall", "-Wextra", "-Werror", "-g"])
        .arg("-I")
        .arg(include_dir())
        .arg(src)
        .arg("-o")
        .arg(&exe);
    match link {
        Link::Shared => {
            cmd.arg("-L").arg(lib_dir()).arg("-lwasmjit");
            cmd.arg(format!("-Wl,-rpath,{}", lib_dir().display()));
        }
        Link::Static => {
            cmd.arg(lib_dir().join("libwasmjit.a"));
            cmd.args(["-lpthread", "-ldl", "-lm"]);
        }
    }
    run(&mut cmd);
    exe
}

/// Builds and runs a program, comparing its stdout with `tests/capi/<name>.stdout`.
fn check_program(src: &Path, link: Link) {
    let exe = build(src, link);
    let out = run(&mut program(&exe));
    let stem = src.file_stem().unwrap().to_str().unwrap();
    let expected_path = repo_root().join(format!("tests/capi/{stem}.stdout"));
    let expected = std::fs::read_to_string(&expected_path)
        .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
    let actual = String::from_utf8_lossy(&out.stdout);
    assert_eq!(actual, expected, "stdout of {}", src.display());
}

macro_rules! c_tests {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                check_program(&repo_root().join($file), Link::Shared);
            }
        )*
    };
}

c_tests! {
    layout => "tests/capi/layout.c",
    config => "tests/capi/config.c",
    engine => "tests/capi/engine.c",
    store => "tests/capi/store.c",
    module => "tests/capi/module.c",
    linker => "tests/capi/linker.c",
    instance => "tests/capi/instance.c",
    func => "tests/capi/func.c",
    val => "tests/capi/val.c",
    anyref => "tests/capi/anyref.c",
    memory => "tests/capi/memory.c",
    table => "tests/capi/table.c",
    global => "tests/capi/global.c",
    trap => "tests/capi/trap.c",
    error => "tests/capi/error.c",
    wasm_api => "tests/capi/wasm_api.c",
    async_calls => "tests/capi/async_calls.c",
    async_stack => "tests/capi/async_stack.c",
    wasi => "tests/capi/wasi.c",
    threads => "tests/capi/threads.c",
    sharedmemory => "tests/capi/sharedmemory.c",
    hostref => "tests/capi/hostref.c",
    multimemory => "tests/capi/multimemory.c",
    dropin => "tests/capi/dropin.c",
    cpp_program => "tests/capi/api.cc",
    hh_hello => "tests/capi/hh_hello.cc",
    hh_gcd => "tests/capi/hh_gcd.cc",
    hh_memory => "tests/capi/hh_memory.cc",
    hh_fuel => "tests/capi/hh_fuel.cc",
    hh_interrupt => "tests/capi/hh_interrupt.cc",
    hh_linking => "tests/capi/hh_linking.cc",
    hh_multi => "tests/capi/hh_multi.cc",
    hh_externref => "tests/capi/hh_externref.cc",
    hh_errors => "tests/capi/hh_errors.cc",
    hh_types => "tests/capi/hh_types.cc",
    hello_example => "examples/c/hello.c",
    async_example => "examples/c/async.c",
}

/// The same program linked against the static library.
#[test]
fn hello_example_static() {
    check_program(&repo_root().join("examples/c/hello.c"), Link::Static);
}

/// Every header compiles warning-free on its own and all of them twice in one translation
/// unit, as C11 and as C++17.
#[test]
fn headers_compile_alone_and_together() {
    let mut headers = vec![
        "wasm.h".to_string(),
        "wasi.h".to_string(),
        "wasmtime.h".to_string(),
    ];
    let mut sub: Vec<String> = std::fs::read_dir(include_dir().join("wasmtime"))
        .unwrap()
        .map(|e| format!("wasmtime/{}", e.unwrap().file_name().to_str().unwrap()))
        .collect();
    sub.sort();
    headers.extend(sub);
    assert!(headers.len() >= 20, "headers: {headers:?}");
    let dir = out_dir().join("headers");
    std::fs::create_dir_all(&dir).unwrap();
    let includes = |hs: &[String]| {
        hs.iter()
            .map(|h| format!("#include <{h}>\n"))
            .collect::<String>()
    };
    let mut units = Vec::new();
    for h in &headers {
        units.push((
            h.replace(['/', '.'], "_"),
            includes(std::slice::from_ref(h)),
        ));
    }
    let all = includes(&headers);
    units.push(("all_twice".to_string(), format!("{all}{all}")));
    for (name, body) in units {
        let body = format!("{body}int wasmjit_header_test_{name};\n");
        for (ext, compiler, std) in [("c", "cc", "-std=c11"), ("cc", "c++", "-std=c++17")] {
            let src = dir.join(format!("{name}.{ext}"));
            std::fs::write(&src, &body).unwrap();
            check_header_syntax(compiler, std, &src);
        }
    }
}

/// The C++ header `wasmtime.hh` compiles warning-free (`-pedantic` included) on its own and
/// twice in one translation unit, as C++17 (its own `Span`) and C++20 (`std::span`).
#[test]
fn cpp_header_compiles_alone_and_twice() {
    let dir = out_dir().join("headers");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, body) in [
        ("wasmtime_hh_alone", "#include <wasmtime.hh>\n"),
        (
            "wasmtime_hh_twice",
            "#include <wasmtime.hh>\n#include <wasmtime.h>\n#include <wasmtime.hh>\n",
        ),
    ] {
        let src = dir.join(format!("{name}.cc"));
        std::fs::write(&src, format!("{body}int wasmjit_header_test_{name};\n")).unwrap();
        for std in ["-std=c++17", "-std=c++20"] {
            check_header_syntax("c++", std, &src);
        }
    }
}

/// Checks that `src` compiles warning-free (`-pedantic` included) against our headers, with
/// `compiler` and language standard `std`, without generating code.
fn check_header_syntax(compiler: &str, std: &str, src: &std::path::Path) {
    run(Command::new(compiler)
        .args([
            std,
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-fsyntax-only",
        ])
        .arg("-I")
        .arg(include_dir())
        .arg(src));
}

/// The names of the functions `wasmtime.h` (and everything it includes) declares, read from
/// the preprocessed headers: file-scope statements that are not typedefs or static inline
/// definitions and whose first parenthesis follows a `wasm*_` name.
fn declared_functions() -> Vec<String> {
    let dir = out_dir().join("decls");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("all.c");
    std::fs::write(&src, "#include <wasmtime.h>\n").unwrap();
    let out = run(Command::new("cc")
        .args(["-E", "-P", "-I"])
        .arg(include_dir())
        .arg(&src));
    let text = String::from_utf8(out.stdout).unwrap();
    // Drop function bodies (static inline helpers), ending their statements.
    let mut flat = String::new();
    let mut depth = 0;
    for ch in text.chars() {
        match ch {
            '{' => {
                depth += 1;
                if depth == 1 {
                    flat.push(';');
                }
            }
            '}' => depth -= 1,
            _ if depth == 0 => flat.push(ch),
            _ => {}
        }
    }
    let mut names: Vec<String> = flat
        .split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty() && !s.starts_with("typedef"))
        .filter_map(|s| {
            let head = s.split('(').next()?.to_string();
            if head.split_whitespace().any(|w| w == "static") || !s.contains('(') {
                return None;
            }
            let name = head
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .rfind(|w| !w.is_empty())?;
            ["wasm_", "wasmtime_", "wasi_"]
                .iter()
                .any(|p| name.starts_with(p))
                .then(|| name.to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Every function the headers declare is defined by the library: a program taking the
/// address of each one links.
#[test]
fn every_declared_function_is_defined() {
    let names = declared_functions();
    assert!(names.len() > 400, "only {} declarations found", names.len());
    let mut body = String::from(
        "#include <wasmtime.h>\n#include <stdio.h>\nint main(void) {\n  void (*fns[])(void) = {\n",
    );
    for n in &names {
        body.push_str(&format!("    (void (*)(void)){n},\n"));
    }
    body.push_str("  };\n  printf(\"%zu\\n\", sizeof fns / sizeof fns[0]);\n  return 0;\n}\n");
    let src = out_dir().join("decls/link_all.c");
    std::fs::write(&src, body).unwrap();
    let exe = out_dir().join("decls/link_all");
    run(Command::new("cc")
        .args(["-std=c11", "-w", "-I"])
        .arg(include_dir())
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(lib_dir())
        .arg("-lwasmjit")
        .arg(format!("-Wl,-rpath,{}", lib_dir().display())));
    let out = run(&mut program(&exe));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        names.len().to_string()
    );
    assert!(
        names.iter().any(|n| n == "wasmtime_func_call_async"),
        "the async functions are not declared"
    );
}

/// Every function Wasmtime 29's default build exports (`capi/lib/tests/wasmtime29-exports.txt`,
/// from its headers by `scripts/wasmtime-capi-exports.sh`) is exported by `libwasmjit.so`:
/// a C program `dlopen`s it and resolves each name, as language bindings do when they load.
#[test]
fn every_wasmtime_29_export_resolves() {
    let list = repo_root().join("capi/lib/tests/wasmtime29-exports.txt");
    let names = std::fs::read_to_string(&list).unwrap();
    let count = names.lines().filter(|l| !l.is_empty()).count();
    assert!(count > 400, "only {count} names in {}", list.display());
    let src = repo_root().join("tests/capi/exports29.c");
    let exe = out_dir().join("exports29");
    run(Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .arg("-ldl"));
    let out = run(program(&exe)
        .arg(lib_dir().join("libwasmjit.so"))
        .arg(&list));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{count} of {count} names resolved")
    );
}
