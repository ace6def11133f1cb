//! Sandboxed path resolution. A guest path is resolved relative to a directory descriptor
//! and may never leave it.
//!
//! Where the kernel has `openat2` (Linux 5.6), it enforces that: every directory on the way
//! is opened with `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`, so `..`, absolute symlinks and
//! `/proc/self/fd`-style links that lead out fail in the kernel, even while another thread
//! swaps directories for symlinks. Elsewhere (`ENOSYS`, or a seccomp filter answering
//! `EPERM`) the same resolution walks the path one component at a time with
//! `openat(O_NOFOLLOW)`, keeping the stack of directories entered.
//!
//! Either way, what is returned is the directory holding the last component and that
//! component's name, for an `*at` call made with `AT_SYMLINK_NOFOLLOW` (or through
//! [`open_beneath`]). A symlink in last position is expanded here when the caller follows
//! symlinks, or when the path ends in `/` (which makes the kernel follow it). Leaving the
//! directory is `EPERM`, as Wasmtime reports it.

use super::errno::{Errno, WResult};
use std::collections::VecDeque;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// Symlinks expanded in one resolution before giving up with `ELOOP`.
const MAX_SYMLINKS: u32 = 40;

/// Cleared the first time `openat2` turns out to be missing.
static HAVE_OPENAT2: AtomicBool = AtomicBool::new(true);

fn cstr(s: &str) -> WResult<CString> {
    CString::new(s).map_err(|_| Errno::INVAL)
}

/// `dup` of a directory descriptor.
fn dup(fd: BorrowedFd<'_>) -> WResult<OwnedFd> {
    fd.try_clone_to_owned().map_err(Errno::from)
}

/// Whether path resolution is done by the kernel (`openat2`) rather than by the walk.
pub fn kernel_resolves_paths() -> bool {
    HAVE_OPENAT2.load(Ordering::Relaxed)
}

/// Makes every later resolution use the component walk (for tests of the fallback).
#[doc(hidden)]
pub fn force_component_walk() {
    HAVE_OPENAT2.store(false, Ordering::Relaxed);
}

/// `openat2(dir, path, flags, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`; `None` when the
/// kernel has no `openat2` (or a filter forbids it).
fn openat2_beneath(
    dir: BorrowedFd<'_>,
    path: &str,
    flags: i32,
    mode: u32,
) -> Option<WResult<OwnedFd>> {
    if !HAVE_OPENAT2.load(Ordering::Relaxed) {
        return None;
    }
    let c = match cstr(path) {
        Ok(c) => c,
        Err(e) => return Some(Err(e)),
    };
    let flags = flags | libc::O_CLOEXEC;
    // SAFETY: an all-zero `open_how` is a valid value of this plain C struct.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u32 as u64;
    // `openat2` insists on a zero mode unless a file may be created.
    // (`O_TMPFILE` includes `O_DIRECTORY`: test all its bits.)
    how.mode = if flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE {
        u64::from(mode)
    } else {
        0
    };
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    loop {
        // SAFETY: `c` is NUL-terminated, `how` is a valid `open_how` whose size is passed;
        // `dir` is a live descriptor.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                c.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if fd >= 0 {
            // SAFETY: `fd` was just opened and is owned by nobody else.
            return Some(Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) }));
        }
        let err = std::io::Error::last_os_error();
        return match err.raw_os_error() {
            // A rename elsewhere raced with the lookup: the kernel asks to try again.
            Some(libc::EAGAIN) | Some(libc::EINTR) => continue,
            Some(libc::ENOSYS) | Some(libc::EPERM) if !probe_openat2() => {
                HAVE_OPENAT2.store(false, Ordering::Relaxed);
                None
            }
            // The path (or a symlink on it) leads out of `dir`.
            Some(libc::EXDEV) => Some(Err(Errno::PERM)),
            _ => Some(Err(err.into())),
        };
    }
}

/// Whether `openat2` works at all: opens `/` with it.
fn probe_openat2() -> bool {
    // SAFETY: an all-zero `open_how` is a valid value of this plain C struct.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    // SAFETY: the path is a NUL-terminated literal and `how` a valid `open_how`.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            c"/".as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return false;
    }
    // SAFETY: `fd` was just opened and is owned by nobody else.
    drop(unsafe { OwnedFd::from_raw_fd(fd as i32) });
    true
}

/// Opens `path` (relative, already checked) below `dir` with `flags`, never leaving `dir`:
/// through `openat2` where the kernel has it, or by resolving the path first.
pub(crate) fn open_beneath(
    dir: BorrowedFd<'_>,
    path: &str,
    flags: i32,
    mode: u32,
) -> WResult<OwnedFd> {
    if let Some(result) = openat2_beneath(dir, path, flags, mode) {
        return result;
    }
    let (parent, name) = resolve(dir, path, flags & libc::O_NOFOLLOW == 0)?;
    openat(parent.as_fd(), &name, flags | libc::O_NOFOLLOW, mode)
}

/// The target of the symlink `name` in `dir`, or `None` when it is not a symlink (or absent).
pub(crate) fn readlink(dir: BorrowedFd<'_>, name: &str) -> WResult<Option<Vec<u8>>> {
    let c = cstr(name)?;
    let mut buf = vec![0u8; 4096];
    // SAFETY: `c` is NUL-terminated and `buf` is writable for `buf.len()` bytes.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            c.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EINVAL) | Some(libc::ENOENT) | Some(libc::ENOTDIR) => Ok(None),
            _ => Err(e.into()),
        };
    }
    buf.truncate(n as usize);
    Ok(Some(buf))
}

fn components(path: &str) -> VecDeque<String> {
    path.split('/')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// Checks a guest path: not empty (`ENOENT`), not absolute (`EPERM`), no NUL (`EINVAL`),
/// shorter than `PATH_MAX` (`ENAMETOOLONG`, as the kernel would say, walk or not).
fn check_path(path: &str) -> WResult<()> {
    if path.is_empty() {
        return Err(Errno::NOENT);
    }
    if path.len() >= libc::PATH_MAX as usize {
        return Err(Errno::NAMETOOLONG);
    }
    if path.starts_with('/') {
        return Err(Errno::PERM);
    }
    if path.contains('\0') {
        return Err(Errno::INVAL);
    }
    Ok(())
}

/// Resolves `path` relative to the directory `base`: the directory that holds its last
/// component (an owned descriptor) and that component's name (`.` for the directory
/// itself), with a `/` after it when the path ended in one. With `follow`, a symlink in last
/// position is expanded too; intermediate ones always are. Errors: `EPERM` for a path that
/// would leave `base`, `ENOENT` for an empty path, `ELOOP` after too many symlinks.
pub(crate) fn resolve(
    base: BorrowedFd<'_>,
    path: &str,
    follow: bool,
) -> WResult<(OwnedFd, String)> {
    check_path(path)?;
    let mut path = path.to_string();
    let mut links = 0;
    loop {
        let trailing_slash = path.ends_with('/');
        let trimmed = path.trim_end_matches('/');
        let (parent, last) = match trimmed.rfind('/') {
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => (".", trimmed),
        };
        if last == "." || last == ".." {
            return Ok((open_dir(base, trimmed)?, ".".to_string()));
        }
        let dir = open_dir(base, if parent.is_empty() { "." } else { parent })?;
        if follow || trailing_slash {
            if let Some(target) = readlink(dir.as_fd(), last)? {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Errno::LOOP);
                }
                let target = String::from_utf8(target).map_err(|_| Errno::ILSEQ)?;
                if target.starts_with('/') {
                    return Err(Errno::PERM);
                }
                if target.is_empty() {
                    return Err(Errno::NOENT);
                }
                let slash = if trailing_slash { "/" } else { "" };
                path = match trimmed.rfind('/') {
                    Some(_) => format!("{parent}/{target}{slash}"),
                    None => format!("{target}{slash}"),
                };
                continue;
            }
        }
        let name = if trailing_slash {
            format!("{last}/")
        } else {
            last.to_string()
        };
        return Ok((dir, name));
    }
}

/// Opens the directory `path` below `base` for use as the base of `*at` calls.
fn open_dir(base: BorrowedFd<'_>, path: &str) -> WResult<OwnedFd> {
    if path == "." {
        return dup(base);
    }
    match openat2_beneath(base, path, libc::O_PATH | libc::O_DIRECTORY, 0) {
        Some(result) => result,
        None => walk(base, path),
    }
}

/// The fallback of [`open_dir`]: walks `path` from `base` one component at a time, every
/// component opened with `O_NOFOLLOW` and symlinks expanded by the walk itself.
fn walk(base: BorrowedFd<'_>, path: &str) -> WResult<OwnedFd> {
    let mut stack = vec![dup(base)?];
    let mut pending = components(path);
    let mut links = 0;
    while let Some(comp) = pending.pop_front() {
        let top = stack.last().expect("the stack keeps its base");
        match comp.as_str() {
            "." => {}
            ".." => {
                if stack.len() == 1 {
                    return Err(Errno::PERM);
                }
                stack.pop();
            }
            name => {
                if let Some(target) = readlink(top.as_fd(), name)? {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Errno::LOOP);
                    }
                    let target = String::from_utf8(target).map_err(|_| Errno::ILSEQ)?;
                    if target.starts_with('/') {
                        return Err(Errno::PERM);
                    }
                    let mut expanded = components(&target);
                    if expanded.is_empty() {
                        return Err(Errno::NOENT);
                    }
                    expanded.extend(pending.drain(..));
                    pending = expanded;
                    continue;
                }
                let next = openat(
                    top.as_fd(),
                    name,
                    libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW,
                    0,
                )?;
                stack.push(next);
            }
        }
    }
    Ok(stack.pop().expect("non-empty"))
}

/// `openat(dir, name, flags | O_CLOEXEC, mode)`.
pub(crate) fn openat(dir: BorrowedFd<'_>, name: &str, flags: i32, mode: u32) -> WResult<OwnedFd> {
    let c = cstr(name)?;
    // SAFETY: `c` is NUL-terminated; `dir` is a live descriptor.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(Errno::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Runs a libc `*at` call that returns -1 on error.
pub(crate) fn check(ret: libc::c_int) -> WResult<()> {
    if ret < 0 {
        Err(Errno::last_os_error())
    } else {
        Ok(())
    }
}

pub(crate) fn c_name(name: &str) -> WResult<CString> {
    cstr(name)
}
