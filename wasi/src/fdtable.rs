//! The guest's file descriptors: stdio streams, open files and directories.

use super::errno::{Errno, WResult};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Cursor, Read, Write};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

/// An in-memory sink for a guest's output (stdout/stderr) holding at most `capacity` bytes,
/// as Wasmtime's: a write that would go beyond fails (`ENOSPC`). Clones share the buffer.
#[derive(Clone, Debug)]
pub struct MemoryOutputPipe {
    buffer: Arc<Mutex<Vec<u8>>>,
    capacity: usize,
}

impl MemoryOutputPipe {
    /// An empty pipe that accepts up to `capacity` bytes (`usize::MAX` for no limit).
    pub fn new(capacity: usize) -> Self {
        Self {
            buffer: Arc::default(),
            capacity,
        }
    }
    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.buffer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    /// The bytes written, if this is the last handle of the pipe.
    pub fn try_into_inner(self) -> Option<Vec<u8>> {
        let mutex = Arc::into_inner(self.buffer)?;
        Some(mutex.into_inner().unwrap_or_else(|e| e.into_inner()))
    }
    fn write(&self, data: &[u8]) -> WResult<()> {
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        if data.len() > self.capacity.saturating_sub(buffer.len()) {
            return Err(Errno::NOSPC);
        }
        buffer.extend_from_slice(data);
        Ok(())
    }
}

/// An in-memory source for a guest's stdin.
#[derive(Clone, Debug)]
pub struct MemoryInputPipe(Arc<Mutex<Cursor<Vec<u8>>>>);

impl MemoryInputPipe {
    /// A pipe that yields `bytes` and then end of file.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Arc::new(Mutex::new(Cursor::new(bytes.into()))))
    }
}

/// Where a guest's stdout or stderr goes.
#[derive(Debug)]
pub enum OutputStream {
    /// The host process's own stream.
    Inherit,
    /// A host file.
    File(File),
    /// An in-memory pipe.
    Memory(MemoryOutputPipe),
    /// Nowhere (writes succeed and are dropped).
    Null,
}

impl From<File> for OutputStream {
    fn from(f: File) -> Self {
        Self::File(f)
    }
}
impl From<MemoryOutputPipe> for OutputStream {
    fn from(p: MemoryOutputPipe) -> Self {
        Self::Memory(p)
    }
}

/// Where a guest's stdin comes from.
#[derive(Debug)]
pub enum InputStream {
    /// The host process's own stdin.
    Inherit,
    /// A host file.
    File(File),
    /// An in-memory pipe.
    Memory(MemoryInputPipe),
    /// Always at end of file.
    Null,
}

impl From<File> for InputStream {
    fn from(f: File) -> Self {
        Self::File(f)
    }
}
impl From<MemoryInputPipe> for InputStream {
    fn from(p: MemoryInputPipe) -> Self {
        Self::Memory(p)
    }
}

/// One open descriptor.
pub(crate) enum Desc {
    Stdin(InputStream),
    /// Stdout (`host_fd` 1) or stderr (2).
    Output(OutputStream, i32),
    File(OpenFile),
    Dir(OpenDir),
}

pub(crate) struct OpenFile {
    pub file: File,
    pub read: bool,
    pub write: bool,
}

pub(crate) struct OpenDir {
    pub fd: OwnedFd,
    /// The guest path of a preopened directory.
    pub preopen: Option<String>,
    /// What the guest may do in this directory tree, and to the files in it (inherited from
    /// the preopen by every directory opened below it).
    pub perms: DirPerms,
    pub file_perms: FilePerms,
}

/// What a guest may do with a preopened directory tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirPerms {
    /// List directories, look up and open entries.
    pub read: bool,
    /// Create, remove and rename entries, create files, change timestamps.
    pub mutate: bool,
}

impl DirPerms {
    /// Everything.
    pub const ALL: DirPerms = DirPerms {
        read: true,
        mutate: true,
    };
}

/// What a guest may do with the files of a preopened directory tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilePerms {
    /// Open files for reading.
    pub read: bool,
    /// Open files for writing.
    pub write: bool,
}

impl FilePerms {
    /// Everything.
    pub const ALL: FilePerms = FilePerms {
        read: true,
        write: true,
    };
}

impl Desc {
    pub(crate) fn write(&mut self, data: &[u8]) -> WResult<usize> {
        match self {
            Desc::Output(out, host) => {
                match out {
                    OutputStream::Inherit => {
                        let r = if *host == 2 {
                            let mut e = std::io::stderr();
                            e.write_all(data).and_then(|()| e.flush())
                        } else {
                            let mut o = std::io::stdout();
                            o.write_all(data).and_then(|()| o.flush())
                        };
                        r?;
                    }
                    OutputStream::File(f) => f.write_all(data)?,
                    OutputStream::Memory(p) => p.write(data)?,
                    OutputStream::Null => {}
                }
                Ok(data.len())
            }
            Desc::File(f) if f.write => Ok(f.file.write(data)?),
            // Directories are read with `fd_readdir` only (`EBADF`, as with Wasmtime).
            _ => Err(Errno::BADF),
        }
    }

    pub(crate) fn read(&mut self, buf: &mut [u8]) -> WResult<usize> {
        match self {
            Desc::Stdin(InputStream::Inherit) => Ok(std::io::stdin().read(buf)?),
            Desc::Stdin(InputStream::File(f)) => Ok(f.read(buf)?),
            Desc::Stdin(InputStream::Memory(p)) => {
                Ok(p.0.lock().unwrap_or_else(|e| e.into_inner()).read(buf)?)
            }
            Desc::Stdin(InputStream::Null) => Ok(0),
            Desc::File(f) if f.read => Ok(f.file.read(buf)?),
            // Directories are read with `fd_readdir` only (`EBADF`, as with Wasmtime).
            _ => Err(Errno::BADF),
        }
    }

    /// The host file of a regular file, or of a stdio stream redirected to one.
    pub(crate) fn host_file(&self) -> Option<&File> {
        match self {
            Desc::File(f) => Some(&f.file),
            Desc::Stdin(InputStream::File(f)) | Desc::Output(OutputStream::File(f), _) => Some(f),
            _ => None,
        }
    }
}

/// The descriptor table: numbers to descriptors. As in Wasmtime, a new descriptor takes the
/// highest number closed so far (or renumbered away from), else one past the highest in use.
#[derive(Default)]
pub(crate) struct FdTable {
    map: BTreeMap<u32, Desc>,
    free: BTreeSet<u32>,
}

impl FdTable {
    /// Puts `desc` at `fd`, replacing what was there (`fd_renumber`, the context's setup).
    pub(crate) fn insert_at(&mut self, fd: u32, desc: Desc) {
        self.free.remove(&fd);
        self.map.insert(fd, desc);
    }

    pub(crate) fn push(&mut self, desc: Desc) -> WResult<u32> {
        let fd = match self.free.pop_last() {
            Some(fd) => fd,
            None => match self.map.last_key_value() {
                None => 0,
                Some((&last, _)) => match last.checked_add(1) {
                    Some(fd) => fd,
                    None => (0..u32::MAX)
                        .rev()
                        .find(|fd| !self.map.contains_key(fd))
                        .ok_or(Errno::MFILE)?,
                },
            },
        };
        self.map.insert(fd, desc);
        Ok(fd)
    }

    pub(crate) fn get(&mut self, fd: i32) -> WResult<&mut Desc> {
        self.map.get_mut(&(fd as u32)).ok_or(Errno::BADF)
    }

    pub(crate) fn remove(&mut self, fd: i32) -> WResult<Desc> {
        let desc = self.map.remove(&(fd as u32)).ok_or(Errno::BADF)?;
        self.free.insert(fd as u32);
        Ok(desc)
    }

    /// The directory `fd` names (`EBADF` for any other descriptor, as Wasmtime).
    pub(crate) fn dir(&mut self, fd: i32) -> WResult<&mut OpenDir> {
        match self.get(fd)? {
            Desc::Dir(d) => Ok(d),
            _ => Err(Errno::BADF),
        }
    }
}
