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
const FDFLAGS_NONBLOCK: u16 = 4;

/// Every right preview1 defines (bits 0..=29).
const RIGHTS_ALL: u64 = (1 << 30) - 1;
const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_WRITE: u64 = 1 << 6;
const RIGHT_FD_SEEK: u64 = 1 << 2;
const RIGHT_FD_TELL: u64 = 1 << 5;

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
    mem.write(ptr, &b)
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

fn positional(desc: &mut Desc) -> WResult<&mut super::fdtable::OpenFile> {
    match desc {
        Desc::File(f) => Ok(f),
        Desc::Dir(_) => Err(Errno::ISDIR),
        _ => Err(Errno::SPIPE),
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
    let f = positional(cx.fds.get(fd)?)?;
    let pos = match whence {
        0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::INVAL)?),
        1 => SeekFrom::Current(offset),
        2 => SeekFrom::End(offset),
        _ => return Err(Errno::INVAL),
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

pub(crate) fn fd_fdstat_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    out: i32,
) -> WResult<()> {
    let desc = cx.fds.get(fd)?;
    // Stdio streams never seek here; wasi-libc's `isatty` also takes a character device
    // without seek rights for a terminal (and line-buffers it).
    let (mut filetype, rights) = match desc {
        Desc::Dir(_) => (FILETYPE_DIRECTORY, RIGHTS_ALL),
        Desc::File(f) => {
            let mut r = RIGHTS_ALL;
            if !f.read {
                r &= !RIGHT_FD_READ;
            }
            if !f.write {
                r &= !RIGHT_FD_WRITE;
            }
            (FILETYPE_REGULAR_FILE, r)
        }
        Desc::Stdin(_) => (
            FILETYPE_CHARACTER_DEVICE,
            RIGHTS_ALL & !(RIGHT_FD_WRITE | RIGHT_FD_SEEK | RIGHT_FD_TELL),
        ),
        Desc::Output(..) => (
            FILETYPE_CHARACTER_DEVICE,
            RIGHTS_ALL & !(RIGHT_FD_READ | RIGHT_FD_SEEK | RIGHT_FD_TELL),
        ),
    };
    let mut flags = 0u16;
    if let Some(raw) = raw_fd(desc) {
        // The host's view: stdio may be a terminal, a pipe or a file.
        let ft = filetype_of_mode(fstat(raw)?.st_mode);
        if ft != FILETYPE_UNKNOWN {
            filetype = ft;
        }
        // SAFETY: F_GETFL takes no argument and only reads the descriptor's flags.
        let fl = unsafe { libc::fcntl(raw, libc::F_GETFL) };
        if fl >= 0 && fl & libc::O_APPEND != 0 {
            flags |= FDFLAGS_APPEND;
        }
        if fl >= 0 && fl & libc::O_NONBLOCK != 0 {
            flags |= FDFLAGS_NONBLOCK;
        }
    }
    write_fdstat(mem, out, filetype, flags, rights)
}

fn write_fdstat(
    mem: &mut GuestMem<'_>,
    out: i32,
    filetype: u8,
    flags: u16,
    rights: u64,
) -> WResult<()> {
    let mut b = [0u8; 24];
    b[0] = filetype;
    b[2..4].copy_from_slice(&flags.to_le_bytes());
    b[8..16].copy_from_slice(&rights.to_le_bytes());
    b[16..24].copy_from_slice(&RIGHTS_ALL.to_le_bytes());
    mem.write(out, &b)
}

pub(crate) fn fd_fdstat_set_flags(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    flags: i32,
) -> WResult<()> {
    let desc = cx.fds.get(fd)?;
    let flags = flags as u16;
    if flags & !(FDFLAGS_APPEND | FDFLAGS_NONBLOCK) != 0 {
        return Err(Errno::NOTSUP);
    }
    let raw = match desc {
        Desc::File(f) => f.file.as_raw_fd(),
        _ => return Err(Errno::NOTSUP),
    };
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
    match raw_fd(desc) {
        Some(raw) => {
            let st = fstat(raw)?;
            write_filestat(mem, out, &st)
        }
        None => {
            // An in-memory or null stream: a character device with nothing else known.
            let mut b = [0u8; 64];
            b[16] = FILETYPE_CHARACTER_DEVICE;
            mem.write(out, &b)
        }
    }
}

pub(crate) fn fd_filestat_set_size(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    size: i64,
) -> WResult<()> {
    let f = positional(cx.fds.get(fd)?)?;
    if !f.write {
        return Err(Errno::BADF);
    }
    f.file
        .set_len(u64::try_from(size).map_err(|_| Errno::INVAL)?)?;
    Ok(())
}

/// The `timespec` pair of `futimens`/`utimensat` for preview1 `fstflags`.
pub(crate) fn times(atim: i64, mtim: i64, fstflags: i32) -> WResult<[libc::timespec; 2]> {
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
    let raw = raw_fd(cx.fds.get(fd)?).ok_or(Errno::BADF)?;
    let ts = times(atim, mtim, fstflags)?;
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
    mem.write(out, &b)
}

pub(crate) fn fd_prestat_dir_name(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    fd: i32,
    path: i32,
    len: i32,
) -> WResult<()> {
    let name = match cx.fds.get(fd)? {
        Desc::Dir(d) => d.preopen.as_ref().ok_or(Errno::BADF)?,
        _ => return Err(Errno::BADF),
    };
    if (len as u32 as usize) < name.len() {
        return Err(Errno::NAMETOOLONG);
    }
    mem.write(path, name.as_bytes())
}

pub(crate) fn fd_sync(cx: &mut WasiCtx, _mem: &mut GuestMem<'_>, fd: i32) -> WResult<()> {
    match cx.fds.get(fd)?.host_file() {
        Some(f) => Ok(f.sync_all()?),
        None => Ok(()),
    }
}

pub(crate) fn fd_datasync(cx: &mut WasiCtx, _mem: &mut GuestMem<'_>, fd: i32) -> WResult<()> {
    match cx.fds.get(fd)?.host_file() {
        Some(f) => Ok(f.sync_data()?),
        None => Ok(()),
    }
}

pub(crate) fn fd_advise(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    _offset: i64,
    _len: i64,
    advice: i32,
) -> WResult<()> {
    positional(cx.fds.get(fd)?)?;
    // Advice is only a hint; check it is one of the six preview1 values and ignore it.
    if !(0..=5).contains(&advice) {
        return Err(Errno::INVAL);
    }
    Ok(())
}

pub(crate) fn fd_allocate(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    offset: i64,
    len: i64,
) -> WResult<()> {
    let f = positional(cx.fds.get(fd)?)?;
    if !f.write {
        return Err(Errno::BADF);
    }
    let (offset, len) = (offset as u64, len as u64);
    let end = offset.checked_add(len).ok_or(Errno::FBIG)?;
    if i64::try_from(end).is_err() {
        return Err(Errno::FBIG);
    }
    let size = f.file.metadata()?.len();
    if end > size {
        f.file.set_len(end)?;
    }
    Ok(())
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
    _base: i64,
    _inheriting: i64,
) -> WResult<()> {
    cx.fds.get(fd)?;
    Err(Errno::NOTSUP)
}

/// `fd_readdir`: entries are numbered in the host's order; the cookie is the number of
/// entries already returned. The buffer is filled completely (the last entry possibly cut),
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
    let entries = super::pathfns::list_dir(&dir.fd)?;
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
