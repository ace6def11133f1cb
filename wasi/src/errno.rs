//! WASI error numbers and the guest-memory view host functions read and write through.

use std::io;
use std::ops::Range;

/// A `wasi_snapshot_preview1` errno (what a host function returns to the guest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub u16);

impl Errno {
    pub const SUCCESS: Errno = Errno(0);
    pub const TOO_BIG: Errno = Errno(1);
    pub const ACCES: Errno = Errno(2);
    pub const AGAIN: Errno = Errno(6);
    pub const BADF: Errno = Errno(8);
    pub const BUSY: Errno = Errno(10);
    pub const EXIST: Errno = Errno(20);
    pub const FAULT: Errno = Errno(21);
    pub const FBIG: Errno = Errno(22);
    pub const ILSEQ: Errno = Errno(25);
    pub const INTR: Errno = Errno(27);
    pub const INVAL: Errno = Errno(28);
    pub const IO: Errno = Errno(29);
    pub const ISDIR: Errno = Errno(31);
    pub const LOOP: Errno = Errno(32);
    pub const MFILE: Errno = Errno(33);
    pub const MLINK: Errno = Errno(34);
    pub const NAMETOOLONG: Errno = Errno(37);
    pub const NFILE: Errno = Errno(41);
    pub const NOENT: Errno = Errno(44);
    pub const NOMEM: Errno = Errno(48);
    pub const NOSPC: Errno = Errno(51);
    pub const NOSYS: Errno = Errno(52);
    pub const NOTDIR: Errno = Errno(54);
    pub const NOTEMPTY: Errno = Errno(55);
    pub const NOTSOCK: Errno = Errno(57);
    pub const NOTSUP: Errno = Errno(58);
    pub const NOTTY: Errno = Errno(59);
    pub const OVERFLOW: Errno = Errno(61);
    pub const PERM: Errno = Errno(63);
    pub const PIPE: Errno = Errno(64);
    pub const RANGE: Errno = Errno(68);
    pub const ROFS: Errno = Errno(69);
    pub const SPIPE: Errno = Errno(70);
    pub const TXTBSY: Errno = Errno(74);
    pub const XDEV: Errno = Errno(75);
    pub const NOTCAPABLE: Errno = Errno(76);

    /// Not an errno: an argument whose value preview1 does not define (an enum value, a
    /// flag bit, a number too wide for its type). Wasmtime traps on it while decoding the
    /// arguments, before the function runs; the host functions here return it first thing,
    /// and [`crate::add_to_linker`]'s wrapper turns it into the same error.
    pub(crate) const BAD_ARGUMENT: Errno = Errno(u16::MAX);

    /// The WASI errno of a host OS error number.
    pub fn from_raw_os_error(code: i32) -> Errno {
        match code {
            libc::E2BIG => Self::TOO_BIG,
            libc::EACCES => Self::ACCES,
            libc::EAGAIN => Self::AGAIN,
            libc::EBADF => Self::BADF,
            libc::EBUSY => Self::BUSY,
            libc::EEXIST => Self::EXIST,
            libc::EFAULT => Self::FAULT,
            libc::EFBIG => Self::FBIG,
            libc::EILSEQ => Self::ILSEQ,
            libc::EINTR => Self::INTR,
            libc::EINVAL => Self::INVAL,
            libc::EISDIR => Self::ISDIR,
            libc::ELOOP => Self::LOOP,
            libc::EMFILE => Self::MFILE,
            libc::EMLINK => Self::MLINK,
            libc::ENAMETOOLONG => Self::NAMETOOLONG,
            libc::ENFILE => Self::NFILE,
            libc::ENOENT => Self::NOENT,
            libc::ENOMEM => Self::NOMEM,
            libc::ENOSPC => Self::NOSPC,
            libc::ENOSYS => Self::NOSYS,
            libc::ENOTDIR => Self::NOTDIR,
            libc::ENOTEMPTY => Self::NOTEMPTY,
            libc::EOPNOTSUPP => Self::NOTSUP,
            libc::ENOTTY => Self::NOTTY,
            libc::EOVERFLOW => Self::OVERFLOW,
            libc::EPERM => Self::PERM,
            libc::EPIPE => Self::PIPE,
            libc::ERANGE => Self::RANGE,
            libc::EROFS => Self::ROFS,
            libc::ESPIPE => Self::SPIPE,
            libc::ETXTBSY => Self::TXTBSY,
            libc::EXDEV => Self::XDEV,
            _ => Self::IO,
        }
    }

    /// The errno of the calling thread's last OS error.
    pub(crate) fn last_os_error() -> Errno {
        Self::from(io::Error::last_os_error())
    }
}

impl From<io::Error> for Errno {
    fn from(e: io::Error) -> Errno {
        match e.raw_os_error() {
            Some(code) => Self::from_raw_os_error(code),
            None => match e.kind() {
                io::ErrorKind::NotFound => Self::NOENT,
                io::ErrorKind::PermissionDenied => Self::ACCES,
                io::ErrorKind::AlreadyExists => Self::EXIST,
                io::ErrorKind::InvalidInput => Self::INVAL,
                io::ErrorKind::BrokenPipe => Self::PIPE,
                _ => Self::IO,
            },
        }
    }
}

/// The most bytes one read or write call moves (a shorter transfer is a valid result, and a
/// guest cannot make the host allocate without bound).
pub(crate) const MAX_IO: usize = 16 << 20;

/// The most iovecs one call takes (Linux's `IOV_MAX`).
const MAX_IOVECS: u32 = 1024;

/// The result of a host function's body.
pub(crate) type WResult<T> = Result<T, Errno>;

/// The guest's linear memory as host functions see it: every access is checked. One outside
/// the memory, or a value read or written at an address not aligned to its size, is
/// `EFAULT`, which [`crate::add_to_linker`]'s functions turn into a trap, as Wasmtime's do.
pub(crate) struct GuestMem<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMem<'a> {
    pub(crate) fn new(bytes: &'a mut [u8]) -> Self {
        Self { bytes }
    }

    fn range(&self, ptr: i32, len: u32) -> WResult<Range<usize>> {
        let start = ptr as u32 as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::FAULT)?;
        if end > self.bytes.len() {
            return Err(Errno::FAULT);
        }
        Ok(start..end)
    }

    pub(crate) fn slice(&self, ptr: i32, len: u32) -> WResult<&[u8]> {
        let r = self.range(ptr, len)?;
        Ok(&self.bytes[r])
    }

    pub(crate) fn slice_mut(&mut self, ptr: i32, len: u32) -> WResult<&mut [u8]> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.bytes[r])
    }

    /// `EFAULT` unless `ptr` is a multiple of `align`.
    pub(crate) fn check_align(&self, ptr: i32, align: u32) -> WResult<()> {
        if !(ptr as u32).is_multiple_of(align) {
            return Err(Errno::FAULT);
        }
        Ok(())
    }

    pub(crate) fn read_u32(&self, ptr: i32) -> WResult<u32> {
        self.check_align(ptr, 4)?;
        let b = self.slice(ptr, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn read_u64(&self, ptr: i32) -> WResult<u64> {
        self.check_align(ptr, 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(self.slice(ptr, 8)?);
        Ok(u64::from_le_bytes(a))
    }

    pub(crate) fn read_u16(&self, ptr: i32) -> WResult<u16> {
        self.check_align(ptr, 2)?;
        let b = self.slice(ptr, 2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn write(&mut self, ptr: i32, data: &[u8]) -> WResult<()> {
        self.slice_mut(ptr, data.len() as u32)?
            .copy_from_slice(data);
        Ok(())
    }

    /// Writes a record (`filestat`, `event`...) whose alignment is `align`.
    pub(crate) fn write_aligned(&mut self, ptr: i32, data: &[u8], align: u32) -> WResult<()> {
        self.check_align(ptr, align)?;
        self.write(ptr, data)
    }

    pub(crate) fn write_u32(&mut self, ptr: i32, v: u32) -> WResult<()> {
        self.write_aligned(ptr, &v.to_le_bytes(), 4)
    }

    pub(crate) fn write_u64(&mut self, ptr: i32, v: u64) -> WResult<()> {
        self.write_aligned(ptr, &v.to_le_bytes(), 8)
    }

    /// A guest string (`EILSEQ` when not UTF-8).
    pub(crate) fn str(&self, ptr: i32, len: i32) -> WResult<String> {
        let b = self.slice(ptr, len as u32)?;
        std::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|_| Errno::ILSEQ)
    }

    /// The `(buf, len)` pairs of an iovec array, each checked to lie in memory.
    pub(crate) fn iovecs(&self, ptr: i32, count: i32) -> WResult<Vec<(i32, u32)>> {
        let count = count as u32;
        if count > MAX_IOVECS {
            return Err(Errno::INVAL);
        }
        let table = count.checked_mul(8).ok_or(Errno::FAULT)?;
        self.check_align(ptr, 4)?;
        self.range(ptr, table)?;
        let mut out = Vec::with_capacity(count as usize);
        for i in 0..count {
            let at = (ptr as u32).wrapping_add(i * 8) as i32;
            let buf = self.read_u32(at)? as i32;
            let len = self.read_u32(at.wrapping_add(4))?;
            self.range(buf, len)?;
            out.push((buf, len));
        }
        Ok(out)
    }

    /// Gathers the bytes of an iovec array (at most [`MAX_IO`]).
    pub(crate) fn gather(&self, ptr: i32, count: i32) -> WResult<Vec<u8>> {
        let mut out = Vec::new();
        for (buf, len) in self.iovecs(ptr, count)? {
            let room = MAX_IO - out.len();
            let bytes = self.slice(buf, len)?;
            out.extend_from_slice(&bytes[..bytes.len().min(room)]);
            if out.len() == MAX_IO {
                break;
            }
        }
        Ok(out)
    }

    /// Scatters `data` over an iovec array (already checked by [`Self::iovecs`]).
    pub(crate) fn scatter(&mut self, iovs: &[(i32, u32)], mut data: &[u8]) -> WResult<()> {
        for &(buf, len) in iovs {
            if data.is_empty() {
                break;
            }
            let n = data.len().min(len as usize);
            self.write(buf, &data[..n])?;
            data = &data[n..];
        }
        Ok(())
    }

    /// A vectored write (`fd_write`, `fd_pwrite`): hands the iovecs' bytes to `write` and
    /// stores how many it wrote at `nwritten`.
    pub(crate) fn write_vectored(
        &mut self,
        iovs: i32,
        count: i32,
        nwritten: i32,
        write: impl FnOnce(&[u8]) -> WResult<usize>,
    ) -> WResult<()> {
        // As in Wasmtime, a bad `nwritten` traps only after the write.
        let data = self.gather(iovs, count)?;
        let written = write(&data)?;
        self.write_u32(nwritten, written as u32)
    }

    /// A vectored read (`fd_read`, `fd_pread`): lets `read` fill a buffer as long as the
    /// iovecs (at most [`MAX_IO`]), scatters what it read and stores the count at `nread`.
    pub(crate) fn read_vectored(
        &mut self,
        iovs: i32,
        count: i32,
        nread: i32,
        read: impl FnOnce(&mut [u8]) -> WResult<usize>,
    ) -> WResult<()> {
        let iovs = self.iovecs(iovs, count)?;
        let total: usize = iovs.iter().map(|&(_, len)| len as usize).sum();
        let mut buf = vec![0u8; total.min(MAX_IO)];
        let got = read(&mut buf)?;
        self.scatter(&iovs, &buf[..got])?;
        self.write_u32(nread, got as u32)
    }
}
