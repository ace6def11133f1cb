//! WASI preview 1 (`wasi_snapshot_preview1`) for modules run by wasmjit.
//!
//! Build a [`WasiCtx`] with [`WasiCtxBuilder`], keep it in the store's data, and add the
//! functions to a linker with [`add_to_linker`]:
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use wasmjit_wasi::{add_to_linker, WasiCtx, WasiCtxBuilder};
//! use wasmjit::{Engine, Linker, Module, Store};
//! struct Host { wasi: WasiCtx }
//! let engine = Engine::default();
//! let module = Module::from_file(&engine, "hello.wasm")?;
//! let mut linker = Linker::<Host>::new(&engine);
//! add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi)?;
//! let wasi = WasiCtxBuilder::new().inherit_stdio().args(&["hello"]).build();
//! let mut store = Store::new(&engine, Host { wasi });
//! let instance = linker.instantiate(&mut store, &module)?;
//! instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
//! # Ok(()) }
//! ```
//!
//! Host functions return preview1 errno values to the guest, an unknown descriptor being
//! `EBADF`. As in Wasmtime (whose `wiggle` layer follows the preview1 rule "if a misaligned
//! or out-of-bounds pointer is passed to a function, the function shall trap"), a pointer
//! outside the module's exported `memory` or not aligned for its type ends the call with an
//! error (a trap), and so does any call from a module that exports no `memory`. `proc_exit`
//! ends the call with an error that downcasts to [`I32Exit`].
//!
//! # Behaviour, function by function
//!
//! The reference is Wasmtime's `wasmtime-wasi` preview 1 (48.x), itself built on WASI 0.2
//! and `cap-std`; the programs of `tests/wasi/` check these answers, and
//! `tests/all/wasi_wasmtime.rs` (`--features compare`) runs each under both runtimes.
//!
//! - **Arguments** are checked before anything else, as Wasmtime decodes them: an enum
//!   value preview1 does not define (advice, whence, clock id, signal, event type) or a
//!   flags value with undefined bits (fdflags, oflags, lookupflags, fstflags, rights,
//!   subclockflags) is `EINVAL`, whatever the descriptor.
//! - **Descriptor numbers**: a new descriptor takes the highest number freed so far (by
//!   `fd_close`, or `fd_renumber` moving one away), else one past the highest in use.
//!
//! - **Paths** (every `path_*`): relative to a directory descriptor (`EBADF` for another
//!   kind or when not open) and never leaving it: an absolute path, a `..` too many or a
//!   symlink leading out is `EPERM`; the kernel enforces it with `openat2(RESOLVE_BENEATH |
//!   RESOLVE_NO_MAGICLINKS)` where it has it (see `path.rs`). Empty path `ENOENT`, a NUL
//!   byte `EINVAL`, invalid UTF-8 `EILSEQ`, `PATH_MAX` bytes or more `ENAMETOOLONG`, over 40
//!   symlinks `ELOOP`. A trailing `/` names a directory: on a file it is `ENOTDIR`, as the
//!   new name of `path_link`/`path_symlink` `ENOENT` (or `EEXIST`), and it makes a final
//!   symlink followed. A directory opened below a preopen inherits its `DirPerms` and
//!   `FilePerms`; what they do not grant is `EPERM`.
//! - `path_open`: `O_DIRECTORY` with `O_CREAT`, `O_EXCL` or `O_TRUNC` is `EINVAL`, on a file
//!   `ENOTDIR`; a directory asked for with `fd_write` is `EISDIR` (other writing rights are
//!   dropped, as wasi-libc asks for them freely); a symlink not followed is `ELOOP`. The
//!   fdflags `APPEND`, `NONBLOCK`, `DSYNC`, `SYNC` and `RSYNC` become the host's open flags.
//! - `path_filestat_get`, `path_filestat_set_times`: `lstat`/`utimensat`, following a final
//!   symlink only with `LOOKUP_SYMLINK_FOLLOW`; `ATIM` with `ATIM_NOW` (or `MTIM` with
//!   `MTIM_NOW`) is `EINVAL`; the `NOW` flags use the host's clock.
//! - `path_create_directory`, `path_remove_directory`, `path_unlink_file`, `path_rename`,
//!   `path_link`, `path_symlink`, `path_readlink`: the host's `*at` call on the resolved
//!   directory, with the host's errno (`EEXIST`, `ENOTEMPTY`, `EISDIR`, `ENOTDIR`...). A
//!   symlink may not hold an absolute target (`EPERM`); `path_readlink` truncates to the
//!   buffer; `path_link` follows a source symlink only with `LOOKUP_SYMLINK_FOLLOW`.
//! - `fd_fdstat_get`: stdin has only `FD_READ`, stdout and stderr only `FD_WRITE`, and are
//!   character devices when a terminal, of unknown type otherwise, with no flags. A preopened
//!   directory has the path rights, `FD_READDIR` and the `FD_FILESTAT` ones (no `FD_SEEK`,
//!   no `FD_FILESTAT_SET_SIZE`); another directory every right but `FD_SEEK`, `FD_WRITE`
//!   and the set-size ones; a file every right but `FD_READ`/`FD_READDIR` or `FD_WRITE` when
//!   not opened for them; inheriting rights equal the base ones (a preopen passes the file
//!   rights on). Flags are the host's: Linux's `O_SYNC` is also `O_DSYNC` and `O_RSYNC`, so
//!   `SYNC` or `RSYNC` reads back as all three.
//! - `fd_fdstat_set_flags`: files only (`EBADF`); `APPEND` and `NONBLOCK` change, a sync
//!   flag is `EINVAL`. `fd_fdstat_set_rights`: rights never change, so `ENOTSUP` for a file
//!   or directory, shrinking or growing; `EBADF` for stdio.
//! - `fd_read`, `fd_write`: stdio streams and files opened for it (`EBADF` otherwise, a
//!   directory included). `fd_pread`, `fd_pwrite`, `fd_seek`, `fd_tell`: files; `ESPIPE` on
//!   stdio, `EBADF` on a directory. `fd_filestat_set_size`, `fd_advise` (advice checked,
//!   then ignored): files only (`EBADF`). `fd_allocate`: `EBADF` unless a file, then
//!   `ENOTSUP` (WASI 0.2 has nothing to map it onto).
//! - `fd_filestat_get`: the host's `fstat`; for stdio only the type (as in `fd_fdstat_get`).
//!   `fd_filestat_set_times`: the times are checked first (as `path_filestat_set_times`),
//!   then files and directories only (`EBADF` for stdio). `fd_sync`, `fd_datasync`: files
//!   only (`EBADF` for directories and stdio).
//! - `fd_readdir`: `.` and `..` first (cookies 1 and 2), then the host's entries in its
//!   order, an entry's cookie being its position plus one; the buffer is filled to the brim,
//!   the last entry cut, so a full buffer means "ask again from the last whole entry"; a
//!   cookie past the end gives nothing. Not a directory: `EBADF`.
//! - `fd_prestat_get`: preopens only (`EBADF`). `fd_prestat_dir_name`: `EBADF` when not
//!   open, `ENOTDIR` for a descriptor that is not a preopen; a short buffer is
//!   `ENAMETOOLONG`. `fd_renumber`: both descriptors must be open (`EBADF`); onto itself it
//!   does nothing. `fd_close`.
//! - `poll_oneoff`: no subscriptions is `EINVAL`; a single relative clock subscription
//!   sleeps (its event counts 1 byte). Otherwise a clock other than realtime or monotonic
//!   is `EINVAL`, and a descriptor subscription on a descriptor not open, or not readable
//!   (stdin, files) or writable (stdout, stderr, files) as asked, fails the call with
//!   `EBADF`. Descriptors are ready at once, and with them only the clocks already due;
//!   otherwise the call sleeps until the earliest clock and reports every clock then due.
//!   Events follow subscription order; a descriptor event counts 1 byte and carries
//!   `FD_READWRITE_HANGUP` when a file is read at its end.
//! - `clock_res_get`, `clock_time_get`: realtime and monotonic; the CPU-time clocks are
//!   `EBADF` (WASI 0.2 has none), other ids `EINVAL`. `random_get`: the host's
//!   `getrandom`. `sched_yield`: yields the thread.
//! - `args_*`, `environ_*`: what the [`WasiCtxBuilder`] was given.
//! - `proc_exit`: an [`I32Exit`] error for a status below 126, any other an error that is
//!   not an exit. `proc_raise`: `ENOTSUP` (`EINVAL` for a number that is no signal).
//! - `sock_accept`, `sock_recv`, `sock_send`, `sock_shutdown`: no socket can be opened, so
//!   `EBADF` for a descriptor not open and `ENOTSOCK` for any other.

mod ctx;
mod errno;
mod fd;
mod fdtable;
mod misc;
mod path;
mod pathfns;

pub use ctx::{WasiCtx, WasiCtxBuilder};
pub use errno::Errno;
pub use fdtable::{
    DirPerms, FilePerms, InputStream, MemoryInputPipe, MemoryOutputPipe, OutputStream,
};
pub use path::{force_component_walk, kernel_resolves_paths};

use anyhow::Result;
use errno::{GuestMem, WResult};
use std::cell::UnsafeCell;
use std::sync::{Arc, Mutex};
use wasmjit::{AsContextMut, Caller, Extern, Linker};

/// The names `wasmtime_wasi::preview1` gives these items, for code written for Wasmtime.
/// `add_to_linker_async` is the same as `add_to_linker_sync`: the host functions never block
/// for long (`poll_oneoff` sleeps), and sync host functions run in async calls too.
pub mod preview1 {
    pub use super::add_to_linker as add_to_linker_sync;
    pub use super::add_to_linker as add_to_linker_async;
    pub use super::WasiCtx as WasiP1Ctx;
}

/// `preview1` under the name newer Wasmtime versions give it (`wasmtime_wasi::p1`).
pub mod p1 {
    pub use super::preview1::*;
}

/// The in-memory pipes under the path `wasmtime_wasi::pipe` gives them.
pub mod pipe {
    pub use super::{MemoryInputPipe, MemoryOutputPipe};
}

/// The import module name of WASI preview 1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// The error `proc_exit(code)` ends a call with: the guest asked to exit with status `.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct I32Exit(pub i32);

impl std::fmt::Display for I32Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Exited with i32 exit status {}", self.0)
    }
}

impl std::error::Error for I32Exit {}

/// Finds the store's own [`WasiCtx`] in its data.
type GetOwned<T> = dyn Fn(&mut T) -> &mut WasiCtx + Send + Sync;
/// Finds the [`WasiCtx`] several stores share in a store's data.
type GetLocked<T> = dyn Fn(&mut T) -> &Mutex<WasiCtx> + Send + Sync;

/// How host functions reach the [`WasiCtx`] in the store's data.
enum CtxAccess<T> {
    /// The store owns it ([`add_to_linker`]).
    Owned(Box<GetOwned<T>>),
    /// The stores of several threads share it behind a lock ([`add_to_linker_shared`]).
    Locked(Box<GetLocked<T>>),
}

impl<T> CtxAccess<T> {
    fn run<R>(&self, data: &mut T, body: impl FnOnce(&mut WasiCtx) -> R) -> R {
        match self {
            CtxAccess::Owned(get) => body(get(data)),
            // A thread that panicked inside a host function left the context as consistent
            // as any host function leaves it on an early return.
            CtxAccess::Locked(get) => {
                body(&mut get(data).lock().unwrap_or_else(|e| e.into_inner()))
            }
        }
    }
}

/// The error a WASI call ends with (a trap) when the calling module exports no `memory`.
const NO_MEMORY: &str = "missing required memory export";

/// Runs one host function's body with the WASI context and the caller's memory. As in
/// Wasmtime, a module without a `memory` export, and a pointer outside the memory or not
/// aligned for what it points to (`EFAULT` from [`GuestMem`]), end the call with an error (a
/// trap) instead of an errno.
fn with_ctx<T>(
    caller: &mut Caller<'_, T>,
    access: &CtxAccess<T>,
    body: impl FnOnce(&mut WasiCtx, &mut GuestMem<'_>) -> WResult<()>,
) -> Result<i32> {
    let result = match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => {
            let (bytes, data) = memory.data_and_store_mut(caller.as_context_mut());
            access.run(data, |cx| body(cx, &mut GuestMem::new(bytes)))
        }
        // A wasi-threads program's memory, which the guest's other threads may use meanwhile.
        Some(Extern::SharedMemory(memory)) => {
            let cells = memory.data();
            // SAFETY: the cells stay mapped while `memory` lives, which outlasts `bytes`. The
            // guest's other threads may access them during the call: a host function only
            // touches the buffers its caller passed, which a well-synchronised guest does not
            // use elsewhere meanwhile (as with a system call's buffers); a racing guest gets
            // unspecified bytes, never a host access outside the memory.
            let bytes = unsafe {
                std::slice::from_raw_parts_mut(UnsafeCell::raw_get(cells.as_ptr()), cells.len())
            };
            access.run(caller.data_mut(), |cx| body(cx, &mut GuestMem::new(bytes)))
        }
        _ => anyhow::bail!(NO_MEMORY),
    };
    match result {
        Ok(()) => Ok(0),
        Err(Errno::FAULT) => anyhow::bail!("pointer out of bounds or misaligned"),
        Err(Errno::BAD_ARGUMENT) => {
            anyhow::bail!("invalid argument: a value its preview1 type does not define")
        }
        Err(e) => Ok(i32::from(e.0)),
    }
}

/// Defines every `wasi_snapshot_preview1` function in `linker`; `get` finds the
/// [`WasiCtx`] in the store's data.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + 'static,
) -> Result<()> {
    define_functions(linker, CtxAccess::Owned(Box::new(get)))
}

/// [`add_to_linker`] for a program whose threads each run in a store of their own
/// (wasi-threads): `get` finds the one [`WasiCtx`] they share, which each call locks. A
/// call that blocks (`poll_oneoff` sleeping, a read of the host's stdin) holds the other
/// threads' WASI calls until it returns.
pub fn add_to_linker_shared<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &Mutex<WasiCtx> + Send + Sync + 'static,
) -> Result<()> {
    define_functions(linker, CtxAccess::Locked(Box::new(get)))
}

fn define_functions<T: 'static>(linker: &mut Linker<T>, access: CtxAccess<T>) -> Result<()> {
    let access = Arc::new(access);
    macro_rules! define {
        ($name:literal, $f:path, ($($a:ident : $t:ty),*)) => {{
            let access = access.clone();
            linker.func_wrap(
                MODULE,
                $name,
                move |mut caller: Caller<'_, T>, $($a: $t),*| -> Result<i32> {
                    with_ctx(&mut caller, &access, |cx, mem| $f(cx, mem, $($a),*))
                },
            )?;
        }};
    }
    define!("args_get", misc::args_get, (a: i32, b: i32));
    define!("args_sizes_get", misc::args_sizes_get, (a: i32, b: i32));
    define!("environ_get", misc::environ_get, (a: i32, b: i32));
    define!("environ_sizes_get", misc::environ_sizes_get, (a: i32, b: i32));
    define!("clock_res_get", misc::clock_res_get, (id: i32, out: i32));
    define!("clock_time_get", misc::clock_time_get, (id: i32, p: i64, out: i32));
    define!("random_get", misc::random_get, (buf: i32, len: i32));
    define!("sched_yield", misc::sched_yield, ());
    define!("poll_oneoff", misc::poll_oneoff, (i: i32, o: i32, n: i32, ne: i32));
    define!("fd_advise", fd::fd_advise, (fd: i32, o: i64, l: i64, a: i32));
    define!("fd_allocate", fd::fd_allocate, (fd: i32, o: i64, l: i64));
    define!("fd_close", fd::fd_close, (fd: i32));
    define!("fd_datasync", fd::fd_datasync, (fd: i32));
    define!("fd_fdstat_get", fd::fd_fdstat_get, (fd: i32, out: i32));
    define!("fd_fdstat_set_flags", fd::fd_fdstat_set_flags, (fd: i32, f: i32));
    define!("fd_fdstat_set_rights", fd::fd_fdstat_set_rights, (fd: i32, b: i64, i: i64));
    define!("fd_filestat_get", fd::fd_filestat_get, (fd: i32, out: i32));
    define!("fd_filestat_set_size", fd::fd_filestat_set_size, (fd: i32, s: i64));
    define!("fd_filestat_set_times", fd::fd_filestat_set_times, (fd: i32, a: i64, m: i64, f: i32));
    define!("fd_pread", fd::fd_pread, (fd: i32, iovs: i32, n: i32, off: i64, out: i32));
    define!("fd_prestat_get", fd::fd_prestat_get, (fd: i32, out: i32));
    define!("fd_prestat_dir_name", fd::fd_prestat_dir_name, (fd: i32, p: i32, l: i32));
    define!("fd_pwrite", fd::fd_pwrite, (fd: i32, iovs: i32, n: i32, off: i64, out: i32));
    define!("fd_read", fd::fd_read, (fd: i32, iovs: i32, n: i32, out: i32));
    define!("fd_readdir", fd::fd_readdir, (fd: i32, b: i32, l: i32, c: i64, out: i32));
    define!("fd_renumber", fd::fd_renumber, (fd: i32, to: i32));
    define!("fd_seek", fd::fd_seek, (fd: i32, off: i64, w: i32, out: i32));
    define!("fd_sync", fd::fd_sync, (fd: i32));
    define!("fd_tell", fd::fd_tell, (fd: i32, out: i32));
    define!("fd_write", fd::fd_write, (fd: i32, iovs: i32, n: i32, out: i32));
    define!("path_create_directory", pathfns::path_create_directory, (fd: i32, p: i32, l: i32));
    define!("path_filestat_get", pathfns::path_filestat_get, (fd: i32, f: i32, p: i32, l: i32, out: i32));
    define!("path_filestat_set_times", pathfns::path_filestat_set_times, (fd: i32, f: i32, p: i32, l: i32, a: i64, m: i64, fl: i32));
    define!("path_link", pathfns::path_link, (ofd: i32, of: i32, op: i32, ol: i32, nfd: i32, np: i32, nl: i32));
    define!("path_open", pathfns::path_open, (fd: i32, df: i32, p: i32, l: i32, of: i32, rb: i64, ri: i64, ff: i32, out: i32));
    define!("path_readlink", pathfns::path_readlink, (fd: i32, p: i32, l: i32, b: i32, bl: i32, out: i32));
    define!("path_remove_directory", pathfns::path_remove_directory, (fd: i32, p: i32, l: i32));
    define!("path_rename", pathfns::path_rename, (fd: i32, op: i32, ol: i32, nfd: i32, np: i32, nl: i32));
    define!("path_symlink", pathfns::path_symlink, (op: i32, ol: i32, fd: i32, np: i32, nl: i32));
    define!("path_unlink_file", pathfns::path_unlink_file, (fd: i32, p: i32, l: i32));
    // An exit status outside [0, 126) is an error, not an exit, as in Wasmtime.
    linker.func_wrap(
        MODULE,
        "proc_exit",
        |mut caller: Caller<'_, T>, code: i32| -> Result<()> {
            // A wasi-threads program's memory is shared; either kind will do.
            if !matches!(
                caller.get_export("memory"),
                Some(Extern::Memory(_) | Extern::SharedMemory(_))
            ) {
                anyhow::bail!(NO_MEMORY);
            }
            if code as u32 >= 126 {
                anyhow::bail!("exit with invalid exit status outside of [0..126)");
            }
            Err(anyhow::Error::new(I32Exit(code)))
        },
    )?;
    define!("proc_raise", misc::proc_raise, (sig: i32));
    define!("sock_accept", misc::sock_accept, (fd: i32, f: i32, out: i32));
    define!("sock_recv", misc::sock_recv, (fd: i32, d: i32, l: i32, f: i32, o1: i32, o2: i32));
    define!("sock_send", misc::sock_send, (fd: i32, d: i32, l: i32, f: i32, o: i32));
    define!("sock_shutdown", misc::sock_shutdown, (fd: i32, how: i32));
    Ok(())
}
