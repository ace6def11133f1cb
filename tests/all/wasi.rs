//! WASI preview 1 through the Rust API: the programs of `tests/wasi/` (C compiled against
//! wasi-libc by `tests/wasi/build.sh`) and a few hand-written modules.

use std::path::{Path, PathBuf};
use wasmjit::{Engine, Linker, Module, Store};
use wasmjit_wasi::{add_to_linker, I32Exit, MemoryOutputPipe, WasiCtx, WasiCtxBuilder};

struct Host {
    wasi: WasiCtx,
}

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/wasi/{name}.wasm"))
}

/// A fresh, empty directory for one test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("wasi-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Outcome {
    result: anyhow::Result<()>,
    stdout: String,
    stderr: String,
}

/// Runs `_start` of `module` with the WASI context `configure` builds (stdout and stderr
/// captured).
fn run_module(module: &Module, configure: impl FnOnce(&mut WasiCtxBuilder)) -> Outcome {
    let engine = module.engine().clone();
    let (out, err) = (
        MemoryOutputPipe::new(usize::MAX),
        MemoryOutputPipe::new(usize::MAX),
    );
    let mut builder = WasiCtxBuilder::new();
    builder.stdout(out.clone()).stderr(err.clone());
    configure(&mut builder);
    let mut linker = Linker::<Host>::new(&engine);
    add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi).unwrap();
    let mut store = Store::new(
        &engine,
        Host {
            wasi: builder.build(),
        },
    );
    let result = linker
        .instantiate(&mut store, module)
        .and_then(|i| i.get_typed_func::<(), ()>(&mut store, "_start"))
        .and_then(|f| f.call(&mut store, ()));
    Outcome {
        result,
        stdout: String::from_utf8(out.contents()).unwrap(),
        stderr: String::from_utf8(err.contents()).unwrap(),
    }
}

fn run(name: &str, configure: impl FnOnce(&mut WasiCtxBuilder)) -> Outcome {
    let engine = Engine::default();
    let module = Module::from_file(&engine, program(name)).unwrap();
    run_module(&module, configure)
}

/// Every function of `wasi_snapshot_preview1`.
const NAMES: [&str; 46] = [
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

#[test]
fn hello_world_writes_stdout_and_stderr() {
    let o = run("hello", |_| {});
    o.result.unwrap();
    assert_eq!(o.stdout, "hello, wasi\n");
    assert_eq!(o.stderr, "to stderr\n");
}

#[test]
fn args_and_env_round_trip() {
    let o = run("args_env", |b| {
        b.args(&["prog", "one", "two words"])
            .env("GREETING", "hi there");
    });
    o.result.unwrap();
    assert_eq!(
        o.stdout,
        "argc=3\nargv[0]=prog\nargv[1]=one\nargv[2]=two words\nGREETING=hi there\nMISSING=(unset)\n"
    );
}

#[test]
fn proc_exit_downcasts_to_i32_exit() {
    let o = run("exit", |b| {
        b.args(&["exit", "42"]);
    });
    let err = o.result.unwrap_err();
    assert_eq!(err.downcast_ref::<I32Exit>(), Some(&I32Exit(42)));
    assert_eq!(o.stdout, "exiting with 42\n");
}

#[test]
fn files_in_a_preopened_dir_and_no_escape() {
    let root = temp_dir("files");
    let sandbox = root.join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    std::fs::write(root.join("outside.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(&root, sandbox.join("link")).unwrap();
    std::os::unix::fs::symlink("..", sandbox.join("up")).unwrap();
    std::fs::create_dir(sandbox.join("sub2")).unwrap();
    let o = run("files", |b| {
        b.preopened_dir(&sandbox, "/sandbox").unwrap();
    });
    o.result.unwrap();
    let expected = "\
read 23 bytes: first line
second line
size=23 word=line head=FIRST
/sandbox: link note.txt sub sub2 up
/sandbox/sub: inner.txt
moved.txt: 23 bytes, regular=1
/sandbox/sub: inner.txt moved.txt
rmdir: 0
open /sandbox/../outside.txt: refused errno=63
open /sandbox/link/outside.txt: refused errno=63
open /sandbox/up/outside.txt: refused errno=63
open /sandbox/sub2/../../outside.txt: refused errno=63
path_open /etc/passwd: errno=63
path_open link: errno=63
/sandbox: link sub2 up
";
    assert_eq!(o.stdout, expected);
    // The guest's writes landed in the sandbox and nowhere else.
    assert_eq!(
        std::fs::read_to_string(root.join("outside.txt")).unwrap(),
        "secret"
    );
    assert!(!sandbox.join("note.txt").exists());
    assert!(!sandbox.join("sub").exists());
}

/// What `raw.wasm` does with each argument: one call with a bad pointer, or with an argument
/// outside its type.
pub(crate) const RAW_TRAPS: [&str; 16] = [
    "iovs",
    "buffer",
    "nwritten",
    "args_sizes",
    "random",
    "misaligned_fdstat",
    "misaligned_time",
    "bad_clock",
    "bad_advice",
    "bad_whence",
    "bad_signal",
    "bad_fdflags",
    "bad_oflags",
    "bad_lookupflags",
    "bad_fstflags",
    "bad_rights",
];

/// A pointer outside memory or not aligned for its type traps (as in Wasmtime, after the
/// preview1 rules: "If a misaligned pointer is passed to a function, the function shall
/// trap"), and so does an argument outside its type (an undefined enum value or flag); a
/// bad descriptor is `EBADF`.
#[test]
fn bad_pointers_trap_and_bad_fds_are_ebadf() {
    for case in RAW_TRAPS {
        let o = run("raw", |b| {
            b.preopened_dir(temp_dir("raw-traps"), "/sandbox")
                .unwrap()
                .args(&["raw", case]);
        });
        let err = o.result.expect_err(case);
        assert!(err.downcast_ref::<I32Exit>().is_none(), "{case}: {err:?}");
        let expected = if case.starts_with("bad_") {
            "invalid argument"
        } else {
            "pointer out of bounds or misaligned"
        };
        assert!(format!("{err:?}").contains(expected), "{case}: {err:?}");
        // A bad `nwritten` traps after the write, as in Wasmtime.
        let written = if case == "nwritten" { "x" } else { "" };
        assert_eq!(o.stdout, written, "{case}");
    }
    let o = run("raw", |_| {});
    o.result.unwrap();
    let expected = "\
fd_write bad fd: 8
fd_close bad: 8
fd_prestat_get stdout: 8
fd_seek stdout: 70
random_get: 0 0
random differs: 1
clock_res_get: 0
clock_time_get: 0
slept at least 20ms: 1
realtime after 2020: 1
sched_yield: 0
stdout fdstat: 0 filetype=0 seek=0
";
    assert_eq!(o.stdout, expected);
}

/// A module without a `memory` export: every WASI call is an error, as in Wasmtime.
#[test]
fn no_memory_export_traps() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "wasi_snapshot_preview1" "args_sizes_get"
              (func $sizes (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory 1)
            (func (export "_start")
              (call $exit (call $sizes (i32.const 0) (i32.const 4)))))"#,
    )
    .unwrap();
    let o = run_module(&module, |_| {});
    let err = o.result.unwrap_err();
    assert!(err.downcast_ref::<I32Exit>().is_none(), "{err:?}");
    assert!(
        format!("{err:?}").contains("missing required memory export"),
        "{err:?}"
    );
}

/// Every preview1 function is defined, so any WASI module links.
#[test]
fn every_preview1_import_links() {
    let engine = Engine::default();
    let mut linker = Linker::<Host>::new(&engine);
    add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi).unwrap();
    let mut store = Store::new(
        &engine,
        Host {
            wasi: WasiCtxBuilder::new().build(),
        },
    );
    for name in NAMES {
        assert!(
            linker
                .get(&mut store, "wasi_snapshot_preview1", name)
                .is_ok(),
            "{name} is not defined"
        );
    }
}

#[test]
fn stdin_from_memory_pipe() {
    let engine = Engine::default();
    // Reads up to 16 bytes of stdin and writes them back to stdout.
    let module = Module::new(
        &engine,
        r#"(module
            (import "wasi_snapshot_preview1" "fd_read"
              (func $read (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_write"
              (func $write (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "_start")
              (i32.store (i32.const 0) (i32.const 64))
              (i32.store (i32.const 4) (i32.const 16))
              (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
              (i32.store (i32.const 4) (i32.load (i32.const 8)))
              (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    )
    .unwrap();
    let o = run_module(&module, |b| {
        b.stdin(wasmjit_wasi::MemoryInputPipe::new("piped in"));
    });
    o.result.unwrap();
    assert_eq!(o.stdout, "piped in");
}

/// Runs the `wasmjit` command. Under an emulator (qemu-user without binfmt_misc, the aarch64
/// job of `.ci/run`) it is started through the runner named by WASMJIT_TEST_CHILD_RUNNER,
/// e.g. `qemu-aarch64 -L /usr/aarch64-linux-gnu`.
fn wasmjit(args: &[&str]) -> std::process::Output {
    let exe = env!("CARGO_BIN_EXE_wasmjit");
    let runner = std::env::var("WASMJIT_TEST_CHILD_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut c = std::process::Command::new(program);
            c.args(words).arg(exe);
            c
        }
        None => std::process::Command::new(exe),
    };
    command
        .args(args)
        .output()
        .expect("the wasmjit binary runs")
}

#[test]
fn cli_runs_a_wasi_command_with_args_and_env() {
    let file = program("args_env");
    let file = file.to_str().unwrap();
    let out = wasmjit(&["run", "--env", "GREETING=hey", file, "x", "--", "--y"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("argc=3\nargv[0]={file}\nargv[1]=x\nargv[2]=--y\nGREETING=hey\nMISSING=(unset)\n")
    );
    let hello = wasmjit(&["run", program("hello").to_str().unwrap()]);
    assert!(hello.status.success());
    assert_eq!(String::from_utf8_lossy(&hello.stdout), "hello, wasi\n");
    assert_eq!(String::from_utf8_lossy(&hello.stderr), "to stderr\n");
}

/// `wasmjit run` as a Wasmtime user types it: `--env NAME` takes the host's value,
/// `-S inherit-env` passes the whole environment, `--argv0` names the guest, `--help`
/// answers, and a mistyped option gets a suggestion.
#[test]
fn cli_speaks_wasmtime_run() {
    let file = program("args_env");
    let file = file.to_str().unwrap();
    let exe = env!("CARGO_BIN_EXE_wasmjit");
    let out = std::process::Command::new(exe)
        .args(["run", "--env", "GREETING", "--argv0", "greeter", file, "a"])
        .env("GREETING", "from the host")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "argc=2\nargv[0]=greeter\nargv[1]=a\nGREETING=from the host\nMISSING=(unset)\n"
    );
    let out = std::process::Command::new(exe)
        .args(["run", "-S", "inherit-env", file])
        .env("MISSING", "now set")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("MISSING=now set\n"));

    let help = wasmjit(&["run", "--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for option in ["--dir", "--env", "--argv0", "--invoke", "-W", "-S"] {
        assert!(text.contains(option), "{option} missing from\n{text}");
    }
    let typo = wasmjit(&["run", "--dri", ".", file]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("did you mean `--dir`?"));
}

#[test]
fn cli_exit_status_is_the_proc_exit_code() {
    let out = wasmjit(&["run", program("exit").to_str().unwrap(), "5"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "exiting with 5\n");
    // No "trapped"/"error" report: the guest exited.
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let zero = wasmjit(&["run", program("exit").to_str().unwrap(), "0"]);
    assert_eq!(zero.status.code(), Some(0));
}

#[test]
fn cli_dir_preopens_a_host_directory() {
    let root = temp_dir("cli-dir");
    let sandbox = root.join("box");
    std::fs::create_dir(&sandbox).unwrap();
    let dir = format!("{}::/sandbox", sandbox.display());
    let out = wasmjit(&["run", "--dir", &dir, program("files").to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("read 23 bytes: first line\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("open /sandbox/../outside.txt: refused errno=63\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("path_open /etc/passwd: errno=63\n"),
        "{stdout}"
    );
    // Without `--dir` the guest has no /sandbox at all.
    let none = wasmjit(&["run", program("files").to_str().unwrap()]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stdout).contains("fopen for writing failed"));
}

#[test]
fn guest_symlinks_work_inside_and_never_lead_out() {
    let root = temp_dir("links");
    let sandbox = root.join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    let o = run("links", |b| {
        b.preopened_dir(&sandbox, "/sandbox").unwrap();
    });
    o.result.unwrap();
    let expected = "\
symlink inside: 0
readlink: 10 target.txt
through link: target
symlink out: 0
open via out: -1 errno=63
symlink absolute: -1 errno=63
mkdir via out: -1 errno=63
renumber: 0
fdstat old: 8
fdstat new: 0 filetype=4
read renumbered: tar
renumber to closed: 8
";
    assert_eq!(o.stdout, expected);
    assert!(!root.join("escaped").exists());
    assert_eq!(std::fs::read_dir(&sandbox).unwrap().count(), 0);
}

/// Enough entries that wasi-libc needs several `fd_readdir` calls (cookies resume the
/// listing where the previous call stopped).
#[test]
fn readdir_of_a_large_directory_sees_every_entry_once() {
    let root = temp_dir("listdir");
    let mut name_bytes = 0;
    for i in 0..600 {
        let name = format!("entry-with-a-rather-long-name-{i:04}.txt");
        name_bytes += name.len();
        std::fs::write(root.join(&name), "").unwrap();
    }
    let o = run("listdir", |b| {
        b.args(&["listdir", "/d"])
            .preopened_dir(&root, "/d")
            .unwrap();
    });
    o.result.unwrap();
    assert_eq!(o.stdout, format!("entries=600 name_bytes={name_bytes}\n"));
}

#[test]
fn read_only_preopen_refuses_writes_with_eperm() {
    use wasmjit_wasi::{DirPerms, FilePerms};
    let root = temp_dir("read-only");
    let sandbox = root.join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    std::fs::write(sandbox.join("target.txt"), "target").unwrap();
    let read_only = (
        DirPerms {
            read: true,
            mutate: false,
        },
        FilePerms {
            read: true,
            write: false,
        },
    );
    let o = run("links", |b| {
        b.preopened_dir_with_perms(&sandbox, "/sandbox", read_only.0, read_only.1)
            .unwrap();
    });
    o.result.unwrap();
    // Creating the target, the symlinks and the directory fails; reading works.
    assert!(o.stdout.starts_with("symlink inside: -1\n"), "{}", o.stdout);
    assert!(
        o.stdout.contains("mkdir via out: -1 errno=63\n"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("read renumbered: tar\n"), "{}", o.stdout);
    assert_eq!(
        std::fs::read_to_string(sandbox.join("target.txt")).unwrap(),
        "target"
    );
    assert_eq!(std::fs::read_dir(&sandbox).unwrap().count(), 1);
}

/// A tiny deterministic generator for the robustness test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Mostly small values, pointers into the first page, and edge cases.
    fn arg(&mut self) -> i64 {
        match self.next() % 8 {
            0 => (self.next() % 8) as i64,
            1 => (self.next() % 65536) as i64,
            2 => -1,
            3 => i32::MAX as i64,
            4 => (65536 - self.next() % 64) as i64,
            5 => self.next() as i64,
            _ => (self.next() % 4096) as i64,
        }
    }
}

/// Every preview1 function called many times with random arguments over random memory:
/// each returns an errno or traps on a bad pointer, and nothing panics or escapes.
#[test]
fn random_arguments_never_panic_or_escape() {
    use wasmjit::{Extern, Val, ValType};
    let root = temp_dir("random");
    let sandbox = root.join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    std::fs::write(sandbox.join("a"), "some bytes").unwrap();
    std::fs::create_dir(sandbox.join("d")).unwrap();
    std::fs::write(root.join("outside"), "keep").unwrap();

    let engine = Engine::default();
    let mut linker = Linker::<Host>::new(&engine);
    add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi).unwrap();
    // One wrapper export per import, so the calls come from wasm and see its memory.
    let mut probe = Store::new(
        &engine,
        Host {
            wasi: WasiCtxBuilder::new().build(),
        },
    );
    let mut imports = String::new();
    let mut funcs = String::new();
    let mut names = Vec::new();
    let skip = ["poll_oneoff", "proc_exit", "fd_read"]; // may sleep, exits, may block
    for name in NAMES {
        if skip.contains(&name) {
            continue;
        }
        let Ok(Extern::Func(f)) = linker.get(&mut probe, "wasi_snapshot_preview1", name) else {
            panic!("{name} missing");
        };
        let ty = f.ty(&probe);
        let params: Vec<&str> = ty
            .params()
            .map(|p| {
                if matches!(p, ValType::I64) {
                    "i64"
                } else {
                    "i32"
                }
            })
            .collect();
        let sig = format!("(param {}) (result i32)", params.join(" "));
        let sig = sig.replace("(param )", "");
        imports.push_str(&format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} {sig}))\n"
        ));
        let gets: String = (0..params.len())
            .map(|i| format!("local.get {i} "))
            .collect();
        funcs.push_str(&format!(
            "(func (export \"{name}\") {sig} {gets} call ${name})\n"
        ));
        names.push((name, params.len()));
    }
    let wat = format!("(module {imports} (memory (export \"memory\") 1) {funcs})");
    let module = Module::new(&engine, &wat).unwrap();
    // A fresh store now and then: random `fd_close`/`fd_renumber` calls soon close the
    // preopen, after which path functions would only see EBADF.
    let fresh = || {
        let wasi = WasiCtxBuilder::new()
            .args(&["a", "b"])
            .env("K", "V")
            .preopened_dir(&sandbox, "/")
            .unwrap()
            .build();
        let mut store = Store::new(&engine, Host { wasi });
        let instance = linker.instantiate(&mut store, &module).unwrap();
        (store, instance)
    };
    let (mut store, mut instance) = fresh();
    let mut successes = 0;
    let mut traps = 0;
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for round in 0..4000 {
        if round % 50 == 0 {
            (store, instance) = fresh();
            // Random memory, with many short path-like strings.
            let memory = instance.get_memory(&mut store, "memory").unwrap();
            for b in memory.data_mut(&mut store).iter_mut() {
                *b = match rng.next() % 4 {
                    0 => b"./a.d"[(rng.next() % 5) as usize],
                    1 => 0,
                    _ => rng.next() as u8,
                };
            }
        }
        let (name, arity) = names[(rng.next() % names.len() as u64) as usize];
        let func = instance.get_func(&mut store, name).unwrap();
        let ty = func.ty(&store);
        let params: Vec<Val> = ty
            .params()
            .map(|p| {
                let v = rng.arg();
                if matches!(p, ValType::I64) {
                    Val::I64(v)
                } else {
                    Val::I32(v as i32)
                }
            })
            .collect();
        assert_eq!(params.len(), arity);
        let mut result = [Val::I32(0)];
        if let Err(e) = func.call(&mut store, &params, &mut result) {
            let text = format!("{e:?}");
            assert!(
                text.contains("pointer out of bounds or misaligned")
                    || text.contains("invalid argument"),
                "{name}{params:?}: {e:?}"
            );
            traps += 1;
            continue;
        }
        let errno = result[0].unwrap_i32();
        assert!((0..=76).contains(&errno), "{name} returned {errno}");
        successes += usize::from(errno == 0);
    }
    // Not everything was refused at the door (nor trapped: random flags and enum values
    // often are).
    assert!(successes > 100, "only {successes} calls succeeded");
    assert!(traps > 0 && traps < 4000 - 200, "{traps} traps");
    assert_eq!(
        std::fs::read_to_string(root.join("outside")).unwrap(),
        "keep"
    );
    let entries: Vec<_> = std::fs::read_dir(&root).unwrap().collect();
    assert_eq!(
        entries.len(),
        2,
        "only `sandbox` and `outside` beside each other"
    );
}

/// Code written for `wasmtime_wasi::preview1` reads the same.
#[test]
fn wasmtime_preview1_names() {
    use wasmjit_wasi::preview1::{self, WasiP1Ctx};
    struct State {
        ctx: WasiP1Ctx,
    }
    let engine = Engine::default();
    let module = Module::from_file(&engine, program("hello")).unwrap();
    let mut linker = Linker::<State>::new(&engine);
    preview1::add_to_linker_sync(&mut linker, |s: &mut State| &mut s.ctx).unwrap();
    let out = MemoryOutputPipe::new(usize::MAX);
    let ctx = WasiCtxBuilder::new().stdout(out.clone()).build_p1();
    let mut store = Store::new(&engine, State { ctx });
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    start.call(&mut store, ()).unwrap();
    assert_eq!(out.contents(), b"hello, wasi\n");
}

/// Runs a conformance program of `tests/wasi/` (see `check.h`) with an empty preopen
/// `/sandbox`: it checks Wasmtime's answers itself and exits non-zero on a mismatch; it
/// removes what it made.
fn conformance(name: &str) {
    let root = temp_dir(&format!("conformance-{name}"));
    let o = run(name, |b| {
        b.preopened_dir(&root, "/sandbox").unwrap();
    });
    assert!(
        o.result.is_ok() && o.stdout.ends_with(" 0 mismatches\n"),
        "{name}: {:?}\n{}{}",
        o.result.err(),
        o.stdout,
        o.stderr
    );
    let left: Vec<_> = std::fs::read_dir(&root).unwrap().collect();
    assert!(left.is_empty(), "{name} left {left:?}");
}

#[test]
fn conformance_rights_of_directories_and_files() {
    conformance("rights");
}

#[test]
fn conformance_fdflags_reported_and_set() {
    conformance("fdflags");
}

#[test]
fn conformance_trailing_slashes() {
    conformance("trailing");
}

#[test]
fn conformance_links_and_symlinks() {
    conformance("symlinks");
}

#[test]
fn conformance_readdir_cookies() {
    conformance("readdir");
}

#[test]
fn conformance_clocks_poll_and_times() {
    conformance("poll");
}

#[test]
fn conformance_sockets_that_are_not() {
    conformance("sockets");
}

#[test]
fn conformance_errno_paths() {
    conformance("errnos");
}

/// Runs a Rust program of `tests/wasi/rust/` (`tests/wasi/rust_<name>.wasm`) with the
/// arguments `first second`, two variables and a preopen holding `given.txt` and
/// `given-dir/a`: it checks its results itself and exits non-zero on a mismatch.
fn rust_program(name: &str) {
    let root = temp_dir(&format!("rust-{name}"));
    std::fs::write(root.join("given.txt"), "given by the host\n").unwrap();
    std::fs::create_dir(root.join("given-dir")).unwrap();
    std::fs::write(root.join("given-dir/a"), "a").unwrap();
    let program = format!("rust_{name}");
    let o = run(&program, |b| {
        b.args(&[program.as_str(), "first", "second"])
            .env("GREETING", "hi there")
            .env("EMPTY", "")
            .preopened_dir(&root, "/sandbox")
            .unwrap();
    });
    let exited = match &o.result {
        Ok(()) => true,
        Err(e) => e.downcast_ref::<I32Exit>() == Some(&I32Exit(0)),
    };
    assert!(
        exited && o.stdout.ends_with(" 0 mismatches\n"),
        "{name}: {:?}\n{}{}",
        o.result.err(),
        o.stdout,
        o.stderr
    );
}

#[test]
fn rust_files() {
    rust_program("files");
}

#[test]
fn rust_directories() {
    rust_program("dirs");
}

#[test]
fn rust_links_and_symlinks() {
    rust_program("links");
}

#[test]
fn rust_env_and_args() {
    rust_program("env_args");
}

#[test]
fn rust_clocks_and_sleep() {
    rust_program("clocks");
}

/// `process::exit`, an error returned from `main`, a panic, and an `ExitCode`.
#[test]
fn rust_exit_statuses() {
    let exit = |args: &[&str]| {
        let mut all = vec!["rust_exit"];
        all.extend_from_slice(args);
        run("rust_exit", |b| {
            b.args(&all);
        })
    };
    let status = |o: &Outcome| match &o.result {
        Ok(()) => Some(0),
        Err(e) => e.downcast_ref::<I32Exit>().map(|e| e.0),
    };
    let o = exit(&["exit", "3"]);
    assert_eq!(
        (status(&o), o.stdout.as_str()),
        (Some(3), "exiting with 3\n")
    );
    let o = exit(&["error"]);
    assert_eq!(status(&o), Some(1));
    assert_eq!(o.stderr, "Error: \"asked to fail\"\n");
    let o = exit(&["code"]);
    assert_eq!(status(&o), Some(17));
    let o = exit(&[]);
    assert_eq!(status(&o), Some(0));
    // A panic aborts: a trap, with the message on stderr.
    let o = exit(&["panic"]);
    assert_eq!(status(&o), None);
    assert!(o.stderr.contains("asked to panic"), "{}", o.stderr);
    // An exit status of 126 or more is an error, as in Wasmtime.
    let o = exit(&["exit", "126"]);
    assert_eq!(status(&o), None);
    assert!(
        format!("{:?}", o.result).contains("invalid exit status"),
        "{:?}",
        o.result
    );
}

/// A fresh directory for `test` holding [`sandbox_tree`].
fn sandbox_layout(test: &str) -> PathBuf {
    let root = temp_dir(test);
    sandbox_tree(&root);
    root
}

/// The layout `tests/wasi/sandbox.c` expects, made in `root`: `outside/secret.txt` next to
/// the preopen `box`, and in `box` symlinks that lead out, loops, and `swap/secret.txt`.
/// Returns the path of `box`.
pub(crate) fn sandbox_tree(root: &Path) -> PathBuf {
    use std::os::unix::fs::symlink;
    let (outside, boxed) = (root.join("outside"), root.join("box"));
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(boxed.join("sub")).unwrap();
    std::fs::create_dir_all(boxed.join("swap")).unwrap();
    std::fs::write(outside.join("secret.txt"), "SECRET").unwrap();
    std::fs::write(boxed.join("swap/secret.txt"), "INSIDE").unwrap();
    symlink(&outside, boxed.join("abs")).unwrap();
    symlink("..", boxed.join("up")).unwrap();
    symlink("../..", boxed.join("sub/upup")).unwrap();
    symlink("/proc", boxed.join("proc")).unwrap();
    symlink("/dev", boxed.join("dev")).unwrap();
    symlink("loop2", boxed.join("loop1")).unwrap();
    symlink("loop1", boxed.join("loop2")).unwrap();
    symlink("self", boxed.join("self")).unwrap();
    boxed
}

/// Every name under `dir`, recursively, without following symlinks.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.symlink_metadata().unwrap().is_dir() {
            out.extend(tree(&path));
        }
        out.push(path);
    }
    out.sort();
    out
}

fn sandbox_checks(test: &str) {
    let root = sandbox_layout(test);
    let before = tree(&root);
    let o = run("sandbox", |b| {
        b.preopened_dir(root.join("box"), "/sandbox").unwrap();
    });
    assert!(
        o.result.is_ok() && o.stdout.ends_with(" 0 mismatches\n"),
        "{:?}\n{}",
        o.result.err(),
        o.stdout
    );
    assert_eq!(tree(&root), before, "the guest changed the tree");
    assert_eq!(
        std::fs::read_to_string(root.join("outside/secret.txt")).unwrap(),
        "SECRET"
    );
}

/// While the guest opens `swap/secret.txt` again and again, a host thread keeps exchanging
/// `swap` with a symlink to the directory outside: the guest never reads the secret.
fn racing_swap(test: &str) {
    let root = sandbox_layout(test);
    let boxed = root.join("box");
    std::os::unix::fs::symlink(root.join("outside"), boxed.join("alt")).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let (a, b) = (
            std::ffi::CString::new(boxed.join("swap").into_os_string().into_encoded_bytes())
                .unwrap(),
            std::ffi::CString::new(boxed.join("alt").into_os_string().into_encoded_bytes())
                .unwrap(),
        );
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: both paths are NUL-terminated strings that outlive the call.
                let r = unsafe {
                    libc::renameat2(
                        libc::AT_FDCWD,
                        a.as_ptr(),
                        libc::AT_FDCWD,
                        b.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
                swaps += 1;
            }
            swaps
        })
    };
    // The guest never reads the secret (the property under test). It also fails when it
    // opened nothing at all, which a loaded machine can cause by parking the swapper while
    // `swap` is the symlink for the guest's whole run: such a run is repeated.
    let mut runs = 0;
    let o = loop {
        runs += 1;
        let o = run("sandbox", |b| {
            b.args(&["sandbox", "race"])
                .preopened_dir(&boxed, "/sandbox")
                .unwrap();
        });
        assert!(o.stdout.contains("read the secret 0 times"), "{}", o.stdout);
        if !o.stdout.contains("opened 0 times") || runs == 5 {
            break o;
        }
    };
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 0);
    assert!(o.result.is_ok(), "{:?}\n{}", o.result.err(), o.stdout);
}

#[test]
fn sandbox_holds_against_escapes() {
    sandbox_checks("sandbox");
}

#[test]
fn sandbox_holds_while_a_directory_is_swapped_for_a_symlink() {
    racing_swap("sandbox-race");
}

/// The same two tests with the component walk instead of `openat2`, in a child process
/// (the choice is process-wide).
#[test]
fn sandbox_holds_with_the_component_walk() {
    const CHILD: &str = "WASMJIT_WASI_TEST_WALK";
    if std::env::var_os(CHILD).is_some() {
        wasmjit_wasi::force_component_walk();
        assert!(!wasmjit_wasi::kernel_resolves_paths());
        sandbox_checks("sandbox-walk");
        racing_swap("sandbox-walk-race");
        return;
    }
    // This test's name in the harness: its module path inside the test crate.
    let module = module_path!()
        .split_once("::")
        .map_or("", |(_, inner)| inner);
    let name = format!("{module}::sandbox_holds_with_the_component_walk");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name.as_str(), "--exact", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
