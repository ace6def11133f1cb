//! The WASI differential (issue 21): every program of `tests/wasi/` (C and Rust) runs under
//! wasmjit's `wasmjit_wasi` and under Wasmtime 48's `wasmtime_wasi::p1` with the same
//! arguments, environment and preopened `/sandbox` (laid out afresh, at the same host path,
//! before each run), and what each run gives must be equal: stdout, stderr, the exit status
//! (or the fact of a trap), and every file left behind under the case's directory (names,
//! kinds, sizes, contents, symlink targets). Cases whose result depends on the host in a way
//! this test cannot pin are listed in [`EXCLUDED`] and printed with their reason.

use std::path::{Path, PathBuf};

/// How a run ended.
#[derive(Debug, PartialEq, Eq)]
enum Status {
    /// `_start` returned (0) or the guest called `proc_exit`.
    Exit(i32),
    /// Any other error: a trap, or a host function that refused to go on. The message is
    /// shown when the runs differ, not compared (each runtime words its own).
    Trap(String),
}

impl Status {
    fn same_as(&self, other: &Status) -> bool {
        match (self, other) {
            (Status::Trap(_), Status::Trap(_)) => true,
            (a, b) => a == b,
        }
    }
}

/// One name below the case's directory, as the run left it.
#[derive(Debug, PartialEq, Eq)]
enum Entry {
    Dir(String),
    File {
        path: String,
        size: u64,
        contents: Vec<u8>,
    },
    Symlink {
        path: String,
        target: PathBuf,
    },
}

#[derive(Debug)]
struct Outcome {
    stdout: String,
    stderr: String,
    status: Status,
    tree: Vec<Entry>,
}

/// One program with its arguments, environment and the files it starts with.
struct Case {
    /// Names the case (and its directory).
    name: String,
    /// The program, `tests/wasi/<program>.wasm`.
    program: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, &'static str)>,
    /// Fills the case's (empty) directory; returns the host directory preopened as
    /// `/sandbox`.
    layout: fn(&Path) -> PathBuf,
}

/// Cases left out of the comparison, with the reason printed when the test runs.
const EXCLUDED: &[(&str, &str)] = &[(
    "sandbox race",
    "`sandbox race` counts how often it opened a file while a host thread swaps a \
     directory for a symlink: the count depends on the scheduler",
)];

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/wasi/{name}.wasm"))
}

/// An empty sandbox.
fn empty(root: &Path) -> PathBuf {
    let sandbox = root.join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    sandbox
}

/// What `files.c` expects: a file outside, symlinks leading to it, and an empty `sub2`.
fn files_layout(root: &Path) -> PathBuf {
    let sandbox = empty(root);
    std::fs::write(root.join("outside.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(root, sandbox.join("link")).unwrap();
    std::os::unix::fs::symlink("..", sandbox.join("up")).unwrap();
    std::fs::create_dir(sandbox.join("sub2")).unwrap();
    sandbox
}

/// Enough entries for several `fd_readdir` calls.
fn many_entries(root: &Path) -> PathBuf {
    let sandbox = empty(root);
    for i in 0..600 {
        std::fs::write(sandbox.join(format!("entry-{i:04}.txt")), i.to_string()).unwrap();
    }
    sandbox
}

/// What `sandbox.c` expects (see its header).
fn sandbox_layout(root: &Path) -> PathBuf {
    crate::wasi::sandbox_tree(root)
}

/// A file and a directory for the Rust programs to find.
fn rust_layout(root: &Path) -> PathBuf {
    let sandbox = empty(root);
    std::fs::write(sandbox.join("given.txt"), "given by the host\n").unwrap();
    std::fs::create_dir(sandbox.join("given-dir")).unwrap();
    std::fs::write(sandbox.join("given-dir/a"), "a").unwrap();
    sandbox
}

fn cases() -> Vec<Case> {
    let case =
        |name: &str, program: &'static str, args: &[&str], layout: fn(&Path) -> PathBuf| Case {
            name: name.to_string(),
            program,
            args: args.iter().map(|a| a.to_string()).collect(),
            env: vec![("GREETING", "hi there"), ("EMPTY", "")],
            layout,
        };
    let mut cases = vec![
        case("hello", "hello", &["hello"], empty),
        case(
            "args_env",
            "args_env",
            &["args_env", "one", "two words", ""],
            empty,
        ),
        case("exit 0", "exit", &["exit", "0"], empty),
        case("exit 42", "exit", &["exit", "42"], empty),
        case("exit 125", "exit", &["exit", "125"], empty),
        case("exit 126", "exit", &["exit", "126"], empty),
        case("exit -1", "exit", &["exit", "-1"], empty),
        case("files", "files", &["files"], files_layout),
        case("files without a preopen", "files", &["files"], |_| {
            PathBuf::new()
        }),
        case("raw", "raw", &["raw"], empty),
        case("listdir", "listdir", &["listdir", "/sandbox"], many_entries),
        case("links", "links", &["links"], empty),
        case("sandbox", "sandbox", &["sandbox"], sandbox_layout),
        case(
            "sandbox race",
            "sandbox",
            &["sandbox", "race"],
            sandbox_layout,
        ),
    ];
    for trap in crate::wasi::RAW_TRAPS {
        cases.push(case(&format!("raw {trap}"), "raw", &["raw", trap], empty));
    }
    for conformance in [
        "rights", "fdflags", "trailing", "symlinks", "readdir", "poll", "sockets", "errnos",
    ] {
        cases.push(case(conformance, conformance, &[conformance], empty));
    }
    for rust in ["files", "dirs", "links", "env_args", "clocks"] {
        let name = format!("rust_{rust}");
        let program: &'static str = Box::leak(name.clone().into_boxed_str());
        cases.push(case(
            &name,
            program,
            &[program, "first", "second"],
            rust_layout,
        ));
    }
    let exits = [
        ("exit", "0"),
        ("exit", "3"),
        ("exit", "125"),
        ("exit", "200"),
        ("error", ""),
        ("panic", ""),
        ("code", ""),
    ];
    for (how, code) in exits {
        cases.push(case(
            &format!("rust_exit {how} {code}"),
            "rust_exit",
            &["rust_exit", how, code],
            empty,
        ));
    }
    cases
}

/// Every name under `dir`, without following symlinks, paths relative to `root`.
fn tree(root: &Path, dir: &Path, out: &mut Vec<Entry>) {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        let meta = path.symlink_metadata().unwrap();
        if meta.is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            out.push(Entry::Symlink { path: rel, target });
        } else if meta.is_dir() {
            out.push(Entry::Dir(rel));
            tree(root, &path, out);
        } else {
            let contents = std::fs::read(&path).unwrap();
            out.push(Entry::File {
                path: rel,
                size: meta.len(),
                contents,
            });
        }
    }
}

/// Lays out the case's directory afresh (always at the same host path, so absolute symlinks
/// are the same for both engines), runs `engine` on it and records the outcome.
fn run_case(
    case: &Case,
    engine: &str,
    run: impl FnOnce(&Case, &Path, Option<&Path>) -> (String, String, Status),
) -> Outcome {
    let dir: String = case
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("wasi-diff-{dir}"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let preopen = (case.layout)(&root);
    let preopen = (!preopen.as_os_str().is_empty()).then_some(preopen.as_path());
    let wasm = program(case.program);
    assert!(wasm.exists(), "{engine}: {} missing", wasm.display());
    let (stdout, stderr, status) = run(case, &wasm, preopen);
    let mut entries = Vec::new();
    tree(&root, &root, &mut entries);
    std::fs::remove_dir_all(&root).unwrap();
    Outcome {
        stdout,
        stderr,
        status,
        tree: entries,
    }
}

fn under_wasmjit(case: &Case, wasm: &Path, preopen: Option<&Path>) -> (String, String, Status) {
    use wasmjit_wasi::{add_to_linker, I32Exit, MemoryOutputPipe, WasiCtx, WasiCtxBuilder};
    struct Host {
        wasi: WasiCtx,
    }
    let engine = wasmjit::Engine::default();
    let module = wasmjit::Module::from_file(&engine, wasm).unwrap();
    let (out, err) = (
        MemoryOutputPipe::new(usize::MAX),
        MemoryOutputPipe::new(usize::MAX),
    );
    let mut builder = WasiCtxBuilder::new();
    builder.stdout(out.clone()).stderr(err.clone());
    builder.args(&case.args).envs(&case.env);
    if let Some(dir) = preopen {
        builder.preopened_dir(dir, "/sandbox").unwrap();
    }
    let mut linker = wasmjit::Linker::<Host>::new(&engine);
    add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi).unwrap();
    let mut store = wasmjit::Store::new(
        &engine,
        Host {
            wasi: builder.build(),
        },
    );
    let result = linker
        .instantiate(&mut store, &module)
        .and_then(|i| i.get_typed_func::<(), ()>(&mut store, "_start"))
        .and_then(|f| f.call(&mut store, ()));
    let status = match result {
        Ok(()) => Status::Exit(0),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(I32Exit(code)) => Status::Exit(*code),
            None => Status::Trap(format!("{e:#}")),
        },
    };
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (text(out.contents()), text(err.contents()), status)
}

fn under_wasmtime(case: &Case, wasm: &Path, preopen: Option<&Path>) -> (String, String, Status) {
    use wasmtime_wasi::p1::{add_to_linker_sync, WasiP1Ctx};
    use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
    use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::from_file(&engine, wasm).unwrap();
    let (out, err) = (
        MemoryOutputPipe::new(usize::MAX),
        MemoryOutputPipe::new(usize::MAX),
    );
    let mut builder = WasiCtxBuilder::new();
    builder.stdout(out.clone()).stderr(err.clone());
    builder.args(&case.args).envs(&case.env);
    if let Some(dir) = preopen {
        builder
            .preopened_dir(dir, "/sandbox", FsPerms::ReadWrite)
            .unwrap();
    }
    let mut linker = wasmtime::Linker::<WasiP1Ctx>::new(&engine);
    add_to_linker_sync(&mut linker, |t| t).unwrap();
    let mut store = wasmtime::Store::new(&engine, builder.build_p1());
    let result = linker
        .instantiate(&mut store, &module)
        .and_then(|i| i.get_typed_func::<(), ()>(&mut store, "_start"))
        .and_then(|f| f.call(&mut store, ()));
    let status = match result {
        Ok(()) => Status::Exit(0),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(I32Exit(code)) => Status::Exit(*code),
            None => Status::Trap(format!("{e:#}")),
        },
    };
    drop(store);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (text(&out.contents()), text(&err.contents()), status)
}

/// What differs between two outcomes, field by field (the trees entry by entry).
fn differences(ours: &Outcome, theirs: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    if !ours.status.same_as(&theirs.status) {
        out.push(format!(
            "status: wasmjit {:?}, wasmtime {:?}",
            ours.status, theirs.status
        ));
    }
    for (what, a, b) in [
        ("stdout", &ours.stdout, &theirs.stdout),
        ("stderr", &ours.stderr, &theirs.stderr),
    ] {
        if a != b {
            out.push(format!("{what}:\n--- wasmjit\n{a}\n--- wasmtime\n{b}"));
        }
    }
    for entry in &ours.tree {
        if !theirs.tree.contains(entry) {
            out.push(format!("left by wasmjit only: {entry:?}"));
        }
    }
    for entry in &theirs.tree {
        if !ours.tree.contains(entry) {
            out.push(format!("left by wasmtime only: {entry:?}"));
        }
    }
    out
}

/// Every program under both engines, every outcome equal.
#[test]
fn wasi_programs_match_wasmtime() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in cases() {
        if let Some((_, why)) = EXCLUDED.iter().find(|(name, _)| *name == case.name) {
            println!("excluded `{}`: {why}", case.name);
            continue;
        }
        let ours = run_case(&case, "wasmjit", under_wasmjit);
        let theirs = run_case(&case, "wasmtime", under_wasmtime);
        compared += 1;
        let found = differences(&ours, &theirs);
        if !found.is_empty() {
            failures.push(format!("`{}`:\n{}", case.name, found.join("\n")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} cases differ:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    println!("{compared} cases equal under wasmjit and Wasmtime 48");
}
