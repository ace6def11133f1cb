//! `WasiCtx` (one guest's WASI state) and `WasiCtxBuilder`.

use super::fdtable::{Desc, DirPerms, FdTable, FilePerms, InputStream, OpenDir, OutputStream};
use anyhow::{bail, Context, Result};
use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The state WASI host functions work on: arguments, environment and descriptors.
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) fds: FdTable,
}

impl WasiCtx {
    /// A builder (no args, no env, no preopens, stdio discarded/empty).
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }
}

/// Builds a [`WasiCtx`]. By default the guest gets no arguments, no environment, no
/// directories, an empty stdin and discarded stdout/stderr.
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: InputStream,
    stdout: OutputStream,
    stderr: OutputStream,
    preopens: Vec<(OwnedFd, String, DirPerms, FilePerms)>,
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl WasiCtxBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self {
            args: Vec::new(),
            env: Vec::new(),
            stdin: InputStream::Null,
            stdout: OutputStream::Null,
            stderr: OutputStream::Null,
            preopens: Vec::new(),
        }
    }

    /// Appends one argument (the first is conventionally the program name).
    pub fn arg(&mut self, arg: impl AsRef<str>) -> &mut Self {
        self.args.push(arg.as_ref().to_string());
        self
    }

    /// Appends arguments.
    pub fn args(&mut self, args: &[impl AsRef<str>]) -> &mut Self {
        self.args
            .extend(args.iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// The host process's arguments.
    pub fn inherit_args(&mut self) -> &mut Self {
        self.args = std::env::args().collect();
        self
    }

    /// Adds an environment variable.
    pub fn env(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> &mut Self {
        self.env
            .push((key.as_ref().to_string(), value.as_ref().to_string()));
        self
    }

    /// Adds environment variables.
    pub fn envs(&mut self, env: &[(impl AsRef<str>, impl AsRef<str>)]) -> &mut Self {
        for (k, v) in env {
            self.env(k, v);
        }
        self
    }

    /// The host process's environment (variables that are not UTF-8 are skipped).
    pub fn inherit_env(&mut self) -> &mut Self {
        self.env = std::env::vars().collect();
        self
    }

    /// The guest's stdin.
    pub fn stdin(&mut self, s: impl Into<InputStream>) -> &mut Self {
        self.stdin = s.into();
        self
    }
    /// The guest's stdout.
    pub fn stdout(&mut self, s: impl Into<OutputStream>) -> &mut Self {
        self.stdout = s.into();
        self
    }
    /// The guest's stderr.
    pub fn stderr(&mut self, s: impl Into<OutputStream>) -> &mut Self {
        self.stderr = s.into();
        self
    }
    /// The host's stdin.
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin = InputStream::Inherit;
        self
    }
    /// The host's stdout.
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdout = OutputStream::Inherit;
        self
    }
    /// The host's stderr.
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr = OutputStream::Inherit;
        self
    }
    /// The host's stdin, stdout and stderr.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Gives the guest the host directory `host_path` under the name `guest_path`. The guest
    /// reaches nothing outside it: `..` past it, absolute paths and symlinks that lead out are
    /// refused. Fails when the directory cannot be opened. The guest may do anything inside
    /// (see [`WasiCtxBuilder::preopened_dir_with_perms`]).
    pub fn preopened_dir(
        &mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl AsRef<str>,
    ) -> Result<&mut Self> {
        self.preopened_dir_with_perms(host_path, guest_path, DirPerms::ALL, FilePerms::ALL)
    }

    /// [`WasiCtxBuilder::preopened_dir`] with limits: what is not permitted fails with
    /// `EPERM`.
    pub fn preopened_dir_with_perms(
        &mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl AsRef<str>,
        perms: DirPerms,
        file_perms: FilePerms,
    ) -> Result<&mut Self> {
        let host_path = host_path.as_ref();
        let c = CString::new(host_path.as_os_str().as_bytes())
            .context("directory path contains a NUL byte")?;
        // SAFETY: `c` is a NUL-terminated path; `open` has no other preconditions.
        let raw = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if raw < 0 {
            let e = std::io::Error::last_os_error();
            bail!("cannot open directory {}: {e}", host_path.display());
        }
        // SAFETY: `raw` is a descriptor we just opened and own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        self.preopens
            .push((fd, guest_path.as_ref().to_string(), perms, file_perms));
        Ok(self)
    }

    /// [`WasiCtxBuilder::build`], under the name Wasmtime's preview 1 builder uses.
    pub fn build_p1(&mut self) -> WasiCtx {
        self.build()
    }

    /// The context. The builder is left empty (as after [`WasiCtxBuilder::new`]).
    pub fn build(&mut self) -> WasiCtx {
        let b = std::mem::take(self);
        let mut fds = FdTable::default();
        fds.insert_at(0, Desc::Stdin(b.stdin));
        fds.insert_at(1, Desc::Output(b.stdout, 1));
        fds.insert_at(2, Desc::Output(b.stderr, 2));
        for (fd, guest, perms, file_perms) in b.preopens {
            // Cannot fail: the table only grows by one per preopen.
            let _ = fds.push(Desc::Dir(OpenDir {
                fd,
                preopen: Some(guest),
                perms,
                file_perms,
            }));
        }
        WasiCtx {
            args: b.args,
            env: b.env,
            fds,
        }
    }
}
