//! The `fd_*` functions: reading, writing, seeking and inspecting descriptors.

// The functions take the arguments of their preview1 signatures.
#![allow(clippy::too_many_arguments)]

use super::ctx::WasiCtx;
use super::errno::{Errno, GuestMem, WResult};
use super::fdtable::{Desc, InputStream, OutputStream};
use super::path::check;
use std::io::{Seek, SeekFrom};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::FileExt;

pub(crate) const FILETYPE_UNKNOWN: u8 = 0;
pub(crate) const FILETYPE_BLOCK_DEVICE: u8 = 1;
pub(crate) const FILETYPE_CHARACTER_DEVICE: u8 = 2;
pub(crate) const FILETYPE_DIRECTORY: u8 = 3;
pub(crate) const FILETYPE_REGULAR_FILE: u8 = 4;
pub(crate) const FILETYPE_SOCKET_STREAM: u8 = 6;
pub(crate) const FILETYPE_SYMBOLIC_LINK: u8 = 7;

const FDFLAGS_APPEND: u16 = 1;
const FDFLAGS_DSYNC: u16 = 2;
const FDFLAGS_NONBLOCK: u16 = 4;
const FDFLAGS_RSYNC: u16 = 8;
const FDFLAGS_SYNC: u16 = 16;
pub(crate) const FDFLAGS_ALL: i32 = 31;

/// A flags argument with bits preview1 does not define traps ([`Errno::BAD_ARGUMENT`]), as
/// when Wasmtime decodes the arguments, before it looks at any descriptor.
pub(crate) fn check_flags(value: i64, defined: i64) -> WResult<()> {
    if value & !defined != 0 {
        return Err(Errno::BAD_ARGUMENT);
    }
    Ok(())
}

/// An enum argument above its largest value traps, as [`check_flags`].
pub(crate) fn check_enum(value: i32, largest: u32) -> WResult<()> {
    if value as u32 > largest {
        return Err(Errno::BAD_ARGUMENT);
    }
    Ok(())
}

/// Every right preview1 defines (bits 0..=29).
pub(crate) const RIGHTS_ALL: u64 = (1 << 30) - 1;
const RIGHT_FD_DATASYNC: u64 = 1 << 0;
const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_SEEK: u64 = 1 << 2;
const RIGHT_FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
const RIGHT_FD_SYNC: u64 = 1 << 4;
const RIGHT_FD_TELL: u64 = 1 << 5;
const RIGHT_FD_WRITE: u64 = 1 << 6;
const RIGHT_FD_ADVISE: u64 = 1 << 7;
const RIGHT_FD_ALLOCATE: u64 = 1 << 8;
const RIGHT_PATH_CREATE_DIRECTORY: u64 = 1 << 9;
const RIGHT_PATH_CREATE_FILE: u64 = 1 << 10;
const RIGHT_PATH_LINK_SOURCE: u64 = 1 << 11;
const RIGHT_PATH_LINK_TARGET: u64 = 1 << 12;
const RIGHT_PATH_OPEN: u64 = 1 << 13;
const RIGHT_FD_READDIR: u64 = 1 << 14;
const RIGHT_PATH_READLINK: u64 = 1 << 15;
const RIGHT_PATH_RENAME_SOURCE: u64 = 1 << 16;
const RIGHT_PATH_RENAME_TARGET: u64 = 1 << 17;
const RIGHT_PATH_FILESTAT_GET: u64 = 1 << 18;
const RIGHT_PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
const RIGHT_PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
const RIGHT_FD_FILESTAT_GET: u64 = 1 << 21;
const RIGHT_FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
const RIGHT_FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
const RIGHT_PATH_SYMLINK: u64 = 1 << 24;
const RIGHT_PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
const RIGHT_PATH_UNLINK_FILE: u64 = 1 << 26;

/// What a preopened directory reports (base rights): the fixed set Wasmtime gives, which
/// userlands such as wasi-libc expect; nothing that works on file contents.
const PREOPEN_RIGHTS: u64 = RIGHT_PATH_CREATE_DIRECTORY
    | RIGHT_PATH_CREATE_FILE
    | RIGHT_PATH_LINK_SOURCE
    | RIGHT_PATH_LINK_TARGET
    | RIGHT_PATH_OPEN
    | RIGHT_FD_READDIR
    | RIGHT_PATH_READLINK
    | RIGHT_PATH_RENAME_SOURCE
    | RIGHT_PATH_RENAME_TARGET
    | RIGHT_PATH_SYMLINK
    | RIGHT_PATH_REMOVE_DIRECTORY
    | RIGHT_PATH_UNLINK_FILE
    | RIGHT_PATH_FILESTAT_GET
    | RIGHT_PATH_FILESTAT_SET_TIMES
    | RIGHT_FD_FILESTAT_GET
    | RIGHT_FD_FILESTAT_SET_TIMES;

/// What a preopened directory passes on to what is opened below it.
const PREOPEN_INHERITING: u64 = PREOPEN_RIGHTS
    | RIGHT_FD_DATASYNC
    | RIGHT_FD_READ
    | RIGHT_FD_SEEK
    | RIGHT_FD_FDSTAT_SET_FLAGS
    | RIGHT_FD_SYNC
    | RIGHT_FD_TELL
    | RIGHT_FD_WRITE
    | RIGHT_FD_ADVISE
    | RIGHT_FD_ALLOCATE
    | RIGHT_FD_FILESTAT_SET_SIZE;

pub(crate) fn filetype_of_mode(mode: libc::mode_t) -> u8 {
    match mode & libc::S_IFMT {
        libc::S_IFBLK => FILETYPE_BLOCK_DEVICE,
        libc::S_IFCHR => FILETYPE_CHARACTER_DEVICE,
        libc::S_IFDIR => FILETYPE_DIRECTORY,
        libc::S_IFREG => FILETYPE_REGULAR_FILE,
        libc::S_IFSOCK => FILETYPE_SOCKET_STREAM,
        libc::S_IFLNK => FILETYPE_SYMBOLIC_LINK,
        _ => FILETYPE_UNKNOWN,
    }
}

/// Writes a preview1 `filestat` (64 bytes) for `st` at `ptr`.
// `stat` field widths differ between targets; the casts are no-ops only on some.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn write_filestat(mem: &mut GuestMem<'_>, ptr: i32, st: &libc::stat) -> WResult<()> {
    let mut b = [0u8; 64];
    let ts = |s: i64, ns: i64| {
        (s as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(ns as u64)
    };
    b[0..8].copy_from_slice(&(st.st_dev as u64).to_le_bytes());
    b[8..16].copy_from_slice(&(st.st_ino as u64).to_le_bytes());
    b[16] = filetype_of_mode(st.st_mode);
    b[24..32].copy_from_slice(&(st.st_nlink as u64).to_le_bytes());
    b[32..40].copy_from_slice(&(st.st_size as u64).to_le_bytes());
    b[40..48].copy_from_slice(&ts(st.st_atime, st.st_atime_nsec).to_le_bytes());
    b[48..56].copy_from_slice(&ts(st.st_mtime, st.st_mtime_nsec).to_le_bytes());
    b[56..64].copy_from_slice(&ts(st.st_ctime, st.st_ctime_nsec).to_le_bytes());
    mem.write_aligned(ptr, &b, 8)
}

pub(crate) fn fstat(fd: RawFd) -> WResult<libc::stat> {
    // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid output location; a bad `fd` is reported as EBADF.
    check(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(st)
}

/// The host descriptor behind a guest one, for `fstat` and friends.
fn raw_fd(desc: &Desc) -> Option<RawFd> {
    match desc {
        Desc::Dir(d) => Some(d.fd.as_raw_fd()),
        Desc::Stdin(InputStream::Inherit) => Some(0),
        Desc::Output(OutputStream::Inherit, host) => Some(*host),
        other => other.host_file().map(|f| f.as_raw_fd()),
    }
}

pub(crate) fn fd_write(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    iovs: i32,
    n: i32,
    nwritten: i32,
) -> WResult<()> {
    let desc = cx.fds.get(fd)?;
    mem.write_vectored(iovs, n, nwritten, |data| desc.write(data))
}

pub(crate) fn fd_read(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    iovs: i32,
    n: i32,
    nread: i32,
) -> WResult<()> {
    let desc = cx.fds.get(fd)?;
    mem.read_vectored(iovs, n, nread, |buf| desc.read(buf))
}

/// The open file behind `desc`, for the calls that need a position or a size: a stdio
/// stream cannot seek (`ESPIPE`), a directory is not a file (`EBADF`), as with Wasmtime.
fn positional(desc: &mut Desc) -> WResult<&mut super::fdtable::OpenFile> {
    match desc {
        Desc::File(f) => Ok(f),
        Desc::Dir(_) => Err(Errno::BADF),
        _ => Err(Errno::SPIPE),
    }
}

/// The open file behind `desc`, for calls that only exist for files (`EBADF` otherwise).
fn file(desc: &mut Desc) -> WResult<&mut super::fdtable::OpenFile> {
    match desc {
        Desc::File(f) => Ok(f),
        _ => Err(Errno::BADF),
    }
}

/// Whether a stdio stream is a terminal (Wasmtime's `IsATTY`): only then is it reported as
/// a character device; otherwise its type is unknown.
fn stdio_filetype(desc: &Desc) -> u8 {
    let raw = match desc {
        Desc::Stdin(InputStream::Inherit) => Some(0),
        Desc::Output(OutputStream::Inherit, host) => Some(*host),
        Desc::Stdin(InputStream::File(f)) | Desc::Output(OutputStream::File(f), _) => {
            Some(f.as_raw_fd())
        }
        _ => None,
    };
    // SAFETY: `isatty` only inspects the descriptor.
    match raw.map(|fd| unsafe { libc::isatty(fd) }) {
        Some(1) => FILETYPE_CHARACTER_DEVICE,
        _ => FILETYPE_UNKNOWN,
    }
}

pub(crate) fn fd_pwrite(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    iovs: i32,
    n: i32,
    offset: i64,
    nwritten: i32,
) -> WResult<()> {
    let f = positional(cx.fds.get(fd)?)?;
    if !f.write {
        return Err(Errno::BADF);
    }
    mem.write_vectored(iovs, n, nwritten, |data| {
        Ok(f.file.write_at(data, offset as u64)?)
    })
}

pub(crate) fn fd_pread(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    iovs: i32,
    n: i32,
    offset: i64,
    nread: i32,
) -> WResult<()> {
    let f = positional(cx.fds.get(fd)?)?;
    if !f.read {
        return Err(Errno::BADF);
    }
    mem.read_vectored(iovs, n, nread, |buf| {
        Ok(f.file.read_at(buf, offset as u64)?)
    })
}

pub(crate) fn fd_close(cx: &mut WasiCtx, _mem: &mut GuestMem<'_>, fd: i32) -> WResult<()> {
    cx.fds.remove(fd).map(drop)
}

pub(crate) fn fd_seek(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    offset: i64,
    whence: i32,
    out: i32,
) -> WResult<()> {
    check_enum(whence, 2)?;
    let f = positional(cx.fds.get(fd)?)?;
    let pos = match whence {
        0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::INVAL)?),
        1 => SeekFrom::Current(offset),
        _ => SeekFrom::End(offset),
    };
    mem.slice(out, 8)?;
    let at = f.file.seek(pos)?;
    mem.write_u64(out, at)
}

pub(crate) fn fd_tell(cx: &mut WasiCtx, mem: &mut GuestMem<'_>, fd: i32, out: i32) -> WResult<()> {
    let f = positional(cx.fds.get(fd)?)?;
    mem.slice(out, 8)?;
    let at = f.file.stream_position()?;
    mem.write_u64(out, at)
}

/// `fd_fdstat_get`, as Wasmtime answers it: stdin has only `fd_read`, stdout and stderr only
/// `fd_write` (a terminal is a character device, anything else of unknown type); a
/// preopened directory has [`PREOPEN_RIGHTS`]; other directories have every right but
/// seeking, writing and setting sizes; files every right but reading or writing when not
/// opened for it. The flags are those the file was opened or last set with.
pub(crate) fn fd_fdstat_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    out: i32,
) -> WResult<()> {
    let desc = cx.fds.get(fd)?;
    let (filetype, flags, rights, inheriting) = match desc {
        Desc::Stdin(_) => (stdio_filetype(desc), 0, RIGHT_FD_READ, RIGHT_FD_READ),
        Desc::Output(..) => (stdio_filetype(desc), 0, RIGHT_FD_WRITE, RIGHT_FD_WRITE),
        Desc::Dir(d) if d.preopen.is_some() => {
            (FILETYPE_DIRECTORY, 0, PREOPEN_RIGHTS, PREOPEN_INHERITING)
        }
        Desc::Dir(d) => {
            let mut r = RIGHTS_ALL
                & !(RIGHT_FD_SEEK
                    | RIGHT_FD_FILESTAT_SET_SIZE
                    | RIGHT_PATH_FILESTAT_SET_SIZE
                    | RIGHT_FD_WRITE);
            if !d.perms.read {
                r &= !(RIGHT_FD_READ | RIGHT_FD_READDIR);
            }
            (FILETYPE_DIRECTORY, 0, r, r)
        }
        Desc::File(f) => {
            let mut r = RIGHTS_ALL;
            if !f.read {
                r &= !(RIGHT_FD_READ | RIGHT_FD_READDIR);
            }
            if !f.write {
                r &= !RIGHT_FD_WRITE;
            }
            let st = fstat(f.file.as_raw_fd())?;
            (
                filetype_of_mode(st.st_mode),
                file_fdflags(f.file.as_raw_fd()),
                r,
                r,
            )
        }
    };
    write_fdstat(mem, out, filetype, flags, rights, inheriting)
}

/// The preview1 `fdflags` of a host file, from its status flags. Linux's `O_SYNC` includes
/// `O_DSYNC` and is also `O_RSYNC`, so a file opened with `SYNC` or `RSYNC` reports all
/// three, as under Wasmtime.
fn file_fdflags(raw: RawFd) -> u16 {
    // SAFETY: F_GETFL takes no argument and only reads the descriptor's flags.
    let fl = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if fl < 0 {
        return 0;
    }
    let mut flags = 0;
    if fl & libc::O_APPEND != 0 {
        flags |= FDFLAGS_APPEND;
    }
    if fl & libc::O_NONBLOCK != 0 {
        flags |= FDFLAGS_NONBLOCK;
    }
    if fl & libc::O_DSYNC == libc::O_DSYNC {
        flags |= FDFLAGS_DSYNC;
    }
    if fl & libc::O_SYNC == libc::O_SYNC {
        flags |= FDFLAGS_SYNC;
    }
    if fl & libc::O_RSYNC == libc::O_RSYNC {
        flags |= FDFLAGS_RSYNC;
    }
    flags
}

fn write_fdstat(
    mem: &mut GuestMem<'_>,
    out: i32,
    filetype: u8,
    flags: u16,
    rights: u64,
    inheriting: u64,
) -> WResult<()> {
    let mut b = [0u8; 24];
    b[0] = filetype;
    b[2..4].copy_from_slice(&flags.to_le_bytes());
    b[8..16].copy_from_slice(&rights.to_le_bytes());
    b[16..24].copy_from_slice(&inheriting.to_le_bytes());
    mem.write_aligned(out, &b, 8)
}

pub(crate) fn fd_fdstat_set_flags(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    flags: i32,
) -> WResult<()> {
    // Only files have flags to set (`EBADF` otherwise), and only `APPEND` and `NONBLOCK`
    // may change (`EINVAL` for the sync flags), as with Wasmtime.
    check_flags(flags as u32 as i64, FDFLAGS_ALL as i64)?;
    let raw = file(cx.fds.get(fd)?)?.file.as_raw_fd();
    let flags = flags as u16;
    if flags & (FDFLAGS_DSYNC | FDFLAGS_RSYNC | FDFLAGS_SYNC) != 0 {
        return Err(Errno::INVAL);
    }
    let mut fl = 0;
    if flags & FDFLAGS_APPEND != 0 {
        fl |= libc::O_APPEND;
    }
    if flags & FDFLAGS_NONBLOCK != 0 {
        fl |= libc::O_NONBLOCK;
    }
    // SAFETY: F_SETFL with an int flag set on a descriptor we own.
    check(unsafe { libc::fcntl(raw, libc::F_SETFL, fl) })
}

pub(crate) fn fd_filestat_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    out: i32,
) -> WResult<()> {
    let desc = cx.fds.get(fd)?;
    match desc {
        Desc::Stdin(_) | Desc::Output(..) => {
            // A stdio stream: its type (a terminal or unknown) and nothing else, as Wasmtime.
            let mut b = [0u8; 64];
            b[16] = stdio_filetype(desc);
            mem.write_aligned(out, &b, 8)
        }
        _ => {
            let st = fstat(raw_fd(desc).ok_or(Errno::BADF)?)?;
            write_filestat(mem, out, &st)
        }
    }
}

pub(crate) fn fd_filestat_set_size(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    size: i64,
) -> WResult<()> {
    // A file not open for writing: the host's answer (`EINVAL` from `ftruncate`), as Wasmtime.
    let f = file(cx.fds.get(fd)?)?;
    f.file
        .set_len(u64::try_from(size).map_err(|_| Errno::INVAL)?)?;
    Ok(())
}

/// The `timespec` pair of `futimens`/`utimensat` for preview1 `fstflags`.
pub(crate) fn times(atim: i64, mtim: i64, fstflags: i32) -> WResult<[libc::timespec; 2]> {
    check_flags(fstflags as u32 as i64, 15)?;
    let one = |t: i64, set: i32, now: i32| -> WResult<libc::timespec> {
        if fstflags & set != 0 && fstflags & now != 0 {
            return Err(Errno::INVAL);
        }
        let t = t as u64;
        Ok(if fstflags & now != 0 {
            libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_NOW,
            }
        } else if fstflags & set != 0 {
            libc::timespec {
                tv_sec: (t / 1_000_000_000) as libc::time_t,
                tv_nsec: (t % 1_000_000_000) as libc::c_long,
            }
        } else {
            libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_OMIT,
            }
        })
    };
    Ok([one(atim, 1, 2)?, one(mtim, 4, 8)?])
}

pub(crate) fn fd_filestat_set_times(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    atim: i64,
    mtim: i64,
    fstflags: i32,
) -> WResult<()> {
    let ts = times(atim, mtim, fstflags)?;
    let raw = match cx.fds.get(fd)? {
        Desc::File(f) => f.file.as_raw_fd(),
        Desc::Dir(d) => d.fd.as_raw_fd(),
        _ => return Err(Errno::BADF),
    };
    // SAFETY: `ts` points to two timespecs, as futimens requires.
    check(unsafe { libc::futimens(raw, ts.as_ptr()) })
}

pub(crate) fn fd_prestat_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    out: i32,
) -> WResult<()> {
    let name = match cx.fds.get(fd)? {
        Desc::Dir(d) => d.preopen.as_ref().ok_or(Errno::BADF)?,
        _ => return Err(Errno::BADF),
    };
    let mut b = [0u8; 8];
    b[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
    mem.write_aligned(out, &b, 4)
}

pub(crate) fn fd_prestat_dir_name(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    path: i32,
    len: i32,
) -> WResult<()> {
    // Wasmtime's answer for an open descriptor that is not a preopen.
    let name = match cx.fds.get(fd)? {
        Desc::Dir(d) => d.preopen.as_ref().ok_or(Errno::NOTDIR)?,
        _ => return Err(Errno::NOTDIR),
    };
    if (len as u32 as usize) < name.len() {
        return Err(Errno::NAMETOOLONG);
    }
    mem.write(path, name.as_bytes())
}

/// `fd_sync`: files only (`EBADF` for directories and stdio, as Wasmtime).
pub(crate) fn fd_sync(cx: &mut WasiCtx, _mem: &mut GuestMem<'_>, fd: i32) -> WResult<()> {
    Ok(file(cx.fds.get(fd)?)?.file.sync_all()?)
}

/// `fd_datasync`: files only, as `fd_sync`.
pub(crate) fn fd_datasync(cx: &mut WasiCtx, _mem: &mut GuestMem<'_>, fd: i32) -> WResult<()> {
    Ok(file(cx.fds.get(fd)?)?.file.sync_data()?)
}

/// `fd_advise`: files only (`EBADF`); the advice is a hint, then ignored.
pub(crate) fn fd_advise(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    _offset: i64,
    _len: i64,
    advice: i32,
) -> WResult<()> {
    check_enum(advice, 5)?;
    file(cx.fds.get(fd)?)?;
    Ok(())
}

/// `fd_allocate`: files only (`EBADF`), and then `ENOTSUP`, as Wasmtime (WASI 0.2 has no
/// allocation call for it to map onto).
pub(crate) fn fd_allocate(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    _offset: i64,
    _len: i64,
) -> WResult<()> {
    file(cx.fds.get(fd)?)?;
    Err(Errno::NOTSUP)
}

pub(crate) fn fd_renumber(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    from: i32,
    to: i32,
) -> WResult<()> {
    cx.fds.get(from)?;
    cx.fds.get(to)?;
    if from == to {
        return Ok(());
    }
    let desc = cx.fds.remove(from)?;
    cx.fds.insert_at(to as u32, desc);
    Ok(())
}

pub(crate) fn fd_fdstat_set_rights(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    base: i64,
    inheriting: i64,
) -> WResult<()> {
    check_flags(base, RIGHTS_ALL as i64)?;
    check_flags(inheriting, RIGHTS_ALL as i64)?;
    // Files and directories: `ENOTSUP` (rights never change); stdio `EBADF`, as Wasmtime.
    match cx.fds.get(fd)? {
        Desc::File(_) | Desc::Dir(_) => Err(Errno::NOTSUP),
        _ => Err(Errno::BADF),
    }
}

/// `fd_readdir`: `.` and `..` come first (cookies 1 and 2), then the other entries in the
/// host's order; an entry's cookie is the number of entries up to and including it. The buffer is filled completely (the last entry possibly cut),
/// as preview1 specifies, so a full buffer tells the guest to ask again.
pub(crate) fn fd_readdir(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    buf: i32,
    len: i32,
    cookie: i64,
    used: i32,
) -> WResult<()> {
    let dir = cx.fds.dir(fd)?;
    if !dir.perms.read {
        return Err(Errno::PERM);
    }
    let cap = len as u32 as usize;
    mem.slice(buf, cap as u32)?;
    mem.slice(used, 4)?;
    let mut entries = super::pathfns::list_dir(&dir.fd)?;
    entries.retain(|(name, ..)| name != b"." && name != b"..");
    let st = fstat(dir.fd.as_raw_fd())?;
    #[allow(clippy::unnecessary_cast)]
    let ino = st.st_ino as u64;
    entries.insert(0, (b"..".to_vec(), ino, FILETYPE_DIRECTORY));
    entries.insert(0, (b".".to_vec(), ino, FILETYPE_DIRECTORY));
    let mut out = Vec::with_capacity(cap);
    for (i, (name, ino, ty)) in entries.iter().enumerate().skip(cookie as u64 as usize) {
        if out.len() >= cap {
            break;
        }
        let mut ent = [0u8; 24];
        ent[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        ent[8..16].copy_from_slice(&ino.to_le_bytes());
        ent[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
        ent[20] = *ty;
        out.extend_from_slice(&ent);
        out.extend_from_slice(name);
    }
    out.truncate(cap);
    mem.write(buf, &out)?;
    mem.write_u32(used, out.len() as u32)
}
