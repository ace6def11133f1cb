;; Linear memory: a data segment, loads, stores and memory.grow.
;;   wasmjit run examples/memory.wat --invoke checksum      -> 1376 (sum of the bytes of "Hello, wasmjit!")
;;   wasmjit run examples/memory.wat --invoke squares 1000  -> 332833500 (sum of i*i for i < 1000, via memory)
;;   wasmjit run examples/memory.wat --invoke grow 3        -> 1 (old size in pages)
(module
  (memory (export "memory") 1 16)
  (data (i32.const 0) "Hello, wasmjit!")

  ;; Sum of the 15 bytes of the greeting.
  (func (export "checksum") (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 15)))
        (local.set $sum (i32.add (local.get $sum) (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))

  ;; Stores i*i as i64 at 1024 + 8*i for i < n, then sums them back.
  (func (export "squares") (param $n i32) (result i64)
    (local $i i32) (local $sum i64)
    (block $stored
      (loop $store
        (br_if $stored (i32.ge_u (local.get $i) (local.get $n)))
        (i64.store offset=1024
          (i32.shl (local.get $i) (i32.const 3))
          (i64.mul (i64.extend_i32_u (local.get $i)) (i64.extend_i32_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $store)))
    (local.set $i (i32.const 0))
    (block $summed
      (loop $add
        (br_if $summed (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum
          (i64.add (local.get $sum)
            (i64.load offset=1024 (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $add)))
    (local.get $sum))

  ;; Grows memory by `delta` pages; returns the old size, or -1 past the 16-page maximum.
  (func (export "grow") (param $delta i32) (result i32)
    (memory.grow (local.get $delta))))
