/*
 * The one piece of the trap handlers that must be C: the jump point.
 *
 * Rust cannot call setjmp itself (a function that returns twice breaks the
 * compiler's assumptions about the caller's frame), so the setjmp lives here
 * and Rust only ever sees an ordinary call that returns once:
 *
 *   wasmjit_traps_call_with_jmp_buf(body, payload)
 *     - sigsetjmp()s into a buffer on this C frame,
 *     - calls body(payload, &buffer) back in Rust, which runs the guarded
 *       closure (panics are caught there; nothing unwinds through this frame),
 *     - returns 1 if body returned normally, or 0 if the signal handler
 *       jumped back here with wasmjit_traps_unwind(&buffer).
 *
 * sigsetjmp(buf, 0) does not save the signal mask, so entering costs no
 * system call. That is sound because the handlers are installed with
 * SA_NODEFER and an empty sa_mask: the mask is never changed on the way into
 * the handler, so there is nothing to restore on the way out.
 */
#include <setjmp.h>

typedef void (*wasmjit_traps_body)(void *payload, void *jmp_buf);

int wasmjit_traps_call_with_jmp_buf(wasmjit_traps_body body, void *payload) {
    sigjmp_buf buf;
    if (sigsetjmp(buf, 0) != 0) {
        return 0;
    }
    body(payload, (void *)&buf);
    return 1;
}

/* Called from the signal handler; never returns. */
void wasmjit_traps_unwind(void *jmp_buf) {
    siglongjmp(*(sigjmp_buf *)jmp_buf, 1);
}
