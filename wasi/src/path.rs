//! Sandboxed path resolution: a guest path is walked one component at a time from its
//! directory descriptor with `openat`, so it can never leave that directory. `..` pops a
//! directory the walk entered (and is refused at the start directory), absolute paths are
//! refused, and symlinks are expanded by the walk itself under the same rules.

use super::errno::{Errno, WResult};
use std::collections::VecDeque;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Symlinks expanded in one resolution before giving up with `ELOOP`.
const MAX_SYMLINKS: u32 = 40;

fn cstr(s: &str) -> WResult<CString> {
    CString::new(s).map_err(|_| Errno::ILSEQ)
}

/// `dup` of a directory descriptor.
fn dup(fd: BorrowedFd<'_>) -> WResult<OwnedFd> {
    fd.try_clone_to_owned().map_err(Errno::from)
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
            Some(libc::EINVAL) | Some(libc::ENOENT) => Ok(None),
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

/// Resolves `path` relative to the directory `base`: the directory that holds its last
/// component (an owned descriptor) and that component's name (`.` for the directory
/// itself). With `follow`, a symlink in last position is expanded too; intermediate ones
/// always are. Errors: `ENOTCAPABLE` for a path that would leave `base`, `ENOENT` for an
/// empty path, `ELOOP` after too many symlinks.
pub(crate) fn resolve(
    base: BorrowedFd<'_>,
    path: &str,
    follow: bool,
) -> WResult<(OwnedFd, String)> {
    if path.is_empty() {
        return Err(Errno::NOENT);
    }
    if path.starts_with('/') {
        return Err(Errno::NOTCAPABLE);
    }
    if path.contains('\0') {
        return Err(Errno::ILSEQ);
    }
    let mut stack = vec![dup(base)?];
    let mut pending = components(path);
    if pending.is_empty() {
        pending.push_back(".".to_string());
    }
    let mut links = 0;
    while let Some(comp) = pending.pop_front() {
        let last = pending.is_empty();
        let top = stack.last().expect("the stack keeps its base");
        match comp.as_str() {
            "." => {}
            ".." => {
                if stack.len() == 1 {
                    return Err(Errno::NOTCAPABLE);
                }
                stack.pop();
            }
            name => {
                if last && !follow {
                    let dir = stack.pop().expect("non-empty");
                    return Ok((dir, name.to_string()));
                }
                if let Some(target) = readlink(top.as_fd(), name)? {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Errno::LOOP);
                    }
                    let target = String::from_utf8(target).map_err(|_| Errno::ILSEQ)?;
                    if target.starts_with('/') {
                        return Err(Errno::NOTCAPABLE);
                    }
                    let mut expanded = components(&target);
                    if expanded.is_empty() {
                        return Err(Errno::NOENT);
                    }
                    expanded.extend(pending.drain(..));
                    pending = expanded;
                    continue;
                }
                if last {
                    let dir = stack.pop().expect("non-empty");
                    return Ok((dir, name.to_string()));
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
    // The path ended on `.` or `..`: the directory itself.
    let dir = stack.pop().expect("non-empty");
    Ok((dir, ".".to_string()))
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
