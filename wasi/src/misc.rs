//! Arguments, environment, clocks, randomness, scheduling, `poll_oneoff` and the stubs.

use super::ctx::WasiCtx;
use super::errno::{Errno, GuestMem, WResult};
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

fn clock_id(id: i32) -> WResult<libc::clockid_t> {
    Ok(match id {
        0 => libc::CLOCK_REALTIME,
        1 => libc::CLOCK_MONOTONIC,
        2 => libc::CLOCK_PROCESS_CPUTIME_ID,
        3 => libc::CLOCK_THREAD_CPUTIME_ID,
        _ => return Err(Errno::INVAL),
    })
}

fn nanos(ts: libc::timespec) -> u64 {
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// The current time of WASI clock `id`, in nanoseconds.
fn now(id: i32) -> WResult<u64> {
    let clock = clock_id(id)?;
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
    let t = now(id)?;
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

/// `poll_oneoff`: clock subscriptions sleep until the earliest deadline; descriptor
/// subscriptions are reported ready at once (reads and writes of our descriptors do not
/// block indefinitely, except an inherited stdin).
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
    mem.slice(input, n.checked_mul(SUBSCRIPTION_SIZE).ok_or(Errno::FAULT)?)?;
    mem.slice(output, n.checked_mul(EVENT_SIZE).ok_or(Errno::FAULT)?)?;
    struct Sub {
        userdata: u64,
        tag: u8,
        fd: i32,
        wait: Option<u64>,
        error: Errno,
    }
    let mut subs = Vec::new();
    for i in 0..n {
        let at = (input as u32).wrapping_add(i * SUBSCRIPTION_SIZE) as i32;
        let field = |offset: i32| at.wrapping_add(offset);
        let userdata = mem.read_u64(at)?;
        let tag = mem.slice(field(8), 1)?[0];
        let mut sub = Sub {
            userdata,
            tag,
            fd: 0,
            wait: None,
            error: Errno::SUCCESS,
        };
        match tag {
            0 => {
                let id = mem.read_u32(field(16))? as i32;
                let timeout = mem.read_u64(field(24))?;
                let flags = mem.read_u16(field(40))?;
                match now(id) {
                    Ok(t) => {
                        let wait = if flags & 1 != 0 {
                            timeout.saturating_sub(t)
                        } else {
                            timeout
                        };
                        sub.wait = Some(wait);
                    }
                    Err(e) => sub.error = e,
                }
            }
            1 | 2 => {
                sub.fd = mem.read_u32(field(16))? as i32;
                if cx.fds.get(sub.fd).is_err() {
                    sub.error = Errno::BADF;
                }
            }
            _ => return Err(Errno::INVAL),
        }
        subs.push(sub);
    }
    // Anything ready now (descriptors, errors) completes the poll without sleeping.
    let immediate = subs.iter().any(|s| s.tag != 0 || s.error != Errno::SUCCESS);
    let min_wait = subs.iter().filter_map(|s| s.wait).min();
    let fired: Vec<&Sub> = if immediate {
        subs.iter()
            .filter(|s| s.tag != 0 || s.error != Errno::SUCCESS || s.wait == Some(0))
            .collect()
    } else {
        let wait = min_wait.unwrap_or(0);
        std::thread::sleep(Duration::from_nanos(wait));
        subs.iter().filter(|s| s.wait == Some(wait)).collect()
    };
    for (i, s) in fired.iter().enumerate() {
        let at = (output as u32).wrapping_add(i as u32 * EVENT_SIZE) as i32;
        mem.slice_mut(at, EVENT_SIZE)?.fill(0);
        mem.write_u64(at, s.userdata)?;
        mem.write(at.wrapping_add(8), &s.error.0.to_le_bytes())?;
        mem.write(at.wrapping_add(10), &[s.tag])?;
    }
    mem.write_u32(nevents, fired.len() as u32)
}

/// `proc_raise`: signals are not supported (`ENOTSUP`, as Wasmtime).
pub(crate) fn proc_raise(_cx: &mut WasiCtx, _mem: &mut GuestMem<'_>, _sig: i32) -> WResult<()> {
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
    _flags: i32,
    _out: i32,
) -> WResult<()> {
    not_a_socket(cx, fd)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn sock_recv(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    _iovs: i32,
    _n: i32,
    _flags: i32,
    _out_len: i32,
    _out_flags: i32,
) -> WResult<()> {
    not_a_socket(cx, fd)
}

pub(crate) fn sock_send(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    _iovs: i32,
    _n: i32,
    _flags: i32,
    _out_len: i32,
) -> WResult<()> {
    not_a_socket(cx, fd)
}

pub(crate) fn sock_shutdown(
    cx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    fd: i32,
    _how: i32,
) -> WResult<()> {
    not_a_socket(cx, fd)
}
