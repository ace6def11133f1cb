//! The `path_*` functions; every path goes through [`super::path::resolve`].

// The functions take the arguments of their preview1 signatures.
#![allow(clippy::too_many_arguments)]

use super::ctx::WasiCtx;
use super::errno::{Errno, GuestMem, WResult};
use super::fd::{check_flags, filetype_of_mode, times, write_filestat, FDFLAGS_ALL, RIGHTS_ALL};
use super::fdtable::{Desc, DirPerms, FilePerms, OpenDir, OpenFile};
use super::path::{c_name, check, open_beneath, openat, readlink, resolve};
use std::ffi::CStr;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

const LOOKUP_SYMLINK_FOLLOW: i32 = 1;

/// `lookupflags` other than `SYMLINK_FOLLOW` trap (checked first, as Wasmtime).
fn lookup_flags(flags: i32) -> WResult<()> {
    check_flags(flags as u32 as i64, LOOKUP_SYMLINK_FOLLOW as i64)
}
const OFLAGS_CREAT: i32 = 1;
const OFLAGS_DIRECTORY: i32 = 2;
const OFLAGS_EXCL: i32 = 4;
const OFLAGS_TRUNC: i32 = 8;
const FDFLAGS_APPEND: i32 = 1;
const FDFLAGS_DSYNC: i32 = 2;
const FDFLAGS_NONBLOCK: i32 = 4;
const FDFLAGS_RSYNC: i32 = 8;
const FDFLAGS_SYNC: i32 = 16;
const RIGHT_FD_READ: i64 = 1 << 1;
const RIGHT_FD_WRITE: i64 = 1 << 6;
const RIGHT_FD_READDIR: i64 = 1 << 14;
const RIGHT_FD_ALLOCATE: i64 = 1 << 8;
const RIGHT_FD_FILESTAT_SET_SIZE: i64 = 1 << 22;

/// The entries of a directory (name, inode, preview1 filetype), `.` and `..` included.
pub(crate) fn list_dir(fd: &OwnedFd) -> WResult<Vec<(Vec<u8>, u64, u8)>> {
    // A fresh descriptor for the directory, so reading it never disturbs `fd`.
    let own = openat(fd.as_fd(), ".", libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
    let raw = own.as_raw_fd();
    // SAFETY: `raw` is an open directory descriptor; on success `fdopendir` takes it over.
    let dir = unsafe { libc::fdopendir(raw) };
    if dir.is_null() {
        return Err(Errno::last_os_error());
    }
    std::mem::forget(own);
    let mut out = Vec::new();
    loop {
        // SAFETY: `dir` is a live DIR stream; the entry it returns is valid until the next call.
        let ent = unsafe { libc::readdir(dir) };
        if ent.is_null() {
            break;
        }
        // SAFETY: `ent` is non-null and points at a dirent whose `d_name` is NUL-terminated.
        let (name, ino, dtype) = unsafe {
            let e = &*ent;
            (
                CStr::from_ptr(e.d_name.as_ptr()).to_bytes().to_vec(),
                e.d_ino,
                e.d_type,
            )
        };
        let ty = match dtype {
            libc::DT_BLK => 1,
            libc::DT_CHR => 2,
            libc::DT_DIR => 3,
            libc::DT_REG => 4,
            libc::DT_SOCK => 6,
            libc::DT_LNK => 7,
            _ => 0,
        };
        out.push((name, ino, ty));
    }
    // SAFETY: `dir` came from `fdopendir` and is closed once.
    unsafe { libc::closedir(dir) };
    Ok(out)
}

/// What a path operation needs of its directory's permissions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Read,
    Mutate,
}

/// Resolves a guest path of the directory `fd`, checking `need` against its permissions
/// (`EPERM` when not granted). Also returns the permissions, for what is opened below.
fn lookup(
    cx: &mut WasiCtx,
    mem: &GuestMem<'_>,
    fd: i32,
    ptr: i32,
    len: i32,
    follow: bool,
    need: Need,
) -> WResult<(OwnedFd, String, DirPerms, FilePerms)> {
    let path = mem.str(ptr, len)?;
    lookup_str(cx, fd, &path, follow, need)
}

/// [`lookup`] of a path already read from guest memory.
fn lookup_str(
    cx: &mut WasiCtx,
    fd: i32,
    path: &str,
    follow: bool,
    need: Need,
) -> WResult<(OwnedFd, String, DirPerms, FilePerms)> {
    let dir = cx.fds.dir(fd)?;
    let granted = match need {
        Need::Read => dir.perms.read,
        Need::Mutate => dir.perms.mutate,
    };
    if !granted {
        return Err(Errno::PERM);
    }
    let (parent, name) = resolve(dir.fd.as_fd(), path, follow)?;
    Ok((parent, name, dir.perms, dir.file_perms))
}

/// `lstat` of `name` in `dir`; a name ending in `/` must be a directory (`ENOTDIR`), opened
/// beneath `dir` so that a symlink swapped in cannot lead out.
fn stat_at(dir: &OwnedFd, name: &str) -> WResult<libc::stat> {
    if name.ends_with('/') {
        let opened = open_beneath(dir.as_fd(), name, libc::O_PATH | libc::O_DIRECTORY, 0)?;
        return super::fd::fstat(opened.as_raw_fd());
    }
    let c = c_name(name)?;
    // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is NUL-terminated and `st` is a valid output location.
    check(unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            c.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    Ok(st)
}

pub(crate) fn path_open(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    dirflags: i32,
    path: i32,
    len: i32,
    oflags: i32,
    rights: i64,
    _inheriting: i64,
    fdflags: i32,
    out: i32,
) -> WResult<()> {
    lookup_flags(dirflags)?;
    check_flags(oflags as u32 as i64, 15)?;
    check_flags(rights, RIGHTS_ALL as i64)?;
    check_flags(_inheriting, RIGHTS_ALL as i64)?;
    check_flags(fdflags as u32 as i64, FDFLAGS_ALL as i64)?;
    mem.slice(out, 4)?;
    let follow = dirflags & LOOKUP_SYMLINK_FOLLOW != 0;
    // Wasmtime's order: the path, then the directory (a file is `ENOTDIR`, stdio `EBADF`),
    // then the sync flags, which it does not support (`ENOTSUP`).
    mem.str(path, len)?;
    match cx.fds.get(fd)? {
        Desc::Dir(_) => {}
        Desc::File(_) => return Err(Errno::NOTDIR),
        _ => return Err(Errno::BADF),
    }
    if fdflags & (FDFLAGS_DSYNC | FDFLAGS_SYNC | FDFLAGS_RSYNC) != 0 {
        return Err(Errno::NOTSUP);
    }
    // A directory cannot be created, truncated or exclusively created (`EINVAL`).
    if oflags & OFLAGS_DIRECTORY != 0 && oflags & (OFLAGS_CREAT | OFLAGS_EXCL | OFLAGS_TRUNC) != 0 {
        return Err(Errno::INVAL);
    }
    let (dir, name, perms, file_perms) = lookup(cx, mem, fd, path, len, follow, Need::Read)?;
    let read = rights & (RIGHT_FD_READ | RIGHT_FD_READDIR) != 0;
    let write = rights & (RIGHT_FD_WRITE | RIGHT_FD_ALLOCATE | RIGHT_FD_FILESTAT_SET_SIZE) != 0
        || oflags & OFLAGS_TRUNC != 0;
    if (oflags & OFLAGS_CREAT != 0 && !perms.mutate) || (write && !file_perms.write) {
        return Err(Errno::PERM);
    }
    // Symlinks were expanded by `resolve` (or must not be followed): never follow here.
    let mut flags = libc::O_NOFOLLOW;
    for (requested, open_flag) in [
        (oflags & OFLAGS_CREAT, libc::O_CREAT),
        (oflags & OFLAGS_EXCL, libc::O_EXCL),
        (oflags & OFLAGS_TRUNC, libc::O_TRUNC),
        (oflags & OFLAGS_DIRECTORY, libc::O_DIRECTORY),
        (fdflags & FDFLAGS_APPEND, libc::O_APPEND),
        (fdflags & FDFLAGS_NONBLOCK, libc::O_NONBLOCK),
    ] {
        if requested != 0 {
            flags |= open_flag;
        }
    }
    let access = match (read, write) {
        (_, false) => libc::O_RDONLY,
        (false, true) => libc::O_WRONLY,
        (true, true) => libc::O_RDWR,
    };
    let opened = match open_beneath(dir.as_fd(), &name, flags | access, 0o666) {
        // Only `fd_write` makes a directory unopenable (`EISDIR`, as Linux and Wasmtime);
        // wasi-libc asks for the other writing rights whenever it may need them.
        Err(Errno::ISDIR)
            if rights & RIGHT_FD_WRITE == 0 && flags & (libc::O_CREAT | libc::O_TRUNC) == 0 =>
        {
            open_beneath(dir.as_fd(), &name, flags | libc::O_RDONLY, 0)?
        }
        other => other?,
    };
    let st = super::fd::fstat(opened.as_raw_fd())?;
    let desc = if filetype_of_mode(st.st_mode) == super::fd::FILETYPE_DIRECTORY {
        Desc::Dir(OpenDir {
            fd: opened,
            preopen: None,
            perms,
            file_perms,
        })
    } else {
        if read && !file_perms.read {
            return Err(Errno::PERM);
        }
        let writable = access != libc::O_RDONLY;
        Desc::File(OpenFile {
            file: File::from(opened),
            read: (read || !writable) && file_perms.read,
            write: writable,
        })
    };
    let new_fd = cx.fds.push(desc)?;
    mem.write_u32(out, new_fd)
}

pub(crate) fn path_filestat_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    flags: i32,
    path: i32,
    len: i32,
    out: i32,
) -> WResult<()> {
    lookup_flags(flags)?;
    mem.slice(out, 64)?;
    let follow = flags & LOOKUP_SYMLINK_FOLLOW != 0;
    let path = mem.str(path, len)?;
    // Without following, a trailing `/` is dropped (as Wasmtime, whose cap-std resolves the
    // parent and stats the last name itself): `file/` is the file, `link/` the symlink.
    let path = match path.trim_end_matches('/') {
        trimmed if !follow && !trimmed.is_empty() => trimmed,
        _ => path.as_str(),
    };
    let (dir, name, ..) = lookup_str(cx, fd, path, follow, Need::Read)?;
    let st = stat_at(&dir, &name)?;
    write_filestat(mem, out, &st)
}

pub(crate) fn path_filestat_set_times(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    flags: i32,
    path: i32,
    len: i32,
    atim: i64,
    mtim: i64,
    fstflags: i32,
) -> WResult<()> {
    lookup_flags(flags)?;
    let ts = times(atim, mtim, fstflags)?;
    let follow = flags & LOOKUP_SYMLINK_FOLLOW != 0;
    let (dir, name, ..) = lookup(cx, mem, fd, path, len, follow, Need::Mutate)?;
    // A name ending in `/` must be a directory: opened beneath `dir`, then changed itself.
    let (dir, name) = if name.ends_with('/') {
        let opened = open_beneath(dir.as_fd(), &name, libc::O_PATH | libc::O_DIRECTORY, 0)?;
        (opened, ".".to_string())
    } else {
        (dir, name)
    };
    let c = c_name(&name)?;
    // SAFETY: `c` is NUL-terminated and `ts` holds the two timespecs utimensat reads.
    check(unsafe {
        libc::utimensat(
            dir.as_raw_fd(),
            c.as_ptr(),
            ts.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

pub(crate) fn path_create_directory(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    path: i32,
    len: i32,
) -> WResult<()> {
    let (dir, name, ..) = lookup(cx, mem, fd, path, len, false, Need::Mutate)?;
    let c = c_name(&name)?;
    // SAFETY: `c` is NUL-terminated; `dir` is a live descriptor.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), 0o777) })
}

fn unlink(
    cx: &mut WasiCtx,
    mem: &GuestMem<'_>,
    fd: i32,
    path: i32,
    len: i32,
    flags: i32,
) -> WResult<()> {
    let (dir, name, ..) = lookup(cx, mem, fd, path, len, false, Need::Mutate)?;
    // `dir/` names the directory itself, which cannot be removed through itself: `EINVAL`,
    // as Wasmtime (cap-std removes `.` inside it); a file or nothing there fails to open.
    if flags == libc::AT_REMOVEDIR && name.ends_with('/') {
        open_beneath(dir.as_fd(), &name, libc::O_PATH | libc::O_DIRECTORY, 0)?;
        return Err(Errno::INVAL);
    }
    if name == "." {
        return Err(if flags != 0 {
            Errno::INVAL
        } else {
            Errno::ISDIR
        });
    }
    let c = c_name(&name)?;
    // SAFETY: `c` is NUL-terminated; `dir` is a live descriptor.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), flags) })
}

pub(crate) fn path_remove_directory(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    path: i32,
    len: i32,
) -> WResult<()> {
    unlink(cx, mem, fd, path, len, libc::AT_REMOVEDIR)
}

pub(crate) fn path_unlink_file(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    path: i32,
    len: i32,
) -> WResult<()> {
    unlink(cx, mem, fd, path, len, 0)
}

pub(crate) fn path_rename(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    old: i32,
    old_len: i32,
    new_fd: i32,
    new: i32,
    new_len: i32,
) -> WResult<()> {
    let (odir, oname, ..) = lookup(cx, mem, fd, old, old_len, false, Need::Mutate)?;
    let (ndir, nname, ..) = lookup(cx, mem, new_fd, new, new_len, false, Need::Mutate)?;
    let (oc, nc) = (c_name(&oname)?, c_name(&nname)?);
    // SAFETY: both names are NUL-terminated; both descriptors are live.
    check(unsafe { libc::renameat(odir.as_raw_fd(), oc.as_ptr(), ndir.as_raw_fd(), nc.as_ptr()) })
}

pub(crate) fn path_link(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    old_fd: i32,
    old_flags: i32,
    old: i32,
    old_len: i32,
    new_fd: i32,
    new: i32,
    new_len: i32,
) -> WResult<()> {
    lookup_flags(old_flags)?;
    // Wasmtime never follows the source: with `SYMLINK_FOLLOW` the call is `EINVAL`, once
    // both descriptors are directories whose permissions allow it.
    if old_flags & LOOKUP_SYMLINK_FOLLOW != 0 {
        mem.str(old, old_len)?;
        mem.str(new, new_len)?;
        for fd in [old_fd, new_fd] {
            if !cx.fds.dir(fd)?.perms.mutate {
                return Err(Errno::PERM);
            }
        }
        return Err(Errno::INVAL);
    }
    let (odir, oname, ..) = lookup(cx, mem, old_fd, old, old_len, false, Need::Read)?;
    let (ndir, nname, ..) = lookup(cx, mem, new_fd, new, new_len, false, Need::Mutate)?;
    let (oc, nc) = (c_name(&oname)?, c_name(&nname)?);
    // SAFETY: both names are NUL-terminated; both descriptors are live.
    check(unsafe {
        libc::linkat(
            odir.as_raw_fd(),
            oc.as_ptr(),
            ndir.as_raw_fd(),
            nc.as_ptr(),
            0,
        )
    })
}

pub(crate) fn path_readlink(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    path: i32,
    len: i32,
    buf: i32,
    buf_len: i32,
    used: i32,
) -> WResult<()> {
    mem.slice(buf, buf_len as u32)?;
    mem.slice(used, 4)?;
    let (dir, name, ..) = lookup(cx, mem, fd, path, len, false, Need::Read)?;
    let target = readlink(dir.as_fd(), &name)?.ok_or(Errno::INVAL)?;
    let n = target.len().min(buf_len as u32 as usize);
    mem.write(buf, &target[..n])?;
    mem.write_u32(used, n as u32)
}

/// Symlinks may only hold relative targets (an absolute one could never be followed inside
/// the sandbox).
pub(crate) fn path_symlink(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    old: i32,
    old_len: i32,
    fd: i32,
    new: i32,
    new_len: i32,
) -> WResult<()> {
    let target = mem.str(old, old_len)?;
    if target.starts_with('/') {
        return Err(Errno::PERM);
    }
    let (dir, name, ..) = lookup(cx, mem, fd, new, new_len, false, Need::Mutate)?;
    let (tc, nc) = (c_name(&target)?, c_name(&name)?);
    // SAFETY: both strings are NUL-terminated; `dir` is live.
    check(unsafe { libc::symlinkat(tc.as_ptr(), dir.as_raw_fd(), nc.as_ptr()) })
}
