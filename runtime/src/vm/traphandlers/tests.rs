//! End-to-end tests: real machine code in executable pages, real signals.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus};
use std::ptr;
use std::sync::{Arc, Barrier};

use super::arch::test_code;
use super::catch::innermost_ptr;
use super::code_ranges::is_wasm_pc;
use super::*;

/// Anonymous pages, unmapped on drop.
struct Pages {
    ptr: *mut u8,
    len: usize,
}

impl Pages {
    fn new(len: usize, prot: libc::c_int) -> Self {
        // SAFETY: a fresh anonymous mapping aliases nothing.
        let ptr = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                prot,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED);
        Pages {
            ptr: ptr.cast(),
            len,
        }
    }

    fn addr(&self) -> usize {
        self.ptr as usize
    }
}

// SAFETY: `Pages` owns its mapping; the tests only read it or run it.
unsafe impl Send for Pages {}
// SAFETY: as for `Send`: shared use never writes through `ptr`.
unsafe impl Sync for Pages {}

impl Drop for Pages {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and nothing uses it any more.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// Machine code in an executable page, registered as wasm code.
struct Code {
    // Field order: unregister before unmapping.
    _range: CodeRangeHandle,
    pages: Pages,
}

impl Code {
    fn new(bytes: &[u8]) -> Self {
        Self::with_registration(bytes, true)
    }

    fn with_registration(bytes: &[u8], register: bool) -> Self {
        let pages = Pages::new(4096, libc::PROT_READ | libc::PROT_WRITE);
        assert!(bytes.len() <= pages.len);
        // SAFETY: the page is writable and large enough.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), pages.ptr, bytes.len()) };
        // SAFETY: the page is ours; code is complete before it can run.
        let result = unsafe {
            libc::mprotect(
                pages.ptr.cast(),
                pages.len,
                libc::PROT_READ | libc::PROT_EXEC,
            )
        };
        assert_eq!(result, 0);
        // SAFETY: the page is mapped and readable.
        test_code::flush_icache(unsafe { std::slice::from_raw_parts(pages.ptr, bytes.len()) });
        let range = if register {
            register_code_range(pages.addr(), pages.addr() + pages.len)
        } else {
            // An empty range: registered, but containing no PC.
            register_code_range(0, 0)
        };
        Code {
            _range: range,
            pages,
        }
    }

    fn start(&self) -> usize {
        self.pages.addr()
    }

    /// Calls the code as `extern "C" fn()`.
    fn call(&self) {
        // SAFETY: every snippet follows the C ABI for this signature (or
        // never returns).
        let f: extern "C" fn() = unsafe { std::mem::transmute(self.pages.ptr) };
        f();
    }

    /// Calls the code as `extern "C" fn(usize, usize, usize) -> i64`.
    fn call3(&self, a: usize, b: usize, c: usize) -> i64 {
        // SAFETY: as for `call`.
        let f: extern "C" fn(usize, usize, usize) -> i64 =
            unsafe { std::mem::transmute(self.pages.ptr) };
        f(a, b, c)
    }

    /// Calls the code as `extern "C" fn(*const u64) -> u64`.
    fn call_with(&self, arg: usize) -> u64 {
        // SAFETY: as for `call`.
        let f: extern "C" fn(usize) -> u64 = unsafe { std::mem::transmute(self.pages.ptr) };
        f(arg)
    }
}

fn catch(mut f: impl FnMut()) -> Result<(), TrapRecord> {
    // SAFETY: the closures in these tests own nothing that needs dropping
    // while compiled code runs.
    unsafe { catch_traps(true, &mut f) }
}

fn expect_sigill(code: &Code) {
    let record = catch(|| code.call()).unwrap_err();
    assert_eq!(record.signal, libc::SIGILL);
    assert_eq!(record.pc, code.start());
    assert_eq!(record.fault_addr, None);
    assert_eq!(record.backtrace[0], code.start());
}

fn expect_sigsegv(code: &Code, guarded: &Pages) {
    let record = catch(|| {
        code.call_with(guarded.addr() + 8);
    })
    .unwrap_err();
    assert_eq!(record.signal, libc::SIGSEGV);
    assert_eq!(record.pc, code.start());
    assert_eq!(record.fault_addr, Some(guarded.addr() + 8));
}

fn blocked_signals() -> Vec<libc::c_int> {
    // SAFETY: an all-zero sigset is valid storage; a null new set only reads.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        assert_eq!(
            libc::pthread_sigmask(libc::SIG_BLOCK, ptr::null(), &mut set),
            0
        );
        [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE]
            .into_iter()
            .filter(|&signal| libc::sigismember(&set, signal) == 1)
            .collect()
    }
}

#[test]
fn trap_instruction_is_caught_as_sigill() {
    expect_sigill(&Code::new(&test_code::trap()));
}

#[test]
fn load_from_protected_page_is_caught_as_sigsegv() {
    let guarded = Pages::new(4096, libc::PROT_NONE);
    expect_sigsegv(&Code::new(&test_code::load()), &guarded);
}

#[test]
fn registered_code_that_does_not_trap_returns_normally() {
    let data = Pages::new(4096, libc::PROT_READ | libc::PROT_WRITE);
    // SAFETY: the page is writable.
    unsafe { data.ptr.cast::<u64>().write(42) };
    let code = Code::new(&test_code::load());
    let mut loaded = 0;
    assert_eq!(catch(|| loaded = code.call_with(data.addr())), Ok(()));
    assert_eq!(loaded, 42);
}

#[test]
fn integer_division_by_zero_is_caught_as_sigfpe() {
    let Some(bytes) = test_code::divide_by_zero() else {
        return; // this architecture's division does not trap
    };
    let code = Code::new(&bytes);
    let record = catch(|| code.call()).unwrap_err();
    assert_eq!(record.signal, libc::SIGFPE);
    assert!(record.pc > code.start() && record.pc < code.start() + bytes.len());
}

#[test]
fn backtrace_lists_trap_pc_then_registered_return_addresses() {
    let (bytes, trap_offset, return_offset) = test_code::call_then_trap();
    let code = Code::new(&bytes);
    let record = catch(|| code.call()).unwrap_err();
    assert_eq!(record.signal, libc::SIGILL);
    assert_eq!(
        record.backtrace,
        [code.start() + trap_offset, code.start() + return_offset]
    );
}

#[test]
fn nested_call_survives_inner_trap_and_completes() {
    let code = Code::new(&test_code::trap());
    let mut inner_result = None;
    let mut state_after_inner = ptr::null();
    let mut outer_state = ptr::null();
    let outer = catch(|| {
        outer_state = innermost_ptr();
        inner_result = Some(catch(|| code.call()));
        state_after_inner = innermost_ptr();
    });
    assert_eq!(outer, Ok(()));
    assert_eq!(inner_result.unwrap().unwrap_err().signal, libc::SIGILL);
    assert!(!outer_state.is_null());
    assert_eq!(state_after_inner, outer_state);
    assert!(innermost_ptr().is_null());
}

#[test]
fn outer_call_catches_trap_after_inner_call_returned() {
    let code = Code::new(&test_code::trap());
    let record = catch(|| {
        assert_eq!(catch(|| {}), Ok(()));
        code.call();
    })
    .unwrap_err();
    assert_eq!(record.pc, code.start());
    assert!(innermost_ptr().is_null());
}

#[test]
fn thread_state_is_restored_after_return_trap_and_panic() {
    let code = Code::new(&test_code::trap());
    assert!(innermost_ptr().is_null());
    assert_eq!(catch(|| {}), Ok(()));
    assert!(innermost_ptr().is_null());
    assert!(catch(|| code.call()).is_err());
    assert!(innermost_ptr().is_null());
    let panicked = std::panic::catch_unwind(|| catch(|| panic!("host panic")));
    assert_eq!(
        *panicked.unwrap_err().downcast::<&str>().unwrap(),
        "host panic"
    );
    assert!(innermost_ptr().is_null());
}

#[test]
fn ten_thousand_traps_leave_no_state_and_no_blocked_signals() {
    let ill = Code::new(&test_code::trap());
    let load = Code::new(&test_code::load());
    let guarded = Pages::new(4096, libc::PROT_NONE);
    let blocked_before = blocked_signals();
    for i in 0..10_000 {
        match i % 3 {
            0 => expect_sigill(&ill),
            1 => expect_sigsegv(&load, &guarded),
            _ => {
                let outer = catch(|| expect_sigill(&ill));
                assert_eq!(outer, Ok(()));
            }
        }
        assert!(innermost_ptr().is_null());
    }
    assert_eq!(blocked_signals(), blocked_before);
}

#[test]
fn traps_on_several_threads_at_once() {
    let ill = Arc::new(Code::new(&test_code::trap()));
    let load = Arc::new(Code::new(&test_code::load()));
    let guarded = Arc::new(Pages::new(4096, libc::PROT_NONE));
    let start = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (ill, load, guarded, start) =
                (ill.clone(), load.clone(), guarded.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for _ in 0..1000 {
                    expect_sigill(&ill);
                    expect_sigsegv(&load, &guarded);
                }
                assert!(innermost_ptr().is_null());
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn stack_overflow_in_registered_code_is_caught_and_thread_can_trap_again() {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let recurse = Code::new(&test_code::recurse());
            let ill = Code::new(&test_code::trap());
            for _ in 0..3 {
                let record = catch(|| recurse.call()).unwrap_err();
                assert_eq!(record.signal, libc::SIGSEGV);
                assert!(is_wasm_pc(record.pc));
                let fault_addr = record.fault_addr.unwrap();
                // The guard page is below this thread's stack.
                let local = 0u8;
                assert!(fault_addr < ptr::addr_of!(local) as usize);
                assert_eq!(record.backtrace.len(), 256);
                assert!(record.backtrace.iter().all(|&pc| is_wasm_pc(pc)));
                expect_sigill(&ill);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Runs the named test of this module alone in a child process, with
/// `CHILD_ENV` set so that the test takes its child branch. `None` (the test
/// is skipped) only on aarch64 when no child can be started; see
/// [`child_command`].
fn run_in_child(test: &str) -> Option<ExitStatus> {
    run_test_in_child(module_path!(), test).map(|output| output.status)
}

/// Runs the test `test` of the module `module` (its `module_path!()`) alone
/// in a child process, with `CHILD_ENV` set to `test` so that the test takes
/// its child branch ([`is_child`]), and returns what the child did. `None`
/// (the test is skipped) only on aarch64 when no child can be started; see
/// [`child_command`]. For the crate's other unit tests too.
pub(crate) fn run_test_in_child(module: &str, test: &str) -> Option<std::process::Output> {
    // Under qemu-user, a process cannot exec a binary of the emulated
    // architecture unless the host registered qemu with binfmt_misc (which
    // containers often lack): qemu hands the exec to the host kernel, which
    // cannot run it, and the child exits with 127. Nothing is wrong with the
    // code under test then, so skip rather than fail.
    #[cfg(target_arch = "aarch64")]
    if !child_command()
        .arg("--list")
        .output()
        .is_ok_and(|output| output.status.success())
    {
        eprintln!(
            "SKIPPED {test}: this test binary cannot start a copy of itself (under qemu-user \
             without binfmt_misc, set {CHILD_RUNNER_ENV}=\"qemu-aarch64 -L <sysroot>\")"
        );
        return None;
    }
    let module = module.split_once("::").map_or("", |(_crate, path)| path);
    Some(
        child_command()
            .args(["--exact", &format!("{module}::{test}"), "--test-threads=1"])
            .env(CHILD_ENV, test)
            .output()
            .unwrap(),
    )
}

/// A whitespace-separated command prefix for [`child_command`], such as an
/// emulator: `qemu-aarch64 -L /usr/aarch64-linux-gnu`.
const CHILD_RUNNER_ENV: &str = "WASMJIT_TEST_CHILD_RUNNER";

/// The command that runs this test binary again, through the runner in
/// `CHILD_RUNNER_ENV` if that is set. (Under an emulator the child's exit
/// status is the emulated one: qemu-user dies of the guest's fatal signal.)
fn child_command() -> Command {
    let exe = std::env::current_exe().unwrap();
    let runner = std::env::var(CHILD_RUNNER_ENV).unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(words).arg(exe);
            command
        }
        None => Command::new(exe),
    }
}

const CHILD_ENV: &str = "WASMJIT_TRAPHANDLERS_CHILD";

/// Whether this process is the child [`run_test_in_child`] started for `test`.
pub(crate) fn is_child(test: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|name| name == test)
}

#[test]
fn fault_outside_registered_code_goes_to_previous_handler() {
    const NAME: &str = "fault_outside_registered_code_goes_to_previous_handler";
    if is_child(NAME) {
        let guarded = Pages::new(4096, libc::PROT_NONE);
        let _ = catch(|| {
            // SAFETY: not safe at all: the fault is the point.
            unsafe { ptr::read_volatile(guarded.ptr) };
        });
        std::process::exit(0);
    }
    let Some(status) = run_in_child(NAME) else {
        return;
    };
    assert_eq!(status.signal(), Some(libc::SIGSEGV));
}

#[test]
fn trap_outside_catch_traps_goes_to_previous_handler() {
    const NAME: &str = "trap_outside_catch_traps_goes_to_previous_handler";
    if is_child(NAME) {
        init_traps();
        Code::new(&test_code::trap()).call();
        std::process::exit(0);
    }
    let Some(status) = run_in_child(NAME) else {
        return;
    };
    assert_eq!(status.signal(), Some(libc::SIGILL));
}

#[test]
fn trap_in_unregistered_code_goes_to_previous_siginfo_handler() {
    const NAME: &str = "trap_in_unregistered_code_goes_to_previous_siginfo_handler";
    extern "C" fn exit_42(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: `_exit` is async-signal-safe.
        unsafe { libc::_exit(42) };
    }
    if is_child(NAME) {
        // SAFETY: installs a valid SA_SIGINFO handler before ours.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = exit_42 as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO;
            assert_eq!(libc::sigaction(libc::SIGILL, &action, ptr::null_mut()), 0);
        }
        let code = Code::with_registration(&test_code::trap(), false);
        let _ = catch(|| code.call());
        std::process::exit(0);
    }
    let Some(status) = run_in_child(NAME) else {
        return;
    };
    assert_eq!(status.code(), Some(42));
}

/// Counts the signals a handler installed before ours received.
static PREVIOUS_HANDLER_CALLS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// Of those, the ones during which the signal was blocked, as the kernel
/// blocks it for a handler installed without SA_NODEFER.
static PREVIOUS_HANDLER_CALLS_BLOCKED: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

extern "C" fn count_signal(signal: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    use std::sync::atomic::Ordering::SeqCst;
    PREVIOUS_HANDLER_CALLS.fetch_add(1, SeqCst);
    // SAFETY: an all-zero sigset is valid storage; `pthread_sigmask` with a
    // null new set only reads the mask and is async-signal-safe.
    let blocked = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, ptr::null(), &mut set);
        libc::sigismember(&set, signal) == 1
    };
    if blocked {
        PREVIOUS_HANDLER_CALLS_BLOCKED.fetch_add(1, SeqCst);
    }
}

#[test]
fn signal_sent_while_registered_code_runs_goes_to_previous_handler() {
    const NAME: &str = "signal_sent_while_registered_code_runs_goes_to_previous_handler";
    if is_child(NAME) {
        use std::sync::atomic::Ordering::SeqCst;
        for signal in [libc::SIGSEGV, libc::SIGILL] {
            // SAFETY: installs a valid SA_SIGINFO handler before ours.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = count_signal as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_SIGINFO;
                assert_eq!(libc::sigaction(signal, &action, ptr::null_mut()), 0);
            }
        }
        init_traps();
        let code = Code::new(&test_code::send_signal());
        // SAFETY: `getpid` and `gettid` have no preconditions.
        let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
        for (i, signal) in [libc::SIGSEGV, libc::SIGILL].into_iter().enumerate() {
            // Sent by this very thread while the PC is in registered code,
            // inside `catch_traps`: everything but `si_code` looks like a trap.
            let sent = catch(|| {
                assert_eq!(code.call3(pid as usize, tid as usize, signal as usize), 0);
            });
            assert_eq!(sent, Ok(()), "signal {signal} was taken for a trap");
            assert_eq!(PREVIOUS_HANDLER_CALLS.load(SeqCst), i + 1);
            // It ran with the mask its `sigaction` asked for, and that mask
            // is gone once it returned.
            assert_eq!(PREVIOUS_HANDLER_CALLS_BLOCKED.load(SeqCst), i + 1);
            assert_eq!(blocked_signals(), []);
        }
        std::process::exit(0);
    }
    let Some(status) = run_in_child(NAME) else {
        return;
    };
    assert!(status.success(), "child failed: {status}");
}

/// x86_64 delivers a signal with the default MXCSR; only `sigreturn` puts
/// the interrupted one back. A trap must not change the host's rounding
/// mode (or exception masks).
#[cfg(target_arch = "x86_64")]
#[test]
fn trap_keeps_the_hosts_mxcsr() {
    const ROUND_TOWARD_ZERO: u32 = 0b11 << 13;
    let code = Code::new(&test_code::trap());
    std::thread::spawn(move || {
        let default = test_code::mxcsr();
        let host = default | ROUND_TOWARD_ZERO;
        test_code::set_mxcsr(host);
        let result = catch(|| code.call());
        let after = test_code::mxcsr();
        test_code::set_mxcsr(default);
        assert_eq!(result.unwrap_err().signal, libc::SIGILL);
        assert_eq!(after, host, "MXCSR was {host:#x} before the trap");
    })
    .join()
    .unwrap();
}
