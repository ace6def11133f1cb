//! Copy-on-write images of a module's memories: the initial contents its active data
//! segments give a defined memory, laid out once per module in a `memfd`, and mapped
//! privately over the start of each new instance's memory instead of copying the segments.
//!
//! A memory gets an image only when every active segment targeting it has a constant offset
//! and fits its minimum size (so none of them can trap), and the segments are not spread so
//! thinly that the image would be mostly zeros. Everything else is copied at instantiation.

use crate::vm::const_eval::{self, ConstEnv};
use wasmjit_compiler::{ConstOp, DefinedMemoryIndex, FuncIndex, GlobalIndex, ModuleInfo};

/// A memory's image: `len` bytes, placed at byte `offset` of the memory (both multiples of
/// the OS page size), in an anonymous file.
pub(crate) struct MemoryImage {
    #[cfg(target_os = "linux")]
    fd: std::os::fd::OwnedFd,
    offset: usize,
    len: usize,
}

/// The images of a module's defined memories (`None` where the memory is initialized by
/// copying, or has no data).
pub(crate) type MemoryImages = Vec<Option<MemoryImage>>;

/// Bytes of image allowed per byte of segment data (plus `SLACK`): past that, copying the
/// few bytes beats mapping a mostly empty file.
const SPARSENESS: usize = 4;
const SLACK: usize = 1 << 20;

/// No globals or functions: only asked for expressions that read neither.
struct NoEnv;

impl ConstEnv for NoEnv {
    fn global(&self, _: GlobalIndex) -> u128 {
        0
    }
    fn func_ref(&self, _: FuncIndex) -> u64 {
        0
    }
}

/// An offset known without instantiating: no `global.get` in it.
fn constant_offset(expr: &wasmjit_compiler::ConstExpr, memory64: bool) -> Option<u64> {
    if expr
        .ops
        .iter()
        .any(|op| matches!(op, ConstOp::GlobalGet(_) | ConstOp::RefFunc(_)))
    {
        return None;
    }
    let v = const_eval::eval(expr, &NoEnv).ok()? as u64;
    Some(if memory64 { v } else { v & 0xffff_ffff })
}

/// The images of `info`'s defined memories that can have one (see the module docs).
pub(crate) fn build(info: &ModuleInfo) -> MemoryImages {
    info.defined_memories()
        .map(|(defined, _)| build_one(info, defined))
        .collect()
}

fn build_one(info: &ModuleInfo, defined: DefinedMemoryIndex) -> Option<MemoryImage> {
    let memory = info.memory_index(defined);
    let ty = &info.memories[memory];
    if ty.shared {
        return None;
    }
    let min_bytes = usize::try_from(ty.minimum)
        .ok()?
        .checked_mul(crate::vm::memory::WASM_PAGE_SIZE)?;
    // Every segment of this memory, in order, with its offset: all constant and in bounds.
    let mut segments = Vec::new();
    for seg in info.data.values() {
        let Some((target, offset)) = &seg.active else {
            continue;
        };
        if *target != memory {
            continue;
        }
        let offset = constant_offset(offset, ty.memory64)?;
        let end = offset.checked_add(seg.data.len() as u64)?;
        if end > min_bytes as u64 {
            return None;
        }
        if !seg.data.is_empty() {
            segments.push((offset as usize, &info.wasm[seg.data.clone()]));
        }
    }
    let page = region::page::size();
    let start = segments.iter().map(|(o, _)| *o).min()? / page * page;
    let end = segments
        .iter()
        .map(|(o, d)| o + d.len())
        .max()?
        .div_ceil(page)
        * page;
    let data: usize = segments.iter().map(|(_, d)| d.len()).sum();
    if end - start > data.saturating_mul(SPARSENESS).saturating_add(SLACK) {
        return None;
    }
    let mut bytes = vec![0u8; end - start];
    for (offset, d) in segments {
        bytes[offset - start..offset - start + d.len()].copy_from_slice(d);
    }
    MemoryImage::new(start, &bytes)
}

#[cfg(target_os = "linux")]
impl MemoryImage {
    /// An image of `bytes` at `offset`, in a new memfd; `None` if the kernel refuses one.
    fn new(offset: usize, bytes: &[u8]) -> Option<Self> {
        use std::io::Write;
        use std::os::fd::{FromRawFd, OwnedFd};
        // SAFETY: the name is a NUL-terminated string; the call has no other inputs.
        let fd = unsafe { libc::memfd_create(c"wasmjit-memory-image".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        // SAFETY: `fd` was just returned by `memfd_create` and is owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut file = std::fs::File::from(fd);
        file.write_all(bytes).ok()?;
        Some(Self {
            fd: file.into(),
            offset,
            len: bytes.len(),
        })
    }

    /// Byte range of the memory the image covers.
    pub(crate) fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len
    }

    /// Maps the image privately over `[base + offset, base + offset + len)`, read-write:
    /// writes go to the mapping's own pages, never to the file. False if the kernel refused
    /// (the range is then unchanged).
    ///
    /// # Safety
    /// The range must lie in the accessible part of a reservation owned by the caller, which
    /// no one else uses.
    pub(crate) unsafe fn map_at(&self, base: *mut u8) -> bool {
        use std::os::fd::AsRawFd;
        // SAFETY: the caller owns the range; `MAP_FIXED` replaces exactly its pages.
        let mapped = unsafe {
            libc::mmap(
                base.add(self.offset).cast(),
                self.len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                self.fd.as_raw_fd(),
                0,
            )
        };
        mapped != libc::MAP_FAILED
    }
}

#[cfg(not(target_os = "linux"))]
impl MemoryImage {
    fn new(_offset: usize, _bytes: &[u8]) -> Option<Self> {
        None
    }

    pub(crate) fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len
    }

    /// # Safety
    /// None needed: never called (no image is ever made here).
    pub(crate) unsafe fn map_at(&self, _base: *mut u8) -> bool {
        false
    }
}

/// Replaces `[base + range)`, where an image was mapped, with fresh zero pages (anonymous,
/// read-write), so that the reservation is again what a new one is. False on failure.
///
/// # Safety
/// The range must lie in a reservation owned by the caller, which no one else uses.
#[cfg(target_os = "linux")]
pub(crate) unsafe fn unmap_image(base: *mut u8, range: std::ops::Range<usize>) -> bool {
    // SAFETY: the caller owns the range; `MAP_FIXED` replaces exactly its pages.
    let mapped = unsafe {
        libc::mmap(
            base.add(range.start).cast(),
            range.len(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    mapped != libc::MAP_FAILED
}

/// # Safety
/// None needed: no image is ever mapped here.
#[cfg(not(target_os = "linux"))]
pub(crate) unsafe fn unmap_image(_base: *mut u8, _range: std::ops::Range<usize>) -> bool {
    false
}
