//! Arguments, environment, clocks, randomness, scheduling, `poll_oneoff` and the stubs.

use super::ctx::WasiCtx;
use super::errno::{Errno, GuestMem, WResult};
use super::fd::{check_enum, check_flags};
use super::fdtable::Desc;
use std::io::Seek;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// Writes a list of strings the way `args_get`/`environ_get` return them: pointers into a
/// buffer of NUL-terminated strings.
fn write_strings(mem: &mut GuestMem<'_>, list: &[String], ptrs: i32, buf: i32) -> WResult<()> {
    let mut at = buf as u32;
    for (i, s) in list.iter().enumerate() {
        mem.write_u32((ptrs as u32).wrapping_add(i as u32 * 4) as i32, at)?;
        mem.write(at as i32, s.as_bytes())?;
        mem.write((at as usize + s.len()) as i32, &[0])?;
        at = at.checked_add(s.len() as u32 + 1).ok_or(Errno::FAULT)?;
    }
    Ok(())
}

fn write_sizes(mem: &mut GuestMem<'_>, list: &[String], count: i32, size: i32) -> WResult<()> {
    let total: usize = list.iter().map(|s| s.len() + 1).sum();
    mem.write_u32(count, list.len() as u32)?;
    mem.write_u32(size, u32::try_from(total).map_err(|_| Errno::OVERFLOW)?)
}

fn env_strings(cx: &WasiCtx) -> Vec<String> {
    cx.env.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

pub(crate) fn args_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    argv: i32,
    buf: i32,
) -> WResult<()> {
    write_strings(mem, &cx.args, argv, buf)
}

pub(crate) fn args_sizes_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    count: i32,
    size: i32,
) -> WResult<()> {
    write_sizes(mem, &cx.args, count, size)
}

pub(crate) fn environ_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    env: i32,
    buf: i32,
) -> WResult<()> {
    write_strings(mem, &env_strings(cx), env, buf)
}

pub(crate) fn environ_sizes_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    count: i32,
    size: i32,
) -> WResult<()> {
    write_sizes(mem, &env_strings(cx), count, size)
}

/// The host clock of a preview1 clock id: the CPU-time clocks exist in preview1 but not in
/// Wasmtime (`EBADF`); other ids are no clock id at all (a trap).
fn clock_id(id: i32) -> WResult<libc::clockid_t> {
    check_enum(id, 3)?;
    Ok(match id {
        0 => libc::CLOCK_REALTIME,
        1 => libc::CLOCK_MONOTONIC,
        _ => return Err(Errno::BADF),
    })
}

fn nanos(ts: libc::timespec) -> u64 {
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// The current time of the host clock `clock`, in nanoseconds.
fn host_now(clock: libc::clockid_t) -> WResult<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid output location.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return Err(Errno::last_os_error());
    }
    Ok(nanos(ts))
}

pub(crate) fn clock_res_get(
    _cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    id: i32,
    out: i32,
) -> WResult<()> {
    let clock = clock_id(id)?;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid output location.
    if unsafe { libc::clock_getres(clock, &mut ts) } != 0 {
        return Err(Errno::last_os_error());
    }
    mem.write_u64(out, nanos(ts))
}

pub(crate) fn clock_time_get(
    _cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    id: i32,
    _precision: i64,
    out: i32,
) -> WResult<()> {
    let t = host_now(clock_id(id)?)?;
    mem.write_u64(out, t)
}

pub(crate) fn random_get(
    _cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    buf: i32,
    len: i32,
) -> WResult<()> {
    let out = mem.slice_mut(buf, len as u32)?;
    let mut filled = 0;
    while filled < out.len() {
        let rest = &mut out[filled..];
        // SAFETY: `rest` is writable for `rest.len()` bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = Errno::last_os_error();
            if e == Errno::INTR {
                continue;
            }
            return Err(e);
        }
        filled += n as usize;
    }
    Ok(())
}

pub(crate) fn sched_yield(_cx: &mut WasiCtx, _mem: &mut GuestMem<'_>) -> WResult<()> {
    std::thread::yield_now();
    Ok(())
}

const SUBSCRIPTION_SIZE: u32 = 48;
const EVENT_SIZE: u32 = 32;
const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const SUBCLOCK_ABSTIME: u16 = 1;
const EVENTRWFLAGS_HANGUP: u16 = 1;

/// One event `poll_oneoff` reports.
struct Event {
    userdata: u64,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

fn write_event(mem: &mut GuestMem<'_>, at: i32, e: &Event) -> WResult<()> {
    let mut b = [0u8; EVENT_SIZE as usize];
    b[0..8].copy_from_slice(&e.userdata.to_le_bytes());
    b[10] = e.kind;
    b[16..24].copy_from_slice(&e.nbytes.to_le_bytes());
    b[24..26].copy_from_slice(&e.flags.to_le_bytes());
    mem.write_aligned(at, &b, 8)
}

/// A clock subscription as stored in guest memory: (clock id, timeout, flags), each checked
/// the way Wasmtime decodes it (an undefined clock id or flag is `EINVAL`).
fn read_clock(mem: &GuestMem<'_>, at: i32) -> WResult<(i32, u64, u16)> {
    let id = mem.read_u32(at.wrapping_add(16))?;
    let timeout = mem.read_u64(at.wrapping_add(24))?;
    let flags = mem.read_u16(at.wrapping_add(40))?;
    if id > 3 || flags & !SUBCLOCK_ABSTIME != 0 {
        return Err(Errno::INVAL);
    }
    Ok((id as i32, timeout, flags))
}

/// `poll_oneoff`, as Wasmtime's: no subscriptions is `EINVAL`; a single relative clock just
/// sleeps. Otherwise every subscription is checked in order (a clock other than realtime or
/// monotonic is `EINVAL`; a descriptor not open, or not readable (stdin, a file) or
/// writable (stdout, stderr, a file) as asked, fails the whole call with `EBADF`).
/// Descriptors are ready at once (then only clocks already due fire with them); else the
/// call sleeps until the earliest clock and reports every clock then due. Events come in
/// subscription order; a descriptor event counts one byte, with `HANGUP` for a file read at
/// its end.
pub(crate) fn poll_oneoff(
    cx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    input: i32,
    output: i32,
    nsubs: i32,
    nevents: i32,
) -> WResult<()> {
    let n = nsubs as u32;
    if n == 0 {
        return Err(Errno::INVAL);
    }
    mem.check_align(input, 8)?;
    mem.check_align(output, 8)?;
    if n == 1 {
        let tag = mem.slice(input.wrapping_add(8), 1)?[0];
        if tag > EVENTTYPE_FD_WRITE {
            return Err(Errno::INVAL);
        }
        if tag == EVENTTYPE_CLOCK {
            let (_, timeout, flags) = read_clock(mem, input)?;
            if flags & SUBCLOCK_ABSTIME == 0 {
                let userdata = mem.read_u64(input)?;
                std::thread::sleep(Duration::from_nanos(timeout));
                let event = Event {
                    userdata,
                    kind: EVENTTYPE_CLOCK,
                    nbytes: 1,
                    flags: 0,
                };
                write_event(mem, output, &event)?;
                return mem.write_u32(nevents, 1);
            }
        }
    }
    mem.slice(input, n.checked_mul(SUBSCRIPTION_SIZE).ok_or(Errno::FAULT)?)?;
    mem.slice(output, n.checked_mul(EVENT_SIZE).ok_or(Errno::FAULT)?)?;
    /// What one subscription waits for.
    enum Wait {
        /// Nanoseconds from now.
        Clock(u64),
        /// A descriptor, ready at once, with the event it gives.
        Ready { nbytes: u64, flags: u16 },
    }
    let mut subs = Vec::new();
    for i in 0..n {
        let at = (input as u32).wrapping_add(i * SUBSCRIPTION_SIZE) as i32;
        let userdata = mem.read_u64(at)?;
        let tag = mem.slice(at.wrapping_add(8), 1)?[0];
        let wait = match tag {
            EVENTTYPE_CLOCK => {
                let (id, timeout, flags) = read_clock(mem, at)?;
                let absolute = flags & SUBCLOCK_ABSTIME != 0;
                let from_now = match (id, absolute) {
                    (0 | 1, false) => timeout,
                    (0, true) => timeout.saturating_sub(host_now(libc::CLOCK_REALTIME)?),
                    (1, true) => timeout.saturating_sub(host_now(libc::CLOCK_MONOTONIC)?),
                    _ => return Err(Errno::INVAL),
                };
                Wait::Clock(from_now)
            }
            EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE => {
                let fd = mem.read_u32(at.wrapping_add(16))? as i32;
                match (tag, cx.fds.get(fd)?) {
                    (EVENTTYPE_FD_READ, Desc::Stdin(_)) => Wait::Ready {
                        nbytes: 1,
                        flags: 0,
                    },
                    (EVENTTYPE_FD_READ, Desc::File(f)) => {
                        let st = super::fd::fstat(f.file.as_raw_fd())?;
                        let pos = (&f.file).stream_position()?;
                        let at_end = (st.st_size as u64) <= pos;
                        Wait::Ready {
                            nbytes: 1,
                            flags: if at_end { EVENTRWFLAGS_HANGUP } else { 0 },
                        }
                    }
                    (EVENTTYPE_FD_WRITE, Desc::Output(..) | Desc::File(_)) => Wait::Ready {
                        nbytes: 1,
                        flags: 0,
                    },
                    _ => return Err(Errno::BADF),
                }
            }
            _ => return Err(Errno::INVAL),
        };
        subs.push((userdata, tag, wait));
    }
    let any_ready = subs
        .iter()
        .any(|(_, _, w)| matches!(w, Wait::Ready { .. } | Wait::Clock(0)));
    let due = if any_ready {
        0
    } else {
        let earliest = subs
            .iter()
            .filter_map(|(_, _, w)| match w {
                Wait::Clock(t) => Some(*t),
                Wait::Ready { .. } => None,
            })
            .min()
            .unwrap_or(0);
        std::thread::sleep(Duration::from_nanos(earliest));
        earliest
    };
    let mut count = 0u32;
    for (userdata, kind, wait) in &subs {
        let (nbytes, flags) = match *wait {
            Wait::Clock(t) if t <= due => (0, 0),
            Wait::Clock(_) => continue,
            Wait::Ready { nbytes, flags } => (nbytes, flags),
        };
        let at = (output as u32).wrapping_add(count * EVENT_SIZE) as i32;
        let event = Event {
            userdata: *userdata,
            kind: *kind,
            nbytes,
            flags,
        };
        write_event(mem, at, &event)?;
        count += 1;
    }
    mem.write_u32(nevents, count)
}

/// `proc_raise`: signals are not supported (`ENOTSUP`, as Wasmtime); a number that is not a
/// preview1 signal (above 30) traps.
pub(crate) fn proc_raise(_cx: &mut WasiCtx, _mem: &mut GuestMem<'_>, sig: i32) -> WResult<()> {
    check_enum(sig, 30)?;
    Err(Errno::NOTSUP)
}

/// The `sock_*` calls: no socket can be opened, so a descriptor is either not open
/// (`EBADF`) or not a socket (`ENOTSOCK`), as Wasmtime answers.
pub(crate) fn not_a_socket(cx: &mut WasiCtx, fd: i32) -> WResult<()> {
    cx.fds.get(fd)?;
    Err(Errno::NOTSOCK)
}

pub(crate) fn sock_accept(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    flags: i32,
    _out: i32,
) -> WResult<()> {
    check_flags(flags as u32 as i64, super::fd::FDFLAGS_ALL as i64)?;
    not_a_socket(cx, fd)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn sock_recv(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    _iovs: i32,
    _n: i32,
    flags: i32,
    _out_len: i32,
    _out_flags: i32,
) -> WResult<()> {
    check_flags(flags as u32 as i64, 3)?;
    not_a_socket(cx, fd)
}

pub(crate) fn sock_send(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    _iovs: i32,
    _n: i32,
    flags: i32,
    _out_len: i32,
) -> WResult<()> {
    check_flags(flags as u32 as i64, 0xffff)?;
    not_a_socket(cx, fd)
}

pub(crate) fn sock_shutdown(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    how: i32,
) -> WResult<()> {
    check_flags(how as u32 as i64, 3)?;
    not_a_socket(cx, fd)
}
