/*
 * wasi.h: WASI preview 1 configuration.
 *
 * A wasi_config_t collects what a guest gets: argv, environment, stdin/stdout/stderr and
 * preopened directories. wasmtime_context_set_wasi (wasmtime/store.h) moves it into a store;
 * wasmtime_linker_define_wasi (wasmtime/linker.h) defines the `wasi_snapshot_preview1`
 * functions, which then act on the WASI context of the store they run in. A guest's
 * proc_exit(N) comes back as an error for which wasmtime_error_exit_status gives N.
 */

#ifndef WASI_H
#define WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wasm.h>
#include <wasmtime/conf.h>

#ifdef WASMTIME_FEATURE_WASI

#ifndef WASI_API_EXTERN
#define WASI_API_EXTERN
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A WASI configuration (owned by the caller until given to wasmtime_context_set_wasi). */
typedef struct wasi_config_t wasi_config_t;

/* Frees a configuration not given to a store. */
WASI_API_EXTERN void wasi_config_delete(wasi_config_t *config);

/* A new configuration: no argv, no environment, no directories, stdin empty, stdout and
 * stderr discarded. */
WASI_API_EXTERN wasi_config_t *wasi_config_new(void);

/* Sets argv to the `argc` strings of `argv` (copied). */
WASI_API_EXTERN bool wasi_config_set_argv(wasi_config_t *config, size_t argc, const char *argv[]);

/* argv is this process's argv. */
WASI_API_EXTERN void wasi_config_inherit_argv(wasi_config_t *config);

/* Sets the environment to the `envc` pairs names[i]=values[i] (copied). */
WASI_API_EXTERN bool wasi_config_set_env(wasi_config_t *config, size_t envc, const char *names[],
                                         const char *values[]);

/* The environment is this process's. */
WASI_API_EXTERN void wasi_config_inherit_env(wasi_config_t *config);

/* stdin reads the file at `path`; false if it cannot be opened. */
WASI_API_EXTERN bool wasi_config_set_stdin_file(wasi_config_t *config, const char *path);

/* stdin yields the bytes of `binary`, which is taken over (left empty). */
WASI_API_EXTERN void wasi_config_set_stdin_bytes(wasi_config_t *config, wasm_byte_vec_t *binary);

/* stdin is this process's. */
WASI_API_EXTERN void wasi_config_inherit_stdin(wasi_config_t *config);

/* stdout goes to the file at `path` (created or truncated); false if it cannot be opened. */
WASI_API_EXTERN bool wasi_config_set_stdout_file(wasi_config_t *config, const char *path);

/* stdout is this process's. */
WASI_API_EXTERN void wasi_config_inherit_stdout(wasi_config_t *config);

/* stderr goes to the file at `path` (created or truncated); false if it cannot be opened. */
WASI_API_EXTERN bool wasi_config_set_stderr_file(wasi_config_t *config, const char *path);

/* stderr is this process's. */
WASI_API_EXTERN void wasi_config_inherit_stderr(wasi_config_t *config);

/* What the guest may do in a preopened directory tree (a bitmask of wasi_dir_perms_flags). */
typedef size_t wasi_dir_perms;
enum wasi_dir_perms_flags {
  /* List directories and open what is in them. */
  WASMTIME_WASI_DIR_PERMS_READ = 1,
  /* Create, remove and rename entries. */
  WASMTIME_WASI_DIR_PERMS_WRITE = 2,
};

/* What the guest may do with the files of a preopened directory tree (a bitmask of
 * wasi_file_perms_flags). */
typedef size_t wasi_file_perms;
enum wasi_file_perms_flags {
  /* Open files for reading. */
  WASMTIME_WASI_FILE_PERMS_READ = 1,
  /* Open files for writing. */
  WASMTIME_WASI_FILE_PERMS_WRITE = 2,
};

/* Gives the guest the host directory `host_path` under the name `guest_path`. Paths never
 * lead outside it (`..`, absolute paths and symlinks that would are refused). False if the
 * directory cannot be opened. */
WASI_API_EXTERN bool wasi_config_preopen_dir(wasi_config_t *config, const char *host_path,
                                             const char *guest_path, wasi_dir_perms dir_perms,
                                             wasi_file_perms file_perms);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMTIME_FEATURE_WASI */

#endif /* WASI_H */
