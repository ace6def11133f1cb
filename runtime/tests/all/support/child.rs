//! Running one `#[ignore]`d test of the current test binary in a child process, for cases
//! whose failure mode is a crash (SIGSEGV, abort): the crash fails that test instead of
//! ending the whole binary.
//!
//! Under an emulator (qemu-user without binfmt_misc) the binary is started through the runner
//! named by `WASMJIT_TEST_CHILD_RUNNER`, e.g. `qemu-aarch64 -L /usr/aarch64-linux-gnu`.

use std::process::{Command, Output};

/// Set to the test's name in the child's environment, so that a test can tell it runs there
/// ([`in_child`], [`in_child_for`]).
const CHILD_ENV: &str = "WASMJIT_TEST_CHILD";

/// The name the test harness gives test `name` of module `module` (the caller's
/// `module_path!()`): its path inside the test crate, without the crate's own name.
fn test_path(module: &str, name: &str) -> String {
    match module.split_once("::") {
        Some((_crate, inner)) => format!("{inner}::{name}"),
        None => name.to_string(),
    }
}

/// A command that runs test `name` of module `module` (pass `module_path!()`) of this binary
/// alone (ignored tests included), through the emulator when one is named.
pub fn child_command(module: &str, name: &str) -> Command {
    let exe = std::env::current_exe().expect("the test binary's path");
    let runner = std::env::var("WASMJIT_TEST_CHILD_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    command
        .args([
            "--exact",
            &test_path(module, name),
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, name);
    command
}

/// Runs test `name` of module `module` in a child process and returns what it printed and how
/// it ended.
pub fn child_output(module: &str, name: &str) -> Output {
    child_command(module, name)
        .output()
        .unwrap_or_else(|e| panic!("cannot start the child for {name}: {e}"))
}

/// Runs test `name` of module `module` in a child process and asserts that it ran and passed.
pub fn run_in_child(module: &str, name: &str) {
    let out = child_output(module, name);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child {name} failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether this process is a child started by [`child_command`].
pub fn in_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Whether this process is the child started for test `name` (so that the `#[ignore]`d
/// child tests do nothing when run by hand with `--ignored`).
pub fn in_child_for(name: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|n| n == name)
}
