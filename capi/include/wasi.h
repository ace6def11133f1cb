/*
 * wasi.h: WASI configuration. wasmjit is built without WASI (WASMTIME_FEATURE_WASI is not
 * defined in wasmtime/conf.h), so this header declares nothing.
 */

#ifndef WASI_H
#define WASI_H

#include <stdint.h>
#include <wasm.h>
#include <wasmtime/conf.h>

#endif /* WASI_H */
