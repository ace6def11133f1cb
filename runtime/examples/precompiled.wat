;; Run by examples/run_precompiled.rs in a runtime built without the compiler: a host
;; import, an indirect call, memory with data, a loop and a trap.
(module
  (type $ii (func (param i32) (result i32)))
  (import "host" "add" (func $add (param i32 i32) (result i32)))
  (memory (export "mem") 1)
  (data (i32.const 16) "precompiled")
  (table 2 funcref)
  (elem (i32.const 0) $double $triple)
  (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $triple (type $ii) (i32.mul (local.get 0) (i32.const 3)))
  ;; sum of add(i, pick(i)) for i = n..1, where pick is table[i % 2]
  (func (export "run") (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc
        (call $add (local.get $acc)
          (call_indirect (type $ii) (local.get $n) (i32.rem_u (local.get $n) (i32.const 2)))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (local.get $acc))
  (func (export "first_byte") (result i32) (i32.load8_u (i32.const 16)))
  (func (export "boom") unreachable))
