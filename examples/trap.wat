;; Traps and backtraces.
;;   wasmjit run examples/trap.wat                          -> traps: `unreachable` three calls deep
;;   wasmjit run examples/trap.wat --invoke divide 7 2       -> 3
;;   wasmjit run examples/trap.wat --invoke divide 7 0       -> traps: integer divide by zero
;;   wasmjit run examples/trap.wat --invoke load 70000       -> traps: out of bounds memory access
(module $trap_example
  (memory 1)
  (func $start (export "_start") (call $outer))
  (func $outer (call $inner))
  (func $inner (unreachable))
  (func (export "divide") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32)
    (i32.load (local.get 0))))
