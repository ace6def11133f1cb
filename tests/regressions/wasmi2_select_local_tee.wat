;; Not a wasmjit bug: the reference interpreter's. wasmi 2.0.0 returns 6 for (f 6 3) (and traps
;; with "integer divide by zero" for (f 6 0)): it loses the `select` result stored in local 2
;; when `local.get 2 local.set 2` follows. wasm-smith emits this shape around the divisions it
;; guards when `disallow_traps` is on. wasmjit and wasmi 1.1 compute 6 / 3 = 2. Kept here so that
;; moving the harness to a wasmi with this bug fails (the expectation is checked on wasmi too).
(module
  (func (export "f") (param i32 i32) (result i32) (local i32 i32)
    local.get 1
    local.set 2
    ;; local 2 = (local 2 == 0) ? 1 : local 2
    i32.const 1
    local.get 2
    local.get 2
    i32.eqz
    select
    local.set 2
    local.get 0
    local.set 3
    local.get 3
    local.get 2
    local.set 2
    local.tee 3
    drop
    local.get 3
    local.get 2
    i32.div_s))
