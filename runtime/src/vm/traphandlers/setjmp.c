/*
 * The one piece of the trap handlers that must be C: the jump point.
 *
 * Rust cannot call setjmp itself (a function that returns twice breaks the
 * compiler's assumptions about the caller's frame), so the setjmp lives here
 * and Rust only ever sees an ordinary call that returns once:
 *
 *   wasmjit_traps_call_with_jmp_buf(body, payload)
 *     - sets a jump point in a buffer on this C frame,
 *     - calls body(payload, &buffer) back in Rust, which runs the guarded
 *       closure (panics are caught there; nothing unwinds through this frame),
 *     - returns 1 if body returned normally, or 0 if the signal handler
 *       jumped back here with wasmjit_traps_unwind(&buffer).
 *
 * With GCC (x86_64, aarch64) and Clang (x86_64) the jump point is
 * __builtin_setjmp/__builtin_longjmp: the buffer holds only the frame
 * pointer, the stack pointer and the address to resume at, and setting it is
 * a few inline stores, where glibc's sigsetjmp (a call, the pointer mangling
 * of every callee-saved register, a second call into __sigjmp_save) cost
 * 1.5 ns of every host->wasm call. The registers the builtin does not save
 * are not lost: the compiler treats the resume point as a non-local label and
 * saves every callee-saved register in this function's own frame (prologue)
 * and reloads what it needs from there after the jump.
 *
 * wasmjit_traps_unwind is the landing pad of a trap: the signal handler does
 * not call it but returns, having rewritten the interrupted context so that
 * the thread resumes at its entry with the buffer as argument and a stack
 * pointer inside the frames the trap abandons (below the body's frame).
 * It runs in normal context, after the kernel's sigreturn restored the
 * signal mask and floating-point state, and jumps back here, abandoning the
 * frames in between (JIT frames, and Rust frames without destructors; see
 * catch.rs).
 *
 * Elsewhere, sigsetjmp(buf, 0). Neither saves the signal mask, so entering
 * costs no system call; none needs restoring, since the handler leaves
 * through sigreturn.
 */

#if defined(__GNUC__) && (defined(__x86_64__) || (defined(__aarch64__) && !defined(__clang__)))
#define WASMJIT_BUILTIN_SETJMP 1
#else
#include <setjmp.h>
#endif

typedef void (*wasmjit_traps_body)(void *payload, void *jmp_buf);

#ifdef WASMJIT_BUILTIN_SETJMP

/* The builtins' buffer: five words (GCC documents five; three are used). */
typedef void *wasmjit_jmp_buf[5];

/* noinline: the jump point must stay in a frame of its own, below which the
 * body runs; __builtin_setjmp and __builtin_longjmp must not be in the same
 * function. */
__attribute__((noinline)) int wasmjit_traps_call_with_jmp_buf(wasmjit_traps_body body,
                                                               void *payload) {
    wasmjit_jmp_buf buf;
    if (__builtin_setjmp(buf) != 0) {
        return 0;
    }
    body(payload, (void *)buf);
    return 1;
}

/* The landing pad a trap resumes at (see above); never returns. */
__attribute__((noinline)) void wasmjit_traps_unwind(void *jmp_buf) {
    __builtin_longjmp((void **)jmp_buf, 1);
}

#else

int wasmjit_traps_call_with_jmp_buf(wasmjit_traps_body body, void *payload) {
    sigjmp_buf buf;
    if (sigsetjmp(buf, 0) != 0) {
        return 0;
    }
    body(payload, (void *)&buf);
    return 1;
}

/* The landing pad a trap resumes at (see above); never returns. */
void wasmjit_traps_unwind(void *jmp_buf) {
    siglongjmp(*(sigjmp_buf *)jmp_buf, 1);
}

#endif
