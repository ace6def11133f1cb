//! Shared by the programs: each check prints a line on a mismatch and counts it; `finish`
//! prints a summary and exits non-zero when anything differed. The expected values are what
//! Wasmtime 48 gives; the host lays out `/sandbox` with `given.txt` ("given by the host\n")
//! and `given-dir/a` ("a").

use std::fmt::Debug;
use std::io;

pub struct Checks {
    name: &'static str,
    checks: u32,
    failures: u32,
}

impl Checks {
    pub fn new(name: &'static str) -> Checks {
        Checks {
            name,
            checks: 0,
            failures: 0,
        }
    }

    fn fail(&mut self, what: &str, detail: String) {
        println!("MISMATCH {what}: {detail}");
        self.failures += 1;
    }

    /// `got` equals `want`.
    pub fn eq<T: PartialEq + Debug>(&mut self, what: &str, got: T, want: T) {
        self.checks += 1;
        if got != want {
            self.fail(what, format!("got {got:?}, want {want:?}"));
        }
    }

    /// `cond` holds.
    pub fn is(&mut self, what: &str, cond: bool) {
        self.eq(what, cond, true);
    }

    /// `result` is a success; its value.
    pub fn ok<T, E: Debug>(&mut self, what: &str, result: Result<T, E>) -> Option<T> {
        self.checks += 1;
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(what, format!("failed: {e:?}"));
                None
            }
        }
    }

    /// `result` is an error of `kind`.
    pub fn err<T: Debug>(&mut self, what: &str, result: io::Result<T>, kind: io::ErrorKind) {
        self.checks += 1;
        match result {
            Ok(v) => self.fail(what, format!("succeeded with {v:?}, want {kind:?}")),
            Err(e) if e.kind() != kind => self.fail(what, format!("got {e:?}, want {kind:?}")),
            Err(_) => {}
        }
    }

    /// `result` is an error whose raw (WASI) errno is `errno`.
    pub fn errno<T: Debug>(&mut self, what: &str, result: io::Result<T>, errno: i32) {
        self.checks += 1;
        match result {
            Ok(v) => self.fail(what, format!("succeeded with {v:?}, want errno {errno}")),
            Err(e) if e.raw_os_error() != Some(errno) => {
                self.fail(what, format!("got {e:?}, want errno {errno}"))
            }
            Err(_) => {}
        }
    }

    pub fn finish(self) -> ! {
        println!(
            "{}: {} checks, {} mismatches",
            self.name, self.checks, self.failures
        );
        std::process::exit(if self.failures == 0 { 0 } else { 1 })
    }
}

/// The sorted names in `dir`.
pub fn names(dir: &str) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        names.push(entry?.file_name().into_string().unwrap());
    }
    names.sort();
    Ok(names)
}

/// `symlink(target, link)` through wasi-libc (std's `symlink_path` is unstable).
pub fn symlink(target: &str, link: &str) -> io::Result<()> {
    extern "C" {
        fn symlink(target: *const std::ffi::c_char, link: *const std::ffi::c_char) -> i32;
    }
    let (t, l) = (
        std::ffi::CString::new(target).unwrap(),
        std::ffi::CString::new(link).unwrap(),
    );
    // SAFETY: both strings are NUL-terminated and live across the call.
    if unsafe { symlink(t.as_ptr(), l.as_ptr()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
